"""The journeyhub/1 exchange format over the API (``maps.exchange``, docs/exchange.md):

* ``GET /api/maps/{id}/export/``: the map and its subtree (``?subtree=0``: the map
  alone; ``?measurements=0``: KPIs without their measurements), as much of it as the
  user may see, as a JSON attachment. A map the user may not see answers 404.
* ``POST /api/import/``: a document as the JSON body or an uploaded ``file``, under the
  map ``?under=<slug>`` or where its maps are (new top-level maps: leadership and
  admins); ``?dry_run=1`` answers the same summary and writes nothing. 200 with what
  was created, updated and left unchanged; 400 with every problem by JSON path; 403
  when every problem is a permission the user lacks. Throttled like every import.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import permissions
from maps.exchange import ExchangeInvalid, export_document, import_document
from maps.exchange.files import MAX_UPLOAD_BYTES, dumps, file_name, parse

from .imports import ImportJSONParser

TRUE = {"1", "true", "yes"}
FALSE = {"0", "false", "no"}


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name, "").lower()
    return (raw in TRUE) if default is False else (raw not in FALSE)


class MapExportView(APIView):
    """Export the map (and its subtree) as a journeyhub/1 document."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "subtree", OpenApiTypes.BOOL, description="0: the map alone, without sub-maps."
            ),
            OpenApiParameter(
                "measurements",
                OpenApiTypes.BOOL,
                description="0: KPIs without their measurements and observations.",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="The journeyhub/1 document (docs/exchange/journeyhub-1.schema.json), "
                "as an attachment.",
            ),
            404: OpenApiResponse(description="No such map (or not one you may see)."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        journey_map = permissions.visible_maps(request.user).filter(pk=pk).first()
        if journey_map is None:
            raise NotFound("No such journey map.")
        document = export_document(
            journey_map,
            user=request.user,
            measurements=_flag(request, "measurements", True),
            subtree=_flag(request, "subtree", True),
        )
        response = HttpResponse(dumps(document), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{file_name(document)}"'
        return response


class ExchangeFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The journeyhub/1 JSON file (at most 20 MB).")


class ExchangeImportView(APIView):
    """Import a journeyhub/1 document, all or nothing."""

    parser_classes = (ImportJSONParser, MultiPartParser)
    throttle_scope = "imports"  # journeyhub.throttling: its own, lower limit

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "under",
                str,
                description="The slug of the map the document's top maps go under (you must be "
                "allowed to add sub-maps to it).",
            ),
            OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="1: answer, write nothing."),
        ],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": ExchangeFileSerializer,
        },
        responses={
            200: OpenApiResponse(description="What was (or would be) created and updated."),
            400: OpenApiResponse(description="Every problem, by JSON path; nothing written."),
            403: OpenApiResponse(description="Permissions you lack, by JSON path."),
            404: OpenApiResponse(description="No map with the slug given as under."),
        },
    )
    def post(self, request: Request) -> Response:
        under = None
        if slug := request.query_params.get("under"):
            under = permissions.visible_maps(request.user).filter(slug=slug).first()
            if under is None:
                raise NotFound(f"under: no journey map “{slug[:80]}”.")
        dry_run = _flag(request, "dry_run", False)
        try:
            document = self._document(request)
            summary = import_document(document, by=request.user, under=under, dry_run=dry_run)
        except ExchangeInvalid as exc:
            code = status.HTTP_403_FORBIDDEN if exc.forbidden else status.HTTP_400_BAD_REQUEST
            return Response({"detail": str(exc), "problems": exc.problems}, status=code)
        return Response({**summary.as_dict(), "detail": summary.text})

    def _document(self, request: Request) -> Any:
        try:
            data = request.data
        except ParseError as exc:  # the body is not JSON we accept: say where, as a problem
            raise ExchangeInvalid([str(exc.detail).removeprefix("JSON parse error - ")]) from None
        if request.content_type.startswith("multipart/"):
            upload = data.get("file")
            if upload is None or not hasattr(upload, "read"):
                raise ExchangeInvalid(["file: send the document as “file”, or as the JSON body"])
            if upload.size > MAX_UPLOAD_BYTES:
                raise ExchangeInvalid([f"file: larger than {MAX_UPLOAD_BYTES // 2**20} MB"])
            return parse(upload.read())
        return data

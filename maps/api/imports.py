"""``POST /api/maps/{id}/measurements/import/``: a CSV or TheyDo metrics file into a
map's KPIs, all or nothing (``maps.imports``). The map's editors only."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import permissions
from governance.permissions import Action
from journeyhub.api.parsers import GuardedJSONParser
from maps.imports import ImportRefused, measurements_import, metrics_file_import
from maps.models import JourneyMap

from . import serializers as s

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class CSVBodyParser(BaseParser):
    """A CSV file sent as the ``text/csv`` body (no multipart needed)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"csv": stream.read(MAX_UPLOAD_BYTES + 1) if stream is not None else b""}


class ImportJSONParser(GuardedJSONParser):
    """A TheyDo file sent as the JSON body: as large as an uploaded file may be."""

    max_bytes = MAX_UPLOAD_BYTES


class MapMeasurementsImportView(APIView):
    """Import measurements into the map's KPIs from a CSV file or TheyDo's metrics
    file (``"format": "THEYDO_METRICS_V1"``): upload it as ``file`` (multipart), send
    the TheyDo JSON as the body, or send the CSV as a ``text/csv`` body. Any bad row
    answers 400 with its line or JSON path, and nothing is written."""

    parser_classes = (ImportJSONParser, MultiPartParser, CSVBodyParser)
    throttle_scope = "imports"  # journeyhub.throttling: its own, lower limit

    @extend_schema(
        request={
            "multipart/form-data": s.MeasurementsImportSerializer,
            "application/json": OpenApiTypes.OBJECT,
            "text/csv": OpenApiTypes.STR,
        },
        responses={
            200: OpenApiResponse(description="What was imported."),
            400: OpenApiResponse(description="The problems, by line or JSON path."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        journey_map = (
            permissions.visible_maps(request.user, JourneyMap.objects.all()).filter(pk=pk).first()
        )
        if journey_map is None:
            raise NotFound("No such journey map.")
        if not permissions.can(request.user, Action.EDIT, journey_map):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])
        try:
            if isinstance(request.data, dict) and "format" in request.data:  # TheyDo JSON body
                result = metrics_file_import(
                    journey_map=journey_map, data=request.data, by=request.user
                )
            else:
                result = measurements_import(
                    journey_map=journey_map, content=self._content(request), by=request.user
                )
        except ImportRefused as exc:
            return Response(
                {"detail": str(exc), "problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(
            {
                "format": result.format,
                "observations": result.observations,
                "periods": result.periods,
                "kpis_created": result.kpis_created,
                "kpis_updated": result.kpis_updated,
                "detail": result.summary,
            }
        )

    def _content(self, request: Request) -> bytes | str:
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is not None and hasattr(upload, "read"):
            if upload.size > MAX_UPLOAD_BYTES:
                raise ImportRefused([f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB"])
            return upload.read()
        body = request.data.get("csv") if hasattr(request.data, "get") else None
        if isinstance(body, bytes):
            if len(body) > MAX_UPLOAD_BYTES:
                raise ImportRefused([f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB"])
            return body
        raise ImportRefused(
            ["send the file as “file” (multipart), a text/csv body or the TheyDo JSON as the body"]
        )

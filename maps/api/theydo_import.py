"""``POST /api/maps/{id}/import/theydo/``: a TheyDo file (any of the six formats) into a
map, all or nothing (``maps.theydo``); ``?dry_run=1`` answers what it would do and writes
nothing. The map's editors only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import permissions
from governance.permissions import Action
from maps.imports import ImportRefused
from maps.models import JourneyMap, TheydoImport
from maps.theydo.engine import theydo_preview
from maps.theydo.jobs import MAX_UPLOAD_BYTES, plan_summary, theydo_import_now, theydo_parse

from .imports import ImportJSONParser

DRY_RUN_VALUES = {"1", "true", "yes"}


class TheydoFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The TheyDo JSON file (at most 20 MB).")


class MapTheydoImportView(APIView):
    """Import a TheyDo file into the map: send it as the JSON body or upload it as
    ``file`` (multipart). 200 with what was created, updated and left alone (per kind),
    the changes, counts and notes, and ``detail`` in one sentence; 400 with every
    problem by JSON path, nothing written. ``?dry_run=1``: the same answer, nothing
    written."""

    parser_classes = (ImportJSONParser, MultiPartParser)
    throttle_scope = "imports"  # journeyhub.throttling: its own, lower limit

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                description="1: answer what the import would do, write nothing.",
            )
        ],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": TheydoFileSerializer,
        },
        responses={
            200: OpenApiResponse(description="What was (or would be) imported."),
            400: OpenApiResponse(description="Every problem, by JSON path; nothing written."),
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
        dry_run = request.query_params.get("dry_run", "").lower() in DRY_RUN_VALUES
        try:
            data, file_name = self._data(request)
            if dry_run:
                plan = theydo_preview(journey_map=journey_map, data=data, by=request.user)
            else:
                plan = theydo_import_now(
                    journey_map=journey_map,
                    data=data,
                    by=request.user,
                    via=TheydoImport.Via.API,
                    file_name=file_name,
                )
        except ImportRefused as exc:
            return Response(
                {"detail": str(exc), "problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST
            )
        summary = plan_summary(plan, future=dry_run, changes_kept=None)
        detail = summary.pop("text")  # a dry run says what the import will do
        return Response({**summary, "dry_run": dry_run, "detail": detail})

    def _data(self, request: Request) -> tuple[Any, str]:
        """The file's JSON and its name: the JSON body, or the uploaded ``file``."""
        try:
            data = request.data
        except ParseError as exc:  # the body is not JSON we accept: say where, as a problem
            raise ImportRefused([str(exc.detail).removeprefix("JSON parse error - ")]) from None
        upload = data.get("file") if request.content_type.startswith("multipart/") else None
        if upload is not None and hasattr(upload, "read"):
            if upload.size > MAX_UPLOAD_BYTES:
                raise ImportRefused([f"file: larger than {MAX_UPLOAD_BYTES // 2**20} MB"])
            return theydo_parse(upload.read()), upload.name or ""
        if request.content_type.startswith("multipart/"):
            raise ImportRefused(["file: send the TheyDo file as “file”, or as the JSON body"])
        return data, ""

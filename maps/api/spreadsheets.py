"""``POST /api/import/spreadsheet/``: maps from a CSV or XLSX file (one row per step,
``docs/spreadsheets.md``), all or nothing (``maps.spreadsheets``). ``?under=<slug>``: the
map the sheet's maps go under (its editors); without it, the top level (CX leadership
and admins). ``?dry_run=1`` answers what the import would do and writes nothing."""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import permissions
from governance.permissions import Action
from maps.imports import ImportRefused
from maps.models import JourneyMap
from maps.spreadsheet_views import TOP_LEVEL_DENIED
from maps.spreadsheets.reader import MAX_UPLOAD_BYTES, too_large
from maps.spreadsheets.service import SpreadsheetForbidden, spreadsheet_import

DRY_RUN_VALUES = {"1", "true", "yes"}
SLUG = re.compile(r"[-a-zA-Z0-9_]+")


class SpreadsheetFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The XLSX or CSV file (at most 10 MB).")


class SpreadsheetImportView(APIView):
    """Import the maps of a spreadsheet uploaded as ``file`` (multipart). 200 with the
    maps of the sheet, what was created, updated and left as it was (per kind and per
    map) and ``detail`` in one sentence; 400 with every problem by line and column,
    nothing written; 403 when only permissions are missing."""

    parser_classes = (MultiPartParser,)
    throttle_scope = "imports"  # journeyhub.throttling: its own, lower limit

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "under", OpenApiTypes.STR, description="Slug of the map to import under."
            ),
            OpenApiParameter(
                "dry_run",
                OpenApiTypes.BOOL,
                description="1: answer what the import would do, write nothing.",
            ),
        ],
        request={"multipart/form-data": SpreadsheetFileSerializer},
        responses={
            200: OpenApiResponse(description="What was (or would be) imported."),
            400: OpenApiResponse(description="Every problem, by line and column."),
            403: OpenApiResponse(description="Not allowed to import there."),
        },
    )
    def post(self, request: Request) -> Response:
        under = self._under(request)
        dry_run = request.query_params.get("dry_run", "").lower() in DRY_RUN_VALUES
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        try:
            if upload is None or not hasattr(upload, "read"):
                raise ImportRefused(["file: send the spreadsheet as “file” (multipart)"])
            if upload.size > MAX_UPLOAD_BYTES:
                raise ImportRefused([f"file: {too_large(upload.size)}"])
            result = spreadsheet_import(
                content=upload.read(), by=request.user, under=under, dry_run=dry_run
            )
        except SpreadsheetForbidden as exc:
            return Response(
                {"detail": str(exc), "problems": exc.problems}, status=status.HTTP_403_FORBIDDEN
            )
        except ImportRefused as exc:
            return Response(
                {"detail": str(exc), "problems": exc.problems}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(result.as_dict())

    def _under(self, request: Request) -> JourneyMap | None:
        slug = request.query_params.get("under", "").strip()
        if not slug:
            if not permissions.can_create_top_level_map(request.user):
                raise PermissionDenied(TOP_LEVEL_DENIED)
            return None
        journey_map = None
        if SLUG.fullmatch(slug):  # anything else names no map (and a NUL byte no query)
            journey_map = permissions.visible_maps(request.user).filter(slug=slug[:200]).first()
        if journey_map is None:
            raise NotFound(f"under: no journey map “{slug[:80]}” that you may see.")
        if not permissions.can(request.user, Action.CREATE_SUBMAP, journey_map):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.CREATE_SUBMAP])
        return journey_map

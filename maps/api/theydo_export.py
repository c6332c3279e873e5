"""``GET /api/maps/{id}/export/theydo/?kind=…``: the map's content as a TheyDo file
(``maps.theydo.export``), downloaded as an attachment. Anyone who may see the map may
export it; a map they may not see answers 404."""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import permissions
from maps.models import JourneyMap
from maps.theydo.export import ExportRefused, export, export_file_name
from maps.theydo.schemas import KINDS


class MapTheydoExportView(APIView):
    """Export the map's metrics, insights, opportunities, solutions (the CX projects
    linked to it) or one survey / feedback source in TheyDo's format. Importing the file
    into a map (``POST /api/maps/{id}/import/theydo/``) gives the same content back."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=list(KINDS), required=True),
            OpenApiParameter(
                "source",
                str,
                description="survey_responses / feedback_responses: the source's surveyId or "
                "feedbackId (its import key, or jh-<id>), needed when the map has several",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The TheyDo file, as an attachment."
            ),
            400: OpenApiResponse(description="An unknown kind or source, named."),
            404: OpenApiResponse(description="No such map (or not one you may see)."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse | Response:
        journey_map = (
            permissions.visible_maps(request.user, JourneyMap.objects.all()).filter(pk=pk).first()
        )
        if journey_map is None:
            raise NotFound("No such journey map.")
        kind = request.query_params.get("kind", "")
        if kind not in KINDS:
            return Response(
                {"kind": [f"“{kind[:40]}” is not one of: {', '.join(KINDS)}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        fmt = KINDS[kind]
        try:
            document = export(journey_map, fmt, source=request.query_params.get("source"))
        except ExportRefused as exc:
            return Response({"source": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        response = HttpResponse(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            content_type="application/json; charset=utf-8",
        )
        name = export_file_name(journey_map, fmt)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

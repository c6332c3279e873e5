"""``GET /api/maps/{id}/export/mermaid/``: the map as Mermaid ``journey`` text
(``maps.mermaid``), as text/plain. Anyone who may see the map may export it; a map they
may not see answers 404."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from governance import permissions
from maps.mermaid import MEDIA_TYPE, map_to_mermaid, mermaid_file_name
from maps.models import JourneyMap


class MapMermaidExportView(APIView):
    """The map as a Mermaid user-journey diagram: sections are stages, tasks are steps,
    the score is the step's emotion on 1–5, the actors its persona and channel."""

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="Mermaid `journey` text (a `.mmd` file)."
            ),
            404: OpenApiResponse(description="No such map (or not one you may see)."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        journey_map = (
            permissions.visible_maps(request.user, JourneyMap.objects.with_people().with_personas())
            .filter(pk=pk)
            .first()
        )
        if journey_map is None:
            raise NotFound("No such journey map.")
        response = HttpResponse(map_to_mermaid(journey_map), content_type=MEDIA_TYPE)
        response["Content-Disposition"] = f'inline; filename="{mermaid_file_name(journey_map)}"'
        return response

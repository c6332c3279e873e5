"""``GET /api/maps/{id}/funnel/``: the figures of the map's latest successful event-log
import (``maps.analytics``): per step, per main path and for the whole map, counted
against its end steps, with every duration in seconds and as text in the unit that fits
(``maps.durations``, the helper the pages use). Anyone who may see the map reads it; a
map they may not see answers 404; a map without an imported log answers its figures as
``null`` and empty lists."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import permissions
from maps.analytics import latest_event_result
from maps.durations import duration_text

#: the whole-map figures copied from the import's result
WHOLE_MAP = (
    "events",
    "cases",
    "first_event",
    "last_event",
    "completed",
    "completion_rate",
    "succeeded",
    "success_rate",
    "median_duration_seconds",
    "end_rule",
    "period",
)


def _seconds(row: dict[str, Any], seconds: str, hours: str) -> float | None:
    if row.get(seconds) is not None:
        return row[seconds]
    return None if row.get(hours) is None else row[hours] * 3600  # results before seconds


def funnel_document(import_id: int | None, result: dict[str, Any]) -> dict[str, Any]:
    """The API's reading of an import's stored result (see the module docstring)."""
    document: dict[str, Any] = {"import_id": import_id}
    document.update({name: result.get(name) for name in WHOLE_MAP})
    document["median_duration_seconds"] = _seconds(
        result, "median_duration_seconds", "median_duration_hours"
    )
    document["median_duration_text"] = duration_text(document["median_duration_seconds"], "")
    steps = []
    for row in result.get("steps", []):
        step = {key: value for key, value in row.items() if key != "median_hours"}
        step["median_seconds"] = _seconds(row, "median_seconds", "median_hours")
        step["median_text"] = duration_text(step["median_seconds"], "")
        steps.append(step)
    document["steps"] = steps
    document["paths"] = result.get("paths", [])
    document["left_out"] = result.get("left_out") or {}
    return document


class MapFunnelView(APIView):
    """The figures of the map's latest imported event log."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="import_id, the whole-map figures (completion_rate, "
                "success_rate, median_duration_seconds and median_duration_text, end_rule "
                "…), steps (reached, conversion, ended, drop_off, median_seconds, "
                "median_text, is_end, end_kind …), paths (main paths with their funnels) "
                "and left_out (rows of unmapped activities); null figures and empty lists "
                "when no log was imported.",
            ),
            404: OpenApiResponse(description="No such map (or not one you may see)."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        journey_map = permissions.visible_maps(request.user).filter(pk=pk).first()
        if journey_map is None:
            raise NotFound("No such journey map.")
        import_id, result = latest_event_result(journey_map)
        return Response(funnel_document(import_id, result))

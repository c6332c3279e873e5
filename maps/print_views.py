"""A map on paper and in Mermaid: ``/maps/<slug>/print/`` (the print layout, also saved
as PDF from the browser's print dialog) and ``/maps/<slug>/export/mermaid/`` (the map as
Mermaid ``journey`` text with a copy button, a preview and a download).

Both are read-only and open to whoever may see the map (the map page's gate: 404 for
anyone else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from governance import permissions

from .mermaid import MEDIA_TYPE, map_to_mermaid, mermaid_file_name
from .models import JourneyMap, Step
from .selectors import Lane, MapGrid, map_crumbs, map_grid

# Step columns per landscape page: six keep 9pt type readable on A4 (about 40 mm each).
DEFAULT_COLUMNS = 6
MIN_COLUMNS, MAX_COLUMNS = 2, 12


@dataclass
class Band:
    """The step columns printed on one page (and its continuation pages, if the lanes
    run long), with every printed lane's items for those columns."""

    number: int
    first: int  # 1-based numbers of the first and last step in the band
    last: int
    steps: list[Step]
    stage_spans: list[tuple[str, int]]  # stage name and how many of the columns it spans
    lanes: list[tuple[Lane, list[list[Any]]]]
    padding: list[None] = field(default_factory=list)  # empty columns keep widths equal


def page_bands(grid: MapGrid, *, columns: int) -> list[Band]:
    """Split the grid into bands of ``columns`` steps. Lanes with nothing in any step
    column are left out, and the same lanes appear in every band, in the grid's order."""
    lanes = [lane for lane in grid.lanes if any(items for _, items in lane.cells)]
    bands = []
    for start in range(0, len(grid.steps), columns):
        steps = grid.steps[start : start + columns]
        spans: list[tuple[str, int]] = []
        for step in steps:
            name = step.stage.name if step.stage else "Unstaged"
            if spans and spans[-1][0] == name:
                spans[-1] = (name, spans[-1][1] + 1)
            else:
                spans.append((name, 1))
        bands.append(
            Band(
                number=len(bands) + 1,
                first=start + 1,
                last=start + len(steps),
                steps=steps,
                stage_spans=spans,
                lanes=[
                    (lane, [items for _, items in lane.cells[start : start + columns]])
                    for lane in lanes
                ],
                padding=[None] * (columns - len(steps)),
            )
        )
    return bands


def _visible_map(request: HttpRequest, slug: str) -> JourneyMap:
    return permissions.get_map_for_user(
        request.user, slug, queryset=JourneyMap.objects.with_people().with_personas()
    )


def _columns(request: HttpRequest) -> int | str:
    """The ``columns`` parameter, or the message saying what is wrong with it."""
    raw = request.GET.get("columns", "").strip()
    if not raw:
        return DEFAULT_COLUMNS
    if not (raw.isascii() and raw.isdigit()) or not MIN_COLUMNS <= int(raw) <= MAX_COLUMNS:
        return (
            f"columns: “{raw[:20]}” is not a whole number of steps per page from "
            f"{MIN_COLUMNS} to {MAX_COLUMNS}."
        )
    return int(raw)


@require_GET
@login_required
def print_view(request: HttpRequest, slug: str) -> HttpResponse:
    """The map laid out for paper: a header, then the grid in bands of ``columns`` steps,
    one band per landscape page with the lane names down its side."""
    columns = _columns(request)
    if isinstance(columns, str):
        return HttpResponseBadRequest(columns, content_type="text/plain; charset=utf-8")
    journey_map = _visible_map(request, slug)
    visible = permissions.visible_maps(request.user)
    grid = map_grid(journey_map, children=visible.filter(parent=journey_map))
    whole_map = [lane for lane in grid.lanes if lane.whole_map]
    context = {
        "map": journey_map,
        "grid": grid,
        "bands": page_bands(grid, columns=columns),
        "columns": columns,
        "whole_map_lanes": whole_map,
        "printed_at": timezone.now(),
    }
    return render(request, "maps/print.html", context)


# Mermaid draws its SVG with a <style> block and style="" attributes; this page (and no
# other) lets styles through. Scripts stay 'self' only: Mermaid needs no eval.
@csp_update({"style-src": ["'unsafe-inline'"]})
@require_GET
@login_required
def mermaid_page(request: HttpRequest, slug: str) -> HttpResponse:
    journey_map = _visible_map(request, slug)
    text = map_to_mermaid(journey_map)
    context = {
        "map": journey_map,
        "mermaid": text,
        "rows": max(6, min(30, text.count("\n") + 1)),
        "crumbs": map_crumbs(journey_map, visible=permissions.visible_maps(request.user)),
    }
    return render(request, "maps/mermaid.html", context)


@require_GET
@login_required
def mermaid_download(request: HttpRequest, slug: str) -> HttpResponse:
    """The Mermaid text as a file (``<slug>.mmd``)."""
    journey_map = _visible_map(request, slug)
    response = HttpResponse(map_to_mermaid(journey_map), content_type=MEDIA_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{mermaid_file_name(journey_map)}"'
    return response

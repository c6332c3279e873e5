"""Browser pages of the repository (read-only for now): the map tree and a map's grid."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance import permissions

from .models import JourneyMap
from .selectors import map_for_display, map_grid, repository_tree


@require_GET
@login_required
def repository(request: HttpRequest) -> HttpResponse:
    roots = repository_tree(permissions.visible_maps(request.user))
    return render(request, "maps/repository.html", {"roots": roots})


@require_GET
@login_required
def map_detail(request: HttpRequest, slug: str) -> HttpResponse:
    visible = permissions.visible_maps(request.user)
    journey_map = map_for_display(visible, slug)
    if journey_map is None:
        raise Http404("No such journey map.")
    grid = map_grid(journey_map, children=visible.filter(parent=journey_map))
    return render(
        request,
        "maps/map_detail.html",
        {
            "map": journey_map,
            "grid": grid,
            "can_edit": permissions.can_edit_map(request.user, journey_map),
            "can_manage": permissions.can_manage_map(request.user, journey_map),
            "status_choices": JourneyMap.Status,
        },
    )

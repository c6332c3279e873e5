"""Browser pages of the repository: the map tree and a map's grid (editing: editor.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance import permissions

from .editor import grid_context
from .selectors import map_for_display, repository_tree


@require_GET
@login_required
def repository(request: HttpRequest) -> HttpResponse:
    roots = repository_tree(permissions.visible_maps(request.user))
    return render(request, "maps/repository.html", {"roots": roots})


@require_GET
@login_required
def map_detail(request: HttpRequest, slug: str) -> HttpResponse:
    journey_map = map_for_display(permissions.visible_maps(request.user), slug)
    if journey_map is None:
        raise Http404("No such journey map.")
    return render(request, "maps/map_detail.html", grid_context(request, journey_map))

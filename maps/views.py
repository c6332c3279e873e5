"""Browser pages of the repository: the map tree and a map's grid (editing: editor.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from governance import permissions
from governance.scoring import health_by_map
from governance.search import count_content_matches

from .editor import grid_context
from .filters import RepositoryFilter
from .selectors import (
    map_crumbs,
    map_for_display,
    repository_tree,
    search_results,
    with_paths,
)

RESULTS_PER_PAGE = 50


@require_GET
@login_required
@vary_on_headers("HX-Request")
def repository(request: HttpRequest) -> HttpResponse:
    """The tree of visible maps, or, with a search or filter, the matching maps as a list.

    ``?under=<slug>`` (htmx) returns the levels below one node that were not loaded."""
    visible = permissions.visible_maps(request.user)
    if request.GET.get("under"):
        node = visible.filter(slug=request.GET["under"]).first()
        if node is None:
            raise Http404("No such journey map.")
        children = repository_tree(visible, under=node)
        _with_health(_flatten(children))
        return render(request, "maps/partials/tree_children.html", {"children": children})
    filterset = RepositoryFilter(request.GET or None, queryset=visible, user=request.user)
    context = {
        "filter": filterset,
        "can_create": permissions.can_create_top_level_map(request.user),
    }
    if filterset.is_active:
        page = Paginator(search_results(filterset.qs), RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        results = _with_health(with_paths(page.object_list, visible))
        context.update(page=page, results=results, querystring=_without_page(request))
        query = filterset.form.cleaned_data.get("q") or ""
        if query.strip():  # what is inside the maps: pain points, quotes … (one query)
            context.update(
                search_query=query.strip(),
                content_matches=count_content_matches(user=request.user, text=query),
            )
    else:
        context["roots"] = repository_tree(visible)
        _with_health(_flatten(context["roots"]))
    return render(request, "maps/repository.html", context)


def _flatten(nodes) -> list:
    flat = []
    for node in nodes:
        flat.append(node)
        flat.extend(_flatten(getattr(node, "_cached_children", ())))
    return flat


def _with_health(maps: list) -> list:
    """Attach each map's scorecard (health and its status) in a fixed number of queries."""
    scorecards = health_by_map(m.pk for m in maps)
    for journey in maps:
        journey.scorecard = scorecards.get(journey.pk)
    return maps


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
@login_required
def map_detail(request: HttpRequest, slug: str) -> HttpResponse:
    journey_map = map_for_display(permissions.visible_maps(request.user), slug)
    if journey_map is None:
        raise Http404("No such journey map.")
    context = grid_context(request, journey_map)
    # only ancestors the reader may open show by title; "zooms into" needs the parent
    context["crumbs"] = crumbs = map_crumbs(
        journey_map, visible=permissions.visible_maps(request.user)
    )
    context["parent_visible"] = bool(crumbs) and not crumbs[-1].hidden
    return render(request, "maps/map_detail.html", context)

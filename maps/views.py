"""Browser pages of the repository: the map tree and a map's grid (editing: editor.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms.renderers import Jinja2 as Jinja2Renderer
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from governance import permissions
from governance.scoring import STATUS_LABELS, health_status, health_values
from governance.search import count_content_matches

from .editor import grid_context
from .filters import RepositoryFilter
from .future_state import map_states
from .repository_rows import whole_number
from .selectors import (
    map_crumbs,
    map_for_page,
    persona_names_by_map,
    repository_tree,
    search_results,
    with_paths,
)

RESULTS_PER_PAGE = 50
# the filter bar's widgets through Django's Jinja2 form templates (as the scorecard's
# rating widgets): the same HTML but for blank lines, ~1 ms less than Django's templates
# (a template render per select option)
_FILTER_RENDERER = Jinja2Renderer()


@require_GET
@login_required
@vary_on_headers("HX-Request")
def repository(request: HttpRequest) -> HttpResponse:
    """The tree of visible maps, or, with a search or filter, the matching maps as a list.

    ``?under=<slug>`` (htmx) returns the levels below one node that were not loaded;
    ``?after=<tree id>`` the next page of a long top level."""
    # grants read once: the tree counts and filters every map of the repository
    visible = permissions.visible_maps_resolved(request.user)
    if request.GET.get("under"):
        node = visible.filter(slug=request.GET["under"]).first()
        if node is None:
            raise Http404("No such journey map.")
        tree = repository_tree(visible, under=node)
        context = {"tree": tree, "lines": _with_row_bits(tree.lines)}
        return render(request, "maps/partials/tree_children.html", _row_context(context))
    if "after" in request.GET:
        after = request.GET["after"]
        if not (after.isascii() and after.isdigit()) or len(after) > 18:
            return HttpResponseBadRequest("after: give the tree id of the last map shown.")
        tree = repository_tree(visible, after=int(after))
        context = {"tree": tree, "lines": _with_row_bits(tree.lines)}
        return render(request, "maps/repository.html#tree-lines", _row_context(context))
    filterset = RepositoryFilter(request.GET or None, queryset=visible, user=request.user)
    filterset.form.renderer = _FILTER_RENDERER
    context = {
        "filter": filterset,
        "can_create": permissions.can_create_top_level_map(request.user),
    }
    if filterset.is_active:
        page = Paginator(search_results(filterset.qs), RESULTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        results = _with_row_bits(with_paths(page.object_list, visible))
        context.update(page=page, results=results, querystring=_without_page(request))
        query = filterset.form.cleaned_data.get("q") or ""
        if query.strip():  # what is inside the maps: pain points, quotes … (one query)
            context.update(
                search_query=query.strip(),
                content_matches=count_content_matches(user=request.user, text=query),
            )
    else:
        context["tree"] = tree = repository_tree(visible)
        context["lines"] = _with_row_bits(tree.lines)
    return render(request, "maps/repository.html", _row_context(context))


def _row_context(context: dict) -> dict:
    context["repository_url"] = reverse("maps:repository")
    return context


def _with_row_bits(maps: list) -> list:
    """What each tree row shows, computed once per map rather than by template tags
    and URL reversals per row: links, health (numbers only, a fixed number of
    queries), its status, the owner's name, whether a review is due, the personas."""
    health = health_values(m.pk for m in maps)
    personas = persona_names_by_map([m.pk for m in maps])
    detail = reverse("maps:detail", kwargs={"slug": "-"})
    scorecard = reverse("governance:scorecard", kwargs={"slug": "-"})
    for journey in maps:
        slug = journey.slug
        journey.url = detail.replace("/-/", f"/{slug}/")
        journey.scorecard_url = scorecard.replace("/-/", f"/{slug}/")
        journey.health = value = health.get(journey.pk)
        journey.health_text = whole_number(value)
        journey.health_status = status = health_status(value)
        journey.health_label = STATUS_LABELS[status]
        owner = journey.owner
        journey.owner_name = owner.get_full_name() or owner.username
        journey.review_due = journey.is_review_due
        journey.persona_names = personas.get(journey.pk, "")
    return maps


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_GET
@login_required
def map_detail(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    # the page asks whether the reader may see, edit or draft beside the map and its
    # ancestors from several places: the grants on them are read once, for this page
    with permissions.grants_memoised(user):
        # with its ancestors, read once for the breadcrumbs and the map's states
        journey_map, ancestors = permissions.open_map_chain(user, map_for_page(slug))
        context = grid_context(request, journey_map)
        # only ancestors the reader may open show by title; "zooms into" needs the parent
        context["crumbs"] = crumbs = map_crumbs(journey_map, ancestors=ancestors)
        context["parent_visible"] = bool(crumbs) and not crumbs[-1].hidden
        context["map_states"] = map_states(user, journey_map, ancestors=ancestors)
        return render(request, "maps/map_detail.html", context)

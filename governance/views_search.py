"""The search page, ``/search/?q=…``: the form, counts per kind, a page of hits."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from maps.vocabulary import vocabulary_labels

from .search import PAGE_SIZE
from .search_forms import SearchForm


@require_GET
@login_required
@vary_on_headers("HX-Request")
def search_page(request: HttpRequest) -> HttpResponse:
    vocab = vocabulary_labels()
    form = SearchForm(request.GET or None, user=request.user, vocab=vocab)
    context: dict = {"form": form, "vocab": vocab}
    if form.has_query:
        results = form.results()
        page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(
            searched=True,
            results=results,
            page=page,
            facets=_facets(request, results),
            all_kinds=f"?{_without(request, 'page', 'kind')}",
            querystring=_without(request, "page"),
        )
    template = "governance/search.html"
    if request.htmx:  # live search: only the results are swapped
        template += "#results"
    return render(request, template, context)


def _facets(request: HttpRequest, results) -> list[dict]:
    """Each kind with hits: its count and a link that shows only that kind."""
    chosen = results.filters.kinds
    base = request.GET.copy()
    base.pop("page", None)
    base.setlist("kind", [])
    facets = []
    for kind, n in results.counts.items():
        only = base.copy()
        only.setlist("kind", [kind])
        facets.append(
            {
                "kind": kind,
                "label": results.labels[kind],
                "count": n,
                "url": f"?{only.urlencode()}",
                "active": kind in chosen,
            }
        )
    return facets


def _without(request: HttpRequest, *keys: str) -> str:
    query = request.GET.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()

"""Browser pages of the project portfolio: the ranking (with chart, gaps and CSV
export), the prioritisation weights, and each CX project's page, create and edit.
Numbers and rules come from ``governance.prioritisation``; policy from
``governance.permissions``. These views only load, authorise and render."""

from __future__ import annotations

import csv
import gc
import html
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, getcontext

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat, pluralize
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from journeyhub.exports import csv_cell, xlsx_row
from maps import map_page
from maps.delivery.progress import Delivery, delivery_of
from maps.map_page import url_prefix
from maps.models import CXProject, JourneyMap, PainPoint
from maps.services import project_delete as project_delete_service
from maps.services import project_save
from maps.vocabulary import vocabulary_labels

from . import permissions, prioritisation, scoring
from .date_text import format_day
from .field_policy import FieldsDenied, editable_fields
from .filters import PICKER_LIMIT, PortfolioFilter, picker_maps
from .forms import MapPickerQueryForm, PrioritisationWeightsForm, ProjectForm, project_initial
from .models import PrioritisationWeights
from .permissions import Action, get_project_for_user
from .views_scorecard import _add_errors

PER_PAGE = 50
CHART_MAX = 100  # bubbles: the best-ranked projects of the filtered set
WEIGHTS_DENIED = "Only CX leadership and admins may change the prioritisation weights."
CREATE_DENIED = "Journey owners, their teams and CX leadership create projects."

SORTS = {
    "rank": lambda p: (p.rank,),
    "title": lambda p: (p.title.lower(), p.project_id),
    "status": lambda p: (p.status, p.rank),
    "owner": lambda p: (p.owner_name.lower(), p.rank),
    "team": lambda p: (p.team_name.lower(), p.rank),
    "start": lambda p: (p.start_date is None, p.start_date, p.rank),
    "end": lambda p: (p.end_date is None, p.end_date, p.rank),
    "effort": lambda p: (p.effort, p.rank),
}
SORT_LABELS = {
    "rank": "Rank",
    "title": "Project",
    "status": "Status",
    "owner": "Owner",
    "team": "Team",
    "start": "Start",
    "end": "End",
    "effort": "Effort",
}


# --- the portfolio -------------------------------------------------------------------


class QuickSelect(forms.Select):
    """A select built by plain string building. The map filter lists every visible
    lifecycle and journey (4,000 at 10,000 maps), and Django renders each option through
    two templates (~0.1 ms each); the markup is the same."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        chosen = set(self.format_value(value))
        parts = [f'<select name="{escape(name)}"{flatatt(self.build_attrs(self.attrs, attrs))}>']
        # html.escape, as django.utils.html.escape does, without making a SafeString of
        # each of 8,000 texts at 10,000 maps
        quote = html.escape
        parts += [
            f'<option value="{quote(option)}"{" selected" if option in chosen else ""}>'
            f"{quote(str(label))}</option>"
            for option, label in (
                ("" if option is None else str(option), label) for option, label in self.choices
            )
        ]
        parts.append("</select>")
        return mark_safe("\n".join(parts))  # every part is escaped above


def _quick_selects(form, *names: str):
    for name in names:
        old = form.fields[name].widget
        quick = QuickSelect(attrs=old.attrs, choices=old.choices)
        quick.is_required = old.is_required
        form.fields[name].widget = quick
    return form


def _method(request: HttpRequest) -> str | None:
    value = request.GET.get("method", "")
    return value if value in prioritisation.METHODS else None


def _visible_map_ids(user, visible: QuerySet[JourneyMap] | None = None) -> set[int] | None:
    """The pks of the maps the user may see (``visible``: ``visible_maps_resolved``
    when the caller has it), read once per page; None: every map."""
    if permissions.is_leadership(user):
        return None
    if visible is None:
        visible = permissions.visible_maps_resolved(user)
    # the query's rows read as they come (ids: no converters), not through the ORM's
    # iterator: thousands of ids at 10,000 maps
    try:
        sql, params = visible.order_by().values_list("pk").query.sql_with_params()
    except EmptyResultSet:  # .none()
        return set()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {pk for (pk,) in cursor.fetchall()}


# Statuses of the filter whose projects hold every active (planned, ongoing) one.
_HOLDS_ACTIVE = ("open", "")


def _keeps_every_active(filterset: PortfolioFilter) -> bool:
    """Whether the filtered projects include every active one the user may see: then
    the others (read for overlaps) add no project, and reading them is skipped."""
    if not (filterset.is_bound and filterset.form.is_valid()):
        return False
    data = filterset.form.cleaned_data
    narrowing = ("q", "map", "team", "owner")
    return data.get("status") in _HOLDS_ACTIVE and not any(data.get(n) for n in narrowing)


def _ranked(
    request: HttpRequest,
    *,
    health: dict[int, float | None] | None = None,
    visible_map_ids: set[int] | None = None,
) -> tuple[PortfolioFilter, prioritisation.Portfolio]:
    """The filtered, ranked portfolio the user may see (``health``: of the maps the user
    may see, and ``visible_map_ids``, when the caller has them already)."""
    user = request.user
    # every project, filtered; portfolio_rank keeps those the user may see (reader=):
    # visible_projects as a filter probed the visible maps once per project
    candidates = CXProject.objects.all()
    # Leadership ranks what is still to do: open projects unless another status is asked for
    # ("Any status" sends an empty value and shows done and cancelled work too).
    data = request.GET.copy()
    data.setdefault("status", "open")
    filterset = PortfolioFilter(data, queryset=candidates, user=user)
    projects = filterset.qs if filterset.is_bound and filterset.form.is_valid() else candidates
    if filterset.is_bound and not filterset.form.is_valid():
        projects = candidates.none()
    if visible_map_ids is None:
        visible_map_ids = _visible_map_ids(user)
    portfolio = prioritisation.portfolio_rank(
        projects=projects,
        # other active projects only matter for overlaps when the filter left some out
        others=None if _keeps_every_active(filterset) else candidates,
        reader=user,
        visible_map_ids=visible_map_ids,
        method=_method(request),
        health=health,
    )
    return filterset, portfolio


def _chart_data(projects: list[prioritisation.ProjectScore]) -> dict:
    """What static/js/portfolio.js draws; the page's "chart data" table holds the same
    points for those who cannot see the chart."""
    charted = projects[:CHART_MAX]
    split = prioritisation.effort_split(charted)
    top_reach = max((p.reach for p in charted), default=0) or 1
    return {
        "effortAxis": prioritisation.effort_axis(p.effort for p in charted),
        "effortSplit": split,
        "impactSplit": prioritisation.HIGH_IMPACT_FROM - 0.5,
        "quadrants": prioritisation.QUADRANTS,
        "statuses": dict(CXProject.Status.choices),
        "points": [
            {
                "id": p.project_id,
                "title": p.title,
                "x": p.effort,
                "y": p.impact,
                "r": round(4 + 14 * (p.reach / top_reach) ** 0.5, 1),
                "reach": p.reach,
                "status": p.status,
                "rank": p.rank,
                "index": p.index,
                "url": reverse("project_detail", args=[p.project_id]),
            }
            for p in charted
        ],
    }


def floatformat_fast(value: object, arg: str | int = "-1") -> str:
    """Django's ``floatformat`` filter (no ``g``/``u`` suffix) for ints and finite floats
    where numbers are written with a "." and without thousands separators (the
    project's settings), computed the same way (``Decimal(str(value))``, rounded half
    up) without its localisation pass: a third of the time, and the portfolio formats
    ~700 numbers (its breakdowns, chart table and gaps). Anything else goes to Django's.
    """
    if not _plain_numbers():
        return floatformat(value, arg)
    return _floatformat_plain(value, arg)


def _number_formatter() -> Callable[[object, str | int], str]:
    """``floatformat_fast`` for one page: the settings and language (``_plain_numbers``)
    read once, not for each of its ~700 numbers (a tenth of the content's time)."""
    return _floatformat_plain if _plain_numbers() else floatformat


def _floatformat_plain(value: object, arg: str | int = "-1") -> str:
    """``floatformat_fast`` where ``_plain_numbers()`` holds."""
    if not (type(value) is float or type(value) is int):
        return floatformat(value, arg)
    if value != value or value in (math.inf, -math.inf):
        return floatformat(value, arg)
    d = Decimal(str(value))
    _, digits, exponent = d.as_tuple()
    if len(digits) + abs(exponent) > 200:  # Django returns those as they are
        return floatformat(value, arg)
    places = int(arg)
    fraction = int(d) - d
    if not fraction and places <= 0:
        return str(int(d))
    units = len(digits) + (-exponent if fraction else exponent)
    precision = max(getcontext().prec, abs(places) + units + 1)
    rounded = d.quantize(Decimal(1).scaleb(-abs(places)), ROUND_HALF_UP, Context(prec=precision))
    text = format(rounded, "f")
    return text.lstrip("-") if rounded.is_signed() and not rounded else text  # no "-0.0"


def _plain_numbers() -> bool:
    """Whether Django writes numbers as Python does: "." and no grouping."""
    return get_format("DECIMAL_SEPARATOR") == "." and not (
        settings.USE_THOUSAND_SEPARATOR and get_format("NUMBER_GROUPING")
    )


def breakdown_html(
    score: prioritisation.ProjectScore,
    *,
    best: prioritisation.ProjectScore | None = None,
    project_url: tuple[str, str] | None = None,
) -> str:
    """A score's breakdown as HTML (templates/jinja2/governance/breakdown.html). ``best``:
    the project at index 100, on the portfolio (the project page ranks one project, where
    the index says nothing). ``project_url``: ``url_prefix("project_detail")``, built once
    per page."""
    template = map_page.environment.get_template("governance/breakdown.html")
    return mark_safe(  # the template escapes every value (autoescape)
        template.render(
            score=score,
            best=best,
            project_url=project_url or url_prefix("project_detail"),
            num=_number_formatter(),
        )
    )


def _page_delivery(rows: list[prioritisation.ProjectScore]) -> dict[int, Delivery]:
    """Where the delivery of the page's projects stands: their links (one query) and the
    imported status of every key on them (one query), whatever the number of rows. Only
    the shown page: the ranking itself never reads links."""
    ids = [p.project_id for p in rows]
    return delivery_of(CXProject.objects.filter(pk__in=ids).only("pk", "external_links"))


def _querystring(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the page is computed. Ranking thousands of
    projects and the health of thousands of maps allocate ~100,000 short-lived objects,
    freed by reference counting when the page is done (they form no cycles); meanwhile
    they set off full passes of the collector over every object of the process: a
    fifth of the page's CPU time at 10,000 maps (#16). Any cycle made meanwhile is
    collected at the next pass after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@require_GET
@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    with _collector_paused():
        return _portfolio(request)


def _portfolio(request: HttpRequest) -> HttpResponse:
    # health of every visible map, read once: the ranking and the gaps both use it
    # (a subquery of plain comparisons, not the ids: thousands of bound ids cost more,
    # and SQLite refuses over 32,766)
    visible = permissions.visible_maps_resolved(request.user)
    health = scoring.health_values(visible.values("pk"), weights=scoring.current_weights())
    visible_map_ids = _visible_map_ids(request.user, visible)
    filterset, ranked = _ranked(request, health=health, visible_map_ids=visible_map_ids)
    sort = request.GET.get("sort", "rank")
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORTS:
        key, descending = "rank", False
    if key == "rank":
        # already in rank order (ranks are 1…n, each once): sorting would change nothing
        rows = ranked.projects[::-1] if descending else list(ranked.projects)
    else:
        rows = sorted(ranked.projects, key=SORTS[key], reverse=descending)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    # the page shows its rows' overlaps only: found without every project's steps
    prioritisation.prepare_overlaps(page.object_list)
    delivery = _page_delivery(page.object_list)
    project_url = url_prefix("project_detail")
    split = prioritisation.effort_split(ranked.projects[:CHART_MAX])
    charted = [
        (p, prioritisation.QUADRANTS[prioritisation.quadrant_of(p, split)])
        for p in ranked.projects[:CHART_MAX]
    ]
    # (not "map IN the visible maps": SQLite then walks every visible map's pain points
    # instead of those of the few maps unaddressed_pain_points asks for, 1.6 s at 10,000)
    pain_scope = permissions.visible_content(request.user, PainPoint.objects.all())
    subtree = filterset.subtree_maps()
    if subtree is not None:
        pain_scope = pain_scope.filter(map__in=subtree)
    gaps = prioritisation.unaddressed_pain_points(pain_points=pain_scope, health=health)
    sort_links = []
    base = _querystring(request, "sort", "page")
    for name, label in SORT_LABELS.items():
        next_sort = f"-{name}" if key == name and not descending else name
        sort_links.append(
            {
                "name": name,
                "label": label,
                "href": f"?{base + '&' if base else ''}sort={next_sort}",
                "current": key == name,
                "descending": descending,
            }
        )
    chart_data = _chart_data(ranked.projects)
    # read once for the content and base.html (the context processor's lazy one would
    # be a second query)
    vocab = vocabulary_labels()
    form = _quick_selects(filterset.form, "team", "owner")
    context = {
        "form": form,
        "picker": _picker(filterset),
        "fields": {name: form[name] for name in form.fields},
        "filter_active": filterset.is_active,
        "method_asked": bool(request.GET.get("method")),
        "vocab": vocab,
        "urls": _page_urls(),
        "project_url": project_url,
        "map_url": url_prefix("maps:detail"),
        "portfolio": ranked,
        "page": page,
        "page_rows": [(p, delivery.get(p.project_id, Delivery())) for p in page.object_list],
        "may_import_delivery": permissions.is_leadership(request.user),
        "count": len(rows),
        "sort_links": sort_links,
        "querystring": _querystring(request, "page"),
        "export_query": _querystring(request, "page", "sort"),
        "method_links": [
            (m, prioritisation.Method(m).label, f"?{_querystring(request, 'method', 'page')}")
            for m in prioritisation.METHODS
        ],
        "chart_data": chart_data,
        "charted": charted,
        "chart_max": CHART_MAX,
        "effort_split": split,
        "gaps": gaps,
        "may_change_weights": permissions.can_change_weights(request.user),
        "can_create": permissions.can_create_project(request.user),
    }
    # the whole context to Django's template too: it renders only ``content`` and the
    # chart's data, and tests read the rest from the response
    return render(
        request,
        "governance/portfolio.html",
        {**context, "content": _render_content(context)},
        status=400 if form.errors else 200,  # the form says which filter and why
    )


def _picker(filterset: PortfolioFilter) -> dict[str, str]:
    """What the map picker shows: the chosen map's slug (``map``) and the text of its box,
    the chosen map's title (read by the filter), or what was typed when it named no map,
    or the slug asked for when it is no map the reader may see."""
    form = filterset.form
    if "map_name" in form.errors:
        return {"slug": "", "text": form.data.get("map_name", "")}
    # another field refused: the map as sent (the filter did not run)
    slug = (form.cleaned_data.get("map") or "") if form.is_valid() else form.data.get("map", "")
    subtree = filterset.subtree
    return {"slug": slug, "text": subtree["title"] if subtree else slug}


@require_GET
@login_required
def portfolio_map_choices(request: HttpRequest) -> JsonResponse:
    """The portfolio map picker's options: the lifecycles and journeys the user may see
    whose title holds ``?q=`` (any case), in the tree's order, at most ``?limit=`` (20,
    up to 50); ``more``: whether more match. Bad input: 400 naming the parameter."""
    query = MapPickerQueryForm(request.GET)
    if not query.is_valid():
        return JsonResponse({"errors": query.errors.get_json_data()}, status=400)
    results, more = picker_maps(
        request.user, query.cleaned_data["q"], limit=query.cleaned_data["limit"] or PICKER_LIMIT
    )
    return JsonResponse({"results": results, "more": more})


def _page_urls() -> dict[str, str]:
    """The page's fixed links, reversed once per page."""
    return {
        "portfolio": reverse("portfolio"),
        "map_choices": reverse("governance:portfolio-map-choices"),
        "project_new": reverse("project_new"),
        "weights": reverse("portfolio_weights"),
        "export": reverse("portfolio_export"),
        "export_xlsx": reverse("portfolio_export_xlsx"),
        "delivery_import": reverse("delivery_status_import"),
    }


def _render_content(context: dict) -> SafeString:
    """The page's content block (``templates/jinja2/governance/portfolio.html``)."""
    labels = context["vocab"]

    def term(key: str) -> str:  # the {% term %} tag
        return labels.get(key, key.replace("_", " ").capitalize())

    template = map_page.environment.get_template("governance/portfolio.html")
    return mark_safe(  # the template escapes every value (autoescape)
        template.render(
            context, term=term, date=_date_formatter(), pluralize=pluralize, num=_number_formatter()
        )
    )


ROW_DATE = "j M Y"  # the ranking's start and end dates


def _date_formatter() -> Callable[..., str]:
    """Django's ``date`` filter for one page, a plain date in ``ROW_DATE`` written once
    per process (``date_text.format_day``): the filter localises each of a hundred dates
    a page (~25 µs each). Anything else goes to it."""
    language = get_language()

    def format_date(value: object, arg: str | None = None) -> str:
        if type(value) is date and arg == ROW_DATE:
            return format_day(value, ROW_DATE, language)
        return date_filter(value, arg)

    return format_date


CSV_COLUMNS = (
    "rank",
    "score",
    "method",
    "project_id",
    "title",
    "status",
    "owner",
    "team",
    "journeys",
    "start_date",
    "end_date",
    "reach",
    "impact",
    "confidence",
    "effort",
    "health_gap",
    "pain",
    "rank_rice_health",
    "rank_wsjf",
    "rank_value_effort",
    "overlaps",
)


def _export_rows(ranked) -> list[list]:
    rows = []
    for p in ranked.projects:
        rows.append(
            [
                p.rank,
                round(p.score, 2),
                ranked.method,
                p.project_id,
                p.title,
                p.status,
                p.owner_name,
                p.team_name,
                "; ".join(m.title for m in p.maps),
                p.start_date,
                p.end_date,
                p.reach,
                p.impact,
                p.confidence,
                p.effort,
                round(p.gap, 4),
                round(p.pain, 4),
                *(p.ranks[m] for m in prioritisation.METHODS),
                "; ".join(f"{o.title} ({', '.join(o.reasons)})" for o in p.overlaps),
            ]
        )
    return rows


@require_GET
@login_required
def portfolio_export(request: HttpRequest) -> HttpResponse:
    """The ranked table as CSV, with the page's filters and method."""
    _, ranked = _ranked(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="portfolio.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in _export_rows(ranked):
        row = [csv_cell(value) for value in row]  # before the numbers become text
        row[1] = f"{row[1]:.2f}"
        row[15], row[16] = f"{row[15]:.4f}", f"{row[16]:.4f}"
        writer.writerow(row)
    return response


@require_GET
@login_required
def portfolio_export_xlsx(request: HttpRequest) -> HttpResponse:
    """The same ranked table as an Excel workbook (openpyxl), numbers kept as numbers."""
    from openpyxl import Workbook

    _, ranked = _ranked(request)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Portfolio")
    sheet.append(CSV_COLUMNS)
    for row in _export_rows(ranked):
        sheet.append(xlsx_row(sheet, row))
    response = HttpResponse(
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="portfolio.xlsx"'
    workbook.save(response)
    return response


@require_http_methods(["GET", "POST"])
@login_required
def portfolio_weights(request: HttpRequest) -> HttpResponse:
    """Everyone signed in sees the method and weights; CX leadership and admins change
    them."""
    may_change = permissions.can_change_weights(request.user)
    if request.method == "POST" and not may_change:
        raise PermissionDenied(WEIGHTS_DENIED)
    weights = prioritisation.current_weights()
    if request.method == "POST":
        form = PrioritisationWeightsForm(request.POST)
        if form.is_valid():
            try:
                prioritisation.prioritisation_weights_update(
                    by=request.user,
                    expected_version=form.cleaned_data["version"],
                    method=form.cleaned_data["method"],
                    values={n: form.cleaned_data[n] for n in PrioritisationWeights.FIELDS},
                )
            except ValidationError as exc:
                if "version" in exc.message_dict:
                    data = request.POST.copy()
                    data["version"] = str(prioritisation.current_weights().version)
                    form = PrioritisationWeightsForm(data)
                    form.is_valid()
                _add_errors(form, exc)
            else:
                messages.success(
                    request, "Saved the prioritisation weights; the ranking uses them now."
                )
                return redirect("portfolio_weights")
    else:
        form = PrioritisationWeightsForm(
            initial={**weights.as_dict(), "method": weights.method, "version": weights.version}
        )
    history = weights.history.select_related("history_user").order_by("-history_date")[:10]
    return render(
        request,
        "governance/portfolio_weights.html",
        {
            "form": form,
            "weights": weights,
            "may_change": may_change,
            "history": history,
            "rows": [
                (weights._meta.get_field(n).verbose_name, weights._meta.get_field(n).help_text, v)
                for n, v in weights.as_dict().items()
            ],
        },
    )


# --- projects -------------------------------------------------------------------------


def _status_history(project: CXProject) -> list[dict]:
    """Each change of status, oldest first, with who and when (one query)."""
    entries = list(
        project.history.select_related("history_user").order_by("history_date", "history_id")
    )
    changes, previous = [], None
    for entry in entries:
        if entry.status != previous:
            user = entry.history_user
            changes.append(
                {
                    "status": CXProject.Status(entry.status).label,
                    "from": None if previous is None else CXProject.Status(previous).label,
                    "when": entry.history_date,
                    "who": (user.get_full_name() or user.username) if user else "",
                }
            )
            previous = entry.status
    return list(reversed(changes))


@require_GET
@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_user(request.user, pk)
    visible_maps = permissions.visible_maps(request.user)
    ranked = prioritisation.portfolio_rank(
        projects=CXProject.objects.filter(pk=project.pk),
        others=permissions.visible_projects(request.user),
        visible_maps=visible_maps,
        method=_method(request),
    )
    score = ranked.projects[0]
    return render(
        request,
        "governance/project_detail.html",
        {
            "project": project,
            "score": score,
            "method": ranked.method,
            "steps": score.steps,
            "maps": score.maps,
            "pain_points": score.pain_points,
            "history": _status_history(project),
            "tags": list(project.tags.select_related("group")),
            "delivery": delivery_of([project])[project.pk],
            "breakdown": breakdown_html(score),
            "can_edit": permissions.can(request.user, Action.EDIT, project),
            "can_delete": permissions.can(request.user, Action.DELETE, project),
        },
    )


def _project_form_page(request: HttpRequest, project: CXProject | None) -> HttpResponse:
    user = request.user
    visible_maps = permissions.visible_maps(user)
    creating = project is None
    instance = project or CXProject(owner=user)
    may_change = editable_fields(user, instance, ["owner", "team"])
    kwargs = {
        "user": user,
        "visible_maps": visible_maps,
        "may_reassign": "owner" in may_change,
        "may_change_team": "team" in may_change,
        "instance": instance,
    }
    if creating:
        # "+ CX project" on a map page (?map=) or "Start a project" on home (?pain_point=)
        initial, refused = project_initial(request.GET, visible_maps=visible_maps)
        kwargs["initial"] = {"owner": user.pk, **initial}
        if refused and request.method == "GET":
            messages.warning(request, refused)
    if request.method == "POST":
        form = ProjectForm(request.POST, **kwargs)
        refresh = "refresh" in request.POST
        if not refresh and form.is_valid():
            saved_instance = form.save(commit=False)
            try:
                saved = project_save(
                    project=saved_instance,
                    maps=list(form.cleaned_data["maps"]),
                    steps=list(form.cleaned_data["steps"]),
                    pain_points=list(form.cleaned_data["pain_points"]),
                    by=user,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            except FieldsDenied as exc:
                _add_errors(form, exc.as_validation_error())
            else:
                verb = "Created" if creating else "Saved"
                messages.success(request, f"{verb} “{saved.title}”.")
                return redirect("project_detail", pk=saved.pk)
        elif refresh:
            form.errors.clear()  # choosing maps is not a failed save
    else:
        form = ProjectForm(**kwargs)
    return render(
        request,
        "governance/project_form.html",
        {"form": form, "project": project, "creating": creating},
    )


@require_http_methods(["GET", "POST"])
@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_project(request.user):
        raise PermissionDenied(CREATE_DENIED)
    return _project_form_page(request, None)


@require_http_methods(["GET", "POST"])
@login_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_project_for_user(request.user, pk, action=Action.EDIT)
    return _project_form_page(request, project)


@require_http_methods(["GET", "POST"])
@login_required
def project_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (the history keeps the project's record)."""
    project = get_project_for_user(request.user, pk, action=Action.DELETE)
    if request.method == "GET":
        return render(request, "governance/project_delete.html", {"project": project})
    title = project.title
    project_delete_service(project=project, by=request.user)
    messages.success(request, f"Deleted “{title}”.")
    return redirect("portfolio")

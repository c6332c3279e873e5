"""Browser pages of the balanced scorecard: a map's scorecard, where its editors rate
its qualitative factors, and the organisation's quadrant weights. The numbers and
rules come from ``governance.scoring``; these views only load, authorise and render."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.renderers import Jinja2 as Jinja2Renderer
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.dateformat import format as date_format
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods
from markupsafe import Markup, escape

from maps import map_page
from maps.models import JourneyMap, QualitativeFactor
from maps.selectors import Crumb, map_crumbs
from maps.services import VersionConflict
from maps.vocabulary import vocabulary_labels

from . import permissions, scorecard_reads, scoring
from .date_text import format_day
from .floatformat import page_floatformat
from .forms import FactorRatingForm, ScorecardWeightsForm
from .models import ScorecardWeights
from .permissions import Action
from .rating_forms import FilledRatingForm, unbound_rating_form

WEIGHTS_DENIED = "Only CX leadership and admins may change the scorecard weights."
_SLUG_SENTINEL = "scorecard-slug-sentinel"


def _add_errors(form, exc: ValidationError) -> None:
    """Field errors on their field; the rest (and those of hidden fields) above the form."""
    for name, errors in exc.message_dict.items():
        visible = name in form.fields and not form.fields[name].widget.is_hidden
        for error in errors:
            form.add_error(name if visible else None, error)


# Django's own Jinja2 widget templates (the same HTML as its DTL ones): the page is
# Jinja2, and a rating form's select of five options cost ~2 ms through the DTL renderer.
_WIDGET_RENDERER = Jinja2Renderer()


def _rating_form(data=None, *, factor_id, **kwargs) -> FactorRatingForm:
    """One form per factor on the page, so each needs its own element ids."""
    return FactorRatingForm(
        data, auto_id=f"id_factor{factor_id}_%s", renderer=_WIDGET_RENDERER, **kwargs
    )


def _rate(request: HttpRequest, journey_map: JourneyMap) -> FactorRatingForm | None:
    """Apply a rating from the POST; None when saved, else the form with its errors."""
    factor_id = "".join(c for c in request.POST.get("factor", "") if c.isdigit())[:20] or "x"
    form = _rating_form(request.POST, factor_id=factor_id)
    if not form.is_valid():
        return form
    factor = QualitativeFactor.objects.filter(
        map=journey_map, pk=form.cleaned_data["factor"]
    ).first()
    if factor is None:
        raise Http404("This map has no such factor.")
    try:
        scoring.factor_rate(
            factor=factor,
            rating=form.cleaned_data["rating"],
            note=form.cleaned_data["note"],
            by=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except VersionConflict as exc:
        # Keep what they typed, but on the current version: saving again is a choice
        # made after seeing the current rating, never a silent overwrite.
        data = request.POST.copy()
        data["version"] = str(exc.journey_map.version)
        form = _rating_form(data, factor_id=factor_id)
        form.is_valid()
        form.add_error(None, str(exc))
        journey_map.version = exc.journey_map.version
        return form
    except ValidationError as exc:
        _add_errors(form, exc)
        return form
    messages.success(request, f"Rated “{factor.name}” {factor.rating}/5.")
    return None


def _chart_data(report: scoring.ScorecardReport) -> dict:
    """What static/js/scorecard.js draws; the page shows the same numbers as tables."""
    kpis = {}
    for kpi in report.scorecard.kpis:
        points = report.kpi_trends.get(kpi.kpi_id, [])
        kpis[str(kpi.kpi_id)] = {
            "name": kpi.name,
            "unit": kpi.unit,
            "labels": [day.isoformat() for day, _ in points],
            "values": [value for _, value in points],
            "baseline": kpi.baseline,
            "target": kpi.target,
        }
    children = report.rollup.children if report.rollup else []
    return {
        "health": {
            "labels": [point.date.strftime("%b %Y") for point in report.trend],
            "values": [
                None if point.health is None else round(point.health, 1) for point in report.trend
            ],
            "healthyFrom": scoring.HEALTHY_FROM,
            "atRiskFrom": scoring.AT_RISK_FROM,
        },
        "kpis": kpis,
        "submaps": {
            "labels": [child.title for child in children],
            "values": [None if c.health is None else round(c.health, 1) for c in children],
            "statuses": [child.status for child in children],
        },
    }


def _scorecard_urls(journey_map: JourneyMap) -> dict[str, Any]:
    """The page's links: a scorecard's or a map's URL is ``prefix + slug + suffix`` (slugs
    are ASCII letters, digits, ``-`` and ``_``: nothing to quote), so a roll-up of
    hundreds of maps costs no reversal per row, and the page none (``_url_parts``)."""
    parts = _url_parts(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    head, tail = parts["map"]
    return {**parts, "map": f"{head}{journey_map.slug}{tail}"}


@functools.lru_cache(maxsize=8)
def _url_parts(*_key: Any) -> dict[str, Any]:
    """The reversals, once per process and URLconf (the key: what ``reverse`` depends
    on, as tests override it)."""

    def pair(name: str) -> tuple[str, str]:
        head, _, tail = reverse(name, args=[_SLUG_SENTINEL]).partition(_SLUG_SENTINEL)
        return head, tail

    return {
        "repository": reverse("maps:repository"),
        "map": pair("maps:detail"),
        "weights": reverse("governance:scorecard_weights"),
        "scorecard": pair("governance:scorecard"),
    }


DateFormatter = Callable[[date | datetime | None, str], str]


def _date_filter() -> DateFormatter:
    """Django's ``date`` filter (aware datetimes in the current time zone first), memoised
    for one page: the sparklines' labels repeat the same months for every KPI."""
    seen: dict[tuple[date | datetime, str], str] = {}
    language = get_language()

    def format_date(value: date | datetime | None, fmt: str) -> str:
        key = (value, fmt)
        found = seen.get(key)
        if found is None:
            if value is None or value == "":
                found = ""
            elif type(value) is date:
                found = format_day(value, fmt, language)
            else:
                found = date_format(template_localtime(value), fmt)
            seen[key] = found
        return found

    return format_date


def _kpi_row(
    kpi: scoring.KPIScore, trend: list[tuple[date, float]], format_date: DateFormatter
) -> tuple[scoring.KPIScore, int, Markup]:
    """A row of the KPI table: the KPI, its number of recent values and its sparkline's
    spoken list of them ("Jan 2026 7.5, Feb 2026 8"), escaped: the bytes the template's
    loop wrote, whose dozen outputs per value were 40 % of the content's time (#16)."""
    label = ", ".join(f"{format_date(day, 'M Y')} {scoring.number(value)}" for day, value in trend)
    return kpi, len(trend), escape(label)


def _render_content(format_date: DateFormatter, context: dict[str, Any]) -> SafeString:
    """The page's content block (``templates/jinja2/governance/scorecard.html``)."""
    labels = context["vocab"]

    def term(key: str) -> str:  # the {% term %} tag
        return labels.get(key, key.replace("_", " ").capitalize())

    template = map_page.environment.get_template("governance/scorecard.html")
    return mark_safe(  # the template escapes every value (autoescape)
        template.render(
            context,
            term=term,
            date=format_date,
            floatformat=page_floatformat(),
            # what Django printed for {{ at_risk_from }}: a localised float ("40.0")
            meter_low=localize(scoring.AT_RISK_FROM),
            meter_high=localize(scoring.HEALTHY_FROM),
        )
    )


def _map_for_page(user, slug: str, *, posted: bool) -> tuple[JourneyMap, list[Crumb], bool]:
    """What ``permissions.get_map_for_user`` (404 unless the user may see the map; for a
    POST 403 unless they may edit it), ``permissions.can_edit_map`` and ``map_crumbs``
    over ``visible_maps`` decide, as the map page does: the map and its ancestors in one
    precompiled query, the grants on them (when a decision needs them) in one more."""
    with permissions.grants_memoised(user):
        journey_map, ancestors = permissions.open_map_chain(
            user, scorecard_reads.map_and_ancestors(slug)
        )
        can_edit = permissions.can_edit_map(user, journey_map)
        if posted and not can_edit:
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])
    return journey_map, map_crumbs(journey_map, ancestors=ancestors), can_edit


@require_http_methods(["GET", "POST"])
@login_required
def scorecard(request: HttpRequest, slug: str) -> HttpResponse:
    user = request.user
    journey_map, crumbs, can_edit = _map_for_page(user, slug, posted=request.method == "POST")
    failed: FactorRatingForm | None = None
    if request.method == "POST":
        failed = _rate(request, journey_map)
        if failed is None:
            return redirect("governance:scorecard", slug=journey_map.slug)
    report = scorecard_reads.scorecard_report(
        journey_map, maps=functools.partial(permissions.visible_maps, user)
    )
    factor_rows = []
    failed_placed = False
    for factor in report.scorecard.factors:
        form: FactorRatingForm | FilledRatingForm | None = None
        if can_edit and failed is not None and failed.data.get("factor") == str(factor.factor_id):
            form, failed_placed = failed, True
        elif can_edit:
            form = unbound_rating_form(
                factor_id=factor.factor_id,
                rating=factor.rating,
                note=factor.note,
                version=journey_map.version,
                renderer=_WIDGET_RENDERER,
            )
        factor_rows.append((factor, form))
    format_date = _date_filter()
    kpi_rows = [
        _kpi_row(kpi, report.kpi_trends.get(kpi.kpi_id, []), format_date)
        for kpi in report.scorecard.kpis
    ]
    # read once for the content and base.html (the context processor's lazy one would
    # be a second query)
    vocab = vocabulary_labels()
    content = _render_content(
        format_date,
        {
            "map": journey_map,
            "vocab": vocab,
            "urls": _scorecard_urls(journey_map),
            "crumbs": crumbs,
            "report": report,
            "card": report.scorecard,
            "kpi_rows": kpi_rows,
            "kpi_trend_points": scoring.KPI_TREND_POINTS,
            "factor_rows": factor_rows,
            "failed_form": None if failed_placed else failed,
            "healthy_from": scoring.HEALTHY_FROM,
            "at_risk_from": scoring.AT_RISK_FROM,
            # one masked token for every rating form, as {% csrf_token %} gave
            "csrf_token": get_token(request) if can_edit else "",
        },
    )
    return render(
        request,
        "governance/scorecard.html",
        {
            "map": journey_map,
            "vocab": vocab,
            "content": content,
            "chart_data": _chart_data(report),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def scorecard_weights(request: HttpRequest) -> HttpResponse:
    """Everyone signed in sees the weights; CX leadership and admins change them."""
    may_change = permissions.can_change_weights(request.user)
    if request.method == "POST" and not may_change:
        raise PermissionDenied(WEIGHTS_DENIED)
    weights = scoring.current_weights()
    if request.method == "POST":
        form = ScorecardWeightsForm(request.POST)
        if form.is_valid():
            try:
                scoring.scorecard_weights_update(
                    by=request.user,
                    expected_version=form.cleaned_data["version"],
                    values={name: form.cleaned_data[name] for name in ScorecardWeights.FIELDS},
                )
            except ValidationError as exc:
                if "version" in exc.message_dict:  # changed meanwhile: rebase on the current
                    data = request.POST.copy()
                    data["version"] = str(scoring.current_weights().version)
                    form = ScorecardWeightsForm(data)
                    form.is_valid()
                _add_errors(form, exc)
            else:
                messages.success(
                    request, "Saved the quadrant weights; every journey's health uses them now."
                )
                return redirect("governance:scorecard_weights")
    else:
        form = ScorecardWeightsForm(initial={**weights.as_dict(), "version": weights.version})
    history = weights.history.select_related("history_user").order_by("-history_date")[:10]
    return render(
        request,
        "governance/scorecard_weights.html",
        {
            "form": form,
            "weights": weights,
            "may_change": may_change,
            "history": history,
            "rows": [(spec, weights.as_dict()[spec.key]) for spec in scoring.QUADRANTS],
        },
    )

"""The map grid rendered fast: the hot part of the map page, the print view's cards.

A typical map (49 steps, 248 lane items) has about 300 cards, each with its own edit,
delete and add controls. Rendered with Django templates that cost one ``{% include %}``
per card and control, one ``{% url %}`` reversal per link and a ``localize`` call per
number (87 % of the page's time, #16). Here the grid is one Jinja2 template
(``templates/jinja2/maps/grid.html``, compiled to Python once) fed with URLs built once
per map from a prefix and an id, and choice labels read from dicts; the controls carry
no repeated ``hx-*`` attributes or CSRF fields: the grid has one hidden form (``grid-post``,
CSRF token and map version) that every delete and move button submits through
``form=``/``formaction`` (so they work without JavaScript) and ``static/js/editor.js``
turns those clicks and the ``data-panel`` links into htmx requests.

Django templates include the result through ``{% map_grid %}``
(``maps/templatetags/journeyhub.py``), so ``maps/partials/grid.html`` stays the one
name every page (map page, htmx refresh, public share page) includes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from django.conf import settings
from django.db import models
from django.middleware.csrf import get_token
from django.template.defaultfilters import capfirst, floatformat, truncatechars
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from .content import BY_EDITOR
from .models import Evidence
from .models.vocabulary import DEFAULT_TERMS
from .vocabulary import level_name

TEMPLATE_DIR = Path(settings.BASE_DIR) / "templates" / "jinja2"

# any pk that can never be a slug's only digits: the URL's last occurrence of it is the pk
_SENTINEL = 987654321987


def url_prefix(name: str, *args: Any) -> tuple[str, str]:
    """``(prefix, suffix)`` of a URL whose last argument is a pk: ``prefix + pk + suffix``
    is ``reverse(name, args=[*args, pk])``, for one reversal per map instead of per card."""
    full = reverse(name, args=[*args, _SENTINEL])
    head, _, tail = full.rpartition(str(_SENTINEL))
    return head, tail


@cache
def _choice_labels(model: type[models.Model], field: str) -> dict[Any, str]:
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


def display(obj: models.Model, field: str) -> str:
    """``obj.get_<field>_display()`` without rebuilding the choices dict on every call."""
    value = getattr(obj, field)
    return _choice_labels(type(obj), field).get(value, value)


EMOTION_LABELS = {
    -2: "Very negative",
    -1: "Negative",
    0: "Neutral",
    1: "Positive",
    2: "Very positive",
}


def _float(value: Any, arg: str = "-1") -> str:
    return floatformat(value, arg)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=settings.DEBUG,
        undefined=jinja2.Undefined,  # a missing attribute renders empty, as in Django
    )
    env.globals.update(
        display=display,
        level_name=level_name,
        evidence_labels=dict(Evidence.choices),
        emotion_labels=EMOTION_LABELS,
    )
    env.filters.update(floatformat=_float, truncatechars=truncatechars, capfirst=capfirst)
    return env


environment = _environment()


def _map_urls(slug: str, *, editor: bool, relative: bool) -> dict[str, Any]:
    """Every URL the grid needs, reversed once per map. ``relative``: the ones under the
    map's own page are written relative to it (``edit/painpoint/7/``), a third of a
    control's bytes; only when the grid is shown on that page (or swapped into it)."""
    base = reverse("maps:detail", args=[slug])
    cut = len(base) if relative else 0

    def pair(name: str, *args: Any) -> tuple[str, str]:
        head, tail = url_prefix(name, *args)
        return head[cut:], tail

    kinds = sorted(BY_EDITOR)
    urls: dict[str, Any] = {
        # few (only items backed by research): kept absolute
        "evidence": {kind: url_prefix("maps:evidence", slug, kind) for kind in ("step", *kinds)},
        "events": reverse("maps:events", args=[slug]),
        "project": url_prefix("project_detail"),
    }
    if editor:
        urls |= {
            "edit": {kind: pair("maps:item-edit", slug, kind)[0] for kind in kinds},
            "delete": {kind: pair("maps:item-delete", slug, kind) for kind in kinds},
            "new": {kind: reverse("maps:item-new", args=[slug, kind])[cut:] for kind in kinds},
            "reorder": {
                kind: reverse("maps:reorder", args=[slug, kind])[cut:] for kind in ("stage", "step")
            },
            "measurements": pair("maps:kpi-measurements", slug),
            "create_submap": reverse("maps:new"),
            "measurements_import": reverse("maps:measurements-import", args=[slug]),
            "project_new": reverse("project_new"),
        }
    return urls


def _term(labels: Mapping[str, str] | None) -> Callable[[str], str]:
    """The ``{% term %}`` tag as a function: the organisation's name of a concept."""
    labels = DEFAULT_TERMS if labels is None else labels

    def term(key: str) -> str:
        return labels.get(key, key.replace("_", " ").capitalize())

    return term


def render_grid(context: Mapping[str, Any]) -> SafeString:
    """The grid of ``context["grid"]`` as the map page shows it (``maps/partials/grid.html``).

    Reads what the Django templates' context holds: ``map``, ``grid``, ``can_edit``,
    ``can_zoom``, ``vocab`` (the organisation's terms) and ``request``; every other key
    of that context is passed on to the template as it is."""
    journey_map = context["map"]
    labels = context.get("vocab")
    labels = DEFAULT_TERMS if labels is None else labels
    term = _term(labels)
    can_edit = bool(context.get("can_edit"))
    request = context.get("request")
    comment_counts = context.get("comment_counts")
    # the map page and the htmx requests under it (whose grid is swapped into that page)
    relative = request is not None and request.path.startswith(journey_map.get_absolute_url())

    data = {
        # the page's whole context first: what another part of the page adds for the
        # grid (e.g. counts keyed by item id) reaches the template without a change here
        **context,
        "map": journey_map,
        "grid": context["grid"],
        "can_edit": can_edit,
        "can_zoom": bool(context.get("can_zoom")),
        # "💬 n" links (governance.comments), only where the page passes counts
        "comment_counts": comment_counts,
        # asked once here, not per card: cards link only to items with comments, and
        # readers' cards carry their id for comments.js
        "has_comments": bool(comment_counts),
        "reader_ids": comment_counts is not None and not can_edit,
        "term": term,
        "labels": labels,
        "version": journey_map.version,
        "urls": _map_urls(journey_map.slug, editor=can_edit, relative=relative),
        # the CSRF cookie only for editors: the public share page sets no cookie
        "csrf_token": get_token(request) if can_edit and request is not None else "",
    }
    return mark_safe(environment.get_template("maps/grid.html").render(data))


def render_print(context: Mapping[str, Any]) -> SafeString:
    """The bands of step columns and the whole-map lanes of the print view
    (``maps/print.html``), from its context: ``map``, ``grid``, ``bands``, ``columns``,
    ``whole_map_lanes``, ``printed_at``, ``vocab``."""
    data = {
        **{key: context[key] for key in ("map", "grid", "bands", "columns", "whole_map_lanes")},
        "term": _term(context.get("vocab")),
        "printed_on": date_format(localtime(context["printed_at"]), "j M Y"),
    }
    return mark_safe(environment.get_template("maps/print_bands.html").render(data))

"""The repository page's rows (``/maps/``): the tree's lines and the filtered results,
rendered by Jinja2 (``templates/jinja2/maps/repository_rows.html``) like the map grid.
With Django's engine the few hundred rows of a loaded tree were three quarters of the
page's time (#16); the page itself stays a Django template and calls the tags in
``maps.templatetags.journeyhub``."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from .map_page import environment
from .models.vocabulary import DEFAULT_TERMS

TEMPLATE = "maps/repository_rows.html"


def _day(value: dt.datetime | dt.date | None) -> str:
    """``date_format(value, "j M Y")`` spelt out: Django's formatter built a
    ``DateFormat`` and parsed the format string per row (a tenth of the rows' time)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = localtime(value)
    return f"{value.day} {str(MONTHS_3[value.month]).title()} {value.year:04d}"


def whole_number(value: float | None) -> str:
    """``floatformat(value, 0)`` for the health shown in a row (half rounds up, as
    Django's filter does), without its Decimal and localisation detour per row."""
    if value is None:
        return ""
    return str(int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def _macros(context: dict[str, Any]):
    vocab = context.get("vocab") or DEFAULT_TERMS
    return environment.get_template(TEMPLATE).make_module(
        {
            "vocab": vocab,
            "terms": {
                key: vocab.get(key, key.capitalize()) for key in ("owner", "team", "persona")
            },
            "repository_url": context.get("repository_url", ""),
            "day": _day,
        }
    )


def tree_lines(context: dict[str, Any]) -> SafeString:
    """The loaded tree's lines (``lines``, ``tree`` of the context) as ``<li>`` items."""
    return mark_safe(str(_macros(context).tree_lines(context["lines"], context.get("tree"))))


def results(context: dict[str, Any]) -> SafeString:
    """The filtered maps (``results``) as a list of cards, each with its path."""
    return mark_safe(str(_macros(context).results(context["results"])))

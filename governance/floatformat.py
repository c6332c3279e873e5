"""Django's ``floatformat`` filter for the scorecard page's floats and ints, at a
quarter of its cost (#16).

The page formats about 35 numbers; Django's filter spent ~20 µs on each (the active
language read for each, three ``as_tuple`` calls, a ``Context`` and ``scaleb``, its
argument parsed every time), about a tenth of the page. ``page_floatformat()`` rounds the
same ``Decimal`` (the value's ``str``) the same way (half up, to the same places) and
localises with ``numberformat.format`` as ``formats.number_format`` does, the language and
its separators read once per page; the argument is parsed once per process. Anything
else (strings, Decimals, NaN, huge values, unusual arguments) goes to Django's filter.
tests/test_scorecard_floatformat.py holds the two equal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from django.template.defaultfilters import floatformat as django_floatformat
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.safestring import SafeString
from django.utils.translation import get_language

_MAX_PLACES = 6
_EXPONENTS = tuple(Decimal(1).scaleb(-places) for places in range(_MAX_PLACES + 1))
# Django rounds in a context of at least the current precision (28 by default) and enough
# for the digits; within the bounds below (< 1e15, <= 6 places) 64 always suffices, and
# the precision only decides whether quantize may fail, never its result.
_CONTEXT = Context(prec=64)
_LIMIT = 1e15


@functools.cache
def _spec(arg: Any) -> tuple[int, bool, bool] | None:
    """``floatformat``'s argument as (places, use_l10n, force_grouping); None for one
    left to Django."""
    force_grouping, use_l10n = False, True
    if isinstance(arg, str):
        if not arg:
            return None
        if arg[-2:] in {"gu", "ug"}:
            force_grouping, use_l10n, arg = True, False, arg[:-2] or -1
        elif arg[-1] == "g":
            force_grouping, arg = True, arg[:-1] or -1
        elif arg[-1] == "u":
            use_l10n, arg = False, arg[:-1] or -1
    try:
        places = int(arg)
    except (TypeError, ValueError):
        return None
    if abs(places) > _MAX_PLACES:
        return None
    return places, use_l10n, force_grouping


def page_floatformat() -> Callable[[Any, Any], SafeString | str]:
    """``django.template.defaultfilters.floatformat`` for one page's render: the same
    strings, with the active language and its separators read once (Django's
    ``number_format`` reads them for every number; the language alone cost 4 µs)."""
    language = get_language()
    separators: dict[bool, tuple[str, Any, str]] = {}

    def floatformat(value: Any, arg: Any = -1) -> SafeString | str:
        kind = type(value)
        spec = _spec(arg) if kind is float or kind is int else None
        # NaN fails both comparisons, infinities the bound: Django's filter for them
        if spec is None or not -_LIMIT < value < _LIMIT:
            return django_floatformat(value, arg)
        places, use_l10n, force_grouping = spec
        if places <= 0 and (kind is int or value.is_integer()):
            text, places = str(int(value)), 0
        else:
            rounded = Decimal(str(value)).quantize(_EXPONENTS[abs(places)], ROUND_HALF_UP, _CONTEXT)
            # as Django writes the rounded value: no exponent, no "-0"
            text = f"{rounded:f}"
            if not rounded and text[0] == "-":
                text = text[1:]
        if use_l10n not in separators:  # formats.number_format's three, for this language
            lang = language if use_l10n else None
            separators[use_l10n] = (
                get_format("DECIMAL_SEPARATOR", lang, use_l10n=use_l10n),
                get_format("NUMBER_GROUPING", lang, use_l10n=use_l10n),
                get_format("THOUSAND_SEPARATOR", lang, use_l10n=use_l10n),
            )
        decimal_sep, grouping, thousand_sep = separators[use_l10n]
        return SafeString(
            numberformat.format(
                text,
                decimal_sep,
                abs(places),
                grouping,
                thousand_sep,
                force_grouping=force_grouping,
                use_l10n=use_l10n,
            )
        )

    return floatformat

"""A plain date's text in a format, once per process (#16).

Django's ``date`` filter localises a date on every call (~25 µs); the portfolio writes a
hundred row dates a page and the scorecard the same months for every KPI. A plain date
has no time zone to apply, so its text depends only on the day, the format and the
active language: the scorecard's and portfolio's date formatters ask ``format_day``.
"""

from __future__ import annotations

import functools
from datetime import date

from django.utils.dateformat import format as date_format


@functools.lru_cache(maxsize=4096)
def format_day(day: date, fmt: str, language: str | None) -> str:
    """``django.utils.dateformat.format(day, fmt)`` (what the ``date`` filter writes for a
    plain date and a format string), kept per ``language`` (pass ``get_language()``)."""
    return date_format(day, fmt)

"""Template filters for event-log figures: durations in the unit that fits
(``maps.durations``, the same helper the import summary and the command use)."""

from __future__ import annotations

from django import template

from maps.durations import duration_text, duration_title

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """``{{ row.median_seconds|duration }}`` → "38 s", "4.5 min", "2.1 h", "3.2 d"."""
    return duration_text(seconds)


@register.filter
def duration_exact(seconds: float | None) -> str:
    """The exact figure, for a hover title."""
    return duration_title(seconds)

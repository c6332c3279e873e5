"""Durations as people read them: in the unit that fits ("38 s", "4.5 min", "2.1 h",
"3.2 d"), one helper for every page and API answer that shows how long something took
(the event-log funnel, the import summary, the map's funnel row)."""

from __future__ import annotations

import math

#: (unit, seconds in it, the largest value shown in it before the next unit takes over)
UNITS = (
    ("s", 1, 59.5),
    ("min", 60, 59.5),
    ("h", 3600, 23.5),
    ("d", 86400, math.inf),
)


def duration_text(seconds: float | None, empty: str = "—") -> str:
    """``seconds`` in the unit that fits: whole seconds below a minute, then minutes,
    hours and days with one decimal below 10 and whole numbers from 10 on (a rounded
    value that would read 60 s or 60 min moves to the next unit)."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return empty  # None, or a result without the figure
    seconds = max(seconds, 0.0)
    unit, size = next((unit, size) for unit, size, limit in UNITS if seconds / size < limit)
    value = seconds / size
    if unit == "s":
        return f"{round(value)} s"
    text = f"{value:.1f}".removesuffix(".0") if value < 9.95 else f"{round(value):,}"
    return f"{text} {unit}"


def duration_title(seconds: float | None) -> str:
    """The exact figure behind ``duration_text``, for a hover title."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return "no value"
    return f"{seconds:,.0f} seconds ({seconds / 3600:,.2f} hours)"

"""A TheyDo file into a map: detect its format, check it against the published contract,
plan what it changes, and apply that all or nothing.

Every interface (``manage.py import_theydo``, ``POST /api/maps/{id}/import/theydo/``, the
map's "Import from TheyDo" page) calls ``theydo_preview`` and ``theydo_import``; the caller
decides who may (the map's editors). Problems name their JSON path and nothing is written
while there is one. The plan is made again inside the import's transaction, with the map
locked, so two imports of one map never interleave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ..imports import ImportRefused, Problems
from ..models import JourneyMap
from . import items, metrics, responses, solutions, validation
from .plan import ImportPlan

Planner = Callable[..., ImportPlan]

PLANNERS: dict[str, Planner] = {
    metrics.FORMAT: metrics.plan,
    items.INSIGHTS: items.plan,
    items.OPPORTUNITIES: items.plan,
    solutions.FORMAT: solutions.plan,
    responses.SURVEY: responses.plan,
    responses.FEEDBACK: responses.plan,
}


def _plan(journey_map: JourneyMap, data: Any, by, only: set[str] | None) -> ImportPlan:
    problems = Problems()
    fmt = validation.validate(data, problems)
    if fmt is not None and only is not None and fmt not in only:
        problems.add(
            f"format: “{fmt}” cannot be imported here (only {', '.join(sorted(only))}): "
            "use the map's “Import from TheyDo” page or /api/maps/{id}/import/theydo/"
        )
    if problems or fmt is None:
        raise problems.refused()
    plan = PLANNERS[fmt](journey_map=journey_map, data=data, by=by, problems=problems)
    if problems:
        raise problems.refused()
    return plan


def theydo_preview(
    *, journey_map: JourneyMap, data: Any, by=None, only: set[str] | None = None
) -> ImportPlan:
    """What importing ``data`` would create, update and leave alone; writes nothing.
    Raises ``ImportRefused`` with every problem."""
    return _plan(journey_map, data, by, only)


def theydo_import(
    *, journey_map: JourneyMap, data: Any, by=None, only: set[str] | None = None
) -> ImportPlan:
    """Import ``data`` into ``journey_map``, all or nothing; returns what was done.
    ``only`` limits the accepted formats (the measurements page takes metrics only)."""
    try:
        with transaction.atomic():
            # one import of a map at a time (SQLite's IMMEDIATE transactions serialise anyway)
            list(JourneyMap.objects.select_for_update().filter(pk=journey_map.pk).values("pk"))
            plan = _plan(journey_map, data, by, only)
            plan.apply()
    except ValidationError as exc:  # a rule the checks could not foresee (a sum beyond 10^15)
        raise ImportRefused(
            [m for messages in exc.message_dict.values() for m in messages]
            if hasattr(exc, "error_dict")
            else exc.messages
        ) from None
    except IntegrityError as exc:
        raise ImportRefused(
            ["another change to this map's content arrived at the same moment; import again"]
        ) from exc
    return plan

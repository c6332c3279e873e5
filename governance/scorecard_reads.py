"""One map's scorecard page report, its stored history read cheaply (#16).

``scoring.health_trends`` and ``scoring.health_changes`` answer for many maps at once;
for a single map the ORM's building and compiling of their window query and four
correlated subqueries cost ~3 ms of the page, the database ~0.1 ms. ``health_history``
gives the same two answers from one hand-written query of at most ``months + 2`` rows,
each an index seek on the snapshots' unique ``(map, date)``. ``map_kpi_trends`` is
``scoring.kpi_trends`` for all of one map's KPIs, compiled once per process;
``map_scorecard`` is ``scoring.health_by_map`` for one map, its weights, KPIs and
ratings read by queries compiled once per process (the ORM's building and compiling of
those three small reads cost ~1 ms of the page, #16); ``scorecard_report`` is
``scoring.scorecard_report`` with all three, and no roll-up work for a map with nothing
below it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta

from django.db import connection
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from maps.models import KPI, JourneyMap, Measurement, QualitativeFactor
from maps.precompiled import Precompiled
from maps.selectors import map_chain, split_chain
from maps.sql import prepared

from . import scoring
from .models import ScorecardSnapshot, ScorecardWeights
from .scoring import KPI_TREND_POINTS, TREND_MONTHS, HealthChange, TrendPoint

# the map and its ancestors without ``with_people``: the page reads no owner or team
# (their two joins and six User/Group objects were a twentieth of the page)
_MAP_AND_ANCESTORS = Precompiled(map_chain, args=(str,))


def map_and_ancestors(slug: str) -> tuple[JourneyMap, list[JourneyMap]] | None:
    """The map ``slug`` names and its ancestors, top first, whoever
    may see them: one query compiled once per process, for the page's permission checks
    and breadcrumbs (building and compiling the map's, the edit grant's and the crumbs'
    queries was about a third of the page, #16). None for no such map."""
    return split_chain(_MAP_AND_ANCESTORS.objects(slug), slug)


def _month_start(day: date, back: int = 0) -> date:
    """The first day of the month ``back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _latest_in(part: int) -> str:
    """The latest snapshot of a map within a date range, tagged ``part``."""
    q = connection.ops.quote_name
    return (
        f"SELECT {part} AS {q('part')}, {q('day')}, {q('health')} FROM ("
        f"SELECT {q('date')} AS {q('day')}, {q('health')}"
        f" FROM {q(ScorecardSnapshot._meta.db_table)}"
        f" WHERE {q('map_id')} = %s AND {q('date')} >= %s AND {q('date')} <= %s"
        f" ORDER BY {q('date')} DESC LIMIT 1) {q(f'part{part}')}"
    )


@functools.cache
def _history_sql(parts: int, vendor: str) -> str:
    """``parts`` of ``_latest_in`` (the same text for every map: built once per process
    and vendor, whose quoting it uses)."""
    return " UNION ALL ".join(_latest_in(part) for part in range(parts))


def _as_date(value: date | str) -> date:
    # SQLite hands back the stored text when the column's declared type is lost
    # through the subquery; PostgreSQL a date
    return value if isinstance(value, date) else date.fromisoformat(value)


def health_history(
    map_id: int, *, months: int = TREND_MONTHS, today: date | None = None
) -> tuple[list[TrendPoint], HealthChange]:
    """``(scoring.health_trends([map_id])[map_id], scoring.health_changes([map_id])[map_id])``
    in one query: each of the last ``months`` months' last snapshot on or before
    ``today`` (oldest first), then the latest snapshot and the previous month's last."""
    today = today or timezone.localdate()
    ranges = []
    for back in range(months - 1, -1, -1):
        start = _month_start(today, back)
        end = _month_start(today, back - 1) - timedelta(days=1)
        ranges.append((start, min(end, today)))
    last_month_end = today.replace(day=1) - timedelta(days=1)
    ranges += [(date.min, today), (date.min, last_month_end)]
    adapt = connection.ops.adapt_datefield_value
    params: list = []
    for start, end in ranges:
        params += [map_id, adapt(start), adapt(end)]
    sql = _history_sql(len(ranges), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = {part: (_as_date(day), health) for part, day, health in cursor.fetchall()}
    trend = [
        TrendPoint(date=found[part][0], health=found[part][1])
        for part in range(months)
        if part in found
    ]
    current = found.get(months, (None, None))
    previous = found.get(months + 1, (None, None))
    return trend, HealthChange(
        current=current[1], current_date=current[0], previous=previous[1], previous_date=previous[0]
    )


@prepared()
def _kpi_trend_rows(map_id: int) -> QuerySet:
    # scoring.kpi_trends' query, the KPIs named by their map
    return (
        Measurement.objects.filter(kpi__map_id=map_id)
        .annotate(nth=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=F("date").desc()))
        .filter(nth__lte=KPI_TREND_POINTS)
        .order_by("kpi_id", "date")
        .values_list("kpi_id", "date", "value")
    )


def map_kpi_trends(map_id: int, kpi_ids: list[int]) -> dict[int, list[tuple[date, float]]]:
    """``scoring.kpi_trends(kpi_ids)`` where ``kpi_ids`` are all the KPIs of ``map_id``:
    the last ``KPI_TREND_POINTS`` measurements of each, oldest first (one query)."""
    trends: dict[int, list[tuple[date, float]]] = {pk: [] for pk in kpi_ids}
    for kpi_id, day, value in _kpi_trend_rows.rows(map_id):
        if kpi_id in trends:  # not a KPI added since the caller read them
            trends[kpi_id].append((day, value))
    return trends


# --- one map's scorecard: scoring.health_by_map's reads, compiled once -------------

_KPI_COLUMNS = (
    "pk", "map_id", "name", "unit", "perspective", "direction", "weight", "baseline",
    "target", "latest_value", "latest_date",
)  # fmt: skip
_FACTOR_COLUMNS = (
    "pk", "map_id", "name", "perspective", "rating", "note", "rated_at",
    "rated_by__username", "rated_by__first_name", "rated_by__last_name",
)  # fmt: skip


@functools.cache
def _weights_sql(vendor: str) -> tuple[str, tuple]:
    # scoring.current_weights' row (weights.singleton_get), the four weights only: the
    # same statement on every request (the pk is the constant SINGLETON_PK), compiled
    # once per vendor; floats need no converters
    query = ScorecardWeights.objects.filter(pk=ScorecardWeights.SINGLETON_PK)
    sql, params = query.values_list(*ScorecardWeights.FIELDS).query.sql_with_params()
    return sql, tuple(params)


@prepared()
def _kpi_rows(map_id: int) -> QuerySet:
    # scoring.health_by_map's KPI query (today's values) for one map
    return (
        KPI.objects.filter(map_id=map_id)
        .order_by("map_id", "name", "pk")
        .values_list(*_KPI_COLUMNS)
    )


@prepared()
def _factor_rows(map_id: int) -> QuerySet:
    # scoring.health_by_map's ratings query for one map
    return (
        QualitativeFactor.objects.filter(map_id=map_id)
        .order_by("map_id", "name", "pk")
        .values_list(*_FACTOR_COLUMNS)
    )


def current_weights() -> dict[str, float]:
    """``scoring.current_weights().as_dict()``: the saved weights, else the defaults."""
    sql, params = _weights_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return ScorecardWeights().as_dict()
    return dict(zip(ScorecardWeights.FIELDS, rows[0], strict=True))


def map_scorecard(map_id: int, *, weights: dict[str, float]) -> scoring.MapScorecard:
    """``scoring.health_by_map([map_id], weights=weights)[map_id]`` in two prepared
    queries: the same rows, scored by scoring's own functions."""
    kpis = [
        scoring._kpi_score(dict(zip(_KPI_COLUMNS, row, strict=True)))
        for row in _kpi_rows.rows(map_id)
    ]
    factors = []
    for row in _factor_rows.rows(map_id):
        pk, _, name, perspective, rating, note, rated_at, username, first, last = row
        # as health_by_map: a factor whose rater was deleted has no names at all
        full_name = " ".join(part for part in (first, last) if part)
        factors.append(
            scoring.FactorScore(
                factor_id=pk,
                name=name,
                perspective=perspective,
                rating=rating,
                note=note,
                rated_by=full_name or username or "",
                rated_at=rated_at,
            )
        )
    return scoring.score_map(map_id=map_id, kpis=kpis, factors=factors, weights=weights)


def scorecard_report(
    journey_map: JourneyMap,
    *,
    maps: QuerySet[JourneyMap] | Callable[[], QuerySet[JourneyMap]],
    today: date | None = None,
) -> scoring.ScorecardReport:
    """``scoring.scorecard_report`` (the same report) with its single-map reads done here:
    the weights, KPIs and ratings prepared once, the snapshots in one query instead of
    two, the KPI trends prepared once; a map with nothing below it (its own ``lft`` and
    ``rght``, as mptt's ``get_descendants`` decides) has no roll-up, without building and
    compiling the empty descendants query. ``maps``: the maps the viewer may see, or a
    function returning them, called only for a roll-up (building the visibility filter
    cost a leaf's page ~10 %)."""
    weights = current_weights()
    scorecard = map_scorecard(journey_map.pk, weights=weights)
    trend, change = health_history(journey_map.pk, today=today)
    kpi_ids = [kpi.kpi_id for kpi in scorecard.kpis]
    rollup = None
    if not journey_map.is_leaf_node():
        if callable(maps):
            maps = maps()
        rollup = scoring.subtree_rollup(journey_map, maps=maps, weights=weights)
    return scoring.ScorecardReport(
        journey_map=journey_map,
        scorecard=scorecard,
        rollup=rollup,
        trend=trend,
        change=change,
        kpi_trends=map_kpi_trends(journey_map.pk, kpi_ids) if kpi_ids else {},
    )

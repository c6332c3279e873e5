"""The balanced scorecard: how well each journey performs, and why.

This module owns every scorecard rule; pages, the API, the nightly task and the
management command only call it. All numbers come with their explanation.

KPI attainment
    Where the latest measurement lies between the baseline (0) and the target (1):
    ``(latest − baseline) ÷ (target − baseline)`` when higher is better and
    ``(baseline − latest) ÷ (baseline − target)`` when lower is better (the same line,
    read the other way), clamped to [0, 1] — beating the target counts as 100%,
    falling below the baseline as 0%. A KPI is *not scored*, and does not count,
    when it has no baseline, no target or no measurement, when target and baseline are
    equal, or when its direction contradicts them (lower is better but the target lies
    above the baseline); the reason is reported with it.

Quadrants
    quantitative/qualitative × business/customer, from ``KPI.perspective`` and
    ``QualitativeFactor.perspective``. A quantitative quadrant is the mean of its
    scored KPIs' attainment weighted by ``KPI.weight``, × 100. A qualitative quadrant
    is the mean rating of its factors mapped 1 → 0, 2 → 25, 3 → 50, 4 → 75, 5 → 100.
    A quadrant without a scored KPI (or without ratings) has no score.

Journey health
    The mean of the quadrants that have a score, weighted by the organisation's
    quadrant weights (``ScorecardWeights``, one row, edited by CX leadership). A
    quadrant with weight 0 is shown but does not count. No scored quadrant (or only
    zero-weight ones) → no health. Health is labelled *Healthy* from 70, *At risk*
    from 40 and *Critical* below 40 (``HEALTHY_FROM``, ``AT_RISK_FROM``).

Roll-up of a subtree
    A parent also shows the plain (unweighted) mean of the health of every map below
    it — children, grandchildren, all the way down — that the viewer may see and that
    has a health of its own. The map itself is not included (its own health is shown
    beside it), maps without a health are listed but do not count, and every map
    counts once whatever its size or depth.

Trend and drops
    ``ScorecardSnapshot`` rows (one per map and day, written nightly by
    ``governance.tasks.snapshot_scorecards`` and back-filled by ``manage.py
    snapshot_scorecards --backfill-months N``) give the health trend — one point per
    month, the month's last snapshot, for the last 12 months — and "dropped since last
    month": the change from the last snapshot of the previous calendar month.
    Back-filled snapshots use the measurements as they were at each month end, with
    today's KPI definitions and qualitative ratings (ratings have no dated history).

Stored health
    ``health_values`` (the numbers only: the tree, the portfolio, prioritisation) reads
    each map's four quadrant scores from ``MapHealth``, kept never stale by database
    triggers that bump a generation counter on every KPI, measurement or rating write
    (governance migrations 0012-0013); the stale or missing ones are computed here and
    the stale ones written back. Health itself is combined from them with today's weights, so a
    weights change needs nothing. The numbers are bit-identical to ``health_by_map``'s.

Query counts are fixed: ``health_by_map`` runs three queries for any number of maps
(two when given the weights), ``health_values`` one (two without the weights, plus one
write-back after edits), ``scorecard_report`` about nine for one map whatever its
number of KPIs, measurements, ratings and sub-maps.
"""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber, TruncMonth
from django.utils import timezone

from maps.models import KPI, JourneyMap, Measurement, Perspective, QualitativeFactor
from maps.services import content_save

from .models import ScorecardSnapshot, ScorecardWeights
from .weights import singleton_get, singleton_update

HEALTHY_FROM = 70.0
AT_RISK_FROM = 40.0
TREND_MONTHS = 12
KPI_TREND_POINTS = 12
SNAPSHOT_CHUNK = 2000  # maps scored per round of queries by the snapshot job

STATUS_LABELS = {
    "healthy": "Healthy",
    "at_risk": "At risk",
    "critical": "Critical",
    "not_scored": "Not scored",
}


@dataclass(frozen=True)
class QuadrantSpec:
    key: str  # also the ScorecardWeights and ScorecardSnapshot field name
    kind: str  # "quantitative" or "qualitative"
    perspective: str
    label: str


QUADRANTS: tuple[QuadrantSpec, ...] = (
    QuadrantSpec(
        "quantitative_business", "quantitative", Perspective.BUSINESS, "Quantitative · business"
    ),
    QuadrantSpec(
        "quantitative_customer", "quantitative", Perspective.CUSTOMER, "Quantitative · customer"
    ),
    QuadrantSpec(
        "qualitative_business", "qualitative", Perspective.BUSINESS, "Qualitative · business"
    ),
    QuadrantSpec(
        "qualitative_customer", "qualitative", Perspective.CUSTOMER, "Qualitative · customer"
    ),
)


def health_status(score: float | None) -> str:
    if score is None:
        return "not_scored"
    if score >= HEALTHY_FROM:
        return "healthy"
    if score >= AT_RISK_FROM:
        return "at_risk"
    return "critical"


def number(value: float | None) -> str:
    """A measured or configured number as people write it: 7, 7.5, 8.05, 48,000."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _pct(share: float) -> str:
    return f"{share * 100:.1f}".removesuffix(".0") + "%"


def _score(value: float) -> str:
    return f"{value:.1f}"


# --- the pieces of a scorecard ------------------------------------------------------


@dataclass(frozen=True)
class KPIScore:
    kpi_id: int
    name: str
    unit: str
    perspective: str
    direction: str
    weight: float
    baseline: float | None
    target: float | None
    latest: float | None
    latest_date: date | None
    attainment: float | None  # 0…1 after clamping; None: not scored
    raw_attainment: float | None  # before clamping: above 1 beats the target
    not_scored_reason: str = ""

    @property
    def scored(self) -> bool:
        return self.attainment is not None

    @property
    def attainment_percent(self) -> float | None:
        return None if self.attainment is None else self.attainment * 100

    @property
    def lower_is_better(self) -> bool:
        return self.direction == KPI.Direction.LOWER

    # as the explanation writes them: 9.5, not 9.50; 48,000
    @property
    def baseline_text(self) -> str:
        return number(self.baseline)

    @property
    def target_text(self) -> str:
        return number(self.target)

    @property
    def latest_text(self) -> str:
        return number(self.latest)

    @property
    def weight_text(self) -> str:
        return number(self.weight)

    @property
    def explanation(self) -> str:
        raw = self.raw_attainment
        if raw is None or self.latest_date is None:
            return f"Not scored: {self.not_scored_reason}."
        better = "lower" if self.lower_is_better else "higher"
        text = (
            f"Latest {number(self.latest)} on {self.latest_date:%Y-%m-%d}, between baseline "
            f"{number(self.baseline)} (0%) and target {number(self.target)} (100%), {better} is "
            f"better: {_pct(raw)}"
        )
        if raw > 1:
            text += ", counted as 100% (beyond the target)"
        elif raw < 0:
            text += ", counted as 0% (worse than the baseline)"
        return text + "."


@dataclass(frozen=True)
class FactorScore:
    factor_id: int
    name: str
    perspective: str
    rating: int
    note: str
    rated_by: str
    rated_at: datetime | None

    @property
    def score(self) -> float:
        """1 → 0, 2 → 25, 3 → 50, 4 → 75, 5 → 100."""
        return (self.rating - 1) * 25.0


class HealthStatus:
    """``status`` and ``status_label`` of whatever ``_status_score`` a result has."""

    @property
    def _status_score(self) -> float | None:
        return self.health

    @property
    def status(self) -> str:
        return health_status(self._status_score)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class QuadrantScore(HealthStatus):
    key: str
    kind: str
    perspective: str
    label: str
    weight: float  # the quadrant's weight in journey health
    score: float | None
    explanation: str
    kpis: list[KPIScore] = field(default_factory=list)
    factors: list[FactorScore] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.score is not None

    @property
    def counts(self) -> bool:
        return self.score is not None and self.weight > 0

    @property
    def _status_score(self) -> float | None:
        return self.score


@dataclass
class MapScorecard(HealthStatus):
    map_id: int
    health: float | None
    explanation: str
    quadrants: list[QuadrantScore]
    weights: dict[str, float]
    as_of: date | None = None

    @property
    def kpis(self) -> list[KPIScore]:
        return [kpi for q in self.quadrants for kpi in q.kpis]

    @property
    def factors(self) -> list[FactorScore]:
        return [factor for q in self.quadrants for factor in q.factors]

    def quadrant(self, key: str) -> QuadrantScore:
        return next(q for q in self.quadrants if q.key == key)


@dataclass(frozen=True)
class SubMapHealth(HealthStatus):
    map_id: int
    title: str
    slug: str
    parent_id: int | None
    level: int
    health: float | None


@dataclass
class Rollup(HealthStatus):
    health: float | None
    explanation: str
    maps: list[SubMapHealth]  # every visible map below, in tree order
    children: list[SubMapHealth]  # the direct sub-maps among them

    @property
    def scored_count(self) -> int:
        return sum(1 for m in self.maps if m.health is not None)


@dataclass(frozen=True)
class TrendPoint:
    date: date
    health: float | None


@dataclass(frozen=True)
class HealthChange:
    """The latest snapshot against the last snapshot of the previous calendar month."""

    current: float | None
    current_date: date | None
    previous: float | None
    previous_date: date | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def dropped(self) -> bool:
        return self.change is not None and self.change < 0


# --- the rules ---------------------------------------------------------------------


# The arithmetic below is shared by the explained scorecard (``score_map``) and the
# numbers-only path (``health_values``): the same operations in the same order, so both
# give bit-identical floats.
def _weighted(pairs: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(Σ weight × value, Σ weight), summed in the given order (lists, not generators:
    the same sums, a third faster over the 10,000 maps of health_values)."""
    return sum([w * v for w, v in pairs]), sum([w for w, _ in pairs])


def _mean_rating_score(ratings: Sequence[int]) -> float:
    """Ratings 1…5 mapped 1 → 0 … 5 → 100, then averaged."""
    return sum((r - 1) * 25.0 for r in ratings) / len(ratings)


def kpi_attainment(
    *, direction: str, baseline: float | None, target: float | None, value: float | None
) -> tuple[float | None, float | None, str]:
    """(attainment clamped to 0…1, unclamped attainment, reason when not scored)."""
    if target is None and baseline is None:
        return None, None, "no baseline and no target"
    if target is None:
        return None, None, "no target"
    if baseline is None:
        return None, None, "no baseline"
    if target == baseline:
        return None, None, "the target equals the baseline"
    lower = direction == KPI.Direction.LOWER
    if lower and target > baseline:
        return None, None, "lower is better, but the target is above the baseline"
    if not lower and target < baseline:
        return None, None, "higher is better, but the target is below the baseline"
    if value is None:
        return None, None, "no measurement yet"
    if lower:
        raw = (baseline - value) / (baseline - target)
    else:
        raw = (value - baseline) / (target - baseline)
    return min(1.0, max(0.0, raw)), raw, ""


def _kpi_score(row: dict) -> KPIScore:
    attainment, raw, reason = kpi_attainment(
        direction=row["direction"],
        baseline=row["baseline"],
        target=row["target"],
        value=row["latest_value"],
    )
    return KPIScore(
        kpi_id=row["pk"],
        name=row["name"],
        unit=row["unit"],
        perspective=row["perspective"],
        direction=row["direction"],
        weight=row["weight"],
        baseline=row["baseline"],
        target=row["target"],
        latest=row["latest_value"],
        latest_date=row["latest_date"],
        attainment=attainment,
        raw_attainment=raw,
        not_scored_reason=reason,
    )


def _quantitative(spec: QuadrantSpec, weight: float, kpis: list[KPIScore]) -> QuadrantScore:
    scored = [(k, k.attainment) for k in kpis if k.attainment is not None]
    skipped = [k for k in kpis if not k.scored]
    score: float | None
    if scored:
        weighted, total_weight = _weighted([(k.weight, a) for k, a in scored])
        score = weighted / total_weight * 100
        parts = ", ".join(f"{k.name} {_pct(a)} × {number(k.weight)}" for k, a in scored)
        noun = "KPI" if len(scored) == 1 else "KPIs"
        explanation = (
            f"Weighted mean of the attainment of {len(scored)} {noun} (attainment × weight): "
            f"{parts} → {_score(weighted * 100)} ÷ {number(total_weight)} (total weight) "
            f"= {_score(score)}."
        )
    else:
        score = None
        explanation = (
            "Not scored: no KPI of this perspective."
            if not kpis
            else "Not scored: no KPI of this perspective has a baseline, a target and a "
            "measurement."
        )
    if skipped:
        explanation += " Not counted: " + "; ".join(
            f"{k.name} ({k.not_scored_reason})" for k in skipped
        )
        explanation += "."
    return QuadrantScore(
        key=spec.key,
        kind=spec.kind,
        perspective=spec.perspective,
        label=spec.label,
        weight=weight,
        score=score,
        explanation=explanation,
        kpis=kpis,
    )


def _qualitative(spec: QuadrantSpec, weight: float, factors: list[FactorScore]) -> QuadrantScore:
    if factors:
        score = _mean_rating_score([f.rating for f in factors])
        parts = ", ".join(f"{f.name} {f.rating}/5 → {f.score:g}" for f in factors)
        noun = "rating" if len(factors) == 1 else "ratings"
        explanation = (
            f"Mean of {len(factors)} {noun} mapped 1 → 0 … 5 → 100: {parts} → {_score(score)}."
        )
    else:
        score = None
        explanation = "Not scored: nobody has rated a factor of this perspective yet."
    return QuadrantScore(
        key=spec.key,
        kind=spec.kind,
        perspective=spec.perspective,
        label=spec.label,
        weight=weight,
        score=score,
        explanation=explanation,
        factors=factors,
    )


def score_map(
    *,
    map_id: int,
    kpis: Sequence[KPIScore],
    factors: Sequence[FactorScore],
    weights: dict[str, float],
    as_of: date | None = None,
) -> MapScorecard:
    """A map's scorecard from its scored KPIs and ratings (no queries)."""
    quadrants = []
    for spec in QUADRANTS:
        if spec.kind == "quantitative":
            mine = [k for k in kpis if k.perspective == spec.perspective]
            quadrants.append(_quantitative(spec, weights[spec.key], mine))
        else:
            rated = [f for f in factors if f.perspective == spec.perspective]
            quadrants.append(_qualitative(spec, weights[spec.key], rated))
    counting = [(q, q.score) for q in quadrants if q.counts and q.score is not None]
    health: float | None
    if counting:
        weighted, total_weight = _weighted([(q.weight, score) for q, score in counting])
        health = weighted / total_weight
        parts = ", ".join(
            f"{q.label} {_score(score)} × {number(q.weight)}" for q, score in counting
        )
        explanation = (
            f"Weighted mean of {len(counting)} of 4 quadrants (score × quadrant weight): "
            f"{parts} → {_score(weighted)} ÷ {number(total_weight)} (total weight) "
            f"= {_score(health)}."
        )
    else:
        health = None
        explanation = "Not scored: no quadrant has a score" + (
            " with a weight above 0." if any(q.scored for q in quadrants) else "."
        )
    left_out = [q for q in quadrants if not q.counts]
    if left_out and counting:
        explanation += " Not counted: " + "; ".join(
            f"{q.label} ({'weight 0' if q.scored else 'no score'})" for q in left_out
        )
        explanation += "."
    return MapScorecard(
        map_id=map_id,
        health=health,
        explanation=explanation,
        quadrants=quadrants,
        weights=dict(weights),
        as_of=as_of,
    )


# --- reads -------------------------------------------------------------------------


def current_weights() -> ScorecardWeights:
    """The quadrant weights (one query); the defaults if nobody has saved any yet."""
    return singleton_get(ScorecardWeights)


def _ids(map_ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(pk) for pk in map_ids))


def health_by_map(
    map_ids: Iterable[int],
    *,
    as_of: date | None = None,
    weights: ScorecardWeights | dict[str, float] | None = None,
) -> dict[int, MapScorecard]:
    """The scorecard of every map in ``map_ids``, in three queries whatever their number
    (two when ``weights`` are given): the KPIs with their latest value (on or before
    ``as_of`` when given), the ratings, the weights. Maps without any data are present,
    with no health."""
    ids = _ids(map_ids)
    if weights is None:
        weights = current_weights()
    weight_map = weights.as_dict() if isinstance(weights, ScorecardWeights) else dict(weights)
    if not ids:
        return {}

    kpi_rows = KPI.objects.filter(map_id__in=ids)
    # today: KPI.latest_value/latest_date, kept by the database's triggers
    value, day = "latest_value", "latest_date"
    if as_of is not None:
        # the past (snapshots, backfills): the latest measurement on or before as_of
        latest = Measurement.objects.filter(kpi=OuterRef("pk"), date__lte=as_of)
        latest = latest.order_by("-date", "-pk")
        value, day = "value_as_of", "date_as_of"
        kpi_rows = kpi_rows.annotate(
            value_as_of=Subquery(latest.values("value")[:1]),
            date_as_of=Subquery(latest.values("date")[:1]),
        )
    kpi_rows = kpi_rows.order_by("map_id", "name", "pk").values(
        "pk", "map_id", "name", "unit", "perspective", "direction", "weight", "baseline",
        "target", value, day,
    )  # fmt: skip
    kpis: dict[int, list[KPIScore]] = defaultdict(list)
    for row in kpi_rows:
        row["latest_value"], row["latest_date"] = row.pop(value), row.pop(day)
        kpis[row["map_id"]].append(_kpi_score(row))

    factor_rows = (
        QualitativeFactor.objects.filter(map_id__in=ids)
        .order_by("map_id", "name", "pk")
        .values(
            "pk",
            "map_id",
            "name",
            "perspective",
            "rating",
            "note",
            "rated_at",
            "rated_by__username",
            "rated_by__first_name",
            "rated_by__last_name",
        )
    )
    factors: dict[int, list[FactorScore]] = defaultdict(list)
    for row in factor_rows:
        # a factor whose rater was deleted has no names at all (None, not "")
        names = (row["rated_by__first_name"], row["rated_by__last_name"])
        full_name = " ".join(name for name in names if name)
        factors[row["map_id"]].append(
            FactorScore(
                factor_id=row["pk"],
                name=row["name"],
                perspective=row["perspective"],
                rating=row["rating"],
                note=row["note"],
                rated_by=full_name or row["rated_by__username"] or "",
                rated_at=row["rated_at"],
            )
        )
    return {
        pk: score_map(
            map_id=pk,
            kpis=kpis.get(pk, []),
            factors=factors.get(pk, []),
            weights=weight_map,
            as_of=as_of,
        )
        for pk in ids
    }


#: above this many map ids, health_values sends them as one parameter (``_ids_sql``)
MANY_IDS = 500


# The stored quadrant scores (governance.MapHealth) in QUADRANTS order.
_QUADRANT_COLUMNS = tuple(spec.key for spec in QUADRANTS)
#: how long a read waits for the write lock to store what it computed before skipping
STORE_WAIT_MS = 50

# One statement, so one consistent snapshot on both databases: every requested map with
# its stored row (or NULLs when it has none), and the KPIs and ratings of the maps whose
# row is missing or stale. ``{ids}`` selects the map ids (one column).
_HEALTH_SQL = """
WITH ids(map_id) AS ({ids}),
stale(map_id) AS (
    SELECT ids.map_id FROM ids WHERE NOT EXISTS (
        SELECT 1 FROM governance_maphealth h
        WHERE h.map_id = ids.map_id AND h.computed_generation = h.generation
    )
)
SELECT 0, ids.map_id, NULL, NULL, h.quantitative_business, h.quantitative_customer,
    h.qualitative_business, h.qualitative_customer, h.generation, h.computed_generation,
    h.has_content, NULL, NULL
FROM ids LEFT JOIN governance_maphealth h ON h.map_id = ids.map_id
UNION ALL
SELECT 1, k.map_id, k.perspective, k.direction, k.weight, k.baseline, k.target,
    k.latest_value, NULL, NULL, NULL, k.name, k.id
FROM stale JOIN maps_kpi k ON k.map_id = stale.map_id
UNION ALL
SELECT 2, f.map_id, f.perspective, NULL, NULL, NULL, NULL, NULL, f.rating, NULL, NULL,
    f.name, f.id
FROM stale JOIN maps_qualitativefactor f ON f.map_id = stale.map_id
ORDER BY 1, 2, 12, 13
"""

# Only into an existing row, and only if no write bumped its generation since it was
# read: a write racing the computation leaves the row stale, never wrong. (Rows are
# created by the triggers, never here: nothing may bring back the row of a map being
# deleted.)
_STORE_SQL = (
    "UPDATE governance_maphealth SET {updates}, has_content = %s, computed_generation = %s "
    "WHERE map_id = %s AND generation = %s"
).format(updates=", ".join(f"{name} = %s" for name in _QUADRANT_COLUMNS))

QuadrantScores = tuple[float | None, float | None, float | None, float | None]


def _ids_sql(map_ids: list[int] | QuerySet) -> tuple[str, list]:
    """SQL selecting the map ids (one column) and its parameters. Above ``MANY_IDS``
    the ids are one parameter (a JSON array on SQLite, an array on PostgreSQL):
    preparing and binding thousands of parameters cost more than the query."""
    if isinstance(map_ids, QuerySet):
        sql, params = JourneyMap.objects.filter(pk__in=map_ids).values("pk").query.sql_with_params()
        return sql, list(params)
    # only ids of maps that exist: a stored row needs its map
    if len(map_ids) <= MANY_IDS:
        listed = ", ".join(["%s"] * len(map_ids))
        params: list = list(map_ids)
    elif connection.vendor == "postgresql":
        listed, params = "SELECT unnest(%s::bigint[])", [map_ids]
    else:
        listed, params = "SELECT value FROM json_each(%s)", [json.dumps(map_ids)]
    return f"SELECT id FROM maps_journeymap WHERE id IN ({listed})", params


def _quadrant_scores(
    kpis: Sequence[tuple[str, str, float, float | None, float | None, float | None]],
    ratings: Sequence[tuple[str, int]],
) -> QuadrantScores:
    """One map's four quadrant scores (no weights involved) from its KPIs (perspective,
    direction, weight, baseline, target, latest value) and ratings (perspective,
    rating), each in the order of health_by_map (name, pk)."""
    scores: list[float | None] = []
    for spec in QUADRANTS:
        if spec.kind == "quantitative":
            pairs = []
            for perspective, direction, weight, baseline, target, value in kpis:
                if perspective != spec.perspective:
                    continue
                attainment = kpi_attainment(
                    direction=direction, baseline=baseline, target=target, value=value
                )[0]
                if attainment is not None:
                    pairs.append((weight, attainment))
            if pairs:
                weighted, total = _weighted(pairs)
                scores.append(weighted / total * 100)
            else:
                scores.append(None)
        else:
            rated = [rating for perspective, rating in ratings if perspective == spec.perspective]
            scores.append(_mean_rating_score(rated) if rated else None)
    return (scores[0], scores[1], scores[2], scores[3])


def _counting(weight_map: dict[str, float]) -> list[tuple[int, float]]:
    """(index in QUADRANTS, weight) of the quadrants that count towards health: a zero
    weight is shown on the scorecard, but never counts (QuadrantScore.counts)."""
    return [
        (i, weight_map[spec.key]) for i, spec in enumerate(QUADRANTS) if weight_map[spec.key] > 0
    ]


def _health(scores: Sequence[float | None], counting: list[tuple[int, float]]) -> float | None:
    """The weighted mean of the scored quadrants that count, as score_map computes it:
    the same additions in the same order from 0 as ``_weighted``'s sums, in a loop (called
    for thousands of maps a page); counted weights are > 0, so a total is one only when a
    quadrant is scored."""
    weighted = total = 0
    for i, weight in counting:
        if (score := scores[i]) is not None:
            weighted += weight * score
            total += weight
    return weighted / total if total else None


def _store(rows: list[tuple]) -> None:
    """Write computed quadrant scores back, each only if its row's generation is still
    the one read before computing (a write racing the computation leaves the row stale,
    never wrong). Best effort: only outside a transaction (a read inside one must not
    write), waiting at most STORE_WAIT_MS for the write lock, and a failure is skipped
    (the next read computes again). Raw SQL: no history, no signals."""
    if not rows or connection.in_atomic_block:
        return
    sqlite = connection.vendor == "sqlite"
    raw = connection.connection
    if sqlite:
        # busy_timeout is the connection's setting, not a query: set on the driver's
        # connection for the length of this write only
        (previous,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute(f"PRAGMA busy_timeout = {STORE_WAIT_MS}")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if not sqlite:
                cursor.execute(f"SET LOCAL lock_timeout = '{STORE_WAIT_MS}ms'")
            cursor.executemany(_STORE_SQL, rows)
    except DatabaseError:
        pass  # locked: computed again next time
    finally:
        if sqlite:
            raw.execute(f"PRAGMA busy_timeout = {int(previous)}")


def health_values(
    map_ids: Iterable[int] | QuerySet,
    *,
    weights: ScorecardWeights | dict[str, float] | None = None,
) -> dict[int, float | None]:
    """Only the health of each map in ``map_ids``: the same number ``health_by_map``
    gives, without building explanations, for pages that show or rank by health alone
    (the tree, the portfolio). Given a queryset of map pks instead of ids, only maps
    with KPIs or ratings are in the result (read the others with ``.get``).

    Reads each map's stored quadrant scores (``MapHealth``); the maps whose row is
    missing or stale (a KPI, measurement or rating changed since) are computed from
    their KPIs and ratings, in the same query, and written back (``_store``). One query
    (two without ``weights``), plus the write-back when anything was recomputed."""
    if weights is None:
        weights = current_weights()
    weight_map = weights.as_dict() if isinstance(weights, ScorecardWeights) else dict(weights)
    ids: list[int] | QuerySet = map_ids if isinstance(map_ids, QuerySet) else _ids(map_ids)
    if not isinstance(ids, QuerySet) and not ids:
        return {}
    result, store = _read_health(ids, _counting(weight_map))
    _store(store)
    return result


def _read_health(
    ids: list[int] | QuerySet, counting: list[tuple[int, float]]
) -> tuple[dict[int, float | None], list[tuple]]:
    """(the health of each map, the rows to write back for the maps computed): one
    query, no writes."""
    ids_sql, params = _ids_sql(ids)
    with connection.cursor() as cursor:
        cursor.execute(_HEALTH_SQL.replace("{ids}", ids_sql), params)
        rows = cursor.fetchall()

    result: dict[int, float | None] = dict.fromkeys(ids) if not isinstance(ids, QuerySet) else {}
    stale: dict[int, int | None] = {}  # map id -> the generation read
    kpis: dict[int, list] = defaultdict(list)
    ratings: dict[int, list] = defaultdict(list)
    # columns: kind (0 stored row, 1 KPI, 2 rating), map id, perspective, direction,
    # 4 numbers (quadrant scores | weight, baseline, target, latest value), generation |
    # rating, computed generation, has content, name, pk
    for row in rows:
        kind, map_id = row[0], row[1]
        if kind == 1:
            kpis[map_id].append(row[2:8])
        elif kind == 2:
            ratings[map_id].append((row[2], row[8]))
        elif row[9] is not None and row[9] == row[8]:  # current: computed at its generation
            if row[10]:
                result[map_id] = _health(row[4:8], counting)
        else:
            stale[map_id] = row[8]  # None: no row (a map without KPIs or factors yet)
    store = []
    for map_id, generation in stale.items():
        has_content = map_id in kpis or map_id in ratings
        scores = _quadrant_scores(kpis.get(map_id, ()), ratings.get(map_id, ()))
        if has_content:
            result[map_id] = _health(scores, counting)
        if generation is not None:
            store.append((*scores, has_content, generation, map_id, generation))
    return result, store


def map_scorecard(
    journey_map: JourneyMap, *, weights: ScorecardWeights | None = None
) -> MapScorecard:
    """One map's scorecard (three queries, two with ``weights``)."""
    return health_by_map([journey_map.pk], weights=weights)[journey_map.pk]


def subtree_rollup(
    journey_map: JourneyMap,
    *,
    maps: QuerySet[JourneyMap],
    weights: ScorecardWeights | None = None,
) -> Rollup | None:
    """The mean health of the maps below ``journey_map`` among ``maps`` (the ones the
    viewer may see); None for a map with nothing visible below it. Three queries."""
    descendants = list(
        maps.filter(pk__in=journey_map.get_descendants().values("pk"))
        .order_by("tree_id", "lft")
        .values("pk", "title", "slug", "parent_id", "level")
    )
    if not descendants:
        return None
    scores = health_by_map([row["pk"] for row in descendants], weights=weights)
    below = [
        SubMapHealth(
            map_id=row["pk"],
            title=row["title"],
            slug=row["slug"],
            parent_id=row["parent_id"],
            level=row["level"],
            health=scores[row["pk"]].health,
        )
        for row in descendants
    ]
    scored = [(m, m.health) for m in below if m.health is not None]
    health: float | None
    if scored:
        health = sum(h for _, h in scored) / len(scored)
        explanation = (
            f"Mean health of the {len(scored)} of {len(below)} maps below this one that "
            "have a health: "
            + ", ".join(f"{m.title} {_score(h)}" for m, h in scored)
            + f" → {_score(health)}."
        )
    else:
        health = None
        explanation = f"Not scored: none of the {len(below)} maps below this one has a health."
    unscored = [m.title for m in below if m.health is None]
    if unscored and scored:
        explanation += " Not scored yet: " + ", ".join(unscored) + "."
    return Rollup(
        health=health,
        explanation=explanation,
        maps=below,
        children=[m for m in below if m.parent_id == journey_map.pk],
    )


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _months_back(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def health_trends(
    map_ids: Iterable[int], *, months: int = TREND_MONTHS, today: date | None = None
) -> dict[int, list[TrendPoint]]:
    """Health per month for the last ``months`` months (this one included), oldest
    first: each month's last snapshot. One query, at most ``months`` rows per map."""
    ids = _ids(map_ids)
    today = today or timezone.localdate()
    rows = (
        ScorecardSnapshot.objects.filter(
            map_id__in=ids, date__gte=_months_back(today, months - 1), date__lte=today
        )
        .annotate(
            nth=Window(
                RowNumber(),
                partition_by=[F("map_id"), TruncMonth("date")],
                order_by=F("date").desc(),
            )
        )
        .filter(nth=1)
        .order_by("map_id", "date")
        .values_list("map_id", "date", "health")
    )
    trends: dict[int, list[TrendPoint]] = {pk: [] for pk in ids}
    for map_id, day, health in rows:
        trends[map_id].append(TrendPoint(date=day, health=health))
    return trends


def health_changes(map_ids: Iterable[int], *, today: date | None = None) -> dict[int, HealthChange]:
    """Each map's latest snapshot and the last one of the previous calendar month
    (one query)."""
    ids = _ids(map_ids)
    today = today or timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    mine = ScorecardSnapshot.objects.filter(map=OuterRef("pk")).order_by("-date")
    current = mine.filter(date__lte=today)
    previous = mine.filter(date__lte=last_month_end)
    rows = (
        JourneyMap.objects.filter(pk__in=ids)
        .order_by()
        .annotate(
            current=Subquery(current.values("health")[:1]),
            current_date=Subquery(current.values("date")[:1]),
            previous=Subquery(previous.values("health")[:1]),
            previous_date=Subquery(previous.values("date")[:1]),
        )
        .values_list("pk", "current", "current_date", "previous", "previous_date")
    )
    changes = {pk: HealthChange(None, None, None, None) for pk in ids}
    for pk, *values in rows:
        changes[pk] = HealthChange(*values)
    return changes


def kpi_trends(
    kpi_ids: Iterable[int], *, points: int = KPI_TREND_POINTS
) -> dict[int, list[tuple[date, float]]]:
    """The last ``points`` measurements of each KPI, oldest first (one query)."""
    ids = _ids(kpi_ids)
    rows = (
        Measurement.objects.filter(kpi_id__in=ids)
        .annotate(nth=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=F("date").desc()))
        .filter(nth__lte=points)
        .order_by("kpi_id", "date")
        .values_list("kpi_id", "date", "value")
    )
    trends: dict[int, list[tuple[date, float]]] = {pk: [] for pk in ids}
    for kpi_id, day, value in rows:
        trends[kpi_id].append((day, value))
    return trends


@dataclass
class ScorecardReport:
    """Everything the scorecard page and ``/api/maps/{id}/scorecard/`` show."""

    journey_map: JourneyMap
    scorecard: MapScorecard
    rollup: Rollup | None
    trend: list[TrendPoint]
    change: HealthChange
    kpi_trends: dict[int, list[tuple[date, float]]]

    @property
    def change_since_last_month(self) -> float | None:
        """Today's health against the last snapshot of the previous month."""
        if self.scorecard.health is None or self.change.previous is None:
            return None
        return self.scorecard.health - self.change.previous


def scorecard_report(
    journey_map: JourneyMap, *, maps: QuerySet[JourneyMap], today: date | None = None
) -> ScorecardReport:
    """The live scorecard of one map with its roll-up over the ``maps`` below it that the
    viewer may see, its monthly trend, last month's value and every KPI's recent values.
    At most nine queries, whatever the amount of data."""
    weights = current_weights()
    scorecard = health_by_map([journey_map.pk], weights=weights)[journey_map.pk]
    rollup = subtree_rollup(journey_map, maps=maps, weights=weights)
    return ScorecardReport(
        journey_map=journey_map,
        scorecard=scorecard,
        rollup=rollup,
        trend=health_trends([journey_map.pk], today=today)[journey_map.pk],
        change=health_changes([journey_map.pk], today=today)[journey_map.pk],
        kpi_trends=kpi_trends([k.kpi_id for k in scorecard.kpis]) if scorecard.kpis else {},
    )


# --- writes ------------------------------------------------------------------------


SNAPSHOT_FIELDS = ("health", *(spec.key for spec in QUADRANTS), "computed_at")


def _snapshot_rows(scores: dict[int, MapScorecard], day: date) -> list[ScorecardSnapshot]:
    now = timezone.now()
    return [
        ScorecardSnapshot(
            map_id=pk,
            date=day,
            health=score.health,
            computed_at=now,
            **{q.key: q.score for q in score.quadrants},
        )
        for pk, score in scores.items()
    ]


@transaction.atomic
def scorecard_snapshot_all(*, day: date | None = None) -> int:
    """Store every map's scorecard as its snapshot of ``day`` (today by default),
    replacing one already taken that day. A past ``day`` is scored from the
    measurements as they were on that date; today's from the latest ones. A few queries
    per 2,000 maps. Returns the number of snapshots written."""
    today = timezone.localdate()
    day = day or today
    as_of = day if day < today else None
    weights = current_weights()
    maps = JourneyMap.objects.order_by("pk")
    if as_of is not None:  # a map gets no snapshots from before it existed
        maps = maps.filter(created_at__date__lte=as_of)
    map_ids = list(maps.values_list("pk", flat=True))
    written = 0
    for start in range(0, len(map_ids), SNAPSHOT_CHUNK):
        chunk = map_ids[start : start + SNAPSHOT_CHUNK]
        scores = health_by_map(chunk, as_of=as_of, weights=weights)
        ScorecardSnapshot.objects.bulk_create(
            _snapshot_rows(scores, day),
            update_conflicts=True,
            unique_fields=["map", "date"],
            update_fields=list(SNAPSHOT_FIELDS),
            batch_size=500,
        )
        written += len(chunk)
    return written


def backfill_dates(*, months: int, today: date | None = None) -> list[date]:
    """One date per month for ``months`` months, oldest first: the last day of each of
    the ``months − 1`` previous months, then today."""
    today = today or timezone.localdate()
    ends = [_month_end(_months_back(today, n)) for n in range(months - 1, 0, -1)]
    return [*ends, today] if months > 0 else []


def scorecard_backfill(*, months: int, today: date | None = None) -> list[date]:
    """Snapshots for the last ``months`` months, each computed from the measurements as
    they were at that month's end (today's from the latest). Idempotent."""
    today = today or timezone.localdate()
    dates = backfill_dates(months=months, today=today)
    for day in dates:
        scorecard_snapshot_all(day=day)
    return dates


def scorecard_weights_update(
    *, by, expected_version: int, values: dict[str, float]
) -> ScorecardWeights:
    """Change the quadrant weights (CX leadership and admins decide who may call this);
    version-checked like map edits."""
    return singleton_update(
        ScorecardWeights,
        by=by,
        expected_version=expected_version,
        values={name: values[name] for name in ScorecardWeights.FIELDS},
        noun="weights",
    )


def factor_rate(
    *, factor: QualitativeFactor, rating: int, note: str, by, expected_version: int
) -> QualitativeFactor:
    """Rate a qualitative factor of a map: an edit of the map's content, so it carries
    the map version and a stale one raises ``maps.services.VersionConflict``."""
    factor.rating = rating
    factor.note = note
    factor.rated_by = by
    factor.rated_at = timezone.now()
    return content_save(instance=factor, expected_version=expected_version, by=by)

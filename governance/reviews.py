"""Review cadence and staleness: confirming a map is current, and finding those that are not.

A map falls due for review ``review_every_days`` after its last review (or its
creation); ``JourneyMap.review_due_at`` stores that moment so "due" is an indexed
filter. Editing content does not count as a review: only ``map_mark_reviewed`` does.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce

from django.db import transaction
from django.db.models import (
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from maps.models import KPI, CXProject, JourneyMap, Measurement, PainPoint

from .models import Review, ScorecardWeights
from .scoring import QUADRANTS, current_weights, health_status

DUE_SOON_DAYS = 14
KPI_PERIOD_DAYS = 31  # a KPI without a measurement in this many days is missing its period


@transaction.atomic
def map_mark_reviewed(*, journey_map: JourneyMap, by, note: str = "") -> Review:
    """Record that ``by`` confirmed the map is current; its next review moves out."""
    now = timezone.now()
    review = Review.objects.create(map=journey_map, reviewed_by=by, reviewed_at=now, note=note)
    # A targeted UPDATE: a review must not write back stale copies of other fields, and
    # it is not a content edit, so the map's version stays where it is.
    due = now + timedelta(days=journey_map.review_every_days)
    JourneyMap.objects.filter(pk=journey_map.pk).update(last_reviewed_at=now, review_due_at=due)
    journey_map.last_reviewed_at, journey_map.review_due_at = now, due
    return review


def maps_due(maps: QuerySet[JourneyMap], *, within_days: int = 0, now=None) -> QuerySet:
    """Maps whose review is due now or within ``within_days``; archived maps never are."""
    now = now or timezone.now()
    return (
        maps.filter(review_due_at__lte=now + timedelta(days=within_days))
        .exclude(status=JourneyMap.Status.ARCHIVED)
        .select_related("owner", "team")
        .order_by("review_due_at", "pk")
    )


def pain_points_without_project(maps: QuerySet[JourneyMap]) -> QuerySet[PainPoint]:
    """The maps' pain points no CX project addresses, the worst first."""
    return (
        PainPoint.objects.filter(map__in=maps.values("pk"), projects__isnull=True)
        .annotate(priority=F("severity") * F("frequency"))
        .select_related("map", "step")
        .order_by("-priority", "-severity", "pk")
    )


def worst_first(pain_points: QuerySet[PainPoint], *, limit: int) -> list[PainPoint]:
    """The first ``limit`` of ``pain_points_without_project``: from the worst ones alone
    (severity and frequency 5, read by their index) when there are enough of them, as
    nothing ranks above them and among them the order is by id; else from all."""
    # within the band the order is by id alone: said so, the index on (severity,
    # frequency), whose entries follow the id, is read in order and stops at ``limit``
    # instead of sorting the whole band (58,000 rows with their maps at 10,000 maps)
    worst = list(pain_points.filter(severity=5, frequency=5).order_by("pk")[:limit])
    return worst if len(worst) == limit else list(pain_points[:limit])


def pain_points_without_project_count(maps: QuerySet[JourneyMap]) -> int:
    """How many of the maps' pain points no project addresses: all of them less the few
    that some project addresses, two counts on indexes instead of joining each pain
    point to the projects."""
    everything = PainPoint.objects.all()
    # read from the links, a few hundred rows, not from every pain point
    addressed = CXProject.pain_points.through.objects.all()
    if maps.query.has_filters():  # CX leadership: every map, no need to ask which
        everything = everything.filter(map__in=maps.values("pk"))
        # "+ 0": no index on the pain point's map, so the database reads the few links
        # and looks each pain point up, instead of walking every pain point of the maps
        # (160,000 for an owner of 1,000 maps) to probe the links
        addressed = addressed.alias(link_map=F("painpoint__map_id") + 0).filter(
            link_map__in=maps.values("pk")
        )
    return everything.count() - addressed.values("painpoint_id").distinct().count()


def kpis_missing_measurements(maps: QuerySet[JourneyMap], *, now=None) -> QuerySet[KPI]:
    """KPIs with no measurement in their period (the last ``KPI_PERIOD_DAYS`` days)."""
    today = (now or timezone.now()).date()
    # the latest date by the (kpi, date) index, one seek per KPI, rather than grouping
    # every measurement (1.2 million at 10,000 maps) to take its maximum
    latest = Measurement.objects.filter(kpi=OuterRef("pk")).order_by("-date").values("date")
    return (
        KPI.objects.filter(map__in=maps.values("pk"))
        .annotate(last_measured=Subquery(latest[:1]))
        .filter(
            Q(last_measured__isnull=True)
            | Q(last_measured__lt=today - timedelta(days=KPI_PERIOD_DAYS))
        )
        .select_related("map")
        .order_by(F("last_measured").asc(nulls_first=True), "pk")
    )


def kpis_missing(maps: QuerySet[JourneyMap], *, limit: int, now=None) -> tuple[list[KPI], int]:
    """The first ``limit`` of ``kpis_missing_measurements`` and how many there are, in
    one query, from each KPI's stored latest date (``KPI.latest_date``, kept exact by
    triggers on the measurements): "missing" is no date or one before the period's
    start, the same as no measurement since then, without a seek per KPI into the
    measurements (50,000 seeks, 38 ms, for leadership at 10,000 maps).

    The two kinds are read apart, each a range of an index in the list's order (never
    measured, by id; then measured before the period, by date and id): the first
    ``limit`` of each, of which the list keeps the first ``limit``, and each counted from
    the index. One condition "no date or an old one" was read as a whole (every KPI
    tested, or every missing one sorted with its map: 12 ms for leadership when none is
    missing, 100 ms when all 50,000 are)."""
    today = (now or timezone.now()).date()
    since = today - timedelta(days=KPI_PERIOD_DAYS)
    kpis = KPI.objects.all()
    if maps.query.has_filters():  # CX leadership: every map, no need to ask which
        kpis = kpis.filter(map__in=maps.values("pk"))
    never = kpis.filter(latest_date__isnull=True)
    before = kpis.filter(latest_date__lt=since)
    first = never.order_by("pk").values("pk")[:limit]
    then = before.order_by("latest_date", "pk").values("pk")[:limit]
    rows = list(
        KPI.objects.filter(Q(pk__in=first) | Q(pk__in=then))
        .annotate(last_measured=F("latest_date"), missing_count=_count(never) + _count(before))
        .select_related("map")
        .order_by(F("latest_date").asc(nulls_first=True), "pk")[:limit]
    )
    return rows, (rows[0].missing_count if rows else 0)


def _count(rows: QuerySet) -> Subquery:
    """``SELECT COUNT(*)`` of ``rows`` as a value (a plain aggregate, no GROUP BY)."""
    count = Func(Value(1), function="COUNT", output_field=IntegerField())  # not an aggregate
    return Subquery(rows.order_by().values(n=count), output_field=IntegerField())


def maps_handed_to(user, *, days: int = 30, now=None):
    """Recent ownership transfers to ``user`` (from the maps' history), newest first."""
    since = (now or timezone.now()) - timedelta(days=days)
    return (
        JourneyMap.history.filter(
            owner_id=user.pk,
            history_change_reason__startswith="Ownership transferred",
            history_date__gte=since,
        )
        .select_related("history_user")
        .order_by("-history_date")
    )


def overdue_share_by_owner(maps: QuerySet[JourneyMap], *, now=None) -> list[dict]:
    """Each owner's maps and how many of them are overdue, most overdue first."""
    now = now or timezone.now()
    rows = (
        maps.exclude(status=JourneyMap.Status.ARCHIVED)
        .order_by()
        .values("owner", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(total=Count("pk"), overdue=Count("pk", filter=Q(review_due_at__lte=now)))
        .order_by("-overdue", "owner__username")
    )
    result = []
    for row in rows:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        result.append(
            {
                "owner": name or row["owner__username"],
                "total": row["total"],
                "overdue": row["overdue"],
                "share": round(100 * row["overdue"] / row["total"]) if row["total"] else 0,
            }
        )
    return result


@dataclass(frozen=True)
class Coverage:
    """How much of a map's scorecard has data: the quadrants that count towards health
    (weight above 0) and, of those, the ones with a score and their share of the weight."""

    scored: int
    counting: int
    weight_share: float  # percent of the counting quadrants' total weight

    @property
    def full(self) -> bool:
        return self.scored >= self.counting

    def __str__(self) -> str:
        return f"{self.scored} of {self.counting} quadrants scored"


def _counting_quadrants(weights: dict[str, float]) -> list[str]:
    # with every weight at 0 (refused by the form, possible in old snapshots' terms)
    # no quadrant counts: measure coverage against all four rather than none
    return [spec.key for spec in QUADRANTS if weights[spec.key] > 0] or [
        spec.key for spec in QUADRANTS
    ]


def coverage_of(snapshot, weights: dict[str, float]) -> Coverage:
    """The coverage of a scorecard snapshot (or anything with the quadrant fields)."""
    counting = _counting_quadrants(weights)
    scored = [key for key in counting if getattr(snapshot, key) is not None]
    total = sum(weights[key] for key in counting)
    share = 100 * sum(weights[key] for key in scored) / total if total else 0.0
    return Coverage(scored=len(scored), counting=len(counting), weight_share=share)


def underperformers(
    maps: QuerySet[JourneyMap],
    *,
    limit: int = 5,
    today=None,
    weights: ScorecardWeights | None = None,
) -> dict:
    """From the nightly snapshots, among ``maps``: the lowest health of the fully scored
    maps, apart from it the lowest of the partly scored ones (a draft scored from one
    quadrant says little next to a map measured in all four), and the largest drops
    since the last snapshot of the previous month. Each snapshot carries its
    ``coverage``. Five queries (four with ``weights``): the weights, the day of the
    latest snapshots, each lowest list, the drops."""
    from .models import ScorecardSnapshot

    today = today or timezone.localdate()
    weight_map = (weights or current_weights()).as_dict()
    counting = _counting_quadrants(weight_map)
    # the nightly job scores every map on the same day: its latest run, read by the date
    # index, without asking which maps are visible (at 10,000 maps that check is most of
    # the cost of each query that makes it)
    latest_day = (
        ScorecardSnapshot.objects.filter(date__lte=today, health__isnull=False)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if latest_day is None:
        return {"lowest": [], "partial": [], "dropped": [], "as_of": None}
    last_month_end = latest_day.replace(day=1) - timedelta(days=1)
    previous = ScorecardSnapshot.objects.filter(
        map=OuterRef("map"), date__lte=last_month_end, health__isnull=False
    ).order_by("-date")
    # fully scored: every quadrant that counts has a score (plain IS NULL tests: cheaper
    # to build and run than counting the scored quadrants in SQL)
    full = Q(**{f"{key}__isnull": False for key in counting})
    partly = reduce(operator.or_, (Q(**{f"{key}__isnull": True}) for key in counting))
    current = ScorecardSnapshot.objects.filter(
        map__in=maps.values("pk"), date=latest_day, health__isnull=False
    ).select_related("map", "map__owner")
    # each lowest list a top-N sort of its own: a window ranking both groups in one
    # query sorts every map's snapshot in full, ten times the SQL at 10,000 maps
    lowest_first = ("health", "map__title", "pk")
    ranked = [
        *current.filter(full).order_by(*lowest_first)[:limit],
        *current.filter(partly).order_by(*lowest_first)[:limit],
    ]
    if not ranked:  # none of the maps has a snapshot of that day: nothing to show
        return {"lowest": [], "partial": [], "dropped": [], "as_of": None}
    dropped = list(
        current.annotate(previous=Subquery(previous.values("health")[:1]))
        .filter(previous__isnull=False, health__lt=F("previous"))
        .annotate(change=F("health") - F("previous"))
        .order_by("change", "map__title", "pk")[:limit]
    )
    for snapshot in (*ranked, *dropped):
        snapshot.status = health_status(snapshot.health)
        snapshot.coverage = coverage_of(snapshot, weight_map)
    return {
        "lowest": [s for s in ranked if s.coverage.full],
        "partial": [s for s in ranked if not s.coverage.full],
        "dropped": dropped,
        "as_of": latest_day,
    }

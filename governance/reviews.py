"""Review cadence and staleness: confirming a map is current, and finding those that are not.

A map falls due for review ``review_every_days`` after its last review (or its
creation); ``JourneyMap.review_due_at`` stores that moment so "due" is an indexed
filter. Editing content does not count as a review: only ``map_mark_reviewed`` does.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from maps.models import KPI, CXProject, JourneyMap, Measurement, PainPoint

from .models import Review
from .scoring import health_status

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
    worst = list(pain_points.filter(severity=5, frequency=5)[:limit])
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
        addressed = addressed.filter(painpoint__map__in=maps.values("pk"))
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


def underperformers(maps: QuerySet[JourneyMap], *, limit: int = 5, today=None) -> dict:
    """From the nightly snapshots: the lowest health, and the largest drops since the
    last snapshot of the previous month, among ``maps`` (three queries)."""
    from .models import ScorecardSnapshot

    today = today or timezone.localdate()
    visible = ScorecardSnapshot.objects.filter(map__in=maps.values("pk"), health__isnull=False)
    latest_day = visible.filter(date__lte=today).aggregate(d=Max("date"))["d"]
    if latest_day is None:
        return {"lowest": [], "dropped": [], "as_of": None}
    last_month_end = latest_day.replace(day=1) - timedelta(days=1)
    previous = ScorecardSnapshot.objects.filter(
        map=OuterRef("map"), date__lte=last_month_end, health__isnull=False
    ).order_by("-date")
    current = visible.filter(date=latest_day).select_related("map", "map__owner")
    lowest = list(current.order_by("health", "map__title")[:limit])
    dropped = list(
        current.annotate(previous=Subquery(previous.values("health")[:1]))
        .filter(previous__isnull=False, health__lt=F("previous"))
        .annotate(change=F("health") - F("previous"))
        .order_by("change", "map__title")[:limit]
    )
    for snapshot in (*lowest, *dropped):
        snapshot.status = health_status(snapshot.health)
    return {"lowest": lowest, "dropped": dropped, "as_of": latest_day}

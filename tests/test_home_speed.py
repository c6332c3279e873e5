"""The home page's shortcuts give what the plain querysets give: the worst pain points
without a project, how many there are, and the KPIs missing their period."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from governance import reviews
from maps.models import JourneyMap, PainPoint
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pains(owner, other_owner):
    mine = JourneyMapFactory(owner=owner)
    theirs = JourneyMapFactory(owner=other_owner)
    for i in range(12):  # 12 at 5×5 on mine, one of them addressed
        PainPointFactory(map=mine, title=f"Worst {i}", severity=5, frequency=5)
    addressed = PainPointFactory(map=mine, severity=5, frequency=5)
    CXProjectFactory(owner=owner, status="cancelled", pain_points=[addressed])
    PainPointFactory(map=mine, severity=4, frequency=5)
    PainPointFactory(map=theirs, severity=5, frequency=4)
    PainPointFactory(map=theirs, severity=2, frequency=2)
    return mine, theirs


@pytest.mark.parametrize("limit", [3, 10, 11, 12, 20])
def test_the_worst_first_are_the_first_of_the_ordered_list(pains, owner, limit):
    for scope in (JourneyMap.objects.all(), JourneyMap.objects.filter(owner=owner)):
        unaddressed = reviews.pain_points_without_project(scope)
        assert reviews.worst_first(unaddressed, limit=limit) == list(unaddressed[:limit])


def test_the_count_is_the_count_of_the_queryset(pains, owner, other_owner):
    for scope in (
        JourneyMap.objects.all(),
        JourneyMap.objects.filter(owner=owner),
        JourneyMap.objects.filter(owner=other_owner),
    ):
        expected = reviews.pain_points_without_project(scope).count()
        assert reviews.pain_points_without_project_count(scope) == expected
    # 12 worst + 4×5 of mine, 5×4 and 2×2 of theirs; the one with a project (even a
    # cancelled one) is left out, as the list leaves it out
    assert reviews.pain_points_without_project_count(JourneyMap.objects.all()) == 15
    assert PainPoint.objects.count() == 16


def test_kpis_missing_their_period_are_those_without_a_recent_measurement(owner):
    journey = JourneyMapFactory(owner=owner)
    now = timezone.now()
    fresh, stale, _never = (KPIFactory(map=journey, name=n) for n in ("Fresh", "Stale", "Never"))
    MeasurementFactory(kpi=fresh, date=now.date() - dt.timedelta(days=3))
    MeasurementFactory(kpi=fresh, date=now.date() - dt.timedelta(days=90))
    MeasurementFactory(kpi=stale, date=now.date() - dt.timedelta(days=40))
    MeasurementFactory(kpi=stale, date=now.date() - dt.timedelta(days=400))
    missing = list(reviews.kpis_missing_measurements(JourneyMap.objects.all(), now=now))
    assert [k.name for k in missing] == ["Never", "Stale"]  # never measured first
    assert missing[1].last_measured == now.date() - dt.timedelta(days=40)
    # the one-query form, for the whole repository (leadership: no map filter) and a scope
    first, count = reviews.kpis_missing(JourneyMap.objects.all(), limit=10, now=now)
    assert ([k.name for k in first], count) == (["Never", "Stale"], 2)
    other = JourneyMapFactory(owner=owner, status="draft")
    KPIFactory(map=other, name="Other never")
    everywhere, count = reviews.kpis_missing(JourneyMap.objects.all(), limit=1, now=now)
    assert (len(everywhere), count) == (1, 3)
    scoped, count = reviews.kpis_missing(
        JourneyMap.objects.filter(pk=journey.pk), limit=10, now=now
    )
    assert ([k.name for k in scoped], count) == (["Never", "Stale"], 2)
    assert reviews.kpis_missing(JourneyMap.objects.none(), limit=10, now=now) == ([], 0)


def test_each_owners_overdue_share_counts_only_their_unarchived_maps(owner, other_owner):
    past = timezone.now() - dt.timedelta(days=400)
    for status, created in (("published", past), ("draft", timezone.now()), ("archived", past)):
        JourneyMapFactory(owner=owner, status=status, created_at=created)
    JourneyMapFactory(owner=other_owner, created_at=past)
    shares = reviews.overdue_share_by_owner(JourneyMap.objects.all())
    assert [(s["owner"], s["total"], s["overdue"], s["share"]) for s in shares] == [
        ("Olivia Owens", 2, 1, 50),
        ("Omar Olsen", 1, 1, 100),
    ]


def test_the_stored_latest_date_finds_the_kpis_the_measurements_would(owner, other_owner):
    """kpis_missing reads KPI.latest_date: after every kind of measurement write it lists
    the same KPIs, in the same order, as the queryset over the measurements."""
    from maps.models import KPI, Measurement

    now = timezone.now()
    today = now.date()
    mine, theirs = JourneyMapFactory(owner=owner), JourneyMapFactory(owner=other_owner)
    kpis = [KPIFactory(map=(mine, theirs)[i % 2], name=f"K{i}") for i in range(8)]
    for i, kpi in enumerate(kpis[:6]):
        MeasurementFactory(kpi=kpi, date=today - dt.timedelta(days=10 + 20 * i))

    def same(scope=None):
        for maps in (JourneyMap.objects.all(), JourneyMap.objects.filter(owner=owner)):
            expected = list(reviews.kpis_missing_measurements(maps, now=now))
            rows, count = reviews.kpis_missing(maps, limit=50, now=now)
            assert [(k.pk, k.last_measured) for k in rows] == [
                (k.pk, k.last_measured) for k in expected
            ]
            assert count == len(expected)

    same()
    MeasurementFactory(kpi=kpis[5], date=today)  # a fresh one: no longer missing
    same()
    Measurement.objects.filter(kpi=kpis[1]).update(date=today - dt.timedelta(days=365))
    same()
    Measurement.objects.filter(kpi=kpis[0]).delete()  # never measured again
    same()
    Measurement.objects.filter(kpi=kpis[2]).update(kpi=kpis[6])  # moved to another KPI
    same()
    KPI.objects.filter(pk=kpis[7].pk).delete()
    same()


def shown_unaddressed_count(client, user) -> int:
    client.force_login(user)
    page = client.get("/").text
    match = re.search(
        r'id="gaps-title">Pain points with no project <span class="count">(\d+)<', page
    )
    assert match, "the page shows the count"
    return int(match.group(1))


def test_the_page_shows_the_count_of_the_queryset_after_every_kind_of_write(
    client, pains, owner, other_owner, team_member, leader
):
    """The page sums the stored per-map counts (MapPainPointCounts); it shows what the
    queryset over the pain points counts, for an owner, another owner, a team member
    who owns a map and leadership, after each kind of write."""
    mine, theirs = pains
    tess_map = JourneyMapFactory(owner=team_member, status="draft")
    PainPointFactory(map=tess_map)
    extra = JourneyMapFactory(owner=owner, status="archived")
    CXProjectFactory(owner=owner, pain_points=[PainPointFactory(map=extra) for _ in range(3)])
    PainPointFactory(map=extra)

    def same():
        for user, scope in (
            (owner, JourneyMap.objects.filter(owner=owner)),
            (other_owner, JourneyMap.objects.filter(owner=other_owner)),
            (team_member, JourneyMap.objects.filter(owner=team_member)),
            (leader, JourneyMap.objects.all()),
        ):
            expected = reviews.pain_points_without_project(scope).count()
            assert shown_unaddressed_count(client, user) == expected

    same()
    project = CXProjectFactory(owner=owner, pain_points=list(mine.pain_points.all()[:3]))
    same()
    PainPoint.objects.filter(map=theirs).update(map=tess_map)  # moved to another owner
    same()
    project.pain_points.remove(mine.pain_points.first())
    PainPoint.objects.filter(map=mine, severity=4).delete()
    same()
    project.delete()
    extra.delete()
    same()


def test_an_owners_own_maps_are_the_maps_she_sees_and_owns(owner, other_owner, team, team_member):
    """home._own_maps reads an owner's maps by the owner alone: the visibility rule
    lets every active owner see all of hers, whatever their status, team or grants."""
    from governance import home, permissions

    for status in ("published", "draft", "archived"):
        JourneyMapFactory(owner=owner, status=status)
        JourneyMapFactory(owner=owner, status=status, team=team)
        JourneyMapFactory(owner=other_owner, status=status)
    JourneyMapFactory(owner=team_member, status="draft", team=team)
    for user in (owner, other_owner, team_member):
        visible = permissions.visible_maps(user)
        assert set(home._own_maps(user, visible)) == set(visible.filter(owner=user))
    assert home._own_maps(owner, permissions.visible_maps(owner)).count() == 6
    owner.is_active = False
    visible = permissions.visible_maps(owner)
    assert list(home._own_maps(owner, visible)) == []


def test_the_missing_kpis_list_joins_the_never_measured_and_the_stale_at_every_limit(
    owner, other_owner
):
    """kpis_missing reads the never measured and the stale KPIs apart, the first
    ``limit`` of each: for every limit the list and count equal the plain queryset's,
    whichever kind runs out first, for leadership and for one owner's maps."""
    now = timezone.now()
    today = now.date()
    mine, theirs = JourneyMapFactory(owner=owner), JourneyMapFactory(owner=other_owner)
    for i in range(12):
        kpi = KPIFactory(map=(mine, theirs)[i % 3 == 0], name=f"K{i:02}")
        if i % 4:  # 0, 4, 8 never measured; the others 35 .. 365 days ago or fresh
            days = (5, 35, 400, 60, 35, 3, 90, 200, 35, 1, 120, 45)[i]
            MeasurementFactory(kpi=kpi, date=today - dt.timedelta(days=days))
    for maps in (JourneyMap.objects.all(), JourneyMap.objects.filter(owner=owner)):
        expected = list(reviews.kpis_missing_measurements(maps, now=now))
        assert any(k.last_measured is None for k in expected)
        assert any(k.last_measured is not None for k in expected)
        for limit in range(1, len(expected) + 2):
            rows, count = reviews.kpis_missing(maps, limit=limit, now=now)
            assert [(k.pk, k.last_measured) for k in rows] == [
                (k.pk, k.last_measured) for k in expected[:limit]
            ]
            assert count == len(expected)

"""The scorecard page's cheap reads give the answers of the general ones (#16): one map's
snapshot history in one hand-written query (``governance.scorecard_reads``), its KPI
trends prepared once, and the map gate deciding visibility on the loaded row
(``permissions.get_map_for_user``) exactly as ``visible_maps`` does. Runs on SQLite here
and on PostgreSQL under ``make test-postgres``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from governance import permissions, scorecard_reads, scoring
from governance.models import ScorecardSnapshot
from maps.models import JourneyMap, Perspective
from tests.factories import (
    GroupFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    QualitativeFactorFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def snapshot(journey_map, day: date, health: float | None) -> ScorecardSnapshot:
    return ScorecardSnapshot.objects.create(map=journey_map, date=day, health=health)


@pytest.fixture
def histories(team_map, other_owner):
    """Three maps: one with 20 months of irregular snapshots (several a month, months
    without any, missing healths, a lone leap day long before), one whose snapshots are
    all older than a year, one without any. The days asked about start before the
    snapshots and end after them."""
    busy = team_map
    day, health = date(2025, 1, 3), 10.0
    while day <= date(2026, 8, 20):
        if day.month not in (4, 9):  # months without any snapshot
            snapshot(busy, day, None if day.day == 13 else health)
        day += timedelta(days=5 if day.month % 3 else 17)
        health = (health * 7 + 3) % 100
    snapshot(busy, date(2024, 2, 29), 55.5)  # a leap day, long before the rest
    old = JourneyMapFactory(owner=other_owner)
    snapshot(old, date(2023, 6, 30), 41.0)
    snapshot(old, date(2023, 12, 31), None)
    empty = JourneyMapFactory(owner=other_owner)
    return [busy, old, empty]


def days_to_ask() -> list[date]:
    """Every fourth day over two years, and each month's first and last day."""
    days = {date(2024, 12, 1) + timedelta(days=n) for n in range(0, 760, 4)}
    for index in range(2024 * 12 + 11, 2026 * 12 + 11):
        first = date(index // 12, index % 12 + 1, 1)
        days |= {first, first - timedelta(days=1)}
    return sorted(days)


def test_one_maps_history_is_the_trend_and_the_change_of_the_general_reads(histories):
    for journey_map in histories:
        for today in days_to_ask():
            trend, change = scorecard_reads.health_history(journey_map.pk, today=today)
            assert trend == scoring.health_trends([journey_map.pk], today=today)[journey_map.pk]
            assert change == scoring.health_changes([journey_map.pk], today=today)[journey_map.pk]


def test_the_history_has_real_dates_a_missing_health_and_nothing_from_after_today(team_map):
    snapshot(team_map, date(2026, 5, 31), None)
    snapshot(team_map, date(2026, 6, 1), 61.5)
    snapshot(team_map, date(2026, 6, 20), 64.0)  # after "today"
    trend, change = scorecard_reads.health_history(team_map.pk, today=date(2026, 6, 10))
    assert [(p.date, p.health) for p in trend] == [
        (date(2026, 5, 31), None),
        (date(2026, 6, 1), 61.5),
    ]
    assert change == scoring.HealthChange(61.5, date(2026, 6, 1), None, date(2026, 5, 31))


def test_the_history_is_one_query_whatever_the_number_of_snapshots(histories):
    with CaptureQueriesContext(connection) as queries:
        scorecard_reads.health_history(histories[0].pk, today=date(2026, 3, 15))
    assert len(queries) == 1


def test_one_maps_kpi_trends_are_the_general_ones_and_leave_other_maps_out(team_map):
    long = KPIFactory(map=team_map, name="Long")
    for n in range(15):  # more than the twelve points shown
        MeasurementFactory(kpi=long, date=date(2025, 1, 1) + timedelta(days=30 * n), value=n)
    short = KPIFactory(map=team_map, name="Short")
    MeasurementFactory(kpi=short, date=date(2026, 2, 2), value=7.5)
    silent = KPIFactory(map=team_map, name="Silent")
    elsewhere = KPIFactory(name="Elsewhere")
    MeasurementFactory(kpi=elsewhere, date=date(2026, 2, 2), value=1)
    ids = [long.pk, short.pk, silent.pk]
    trends = scorecard_reads.map_kpi_trends(team_map.pk, ids)
    assert trends == scoring.kpi_trends(ids)
    assert [value for _, value in trends[long.pk]] == list(range(3, 15))
    assert trends[silent.pk] == [] and elsewhere.pk not in trends


def test_the_page_report_equals_the_general_report(team_map, owner, other_owner):
    kpi = KPIFactory(map=team_map, perspective=Perspective.BUSINESS, baseline=20, target=40)
    MeasurementFactory(kpi=kpi, date=date(2026, 1, 1), value=25)
    MeasurementFactory(kpi=kpi, date=date(2026, 2, 1), value=30)
    QualitativeFactorFactory(map=team_map, perspective=Perspective.CUSTOMER, rating=4)
    child = JourneyMapFactory(owner=owner, parent=team_map)
    QualitativeFactorFactory(map=child, rating=2)
    JourneyMapFactory(owner=other_owner, parent=team_map, status=JourneyMap.Status.DRAFT)
    snapshot(team_map, date(2026, 1, 31), 50.0)
    snapshot(team_map, date(2026, 2, 10), 58.0)
    visible = permissions.visible_maps(owner)
    fast = scorecard_reads.scorecard_report(team_map, maps=visible, today=date(2026, 2, 15))
    general = scoring.scorecard_report(team_map, maps=visible, today=date(2026, 2, 15))
    assert fast == general
    assert fast.change_since_last_month == general.change_since_last_month
    assert [point.health for point in fast.trend] == [50.0, 58.0]


# --- the map gate ------------------------------------------------------------------


@pytest.fixture
def people_and_maps(owner, team_member, team, other_owner, viewer, leader, admin_user):
    """Maps of every status, owned, shared with a team, and granted (directly, to a
    group, on an ancestor, to view or to edit); people in every role."""
    granted_user = UserFactory(username="gina")
    grantee_group = GroupFactory(name="Auditors")
    group_member = UserFactory(username="gus", groups=[grantee_group])
    inactive = UserFactory(username="ina", is_active=False)
    maps = {}
    for status in JourneyMap.Status.values:
        maps[f"{status}-own"] = JourneyMapFactory(owner=owner, status=status)
        maps[f"{status}-team"] = JourneyMapFactory(owner=other_owner, team=team, status=status)
        maps[f"{status}-other"] = JourneyMapFactory(owner=other_owner, status=status)
    top = JourneyMapFactory(owner=other_owner, status=JourneyMap.Status.DRAFT)
    below = JourneyMapFactory(owner=other_owner, status=JourneyMap.Status.DRAFT, parent=top)
    maps["granted-top"], maps["granted-below"] = top, below
    assign_perm("view_journeymap", granted_user, top)
    edited = JourneyMapFactory(owner=other_owner, status=JourneyMap.Status.ARCHIVED)
    maps["edit-granted"] = edited
    assign_perm("change_journeymap", grantee_group, edited)
    people = [owner, team_member, other_owner, viewer, leader, admin_user]
    return [*people, granted_user, group_member, inactive], maps


def test_the_gate_finds_exactly_the_maps_visible_maps_lists(people_and_maps):
    people, maps = people_and_maps
    for user in people:
        listed = set(permissions.visible_maps(user).values_list("slug", flat=True))
        for journey_map in maps.values():
            fresh = type(user).objects.get(pk=user.pk)  # no answers cached on the object
            try:
                permissions.get_map_for_user(fresh, journey_map.slug)
                found = True
            except Http404:
                found = False
            assert found == (journey_map.slug in listed), (user.username, journey_map.slug)


def test_the_gate_answers_404_for_a_map_outside_the_given_queryset(team_map, owner):
    with pytest.raises(Http404):
        permissions.get_map_for_user(
            owner, team_map.slug, queryset=JourneyMap.objects.exclude(pk=team_map.pk)
        )


def test_the_gate_reads_only_the_map_for_its_owner_and_one_more_query_for_a_team_member(
    team, owner, team_member, other_owner
):
    draft = JourneyMapFactory(owner=owner, team=team, status=JourneyMap.Status.DRAFT)
    with CaptureQueriesContext(connection) as queries:
        permissions.get_map_for_user(owner, draft.slug)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        permissions.get_map_for_user(team_member, draft.slug)
    assert len(queries) == 2  # the map, the member's groups


def test_a_users_groups_and_leadership_are_read_in_one_query(leader, owner, team):
    for user, is_leader, groups in ((leader, True, 1), (owner, False, 1)):
        fresh = type(user).objects.get(pk=user.pk)
        with CaptureQueriesContext(connection) as queries:
            assert permissions.is_leadership(fresh) is is_leader
            assert len(permissions._group_ids(fresh)) == groups
        assert len(queries) == 1
    assert permissions._group_ids(type(owner).objects.get(pk=owner.pk)) == {team.pk}


# --- one map's scorecard (weights, KPIs, ratings prepared once) ---------------------


def test_one_maps_scorecard_is_health_by_maps_for_every_kind_of_kpi_and_rating(
    team_map, owner, leader
):
    """KPIs beyond the target, worse than the baseline, lower-is-better, without a
    target or a measurement; ratings by a named rater, one with a first name only, one
    whose rater was deleted; the weights the defaults (no row), then saved with a zero."""
    from maps.models import KPI

    def kpi(name, value, **fields):
        made = KPIFactory(map=team_map, name=name, **fields)
        if value is not None:
            MeasurementFactory(kpi=made, date=date(2026, 1, 1), value=value)

    kpi("Beyond", 95, perspective=Perspective.BUSINESS)
    kpi("Worse", 10, perspective=Perspective.BUSINESS, weight=2.5)
    kpi("Waiting", 3.25, perspective=Perspective.CUSTOMER, direction=KPI.Direction.LOWER,
        baseline=5, target=2)  # fmt: skip
    kpi("No target", 60, perspective=Perspective.CUSTOMER, target=None)
    kpi("Unmeasured", None, perspective=Perspective.CUSTOMER)
    kpi("Also beyond", 70, perspective=Perspective.BUSINESS)
    first_only = UserFactory(first_name="Ana", last_name="")
    gone = UserFactory(username="gone")
    QualitativeFactorFactory(map=team_map, rating=5, rated_by=owner, note="Fast")
    QualitativeFactorFactory(map=team_map, rating=2, rated_by=first_only,
                             perspective=Perspective.BUSINESS)  # fmt: skip
    QualitativeFactorFactory(map=team_map, rating=4, rated_by=gone)
    gone.delete()
    KPIFactory(name="Elsewhere")  # another map's rows stay out
    QualitativeFactorFactory(rating=1)

    def general():
        return scoring.health_by_map([team_map.pk])[team_map.pk]

    weights = scorecard_reads.current_weights()
    assert weights == scoring.current_weights().as_dict()
    assert scorecard_reads.map_scorecard(team_map.pk, weights=weights) == general()
    scoring.scorecard_weights_update(
        by=leader,
        expected_version=scoring.current_weights().version,
        values={"quantitative_business": 3, "quantitative_customer": 0,
                "qualitative_business": 0.5, "qualitative_customer": 1},
    )  # fmt: skip
    weights = scorecard_reads.current_weights()  # read again: never a stale copy
    assert weights["quantitative_business"] == 3 and weights["quantitative_customer"] == 0
    fast = scorecard_reads.map_scorecard(team_map.pk, weights=weights)
    assert fast == general()
    assert sorted(f.rated_by for f in fast.factors) == sorted(["", "Ana", owner.get_full_name()])


def test_a_map_without_kpis_or_ratings_has_the_general_empty_scorecard(team_map):
    weights = scorecard_reads.current_weights()
    fast = scorecard_reads.map_scorecard(team_map.pk, weights=weights)
    assert fast == scoring.health_by_map([team_map.pk])[team_map.pk]
    assert fast.health is None and fast.kpis == [] and fast.factors == []


def test_the_report_of_a_map_with_nothing_visible_below_it_has_no_rollup_as_the_general_one(
    team_map, owner, viewer, other_owner
):
    QualitativeFactorFactory(map=team_map, rating=4)
    leaf = JourneyMapFactory(owner=owner, parent=team_map, status=JourneyMap.Status.PUBLISHED)
    JourneyMapFactory(owner=other_owner, parent=leaf, status=JourneyMap.Status.DRAFT)
    hidden_below = JourneyMapFactory(owner=owner, status=JourneyMap.Status.PUBLISHED)
    JourneyMapFactory(owner=other_owner, parent=hidden_below, status=JourneyMap.Status.DRAFT)
    lonely = JourneyMapFactory(owner=owner)
    for user in (owner, viewer):
        visible = permissions.visible_maps(user)
        for journey_map in JourneyMap.objects.filter(
            pk__in=[team_map.pk, leaf.pk, hidden_below.pk, lonely.pk]
        ):
            fast = scorecard_reads.scorecard_report(journey_map, maps=visible)
            assert fast == scoring.scorecard_report(journey_map, maps=visible)
    lonely = JourneyMap.objects.get(pk=lonely.pk)
    with CaptureQueriesContext(connection) as queries:
        assert scorecard_reads.scorecard_report(lonely, maps=visible).rollup is None
    # weights, KPIs, ratings, history (no KPI trends: no KPIs; nothing for the roll-up)
    assert len(queries) == 4

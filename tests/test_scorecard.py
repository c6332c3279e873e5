"""The balanced scorecard's numbers (``governance.scoring``), checked against values
worked out by hand in the comments, and the nightly snapshots behind trends and drops."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import scoring
from governance.models import ScorecardSnapshot, ScorecardWeights
from governance.tasks import snapshot_scorecards
from maps.models import KPI, JourneyMap, Perspective
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    QualitativeFactorFactory,
)

pytestmark = pytest.mark.django_db

B, C = Perspective.BUSINESS, Perspective.CUSTOMER
HIGHER, LOWER = KPI.Direction.HIGHER, KPI.Direction.LOWER
JAN, FEB, MAR = dt.date(2024, 1, 15), dt.date(2024, 2, 15), dt.date(2024, 3, 15)


def kpi(journey_map, name, perspective, direction, baseline, target, *values, weight=1.0):
    """A KPI measured ``values`` on 15 Jan, 15 Feb, 15 Mar 2024 (the last one counts)."""
    made = KPIFactory(
        map=journey_map,
        name=name,
        perspective=perspective,
        direction=direction,
        baseline=baseline,
        target=target,
        weight=weight,
    )
    for day, value in zip((JAN, FEB, MAR), values, strict=False):
        MeasurementFactory(kpi=made, date=day, value=value)
    return made


@pytest.fixture
def scored_map(team_map):
    """Olivia's map, every rule of the scorecard exercised once.

    Quantitative · business
      Conversion      higher, baseline 20, target 40, latest 30, weight 2
                      → (30 − 20) ÷ (40 − 20) = 0.5
      Handling time   lower,  baseline 10, target 5,  latest 6,  weight 1
                      → (10 − 6) ÷ (10 − 5) = 0.8
      Upgrade rate    no target → not scored, does not count
      quadrant = (2 × 0.5 + 1 × 0.8) ÷ (2 + 1) × 100 = 1.8 ÷ 3 × 100 = 60.0
    Quantitative · customer
      CSAT            higher, baseline 70, target 80, latest 95 → 2.5, clamped to 1.0
      Complaints      lower, baseline 100, target 50, latest 120 → (100 − 120) ÷ 50 = −0.4,
                      clamped to 0.0
      Waiting time    lower, baseline 5, target 3, never measured → not scored
      quadrant = (1 × 1.0 + 1 × 0.0) ÷ 2 × 100 = 50.0
    Qualitative · business: Cost to serve 4 → 75, Strategic fit 2 → 25 → mean 50.0
    Qualitative · customer: no ratings → not scored
    Health (all weights 1) = (60 + 50 + 50) ÷ 3 = 53.333…
    """
    kpi(team_map, "Conversion", B, HIGHER, 20, 40, 25, 30, weight=2)
    kpi(team_map, "Handling time", B, LOWER, 10, 5, 9, 6)
    kpi(team_map, "Upgrade rate", B, HIGHER, 2, None, 3)
    kpi(team_map, "CSAT", C, HIGHER, 70, 80, 75, 95)
    kpi(team_map, "Complaints", C, LOWER, 100, 50, 110, 120)
    kpi(team_map, "Waiting time", C, LOWER, 5, 3)
    QualitativeFactorFactory(map=team_map, name="Cost to serve", perspective=B, rating=4)
    QualitativeFactorFactory(map=team_map, name="Strategic fit", perspective=B, rating=2)
    return team_map


class TestKPIAttainment:
    @pytest.mark.parametrize(
        ("direction", "baseline", "target", "value", "expected"),
        [
            (HIGHER, 20, 40, 30, 0.5),  # halfway
            (HIGHER, 20, 40, 40, 1.0),  # on target
            (HIGHER, 20, 40, 50, 1.0),  # beyond the target: (50 − 20) ÷ 20 = 1.5 → 1
            (HIGHER, 20, 40, 10, 0.0),  # below the baseline: −0.5 → 0
            (LOWER, 10, 5, 6, 0.8),  # (10 − 6) ÷ (10 − 5)
            (LOWER, 10, 5, 2, 1.0),  # better than target: 1.6 → 1
            (LOWER, 10, 5, 12, 0.0),  # worse than baseline: −0.4 → 0
            (HIGHER, -5, 15, 0, 0.25),  # negative baseline (NPS): 5 ÷ 20
        ],
    )
    def test_it_is_the_share_of_the_way_from_baseline_to_target(
        self, direction, baseline, target, value, expected
    ):
        attainment, _, reason = scoring.kpi_attainment(
            direction=direction, baseline=baseline, target=target, value=value
        )
        assert attainment == pytest.approx(expected)
        assert reason == ""

    @pytest.mark.parametrize(
        ("direction", "baseline", "target", "value", "reason"),
        [
            (HIGHER, 20, None, 30, "no target"),
            (HIGHER, None, 40, 30, "no baseline"),
            (HIGHER, None, None, 30, "no baseline and no target"),
            (HIGHER, 20, 40, None, "no measurement yet"),
            (HIGHER, 20, 20, 30, "the target equals the baseline"),
            (LOWER, 5, 10, 6, "lower is better, but the target is above the baseline"),
            (HIGHER, 10, 5, 6, "higher is better, but the target is below the baseline"),
        ],
    )
    def test_kpis_it_cannot_place_are_not_scored_with_the_reason(
        self, direction, baseline, target, value, reason
    ):
        assert scoring.kpi_attainment(
            direction=direction, baseline=baseline, target=target, value=value
        ) == (None, None, reason)

    def test_the_unclamped_value_is_kept_for_the_explanation(self, team_map):
        kpi(team_map, "CSAT", C, HIGHER, 70, 80, 95)
        (score,) = scoring.map_scorecard(team_map).kpis
        assert score.raw_attainment == pytest.approx(2.5)
        assert score.attainment == 1.0
        assert "counted as 100% (beyond the target)" in score.explanation
        assert "Latest 95 on 2024-01-15, between baseline 70 (0%) and target 80" in (
            score.explanation
        )


class TestMapScorecard:
    def test_the_quadrants_and_health_match_the_hand_computation(self, scored_map):
        card = scoring.map_scorecard(scored_map)
        assert card.quadrant("quantitative_business").score == pytest.approx(60.0)
        assert card.quadrant("quantitative_customer").score == pytest.approx(50.0)
        assert card.quadrant("qualitative_business").score == pytest.approx(50.0)
        assert card.quadrant("qualitative_customer").score is None
        assert card.health == pytest.approx(160 / 3)  # 53.33
        assert card.status == "at_risk"  # 40 ≤ 53.3 < 70

    def test_each_kpi_reports_its_attainment_or_why_it_does_not_count(self, scored_map):
        by_name = {k.name: k for k in scoring.map_scorecard(scored_map).kpis}
        assert by_name["Conversion"].attainment == pytest.approx(0.5)
        assert by_name["Conversion"].latest == 30  # the latest measurement, not the first
        assert by_name["Handling time"].attainment == pytest.approx(0.8)
        assert by_name["CSAT"].attainment == 1.0
        assert by_name["Complaints"].attainment == 0.0
        assert by_name["Upgrade rate"].not_scored_reason == "no target"
        assert by_name["Waiting time"].not_scored_reason == "no measurement yet"

    def test_every_number_is_explained(self, scored_map):
        card = scoring.map_scorecard(scored_map)
        business = card.quadrant("quantitative_business").explanation
        assert "Conversion 50% × 2, Handling time 80% × 1" in business
        assert "= 60.0" in business
        assert "Not counted: Upgrade rate (no target)" in business
        assert "Cost to serve 4/5 → 75, Strategic fit 2/5 → 25 → 50.0" in (
            card.quadrant("qualitative_business").explanation
        )
        assert "nobody has rated" in card.quadrant("qualitative_customer").explanation
        assert "Weighted mean of 3 of 4 quadrants" in card.explanation
        assert "= 53.3" in card.explanation
        assert "Qualitative · customer (no score)" in card.explanation

    def test_a_map_without_qualitative_ratings_is_scored_on_its_kpis(self, owner):
        # one KPI halfway: quantitative business 50; no ratings → health 50 from KPIs alone
        journey = JourneyMapFactory(owner=owner)
        kpi(journey, "Conversion", B, HIGHER, 0, 10, 5)
        card = scoring.map_scorecard(journey)
        assert card.health == pytest.approx(50.0)
        assert [q.score for q in card.quadrants] == [pytest.approx(50.0), None, None, None]

    def test_a_map_without_any_data_has_no_health(self, owner):
        card = scoring.map_scorecard(JourneyMapFactory(owner=owner))
        assert card.health is None
        assert card.status == "not_scored"
        assert card.explanation == "Not scored: no quadrant has a score."

    def test_leadership_reweighting_changes_health(self, scored_map, leader):
        # weights 3 / 1 / 0 / 1: the qualitative business quadrant (50) no longer counts,
        # qualitative customer has no score → (3 × 60 + 1 × 50) ÷ (3 + 1) = 230 ÷ 4 = 57.5
        scoring.scorecard_weights_update(
            by=leader,
            expected_version=scoring.current_weights().version,
            values={
                "quantitative_business": 3,
                "quantitative_customer": 1,
                "qualitative_business": 0,
                "qualitative_customer": 1,
            },
        )
        card = scoring.map_scorecard(scored_map)
        assert card.health == pytest.approx(57.5)
        assert "Qualitative · business (weight 0)" in card.explanation
        assert ScorecardWeights.history.first().history_user == leader

    def test_health_thresholds(self):
        assert [scoring.health_status(v) for v in (None, 0, 39.9, 40, 69.9, 70, 100)] == [
            "not_scored",
            "critical",
            "critical",
            "at_risk",
            "at_risk",
            "healthy",
            "healthy",
        ]


class TestBulkHealth:
    def test_it_scores_many_maps_in_three_queries(
        self, owner, scored_map, django_assert_num_queries
    ):
        others = [JourneyMapFactory(owner=owner) for _ in range(5)]
        for i, journey in enumerate(others):
            kpi(journey, f"K{i}", B, HIGHER, 0, 10, i * 2)
        ids = [scored_map.pk, *(m.pk for m in others)]
        # KPIs with their latest values, ratings, weights
        with django_assert_num_queries(3):
            scores = scoring.health_by_map(ids)
        assert scores[scored_map.pk].health == pytest.approx(160 / 3)
        # K0..K4 measured 0, 2, 4, 6, 8 of 10 → health 0, 20, 40, 60, 80
        assert [scores[m.pk].health for m in others] == pytest.approx([0, 20, 40, 60, 80])

    def test_as_of_uses_the_measurements_known_then(self, scored_map):
        # on 1 Feb only January's values exist: Conversion 25 → 0.25, Handling 9 → 0.2,
        # CSAT 75 → 0.5, Complaints 110 → 0 → business (2×.25 + .2) ÷ 3 = 23.33,
        # customer (0.5 + 0) ÷ 2 = 25, qualitative business 50 → (23.33 + 25 + 50) ÷ 3 = 32.78
        card = scoring.health_by_map([scored_map.pk], as_of=dt.date(2024, 2, 1))[scored_map.pk]
        assert card.quadrant("quantitative_business").score == pytest.approx(70 / 3)
        assert card.quadrant("quantitative_customer").score == pytest.approx(25.0)
        assert card.health == pytest.approx((70 / 3 + 25 + 50) / 3)


class TestRollup:
    @pytest.fixture
    def tree(self, owner, other_owner):
        """parent ─┬─ A (KPI at 8 of 0→10: health 80) ── C (one rating 2/5: health 25)
        ├─ B (nothing measured: no health)
        └─ D (omar's draft, one rating 1/5: health 0)"""
        parent = JourneyMapFactory(owner=owner, title="Parent")
        a = JourneyMapFactory(owner=owner, title="A", parent=parent)
        kpi(a, "K", B, HIGHER, 0, 10, 8)
        c = JourneyMapFactory(owner=owner, title="C", parent=a)
        QualitativeFactorFactory(map=c, perspective=C, rating=2)
        JourneyMapFactory(owner=owner, title="B", parent=parent)
        d = JourneyMapFactory(owner=other_owner, title="D", parent=parent, status="draft")
        QualitativeFactorFactory(map=d, perspective=B, rating=1)
        return JourneyMap.objects.get(pk=parent.pk)

    def test_it_is_the_mean_health_of_every_visible_map_below(self, tree, viewer):
        from governance import permissions

        # vic cannot see the draft D: mean(A 80, C 25) = 52.5; B has no health
        rollup = scoring.subtree_rollup(tree, maps=permissions.visible_maps(viewer))
        assert rollup.health == pytest.approx(52.5)
        assert [m.title for m in rollup.maps] == ["A", "C", "B"]
        assert [m.title for m in rollup.children] == ["A", "B"]
        assert "Not scored yet: B." in rollup.explanation

    def test_leadership_sees_the_drafts_in_the_roll_up(self, tree, leader):
        from governance import permissions

        # mean(A 80, C 25, D 0) = 105 ÷ 3 = 35.0
        rollup = scoring.subtree_rollup(tree, maps=permissions.visible_maps(leader))
        assert rollup.health == pytest.approx(35.0)
        assert rollup.status == "critical"

    def test_a_sub_map_rolls_up_its_own_subtree(self, tree):
        a = JourneyMap.objects.get(title="A")
        assert scoring.subtree_rollup(a, maps=JourneyMap.objects.all()).health == 25.0
        c = JourneyMap.objects.get(title="C")
        assert scoring.subtree_rollup(c, maps=JourneyMap.objects.all()) is None


class TestSnapshots:
    def test_the_nightly_task_stores_one_snapshot_per_map_and_day(self, scored_map, owner):
        empty = JourneyMapFactory(owner=owner)
        assert snapshot_scorecards.delay().get() == 2
        today = timezone.localdate()
        snapshot = ScorecardSnapshot.objects.get(map=scored_map, date=today)
        assert snapshot.health == pytest.approx(160 / 3)
        assert snapshot.quantitative_business == pytest.approx(60.0)
        assert snapshot.qualitative_customer is None
        assert ScorecardSnapshot.objects.get(map=empty).health is None

    def test_running_it_twice_a_day_replaces_that_days_snapshot(self, scored_map):
        snapshot_scorecards.delay()
        # Conversion's latest 30 → 40: business (2 × 1.0 + 0.8) ÷ 3 = 93.33
        MeasurementFactory(kpi=scored_map.kpis.get(name="Conversion"), value=40)
        snapshot_scorecards.delay()
        (snapshot,) = ScorecardSnapshot.objects.filter(map=scored_map)
        assert snapshot.quantitative_business == pytest.approx(280 / 3)

    def test_one_snapshot_per_map_and_date_in_the_database(self, team_map):
        ScorecardSnapshot.objects.create(map=team_map, date=JAN, health=50)
        with pytest.raises(IntegrityError), transaction.atomic():
            ScorecardSnapshot.objects.create(map=team_map, date=JAN, health=60)

    def test_backfill_scores_each_month_end_from_the_measurements_then(self, owner):
        journey = JourneyMapFactory(owner=owner, created_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
        # baseline 20, target 40; 25 on 15 Jan, 30 on 15 Feb, 40 on 15 Mar
        kpi(journey, "Conversion", B, HIGHER, 20, 40, 25, 30, 40)
        dates = scoring.scorecard_backfill(months=4, today=dt.date(2024, 4, 10))
        assert dates == [
            dt.date(2024, 1, 31),
            dt.date(2024, 2, 29),
            dt.date(2024, 3, 31),
            dt.date(2024, 4, 10),
        ]
        healths = dict(ScorecardSnapshot.objects.filter(map=journey).values_list("date", "health"))
        # 31 Jan: 25 → 0.25; 29 Feb: 30 → 0.5; 31 Mar and 10 Apr: 40 → 1.0
        assert [healths[d] for d in dates] == pytest.approx([25, 50, 100, 100])
        # again: same rows, no duplicates
        scoring.scorecard_backfill(months=4, today=dt.date(2024, 4, 10))
        assert ScorecardSnapshot.objects.filter(map=journey).count() == 4

    def test_backfill_skips_months_before_a_map_existed(self, owner):
        journey = JourneyMapFactory(owner=owner, created_at=dt.datetime(2024, 2, 10, tzinfo=dt.UTC))
        scoring.scorecard_backfill(months=3, today=dt.date(2024, 3, 10))
        assert list(
            ScorecardSnapshot.objects.filter(map=journey).values_list("date", flat=True)
        ) == [dt.date(2024, 3, 10), dt.date(2024, 2, 29)]

    def test_the_command_backfills_twelve_months(self, scored_map):
        JourneyMap.objects.update(created_at=timezone.now() - dt.timedelta(days=400))
        out = StringIO()
        call_command("snapshot_scorecards", "--backfill-months", "12", stdout=out)
        assert "Stored 12 monthly snapshots per map" in out.getvalue()
        dates = list(
            ScorecardSnapshot.objects.filter(map=scored_map)
            .order_by("date")
            .values_list("date", flat=True)
        )
        assert len(dates) == 12
        assert dates[-1] == timezone.localdate()
        assert all(d.month != timezone.localdate().month for d in dates[:-1])

    def test_trend_takes_each_months_last_snapshot(self, team_map, owner):
        other = JourneyMapFactory(owner=owner)
        for day, health in [
            ("2024-01-15", 40),
            ("2024-01-31", 50),
            ("2024-02-10", 60),
            ("2024-02-29", 55),
            ("2024-03-09", 70),
            ("2023-12-31", 10),  # outside the 3 months asked for
        ]:
            ScorecardSnapshot.objects.create(map=team_map, date=day, health=health)
        ScorecardSnapshot.objects.create(map=other, date="2024-03-01", health=None)
        trends = scoring.health_trends([team_map.pk, other.pk], months=3, today=MAR)
        assert [(p.date.isoformat(), p.health) for p in trends[team_map.pk]] == [
            ("2024-01-31", 50),
            ("2024-02-29", 55),
            ("2024-03-09", 70),
        ]
        assert trends[other.pk] == [scoring.TrendPoint(dt.date(2024, 3, 1), None)]

    def test_drops_compare_with_the_last_snapshot_of_last_month(self, team_map, owner):
        falling = JourneyMapFactory(owner=owner)
        new = JourneyMapFactory(owner=owner)
        for journey, day, health in [
            (team_map, "2024-02-10", 60),
            (team_map, "2024-02-29", 55),
            (team_map, "2024-03-09", 70),
            (falling, "2024-02-29", 80),
            (falling, "2024-03-09", 65),
            (new, "2024-03-09", 50),
        ]:
            ScorecardSnapshot.objects.create(map=journey, date=day, health=health)
        changes = scoring.health_changes([team_map.pk, falling.pk, new.pk], today=MAR)
        assert changes[team_map.pk].change == 15  # 70 − 55 (29 Feb, not 10 Feb)
        assert changes[team_map.pk].previous_date == dt.date(2024, 2, 29)
        assert changes[falling.pk].change == -15 and changes[falling.pk].dropped
        assert changes[new.pk].change is None and not changes[new.pk].dropped


class TestWeights:
    def test_there_is_one_row_of_weights(self):
        ScorecardWeights.objects.get_or_create(pk=1)
        with pytest.raises(ValidationError, match="only one set of scorecard weights"):
            ScorecardWeights().full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            ScorecardWeights.objects.create(id=2)

    def test_weights_cannot_be_negative_or_all_zero(self, leader):
        version = scoring.current_weights().version
        zero = dict.fromkeys(ScorecardWeights.FIELDS, 0)
        with pytest.raises(ValidationError, match="At least one quadrant"):
            scoring.scorecard_weights_update(by=leader, expected_version=version, values=zero)
        negative = {**zero, "quantitative_business": -1, "qualitative_business": 1}
        with pytest.raises(ValidationError, match="cannot be negative"):
            scoring.scorecard_weights_update(by=leader, expected_version=version, values=negative)
        assert scoring.current_weights().as_dict() == dict.fromkeys(ScorecardWeights.FIELDS, 1.0)

    def test_the_database_refuses_all_zero_weights(self):
        ScorecardWeights.objects.get_or_create(pk=1)
        with pytest.raises(IntegrityError), transaction.atomic():
            ScorecardWeights.objects.filter(pk=1).update(
                **dict.fromkeys(ScorecardWeights.FIELDS, 0)
            )

    def test_a_stale_weights_edit_is_refused(self, leader, admin_user):
        version = scoring.current_weights().version
        values = dict.fromkeys(ScorecardWeights.FIELDS, 2.0)
        scoring.scorecard_weights_update(by=leader, expected_version=version, values=values)
        with pytest.raises(ValidationError, match="changed the weights since you opened"):
            scoring.scorecard_weights_update(
                by=admin_user,
                expected_version=version,
                values={**values, "qualitative_business": 9},
            )
        assert scoring.current_weights().qualitative_business == 2.0

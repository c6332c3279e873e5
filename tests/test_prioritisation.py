"""The prioritisation service: scores, rankings and overlaps against hand-worked
examples (the arithmetic is in the comments), weights and methods, visibility."""

from __future__ import annotations

import datetime as dt

import pytest

from governance import permissions, prioritisation
from governance.models import PrioritisationWeights
from maps.models import CXProject, PainPoint
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def example(owner, team, other_owner):
    """Map A has health 40 (one KPI: baseline 0, target 100, latest 40); map B has none.

    P1: reach 1000, impact 3, confidence 80, effort 4, map A, pain point 4×5, ongoing
        Jan–Mar 2026. RICE base = 1000 × 3 × 0.8 ÷ 4 = 600; gap = (100 − 40) ÷ 100 = 0.6;
        pain = 4 × 5 ÷ 25 = 0.8 → 600 × (1 + 0.6) × (1 + 0.8) = 600 × 1.6 × 1.8 = 1728.
        WSJF: BV 2×3 = 6, TC 10×0.6 = 6, RR 10×0.8 = 8 → 20 ÷ 4 = 5.
        Value/effort: CV 5×0.6 + 5×0.8 = 7, BV 6 → 13 ÷ 4 = 3.25.
    P2: reach 2000, impact 2, confidence 50, effort 2, map B (no health), idea.
        RICE 2000 × 2 × 0.5 ÷ 2 = 1000 (× 1 × 1). WSJF (4 + 0 + 0) ÷ 2 = 2. V/E 4 ÷ 2 = 2.
    P3: reach 10, impact 5, confidence 100, effort 1, no map, idea.
        RICE 10 × 5 × 1 ÷ 1 = 50. WSJF 10 ÷ 1 = 10. V/E (0 + 10) ÷ 1 = 10.
    """
    a = JourneyMapFactory(title="A", slug="a", owner=owner, team=team)
    b = JourneyMapFactory(title="B", slug="b", owner=owner)
    kpi = KPIFactory(map=a, baseline=0, target=100)
    MeasurementFactory(kpi=kpi, value=40)
    step = StepFactory(map=a, name="Apply", key="apply")
    pain = PainPointFactory(map=a, title="Slow checks", severity=4, frequency=5)
    p1 = CXProjectFactory(
        title="P1",
        owner=owner,
        team=team,
        reach=1000,
        impact=3,
        confidence=80,
        effort=4,
        status="ongoing",
        start_date=D(2026, 1, 1),
        end_date=D(2026, 3, 31),
        maps=[a],
        steps=[step],
        pain_points=[pain],
    )
    p2 = CXProjectFactory(
        title="P2", owner=owner, reach=2000, impact=2, confidence=50, effort=2, maps=[b]
    )
    p3 = CXProjectFactory(
        title="P3", owner=other_owner, reach=10, impact=5, confidence=100, effort=1
    )
    return {"a": a, "b": b, "step": step, "pain": pain, "p1": p1, "p2": p2, "p3": p3}


def ranked(**kwargs) -> prioritisation.Portfolio:
    return prioritisation.portfolio_rank(projects=CXProject.objects.all(), **kwargs)


def by_title(portfolio) -> dict[str, prioritisation.ProjectScore]:
    return {p.title: p for p in portfolio.projects}


class TestScores:
    def test_rice_with_journey_health_matches_the_hand_worked_example(self, example):
        scores = by_title(ranked())
        assert scores["P1"].score == pytest.approx(1728)
        assert scores["P2"].score == pytest.approx(1000)
        assert scores["P3"].score == pytest.approx(50)
        assert [p.title for p in ranked().projects] == ["P1", "P2", "P3"]

    def test_the_breakdown_names_every_factor_and_what_made_it(self, example):
        p1 = by_title(ranked())["P1"]
        factors = {f.key: f for f in p1.breakdown.factors}
        assert factors["base"].value == pytest.approx(600)
        assert factors["gap"].value == pytest.approx(0.6)
        assert factors["gap"].effect == "× 1.6"
        assert "A (health 40 → gap 0.6)" in factors["gap"].explanation
        assert factors["pain"].value == pytest.approx(0.8)
        assert factors["pain"].effect == "× 1.8"
        assert "Slow checks (4×5÷25)" in factors["pain"].explanation
        assert [m.title for m in p1.maps] == ["A"]
        assert [p.title for p in p1.pain_points] == ["Slow checks"]

    def test_a_map_without_health_does_not_count_towards_the_gap(self, example):
        p2 = by_title(ranked())["P2"]
        assert p2.gap == 0 and p2.maps[0].gap is None
        assert "No journey it touches has a health score" in p2.breakdown.factors[5].explanation

    def test_wsjf_derives_its_parts_and_says_so(self, example):
        scores = by_title(ranked(method="wsjf"))
        # P1: (6 + 6 + 8) ÷ 4 = 5; P2: 4 ÷ 2 = 2; P3: 10 ÷ 1 = 10
        assert scores["P1"].score == pytest.approx(5)
        assert scores["P2"].score == pytest.approx(2)
        assert scores["P3"].score == pytest.approx(10)
        derived = [f.key for f in scores["P1"].breakdown.factors if f.derived]
        assert derived == ["business_value", "time_criticality", "risk_reduction"]
        assert all("Derived" in f.explanation for f in scores["P1"].breakdown.factors[:3])

    def test_value_versus_effort(self, example):
        scores = by_title(ranked(method="value_effort"))
        # P1: (7 + 6) ÷ 4 = 3.25; P2: (0 + 4) ÷ 2 = 2; P3: (0 + 10) ÷ 1 = 10
        assert scores["P1"].score == pytest.approx(3.25)
        assert scores["P2"].score == pytest.approx(2)
        assert scores["P3"].score == pytest.approx(10)


class TestPriorityIndex:
    def test_the_index_is_each_score_as_a_share_of_the_best_one(self, example):
        scores = by_title(ranked())
        # RICE: 1728 is the best → 100; 100 × 1000 ÷ 1728 = 57.87 → 58; 100 × 50 ÷ 1728 = 2.89 → 3
        assert {t: p.index for t, p in scores.items()} == {"P1": 100, "P2": 58, "P3": 3}

    def test_the_index_follows_the_method_ranked_by(self, example):
        scores = by_title(ranked(method="wsjf"))
        # WSJF: P3 10 is the best → 100; P1 5 → 50; P2 2 → 20
        assert {t: p.index for t, p in scores.items()} == {"P1": 50, "P2": 20, "P3": 100}
        # every method's index is known, as every method's rank is
        assert scores["P1"].indexes == {"rice_health": 100, "wsjf": 50, "value_effort": 33}

    def test_the_index_is_relative_to_the_projects_ranked_together(self, example):
        # without P1 (a filtered view), P2 is the best: 100, and P3 100 × 50 ÷ 1000 = 5
        portfolio = prioritisation.portfolio_rank(
            projects=CXProject.objects.exclude(title="P1"), others=CXProject.objects.all()
        )
        assert [(p.title, p.index) for p in portfolio.projects] == [("P2", 100), ("P3", 5)]
        assert portfolio.best.title == "P2"

    def test_it_rounds_half_up_and_a_small_positive_share_reads_below_one(self, example):
        assert prioritisation.priority_index(1, 8) == 13  # 12.5
        assert prioritisation.priority_index(3, 8) == 38  # 37.5
        assert prioritisation.priority_index(0.004, 1) == 0
        assert prioritisation.priority_index(5, 0) == 0  # nothing scores above 0
        tiny = by_title(ranked())["P3"]
        tiny.indexes["rice_health"] = 0
        assert tiny.index_label == "< 1"

    def test_an_empty_portfolio_has_no_best_project(self, db):
        assert ranked().best is None


class TestManyProjects:
    def test_links_read_whole_give_what_links_read_by_id_give(self, example, monkeypatch):
        # above LINKS_BY_ID_MAX projects, every link is read and the others' dropped: P1's
        # map, step and pain point must not reach the filtered view without P1
        def seen():
            portfolio = prioritisation.portfolio_rank(
                projects=CXProject.objects.exclude(title="P1")
            )
            return [(p.title, p.score, p.maps, p.steps, p.pain_points) for p in portfolio.projects]

        by_id = seen()
        monkeypatch.setattr(prioritisation, "LINKS_BY_ID_MAX", 0)
        assert seen() == by_id
        assert [row[0] for row in by_id] == ["P2", "P3"]
        assert [m.title for m in by_id[0][2]] == ["B"] and by_id[0][3:] == ([], [])
        full = prioritisation.portfolio_rank(projects=CXProject.objects.all()).projects
        assert [(s.name, p.title) for p in full for s in p.steps] == [("Apply", "P1")]


class TestEffortAxis:
    def test_close_efforts_keep_a_linear_axis_from_zero(self):
        # 2 to 8 person-weeks: 8 × 1.1 = 8.8, rounded up to 9
        assert prioritisation.effort_axis([2, 3, 8]) == {"type": "linear", "min": 0, "max": 9.0}

    def test_one_large_project_turns_the_axis_logarithmic(self):
        # 200 ÷ 1 ≥ 10: log axis from 1 ÷ 1.6 = 0.625 → 0.62 to 200 × 1.6 = 320
        assert prioritisation.effort_axis([1, 2, 3, 5, 200]) == {
            "type": "logarithmic",
            "min": 0.62,
            "max": 320.0,
        }

    def test_every_effort_lies_inside_the_axis(self):
        for efforts in ([0.5, 40], [1, 9.9], [3, 3, 3], [7, 70000]):
            axis = prioritisation.effort_axis(efforts)
            assert axis["min"] < min(efforts) and max(efforts) < axis["max"]

    def test_no_project_gives_a_unit_axis(self):
        assert prioritisation.effort_axis([]) == {"type": "linear", "min": 0, "max": 1}


class TestRanking:
    def test_switching_the_method_changes_the_ranking(self, example):
        assert [p.title for p in ranked().projects] == ["P1", "P2", "P3"]
        assert [p.title for p in ranked(method="wsjf").projects] == ["P3", "P1", "P2"]
        assert [p.title for p in ranked(method="value_effort").projects] == ["P3", "P1", "P2"]

    def test_every_project_knows_its_rank_under_every_method(self, example):
        p3 = by_title(ranked())["P3"]
        assert p3.ranks == {"rice_health": 3, "wsjf": 1, "value_effort": 1}

    def test_the_saved_method_is_the_default(self, example, leader):
        weights = prioritisation.current_weights()
        prioritisation.prioritisation_weights_update(
            by=leader, expected_version=weights.version, method="wsjf", values=weights.as_dict()
        )
        assert ranked().method == "wsjf"
        assert ranked().projects[0].title == "P3"

    def test_changing_weights_re_ranks(self, example, leader):
        weights = prioritisation.current_weights()
        # without the health gap and pain, P1 is its RICE base: 600 < P2's 1000
        prioritisation.prioritisation_weights_update(
            by=leader,
            expected_version=weights.version,
            method="rice_health",
            values={**weights.as_dict(), "health_gap": 0, "pain": 0},
        )
        portfolio = ranked()
        assert [p.title for p in portfolio.projects] == ["P2", "P1", "P3"]
        assert by_title(portfolio)["P1"].score == pytest.approx(600)
        # doubled: 600 × (1 + 2 × 0.6) × (1 + 2 × 0.8) = 600 × 2.2 × 2.6 = 3432
        weights = prioritisation.current_weights()
        prioritisation.prioritisation_weights_update(
            by=leader,
            expected_version=weights.version,
            method="rice_health",
            values={**weights.as_dict(), "health_gap": 2, "pain": 2},
        )
        assert by_title(ranked())["P1"].score == pytest.approx(3432)

    def test_a_stale_version_is_refused_and_nothing_changes(self, example, leader):
        weights = prioritisation.current_weights()
        with pytest.raises(Exception, match="Someone changed"):
            prioritisation.prioritisation_weights_update(
                by=leader,
                expected_version=weights.version + 1,
                method="wsjf",
                values=weights.as_dict(),
            )
        assert prioritisation.current_weights().method == "rice_health"

    def test_weight_changes_are_kept_in_history(self, example, leader):
        weights = prioritisation.current_weights()
        prioritisation.prioritisation_weights_update(
            by=leader, expected_version=weights.version, method="wsjf", values=weights.as_dict()
        )
        latest = PrioritisationWeights.history.latest()
        assert latest.method == "wsjf" and latest.history_user == leader


class TestOverlaps:
    @pytest.fixture
    def others(self, example, owner, other_owner):
        a, step, pain = example["a"], example["step"], example["pain"]
        # P4: ongoing, same step as P1 and no dates (open-ended) → step and map reasons
        p4 = CXProjectFactory(
            title="P4", owner=other_owner, status="ongoing", maps=[a], steps=[step]
        )
        # P5: planned on map A, Mar–Jun 2026: overlaps P1 (Jan–Mar) on dates only
        p5 = CXProjectFactory(
            title="P5",
            owner=owner,
            status="planned",
            start_date=D(2026, 3, 1),
            end_date=D(2026, 6, 30),
            maps=[a],
        )
        # P6: done, same pain point as P1: not active, no overlap
        CXProjectFactory(title="P6", owner=owner, status="done", maps=[a], pain_points=[pain])
        # P7: planned on map A, Apr–May 2026: after P1, inside P5, and P4 is open-ended
        CXProjectFactory(
            title="P7",
            owner=owner,
            status="planned",
            start_date=D(2026, 4, 1),
            end_date=D(2026, 5, 1),
            maps=[a],
        )
        return p4, p5

    def test_overlaps_are_flagged_on_both_projects_with_their_reasons(self, others):
        scores = by_title(ranked())
        p1 = {o.title: o.reasons for o in scores["P1"].overlaps}
        assert p1 == {
            "P4": ["same step: Apply", "same map in overlapping dates: A"],
            "P5": ["same map in overlapping dates: A"],
        }
        p4 = {o.title: o.reasons for o in scores["P4"].overlaps}
        assert p4["P1"] == ["same step: Apply", "same map in overlapping dates: A"]
        assert {o.title for o in scores["P7"].overlaps} == {"P4", "P5"}

    def test_projects_that_are_not_active_never_overlap(self, others):
        scores = by_title(ranked())
        assert scores["P6"].overlaps == []
        assert scores["P2"].overlaps == []

    def test_the_same_pain_point_is_an_overlap(self, example, owner):
        CXProjectFactory(title="P8", owner=owner, status="planned", pain_points=[example["pain"]])
        scores = by_title(ranked())
        assert {o.title: o.reasons for o in scores["P8"].overlaps} == {
            "P1": ["same pain point: Slow checks"]
        }

    def test_overlaps_reach_projects_outside_a_filtered_view(self, others):
        portfolio = prioritisation.portfolio_rank(
            projects=CXProject.objects.filter(title="P1"), others=CXProject.objects.all()
        )
        assert [p.title for p in portfolio.projects] == ["P1"]
        assert {o.title for o in portfolio.projects[0].overlaps} == {"P4", "P5"}


class TestUnaddressedPainPoints:
    def test_the_gaps_are_ranked_by_severity_frequency_and_journey_health(self, example, owner):
        a, b = example["a"], example["b"]
        PainPointFactory(map=a, title="Queue", severity=3, frequency=3)  # 9 × 1.6 = 14.4
        PainPointFactory(map=b, title="Lost mail", severity=5, frequency=4)  # 20 × 1 = 20
        cancelled_only = PainPointFactory(map=b, title="Typos", severity=2, frequency=2)  # 4
        CXProjectFactory(owner=owner, status="cancelled", pain_points=[cancelled_only])
        gaps = prioritisation.unaddressed_pain_points(pain_points=PainPoint.objects.all())
        assert [(g.title, round(g.priority, 1)) for g in gaps] == [
            ("Lost mail", 20.0),
            ("Queue", 14.4),
            ("Typos", 4.0),
        ]  # "Slow checks" is addressed by P1


class TestVisibility:
    def test_a_hidden_map_neither_shows_nor_counts(
        self, example, owner, viewer, leader, other_owner, draft_map
    ):
        # P9 touches map A (published) and omar's draft, which has health 0 (gap 1)
        kpi = KPIFactory(map=draft_map, baseline=0, target=100)
        MeasurementFactory(kpi=kpi, value=0)
        CXProjectFactory(
            title="P9",
            owner=other_owner,
            reach=100,
            impact=1,
            confidence=100,
            effort=1,
            maps=[example["a"], draft_map],
        )
        CXProjectFactory(title="Hidden", owner=other_owner, maps=[draft_map])

        def seen(user):
            return by_title(
                prioritisation.portfolio_rank(
                    projects=permissions.visible_projects(user),
                    visible_maps=permissions.visible_maps(user),
                )
            )

        for_vic, for_leader = seen(viewer), seen(leader)
        assert "Hidden" not in for_vic and "Hidden" in for_leader
        assert "Hidden" not in seen(owner)
        assert [m.title for m in for_vic["P9"].maps] == ["A"]
        # vic: gap 0.6 (A only) → 100 × 1.6 = 160; leader: mean(0.6, 1) = 0.8 → 180
        assert for_vic["P9"].score == pytest.approx(160)
        assert for_leader["P9"].score == pytest.approx(180)

"""The portfolio's gaps (pain points no project addresses) and journey health, read the
fast way, against hand-worked numbers and against the straightforward way they were
computed before: every visible pain point loaded and sorted in Python, every health
with its full explanation (``health_by_map``)."""

from __future__ import annotations

import pytest

from governance import permissions, prioritisation, scoring
from governance.models import ScorecardWeights
from maps.models import KPI, CXProject, JourneyMap, PainPoint, Perspective
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    QualitativeFactorFactory,
)

pytestmark = pytest.mark.django_db


def with_health(journey_map, value: float) -> None:
    """One KPI from 0 to 100 measured at ``value``: the map's health is ``value``."""
    MeasurementFactory(kpi=KPIFactory(map=journey_map, baseline=0, target=100), value=value)


def loaded_and_sorted(pain_points, limit=prioritisation.UNADDRESSED_LIMIT) -> list[tuple]:
    """The way it was done before: load every unaddressed pain point, score each with
    its map's explained health, sort them all in Python."""
    addressed = CXProject.pain_points.through.objects.exclude(cxproject__status="cancelled").values(
        "painpoint_id"
    )
    rows = list(
        pain_points.exclude(pk__in=addressed).values(
            "pk", "title", "severity", "frequency", "map_id"
        )
    )
    cards = scoring.health_by_map({r["map_id"] for r in rows})
    scored = []
    for r in rows:
        health = cards[r["map_id"]].health
        gap = 0.0 if health is None else (100 - health) / 100
        scored.append((r["title"], r["severity"] * r["frequency"] * (1 + gap), r["pk"]))
    scored.sort(key=lambda t: (-t[1], t[0], t[2]))
    return [(title, priority) for title, priority, _ in scored[:limit]]


def fast(pain_points, *, limit=prioritisation.UNADDRESSED_LIMIT, health=None) -> list[tuple]:
    found = prioritisation.unaddressed_pain_points(
        pain_points=pain_points, limit=limit, health=health
    )
    return [(g.title, g.priority) for g in found]


@pytest.fixture
def gaps(owner, other_owner, team):
    """Two trees the viewer sees and a draft only leadership sees.

    A (health 40 → × 1.6): Wait 5×5 = 40, Queue 3×3 = 14.4, Fixed 5×5 (addressed).
    B (no health → × 1): Alpha 5×5 = 25, Beta 5×5 = 25 (a tie: Alpha first), Lost mail
      5×4 = 20, Typos 2×2 = 4, Cancelled only 4×4 = 16 (its only project is cancelled).
    C, below B in the same tree (health 90 → × 1.1): Crash 5×5 = 27.5.
    E, a second tree (health 75 → × 1.25): Aardvark 5×4 = 25, tying Alpha and Beta
      from a lower severity × frequency, and first of the three by title.
    H, a draft of omar's (health 0 → × 2): Secret 5×5 = 50.
    """
    a = JourneyMapFactory(title="A", owner=owner, team=team)
    b = JourneyMapFactory(title="B", owner=owner)
    c = JourneyMapFactory(title="C", owner=owner, parent=b)
    e = JourneyMapFactory(title="E", owner=other_owner)
    h = JourneyMapFactory(title="H", owner=other_owner, status="draft")
    with_health(a, 40)
    with_health(c, 90)
    with_health(e, 75)
    with_health(h, 0)
    PainPointFactory(map=a, title="Wait", severity=5, frequency=5)
    PainPointFactory(map=a, title="Queue", severity=3, frequency=3)
    fixed = PainPointFactory(map=a, title="Fixed", severity=5, frequency=5)
    CXProjectFactory(owner=owner, status="ongoing", pain_points=[fixed])
    PainPointFactory(map=b, title="Beta", severity=5, frequency=5)
    PainPointFactory(map=b, title="Alpha", severity=5, frequency=5)
    PainPointFactory(map=b, title="Lost mail", severity=5, frequency=4)
    PainPointFactory(map=b, title="Typos", severity=2, frequency=2)
    cancelled_only = PainPointFactory(map=b, title="Cancelled only", severity=4, frequency=4)
    CXProjectFactory(owner=owner, status="cancelled", pain_points=[cancelled_only])
    PainPointFactory(map=c, title="Crash", severity=5, frequency=5)
    PainPointFactory(map=e, title="Aardvark", severity=5, frequency=4)
    PainPointFactory(map=h, title="Secret", severity=5, frequency=5)


VIEWER_GAPS = [
    ("Wait", 40.0),
    ("Crash", 27.500000000000004),  # 25 × 1.1 in floating point, as before
    ("Aardvark", 25.0),
    ("Alpha", 25.0),
    ("Beta", 25.0),
    ("Lost mail", 20.0),
    ("Cancelled only", 16.0),
    ("Queue", 14.4),
    ("Typos", 4.0),
]


def scope(user):
    return permissions.visible_content(user, PainPoint.objects.all())


def visible_health(user):
    return scoring.health_values(permissions.visible_maps(user).values("pk"))


class TestUnaddressedPainPoints:
    def test_the_ranking_matches_the_hand_worked_numbers(self, gaps, viewer):
        assert fast(scope(viewer)) == VIEWER_GAPS
        assert fast(scope(viewer), health=visible_health(viewer)) == VIEWER_GAPS

    def test_leadership_also_sees_the_hidden_draft_first(self, gaps, leader):
        expected = [("Secret", 50.0), *VIEWER_GAPS]
        assert fast(scope(leader)) == expected
        assert fast(scope(leader), health=visible_health(leader)) == expected

    @pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 6, 8, 25])
    def test_any_cut_matches_loading_and_sorting_everything(self, gaps, viewer, leader, limit):
        for user in (viewer, leader):
            expected = loaded_and_sorted(scope(user), limit)
            assert fast(scope(user), limit=limit) == expected
            assert fast(scope(user), limit=limit, health=visible_health(user)) == expected

    def test_a_tie_at_the_cut_from_a_lower_severity_wins_on_its_title(self, gaps, viewer):
        # the worst pain points alone put Alpha third at 25; Aardvark (5×4 × 1.25 = 25)
        # ties it and comes first by title, so the lower values must still be read
        assert fast(scope(viewer), limit=3) == [
            ("Wait", 40.0),
            ("Crash", 27.500000000000004),
            ("Aardvark", 25.0),
        ]

    def test_without_any_health_the_order_is_severity_frequency_then_title(self, owner):
        m = JourneyMapFactory(owner=owner)
        for title, s, f in [("b", 5, 5), ("a", 5, 5), ("c", 4, 5), ("d", 1, 1)]:
            PainPointFactory(map=m, title=title, severity=s, frequency=f)
        assert fast(PainPoint.objects.all(), limit=3) == [("a", 25.0), ("b", 25.0), ("c", 20.0)]
        assert fast(PainPoint.objects.all(), limit=3, health={}) == [
            ("a", 25.0),
            ("b", 25.0),
            ("c", 20.0),
        ]

    def test_it_never_reads_pain_points_that_cannot_make_the_list(
        self, owner, django_assert_num_queries
    ):
        # 30 pain points at 5×5 fill the list above anything a 5×4 could reach
        # (20 × 1 < 25): one query, the worst ones, when health is given
        m = JourneyMapFactory(owner=owner)
        PainPoint.objects.bulk_create(
            [PainPoint(map=m, title=f"Worst {i:02d}", severity=5, frequency=5) for i in range(30)]
            + [PainPoint(map=m, title=f"Mild {i:02d}", severity=4, frequency=5) for i in range(30)]
        )
        with django_assert_num_queries(1):
            found = prioritisation.unaddressed_pain_points(
                pain_points=PainPoint.objects.all(), health={}
            )
        assert [g.title for g in found] == [f"Worst {i:02d}" for i in range(25)]


class TestManyWorstPainPoints:
    """Where many pain points are at their worst (5×5), those on the maps with the
    largest gaps are read first; the rest only when they can still make the list."""

    @pytest.fixture
    def dense(self, owner, monkeypatch):
        monkeypatch.setattr(prioritisation, "TOP_GAP_MAPS", 2)
        maps = []
        for i, health in enumerate([10, 20, 30, 40, 60, 60]):
            m = JourneyMapFactory(owner=owner, title=f"M{i}")
            with_health(m, health)
            maps.append(m)
            PainPoint.objects.bulk_create(
                [PainPoint(map=m, title=f"W{i}-{n}", severity=5, frequency=5) for n in range(10)]
                + [PainPoint(map=m, title=f"S{i}-{n}", severity=5, frequency=4) for n in range(3)]
            )
        unscored = JourneyMapFactory(owner=owner, title="Unscored")
        PainPointFactory(map=unscored, title="Plain worst", severity=5, frequency=5)
        return maps

    def health(self):
        return scoring.health_values(JourneyMap.objects.values_list("pk", flat=True))

    def test_the_two_largest_gaps_fill_a_short_list_in_one_query(
        self, dense, django_assert_num_queries
    ):
        health = self.health()
        # M0 (gap 0.9) gives 10 at 25 × 1.9 = 47.5; M1 (gap 0.8) 45; the 12th is 45, above
        # what M2's worst reach (25 × 1.7 = 42.5) and what a 5×4 anywhere reaches (20 × 1.9)
        with django_assert_num_queries(1):
            found = fast(PainPoint.objects.all(), limit=12, health=health)
        assert found == loaded_and_sorted(PainPoint.objects.all(), limit=12)
        assert [round(p, 1) for _, p in found] == [47.5] * 10 + [45.0] * 2

    @pytest.mark.parametrize("limit", [1, 10, 20, 21, 25, 45, 60, 80])
    def test_any_cut_matches_loading_and_sorting_everything(self, dense, limit):
        health = self.health()
        assert fast(PainPoint.objects.all(), limit=limit, health=health) == (
            loaded_and_sorted(PainPoint.objects.all(), limit=limit)
        )

    def test_a_tie_with_the_next_map_reads_every_worst_one(self, owner, monkeypatch):
        # X and Y have the same gap (0.8); X is read first (one map), but its cut (45)
        # equals what Y's worst reach, and Y's titles come first: Y's must win
        monkeypatch.setattr(prioritisation, "TOP_GAP_MAPS", 1)
        x = JourneyMapFactory(owner=owner, title="X")
        y = JourneyMapFactory(owner=owner, title="Y")
        for m, prefix in ((x, "Z"), (y, "A")):
            with_health(m, 20)
            PainPoint.objects.bulk_create(
                [PainPoint(map=m, title=f"{prefix}{n}", severity=5, frequency=5) for n in range(10)]
            )
        health = scoring.health_values([x.pk, y.pk])
        found = fast(PainPoint.objects.all(), limit=10, health=health)
        assert found == loaded_and_sorted(PainPoint.objects.all(), limit=10)
        assert [t for t, _ in found] == [f"A{n}" for n in range(10)]


class TestHealthValues:
    def test_it_gives_the_same_numbers_as_the_explained_scorecard(self, owner, leader):
        weights, _ = ScorecardWeights.objects.update_or_create(
            pk=ScorecardWeights.SINGLETON_PK,
            defaults={
                "quantitative_business": 2,
                "quantitative_customer": 1,
                "qualitative_business": 0,
                "qualitative_customer": 1,
            },
        )
        maps = [JourneyMapFactory(owner=owner, title=f"M{i}") for i in range(5)]
        m0, m1, m2, m3, _ = maps
        # m0: two business KPIs (weights 1 and 3) and a customer one, ratings both sides
        business = {"baseline": 0, "perspective": Perspective.BUSINESS}
        MeasurementFactory(kpi=KPIFactory(map=m0, target=100, weight=1, **business), value=33)
        MeasurementFactory(kpi=KPIFactory(map=m0, target=7, weight=3, **business), value=5)
        lower = KPIFactory(
            map=m0,
            baseline=10,
            target=2,
            direction=KPI.Direction.LOWER,
            perspective=Perspective.CUSTOMER,
        )
        MeasurementFactory(kpi=lower, value=3)
        QualitativeFactorFactory(map=m0, rating=4, perspective=Perspective.BUSINESS)
        QualitativeFactorFactory(map=m0, rating=2, perspective=Perspective.CUSTOMER)
        QualitativeFactorFactory(map=m0, rating=5, perspective=Perspective.CUSTOMER)
        # m1: beyond the target (clamped) and an unscored KPI (no target)
        MeasurementFactory(kpi=KPIFactory(map=m1, baseline=0, target=10), value=30)
        KPIFactory(map=m1, target=None)
        # m2: only a rating of a zero-weight quadrant: no health
        QualitativeFactorFactory(map=m2, rating=5, perspective=Perspective.BUSINESS)
        # m3: a KPI without a measurement: no health; the fifth map has no data at all
        KPIFactory(map=m3, baseline=0, target=1)
        explained = {
            pk: card.health
            for pk, card in scoring.health_by_map([m.pk for m in maps], weights=weights).items()
        }
        assert scoring.health_values([m.pk for m in maps], weights=weights) == explained
        from_queryset = scoring.health_values(
            permissions.visible_maps(leader).values("pk"), weights=weights
        )
        assert {pk: from_queryset.get(pk) for pk in explained} == explained
        # hand-worked: business (0.33 × 1 + 5/7 × 3) ÷ 4 × 100 = 61.82…, customer
        # (10 − 3) ÷ 8 = 87.5, qualitative customer (25 + 100) ÷ 2 = 62.5 (weight 1),
        # qualitative business weight 0: (61.82… × 2 + 87.5 + 62.5) ÷ 4 = 68.41…
        assert explained[m0.pk] == pytest.approx((0.33 + 15 / 7) / 4 * 100 / 2 + 37.5)
        assert explained[m1.pk] == 100.0
        assert explained[m2.pk] is None and explained[m3.pk] is None
        assert explained[maps[4].pk] is None

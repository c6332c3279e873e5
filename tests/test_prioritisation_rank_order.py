"""The ranking's fast path (#16): ``portfolio_rank`` computes every method's score in one
inlined expression and ranks by a stable sort on the score alone after one sort by title
and id. These tests hold it to the slow, obvious definitions on hand-made data: the
breakdowns' arithmetic (to the last bit) and the order (score desc, title, id)."""

from __future__ import annotations

import random

import pytest

from governance import prioritisation
from governance.models import PrioritisationWeights
from maps.models import CXProject
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(owner, team):
    """Twenty-four projects over maps with and without health, with 0–3 pain points
    (pain above 1 too), odd efforts and confidences, and ties: equal scores under
    different titles, equal titles under different ids."""
    rng = random.Random(16)
    maps = []
    for i, health in enumerate([37, None, 81, 5]):
        m = JourneyMapFactory(title=f"M{i}", slug=f"m{i}", owner=owner, team=team)
        if health is not None:
            MeasurementFactory(kpi=KPIFactory(map=m, baseline=0, target=100), value=health)
        maps.append(m)
    pains = [
        PainPointFactory(
            map=maps[i % 4], title=f"Pain {i}", severity=1 + i % 5, frequency=5 - i % 4
        )
        for i in range(8)
    ]
    for i in range(18):
        CXProjectFactory(
            title=f"P{i % 7}",  # repeated titles
            owner=owner,
            reach=rng.choice([0, 1, 333, 1000, 98765]),
            impact=rng.randint(1, 5),
            confidence=rng.choice([0, 7, 33, 80, 100]),
            effort=rng.choice([0.1, 0.3, 1, 2.5, 7, 13]),
            maps=rng.sample(maps, rng.randint(0, 3)),
            pain_points=rng.sample(pains, rng.randint(0, 3)),
        )
    # exact ties on every method: the same inputs under other titles and ids
    for title in ["Tie b", "Tie a", "Tie a", "Tie c"]:
        CXProjectFactory(
            title=title,
            owner=owner,
            reach=500,
            impact=3,
            confidence=50,
            effort=3,
            maps=[maps[0]],
            pain_points=[pains[0]],
        )
    # two all-zero scores (reach 0 and confidence 0 on RICE)
    CXProjectFactory(title="Zero", owner=owner, reach=0, impact=1, confidence=0, effort=1)
    CXProjectFactory(title="Zero", owner=owner, reach=0, impact=1, confidence=0, effort=1)


def weights(**values: float) -> PrioritisationWeights:
    w = PrioritisationWeights(id=1)
    for name, value in values.items():
        setattr(w, name, value)
    return w


WEIGHTS = [
    weights(),
    weights(health_gap=0.35, pain=2.7, business_value=0.1, time_criticality=3.3),
    weights(risk_reduction=0, customer_value=1.9, business_value=0, pain=0),
]


@pytest.mark.parametrize("w", WEIGHTS)
def test_every_score_is_the_breakdowns_arithmetic_to_the_last_bit(varied, w):
    portfolio = prioritisation.portfolio_rank(projects=CXProject.objects.all(), weights=w)
    assert len(portfolio.projects) == 24
    for p in portfolio.projects:
        for m in prioritisation.METHODS:
            assert p.values[m] == p.scores[m].score, (p.title, m)
            slow = prioritisation._SCORE_PARTS[m](
                {
                    "reach": p.reach,
                    "impact": p.impact,
                    "confidence": p.confidence,
                    "effort": p.effort,
                },
                p.gap,
                p.pain,
                w,
            )[0]
            assert p.values[m] == slow, (p.title, m)
        assert list(p.values) == list(prioritisation.METHODS)
        assert all(type(k) is str for k in p.values)


@pytest.mark.parametrize("w", WEIGHTS)
@pytest.mark.parametrize("method", prioritisation.METHODS)
def test_ranks_and_indexes_follow_score_then_title_then_id_under_every_method(varied, w, method):
    portfolio = prioritisation.portfolio_rank(
        projects=CXProject.objects.all(), weights=w, method=method
    )
    projects = portfolio.projects
    for m in prioritisation.METHODS:
        expected = sorted(projects, key=lambda p: (-p.values[m], p.title, p.project_id))
        assert [p.ranks[m] for p in expected] == list(range(1, len(expected) + 1))
        best = expected[0].values[m]
        assert [p.indexes[m] for p in expected] == [
            prioritisation.priority_index(p.values[m], best) for p in expected
        ]
    # the page's order is the ranked method's, ties broken by title then id
    assert [p.rank for p in projects] == list(range(1, 25))
    ties = [(p.title, p.project_id) for p in projects if p.title.startswith("Tie")]
    assert ties == sorted(ties)
    assert len({p.values[method] for p in projects if p.title.startswith("Tie")}) == 1
    zeros = [p for p in projects if p.title == "Zero"]
    assert [p.project_id for p in zeros] == sorted(p.project_id for p in zeros)
    if method == "rice_health":  # every zero score ties; "Zero" sorts last by title
        assert zeros[-1] is projects[-1]


def test_no_project_ranks_to_an_empty_portfolio(db):
    portfolio = prioritisation.portfolio_rank(projects=CXProject.objects.none())
    assert portfolio.projects == []
    assert portfolio.best is None

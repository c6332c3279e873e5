"""Overlaps found when first read (``OverlapFinder``, #16: the portfolio page reads
those of its fifty rows, not every pair of thousands of active projects) equal those of
``find_overlaps``, which flags every pair at once: the same projects, the same reasons,
in the same order. In memory: the overlap rules read only the projects' links, status
and dates."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from governance import prioritisation
from governance.models import PrioritisationWeights
from governance.prioritisation import (
    MapGap,
    OverlapFinder,
    PainShare,
    ProjectScore,
    StepRef,
    find_overlaps,
)

D = dt.date
STEPS = [StepRef(100 + i, f"Step {i}", i % 4) for i in range(9)]
PAINS = [PainShare(200 + i, f"Pain {i % 5}", i % 4, 3, 4) for i in range(7)]
MAPS = [MapGap(i, f"Map {i}", f"map-{i}", 50.0, 0.5) for i in range(5)]
STATUSES = ["idea", "planned", "ongoing", "done", "cancelled"]


def project(pk, title, status="planned", *, steps=(), pains=(), maps=(), start=None, end=None):
    made = ProjectScore(
        project_id=pk,
        title=title,
        status=status,
        owner_id=1,
        owner_name="o",
        team_id=None,
        team_name="",
        start_date=start,
        end_date=end,
        reach=1,
        impact=1,
        confidence=100,
        effort=1.0,
        cost=None,
        maps=list(maps),
        pain_points=list(pains),
        gap=0.0,
        pain=0.0,
        values={},
        method=prioritisation.METHODS[0],
        weights=PrioritisationWeights(id=1),
    )
    made.steps = list(steps)
    return made


def both_ways(make) -> tuple[list[list[tuple]], list[list[tuple]]]:
    """Every project's overlaps as ``find_overlaps`` flags them, and as found when read
    (from the same projects, made twice)."""
    eager, lazy = make(), make()
    find_overlaps(eager)
    finder = OverlapFinder([p for p in lazy if p.is_active])
    for p in lazy:
        if p.is_active:
            p.overlap_finder = finder

    def shown(projects):
        return [[(o.project_id, o.title, o.reasons) for o in p.overlaps] for p in projects]

    return shown(eager), shown(lazy)


def random_projects(seed: int) -> list[ProjectScore]:
    rng = random.Random(seed)
    made = []
    for pk in rng.sample(range(1, 200), 40):
        start = rng.choice([None, D(2026, rng.randint(1, 12), 1)])
        # an end before its start too: the rule compares as it is given
        end = rng.choice([None, D(2026, rng.randint(1, 12), 28)])
        made.append(
            project(
                pk,
                f"P{rng.randint(0, 9)}",  # repeated titles: then the id orders
                rng.choice(STATUSES),
                # each project's links in its own order (as read: by map and position,
                # by title, by tree): the order of first appearance differs from the ids'
                steps=rng.sample(STEPS, rng.randint(0, 4)),
                pains=rng.sample(PAINS, rng.randint(0, 3)),
                maps=rng.sample(MAPS, rng.randint(0, 3)),
                start=start,
                end=end,
            )
        )
    return made


@pytest.mark.parametrize("seed", range(30))
def test_found_when_read_equals_every_pair_flagged_at_once(seed):
    eager, lazy = both_ways(lambda: random_projects(seed))
    assert lazy == eager
    assert any(eager)  # the data collides


def test_a_pairs_reasons_follow_the_first_appearance_of_their_links_hand_checked():
    s1, s2 = STEPS[1], STEPS[2]

    def make():
        return [
            # the first active project lists Step 2 first: it comes first in every pair
            project(1, "First", steps=[s2]),
            project(2, "B", steps=[s1, s2], maps=[MAPS[0]], start=D(2026, 1, 1)),
            project(3, "A", "ongoing", steps=[s1, s2], pains=[PAINS[0]], maps=[MAPS[0]]),
            project(4, "Later", "planned", pains=[PAINS[0]], maps=[MAPS[0]], end=D(2025, 6, 1)),
            project(5, "Done", "done", steps=[s1, s2], maps=[MAPS[0]]),
            project(6, "Idea", "idea", steps=[s1], pains=[PAINS[0]]),
        ]

    eager, lazy = both_ways(make)
    assert lazy == eager
    assert lazy[2] == [  # "A": by title, each pair's steps, then pain points, then maps
        (
            2,
            "B",
            ["same step: Step 2", "same step: Step 1", "same map in overlapping dates: Map 0"],
        ),
        (1, "First", ["same step: Step 2"]),
        (4, "Later", ["same pain point: Pain 0", "same map in overlapping dates: Map 0"]),
    ]
    # "Later" ends before "B" starts; the done project overlaps nothing, nor does an idea
    assert lazy[3] == [
        (3, "A", ["same pain point: Pain 0", "same map in overlapping dates: Map 0"])
    ]
    assert lazy[4] == lazy[5] == []


def test_an_inactive_project_without_a_finder_has_no_overlaps():
    assert project(1, "Alone", "done").overlaps == []


def shared_steps_of(projects: list[ProjectScore]):
    """``SharedSteps`` over projects in memory, as the database answers it: every
    project's link on a step of the asked ones (inactive ones too), with the step's map
    and position (its place in ``STEPS``)."""

    def read(project_ids: list[int]) -> list[tuple]:
        by_id = {p.project_id: p for p in projects}
        return [
            (pk, other.project_id, step_id, name, map_id, STEPS.index((step_id, name, map_id)))
            for pk in project_ids
            for step_id, name, map_id in by_id[pk].steps
            for other in projects
            if any(s[0] == step_id for s in other.steps)
        ]

    return read


@pytest.mark.parametrize("seed", range(30))
def test_prepared_for_some_rows_equals_every_pair_flagged_at_once(seed):
    def make():
        made = random_projects(seed)
        for p in made:  # as read: each project's steps by map, position and id
            p.steps = sorted(p.steps, key=lambda s: (s.map_id, STEPS.index(s), s.step_id))
        return made

    eager, lazy = make(), make()
    find_overlaps(eager)
    finder = OverlapFinder([p for p in lazy if p.is_active], shared_steps_of(lazy))
    for p in lazy:
        if p.is_active:
            p.overlap_finder = finder
    rows = random.Random(seed).sample(lazy, 15)  # a page's rows, inactive ones too
    prioritisation.prepare_overlaps(rows)
    assert finder._prepared  # found from the shared steps, not every project's
    assert {pk for pk in finder._prepared} == {p.project_id for p in rows if p.is_active}

    def shown(projects):
        return [[(o.project_id, o.title, o.reasons) for o in p.overlaps] for p in projects]

    assert shown(lazy) == shown(eager)

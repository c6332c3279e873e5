"""Prioritisation of the CX project portfolio: which projects to do first, why, and
where they collide. Pages, the API and the CSV export only call this module.

Inputs of a project
    ``reach`` (customers per quarter), ``impact`` (1–5), ``confidence`` (0–100 %),
    ``effort`` (person-weeks, > 0), and what it addresses: maps, steps, pain points.
    Only maps (and their steps and pain points) the reader may see count, so a score
    never reveals the health or the pain of a journey hidden from its reader; CX
    leadership sees everything, so their ranking is the organisation's.

Journey health gap (``gap``, 0…1)
    The mean of ``(100 − health) ÷ 100`` over the project's maps that have a health
    (``governance.scoring.health_by_map``). Maps without a health do not count; no map
    with a health → gap 0.

Pain addressed (``pain``, ≥ 0)
    The sum over the pain points the project addresses of ``severity × frequency ÷ 25``
    (each between 0.04 and 1): addressing more, and worse, pain counts more.

Methods (``PrioritisationWeights.method``, chosen by CX leadership; any page or API
call may compare with ``?method=``)

RICE raised by journey health (default)
    ``base = reach × impact × (confidence ÷ 100) ÷ effort``
    ``score = base × (1 + w_gap × gap) × (1 + w_pain × pain)``
    Example: reach 1000, impact 3, confidence 80 %, effort 4 → base 600; one map at
    health 40 → gap 0.6; one pain point 4 × 5 → pain 0.8; weights 1 →
    600 × 1.6 × 1.8 = 1728.

WSJF (cost of delay ÷ job size)
    The project model has no WSJF fields, so the three parts of the cost of delay are
    *derived* from existing data, each on a 0–10 scale, and the breakdown says so:
    business value ``BV = 2 × impact``; time criticality ``TC = 10 × gap`` (a failing
    journey costs every day it stays so); risk reduction / opportunity enablement
    ``RR = 10 × min(1, pain)``. ``cost of delay = w_bv × BV + w_tc × TC + w_rr × RR``;
    job size = effort. ``score = cost of delay ÷ effort``.
    Example above: BV 6, TC 6, RR 8 → CoD 20 → 20 ÷ 4 = 5.

Value versus effort
    Customer value ``CV = 5 × gap + 5 × min(1, pain)`` (0–10, derived: half from the
    weakness of the journeys touched, half from the pain addressed); business value
    ``BV = 2 × impact`` (0–10). ``score = (w_cv × CV + w_bv × BV) ÷ effort``.
    Example above: CV 3 + 4 = 7, BV 6 → 13 ÷ 4 = 3.25.

Ties rank by title, then id. Every method's score is computed for every project, so
the page can show how each project's rank moves between methods.

Priority index (0–100, what the page shows first)
    ``index = 100 × score ÷ the best score among the projects ranked with it`` (the same
    set the ranks are over: the page's filters change both), rounded half up. Raw scores
    (RICE gives 110936.27 next to 50) mean nothing to a reader; every method's score is
    value per unit of effort, so the share of the best one does: 50 is half the value per
    person-week of the top project. A percentile was not chosen: it restates the rank and
    hides how far ahead the top project is. The raw score and its formula stay in the
    breakdown. Example above (RICE): P1 1728 → 100, P2 1000 → 58 (57.87), P3 50 → 3.

Overlaps
    Two *active* projects (planned or ongoing) overlap when they address the same step,
    the same pain point, or the same map with overlapping date ranges (a missing start
    or end date is open-ended: it may overlap anything on that side). Each project is
    flagged with the other and every reason.

Pain points no project addresses
    Visible pain points that no project (other than cancelled ones) addresses, ranked
    by ``severity × frequency × (1 + gap of its map)``: the gaps in the portfolio.

Queries are fixed whatever the number of projects: the weights, the projects to rank,
the other active projects (for overlaps), one per many-to-many (maps, pain points;
steps when first read, or for a page's rows only, ``prepare_overlaps``), two for
health (``health_by_map`` given the scorecard weights, plus one for those weights), one
for the unaddressed pain points.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F, QuerySet

from maps.models import CXProject, JourneyMap, PainPoint, Step
from maps.sql import m2m_link

from . import permissions, scoring
from .models import PrioritisationWeights
from .weights import singleton_get, singleton_update

Method = PrioritisationWeights.Method
METHODS: tuple[str, ...] = tuple(Method.values)
ACTIVE = tuple(str(s) for s in CXProject.ACTIVE_STATUSES)
UNADDRESSED_LIMIT = 25

_PROJECT_FIELDS = (
    "pk",
    "title",
    "status",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "team_id",
    "team__name",
    "start_date",
    "end_date",
    "reach",
    "impact",
    "confidence",
    "effort",
    "cost",
)


# --- what a score is made of ------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    key: str
    label: str
    value: float
    effect: str  # how it enters the score: "× 1.6", "+ 6", "÷ 4"
    explanation: str
    derived: bool = False  # computed from other fields, not entered


# A project's links are named tuples, not dataclasses: a ranking holds tens of thousands
# of them, and tuples of plain values are cheaper to make and leave the garbage
# collector's full passes (a third of the ranking's time at 10,000 maps, #16).


class MapGap(NamedTuple):
    map_id: int
    title: str
    slug: str
    health: float | None
    gap: float | None  # None: no health, does not count


class PainShare(NamedTuple):
    pain_point_id: int
    title: str
    map_id: int
    severity: int
    frequency: int

    @property
    def value(self) -> float:
        return self.severity * self.frequency / 25


class StepRef(NamedTuple):
    step_id: int
    name: str
    map_id: int


@dataclass
class Breakdown:
    method: str
    score: float
    formula: str
    # The factors and their explanations are written when first read: a page shows
    # fifty of thousands of ranked projects, and the texts cost more than the scores.
    make_factors: Callable[[], list[Factor]] = field(repr=False, compare=False)

    @cached_property
    def factors(self) -> list[Factor]:
        return self.make_factors()

    @property
    def method_label(self) -> str:
        return Method(self.method).label


class Texts:
    """The gap and pain explanations of one project, written once when first needed."""

    def __init__(self, maps: list[MapGap], gap: float, pains: list[PainShare], pain: float):
        self._args = (maps, gap, pains, pain)

    @cached_property
    def gap(self) -> str:
        maps, gap, _, _ = self._args
        return _gap_text(maps, gap)

    @cached_property
    def pain(self) -> str:
        _, _, pains, pain = self._args
        return _pain_text(pains, pain)


@dataclass
class Overlap:
    project_id: int
    title: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class ProjectScore:
    project_id: int
    title: str
    status: str
    owner_id: int
    owner_name: str
    team_id: int | None
    team_name: str
    start_date: date | None
    end_date: date | None
    reach: int
    impact: int
    confidence: int
    effort: float
    cost: float | None
    maps: list[MapGap]
    pain_points: list[PainShare]
    gap: float
    pain: float
    values: dict[str, float]  # the score by every method
    method: str  # the one ranked by
    weights: PrioritisationWeights = field(repr=False, compare=False)
    ranks: dict[str, int] = field(default_factory=dict)
    indexes: dict[str, int] = field(default_factory=dict)  # priority index by method
    # where ``overlaps`` come from when first read (None: an inactive project, none)
    overlap_finder: OverlapFinder | None = field(default=None, repr=False, compare=False)
    # where ``steps`` come from when first read (None: none)
    step_links: StepLinks | None = field(default=None, repr=False, compare=False)

    @cached_property
    def steps(self) -> list[StepRef]:
        """The visible steps it addresses, read for every ranked project when one
        project's are first read (``StepLinks``): the portfolio page never reads them
        (its rows' overlaps are found by ``OverlapFinder.prepare``)."""
        return [] if self.step_links is None else self.step_links.of(self.project_id)

    @cached_property
    def overlaps(self) -> list[Overlap]:
        """The active projects this one collides with, by title and id, with every
        reason (``find_overlaps``; set by it, or found when first read)."""
        return [] if self.overlap_finder is None else self.overlap_finder.of(self)

    @cached_property
    def scores(self) -> dict[str, Breakdown]:
        """Every method's breakdown, made when first read: a page shows fifty of
        thousands of ranked projects. The same arithmetic as ``values``."""
        numbers = {
            "reach": self.reach,
            "impact": self.impact,
            "confidence": self.confidence,
            "effort": self.effort,
        }
        texts = Texts(self.maps, self.gap, self.pain_points, self.pain)
        return {m: SCORERS[m](numbers, self.gap, self.pain, texts, self.weights) for m in METHODS}

    @property
    def breakdown(self) -> Breakdown:
        return self.scores[self.method]

    @property
    def score(self) -> float:
        return self.values[self.method]

    @property
    def rank(self) -> int:
        return self.ranks[self.method]

    @property
    def index(self) -> int:
        """The priority index (0–100) under the ranked method; see ``priority_index``."""
        return self.indexes[self.method]

    @property
    def index_label(self) -> str:
        """The index as read: "< 1" for a score above 0 that rounds to 0 (not nothing)."""
        return "< 1" if self.index == 0 and self.score > 0 else str(self.index)

    @property
    def status_label(self) -> str:
        return CXProject.Status(self.status).label

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def rank_changes(self) -> list[tuple[str, str, int]]:
        """(method, label, rank) for every method, the ranked one first."""
        order = [self.method, *(m for m in METHODS if m != self.method)]
        return [(m, Method(m).label, self.ranks[m]) for m in order]


@dataclass(frozen=True)
class UnaddressedPain:
    pain_point_id: int
    title: str
    kind: str
    severity: int
    frequency: int
    map_id: int
    map_title: str
    map_slug: str
    health: float | None
    gap: float  # 0 without a health
    priority: float  # severity × frequency × (1 + gap)


@dataclass
class Portfolio:
    method: str
    weights: PrioritisationWeights
    projects: list[ProjectScore]  # ranked, best first

    @property
    def method_label(self) -> str:
        return Method(self.method).label

    @property
    def best(self) -> ProjectScore | None:
        """The best-ranked project: its score is index 100."""
        return self.projects[0] if self.projects else None


# --- weights -------------------------------------------------------------------------


def current_weights() -> PrioritisationWeights:
    """The prioritisation weights (one query); the defaults if none were saved."""
    return singleton_get(PrioritisationWeights)


def prioritisation_weights_update(
    *, by, expected_version: int, method: str, values: dict[str, float]
) -> PrioritisationWeights:
    """Change the method and weights (the caller decides who may); version-checked."""
    return singleton_update(
        PrioritisationWeights,
        by=by,
        expected_version=expected_version,
        values={"method": method, **{n: values[n] for n in PrioritisationWeights.FIELDS}},
        noun="prioritisation weights",
    )


# --- the formulas ------------------------------------------------------------------


def _n(value: float) -> str:
    return scoring.number(round(value, 2))


def gap_of(maps: Iterable[MapGap]) -> float:
    gaps = [m.gap for m in maps if m.gap is not None]
    return sum(gaps) / len(gaps) if gaps else 0.0


def pain_of(pain_points: Iterable[PainShare]) -> float:
    return sum(p.value for p in pain_points)


def _gap_text(maps: list[MapGap], gap: float) -> str:
    counted = [m for m in maps if m.gap is not None]
    if not counted:
        return "No journey it touches has a health score, so the gap is 0."
    parts = ", ".join(f"{m.title} (health {_n(m.health)} → gap {_n(m.gap)})" for m in counted)
    skipped = len(maps) - len(counted)
    tail = (
        f"; {skipped} map{'s' if skipped != 1 else ''} without health not counted"
        if skipped
        else ""
    )
    return f"Mean of (100 − health) ÷ 100 over {parts}{tail} = {_n(gap)}."


def _pain_text(pain_points: list[PainShare], pain: float) -> str:
    if not pain_points:
        return "It addresses no pain point."
    parts = " + ".join(f"{p.title} ({p.severity}×{p.frequency}÷25)" for p in pain_points)
    return f"{parts} = {_n(pain)}."


def _rice(p: dict, gap: float, pain: float, w) -> tuple[float, float, float, float, float]:
    """The RICE score and its parts: (score, confidence, base, gap factor, pain factor)."""
    confidence = p["confidence"] / 100
    base = p["reach"] * p["impact"] * confidence / p["effort"]
    gap_factor = 1 + w.health_gap * gap
    pain_factor = 1 + w.pain * pain
    return base * gap_factor * pain_factor, confidence, base, gap_factor, pain_factor


def score_rice(p: dict, gap: float, pain: float, texts: Texts, w) -> Breakdown:
    score, confidence, base, gap_factor, pain_factor = _rice(p, gap, pain, w)
    return Breakdown(
        method=Method.RICE_HEALTH,
        score=score,
        formula="reach × impact × confidence ÷ effort × (1 + w_gap × gap) × (1 + w_pain × pain)",
        make_factors=lambda: [
            Factor("reach", "Reach", p["reach"], "×", "Customers affected per quarter."),
            Factor("impact", "Impact", p["impact"], "×", "1 (minimal) to 5 (massive)."),
            Factor("confidence", "Confidence", confidence, "×", f"{p['confidence']}%."),
            Factor("effort", "Effort", p["effort"], "÷", "Person-weeks."),
            Factor("base", "RICE base", base, "=", "reach × impact × confidence ÷ effort."),
            Factor(
                "gap",
                "Journey health gap",
                gap,
                f"× {_n(gap_factor)}",
                f"{texts.gap} Raises the score by 1 + {_n(w.health_gap)} × {_n(gap)}.",
            ),
            Factor(
                "pain",
                "Pain addressed",
                pain,
                f"× {_n(pain_factor)}",
                f"{texts.pain} Raises the score by 1 + {_n(w.pain)} × {_n(pain)}.",
            ),
        ],
    )


def _wsjf(p: dict, gap: float, pain: float, w) -> tuple[float, float, float, float, float]:
    """The WSJF score and its parts: (score, BV, TC, RR, cost of delay)."""
    bv, tc, rr = 2 * p["impact"], 10 * gap, 10 * min(1.0, pain)
    cod = w.business_value * bv + w.time_criticality * tc + w.risk_reduction * rr
    return cod / p["effort"], bv, tc, rr, cod


def score_wsjf(p: dict, gap: float, pain: float, texts: Texts, w) -> Breakdown:
    score, bv, tc, rr, cod = _wsjf(p, gap, pain, w)
    return Breakdown(
        method=Method.WSJF,
        score=score,
        formula=(
            "(w_bv × business value + w_tc × time criticality + w_rr × risk reduction) ÷ effort"
        ),
        make_factors=lambda: [
            Factor(
                "business_value",
                "Business value",
                bv,
                f"+ {_n(w.business_value)} × {_n(bv)}",
                f"Derived: 2 × impact ({p['impact']}).",
                derived=True,
            ),
            Factor(
                "time_criticality",
                "Time criticality",
                tc,
                f"+ {_n(w.time_criticality)} × {_n(tc)}",
                f"Derived: 10 × journey health gap. {texts.gap}",
                derived=True,
            ),
            Factor(
                "risk_reduction",
                "Risk reduction / opportunity enablement",
                rr,
                f"+ {_n(w.risk_reduction)} × {_n(rr)}",
                f"Derived: 10 × min(1, pain addressed). {texts.pain}",
                derived=True,
            ),
            Factor("cost_of_delay", "Cost of delay", cod, "=", "The weighted sum above."),
            Factor("effort", "Job size", p["effort"], "÷", "Effort in person-weeks."),
        ],
    )


def _value_effort(p: dict, gap: float, pain: float, w) -> tuple[float, float, float, float]:
    """The value-versus-effort score and its parts: (score, CV, BV, value)."""
    cv = 5 * gap + 5 * min(1.0, pain)
    bv = 2 * p["impact"]
    value = w.customer_value * cv + w.business_value * bv
    return value / p["effort"], cv, bv, value


def score_value_effort(p: dict, gap: float, pain: float, texts: Texts, w) -> Breakdown:
    score, cv, bv, value = _value_effort(p, gap, pain, w)
    return Breakdown(
        method=Method.VALUE_EFFORT,
        score=score,
        formula="(w_cv × customer value + w_bv × business value) ÷ effort",
        make_factors=lambda: [
            Factor(
                "customer_value",
                "Customer value",
                cv,
                f"+ {_n(w.customer_value)} × {_n(cv)}",
                f"Derived: 5 × gap + 5 × min(1, pain). {texts.gap} {texts.pain}",
                derived=True,
            ),
            Factor(
                "business_value",
                "Business value",
                bv,
                f"+ {_n(w.business_value)} × {_n(bv)}",
                f"Derived: 2 × impact ({p['impact']}).",
                derived=True,
            ),
            Factor("value", "Value", value, "=", "The weighted sum above."),
            Factor("effort", "Effort", p["effort"], "÷", "Person-weeks."),
        ],
    )


SCORERS = {
    Method.RICE_HEALTH: score_rice,
    Method.WSJF: score_wsjf,
    Method.VALUE_EFFORT: score_value_effort,
}
# The scores alone, for ranking every project; the breakdowns are built on the same parts.
_SCORE_PARTS = {
    Method.RICE_HEALTH: _rice,
    Method.WSJF: _wsjf,
    Method.VALUE_EFFORT: _value_effort,
}


# --- overlaps ----------------------------------------------------------------------


def _dates_overlap(a: ProjectScore, b: ProjectScore) -> bool:
    a_start, a_end = a.start_date or date.min, a.end_date or date.max
    b_start, b_end = b.start_date or date.min, b.end_date or date.max
    return a_start <= b_end and b_start <= a_end


def find_overlaps(projects: list[ProjectScore]) -> None:
    """Flag every pair of active projects that collide, on both, with the reasons: every
    pair at once (``OverlapFinder`` finds one project's when first read)."""
    active = [p for p in projects if p.is_active]
    reasons: dict[tuple[int, int], list[str]] = defaultdict(list)

    def flag(a: ProjectScore, b: ProjectScore, why: str) -> None:
        reasons[tuple(sorted((a.project_id, b.project_id)))].append(why)

    def pairs(members: list[ProjectScore]):
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                yield a, b

    by_step: dict[int, list[ProjectScore]] = defaultdict(list)
    by_pain: dict[int, list[ProjectScore]] = defaultdict(list)
    by_map: dict[int, list[ProjectScore]] = defaultdict(list)
    step_names, pain_titles, map_titles = {}, {}, {}
    # the links unpacked, not read by attribute: tens of thousands at 10,000 maps
    for p in active:
        for step_id, name, _ in p.steps:
            by_step[step_id].append(p)
            step_names[step_id] = name
        for pain_id, title, _, _, _ in p.pain_points:
            by_pain[pain_id].append(p)
            pain_titles[pain_id] = title
        for map_id, title, _, _, _ in p.maps:
            by_map[map_id].append(p)
            map_titles[map_id] = title
    for step_id, members in by_step.items():
        if len(members) > 1:
            for a, b in pairs(members):
                flag(a, b, f"same step: {step_names[step_id]}")
    for pain_id, members in by_pain.items():
        if len(members) > 1:
            for a, b in pairs(members):
                flag(a, b, f"same pain point: {pain_titles[pain_id]}")
    for map_id, members in by_map.items():
        if len(members) < 2:
            continue
        # sweep by start date: only projects still running can overlap the next one
        ordered = sorted(members, key=lambda p: (p.start_date or date.min, p.project_id))
        running: list[ProjectScore] = []
        for b in ordered:
            b_start = b.start_date or date.min
            running = [a for a in running if (a.end_date or date.max) >= b_start]
            for a in running:
                if _dates_overlap(a, b):
                    flag(a, b, f"same map in overlapping dates: {map_titles[map_id]}")
            running.append(b)
    by_id = {p.project_id: p for p in active}
    found: dict[int, list[Overlap]] = {p.project_id: [] for p in active}
    for (a_id, b_id), why in reasons.items():
        a, b = by_id[a_id], by_id[b_id]
        found[a_id].append(Overlap(b.project_id, b.title, list(why)))
        found[b_id].append(Overlap(a.project_id, a.title, list(why)))
    for p in active:
        p.overlaps = sorted(found[p.project_id], key=lambda o: (o.title, o.project_id))


class OverlapFinder:
    """The overlaps of one active project among ``active``, found when first read
    (``ProjectScore.overlaps``): a page shows the overlaps of its fifty rows, and
    flagging every pair of thousands of active projects (``find_overlaps``) cost more
    than the rest of the ranking at 10,000 maps (#16).

    The same overlaps as ``find_overlaps`` over ``active`` in this order, to the order
    of their reasons: there, a pair's reasons come steps first, then pain points, then
    maps, each kind in the order its step, pain point or map first appears among the
    active projects' links; here each reason carries that position and is sorted by it.
    """

    def __init__(self, active: list[ProjectScore], shared_steps: SharedSteps | None = None):
        self._active = active
        self._shared_steps = shared_steps
        self._indexes: tuple[dict, ...] | None = None
        self._step_index: tuple[dict, dict] | None = None
        # per project prepared (``prepare``): (position, name, other projects) per step
        self._prepared: dict[int, list[tuple[tuple, str, list[ProjectScore]]]] = {}

    @staticmethod
    def _by_link(projects: list[ProjectScore], links_of: Callable) -> tuple[dict, dict]:
        """The projects on each link, in order, and each link's position of first
        appearance."""
        index: dict[int, list[ProjectScore]] = {}
        for p in projects:
            for link in links_of(p):
                members = index.get(link[0])
                if members is None:
                    index[link[0]] = [p]
                else:
                    members.append(p)
        return index, {key: at for at, key in enumerate(index)}

    def _index(self) -> tuple[dict, ...]:
        """Pain points' and maps' ``_by_link``: built once."""
        if self._indexes is None:
            self._indexes = (
                *self._by_link(self._active, attrgetter("pain_points")),
                *self._by_link(self._active, attrgetter("maps")),
            )
        return self._indexes

    def prepare(self, projects: Iterable[ProjectScore]) -> None:
        """Find the steps shared by these projects (those a page shows) and the other
        active ones in one query of their links (``SharedSteps``), instead of reading
        every active project's steps: a step's position of first appearance is the
        first active project on it (in order), then its place in that project's steps
        (by map, position and id), the order the full index inserts it in."""
        if self._shared_steps is None or self._step_index is not None:
            return
        order = {p.project_id: at for at, p in enumerate(self._active)}
        wanted = [
            p.project_id
            for p in projects
            if p.project_id in order and p.project_id not in self._prepared
        ]
        if not wanted:
            return
        members: dict[int, dict[int, None]] = defaultdict(dict)  # step -> projects, once
        steps_of: dict[int, list[int]] = defaultdict(list)
        names: dict[int, tuple[str, tuple]] = {}
        for project_id, other_id, step_id, name, map_id, position in self._shared_steps(wanted):
            names[step_id] = (name, (map_id, position, step_id))
            if other_id in order:
                members[step_id][other_id] = None
            if other_id == project_id:
                steps_of[project_id].append(step_id)
        by_id = {p.project_id: p for p in self._active}
        for project_id in wanted:
            entries = []
            for step_id in steps_of.get(project_id, ()):
                name, key = names[step_id]
                on_step = members[step_id]
                first = min(order[pk] for pk in on_step)
                others = [by_id[pk] for pk in on_step if pk != project_id]
                entries.append(((first, key), name, others))
            self._prepared[project_id] = entries

    def _step_reasons(self, project: ProjectScore) -> list[tuple[tuple | int, str, list]]:
        """(position, name, the other active projects on it) of each of its steps."""
        prepared = self._prepared.get(project.project_id)
        if prepared is not None:
            return prepared
        if self._step_index is None:
            self._step_index = self._by_link(self._active, attrgetter("steps"))
        by_step, step_at = self._step_index
        return [
            (step_at[step_id], name, [p for p in by_step[step_id] if p is not project])
            for step_id, name, _ in project.steps
        ]

    def of(self, project: ProjectScore) -> list[Overlap]:
        if not project.is_active:
            return []
        by_pain, pain_at, by_map, map_at = self._index()
        others: dict[int, ProjectScore] = {}
        reasons: dict[int, list[tuple[int, int | tuple, str]]] = defaultdict(list)
        for at, name, on_step in self._step_reasons(project):
            for other in on_step:
                others[other.project_id] = other
                reasons[other.project_id].append((0, at, f"same step: {name}"))
        for pain_id, title, _, _, _ in project.pain_points:
            for other in by_pain[pain_id]:
                if other is not project:
                    others[other.project_id] = other
                    why = f"same pain point: {title}"
                    reasons[other.project_id].append((1, pain_at[pain_id], why))
        for map_id, title, _, _, _ in project.maps:
            for other in by_map[map_id]:
                if other is not project and _dates_overlap(project, other):
                    others[other.project_id] = other
                    why = f"same map in overlapping dates: {title}"
                    reasons[other.project_id].append((2, map_at[map_id], why))
        found = [
            Overlap(pk, others[pk].title, [why for _, _, why in sorted(whys)])
            for pk, whys in reasons.items()
        ]
        found.sort(key=lambda o: (o.title, o.project_id))
        return found


def prepare_overlaps(projects: list[ProjectScore]) -> None:
    """Let the overlaps of ``projects`` (a page's rows) be found without reading every
    active project's steps (``OverlapFinder.prepare``)."""
    finders = {id(p.overlap_finder): p.overlap_finder for p in projects if p.overlap_finder}
    for finder in finders.values():
        finder.prepare(projects)


# (project id, other project id, step id, name, map id, position) of every link of the
# other projects on a visible step of the given projects' (themselves included)
SharedSteps = Callable[[list[int]], list[tuple]]


class StepLinks:
    """The projects' visible steps, read once when first needed (``read``)."""

    def __init__(self, read: Callable[[], dict[int, list[StepRef]]]):
        self._read = read
        self._steps: dict[int, list[StepRef]] | None = None

    def of(self, project_id: int) -> list[StepRef]:
        if self._steps is None:
            self._steps = self._read()
        return self._steps.get(project_id, [])


# --- the portfolio -------------------------------------------------------------------


def _owner_name(row: dict) -> str:
    full = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
    return full or row["owner__username"]


# Above this many projects their links are read whole and the others' dropped in
# Python: binding thousands of ids into each of three queries cost more (at 5,000
# projects, 250 ms against 100) than reading the rows of the projects not ranked.
LINKS_BY_ID_MAX = 300


def _load_links(
    project_ids: list[int],
    visible_map_ids: Container[int] | None,
    scopes: Sequence[QuerySet[CXProject]] = (),
):
    """Maps ``(id, title, slug)``, steps and pain points of the projects, limited to
    visible maps, and every map each project touches (visible or not: whether the reader
    may see the project depends on them): two queries whatever the number of projects,
    and the steps' (``StepLinks``) when first read.

    The projects and visible maps come as ids read once: as subqueries, the visibility
    rules ran again inside every query. Beyond ``LINKS_BY_ID_MAX`` projects, ``scopes``
    (the querysets that read ``project_ids``, plain filters of the project table) limit
    the links read, by the link tables' project index: the open projects' links, not
    those of every project ever done or cancelled (two fifths at 10,000 maps).

    Hand-written SQL (the ORM's joins and orders): at 10,000 maps the ORM spent longer
    turning 25,000 link rows into Python than the database took to read them."""
    maps: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    pains: dict[int, list[PainShare]] = defaultdict(list)
    linked: dict[int, list[int]] = defaultdict(list)
    if not project_ids:
        return maps, StepLinks(dict), pains, linked
    wanted = set(project_ids)
    by_id = len(wanted) <= LINKS_BY_ID_MAX
    every_map = visible_map_ids is None
    q = connection.ops.quote_name
    within: list[tuple[str, tuple]] = []
    for scope in () if by_id else scopes:
        try:
            within.append(scope.order_by().values("pk").query.sql_with_params())
        except EmptyResultSet:  # .none(): adds no project
            continue

    def read(name: str, target, columns: str, order: str) -> list[tuple]:
        """``columns`` of the links of the projects' m2m field ``name`` joined to
        ``target`` ("t"), as tuples (project id first), in ``order``: the ORM's, to its
        last column (the link's id column, not the target's equal one: SQLite then walked
        the whole step table by its (map, position) index, 300 ms instead of 60 at 10,000
        maps)."""
        link, project, column = m2m_link(CXProject, name)
        where, params = "", []
        if by_id:
            where = f" WHERE l.{project} IN ({', '.join(['%s'] * len(wanted))})"
            params = sorted(wanted)
        elif within:
            where = " WHERE " + " OR ".join(f"l.{project} IN ({sql})" for sql, _ in within)
            params = [param for _, sub in within for param in sub]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT l.{project}, {columns} FROM {link} l"
                f" INNER JOIN {q(target._meta.db_table)} t ON t.{q('id')} = l.{column}"
                f"{where} ORDER BY {order}",
                params,
            )
            return cursor.fetchall()

    # the named tuples made as tuples (their generated __new__ is a Python call per link,
    # thousands at 10,000 maps): the same values, fields in order
    new = tuple.__new__
    for project_id, map_id, title, slug in read(
        "maps",
        JourneyMap,
        f"t.{q('id')}, t.{q('title')}, t.{q('slug')}",
        f"t.{q('tree_id')}, t.{q('lft')}",
    ):
        if project_id in wanted:
            linked[project_id].append(map_id)
            if every_map or map_id in visible_map_ids:
                maps[project_id].append((map_id, title, slug))

    def read_steps() -> dict[int, list[StepRef]]:
        steps: dict[int, list[StepRef]] = defaultdict(list)
        for project_id, step_id, name, map_id in read(
            "steps",
            Step,
            f"t.{q('id')}, t.{q('name')}, t.{q('map_id')}",
            f"t.{q('map_id')}, t.{q('position')}, l.{q('step_id')}",
        ):
            if project_id in wanted and (every_map or map_id in visible_map_ids):
                steps[project_id].append(new(StepRef, (step_id, name, map_id)))
        return steps

    steps = StepLinks(read_steps)
    for project_id, pain_id, title, map_id, severity, frequency in read(
        "pain_points",
        PainPoint,
        f"t.{q('id')}, t.{q('title')}, t.{q('map_id')}, t.{q('severity')}, t.{q('frequency')}",
        f"t.{q('title')}, l.{q('painpoint_id')}",
    ):
        if project_id in wanted and (every_map or map_id in visible_map_ids):
            pain = (pain_id, title, map_id, severity, frequency)
            pains[project_id].append(new(PainShare, pain))
    return maps, steps, pains, linked


def _shared_steps(visible_map_ids: Container[int] | None) -> SharedSteps:
    """``SharedSteps`` for the reader: the links of every project on a step of the given
    projects, and that step (one query, by the link table's step index), visible steps
    only (``visible_map_ids``; None: every map)."""

    def read(project_ids: list[int]) -> list[tuple]:
        link, project, column = m2m_link(CXProject, "steps")
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT a.{project}, b.{project}, t.{q('id')}, t.{q('name')},"
                f" t.{q('map_id')}, t.{q('position')} FROM {link} a"
                f" INNER JOIN {link} b ON b.{column} = a.{column}"
                f" INNER JOIN {q(Step._meta.db_table)} t ON t.{q('id')} = a.{column}"
                f" WHERE a.{project} IN ({', '.join(['%s'] * len(project_ids))})",
                project_ids,
            )
            rows = cursor.fetchall()
        if visible_map_ids is None:
            return rows
        return [row for row in rows if row[4] in visible_map_ids]

    return read


def _project_rows(projects: QuerySet[CXProject]) -> list[dict]:
    """``_PROJECT_FIELDS`` of ``projects`` by id, as dicts: ``values_list`` zipped, the
    same rows as ``values()`` in half the time (its dict comprehension per row cost
    15 ms for the 3,000 open projects at 10,000 maps)."""
    rows = projects.order_by("pk").values_list(*_PROJECT_FIELDS)
    return [dict(zip(_PROJECT_FIELDS, row, strict=True)) for row in rows]


def priority_index(score: float, best: float) -> int:
    """A score as a whole share of the best score ranked with it: 100 × score ÷ best,
    rounded half up (0 when no score is above 0).

    Why relative to the best and not a percentile: every method's score is value per
    unit of effort, so ratios mean something (50 = half the value per person-week of the
    top project), and a percentile would only restate the rank while hiding that the top
    project may be far ahead of the rest."""
    if best <= 0:
        return 0
    return int(100 * max(score, 0.0) / best + 0.5)


def portfolio_rank(
    *,
    projects: QuerySet[CXProject],
    others: QuerySet[CXProject] | None = None,
    visible_maps: QuerySet[JourneyMap] | None = None,
    method: str | None = None,
    weights: PrioritisationWeights | None = None,
    health: dict[int, float | None] | None = None,
    reader=None,
    visible_map_ids: Container[int] | None = None,
) -> Portfolio:
    """Score and rank ``projects`` by ``method`` (the saved one by default), with every
    method's score and rank, and the overlaps of active ones among ``projects`` and
    ``others`` (e.g. every visible project, when ``projects`` is a filtered view).

    ``visible_maps`` limits the maps, steps and pain points that count to those the
    reader may see (None: all); ``visible_map_ids`` is the same as ids already read.

    ``reader``: ``projects`` and ``others`` are not limited to what the reader may see
    yet; the projects the reader may not see (``permissions.visible_projects``) are
    dropped here, from the map links read anyway and the visible maps' ids
    (``visible_map_ids``, or read here for ``reader``), and only the reader's visible
    maps count. The same projects as filtering the queries by ``visible_projects``,
    whose EXISTS per project over the visible maps took seconds at 10,000 maps.

    Fixed number of queries (see the module docstring).
    """
    if weights is None:
        weights = current_weights()
    method = method if method in METHODS else weights.method
    reading = reader is not None and visible_map_ids is None and visible_maps is None
    if reading and not permissions.is_leadership(reader):
        visible_maps = permissions.visible_maps_resolved(reader)
    visible_ids = visible_map_ids
    if visible_ids is None and visible_maps is not None:
        visible_ids = set(visible_maps.values_list("pk", flat=True))
    # by id: the order of the rows decides the order of an overlap's reasons
    rows = _project_rows(projects)
    extra: list[dict] = []
    if others is not None:
        # the ranked ones are dropped here, not by a subquery: that repeated the
        # visibility rules of ``projects`` inside this query (3 s at 10,000 maps)
        ranked_ids = {row["pk"] for row in rows}
        extra = [
            row
            for row in _project_rows(others.filter(status__in=ACTIVE))
            if row["pk"] not in ranked_ids
        ]
    # with ``reader`` the querysets are plain filters of the project table, cheap to run
    # again inside the link queries (without it they may hold the visibility rules)
    scopes: list[QuerySet[CXProject]] = []
    if reader is not None:
        scopes = [projects] if others is None else [projects, others.filter(status__in=ACTIVE)]
    maps, steps, pains, linked = _load_links(
        [row["pk"] for row in [*rows, *extra]], visible_ids, scopes
    )
    if reader is not None:
        sees = permissions.project_visibility(reader, visible_ids)
        rows, extra = (
            [r for r in group if sees(r["owner_id"], r["team_id"], linked.get(r["pk"], ()))]
            for group in (rows, extra)
        )
    ranked_ids = {row["pk"] for row in rows}
    if health is None:
        touched = {m[0] for row in [*rows, *extra] for m in maps.get(row["pk"], [])}
        health = scoring.health_values(touched, weights=scoring.current_weights())
    map_gaps: dict[int, MapGap] = {}  # one per map, shared by its projects (immutable)
    scored = [
        _project_score(row, maps, steps, pains, health, map_gaps, method, weights)
        for row in [*rows, *extra]
    ]
    # overlaps are found when read: a page reads those of its fifty rows
    active = [p for p in scored if p.status in ACTIVE]
    finder = OverlapFinder(active, _shared_steps(visible_ids))
    for p in active:
        p.overlap_finder = finder
    ranked = [p for p in scored if p.project_id in ranked_ids]
    # by title and id once, then by each method's score alone: a stable sort keeps the
    # title order among equal scores, the same order as ``_rank``'s key, in a third the
    # time (no tuple per project and method)
    ranked.sort(key=_BY_TITLE)
    by_method: dict[str, list[ProjectScore]] = {}
    values = [p.values for p in ranked]
    for m in METHODS:
        # positions sorted by a list's own item getter (no Python call per project):
        # the same keys in the same order as sorting the projects, so the same order
        scores = [v[m] for v in values]
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
        ordered = [ranked[i] for i in order]
        by_method[m] = ordered
        best = scores[order[0]] if order else 0.0
        for position, i in enumerate(order, start=1):
            p = ranked[i]
            p.ranks[m] = position
            score = scores[i]
            # ``priority_index`` inlined (called per project and method)
            p.indexes[m] = int(100 * max(score, 0.0) / best + 0.5) if best > 0 else 0
    return Portfolio(method=method, weights=weights, projects=by_method[method])


_BY_TITLE = attrgetter("title", "project_id")
_RICE, _WSJF, _VALUE_EFFORT = METHODS  # plain strings, the keys of ``values``


def _values(
    reach: int, impact: int, confidence: int, effort: float, gap: float, pain: float, w
) -> dict[str, float]:
    """Every method's score: the arithmetic of ``_rice``, ``_wsjf`` and
    ``_value_effort`` in the same order (the same floats, to the last bit), without
    their parts, three calls and a lookup each (per project, thousands at 10,000 maps)."""
    capped = min(1.0, pain)
    bv = 2 * impact
    return {
        _RICE: reach
        * impact
        * (confidence / 100)
        / effort
        * (1 + w.health_gap * gap)
        * (1 + w.pain * pain),
        _WSJF: (
            w.business_value * bv
            + w.time_criticality * (10 * gap)
            + w.risk_reduction * (10 * capped)
        )
        / effort,
        _VALUE_EFFORT: (w.customer_value * (5 * gap + 5 * capped) + w.business_value * bv) / effort,
    }


def _project_score(
    row: dict,
    maps: dict[int, list[tuple[int, str, str]]],
    steps: StepLinks,
    pains: dict[int, list[PainShare]],
    health: dict[int, float | None],
    known: dict[int, MapGap],
    method: str,
    weights: PrioritisationWeights,
) -> ProjectScore:
    pk = row["pk"]
    map_gaps = []
    # ``gap_of`` and ``pain_of`` inlined (per project): the same additions in the same
    # order from 0 as ``sum``, so the same floats (and pain 0, an int, without pain points)
    gaps, counted = 0, 0
    for link in maps.get(pk, ()):
        gap_of_map = known.get(link[0])
        if gap_of_map is None:
            map_id, title, slug = link
            h = health.get(map_id)
            gap_of_map = known[map_id] = MapGap(
                map_id, title, slug, h, None if h is None else (100 - h) / 100
            )
        map_gaps.append(gap_of_map)
        if (map_gap := gap_of_map[4]) is not None:
            gaps += map_gap
            counted += 1
    gap = gaps / counted if counted else 0.0
    pain_points = pains.get(pk, [])
    pain = 0
    for _, _, _, severity, frequency in pain_points:
        pain += severity * frequency / 25
    cost = row["cost"]
    reach, impact, confidence, effort = (
        row["reach"],
        row["impact"],
        row["confidence"],
        row["effort"],
    )
    return ProjectScore(
        pk,
        row["title"],
        row["status"],
        row["owner_id"],
        _owner_name(row),
        row["team_id"],
        row["team__name"] or "",
        row["start_date"],
        row["end_date"],
        reach,
        impact,
        confidence,
        effort,
        None if cost is None else float(cost),
        map_gaps,
        pain_points,
        gap,
        pain,
        _values(reach, impact, confidence, effort, gap, pain, weights),
        method,
        weights,
        step_links=steps,
    )


# Every value severity × frequency can take (1…5 × 1…5), worst first.
SEVERITY_FREQUENCY = sorted({s * f for s in range(1, 6) for f in range(1, 6)}, reverse=True)
_UNADDRESSED_FIELDS = (
    "pk",
    "title",
    "kind",
    "severity",
    "frequency",
    "map_id",
    "map__title",
    "map__slug",
)


def unaddressed_pain_points(
    *,
    pain_points: QuerySet[PainPoint],
    limit: int = UNADDRESSED_LIMIT,
    health: dict[int, float | None] | None = None,
) -> list[UnaddressedPain]:
    """The pain points of ``pain_points`` (those the reader may see) that no project
    other than a cancelled one addresses, ranked by severity × frequency × (1 + gap).

    ``health``: the health of every map the pain points may be on (a map missing from
    it has none); without it, the health of the maps read is computed here.

    Never loads every pain point. A pain point scoring s has a priority of at most
    s × (1 + its map's gap); the ``limit``-th best priority found is the bar, and only
    what can still beat it is read:

    1. the worst ones (severity × frequency 25) on the ``TOP_GAP_MAPS`` maps with the
       largest gaps, when ``health`` is given: where many are worst (the repository of
       #16 has 57,000 at 10,000 maps), these hold the top of the list; when their bar
       is above what any other map's worst could reach (25 × (1 + the next gap)), the
       other worst ones are never read;
    2. else the worst ones on every map (few, wherever few are worst);
    3. the lower severity × frequency values that can still reach the bar, and only on
       the maps whose gap lets them (none, whenever the worst ones fill the list above
       what the rest could reach).

    The order and the numbers are those of sorting every pain point in Python. One to
    five queries: those above, health (KPIs, ratings) when not given."""
    addressed = CXProject.pain_points.through.objects.exclude(
        cxproject__status=CXProject.Status.CANCELLED
    ).values("painpoint_id")
    open_points = pain_points.exclude(pk__in=addressed).order_by()
    worst = SEVERITY_FREQUENCY[0]
    band = open_points.filter(severity=5, frequency=5)
    health_of: dict[int, float | None] = health if health is not None else {}
    # maps with a gap, the largest first: (gap, map id)
    by_gap = [((100 - h) / 100, pk) for pk, h in health_of.items() if h is not None and h < 100]
    # by map id, then by gap descending (stable): the largest gap first, ties by id
    by_gap.sort(key=itemgetter(1))
    by_gap.sort(key=itemgetter(0), reverse=True)
    rows: list[dict] = []
    complete = False
    if by_gap:
        top = by_gap[:TOP_GAP_MAPS]
        next_gap = by_gap[TOP_GAP_MAPS][0] if len(by_gap) > TOP_GAP_MAPS else 0.0
        # s × f = 25 (only 5 × 5) as an expression, so the database reads these maps'
        # pain points by their map index rather than every worst one by severity
        on_top_maps = (
            open_points.annotate(severity_frequency=F("severity") * F("frequency"))
            .filter(severity_frequency=worst, map_id__in=[pk for _, pk in top])
            .values(*_UNADDRESSED_FIELDS)
        )
        rows = list(on_top_maps)
        found = _ranked_unaddressed(rows, health_of, limit)
        # strictly above: a pain point elsewhere with an equal priority could win on title
        complete = len(found) >= limit and found[limit - 1].priority > worst * (1 + next_gap)
    if not complete:
        rows = list(band.values(*_UNADDRESSED_FIELDS))
    # the largest factor (1 + gap) any map can give: 2 when the health is not known
    factor_max = 2.0 if health is None else max([1.0, *(1 + g for g, _ in by_gap[:1])])
    if health is None:
        health_of.update(_health_of(rows))
    found = _ranked_unaddressed(rows, health_of, limit)
    bar = found[limit - 1].priority if len(found) >= limit else None
    below = [s for s in SEVERITY_FREQUENCY if s < worst]
    if bar is not None:
        # strictly above the bar: an equal priority could still win on its title
        below = [s for s in below if s * factor_max >= bar]
    if below:
        more_points = open_points.annotate(severity_frequency=F("severity") * F("frequency"))
        more_points = more_points.filter(severity_frequency__in=below)
        if bar is not None and health is not None:
            # only maps whose gap lets the highest value left reach the bar (a map
            # without a gap cannot: bar ≥ 25 > every lower value)
            reach = [pk for g, pk in by_gap if below[0] * (1 + g) >= bar]
            if len(reach) <= MAP_FILTER_MAX:
                more_points = more_points.filter(map_id__in=reach)
        more = list(more_points.values(*_UNADDRESSED_FIELDS))
        if health is None:
            health_of.update(_health_of(more))
        found = _ranked_unaddressed(rows + more, health_of, limit)
    return found[:limit]


# The worst pain points are read first on this many maps of the largest gaps.
TOP_GAP_MAPS = 100
# Beyond this many maps, the lower values are read without a list of map ids (a long
# IN list costs more than the rows it would spare).
MAP_FILTER_MAX = 2000


def _gap(health: float | None) -> float:
    return 0.0 if health is None else (100 - health) / 100


def _health_of(rows: list[dict]) -> dict[int, float | None]:
    return scoring.health_values({row["map_id"] for row in rows}, weights=scoring.current_weights())


def _ranked_unaddressed(
    rows: list[dict], health: dict[int, float | None], limit: int
) -> list[UnaddressedPain]:
    """The ``limit`` best of ``rows`` by priority, then title, then id."""
    keyed = []
    for row in rows:
        gap = _gap(health.get(row["map_id"]))
        keyed.append((-(row["severity"] * row["frequency"] * (1 + gap)), row["title"], row["pk"]))
    best = heapq.nsmallest(limit, keyed)
    by_pk = {row["pk"]: row for row in rows}
    found = []
    for priority, _, pk in best:
        row = by_pk[pk]
        map_health = health.get(row["map_id"])
        found.append(
            UnaddressedPain(
                pain_point_id=pk,
                title=row["title"],
                kind=row["kind"],
                severity=row["severity"],
                frequency=row["frequency"],
                map_id=row["map_id"],
                map_title=row["map__title"],
                map_slug=row["map__slug"],
                health=map_health,
                gap=_gap(map_health),
                priority=-priority,
            )
        )
    return found


# --- the impact-versus-effort chart --------------------------------------------------

QUADRANTS = {
    "quick_win": "Quick wins",
    "big_bet": "Big bets",
    "maybe": "Maybes",
    "time_sink": "Time sinks",
}
HIGH_IMPACT_FROM = 3  # impact 3–5 is high, 1–2 low


def effort_split(projects: list[ProjectScore]) -> float:
    """The median effort: the line between low and high effort."""
    efforts = sorted(p.effort for p in projects)
    if not efforts:
        return 1.0
    mid = len(efforts) // 2
    return efforts[mid] if len(efforts) % 2 else (efforts[mid - 1] + efforts[mid]) / 2


# Efforts spread over at least this ratio (largest ÷ smallest) are charted on a log
# axis: on a linear one a single 200-week project squeezes every 1–10-week one into the
# first few pixels.
LOG_AXIS_FROM = 10.0


def effort_axis(efforts: Iterable[float]) -> dict:
    """The effort axis of the chart: ``{"type": "linear" | "logarithmic", "min", "max"}``.

    Linear from 0 while the efforts stay within ``LOG_AXIS_FROM`` of each other; else
    logarithmic, with room (a factor ``AXIS_ROOM``, two significant digits) below the
    smallest and above the largest effort so the bubbles at the edges are drawn whole.
    """
    values = [e for e in efforts if e > 0]
    if not values:
        return {"type": "linear", "min": 0, "max": 1}
    low, high = min(values), max(values)
    if high / low < LOG_AXIS_FROM:
        return {"type": "linear", "min": 0, "max": float(math.ceil(high * 1.1))}
    return {
        "type": "logarithmic",
        "min": _two_digits(low / AXIS_ROOM),
        "max": _two_digits(high * AXIS_ROOM),
    }


AXIS_ROOM = 1.6


def _two_digits(value: float) -> float:
    """``value`` to two significant digits: a tidy axis end (0.625 → 0.62, 320 → 320)."""
    return float(f"{value:.2g}")


def quadrant_of(project: ProjectScore, split: float) -> str:
    high = project.impact >= HIGH_IMPACT_FROM
    low_effort = project.effort <= split
    if high:
        return "quick_win" if low_effort else "big_bet"
    return "maybe" if low_effort else "time_sink"

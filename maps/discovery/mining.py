"""From an event log to a proposed map: the summary of one pass, and the proposal.

The pass (``summarise``)
------------------------
Events are grouped into cases and each case's events sorted by time (ties keep file
order). How much is held depends on the log's order, tried from the cheapest:

* **sorted** by case id (ascending; digit-only ids by number, as the event import asks):
  only the open case's events are held, nothing per finished case;
* **grouped** (each case's events together, in any case order, as XES traces are): the
  open case, plus one hash per finished case to notice a case that comes back;
* **ungrouped** (events of cases interleaved): every case as three compact arrays (8
  bytes of time, 2 of activity, 1 of channel per event) until the end.

A pass that finds its assumption wrong starts again with the next mode. Beyond that,
what is kept across cases is bounded by the number of activities (at most
``MAX_ACTIVITIES``), never by the number of events:

* per activity: the cases it occurs in, its occurrences, a histogram of its relative
  position in its cases (``i / (n − 1)`` for the i-th of n events; ``BINS`` bins), how
  many cases start and end there;
* per pair of activities: the cases in which one directly follows the other (and how
  often), and the cases holding both (to tell a branch from a skip);
* the most frequent variants (a case's activity sequence), counted in at most
  ``2 × VARIANT_SLOTS`` counters: when they fill up the less frequent half is dropped
  and the largest dropped count is remembered, so a variant's count is exact unless
  ``variants_exact`` is false, and then low by at most ``variant_error``.

The proposal (``propose``)
--------------------------
* **Steps**: one per activity, ordered by their median relative position in the cases
  (then mean position, then more cases first, then name).
* **Links**: a transition a → b happening in at least ``link_threshold`` % of the cases
  becomes a step link unless b is the step right after a (the map's order already says
  that): back to an earlier step is a **loop**; forward over steps is a **branch** when
  one of the steps it jumps over is an alternative to a or to b (they share at most
  ``EXCLUSIVE_SHARE`` of the smaller one's cases), else a **skip** (the jumped-over
  steps are optional). Its label gives the share of cases. A step that directly
  follows itself that often is marked recurring (a link may not point to its own step).
* **End steps**: activities that at least ``end_threshold`` % of the cases end with; the
  most frequent end is proposed as the successful one, the others as other ends.
* **Variants**: the ``TOP_VARIANTS`` most frequent, with their share of cases.
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from django.utils.text import slugify

from ..imports import ImportRefused, Problems
from .logs import read_events

BINS = 1001  # relative positions 0.000 … 1.000
MAX_ACTIVITIES = 500
MAX_CHANNELS = 50  # kept for the import written from an ungrouped log; more are "other"
VARIANT_SLOTS = 1000
TOP_VARIANTS = 10
EXCLUSIVE_SHARE = 0.1
DEFAULT_LINK_THRESHOLD = 5.0
DEFAULT_END_THRESHOLD = 5.0

Opener = Callable[[], IO[bytes]]


MODES = ("sorted", "grouped", "ungrouped")


class _WrongMode(Exception):
    """The log is not in the order the pass assumed: read it again in the next mode."""


def _case_order(case: str) -> tuple[int, int, str]:
    """Sort key of a case id: digit-only ids by number (before the others), else text."""
    return (0, int(case), "") if case.isdigit() and len(case) < 19 else (1, 0, case)


# --- cases from events ---------------------------------------------------------------------


@dataclass
class Case:
    """One case's events in time order."""

    case: str
    times: list[float]
    activities: list[str]
    channels: list[str]


def _in_time_order(case: str, times, activities, channels) -> Case:
    n = len(times)
    if any(times[i] > times[i + 1] for i in range(n - 1)):
        order = sorted(range(n), key=times.__getitem__)  # stable: ties keep file order
        times = [times[i] for i in order]
        activities = [activities[i] for i in order]
        channels = [channels[i] for i in order]
    return Case(case, list(times), list(activities), list(channels))


def cases(
    stream: IO[bytes], problems: Problems, *, mode: str, activity_column: str = ""
) -> Iterator[Case]:
    """The log's cases, each once, its events in time order, read in ``mode`` (see the
    module docstring; raises ``_WrongMode`` when the log is not in that order). Nothing
    is yielded once a problem is found (the reading goes on, to count them)."""
    events = read_events(stream, problems, activity_column=activity_column)
    if mode != "ungrouped":
        in_order = mode == "sorted"
        previous: tuple[int, int, str] | None = None
        finished: set[int] = set()  # hashes of closed cases: a collision only costs a re-read
        current: str | None = None
        times: list[float] = []
        activities: list[str] = []
        channels: list[str] = []
        for case, activity, moment, channel in events:
            if case != current:
                if current is not None:
                    if not problems:
                        yield _in_time_order(current, times, activities, channels)
                    if not in_order:
                        finished.add(hash(current))
                if in_order:
                    key = _case_order(case)
                    if previous is not None and key <= previous:
                        raise _WrongMode
                    previous = key
                elif hash(case) in finished:
                    raise _WrongMode
                current, times, activities, channels = case, [], [], []
            times.append(moment)
            activities.append(activity)
            channels.append(channel)
        if current is not None and not problems:
            yield _in_time_order(current, times, activities, channels)
        return
    names: dict[str, int] = {}
    channel_names: dict[str, int] = {}
    held: dict[str, tuple[array, array, array]] = {}
    for case, activity, moment, channel in events:
        entry = held.get(case)
        if entry is None:
            entry = held[case] = (array("d"), array("H"), array("B"))
        activity_index = names.setdefault(activity, len(names))
        if activity_index >= MAX_ACTIVITIES:
            raise _too_many_activities()
        if channel not in channel_names and len(channel_names) >= MAX_CHANNELS:
            channel = "other"
        entry[0].append(moment)
        entry[1].append(activity_index)
        entry[2].append(channel_names.setdefault(channel, len(channel_names)))
    if problems:
        return
    activity_list, channel_list = list(names), list(channel_names)
    while held:
        case = next(iter(held))
        times_, acts, chans = held.pop(case)  # freed as it goes
        yield _in_time_order(
            case,
            times_,
            [activity_list[i] for i in acts],
            [channel_list[i] for i in chans],
        )


def _too_many_activities() -> ImportRefused:
    return ImportRefused(
        [
            f"the log has more than {MAX_ACTIVITIES} different activities; a map has a step "
            "for each: is the activity column the right one?"
        ]
    )


# --- the summary -----------------------------------------------------------------------------


@dataclass
class LogSummary:
    """What one pass over a log keeps (JSON-ready; see the module docstring)."""

    events: int
    cases: int
    grouped: bool  # each case's events together (sorted or grouped mode)
    mode: str  # the mode the log was read in (MODES)
    first_event: str
    last_event: str
    activities: list[str]
    case_counts: list[int]
    occurrences: list[int]
    median_position: list[float]
    mean_position: list[float]
    starts: list[int]
    ends: list[int]
    follows: list[list[int]]  # [a, b, cases, occurrences]
    together: list[list[int]]  # [a, b, cases] with a < b
    variants: list[list[Any]]  # [[activity indexes], cases], most frequent first
    variants_exact: bool
    variant_error: int
    distinct_variants_seen: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogSummary:
        return cls(**data)


@dataclass
class _Tally:
    index: dict[str, int] = field(default_factory=dict)
    case_counts: list[int] = field(default_factory=list)
    occurrences: list[int] = field(default_factory=list)
    histograms: list[array] = field(default_factory=list)
    position_sums: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    follow_cases: dict[tuple[int, int], int] = field(default_factory=dict)
    follow_count: dict[tuple[int, int], int] = field(default_factory=dict)
    together: dict[tuple[int, int], int] = field(default_factory=dict)
    variants: dict[tuple[int, ...], int] = field(default_factory=dict)
    variant_error: int = 0
    distinct_variants: int = 0
    cases: int = 0
    events: int = 0
    first: float = float("inf")
    last: float = float("-inf")

    def _activity(self, name: str) -> int:
        number = self.index.get(name)
        if number is None:
            if len(self.index) >= MAX_ACTIVITIES:
                raise _too_many_activities()
            number = self.index[name] = len(self.index)
            for counts in (self.case_counts, self.occurrences, self.starts, self.ends):
                counts.append(0)
            self.histograms.append(array("I", bytes(4 * BINS)))
            self.position_sums.append(0.0)
        return number

    def add(self, case: Case) -> None:
        activity = self._activity
        acts = [activity(name) for name in case.activities]
        n = len(acts)
        self.cases += 1
        self.events += n
        self.first = min(self.first, case.times[0])
        self.last = max(self.last, case.times[-1])
        last = n - 1
        occurrences, histograms, sums = self.occurrences, self.histograms, self.position_sums
        scale = (BINS - 1) / last if last else 0.0
        for i, a in enumerate(acts):
            occurrences[a] += 1
            histograms[a][int(i * scale + 0.5)] += 1
            sums[a] += i / last if last else 0.0
        follow_count = self.follow_count
        pairs = set()
        for i in range(last):
            pair = (acts[i], acts[i + 1])
            follow_count[pair] = follow_count.get(pair, 0) + 1
            pairs.add(pair)
        follow_cases = self.follow_cases
        for pair in pairs:
            follow_cases[pair] = follow_cases.get(pair, 0) + 1
        distinct = sorted(set(acts))
        for a in distinct:
            self.case_counts[a] += 1
        together = self.together
        for i, a in enumerate(distinct):
            for b in distinct[i + 1 :]:
                together[(a, b)] = together.get((a, b), 0) + 1
        self.starts[acts[0]] += 1
        self.ends[acts[-1]] += 1
        self._count_variant(tuple(acts))

    def _count_variant(self, variant: tuple[int, ...]) -> None:
        variants = self.variants
        if variant in variants:
            variants[variant] += 1
            return
        self.distinct_variants += 1
        variants[variant] = 1  # a lower bound: it may have been dropped before
        if len(variants) >= 2 * VARIANT_SLOTS:
            ranked = sorted(variants.items(), key=lambda item: -item[1])
            self.variant_error = max(self.variant_error, ranked[VARIANT_SLOTS][1])
            self.variants = dict(ranked[:VARIANT_SLOTS])

    def summary(self, *, mode: str) -> LogSummary:
        medians, means = [], []
        for a, histogram in enumerate(self.histograms):
            total = self.occurrences[a]
            half, seen, median = total / 2, 0, 0
            for position, count in enumerate(histogram):
                seen += count
                if seen >= half and count:
                    median = position
                    break
            medians.append(round(median / (BINS - 1), 3))
            means.append(round(self.position_sums[a] / total, 4) if total else 0.0)
        ranked = sorted(self.variants.items(), key=lambda item: (-item[1], len(item[0])))
        return LogSummary(
            events=self.events,
            cases=self.cases,
            grouped=mode != "ungrouped",
            mode=mode,
            first_event=dt.datetime.fromtimestamp(self.first, dt.UTC).isoformat(),
            last_event=dt.datetime.fromtimestamp(self.last, dt.UTC).isoformat(),
            activities=list(self.index),
            case_counts=self.case_counts,
            occurrences=self.occurrences,
            median_position=medians,
            mean_position=means,
            starts=self.starts,
            ends=self.ends,
            follows=[
                [a, b, cases, self.follow_count[(a, b)]]
                for (a, b), cases in sorted(self.follow_cases.items())
            ],
            together=[[a, b, cases] for (a, b), cases in sorted(self.together.items())],
            variants=[[list(v), count] for v, count in ranked[:TOP_VARIANTS]],
            variants_exact=self.variant_error == 0,
            variant_error=self.variant_error,
            distinct_variants_seen=self.distinct_variants,
        )


def summarise(opener: Opener, *, activity_column: str = "") -> LogSummary:
    """Read the log ``opener()`` returns (again, in the next mode, if it is not in the
    order a mode assumes) into its summary. Raises ``ImportRefused`` with the problems
    (the first ones, then "… and N more")."""
    for mode in MODES[:-1]:
        try:
            return _summarise(opener, mode=mode, activity_column=activity_column)
        except _WrongMode:
            continue
    return _summarise(opener, mode=MODES[-1], activity_column=activity_column)


def _summarise(opener: Opener, *, mode: str, activity_column: str) -> LogSummary:
    problems = Problems()
    tally = _Tally()
    with opener() as stream:
        for case in cases(stream, problems, mode=mode, activity_column=activity_column):
            tally.add(case)
    if problems:
        raise problems.refused()
    if not tally.cases:
        raise ImportRefused(["the file has no events (below its header, or in its traces)"])
    return tally.summary(mode=mode)


# --- the proposal ----------------------------------------------------------------------------


@dataclass
class ProposedStep:
    activity_index: int
    activity: str
    name: str
    position: int
    cases: int
    case_share: float
    occurrences: int
    median_position: float
    end_share: float
    start_share: float
    is_end: bool
    end_kind: str  # "", "success", "other"
    is_recurring: bool


@dataclass
class ProposedLink:
    from_position: int
    to_position: int
    kind: str  # StepLink.Kind values
    cases: int
    share: float

    @property
    def label(self) -> str:
        return f"{_share_text(self.share)} of cases"


@dataclass
class Transition:
    """A frequent transition to the next step in the map's order: no link needed."""

    from_position: int
    to_position: int
    cases: int
    share: float


@dataclass
class Variant:
    steps: list[str]
    cases: int
    share: float


@dataclass
class Proposal:
    steps: list[ProposedStep]
    links: list[ProposedLink]
    flow: list[Transition]
    variants: list[Variant]
    link_threshold: float
    end_threshold: float
    cases: int
    events: int
    variants_exact: bool

    def step_at(self, position: int) -> ProposedStep:
        return self.steps[position]


def _share_text(share: float) -> str:
    return f"{share:.1f} %".replace(".0 %", " %")


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _order(summary: LogSummary) -> list[int]:
    """Activity indexes in step order (see the module docstring)."""
    return sorted(
        range(len(summary.activities)),
        key=lambda a: (
            summary.median_position[a],
            summary.mean_position[a],
            -summary.case_counts[a],
            summary.activities[a],
        ),
    )


def propose(
    summary: LogSummary,
    *,
    link_threshold: float = DEFAULT_LINK_THRESHOLD,
    end_threshold: float = DEFAULT_END_THRESHOLD,
    names: dict[int, str] | None = None,
    end_kinds: dict[int, str] | None = None,
) -> Proposal:
    """The proposed map for these thresholds (percent of cases). ``names`` and
    ``end_kinds`` (by activity index) are the owner's choices, kept over the defaults."""
    cases = summary.cases
    order = _order(summary)
    position_of = {a: p for p, a in enumerate(order)}
    self_follows = {a: c for a, b, c, _ in summary.follows if a == b}
    ends = [(summary.ends[a], a) for a in order if _share(summary.ends[a], cases) >= end_threshold]
    main_end = max(ends)[1] if ends else None
    steps = []
    for position, a in enumerate(order):
        end_share = _share(summary.ends[a], cases)
        is_end = end_share >= end_threshold
        default_kind = ("success" if a == main_end else "other") if is_end else ""
        kind = (end_kinds or {}).get(a, default_kind)
        steps.append(
            ProposedStep(
                activity_index=a,
                activity=summary.activities[a],
                name=((names or {}).get(a) or summary.activities[a])[:160],
                position=position,
                cases=summary.case_counts[a],
                case_share=_share(summary.case_counts[a], cases),
                occurrences=summary.occurrences[a],
                median_position=summary.median_position[a],
                end_share=end_share,
                start_share=_share(summary.starts[a], cases),
                is_end=bool(kind),
                end_kind=kind,
                is_recurring=_share(self_follows.get(a, 0), cases) >= link_threshold
                and a in self_follows,
            )
        )
    together = {(a, b): c for a, b, c in summary.together}

    def exclusive(a: int, b: int) -> bool:
        both = together.get((min(a, b), max(a, b)), 0)
        return both <= EXCLUSIVE_SHARE * min(summary.case_counts[a], summary.case_counts[b])

    links, flow = [], []
    for a, b, n, _ in summary.follows:
        share = _share(n, cases)
        if a == b or share < link_threshold:
            continue
        source, target = position_of[a], position_of[b]
        if target == source + 1:
            flow.append(Transition(source, target, n, share))
            continue
        if target < source:
            kind = "loop"
        else:
            jumped = order[source + 1 : target]
            kind = "branch" if any(exclusive(s, a) or exclusive(s, b) for s in jumped) else "skip"
        links.append(ProposedLink(source, target, kind, n, share))
    links.sort(key=lambda link: (link.from_position, link.to_position))
    flow.sort(key=lambda t: t.from_position)
    shown = {step.activity_index: step.name for step in steps}
    variants = [
        Variant([shown[a] for a in sequence], count, _share(count, cases))
        for sequence, count in summary.variants
    ]
    return Proposal(
        steps=steps,
        links=links,
        flow=flow,
        variants=variants,
        link_threshold=link_threshold,
        end_threshold=end_threshold,
        cases=cases,
        events=summary.events,
        variants_exact=summary.variants_exact,
    )


def step_keys(names: list[str]) -> list[str]:
    """A unique slug key per step name (``Step.key``: 80 characters), in order."""
    keys: list[str] = []
    taken: set[str] = set()
    for name in names:
        base = slugify(name)[:72] or "step"
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        taken.add(key)
        keys.append(key)
    return keys

"""Journey analytics from event logs: a CSV of what customers did, step by step, turned
into per-step and per-path funnel figures and into measurements of the map's analytics
KPIs. Documented for users in ``docs/events.md``.

The file
--------
CSV, UTF-8, a header line. Column names are case-insensitive:

``case_id`` or ``customer_id``
    Whose journey the event belongs to.
``step_key``, ``step`` or ``activity`` (or the column chosen on upload)
    What happened: the ``key`` of one of the map's steps, or an activity name the map's
    activity mapping (``EventActivityMapping``) sends to a step.
``timestamp``
    ISO 8601 (``2026-05-03T09:15:00Z``, ``2026-05-03 09:15:00+02:00``, ``2026-05-03``);
    without an offset it is read as UTC.
``channel`` (optional)
    Where it happened (``app``, ``branch`` …); may be empty. Counted, not analysed.
``outcome`` (optional)
    ``completed`` on any event of a case marks the case completed; other values are
    kept as they are and ignored.

Order: **the events of one case must be together** (sort the file by case id); within a
case they may come in any order — they are sorted by timestamp (ties keep file order).
That is what bounds memory: only the current case's ``(timestamp, step)`` pairs are
held, plus one number per case (its duration), one per step transition (for the
medians), one count per distinct path (variant) and the set of case ids seen (to refuse
a file whose cases are not together). The file is read line by line; 1,000,000 events
import in well under 10 s and 200 MB (``benchmarks/events.py``).

Activities. Each event's activity is looked up in the map's activity mapping first,
then among the steps' keys. Activities found in neither are **unmapped**: an upload
stops before writing anything and waits for the owner to map them (the import page
offers a step picker, defaulting to a step whose key or name matches case-insensitively);
the mapping is remembered for later imports. Once the owner has confirmed the mapping,
rows of activities still unmapped are left out and reported with their counts.

All or nothing: every line is checked while the figures are computed; any problem (bad
timestamp, empty case id, a case split in two …) is reported with its line number and
column — the first ``MAX_PROBLEMS`` and "… and N more" — and nothing is written. Writes
happen only at the end, in one transaction, with bulk upserts (a fixed number of
queries, whatever the events).

The figures
-----------
Steps are taken in map order (``position``, then id): s₀ … sₙ₋₁. A case's events are
sorted by time; consecutive events at the same step are one **visit**; the sequence of
its visits is the case's **path**. A case **ends** at the step of its last event.

**End steps** are the steps whose ``end_kind`` is set (a successful end or another
end). A map that declares none is read with today's rule: its last step is the only end,
and a case is completed when it reached it at any time.

* **reached(s)**: cases with at least one event at s ("customers reaching it").
* **converted(s)**: cases that reached s and, after their first visit of s, reached a
  step further along the map (any sⱼ with j > i, so a skip counts); **conversion(s)** =
  converted ÷ reached, in %. Not given for end steps (ending there is not a loss).
* **ended(s)**: cases whose last event is at s; those of them that are completed, and
  **drop-off(s)**: those that are not — never at an end step; as a rate, ÷ reached.
* **repeat rate(s)**: cases with two or more visits of s (they left it and came back: a
  loop) ÷ reached, in %.
* **median time to next step(s)**: over the converted cases, the median of the time
  from their first event at s to the first event after it at a step further along.
* **completion rate**: completed cases ÷ all cases, in %; a case is completed when it
  ends at an end step (declared ends; without any: it reached the last step) or any of
  its events has the outcome ``completed``.
* **success rate**: cases ending at a successful end ÷ all cases, in % (only when the
  map declares a successful end).
* **median duration**: the median over all cases of last event − first event.
* **main paths**: the ``MAX_PATHS`` most frequent paths, each with its share of cases
  and its funnel: per position, the cases that followed the path so far, those that
  went on along it, ended there (completed or dropped off) or took another way. Paths
  are counted up to ``MAX_DISTINCT_PATHS`` distinct ones of at most ``MAX_PATH_VISITS``
  visits (memory); cases beyond count everywhere else and as ``untracked_paths``.

Medians of an even count are the mean of the two middle values. Durations are stored
in seconds and shown in the unit that fits (``maps.durations``).

Measurements
------------
Each figure becomes an observation (and so the period's measurement) of an analytics
KPI (``source = analytics``) on the map, created on first import and matched by
``import_key`` afterwards, so re-importing updates instead of duplicating:

* ``analytics:<step key>:conversion`` — "Conversion after <step>", a ratio
  (converted ÷ reached, %), higher is better, one per step but the end steps;
* ``analytics:completion`` — "Journey completion rate", a ratio, higher is better;
* ``analytics:success`` — "Journey success rate", a ratio, higher is better (only when
  the map declares a successful end);
* ``analytics:median-duration`` — "Median journey duration (hours)", lower is
  better (a KPI keeps one unit across periods: hours).

The date of the observations is the **period**: given on upload (or ``--period``), else
the first day of the month of the log's last event. Importing a log of the same period
again replaces that period's figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .durations import duration_text
from .imports import (
    ImportRefused,
    Problems,
    csv_problem,
    encoding_problem,
    kpis_save_imported,
)
from .models import KPI, EventActivityMapping, EventImport, JourneyMap, Step
from .models.common import EARLIEST_YEAR, MAX_YEARS_AHEAD
from .models.metrics import ANALYTICS_KEY_PREFIX
from .services import ObservationInput, observations_record_many
from .sql import prepared

logger = logging.getLogger(__name__)

CASE_COLUMNS = ("case_id", "customer_id")
STEP_COLUMNS = ("step_key", "step", "activity")
COMPLETED = "completed"
MAX_CHANNELS = 50  # distinct channels counted; more are lumped together as "other"
MAX_LINE_BYTES = 1024 * 1024  # a longer line is not an event: refuse it, never hold it
MAX_PATHS = 5  # main paths given a funnel of their own
# bounds on the paths counted (memory: one tuple per distinct path); cases beyond them
# still count in every other figure, and as untracked paths
MAX_DISTINCT_PATHS = 100_000
MAX_PATH_VISITS = 100
#: distinct unmapped activities remembered; a log with more is read with the wrong column
MAX_UNMAPPED = 500
MAX_ACTIVITY = EventActivityMapping._meta.get_field("activity").max_length
SHOWN_UNMAPPED = 10  # unmapped activities named in a refusal or a "left out" note

ProgressCallback = Callable[[int], None]


class UnmappedActivities(ImportRefused):
    """The log names activities that no step key or remembered mapping stands for, and
    the owner has not confirmed leaving them out. ``activities``: (activity, rows, first
    line), most rows first."""

    def __init__(self, activities: list[tuple[str, int, int]], column: str, journey_map):
        self.activities = activities
        self.column = column
        rows = sum(count for _, count, _ in activities)
        problems = [
            f"{len(activities):,} activit{'ies' if len(activities) != 1 else 'y'} in "
            f"{rows:,} row{'s' if rows != 1 else ''} map{'s' if len(activities) == 1 else ''} "
            f"to no step of “{journey_map}”: map "
            "them to steps on the import page (or give the steps' keys in the log)"
        ]
        problems.extend(
            f"column {column}: “{activity[:80]}” ({count:,} row{'s' if count != 1 else ''}, "
            f"first on line {line})"
            for activity, count, line in activities[:SHOWN_UNMAPPED]
        )
        if len(activities) > SHOWN_UNMAPPED:
            more = len(activities) - SHOWN_UNMAPPED
            problems.append(f"… and {more:,} more activit{'ies' if more != 1 else 'y'}")
        super().__init__(problems)


# --- reading ---------------------------------------------------------------------------


def _lines(stream: IO, counter: list[int]) -> Iterator[str]:
    """The stream's lines as text, counting bytes read in ``counter[0]`` (for progress).
    A line is read up to ``MAX_LINE_BYTES`` (a binary file without line breaks is
    refused, not loaded); one that is not UTF-8 is refused naming its line."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        counter[0] += len(raw)
        if len(raw) > MAX_LINE_BYTES:
            raise ImportRefused(
                [
                    f"line {number}: longer than {MAX_LINE_BYTES // 2**20} MB; an event log has "
                    "one short event per line (is this a CSV file?)"
                ]
            )
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                problem = encoding_problem(raw, "the file" if number == 1 else "the line")
                raise ImportRefused([f"line {number}: {problem}"]) from None
        else:
            line = raw
        if "\x00" in line:
            raise ImportRefused([f"line {number}: the file is binary (a NUL byte), not CSV text"])
        if number == 1:
            line = line.removeprefix("\ufeff")
        yield line


def _rows(reader, problems: Problems) -> Iterator[list[str]]:
    """The reader's rows; a line the csv module refuses (a cell over 128 KB, a NUL byte)
    ends the reading with a problem naming it."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.add(csv_problem(exc, reader.line_num))
            return


def _parse_timestamp(text: str) -> float | None:
    """Seconds since the epoch, or None when ``text`` is not ISO 8601."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _median(values: Iterable[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 3)


def _seconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


# --- computing -------------------------------------------------------------------------


@dataclass
class _Tally:
    """Everything kept across cases: counts per step, per path, and the values the
    medians need. ``ends``: the indexes of the end steps (declared, else the last);
    ``declared``: whether the map declared them; ``successes``: successful ends."""

    steps: int
    ends: frozenset[int]
    successes: frozenset[int]
    declared: bool
    reached: list[int] = field(init=False)
    converted: list[int] = field(init=False)
    repeated: list[int] = field(init=False)
    ended: list[int] = field(init=False)
    ended_completed: list[int] = field(init=False)
    to_next: list[array] = field(init=False)
    durations: array = field(default_factory=lambda: array("d"))
    paths: Counter[tuple[int, ...]] = field(default_factory=Counter)
    cases: int = 0
    completed: int = 0
    succeeded: int = 0
    untracked_paths: int = 0  # cases whose path was too long, or new past the bound

    def __post_init__(self) -> None:
        self.reached = [0] * self.steps
        self.converted = [0] * self.steps
        self.repeated = [0] * self.steps
        self.ended = [0] * self.steps
        self.ended_completed = [0] * self.steps
        self.to_next = [array("d") for _ in range(self.steps)]

    def add_case(self, events: list[tuple[float, int]], completed: bool) -> None:
        """One case's (timestamp, step index) events, in file order."""
        events.sort(key=lambda event: event[0])  # stable: ties keep file order
        self.cases += 1
        self.durations.append(events[-1][0] - events[0][0])
        # visits: runs of consecutive events at the same step, with the run's first time
        visits: list[tuple[float, int]] = []
        for moment, step in events:
            if not visits or visits[-1][1] != step:
                visits.append((moment, step))
        # for each visit, the next visit further along the map (next-greater-element)
        further: list[int | None] = [None] * len(visits)
        stack: list[int] = []
        for position, (_, step) in enumerate(visits):
            while stack and visits[stack[-1]][1] < step:
                further[stack.pop()] = position
            stack.append(position)
        first_visit: dict[int, int] = {}
        visit_count: Counter[int] = Counter()
        for position, (_, step) in enumerate(visits):
            first_visit.setdefault(step, position)
            visit_count[step] += 1
        for step, position in first_visit.items():
            self.reached[step] += 1
            if visit_count[step] > 1:
                self.repeated[step] += 1
            after = further[position]
            if after is not None:
                self.converted[step] += 1
                self.to_next[step].append(visits[after][0] - visits[position][0])
        path = tuple(step for _, step in visits)
        if len(path) <= MAX_PATH_VISITS and (
            path in self.paths or len(self.paths) < MAX_DISTINCT_PATHS
        ):
            self.paths[path] += 1
        else:
            self.untracked_paths += 1
        last = visits[-1][1]
        self.ended[last] += 1
        if self.declared:
            completed = completed or last in self.ends
        else:  # today's rule: reaching the last step, at any time
            completed = completed or (self.steps - 1) in first_visit
        if completed:
            self.completed += 1
            self.ended_completed[last] += 1
        if last in self.successes:
            self.succeeded += 1


@dataclass
class Analysis:
    """The figures of one event log (see the module docstring), ready to store as JSON."""

    events: int
    cases: int
    first_event: dt.datetime
    last_event: dt.datetime
    completed: int
    completion_rate: float | None
    succeeded: int | None  # None: the map declares no successful end
    success_rate: float | None
    median_duration_seconds: float | None
    end_rule: str  # "declared" (the map's end steps) or "last_step" (none declared)
    steps: list[dict[str, Any]]
    paths: list[dict[str, Any]]
    channels: dict[str, int]
    left_out: dict[str, Any] = field(default_factory=dict)  # rows of unmapped activities
    untracked_paths: int = 0  # cases left out of the path counts (MAX_DISTINCT_PATHS …)

    @property
    def median_duration_hours(self) -> float | None:
        return _hours(self.median_duration_seconds)

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "cases": self.cases,
            "first_event": self.first_event.isoformat(),
            "last_event": self.last_event.isoformat(),
            "completed": self.completed,
            "completion_rate": self.completion_rate,
            "succeeded": self.succeeded,
            "success_rate": self.success_rate,
            "median_duration_seconds": self.median_duration_seconds,
            "median_duration_hours": self.median_duration_hours,
            "end_rule": self.end_rule,
            "steps": self.steps,
            "paths": self.paths,
            "channels": self.channels,
            "left_out": self.left_out,
            "untracked_paths": self.untracked_paths,
        }


def _header(reader, activity_column: str = "") -> tuple[dict[str, int], str, str]:
    """The columns' indexes, and the names the file uses for the case and step columns.
    ``activity_column``: the column chosen to name the steps (default: step_key, step or
    activity)."""
    try:
        names = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportRefused(["line 1: the file is empty; it needs a header line"]) from None
    except csv.Error as exc:
        raise ImportRefused([csv_problem(exc, 1)]) from None
    columns = {name: index for index, name in enumerate(names) if name}
    problems = []
    case = next((c for c in CASE_COLUMNS if c in columns), None)
    chosen = activity_column.strip().lower()
    if chosen:
        step = chosen if chosen in columns else None
    else:
        step = next((c for c in STEP_COLUMNS if c in columns), None)
    if case is None:
        problems.append("line 1: the header needs a case_id (or customer_id) column")
    if step is None:
        problems.append(
            f"line 1: the header has no “{activity_column.strip()[:80]}” column (it has: "
            f"{', '.join(columns)[:300]})"
            if chosen
            else "line 1: the header needs a step_key (or step, or activity) column"
        )
    if "timestamp" not in columns:
        problems.append("line 1: the header needs a timestamp column")
    if problems:
        raise ImportRefused(problems)
    indexes = {
        "case": columns[case],
        "step": columns[step],
        "timestamp": columns["timestamp"],
        "channel": columns.get("channel", -1),
        "outcome": columns.get("outcome", -1),
    }
    return indexes, case, step


def map_steps(journey_map: JourneyMap) -> list[Step]:
    """The map's steps in map order, as the figures number them (one query)."""
    return list(Step.objects.filter(map=journey_map).order_by("position", "pk"))


def activity_index(journey_map: JourneyMap, steps: list[Step]) -> dict[str, int]:
    """Activity → step index: the steps' keys, overridden by the map's remembered
    mapping (the owner's choice wins). One query."""
    position = {step.pk: i for i, step in enumerate(steps)}
    index = {step.key: i for i, step in enumerate(steps)}
    for activity, step_id in EventActivityMapping.objects.filter(map=journey_map).values_list(
        "activity", "step_id"
    ):
        if step_id in position:
            index[activity] = position[step_id]
    return index


def events_analyse(
    *,
    journey_map: JourneyMap,
    stream: IO,
    size: int | None = None,
    on_progress: ProgressCallback | None = None,
    activity_column: str = "",
    leave_out_unmapped: bool = False,
) -> Analysis:
    """Read an event log (binary or text stream) line by line and compute its figures.
    Two queries (the map's steps, its activity mapping); raises ``ImportRefused`` naming
    lines and columns — ``UnmappedActivities`` when the only problem is activities no
    step stands for, unless ``leave_out_unmapped`` (their rows are then left out and
    counted in ``Analysis.left_out``). ``on_progress(percent)`` is called when the bytes
    read pass another 10 %."""
    steps = map_steps(journey_map)
    if not steps:
        raise ImportRefused([f"“{journey_map}” has no steps for the events to refer to"])
    index = activity_index(journey_map, steps)
    read = [0]
    reader = csv.reader(_lines(stream, read))
    columns, case_name, step_name = _header(reader, activity_column)
    c_case, c_step, c_time = columns["case"], columns["step"], columns["timestamp"]
    c_channel, c_outcome = columns["channel"], columns["outcome"]
    width = max(columns.values()) + 1

    declared = [i for i, step in enumerate(steps) if step.end_kind]
    tally = _Tally(
        len(steps),
        ends=frozenset(declared or [len(steps) - 1]),
        successes=frozenset(
            i for i, step in enumerate(steps) if step.end_kind == Step.EndKind.SUCCESS
        ),
        declared=bool(declared),
    )
    channels: Counter[str] = Counter()
    problems = Problems()
    # activity → [rows, first line]; the rows are left out (confirmed) or wait for a mapping
    unmapped: dict[str, list[int]] = {}
    unmapped_rows = 0
    seen_cases: dict[str, int] = {}  # case id → the line it started on
    current: str | None = None
    events: list[tuple[float, int]] = []
    completed = False
    count = 0
    first = last = None
    decile = 0
    latest_year = timezone.localdate().year + MAX_YEARS_AHEAD
    earliest = dt.datetime(EARLIEST_YEAR, 1, 1, tzinfo=dt.UTC).timestamp()
    latest = dt.datetime(latest_year + 1, 1, 1, tzinfo=dt.UTC).timestamp()
    for row in _rows(reader, problems):
        line = reader.line_num
        if on_progress and size and read[0] * 10 // size > decile:
            decile = min(read[0] * 10 // size, 10)
            on_progress(decile * 10)
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            problems.add(f"line {line}: {len(row)} cells, the header has at least {width}")
            continue
        case = row[c_case].strip()
        key = row[c_step].strip()
        moment = _parse_timestamp(row[c_time])
        bad = False
        if not case:
            problems.add(f"line {line}, column {case_name}: empty")
            bad = True
        step = index.get(key)
        if step is None:
            if not key:
                problems.add(f"line {line}, column {step_name}: empty")
                bad = True
            elif len(key) > MAX_ACTIVITY:  # could never be mapped (the mapping's length)
                problems.add(
                    f"line {line}, column {step_name}: “{key[:80]}…” is longer than "
                    f"{MAX_ACTIVITY} characters: no step is named so"
                )
                bad = True
            elif key in unmapped or len(unmapped) < MAX_UNMAPPED:
                unmapped.setdefault(key, [0, line])[0] += 1
                unmapped_rows += 1
            else:
                problems.add(
                    f"line {line}, column {step_name}: more than {MAX_UNMAPPED} different "
                    f"values map to no step of “{journey_map}” (is {step_name} the column "
                    "that names the steps?)"
                )
                bad = True
        if moment is None:
            problems.add(
                f"line {line}, column timestamp: “{row[c_time].strip()[:80]}” is not an ISO 8601 "
                "timestamp (e.g. 2026-05-03T09:15:00Z)"
            )
            bad = True
        elif not earliest <= moment < latest:  # year 9999 would become the period's date
            problems.add(
                f"line {line}, column timestamp: “{row[c_time].strip()[:80]}” is not plausible: "
                f"it must be between {EARLIEST_YEAR} and {latest_year}"
            )
            bad = True
        if case and case != current:
            if case in seen_cases:
                problems.add(
                    f"line {line}, column {case_name}: the events of case “{case[:80]}” started on "
                    f"line {seen_cases[case]} and were interrupted by other cases; keep each "
                    "case's events together (sort the file by case id)"
                )
                bad = True
            else:
                if events and not problems:
                    tally.add_case(events, completed)
                seen_cases[case] = line
                current, events, completed = case, [], False
        # every line is checked (a refusal counts all its problems); nothing is kept
        # once there is one, and waiting for a mapping keeps nothing either
        if bad or problems or step is None or (unmapped and not leave_out_unmapped):
            continue
        count += 1
        events.append((moment, step))
        if c_outcome >= 0 and row[c_outcome].strip().lower() == COMPLETED:
            completed = True
        channel = row[c_channel].strip().lower() if c_channel >= 0 else ""
        if channel in channels or len(channels) < MAX_CHANNELS:
            channels[channel] += 1
        else:
            channels["other"] += 1
        first = moment if first is None or moment < first else first
        last = moment if last is None or moment > last else last
    if problems:
        raise problems.refused()
    ordered = sorted(unmapped.items(), key=lambda item: (-item[1][0], item[1][1]))
    activities = [(activity, rows, line) for activity, (rows, line) in ordered]
    if activities and not leave_out_unmapped:
        raise UnmappedActivities(activities, step_name, journey_map)
    if events:
        tally.add_case(events, completed)
    if not count:
        raise ImportRefused(
            [
                f"none of the file's {unmapped_rows:,} rows names a step: their activities "
                "were left out unmapped"
                if unmapped_rows
                else "the file has no events below its header"
            ]
        )
    if on_progress and decile < 10:
        on_progress(100)
    analysis = _figures(tally, steps, count, first, last, channels)
    if activities:
        analysis.left_out = {
            "rows": unmapped_rows,
            "activities": [
                {"activity": activity, "rows": rows}
                for activity, rows, _ in activities[:SHOWN_UNMAPPED]
            ],
            "more_activities": max(len(activities) - SHOWN_UNMAPPED, 0),
        }
    return analysis


def _step_rows(tally: _Tally, steps: list[Step]) -> list[dict[str, Any]]:
    rows = []
    for i, step in enumerate(steps):
        is_end = i in tally.ends
        reached, converted = tally.reached[i], tally.converted[i]
        ended, completed = tally.ended[i], tally.ended_completed[i]
        drop_off = None if is_end else ended - completed
        median = _median(tally.to_next[i])
        rows.append(
            {
                "step_id": step.pk,
                "key": step.key,
                "name": step.name,
                "end_kind": step.end_kind if tally.declared else ("other" if is_end else ""),
                "is_end": is_end,
                "reached": reached,
                "converted": converted,
                "conversion": None if is_end else _percent(converted, reached),
                "ended": ended,
                "ended_completed": completed,
                "drop_off": drop_off,
                "drop_off_rate": None if drop_off is None else _percent(drop_off, reached),
                "repeated": tally.repeated[i],
                "repeat_rate": _percent(tally.repeated[i], reached),
                "median_seconds": _seconds(median),
                "median_hours": _hours(median),
            }
        )
        tally.to_next[i] = array("d")  # free it before the next step's sort
    return rows


def _path_rows(tally: _Tally, steps: list[Step]) -> list[dict[str, Any]]:
    """The ``MAX_PATHS`` most frequent paths, each with its funnel (see the docstring).
    Cases following a path's first k steps are summed over the distinct paths once,
    through the set of the main paths' prefixes."""
    # most cases first; among equals the shorter, then by the steps' map order
    main = sorted(tally.paths.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
    main = main[:MAX_PATHS]
    prefixes = {path[:k] for path, _ in main for k in range(1, len(path) + 1)}
    longest = max((len(path) for path, _ in main), default=0)
    following: Counter[tuple[int, ...]] = Counter()
    for path, cases in tally.paths.items():
        for k in range(1, min(len(path), longest) + 1):
            prefix = path[:k]
            if prefix not in prefixes:
                break
            following[prefix] += cases
    rows = []
    for path, cases in main:
        funnel = []
        for k in range(1, len(path) + 1):
            step = path[k - 1]
            here = following[path[:k]]
            ended = tally.paths.get(path[:k], 0)
            went_on = following[path[: k + 1]] if k < len(path) else None
            funnel.append(
                {
                    "step_id": steps[step].pk,
                    "name": steps[step].name,
                    "is_end": step in tally.ends,
                    "following": here,
                    "went_on": went_on,
                    "ended": ended,
                    "elsewhere": here - ended - (went_on or 0),
                }
            )
        rows.append(
            {
                "cases": cases,
                "share": _percent(cases, tally.cases),
                "completes": path[-1] in tally.ends,
                "names": [steps[step].name for step in path],
                "funnel": funnel,
            }
        )
    return rows


def _figures(tally: _Tally, steps: list[Step], count: int, first, last, channels) -> Analysis:
    rows = _step_rows(tally, steps)
    paths = _path_rows(tally, steps)
    tally.paths = Counter()
    return Analysis(
        events=count,
        cases=tally.cases,
        first_event=dt.datetime.fromtimestamp(first, dt.UTC),
        last_event=dt.datetime.fromtimestamp(last, dt.UTC),
        completed=tally.completed,
        completion_rate=_percent(tally.completed, tally.cases),
        succeeded=tally.succeeded if tally.successes else None,
        success_rate=_percent(tally.succeeded, tally.cases) if tally.successes else None,
        median_duration_seconds=_seconds(_median(tally.durations)),
        end_rule="declared" if tally.declared else "last_step",
        steps=rows,
        paths=paths,
        channels=dict(channels.most_common()),
        untracked_paths=tally.untracked_paths,
    )


# --- writing: analytics KPIs and their measurements ----------------------------------------


@dataclass
class _KPISpec:
    import_key: str
    name: str
    step: Step | None
    kind: str
    unit: str
    direction: str
    perspective: str
    inputs: dict[str, float]


def _kpi_specs(journey_map: JourneyMap, analysis: Analysis, steps: dict[int, Step]):
    prefix = ANALYTICS_KEY_PREFIX.rstrip(":")  # keys are scoped to the map
    specs = []
    for row in analysis.steps:
        if row["conversion"] is None:
            continue  # an end step (ending there is no loss), or nobody got there
        specs.append(
            _KPISpec(
                import_key=f"{prefix}:{row['key']}:conversion",
                name=f"Conversion after {row['name']}"[:160],
                step=steps.get(row["step_id"]),
                kind=KPI.Kind.RATIO,
                unit="%",
                direction=KPI.Direction.HIGHER,
                perspective="business",
                inputs={"numerator": row["converted"], "denominator": row["reached"]},
            )
        )
    specs.append(
        _KPISpec(
            import_key=f"{prefix}:completion",
            name="Journey completion rate",
            step=None,
            kind=KPI.Kind.RATIO,
            unit="%",
            direction=KPI.Direction.HIGHER,
            perspective="business",
            inputs={"numerator": analysis.completed, "denominator": analysis.cases},
        )
    )
    if analysis.succeeded is not None:
        specs.append(
            _KPISpec(
                import_key=f"{prefix}:success",
                name="Journey success rate",
                step=None,
                kind=KPI.Kind.RATIO,
                unit="%",
                direction=KPI.Direction.HIGHER,
                perspective="business",
                inputs={"numerator": analysis.succeeded, "denominator": analysis.cases},
            )
        )
    specs.append(
        _KPISpec(
            import_key=f"{prefix}:median-duration",
            name="Median journey duration (hours)",
            step=None,
            kind=KPI.Kind.VALUE,
            unit="hours",
            direction=KPI.Direction.LOWER,
            perspective="customer",
            inputs={"value": analysis.median_duration_hours or 0.0},
        )
    )
    return specs


DEFINITION_FIELDS = ("name", "step", "kind", "unit", "direction", "perspective", "source")


def analytics_record(
    *, journey_map: JourneyMap, analysis: Analysis, period: dt.date, by=None
) -> dict[str, Any]:
    """Create or update the map's analytics KPIs (by import key) and record the figures
    as observations on ``period``. Fixed queries: steps, KPIs, bulk create (+ history,
    read-back), bulk update (+ history), map version, observation upsert, recompute."""
    steps = Step.objects.in_bulk([row["step_id"] for row in analysis.steps])
    specs = _kpi_specs(journey_map, analysis, steps)
    existing = list(KPI.objects.filter(map=journey_map))
    by_key = {kpi.import_key: kpi for kpi in existing if kpi.import_key}
    created, updated, kpis = [], [], {}
    names = {
        kpi.name.lower() for kpi in existing if kpi.import_key not in {s.import_key for s in specs}
    }
    for spec in specs:
        name = spec.name
        if name.lower() in names:  # a hand-made KPI has the name: keep both apart
            name = f"{name[:147]} (event log)"
        names.add(name.lower())
        kpi = by_key.get(spec.import_key)
        is_new = kpi is None
        if is_new:
            kpi = KPI(map=journey_map, import_key=spec.import_key)
        before = tuple(getattr(kpi, f) for f in DEFINITION_FIELDS)
        kpi.name, kpi.step, kpi.kind, kpi.unit = name, spec.step, spec.kind, spec.unit
        kpi.direction, kpi.perspective = spec.direction, spec.perspective
        kpi.source = KPI.Source.ANALYTICS
        kpis[spec.import_key] = kpi
        if is_new:
            created.append(kpi)
        elif before != tuple(getattr(kpi, f) for f in DEFINITION_FIELDS):
            updated.append(kpi)
    with transaction.atomic():
        kpis_save_imported(
            journey_map=journey_map,
            created=created,
            updated=updated,
            fields=DEFINITION_FIELDS,
            by=by,
        )
        observations = [
            ObservationInput(
                kpi=kpis[spec.import_key], date=period, dimensions={}, inputs=spec.inputs
            )
            for spec in specs
        ]
        measurements = observations_record_many(observations=observations, by=by)
    return {
        "period": period.isoformat(),
        "measurements": len(measurements),
        "kpis_created": [k.name for k in created],
        "kpis_updated": [k.name for k in updated],
    }


def default_period(analysis: Analysis) -> dt.date:
    """The first day of the month of the log's last event."""
    return analysis.last_event.date().replace(day=1)


def events_import(
    *,
    journey_map: JourneyMap,
    stream: IO,
    size: int | None = None,
    period: dt.date | None = None,
    by=None,
    on_progress: ProgressCallback | None = None,
    activity_column: str = "",
    leave_out_unmapped: bool = False,
) -> dict[str, Any]:
    """Analyse an event log and record its figures, all or nothing. Returns the summary
    stored on an ``EventImport`` (figures + what was written). Raises ``ImportRefused``
    (``UnmappedActivities`` when activities wait for a mapping)."""
    analysis = events_analyse(
        journey_map=journey_map,
        stream=stream,
        size=size,
        on_progress=on_progress,
        activity_column=activity_column,
        leave_out_unmapped=leave_out_unmapped,
    )
    written = analytics_record(
        journey_map=journey_map,
        analysis=analysis,
        period=period or default_period(analysis),
        by=by,
    )
    return {**analysis.as_json(), **written}


def summary_text(result: dict[str, Any]) -> str:
    seconds = result.get("median_duration_seconds")
    if seconds is None and result.get("median_duration_hours") is not None:
        seconds = result["median_duration_hours"] * 3600  # recorded before seconds were
    text = (
        f"{result['events']:,} events of {result['cases']:,} cases; completion "
        f"{result['completion_rate']} %"
    )
    if result.get("success_rate") is not None:
        text += f", success {result['success_rate']} %"
    text += (
        f", median duration {duration_text(seconds)}; "
        f"{result['measurements']} measurements recorded for {result['period']}."
    )
    left_out = result.get("left_out") or {}
    if left_out.get("rows"):
        text += f" {left_out['rows']:,} rows of unmapped activities were left out."
    return text


# --- the import record, its task and its activity mapping -----------------------------------


def event_import_create(
    *,
    journey_map: JourneyMap,
    file: File,
    by=None,
    period: dt.date | None = None,
    activity_column: str = "",
    enqueue: bool = True,
) -> EventImport:
    """Store the uploaded log and queue its import; the task is enqueued once the
    record is committed (with Celery eager, it has run when the transaction ends).
    ``enqueue=False`` leaves it queued for the caller to run (the command)."""
    from .tasks import import_events

    with transaction.atomic():
        event_import = EventImport(
            map=journey_map,
            uploaded_by=by if getattr(by, "pk", None) else None,
            period=period,
            activity_column=activity_column.strip()[:200],
        )
        event_import.file.save(file.name.rsplit("/", 1)[-1], file, save=False)
        event_import.save()
        if enqueue:
            transaction.on_commit(lambda: import_events.delay(event_import.pk))
    return event_import


def event_import_run(*, import_id: int) -> EventImport | None:
    """Run a queued import: progress every 10 % of the bytes read, then done with the
    summary, failed with the problems, or — activities no step stands for, mapping not
    yet confirmed — waiting for the owner's mapping (the file is kept for the re-run).
    The file is removed once the import is done or refused. Runs once per queueing: a
    second call does nothing."""
    claimed = EventImport.objects.filter(pk=import_id, status=EventImport.Status.QUEUED).update(
        status=EventImport.Status.RUNNING, started_at=timezone.now(), progress=0
    )
    if not claimed:
        return None
    event_import = EventImport.objects.select_related("map", "uploaded_by").get(pk=import_id)
    rows = EventImport.objects.filter(pk=import_id)

    def progress(percent: int) -> None:
        rows.update(progress=percent)

    fields: dict[str, Any]
    try:
        with event_import.file.open("rb") as stream:
            result = events_import(
                journey_map=event_import.map,
                stream=stream,
                size=event_import.file.size,
                period=event_import.period,
                by=event_import.uploaded_by,
                on_progress=progress,
                activity_column=event_import.activity_column,
                leave_out_unmapped=event_import.mapping_confirmed,
            )
    except UnmappedActivities as exc:
        fields = {
            "status": EventImport.Status.MAPPING,
            "progress": 100,
            "error": "",
            "result": {
                "column": exc.column,
                "unmapped": [
                    {"activity": activity, "rows": count, "line": line}
                    for activity, count, line in exc.activities
                ],
                "problems": exc.problems,
            },
        }
    except ImportRefused as exc:
        fields = {
            "status": EventImport.Status.FAILED,
            "error": str(exc),
            "result": {"problems": exc.problems},
        }
    except Exception:
        logger.exception("event import %s failed", import_id)
        fields = {
            "status": EventImport.Status.FAILED,
            "error": "The import failed unexpectedly; nothing was imported. "
            "The error has been logged.",
        }
    else:
        fields = {
            "status": EventImport.Status.DONE,
            "progress": 100,
            "events": result["events"],
            "cases": result["cases"],
            "result": result,
        }
    fields.setdefault("result", {})["file_name"] = event_import.file_name
    if fields["status"] != EventImport.Status.MAPPING:
        fields["finished_at"] = timezone.now()
        # imported or refused, the log has served: the record keeps its figures or its
        # problems, the disk its space
        event_import.file.delete(save=False)
        fields["file"] = ""
    rows.update(**fields)
    for name, value in fields.items():
        setattr(event_import, name, value)
    return event_import


def suggested_step(activity: str, steps: list[Step]) -> Step | None:
    """The step an unmapped activity most likely stands for: one whose key or name
    matches it case-insensitively (a key first), else none."""
    folded = activity.strip().casefold()
    for step in steps:
        if step.key.casefold() == folded:
            return step
    for step in steps:
        if step.name.strip().casefold() == folded:
            return step
    return None


def activity_mapping_confirm(
    *, event_import: EventImport, choices: dict[str, int | None], by=None
) -> EventImport:
    """The owner's mapping of an import's unmapped activities: ``choices`` maps each
    activity to the id of a step of the import's map, or None to leave its rows out.
    The chosen pairs are remembered (``EventActivityMapping``, with history) for later
    imports, and the import is queued again to run with them. Raises ``ValidationError``
    keyed by the activity for a step of another map or an activity the log lacks."""
    from simple_history.utils import bulk_create_with_history, bulk_update_with_history

    from .tasks import import_events

    if event_import.status != EventImport.Status.MAPPING:
        raise ValidationError(
            {
                "__all__": f"This import is {event_import.get_status_display().lower()}, not "
                "waiting for a step mapping."
            }
        )
    journey_map = event_import.map
    waiting = {row["activity"] for row in event_import.result.get("unmapped", [])}
    steps = {step.pk: step for step in map_steps(journey_map)}
    errors: dict[str, str] = {}
    chosen: dict[str, Step] = {}
    for activity, step_id in choices.items():
        if activity not in waiting:
            errors[activity] = f"“{activity[:80]}” is not an unmapped activity of this log."
        elif step_id is not None and step_id not in steps:
            errors[activity] = f"Step {step_id} is not a step of “{journey_map}”."
        elif step_id is not None:
            chosen[activity] = steps[step_id]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = EventImport.objects.filter(
            pk=event_import.pk, status=EventImport.Status.MAPPING
        ).update(
            status=EventImport.Status.QUEUED,
            mapping_confirmed=True,
            progress=0,
            result={},
        )
        if not locked:  # confirmed twice at once, or expired meanwhile
            raise ValidationError({"__all__": "This import is no longer waiting for a mapping."})
        existing = {
            mapping.activity: mapping
            for mapping in EventActivityMapping.objects.filter(
                map=journey_map, activity__in=list(chosen)
            )
        }
        created, updated = [], []
        for activity, step in chosen.items():
            mapping = existing.get(activity)
            if mapping is None:
                created.append(EventActivityMapping(map=journey_map, activity=activity, step=step))
            elif mapping.step_id != step.pk:
                mapping.step = step
                updated.append(mapping)
        if created:
            bulk_create_with_history(created, EventActivityMapping, default_user=by)
        if updated:
            bulk_update_with_history(updated, EventActivityMapping, ["step"], default_user=by)
        transaction.on_commit(lambda: import_events.delay(event_import.pk))
    event_import.status = EventImport.Status.QUEUED
    event_import.mapping_confirmed = True
    event_import.progress = 0
    event_import.result = {}
    return event_import


def event_logs_expire(*, older_than_hours: int | None = None) -> int:
    """Remove the files of imports left waiting for a step mapping more than
    ``older_than_hours`` (``JOURNEYHUB_EVENT_LOG_UNCONFIRMED_HOURS``): the import fails
    saying so, its record stays. Also removes any file a finished import still holds
    (logs imported before files were removed at once). Returns how many files went."""
    hours = (
        settings.JOURNEYHUB_EVENT_LOG_UNCONFIRMED_HOURS
        if older_than_hours is None
        else older_than_hours
    )
    cutoff = timezone.now() - dt.timedelta(hours=hours)
    error = (
        f"Its activities were not mapped to steps within {hours} hours, so the file was "
        "removed; nothing was imported. Upload it again to map them."
    )
    removed = 0
    stale = EventImport.objects.filter(
        status=EventImport.Status.MAPPING, created_at__lt=cutoff
    ).exclude(file="")
    # one update per expired import (a handful an hour): each keeps its file's name
    for event_import in stale.only("pk", "file", "result").iterator():
        name = event_import.file_name
        event_import.file.delete(save=False)
        removed += EventImport.objects.filter(
            pk=event_import.pk, status=EventImport.Status.MAPPING
        ).update(
            file="",
            status=EventImport.Status.FAILED,
            finished_at=timezone.now(),
            error=error,
            result={"file_name": name},
        )
    finished = EventImport.objects.filter(
        status__in=[EventImport.Status.DONE, EventImport.Status.FAILED]
    ).exclude(file="")
    for event_import in finished.only("pk", "file").iterator():
        event_import.file.delete(save=False)
        removed += 1
    finished.update(file="")
    return removed


# --- reading: the funnel --------------------------------------------------------------------


class FunnelStep(NamedTuple):
    step_id: int
    reached: int
    conversion: float | None  # % of those reaching the step who got further; None: an end
    drop_off: int | None  # cases that ended here, not completed; None: an end step
    repeat_rate: float | None  # % of those reaching it who came back to it
    median_seconds: float | None  # to the next step further along
    is_end: bool = False
    end_kind: str = ""  # "success", "other" ("" in a map that declares no ends)
    ended: int = 0  # cases whose last event is here
    ended_completed: int = 0  # ... of them completed

    @property
    def median_text(self) -> str:
        return duration_text(self.median_seconds)

    @property
    def median_hours(self) -> float | None:
        """For templates written before durations were shown in the unit that fits."""
        return _hours(self.median_seconds)


class MapFunnel(NamedTuple):
    """The latest successful event import's figures of a map: per step, and for the
    whole map (completion, success, median duration, the rule that chose the ends)."""

    steps: list[FunnelStep]
    cases: int
    completion_rate: float | None
    success_rate: float | None
    median_duration_seconds: float | None
    end_rule: str  # "declared" or "last_step"
    import_id: int

    @property
    def median_duration_text(self) -> str:
        return duration_text(self.median_duration_seconds)

    def by_step(self) -> dict[int, FunnelStep]:
        return {step.step_id: step for step in self.steps}


def _seconds_of(row: dict[str, Any], seconds: str, hours: str) -> float | None:
    """A stored duration in seconds; results stored before seconds were give hours."""
    if row.get(seconds) is not None:
        return row[seconds]
    return None if row.get(hours) is None else row[hours] * 3600


@prepared()
def _latest_done_import(map_id: int) -> QuerySet:
    # compiled once per process (maps.sql.Prepared): the map page reads it on every view
    return (
        EventImport.objects.filter(map=map_id, status=EventImport.Status.DONE)
        .order_by("-created_at", "-pk")
        .values_list("pk", "result")[:1]
    )


def latest_event_result(journey_map: JourneyMap) -> tuple[int | None, dict[str, Any]]:
    """The id and stored result of the map's latest successful event import; (None, {})
    without one. One query."""
    rows = _latest_done_import.rows(journey_map.pk)
    latest = tuple(rows[0]) if rows else None
    return latest if latest and latest[1] else (None, {})


def map_funnel(journey_map: JourneyMap) -> MapFunnel | None:
    """The map's latest successful event import, read for the map page and the funnel
    row: one query; None without one."""
    import_id, result = latest_event_result(journey_map)
    if import_id is None:
        return None
    steps = [
        FunnelStep(
            step_id=row["step_id"],
            reached=row["reached"],
            conversion=row["conversion"],
            drop_off=row["drop_off"],
            repeat_rate=row["repeat_rate"],
            median_seconds=_seconds_of(row, "median_seconds", "median_hours"),
            is_end=row.get("is_end", row["conversion"] is None),
            end_kind=row.get("end_kind", ""),
            ended=row.get("ended", 0),
            ended_completed=row.get("ended_completed", 0),
        )
        for row in result.get("steps", [])
    ]
    return MapFunnel(
        steps=steps,
        cases=result.get("cases", 0),
        completion_rate=result.get("completion_rate"),
        success_rate=result.get("success_rate"),
        median_duration_seconds=_seconds_of(
            result, "median_duration_seconds", "median_duration_hours"
        ),
        end_rule=result.get("end_rule", "last_step"),
        import_id=import_id,
    )


def funnel_for_map(journey_map: JourneyMap) -> list[FunnelStep]:
    """Per step, in the map's step order at the time of the import: the figures of the
    map's latest successful event import. One query; empty without one."""
    funnel = map_funnel(journey_map)
    return funnel.steps if funnel else []

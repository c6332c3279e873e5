"""Journey analytics from event logs: a CSV of what customers did, step by step, turned
into per-step funnel figures and into measurements of the map's analytics KPIs.

The file
--------
CSV, UTF-8, a header line. Column names are case-insensitive:

``case_id`` or ``customer_id``
    Whose journey the event belongs to.
``step_key`` (or ``step``)
    The ``key`` of one of the map's steps.
``timestamp``
    ISO 8601 (``2026-05-03T09:15:00Z``, ``2026-05-03 09:15:00+02:00``, ``2026-05-03``);
    without an offset it is read as UTC.
``channel``
    Where it happened (``app``, ``branch`` …); may be empty. Counted, not analysed.
``outcome`` (optional column)
    ``completed`` on any event of a case marks the case completed; other values are
    kept as they are and ignored.

Order: **the events of one case must be together** (sort the file by case id); within a
case they may come in any order — they are sorted by timestamp (ties keep file order).
That is what bounds memory: only the current case's ``(timestamp, step)`` pairs are
held, plus one number per case and per step transition (for the medians) and the set of
case ids seen (to refuse a file whose cases are not together). The file is read line by
line; 1,000,000 events import in well under 100 MB (``benchmarks/events.py``).

All or nothing: every line is checked while the figures are computed; any problem
(unknown step key, bad timestamp, empty case id, a case split in two) is reported with
its line number and column, and nothing is written. Writes happen only at the end, in
one transaction, with bulk upserts (a fixed number of queries, whatever the events).

The figures
-----------
Steps are taken in map order (``position``, then id): s₀ … sₙ₋₁. A case's events are
sorted by time; consecutive events at the same step are one **visit**.

* **reached(s)**: cases with at least one event at s ("customers reaching it").
* **converted(s)**: cases that reached s and, after their first visit of s, reached a
  step further along the map (any sⱼ with j > i, so a skip counts); **conversion(s)** =
  converted ÷ reached, in %. Not defined for the last step.
* **drop-off(s)** = reached − converted (cases that never got further than s, even if
  they went back to an earlier step); as a rate, 100 − conversion.
* **repeat rate(s)**: cases with two or more visits of s (they left it and came back: a
  loop) ÷ reached, in %.
* **median time to next step(s)**: over the converted cases, the median of the time
  from their first event at s to the first event after it at a step further along, in
  hours.
* **completion rate**: completed cases ÷ all cases, in %; a case is completed when it
  reached the last step of the map or any of its events has the outcome ``completed``.
* **median duration**: the median over all cases of last event − first event, in hours.

Medians of an even count are the mean of the two middle values.

Measurements
------------
Each figure becomes an observation (and so the period's measurement) of an analytics
KPI (``source = analytics``) on the map, created on first import and matched by
``import_key`` afterwards, so re-importing updates instead of duplicating:

* ``analytics:<step key>:conversion`` — "Conversion after <step>", a ratio
  (converted ÷ reached, %), higher is better, one per step but the last;
* ``analytics:completion`` — "Journey completion rate", a ratio, higher is better;
* ``analytics:median-duration`` — "Median journey duration (hours)", lower is
  better.

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
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from .imports import (
    ImportRefused,
    Problems,
    csv_problem,
    encoding_problem,
    kpis_save_imported,
)
from .models import KPI, EventImport, JourneyMap, Step
from .models.common import EARLIEST_YEAR, MAX_YEARS_AHEAD
from .models.metrics import ANALYTICS_KEY_PREFIX
from .services import ObservationInput, observations_record_many

logger = logging.getLogger(__name__)

CASE_COLUMNS = ("case_id", "customer_id")
STEP_COLUMNS = ("step_key", "step")
COMPLETED = "completed"
MAX_CHANNELS = 50  # distinct channels counted; more are lumped together as "other"
MAX_LINE_BYTES = 1024 * 1024  # a longer line is not an event: refuse it, never hold it

ProgressCallback = Callable[[int], None]


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


# --- computing -------------------------------------------------------------------------


@dataclass
class _Tally:
    """Everything kept across cases: counts per step and the values the medians need."""

    steps: int
    reached: list[int] = field(init=False)
    converted: list[int] = field(init=False)
    repeated: list[int] = field(init=False)
    to_next: list[array] = field(init=False)
    durations: array = field(default_factory=lambda: array("d"))
    cases: int = 0
    completed: int = 0

    def __post_init__(self) -> None:
        self.reached = [0] * self.steps
        self.converted = [0] * self.steps
        self.repeated = [0] * self.steps
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
        if completed or (self.steps - 1) in first_visit:
            self.completed += 1


@dataclass
class Analysis:
    """The figures of one event log (see the module docstring), ready to store as JSON."""

    events: int
    cases: int
    first_event: dt.datetime
    last_event: dt.datetime
    completed: int
    completion_rate: float | None
    median_duration_hours: float | None
    steps: list[dict[str, Any]]
    channels: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "cases": self.cases,
            "first_event": self.first_event.isoformat(),
            "last_event": self.last_event.isoformat(),
            "completed": self.completed,
            "completion_rate": self.completion_rate,
            "median_duration_hours": self.median_duration_hours,
            "steps": self.steps,
            "channels": self.channels,
        }


def _header(reader) -> tuple[dict[str, int], str, str]:
    """The columns' indexes, and the names the file uses for the case and step columns."""
    try:
        names = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise ImportRefused(["line 1: the file is empty; it needs a header line"]) from None
    except csv.Error as exc:
        raise ImportRefused([csv_problem(exc, 1)]) from None
    columns = {name: index for index, name in enumerate(names) if name}
    problems = []
    case = next((c for c in CASE_COLUMNS if c in columns), None)
    step = next((c for c in STEP_COLUMNS if c in columns), None)
    if case is None:
        problems.append("line 1: the header needs a case_id (or customer_id) column")
    if step is None:
        problems.append("line 1: the header needs a step_key column")
    problems.extend(
        f"line 1: the header needs a {name} column"
        for name in ("timestamp", "channel")
        if name not in columns
    )
    if problems:
        raise ImportRefused(problems)
    indexes = {
        "case": columns[case],
        "step": columns[step],
        "timestamp": columns["timestamp"],
        "channel": columns["channel"],
        "outcome": columns.get("outcome", -1),
    }
    return indexes, case, step


def events_analyse(
    *,
    journey_map: JourneyMap,
    stream: IO,
    size: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Analysis:
    """Read an event log (binary or text stream) line by line and compute its figures.
    One query (the map's steps); raises ``ImportRefused`` naming lines and columns.
    ``on_progress(percent)`` is called when the bytes read pass another 10 %."""
    steps = list(Step.objects.filter(map=journey_map).order_by("position", "pk"))
    if not steps:
        raise ImportRefused([f"“{journey_map}” has no steps for the events to refer to"])
    index = {step.key: i for i, step in enumerate(steps)}
    read = [0]
    reader = csv.reader(_lines(stream, read))
    columns, case_name, step_name = _header(reader)
    c_case, c_step, c_time = columns["case"], columns["step"], columns["timestamp"]
    c_channel, c_outcome = columns["channel"], columns["outcome"]
    width = max(columns.values()) + 1

    tally = _Tally(len(steps))
    channels: Counter[str] = Counter()
    problems = Problems()
    seen_cases: dict[str, int] = {}  # case id → the line it started on
    current: str | None = None
    events: list[tuple[float, int]] = []
    completed = False
    count = 0
    first = last = None
    decile = 0
    known = ", ".join(index) if len(index) <= 30 else ", ".join(list(index)[:30]) + " …"
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
            problems.add(
                f"line {line}, column {step_name}: “{key[:80]}” is not a step key of "
                f"“{journey_map}” (known: {known})"
                if key
                else f"line {line}, column {step_name}: empty"
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
                f"line {line}, column timestamp: “{row[c_time].strip()}” is not plausible: "
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
        if problems.full:  # a streamed log may be huge: stop, and say where
            problems.unfinished_after = f"line {line}"
            break
        if bad or problems:
            continue  # keep checking; nothing will be written
        count += 1
        events.append((moment, step))
        if c_outcome >= 0 and row[c_outcome].strip().lower() == COMPLETED:
            completed = True
        channel = row[c_channel].strip().lower()
        if channel in channels or len(channels) < MAX_CHANNELS:
            channels[channel] += 1
        else:
            channels["other"] += 1
        first = moment if first is None or moment < first else first
        last = moment if last is None or moment > last else last
    if problems:
        raise problems.refused()
    if events:
        tally.add_case(events, completed)
    if not count:
        raise ImportRefused(["the file has no events below its header"])
    if on_progress and decile < 10:
        on_progress(100)
    return _figures(tally, steps, count, first, last, channels)


def _figures(tally: _Tally, steps: list[Step], count: int, first, last, channels) -> Analysis:
    rows = []
    for i, step in enumerate(steps):
        is_last = i == len(steps) - 1
        reached, converted = tally.reached[i], tally.converted[i]
        rows.append(
            {
                "step_id": step.pk,
                "key": step.key,
                "name": step.name,
                "reached": reached,
                "converted": None if is_last else converted,
                "conversion": None if is_last else _percent(converted, reached),
                "drop_off": None if is_last else reached - converted,
                "drop_off_rate": (
                    None if is_last or not reached else round(100 - 100 * converted / reached, 2)
                ),
                "repeated": tally.repeated[i],
                "repeat_rate": _percent(tally.repeated[i], reached),
                "median_hours": None if is_last else _hours(_median(tally.to_next[i])),
            }
        )
        tally.to_next[i] = array("d")  # free it before the next step's sort
    return Analysis(
        events=count,
        cases=tally.cases,
        first_event=dt.datetime.fromtimestamp(first, dt.UTC),
        last_event=dt.datetime.fromtimestamp(last, dt.UTC),
        completed=tally.completed,
        completion_rate=_percent(tally.completed, tally.cases),
        median_duration_hours=_hours(_median(tally.durations)),
        steps=rows,
        channels=dict(channels.most_common()),
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
        if row["converted"] is None or not row["reached"]:
            continue  # the last step, or nobody got there: no ratio to record
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
) -> dict[str, Any]:
    """Analyse an event log and record its figures, all or nothing. Returns the summary
    stored on an ``EventImport`` (figures + what was written). Raises ``ImportRefused``."""
    analysis = events_analyse(
        journey_map=journey_map, stream=stream, size=size, on_progress=on_progress
    )
    written = analytics_record(
        journey_map=journey_map,
        analysis=analysis,
        period=period or default_period(analysis),
        by=by,
    )
    return {**analysis.as_json(), **written}


def summary_text(result: dict[str, Any]) -> str:
    return (
        f"{result['events']:,} events of {result['cases']:,} cases; completion "
        f"{result['completion_rate']} %, median duration {result['median_duration_hours']} h; "
        f"{result['measurements']} measurements recorded for {result['period']}."
    )


# --- the import record and its task --------------------------------------------------------


def event_import_create(
    *,
    journey_map: JourneyMap,
    file: File,
    by=None,
    period: dt.date | None = None,
    enqueue: bool = True,
) -> EventImport:
    """Store the uploaded log and queue its import; the task is enqueued once the
    record is committed (with Celery eager, it has run when the transaction ends).
    ``enqueue=False`` leaves it queued for the caller to run (the command)."""
    from .tasks import import_events

    with transaction.atomic():
        event_import = EventImport(
            map=journey_map, uploaded_by=by if getattr(by, "pk", None) else None, period=period
        )
        event_import.file.save(file.name.rsplit("/", 1)[-1], file, save=False)
        event_import.save()
        if enqueue:
            transaction.on_commit(lambda: import_events.delay(event_import.pk))
    return event_import


def event_import_run(*, import_id: int) -> EventImport | None:
    """Run a queued import: progress every 10 % of the bytes read, then done with the
    summary, or failed with the problems. Runs once: a second call does nothing."""
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
            )
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
    fields["finished_at"] = timezone.now()
    if fields["status"] == EventImport.Status.FAILED:
        # a refused log is not kept: the record keeps its problems, the disk its space
        event_import.file.delete(save=False)
        fields["file"] = ""
    rows.update(**fields)
    for name, value in fields.items():
        setattr(event_import, name, value)
    return event_import


def event_logs_expire(*, older_than_days: int | None = None) -> int:
    """Delete the stored logs of imports that finished more than ``older_than_days`` ago
    (``JOURNEYHUB_EVENT_LOG_RETENTION_DAYS``); the records and their results stay.
    Returns how many files were removed."""
    days = (
        settings.JOURNEYHUB_EVENT_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    )
    cutoff = timezone.now() - dt.timedelta(days=days)
    finished = EventImport.objects.filter(
        status__in=[EventImport.Status.DONE, EventImport.Status.FAILED],
        finished_at__lt=cutoff,
    ).exclude(file="")
    removed = 0
    for event_import in finished.only("pk", "file").iterator():
        event_import.file.delete(save=False)
        removed += 1
    finished.update(file="")
    return removed


# --- reading: the funnel --------------------------------------------------------------------


class FunnelStep(NamedTuple):
    step_id: int
    reached: int
    conversion: float | None  # % of those reaching the step who got further
    drop_off: int | None  # cases that got no further
    repeat_rate: float | None  # % of those reaching it who came back to it
    median_hours: float | None  # to the next step further along


def funnel_for_map(journey_map: JourneyMap) -> list[FunnelStep]:
    """Per step, in the map's step order at the time of the import: the figures of the
    map's latest successful event import. One query; empty without one."""
    result = (
        EventImport.objects.filter(map=journey_map, status=EventImport.Status.DONE)
        .order_by("-created_at", "-pk")
        .values_list("result", flat=True)
        .first()
    )
    if not result:
        return []
    return [
        FunnelStep(
            step_id=row["step_id"],
            reached=row["reached"],
            conversion=row["conversion"],
            drop_off=row["drop_off"],
            repeat_rate=row["repeat_rate"],
            median_hours=row["median_hours"],
        )
        for row in result.get("steps", [])
    ]

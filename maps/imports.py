"""Measurement imports for one map: a CSV file or TheyDo's published metrics file
(``"format": "THEYDO_METRICS_V1"``, read by ``maps.theydo``). Documented in
``docs/metrics-import.md`` and ``docs/theydo.md``.

All or nothing: every row is checked first — problems are collected with the line
(CSV) or JSON path (TheyDo) they come from, the first ``MAX_PROBLEMS`` kept and the rest
counted (``Problems``) — and only a file without any problem is written, in one
transaction with bulk operations (``maps.services``). Hostile files get the same
treatment: JSON is read by ``journeyhub.api.safe_json`` (depth, integer digits, finite
numbers), a CSV cell over the csv module's 128 KB limit or a NUL byte names its line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from journeyhub.api import safe_json

from . import kpi_math
from .models import KPI, JourneyMap
from .services import ObservationInput, map_touch, observation_clean, observations_record_many

CSV_DIMENSIONS = ("region", "channel", "segment")
MAX_PROBLEMS = 50  # a file with more problems lists the first ones and counts the rest


class Problems:
    """The problems of one import: the first ``limit`` messages are kept, the others only
    counted, so a file with a problem in each of its 100,000 rows costs 50 messages of
    memory, not 100,000. ``refused()`` is the exception that reports them."""

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.limit = limit
        self.messages: list[str] = []
        self.count = 0
        self.unfinished_after: str | None = None  # where checking stopped early

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.messages) < self.limit:
            self.messages.append(message)

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.add(message)

    @property
    def full(self) -> bool:
        """As many kept as will be shown: a streaming reader may stop checking here."""
        return self.count >= self.limit

    def __bool__(self) -> bool:
        return self.count > 0

    def __len__(self) -> int:
        return self.count

    def listed(self) -> list[str]:
        more = self.count - len(self.messages)
        tail = []
        if self.unfinished_after:
            tail = [f"… checking stopped after {self.unfinished_after}"]
        elif more > 0:
            tail = [f"… and {more} more problem{'s' if more != 1 else ''}"]
        return self.messages + tail

    def refused(self) -> ImportRefused:
        return ImportRefused(self)


class ImportRefused(Exception):
    """The file has problems; nothing was written. ``problems`` name line or path (at
    most ``MAX_PROBLEMS`` of them, then a "… and N more" line)."""

    def __init__(self, problems: list[str] | Problems):
        if not isinstance(problems, Problems):
            collected = Problems()
            collected.extend(problems)
            problems = collected
        self.problems = problems.listed()
        super().__init__(f"Nothing was imported: {'; '.join(self.problems)}.")


@dataclass
class ImportResult:
    format: str  # "csv" or "theydo"
    observations: int
    periods: int
    kpis_created: list[str] = field(default_factory=list)
    kpis_updated: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        text = (
            f"Imported {self.observations} observation{'s' if self.observations != 1 else ''} "
            f"into {self.periods} period value{'s' if self.periods != 1 else ''}"
        )
        if self.kpis_created:
            text += f"; new KPIs: {', '.join(self.kpis_created)}"
        if self.kpis_updated:
            text += f"; KPI definitions updated: {', '.join(self.kpis_updated)}"
        return text + "."


def kpis_save_imported(
    *, journey_map, created: list[KPI], updated: list[KPI], fields: tuple[str, ...], by
) -> None:
    """Write the KPIs an import created or changed, in bulk and with history. Call
    inside the import's transaction. Created KPIs get their pks (matched by import key)."""
    if created:
        bulk_create_with_history(created, KPI, default_user=by)
        # bulk_create_with_history does not set pks on SQLite: read them back
        fresh = dict(
            KPI.objects.filter(
                map=journey_map, import_key__in=[k.import_key for k in created]
            ).values_list("import_key", "pk")
        )
        for kpi in created:
            kpi.pk = kpi.id = fresh[kpi.import_key]
    if updated:
        bulk_update_with_history(updated, KPI, list(fields), default_user=by)
    if created or updated:
        # KPI definitions are map content: editors holding the old version must get a
        # conflict rather than overwrite them
        map_touch(journey_map_id=journey_map.pk)


def _describe(exc: ValidationError, where: str, column_names: dict[str, str] | None = None):
    names = column_names or {}
    problems = []
    for key, messages in exc.message_dict.items():
        for message in messages:
            if key == "__all__":
                problems.append(f"{where}: {message}")
            else:
                problems.append(f"{where}, {names.get(key, key)}: {message}")
    return problems


def encoding_problem(content: bytes, where: str = "the file") -> str:
    """Why bytes that failed to decode as UTF-8 are not our text, in the user's terms."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{where} is UTF-16 text: save it as UTF-8 (CSV UTF-8 in spreadsheets)"
    if b"\x00" in content[:4096]:
        return f"{where} is binary, not UTF-8 text"
    return f"{where} is not UTF-8 text"


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        problem = encoding_problem(content)
        raise ImportRefused([f"line {line}: {problem}" if line > 1 else problem]) from None


def measurements_import(*, journey_map: JourneyMap, content: bytes | str, by=None) -> ImportResult:
    """Import a CSV or TheyDo metrics file into ``journey_map``'s KPIs, all or nothing.

    The caller decides who may (the map's editors). Raises ``ImportRefused``."""
    text = _decode(content)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = safe_json.loads(stripped)
        except safe_json.JSONRefused as exc:
            raise ImportRefused([str(exc)]) from None
        return metrics_file_import(journey_map=journey_map, data=data, by=by)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportRefused([f"line {line}: the file is binary (a NUL byte), not CSV text"])
    return csv_import(journey_map=journey_map, text=text, by=by)


def metrics_file_import(*, journey_map: JourneyMap, data: Any, by=None) -> ImportResult:
    """TheyDo's metrics file (``maps.theydo``, ``docs/theydo.md``): the measurements
    interfaces take this one of TheyDo's formats."""
    from .theydo.engine import theydo_import
    from .theydo.metrics import FORMAT

    plan = theydo_import(journey_map=journey_map, data=data, by=by, only={FORMAT})
    return ImportResult(
        format="theydo",
        observations=plan.counts.get("observations", 0),
        periods=plan.counts.get("periods", 0),
        kpis_created=[c.title for c in plan.of("create")],
        kpis_updated=[c.title for c in plan.of("update")],
    )


def _record(observations, by) -> list:
    """Write checked observations; a period value the checks could not foresee (a sum
    beyond 10^15) still refuses the file instead of failing."""
    try:
        return observations_record_many(observations=observations, by=by)
    except ValidationError as exc:
        raise ImportRefused(
            [message for messages in exc.message_dict.values() for message in messages]
        ) from None


# --- CSV ---------------------------------------------------------------------------


def csv_import(*, journey_map: JourneyMap, text: str, by=None) -> ImportResult:
    """Columns: ``kpi`` (name or import key of one of the map's KPIs), ``date``, the
    inputs of the KPI's kind, optional ``region``, ``channel``, ``segment``. Line 1 is
    the header; a problem names its line and column."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise ImportRefused([csv_problem(exc, 1)]) from None
    header = [(name or "").strip().lower() for name in (fieldnames or [])]
    if not header:
        raise ImportRefused(["line 1: the file is empty; it needs a header line"])
    reader.fieldnames = header
    missing = [name for name in ("kpi", "date") if name not in header]
    known = {"kpi", "date", *kpi_math.ALL_INPUTS, *CSV_DIMENSIONS}
    unknown = [name for name in header if name not in known]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"line 1: the header lacks the column(s) {', '.join(missing)}")
        if unknown:
            problems.append(
                f"line 1: unknown column(s) {', '.join(unknown)} (known: kpi, date, "
                f"{', '.join(kpi_math.ALL_INPUTS)}, {', '.join(CSV_DIMENSIONS)})"
            )
        raise ImportRefused(problems)
    kpis = list(KPI.objects.filter(map=journey_map))
    by_key = {kpi.import_key.lower(): kpi for kpi in kpis if kpi.import_key}
    by_name = {kpi.name.lower(): kpi for kpi in kpis}
    observations: list[ObservationInput] = []
    problems = Problems()
    seen: dict[tuple[int, Any, str], int] = {}
    for line_number, values in _rows_with_lines(reader, problems):
        where = f"line {line_number}"
        if None in values:  # more cells than header columns
            problems.add(f"{where}: more cells than the header has columns")
            continue
        name = (values.get("kpi") or "").strip()
        kpi = by_key.get(name.lower()) or by_name.get(name.lower())
        if kpi is None:
            problems.add(
                f"{where}, column kpi: “{name[:80]}” is not a KPI of “{journey_map}” "
                "(give its name or import key)"
                if name
                else f"{where}, column kpi: empty"
            )
            continue
        try:
            obs = observation_clean(
                kpi=kpi,
                date=values.get("date") or "",
                inputs={k: values.get(k) for k in kpi_math.ALL_INPUTS if k in values},
                dimensions={k: values.get(k) for k in CSV_DIMENSIONS if k in values},
            )
        except ValidationError as exc:
            problems.extend(_describe(exc, where, {k: f"column {k}" for k in header}))
            continue
        key = (kpi.pk, obs.date, obs.dimension_key)
        if key in seen:
            problems.add(
                f"{where}: repeats line {seen[key]} (same KPI, date and region/channel/segment)"
            )
            continue
        seen[key] = line_number
        if not problems:  # a refused file's rows are only checked, not kept
            observations.append(obs)
    if problems:
        raise problems.refused()
    if not observations:
        raise ImportRefused(["the file has no data lines below its header"])
    measurements = _record(observations, by)
    return ImportResult(format="csv", observations=len(observations), periods=len(measurements))


def csv_problem(exc: csv.Error, line: int) -> str:
    """A csv module error in words: a cell over its 128 KB limit, a NUL byte …"""
    text = str(exc)
    if "field larger than field limit" in text:
        limit = csv.field_size_limit()
        return f"line {line}: a cell is longer than {limit // 1024} KB"
    if "NUL" in text:
        return f"line {line}: the file is binary (a NUL byte), not CSV text"
    return f"line {line}: not readable as CSV ({text})"


def _rows_with_lines(reader: csv.DictReader, problems: Problems) -> Iterator[tuple[int, dict]]:
    """(the line a row ends on, the row), skipping lines of empty cells. A line the csv
    module cannot read ends the reading with a problem naming it."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # the DictReader's own line_num lags behind its csv reader's on an error
            problems.add(csv_problem(exc, reader.reader.line_num))
            return
        if None in row or any(isinstance(v, str) and v.strip() for v in row.values()):
            yield reader.line_num, row

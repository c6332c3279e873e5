"""Measurement imports for one map: a CSV file or TheyDo's published metrics file
(``"format": "THEYDO_METRICS_V1"``). Documented in ``docs/metrics-import.md``.

All or nothing: every row is checked first — problems are collected with the line
(CSV) or JSON path (TheyDo) they come from — and only a file without any problem is
written, in one transaction with bulk operations (``maps.services``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from . import kpi_math
from .models import KPI, JourneyMap
from .services import ObservationInput, map_touch, observation_clean, observations_record_many

THEYDO_FORMAT = "THEYDO_METRICS_V1"
CSV_DIMENSIONS = ("region", "channel", "segment")
MAX_PROBLEMS = 20  # a file with more problems lists the first ones only

#: TheyDo metric types → JourneyHub KPI kinds
THEYDO_TYPES = {
    "NPS": KPI.Kind.NPS,
    "CSAT": KPI.Kind.CSAT,
    "CES": KPI.Kind.CES,
    "RATIO": KPI.Kind.RATIO,
    "OTHER": KPI.Kind.VALUE,
}
#: TheyDo data point fields (camelCase) → observation inputs
THEYDO_INPUTS = {
    "value": "value",
    "numerator": "numerator",
    "denominator": "denominator",
    "promoters": "promoters",
    "passives": "passives",
    "detractors": "detractors",
    "veryDissatisfied": "very_dissatisfied",
    "dissatisfied": "dissatisfied",
    "neutral": "neutral",
    "satisfied": "satisfied",
    "verySatisfied": "very_satisfied",
    "mean": "mean",
    "average": "mean",
    "respondents": "respondents",
}
THEYDO_COMPARISONS = {
    "GREATER_THAN_OR_EQUAL": KPI.Comparison.AT_LEAST,
    "GREATER_THAN": KPI.Comparison.AT_LEAST,
    "GTE": KPI.Comparison.AT_LEAST,
    "GT": KPI.Comparison.AT_LEAST,
    ">=": KPI.Comparison.AT_LEAST,
    ">": KPI.Comparison.AT_LEAST,
    "AT_LEAST": KPI.Comparison.AT_LEAST,
    "LESS_THAN_OR_EQUAL": KPI.Comparison.AT_MOST,
    "LESS_THAN": KPI.Comparison.AT_MOST,
    "LTE": KPI.Comparison.AT_MOST,
    "LT": KPI.Comparison.AT_MOST,
    "<=": KPI.Comparison.AT_MOST,
    "<": KPI.Comparison.AT_MOST,
    "AT_MOST": KPI.Comparison.AT_MOST,
}


class ImportRefused(Exception):
    """The file has problems; nothing was written. ``problems`` name line or path."""

    def __init__(self, problems: list[str]):
        self.problems = problems[:MAX_PROBLEMS]
        more = len(problems) - len(self.problems)
        text = "; ".join(self.problems) + (f"; and {more} more" if more > 0 else "")
        super().__init__(f"Nothing was imported: {text}.")


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
            KPI.objects.filter(import_key__in=[k.import_key for k in created]).values_list(
                "import_key", "pk"
            )
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


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(["the file is not UTF-8 text"]) from None


def measurements_import(*, journey_map: JourneyMap, content: bytes | str, by=None) -> ImportResult:
    """Import a CSV or TheyDo metrics file into ``journey_map``'s KPIs, all or nothing.

    The caller decides who may (the map's editors). Raises ``ImportRefused``."""
    text = _decode(content)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ImportRefused(
                [f"the JSON is not valid (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
            ) from None
        return theydo_import(journey_map=journey_map, data=data, by=by)
    return csv_import(journey_map=journey_map, text=text, by=by)


# --- CSV ---------------------------------------------------------------------------


def csv_import(*, journey_map: JourneyMap, text: str, by=None) -> ImportResult:
    """Columns: ``kpi`` (name or import key of one of the map's KPIs), ``date``, the
    inputs of the KPI's kind, optional ``region``, ``channel``, ``segment``. Line 1 is
    the header; a problem names its line and column."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
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
    problems: list[str] = []
    seen: dict[tuple[int, Any, str], int] = {}
    for line_number, values in _rows_with_lines(reader):
        where = f"line {line_number}"
        if None in values:  # more cells than header columns
            problems.append(f"{where}: more cells than the header has columns")
            continue
        name = (values.get("kpi") or "").strip()
        kpi = by_key.get(name.lower()) or by_name.get(name.lower())
        if kpi is None:
            problems.append(
                f"{where}, column kpi: “{name}” is not a KPI of “{journey_map}” "
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
            problems.append(
                f"{where}: repeats line {seen[key]} (same KPI, date and region/channel/segment)"
            )
            continue
        seen[key] = line_number
        observations.append(obs)
        if len(problems) > MAX_PROBLEMS:
            break
    if problems:
        raise ImportRefused(problems)
    if not observations:
        raise ImportRefused(["the file has no data lines below its header"])
    measurements = observations_record_many(observations=observations, by=by)
    return ImportResult(format="csv", observations=len(observations), periods=len(measurements))


def _rows_with_lines(reader: csv.DictReader):
    """(the line a row ends on, the row), skipping lines of empty cells."""
    for row in reader:
        if None in row or any(isinstance(v, str) and v.strip() for v in row.values()):
            yield reader.line_num, row


# --- TheyDo ------------------------------------------------------------------------


def _theydo_number(raw: Any, path: str, problems: list[str]) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        problems.append(f"{path}: “{raw}” is not a number")
        return None
    return float(raw)


@dataclass
class _Metric:
    path: str
    import_key: str
    name: str
    kind: str
    target: float | None
    comparison: str | None
    points: list[tuple[str, dict]]  # (path, data point)


def _theydo_metrics(data: Any, problems: list[str]) -> list[_Metric]:
    if not isinstance(data, dict):
        problems.append("$: the file must be a JSON object")
        return []
    if data.get("format") != THEYDO_FORMAT:
        problems.append(f"format: expected “{THEYDO_FORMAT}”, found “{data.get('format')}”")
        return []
    metrics = data.get("metrics")
    if not isinstance(metrics, list):
        problems.append("metrics: must be a list")
        return []
    parsed = []
    keys_seen: dict[str, str] = {}
    for i, metric in enumerate(metrics):
        path = f"metrics[{i}]"
        if not isinstance(metric, dict):
            problems.append(f"{path}: must be an object")
            continue
        key = metric.get("importKey")
        if not isinstance(key, str) or not key.strip() or len(key.strip()) > 120:
            problems.append(f"{path}.importKey: required, a text of at most 120 characters")
            continue
        key = key.strip()
        if key in keys_seen:
            problems.append(f"{path}.importKey: “{key}” is also {keys_seen[key]}")
            continue
        keys_seen[key] = path
        name = metric.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 160:
            problems.append(f"{path}.name: required, a text of at most 160 characters")
            continue
        kind = THEYDO_TYPES.get(str(metric.get("type", "")).upper())
        if kind is None:
            problems.append(
                f"{path}.type: “{metric.get('type')}” is not one of {', '.join(THEYDO_TYPES)}"
            )
            continue
        operator = metric.get("targetComparisonOperator")
        comparison = None
        if operator not in (None, ""):
            comparison = THEYDO_COMPARISONS.get(str(operator).upper())
            if comparison is None:
                problems.append(
                    f"{path}.targetComparisonOperator: “{operator}” is not understood "
                    "(use GREATER_THAN_OR_EQUAL or LESS_THAN_OR_EQUAL)"
                )
                continue
        target = _theydo_number(metric.get("target"), f"{path}.target", problems)
        points = metric.get("dataPoints", [])
        if not isinstance(points, list):
            problems.append(f"{path}.dataPoints: must be a list")
            continue
        parsed.append(
            _Metric(
                path=path,
                import_key=key,
                name=name.strip(),
                kind=kind,
                target=target,
                comparison=comparison,
                points=[(f"{path}.dataPoints[{j}]", p) for j, p in enumerate(points)],
            )
        )
    return parsed


def _theydo_kpis(
    journey_map: JourneyMap, metrics: list[_Metric], problems: list[str]
) -> tuple[dict[str, KPI], list[KPI], list[KPI]]:
    """The KPI of every metric — matched by import key, else adopted by name on this map,
    else new — with the definitions from the file. Two queries, no writes."""
    existing = {
        kpi.import_key: kpi
        for kpi in KPI.objects.filter(
            import_key__in=[m.import_key for m in metrics]
        ).select_related("map")
    }
    by_name = {
        kpi.name.lower(): kpi
        for kpi in KPI.objects.filter(map=journey_map, import_key__isnull=True)
    }
    kpis: dict[str, KPI] = {}
    created, updated = [], []
    for metric in metrics:
        kpi = existing.get(metric.import_key)
        if kpi is not None and kpi.map_id != journey_map.pk:
            problems.append(
                f"{metric.path}.importKey: “{metric.import_key}” is a KPI of another map "
                f"(“{kpi.map}”)"
            )
            continue
        is_new = False
        if kpi is None:
            kpi = by_name.pop(metric.name.lower(), None)
        if kpi is None:
            is_new = True
            kpi = KPI(map=journey_map, name=metric.name, source=KPI.Source.MANUAL)
        before = (kpi.name, kpi.kind, kpi.target, kpi.direction, kpi.import_key)
        kpi.import_key = metric.import_key
        kpi.name = metric.name
        kpi.kind = metric.kind
        if metric.target is not None:
            kpi.target = metric.target
        if metric.comparison is not None:
            kpi.comparison = metric.comparison
        if metric.kind in (KPI.Kind.NPS, KPI.Kind.CSAT, KPI.Kind.RATIO):
            kpi.unit = kpi.unit or ("points" if metric.kind == KPI.Kind.NPS else "%")
        try:
            kpi.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            problems.extend(_describe(exc, metric.path, {"target": "target", "name": "name"}))
            continue
        kpis[metric.import_key] = kpi
        if is_new:
            created.append(kpi)
        elif before != (kpi.name, kpi.kind, kpi.target, kpi.direction, kpi.import_key):
            updated.append(kpi)
    names = [k.name.lower() for k in kpis.values()]
    taken = {
        name.lower()
        for name in KPI.objects.filter(map=journey_map)
        .exclude(pk__in=[k.pk for k in kpis.values() if k.pk])
        .values_list("name", flat=True)
    }
    for metric in metrics:
        kpi = kpis.get(metric.import_key)
        if kpi is not None and (names.count(kpi.name.lower()) > 1 or kpi.name.lower() in taken):
            problems.append(f"{metric.path}.name: “{kpi.name}” is already a KPI name on this map")
    return kpis, created, updated


def theydo_import(*, journey_map: JourneyMap, data: Any, by=None) -> ImportResult:
    """TheyDo's metrics file: KPIs matched by ``importKey`` (re-importing updates them and
    replaces their data points instead of duplicating), new ones created on
    ``journey_map``. A problem names its JSON path, e.g.
    ``metrics[1].dataPoints[0].dateOfMeasurement``."""
    problems: list[str] = []
    metrics = _theydo_metrics(data, problems)
    if problems:
        raise ImportRefused(problems)
    kpis, created, updated = _theydo_kpis(journey_map, metrics, problems)
    observations: list[ObservationInput] = []
    seen: dict[tuple[str, Any, str], str] = {}
    for metric in metrics:
        kpi = kpis.get(metric.import_key)
        if kpi is None:
            continue
        for path, point in metric.points:
            if not isinstance(point, dict):
                problems.append(f"{path}: must be an object")
                continue
            raw_date = point.get("dateOfMeasurement")
            if not isinstance(raw_date, str) or not raw_date.strip():
                problems.append(f"{path}.dateOfMeasurement: required (YYYY-MM-DD)")
                continue
            unknown = [
                k
                for k in point
                if k not in THEYDO_INPUTS and k not in ("dateOfMeasurement", "dimensions")
            ]
            if unknown:
                problems.append(f"{path}: unknown field(s) {', '.join(sorted(unknown))}")
                continue
            dimensions = point.get("dimensions") or {}
            if not isinstance(dimensions, dict):
                problems.append(f"{path}.dimensions: must be an object")
                continue
            inputs = {THEYDO_INPUTS[k]: v for k, v in point.items() if k in THEYDO_INPUTS}
            camel = {v: k for k, v in THEYDO_INPUTS.items() if k != "average"}
            names = {"date": "dateOfMeasurement", "dimensions": "dimensions"}
            names.update({snake: f"{camel[snake]}" for snake in kpi_math.ALL_INPUTS})
            try:
                obs = observation_clean(
                    kpi=kpi, date=raw_date, inputs=inputs, dimensions=dimensions
                )
            except ValidationError as exc:
                for key, messages in exc.message_dict.items():
                    for message in messages:
                        problems.append(f"{path}.{names.get(key, key)}: {message}")
                continue
            key = (metric.import_key, obs.date, obs.dimension_key)
            if key in seen:
                problems.append(f"{path}: repeats {seen[key]} (same date and dimensions)")
                continue
            seen[key] = path
            observations.append(obs)
        if len(problems) > MAX_PROBLEMS:
            break
    if problems:
        raise ImportRefused(problems)
    with transaction.atomic():
        kpis_save_imported(
            journey_map=journey_map,
            created=created,
            updated=updated,
            fields=("name", "kind", "target", "direction", "import_key", "unit"),
            by=by,
        )
        measurements = observations_record_many(observations=observations, by=by)
    return ImportResult(
        format="theydo",
        observations=len(observations),
        periods=len(measurements),
        kpis_created=[k.name for k in created],
        kpis_updated=[k.name for k in updated],
    )

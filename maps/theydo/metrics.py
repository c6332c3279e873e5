"""``THEYDO_METRICS_V1`` → the map's KPIs and their observations.

Each metric is a KPI of the map, matched by ``importKey`` (keys are scoped to the map),
else a KPI of the map with the same name and no key (adopted), else a new one:

- ``title`` → name; ``type`` CES / CSAT / NPS / RATIO / OTHER → kind ces / csat / nps /
  ratio / value (a KPI that has data cannot change its kind); ``description``, ``unit``,
  ``target``; ``targetComparisonOperator`` MORE_THAN_OR_EQUAL_TO → higher is better (at
  least the target), LESS_THAN_OR_EQUAL_TO → lower is better (at most), null → higher is
  better; OTHER's ``aggregationMethod`` SUM / AVERAGE → how one period's values combine;
  ``ownerEmail`` → owner; ``groups`` and ``groupTags`` → tags.
- Every data point is an observation of its date and dimensions (``[{"key", "value"}]``,
  keys lower-cased with other characters as ``_``): CES ``score`` and ``respondents`` →
  mean and respondents; CSAT ``veryUnsatisfied``, ``unsatisfied``, ``neutral``,
  ``satisfied``, ``verySatisfied`` → the five counts; NPS ``promoters``, ``passives``,
  ``detractors``; RATIO ``numerator``, ``denominator``; OTHER ``value``. Observations of
  one date are pooled into the period's value (``maps.kpi_math``); a data point of a date
  and dimensions already recorded replaces it; dates the file leaves out are kept (a
  pipeline may send only its latest month).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from ..imports import Problems
from ..models import KPI, MeasurementObservation
from ..services import ObservationInput, map_touch, observation_clean, observations_record_many
from . import plan as p

FORMAT = "THEYDO_METRICS_V1"

KINDS = {
    "CES": KPI.Kind.CES,
    "CSAT": KPI.Kind.CSAT,
    "NPS": KPI.Kind.NPS,
    "RATIO": KPI.Kind.RATIO,
    "OTHER": KPI.Kind.VALUE,
}
#: each type's data point fields → observation inputs
INPUTS: dict[str, dict[str, str]] = {
    "CES": {"score": "mean", "respondents": "respondents"},
    "CSAT": {
        "veryUnsatisfied": "very_dissatisfied",
        "unsatisfied": "dissatisfied",
        "neutral": "neutral",
        "satisfied": "satisfied",
        "verySatisfied": "very_satisfied",
    },
    "NPS": {"promoters": "promoters", "passives": "passives", "detractors": "detractors"},
    "RATIO": {"numerator": "numerator", "denominator": "denominator"},
    "OTHER": {"value": "value"},
}
COMPARISONS = {
    "MORE_THAN_OR_EQUAL_TO": KPI.Comparison.AT_LEAST,
    "LESS_THAN_OR_EQUAL_TO": KPI.Comparison.AT_MOST,
}
AGGREGATIONS = {"SUM": KPI.Aggregation.SUM, "AVERAGE": KPI.Aggregation.AVERAGE}
#: our field → the file's name, for problems
FILE_NAMES = {
    "name": "title",
    "kind": "type",
    "aggregation": "aggregationMethod",
    "direction": "targetComparisonOperator",
}
SAVED_FIELDS = (
    "import_key",
    "name",
    "kind",
    "description",
    "unit",
    "target",
    "direction",
    "aggregation",
    "owner",
)


def dimension_name(key: str) -> str:
    """A TheyDo dimension key as ours: lower case, other characters as ``_``."""
    return re.sub(r"[^a-z0-9_-]+", "_", key.strip().lower()).strip("_")[:40] or "_"


def plan(*, journey_map, data: dict[str, Any], by, problems: Problems) -> p.ImportPlan:
    result = p.ImportPlan(FORMAT)
    metrics = data["metrics"]
    keys = [m["importKey"] for m in metrics]
    existing = {
        kpi.import_key: kpi
        for kpi in KPI.objects.filter(map=journey_map, import_key__in=keys).prefetch_related(
            "tags__group"
        )
    }
    p.adopt_local(
        existing,
        KPI.objects.filter(map=journey_map).prefetch_related("tags__group"),
        keys,
    )
    adopted = {kpi.pk for kpi in existing.values()}
    unkeyed = {
        kpi.name.lower(): kpi
        for kpi in KPI.objects.filter(map=journey_map, import_key__isnull=True).prefetch_related(
            "tags__group"
        )
        if kpi.pk not in adopted
    }
    with_data = set(
        MeasurementObservation.objects.filter(kpi__map=journey_map)
        .values_list("kpi_id", flat=True)
        .distinct()
    )
    owners = p.owners_by_email(m.get("ownerEmail") for m in metrics)
    tags = p.TagResolver()
    for metric in metrics:
        tags.want(metric)
    tags.resolve()

    created: list[KPI] = []
    updated: list[KPI] = []
    tagged: list[tuple[KPI, dict]] = []
    observations: list[ObservationInput] = []
    for i, metric in enumerate(metrics):
        path = f"metrics[{i}]"
        key, title = metric["importKey"], metric["title"].strip()
        kpi = existing.get(key) or unkeyed.pop(title.lower(), None)
        is_new = kpi is None
        if is_new:
            kpi = KPI(map=journey_map, name=title, source=KPI.Source.MANUAL)
        changed: list[str] = []
        _assign(kpi, metric, key, title, changed, with_data, path, problems, owners, result)
        tag_parts = p.tag_changes(metric, kpi, is_new=is_new)
        changed += tag_parts
        if tag_parts:
            tagged.append((kpi, metric))
        try:
            kpi.full_clean(exclude=["map", "step", "owner"], validate_constraints=False,
                           validate_unique=False)  # fmt: skip
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                where = path if field == "__all__" else f"{path}.{FILE_NAMES.get(field, field)}"
                problems.extend(f"{where}: {m}" for m in messages)
            continue
        observations += _observations(kpi, metric, path, problems)
        result.add("KPI", key, title, None if is_new else changed)
        if is_new:
            created.append(kpi)
        elif changed:
            updated.append(kpi)
    _names_unique(journey_map, metrics, [*existing.values()], created + updated, problems)
    result.counts["observations"] = len(observations)
    result.counts["periods"] = len({(id(o.kpi), o.date) for o in observations})
    result.counts.update({f"{noun} created": n for noun, n in tags.missing.items()})

    def write() -> None:
        tags.create_missing()
        p.write_tagged(KPI, created=created, updated=updated, fields=SAVED_FIELDS,
                       tagged=tagged, tags=tags, by=by, link_field="kpi")  # fmt: skip
        observations_record_many(observations=observations, by=p.history_user(by))
        if created or updated:
            # KPI definitions are map content: editors holding the old version get a
            # conflict rather than overwrite them
            map_touch(journey_map_id=journey_map.pk)

    result.writes.append(write)
    return result


def _assign(kpi, metric, key, title, changed, with_data, path, problems, owners, result) -> None:
    """Set the KPI's fields from the metric by TheyDo's omitted / null / value rule."""

    def put(attr: str, value: Any, name: str) -> None:
        if getattr(kpi, attr) != value:
            setattr(kpi, attr, value)
            changed.append(name)

    put("import_key", key, "importKey")
    put("name", title, "title")
    kind = KINDS[metric["type"]]
    if kpi.pk and kind != kpi.kind and kpi.pk in with_data:
        problems.add(
            f"{path}.type: “{kpi.name}” has data as {kpi.get_kind_display()}; a file cannot "
            f"change it to {metric['type']} (create a new metric instead)"
        )
    put("kind", kind, "type")
    put("unit", metric["unit"].strip(), "unit")
    description = p.given(metric, "description")
    if description is not p.MISSING:
        put("description", description or "", "description")
    target = p.given(metric, "target")
    if target is not p.MISSING:
        put("target", None if target is None else float(target), "target")
    operator = p.given(metric, "targetComparisonOperator")
    if operator is not p.MISSING:
        comparison = COMPARISONS[operator] if operator else KPI.Comparison.AT_LEAST
        if kpi.comparison != comparison:
            kpi.comparison = comparison
            changed.append("targetComparisonOperator")
    if metric["type"] == "OTHER":
        put("aggregation", AGGREGATIONS[metric["aggregationMethod"]], "aggregationMethod")
    moves, owner = p.owner_change(
        kpi, p.given(metric, "ownerEmail"), owners, path=f"{path}.ownerEmail", notes=result.notes
    )
    if moves:
        kpi.owner = owner
        changed.append("ownerEmail")


def _observations(kpi: KPI, metric: dict, path: str, problems: Problems) -> list[ObservationInput]:
    names = INPUTS[metric["type"]]
    camel = {ours: theirs for theirs, ours in names.items()}
    found: list[ObservationInput] = []
    seen: dict[tuple, str] = {}
    for j, point in enumerate(metric["dataPoints"]):
        where = f"{path}.dataPoints[{j}]"
        dimensions: dict[str, str] = {}
        for d, dimension in enumerate(point.get("dimensions") or ()):
            name = dimension_name(dimension["key"])
            if name in dimensions:
                problems.add(f"{where}.dimensions[{d}].key: “{dimension['key']}” is given twice")
            dimensions[name] = dimension["value"]
        try:
            obs = observation_clean(
                kpi=kpi,
                date=point["dateOfMeasurement"],
                inputs={ours: point.get(theirs) for theirs, ours in names.items()},
                dimensions=dimensions,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                name = "dateOfMeasurement" if field == "date" else camel.get(field, field)
                problems.extend(f"{where}.{name}: {m}" for m in messages)
            continue
        same = (obs.date, obs.dimension_key)
        if same in seen:
            problems.add(f"{where}: repeats {seen[same]} (the same date and dimensions)")
            continue
        seen[same] = where
        found.append(obs)
    return found


def _names_unique(journey_map, metrics, matched, written, problems: Problems) -> None:
    """Two metrics may not give one name, nor take the name of another KPI of the map."""
    mine = {kpi.pk for kpi in matched if kpi.pk} | {k.pk for k in written if k.pk}
    taken = {
        name.lower()
        for name in KPI.objects.filter(map=journey_map)
        .exclude(pk__in=mine)
        .values_list("name", flat=True)
    }
    seen: dict[str, str] = {}
    for i, metric in enumerate(metrics):
        name = metric["title"].strip().lower()
        if name in seen:
            problems.add(f"metrics[{i}].title: “{metric['title']}” is also {seen[name]}")
        elif name in taken:
            problems.add(
                f"metrics[{i}].title: “{metric['title']}” is already the name of another KPI "
                "of this map"
            )
        seen.setdefault(name, f"metrics[{i}].title")

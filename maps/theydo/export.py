"""A map's content in TheyDo's formats, so a team can take it back (``docs/theydo.md``).

``export(journey_map, fmt)`` builds one file of a format from our models:

- ``THEYDO_METRICS_V1``: the map's KPIs, their observations grouped back into data
  points (dimensions as ``[{"key", "value"}]``); a plain-value KPI is OTHER with its
  aggregation, and its periods entered directly (no observation) are data points too.
- ``THEYDO_INSIGHTS_V1`` / ``THEYDO_OPPORTUNITIES_V1``: the map's lane items of that kind.
- ``THEYDO_SOLUTIONS_V1``: the CX projects linked to the map.
- ``THEYDO_SURVEY_RESPONSES_V1`` / ``THEYDO_FEEDBACK_RESPONSES_V1``: one research source
  of that kind (``source``: its surveyId/feedbackId, needed when the map has several),
  its quotes rebuilt into responses.

Every key is written (``null`` for an empty value), so importing the file sets exactly
what it shows; entries are sorted by importKey (responses by responseId), so export →
import → export gives the same document. An object without an import key is exported as
``jh-<pk>``. Each export runs a fixed number of queries whatever the map's size.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch

from ..models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    MeasurementObservation,
    Quote,
    ResearchSource,
    Tag,
)
from .schemas import (
    EMAIL_RE,
    FEEDBACK_RESPONSES,
    FORMATS,
    INSIGHTS,
    INT_MAX,
    INT_MIN,
    KINDS,
    METRICS,
    OPPORTUNITIES,
    RESPONSES_METADATA,
    SOLUTIONS,
    SURVEY_RESPONSES,
)

_EMAIL = re.compile(EMAIL_RE)

#: our KPI kinds → TheyDo's metric types
METRIC_TYPES = {
    KPI.Kind.CES: "CES",
    KPI.Kind.CSAT: "CSAT",
    KPI.Kind.NPS: "NPS",
    KPI.Kind.RATIO: "RATIO",
    KPI.Kind.VALUE: "OTHER",
}
#: each kind's observation inputs → the data point's keys
DATA_POINT_KEYS: dict[str, dict[str, str]] = {
    KPI.Kind.CES: {"mean": "score", "respondents": "respondents"},
    KPI.Kind.CSAT: {
        "very_dissatisfied": "veryUnsatisfied",
        "dissatisfied": "unsatisfied",
        "neutral": "neutral",
        "satisfied": "satisfied",
        "very_satisfied": "verySatisfied",
    },
    KPI.Kind.NPS: {"promoters": "promoters", "passives": "passives", "detractors": "detractors"},
    KPI.Kind.RATIO: {"numerator": "numerator", "denominator": "denominator"},
    KPI.Kind.VALUE: {"value": "value"},
}
#: RATIO's parts are 32-bit integers in TheyDo's format
INTEGER_KEYS = frozenset({"numerator", "denominator"})
COMPARISONS = {
    KPI.Comparison.AT_LEAST: "MORE_THAN_OR_EQUAL_TO",
    KPI.Comparison.AT_MOST: "LESS_THAN_OR_EQUAL_TO",
}
AGGREGATIONS = {KPI.Aggregation.SUM: "SUM", KPI.Aggregation.AVERAGE: "AVERAGE"}
#: a project's status, when it has none from TheyDo (``source_status``)
PROJECT_STATUSES = {
    CXProject.Status.IDEA: "idea",
    CXProject.Status.PLANNED: "planned",
    CXProject.Status.ONGOING: "in progress",
    CXProject.Status.DONE: "done",
    CXProject.Status.CANCELLED: "cancelled",
}
SOURCE_KINDS = {
    SURVEY_RESPONSES: ResearchSource.Kind.SURVEY,
    FEEDBACK_RESPONSES: ResearchSource.Kind.FEEDBACK,
}
FIELD_KEYS = ("fieldId", "fieldName", "fieldType", "tagGroupTitle", "required")
#: the field a quote without a response of its own is written under, when the source
#: declares no TEXT field
QUOTE_FIELD = {"fieldId": "quote", "fieldName": "Quote", "fieldType": "TEXT", "required": False}


class ExportRefused(ValueError):
    """The export cannot be made as asked (the message says why and what to ask)."""


def _key(obj: Any, import_key: str | None) -> str:
    return import_key or f"jh-{obj.pk}"


def _text(value: str) -> str | None:
    return value or None


def _tags() -> Prefetch:
    return Prefetch("tags", queryset=Tag.objects.select_related("group").order_by("pk"))


def _tag_keys(tags: Iterable[Tag], *, plain: bool = True) -> dict[str, list]:
    """An object's tags as TheyDo's ``tags``, ``groups`` and ``groupTags``, sorted by name
    (``plain=False``: a format without ``tags``)."""
    out: dict[str, list] = {"tags": [], "groups": [], "groupTags": []}
    for tag in tags:
        if tag.kind == Tag.Kind.GROUP:
            out["groups"].append(tag.name)
        elif tag.group_id:
            out["groupTags"].append({"tagGroup": tag.group.name, "tag": tag.name})
        else:
            out["tags"].append(tag.name)
    out["tags"].sort(key=str.lower)
    out["groups"].sort(key=str.lower)
    out["groupTags"].sort(key=lambda t: (t["tagGroup"].lower(), t["tag"].lower()))
    if not plain:
        del out["tags"]
    return out


def _owner(entry: dict[str, Any], owner) -> None:
    """``ownerEmail``: null without an owner; left out when the owner's address is not
    one TheyDo accepts (so a re-import leaves the owner rather than removing it)."""
    if owner is None:
        entry["ownerEmail"] = None
    elif owner.email and _EMAIL.match(owner.email):
        entry["ownerEmail"] = owner.email


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- metrics -------------------------------------------------------------------------


def _number(value: float | int | None, key: str) -> float | int | None:
    """A stored input as the file writes it: whole numbers as integers; None when the
    format cannot hold it (a RATIO part that is not a 32-bit integer)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if key in INTEGER_KEYS and not (isinstance(value, int) and INT_MIN <= value <= INT_MAX):
        return None
    return value


def _data_points(kpi: KPI, direct: list[Measurement]) -> list[dict[str, Any]]:
    keys = DATA_POINT_KEYS[kpi.kind]
    points: list[tuple[tuple, dict[str, Any]]] = []
    observed_dates = set()
    for obs in kpi.observations.all():
        observed_dates.add(obs.date)
        values = {theirs: _number(getattr(obs, ours), theirs) for ours, theirs in keys.items()}
        if any(v is None for v in values.values()):
            continue  # inputs the format cannot carry (docs/theydo.md says which)
        point: dict[str, Any] = {"dateOfMeasurement": obs.date.isoformat(), **values}
        if obs.dimensions:
            point["dimensions"] = [
                {"key": str(k), "value": str(v)} for k, v in sorted(obs.dimensions.items())
            ]
        points.append(((obs.date, obs.dimension_key), point))
    if kpi.kind == KPI.Kind.VALUE:
        # a plain value entered directly for a period is that period's one data point
        for measurement in direct:
            if measurement.date not in observed_dates:
                point = {
                    "dateOfMeasurement": measurement.date.isoformat(),
                    "value": _number(measurement.value, "value"),
                }
                points.append(((measurement.date, ""), point))
    return [point for _, point in sorted(points, key=lambda p: p[0])]


def _metrics(journey_map: JourneyMap) -> list[dict[str, Any]]:
    kpis = (
        KPI.objects.filter(map=journey_map)
        .select_related("owner")
        .prefetch_related(
            _tags(),
            Prefetch(
                "observations",
                queryset=MeasurementObservation.objects.order_by("date", "dimension_key", "pk"),
            ),
        )
    )
    direct: dict[int, list[Measurement]] = defaultdict(list)
    for measurement in Measurement.objects.filter(
        kpi__map=journey_map, kpi__kind=KPI.Kind.VALUE
    ).order_by("date", "pk"):
        direct[measurement.kpi_id].append(measurement)
    out = []
    for kpi in kpis:
        metric: dict[str, Any] = {
            "type": METRIC_TYPES[kpi.kind],
            "importKey": _key(kpi, kpi.import_key),
            "title": kpi.name,
            "description": _text(kpi.description),
            "unit": kpi.unit,
            "target": _number(kpi.target, "target"),
            "targetComparisonOperator": COMPARISONS[kpi.comparison],
        }
        if kpi.kind == KPI.Kind.VALUE:
            metric["aggregationMethod"] = AGGREGATIONS[kpi.aggregation]
        _owner(metric, kpi.owner)
        metric.update(_tag_keys(kpi.tags.all(), plain=False))
        metric["dataPoints"] = _data_points(kpi, direct.get(kpi.pk, []))
        out.append(metric)
    return sorted(out, key=lambda m: m["importKey"])


# --- insights, opportunities, solutions ------------------------------------------------


def _lane_items(journey_map: JourneyMap, kind: str) -> list[dict[str, Any]]:
    items = (
        LaneItem.objects.filter(map=journey_map, kind=kind)
        .select_related("owner")
        .prefetch_related(_tags())
    )
    out = []
    for item in items:
        entry: dict[str, Any] = {
            "importKey": _key(item, item.import_key),
            "title": item.title,
            "description": _text(item.description),
            "status": _text(item.status),
            "type": _text(item.item_type),
            "externalLinks": list(item.external_links),
        }
        if kind == LaneItem.Kind.INSIGHT:
            entry["icon"] = _text(item.icon)
            entry["empathyScore"] = _number(item.empathy_score, "empathyScore")
            entry["weight"] = _number(item.weight, "weight")
        entry.update(_tag_keys(item.tags.all()))
        _owner(entry, item.owner)
        out.append(entry)
    return sorted(out, key=lambda e: e["importKey"])


def _solutions(journey_map: JourneyMap) -> list[dict[str, Any]]:
    projects = (
        CXProject.objects.filter(maps=journey_map)
        .select_related("owner")
        .prefetch_related(_tags())
        .distinct()
    )
    out = []
    for project in projects:
        # keys are scoped to the map a project was imported through (docs/theydo.md)
        key = project.import_key if project.import_map_id == journey_map.pk else None
        entry: dict[str, Any] = {
            "importKey": _key(project, key),
            "title": project.title,
            "description": _text(project.summary),
            "status": project.source_status or PROJECT_STATUSES[project.status],
            "type": _text(project.project_type),
            "priority": project.priority.upper() or None,
            "externalLinks": list(project.external_links),
        }
        entry.update(_tag_keys(project.tags.all()))
        _owner(entry, project.owner)
        out.append(entry)
    return sorted(out, key=lambda e: e["importKey"])


# --- survey and feedback responses -----------------------------------------------------


def _source(journey_map: JourneyMap, fmt: str, source: str | None) -> ResearchSource:
    kind = SOURCE_KINDS[fmt]
    sources = ResearchSource.objects.filter(map=journey_map, kind=kind).order_by("pk")
    found = [s for s in sources if source is None or _key(s, s.import_key) == source]
    if len(found) == 1:
        return found[0]
    known = ", ".join(_key(s, s.import_key) for s in sources)
    noun = ResearchSource.Kind(kind).label.split(" /")[0].lower()
    if not known:
        raise ExportRefused(f"This map has no {noun} source to export.")
    if source is None:
        raise ExportRefused(f"This map has several {noun} sources: name one as source ({known}).")
    raise ExportRefused(f"This map has no {noun} source “{source[:80]}” (it has: {known}).")


def _responses(source: ResearchSource, fmt: str) -> dict[str, Any]:
    metadata_key, name_key, id_key, fields_key = RESPONSES_METADATA[fmt]
    fields = [
        {
            k: f[k]
            for k in ("fieldId", "fieldName", "fieldType", "tagGroupTitle", "required")
            if k in f
        }
        for f in source.fields
        if isinstance(f, dict) and f.get("fieldId") is not None
    ]
    declared = {f["fieldId"]: f for f in fields}
    text_ids = [f["fieldId"] for f in fields if f.get("fieldType", "TEXT") == "TEXT"]
    quotes = (
        Quote.objects.filter(source=source).prefetch_related(_tags()).order_by("position", "pk")
    )
    responses: dict[str, dict[str, Any]] = {}
    for quote in quotes:
        response_id = quote.response_id or f"jh-{quote.pk}"
        response = responses.setdefault(
            response_id,
            {"at": quote.responded_at or quote.created_at, "values": {}, "tags": [], "hint": ""},
        )
        values = response["values"]
        if quote.field_id:
            values.setdefault(quote.field_id, quote.text)
        elif quote.answers:
            for field_id, text in quote.answers.items():
                values.setdefault(field_id, text)
        else:  # a quote written by hand: its text under the source's first TEXT field
            if not text_ids:
                fields.append(dict(QUOTE_FIELD))
                declared[QUOTE_FIELD["fieldId"]] = fields[-1]
                text_ids.append(QUOTE_FIELD["fieldId"])
            values.setdefault(text_ids[0], quote.text)
        response["tags"] += list(quote.tags.all())
        response["hint"] = response["hint"] or quote.persona_hint
    for response in responses.values():
        for field in fields:
            field_type = field.get("fieldType", "TEXT")
            if field_type == "TAG_GROUP":
                title = (field.get("tagGroupTitle") or "").strip().lower()
                names = sorted(
                    t.name for t in response["tags"] if t.group_id and t.group.name.lower() == title
                )
                if names:
                    response["values"].setdefault(field["fieldId"], names[0])
            elif field_type == "PERSONA" and response["hint"]:
                response["values"].setdefault(field["fieldId"], response["hint"])
    for field_id in sorted({f for r in responses.values() for f in r["values"]} - set(declared)):
        field = {"fieldId": field_id, "fieldName": field_id, "fieldType": "TEXT"}
        fields.append({**field, "required": False})
        declared[field_id] = fields[-1]
    out = []
    for response_id, response in sorted(responses.items()):
        values = response["values"]
        out.append(
            {
                "responseId": response_id,
                "responseDateTime": _utc(response["at"]),
                "responseFields": [
                    {"fieldId": f["fieldId"], "textValue": values[f["fieldId"]]}
                    for f in fields
                    if f["fieldId"] in values
                ],
            }
        )
    for field in fields:
        if field.get("required") and any(
            not str(r["values"].get(field["fieldId"], "")).strip() for r in responses.values()
        ):
            # a value edited away since the import: the file says the field is optional
            # rather than be refused by its own schema
            field["required"] = False
    return {
        metadata_key: {
            name_key: source.title,
            id_key: _key(source, source.import_key),
            fields_key: fields,
            "convertAllRowsToQuotes": source.one_quote_per_response,
        },
        "responses": out,
    }


# --- the entry point -------------------------------------------------------------------


def export(journey_map: JourneyMap, fmt: str, *, source: str | None = None) -> dict[str, Any]:
    """``journey_map``'s content as a TheyDo file of format ``fmt``. ``source`` names the
    research source of a responses format (its surveyId/feedbackId); raises
    ``ExportRefused`` when it is needed and missing or unknown."""
    if fmt not in FORMATS:
        raise ExportRefused(f"“{fmt[:40]}” is not a TheyDo format ({', '.join(FORMATS)}).")
    document: dict[str, Any] = {"format": fmt}
    if fmt == METRICS:
        document["metrics"] = _metrics(journey_map)
    elif fmt == INSIGHTS:
        document["insights"] = _lane_items(journey_map, LaneItem.Kind.INSIGHT)
    elif fmt == OPPORTUNITIES:
        document["opportunities"] = _lane_items(journey_map, LaneItem.Kind.OPPORTUNITY)
    elif fmt == SOLUTIONS:
        document["solutions"] = _solutions(journey_map)
    else:
        document.update(_responses(_source(journey_map, fmt, source), fmt))
    return document


def export_file_name(journey_map: JourneyMap, fmt: str) -> str:
    """``<map slug>-<kind>.theydo.json``, e.g. ``open-an-account-metrics.theydo.json``."""
    kind = {fmt: kind for kind, fmt in KINDS.items()}[fmt]
    return f"{journey_map.slug}-{kind}.theydo.json"

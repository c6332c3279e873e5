"""The JSON Schema of journeyhub/1, built from the same declaration as the exporter and
the importer (``maps.exchange.spec``), so the three cannot disagree.
``manage.py export_maps --write-schema`` writes it to ``docs/exchange/journeyhub-1.schema.json``
(a test keeps the file equal to this).

Each field's JSON type comes from its model field (texts with their length and
choices, numbers, dates, foreign keys as the key of what they point at); required are
the keys naming a row and the fields a new row cannot do without (no default, not blank).
"""

from __future__ import annotations

import functools
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ..models.common import EXCHANGE_KEY_PATTERN
from ..theydo.schemas import DATE_RE, UTC_TIME_RE
from .spec import (
    ATTACHMENT_PART,
    CONTENT_PARTS,
    FORMAT,
    MAP_PART,
    MEASUREMENT_PART,
    OBSERVATION_PART,
    PERSONA_PART,
    PROJECT_PART,
    QUOTE_PART,
    REF_FIELD,
    SOURCE_PART,
    Part,
    json_name,
)

SCHEMA_ID = "https://journeyhub.example/schemas/journeyhub-1.schema.json"
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
POSITIVE = (
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
)

TAG = {
    "type": "object",
    "description": "A tag: a plain tag (kind tag, no group), a tag of a tag group, or a "
    "group an item belongs to (kind group). Matched by name, case-insensitively; created "
    "when missing.",
    "properties": {
        "kind": {"enum": ["tag", "group"]},
        "group": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "required": ["name"],
    "additionalProperties": False,
}
KEY = {"type": "string", "pattern": EXCHANGE_KEY_PATTERN}
MAP_AND_KEY = {
    "type": "object",
    "properties": {"map": {"type": "string", "pattern": SLUG_PATTERN}, "key": KEY},
    "required": ["map", "key"],
    "additionalProperties": False,
}


def _nullable(schema: dict, null: bool) -> dict:
    if not null:
        return schema
    schema = dict(schema)
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def field_schema(model_field: models.Field) -> dict[str, Any]:
    described: dict[str, Any] = {}
    if model_field.help_text:
        described["description"] = str(model_field.help_text)
    target = model_field.related_model
    if target is not None:
        ref = target._meta.get_field(REF_FIELD[target])
        what = {"type": "string", "description": f"The {ref.name} of a {target._meta.verbose_name}"}
        return _nullable({**what, **described}, model_field.null)
    if model_field.choices:
        values = [value for value, _ in model_field.flatchoices]
        if model_field.blank and "" not in values:
            values.append("")
        return _nullable({"enum": values, **described}, model_field.null)
    if isinstance(model_field, models.BooleanField):
        schema: dict[str, Any] = {"type": "boolean"}
    elif isinstance(model_field, models.DateTimeField):
        schema = {"type": "string", "format": "date-time", "pattern": f"^{DATE_RE}T{UTC_TIME_RE}$"}
    elif isinstance(model_field, models.DateField):
        schema = {"type": "string", "format": "date", "pattern": f"^{DATE_RE}$"}
    elif isinstance(model_field, models.DecimalField):
        schema = {"type": "string", "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"}
    elif isinstance(model_field, models.FloatField):
        schema = {"type": "number"}
    elif isinstance(model_field, models.IntegerField):
        schema = {"type": "integer"}
        if isinstance(model_field, POSITIVE):
            schema["minimum"] = 0
        # the declared ranges (not the backend's integer limits: the schema is one file)
        for validator in model_field._validators:
            if isinstance(validator, MinValueValidator):
                schema["minimum"] = validator.limit_value
            elif isinstance(validator, MaxValueValidator):
                schema["maximum"] = validator.limit_value
    elif isinstance(model_field, models.JSONField):
        default = model_field.default() if callable(model_field.default) else model_field.default
        schema = {"type": "array" if isinstance(default, list) else "object"}
    elif model_field.attname == "exchange_key":
        schema = dict(KEY)
    else:
        schema = {"type": "string"}
        if model_field.max_length:
            schema["maxLength"] = model_field.max_length
        if isinstance(model_field, models.SlugField):
            schema["pattern"] = SLUG_PATTERN
        elif not model_field.blank:
            schema["minLength"] = 1
    return _nullable({**schema, **described}, model_field.null)


def required_fields(part: Part) -> list[str]:
    """The identity, and what a new row cannot do without."""
    names = {
        json_name(attname)
        for attname in part.fields
        if not (f := part.model_field(attname)).has_default()
        and not f.null
        and not f.blank
        and f.attname != "exchange_key"
    }
    names |= {name for name in part.identity if name != "dimensions"}
    return sorted(names)


def part_schema(part: Part, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    properties = {json_name(a): field_schema(part.model_field(a)) for a in part.fields}
    properties.update(extra or {})
    return {
        "type": "object",
        "description": f"A {part.noun}.",
        "properties": properties,
        "required": required_fields(part),
        "additionalProperties": False,
    }


def _list(ref: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/$defs/{ref}"}}


def _keys() -> dict[str, Any]:
    return {"type": "array", "items": KEY}


TAGS = {"type": "array", "items": {"$ref": "#/$defs/tag"}}


@functools.cache
def document_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {"tag": TAG}
    for part in CONTENT_PARTS:
        extra: dict[str, Any] = {"tags": TAGS} if "tags" in part.m2m else {}
        if part.name == "kpis":
            extra |= {"measurements": _list("measurement"), "observations": _list("observation")}
        defs[part.name] = part_schema(part, extra)
    defs["measurement"] = part_schema(MEASUREMENT_PART)
    defs["observation"] = part_schema(OBSERVATION_PART)
    defs["attachment"] = part_schema(ATTACHMENT_PART)
    defs["quote"] = part_schema(
        QUOTE_PART,
        {"tags": TAGS, "steps": _keys(), "pain_points": _keys(), "lane_items": _keys()},
    )
    defs["research"] = part_schema(
        SOURCE_PART,
        {
            "steps": _keys(),
            "pain_points": _keys(),
            "lane_items": _keys(),
            "quotes": _list("quote"),
            "attachments": _list("attachment"),
        },
    )
    map_extra: dict[str, Any] = {
        "personas": {
            "type": "array",
            "items": {"type": "string", "pattern": SLUG_PATTERN},
            "description": "Slugs of the personas whose journey this is (any number).",
        },
        # files written before maps had several personas: still read (docs/exchange.md)
        "persona": {
            "type": ["string", "null"],
            "pattern": SLUG_PATTERN,
            "deprecated": True,
            "description": "The older single persona: read as personas [slug] (null: none).",
        },
    }
    map_extra |= {part.name: _list(part.name) for part in CONTENT_PARTS}
    map_extra["research"] = _list("research")
    defs["map"] = part_schema(MAP_PART, map_extra)
    defs["map"]["properties"]["slug"]["pattern"] = SLUG_PATTERN
    defs["persona"] = part_schema(PERSONA_PART)
    defs["project"] = part_schema(
        PROJECT_PART,
        {
            "maps": {"type": "array", "items": {"type": "string", "pattern": SLUG_PATTERN}},
            "steps": {"type": "array", "items": MAP_AND_KEY},
            "pain_points": {"type": "array", "items": MAP_AND_KEY},
            "tags": TAGS,
        },
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "journeyhub/1: journey maps with everything in them",
        "description": "Written by JourneyHub's export, read by its import; see docs/exchange.md.",
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "exported_at": {"type": ["string", "null"], "format": "date-time"},
            "exported_by": {"type": ["string", "null"]},
            "root": {"type": ["string", "null"]},
            "measurements": {
                "type": "boolean",
                "description": "Whether KPIs carry their measurements and observations.",
            },
            "vocabulary": {
                "type": "object",
                "description": "The organisation's overrides of display names (term → label).",
                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 80},
            },
            "personas": _list("persona"),
            "maps": _list("map"),
            "projects": _list("project"),
        },
        "required": ["format", "maps"],
        "additionalProperties": False,
        "$defs": defs,
    }


# --- the field reference of docs/exchange.md ------------------------------------------

FIELDS_BEGIN = "<!-- fields: written by manage.py export_maps --write-schema -->"
FIELDS_END = "<!-- /fields -->"
EXTRA_FIELDS: dict[str, list[tuple[str, str]]] = {
    "map": [
        (
            "personas",
            "slugs of the personas whose journey this is (in the document's personas or "
            "already here); absent: left as they are",
        ),
        (
            "persona",
            "deprecated, from files written when a map had one persona: a slug (or null), "
            "read as personas with that one (or none); not together with personas",
        ),
    ],
    "lane_items": [("tags", "list of tags (see Tags)")],
    "kpis": [
        ("tags", "list of tags (see Tags)"),
        ("measurements", "list of measurements (below); absent when exported without"),
        ("observations", "list of observations (below); absent when exported without"),
    ],
    "research": [
        ("steps, pain_points, lane_items", "keys of the rows of this map the source backs"),
        ("quotes", "list of quotes (below)"),
        ("attachments", "list of attachments (below): names only, never imported"),
    ],
    "quotes": [
        ("tags", "list of tags (see Tags)"),
        ("steps, pain_points, lane_items", "keys of the rows of this map the quote backs"),
    ],
    "projects": [
        ("maps", "slugs of the document's maps the project works on"),
        ("steps, pain_points", "{map, key} of the steps and pain points it addresses"),
        ("tags", "list of tags (see Tags)"),
    ],
}


#: what a field means, for fields whose model says nothing (no help text); by
#: "part.field" first, then by field name. ``tests/test_exchange_api.py`` checks every
#: exchanged field has a meaning, from here or from its model.
MEANINGS: dict[str, str] = {
    "name": "The name people see.",
    "title": "The title people see.",
    "description": "Longer text, as written in the editor.",
    "summary": "What the map is about, in a sentence or two.",
    "slug": "The stable name in URLs and in this format; unique in the repository.",
    "key": "The row's stable key in its map (random when made here; hand-written files may "
    "use readable keys).",
    "position": "Order within the map (or source): smaller first.",
    "evidence": "How well the row is backed: an assumption, anecdotal, researched or measured.",
    "owner": "Who looks after it.",
    "team": "The team that edits it with its owner.",
    "persona": "The persona whose journey this is.",
    "stage": "The stage the step belongs to.",
    "step": "The step the row is pinned to (none: the whole map).",
    "maps.parent": "The map this map zooms out to (a map of the document; null: the "
    "document's top, placed by whoever imports it).",
    "maps.status": "draft (its editors see it), published (everyone), archived (kept).",
    "maps.review_every_days": "How often the owner confirms the map is current, in days.",
    "maps.last_reviewed_at": "When the owner last confirmed the map is current.",
    "maps.created_at": "When the map was made; its first review falls due from here.",
    "steps.channel": "Where the step happens (blank: not said).",
    "steps.is_recurring": "The step repeats (instead of a link to itself).",
    "steps.is_moment_of_truth": "A moment that makes or breaks the journey.",
    "links.from_step": "The step the branch, loop or skip leaves from.",
    "links.to_step": "The step it leads to.",
    "links.kind": "branch, loop (back) or skip (ahead).",
    "links.label": "What the link is for, shown beside it.",
    "pain_points.kind": "Whose pain it is: the customer's or the employee's.",
    "lane_items.kind": "Which lane: insight, opportunity, research or idea.",
    "kpis.direction": "higher or lower is better.",
    "kpis.kind": "What a measurement carries: a plain value, a ratio, NPS, CSAT or CES.",
    "kpis.perspective": "The scorecard quadrant: the business's or the customer's view.",
    "kpis.unit": "e.g. %, days, €, points.",
    "ratings.perspective": "The scorecard quadrant: the business's or the customer's view.",
    "ratings.rating": "1 (poor) to 5 (excellent).",
    "ratings.note": "Why this rating.",
    "ratings.rated_by": "Who rated.",
    "ratings.rated_at": "When.",
    "measurements.date": "The period's date.",
    "measurements.value": "The period's value (computed from its observations when it has any).",
    "observations.date": "The period's date.",
    "observations.dimensions": 'Where it was observed, e.g. {"region": "EU"}.',
    "observations.recorded_by": "Who recorded it.",
    "observations.recorded_at": "When it was recorded.",
    "research.kind": "interview, survey, feedback, usability test, analytics report or other.",
    "research.conducted_on": "When the research took place.",
    "research.fields": "The survey's declared fields (TheyDo's), kept for its export.",
    "quotes.text": "What was said, verbatim.",
    "quotes.response_id": "The survey response the quote comes from.",
    "quotes.field_id": "The survey field it answers (blank: the whole response).",
    "quotes.answers": "A whole response's text answers by field id.",
    "quotes.responded_at": "When the response was given.",
    "attachments.name": "The file's name as uploaded (the file itself is not carried).",
    "attachments.content_type": "The file's type.",
    "attachments.size": "The file's size in bytes.",
    "attachments.uploaded_by": "Who uploaded it.",
    "personas.name": "The persona's name.",
    "personas.description": "Who they are.",
    "projects.status": "idea, planned, ongoing, done or cancelled.",
    "projects.start_date": "When work starts.",
    "projects.end_date": "When work ends (not before the start).",
    "projects.cost": 'Cost, a decimal as text ("1200.50").',
    "projects.priority": "high, medium or low (blank: not set).",
    "projects.project_type": "The kind of work (TheyDo's solution type).",
    "projects.external_links": "Links to tickets, documents, boards.",
    "projects.import_key": "The project's key in another tool (TheyDo's importKey).",
    "projects.import_map": "The map whose TheyDo import created the project (its key's scope).",
    "projects.source_status": "The status as the other tool wrote it.",
    "lane_items.item_type": "The item's type as the team names it (TheyDo's type).",
    "lane_items.icon": "TheyDo's icon name, kept so an export gives it back.",
    "lane_items.empathy_score": "TheyDo's empathy score of an insight.",
    "lane_items.weight": "TheyDo's weight of an opportunity.",
    "kpis.baseline": "Where the KPI started.",
    "kpis.target": "Where it should get to (on the better side of the baseline).",
    "kpis.source": "manual (entered by people) or analytics (computed from event logs).",
    **{
        f"observations.{name}": f"An input of the KPI's kind: {name.replace('_', ' ')}."
        for name in (
            "value",
            "numerator",
            "denominator",
            "promoters",
            "passives",
            "detractors",
            "very_dissatisfied",
            "dissatisfied",
            "neutral",
            "satisfied",
            "very_satisfied",
            "mean",
            "respondents",
        )
    },
    "external_links": "Links (texts of at most 2,000 characters, at most 50).",
    "tags": "Tags (see Tags).",
}


def meaning_of(part: Part, name: str, model_field: models.Field) -> str:
    """The field's meaning for people: ours, else the model's help text; "" if neither."""
    text = MEANINGS.get(f"{part.name}.{name}") or str(model_field.help_text or "")
    text = text or MEANINGS.get(name, "")
    target = model_field.related_model
    if target is not None and text:
        ref = REF_FIELD[target].replace("exchange_key", "key")
        text = f"{text.rstrip('.')} (by its {ref})."
    return text.replace("|", "/")


def _type_text(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        text = "one of " + ", ".join(f"`{v}`" if v else '`""`' for v in values)
    else:
        kinds = schema.get("type", "any")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        names = {
            "string": "text",
            "integer": "whole number",
            "number": "number",
            "boolean": "true/false",
            "array": "list",
            "object": "object",
        }
        text = " or ".join(names.get(k, k) for k in kinds if k != "null")
        if schema.get("format") == "date":
            text = "date (YYYY-MM-DD)"
        elif schema.get("format") == "date-time":
            text = "date and time in UTC (…Z)"
        if "minimum" in schema and "maximum" in schema:
            text += f" {schema['minimum']}…{schema['maximum']}"
        elif "minimum" in schema:
            text += f" ≥ {schema['minimum']}"
        if "maxLength" in schema:
            text += f", ≤ {schema['maxLength']} characters"
    nullable = "null" in (schema.get("type") or []) or None in schema.get("enum", [])
    return text + (", or null" if nullable else "")


def fields_markdown() -> str:
    """One table per part of the document: each field's type, whether a new row needs
    it, and what it means (the model's help text, else its name)."""
    schema = document_schema()
    defs = schema["$defs"]
    parts = [
        ("personas", "persona", PERSONA_PART),
        ("maps", "map", MAP_PART),
        *((p.name, p.name, p) for p in CONTENT_PARTS),
        ("measurements (in a KPI)", "measurement", MEASUREMENT_PART),
        ("observations (in a KPI)", "observation", OBSERVATION_PART),
        ("research (in a map)", "research", SOURCE_PART),
        ("quotes (in a research source)", "quote", QUOTE_PART),
        ("attachments (in a research source)", "attachment", ATTACHMENT_PART),
        ("projects", "project", PROJECT_PART),
    ]
    lines = [FIELDS_BEGIN, ""]
    for title, ref, part in parts:
        definition = defs[ref]
        required = set(definition["required"])
        lines += [
            f"### {title}",
            "",
            "| field | type | needed for a new row | meaning |",
            "|---|---|---|---|",
        ]
        for attname in part.fields:
            name = json_name(attname)
            model_field = part.model_field(attname)
            meaning = meaning_of(part, name, model_field)
            kind = _type_text(definition["properties"][name])
            lines.append(f"| `{name}` | {kind} | {'yes' if name in required else ''} | {meaning} |")
        for name, meaning in EXTRA_FIELDS.get(ref if ref != "project" else "projects", []):
            lines.append(f"| `{name}` | list | | {meaning} |")
        lines.append("")
    lines.append(FIELDS_END)
    return "\n".join(lines)

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
    map_extra = {part.name: _list(part.name) for part in CONTENT_PARTS}
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

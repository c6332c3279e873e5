"""What a journeyhub/1 document holds, declared once and read by the exporter, the importer
and the JSON Schema (``maps.exchange.schema``).

Every part of the document is a model whose exchanged fields are DERIVED from the model
(its concrete fields, less the few each part names with a reason), so a field added to a
model is exported, imported and described by the schema by construction. Map content
comes from the content registry (``maps.content.CONTENT_KINDS``): each kind's ``fields``.

Rows are named by keys, never by database ids (``docs/exchange.md``):

* maps and personas by slug; users by username; teams by group name;
* steps by their ``key``; stages, pain points, lane items, KPIs, ratings, research
  sources, quotes and projects by their ``exchange_key`` (``"key"`` in the document);
* step links by (from_step, to_step); measurements by date; observations by (date,
  dimensions); tags by (name, kind, tag group).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models

from ..content import CONTENT_KINDS, DERIVED, ContentKind
from ..models import (
    KPI,
    Attachment,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    MeasurementObservation,
    PainPoint,
    Persona,
    Quote,
    ResearchSource,
    Stage,
    Step,
)

FORMAT = "journeyhub/1"

#: what no part carries, with the reason (``docs/exchange.md`` repeats them)
NOT_EXCHANGED: dict[str, str] = {
    "id": "a database id means nothing in another database; rows are named by keys",
    "created_at / updated_at of content": "set by the database when a row is written "
    "(a map's created_at is carried: its review cadence starts there)",
}
MAP_NOT_EXCHANGED: dict[str, str] = {
    "lft": "tree numbering, rebuilt by the importer",
    "rght": "tree numbering, rebuilt by the importer",
    "tree_id": "tree numbering, rebuilt by the importer",
    "level": "the map's depth follows from its parent",
    "version": "the optimistic lock of one database's edits",
    "review_due_at": "derived from the last review (or creation) and the cadence",
}


def json_name(attname: str) -> str:
    """A field's name in the document: foreign keys without ``_id``, the exchange key
    as ``key``."""
    if attname == "exchange_key":
        return "key"
    if attname in _plain_ids():  # a text that happens to end in _id (a quote's response_id)
        return attname
    return attname.removesuffix("_id")


@functools.cache
def _plain_ids() -> frozenset[str]:
    return frozenset(
        f.attname
        for part in ALL_PARTS
        for f in part.model._meta.concrete_fields
        if f.attname.endswith("_id") and not f.is_relation
    )


@dataclass(frozen=True)
class Part:
    """One kind of row in the document."""

    name: str  # the document's list: "stages", "measurements", "projects" …
    model: type[models.Model]
    parent: str | None  # the attname pointing at the row it is nested in ("map_id")
    identity: tuple[str, ...]  # json names naming a row within its parent
    # many-to-many fields carried as lists of keys: of rows of the same map, of maps of
    # the document, or of the document's own parts (a map's personas, by slug: in the
    # document's ``personas`` or already here)
    m2m: tuple[str, ...] = ()
    excluded: dict[str, str] = field(default_factory=dict)
    noun: str = ""
    export_only: bool = False  # attachments: described, never imported

    # cached: an export asks for every row's fields (the models do not change at run time)
    @functools.cached_property
    def fields(self) -> tuple[str, ...]:
        """The exchanged fields, by attname (``step_id``)."""
        return tuple(
            f.attname
            for f in self.model._meta.concrete_fields
            if f.attname != self.parent
            and f.name != "id"
            and f.name not in self.excluded
            # set by the database on every write or on creation
            and not getattr(f, "auto_now", False)
            and not getattr(f, "auto_now_add", False)
        )

    def model_field(self, attname: str) -> models.Field:
        return self._by_attname[attname]

    @functools.cached_property
    def _by_attname(self) -> dict[str, models.Field]:
        return {f.attname: f for f in self.model._meta.concrete_fields}

    @property
    def has_position(self) -> bool:
        return "position" in self.fields


def _content_part(kind: ContentKind) -> Part:
    identity = {"steps": ("key",), "links": ("from_step", "to_step")}.get(kind.key, ("key",))
    parent = "map_id" if kind.map_path == "map" else None
    stored = {f.name for f in kind.model._meta.concrete_fields}
    return Part(
        kind.key,
        kind.model,
        parent,
        identity,
        m2m=("tags",) if hasattr(kind.model, "tags") else (),
        excluded={name: why for name, why in DERIVED.items() if name in stored},
        noun=kind.noun,
    )


#: map content: the registry's kinds, in its dependency order
CONTENT_PARTS: tuple[Part, ...] = tuple(_content_part(kind) for kind in CONTENT_KINDS)
MAP_PART = Part(
    "maps",
    JourneyMap,
    None,
    ("slug",),
    m2m=("personas",),
    excluded=MAP_NOT_EXCHANGED,
    noun="map",
)
PERSONA_PART = Part("personas", Persona, None, ("slug",), noun="persona")
MEASUREMENT_PART = Part("measurements", Measurement, "kpi_id", ("date",), noun="measurement")
OBSERVATION_PART = Part(
    "observations",
    MeasurementObservation,
    "kpi_id",
    ("date", "dimensions"),
    excluded={"dimension_key": "derived from the dimensions"},
    noun="observation",
)
SOURCE_PART = Part(
    "research",
    ResearchSource,
    "map_id",
    ("key",),
    m2m=("steps", "pain_points", "lane_items"),
    noun="research source",
)
QUOTE_PART = Part(
    "quotes",
    Quote,
    "source_id",
    ("key",),
    m2m=("tags", "steps", "pain_points", "lane_items"),
    noun="quote",
)
ATTACHMENT_PART = Part(
    "attachments",
    Attachment,
    "source_id",
    ("name",),
    excluded={"file": "files are not carried: a document is metadata only"},
    noun="attachment",
    export_only=True,
)
PROJECT_PART = Part(
    "projects",
    CXProject,
    None,
    ("key",),
    m2m=("maps", "steps", "pain_points", "tags"),
    noun="CX project",
)
ALL_PARTS = (
    PERSONA_PART,
    MAP_PART,
    *CONTENT_PARTS,
    MEASUREMENT_PART,
    OBSERVATION_PART,
    SOURCE_PART,
    QUOTE_PART,
    ATTACHMENT_PART,
    PROJECT_PART,
)
BY_NAME = {part.name: part for part in ALL_PARTS}

#: how a foreign key's target is named in the document
User = get_user_model()
REF_FIELD: dict[type[models.Model], str] = {
    User: User.USERNAME_FIELD,
    Group: "name",
    Persona: "slug",
    JourneyMap: "slug",
    Step: "key",
    Stage: "exchange_key",
    PainPoint: "exchange_key",
    LaneItem: "exchange_key",
    KPI: "exchange_key",
}
#: targets that live inside the same map as the row pointing at them
IN_MAP = (Step, Stage, PainPoint, LaneItem, KPI)


# --- values ------------------------------------------------------------------------------


def utc_text(value: dt.datetime) -> str:
    text = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return text


def dump_value(model_field: models.Field, value: Any) -> Any:
    """A stored value as the document writes it (foreign keys are translated apart)."""
    if value is None:
        return None
    if isinstance(model_field, models.DateTimeField):
        return utc_text(value)
    if isinstance(model_field, models.DateField):
        return value.isoformat()
    if isinstance(model_field, models.DecimalField):
        return f"{value:.{model_field.decimal_places}f}"
    return value


class BadValue(ValueError):
    pass


def load_value(model_field: models.Field, value: Any) -> Any:
    """The document's value as stored (the schema has checked its JSON type)."""
    if value is None:
        return None
    try:
        if isinstance(model_field, models.DateTimeField):
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise BadValue(f"“{value}” has no time zone (end it in Z)")
            return parsed
        if isinstance(model_field, models.DateField):
            return dt.date.fromisoformat(value)
        if isinstance(model_field, models.DecimalField):
            return Decimal(str(value)).quantize(Decimal(1).scaleb(-model_field.decimal_places))
    except (ValueError, InvalidOperation) as exc:
        if isinstance(exc, BadValue):
            raise
        raise BadValue(f"“{value}” is not a valid {model_field.get_internal_type()}") from exc
    if isinstance(model_field, models.FloatField) and isinstance(value, int):
        return float(value)
    return value

"""A map's change history: who changed what and when, field by field, across the map
and all its content (django-simple-history records).

For each kind of content one query loads the map's records (newest ``RECORDS_PER_KIND``
per kind); consecutive records of the same object are compared in Python, so the page
runs a fixed number of queries however long the history is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Model, Q

from maps.content import CONTENT_KINDS
from maps.models import JourneyMap, LaneItem, PainPoint, Persona, Stage, Step, StepLink

RECORDS_PER_KIND = 2000
IGNORED_FIELDS = {
    "id", "created_at", "updated_at", "version", "review_due_at", "map",
    "history_id", "history_date", "history_change_reason", "history_type", "history_user",
}  # fmt: skip
# the map itself, then every kind of content the registry declares (maps/content.py)
KINDS: tuple[tuple[type[Model], str], ...] = (
    (JourneyMap, "map"),
    *((kind.model, kind.noun) for kind in CONTENT_KINDS),
)
# relations named from the map's own step and stage records, deleted ones included
NAMED_FROM_THE_MAP = ("stage", "step", "from_step", "to_step")
ACTIONS = {"+": "added", "~": "changed", "-": "deleted"}


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class HistoryEntry:
    when: datetime
    who: object | None
    kind: str
    item: str
    action: str
    reason: str = ""
    changes: list[FieldChange] = field(default_factory=list)


def _label(record, name_of: dict) -> str:
    for attr in ("title", "name"):
        if getattr(record, attr, None):
            return getattr(record, attr)
    if hasattr(record, "from_step_id"):
        return f"{name_of.get(record.from_step_id, '?')} → {name_of.get(record.to_step_id, '?')}"
    return f"#{record.id}"


def _display(record, f, name_of: dict, related: dict) -> str:
    value = getattr(record, f.attname)
    if value in (None, ""):
        return "—"
    if f.is_relation:
        if f.name in NAMED_FROM_THE_MAP:
            return name_of.get(value, f"#{value}")
        return related.get((f.related_model, value), f"#{value} (deleted)")
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _related_names(loaded: list[tuple[type[Model], list, list]]) -> dict:
    """Names of every other row the records point to (owner, team, persona, parent map …):
    one query per related model, whatever the number of records."""
    wanted: dict[type[Model], set] = {}
    for _model, fields, records in loaded:
        for f in fields:
            if f.is_relation and f.name not in NAMED_FROM_THE_MAP:
                values = {getattr(r, f.attname) for r in records} - {None, ""}
                if values:
                    wanted.setdefault(f.related_model, set()).update(values)
    names: dict = {}
    for target, ids in wanted.items():
        for obj in target._default_manager.filter(pk__in=ids):
            label = _person(obj) if isinstance(obj, AbstractBaseUser) else str(obj)
            names[(target, obj.pk)] = label
    return names


def _personas_of_records(records: list) -> dict[int, str]:
    """Each map record's personas as it recorded them (simple-history's m2m rows), as
    names: two queries for any number of records."""
    rows = JourneyMap.history.model.personas.model.objects.filter(
        history_id__in=[r.history_id for r in records]
    ).values_list("history_id", "persona_id")
    by_record: dict[int, set[int]] = {}
    for history_id, persona_id in rows:
        by_record.setdefault(history_id, set()).add(persona_id)
    ids = set().union(*by_record.values()) if by_record else set()
    names = dict(Persona.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return {
        record.history_id: ", ".join(
            sorted(names.get(pk, f"#{pk} (deleted)") for pk in by_record.get(record.history_id, ()))
        )
        or "—"
        for record in records
    }


def map_history(journey_map: JourneyMap) -> list[HistoryEntry]:
    """Every recorded change of the map and its content, newest first."""
    step_history = Step.history.model.objects.filter(map_id=journey_map.pk)
    stage_history = Stage.history.model.objects.filter(map_id=journey_map.pk)
    # names of steps and stages, including deleted ones, for links and "moved to" values
    name_of: dict = dict(step_history.values_list("id", "name"))
    stage_names = dict(stage_history.values_list("id", "name"))
    step_ids = list(name_of)
    loaded: list[tuple[type[Model], list, list]] = []
    for model, _kind in KINDS:
        history = model.history.model.objects.all()
        if model is JourneyMap:
            history = history.filter(id=journey_map.pk)
        elif model is StepLink:
            history = history.filter(Q(from_step_id__in=step_ids) | Q(to_step_id__in=step_ids))
        else:
            history = history.filter(map_id=journey_map.pk)
        records = list(
            history.select_related("history_user").order_by("-history_date", "-history_id")[
                :RECORDS_PER_KIND
            ]
        )
        records.reverse()  # oldest first, to compare each record with the one before it
        fields = [f for f in model.history.model._meta.fields if f.name not in IGNORED_FIELDS]
        loaded.append((model, fields, records))
    related = _related_names(loaded)
    personas = _personas_of_records(loaded[0][2])  # KINDS starts with the map
    entries: list[HistoryEntry] = []
    for (model, fields, records), (_model, kind) in zip(loaded, KINDS, strict=True):
        names = {**name_of, **stage_names} if model is Step else name_of
        previous: dict = {}
        for record in records:
            before = previous.get(record.id)
            changes = []
            if record.history_type == "~" and before is not None:
                for f in fields:
                    known = names if f.name != "stage" else stage_names
                    old = _display(before, f, known, related)
                    new = _display(record, f, known, related)
                    if old != new:
                        changes.append(FieldChange(str(f.verbose_name).capitalize(), old, new))
                if model is JourneyMap:
                    old, new = personas[before.history_id], personas[record.history_id]
                    if old != new:
                        changes.append(FieldChange("Personas", old, new))
            previous[record.id] = record
            if record.history_type == "~" and before is not None and not changes:
                continue  # a save that changed nothing we show
            entries.append(
                HistoryEntry(
                    when=record.history_date,
                    who=record.history_user,
                    kind=(
                        record.get_kind_display().lower()
                        if model in (PainPoint, LaneItem)
                        else kind
                    ),
                    item=_label(record, name_of),
                    action=ACTIONS.get(record.history_type, record.history_type),
                    reason=record.history_change_reason or "",
                    changes=changes,
                )
            )
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def people_in(entries: list[HistoryEntry]) -> list:
    """Everyone who appears in a history, for the person filter."""
    seen = {e.who.pk: e.who for e in entries if e.who is not None}
    return sorted(seen.values(), key=lambda u: (u.get_full_name() or u.get_username()).lower())

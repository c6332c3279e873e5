"""Labelled snapshots of a map and its content ("after Q3 research"): take one, compare
it with today side by side, restore it. Restoring first snapshots the current state, so
nothing is ever lost.

A snapshot stores the map's own fields and every field of every kind of content the
registry declares (``maps/content.py``: stages, steps, links, pain points, lane items,
KPIs, qualitative ratings), plus which CX projects addressed which steps and pain points.

Restoring puts that content back and never destroys measurements: measurements and
observations are data, not authored content, and are left alone; a KPI created after
the snapshot is kept (with its measurements), one deleted since comes back. A field the
snapshot does not know (added to the model later) keeps its current value. The rows are
written in bulk, with history, so a restore costs the same number of queries whatever
the size of the map (each item deleted on the way costs its own history row).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from maps.content import BY_MODEL, CONTENT_KINDS
from maps.models import CXProject, JourneyMap, Persona
from maps.services import map_bump_version, map_personas_set_before_save
from maps.tree import lock_for_tree_write

from .models import MapSnapshot

MAP_FIELDS = (
    "title",
    "summary",
    "status",
    "review_every_days",
    "hidden_lanes",
    # a scenario's label and the CX vision: content; the map's state and the map it
    # belongs to are its place among the journey's drafts, like its parent: not restored
    "scenario_label",
    "vision",
)
# Restored in this order; what others point at comes first. KPIs are never deleted.
CONTENT = tuple((kind.key, kind.model, kind.fields) for kind in CONTENT_KINDS)
LABELS = {kind.key: kind.label for kind in CONTENT_KINDS}
KEPT_WHEN_ABSENT = {"kpis"}  # their measurements are data: never destroyed by a restore


def _scope(model, journey_map):
    return BY_MODEL[model].of_map(journey_map)


def capture(journey_map: JourneyMap) -> dict[str, Any]:
    """The map's content as plain data (one query per kind)."""
    data: dict[str, Any] = {
        "map": {name: getattr(journey_map, name) for name in MAP_FIELDS},
        "version": journey_map.version,
        # by slug: readable in the comparison, and still meaning the same people if a
        # persona is deleted and described again
        "personas": sorted(journey_map.personas.values_list("slug", flat=True)),
    }
    for key, model, fields in CONTENT:
        data[key] = list(_scope(model, journey_map).order_by("pk").values("pk", *fields))
    through_steps = CXProject.steps.through.objects.filter(step__map=journey_map)
    through_pains = CXProject.pain_points.through.objects.filter(painpoint__map=journey_map)
    data["project_steps"] = list(through_steps.values_list("cxproject_id", "step_id"))
    data["project_pain_points"] = list(through_pains.values_list("cxproject_id", "painpoint_id"))
    data["sub_map_steps"] = list(
        JourneyMap.objects.filter(parent=journey_map, parent_step__isnull=False).values_list(
            "pk", "parent_step_id"
        )
    )
    # round-trip through JSON so what we compare is exactly what we stored
    return json.loads(json.dumps(data, cls=_ExactJSONEncoder))


@transaction.atomic
def snapshot_take(*, journey_map: JourneyMap, label: str, by) -> MapSnapshot:
    label = label.strip()
    if not label:
        raise ValidationError({"label": "Give the snapshot a label, e.g. “after Q3 research”."})
    return MapSnapshot.objects.create(
        map=journey_map, label=label[:200], created_by=by, data=capture(journey_map)
    )


@dataclass
class ItemDiff:
    label: str
    status: str  # added (only today), removed (only in the snapshot), changed
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)  # name, then, now


@dataclass
class KindDiff:
    key: str
    label: str
    then_count: int
    now_count: int
    items: list[ItemDiff]


def _name(row: dict) -> str:
    return str(row.get("title") or row.get("name") or f"#{row['pk']}")


def compare(snapshot: MapSnapshot, journey_map: JourneyMap) -> tuple[list, list[KindDiff]]:
    """Snapshot against today: the map's changed fields, and per kind of content the
    items only in one of them and the items whose fields differ."""
    now = capture(journey_map)
    then = snapshot.data
    map_changes = [
        (name, then["map"].get(name), now["map"].get(name))
        for name in MAP_FIELDS
        # a field the snapshot predates is no edit
        if name in then["map"] and then["map"].get(name) != now["map"].get(name)
    ]
    if "personas" in then and then["personas"] != now["personas"]:
        map_changes.append(("personas", ", ".join(then["personas"]), ", ".join(now["personas"])))
    kinds = []
    for key, _model, fields in CONTENT:
        before = {row["pk"]: row for row in then.get(key, [])}
        after = {row["pk"]: row for row in now.get(key, [])}
        items = []
        for pk in sorted(before.keys() | after.keys()):
            if pk not in after:
                items.append(ItemDiff(_name(before[pk]), "removed since"))
            elif pk not in before:
                items.append(ItemDiff(_name(after[pk]), "added since"))
            else:
                changed = [
                    (f.removesuffix("_id"), before[pk].get(f), after[pk].get(f))
                    for f in fields
                    # a field the snapshot predates, or the creation time, is no edit
                    if f in before[pk]
                    and f != "created_at"
                    and before[pk].get(f) != after[pk].get(f)
                ]
                if changed:
                    items.append(ItemDiff(_name(after[pk]), "changed", changed))
        kinds.append(KindDiff(key, LABELS[key], len(before), len(after), items))
    return map_changes, kinds


@transaction.atomic
def snapshot_restore(
    *, snapshot: MapSnapshot, by, expected_version: int
) -> tuple[MapSnapshot, JourneyMap]:
    """Put the map's content back as the snapshot has it. The current state is first
    saved as a snapshot of its own; returns that safety snapshot and the map."""
    journey_map = JourneyMap.objects.get(pk=snapshot.map_id)
    # restoring the title may move the map among its siblings: a tree write
    lock_for_tree_write(journey_map, journey_map.parent, root_level=journey_map.parent_id is None)
    journey_map = JourneyMap.objects.select_for_update().get(pk=snapshot.map_id)
    safety = MapSnapshot.objects.create(
        map=journey_map,
        label=f"Before restoring “{snapshot.label}”",
        created_by=by,
        data=capture(journey_map),
    )
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    data = snapshot.data
    for name, value in data["map"].items():
        if name in MAP_FIELDS:  # an older snapshot's persona_id is read below
            setattr(journey_map, name, value)
    personas = _snapshot_personas(data)
    if personas is not None:
        map_personas_set_before_save(journey_map=journey_map, personas=personas)
    journey_map._history_user = by
    journey_map._change_reason = f"Restored snapshot “{snapshot.label}”"
    journey_map.save()
    now = timezone.now()
    for key, model, _fields in reversed(CONTENT):  # children first
        if key in KEPT_WHEN_ABSENT:
            continue
        keep = [row["pk"] for row in data.get(key, [])]
        for obj in _scope(model, journey_map).exclude(pk__in=keep):
            obj._history_user = by
            obj.delete()
    for key, model, fields in CONTENT:  # parents first
        _restore_rows(model, fields, data.get(key, []), journey_map, by=by, now=now)
    _restore_project_links(data, journey_map)
    # deleting a step detached its sub-maps; put back the ones still here
    steps_of = dict(data.get("sub_map_steps", []))
    detached = list(
        JourneyMap.objects.filter(
            pk__in=list(steps_of), parent=journey_map, parent_step__isnull=True
        ).only("pk", "parent_step")
    )
    for child in detached:
        child.parent_step_id = steps_of[child.pk]
    JourneyMap.objects.bulk_update(detached, ["parent_step"])
    return safety, journey_map


def _snapshot_personas(data: dict) -> list[Persona] | None:
    """The personas a snapshot names that still exist (a snapshot taken before maps had
    several holds one ``persona_id``); None when it says nothing about them."""
    if "personas" in data:
        return list(Persona.objects.filter(slug__in=data["personas"]))
    if "persona_id" in data["map"]:
        return list(Persona.objects.filter(pk=data["map"]["persona_id"]))
    return None


def _restore_rows(model, fields, rows, journey_map, *, by, now) -> None:
    """Create the snapshot's rows that are gone and update the ones that differ, in bulk
    with history (one query to read, at most two to create and two to update)."""
    existing = {obj.pk: obj for obj in _scope(model, journey_map)}
    missing = [row["pk"] for row in rows if row["pk"] not in existing]
    # an item moved to another map since stays there (its id is taken)
    elsewhere = set(model._default_manager.filter(pk__in=missing).values_list("pk", flat=True))
    created, updated, changed_fields = [], [], set()
    for row in rows:
        obj = existing.get(row["pk"])
        if obj is None and row["pk"] in elsewhere:
            continue
        if obj is None:
            obj = model(pk=row["pk"])
            if hasattr(obj, "map_id"):
                obj.map_id = journey_map.pk
            for name in fields:
                if name in row:
                    setattr(obj, name, _value(model, name, row[name]))
            created.append(obj)
            continue
        differs = False
        for name in fields:
            if name in row:  # a field the snapshot predates keeps its value
                value = _value(model, name, row[name])
                if not _same(getattr(obj, name), value):
                    setattr(obj, name, value)
                    changed_fields.add(name)
                    differs = True
        if differs:
            updated.append(obj)
    try:
        with transaction.atomic():
            if created:
                born = {obj.pk: getattr(obj, "created_at", None) for obj in created}
                bulk_create_with_history(created, model, default_user=by, default_date=now)
                if "created_at" in fields:  # auto_now_add set it to now on insert
                    for obj in created:
                        obj.created_at = born[obj.pk] or obj.created_at
                    model._default_manager.bulk_update(created, ["created_at"])
            if updated:
                if "updated_at" in {f.attname for f in model._meta.concrete_fields}:
                    for obj in updated:
                        obj.updated_at = now
                    changed_fields.add("updated_at")
                bulk_update_with_history(
                    updated, model, sorted(changed_fields), default_user=by, default_date=now
                )
    except IntegrityError as exc:
        kind = BY_MODEL[model]
        raise ValidationError(
            f"{kind.label}: the snapshot's {kind.noun}s clash with today's (the same name "
            f"or key is used by a {kind.noun} added since). Rename or remove today's first, "
            "then restore."
        ) from exc


class _ExactJSONEncoder(DjangoJSONEncoder):
    """Keeps the microseconds of datetimes (Django's encoder cuts them to milliseconds,
    which made every unchanged row look changed on restore)."""

    def default(self, o):
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


def _same(current, restored) -> bool:
    """Equal, allowing for snapshots taken when datetimes were stored to the millisecond."""
    if isinstance(current, dt.datetime) and isinstance(restored, dt.datetime):
        return abs(current - restored) < dt.timedelta(milliseconds=1)
    return current == restored


def _value(model, attname: str, raw):
    """A value as the snapshot's JSON holds it, back in the field's Python type."""
    return raw if raw is None else model._meta.get_field(attname).to_python(raw)


def _restore_project_links(data: dict, journey_map: JourneyMap) -> None:
    projects = set(CXProject.objects.values_list("pk", flat=True).filter(
        pk__in={p for p, _ in data.get("project_steps", [])}
        | {p for p, _ in data.get("project_pain_points", [])}
    ))  # fmt: skip
    for through, column, rows in (
        (CXProject.steps.through, "step_id", data.get("project_steps", [])),
        (CXProject.pain_points.through, "painpoint_id", data.get("project_pain_points", [])),
    ):
        wanted = {(p, item) for p, item in rows if p in projects}
        current_qs = through.objects.filter(**{f"{column.removesuffix('_id')}__map": journey_map})
        current = set(current_qs.values_list("cxproject_id", column))
        current_qs.filter(
            pk__in=[
                pk
                for pk, p, item in current_qs.values_list("pk", "cxproject_id", column)
                if (p, item) not in wanted
            ]
        ).delete()
        through.objects.bulk_create(
            [through(cxproject_id=p, **{column: item}) for p, item in wanted - current]
        )

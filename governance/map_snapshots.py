"""Labelled snapshots of a map and its content ("after Q3 research"): take one, compare
it with today side by side, restore it. Restoring first snapshots the current state, so
nothing is ever lost.

A snapshot stores the map's own fields and every stage, step, link, pain point, lane
item, KPI and qualitative rating as JSON, plus which CX projects addressed which steps
and pain points. Measurements are observations, not authored content, and are left
alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model

from maps.models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    PainPoint,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)
from maps.services import map_bump_version
from maps.tree import lock_for_tree_write

from .models import MapSnapshot

MAP_FIELDS = ("title", "summary", "status", "persona_id", "review_every_days", "hidden_lanes")
# In restore order: what others point at comes first.
CONTENT: tuple[tuple[str, type[Model], tuple[str, ...]], ...] = (
    ("stages", Stage, ("name", "description", "position")),
    (
        "steps",
        Step,
        ("stage_id", "key", "name", "description", "position", "channel", "emotion",
         "is_recurring", "is_moment_of_truth", "evidence"),
    ),
    ("links", StepLink, ("from_step_id", "to_step_id", "kind", "label")),
    (
        "pain_points",
        PainPoint,
        ("step_id", "kind", "title", "description", "evidence", "position", "severity",
         "frequency"),
    ),
    (
        "lane_items",
        LaneItem,
        ("step_id", "kind", "title", "description", "url", "evidence", "position"),
    ),
    (
        "kpis",
        KPI,
        ("step_id", "name", "description", "unit", "direction", "baseline", "target",
         "perspective", "source", "weight"),
    ),
    ("ratings", QualitativeFactor, ("name", "perspective", "rating", "note", "rated_by_id")),
)  # fmt: skip
LABELS = {
    "stages": "Stages",
    "steps": "Steps",
    "links": "Step links",
    "pain_points": "Pain points",
    "lane_items": "Insights, opportunities, research, ideas",
    "kpis": "KPIs",
    "ratings": "Qualitative ratings",
}


def _scope(model, journey_map):
    if model is StepLink:
        return model.objects.filter(from_step__map=journey_map)
    return model.objects.filter(map=journey_map)


def capture(journey_map: JourneyMap) -> dict[str, Any]:
    """The map's content as plain data (one query per kind)."""
    data: dict[str, Any] = {
        "map": {name: getattr(journey_map, name) for name in MAP_FIELDS},
        "version": journey_map.version,
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
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


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
        if then["map"].get(name) != now["map"].get(name)
    ]
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
                    if before[pk].get(f) != after[pk].get(f)
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
        setattr(journey_map, name, value)
    journey_map._history_user = by
    journey_map._change_reason = f"Restored snapshot “{snapshot.label}”"
    journey_map.save()
    # Delete what the snapshot does not have, children first; then update or recreate
    # the rest with their original ids, parents first.
    for key, model, _fields in reversed(CONTENT):
        keep = [row["pk"] for row in data.get(key, [])]
        for obj in _scope(model, journey_map).exclude(pk__in=keep):
            obj._history_user = by
            obj.delete()
    for key, model, fields in CONTENT:
        existing = {obj.pk: obj for obj in _scope(model, journey_map)}
        for row in data.get(key, []):
            obj = existing.get(row["pk"]) or model(pk=row["pk"])
            if model is not StepLink:
                obj.map_id = journey_map.pk
            changed = obj._state.adding
            for name in fields:
                if getattr(obj, name) != row.get(name):
                    setattr(obj, name, row.get(name))
                    changed = True
            if changed:
                obj._history_user = by
                obj.save()
    _restore_project_links(data, journey_map)
    for child_id, step_id in data.get("sub_map_steps", []):
        # deleting a step detached its sub-maps; put back the ones still here
        JourneyMap.objects.filter(pk=child_id, parent=journey_map, parent_step__isnull=True).update(
            parent_step_id=step_id
        )
    return safety, journey_map


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

"""``THEYDO_INSIGHTS_V1`` and ``THEYDO_OPPORTUNITIES_V1`` → the map's insights and
opportunities (lane items of that kind), matched by ``importKey`` within the map and
kind, else created at the end of the lane, not pinned to a step:

``title``, ``description`` (Markdown, kept as text), ``status``, ``type``,
``externalLinks``, ``ownerEmail`` → owner, ``tags`` / ``groups`` / ``groupTags`` → tags;
insights also ``icon``, ``empathyScore`` and ``weight``. Omitted keys leave a field,
``null`` clears it, a value replaces it; a list replaces that part of the item's tags or
its links.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max

from ..imports import Problems
from ..models import LaneItem
from ..services import map_touch
from . import plan as p

INSIGHTS = "THEYDO_INSIGHTS_V1"
OPPORTUNITIES = "THEYDO_OPPORTUNITIES_V1"


@dataclass(frozen=True)
class Field:
    key: str  # TheyDo's name
    attr: str  # ours
    cleared: Any  # what null gives


FIELDS = (
    Field("title", "title", ""),
    Field("description", "description", ""),
    Field("status", "status", ""),
    Field("type", "item_type", ""),
    Field("externalLinks", "external_links", []),
    Field("icon", "icon", ""),
    Field("empathyScore", "empathy_score", None),
    Field("weight", "weight", None),
)
BY_ATTR = {f.attr: f.key for f in FIELDS}
SAVED = ("import_key", *(f.attr for f in FIELDS), "owner")


@dataclass(frozen=True)
class Lane:
    kind: str
    list_key: str
    noun: str


LANES = {
    INSIGHTS: Lane(LaneItem.Kind.INSIGHT, "insights", "insight"),
    OPPORTUNITIES: Lane(LaneItem.Kind.OPPORTUNITY, "opportunities", "opportunity"),
}


def assign(obj, item: dict, fields, changed: list[str]) -> None:
    """Set ``obj``'s fields from ``item`` by TheyDo's omitted / null / value rule."""
    for f in fields:
        raw = p.given(item, f.key)
        if raw is p.MISSING:
            continue
        value = f.cleared if raw is None else raw
        if isinstance(value, str):
            value = value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)
        if getattr(obj, f.attr) != value:
            setattr(obj, f.attr, value)
            changed.append(f.key)


def clean_or_report(obj, path: str, names: dict[str, str], problems: Problems, exclude) -> bool:
    try:
        obj.full_clean(exclude=exclude, validate_constraints=False, validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            where = path if field == "__all__" else f"{path}.{names.get(field, field)}"
            problems.extend(f"{where}: {m}" for m in messages)
        return False
    return True


def plan(*, journey_map, data: dict[str, Any], by, problems: Problems) -> p.ImportPlan:
    fmt = data["format"]
    lane = LANES[fmt]
    result = p.ImportPlan(fmt)
    entries = data[lane.list_key]
    existing = {
        item.import_key: item
        for item in LaneItem.objects.filter(
            map=journey_map, kind=lane.kind, import_key__in=[e["importKey"] for e in entries]
        ).prefetch_related("tags__group")
    }
    p.adopt_local(
        existing,
        LaneItem.objects.filter(map=journey_map, kind=lane.kind).prefetch_related("tags__group"),
        [e["importKey"] for e in entries],
    )
    owners = p.owners_by_email(e.get("ownerEmail") for e in entries)
    tags = p.TagResolver()
    for entry in entries:
        tags.want(entry)
    tags.resolve()
    last = LaneItem.objects.filter(map=journey_map).aggregate(m=Max("position"))["m"]
    position = -1 if last is None else last

    created: list[LaneItem] = []
    updated: list[LaneItem] = []
    tagged: list[tuple[LaneItem, dict]] = []
    for i, entry in enumerate(entries):
        path = f"{lane.list_key}[{i}]"
        key = entry["importKey"]
        item = existing.get(key)
        is_new = item is None
        if is_new:
            position += 1
            item = LaneItem(map=journey_map, kind=lane.kind, import_key=key, position=position)
        changed: list[str] = []
        if item.import_key != key:  # an unkeyed item named by the key our export gave it
            item.import_key = key
            changed.append("importKey")
        assign(item, entry, FIELDS, changed)
        moves, owner = p.owner_change(
            item, p.given(entry, "ownerEmail"), owners, path=f"{path}.ownerEmail",
            notes=result.notes,
        )  # fmt: skip
        if moves:
            item.owner = owner
            changed.append("ownerEmail")
        tag_parts = p.tag_changes(entry, item, is_new=is_new)
        changed += tag_parts
        if tag_parts:
            tagged.append((item, entry))
        if not clean_or_report(item, path, BY_ATTR, problems, ["map", "step", "owner"]):
            continue
        result.add(lane.noun, key, item.title, None if is_new else changed)
        if is_new:
            created.append(item)
        elif changed:
            updated.append(item)
    result.counts.update({f"{noun} created": n for noun, n in tags.missing.items()})

    def write() -> None:
        tags.create_missing()
        p.write_tagged(LaneItem, created=created, updated=updated, fields=SAVED,
                       tagged=tagged, tags=tags, by=by, link_field="laneitem")  # fmt: skip
        if created or updated:
            map_touch(journey_map_id=journey_map.pk)

    result.writes.append(write)
    return result

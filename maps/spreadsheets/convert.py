"""Rows of a map spreadsheet → the maps they describe (checked cell by cell), then a
``journeyhub/1`` document for the exchange importer (``maps.exchange``), which writes.

Reading the rows (``sheet_maps``): an empty ``map`` cell means the map of the line
above; an empty ``stage`` cell on a step's row means the stage of the line above
within the same map. A row without a step declares its stage (if it names one) and
holds items pinned to no step. Every problem names its line and column, all of them
are collected (``maps.imports.Problems``: the first 50, then a count), and a sheet
with any problem converts to nothing.

Matching what exists (``document_for``), so importing the same sheet again updates
instead of copying: a map matches a child of the map imported into (``under``) by slug
or title (case-insensitive; top level: the top-level maps), each child at most once; a
step matches on its ``step key``, or on its name within its map when the row has no
key; a stage on its name; a pain point or item on its kind, step and title. What
matches keeps its exchange key (and every field the sheet has no column for); what
does not is new. Nothing is deleted: content missing from the sheet stays.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.text import slugify

from maps.exchange.spec import FORMAT
from maps.imports import Problems
from maps.models import JourneyMap, LaneItem, PainPoint, Stage, Step
from maps.models.common import new_exchange_key
from maps.theydo.validation import path_text

from .columns import (
    BY_NAME,
    CHANNEL_ACCEPTED,
    EMOTION_ACCEPTED,
    LANE_ITEM_COLUMNS,
    MAX_LIST_ENTRIES,
    PAIN_POINT_COLUMNS,
    channel_value,
    emotion_value,
    list_entries,
)
from .reader import Table

STEP_KEY = re.compile(r"^[-a-zA-Z0-9_]+$")
STEP_COLUMNS = ("step key", "description", "channel", "emotion")  # need a step on the row


@dataclass
class SheetItem:
    column: str  # "pain points", "insights", …
    title: str
    step: SheetStep | None
    line: int


@dataclass
class SheetStep:
    name: str
    key: str  # as typed ("" when none)
    stage: str  # "" when none
    description: str
    channel: str
    emotion: int
    line: int


@dataclass
class SheetMap:
    title: str  # as typed in the map column: a title or a slug
    line: int  # where it first appears
    stages: list[str] = field(default_factory=list)  # in order of first appearance
    stage_lines: dict[str, int] = field(default_factory=dict)  # lower-cased name → line
    steps: list[SheetStep] = field(default_factory=list)
    items: list[SheetItem] = field(default_factory=list)


def _too_long(table: Table, line: int, column: str, text: str, what: str = "") -> str | None:
    limit = BY_NAME[column].max_length
    if limit is not None and len(text) > limit:
        return f"{table.where(line, column)}: {what}{len(text):,} characters; at most {limit:,}"
    return None


def sheet_maps(table: Table, problems: Problems) -> list[SheetMap]:
    """The maps the rows describe, in order of first appearance; problems are added to
    ``problems`` (the caller refuses the sheet when there are any)."""
    maps: dict[str, SheetMap] = {}
    current: SheetMap | None = None
    stage = ""
    step_lines: dict[tuple[str, str], int] = {}  # (map, step key) → line
    for row in table.rows:
        cells, line = row.cells, row.line

        def where(column: str, line: int = line) -> str:
            return table.where(line, column)

        for column, text in cells.items():
            if not BY_NAME[column].is_list and (problem := _too_long(table, line, column, text)):
                problems.add(problem)
                cells[column] = ""  # checked; keep reading the row's other cells
        title = cells.get("map", "")
        if title:
            if current is None or title.lower() != current.title.lower():
                current = maps.setdefault(title.lower(), SheetMap(title=title, line=line))
                stage = ""
        elif current is None:
            problems.add(f"{where('map')}: empty; the first row must name its map")
            continue
        name = cells.get("step", "")
        if cells.get("stage"):
            stage = cells["stage"]
            if stage.lower() not in current.stage_lines:
                current.stages.append(stage)
                current.stage_lines[stage.lower()] = line
        step: SheetStep | None = None
        if name:
            key = cells.get("step key", "")
            if key and not STEP_KEY.match(key):
                problems.add(
                    f"{where('step key')}: “{key[:80]}” may hold only letters, digits, - and _"
                )
            elif key:
                seen = step_lines.setdefault((current.title.lower(), key.lower()), line)
                if seen != line:
                    problems.add(f"{where('step key')}: “{key}” is already the key of line {seen}")
            emotion = emotion_value(cells.get("emotion", ""))
            if emotion is None:
                problems.add(
                    f"{where('emotion')}: “{cells['emotion'][:40]}” is not one of "
                    f"{EMOTION_ACCEPTED}"
                )
            channel = channel_value(cells.get("channel", ""))
            if channel is None:
                problems.add(
                    f"{where('channel')}: “{cells['channel'][:40]}” is not one of "
                    f"{CHANNEL_ACCEPTED}"
                )
            step = SheetStep(
                name=name,
                key=key,
                stage=stage,
                description=cells.get("description", ""),
                channel=channel or "",
                emotion=emotion or 0,
                line=line,
            )
            current.steps.append(step)
        else:
            filled = [c for c in STEP_COLUMNS if cells.get(c)]
            if filled:
                problems.add(
                    f"{where('step')}: empty, but the row has a {', '.join(filled)}; name the "
                    "step (a row without a step only declares a stage or holds items of the map)"
                )
        for column in (*PAIN_POINT_COLUMNS, *LANE_ITEM_COLUMNS):
            entries = list_entries(cells.get(column, ""))
            if len(entries) > MAX_LIST_ENTRIES:
                problems.add(
                    f"{where(column)}: {len(entries)} lines; at most {MAX_LIST_ENTRIES} per cell"
                )
                continue
            for number, entry in enumerate(entries, start=1):
                what = f"line {number} of the cell has " if len(entries) > 1 else ""
                if problem := _too_long(table, line, column, entry, what):
                    problems.add(problem)
                else:
                    current.items.append(SheetItem(column, entry, step, line))
    return list(maps.values())


def step_keys(sheet_map: SheetMap, existing: list[tuple[str, str]]) -> dict[int, str]:
    """The key of each of the map's steps (by line): the typed key; else the key of an
    existing step of that name (``existing``: (name, key) in the map's order, each
    matched once); else a new key from its name, unique within the map."""
    used = {s.key.lower() for s in sheet_map.steps if s.key}
    taken = used | {key.lower() for _, key in existing}
    by_name: dict[str, list[str]] = defaultdict(list)
    for name, key in existing:
        by_name[name.lower()].append(key)
    keys: dict[int, str] = {}
    for step in sheet_map.steps:
        if step.key:
            keys[step.line] = step.key
            continue
        free = [k for k in by_name.get(step.name.lower(), []) if k.lower() not in used]
        if free:
            key = free[0]
        else:
            base = slugify(step.name)[:70].strip("-") or "step"
            key, n = base, 1
            while key.lower() in taken:
                n += 1
                key = f"{base}-{n}"
        taken.add(key.lower())
        used.add(key.lower())
        keys[step.line] = key
    return keys


# --- the journeyhub/1 document --------------------------------------------------------


@dataclass
class MapPlan:
    """One map of the sheet as it will be imported."""

    title: str
    slug: str
    line: int
    existing: bool
    steps: int
    stages: int
    items: int


@dataclass
class Built:
    document: dict[str, Any]
    maps: list[MapPlan]
    #: JSON path of a document entry → (line, column of the sheet, field → column)
    places: dict[str, tuple[int, str, dict[str, str]]] = field(default_factory=dict)
    letters: dict[str, str] = field(default_factory=dict)  # column → its letter in the file

    def locate(self, problem: str) -> str:
        """An importer problem (``maps[0].steps[3].name: …``) in the sheet's terms
        (``line 7, column D (step): …``); one the sheet cannot place stays as it is."""
        path, sep, message = problem.partition(": ")
        if not sep:
            return problem
        best = max((p for p in self.places if _within(path, p)), key=len, default=None)
        if best is None:
            return problem
        line, column, fields = self.places[best]
        rest = path[len(best) :].lstrip(".")
        column = fields.get(rest.split(".")[0].split("[")[0], column) if rest else column
        return f"line {line}, {self._column(column)}: {message}"

    def _column(self, column: str) -> str:
        letter = self.letters.get(column)
        return f"column {letter} ({column})" if letter else f"column {column}"


def _within(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


STEP_FIELDS = {
    "name": "step",
    "key": "step key",
    "stage": "stage",
    "description": "description",
    "channel": "channel",
    "emotion": "emotion",
}


def _new_slug(title: str, taken: set[str]) -> str:
    base = slugify(title)[:190].strip("-") or "map"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def document_for(sheet: list[SheetMap], table: Table, *, by, under: JourneyMap | None) -> Built:
    """The journeyhub/1 document that brings ``sheet`` into the repository under
    ``under`` (None: top level), matched against what exists (module docstring). Seven
    queries, whatever the number of maps and rows."""
    siblings = (
        JourneyMap.objects.filter(parent=under)
        if under
        else JourneyMap.objects.filter(parent__isnull=True)
    )
    candidates = list(siblings.values("pk", "slug", "title", "owner__username"))
    by_slug = {c["slug"].lower(): c for c in candidates}
    by_title: dict[str, dict] = {}
    for c in candidates:
        by_title.setdefault(c["title"].lower(), c)
    matched: dict[int, dict] = {}  # index in sheet → the existing map
    for i, sheet_map in enumerate(sheet):
        found = by_slug.get(sheet_map.title.lower()) or by_title.get(sheet_map.title.lower())
        if found is not None and found["pk"] not in {m["pk"] for m in matched.values()}:
            matched[i] = found
    bases = {
        slugify(m.title)[:190].strip("-") or "map" for i, m in enumerate(sheet) if i not in matched
    }
    taken: set[str] = set()
    if bases:
        clash = Q()
        for base in bases:
            clash |= Q(slug__startswith=base)
        taken = set(JourneyMap.objects.filter(clash).values_list("slug", flat=True))
    ids = [m["pk"] for m in matched.values()]
    stages: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for map_id, name, key in (
        Stage.objects.filter(map_id__in=ids)
        .order_by("position", "pk")
        .values_list("map_id", "name", "exchange_key")
    ):
        stages[map_id].append((name, key))
    steps: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for map_id, name, key in (
        Step.objects.filter(map_id__in=ids)
        .order_by("position", "pk")
        .values_list("map_id", "name", "key")
    ):
        steps[map_id].append((name, key))
    items: dict[int, list[tuple]] = defaultdict(list)  # (column, step key, title, key)
    positions: dict[tuple[int, str], int] = defaultdict(int)  # (map, part) → next position
    pain_columns = {kind: column for column, kind in PAIN_POINT_COLUMNS.items()}
    lane_columns = {kind: column for column, kind in LANE_ITEM_COLUMNS.items()}
    for model, columns, part in (
        (PainPoint, pain_columns, "pain_points"),
        (LaneItem, lane_columns, "lane_items"),
    ):
        rows = (
            model.objects.filter(map_id__in=ids)
            .order_by("position", "pk")
            .values_list("map_id", "kind", "step__key", "title", "exchange_key", "position")
        )
        for map_id, kind, step_key, title, key, position in rows:
            if kind in columns:
                items[map_id].append((columns[kind], step_key, title.lower(), key))
            positions[(map_id, part)] = max(positions[(map_id, part)], position + 1)

    present = set(table.letters)
    built = Built(document={}, maps=[], letters=table.letters)
    entries = []
    for i, sheet_map in enumerate(sheet):
        existing = matched.get(i)
        map_id = existing["pk"] if existing else None
        slug = existing["slug"] if existing else _new_slug(sheet_map.title, taken)
        path = path_text(("maps", i))
        built.places[path] = (sheet_map.line, "map", {})
        entry: dict[str, Any] = {
            "slug": slug,
            "title": existing["title"] if existing else sheet_map.title,
            "owner": existing["owner__username"] if existing else by.get_username(),
        }
        # stages: in order of first appearance, matched on their name
        stage_keys: dict[str, str] = {}
        known = {name.lower(): key for name, key in reversed(stages.get(map_id, []))}
        entry["stages"] = []
        for position, name in enumerate(sheet_map.stages):
            key = known.get(name.lower()) or new_exchange_key()
            stage_keys[name.lower()] = key
            entry["stages"].append({"key": key, "name": name, "position": position})
            built.places[path_text(("maps", i, "stages", position))] = (
                sheet_map.stage_lines[name.lower()],
                "stage",
                {},
            )
        # steps: in row order
        keys = step_keys(sheet_map, steps.get(map_id, []))
        entry["steps"] = []
        for position, step in enumerate(sheet_map.steps):
            data: dict[str, Any] = {"key": keys[step.line], "name": step.name, "position": position}
            if "stage" in present:
                data["stage"] = stage_keys[step.stage.lower()] if step.stage else None
            for column in ("description", "channel", "emotion"):
                if column in present:
                    data[column] = getattr(step, column)
            built.places[path_text(("maps", i, "steps", position))] = (
                step.line,
                "step",
                STEP_FIELDS,
            )
            entry["steps"].append(data)
        # pain points and lane items: matched on (column, step, title)
        free = list(items.get(map_id, []))
        entry["pain_points"], entry["lane_items"] = [], []
        step_key_of = {id(s): keys[s.line] for s in sheet_map.steps}
        for item in sheet_map.items:
            step_key = step_key_of[id(item.step)] if item.step else None
            wanted = (item.column, step_key, item.title.lower())
            match = next((f for f in free if f[:3] == wanted), None)
            if item.column in PAIN_POINT_COLUMNS:
                part, kind = "pain_points", PAIN_POINT_COLUMNS[item.column]
            else:
                part, kind = "lane_items", LANE_ITEM_COLUMNS[item.column]
            data = {"key": match[3] if match else new_exchange_key(), "kind": kind}
            data |= {"title": item.title, "step": step_key}
            if match:
                free.remove(match)
            else:
                data["position"] = positions[(map_id, part)] if map_id else 0
                positions[(map_id, part)] = data["position"] + 1
            built.places[path_text(("maps", i, part, len(entry[part])))] = (
                item.line,
                item.column,
                {"step": "step"},
            )
            entry[part].append(data)
        entries.append(entry)
        built.maps.append(
            MapPlan(
                title=entry["title"],
                slug=slug,
                line=sheet_map.line,
                existing=existing is not None,
                steps=len(sheet_map.steps),
                stages=len(sheet_map.stages),
                items=len(sheet_map.items),
            )
        )
    built.document = {
        "format": FORMAT,
        "exported_at": None,
        "exported_by": by.get_username(),
        "root": None,
        "maps": entries,
    }
    return built

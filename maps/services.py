"""Writes to the repository. Browser forms, the API, the admin and commands all call these.

The optimistic lock: every edit of a map or of its content says which ``version`` of
the map it started from. The version is bumped by a conditional UPDATE in the same
transaction as the edit, so of two edits started from the same version exactly one
wins and the other gets ``VersionConflict`` with the current state; nothing is
overwritten silently.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_update_with_history

from governance.field_policy import (
    check_action,
    check_changes,
    check_content_write,
    check_project_write,
    with_hidden_links,
)

from . import kpi_math
from .content import map_of
from .models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    MeasurementObservation,
    PainPoint,
    Stage,
    Step,
)
from .models.common import MAX_MAGNITUDE, date_problem
from .tree import lock_for_tree_write


class VersionConflict(Exception):
    """The map changed since the editor loaded it."""

    def __init__(self, journey_map: JourneyMap, expected_version: int):
        self.journey_map = journey_map
        self.expected_version = expected_version
        super().__init__(
            f"“{journey_map}” was changed by someone else since you opened it "
            f"(you started from version {expected_version}, it is now at version "
            f"{journey_map.version}). Nothing was saved: review the current content and "
            "apply your change again."
        )


def map_bump_version(*, journey_map: JourneyMap, expected_version: int) -> JourneyMap:
    """Move the map from ``expected_version`` to the next one, or raise VersionConflict.

    Must run inside the transaction of the edit it guards.
    """
    updated = JourneyMap.objects.filter(pk=journey_map.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not updated:
        raise VersionConflict(
            JourneyMap.objects.select_related("owner", "team").get(pk=journey_map.pk),
            expected_version,
        )
    journey_map.version = expected_version + 1
    return journey_map


def _with_history_user(instance: models.Model, user) -> None:
    if user is not None:
        instance._history_user = user


def _save_or_refuse(instance: models.Model) -> None:
    """Save; a uniqueness race the clean() check could not see becomes a ValidationError."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(
            "This conflicts with existing data (a duplicate name, key or date)."
        ) from exc


RESERVED_SLUGS = {"new", "import"}  # /maps/new/ creates a map, /maps/import/ imports maps


def unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:180] or "map"
    if base in RESERVED_SLUGS:
        base = f"{base}-map"
    taken = set(
        JourneyMap.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def map_create(*, owner, title: str, by=None, slug: str = "", **fields: Any) -> JourneyMap:
    parent = fields.get("parent")
    if by is not None:
        proposed = {"title": title, "parent": parent, **fields}
        check_changes(by, JourneyMap(owner=owner), proposed)
    lock_for_tree_write(parent, root_level=parent is None)
    personas = fields.pop("personas", None)
    journey_map = JourneyMap(owner=owner, title=title, slug=slug or unique_slug(title), **fields)
    journey_map.full_clean()
    _with_history_user(journey_map, by)
    _save_or_refuse(journey_map)
    if personas:  # a second historical row ("~") records them: m2m rows need the map's id
        journey_map.personas.set(personas)
    return journey_map


def map_personas_set_before_save(*, journey_map: JourneyMap, personas: Any) -> None:
    """Set the map's personas without a historical row of their own: the save that must
    follow records them together with the other fields (one row per edit)."""
    journey_map.skip_history_when_saving = True
    try:
        journey_map.personas.set(personas)
    finally:
        del journey_map.skip_history_when_saving


def _lock_tree_for_update(journey_map: JourneyMap, *, old_parent_id: int | None, old_title: str):
    """Take the tree locks an update needs: mptt moves the map when its parent changes
    and when its title changes (siblings are kept in title order)."""
    if journey_map.parent_id == old_parent_id and journey_map.title == old_title:
        return
    root_level = old_parent_id is None or journey_map.parent_id is None
    new_parent = journey_map.parent if journey_map.parent_id else None
    lock_for_tree_write(journey_map, new_parent, root_level=root_level)


@transaction.atomic
def map_update(
    *, journey_map: JourneyMap, expected_version: int, by=None, **fields: Any
) -> JourneyMap:
    if by is not None:
        check_changes(by, journey_map, fields)
    old_parent_id, old_title = journey_map.parent_id, journey_map.title
    personas = fields.pop("personas", None)
    for name, value in fields.items():
        setattr(journey_map, name, value)
    _lock_tree_for_update(journey_map, old_parent_id=old_parent_id, old_title=old_title)
    journey_map.full_clean()  # after locking: a move is checked against the current tree
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    _with_history_user(journey_map, by)
    if personas is not None:
        map_personas_set_before_save(journey_map=journey_map, personas=personas)
    _save_or_refuse(journey_map)
    return journey_map


@transaction.atomic
def map_delete(*, journey_map: JourneyMap, expected_version: int, by=None) -> None:
    lock_for_tree_write(journey_map)
    children = journey_map.get_children().count()
    if children:
        raise ValidationError(
            f"“{journey_map}” has {children} sub-map{'s' if children != 1 else ''}; "
            "move or delete them first."
        )
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    _with_history_user(journey_map, by)
    journey_map.delete()


@transaction.atomic
def content_save(*, instance: models.Model, expected_version: int, by=None) -> models.Model:
    """Create or update a stage, step, link or lane item of a map (version-checked)."""
    if by is not None:
        check_content_write(by, instance)
    instance.full_clean()
    map_bump_version(journey_map=map_of(instance), expected_version=expected_version)
    _with_history_user(instance, by)
    _save_or_refuse(instance)
    return instance


@transaction.atomic
def content_delete(*, instance: models.Model, expected_version: int, by=None) -> None:
    if by is not None:
        check_content_write(by, instance)
    map_bump_version(journey_map=map_of(instance), expected_version=expected_version)
    _with_history_user(instance, by)
    instance.delete()


def direct_value_problem(*, kpi_id: int, date: dt.date) -> str | None:
    """Why a value may not be entered directly for this period, if it may not: its value
    is computed from observations (a period has one source, never silently both)."""
    observed = MeasurementObservation.objects.filter(kpi_id=kpi_id, date=date).count()
    if not observed:
        return None
    return (
        f"The value of {date:%Y-%m-%d} is computed from its {observed} "
        f"observation{'s' if observed != 1 else ''}; record an observation instead, or "
        "delete the period first."
    )


@transaction.atomic
def measurement_record(*, measurement: Measurement, by=None) -> Measurement:
    """Record a KPI value directly. Measurements are data pushed by people and systems,
    not authored map content, so they are not version-checked: the latest push for a
    (KPI, date) wins. A period whose value is computed from observations is refused:
    a period has one source, never silently both."""
    measurement.full_clean(validate_unique=False, validate_constraints=False)
    problem = direct_value_problem(kpi_id=measurement.kpi_id, date=measurement.date)
    if problem:
        raise ValidationError({"value": problem})
    existing = Measurement.objects.filter(kpi=measurement.kpi, date=measurement.date).first()
    if existing is not None and existing.pk != measurement.pk:
        existing.value = measurement.value
        measurement = existing
    _with_history_user(measurement, by)
    measurement.save()
    return measurement


@transaction.atomic
def project_save(
    *,
    project: CXProject,
    maps: list[JourneyMap] | None = None,
    steps: list[Step] | None = None,
    pain_points: list[PainPoint] | None = None,
    by=None,
) -> CXProject:
    """Create or update a CX project and what it addresses.

    The maps of the steps and pain points it addresses are always among its maps, so
    a map's project lane and the portfolio never miss a project.
    """
    if by is not None:
        check_project_write(by, project, maps=maps, steps=steps, pain_points=pain_points)
        maps, steps, pain_points = with_hidden_links(
            by, project, maps=maps, steps=steps, pain_points=pain_points
        )
    project.full_clean()
    _with_history_user(project, by)
    _save_or_refuse(project)
    if steps is not None:
        project.steps.set(steps)
    if pain_points is not None:
        project.pain_points.set(pain_points)
    if maps is not None or steps is not None or pain_points is not None:
        wanted = {m.pk for m in (maps if maps is not None else project.maps.all())}
        wanted |= {s.map_id for s in (steps if steps is not None else project.steps.all())}
        wanted |= {
            p.map_id
            for p in (pain_points if pain_points is not None else project.pain_points.all())
        }
        project.maps.set(sorted(wanted))
    return project


@transaction.atomic
def project_delete(*, project: CXProject, by=None) -> None:
    """Delete a project (its history keeps the record): its owner, CX leadership, admins."""
    if by is not None:
        check_action(by, "delete", project)
    _with_history_user(project, by)
    project.delete()


def map_touch(*, journey_map_id: int) -> None:
    """Move a map to a new version after an edit that bypassed the version check (the
    admin), so editors still working from the old version get a conflict, not a
    silent overwrite."""
    JourneyMap.objects.filter(pk=journey_map_id).update(version=F("version") + 1)


@transaction.atomic
def items_reorder(
    *,
    journey_map: JourneyMap,
    model: type[Stage] | type[Step],
    ordered_ids: list[int],
    expected_version: int,
    by=None,
) -> None:
    """Put a map's stages or steps in the given order (every one listed exactly once)."""
    existing = {obj.pk: obj for obj in model.objects.filter(map=journey_map)}
    if sorted(ordered_ids) != sorted(existing):
        noun = model._meta.verbose_name_plural
        raise ValidationError(f"The new order must list every one of this map's {noun} once.")
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    changed = []
    for position, pk in enumerate(ordered_ids):
        obj = existing[pk]
        if obj.position != position:
            obj.position = position
            changed.append(obj)
    if changed:
        bulk_update_with_history(changed, model, ["position"], default_user=by)


# --- moving steps across stages and cards within a cell ----------------------------------

# the grid's reading order of steps (maps.selectors.STEP_ORDER, not imported: selectors
# reads analytics, which writes through this module)
_STEP_ORDER = (F("stage__position").asc(nulls_last=True), "position", "pk")


def _int_ids(ids: list[int], *, field: str) -> list[int]:
    if len(set(ids)) != len(ids):
        raise ValidationError({field: "The new order lists an item more than once."})
    return ids


@transaction.atomic
def step_move(
    *,
    journey_map: JourneyMap,
    step_id: int,
    stage_id: int | None,
    ordered_ids: list[int],
    expected_version: int,
    by=None,
) -> Step:
    """Put step ``step_id`` into stage ``stage_id`` (``None``: unstaged) and the map's steps
    in the order ``ordered_ids`` (every one listed once): a step dragged into another stage
    at the place it was dropped. Positions are the order's indexes, so within each stage
    the steps read as listed. One transaction, version-checked, in each step's history."""
    steps = {step.pk: step for step in Step.objects.filter(map=journey_map)}
    step = steps.get(step_id)
    if step is None:
        raise ValidationError({"moved": f"Step {step_id} is not a step of “{journey_map}”."})
    stage = None
    if stage_id is not None:
        stage = Stage.objects.filter(map=journey_map, pk=stage_id).first()
        if stage is None:
            raise ValidationError(
                {"stage": f"Stage {stage_id} is not a stage of “{journey_map}”; "
                 "a step moves only between its own map's stages."}
            )  # fmt: skip
    if sorted(_int_ids(ordered_ids, field="order")) != sorted(steps):
        raise ValidationError(
            {"order": "The new order must list every one of this map's steps once."}
        )
    if by is not None:
        check_content_write(by, step)
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    changed = []
    for position, pk in enumerate(ordered_ids):
        obj = steps[pk]
        new_stage_id = stage_id if pk == step_id else obj.stage_id
        if obj.position != position or obj.stage_id != new_stage_id:
            obj.position = position
            if pk == step_id:
                obj.stage = stage
            changed.append(obj)
    if changed:
        bulk_update_with_history(changed, Step, ["position", "stage"], default_user=by)
    step.stage = stage
    return step


def step_groups(journey_map: JourneyMap) -> list[tuple[Stage | None, list[Step]]]:
    """The map's stages in order, each with its steps (empty stages too), then the
    unstaged steps (the grid shows them last) when there are any or no stages at all."""
    stages = list(Stage.objects.filter(map=journey_map).order_by("position", "pk"))
    steps = list(Step.objects.filter(map=journey_map).order_by(*_STEP_ORDER))
    groups: list[tuple[Stage | None, list[Step]]] = [
        (stage, [s for s in steps if s.stage_id == stage.pk]) for stage in stages
    ]
    unstaged = [s for s in steps if s.stage_id is None]
    if unstaged or not stages:
        groups.append((None, unstaged))
    return groups


@transaction.atomic
def step_shift(
    *, journey_map: JourneyMap, step_id: int, offset: int, expected_version: int, by=None
) -> Step:
    """Move a step one place left (``offset`` −1) or right (+1) in the grid's reading order:
    within its stage, or past the stage's first or last step into the neighbouring stage
    (as its last or first step; empty stages count, so a step reaches every stage from the
    keyboard). The grid's move buttons and key shortcuts call this."""
    groups = step_groups(journey_map)
    where = next(
        (
            (g, i)
            for g, (_, steps) in enumerate(groups)
            for i, s in enumerate(steps)
            if s.pk == step_id
        ),
        None,
    )
    if where is None:
        raise ValidationError({"moved": f"Step {step_id} is not a step of “{journey_map}”."})
    g, i = where
    members = [list(steps) for _, steps in groups]
    step = members[g][i]
    target = g
    if 0 <= i + offset < len(members[g]):  # within its stage
        members[g][i], members[g][i + offset] = members[g][i + offset], members[g][i]
    elif 0 <= g + offset < len(groups):  # into the neighbouring stage
        target = g + offset
        members[g].pop(i)
        if offset < 0:
            members[target].append(step)
        else:
            members[target].insert(0, step)
    else:
        side = "first" if offset < 0 else "last"
        field = "left" if offset < 0 else "right"
        raise ValidationError({field: f"“{step}” is already the {side} step; nothing moved."})
    stage = groups[target][0]
    return step_move(
        journey_map=journey_map,
        step_id=step_id,
        stage_id=stage.pk if stage is not None else None,
        ordered_ids=[s.pk for group in members for s in group],
        expected_version=expected_version,
        by=by,
    )


# cards reordered within their cell (same step, or the whole map, and same lane)
CELL_ORDERED: tuple[type[models.Model], ...] = (PainPoint, LaneItem)


def _cell_of(model: type[models.Model], journey_map: JourneyMap, item) -> list:
    return list(
        model._default_manager.filter(
            map=journey_map, step_id=item.step_id, kind=item.kind
        ).order_by("position", "pk")
    )


@transaction.atomic
def cell_reorder(
    *,
    journey_map: JourneyMap,
    model: type[PainPoint] | type[LaneItem],
    ordered_ids: list[int],
    expected_version: int,
    by=None,
) -> list:
    """Put the cards of one lane cell (pain points or lane items of one kind pinned to the
    same step, or to the whole map) in the order ``ordered_ids``, every card of the cell
    listed once. The cell keeps the positions it had (made distinct), so its order among
    the map's other items of the model is kept. Returns the cell in its new order."""
    if model not in CELL_ORDERED:
        raise ValidationError({"kind": "Only pain points and lane items are reordered in a cell."})
    _int_ids(ordered_ids, field="order")
    noun = model._meta.verbose_name_plural
    found = {
        obj.pk: obj for obj in model._default_manager.filter(map=journey_map, pk__in=ordered_ids)
    }
    if not ordered_ids or len(found) != len(ordered_ids):
        missing = ", ".join(str(pk) for pk in ordered_ids if pk not in found) or "none given"
        raise ValidationError({"order": f"Not {noun} of “{journey_map}”: {missing}."})
    first = found[ordered_ids[0]]
    cell = _cell_of(model, journey_map, first)
    if {obj.pk for obj in cell} != set(ordered_ids):
        raise ValidationError(
            {"order": f"The new order must list every one of the cell's {noun} once (one "
             "step and lane); cards move to another step through their edit form."}
        )  # fmt: skip
    if by is not None:
        check_content_write(by, first)
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    slots = sorted(obj.position for obj in cell)
    for i in range(1, len(slots)):  # equal positions (imports) made distinct
        slots[i] = max(slots[i], slots[i - 1] + 1)
    by_pk = {obj.pk: obj for obj in cell}
    changed = []
    for position, pk in zip(slots, ordered_ids, strict=True):
        obj = by_pk[pk]
        if obj.position != position:
            obj.position = position
            changed.append(obj)
    if changed:
        bulk_update_with_history(changed, model, ["position"], default_user=by)
    return [by_pk[pk] for pk in ordered_ids]


@transaction.atomic
def card_shift(
    *,
    journey_map: JourneyMap,
    model: type[PainPoint] | type[LaneItem],
    item_id: int,
    offset: int,
    expected_version: int,
    by=None,
) -> tuple[models.Model, int, int]:
    """Move a card one place up (``offset`` −1) or down (+1) within its cell; returns the
    card, its new place (1-based) and the cell's size."""
    if model not in CELL_ORDERED:
        raise ValidationError({"kind": "Only pain points and lane items are reordered in a cell."})
    item = model._default_manager.filter(map=journey_map, pk=item_id).first()
    if item is None:
        noun = model._meta.verbose_name
        raise ValidationError(
            {"moved": f"{noun.capitalize()} {item_id} is not on “{journey_map}”."}
        )
    ids = [obj.pk for obj in _cell_of(model, journey_map, item)]
    i = ids.index(item_id)
    j = i + offset
    if not 0 <= j < len(ids):
        side, field = ("first", "up") if offset < 0 else ("last", "down")
        raise ValidationError({field: f"“{item}” is already the {side} card of its cell."})
    ids[i], ids[j] = ids[j], ids[i]
    cell_reorder(
        journey_map=journey_map,
        model=model,
        ordered_ids=ids,
        expected_version=expected_version,
        by=by,
    )
    return item, j + 1, len(ids)


def next_position(model: type[models.Model], *, journey_map: JourneyMap) -> int:
    last = model.objects.filter(map=journey_map).aggregate(m=models.Max("position"))["m"]
    return 0 if last is None else last + 1


# --- measurements from raw observations -----------------------------------------------


@dataclass(frozen=True)
class ObservationInput:
    """One cleaned observation, ready to write (see ``observation_clean``)."""

    kpi: KPI
    date: dt.date
    dimensions: dict[str, str]
    inputs: dict[str, float | int]

    @property
    def dimension_key(self) -> str:
        return dimension_key(self.dimensions)


def dimension_key(dimensions: dict[str, str]) -> str:
    """The dimensions as one canonical string: ``channel=web|region=EU``."""
    return "|".join(f"{key}={dimensions[key]}" for key in sorted(dimensions))


#: the largest count of people an observation may carry (a PositiveIntegerField)
MAX_COUNT = 2_147_483_647


def _shown(raw: Any) -> str:
    """``raw`` for a message: a 5,000-digit number is named by its start and length."""
    text = str(raw) if not isinstance(raw, int) or raw.bit_length() < 10_000 else "a huge number"
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} characters)"


def _number(name: str, raw: Any) -> float | int:
    count = name in kpi_math.COUNT_INPUTS
    if isinstance(raw, bool):
        raise ValidationError({name: f"“{raw}” is not a number."})
    try:
        number = float(str(raw).strip().replace(",", "")) if isinstance(raw, str) else float(raw)
    except OverflowError:  # float(10**400)
        number = math.inf
    except (TypeError, ValueError):
        noun = "a whole number" if count else "a number"
        raise ValidationError({name: f"“{_shown(raw)}” is not {noun}."}) from None
    if count:
        if math.isfinite(number) and number > MAX_COUNT:
            raise ValidationError({name: f"“{_shown(raw)}” is more than {MAX_COUNT}."})
        if not math.isfinite(number) or not number.is_integer() or number < 0:
            raise ValidationError({name: f"“{_shown(raw)}” is not a whole number of at least 0."})
        return int(number)
    if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
        raise ValidationError(
            {name: f"“{_shown(raw)}” is not a finite number between −10^15 and 10^15."}
        )
    if name in ("numerator", "denominator", "mean") and number < 0:
        raise ValidationError({name: f"“{raw}” must be at least 0."})
    return number


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def observation_clean(
    *, kpi: KPI, date: Any, inputs: Mapping[str, Any], dimensions: Mapping[str, Any] | None = None
) -> ObservationInput:
    """Check and convert one observation's raw inputs (strings from CSV, numbers from
    JSON) for its KPI's kind. Errors are keyed by the field (input) they concern."""
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip()[:10])
        except ValueError:
            raise ValidationError({"date": f"“{date}” is not a date (YYYY-MM-DD)."}) from None
    if not isinstance(date, dt.date):
        raise ValidationError({"date": "A date (YYYY-MM-DD) is required."})
    if isinstance(date, dt.datetime):
        date = date.date()
    problem = date_problem(date)
    if problem:
        raise ValidationError({"date": problem})
    needed = kpi_math.KIND_INPUTS[kpi.kind]
    kind_label = kpi.get_kind_display().split(" (")[0]
    for name, raw in inputs.items():
        if name not in needed and not _blank(raw):
            raise ValidationError(
                {
                    name: f"“{name}” does not apply to {kpi.name} ({kind_label}); "
                    f"it takes {', '.join(needed)}."
                }
            )
    values: dict[str, float | int] = {}
    for name in needed:
        raw = inputs.get(name)
        if _blank(raw):
            raise ValidationError({name: f"{kpi.name} ({kind_label}) needs “{name}”."})
        values[name] = _number(name, raw)
    problem = kpi_math.input_problem(kpi.kind, values)
    if problem is not None:
        raise ValidationError({problem[0]: f"{problem[0]} {problem[1]}."})
    if kpi.kind == KPI.Kind.RATIO:
        # a pooled ratio is never above its largest part (Σn ÷ Σd ≤ max n ÷ d), so
        # checking each observation keeps every period value finite
        share = kpi_math.ratio(values["numerator"], values["denominator"])
        if not math.isfinite(share) or share > MAX_MAGNITUDE:
            raise ValidationError(
                {
                    "denominator": f"denominator {_shown(values['denominator'])} is too small "
                    f"for numerator {_shown(values['numerator'])}: the ratio would be beyond "
                    "10^15 %."
                }
            )
    clean_dimensions: dict[str, str] = {}
    for key, raw in (dimensions or {}).items():
        name = str(key).strip().lower()
        if not DIMENSION_NAME.fullmatch(name):
            raise ValidationError(
                {"dimensions": f"“{key}” is not a dimension name (letters, digits, _ or -)."}
            )
        if _blank(raw):
            continue
        if isinstance(raw, (dict, list)):
            raise ValidationError({"dimensions": f"The dimension “{key}” must be a text."})
        text = str(raw).strip()
        if len(text) > 100 or "|" in text:
            raise ValidationError(
                {"dimensions": f"The {name} “{text[:40]}” is too long or contains “|”."}
            )
        clean_dimensions[name] = text
    if len(dimension_key(clean_dimensions)) > 500:
        raise ValidationError({"dimensions": "Too many dimensions for one observation."})
    return ObservationInput(kpi=kpi, date=date, dimensions=clean_dimensions, inputs=values)


DIMENSION_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
OBSERVATION_UPDATE_FIELDS = [
    "dimensions",
    *MeasurementObservation.INPUT_FIELDS,
    "recorded_by",
    "recorded_at",
]


@transaction.atomic
def measurement_delete(*, measurement: Measurement, by=None) -> None:
    """Delete a period's value and the observations it was computed from (with history),
    so the period is gone rather than recomputed by the next observation."""
    for observation in MeasurementObservation.objects.filter(
        kpi_id=measurement.kpi_id, date=measurement.date
    ):
        _with_history_user(observation, by)
        observation.delete()
    _with_history_user(measurement, by)
    measurement.delete()


def _direct_periods(periods: set[tuple[int, dt.date]]) -> list[tuple[int, dt.date]]:
    """Periods among ``periods`` whose value was entered directly (no observations)."""
    kpi_ids = {kpi_id for kpi_id, _ in periods}
    dates = [day for _, day in periods]
    observed = set(
        MeasurementObservation.objects.filter(
            kpi_id__in=kpi_ids, date__gte=min(dates), date__lte=max(dates)
        ).values_list("kpi_id", "date")
    )
    valued = Measurement.objects.filter(
        kpi_id__in=kpi_ids, date__gte=min(dates), date__lte=max(dates)
    ).values_list("kpi_id", "date")
    return sorted(p for p in valued if p in periods and p not in observed)


def direct_periods_problem(
    periods: set[tuple[int, dt.date]], *, kpi_names: Mapping[int, str]
) -> str | None:
    """Why observations may not be recorded for these (KPI, date) periods, if they may
    not: some hold a value entered directly (a period has one source)."""
    direct = _direct_periods(periods)
    if not direct:
        return None
    listed = "; ".join(f"“{kpi_names[k]}” on {d:%Y-%m-%d}" for k, d in direct[:10])
    more = f" … and {len(direct) - 10} more" if len(direct) > 10 else ""
    return (
        f"These periods hold a value entered directly, not computed from observations: "
        f"{listed}{more}. Delete those values first (a period has one source)."
    )


def observations_record_many(*, observations: list[ObservationInput], by=None) -> list[Measurement]:
    """Upsert observations (one per KPI, date and dimensions; a second one replaces the
    first) and recompute the period value of every (KPI, date) they touch from ALL its
    observations. Bulk: one upsert, one read and one upsert, batched by the database's
    parameter limit, whatever the number of rows. Returns the touched measurements.

    Measurements are observations, not authored map content: no map version."""
    if not observations:
        return []
    seen: dict[tuple[int, dt.date, str], int] = {}
    for index, obs in enumerate(observations):
        key = (obs.kpi.pk, obs.date, obs.dimension_key)
        if key in seen:
            raise ValidationError(
                f"Observation {index + 1} repeats observation {seen[key] + 1}: the same KPI, "
                "date and dimensions."
            )
        seen[key] = index
    periods = {(obs.kpi.pk, obs.date) for obs in observations}
    problem = direct_periods_problem(
        periods, kpi_names={obs.kpi.pk: obs.kpi.name for obs in observations}
    )
    if problem:
        raise ValidationError({"date": problem})
    now = timezone.now()
    with transaction.atomic():
        rows = MeasurementObservation.objects.bulk_create(
            [
                MeasurementObservation(
                    kpi=obs.kpi,
                    date=obs.date,
                    dimensions=obs.dimensions,
                    dimension_key=obs.dimension_key,
                    recorded_by=by if getattr(by, "pk", None) else None,
                    recorded_at=now,
                    **{name: obs.inputs.get(name) for name in MeasurementObservation.INPUT_FIELDS},
                )
                for obs in observations
            ],
            update_conflicts=True,
            unique_fields=["kpi", "date", "dimension_key"],
            update_fields=OBSERVATION_UPDATE_FIELDS,
        )
        _history_of_upserted(MeasurementObservation, rows, by)
        return periods_recompute(periods=periods, by=by)


def observations_record(*, kpi: KPI, rows: list[Mapping[str, Any]], by=None) -> list[Measurement]:
    """Record raw observations of one KPI: each row a mapping with ``date``, the inputs of
    the KPI's kind and optional ``dimensions``. Validates every row first (errors name
    the row: "Row 2: …"), then writes them all or nothing."""
    cleaned = []
    for number, row in enumerate(rows, start=1):
        inputs = {k: v for k, v in row.items() if k not in ("date", "dimensions")}
        try:
            cleaned.append(
                observation_clean(
                    kpi=kpi, date=row.get("date"), inputs=inputs, dimensions=row.get("dimensions")
                )
            )
        except ValidationError as exc:
            if len(rows) == 1:
                raise
            raise ValidationError(
                {
                    field: [f"Row {number}: {message}" for message in messages]
                    for field, messages in exc.message_dict.items()
                }
            ) from exc
    return observations_record_many(observations=cleaned, by=by)


def _history_of_upserted(model, objs: list, by) -> None:
    """History rows for rows just upserted in bulk (simple-history's bulk helper). The
    upsert set their primary keys: Django returns them with ``update_conflicts`` on
    PostgreSQL and SQLite 3.35+."""
    if objs:
        model.history.bulk_history_create(
            objs, update=True, default_user=by if getattr(by, "pk", None) else None
        )


def periods_recompute(*, periods: set[tuple[int, dt.date]], by=None) -> list[Measurement]:
    """Set each (KPI, date)'s ``Measurement.value`` from all its observations: one read of
    the KPIs' observations in the dates' range (filtered to the periods here), one bulk
    upsert of the measurements."""
    kpi_ids = sorted({kpi_id for kpi_id, _ in periods})
    dates = [day for _, day in periods]
    kpis = {
        row["pk"]: row
        for row in KPI.objects.filter(pk__in=kpi_ids).values("pk", "kind", "aggregation")
    }
    grouped: dict[tuple[int, dt.date], list[dict]] = defaultdict(list)
    rows = MeasurementObservation.objects.filter(
        kpi_id__in=kpi_ids, date__gte=min(dates), date__lte=max(dates)
    ).values("kpi_id", "date", *MeasurementObservation.INPUT_FIELDS)
    for row in rows:
        key = (row["kpi_id"], row["date"])
        if key in periods:
            grouped[key].append(row)
    measurements = []
    for (kpi_id, day), observations in sorted(grouped.items()):
        kpi = kpis[kpi_id]
        needed = kpi_math.KIND_INPUTS[kpi["kind"]]
        # observations of a former kind (the KPI's kind was changed) cannot count
        usable = [o for o in observations if all(o[name] is not None for name in needed)]
        if not usable:
            continue
        value = kpi_math.period_value(kpi["kind"], usable, aggregation=kpi["aggregation"])
        if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:  # a sum of huge values
            raise ValidationError(
                {"value": f"The {kpi['aggregation']} of the values on {day} is beyond 10^15."}
            )
        measurements.append(Measurement(kpi_id=kpi_id, date=day, value=value))
    Measurement.objects.bulk_create(
        measurements,
        update_conflicts=True,
        unique_fields=["kpi", "date"],
        update_fields=["value"],
    )
    _history_of_upserted(Measurement, measurements, by)
    return measurements

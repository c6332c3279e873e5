"""Writes to the repository. Browser forms, the API, the admin and commands all call these.

The optimistic lock: every edit of a map or of its content says which ``version`` of
the map it started from. The version is bumped by a conditional UPDATE in the same
transaction as the edit, so of two edits started from the same version exactly one
wins and the other gets ``VersionConflict`` with the current state; nothing is
overwritten silently.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.text import slugify
from simple_history.utils import bulk_update_with_history

from .models import CXProject, JourneyMap, Measurement, PainPoint, Stage, Step, StepLink


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


def map_of(obj: models.Model) -> JourneyMap:
    """The map a piece of content belongs to."""
    if isinstance(obj, JourneyMap):
        return obj
    if isinstance(obj, Measurement):
        return obj.kpi.map
    if isinstance(obj, StepLink):
        return obj.from_step.map
    return obj.map


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


RESERVED_SLUGS = {"new"}  # /maps/new/ creates a map


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
    journey_map = JourneyMap(owner=owner, title=title, slug=slug or unique_slug(title), **fields)
    journey_map.full_clean()
    _with_history_user(journey_map, by or owner)
    _save_or_refuse(journey_map)
    return journey_map


@transaction.atomic
def map_update(
    *, journey_map: JourneyMap, expected_version: int, by=None, **fields: Any
) -> JourneyMap:
    for name, value in fields.items():
        setattr(journey_map, name, value)
    journey_map.full_clean()
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    _with_history_user(journey_map, by)
    _save_or_refuse(journey_map)
    return journey_map


@transaction.atomic
def map_delete(*, journey_map: JourneyMap, expected_version: int, by=None) -> None:
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
    instance.full_clean()
    map_bump_version(journey_map=map_of(instance), expected_version=expected_version)
    _with_history_user(instance, by)
    _save_or_refuse(instance)
    return instance


@transaction.atomic
def content_delete(*, instance: models.Model, expected_version: int, by=None) -> None:
    map_bump_version(journey_map=map_of(instance), expected_version=expected_version)
    _with_history_user(instance, by)
    instance.delete()


@transaction.atomic
def measurement_record(*, measurement: Measurement, by=None) -> Measurement:
    """Record a KPI value. Measurements are observations pushed by people and systems,
    not authored map content, so they are not version-checked: the latest push for a
    (KPI, date) wins."""
    measurement.full_clean(validate_unique=False, validate_constraints=False)
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


def next_position(model: type[models.Model], *, journey_map: JourneyMap) -> int:
    last = model.objects.filter(map=journey_map).aggregate(m=models.Max("position"))["m"]
    return 0 if last is None else last + 1

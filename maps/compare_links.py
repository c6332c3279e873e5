"""Pointing a change between two maps to the CX project that delivers it.

On the compare page each changed, added or removed step and each pain point the other
map resolves can be linked to a project the user may change: the project then addresses
that step (of the map where it exists in its new form) or that pain point (of today's
map, which it removes), so the project page, the map's project lane and the portfolio all
see it. Linking goes through ``project_save`` and its field policy like any project edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from governance import permissions

from .compare import Comparison
from .models import CXProject, JourneyMap, PainPoint, Step
from .services import project_save

#: at most this many projects are offered in the select (the nearest first)
PROJECT_CHOICES_MAX = 300


@dataclass(frozen=True)
class Linkable:
    """One thing on the compare page a project can be pointed at."""

    value: str  # "step:<key>" or "pain:<key>"
    label: str
    group: str


def linkables(comparison: Comparison) -> list[Linkable]:
    """What the compare page offers to link, in the page's order."""
    rows: list[Linkable] = []
    for group, changes in (
        ("Steps changed", comparison.changed),
        ("Steps added", comparison.added),
        ("Steps removed", comparison.removed),
    ):
        rows += [Linkable(f"step:{c.key}", c.name, group) for c in changes]
    rows += [
        Linkable(f"pain:{p.key}", p.title, "Pain points resolved") for p in comparison.resolved
    ]
    return rows


def project_choices(user, baseline: JourneyMap, other: JourneyMap) -> QuerySet[CXProject]:
    """The projects ``user`` may change that are worth offering: those already on either
    map's journey tree, then the user's own open ones (a leader may change every project:
    the select stays short)."""
    trees = {baseline.tree_id, other.tree_id}
    near = Q(maps__tree_id__in=trees)
    own_open = Q(owner=user) & ~Q(status__in=[CXProject.Status.DONE, CXProject.Status.CANCELLED])
    ids = (
        permissions.editable_projects(user)
        .filter(near | own_open)
        .values_list("pk", flat=True)
        .distinct()
    )
    return (
        CXProject.objects.filter(pk__in=ids)
        .only("pk", "title", "status")
        .order_by("title", "pk")[:PROJECT_CHOICES_MAX]
    )


class LinkRefused(Exception):
    """A link request that cannot be carried out; ``field`` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def resolve_item(
    value: str, *, baseline: JourneyMap, other: JourneyMap
) -> tuple[Step | None, PainPoint | None]:
    """The step or pain point a form value names. A step is taken from the compared map
    when it is there (the change as it will be), else from today's map (a removed step);
    a pain point from today's map (the one the other map resolves)."""
    kind, _, key = value.partition(":")
    if kind == "step" and key:
        steps = {s.map_id: s for s in Step.objects.filter(map__in=[other, baseline], key=key)}
        step = steps.get(other.pk) or steps.get(baseline.pk)
        if step is not None:
            return step, None
    elif kind == "pain" and key:
        pain = PainPoint.objects.filter(map=baseline, exchange_key=key).first()
        if pain is not None:
            return None, pain
    raise LinkRefused("item", "item: choose a step or pain point of the two maps compared.")


@transaction.atomic
def link_project(
    *, project_id: int, step: Step | None = None, pain_point: PainPoint | None = None, by
) -> CXProject:
    """Add ``step`` or ``pain_point`` to what project ``project_id`` addresses. The row is
    locked first so two links made at the same moment both stay."""
    project = (
        permissions.editable_projects(by, CXProject.objects.select_for_update())
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        raise LinkRefused("project", "project: choose a project you may change.")
    steps = pain_points = None
    if step is not None:
        steps = [*_visible_links(by, project.steps.all()), step]
    if pain_point is not None:
        pain_points = [*_visible_links(by, project.pain_points.all()), pain_point]
    return project_save(project=project, steps=steps, pain_points=pain_points, by=by)


def _visible_links(user, items: QuerySet) -> list:
    """The project's links the user can see: ``project_save`` adds back the hidden ones."""
    if permissions.is_leadership(user):
        return list(items)
    return list(items.filter(map__in=permissions.visible_maps(user).values("pk")))

"""Starting a map from a template: the seven essential journeys that ship with JourneyHub
and any map its owner offers as a template (``JourneyMap.is_template``).

A template is a ``journeyhub/1`` map. Instantiating one creates the new map through
``services.map_create`` (the field policy, the tree lock and history, as for a blank
map), then imports the template's structure and lanes into it through the exchange
importer: stages, steps, step links, pain points, insights/opportunities/research/ideas
and KPI definitions. Measurements, observations, baselines, qualitative ratings,
research sources, projects and history stay with the template: they describe the
template's own journey, not the new one.

The shipped templates live in ``maps/data/essential_journeys.json`` (a ``journeyhub/1``
document of seven maps, seed 001's essential journeys), so they need no rows in the
database and are the same on every installation.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch

from governance import permissions

from . import services
from .models import JourneyMap, Stage

SHIPPED_FILE = Path(__file__).parent / "data" / "essential_journeys.json"
SHIPPED_PREFIX = "essential:"
MAP_PREFIX = "map:"
#: what a new map takes from its template; everything else is the template's own story
COPIED_KINDS = ("stages", "steps", "links", "pain_points", "lane_items", "kpis")
#: KPI parts that are measurements of the template's journey, not definitions
KPI_MEASURED = ("measurements", "observations", "baseline")


@dataclass(frozen=True)
class MapTemplate:
    ref: str  # "essential:onboard" or "map:<slug>"
    title: str
    summary: str
    origin: str  # "JourneyHub" or the owner's name
    stages: tuple[str, ...]
    step_count: int
    source_map: JourneyMap | None = None


@cache
def shipped_document() -> dict[str, Any]:
    return json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))


def _shipped_maps() -> dict[str, dict[str, Any]]:
    return {entry["slug"]: entry for entry in shipped_document()["maps"]}


def shipped_templates() -> list[MapTemplate]:
    return [
        MapTemplate(
            ref=SHIPPED_PREFIX + slug,
            title=entry["title"],
            summary=entry.get("summary", ""),
            origin="JourneyHub",
            stages=tuple(stage["name"] for stage in entry.get("stages", [])),
            step_count=len(entry.get("steps", [])),
        )
        for slug, entry in _shipped_maps().items()
    ]


def organisation_templates(user, *, slug: str | None = None) -> list[MapTemplate]:
    """The maps offered as templates that ``user`` may see, or only the one with
    ``slug`` (three queries)."""
    maps = permissions.visible_maps(user).filter(is_template=True)
    if slug is not None:
        maps = maps.filter(slug=slug)
    maps = (
        maps.select_related("owner")
        .annotate(step_count=Count("steps", distinct=True))
        .prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("position", "pk"), to_attr="ordered")
        )
        .order_by("title", "pk")
    )
    return [
        MapTemplate(
            ref=MAP_PREFIX + m.slug,
            title=m.title,
            summary=m.summary,
            origin=m.owner.get_full_name() or m.owner.get_username(),
            stages=tuple(stage.name for stage in m.ordered),
            step_count=m.step_count,
            source_map=m,
        )
        for m in maps
    ]


def available_templates(user) -> list[MapTemplate]:
    return shipped_templates() + organisation_templates(user)


def get_template(user, ref: str) -> MapTemplate:
    """The template ``ref`` names, if ``user`` may use it; a hidden map's template and a
    missing one get the same answer."""
    if ref.startswith(SHIPPED_PREFIX):
        found = [t for t in shipped_templates() if t.ref == ref]
    elif ref.startswith(MAP_PREFIX):
        found = organisation_templates(user, slug=ref.removeprefix(MAP_PREFIX))
    else:
        found = []
    if not found:
        raise ValidationError({"template": f"There is no template “{ref}” you may use."})
    return found[0]


def _template_entry(template: MapTemplate, user) -> dict[str, Any]:
    """The template's map as a ``journeyhub/1`` map entry."""
    if template.source_map is None:
        return copy.deepcopy(_shipped_maps()[template.ref.removeprefix(SHIPPED_PREFIX)])
    from .exchange import export_document

    document = export_document(template.source_map, user=user, measurements=False, subtree=False)
    return document["maps"][0]


def structure_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The copied kinds of a map entry, without anything measured."""
    structure = {kind: copy.deepcopy(entry.get(kind, [])) for kind in COPIED_KINDS}
    for kpi in structure["kpis"]:
        for name in KPI_MEASURED:
            kpi.pop(name, None)
    return structure


@transaction.atomic
def map_from_template(
    *, template_ref: str, by, title: str, parent: JourneyMap | None = None, **fields: Any
) -> JourneyMap:
    """Create a map owned by ``by`` under ``parent`` with the template's structure."""
    template = get_template(by, template_ref)
    entry = _template_entry(template, by)
    fields.setdefault("team", parent.team if parent else None)
    return map_with_structure(entry=entry, by=by, title=title, parent=parent, **fields)


@transaction.atomic
def map_with_structure(
    *, entry: dict[str, Any], by, title: str, parent: JourneyMap | None = None, **fields: Any
) -> JourneyMap:
    """Create a map owned by ``by`` under ``parent`` (``services.map_create``: the field
    policy, the tree lock, history) and import the copied kinds of ``entry``, a
    ``journeyhub/1`` map entry, into it. Templates and future states both start here."""
    from .exchange import export_document, import_document

    journey_map = services.map_create(
        owner=by,
        title=title,
        parent=parent,
        summary=fields.pop("summary", "") or entry.get("summary", ""),
        by=by,
        **fields,
    )
    # the new map as the importer expects it, with the template's content added
    document = export_document(journey_map, user=by, measurements=False, subtree=False)
    document["maps"][0].update(structure_of(entry))
    document["root"] = journey_map.slug
    import_document(document, by=by, under=parent)
    journey_map.refresh_from_db()
    return journey_map

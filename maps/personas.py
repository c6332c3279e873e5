"""Personas as the journey teams use them: who a map is drawn for, each with a page of
the maps, pain points and KPIs that concern them. Journey owners curate them (not only
the admin); CX leadership and admins may also delete one."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.text import slugify

from governance import permissions
from governance.scoring import number

from .models import KPI, JourneyMap, PainPoint, Persona

PAIN_POINTS_SHOWN = 20


@dataclass
class PersonaRow:
    persona: Persona
    maps: int  # maps the reader may see that are drawn for this persona


def personas_for(user) -> list[PersonaRow]:
    """Every persona with the number of maps the user may see that are drawn for it."""
    # one row per (map, persona) link: a map drawn for two personas counts under both
    links = JourneyMap.personas.through.objects.filter(
        journeymap__in=permissions.visible_maps(user).values("pk")
    )
    counts = dict(
        links.order_by().values("persona").annotate(n=Count("pk")).values_list("persona", "n")
    )
    return [PersonaRow(p, counts.get(p.pk, 0)) for p in Persona.objects.all()]


@dataclass
class PersonaOverview:
    persona: Persona
    maps: list[JourneyMap]
    pain_points: list[PainPoint]
    pain_point_count: int
    kpis: list[KPI]  # with ``latest_value``, ``latest_date``, ``latest_text``, ``target_text``


def persona_overview(persona: Persona, user) -> PersonaOverview:
    """What concerns a persona, limited to what the user may see: its maps, their
    pain points (worst first) and their KPIs with the latest value. A fixed number of
    queries."""
    # one persona: the join through the link table gives each map once
    maps_qs: QuerySet[JourneyMap] = permissions.visible_maps(user).filter(personas=persona)
    maps = list(maps_qs.with_people().with_personas().order_by("tree_id", "lft"))
    pains = PainPoint.objects.filter(map__in=maps_qs)
    # latest_value / latest_date: stored on the KPI by the database's triggers
    kpis = list(
        KPI.objects.filter(map__in=maps_qs)
        .select_related("map")
        .order_by("map__tree_id", "map__lft", "name", "pk")
    )
    for kpi in kpis:  # as the scorecard writes numbers: 7, 7.5, 48,000
        kpi.latest_text = number(kpi.latest_value)
        kpi.target_text = number(kpi.target)
    return PersonaOverview(
        persona=persona,
        maps=maps,
        pain_points=list(
            pains.select_related("map", "step").order_by("-severity", "-frequency", "pk")[
                :PAIN_POINTS_SHOWN
            ]
        ),
        pain_point_count=pains.count(),
        kpis=kpis,
    )


def _unique_slug(name: str, *, exclude_pk: int | None) -> str:
    base = slugify(name)[:110] or "persona"
    taken = set(
        Persona.objects.exclude(pk=exclude_pk)
        .filter(slug__startswith=base)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def persona_save(*, persona: Persona, by) -> Persona:
    """Create or change a persona (history records who); its slug is made from the name
    when left empty."""
    if not permissions.can_edit_personas(by):
        raise ValidationError("Only journey owners and CX leadership curate personas.")
    if not persona.slug:
        persona.slug = _unique_slug(persona.name, exclude_pk=persona.pk)
    persona.full_clean()
    persona._history_user = by
    persona.save()
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona, by) -> None:
    """Delete a persona; its maps keep existing, drawn for their other personas."""
    if not permissions.can_delete_personas(by):
        raise ValidationError("Only CX leadership and admins delete personas.")
    persona._history_user = by
    persona.delete()

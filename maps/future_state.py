"""Current state, future state, scenarios and the CX vision (seed 003's taxonomy).

A map is the journey as it is (``current``), as it should become (``future``) or an
alternative for a persona or a channel (``scenario``); the last two name the
current-state map they belong to (``JourneyMap.state_of``). A lifecycle or top map
carries the CX vision statement (``vision``) that the journeys under it serve.

Writes: ``map_draft_variant`` copies a current-state map's structure into a new sibling
through the path templates take (``map_templates.map_with_structure``: ``map_create``
with the field policy, the tree lock and history, then the journeyhub/1 importer).
Reads: what the map page says about a map's state, and each side of a comparison
(``maps.compare`` compares them), in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse

from governance import permissions

from .compare import PainSide, ProjectRef, Side, StepSide
from .models import CXProject, JourneyMap, PainPoint, Step
from .precompiled import Precompiled

State = JourneyMap.State
VARIANT_STATES = (State.FUTURE, State.SCENARIO)
TITLE_MAX = JourneyMap._meta.get_field("title").max_length
LABEL_MAX = JourneyMap._meta.get_field("scenario_label").max_length


# --- who may ---------------------------------------------------------------------------


def can_draft_variant(user, source: JourneyMap) -> bool:
    """Whoever may create a map where the new one goes (beside ``source``, under its
    parent) may draft its future state or a scenario: the rule for new maps."""
    if source.state != State.CURRENT:
        return False
    if source.parent_id is None:
        return permissions.can_create_top_level_map(user)
    return permissions.can(user, permissions.Action.CREATE_SUBMAP, source.parent)


# --- writes ----------------------------------------------------------------------------


def default_title(source: JourneyMap, state: str, label: str = "") -> str:
    suffix = " (future state)" if state == State.FUTURE else f" (scenario: {label})"
    return source.title[: TITLE_MAX - len(suffix)] + suffix


@transaction.atomic
def map_draft_variant(
    *, source: JourneyMap, by, state: str, scenario_label: str = "", title: str = ""
) -> JourneyMap:
    """A draft future state or scenario of ``source``, owned by ``by``: a sibling of it
    (same parent, team and personas) with a copy of its stages, steps (same keys), links,
    pain points, lane items and KPI definitions (same exchange keys, so a comparison
    matches them). Measurements, ratings, research and projects stay with ``source``.
    The caller has checked that ``by`` may see ``source``; ``map_create`` applies the
    rule for new maps (``FieldsDenied`` when ``by`` may not create one there)."""
    from .exchange import export_document
    from .map_templates import map_with_structure

    label = (scenario_label or "").strip()
    errors: dict[str, str] = {}
    if state not in VARIANT_STATES:
        errors["state"] = "Choose “future” (a future state) or “scenario”."
    if source.state != State.CURRENT:
        errors["state_of"] = (
            f"“{source}” is itself a {source.get_state_display().lower()}; draft from its "
            "current-state map instead."
        )
    if state == State.SCENARIO and not label:
        errors["scenario_label"] = "Say what the scenario varies, e.g. a persona or a channel."
    elif state == State.FUTURE and label:
        errors["scenario_label"] = "Only a scenario has a scenario label."
    elif len(label) > LABEL_MAX:
        errors["scenario_label"] = f"At most {LABEL_MAX} characters."
    title = (title or "").strip() or default_title(source, state, label)
    if len(title) > TITLE_MAX:
        errors["title"] = f"At most {TITLE_MAX} characters."
    if errors:
        raise ValidationError(errors)
    source = JourneyMap.objects.select_related("parent", "team").get(pk=source.pk)
    entry = export_document(source, user=by, measurements=False, subtree=False)["maps"][0]
    return map_with_structure(
        entry=entry,
        by=by,
        title=title,
        parent=source.parent,
        team=source.team,
        personas=list(source.personas.all()),  # drawn for the same people, all of them
        hidden_lanes=list(source.hidden_lanes or ()),
        state=state,
        state_of=source,
        scenario_label=label,
    )


# --- reads: the map page ------------------------------------------------------------------

_RELATED_ORDER = ("state", "scenario_label", "title", "pk")
_VARIANTS_OF = Precompiled(
    lambda pk: (
        JourneyMap.objects.select_related("owner").filter(state_of_id=pk).order_by(*_RELATED_ORDER)
    )
)
_MAP_BY_PK = Precompiled(
    lambda pk: JourneyMap.objects.select_related("owner").filter(pk=pk).order_by(*_RELATED_ORDER)
)


@dataclass
class MapStates:
    """What the map page's header says about a map's state."""

    journey_map: JourneyMap
    state_of: JourneyMap | None = None  # the current-state map, if the reader sees it
    variants: list[JourneyMap] = field(default_factory=list)  # future states, scenarios
    vision: str = ""
    vision_from: JourneyMap | None = None  # the ancestor whose vision this map inherits
    can_draft: bool = False

    @property
    def is_variant(self) -> bool:
        return self.journey_map.state in VARIANT_STATES

    @property
    def compare_url(self) -> str | None:
        if self.state_of is None:
            return None
        return reverse(
            "maps:compare",
            kwargs={"slug": self.state_of.slug, "other_slug": self.journey_map.slug},
        )


def map_states(
    user, journey_map: JourneyMap, *, ancestors: list[JourneyMap] | None = None
) -> MapStates:
    """The map's current-state map, its future states and scenarios and the vision it
    serves, as ``user`` may see them: its ancestors (one query, with whether the reader
    sees each; none at the top level), its drafts or its current state (one), and
    whether the reader may draft beside it (a grant query at most). ``ancestors``: the
    caller's, top first, each marked ``shown`` (the map page reads them once for this
    and its breadcrumbs)."""
    # the reader's filter only where a query needs it: building it cost a third of a
    # millisecond of every map page, most of which need none (#16)
    found = MapStates(journey_map=journey_map)
    if ancestors is None:
        ancestors = []
        if journey_map.parent_id:
            visible = permissions.visible_maps(user)
            ancestors = list(
                journey_map.get_ancestors().annotate(
                    shown=Exists(visible.filter(pk=OuterRef("pk")))
                )
            )
    # its drafts (a current-state map) or the map it belongs to (a draft): one query
    related = Q(state_of=journey_map) if journey_map.state == State.CURRENT else None
    if journey_map.state_of_id:
        related = Q(pk=journey_map.state_of_id)  # a draft has no drafts of its own
    others: list[JourneyMap] = []
    if related is not None:
        # read without the reader's filter (compiled once); only when one of them could
        # be visible through a grant alone is it read again through visible_maps
        if journey_map.state_of_id:
            others = _MAP_BY_PK.objects(journey_map.state_of_id)
        else:
            others = _VARIANTS_OF.objects(journey_map.pk)
        if not all(permissions.visible_without_grants(user, other) for other in others):
            others = list(
                permissions.visible_maps(user)
                .filter(related)
                .select_related("owner")
                .order_by(*_RELATED_ORDER)
            )
    for other in others:
        if other.pk == journey_map.state_of_id:
            found.state_of = other
        else:
            found.variants.append(other)
    if journey_map.vision:
        found.vision = journey_map.vision
    else:
        # the nearest ancestor that states one and the reader may see; a draft without
        # one above it shows its current state's
        found.vision_from = next((a for a in reversed(ancestors) if a.shown and a.vision), None)
        if found.vision_from is None and found.state_of is not None and found.state_of.vision:
            found.vision_from = found.state_of
        if found.vision_from is not None:
            found.vision = found.vision_from.vision
    if journey_map.state == State.CURRENT:
        # the rule of can_draft_variant without its one costly case: at the top level,
        # holders of the global "add journey map" permission (rare; two permission
        # queries on every page) are not offered the button but may use the page
        if ancestors:
            journey_map.parent = ancestors[-1]
            found.can_draft = can_draft_variant(user, journey_map)
        else:
            found.can_draft = permissions.is_leadership(user)
    return found


# --- reads: one side of a comparison ------------------------------------------------------


def _projects(user) -> Prefetch:
    return Prefetch(
        "projects",
        queryset=permissions.visible_projects(user)
        .only("pk", "title", "status")
        .order_by("title", "pk"),
        to_attr="visible_projects",
    )


def _refs(projects: list[CXProject]) -> tuple[ProjectRef, ...]:
    return tuple(
        ProjectRef(
            pk=p.pk,
            title=p.title,
            status=p.get_status_display(),
            url=reverse("project_detail", kwargs={"pk": p.pk}),
        )
        for p in projects
    )


def comparison_side(journey_map: JourneyMap, *, user) -> Side:
    """A map's steps and pain points as ``maps.compare`` reads them, each with the CX
    projects ``user`` may see that address it (four queries)."""
    steps = (
        Step.objects.filter(map=journey_map)
        .select_related("stage")
        .prefetch_related(_projects(user))
        .order_by("position", "pk")
    )
    pains = (
        PainPoint.objects.filter(map=journey_map)
        .select_related("step")
        .prefetch_related(_projects(user))
        .order_by("position", "pk")
    )
    return Side(
        title=journey_map.title,
        steps=tuple(
            StepSide(
                key=s.key,
                name=s.name,
                stage=s.stage.name if s.stage else "",
                emotion=s.emotion,
                channel=s.get_channel_display() if s.channel else "",
                moment_of_truth=s.is_moment_of_truth,
                projects=_refs(s.visible_projects),
            )
            for s in steps
        ),
        pain_points=tuple(
            PainSide(
                key=p.exchange_key,
                title=p.title,
                step=p.step.name if p.step else "",
                severity=p.severity,
                frequency=p.frequency,
                projects=_refs(p.visible_projects),
            )
            for p in pains
        ),
    )

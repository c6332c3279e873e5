"""Who may change which field, to which values: the field-level half of the policy.

``governance/permissions.py`` decides whether a user may see or edit an object at all.
Some fields decide access themselves — a map's owner, team, parent and status, a
project's owner and team, a grant's map — so changing them is a decision of its own,
made here and nowhere else. Services ask ``check_changes`` before every write made on
behalf of a user, so the browser, the API, the admin and commands get the same answer.

``FIELD_RULES`` is the table in ``docs/architecture.md`` ("Who may change which field");
``tests/test_field_escalation.py`` checks that every writable field of the API, the
forms and the admin is in it, and that each role gets exactly what it says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q

from maps.content import map_of
from maps.models import KPI, CXProject, JourneyMap, JourneyMapUserObjectPermission

from . import permissions as p
from .permissions import Action

Decide = Callable[[Any, Any, Any], bool]  # (user, stored object, new value) -> allowed


@dataclass(frozen=True)
class FieldRule:
    who: str  # for people: the table in docs/architecture.md
    allows: Decide
    message: str


def _edits_map(user, obj, value) -> bool:
    return p.can_edit_map(user, map_of(obj))


def _edits_project(user, project, value) -> bool:
    return p.can_edit_project(user, project)


def _manages_map(user, journey_map, value) -> bool:
    return p.can_manage_map(user, journey_map)


def _may_place_map(user, journey_map, parent) -> bool:
    if not p.can_manage_map(user, journey_map):
        return False
    if parent is None:
        return p.can_create_top_level_map(user)
    return p.can(user, Action.CREATE_SUBMAP, parent)


def _may_set_parent_step(user, journey_map, step) -> bool:
    # a manager moving the map elsewhere detaches it from the old parent's step
    return p.can_edit_map(user, journey_map) or (
        step is None and p.can_manage_map(user, journey_map)
    )


def _may_set_state_of(user, journey_map, current) -> bool:
    # which journey a draft belongs to is its manager's call, and only to a map they see
    return p.can_manage_map(user, journey_map) and (
        current is None or p.can_view_map(user, current)
    )


def _reviews_map(user, journey_map, value) -> bool:
    return p.can_review_map(user, journey_map)


def _may_move_content(user, obj, journey_map) -> bool:
    """Moving content to another map: editor of the map it leaves and the one it joins."""
    return p.can_edit_map(user, map_of(obj)) and p.can_edit_map(user, journey_map)


def _may_reassign_project(user, project, owner) -> bool:
    if p.is_leadership(user):
        return True
    # on creation a project is the author's own; only leadership hands it to others
    return project.pk is None and owner is not None and owner.pk == user.pk


def _may_set_project_team(user, project, team) -> bool:
    if p.is_leadership(user):
        return True
    if project.pk is not None and project.owner_id != user.pk:
        return False  # team members work on the project; its owner decides who they are
    return team is None or team.pk in p._group_ids(user)


def _shares_map(user, grant, journey_map) -> bool:
    stored = grant.content_object if grant.pk else None
    return p.can_manage_map(user, journey_map) and (
        stored is None or p.can_manage_map(user, stored)
    )


EDIT_MAP = FieldRule(
    "the map's editors: owner, team, edit grants, admins",
    _edits_map,
    p.DENIED_MESSAGES[Action.EDIT],
)
EDIT_PROJECT = FieldRule(
    "the project's owner, its team, CX leadership, admins",
    _edits_project,
    p.PROJECT_DENIED_MESSAGES[Action.EDIT],
)
MOVE_CONTENT = FieldRule(
    "editors of both the map it leaves and the map it joins",
    _may_move_content,
    "You may only move content between maps you may edit.",
)

FIELD_RULES: dict[str, dict[str, FieldRule]] = {
    "map": {
        "owner": FieldRule(
            "owner, CX leadership, admins (a transfer)",
            _manages_map,
            p.DENIED_MESSAGES[Action.TRANSFER],
        ),
        "team": FieldRule(
            "owner, CX leadership, admins (a team edits the map: this is sharing)",
            _manages_map,
            "Only the owner, CX leadership or an admin may change the map's team.",
        ),
        "status": FieldRule(
            "owner, CX leadership, admins (publishing shows the map to everyone)",
            _manages_map,
            "Only the owner, CX leadership or an admin may publish, unpublish or archive this map.",
        ),
        "is_template": FieldRule(
            "owner, CX leadership, admins (offers the map's structure to everyone who sees it)",
            _manages_map,
            "Only the owner, CX leadership or an admin may offer this map as a template.",
        ),
        "parent": FieldRule(
            "owner, CX leadership, admins, under a map where they may add sub-maps; "
            "to the top level: CX leadership, admins",
            _may_place_map,
            "A map goes under a map where you may add sub-maps (the top level is for CX "
            "leadership and admins), and only its owner, CX leadership or an admin may "
            "move it.",
        ),
        "parent_step": FieldRule(
            "the map's editors; a manager moving the map may clear it",
            _may_set_parent_step,
            p.DENIED_MESSAGES[Action.EDIT],
        ),
        "last_reviewed_at": FieldRule(
            "owner, admins (marking the map reviewed)",
            _reviews_map,
            p.DENIED_MESSAGES[Action.REVIEW],
        ),
        "state": FieldRule(
            "owner, CX leadership, admins (current state, future state or scenario)",
            _manages_map,
            "Only the owner, CX leadership or an admin may change whether this map is a "
            "current state, a future state or a scenario.",
        ),
        "state_of": FieldRule(
            "owner, CX leadership, admins, naming a current-state map they may see",
            _may_set_state_of,
            "Only the owner, CX leadership or an admin may say which current-state map this "
            "map belongs to, and only a map they may see.",
        ),
        **{
            name: EDIT_MAP
            for name in (
                "title",
                "slug",
                "summary",
                "personas",
                "review_every_days",
                "hidden_lanes",
                "scenario_label",
                "vision",
            )
        },
    },
    "project": {
        "owner": FieldRule(
            "CX leadership, admins (an author creates projects as their own)",
            _may_reassign_project,
            "Only CX leadership may hand a project to someone else.",
        ),
        "team": FieldRule(
            "owner (one of their own teams), CX leadership, admins",
            _may_set_project_team,
            "Only the project's owner (choosing one of their own teams) or CX leadership "
            "may change its team.",
        ),
        **{
            name: EDIT_PROJECT
            for name in (
                "title",
                "summary",
                "status",
                "start_date",
                "end_date",
                "reach",
                "impact",
                "confidence",
                "effort",
                "cost",
                "outcome",
                "priority",
                "project_type",
                "external_links",
                "maps",
                "steps",
                "pain_points",
            )
        },
    },
    "grant": {
        "map": FieldRule(
            "owner, CX leadership, admins of the map (sharing)",
            _shares_map,
            p.DENIED_MESSAGES[Action.SHARE],
        ),
    },
    # every other field of KPIs and content: EDIT_MAP (``rule_for``)
    "kpi": {"map": MOVE_CONTENT},
    "content": {"map": MOVE_CONTENT},
}


def resource_of(obj: models.Model) -> str:
    if isinstance(obj, JourneyMap):
        return "map"
    if isinstance(obj, CXProject):
        return "project"
    if isinstance(obj, JourneyMapUserObjectPermission):
        return "grant"
    if isinstance(obj, KPI):
        return "kpi"
    return "content"


def rule_for(resource: str, field: str) -> FieldRule:
    rules = FIELD_RULES[resource]
    if field in rules:
        return rules[field]
    if resource in ("kpi", "content"):
        return EDIT_MAP
    if resource == "grant":
        return rules["map"]  # a grant is all about its map: every field is sharing
    raise KeyError(f"No field rule for {resource}.{field}: add one to FIELD_RULES.")


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, models.Model) or isinstance(new, models.Model):
        return getattr(old, "pk", old) == getattr(new, "pk", new)
    if isinstance(new, list | tuple | set | frozenset) and not isinstance(old, str):
        return {getattr(v, "pk", v) for v in new} == {getattr(v, "pk", v) for v in old or ()}
    return old == new


def _stored_value(obj: models.Model, field: str) -> Any:
    """What ``obj`` holds in ``field``: a foreign key as its id (no query; ``_same``
    compares by primary key), a many-to-many as its rows."""
    if obj.pk is None:
        return None
    model_field = obj._meta.get_field(field)
    if model_field.many_to_many:
        return list(getattr(obj, field).all())
    return getattr(obj, model_field.attname, None)


def changed_fields(obj: models.Model, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``changes`` that differ from what ``obj`` holds now (on creation,
    every entry: a new map's parent ``None`` means "top level")."""
    if obj.pk is None:
        return dict(changes)
    return {k: v for k, v in changes.items() if not _same(_stored_value(obj, k), v)}


def change_denials(user, obj: models.Model, changes: Mapping[str, Any]) -> dict[str, str]:
    """For each field the user may not change to the given value, the policy's reason.
    ``obj`` is the object as stored (for a new one: with its defaults)."""
    resource = resource_of(obj)
    denials = {}
    for field, value in changed_fields(obj, changes).items():
        rule = rule_for(resource, field)
        if not rule.allows(user, obj, value):
            denials[field] = rule.message
    return denials


class FieldsDenied(PermissionDenied):
    """The user may act on the object but not change these fields (403, per field)."""

    def __init__(self, denials: Mapping[str, str]):
        self.denials = dict(denials)
        super().__init__(" ".join(dict.fromkeys(self.denials.values())))

    def as_validation_error(self) -> ValidationError:
        """For forms: each refusal shown beside its field."""
        return ValidationError({field: [message] for field, message in self.denials.items()})

    def as_api_detail(self) -> dict:
        return {
            "detail": str(self),
            "code": "field_permission_denied",
            "fields": {field: [message] for field, message in self.denials.items()},
        }


def check_changes(user, obj: models.Model, changes: Mapping[str, Any]) -> None:
    """Raise ``FieldsDenied`` unless the user may make every one of ``changes``."""
    denials = change_denials(user, obj, changes)
    if denials:
        raise FieldsDenied(denials)


def editable_fields(user, obj: models.Model, fields: list[str]) -> set[str]:
    """Which of ``fields`` the user may change at all (forms disable the others)."""
    resource = resource_of(obj)
    probe = {
        "map": {"parent": obj.parent if isinstance(obj, JourneyMap) else None},
        "project": {"owner": None, "team": None},  # someone else; no team
    }.get(resource, {})
    result = set()
    for field in fields:
        rule = rule_for(resource, field)
        if rule.allows(user, obj, probe.get(field, getattr(obj, field, None))):
            result.add(field)
    return result


def check_content_write(user, instance: models.Model) -> None:
    """A stage, step, link, lane item, KPI or rating written on behalf of ``user``: they
    must edit the map it belongs to now and, if it moves, the map it moves to."""
    stored = type(instance)._base_manager.filter(pk=instance.pk).first() if instance.pk else None
    target = map_of(instance)
    current = map_of(stored) if stored is not None else target
    if not p.can_edit_map(user, current):
        raise PermissionDenied(p.DENIED_MESSAGES[Action.EDIT])
    if current.pk != target.pk and not p.can_edit_map(user, target):  # a move
        raise FieldsDenied({"map": MOVE_CONTENT.message})


PROJECT_FIELDS = tuple(FIELD_RULES["project"])


def check_project_write(
    user, project: CXProject, *, maps=None, steps=None, pain_points=None
) -> None:
    """A project created or changed on behalf of ``user``: ``project`` holds the new
    values; the stored row is what the rules judge."""
    related = {"maps": maps, "steps": steps, "pain_points": pain_points}
    changes = {k: v for k, v in related.items() if v is not None}
    changes.update({f: getattr(project, f) for f in PROJECT_FIELDS if f not in related})
    stored = (
        CXProject.objects.select_related("owner", "team").get(pk=project.pk)
        if project.pk
        else project
    )
    check_changes(user, stored, changes)


def check_action(user, action: Action | str, obj: models.Model) -> None:
    """Raise PermissionDenied with the policy's message unless ``user`` may ``action``."""
    if not p.can(user, action, obj):
        raise PermissionDenied(p.denied_message(action, obj))


def locked_fields(user, obj: models.Model, fields: list[str]) -> dict[str, str]:
    """The fields of ``fields`` the user may not change, with the policy's reason."""
    allowed = editable_fields(user, obj, fields)
    resource = resource_of(obj)
    return {f: rule_for(resource, f).message for f in fields if f not in allowed}


RESOURCE_NAMES = {
    "map": "Journey map",
    "project": "CX project",
    "grant": "Grant (sharing)",
    "kpi": "KPI",
    "content": "Stage, step, link, lane item, pain point, rating",
}


def rules_table_markdown() -> str:
    """The table of ``docs/architecture.md``: who may change which field (a test checks
    that the document shows it as the code has it)."""
    lines = ["| resource | field | who may change it |", "| --- | --- | --- |"]
    for resource, rules in FIELD_RULES.items():
        for field, rule in rules.items():
            lines.append(f"| {RESOURCE_NAMES[resource]} | `{field}` | {rule.who} |")
        if resource in ("kpi", "content"):
            lines.append(f"| {RESOURCE_NAMES[resource]} | any other field | {EDIT_MAP.who} |")
        if resource == "grant":
            lines.append(f"| {RESOURCE_NAMES[resource]} | `user`, `role` | {rules['map'].who} |")
    return "\n".join(lines) + "\n"


def with_hidden_links(user, project: CXProject, *, maps=None, steps=None, pain_points=None):
    """What a project will address after ``user`` sets its links: the lists given, plus
    the links it already has to maps the user cannot see (and so could not send back:
    the API and the forms only show visible ones). ``None`` leaves a list unchanged."""
    if project.pk is None or p.is_leadership(user):
        return maps, steps, pain_points
    visible = p.visible_maps(user).values("pk")
    hidden = ~Q(map__in=visible)
    if maps is not None:
        maps = [*maps, *project.maps.exclude(pk__in=visible)]
    if steps is not None:
        steps = [*steps, *project.steps.filter(hidden)]
    if pain_points is not None:
        pain_points = [*pain_points, *project.pain_points.filter(hidden)]
    return maps, steps, pain_points

"""The field-level escalation matrix: for every role and every writable field of maps,
projects, grants, KPIs and content, only the roles the policy names may change it —
through the API, the browser forms and the admin.

The expectations below are written by hand from the rules in docs/architecture.md
("Who may change which field"), not read from the policy, so a rule that drifts fails.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from governance import field_policy
from maps.api import serializers as s
from maps.models import KPI, CXProject, JourneyMap, PainPoint
from tests.factories import (
    CXProjectFactory,
    GroupFactory,
    JourneyMapFactory,
    KPIFactory,
    PainPointFactory,
    PersonaFactory,
    StepFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("owner", "team_member", "editor", "viewer", "outsider", "leader", "admin")
MAP_EDITORS = {"owner", "team_member", "editor", "admin"}
MAP_MANAGERS = {"owner", "leader", "admin"}
LEADERSHIP = {"leader", "admin"}
PROJECT_EDITORS = {"owner", "team_member", "leader", "admin"}


@pytest.fixture
def world(owner, team_member, other_owner, viewer, leader, admin_user, team):
    """A lifecycle (leader's) with olivia's journey beneath it, zooming into step 1;
    omar's journey beside it; a second team of olivia's; grants on olivia's journey."""
    lifecycle = JourneyMapFactory(title="Lifecycle", slug="lifecycle", owner=leader)
    step_1 = StepFactory(map=lifecycle, name="Join", key="join", position=0)
    step_2 = StepFactory(map=lifecycle, name="Use", key="use", position=1)
    journey = JourneyMapFactory(
        title="Open an account",
        slug="open-an-account",
        owner=owner,
        team=team,
        parent=lifecycle,
        parent_step=step_1,
    )
    omars = JourneyMapFactory(title="Pay", slug="pay", owner=other_owner, parent=lifecycle)
    olivias_other = JourneyMapFactory(title="Switch", slug="switch", owner=owner, parent=lifecycle)
    second_team = GroupFactory(name="Second team")
    owner.groups.add(second_team)
    editor = UserFactory(username="edna")
    assign_perm("change_journeymap", editor, journey)
    assign_perm("view_journeymap", viewer, journey)
    step = StepFactory(map=journey, name="Apply", key="apply")
    pain = PainPointFactory(map=journey, step=step)
    kpi = KPIFactory(map=journey)
    project = CXProjectFactory(owner=owner, team=team, title="Faster sign-up")
    project.maps.set([journey])
    users = {
        "owner": owner,
        "team_member": team_member,
        "editor": editor,
        "viewer": viewer,
        "outsider": other_owner,
        "leader": leader,
        "admin": admin_user,
    }
    return {
        "users": users,
        "lifecycle": lifecycle,
        "step_2": step_2,
        "journey": journey,
        "omars": omars,
        "olivias_other": olivias_other,
        "second_team": second_team,
        "persona": PersonaFactory(name="Saver", slug="saver"),
        "step": step,
        "pain": pain,
        "kpi": kpi,
        "project": project,
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- maps ---------------------------------------------------------------------------

# field -> (new API value, how to read it back, who may make the change)
MAP_CASES = {
    "title": (lambda w: "Open a current account", lambda m: m.title, MAP_EDITORS),
    "slug": (lambda w: "open-current-account", lambda m: m.slug, MAP_EDITORS),
    "summary": (lambda w: "From interest to first use.", lambda m: m.summary, MAP_EDITORS),
    "personas": (lambda w: ["saver"], lambda m: [p.slug for p in m.personas.all()], MAP_EDITORS),
    "parent_step": (lambda w: w["step_2"].pk, lambda m: m.parent_step_id, MAP_EDITORS),
    "review_every_days": (lambda w: 30, lambda m: m.review_every_days, MAP_EDITORS),
    "vision": (lambda w: "Effortless banking", lambda m: m.vision, MAP_EDITORS),
    "status": (lambda w: "archived", lambda m: m.status, MAP_MANAGERS),
    "is_template": (lambda w: True, lambda m: m.is_template, MAP_MANAGERS),
    "team": (lambda w: w["second_team"].pk, lambda m: m.team_id, MAP_MANAGERS),
}
# moves: the owner only under a map where she may add sub-maps; the top: leadership
MAP_MOVES = {
    "under her own map": (lambda w: w["olivias_other"].pk, MAP_MANAGERS),
    "under someone else's map": (lambda w: w["omars"].pk, LEADERSHIP),
    "to the top level": (lambda w: None, LEADERSHIP),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("field", sorted(MAP_CASES))
def test_a_map_field_changes_through_the_api_only_for_the_roles_the_policy_names(
    world, role, field
):
    journey = world["journey"]
    make_value, read, allowed = MAP_CASES[field]
    value = make_value(world)
    before = read(journey)
    response = api(world["users"][role]).patch(
        f"/api/maps/{journey.pk}/", {field: value, "version": journey.version}, format="json"
    )
    journey.refresh_from_db()
    if role in allowed:
        assert response.status_code == 200, response.data
        assert read(journey) == value
    else:
        assert response.status_code == 403, response.data
        assert read(journey) == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("move", sorted(MAP_MOVES))
def test_a_map_moves_through_the_api_only_for_the_roles_the_policy_names(world, role, move):
    journey = world["journey"]
    make_parent, allowed = MAP_MOVES[move]
    parent = make_parent(world)
    response = api(world["users"][role]).patch(
        f"/api/maps/{journey.pk}/",
        {"parent": parent, "parent_step": None, "version": journey.version},
        format="json",
    )
    journey.refresh_from_db()
    if role in allowed:
        assert response.status_code == 200, response.data
        assert journey.parent_id == parent
    else:
        assert response.status_code == 403, response.data
        assert journey.parent_id == world["lifecycle"].pk


def test_a_refused_field_is_named_in_the_answer(world):
    journey = world["journey"]
    response = api(world["users"]["team_member"]).patch(
        f"/api/maps/{journey.pk}/",
        {"team": world["second_team"].pk, "title": "Fine", "version": journey.version},
        format="json",
    )
    assert response.status_code == 403
    assert set(response.data["fields"]) == {"team"}
    assert "team" in response.data["fields"]["team"][0]
    journey.refresh_from_db()
    assert journey.title == "Open an account"  # nothing of the request was applied


@pytest.mark.parametrize("role", ROLES)
def test_a_map_changes_owner_only_by_transfer_of_its_owner_leadership_or_an_admin(world, role):
    journey = world["journey"]
    response = api(world["users"][role]).post(
        f"/api/maps/{journey.pk}/transfer/",
        {"owner": "edna", "version": journey.version},
        format="json",
    )
    journey.refresh_from_db()
    if role in MAP_MANAGERS:
        assert response.status_code == 200, response.data
        assert journey.owner.username == "edna"
    else:
        assert response.status_code == 403
        assert journey.owner.username == "olivia"


@pytest.mark.parametrize("role", ROLES)
def test_a_sub_map_is_created_where_the_policy_allows(world, role):
    user = world["users"][role]
    for parent, allowed in (
        (world["journey"].pk, MAP_EDITORS | LEADERSHIP),
        (None, LEADERSHIP),
    ):
        response = api(user).post(
            "/api/maps/", {"title": f"New by {role} {parent}", "parent": parent}, format="json"
        )
        created = JourneyMap.objects.filter(title=f"New by {role} {parent}").exists()
        assert (response.status_code == 201) == (role in allowed), (parent, response.data)
        assert created == (role in allowed)


# --- projects -------------------------------------------------------------------------

PROJECT_CASES = {
    "title": lambda w: "Sign up in one minute",
    "summary": lambda w: "Fewer fields.",
    "status": lambda w: "ongoing",
    "start_date": lambda w: "2026-01-05",
    "end_date": lambda w: "2026-12-18",
    "reach": lambda w: 1234,
    "impact": lambda w: 4,
    "confidence": lambda w: 60,
    "effort": lambda w: 7.5,
    "cost": lambda w: 42000,
    "outcome": lambda w: "Shipped.",
    "priority": lambda w: "high",
    "project_type": lambda w: "Service design",
    "external_links": lambda w: ["https://linear.app/acme/issue/CX-12"],
    "maps": lambda w: [w["journey"].pk, w["lifecycle"].pk],
    "steps": lambda w: [w["step"].pk],
    "pain_points": lambda w: [w["pain"].pk],
}
PROJECT_SPECIAL = {
    "owner": (lambda w: "tess", LEADERSHIP),
    "team": (lambda w: w["second_team"].pk, {"owner", "leader", "admin"}),
}


def project_value(project: CXProject, field: str):
    if field in ("maps", "steps", "pain_points"):
        return sorted(getattr(project, field).values_list("pk", flat=True))
    if field == "owner":
        return project.owner.username
    if field == "team":
        return project.team_id
    value = getattr(project, field)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("field", sorted(PROJECT_CASES) + sorted(PROJECT_SPECIAL))
def test_a_project_field_changes_only_for_the_roles_the_policy_names(world, role, field):
    project = world["project"]
    if field in PROJECT_SPECIAL:
        make_value, allowed = PROJECT_SPECIAL[field]
    else:
        make_value, allowed = PROJECT_CASES[field], PROJECT_EDITORS
    value = make_value(world)
    before = project_value(project, field)
    response = api(world["users"][role]).patch(
        f"/api/projects/{project.pk}/", {field: value}, format="json"
    )
    project.refresh_from_db()
    expected = sorted(value) if isinstance(value, list) else value
    if role in allowed:
        assert response.status_code == 200, response.data
        assert project_value(project, field) == expected
    else:
        assert response.status_code in (403, 404), response.data
        assert project_value(project, field) == before


@pytest.mark.parametrize("role", ROLES)
def test_a_project_is_deleted_only_by_its_owner_leadership_or_an_admin(world, role):
    project = world["project"]
    response = api(world["users"][role]).delete(f"/api/projects/{project.pk}/")
    gone = not CXProject.objects.filter(pk=project.pk).exists()
    assert gone == (role in MAP_MANAGERS)
    assert response.status_code in ((204,) if gone else (403, 404))


@pytest.mark.parametrize("role", ROLES)
def test_a_new_project_belongs_to_its_author_unless_leadership_hands_it_on(world, role):
    user = world["users"][role]
    UserFactory(username="stan")
    response = api(user).post(
        "/api/projects/",
        {"title": f"By {role}", "owner": "stan", "maps": [world["journey"].pk]},
        format="json",
    )
    created = CXProject.objects.filter(title=f"By {role}").first()
    if role in LEADERSHIP:
        assert response.status_code == 201, response.data
        assert created.owner.username == "stan"
    else:
        assert response.status_code == 403
        assert created is None


# --- grants -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_map_is_shared_and_unshared_only_by_its_owner_leadership_or_an_admin(world, role):
    journey = world["journey"]
    client = api(world["users"][role])
    stranger = UserFactory(username="stan")
    response = client.post(
        "/api/map-grants/", {"map": journey.pk, "user": "stan", "role": "editor"}, format="json"
    )
    shared = stranger.has_perm("maps.change_journeymap", journey)
    assert shared == (role in MAP_MANAGERS), response.data
    grant = journey.journeymapuserobjectpermission_set.get(user__username="edna")
    deleted = client.delete(f"/api/map-grants/{grant.pk}/")
    assert (deleted.status_code == 204) == (role in MAP_MANAGERS)
    assert journey.journeymapuserobjectpermission_set.filter(pk=grant.pk).exists() == (
        role not in MAP_MANAGERS
    )


def test_revoking_a_grant_takes_edit_away_because_the_grantee_could_not_move_the_team(world):
    """The attack of issue 12: a grant holder moves the map to her own group's team."""
    journey = world["journey"]
    edna = world["users"]["editor"]
    own_group = GroupFactory(name="Edna's group")
    edna.groups.add(own_group)
    response = api(edna).patch(
        f"/api/maps/{journey.pk}/", {"team": own_group.pk, "version": journey.version}
    )
    assert response.status_code == 403
    journey.journeymapuserobjectpermission_set.filter(user=edna).delete()
    journey.refresh_from_db()
    edna = type(edna).objects.get(pk=edna.pk)
    assert (
        api(edna)
        .patch(f"/api/maps/{journey.pk}/", {"title": "Mine now", "version": journey.version})
        .status_code
        == 403
    )


# --- KPIs and content -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_kpi_and_content_fields_change_only_for_the_maps_editors(world, role):
    journey, kpi, pain = world["journey"], world["kpi"], world["pain"]
    client = api(world["users"][role])
    changed = client.patch(
        f"/api/kpis/{kpi.pk}/", {"target": 91.5, "map_version": journey.version}, format="json"
    )
    journey.refresh_from_db()
    renamed = client.patch(
        f"/api/pain-points/{pain.pk}/",
        {"title": "Too many fields", "map_version": journey.version},
        format="json",
    )
    allowed = role in MAP_EDITORS
    assert (changed.status_code == 200) == allowed, changed.data
    assert (renamed.status_code == 200) == allowed, renamed.data
    assert (KPI.objects.get(pk=kpi.pk).target == 91.5) == allowed
    assert (PainPoint.objects.get(pk=pain.pk).title == "Too many fields") == allowed


@pytest.mark.parametrize("role", ROLES)
def test_content_moves_only_between_maps_the_user_edits_on_both_sides(world, role):
    journey, pain, omars = world["journey"], world["pain"], world["omars"]
    response = api(world["users"][role]).patch(
        f"/api/pain-points/{pain.pk}/",
        {"map": omars.pk, "step": None, "map_version": journey.version},
        format="json",
    )
    # nobody but an admin edits both olivia's journey and omar's
    moved = PainPoint.objects.get(pk=pain.pk).map_id == omars.pk
    assert moved == (role == "admin"), response.data


# --- browser forms and the admin ------------------------------------------------------


def test_the_settings_form_keeps_the_status_for_managers(client, world):
    journey = world["journey"]
    client.force_login(world["users"]["team_member"])
    page = client.get(f"/maps/{journey.slug}/settings/")
    assert page.status_code == 200
    assert page.context["form"].fields["status"].disabled
    client.post(
        f"/maps/{journey.slug}/settings/",
        {
            "title": journey.title,
            "summary": "",
            "status": "archived",
            "review_every_days": journey.review_every_days,
            "map_version": journey.version,
        },
    )
    journey.refresh_from_db()
    assert journey.status == "published"


def test_the_project_form_keeps_the_team_and_owner_for_those_the_policy_names(client, world):
    project = world["project"]
    client.force_login(world["users"]["team_member"])
    page = client.get(f"/projects/{project.pk}/edit/")
    form = page.context["form"]
    assert form.fields["owner"].disabled and form.fields["team"].disabled
    client.post(
        f"/projects/{project.pk}/edit/",
        {
            "title": project.title,
            "status": project.status,
            "owner": world["users"]["team_member"].pk,
            "team": world["second_team"].pk,
            "reach": 1,
            "impact": 3,
            "confidence": 50,
            "effort": 1,
            "maps": [world["journey"].pk],
        },
    )
    project.refresh_from_db()
    assert project.owner.username == "olivia" and project.team.name != "Second team"


def test_a_staff_user_without_leadership_cannot_move_a_map_to_another_team_in_the_admin(
    client, world
):
    staff = UserFactory(username="stella", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_journeymap", "view_journeymap"])
    )
    journey = world["journey"]
    client.force_login(staff)
    form_page = client.get(f"/admin/maps/journeymap/{journey.pk}/change/")
    assert form_page.status_code == 200
    data = {
        key: value
        for key, value in form_page.context["adminform"].form.initial.items()
        if value is not None and not isinstance(value, list)
    }
    data.update(
        {
            "team": world["second_team"].pk,
            "owner": journey.owner_id,
            "parent": journey.parent_id,
            "parent_step": journey.parent_step_id,
            "review_every_days": journey.review_every_days,
        }
    )
    for prefix in ("stage_set", "step_set", "painpoint_set", "kpi_set"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(f"/admin/maps/journeymap/{journey.pk}/change/", data)
    assert response.status_code == 200  # the form again, with the policy's reason
    assert "team" in response.context["adminform"].form.errors
    journey.refresh_from_db()
    assert journey.team.name != "Second team"


# --- the matrix is complete -----------------------------------------------------------


def writable_fields(serializer_class) -> set[str]:
    fields = serializer_class().fields
    instructions = set(getattr(serializer_class, "instruction_fields", ()))
    return {
        name
        for name, field in fields.items()
        if not field.read_only and name not in instructions and name != "id"
    }


def test_every_writable_field_of_the_api_has_a_rule_and_a_row_in_this_matrix():
    assert writable_fields(s.JourneyMapSerializer) == set(MAP_CASES) | {"parent"}
    assert writable_fields(s.CXProjectSerializer) == set(PROJECT_CASES) | set(PROJECT_SPECIAL)
    for field in writable_fields(s.JourneyMapSerializer):
        assert field in field_policy.FIELD_RULES["map"]
    for field in writable_fields(s.CXProjectSerializer):
        assert field in field_policy.FIELD_RULES["project"]


def test_every_field_the_browser_and_admin_forms_write_has_a_rule():
    from django.contrib import admin
    from django.contrib.admin.utils import flatten_fieldsets

    from governance.forms import ProjectForm
    from maps.forms import MapSettingsForm, NewMapForm

    map_fields = set(MapSettingsForm._meta.fields) | set(NewMapForm._meta.fields)
    map_fields |= set(flatten_fieldsets(admin.site._registry[JourneyMap].fieldsets))
    map_fields -= {"last_reviewed_at", "version", "created_at", "updated_at"}  # read-only
    assert map_fields <= set(field_policy.FIELD_RULES["map"])
    project_fields = set(ProjectForm._meta.fields) | {"maps", "steps", "pain_points"}
    assert project_fields <= set(field_policy.FIELD_RULES["project"])


def test_the_architecture_document_shows_the_policy_table_as_the_code_has_it():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    assert field_policy.rules_table_markdown() in doc


def test_a_project_keeps_its_links_to_maps_the_editor_cannot_see(world, draft_map):
    """The API shows only visible links; sending those back must not drop the others."""
    project = world["project"]
    hidden_step = StepFactory(map=draft_map, name="Hidden", key="hidden")
    project.maps.add(draft_map)
    project.steps.add(hidden_step)
    response = api(world["users"]["team_member"]).patch(
        f"/api/projects/{project.pk}/",
        {"maps": [world["journey"].pk], "steps": [world["step"].pk]},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert draft_map.pk not in response.data["maps"]  # still not shown …
    assert set(project.maps.values_list("pk", flat=True)) == {world["journey"].pk, draft_map.pk}
    assert set(project.steps.values_list("pk", flat=True)) == {world["step"].pk, hidden_step.pk}

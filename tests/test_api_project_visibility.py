"""Which CX projects a user sees (``governance.permissions.visible_projects``, the API's
project list, issue #16): the condition probes each project's linked maps by primary key
instead of listing every visible map of the repository. It must answer exactly what the
rule says, checked here against the rule written out in Python over the single-map
decision (``can_view_map``) for every role and every way of seeing a map."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework.test import APIClient

from governance import permissions
from maps.models import CXProject, Tag, TagGroup
from tests.factories import (
    CXProjectFactory,
    GroupFactory,
    JourneyMapFactory,
    PainPointFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


def listed(user) -> set[int]:
    """Every project id of the API list, following its cursor pages of two rows."""
    client = APIClient()
    client.force_authenticate(user)
    found: list[int] = []
    url: str | None = "/api/projects/?page_size=2"
    while url:
        page = client.get(url).json()
        found += [row["id"] for row in page["results"]]
        url = page["next"]
    assert len(found) == len(set(found)), "a project was listed twice"
    return set(found)


def by_the_rule(user) -> set[int]:
    """The rule of ``governance/permissions.py`` written out one project at a time."""
    groups = set(user.groups.values_list("pk", flat=True))
    shown = set()
    for project in CXProject.objects.prefetch_related("maps"):
        maps = list(project.maps.all())
        if (
            permissions.is_leadership(user)
            or project.owner_id == user.pk
            or (project.team_id is not None and project.team_id in groups)
            or not maps
            or any(permissions.can_view_map(user, m) for m in maps)
        ):
            shown.add(project.pk)
    return shown


@pytest.fixture
def repository(owner, team, team_member, other_owner, viewer, leader, team_map, draft_map):
    """Maps seen in every way (published, owned, the team's, a view grant on an ancestor,
    a group's edit grant) and projects on each of them, on none, and on several."""
    researchers = GroupFactory(name="Researchers")
    viewer.groups.add(researchers)
    granted_parent = JourneyMapFactory(owner=other_owner, status="draft", title="Parent")
    granted_child = JourneyMapFactory(
        owner=other_owner, status="draft", title="Child", parent=granted_parent
    )
    assign_perm("view_journeymap", viewer, granted_parent)  # covers the child
    group_granted = JourneyMapFactory(owner=other_owner, status="archived", title="Archive")
    assign_perm("change_journeymap", researchers, group_granted)
    teams_draft = JourneyMapFactory(owner=other_owner, team=team, status="draft", title="T")
    hidden = JourneyMapFactory(owner=other_owner, status="draft", title="Hidden")
    CXProjectFactory(title="On the published map", owner=other_owner, maps=[team_map])
    CXProjectFactory(title="On omar's draft", owner=other_owner, maps=[draft_map])
    CXProjectFactory(title="Under a view grant", owner=other_owner, maps=[granted_child])
    CXProjectFactory(title="Under a group grant", owner=other_owner, maps=[group_granted])
    CXProjectFactory(title="On the team's draft", owner=other_owner, maps=[teams_draft])
    CXProjectFactory(title="On no map", owner=other_owner)
    CXProjectFactory(title="Vic's, on a hidden draft", owner=viewer, maps=[hidden])
    CXProjectFactory(title="The team's, hidden map", owner=other_owner, team=team, maps=[hidden])
    CXProjectFactory(title="Hidden and shown", owner=other_owner, maps=[hidden, team_map])
    CXProjectFactory(title="Only hidden", owner=other_owner, maps=[hidden, draft_map])


@pytest.mark.parametrize(
    "role", ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user"]
)
def test_each_role_sees_exactly_the_projects_the_rule_gives(request, repository, role):
    user = request.getfixturevalue(role)
    expected = by_the_rule(user)
    assert set(permissions.visible_projects(user).values_list("pk", flat=True)) == expected
    assert set(permissions.visible_projects_sql(user).values_list("pk", flat=True)) == expected
    assert listed(user) == expected


def test_the_viewer_sees_projects_through_grants_and_never_on_hidden_drafts_only(
    repository, viewer
):
    titles = set(CXProject.objects.filter(pk__in=listed(viewer)).values_list("title", flat=True))
    assert titles == {
        "On the published map",
        "Under a view grant",
        "Under a group grant",
        "On no map",
        "Vic's, on a hidden draft",
        "Hidden and shown",
    }


def test_a_revoked_grant_hides_the_project_again(repository, viewer):
    before = listed(viewer)
    granted = CXProject.objects.get(title="Under a view grant").maps.get().parent
    remove_perm("view_journeymap", viewer, granted)
    viewer = type(viewer).objects.get(pk=viewer.pk)  # a new request: nothing cached
    after = listed(viewer)
    assert before - after == {CXProject.objects.get(title="Under a view grant").pk}


@pytest.mark.parametrize(
    "role", ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user"]
)
def test_a_page_of_projects_writes_each_project_as_its_own_detail_does(
    request, repository, role, team_map, draft_map
):
    """The list reads its links (to visible maps only) and tags for the whole page in
    hand-written SQL (serializers.project_links, tag_names_of); the detail reads them
    through the related managers and ``visible_map_ids``: the same rows, byte for byte."""
    hidden = JourneyMapFactory(owner=draft_map.owner, status="draft", title="Also hidden")
    steps = [StepFactory(map=m) for m in (team_map, draft_map, hidden, team_map)]
    pains = [PainPointFactory(map=m) for m in (hidden, team_map, draft_map)]
    group, other = TagGroup.objects.create(name="Theme"), TagGroup.objects.create(name="Area")
    tags = [
        Tag.objects.create(name="zeta"),
        Tag.objects.create(name="fees", group=group),
        Tag.objects.create(name="Alpha"),
        Tag.objects.create(name="app", group=other),
        Tag.objects.create(name="Loyal", kind="group"),
    ]
    mixed = CXProjectFactory(
        title="Mixed", owner=team_map.owner, maps=[hidden, team_map, draft_map]
    )
    mixed.steps.set(steps)
    mixed.pain_points.set(pains)
    mixed.tags.set(tags)
    CXProject.objects.get(title="Hidden and shown").tags.set(tags[1:3])
    user = request.getfixturevalue(role)
    client = APIClient()
    client.force_authenticate(user)
    page = client.get("/api/projects/?page_size=500").json()["results"]
    assert page, role
    for row in page:
        assert client.get(f"/api/projects/{row['id']}/").json() == row, (role, row["title"])
    written = {row["title"]: row for row in page}
    if "Mixed" in written:  # tags in their own order: kind, no group first, group, name
        assert written["Mixed"]["tags"] == ["Loyal", "Alpha", "zeta", "Area: app", "Theme: fees"]
        shown = {m.pk for m in (hidden, team_map, draft_map) if permissions.can_view_map(user, m)}
        assert set(written["Mixed"]["maps"]) == shown
        assert {s.pk for s in steps if s.map_id in shown} == set(written["Mixed"]["steps"])

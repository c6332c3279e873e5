"""Plain list pages read with their query compiled once (maps/api/pages.py) answer exactly
what DRF's queryset path answers: every page, forwards and back, for every kind of user
(owner, team member, holder of a grant, holder of a group grant, viewer, leadership,
admin); and they never serve a stale page: only the SQL is kept, never rows."""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from maps.api.pages import PrecompiledPages
from maps.models import JourneyMap, PainPoint
from tests.builders import build_repository
from tests.factories import JourneyMapFactory, PainPointFactory, UserFactory

pytestmark = pytest.mark.django_db

PRECOMPILED_LISTS = [
    "/api/maps/",
    "/api/stages/",
    "/api/steps/",
    "/api/step-links/",
    "/api/pain-points/",
    "/api/lane-items/",
    "/api/kpis/",
    "/api/qualitative-factors/",
    "/api/projects/",
]
ROLES = ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user", "auditor"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def pages(client: APIClient, url: str) -> list[dict]:
    """Every page of the list through the next links, then back through the previous
    links from the last one."""
    forwards: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:500]
        forwards.append(response.json())
        url = forwards[-1]["next"]
        assert len(forwards) < 100
    backwards: list[dict] = []
    url = forwards[-1]["previous"]
    while url:
        backwards.append(client.get(url).json())
        url = backwards[-1]["previous"]
    return forwards + backwards


@pytest.fixture
def repository(owner, team, other_owner):
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=2)


@pytest.fixture
def auditor(repository):
    """A member of the group holding a view grant on a whole lifecycle tree."""
    user = UserFactory(username="audrey")
    user.groups.add(Group.objects.filter(name="Auditors").first())
    return user


@pytest.fixture
def orm_only(monkeypatch):
    """Every list request through DRF's queryset path."""
    monkeypatch.setattr(PrecompiledPages, "usable", lambda self, request: False)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", PRECOMPILED_LISTS)
def test_every_page_is_what_the_querysets_give(
    request, url, role, repository, monkeypatch, precompiled_calls
):
    client = api(request.getfixturevalue(role))
    fast = pages(client, url + "?page_size=3")
    assert precompiled_calls and all(precompiled_calls), "the precompiled path was not taken"
    monkeypatch.setattr(PrecompiledPages, "usable", lambda self, request: False)
    assert pages(client, url + "?page_size=3") == fast
    assert len(fast) > 2


def test_the_default_page_size_and_a_page_emptied_meanwhile_match_too(owner, monkeypatch):
    journey_map = JourneyMapFactory(owner=owner)
    for i in range(60):
        PainPointFactory(map=journey_map, position=i // 7)
    client = api(owner)
    first = client.get("/api/pain-points/").json()
    second_link = first["next"]
    assert len(first["results"]) == 50 and second_link
    second = client.get(second_link).json()
    monkeypatch.setattr(PrecompiledPages, "usable", lambda self, request: False)
    assert client.get("/api/pain-points/").json() == first
    assert client.get(second_link).json() == second
    monkeypatch.undo()
    PainPoint.objects.filter(pk__in=[row["id"] for row in second["results"]]).delete()
    emptied = client.get(second_link).json()
    assert emptied["results"] == [] and emptied["previous"]
    monkeypatch.setattr(PrecompiledPages, "usable", lambda self, request: False)
    assert client.get(second_link).json() == emptied


@pytest.mark.parametrize("values", [[2**40, 1, 1], [-5, 0, 0], [1, 2**31, 10]])
def test_a_cursor_beyond_a_columns_range_answers_as_the_querysets_do(
    owner, repository, monkeypatch, values
):
    raw = json.dumps({"o": ["tree_id", "lft", "id"], "v": values}).encode()
    url = "/api/maps/?cursor=" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    client = api(owner)
    fast = client.get(url)
    monkeypatch.setattr(PrecompiledPages, "usable", lambda self, request: False)
    slow = client.get(url)
    assert (fast.status_code, fast.json()) == (slow.status_code, slow.json())
    assert fast.status_code == 200


def test_a_filtered_or_searched_list_takes_the_querysets_path(owner, repository, precompiled_calls):
    client = api(owner)
    assert client.get("/api/maps/?search=Onboard").status_code == 200
    assert client.get("/api/maps/?ordering=title").status_code == 200
    assert client.get("/api/pain-points/?page=2&page_size=2").status_code == 200
    assert precompiled_calls == []


class TestNeverStale:
    """The compiled SQL is kept; what it reads is read on every request."""

    def test_a_map_made_draft_leaves_the_viewers_pages_at_once(self, viewer, owner):
        shown = JourneyMapFactory(owner=owner, status="published")
        point = PainPointFactory(map=shown)
        client = api(viewer)
        assert [m["id"] for m in client.get("/api/maps/").json()["results"]] == [shown.pk]
        assert [p["id"] for p in client.get("/api/pain-points/").json()["results"]] == [point.pk]
        JourneyMap.objects.filter(pk=shown.pk).update(status="draft")  # a bulk update
        assert client.get("/api/maps/").json()["results"] == []
        assert client.get("/api/pain-points/").json()["results"] == []

    def test_joining_a_team_or_getting_a_grant_shows_the_drafts_at_once(self, viewer, owner, team):
        from guardian.shortcuts import assign_perm, remove_perm

        teams_draft = JourneyMapFactory(owner=owner, team=team, status="draft")
        granted = JourneyMapFactory(owner=owner, status="draft")
        child = JourneyMapFactory(owner=owner, status="draft", parent=granted)
        client = api(viewer)

        def seen() -> set[int]:  # as a request loads its user: groups read afresh
            fresh = type(viewer).objects.get(pk=viewer.pk)
            return {m["id"] for m in api(fresh).get("/api/maps/").json()["results"]}

        assert client.get("/api/maps/").json()["results"] == []
        viewer.groups.add(team)
        assert seen() == {teams_draft.pk}
        assign_perm("view_journeymap", viewer, granted)  # covers the subtree
        assert seen() == {teams_draft.pk, granted.pk, child.pk}
        remove_perm("view_journeymap", viewer, granted)
        viewer.groups.remove(team)
        assert seen() == set()

    def test_an_edited_row_shows_its_new_values(self, owner):
        journey_map = JourneyMapFactory(owner=owner, title="Before")
        client = api(owner)
        assert client.get("/api/maps/").json()["results"][0]["title"] == "Before"
        JourneyMap.objects.filter(pk=journey_map.pk).update(title="After")
        assert client.get("/api/maps/").json()["results"][0]["title"] == "After"

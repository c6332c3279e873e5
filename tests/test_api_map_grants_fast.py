"""``/api/map-grants/``'s plain pages are read with their query compiled once
(``maps.api.pages.PrecompiledPages``) and written by readers shared by the process
(``maps.api.fast``): every page, forwards and back, is what DRF's queryset path and
DRF's own representation give, for every kind of user; nothing read is kept (#16)."""

from __future__ import annotations

import pytest
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework import serializers
from rest_framework.test import APIClient

from governance.api import MapGrantViewSet
from maps.api.fast import FastRepresentation
from maps.api.pages import PrecompiledPages
from tests.factories import JourneyMapFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def pages(client: APIClient, url: str) -> list[bytes]:
    """Every page through the next links, then back through the previous links."""
    forwards, answers = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        forwards.append(response.json())
        answers.append(response.content)
        url = forwards[-1]["next"]
    url = forwards[-1]["previous"]
    while url:
        response = client.get(url)
        answers.append(response.content)
        url = response.json()["previous"]
    return answers


@pytest.fixture
def grants(owner, other_owner, team):
    people = [UserFactory(username=f"grantee-{n}") for n in range(4)]
    mine = [JourneyMapFactory(owner=owner, team=team) for _ in range(3)]
    theirs = [JourneyMapFactory(owner=other_owner, status="draft") for _ in range(2)]
    for n, journey_map in enumerate(mine + theirs):
        for person in people[: 1 + n % 3]:
            role = "change_journeymap" if (n + person.pk) % 2 else "view_journeymap"
            assign_perm(role, person, journey_map)
    return mine, theirs, people


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_what_drf_and_the_queryset_give(
    request, role, grants, monkeypatch, precompiled_calls
):
    client = api(request.getfixturevalue(role))
    url = "/api/map-grants/?page_size=2"
    fast = pages(client, url)
    if role in ("leader", "admin_user", "other_owner"):  # (the owner has a team: the ORM)
        assert precompiled_calls and all(precompiled_calls), "the precompiled path not taken"
    monkeypatch.setattr(PrecompiledPages, "usable", lambda self, request: False)
    monkeypatch.setattr(
        FastRepresentation,
        "to_representation",
        lambda self, instance: serializers.Serializer.to_representation(self, instance),
    )
    assert pages(client, url) == fast
    if role in ("leader", "admin_user"):
        assert len(fast) > 4


def test_the_list_takes_the_precompiled_path(grants):
    assert MapGrantViewSet.precompiled_pages().keys is not None


def test_the_pages_are_never_stale(grants, leader, other_owner):
    mine, theirs, people = grants
    client = api(leader)

    def rows(user) -> list[dict]:
        return api(user).get("/api/map-grants/?page_size=500").json()["results"]

    before = rows(leader)
    assign_perm("view_journeymap", people[3], mine[0])
    added = rows(leader)
    assert len(added) == len(before) + 1
    assert {"map": mine[0].pk, "user": "grantee-3", "role": "viewer"} in [
        {k: row[k] for k in ("map", "user", "role")} for row in added
    ]
    remove_perm("view_journeymap", people[3], mine[0])
    assert rows(leader) == before
    seen = {row["map"] for row in rows(other_owner)}
    assert seen == {m.pk for m in theirs}
    assert client.get("/api/map-grants/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_the_list_holds_the_grants_on_the_maps_the_user_manages(request, role, grants):
    """Leadership's list has no condition (every grant is on a map): the same grants as
    those on ``manageable_maps``, for every kind of user."""
    from governance.permissions import manageable_maps
    from maps.models import JourneyMapUserObjectPermission

    user = request.getfixturevalue(role)
    listed = [
        row["id"] for row in api(user).get("/api/map-grants/?page_size=500").json()["results"]
    ]
    on_managed = JourneyMapUserObjectPermission.objects.filter(
        content_object__in=manageable_maps(user).values("pk")
    ).order_by("pk")
    assert listed == list(on_managed.values_list("pk", flat=True))
    assert role not in ("leader", "admin_user") or len(listed) == (
        JourneyMapUserObjectPermission.objects.count()
    )

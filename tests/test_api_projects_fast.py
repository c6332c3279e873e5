"""The projects list's fast path (#16): the owner's username read in the page's query
(``ProjectOwnerField``) and readers shared by every request (``fast_shared_readers``)
write exactly what DRF's own representation writes, for every kind of value."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from maps.api import serializers as s
from maps.api.fast import FastRepresentation
from maps.models import CXProject, JourneyMap, PainPoint, Step, Tag, TagGroup
from tests.builders import build_repository
from tests.factories import CXProjectFactory

pytestmark = pytest.mark.django_db


def drf_rows(self, instance):
    """DRF's own ``Serializer.to_representation``, field by field (no shared readers,
    the owner read through ``project.owner``)."""
    return serializers.Serializer.to_representation(self, instance)


@pytest.fixture
def projects(owner, team, team_member, other_owner):
    build_repository(owner=owner, team=team, other_owner=other_owner)
    CXProject.objects.all().delete()
    group = TagGroup.objects.create(name="Thème")
    tags = [
        Tag.objects.create(name="fees", group=group),
        Tag.objects.create(name="trust"),
        Tag.objects.create(name="Ünïcødé ✓"),
    ]
    maps = list(JourneyMap.objects.all())  # some of them hidden from a plain viewer
    made = [
        CXProjectFactory(
            title="Bare", owner=other_owner, reach=0, impact=1, confidence=0, effort=0.5
        ),
        CXProjectFactory(
            title="Ünïcødé “quoted” ✓ 日本",
            owner=owner,
            team=team,
            summary='Line one\nline two \u2028 "quotes" \\ back\tslash ' + "long " * 400,
            status=CXProject.Status.choices[-1][0],
            start_date=dt.date(2026, 1, 31),
            end_date=dt.date(2026, 12, 31),
            cost=Decimal("12345.67"),
            outcome="Done ✓",
            priority=CXProject.Priority.choices[0][0],
            project_type="Épique",
            external_links=[{"label": "Ticket", "url": "https://example.com/x?a=1&b=ü"}],
            maps=maps,
            steps=list(Step.objects.all()),
            pain_points=list(PainPoint.objects.all()),
        ),
        CXProjectFactory(title="Team only", owner=team_member, team=team, effort=1e-3),
        CXProjectFactory(title="Omar's", owner=other_owner, maps=maps[-1:]),
    ]
    made[1].tags.set(tags)
    made[3].tags.set(tags[1:2])
    CXProject.objects.filter(pk=made[0].pk).update(import_key="JH-1", source_status="In Progress")
    return made


def _pages(user, url: str) -> list[bytes]:
    """Every page of ``url`` (following ``next``) as the bytes the API sends."""
    client = APIClient()
    client.force_authenticate(user)
    found = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        found.append(response.content)
        url = response.json().get("next")
    return found


URLS = (
    "/api/projects/",
    "/api/projects/?page_size=1",  # the deep pages of the precompiled path
    "/api/projects/?ordering=-reach",  # the ORM's path
    "/api/projects/?search=%C3%BCn",
    "/api/projects/?owner=olivia",
)


@pytest.mark.parametrize("url", URLS)
def test_the_projects_list_writes_every_kind_of_value_as_drfs_own_representation_does(
    url, projects, owner, team_member, other_owner, viewer, leader, admin_user, monkeypatch
):
    users = (owner, team_member, other_owner, viewer, leader, admin_user)
    fast = {user.username: _pages(user, url) for user in users}
    monkeypatch.setattr(FastRepresentation, "to_representation", drf_rows)
    for user in users:
        assert _pages(user, url) == fast[user.username], (url, user.username)
    rows = {
        r["title"]: r for page in fast[admin_user.username] for r in json.loads(page)["results"]
    }
    if url == URLS[0]:  # the sample has what it should (the comparison is not vacuous)
        full = rows["Ünïcødé “quoted” ✓ 日本"]
        assert full["owner"] == "olivia" and full["team"] is not None and full["maps"]
        assert set(full["tags"]) == {"Thème: fees", "trust", "Ünïcødé ✓"}
        assert rows["Bare"]["team"] is None and rows["Bare"]["cost"] is None


def test_a_project_detail_is_unchanged_by_the_lists_fast_path(projects, owner, monkeypatch):
    client = APIClient()
    client.force_authenticate(owner)
    urls = [f"/api/projects/{p.pk}/" for p in projects if p.owner == owner or p.team_id]
    fast = [client.get(url).content for url in urls]
    monkeypatch.setattr(FastRepresentation, "to_representation", drf_rows)
    assert [client.get(url).content for url in urls] == fast


def _rows(user) -> list[dict]:
    client = APIClient()
    client.force_authenticate(user)
    return client.get("/api/projects/").json()["results"]


def test_the_owner_column_follows_a_renamed_or_reassigned_owner(
    projects, owner, team_member, leader
):
    """The username is read by each page's query: nothing stored that could go stale."""
    assert {r["title"]: r["owner"] for r in _rows(leader)}["Omar's"] == "omar"
    type(owner).objects.filter(pk=owner.pk).update(username="olivia-2")
    CXProject.objects.filter(title="Omar's").update(owner=team_member)
    rows = {r["title"]: r["owner"] for r in _rows(leader)}
    assert rows["Ünïcødé “quoted” ✓ 日本"] == "olivia-2"
    assert rows["Omar's"] == "tess"


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_shared_readers_write_datetimes_in_the_active_time_zone(projects, zone):
    """The readers are shared per time zone: a page in another zone is not written with
    the zone of the page that built them first."""
    rows = list(CXProject.objects.select_related("owner").order_by("pk"))
    assert s.CXProjectSerializer(rows, many=True).data  # readers built in the default zone
    with timezone.override(zone):
        fast = s.CXProjectSerializer(rows, many=True).data
        slow = [drf_rows(s.CXProjectSerializer(), row) for row in rows]
    links = s.CXProjectSerializer.LINKS  # written after the fields, by the serializer
    assert [{k: v for k, v in row.items() if k not in links} for row in fast] == slow
    if zone != "UTC":
        assert not fast[0]["created_at"].endswith("Z")

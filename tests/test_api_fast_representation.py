"""The API's rows written by ``maps.api.fast`` readers are exactly what DRF writes, for
every list and detail of the API and for the edge cases of DRF's attribute walk; lists
with no filter named skip the filter form without changing what they answer (#16)."""

from __future__ import annotations

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from maps.api import serializers as s
from maps.api.fast import FastRepresentation
from maps.models import KPI, CXProject, LaneItem, PainPoint, Step, StepLink, Tag, TagGroup
from tests.builders import build_repository

pytestmark = pytest.mark.django_db

LISTS = (
    "/api/maps/",
    "/api/stages/",
    "/api/steps/",
    "/api/step-links/",
    "/api/pain-points/",
    "/api/lane-items/",
    "/api/kpis/",
    "/api/measurements/",
    "/api/qualitative-factors/",
    "/api/projects/",
    "/api/personas/",
)


def drf_rows(self, instance):
    """DRF's own ``Serializer.to_representation``, field by field."""
    return serializers.Serializer.to_representation(self, instance)


@pytest.fixture
def repository(owner, team, other_owner):
    roots = build_repository(owner=owner, team=team, other_owner=other_owner)
    group = TagGroup.objects.create(name="Theme")
    tags = [Tag.objects.create(name="fees", group=group), Tag.objects.create(name="trust")]
    for item in LaneItem.objects.all()[:3]:
        item.tags.set(tags)
    for kpi in KPI.objects.all()[:2]:
        kpi.tags.set(tags[:1])
    for project in CXProject.objects.all():
        project.tags.set(tags[1:])
    return roots


def _get(user, url: str) -> bytes:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return response.content


@pytest.mark.parametrize("url", LISTS)
def test_every_list_answers_the_same_bytes_as_drfs_own_representation(
    url, repository, owner, viewer, leader, monkeypatch
):
    fast = {user.username: _get(user, url) for user in (owner, viewer, leader)}
    monkeypatch.setattr(FastRepresentation, "to_representation", drf_rows)
    for user in (owner, viewer, leader):
        assert _get(user, url) == fast[user.username], (url, user.username)
    assert b'"results":[]' not in fast[leader.username]


def test_details_and_the_expanded_map_answer_the_same_bytes_as_drf(repository, owner, monkeypatch):
    root = repository[0]
    urls = [
        f"/api/maps/{root.pk}/",
        f"/api/maps/{root.pk}/?expand=content",
        f"/api/lane-items/{LaneItem.objects.filter(tags__isnull=False).first().pk}/",
        f"/api/kpis/{KPI.objects.filter(tags__isnull=False).first().pk}/",
        f"/api/projects/{CXProject.objects.first().pk}/",
        f"/api/step-links/{StepLink.objects.first().pk}/",
    ]
    fast = [_get(owner, url) for url in urls]
    monkeypatch.setattr(FastRepresentation, "to_representation", drf_rows)
    assert [_get(owner, url) for url in urls] == fast


def test_tagged_rows_list_their_tags_by_name(repository, owner):
    client = APIClient()
    client.force_authenticate(owner)
    rows = client.get("/api/lane-items/?page_size=500").json()["results"]
    # in the tags' own order (kind, group, name): a tag without a group first
    assert sorted({tuple(row["tags"]) for row in rows}) == [(), ("trust", "Theme: fees")]


class _Edges(s.CleanModelSerializer):
    """Sources DRF walks in its own ways: through a missing relation, a method, a
    deferred column, a related slug."""

    step_name = serializers.CharField(source="step.name", read_only=True)
    step_or_none = serializers.CharField(source="step.name", read_only=True, allow_null=True)
    label = serializers.CharField(source="__str__", read_only=True)
    owner_name = serializers.SlugRelatedField(
        source="map.owner", slug_field="username", read_only=True
    )

    class Meta:
        model = PainPoint
        fields = ("id", "map", "step", "title", "step_name", "step_or_none", "label", "owner_name")


@pytest.mark.parametrize("deferred", [False, True])
def test_edge_cases_of_drfs_attribute_walk_are_written_as_drf_writes_them(repository, deferred):
    rows = PainPoint.objects.select_related("map__owner").order_by("pk")
    # deferred columns are read on access (DRF's way); loaded ones by the readers
    rows = rows.defer("step_id", "title") if deferred else rows.select_related("step")
    detached = PainPoint.objects.filter(step__isnull=False).first()
    detached.step = None
    detached.save()
    for instance in list(rows):
        serializer = _Edges(instance)
        assert FastRepresentation.to_representation(serializer, instance) == drf_rows(
            serializer, instance
        )
    unstepped = _Edges(rows.get(pk=detached.pk)).data
    assert "step_name" not in unstepped  # DRF skips it: None on the way, not nullable
    assert unstepped["step_or_none"] is None


def test_a_list_without_filters_skips_the_filter_form_but_a_named_filter_still_applies(
    repository, owner
):
    client = APIClient()
    client.force_authenticate(owner)
    everything = client.get("/api/steps/?page_size=500").json()["results"]
    one_map = everything[0]["map"]
    filtered = client.get(f"/api/steps/?page_size=500&map={one_map}").json()["results"]
    assert filtered == [row for row in everything if row["map"] == one_map]
    assert len(filtered) < len(everything)
    refused = client.get("/api/steps/?map=abc")
    assert refused.status_code == 400 and "map" in refused.json()
    assert client.get("/api/steps/?unknown=1&page_size=500").json()["results"] == everything


def test_rows_of_each_content_kind_are_read_without_a_query_per_row(repository, owner):
    """The readers read loaded columns and prefetched lists only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = APIClient()
    client.force_authenticate(owner)
    for url in ("/api/lane-items/", "/api/kpis/", "/api/projects/", "/api/steps/"):
        client.get(url)  # warm caches (content types, the user's groups)
        with CaptureQueriesContext(connection) as few:
            client.get(f"{url}?page_size=1")
        with CaptureQueriesContext(connection) as many:
            client.get(f"{url}?page_size=500")
        assert len(many) == len(few), url
    assert Step.objects.count() > 1


def test_a_page_of_projects_reads_its_links_in_the_tree_order_the_orm_gives(repository):
    """project_links' SQL against the same links read through the ORM."""
    from maps.api.serializers import project_links
    from maps.models import JourneyMap, PainPoint, Step
    from tests.factories import CXProjectFactory

    maps = list(JourneyMap.objects.all())
    steps = list(Step.objects.order_by("-pk")[:5])
    pains = list(PainPoint.objects.order_by("?")[:4])
    mixed = CXProjectFactory(maps=maps[::-1], steps=steps, pain_points=pains)
    ids = [*CXProject.objects.values_list("pk", flat=True), 999_999]

    def by_orm(project: CXProject) -> dict:
        tree = ("tree_id", "lft", "id")
        return {
            "maps": [(m.pk, m.pk) for m in project.maps.order_by(*tree)],
            "steps": [
                (x.pk, x.map_id)
                for x in project.steps.order_by(*(f"map__{c}" for c in tree), "position", "pk")
            ],
            "pain_points": [
                (x.pk, x.map_id)
                for x in project.pain_points.order_by(
                    *(f"map__{c}" for c in tree), "position", "pk"
                )
            ],
        }

    found = project_links(ids)
    assert found == {
        **{p.pk: by_orm(p) for p in CXProject.objects.all()},
        999_999: {"maps": [], "steps": [], "pain_points": []},
    }
    assert len(found[mixed.pk]["maps"]) == len(maps) > 1
    assert project_links([]) == {}


def test_a_page_of_maps_names_each_maps_personas_as_its_detail_does(repository, owner, viewer):
    """The list reads the page's persona slugs in one query (serializers.persona_slugs_of),
    the detail through the prefetched personas: the same slugs in the same order (by
    name, not by slug), none for a map without personas."""
    from maps.models import JourneyMap
    from tests.factories import PersonaFactory

    zed = PersonaFactory(name="Zed", slug="a-zed")
    amy = PersonaFactory(name="Amy", slug="z-amy")
    bob = PersonaFactory(name="Bob", slug="m-bob")
    first = JourneyMap.objects.filter(status="published").order_by("pk").first()
    first.personas.set([zed, amy, bob])
    JourneyMap.objects.order_by("pk").last().personas.set([zed])
    for user in (owner, viewer):
        client = APIClient()
        client.force_authenticate(user)
        rows = client.get("/api/maps/?page_size=500").json()["results"]
        for row in rows:
            assert client.get(f"/api/maps/{row['id']}/").json() == row
        written = {row["id"]: row["personas"] for row in rows}
        assert written[first.pk] == ["z-amy", "m-bob", "a-zed"]
        assert [] in written.values()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_datetimes_are_written_as_drf_writes_them_in_any_time_zone(zone):
    import datetime as dt
    import zoneinfo

    from django.utils import timezone

    from maps.api.fast import _datetime_representation

    values = [
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),  # the night Berlin's clocks move
        dt.datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 5, 9, 15, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata")),
        dt.datetime(2026, 1, 5, 9, 15),  # naive: made aware in the field's zone
        "2026-01-05T09:15:00Z",  # a string: as it is
    ]
    with timezone.override(zone):
        plain = serializers.DateTimeField()
        fast = _datetime_representation(serializers.DateTimeField())
        assert fast is not None
        assert [fast(value) for value in values] == [plain.to_representation(v) for v in values]
        berlin = serializers.DateTimeField(default_timezone=zoneinfo.ZoneInfo("Europe/Berlin"))
        fast_berlin = _datetime_representation(berlin)
        assert [fast_berlin(v) for v in values] == [berlin.to_representation(v) for v in values]
    # another output format than ISO 8601: left to DRF
    assert _datetime_representation(serializers.DateTimeField(format="%Y")) is None

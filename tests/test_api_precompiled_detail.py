"""A map's detail read with its query compiled once (``maps.api.pages.PrecompiledObject``,
with its personas by ``PrecompiledManyToMany``) answers exactly what DRF's ``get_object``
path answers, plain and with ``?expand=content``, for every kind of user and every map
(hidden ones: the ORM's 404), with the same queries' count; requests with other
parameters take DRF's path; nothing read is kept. The map serializer's readers, shared
by the process, write each request's own host in its URLs (#16)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers
from rest_framework.test import APIClient

from maps.api import serializers as s
from maps.api.expand import JourneyMapWithContentSerializer
from maps.api.fast import FastRepresentation
from maps.api.pages import PrecompiledObject
from maps.models import JourneyMap
from tests.builders import build_repository
from tests.factories import JourneyMapFactory, PersonaFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user", "auditor"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def repository(owner, team, other_owner):
    build_repository(owner=owner, team=team, other_owner=other_owner)
    # personas whose names and slugs sort apart: the detail lists them by name
    drawn = JourneyMap.objects.filter(status="published").order_by("pk").first()
    drawn.personas.add(
        PersonaFactory(name="Zed", slug="a-zed"), PersonaFactory(name="Amy", slug="z-amy")
    )


@pytest.fixture
def auditor(repository):
    user = UserFactory(username="audrey")
    user.groups.add(Group.objects.filter(name="Auditors").first())
    return user


@pytest.fixture
def fast_calls(monkeypatch) -> list[bool]:
    calls: list[bool] = []
    get = PrecompiledObject.get

    def counted(self, request, pk):
        try:
            found = get(self, request, pk)
        except Http404:
            calls.append(True)
            raise
        calls.append(found is not None)
        return found

    monkeypatch.setattr(PrecompiledObject, "get", counted)
    return calls


def _answers(client: APIClient, urls: list[str]) -> list[tuple[int, bytes, int]]:
    found = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        found.append((response.status_code, response.content, len(queries)))
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_map_plain_and_expanded_is_what_get_object_gives(
    request, role, repository, monkeypatch, fast_calls
):
    client = api(request.getfixturevalue(role))
    urls = [
        f"/api/maps/{pk}/{suffix}"
        for pk in JourneyMap.objects.order_by("pk").values_list("pk", flat=True)
        for suffix in ("", "?expand=content")
    ]
    client.get(urls[0])  # warm the caches either path fills (content types, groups)
    fast = _answers(client, urls)
    assert any(fast_calls), "the precompiled path was not taken"
    monkeypatch.setattr(PrecompiledObject, "get", lambda self, request, pk: None)
    assert _answers(client, urls) == fast
    assert {status for status, _, _ in fast} >= {200}


def test_other_parameters_and_other_keys_take_the_orms_path(owner, repository, fast_calls):
    client = api(owner)
    published = JourneyMap.objects.filter(status="published").first()
    # the filter backends apply to a detail too: a status filter hides a published map
    assert client.get(f"/api/maps/{published.pk}/?status=draft").status_code == 404
    assert client.get(f"/api/maps/{published.pk}/?expand=content&format=json").status_code == 200
    assert client.get("/api/maps/abc/").status_code == 404
    assert client.get(f"/api/maps/{10**12}/").status_code == 404
    assert fast_calls and not any(fast_calls)


def test_the_detail_is_never_stale(owner, viewer):
    from guardian.shortcuts import assign_perm

    persona = PersonaFactory(name="Pat", slug="pat")
    shown = JourneyMapFactory(owner=owner, status="published", title="Before")
    viewing, owning = api(viewer), api(owner)
    url = f"/api/maps/{shown.pk}/"
    assert viewing.get(url).json()["title"] == "Before"
    JourneyMap.objects.filter(pk=shown.pk).update(title="After")
    shown.personas.add(persona)
    after = viewing.get(url + "?expand=content").json()
    assert (after["title"], after["personas"]) == ("After", ["pat"])
    assert after["content"]["format"] == "journeyhub/1"
    JourneyMap.objects.filter(pk=shown.pk).update(status="draft")
    assert viewing.get(url).status_code == 404
    assert owning.get(url).status_code == 200
    assign_perm("view_journeymap", viewer, shown)
    assert api(type(viewer).objects.get(pk=viewer.pk)).get(url).json()["status"] == "draft"


def _drf_rows(self, instance):
    return serializers.Serializer.to_representation(self, instance)


@pytest.mark.parametrize("host", ["testserver", "api.example.org:8443"])
def test_shared_readers_write_each_requests_host_as_drfs_fields_do(
    host, repository, owner, monkeypatch, settings
):
    settings.ALLOWED_HOSTS = ["testserver", "api.example.org"]
    client = api(owner)
    pk = JourneyMap.objects.filter(status="published").first().pk
    urls = ["/api/maps/?page_size=3", f"/api/maps/{pk}/", f"/api/maps/{pk}/?expand=content"]
    fast = [client.get(url, HTTP_HOST=host).content for url in urls]
    assert f"http://{host}/api/maps/".encode() in fast[0]
    monkeypatch.setattr(FastRepresentation, "to_representation", _drf_rows)
    assert [client.get(url, HTTP_HOST=host).content for url in urls] == fast


def test_the_map_serializers_fields_are_built_once_per_process(repository, owner, monkeypatch):
    client = api(owner)
    pk = JourneyMap.objects.filter(status="published").first().pk
    client.get("/api/maps/")
    client.get(f"/api/maps/{pk}/?expand=content")
    built: list[type] = []
    build = FastRepresentation._build_entries

    def counted(self):
        built.append(type(self))
        return build(self)

    monkeypatch.setattr(FastRepresentation, "_build_entries", counted)
    assert client.get("/api/maps/").status_code == 200
    assert client.get(f"/api/maps/{pk}/?expand=content").status_code == 200
    assert not {s.JourneyMapSerializer, JourneyMapWithContentSerializer} & set(built)


def test_latest_values_read_by_compiled_sql_are_the_orms(repository):
    from maps.api.expand import _latest_query, latest_values
    from maps.models import KPI

    kpi = KPI.objects.first()
    KPI.objects.filter(pk=kpi.pk).update(latest_value=None)  # a null value is kept as such
    for journey_map in JourneyMap.objects.all():
        orm = {
            pk: {"date": date.isoformat(), "value": value}
            for pk, date, value in _latest_query(journey_map.pk)
        }
        assert latest_values(journey_map) == orm
    assert any(latest_values(m) for m in JourneyMap.objects.all())


def test_a_map_pages_light_rows_hold_what_from_db_gives(repository, owner):
    """The maps list's rows are made without ``__init__`` (``maps.precompiled.light_instance``):
    the same loaded values and state as the ORM's instances."""
    from django.db.models import signals

    from maps.api.pages import _light_allowed, light_instance
    from maps.api.views import JourneyMapViewSet

    queryset = JourneyMapViewSet().list_queryset(owner)
    names = [f.attname for f in JourneyMap._meta.concrete_fields]
    for orm in queryset:
        values = [getattr(orm, name) for name in names]
        light = light_instance(JourneyMap, tuple(names), values)
        loaded = {k: v for k, v in orm.__dict__.items() if k in names}
        assert light.__dict__.keys() - {"_state"} == loaded.keys()
        assert {k: light.__dict__[k] for k in names} == loaded
        assert (light._state.adding, light._state.db) == (orm._state.adding, orm._state.db)
        assert (light.pk, light.is_review_due) == (orm.pk, orm.is_review_due)
    assert JourneyMapViewSet.precompiled_pages().light and _light_allowed(JourneyMap)

    def listening(sender, **kwargs):
        pass

    signals.post_init.connect(listening, sender=JourneyMap)
    try:
        assert not _light_allowed(JourneyMap)  # __init__ would send it: the ORM's way
    finally:
        signals.post_init.disconnect(listening, sender=JourneyMap)


@pytest.mark.parametrize("role", [*ROLES, "inactive"])
def test_the_exports_projects_read_by_compiled_sql_are_the_orms(request, role, repository):
    """``export._visible_project_rows`` (SQL compiled once per shape) against the ORM's
    query, for projects each kind of user sees or not: their own, their team's, on a
    hidden draft, on nothing, on a published map; then again (the compiled SQL reused)."""
    from django.db.models import Q

    from governance.permissions import visible_projects_sql
    from maps.exchange.export import PROJECT_PART, _values, _visible_project_rows
    from maps.models import CXProject
    from tests.factories import CXProjectFactory

    if role == "inactive":
        user = UserFactory(username="gone", is_active=False)
    else:
        user = request.getfixturevalue(role)
    owner, other = request.getfixturevalue("owner"), request.getfixturevalue("other_owner")
    draft = JourneyMap.objects.filter(status="draft").first()
    published = JourneyMap.objects.filter(status="published").first()
    CXProjectFactory(owner=owner, maps=[draft])
    CXProjectFactory(owner=other, maps=[draft])
    CXProjectFactory(owner=other, team=owner.groups.first(), maps=[draft])
    CXProjectFactory(owner=other, maps=[])
    CXProjectFactory(owner=other, maps=[published])
    ids = sorted(CXProject.objects.values_list("pk", flat=True))
    map_ids = list(JourneyMap.objects.values_list("pk", flat=True))
    for touching in (ids, ids[:1], ids[::2], ids, [10**9, *ids[-2:]]):
        orm = _values(
            PROJECT_PART, visible_projects_sql(user).filter(Q(pk__in=touching)).order_by("pk")
        )
        assert _visible_project_rows(user, touching, map_ids) == orm, (role, touching)
    seen = _visible_project_rows(user, ids, map_ids)
    assert role != "leader" or len(seen) == len(ids)
    assert role != "inactive" or seen == []


def test_columns_read_inline_are_written_as_drf_writes_them(repository):
    """``FastRepresentation`` writes a loaded column of the exact type a Char, Integer or
    Boolean field gives back unchanged as it is; anything else (an enum member, a
    number held as text, a deferred column) through the field, as DRF does."""

    class Row(FastRepresentation, serializers.ModelSerializer):
        class Meta:
            model = JourneyMap
            fields = ("id", "title", "status", "is_template", "review_every_days", "version")

    for journey_map in JourneyMap.objects.all():
        as_read = Row(journey_map)
        assert as_read.data == _drf_rows(as_read, journey_map)
    edited = JourneyMap.objects.first()
    edited.status = JourneyMap.Status.ARCHIVED  # a str subclass: str() of it is written
    edited.review_every_days = "30"  # int("30")
    edited.is_template = 1  # DRF's bool of it
    edited.title = 7
    written = Row(edited).data
    assert written == _drf_rows(Row(edited), edited)
    assert (written["status"], written["review_every_days"], written["is_template"]) == (
        "archived",
        30,
        True,
    )
    assert type(written["status"]) is str and written["title"] == "7"
    deferred = JourneyMap.objects.defer("title", "version").first()
    assert Row(deferred).data == _drf_rows(Row(deferred), deferred)

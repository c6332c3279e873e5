"""``GET /api/maps/{id}/?expand=content``: a map with everything in it in one call, as
journeyhub/1 writes it with ids; the same visibility rules (hidden sub-maps and what
only they hold never appear); a fixed number of queries; a bad ``expand`` named."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from maps.exchange.spec import CONTENT_PARTS
from maps.models import (
    KPI,
    LaneItem,
    PainPoint,
    QualitativeFactor,
    ResearchSource,
    Stage,
    Step,
    StepLink,
    Tag,
    TagGroup,
)
from tests.builders import build_map_content
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    PersonaFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def expanded(user, journey_map):
    return api(user).get(f"/api/maps/{journey_map.pk}/?expand=content")


@pytest.fixture
def full_map(owner, team, team_map):
    """Olivia's published map with every kind of content, a KPI with three periods, a
    research source, a project; under it omar's draft sub-map with content of its own."""
    steps = build_map_content(team_map, steps=3, items_per_step=2)
    kpi = KPIFactory(map=team_map, name="Completion rate")
    for day, value in ((1, 40.0), (3, 47.5), (2, 44.0)):
        MeasurementFactory(kpi=kpi, date=dt.date(2026, 10, day), value=value)
    ResearchSource.objects.create(map=team_map, title="Branch interviews", kind="interview")
    return steps


@pytest.fixture
def hidden_sub_map(full_map, team_map, other_owner):
    sub = JourneyMapFactory(
        title="Verify identity", owner=other_owner, parent=team_map, status="draft"
    )
    secret_step = StepFactory(map=sub, name="Secret step")
    secret = PainPointFactory(map=sub, step=secret_step, title="Secret pain point")
    # a project olivia may see (it touches her map) that also addresses omar's draft
    CXProjectFactory(
        title="Shared fix", owner=other_owner, maps=[team_map, sub], pain_points=[secret]
    )
    return sub


class TestContent:
    def test_the_map_comes_with_everything_in_it_with_ids(self, owner, team_map, full_map):
        response = expanded(owner, team_map)
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == team_map.pk and body["title"] == "Open an account"
        content = body["content"]
        assert content["format"] == "journeyhub/1"
        for model, name in (
            (Stage, "stages"),
            (Step, "steps"),
            (PainPoint, "pain_points"),
            (LaneItem, "lane_items"),
            (KPI, "kpis"),
            (QualitativeFactor, "ratings"),
        ):
            expected = set(model.objects.filter(map=team_map).values_list("pk", flat=True))
            assert {row["id"] for row in content[name]} == expected, name
        links = StepLink.objects.filter(from_step__map=team_map)
        assert {row["id"] for row in content["links"]} == set(links.values_list("pk", flat=True))
        assert [source["title"] for source in content["research"]] == ["Branch interviews"]
        assert len(content["projects"]) == 1
        # rows as journeyhub/1 writes them: keys, not ids, for what they point at
        step = next(row for row in content["steps"] if row["id"] == full_map[0].pk)
        assert step["key"] == full_map[0].key and step["stage"] is not None
        assert isinstance(step["stage"], str)

    def test_every_kind_of_the_registry_is_there(self, owner, team_map, full_map):
        content = expanded(owner, team_map).json()["content"]
        assert {part.name for part in CONTENT_PARTS} <= set(content)

    def test_each_kpi_carries_its_latest_value(self, owner, team_map, full_map):
        kpis = {row["name"]: row for row in expanded(owner, team_map).json()["content"]["kpis"]}
        assert kpis["Completion rate"]["latest"] == {"date": "2026-10-03", "value": 47.5}
        assert "measurements" not in kpis["Completion rate"]  # the list stays one call away

    def test_a_kpi_without_values_has_no_latest(self, owner, team_map):
        KPIFactory(map=team_map, name="New KPI")
        kpis = expanded(owner, team_map).json()["content"]["kpis"]
        assert [kpi["latest"] for kpi in kpis] == [None]

    def test_without_expand_the_map_comes_alone(self, owner, team_map, full_map):
        body = api(owner).get(f"/api/maps/{team_map.pk}/").json()
        assert "content" not in body and body["id"] == team_map.pk

    @pytest.mark.parametrize("value", ["contents", "content,steps", "steps", "1"])
    def test_anything_else_to_expand_is_a_400_naming_expand(self, owner, team_map, value):
        response = api(owner).get(f"/api/maps/{team_map.pk}/", {"expand": value})
        assert response.status_code == 400
        assert "content" in response.json()["expand"][0]


class TestWhoSeesWhat:
    @pytest.mark.parametrize("who", ["owner", "team_member", "viewer", "other_owner", "leader"])
    def test_everyone_who_sees_a_published_map_gets_its_content(
        self, request, who, team_map, full_map
    ):
        response = expanded(request.getfixturevalue(who), team_map)
        assert response.status_code == 200
        assert len(response.json()["content"]["steps"]) == 3

    @pytest.mark.parametrize(
        ("who", "status"),
        [("owner", 404), ("viewer", 404), ("team_member", 404), ("other_owner", 200),
         ("leader", 200), ("admin_user", 200)],
    )  # fmt: skip
    def test_a_draft_is_expanded_only_for_those_who_may_see_it(
        self, request, who, status, draft_map
    ):
        PainPointFactory(map=draft_map, title="Draft pain point")
        response = expanded(request.getfixturevalue(who), draft_map)
        assert response.status_code == status
        if status == 404:
            assert "Draft pain point" not in response.content.decode()

    def test_a_view_grant_opens_a_draft_with_its_content(self, viewer, draft_map):
        PainPointFactory(map=draft_map, title="Draft pain point")
        assign_perm("view_journeymap", viewer, draft_map)
        titles = [p["title"] for p in expanded(viewer, draft_map).json()["content"]["pain_points"]]
        assert titles == ["Draft pain point"]

    @pytest.mark.parametrize("who", ["owner", "team_member", "viewer"])
    def test_a_hidden_sub_map_and_what_only_it_holds_never_leak(
        self, request, who, team_map, hidden_sub_map
    ):
        response = expanded(request.getfixturevalue(who), team_map)
        text = response.content.decode()
        assert response.status_code == 200
        for secret in ("Verify identity", "Secret step", "Secret pain point", hidden_sub_map.slug):
            assert secret not in text, secret
        project = next(
            p for p in response.json()["content"]["projects"] if p["title"] == "Shared fix"
        )
        assert project["maps"] == [team_map.slug] and project["pain_points"] == []

    def test_the_sub_maps_owner_expands_his_own_map(self, other_owner, hidden_sub_map):
        content = expanded(other_owner, hidden_sub_map).json()["content"]
        assert [p["title"] for p in content["pain_points"]] == ["Secret pain point"]

    def test_projects_hidden_from_the_reader_are_left_out(
        self, viewer, other_owner, team_map, draft_map
    ):
        step = StepFactory(map=team_map)
        hidden = CXProjectFactory(title="Hidden draft work", owner=other_owner, maps=[draft_map])
        hidden.steps.add(step)  # addresses olivia's step, but only touches omar's draft
        titles = [p["title"] for p in expanded(viewer, team_map).json()["content"]["projects"]]
        assert "Hidden draft work" not in titles


def test_an_expanded_map_needs_the_same_queries_with_ten_times_the_content(
    owner, team, django_assert_max_num_queries
):
    """Groups, the map and its personas, then one query per kind of content, one for
    all tags and project links, one for research (and, with research, its quotes,
    attachments and links), one for the projects, one for the users, teams and personas
    named, one for the KPIs' latest values: none per row."""
    client = api(owner)
    small, large = (JourneyMapFactory(owner=owner, team=team) for _ in range(2))
    build_map_content(small, steps=2, items_per_step=1)
    ResearchSource.objects.create(map=small, title="Survey", kind="survey")
    build_map_content(large, steps=20, items_per_step=10)
    for n in range(10):
        ResearchSource.objects.create(map=large, title=f"Survey {n}", kind="survey")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/maps/{small.pk}/?expand=content").status_code == 200
    budget = len(captured.captured_queries)
    with django_assert_max_num_queries(budget):
        response = client.get(f"/api/maps/{large.pk}/?expand=content")
    assert len(response.json()["content"]["steps"]) == 20
    assert budget <= 21, budget


def test_a_bare_map_costs_the_same_queries_as_one_with_projects_tags_personas_and_a_team(
    owner, team, other_owner, django_assert_num_queries
):
    """The count is flat (#16): no query is skipped because a kind has no rows, and none
    is added because it has some (tags, several personas, a team, users). Two
    exceptions: a map's quotes and attachments are read only when the map has research
    sources, and the projects' rows only when a project touches the map (which ones do
    is known from the links read with the tags)."""
    client = api(owner)
    bare = JourneyMapFactory(owner=owner)
    rich = JourneyMapFactory(owner=owner, team=team, personas=[PersonaFactory(), PersonaFactory()])
    steps = build_map_content(rich, steps=4, items_per_step=2)
    tag = Tag.objects.create(name="Mobile", group=TagGroup.objects.create(name="Channel"))
    LaneItem.objects.filter(map=rich).first().tags.add(tag)
    KPI.objects.filter(map=rich).first().tags.add(tag)
    project = CXProjectFactory(
        owner=other_owner,
        team=team,
        maps=[rich],
        steps=steps[1:3],
        pain_points=[PainPoint.objects.filter(map=rich).first()],
    )
    project.tags.add(tag)
    client.get(f"/api/maps/{bare.pk}/")  # the user's groups are read once per user object
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/maps/{bare.pk}/?expand=content").status_code == 200
    bare_count = len(captured.captured_queries)
    with django_assert_num_queries(bare_count + 1):  # the projects touching it
        content = client.get(f"/api/maps/{rich.pk}/?expand=content").json()["content"]
    assert len(content["projects"]) == 2
    shared = next(p for p in content["projects"] if p["id"] == project.pk)
    assert shared["tags"] == [{"kind": "tag", "group": "Channel", "name": "Mobile"}]
    assert len(shared["steps"]) == 2 and len(shared["pain_points"]) == 1
    assert shared["team"] == team.name and shared["owner"] == "omar"
    assert bare_count <= 13, bare_count


def test_the_schema_documents_expand_and_the_content(owner):
    schema = api(owner).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = json.loads(schema.content)
    retrieve = document["paths"]["/api/maps/{id}/"]["get"]
    expand = next(p for p in retrieve["parameters"] if p["name"] == "expand")
    assert expand["schema"]["enum"] == ["content"]
    content = document["components"]["schemas"]["MapContent"]["properties"]
    assert {"steps", "pain_points", "lane_items", "kpis", "research", "projects"} <= set(content)

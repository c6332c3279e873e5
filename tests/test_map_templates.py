"""Starting a map from a template: the seven essential journeys that ship with JourneyHub,
maps their owners offer as templates, in the browser and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps import map_templates
from maps.models import KPI, JourneyMap, LaneItem, Measurement, PainPoint, QualitativeFactor
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory

pytestmark = pytest.mark.django_db

ESSENTIAL = {"shop-learn-buy", "onboard", "pay", "use", "get-help", "change", "leave"}


def _new_map(client, user, *, parent=None, **data):
    client.force_login(user)
    url = reverse("maps:new") + (f"?parent={parent.slug}" if parent else "")
    return client.post(url, {"status": "draft", **data})


def test_the_seven_essential_journeys_ship_as_templates_with_realistic_stages_and_steps():
    shipped = {t.ref.removeprefix("essential:"): t for t in map_templates.shipped_templates()}
    assert set(shipped) == ESSENTIAL
    for template in shipped.values():
        assert 3 <= len(template.stages) <= 6, template.title
        assert 10 <= template.step_count <= 16, template.title
        assert template.origin == "JourneyHub"
    assert shipped["onboard"].stages == ("Welcome", "Set up", "First use", "Settle in")


def test_an_owner_starts_a_sub_map_from_the_onboard_template(client, owner, team_map):
    response = _new_map(
        client, owner, parent=team_map, title="Onboard new savers", template="essential:onboard"
    )
    assert response.status_code == 302
    new = JourneyMap.objects.get(title="Onboard new savers")
    assert response["Location"] == new.get_absolute_url()
    assert (new.parent, new.owner, new.status) == (team_map, owner, "draft")
    assert new.team == team_map.team
    assert not new.is_template
    stages = list(new.stages.order_by("position").values_list("name", flat=True))
    assert stages == ["Welcome", "Set up", "First use", "Settle in"]
    steps = list(new.steps.order_by("position").select_related("stage"))
    assert len(steps) == 11
    assert (steps[0].name, steps[0].stage.name) == ("Receive the welcome message", "Welcome")
    assert (steps[-1].name, steps[-1].stage.name) == ("Adopt a second feature", "Settle in")
    assert [s.name for s in steps if s.is_moment_of_truth] == [
        "Create an account or log in",
        "Verify identity and documents",
        "Try the main feature",
        "Reach first value",
    ]
    kpis = {k.name: k for k in new.kpis.all()}
    assert set(kpis) == {"Time to first value", "Activation rate", "Onboarding effort (CES)"}
    assert (kpis["Activation rate"].kind, kpis["Activation rate"].unit) == ("ratio", "%")
    assert not Measurement.objects.filter(kpi__map=new).exists()
    # the new map's history says who created it and that content came from the template
    assert new.history.first().history_user == owner


def test_a_template_map_gives_its_structure_and_lanes_but_not_its_measurements(
    client, owner, team_map, other_owner
):
    source = JourneyMapFactory(
        title="Branch visit pattern", slug="branch-visit", owner=other_owner, is_template=True
    )
    build_map_content(source, steps=4, items_per_step=2)
    assert any(t.ref == "map:branch-visit" for t in map_templates.available_templates(owner))

    response = _new_map(
        client, owner, parent=team_map, title="Visit a branch", template="map:branch-visit"
    )
    assert response.status_code == 302
    new = JourneyMap.objects.get(title="Visit a branch")
    assert new.owner == owner
    assert list(new.steps.order_by("position").values_list("name", flat=True)) == [
        "Step 1",
        "Step 2",
        "Step 3",
        "Step 4",
    ]
    assert new.stages.count() == 2
    # the loop from step 3 back to step 1 comes along
    link = new.steps.get(name="Step 3").links_out.get()
    assert (link.to_step.name, link.kind) == ("Step 1", "loop")
    assert PainPoint.objects.filter(map=new).count() == PainPoint.objects.filter(map=source).count()
    assert LaneItem.objects.filter(map=new).count() == 8
    assert KPI.objects.filter(map=new).count() == 4
    assert KPI.objects.filter(map=new, baseline__isnull=False).count() == 0
    assert not Measurement.objects.filter(kpi__map=new).exists()
    assert not QualitativeFactor.objects.filter(map=new).exists()
    assert not new.projects.exists()
    # the template is untouched
    assert source.steps.count() == 4 and Measurement.objects.filter(kpi__map=source).count() == 4


def test_a_template_nobody_shows_you_is_refused_like_a_missing_one(
    client, owner, team_map, draft_map
):
    draft_map.is_template = True
    draft_map.save()
    assert all(t.ref != f"map:{draft_map.slug}" for t in map_templates.available_templates(owner))
    hidden = _new_map(
        client, owner, parent=team_map, title="Copy", template=f"map:{draft_map.slug}"
    )
    missing = _new_map(client, owner, parent=team_map, title="Copy", template="map:nope")
    for response in (hidden, missing):
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode()
    assert not JourneyMap.objects.filter(title="Copy").exists()


def test_only_the_owner_leadership_and_admins_offer_a_map_as_a_template(
    client, owner, team_member, leader, team_map
):
    url = reverse("maps:settings", args=[team_map.slug])
    data = {"title": team_map.title, "status": "published", "review_every_days": 90}
    client.force_login(team_member)
    client.post(url, {**data, "is_template": "on", "map_version": team_map.version})
    team_map.refresh_from_db()
    assert not team_map.is_template  # the field is locked for a team member
    client.force_login(owner)
    client.post(url, {**data, "is_template": "on", "map_version": team_map.version})
    team_map.refresh_from_db()
    assert team_map.is_template
    assert any(t.ref == "map:open-an-account" for t in map_templates.available_templates(leader))


def test_the_api_lists_templates_and_creates_a_map_from_one(client, owner, team_map):
    client.force_login(owner)
    listed = client.get("/api/templates/").json()
    assert {t["ref"] for t in listed} >= {f"essential:{slug}" for slug in ESSENTIAL}
    leave = next(t for t in listed if t["ref"] == "essential:leave")
    assert leave["stages"][0] == "Consider leaving" and leave["step_count"] == 11

    response = client.post(
        "/api/maps/from-template/",
        {"template": "essential:leave", "title": "Close a card", "parent": team_map.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["title"], body["owner"], body["status"]) == ("Close a card", "olivia", "draft")
    assert JourneyMap.objects.get(pk=body["id"]).steps.count() == 11


def test_the_api_refuses_an_unknown_template_and_a_top_level_map_from_a_plain_owner(
    client, owner, team_map
):
    client.force_login(owner)
    unknown = client.post(
        "/api/maps/from-template/",
        {"template": "essential:nope", "title": "X", "parent": team_map.pk},
        content_type="application/json",
    )
    assert unknown.status_code == 400
    assert "template" in unknown.json()
    top = client.post(
        "/api/maps/from-template/",
        {"template": "essential:pay", "title": "Pay at the top"},
        content_type="application/json",
    )
    assert top.status_code in (400, 403)
    assert not JourneyMap.objects.filter(title__in=["X", "Pay at the top"]).exists()


def test_leadership_starts_a_top_level_map_from_a_template(client, leader):
    client.force_login(leader)
    response = client.post(
        "/api/maps/from-template/",
        {"template": "essential:get-help", "title": "Get help with a card"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    new = JourneyMap.objects.get(pk=response.json()["id"])
    assert new.parent is None and new.steps.count() == 10


def test_the_new_map_page_and_the_template_list_keep_their_query_budget(
    client, owner, team_map, django_assert_max_num_queries
):
    for n in range(30):
        JourneyMapFactory(owner=owner, is_template=True, title=f"Pattern {n:02d}")
    client.force_login(owner)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("maps:new") + f"?parent={team_map.slug}")
    assert page.status_code == 200
    assert page.content.decode().count('name="template"') == 1 + 7 + 30
    with django_assert_max_num_queries(8):
        assert len(client.get("/api/templates/").json()) == 37


@pytest.mark.parametrize(
    "path", [map_templates.SHIPPED_FILE, map_templates.SHIPPED_FILE.parent / "demo.journeyhub.json"]
)
def test_the_shipped_files_are_valid_journeyhub_documents(path):
    import json

    import jsonschema

    from maps.exchange.schema import document_schema

    document = json.loads(path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(document_schema())
    assert [error.message for error in validator.iter_errors(document)] == []

"""Future states and scenarios (#17): drafting one beside a current-state map, who may,
what it copies, the map page's header, the model's rules, export and import."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from maps.exchange import export_document, import_document
from maps.exchange.importer import ExchangeInvalid
from maps.future_state import map_draft_variant, map_states
from maps.models import JourneyMap
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    PainPointFactory,
    PersonaFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
)

pytestmark = pytest.mark.django_db
State = JourneyMap.State


@pytest.fixture
def lifecycle(owner, team):
    return JourneyMapFactory(
        title="Customer lifecycle",
        slug="customer-lifecycle",
        owner=owner,
        team=team,
        vision="Banking that feels effortless, wherever you start.",
    )


@pytest.fixture
def journey(lifecycle, owner, team):
    """Olivia's published journey under her lifecycle map, with content of every copied kind."""
    journey = JourneyMapFactory(
        title="Open an account", slug="open-an-account", owner=owner, team=team, parent=lifecycle
    )
    apply_stage = StageFactory(map=journey, name="Apply", position=0)
    use_stage = StageFactory(map=journey, name="Use", position=1)
    apply = StepFactory(map=journey, stage=apply_stage, key="apply", name="Apply", emotion=0)
    verify = StepFactory(map=journey, stage=apply_stage, key="verify", name="Verify", emotion=-2)
    StepFactory(map=journey, stage=use_stage, key="first-use", name="First use", emotion=1)
    StepLinkFactory(from_step=verify, to_step=apply)
    PainPointFactory(map=journey, step=verify, title="Code unreadable", exchange_key="pp-code")
    LaneItemFactory(map=journey, step=apply, title="People apply at night")
    kpi = KPIFactory(map=journey, name="Completion rate")
    MeasurementFactory(kpi=kpi)
    CXProjectFactory(owner=owner, title="Video identification", maps=[journey])
    return journey


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_owner_drafts_a_future_state_that_copies_the_structure_beside_the_map(
    journey, lifecycle, owner, team
):
    draft = map_draft_variant(source=journey, by=owner, state="future")

    assert draft.title == "Open an account (future state)"
    assert (draft.parent_id, draft.team_id, draft.owner_id) == (lifecycle.pk, team.pk, owner.pk)
    assert (draft.state, draft.state_of_id, draft.status) == ("future", journey.pk, "draft")
    assert [s.name for s in draft.stages.order_by("position")] == ["Apply", "Use"]
    assert [(s.key, s.stage.name, s.emotion) for s in draft.steps.order_by("position")] == [
        ("apply", "Apply", 0),
        ("verify", "Apply", -2),
        ("first-use", "Use", 1),
    ]
    link = draft.steps.get(key="verify").links_out.get()
    assert link.to_step.key == "apply" and link.to_step.map_id == draft.pk
    pain = draft.pain_points.get()
    assert (pain.exchange_key, pain.step.key, pain.step.map_id) == ("pp-code", "verify", draft.pk)
    assert draft.lane_items.get().title == "People apply at night"
    kpi = draft.kpis.get()
    assert kpi.name == "Completion rate" and not kpi.measurements.exists()  # measured: today's
    assert not draft.projects.exists()  # projects stay with today's map
    assert journey.steps.count() == 3 and journey.kpis.get().measurements.count() == 1
    # history names who drafted it
    assert draft.history.first().history_user == owner


def test_a_scenario_carries_its_label_in_its_title_and_keeps_every_persona(journey, owner):
    journey.personas.add(
        PersonaFactory(name="Retiree", slug="retiree"), PersonaFactory(name="Student", slug="st")
    )
    draft = map_draft_variant(
        source=journey, by=owner, state="scenario", scenario_label="Branch visitors"
    )
    assert draft.title == "Open an account (scenario: Branch visitors)"
    assert (draft.state, draft.scenario_label) == ("scenario", "Branch visitors")
    assert [p.slug for p in draft.personas.all()] == ["retiree", "st"]
    assert [p.slug for p in journey.personas.all()] == ["retiree", "st"]  # today's keeps them


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"state": "scenario", "scenario_label": "  "}, "scenario_label"),
        ({"state": "future", "scenario_label": "Branch"}, "scenario_label"),
        ({"state": "current"}, "state"),
        ({"state": "future", "title": "x" * 201}, "title"),
    ],
)
def test_a_draft_with_a_bad_field_is_refused_by_that_field_and_nothing_is_created(
    journey, owner, fields, field
):
    before = JourneyMap.objects.count()
    with pytest.raises(ValidationError) as refused:
        map_draft_variant(source=journey, by=owner, **fields)
    assert field in refused.value.message_dict
    assert JourneyMap.objects.count() == before


def test_a_future_state_is_not_drafted_from_another_future_state(journey, owner):
    draft = map_draft_variant(source=journey, by=owner, state="future")
    with pytest.raises(ValidationError) as refused:
        map_draft_variant(source=draft, by=owner, state="future")
    assert "current-state map" in refused.value.message_dict["state_of"][0]


# --- who may draft, through the browser ---------------------------------------------------

# the journey sits under olivia's lifecycle map: who may add a map there may draft
DRAFTERS = {"owner": 302, "team_member": 302, "leader": 302, "admin_user": 302}


@pytest.mark.parametrize(
    "role", ["owner", "team_member", "other_owner", "viewer", "leader", "admin_user"]
)
def test_drafting_follows_the_rule_for_new_maps_beside_the_map(request, journey, role):
    user = request.getfixturevalue(role)
    client = signed_in(user)
    page = client.get(f"/maps/{journey.slug}/variants/new/?state=future")
    response = client.post(f"/maps/{journey.slug}/variants/new/", {"state": "future"})
    drafts = JourneyMap.objects.filter(state_of=journey)
    if role in DRAFTERS:
        assert page.status_code == 200
        assert response.status_code == 302
        draft = drafts.get()
        assert response["Location"] == draft.get_absolute_url()
        assert draft.owner == user
    else:
        assert page.status_code == 403 and response.status_code == 403
        assert "may add a map there" in response.content.decode()
        assert not drafts.exists()


def test_a_draft_of_a_map_the_user_cannot_see_is_a_404(viewer, draft_map):
    response = signed_in(viewer).post(f"/maps/{draft_map.slug}/variants/new/", {"state": "future"})
    assert response.status_code == 404
    assert not JourneyMap.objects.filter(state_of=draft_map).exists()


def test_a_scenario_without_a_label_is_refused_by_the_form_with_the_field_named(journey, owner):
    response = signed_in(owner).post(
        f"/maps/{journey.slug}/variants/new/", {"state": "scenario", "scenario_label": ""}
    )
    assert response.status_code == 400
    assert "Say what the scenario varies" in response.content.decode()
    assert not JourneyMap.objects.filter(state_of=journey).exists()


def test_drafting_from_a_future_state_page_is_refused(journey, owner):
    draft = map_draft_variant(source=journey, by=owner, state="future")
    response = signed_in(owner).post(f"/maps/{draft.slug}/variants/new/", {"state": "future"})
    assert response.status_code == 403
    assert JourneyMap.objects.filter(state_of=journey).count() == 1


# --- what the map page says -------------------------------------------------------------


def test_the_current_map_lists_its_drafts_and_a_draft_names_its_current_state(journey, owner):
    future = map_draft_variant(source=journey, by=owner, state="future")
    scenario = map_draft_variant(source=journey, by=owner, state="scenario", scenario_label="Web")

    current_states = map_states(owner, journey)
    assert [v.slug for v in current_states.variants] == [future.slug, scenario.slug]
    assert current_states.can_draft and not current_states.is_variant

    future_states = map_states(owner, future)
    assert future_states.state_of == journey and future_states.is_variant
    assert future_states.compare_url == f"/maps/{journey.slug}/compare/{future.slug}/"
    assert not future_states.can_draft


def test_a_journey_shows_the_vision_of_the_lifecycle_map_above_it(journey, lifecycle, owner):
    states = map_states(owner, journey)
    assert states.vision == lifecycle.vision and states.vision_from == lifecycle
    assert map_states(owner, lifecycle).vision_from is None  # its own


def test_a_hidden_ancestor_lends_no_vision_to_a_reader_who_cannot_see_it(
    other_owner, viewer, owner
):
    hidden = JourneyMapFactory(owner=other_owner, status="draft", vision="Secret direction")
    shown = JourneyMapFactory(owner=other_owner, parent=hidden)
    assert map_states(viewer, shown).vision == ""


def test_a_readers_draft_list_leaves_out_drafts_they_cannot_see(journey, owner, viewer):
    map_draft_variant(source=journey, by=owner, state="future")  # a draft: olivia's team's
    assert map_states(viewer, journey).variants == []


def test_the_map_states_need_the_same_queries_whatever_the_number_of_drafts(journey, owner):
    map_draft_variant(source=journey, by=owner, state="future")
    journey = JourneyMap.objects.get(pk=journey.pk)
    with CaptureQueriesContext(connection) as one:
        map_states(owner, journey)
    map_draft_variant(source=journey, by=owner, state="scenario", scenario_label="Phone")
    map_draft_variant(source=journey, by=owner, state="scenario", scenario_label="Branch")
    journey = JourneyMap.objects.get(pk=journey.pk)
    with CaptureQueriesContext(connection) as three:
        states = map_states(owner, journey)
        [v.owner.username for v in states.variants]
    # the variants with their owners, the vision of an ancestor, the parent (the rule)
    assert len(three) == len(one) <= 4


# --- the model's rules ---------------------------------------------------------------------


def test_only_future_states_and_scenarios_belong_to_a_current_state_map(journey, owner):
    current = JourneyMapFactory(owner=owner, state_of=None)
    current.state_of = journey
    with pytest.raises(ValidationError) as refused:
        current.full_clean()
    assert "state_of" in refused.value.message_dict
    future = JourneyMapFactory(owner=owner, state="future", state_of=journey)
    other = JourneyMapFactory(owner=owner, state="future", state_of=future)
    with pytest.raises(ValidationError) as refused:
        other.full_clean()
    assert "is itself a future state" in refused.value.message_dict["state_of"][0]
    labelled = JourneyMapFactory(owner=owner, scenario_label="Web")
    with pytest.raises(ValidationError) as refused:
        labelled.full_clean()
    assert "scenario_label" in refused.value.message_dict


def test_the_database_refuses_a_current_state_map_that_belongs_to_another(journey, owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        JourneyMapFactory(owner=owner, state="current", state_of=journey)


def test_a_map_with_drafts_stays_a_current_state_map(journey, owner):
    map_draft_variant(source=journey, by=owner, state="future")
    journey.state = "scenario"
    with pytest.raises(ValidationError) as refused:
        journey.full_clean()
    assert "stays a current-state map" in refused.value.message_dict["state"][0]


def test_deleting_the_current_state_map_leaves_its_draft_a_future_state_of_nothing(journey, owner):
    draft = map_draft_variant(source=journey, by=owner, state="future")
    journey.delete()
    draft.refresh_from_db()
    assert (draft.state, draft.state_of_id) == ("future", None)


# --- export and import ------------------------------------------------------------------


def test_export_and_import_keep_which_current_state_map_a_draft_belongs_to(
    journey, lifecycle, owner, admin_user
):
    draft = map_draft_variant(source=journey, by=owner, state="scenario", scenario_label="Web")
    document = export_document(lifecycle, user=admin_user)
    entries = {m["slug"]: m for m in document["maps"]}
    assert entries[draft.slug]["state_of"] == journey.slug
    assert entries[draft.slug]["state"] == "scenario"
    assert entries[lifecycle.slug]["vision"] == lifecycle.vision

    # into another repository: the same document with other slugs, under nothing
    renamed = {m["slug"]: f"copy-{m['slug']}" for m in document["maps"]}
    for entry in document["maps"]:
        entry["slug"] = renamed[entry["slug"]]
        if entry["parent"]:
            entry["parent"] = renamed[entry["parent"]]
        if entry["state_of"]:
            entry["state_of"] = renamed[entry["state_of"]]
    document["projects"] = []
    document["root"] = renamed[lifecycle.slug]
    import_document(document, by=admin_user)
    copy = JourneyMap.objects.get(slug=renamed[draft.slug])
    assert copy.state_of.slug == renamed[journey.slug]
    assert (copy.state, copy.scenario_label) == ("scenario", "Web")
    assert JourneyMap.objects.get(slug=renamed[lifecycle.slug]).vision == lifecycle.vision


def test_a_draft_exported_alone_names_its_current_state_and_reimports_unchanged(journey, owner):
    draft = map_draft_variant(source=journey, by=owner, state="future")
    document = export_document(draft, user=owner, subtree=False)
    assert document["maps"][0]["state_of"] == journey.slug  # outside the document, visible
    summary = import_document(document, by=owner, under=journey.parent)
    assert summary.maps[draft.slug]["updated"] == {}
    draft.refresh_from_db()
    assert draft.state_of_id == journey.pk


@pytest.mark.parametrize(
    "change, message",
    [
        ({"state_of": "no-such-map"}, "no map of this document or of this repository"),
        ({"state": "current"}, "a current-state map belongs to no other map"),
        ({"scenario_label": "Web"}, "only a scenario has a scenario label"),
    ],
)
def test_an_import_with_a_bad_state_is_refused_at_its_path(journey, owner, change, message):
    draft = map_draft_variant(source=journey, by=owner, state="future")
    document = export_document(draft, user=owner, subtree=False)
    document["maps"][0].update(change)
    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=owner, under=journey.parent)
    assert any(p.startswith("maps[0]") and message in p for p in refused.value.problems), (
        refused.value.problems
    )
    draft.refresh_from_db()
    assert (draft.state, draft.state_of_id, draft.scenario_label) == ("future", journey.pk, "")


def test_the_repository_filters_maps_by_state(journey, owner):
    draft = map_draft_variant(source=journey, by=owner, state="future")
    client = signed_in(owner)
    futures = client.get("/maps/?state=future").context["results"]
    assert [m.slug for m in futures] == [draft.slug]
    current = [m.slug for m in client.get("/maps/?state=current").context["results"]]
    assert journey.slug in current and draft.slug not in current
    refused = client.get("/maps/?state=someday")
    assert "State: Select a valid choice" in refused.content.decode()


def settings_post(journey_map, **fields) -> dict:
    return {
        "title": journey_map.title,
        "summary": "",
        "status": journey_map.status,
        "review_every_days": journey_map.review_every_days,
        "map_version": journey_map.version,
        **fields,
    }


def test_the_map_settings_keep_a_vision_and_a_scenario_label_only_on_a_scenario(
    journey, lifecycle, owner
):
    client = signed_in(owner)
    response = client.post(
        f"/maps/{lifecycle.slug}/settings/",
        settings_post(lifecycle, vision="Effortless, everywhere.", scenario_label="Forged"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lifecycle.refresh_from_db()
    assert (lifecycle.vision, lifecycle.scenario_label) == ("Effortless, everywhere.", "")

    scenario = map_draft_variant(source=journey, by=owner, state="scenario", scenario_label="Web")
    response = client.post(
        f"/maps/{scenario.slug}/settings/",
        settings_post(scenario, scenario_label="Mobile app"),
    )
    assert response.status_code == 302
    scenario.refresh_from_db()
    assert scenario.scenario_label == "Mobile app"


def test_a_snapshot_of_a_scenario_restores_its_label_and_vision_but_not_its_place(journey, owner):
    from governance.map_snapshots import snapshot_restore, snapshot_take

    scenario = map_draft_variant(source=journey, by=owner, state="scenario", scenario_label="Web")
    scenario.vision = "One tap"
    scenario.save()
    snapshot = snapshot_take(journey_map=scenario, label="before the workshop", by=owner)
    scenario.scenario_label, scenario.vision = "Mobile app", "Two taps"
    scenario.save()
    _, restored = snapshot_restore(snapshot=snapshot, by=owner, expected_version=scenario.version)
    restored.refresh_from_db()
    assert (restored.scenario_label, restored.vision) == ("Web", "One tap")
    assert (restored.state, restored.state_of_id) == ("scenario", journey.pk)

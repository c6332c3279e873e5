"""Several personas per map (issue #17): the migration from the single persona, the API,
the filters, the pages, the history, snapshots and the journeyhub/1 round trip."""

from __future__ import annotations

import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from governance import map_snapshots
from governance.history import map_history
from maps import services
from maps.exchange import ExchangeInvalid, export_document, import_document
from maps.models import JourneyMap, Persona
from tests.builders import build_repository
from tests.factories import JourneyMapFactory, PersonaFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def slugs(journey_map: JourneyMap) -> list[str]:
    return [p.slug for p in JourneyMap.objects.get(pk=journey_map.pk).personas.all()]


@pytest.fixture
def retiree(db) -> Persona:
    return PersonaFactory(name="Retiree", slug="retiree")


@pytest.fixture
def student(db) -> Persona:
    return PersonaFactory(name="Student", slug="student")


# --- the migration -------------------------------------------------------------------

BEFORE = [("maps", "0021_api_list_ordering_indexes")]
AFTER = [("maps", "0022_personas_many")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_each_maps_persona_and_each_historical_rows_and_back():
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        user = old.get_model("auth", "User").objects.create(username="mig")
        persona = old.get_model("maps", "Persona").objects.create(name="Retiree", slug="retiree")
        tree = {"tree_id": 1, "lft": 1, "rght": 2, "level": 0}
        drawn = old.get_model("maps", "JourneyMap").objects.create(
            title="Drawn", slug="drawn", owner=user, persona=persona, review_every_days=30, **tree
        )
        old.get_model("maps", "JourneyMap").objects.create(
            title="Plain", slug="plain", owner=user, review_every_days=30, **{**tree, "tree_id": 2}
        )
        history = old.get_model("maps", "HistoricalJourneyMap").objects.create(
            id=drawn.pk,
            title="Drawn",
            slug="drawn",
            owner_id=user.pk,
            persona_id=persona.pk,
            review_every_days=30,
            created_at=drawn.created_at,
            updated_at=drawn.updated_at,
            history_date=drawn.created_at,
            history_type="+",
        )

        executor.loader.build_graph()
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        maps = new.get_model("maps", "JourneyMap").objects
        assert list(maps.get(slug="drawn").personas.values_list("slug", flat=True)) == ["retiree"]
        assert not maps.get(slug="plain").personas.exists()
        recorded = new.get_model("maps", "HistoricalJourneyMap_personas").objects.get()
        assert (recorded.history_id, recorded.persona_id) == (history.history_id, persona.pk)

        executor.loader.build_graph()
        executor.migrate(BEFORE)  # backwards: the first persona by name
        assert old.get_model("maps", "JourneyMap").objects.get(slug="drawn").persona_id == (
            persona.pk
        )
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
        # the executor alone sends no signals: reinstall what `migrate` installs after a
        # run (the derived-data and search index triggers, which a run must not leave)
        emit_post_migrate_signal(0, False, connection.alias)


# --- the API ---------------------------------------------------------------------------


def test_the_api_reads_a_maps_personas_as_slugs(viewer, team_map, retiree, student):
    team_map.personas.add(student, retiree)

    response = api(viewer).get(f"/api/maps/{team_map.pk}/")

    assert response.data["personas"] == ["retiree", "student"]  # by name
    assert "persona" not in response.data


def test_an_editor_sets_several_personas_in_one_versioned_edit(
    team_member, team_map, retiree, student
):
    response = api(team_member).patch(
        f"/api/maps/{team_map.pk}/",
        {"personas": ["student", "retiree", "student"], "version": 1},
        format="json",
    )

    assert response.status_code == 200, response.data
    assert response.data["personas"] == ["retiree", "student"]
    assert response.data["version"] == 2
    assert slugs(team_map) == ["retiree", "student"]
    # one edit, one historical row, carrying the personas
    latest = JourneyMap.history.filter(id=team_map.pk).latest("history_id")
    assert latest.history_user == team_member
    assert sorted(r.persona.slug for r in latest.personas.all()) == ["retiree", "student"]


def test_an_empty_list_clears_them(owner, team_map, retiree):
    team_map.personas.add(retiree)

    response = api(owner).patch(
        f"/api/maps/{team_map.pk}/", {"personas": [], "version": 1}, format="json"
    )

    assert response.status_code == 200 and slugs(team_map) == []


def test_an_unknown_slug_is_a_400_naming_its_place_and_changes_nothing(owner, team_map, retiree):
    team_map.personas.add(retiree)

    response = api(owner).patch(
        f"/api/maps/{team_map.pk}/",
        {"personas": ["retiree", "nobody"], "version": 1},
        format="json",
    )

    assert response.status_code == 400
    assert response.data["personas"] == {1: ["personas[1]: no persona has the slug “nobody”."]}
    assert slugs(team_map) == ["retiree"]
    assert JourneyMap.objects.get(pk=team_map.pk).version == 1


@pytest.mark.parametrize("value", ["retiree", [7], [{"slug": "retiree"}], None])
def test_personas_that_are_not_a_list_of_slugs_are_a_400(owner, team_map, retiree, value):
    response = api(owner).patch(
        f"/api/maps/{team_map.pk}/", {"personas": value, "version": 1}, format="json"
    )

    assert response.status_code == 400 and "personas" in response.data
    assert JourneyMap.objects.get(pk=team_map.pk).version == 1


def test_the_former_single_persona_is_refused_saying_what_replaced_it(owner, team_map, retiree):
    response = api(owner).patch(
        f"/api/maps/{team_map.pk}/", {"persona": "retiree", "version": 1}, format="json"
    )

    assert response.status_code == 400
    assert "personas" in response.data["persona"][0]
    assert slugs(team_map) == []


@pytest.mark.parametrize("who", ["viewer", "other_owner"])
def test_someone_who_may_not_edit_the_map_may_not_set_its_personas(request, who, team_map, retiree):
    response = api(request.getfixturevalue(who)).patch(
        f"/api/maps/{team_map.pk}/", {"personas": ["retiree"], "version": 1}, format="json"
    )

    assert response.status_code == 403
    assert slugs(team_map) == []


def test_a_map_created_through_the_api_gets_its_personas(owner, team_map, retiree):
    response = api(owner).post(
        "/api/maps/",
        {"title": "Pay a bill", "parent": team_map.pk, "personas": ["retiree"]},
        format="json",
    )

    assert response.status_code == 201, response.data
    assert response.data["personas"] == ["retiree"]
    assert slugs(JourneyMap.objects.get(slug=response.data["slug"])) == ["retiree"]


def test_the_api_filters_maps_by_any_of_several_personas_listing_each_once(
    owner, team_map, retiree, student
):
    both = JourneyMapFactory(owner=owner, title="Both", personas=[retiree, student])
    JourneyMapFactory(owner=owner, title="Other", personas=[PersonaFactory()])
    team_map.personas.add(student)

    response = api(owner).get("/api/maps/?persona=retiree,student")

    assert sorted(row["id"] for row in response.data["results"]) == sorted([team_map.pk, both.pk])


def test_the_map_list_reads_every_maps_personas_in_one_query(
    owner, team, other_owner, django_assert_max_num_queries
):
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=1)
    with CaptureQueriesContext(connection) as small:
        assert api(owner).get("/api/maps/").status_code == 200
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = api(owner).get("/api/maps/")
    named = [row["personas"] for row in response.data["results"] if row["personas"]]
    assert len(named) == 11 and all(len(p) == 2 for p in named)


# --- pages -------------------------------------------------------------------------------


def test_the_map_page_links_each_of_its_personas(client, viewer, team_map, retiree, student):
    team_map.personas.add(retiree, student)
    client.force_login(viewer)

    page = client.get(team_map.get_absolute_url()).text

    assert "<dt>Personas</dt>" in page
    assert (
        '<a href="/personas/retiree/">Retiree</a>, <a href="/personas/student/">Student</a>' in page
    )


def test_the_settings_form_sets_several_personas_as_checkboxes(client, owner, team_map, retiree):
    student = PersonaFactory(name="Student", slug="student")
    client.force_login(owner)
    url = f"/maps/{team_map.slug}/settings/"
    form = client.get(url).text
    assert f'type="checkbox" name="personas" value="{retiree.pk}"' in form
    assert "<legend>Personas</legend>" in form  # the checkboxes are a labelled group

    response = client.post(
        url,
        {
            "title": team_map.title,
            "status": "published",
            "personas": [retiree.pk, student.pk],
            "review_every_days": 90,
            "shown_lanes": ["emotion"],
            "map_version": 1,
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert slugs(team_map) == ["retiree", "student"]


def test_the_history_page_names_the_personas_before_and_after(owner, team_map, retiree, student):
    services.map_update(
        journey_map=team_map, expected_version=1, by=owner, personas=[retiree, student]
    )
    services.map_update(
        journey_map=JourneyMap.objects.get(pk=team_map.pk),
        expected_version=2,
        by=owner,
        personas=[student],
    )

    changes = [
        (c.label, c.before, c.after)
        for e in map_history(team_map)
        if e.kind == "map"
        for c in e.changes
    ]

    assert ("Personas", "Retiree, Student", "Student") in changes
    assert ("Personas", "—", "Retiree, Student") in changes


def test_a_snapshot_restores_the_personas_it_had(owner, team_map, retiree, student):
    team_map.personas.add(retiree)
    snapshot = map_snapshots.snapshot_take(journey_map=team_map, label="before", by=owner)
    services.map_update(journey_map=team_map, expected_version=1, by=owner, personas=[student])

    map_changes, _ = map_snapshots.compare(snapshot, JourneyMap.objects.get(pk=team_map.pk))
    assert ("personas", "retiree", "student") in map_changes
    map_snapshots.snapshot_restore(snapshot=snapshot, by=owner, expected_version=2)

    assert slugs(team_map) == ["retiree"]


# --- journeyhub/1 ------------------------------------------------------------------------


def test_a_maps_personas_survive_export_delete_import(admin_user, team_map, retiree, student):
    team_map.personas.add(retiree, student)
    document = export_document(team_map, user=admin_user)
    assert document["maps"][0]["personas"] == ["retiree", "student"]
    assert [p["slug"] for p in document["personas"]] == ["retiree", "student"]

    JourneyMap.objects.all().delete()
    Persona.objects.all().delete()
    import_document(document, by=admin_user)

    imported = JourneyMap.objects.get(slug=team_map.slug)
    assert slugs(imported) == ["retiree", "student"]
    # the map's historical row records its personas, as an edit's does
    record = JourneyMap.history.filter(id=imported.pk).latest("history_id")
    assert sorted(r.persona.slug for r in record.personas.all()) == ["retiree", "student"]
    again = export_document(imported, user=admin_user)
    assert again["maps"][0]["personas"] == ["retiree", "student"]


def test_a_reimport_changing_only_the_personas_updates_the_map(admin_user, team_map, retiree):
    document = export_document(team_map, user=admin_user)
    document["maps"][0]["personas"] = ["retiree"]  # a persona here, not in the document

    summary = import_document(document, by=admin_user)

    assert summary.updated["map"] == 1
    assert slugs(team_map) == ["retiree"]
    assert JourneyMap.objects.get(pk=team_map.pk).version == 2
    assert not import_document(document, by=admin_user).updated  # the same again: no change


def test_an_unknown_persona_slug_is_named_by_its_path_and_nothing_is_written(
    admin_user, team_map, retiree
):
    document = export_document(team_map, user=admin_user)
    document["maps"][0]["personas"] = ["retiree", "nobody"]

    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=admin_user)

    assert refused.value.problems == [
        "maps[0].personas[1]: no persona of the document or of this repository has the "
        "slug “nobody”"
    ]
    assert slugs(team_map) == []


def test_a_file_from_before_several_personas_is_still_read(admin_user, team_map, retiree):
    document = export_document(team_map, user=admin_user)
    entry = document["maps"][0]
    del entry["personas"]
    entry["persona"] = "retiree"

    import_document(document, by=admin_user)
    assert slugs(team_map) == ["retiree"]

    entry["persona"] = None  # null: none
    import_document(document, by=admin_user)
    assert slugs(team_map) == []


def test_the_older_persona_and_personas_together_are_refused(admin_user, team_map, retiree):
    document = export_document(team_map, user=admin_user)
    document["maps"][0]["persona"] = "retiree"

    with pytest.raises(ExchangeInvalid) as refused:
        import_document(document, by=admin_user)

    assert refused.value.problems[0].startswith("maps[0].persona: give personas")

"""A map's history page: field-by-field changes across the map and its content."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.history import map_history
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory, PainPointFactory, StepFactory

pytestmark = pytest.mark.django_db


def edit(client, journey, kind, pk, data):
    journey.refresh_from_db()
    response = client.post(
        f"/maps/{journey.slug}/edit/{kind}/{pk}/", {**data, "map_version": journey.version}
    )
    assert response.status_code == 302, response.content[:500]


def test_changes_by_two_people_are_listed_field_by_field(client, owner, team_member, team_map):
    step = StepFactory(map=team_map, name="Apply")
    pain = PainPointFactory(map=team_map, step=step, title="Form too long", severity=2)
    client.force_login(owner)
    edit(
        client,
        team_map,
        "painpoint",
        pain.pk,
        {
            "kind": "customer",
            "title": "Form far too long",
            "step": step.pk,
            "severity": 4,
            "frequency": 3,
            "evidence": "researched",
        },
    )
    client.force_login(team_member)
    edit(
        client,
        team_map,
        "step",
        step.pk,
        {"name": "Apply online", "emotion": -1, "evidence": "assumption", "key": step.key},
    )
    entries = map_history(team_map)
    latest, earlier = entries[0], entries[1]
    assert (latest.kind, latest.item, latest.action, latest.who) == (
        "step",
        "Apply online",
        "changed",
        team_member,
    )
    assert [(c.label, c.before, c.after) for c in latest.changes] == [
        ("Name", "Apply", "Apply online"),
        ("Emotion", "0", "-1"),
    ]
    assert earlier.who == owner
    assert {(c.label, c.before, c.after) for c in earlier.changes} == {
        ("Title", "Form too long", "Form far too long"),
        ("Severity", "2", "4"),
        ("Evidence", "Assumption", "Researched"),
    }


def test_the_page_filters_by_person_and_shows_deletions(client, owner, team_member, team_map):
    pain = PainPointFactory(map=team_map, title="Queue at the branch")
    client.force_login(team_member)
    client.post(f"/maps/{team_map.slug}/edit/painpoint/{pain.pk}/delete/", {"map_version": 1})
    page = client.get(f"/maps/{team_map.slug}/history/").text
    assert "Deleted" in page and "Queue at the branch" in page
    only_olivia = client.get(f"/maps/{team_map.slug}/history/?person={owner.pk}").text
    assert "Deleted" not in only_olivia


def test_transfers_show_their_reason(client, owner, other_owner, team_map):
    from governance.services import map_transfer_ownership

    map_transfer_ownership(
        journey_map=team_map, new_owner=other_owner, by=owner, expected_version=1
    )
    client.force_login(owner)
    page = client.get(f"/maps/{team_map.slug}/history/").text
    assert "Ownership transferred to omar by olivia" in page
    assert "Olivia Owens" in page


def test_history_of_a_hidden_draft_is_not_found(client, viewer, draft_map):
    client.force_login(viewer)
    assert client.get(f"/maps/{draft_map.slug}/history/").status_code == 404


def test_content_of_other_maps_stays_out(client, owner, team_map):
    PainPointFactory(map=JourneyMapFactory(owner=owner), title="Elsewhere")
    client.force_login(owner)
    assert "Elsewhere" not in client.get(f"/maps/{team_map.slug}/history/").text


def test_query_count_is_fixed_however_long_the_history(
    client, owner, team_map, django_assert_max_num_queries
):
    build_map_content(team_map, steps=2, items_per_step=1)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/maps/{team_map.slug}/history/")
    large = JourneyMapFactory(owner=owner, slug="large")
    build_map_content(large, steps=20, items_per_step=10)
    for pain in large.pain_points.all()[:50]:
        pain.severity = 5
        pain.save()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(f"/maps/{large.slug}/history/").status_code == 200


def test_a_changed_owner_team_or_parent_is_named_not_numbered(owner, other_owner, team, team_map):
    from django.contrib.auth.models import Group

    parent = JourneyMapFactory(title="Customer lifecycle", owner=owner)
    other_team = Group.objects.create(name="Payments squad")
    team_map.owner, team_map.team, team_map.parent = other_owner, other_team, parent
    team_map.save()

    entries = map_history(team_map)

    changes = {c.label: (c.before, c.after) for c in entries[0].changes}
    assert changes["Owner"] == ("Olivia Owens", "Omar Olsen")
    assert changes["Team"] == (team.name, "Payments squad")
    assert changes["Parent"] == ("—", "Customer lifecycle")


def test_a_deleted_team_is_still_shown_as_deleted(owner, team, team_map):
    from django.contrib.auth.models import Group

    gone = Group.objects.create(name="Dissolved squad")
    team_map.team = gone
    team_map.save()
    team_map.team = team
    team_map.save()
    gone_id = gone.pk
    gone.delete()

    entries = map_history(team_map)

    changes = {c.label: (c.before, c.after) for c in entries[0].changes}
    assert changes["Team"] == (f"#{gone_id} (deleted)", team.name)

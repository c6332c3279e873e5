"""The REST API: visibility, 403/404, versioned writes and 409 conflicts, 400 messages,
ownership transfer, sharing with subtree inheritance, and flat query counts."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from maps.models import JourneyMap, Measurement, PainPoint
from tests.builders import build_repository
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    PainPointFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def ids(response) -> set[int]:
    return {row["id"] for row in response.data["results"]}


class TestAuthentication:
    def test_anonymous_calls_get_401(self):
        response = api().get("/api/maps/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    def test_a_token_from_the_token_endpoint_authenticates(self, owner, team_map):
        got = api().post("/api/auth/token/", {"username": "olivia", "password": "journeyhub"})
        assert got.status_code == 200
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {got.data['token']}")
        assert len(client.get("/api/maps/").data["results"]) == 1
        assert Token.objects.get(user=owner).key == got.data["token"]


class TestVisibility:
    def test_viewers_list_published_maps_only(self, viewer, team_map, draft_map):
        assert ids(api(viewer).get("/api/maps/")) == {team_map.pk}

    def test_someone_elses_draft_is_404_for_read_and_write(self, viewer, owner, draft_map):
        for user in (viewer, owner):
            client = api(user)
            assert client.get(f"/api/maps/{draft_map.pk}/").status_code == 404
            patch = client.patch(f"/api/maps/{draft_map.pk}/", {"title": "x", "version": 1})
            assert patch.status_code == 404

    def test_leadership_sees_drafts(self, leader, team_map, draft_map):
        assert ids(api(leader).get("/api/maps/")) == {team_map.pk, draft_map.pk}

    def test_content_of_a_hidden_draft_is_hidden(self, viewer, draft_map, team_map):
        hidden = PainPointFactory(map=draft_map)
        shown = PainPointFactory(map=team_map)
        assert ids(api(viewer).get("/api/pain-points/")) == {shown.pk}
        assert api(viewer).get(f"/api/pain-points/{hidden.pk}/").status_code == 404

    def test_filters_search_and_ordering(self, owner, team_map):
        PainPointFactory(map=team_map, title="Fees are hidden", severity=5)
        PainPointFactory(map=team_map, title="Slow branch", severity=2)
        client = api(owner)
        assert [
            p["title"] for p in client.get("/api/pain-points/?min_severity=4").data["results"]
        ] == ["Fees are hidden"]
        assert len(client.get("/api/pain-points/?search=branch").data["results"]) == 1
        ordered = client.get("/api/pain-points/?ordering=-severity").data["results"]
        assert [p["severity"] for p in ordered] == [5, 2]

    def test_the_tree_nests_what_the_user_may_see(self, viewer, owner, team, other_owner):
        build_repository(owner=owner, team=team, other_owner=other_owner)
        tree = api(viewer).get("/api/maps/tree/").data
        assert [node["title"] for node in tree] == ["Customer lifecycle 0"]
        journey = tree[0]["children"][0]
        assert journey["title"] == "Onboard 0"
        assert journey["children"] == []  # omar's draft task map is hidden from vic

    def test_the_subtree_of_one_map(self, other_owner, owner, team):
        root = build_repository(owner=owner, team=team, other_owner=other_owner)[0]
        onboard = JourneyMap.objects.get(title="Onboard 0")
        data = api(other_owner).get(f"/api/maps/{onboard.pk}/tree/").data
        assert data["title"] == "Onboard 0"
        assert [c["title"] for c in data["children"]] == ["Verify identity 0"]
        assert (
            api(other_owner).get(f"/api/maps/{root.pk}/tree/").data["children"][0]["id"]
            == onboard.pk
        )


class TestMapWrites:
    def test_the_owner_edits_with_the_version_and_it_moves_on(self, owner, team_map):
        response = api(owner).patch(
            f"/api/maps/{team_map.pk}/", {"summary": "Updated", "version": 1}, format="json"
        )
        assert response.status_code == 200, response.data
        assert response.data["version"] == 2
        team_map.refresh_from_db()
        assert (team_map.summary, team_map.version) == ("Updated", 2)

    def test_a_write_without_version_is_refused_and_changes_nothing(self, owner, team_map):
        response = api(owner).patch(f"/api/maps/{team_map.pk}/", {"summary": "x"}, format="json")
        assert response.status_code == 400
        assert "version" in response.data
        team_map.refresh_from_db()
        assert team_map.summary == ""

    def test_if_match_header_carries_the_version(self, owner, team_map):
        response = api(owner).patch(
            f"/api/maps/{team_map.pk}/",
            {"summary": "Via header"},
            format="json",
            HTTP_IF_MATCH='"1"',
        )
        assert response.status_code == 200

    def test_team_members_edit_their_teams_map(self, team_member, team_map):
        response = api(team_member).patch(
            f"/api/maps/{team_map.pk}/", {"title": "Open an account online", "version": 1}
        )
        assert response.status_code == 200

    @pytest.mark.parametrize("who", ["viewer", "other_owner"])
    def test_others_get_403_before_any_validation(self, request, who, team_map):
        user = request.getfixturevalue(who)
        response = api(user).patch(f"/api/maps/{team_map.pk}/", {"severity": "nonsense"})
        assert response.status_code == 403
        assert "owner" in response.data["detail"]

    def test_two_editors_of_the_same_version_conflict(self, owner, team_member, team_map):
        olivia, tess = api(owner), api(team_member)
        version = olivia.get(f"/api/maps/{team_map.pk}/").data["version"]
        assert tess.get(f"/api/maps/{team_map.pk}/").data["version"] == version
        first = olivia.patch(
            f"/api/maps/{team_map.pk}/", {"summary": "Olivia's", "version": version}, format="json"
        )
        assert first.status_code == 200
        second = tess.patch(
            f"/api/maps/{team_map.pk}/", {"summary": "Tess's", "version": version}, format="json"
        )
        assert second.status_code == 409
        assert second.data["current_version"] == version + 1
        assert second.data["current"]["summary"] == "Olivia's"
        assert "changed by someone else" in second.data["detail"]
        team_map.refresh_from_db()
        assert team_map.summary == "Olivia's"

    def test_a_parent_step_of_another_map_is_a_400_naming_the_field(self, owner, team_map):
        other_step = StepFactory(map=JourneyMapFactory(owner=owner), name="Pay")
        response = api(owner).post(
            "/api/maps/",
            {"title": "Sub", "parent": team_map.pk, "parent_step": other_step.pk},
            format="json",
        )
        assert response.status_code == 400
        assert "belongs to the map" in response.data["parent_step"][0]

    def test_a_map_cannot_move_under_its_own_descendant(self, owner, team_map):
        child = JourneyMapFactory(owner=owner, parent=team_map, title="Child")
        response = api(owner).patch(
            f"/api/maps/{team_map.pk}/", {"parent": child.pk, "version": 1}, format="json"
        )
        assert response.status_code == 400
        assert "own ancestor" in response.data["parent"][0]

    def test_team_members_create_sub_maps_and_own_them(self, team_member, team_map):
        response = api(team_member).post(
            "/api/maps/", {"title": "Upload documents", "parent": team_map.pk}, format="json"
        )
        assert response.status_code == 201, response.data
        assert response.data["owner"] == "tess"
        assert response.data["slug"] == "upload-documents"
        assert response.data["level"] == 1

    def test_viewers_cannot_create_sub_maps(self, viewer, team_map):
        response = api(viewer).post("/api/maps/", {"title": "Mine", "parent": team_map.pk})
        assert response.status_code == 403

    def test_only_leadership_creates_top_level_maps(self, owner, leader):
        assert api(owner).post("/api/maps/", {"title": "New lifecycle"}).status_code == 403
        assert api(leader).post("/api/maps/", {"title": "New lifecycle"}).status_code == 201

    def test_a_map_with_sub_maps_cannot_be_deleted(self, owner, team_map):
        JourneyMapFactory(owner=owner, parent=team_map)
        response = api(owner).delete(f"/api/maps/{team_map.pk}/?version=1")
        assert response.status_code == 400
        assert "1 sub-map" in response.data["non_field_errors"][0]

    def test_the_owner_deletes_with_the_version_the_team_may_not(
        self, owner, team_member, team_map
    ):
        assert api(team_member).delete(f"/api/maps/{team_map.pk}/?version=1").status_code == 403
        assert api(owner).delete(f"/api/maps/{team_map.pk}/?version=1").status_code == 204
        assert not JourneyMap.objects.filter(pk=team_map.pk).exists()


class TestContentWrites:
    def test_adding_a_pain_point_bumps_the_map_version(self, team_member, team_map):
        response = api(team_member).post(
            "/api/pain-points/",
            {"map": team_map.pk, "title": "ID check fails", "kind": "employee", "map_version": 1},
            format="json",
        )
        assert response.status_code == 201, response.data
        team_map.refresh_from_db()
        assert team_map.version == 2
        assert "map_version" not in response.data

    def test_a_stale_content_write_is_409_and_writes_nothing(self, owner, team_map):
        JourneyMap.objects.filter(pk=team_map.pk).update(version=5)
        response = api(owner).post(
            "/api/pain-points/",
            {"map": team_map.pk, "title": "Late", "map_version": 4},
            format="json",
        )
        assert response.status_code == 409
        assert response.data["current_version"] == 5
        assert not PainPoint.objects.exists()

    def test_a_stale_update_returns_the_current_item(self, owner, team_map):
        pain = PainPointFactory(map=team_map, title="Original")
        client = api(owner)
        assert (
            client.patch(
                f"/api/pain-points/{pain.pk}/",
                {"title": "First edit", "map_version": 1},
                format="json",
            ).status_code
            == 200
        )
        stale = client.patch(
            f"/api/pain-points/{pain.pk}/",
            {"title": "Second edit", "map_version": 1},
            format="json",
        )
        assert stale.status_code == 409
        assert stale.data["current"]["title"] == "First edit"

    def test_severity_out_of_range_is_a_400_on_the_field(self, owner, team_map):
        response = api(owner).post(
            "/api/pain-points/",
            {"map": team_map.pk, "title": "x", "severity": 9, "map_version": 1},
            format="json",
        )
        assert response.status_code == 400
        assert response.data["severity"] == ["Ensure this value is less than or equal to 5."]
        team_map.refresh_from_db()
        assert team_map.version == 1

    def test_garbage_values_are_400_not_500(self, owner, team_map):
        client = api(owner)
        for payload in (
            {"map": team_map.pk, "title": "x", "severity": "high", "map_version": 1},
            {"map": team_map.pk, "title": "x", "map_version": "one"},
            {"map": "nope", "title": "x", "map_version": 1},
            {"map": team_map.pk, "title": "x" * 500, "map_version": 1},
        ):
            assert client.post("/api/pain-points/", payload, format="json").status_code == 400
        bad_json = client.post("/api/pain-points/", "{oops", content_type="application/json")
        assert bad_json.status_code == 400

    def test_a_step_link_across_maps_is_refused(self, owner, team_map):
        here = StepFactory(map=team_map)
        there = StepFactory(map=JourneyMapFactory(owner=owner))
        response = api(owner).post(
            "/api/step-links/",
            {"from_step": here.pk, "to_step": there.pk, "kind": "loop", "map_version": 1},
            format="json",
        )
        assert response.status_code == 400
        assert response.data["to_step"] == ["Both steps of a link must be on the same map."]

    def test_content_of_others_maps_is_403(self, other_owner, team_map):
        pain = PainPointFactory(map=team_map)
        response = api(other_owner).delete(f"/api/pain-points/{pain.pk}/?map_version=1")
        assert response.status_code == 403
        create = api(other_owner).post(
            "/api/pain-points/", {"map": team_map.pk, "title": "x", "map_version": 1}
        )
        assert create.status_code == 403
        assert PainPoint.objects.count() == 1

    def test_delete_needs_the_version(self, owner, team_map):
        pain = PainPointFactory(map=team_map)
        assert api(owner).delete(f"/api/pain-points/{pain.pk}/").status_code == 400
        assert (
            api(owner).delete(f"/api/pain-points/{pain.pk}/", HTTP_IF_MATCH="1").status_code == 204
        )


class TestMeasurements:
    def test_editors_record_measurements_and_a_second_value_replaces_the_first(
        self, team_member, team_map
    ):
        kpi = KPIFactory(map=team_map)
        client = api(team_member)
        url = f"/api/kpis/{kpi.pk}/measurements/"
        assert client.post(url, {"date": "2026-10-01", "value": 61.5}).status_code == 201
        assert client.post(url, {"date": "2026-10-01", "value": 63}).status_code == 201
        assert list(Measurement.objects.values_list("value", flat=True)) == [63.0]
        listed = client.get(url).data
        assert [m["value"] for m in listed["results"]] == [63.0]

    def test_viewers_read_but_cannot_record(self, viewer, team_map):
        kpi = KPIFactory(map=team_map)
        url = f"/api/kpis/{kpi.pk}/measurements/"
        assert api(viewer).get(url).status_code == 200
        assert api(viewer).post(url, {"date": "2026-10-01", "value": 1}).status_code == 403

    def test_a_bad_date_names_the_field(self, owner, team_map):
        kpi = KPIFactory(map=team_map)
        response = api(owner).post(
            f"/api/kpis/{kpi.pk}/measurements/", {"date": "31/12", "value": 1}
        )
        assert response.status_code == 400
        assert "date" in response.data


class TestTransfer:
    def test_the_owner_hands_over_and_the_new_owner_is_told(
        self, owner, other_owner, team_map, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = api(owner).post(
                f"/api/maps/{team_map.pk}/transfer/",
                {"owner": "omar", "version": 1, "note": "Omar runs servicing now"},
                format="json",
            )
        assert response.status_code == 200, response.data
        assert response.data["owner"] == "omar"
        record = team_map.history.first()
        assert record.history_user == owner
        assert record.history_change_reason == (
            "Ownership transferred to omar by olivia: Omar runs servicing now"
        )
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["omar@example.com"]
        assert "Open an account" in mail.outbox[0].subject

    def test_team_members_cannot_transfer(self, team_member, team_map):
        response = api(team_member).post(
            f"/api/maps/{team_map.pk}/transfer/", {"owner": "tess", "version": 1}
        )
        assert response.status_code == 403
        assert mail.outbox == []

    def test_leadership_can_transfer(self, leader, other_owner, team_map):
        response = api(leader).post(
            f"/api/maps/{team_map.pk}/transfer/", {"owner": "omar", "version": 1}
        )
        assert response.status_code == 200

    def test_an_unknown_user_is_named(self, owner, team_map):
        response = api(owner).post(
            f"/api/maps/{team_map.pk}/transfer/", {"owner": "nobody", "version": 1}
        )
        assert response.status_code == 400
        assert "owner" in response.data

    def test_a_stale_transfer_conflicts(self, owner, other_owner, team_map):
        JourneyMap.objects.filter(pk=team_map.pk).update(version=3)
        response = api(owner).post(
            f"/api/maps/{team_map.pk}/transfer/", {"owner": "omar", "version": 2}
        )
        assert response.status_code == 409
        team_map.refresh_from_db()
        assert team_map.owner == owner


class TestSharing:
    def test_an_editor_grant_covers_the_whole_subtree(self, owner, other_owner, team_map):
        task = JourneyMapFactory(owner=owner, parent=team_map, title="Task", status="draft")
        assert api(other_owner).get(f"/api/maps/{task.pk}/").status_code == 404
        grant = api(owner).post(
            "/api/map-grants/",
            {"map": team_map.pk, "user": "omar", "role": "editor"},
            format="json",
        )
        assert grant.status_code == 201, grant.data
        omar = api(other_owner)
        assert omar.get(f"/api/maps/{task.pk}/").status_code == 200
        added = omar.post(
            "/api/pain-points/",
            {"map": task.pk, "title": "From omar", "map_version": 1},
            format="json",
        )
        assert added.status_code == 201
        assert api(owner).delete(f"/api/map-grants/{grant.data['id']}/").status_code == 204
        assert omar.get(f"/api/maps/{task.pk}/").status_code == 404

    def test_a_viewer_grant_shows_drafts_but_does_not_allow_edits(self, owner, viewer):
        draft = JourneyMapFactory(owner=owner, status="draft")
        api(owner).post("/api/map-grants/", {"map": draft.pk, "user": "vic", "role": "viewer"})
        vic = api(viewer)
        assert vic.get(f"/api/maps/{draft.pk}/").status_code == 200
        assert vic.patch(f"/api/maps/{draft.pk}/", {"title": "x", "version": 1}).status_code == 403

    def test_team_members_cannot_share_the_teams_map(self, team_member, viewer, team_map):
        response = api(team_member).post(
            "/api/map-grants/", {"map": team_map.pk, "user": "vic", "role": "editor"}
        )
        assert response.status_code == 403

    def test_an_unknown_role_is_named(self, owner, viewer, team_map):
        response = api(owner).post(
            "/api/map-grants/", {"map": team_map.pk, "user": "vic", "role": "boss"}
        )
        assert response.status_code == 400
        assert "role" in response.data


class TestProjects:
    def test_viewers_cannot_create_projects(self, viewer):
        response = api(viewer).post("/api/projects/", {"title": "Mine", "effort": 2})
        assert response.status_code == 403

    def test_addressed_steps_bring_their_maps(self, owner, team_map):
        step = StepFactory(map=team_map)
        response = api(owner).post(
            "/api/projects/", {"title": "Faster ID", "effort": 3, "steps": [step.pk]}, format="json"
        )
        assert response.status_code == 201, response.data
        assert response.data["maps"] == [team_map.pk]
        assert response.data["owner"] == "olivia"

    def test_projects_on_hidden_drafts_are_hidden(self, viewer, other_owner, draft_map, team_map):
        hidden = CXProjectFactory(owner=other_owner, maps=[draft_map])
        shown = CXProjectFactory(owner=other_owner, maps=[team_map])
        assert ids(api(viewer).get("/api/projects/")) == {shown.pk}
        assert api(viewer).get(f"/api/projects/{hidden.pk}/").status_code == 404

    def test_only_owner_team_and_leadership_edit_a_project(
        self, owner, other_owner, leader, team_map
    ):
        project = CXProjectFactory(owner=owner, maps=[team_map])
        assert (
            api(other_owner).patch(f"/api/projects/{project.pk}/", {"impact": 5}).status_code == 403
        )
        assert api(leader).patch(f"/api/projects/{project.pk}/", {"impact": 5}).status_code == 200

    def test_confidence_out_of_range_names_the_field(self, owner):
        response = api(owner).post(
            "/api/projects/", {"title": "x", "effort": 1, "confidence": 120}, format="json"
        )
        assert response.status_code in (400, 403)  # olivia edits no map here → 403


class TestSchema:
    def test_the_schema_documents_every_resource(self, owner):
        response = api(owner).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert response.status_code == 200
        paths = response.json()["paths"] if hasattr(response, "json") else {}
        for path in (
            "/api/maps/",
            "/api/maps/{id}/",
            "/api/maps/{id}/tree/",
            "/api/maps/tree/",
            "/api/maps/{id}/transfer/",
            "/api/steps/",
            "/api/pain-points/",
            "/api/kpis/{id}/measurements/",
            "/api/projects/",
            "/api/map-grants/",
        ):
            assert path in paths, path
        assert "409" in paths["/api/maps/{id}/"]["patch"]["responses"]

    def test_the_docs_page_is_served_without_a_cdn(self, client, owner):
        client.force_login(owner)
        page = client.get("/api/docs/").text
        assert "swagger-ui" in page
        assert "cdn" not in page.lower()

    def test_anonymous_users_cannot_read_the_schema(self):
        assert api().get("/api/schema/").status_code == 401


LIST_ENDPOINTS = [
    "/api/maps/",
    "/api/maps/tree/",
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
    "/api/map-grants/",
]


@pytest.mark.parametrize("url", LIST_ENDPOINTS)
def test_list_query_counts_stay_flat_with_ten_times_the_data(
    url, owner, team, other_owner, django_assert_max_num_queries
):
    client = api(owner)
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=9)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url + ("?page_size=500" if url != "/api/maps/tree/" else ""))
    assert response.status_code == 200


class TestReviewThroughTheApi:
    def test_the_owner_marks_a_map_reviewed(self, owner, team_map):
        response = api(owner).post(f"/api/maps/{team_map.pk}/review/", {"note": "All current"})
        assert response.status_code == 200
        assert response.data["is_review_due"] is False
        assert response.data["last_reviewed_at"] is not None
        assert team_map.reviews.get().note == "All current"

    @pytest.mark.parametrize("who", ["team_member", "viewer", "leader"])
    def test_nobody_else_does(self, request, who, team_map):
        response = api(request.getfixturevalue(who)).post(f"/api/maps/{team_map.pk}/review/")
        assert response.status_code == 403
        assert not team_map.reviews.exists()

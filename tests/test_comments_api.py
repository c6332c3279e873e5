"""``/api/comments/``: the same rules as the pages, field-named 400s, 404 for hidden
maps, query counts that do not grow with the data, and the OpenAPI description."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from governance import comments
from governance.models import Comment
from tests.factories import PainPointFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def pain(team_map):
    return PainPointFactory(map=team_map, title="Waiting for the ID check")


def test_a_viewer_opens_a_thread_on_a_pain_point_and_mentions_a_team_member(
    viewer, team_member, team_map, pain, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(viewer).post(
            "/api/comments/",
            {
                "map": team_map.pk,
                "target_kind": "painpoint",
                "target_id": pain.pk,
                "body": "@tess <b>why</b> so slow?",
            },
            format="json",
        )
    assert response.status_code == 201, response.data
    assert response.data["author"] == "vic"
    assert response.data["mentions"] == ["tess"]
    assert response.data["body"] == "@tess <b>why</b> so slow?"  # stored as typed
    assert [m.to for m in mail.outbox] == [[team_member.email]]


def test_a_reply_through_the_api_joins_the_thread(viewer, owner, team_map, pain):
    top = comments.comment_create(
        journey_map=team_map, author=viewer, body="Top", target_kind="painpoint", target_id=pain.pk
    )
    response = api(owner).post(
        "/api/comments/", {"map": team_map.pk, "parent": top.pk, "body": "On it"}, format="json"
    )
    assert response.status_code == 201
    assert (response.data["parent"], response.data["target_kind"]) == (top.pk, "painpoint")
    listed = api(viewer).get(f"/api/comments/?thread={top.pk}").data["results"]
    assert [c["body"] for c in listed] == ["Top", "On it"]


MAP = object()  # stands for the team map's id


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"body": "x"}, "map"),
        ({"map": "nope", "body": "x"}, "map"),
        ({"map": MAP, "body": ""}, "body"),
        ({"map": MAP, "body": "   "}, "body"),
        ({"map": MAP, "body": "x" * 5001}, "body"),
        ({"map": MAP, "target_kind": "user", "target_id": 1, "body": "x"}, "target_kind"),
        ({"map": MAP, "target_kind": "painpoint", "target_id": 999999, "body": "x"}, "target_id"),
        ({"map": MAP, "target_kind": "painpoint", "body": "x"}, "target_id"),
        ({"map": MAP, "target_id": -1, "body": "x"}, "target_id"),
        ({"map": MAP, "parent": 999999, "body": "x"}, "parent"),
    ],
)
def test_bad_input_gets_a_400_naming_the_field_and_changes_nothing(
    viewer, team_map, payload, field
):
    data = {key: team_map.pk if value is MAP else value for key, value in payload.items()}
    response = api(viewer).post("/api/comments/", data, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data
    assert not Comment.objects.exists()


def test_a_map_the_caller_may_not_see_is_refused_like_a_map_that_does_not_exist(viewer, draft_map):
    hidden = api(viewer).post("/api/comments/", {"map": draft_map.pk, "body": "hi"}, format="json")
    missing = api(viewer).post("/api/comments/", {"map": 999999, "body": "hi"}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert str(hidden.data["map"][0]).replace(str(draft_map.pk), "N") == str(
        missing.data["map"][0]
    ).replace("999999", "N")


def test_comments_on_a_hidden_map_are_not_listed_and_answer_404(
    viewer, other_owner, draft_map, team_map
):
    secret = comments.comment_create(journey_map=draft_map, author=other_owner, body="Secret")
    comments.comment_create(journey_map=team_map, author=viewer, body="Public")
    client = api(viewer)
    assert [c["body"] for c in client.get("/api/comments/").data["results"]] == ["Public"]
    assert client.get(f"/api/comments/{secret.pk}/").status_code == 404
    assert client.patch(f"/api/comments/{secret.pk}/", {"body": "x"}).status_code == 404
    assert client.post(f"/api/comments/{secret.pk}/resolve/").status_code == 404


def test_the_list_filters_by_map_item_and_open_threads(viewer, owner, team_map, pain):
    on_pain = comments.comment_create(
        journey_map=team_map, author=viewer, body="P", target_kind="painpoint", target_id=pain.pk
    )
    on_map = comments.comment_create(journey_map=team_map, author=viewer, body="M")
    comments.thread_set_resolved(thread=on_map, by=owner, resolved=True)
    client = api(viewer)
    item = client.get(f"/api/comments/?map={team_map.pk}&target_kind=painpoint&target_id={pain.pk}")
    assert [c["id"] for c in item.data["results"]] == [on_pain.pk]
    assert [c["id"] for c in client.get("/api/comments/?open=true").data["results"]] == [on_pain.pk]
    assert [c["id"] for c in client.get("/api/comments/?open=false").data["results"]] == [on_map.pk]
    bad = client.get("/api/comments/?target_kind=user")
    assert bad.status_code == 400 and "target_kind" in bad.data


def test_an_edit_after_the_window_is_a_400_with_the_reason(viewer, team_map):
    comment = comments.comment_create(journey_map=team_map, author=viewer, body="Old")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    response = api(viewer).patch(f"/api/comments/{comment.pk}/", {"body": "New"}, format="json")
    assert response.status_code == 400
    assert "minutes after posting" in str(response.data["body"])
    comment.refresh_from_db()
    assert comment.body == "Old"


def test_removing_through_the_api_keeps_the_thread(viewer, owner, team_map):
    top = comments.comment_create(journey_map=team_map, author=viewer, body="Top")
    comments.comment_create(journey_map=team_map, author=owner, body="Reply", parent=top)
    assert api(viewer).delete(f"/api/comments/{top.pk}/").status_code == 204
    data = api(owner).get(f"/api/comments/{top.pk}/").data
    assert data["body"] == "" and data["removed_at"] is not None
    assert Comment.objects.filter(parent=top).count() == 1


def test_resolving_a_reply_is_a_400_naming_the_parent(viewer, team_map):
    top = comments.comment_create(journey_map=team_map, author=viewer, body="Top")
    reply = comments.comment_create(journey_map=team_map, author=viewer, body="R", parent=top)
    response = api(viewer).post(f"/api/comments/{reply.pk}/resolve/")
    assert response.status_code == 400 and "parent" in response.data


def test_the_list_takes_the_same_queries_at_ten_times_the_data(viewer, owner, team_map):
    def add(n):
        for i in range(n):
            pain = PainPointFactory(map=team_map)
            top = comments.comment_create(
                journey_map=team_map, author=viewer, body=f"@olivia {i}",
                target_kind="painpoint", target_id=pain.pk,
            )  # fmt: skip
            comments.comment_create(journey_map=team_map, author=owner, body="@vic", parent=top)

    def listed() -> int:  # a fresh user each time: the policy caches its groups on it
        client = api(type(viewer).objects.get(pk=viewer.pk))
        return len(client.get(f"/api/comments/?map={team_map.pk}").data["results"])

    add(2)
    with CaptureQueriesContext(connection) as small:
        assert listed() == 4
    add(18)
    with CaptureQueriesContext(connection) as big:
        assert listed() == 40
    # (the user), leadership?, groups, the comments with authors, their mentions' users
    assert len(big.captured_queries) == len(small.captured_queries) <= 6


def test_the_openapi_description_documents_the_comments_endpoints(admin_user):
    schema = api(admin_user).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/comments/"])
    assert {"get", "patch", "delete"} <= set(paths["/api/comments/{id}/"])
    assert "post" in paths["/api/comments/{id}/resolve/"]
    assert "post" in paths["/api/comments/{id}/reopen/"]
    body = schema["components"]["schemas"]["Comment"]["properties"]["body"]
    assert "@username" in body["description"]

"""The research API: sources, quotes and attachments, filtered by what the user may see,
written by the map's editors through the same rules as the pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from maps.models import Attachment, Quote, ResearchSource
from tests.factories import JourneyMapFactory, LaneItemFactory, StepFactory
from tests.research_data import PDF, attach, source_with_quotes, tagged

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "team_member", "owner", "other_owner", "leader", "admin_user")
EDITORS = {"team_member", "owner", "admin_user"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def current_version(journey_map) -> int:
    journey_map.refresh_from_db()
    return journey_map.version


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_only_the_research_of_maps_the_user_may_see(request, role, team_map, draft_map):
    visible = source_with_quotes(team_map, title="Published research", quotes=1)
    attach(visible)
    hidden = source_with_quotes(draft_map, title="Draft research", quotes=1)
    attach(hidden)
    client = api(request.getfixturevalue(role))
    sees_draft = role in {"other_owner", "leader", "admin_user"}
    titles = {row["title"] for row in client.get("/api/research-sources/").json()["results"]}
    assert titles == (
        {"Published research", "Draft research"} if sees_draft else {"Published research"}
    )
    quotes = {row["source"] for row in client.get("/api/quotes/").json()["results"]}
    assert (hidden.pk in quotes) == sees_draft and visible.pk in quotes
    files = {row["source"] for row in client.get("/api/research-attachments/").json()["results"]}
    assert (hidden.pk in files) == sees_draft
    status = client.get(f"/api/research-sources/{hidden.pk}/").status_code
    assert status == (200 if sees_draft else 404)


def test_anonymous_callers_get_401(team_map):
    for url in ("/api/research-sources/", "/api/quotes/", "/api/research-attachments/"):
        assert api().get(url).status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_only_the_maps_editors_create_a_source_with_its_links(request, role, team_map):
    step = StepFactory(map=team_map)
    response = api(request.getfixturevalue(role)).post(
        "/api/research-sources/",
        {
            "map": team_map.pk,
            "kind": "survey",
            "title": "NPS survey, Q2",
            "conducted_on": "2026-06-30",
            "steps": [step.pk],
            "map_version": current_version(team_map),
        },
        format="json",
    )
    if role in EDITORS:
        assert response.status_code == 201, response.json()
        source = ResearchSource.objects.get()
        assert response.json()["steps"] == [step.pk]
        assert response.json()["owner"] == request.getfixturevalue(role).username
        assert list(source.steps.all()) == [step]
    else:
        assert response.status_code == 403
        assert not ResearchSource.objects.exists()


def test_a_quote_linked_to_another_maps_step_is_refused_with_the_field_named(owner, team_map):
    source = source_with_quotes(team_map, quotes=0)
    elsewhere = StepFactory(map=JourneyMapFactory(owner=owner, slug="elsewhere"))
    response = api(owner).post(
        "/api/quotes/",
        {
            "source": source.pk,
            "text": "Too many fields",
            "steps": [elsewhere.pk],
            "map_version": current_version(team_map),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "of its own map" in response.json()["steps"][0]
    assert not Quote.objects.exists()


def test_a_hidden_step_is_reported_like_a_missing_one(owner, team_map, draft_map):
    source = source_with_quotes(team_map, quotes=0)
    hidden = StepFactory(map=draft_map)
    response = api(owner).post(
        "/api/quotes/",
        {"source": source.pk, "text": "x", "steps": [hidden.pk], "map_version": team_map.version},
        format="json",
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["steps"][0]


def test_a_quote_is_created_updated_and_deleted_with_the_map_version(owner, team_map):
    source = source_with_quotes(team_map, quotes=0)
    item = LaneItemFactory(map=team_map, kind="insight")
    client = api(owner)
    created = client.post(
        "/api/quotes/",
        {
            "source": source.pk,
            "text": "I gave up at the selfie.",
            "persona_hint": "Student",
            "lane_items": [item.pk],
            "map_version": current_version(team_map),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    quote = Quote.objects.get()
    tagged(quote, "App")
    body = client.get(f"/api/quotes/{quote.pk}/").json()
    assert body["tags"] == ["Channel: App"] and body["lane_items"] == [item.pk]
    assert body["map"] == team_map.pk
    stale = current_version(team_map) - 1
    conflict = client.patch(
        f"/api/quotes/{quote.pk}/", {"text": "Changed", "map_version": stale}, format="json"
    )
    assert conflict.status_code == 409
    assert conflict.json()["current"]["text"] == "I gave up at the selfie."
    patched = client.patch(
        f"/api/quotes/{quote.pk}/",
        {"text": "Changed", "map_version": current_version(team_map)},
        format="json",
    )
    assert patched.status_code == 200 and patched.json()["text"] == "Changed"
    deleted = client.delete(f"/api/quotes/{quote.pk}/?map_version={current_version(team_map)}")
    assert deleted.status_code == 204 and not Quote.objects.exists()


def test_a_write_without_the_map_version_is_refused_naming_it(owner, team_map):
    response = api(owner).post(
        "/api/research-sources/", {"map": team_map.pk, "title": "x"}, format="json"
    )
    assert response.status_code == 400 and "map_version" in response.json()


@pytest.mark.parametrize("role", ROLES)
def test_only_the_maps_editors_upload_files_and_the_type_is_decided_by_us(
    request, role, team_map, media
):
    source = source_with_quotes(team_map, quotes=0)
    response = api(request.getfixturevalue(role)).post(
        "/api/research-attachments/",
        {"source": source.pk, "file": SimpleUploadedFile("report.pdf", PDF, "text/html")},
        format="multipart",
    )
    if role in EDITORS:
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["name"], body["content_type"], body["size"]) == (
            "report.pdf",
            "application/pdf",
            len(PDF),
        )
        assert body["download_url"].endswith(f"/maps/{team_map.slug}/research/files/{body['id']}/")
    else:
        assert response.status_code == 403
        assert not Attachment.objects.exists()


def test_a_refused_upload_answers_400_naming_the_file_and_stores_nothing(owner, team_map, media):
    source = source_with_quotes(team_map, quotes=0)
    response = api(owner).post(
        "/api/research-attachments/",
        {"source": source.pk, "file": SimpleUploadedFile("run.html", b"<html></html>")},
        format="multipart",
    )
    assert response.status_code == 400
    assert ".html files are not accepted" in response.json()["file"][0]
    assert not Attachment.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_an_editor_deletes_a_file_and_a_viewer_may_not(
    owner, viewer, team_map, django_capture_on_commit_callbacks, media
):
    attachment = attach(source_with_quotes(team_map, quotes=0))
    assert api(viewer).delete(f"/api/research-attachments/{attachment.pk}/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api(owner).delete(f"/api/research-attachments/{attachment.pk}/")
    assert response.status_code == 204
    assert not any(p.is_file() for p in media.rglob("*"))


def test_the_list_of_quotes_costs_the_same_queries_for_ten_times_the_quotes(
    owner, team_map, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    step = StepFactory(map=team_map)

    def more(n: int) -> None:
        for i in range(n):
            source = source_with_quotes(team_map, title=f"S{i}", quotes=2)
            for quote in source.quotes.all():
                tagged(quote, "Web")
                quote.steps.add(step)

    more(1)
    client = api(owner)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/api/quotes/").status_code == 200
    more(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/api/quotes/").status_code == 200
    with CaptureQueriesContext(connection) as sources_small:
        client.get("/api/research-sources/")
    more(10)
    with django_assert_max_num_queries(len(sources_small.captured_queries)):
        client.get("/api/research-sources/")


def test_lane_items_and_kpis_expose_their_new_fields(owner, team_map):
    from maps.models import Tag

    item = LaneItemFactory(
        map=team_map,
        kind="opportunity",
        owner=owner,
        status="new",
        item_type="Quick win",
        empathy_score=3.5,
        weight=2.0,
        external_links=["https://example.com"],
    )
    item.tags.set([Tag.objects.create(name="Onboarding")])
    body = api(owner).get(f"/api/lane-items/{item.pk}/").json()
    assert body["owner"] == "olivia" and body["tags"] == ["Onboarding"]
    assert (body["status"], body["item_type"], body["empathy_score"], body["weight"]) == (
        "new",
        "Quick win",
        3.5,
        2.0,
    )
    assert body["external_links"] == ["https://example.com"]
    patched = api(owner).patch(
        f"/api/lane-items/{item.pk}/",
        {"owner": None, "weight": 5, "map_version": current_version(team_map)},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["owner"] is None and patched.json()["weight"] == 5

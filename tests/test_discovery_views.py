"""The discovery pages: upload → proposal (htmx thresholds) → "Create map" or discard,
who may use them, and what is kept of the upload."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maps.discovery.store import (
    upload_claim,
    upload_for_user,
    upload_release,
    upload_save,
    uploads_expire,
)
from maps.models import EventActivityMapping, EventImport, JourneyMap, Step, StepLink
from tests.factories import JourneyMapFactory, StepFactory
from tests.test_discovery import csv_log
from tests.test_xes import flat_xes

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def zoom_step(team_map):
    StepFactory(map=team_map, key="intro", name="Introduction", position=0)
    return StepFactory(map=team_map, key="apply", name="Apply for a permit", position=1)


def _folders(media):
    root = media / "discovery"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def _upload(client, *, parent=None, content=None, name="permits.csv", **data):
    url = reverse("maps:discover") + (f"?parent={parent.slug}" if parent else "")
    file = SimpleUploadedFile(name, content or csv_log(), "text/csv")
    return client.post(url, {"file": file, **data})


def test_a_leader_uploads_a_log_and_reads_its_proposal(client, leader, media):
    client.force_login(leader)
    response = _upload(client)
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "A map discovered from “permits.csv”" in html
    assert "20 events of 5 cases, 6 activities" in html
    assert 'name="name-0" value="apply"' in html
    assert "branch · 20 % of cases" in html  # drawn
    assert "40.0 %</strong> (2 cases): apply → check → approve → pay" in html
    assert "A new top-level map" in html


def test_an_owner_creates_a_sub_map_under_a_step_with_its_steps_links_ends_and_mapping(
    client, owner, team_map, zoom_step, media, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    proposal_url = _upload(client, parent=team_map)["Location"]
    token = proposal_url.rstrip("/").rsplit("/", 1)[-1]
    data = {
        "title": "Permit applications",
        "placement": str(zoom_step.pk),
        "import_events": "on",
        "link_threshold": "5",
        "end_threshold": "5",
        **{f"name-{i}": n for i, n in enumerate(["Apply", "Check", "Approve", "Pay"])},
        "name-4": "Reject",
        "name-5": "Fix the application",
        "end-3": "success",
        "end-4": "other",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("maps:discover-create", args=[token]), data)
    assert response.status_code == 302
    new = JourneyMap.objects.get(title="Permit applications")
    assert (new.parent, new.parent_step, new.owner, new.team) == (
        team_map,
        zoom_step,
        owner,
        team_map.team,
    )
    steps = list(Step.objects.filter(map=new).order_by("position"))
    assert [(s.key, s.name, s.end_kind) for s in steps] == [
        ("apply", "Apply", ""),
        ("check", "Check", ""),
        ("fix-the-application", "Fix the application", ""),
        ("approve", "Approve", ""),
        ("pay", "Pay", "success"),
        ("reject", "Reject", "other"),
    ]
    links = StepLink.objects.filter(from_step__map=new).select_related("from_step", "to_step")
    assert sorted((x.from_step.key, x.to_step.key, x.kind, x.label) for x in links) == [
        ("apply", "approve", "skip", "20 % of cases"),
        ("check", "approve", "skip", "60 % of cases"),
        ("check", "reject", "branch", "20 % of cases"),
        ("fix-the-application", "check", "loop", "20 % of cases"),
    ]
    mapping = dict(
        EventActivityMapping.objects.filter(map=new).values_list("activity", "step__key")
    )
    assert mapping == {
        "apply": "apply",
        "check": "check",
        "fix": "fix-the-application",
        "approve": "approve",
        "pay": "pay",
        "reject": "reject",
    }
    # through the editor's services: history with the author, the map's version moved on
    assert [h.history_user for h in Step.history.filter(map_id=new.pk)] == [owner] * 6
    link_history = StepLink.history.filter(from_step__map_id=new.pk)
    assert [h.history_user for h in link_history] == [owner] * 4
    # the log's figures were imported into the new map, and the upload is gone
    event_import = EventImport.objects.get(map=new)
    assert response["Location"] == reverse("maps:event-import", args=[new.slug, event_import.pk])
    assert event_import.status == EventImport.Status.DONE, event_import.error
    assert (event_import.events, event_import.cases) == (20, 5)
    reached = {row["key"]: row["reached"] for row in event_import.result["steps"]}
    assert reached == {
        "apply": 5,
        "check": 4,
        "fix-the-application": 1,
        "approve": 4,
        "pay": 4,
        "reject": 1,
    }
    # every case ended at one of the discovered end steps: complete, none dropped off
    assert event_import.result["completion_rate"] == 100.0
    assert _folders(media) == []


def test_an_ungrouped_xes_log_is_imported_into_its_map_case_by_case(
    client, leader, media, django_capture_on_commit_callbacks
):
    client.force_login(leader)
    rows = [
        ("b", "start", "2026-02-01T10:00:00Z"),
        ("a", "start", "2026-02-01T09:00:00Z"),
        ("b", "finish", "2026-02-01T12:00:00Z"),
        ("a", "finish", "2026-02-01T11:00:00Z"),
    ]
    token = _upload(client, content=flat_xes(rows), name="log.xes")["Location"].split("/")[-2]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("maps:discover-create", args=[token]),
            {"title": "Two cases", "import_events": "on"},
        )
    event_import = EventImport.objects.get(map__title="Two cases")
    assert event_import.status == EventImport.Status.DONE, event_import.error
    assert (event_import.events, event_import.cases) == (4, 2)


def test_changing_a_threshold_re_renders_the_proposal_for_htmx_keeping_the_names(
    client, leader, media
):
    client.force_login(leader)
    url = _upload(client)["Location"]
    response = client.get(
        url,
        {"link_threshold": "25", "end_threshold": "25", "name-0": "Apply online"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the partial only
    assert 'value="Apply online"' in html
    assert "skip · 60 % of cases" in html and "branch ·" not in html
    assert html.count('<option value="success" selected>') == 1
    assert html.count('<option value="other" selected>') == 0  # reject is no end at 25 %
    assert "HX-Request" in response["Vary"]


def test_a_threshold_that_is_not_a_percentage_is_a_400_naming_the_field(client, leader, media):
    client.force_login(leader)
    url = _upload(client)["Location"]
    response = client.get(url, {"link_threshold": "150"})
    assert response.status_code == 400
    assert (
        "link_threshold: “150” is not a percentage between 0 and 100." in response.content.decode()
    )


def test_creating_without_a_title_is_a_400_and_creates_nothing(client, leader, media):
    client.force_login(leader)
    token = _upload(client)["Location"].split("/")[-2]
    response = client.post(reverse("maps:discover-create", args=[token]), {"title": " "})
    assert response.status_code == 400
    assert "title: Give the new map a title." in response.content.decode()
    assert not JourneyMap.objects.exists()
    assert _folders(media) == [token]  # still there to try again


def test_a_bad_end_kind_or_placement_is_a_400_naming_the_field(
    client, owner, team_map, zoom_step, media
):
    client.force_login(owner)
    token = _upload(client, parent=team_map)["Location"].split("/")[-2]
    other_step = StepFactory(map=JourneyMapFactory(owner=owner))
    response = client.post(
        reverse("maps:discover-create", args=[token]),
        {"title": "X", "end-0": "maybe", "placement": str(other_step.pk)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "end-0: “maybe” is not an end kind (success, other or empty)." in html
    assert f"placement: “{other_step.pk}” is not a step of the parent map." in html
    assert not JourneyMap.objects.filter(title="X").exists()


def test_a_refused_log_lists_its_problems_and_keeps_no_file(client, leader, media):
    client.force_login(leader)
    response = _upload(client, content=b"case_id,step_key,timestamp\n1,a,never\n")
    assert response.status_code == 400
    assert "line 2, column timestamp: “never” is not an ISO 8601 timestamp" in (
        response.content.decode()
    )
    assert _folders(media) == []


def test_discarding_removes_the_upload(client, leader, media):
    client.force_login(leader)
    token = _upload(client)["Location"].split("/")[-2]
    response = client.post(reverse("maps:discover-discard", args=[token]))
    assert response.status_code == 302
    assert _folders(media) == []
    assert client.get(reverse("maps:discover-proposal", args=[token])).status_code == 404


def test_someone_elses_upload_is_not_found(client, leader, admin_user, media):
    client.force_login(leader)
    token = _upload(client)["Location"].split("/")[-2]
    client.force_login(admin_user)
    assert client.get(reverse("maps:discover-proposal", args=[token])).status_code == 404
    response = client.post(reverse("maps:discover-create", args=[token]), {"title": "Mine"})
    assert response.status_code == 404
    assert not JourneyMap.objects.exists()


@pytest.mark.parametrize(
    ("role", "where", "status"),
    [
        ("owner", "top", 403),  # only leadership and admins make top-level maps
        ("viewer", "team_map", 403),  # may see the map, not add to it
        ("team_member", "team_map", 200),
        ("other_owner", "team_map", 403),
        ("owner", "draft_map", 404),  # may not see omar's draft
        ("leader", "draft_map", 200),
    ],
)
def test_who_may_create_a_map_there_may_discover(client, request, role, where, status, media):
    client.force_login(request.getfixturevalue(role))
    query = "" if where == "top" else f"?parent={request.getfixturevalue(where).slug}"
    assert client.get(reverse("maps:discover") + query).status_code == status


def test_an_upload_under_a_map_whose_grant_went_is_refused(client, team_member, team_map, media):
    client.force_login(team_member)
    token = _upload(client, parent=team_map)["Location"].split("/")[-2]
    team_member.groups.clear()
    assert client.get(reverse("maps:discover-proposal", args=[token])).status_code in (403, 404)


def test_uploads_expire_after_the_set_hours(leader, media, settings):
    settings.JOURNEYHUB_DISCOVERY_HOURS = 2
    upload = upload_save(upload=SimpleUploadedFile("a.csv", csv_log()), user=leader, parent_id=None)
    assert uploads_expire() == 0
    old = time.time() - 3 * 3600
    os.utime(upload.folder, (old, old))
    assert uploads_expire() == 1
    assert upload_for_user(upload.token, leader) is None


def test_the_hourly_beat_task_removes_expired_uploads(leader, media, settings):
    from maps.tasks import expire_discovery_uploads

    entry = settings.CELERY_BEAT_SCHEDULE["expire-discovery-uploads-hourly"]
    assert entry["task"] == "maps.tasks.expire_discovery_uploads"
    settings.JOURNEYHUB_DISCOVERY_HOURS = 1
    upload = upload_save(upload=SimpleUploadedFile("a.csv", csv_log()), user=leader, parent_id=None)
    old = time.time() - 2 * 3600
    os.utime(upload.folder, (old, old))
    assert expire_discovery_uploads.delay().get() == 1
    assert not upload.folder.exists()


def test_an_upload_past_its_hours_is_not_found_and_removed(leader, media, settings):
    upload = upload_save(upload=SimpleUploadedFile("a.csv", csv_log()), user=leader, parent_id=None)
    later = upload.created_at + dt.timedelta(hours=settings.JOURNEYHUB_DISCOVERY_HOURS)
    assert upload.expires_at == later
    settings.JOURNEYHUB_DISCOVERY_HOURS = 0
    assert upload_for_user(upload.token, leader) is None
    assert not upload.folder.exists()


def test_a_second_create_while_the_first_runs_finds_nothing(client, leader, media):
    client.force_login(leader)
    token = _upload(client)["Location"].split("/")[-2]
    claimed = upload_claim(upload_for_user(token, leader))  # the first click, mid-way
    response = client.post(reverse("maps:discover-create", args=[token]), {"title": "Twice"})
    assert response.status_code == 404
    upload_release(claimed)
    assert upload_for_user(token, leader) is not None
    assert not JourneyMap.objects.exists()


def test_the_proposal_page_makes_the_same_queries_whatever_the_parents_steps(
    client, owner, team_map, media
):
    client.force_login(owner)
    url = _upload(client, parent=team_map)["Location"]
    client.get(url)  # warm caches (content types, the session) before counting
    counts = []
    for steps in (2, 12):
        for position in range(Step.objects.filter(map=team_map).count(), steps):
            StepFactory(map=team_map, key=f"s{position}", position=position)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    # session + user, the parent map through the policy, its steps for the placements;
    # the log's proposal itself is read from disk, not the database
    assert counts[0] == counts[1]

"""The browser side of journeyhub/1: "Export" on a map page and the "Import maps" page
(upload, preview per map, confirm, progress, result; refusals with JSON paths)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from maps.exchange import jobs
from maps.models import ExchangeImport, JourneyMap, Step
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def confirm(client, django_capture_on_commit_callbacks):
    """Press "Import": the task runs once the confirmation commits (eager Celery)."""

    def press(job):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("maps:import-confirm", args=[job.pk]))

    return press


def _export(client, user, journey_map, **params) -> dict:
    client.force_login(user)
    response = client.get(reverse("maps:export", args=[journey_map.slug]), params)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return json.loads(response.content)


def _upload(document, name="maps.json") -> SimpleUploadedFile:
    body = json.dumps(document).encode()
    return SimpleUploadedFile(name, body, content_type="application/json")


def test_the_export_holds_the_subtree_as_the_reader_sees_it(client, owner, team_map, draft_map):
    build_map_content(team_map, steps=3, items_per_step=1)
    JourneyMapFactory(title="Verify identity", slug="verify", parent=team_map, owner=owner)
    draft_map.move_to(team_map, "last-child")  # omar's draft under olivia's map
    document = _export(client, owner, team_map)
    assert document["format"] == "journeyhub/1"
    assert [m["slug"] for m in document["maps"]] == ["open-an-account", "verify"]
    assert len(document["maps"][0]["steps"]) == 3
    alone = _export(client, owner, team_map, subtree="0", measurements="0")
    assert [m["slug"] for m in alone["maps"]] == ["open-an-account"]
    assert all("measurements" not in k or not k["measurements"] for k in alone["maps"][0]["kpis"])


def test_a_map_nobody_shows_you_cannot_be_exported(client, owner, draft_map):
    client.force_login(owner)
    assert client.get(reverse("maps:export", args=[draft_map.slug])).status_code == 404


def test_an_exported_file_changed_and_imported_again_updates_the_map_after_a_preview(
    client, owner, team_map, media, confirm
):
    build_map_content(team_map, steps=3, items_per_step=1)
    document = _export(client, owner, team_map)
    document["maps"][0]["title"] = "Open an account online"
    document["maps"][0]["steps"][0]["name"] = "Start the application"

    response = client.post(reverse("maps:import"), {"file": _upload(document)})
    job = ExchangeImport.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == "previewed" and job.file.name
    team_map.refresh_from_db()
    assert team_map.title == "Open an account"  # nothing written by the preview
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Preview of a map import" in page and "open-an-account" in page
    assert job.preview["updated"] == {"map": 1, "step": 1}

    confirm(job)
    job.refresh_from_db()
    assert (job.status, job.progress, job.file.name) == ("done", 100, "")
    team_map.refresh_from_db()
    assert team_map.title == "Open an account online"
    assert Step.objects.get(map=team_map, position=0).name == "Start the application"
    assert team_map.history.first().history_user == owner
    done = client.get(job.get_absolute_url()).content.decode()
    assert "Open the imported maps" in done and team_map.get_absolute_url() in done


def test_a_file_with_problems_is_refused_with_each_json_path_and_kept_nowhere(
    client, owner, team_map, media
):
    document = _export(client, owner, team_map)
    document["maps"][0]["steps"] = [{"key": "a", "name": "A", "stage": "missing", "emotion": 9}]
    client.post(reverse("maps:import"), {"file": _upload(document)})
    job = ExchangeImport.objects.get()
    assert job.status == "refused" and not job.file.name
    assert any("maps[0].steps[0]" in problem for problem in job.problems), job.problems
    page = client.get(job.get_absolute_url()).content.decode()
    assert "Nothing was imported" in page
    assert not list(media.rglob("*.json"))


def test_a_map_you_may_not_edit_is_refused_and_left_as_it_was(
    client, owner, viewer, team_map, media
):
    document = _export(client, owner, team_map)
    document["maps"][0]["title"] = "Taken over"
    client.force_login(viewer)
    client.post(reverse("maps:import"), {"file": _upload(document)})
    job = ExchangeImport.objects.get()
    assert job.status == "refused" and job.problems
    team_map.refresh_from_db()
    assert team_map.title == "Open an account"


def test_an_import_goes_under_the_map_chosen_and_only_its_uploader_sees_it(
    client, owner, team_member, team_map, media, confirm
):
    source = JourneyMapFactory(title="Loan journey", slug="loan", owner=owner)
    build_map_content(source, steps=2, items_per_step=1)
    document = _export(client, owner, source, subtree="0")
    document["maps"][0]["slug"] = "loan-copy"
    document["maps"][0]["title"] = "Loan journey (copy)"
    document["projects"] = []  # they name the original map
    client.post(reverse("maps:import"), {"file": _upload(document), "under": team_map.pk})
    job = ExchangeImport.objects.get()
    assert job.status == "previewed", job.problems
    client.force_login(team_member)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.post(reverse("maps:import-confirm", args=[job.pk])).status_code == 404
    client.force_login(owner)
    confirm(job)
    copy = JourneyMap.objects.get(slug="loan-copy")
    assert copy.parent == team_map and copy.steps.count() == 2


def test_a_discarded_or_forgotten_preview_goes_with_its_file(
    client, owner, team_map, media, django_capture_on_commit_callbacks
):
    document = _export(client, owner, team_map)
    for _ in range(2):
        client.post(reverse("maps:import"), {"file": _upload(document)})
    discarded, forgotten = ExchangeImport.objects.order_by("pk")
    files = [media / discarded.file.name, media / forgotten.file.name]
    assert all(f.exists() for f in files) and files[0] != files[1]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("maps:import-discard", args=[discarded.pk]))
    assert not files[0].exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.expire_previews() == 0  # a day has not passed
        ExchangeImport.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
        assert jobs.expire_previews() == 1
    assert not ExchangeImport.objects.exists() and not files[1].exists()


def test_the_import_pages_and_the_export_keep_their_query_budget(
    client, owner, team_map, media, django_assert_max_num_queries
):
    for n in range(10):
        child = JourneyMapFactory(owner=owner, parent=team_map, title=f"Sub {n:02d}")
        build_map_content(child, steps=3, items_per_step=2)
    client.force_login(owner)
    with django_assert_max_num_queries(40):
        document = _export(client, owner, team_map)
    assert len(document["maps"]) == 11
    client.post(reverse("maps:import"), {"file": _upload(document)})
    job = ExchangeImport.objects.get()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("maps:import")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(job.get_absolute_url()).status_code == 200

"""The map's "Import from TheyDo" page (``maps.theydo_views``, ``maps.theydo.jobs``):
upload, a preview that writes nothing, the confirmation that runs the import task, the
progress partial, the result; refused files with every problem and no file kept; uploads
removed once done; stale previews expired by the beat task; editors only; and the same
number of queries for a preview of 10 metrics as of 100."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maps.models import KPI, CXProject, LaneItem, ResearchSource, Tag, TheydoImport
from maps.tasks import expire_theydo_previews, import_theydo
from maps.theydo import jobs
from maps.theydo.engine import theydo_import
from tests.factories import KPIFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "theydo"
ROLES = ("viewer", "team_member", "owner", "other_owner", "leader", "admin_user")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def metrics(n: int, *, start: int = 0) -> dict:
    """``n`` NPS metrics with two data points each, tagged, owned by olivia."""
    return {
        "format": "THEYDO_METRICS_V1",
        "metrics": [
            {
                "type": "NPS",
                "importKey": f"nps-{i}",
                "title": f"NPS {i}",
                "unit": "points",
                "ownerEmail": "olivia@example.com",
                "groupTags": [{"tagGroup": "Region", "tag": f"R{i % 3}"}],
                "dataPoints": [
                    {"dateOfMeasurement": f"2025-0{m}-01", "promoters": 6, "passives": 2,
                     "detractors": 2}
                    for m in (1, 2)
                ],
            }
            for i in range(start, start + n)
        ],
    }  # fmt: skip


def upload(data: dict | bytes, name: str = "metrics.json") -> SimpleUploadedFile:
    content = data if isinstance(data, bytes) else json.dumps(data).encode()
    return SimpleUploadedFile(name, content, "application/json")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def page_url(journey_map) -> str:
    return f"/maps/{journey_map.slug}/import/theydo/"


def post_file(client, journey_map, data, name="metrics.json"):
    return client.post(page_url(journey_map), {"file": upload(data, name)})


@pytest.fixture
def confirm(django_capture_on_commit_callbacks):
    """POST the confirmation and run what waits for its commit (the task), as a real
    request's end does."""

    def _confirm(client, job):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"{job.get_absolute_url()}confirm/")

    return _confirm


@pytest.fixture
def tess(client, team_member):
    client.force_login(team_member)
    return client


# --- preview -------------------------------------------------------------------------


def test_an_upload_shows_the_preview_and_writes_nothing(tess, team_map, owner, media):
    response = post_file(tess, team_map, fixture_bytes("metrics.json"))

    job = TheydoImport.objects.get()
    assert response.status_code == 302
    assert response.url == f"/maps/{team_map.slug}/import/theydo/{job.pk}/"
    assert (job.status, job.format, job.file_name) == (
        "previewed",
        "THEYDO_METRICS_V1",
        "metrics.json",
    )
    assert job.uploaded_by.username == "tess"
    assert not KPI.objects.exists() and not Tag.objects.exists()
    assert len(stored_files(media)) == 1  # kept for the confirmation

    page = tess.get(response.url).text
    assert "Preview of a TheyDo import" in page
    assert "Nothing has been written yet. The import will create 6 KPIs and record" in page
    assert "THEYDO_METRICS_V1" in page
    assert "Will create" in page and "Will leave alone" in page
    assert '<th scope="row">KPI</th><td class="ev-num">6</td>' in page
    assert "ces-support" in page and "Effort to get help" in page  # the changes table
    assert "to be created" in page  # the tags the file names
    assert "data points to record" in page
    assert f'action="/maps/open-an-account/import/theydo/{job.pk}/confirm/"' in page


def test_an_update_preview_names_the_fields_that_change(tess, team_map, media):
    theydo_import(journey_map=team_map, data=metrics(2))
    changed = metrics(2)
    changed["metrics"][0]["title"] = "NPS after onboarding"
    changed["metrics"][0]["unit"] = "score"
    post_file(tess, team_map, changed)

    job = TheydoImport.objects.get()
    assert job.preview["created"] == {}
    assert job.preview["updated"] == {"KPI": 1}
    assert job.preview["unchanged"] == {"KPI": 1}
    page = tess.get(job.get_absolute_url()).text
    assert "<code>title</code>, <code>unit</code>" in page
    assert "The import will update 1 KPI, leave 1 alone and record 4 data points." in page
    assert "left alone" in page
    assert KPI.objects.get(import_key="nps-0").name == "NPS 0"  # still nothing written


def test_an_unknown_owner_email_is_a_note_on_the_preview(tess, team_map, media):
    data = metrics(1)
    data["metrics"][0]["ownerEmail"] = "nobody@example.com"
    post_file(tess, team_map, data)

    page = tess.get(TheydoImport.objects.get().get_absolute_url()).text
    assert "Notes" in page
    assert "metrics[0].ownerEmail: “nobody@example.com” is no user&#x27;s e-mail address" in page


@pytest.mark.parametrize(
    "name, fmt, kind",
    [
        ("metrics.json", "THEYDO_METRICS_V1", "KPI"),
        ("insights.json", "THEYDO_INSIGHTS_V1", "insight"),
        ("opportunities.json", "THEYDO_OPPORTUNITIES_V1", "opportunity"),
        ("solutions.json", "THEYDO_SOLUTIONS_V1", "CX project"),
        ("survey_responses.json", "THEYDO_SURVEY_RESPONSES_V1", "quote"),
        ("feedback_responses.json", "THEYDO_FEEDBACK_RESPONSES_V1", "quote"),
    ],
)
def test_each_of_the_six_formats_is_detected_and_previewed(
    tess, team_map, owner, media, name, fmt, kind
):
    post_file(tess, team_map, fixture_bytes(name), name)

    job = TheydoImport.objects.get()
    assert (job.status, job.format) == ("previewed", fmt), job.problems
    assert job.preview["created"].get(kind, 0) > 0
    page = tess.get(job.get_absolute_url()).text
    assert fmt in page and f'<th scope="row">{kind}</th>' in page
    assert not KPI.objects.exists() and not LaneItem.objects.exists()
    assert not CXProject.objects.exists() and not ResearchSource.objects.exists()


# --- confirm, progress, result ---------------------------------------------------------


def test_confirming_imports_shows_the_result_and_removes_the_upload(tess, team_map, media, confirm):
    post_file(tess, team_map, fixture_bytes("metrics.json"))
    job = TheydoImport.objects.get()

    response = confirm(tess, job)

    assert response.status_code == 302 and response.url == job.get_absolute_url()
    job.refresh_from_db()
    assert (job.status, job.progress, job.file.name) == ("done", 100, "")
    assert job.started_at and job.finished_at
    assert stored_files(media) == []
    assert KPI.objects.filter(map=team_map).count() == 6
    assert job.result["created"] == {"KPI": 6}
    page = tess.get(job.get_absolute_url()).text
    assert "Created 6 KPIs" in page and "What the import did" in page
    assert "hx-trigger" not in page  # finished: no polling
    assert "map changed between the preview" not in page


def test_if_the_map_changed_after_the_preview_the_import_plans_again_and_says_so(
    tess, team_map, media, confirm
):
    post_file(tess, team_map, metrics(3))
    job = TheydoImport.objects.get()
    theydo_import(journey_map=team_map, data=metrics(2))  # someone imports two of them first

    confirm(tess, job)

    job.refresh_from_db()
    assert job.preview["created"] == {"KPI": 3}
    assert job.result["created"] == {"KPI": 1} and job.result["unchanged"] == {"KPI": 2}
    assert KPI.objects.filter(map=team_map).count() == 3
    page = tess.get(job.get_absolute_url()).text
    assert "The map changed between the preview and the import" in page
    assert "Created 1 KPI; 2 left as they were" in page


def test_confirming_twice_imports_once(tess, team_map, media, confirm):
    post_file(tess, team_map, metrics(2))
    job = TheydoImport.objects.get()
    confirm(tess, job)
    finished = TheydoImport.objects.get().finished_at

    response = confirm(tess, job)

    assert response.status_code == 302
    assert TheydoImport.objects.get().finished_at == finished
    assert KPI.objects.count() == 2


def test_the_task_runs_an_import_once(team_map, owner, media):
    job = jobs.theydo_upload_preview(journey_map=team_map, upload=upload(metrics(1)), by=owner)
    TheydoImport.objects.filter(pk=job.pk).update(status="queued")

    assert import_theydo.delay(job.pk).get() == "done"
    assert import_theydo.delay(job.pk).get() is None
    assert KPI.objects.count() == 1


def test_a_queued_or_running_import_polls_its_partial(tess, team_map, team_member, media):
    job = TheydoImport.objects.create(
        map=team_map, uploaded_by=team_member, status="running", progress=40, format="X"
    )

    partial = tess.get(job.get_absolute_url(), headers={"HX-Request": "true"})

    assert "<html" not in partial.text
    assert 'hx-trigger="every 1s"' in partial.text
    assert 'value="40"' in partial.text and "Running" in partial.text
    assert "HX-Request" in partial["Vary"]
    assert 'hx-trigger="every 1s"' in tess.get(job.get_absolute_url()).text  # the whole page


def test_a_file_the_map_refuses_at_import_time_ends_refused_with_its_problems(
    tess, team_map, media, confirm
):
    """A KPI with the file's key and a value entered by hand appears between the preview
    and the confirmation: the import's second plan refuses it."""
    post_file(tess, team_map, metrics(1))
    job = TheydoImport.objects.get()
    kpi = KPIFactory(map=team_map, import_key="nps-0", name="NPS 0", kind="ratio")
    kpi.measurements.create(date=dt.date(2025, 1, 1), value=3)

    confirm(tess, job)

    job.refresh_from_db()
    assert job.status == "refused" and job.file.name == ""
    assert job.problems  # the KPI's period holds a value entered by hand
    assert KPI.objects.get(import_key="nps-0").kind == "ratio"
    assert stored_files(media) == []
    assert "Nothing was imported." in tess.get(job.get_absolute_url()).text


def test_an_unexpected_error_fails_the_import_writes_nothing_and_removes_the_file(
    tess, team_map, media, monkeypatch, confirm
):
    post_file(tess, team_map, metrics(2))
    job = TheydoImport.objects.get()

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(jobs, "theydo_import", broken)
    confirm(tess, job)

    job.refresh_from_db()
    assert job.status == "failed" and job.problems == [jobs.UNEXPECTED]
    assert stored_files(media) == [] and not KPI.objects.exists()


def test_discarding_a_preview_deletes_it_and_its_file(
    tess, team_map, media, django_capture_on_commit_callbacks
):
    post_file(tess, team_map, metrics(2))
    job = TheydoImport.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = tess.post(f"{job.get_absolute_url()}discard/")

    assert response.status_code == 302 and response.url == page_url(team_map)
    assert not TheydoImport.objects.exists() and stored_files(media) == []
    assert not KPI.objects.exists()


def test_a_done_import_cannot_be_discarded(tess, team_map, media, confirm):
    post_file(tess, team_map, metrics(1))
    job = TheydoImport.objects.get()
    confirm(tess, job)

    tess.post(f"{job.get_absolute_url()}discard/")

    assert TheydoImport.objects.get().status == "done"


# --- refused files -----------------------------------------------------------------------


def test_a_refused_file_shows_every_problem_writes_nothing_and_keeps_no_file(tess, team_map, media):
    data = metrics(3)
    data["metrics"][0]["dataPoints"][1]["dateOfMeasurement"] = "2025-13-01"
    data["metrics"][2]["type"] = "LOYALTY"
    data["metrics"][1]["promoters"] = 1

    response = post_file(tess, team_map, data)

    job = TheydoImport.objects.get()
    assert job.status == "refused" and job.file.name == ""
    assert job.format == "THEYDO_METRICS_V1"
    paths = [problem.split(":")[0] for problem in job.problems]
    assert "metrics[0].dataPoints[1].dateOfMeasurement" in paths
    assert any(path.startswith("metrics[1]") for path in paths)
    assert any(path.startswith("metrics[2]") for path in paths)
    assert not KPI.objects.exists() and not Tag.objects.exists()
    assert stored_files(media) == []
    page = tess.get(response.url).text
    assert "Nothing was imported." in page
    for problem in job.problems:
        assert problem.split(":")[0] in page
    assert "Import</button>" not in page  # nothing to confirm


def test_a_file_with_many_problems_lists_them_and_how_many_more(tess, team_map, media):
    data = metrics(80)
    for metric in data["metrics"]:
        metric["unit"] = 7

    post_file(tess, team_map, data)

    job = TheydoImport.objects.get()
    assert job.status == "refused"
    assert job.problems[-1].startswith("… and ") and job.problems[-1].endswith("more problems")
    assert "… and " in tess.get(job.get_absolute_url()).text


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\xff\xfe{\x00}\x00", "the file is UTF-16 text"),
        (b'{"format": "THEYDO_METRICS_V1", "metrics": [\xe9]}', "the file is not UTF-8 text"),
        (b'{"format": "THEYDO_METRICS_V1",', "the JSON is not valid (line 1"),
        (b'{"format": "THEYDO_SOMETHING_V9"}', "format"),
        (b"[1, 2]", ""),
    ],
)
def test_a_file_that_is_not_a_theydo_file_is_refused_with_the_reason(
    tess, team_map, media, content, problem
):
    post_file(tess, team_map, content, "export.json")

    job = TheydoImport.objects.get()
    assert job.status == "refused" and job.problems
    assert job.problems[0].startswith(problem)
    assert job.format == ""
    assert stored_files(media) == []


def test_a_file_over_the_size_limit_is_refused_by_the_form(tess, team_map, media, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_UPLOAD_BYTES", 2**20)  # 1 MB instead of 20

    response = post_file(tess, team_map, b" " * 2**20 + json.dumps(metrics(1)).encode())

    assert response.status_code == 200
    assert "The file is 1.0 MB: at most 1 MB." in response.text
    assert not TheydoImport.objects.exists() and stored_files(media) == []


def test_an_upload_without_a_file_is_a_form_error(tess, team_map):
    response = tess.post(page_url(team_map), {})

    assert response.status_code == 200 and "This field is required." in response.text
    assert not TheydoImport.objects.exists()


# --- the upload page, past imports, the map's link -------------------------------------


def test_the_page_names_the_six_formats_and_lists_past_imports_newest_first(
    tess, team_map, owner, media
):
    jobs.theydo_import_now(journey_map=team_map, data=metrics(1), by=owner, file_name="a.json")
    post_file(tess, team_map, b"not json", "b.json")

    page = tess.get(page_url(team_map)).text

    for fmt in (
        "THEYDO_METRICS_V1",
        "THEYDO_INSIGHTS_V1",
        "THEYDO_OPPORTUNITIES_V1",
        "THEYDO_SOLUTIONS_V1",
        "THEYDO_SURVEY_RESPONSES_V1",
        "THEYDO_FEEDBACK_RESPONSES_V1",
    ):
        assert fmt in page
    assert "docs/theydo.md" in page and "importKey" in page
    assert "after 24 hours" in page
    assert page.index("b.json") < page.index("a.json")
    assert "Created 1 KPI" in page and "(API)" in page
    assert "the JSON is not valid" in page


def test_editors_see_the_link_on_the_map_page_and_viewers_do_not(client, team_map, owner, viewer):
    link = f'href="/maps/{team_map.slug}/import/theydo/">From TheyDo'
    client.force_login(owner)
    assert link in client.get(team_map.get_absolute_url()).text
    client.force_login(viewer)
    assert link not in client.get(team_map.get_absolute_url()).text


# --- stale previews ----------------------------------------------------------------------


def test_the_beat_task_deletes_previews_older_than_a_day_with_their_files(
    tess, team_map, media, confirm, django_capture_on_commit_callbacks
):
    for name in ("old.json", "fresh.json", "done.json"):
        post_file(tess, team_map, metrics(1), name)
    old, fresh, done = TheydoImport.objects.order_by("pk")
    confirm(tess, done)
    a_day_ago = timezone.now() - dt.timedelta(hours=24, minutes=1)
    TheydoImport.objects.filter(pk__in=[old.pk, done.pk]).update(created_at=a_day_ago)
    old_file = media / old.file.name

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_theydo_previews.delay().get() == 1

    assert set(TheydoImport.objects.values_list("file_name", flat=True)) == {
        "fresh.json",
        "done.json",
    }
    assert not old_file.exists()
    assert [p.name for p in stored_files(media)] == [Path(fresh.file.name).name]


def test_the_beat_schedule_runs_the_expiry_hourly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["expire-theydo-previews-hourly"]
    assert entry["task"] == "maps.tasks.expire_theydo_previews"
    assert django_settings.JOURNEYHUB_THEYDO_PREVIEW_HOURS == 24


# --- who may ---------------------------------------------------------------------------

# the map's editors (tess, olivia, admin); the others see the map but may not change it
PAGE = dict(zip(ROLES, (403, 200, 200, 403, 403, 200), strict=True))
# omar's draft: invisible to olivia's team and vic; leadership sees it but may not edit
DRAFT = dict(zip(ROLES, (404, 404, 404, 200, 403, 200), strict=True))


@pytest.mark.parametrize("role", ROLES)
def test_only_the_maps_editors_open_upload_and_confirm(
    client, request, role, team_map, draft_map, owner, media, confirm
):
    client.force_login(request.getfixturevalue(role))
    job = jobs.theydo_upload_preview(journey_map=team_map, upload=upload(metrics(1)), by=owner)

    assert client.get(page_url(team_map)).status_code == PAGE[role]
    assert client.get(job.get_absolute_url()).status_code == PAGE[role]
    assert client.get(page_url(draft_map)).status_code == DRAFT[role]

    confirmed = confirm(client, job)
    uploaded = post_file(client, team_map, metrics(1))

    if PAGE[role] == 200:
        assert confirmed.status_code == uploaded.status_code == 302
        assert KPI.objects.count() == 1
        assert TheydoImport.objects.count() == 2
    else:
        assert confirmed.status_code == uploaded.status_code == 403
        assert not KPI.objects.exists()
        assert TheydoImport.objects.get().status == "previewed"


def test_an_import_of_another_map_is_not_found_through_this_one(
    client, team_map, draft_map, other_owner, admin_user, media
):
    job = jobs.theydo_upload_preview(
        journey_map=draft_map, upload=upload(metrics(1)), by=other_owner
    )
    client.force_login(admin_user)  # who may edit both maps

    assert client.get(f"{page_url(team_map)}{job.pk}/").status_code == 404
    assert client.post(f"{page_url(team_map)}{job.pk}/confirm/").status_code == 404
    assert TheydoImport.objects.get().status == "previewed"


def test_anonymous_visitors_are_sent_to_sign_in(client, team_map):
    response = client.get(page_url(team_map))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# --- queries -----------------------------------------------------------------------------


# upload: session, user, the map's gate (2 group checks and the map); the engine's plan
# (KPIs of the map with their tags, tag groups, KPIs with data, owners by e-mail, existing
# tags and groups, names in use: a fixed number whatever the file's size, plus one per
# existing grouped tag — the file below names 3 in both sizes); the job's insert
UPLOAD_BUDGET = 18
# a job's page: session, user, the map's gate (3), the job with its uploader, the vocabulary
PAGE_BUDGET = 7


def test_the_upload_and_the_preview_take_the_same_queries_for_10_and_100_metrics(
    tess, team_map, media
):
    theydo_import(journey_map=team_map, data=metrics(5))  # some of them exist: updates too
    uploads, pages = [], []
    for n in (10, 100):
        data = metrics(n)
        data["metrics"][0]["title"] = "Renamed"
        with CaptureQueriesContext(connection) as uploading:
            response = post_file(tess, team_map, data)
        with CaptureQueriesContext(connection) as showing:
            page = tess.get(response.url)
        assert page.status_code == 200 and f"{n - 5}</td>" in page.text
        uploads.append(len(uploading))
        pages.append(len(showing))
    assert uploads[0] == uploads[1] <= UPLOAD_BUDGET, uploads
    assert pages[0] == pages[1] <= PAGE_BUDGET, pages
    assert KPI.objects.count() == 5  # previews write nothing


def test_the_upload_page_takes_the_same_queries_for_2_and_20_past_imports(
    tess, team_map, owner, media
):
    counts = []
    for n in (2, 20):
        TheydoImport.objects.all().delete()
        for i in range(n):
            jobs.theydo_import_now(journey_map=team_map, data=metrics(1, start=i), by=owner)
        with CaptureQueriesContext(connection) as queries:
            assert tess.get(page_url(team_map)).status_code == 200
        counts.append(len(queries))
    # session, user, the map's gate (3), the imports with their uploaders, the vocabulary
    assert counts[0] == counts[1] <= PAGE_BUDGET, counts

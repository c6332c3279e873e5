"""The spreadsheet pages and endpoint (``maps.spreadsheet_views``, ``maps.api.spreadsheets``):
upload → preview (nothing written) → confirm or discard; the template download; a map's
"Export as XLSX"; ``POST /api/import/spreadsheet/``; every role's access; and query
counts that do not grow with the number of rows."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.test import APIClient

from maps.models import JourneyMap, PainPoint, Step
from maps.spreadsheets import pending
from maps.spreadsheets.columns import NAMES
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory
from tests.test_spreadsheets import ONBOARDING, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROLES = ("viewer", "team_member", "owner", "other_owner", "leader", "admin_user")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(content: bytes, name: str = "maps.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def page(slug: str | None = None) -> str:
    return f"/maps/{slug}/import/spreadsheet/" if slug else "/maps/import/spreadsheet/"


def pending_files() -> list[Path]:
    folder = Path(django_settings.MEDIA_ROOT) / "spreadsheet-imports"
    return sorted(folder.glob("*")) if folder.exists() else []


# --- the page ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("team_member", 200), ("owner", 200), ("other_owner", 403),
     ("leader", 200), ("admin_user", 200)],
)  # fmt: skip
def test_the_import_page_under_a_map_is_for_those_who_may_add_maps_to_it(
    client, request, team_map, role, status
):
    client.force_login(request.getfixturevalue(role))

    response = client.get(page(team_map.slug))

    assert response.status_code == status
    if status == 200:
        assert b"Import from a spreadsheet" in response.content
        assert b"Download the template" in response.content


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("team_member", 403), ("owner", 403), ("other_owner", 403),
     ("leader", 200), ("admin_user", 200)],
)  # fmt: skip
def test_the_top_level_import_page_is_for_leadership_and_admins(client, request, role, status):
    client.force_login(request.getfixturevalue(role))

    assert client.get(page()).status_code == status


def test_a_draft_map_someone_cannot_see_answers_404(client, viewer, draft_map):
    client.force_login(viewer)

    assert client.get(page(draft_map.slug)).status_code == 404


def test_an_upload_shows_a_preview_and_writes_nothing_until_confirmed(client, owner, team_map):
    client.force_login(owner)
    before = JourneyMap.objects.count()

    response = client.post(page(team_map.slug), {"file": upload(xlsx_bytes(ONBOARDING))})

    assert response.status_code == 200
    assert JourneyMap.objects.count() == before
    text = response.content.decode()
    assert "Preview of “maps.xlsx”" in text
    assert "will create 2 maps, 3 stages, 4 steps, 4 pain points, 1 lane item" in text
    assert 'Onboard <span class="muted">(new)</span>' in text
    token = response.context["upload"].token

    confirmed = client.post(page(team_map.slug), {"token": token, "confirm": "1"})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == team_map.get_absolute_url()  # two maps: back to the parent
    assert set(JourneyMap.objects.filter(parent=team_map).values_list("title", flat=True)) == {
        "Onboard",
        "Pay a bill",
    }
    assert pending_files() == []  # the upload is gone once imported


def test_confirming_a_single_map_opens_it(client, owner, team_map):
    client.force_login(owner)
    response = client.post(
        page(team_map.slug), {"file": upload(csv_bytes([["map", "step"], ["Onboard", "Scan"]]))}
    )

    confirmed = client.post(
        page(team_map.slug), {"token": response.context["upload"].token, "confirm": "1"}
    )

    onboard = JourneyMap.objects.get(parent=team_map, title="Onboard")
    assert confirmed["Location"] == onboard.get_absolute_url()


def test_a_refused_file_lists_every_problem_and_keeps_nothing(client, owner, team_map):
    client.force_login(owner)
    rows = [["map", "step", "emotion"], ["Onboard", "Scan", "great"], ["", "Wait", "meh"]]

    response = client.post(page(team_map.slug), {"file": upload(csv_bytes(rows), "m.csv")})

    text = response.content.decode()
    assert "Nothing was imported." in text
    assert "line 2, column C (emotion): “great” is not one of" in text
    assert "line 3, column C (emotion): “meh” is not one of" in text
    assert pending_files() == [] and not JourneyMap.objects.filter(title="Onboard").exists()


def test_discarding_a_preview_removes_its_file(client, owner, team_map):
    client.force_login(owner)
    response = client.post(page(team_map.slug), {"file": upload(xlsx_bytes(ONBOARDING))})
    assert len(pending_files()) == 2  # the file and what it is for

    client.post(page(team_map.slug), {"token": response.context["upload"].token, "discard": "1"})

    assert pending_files() == []
    assert not JourneyMap.objects.filter(title="Onboard").exists()


def test_someone_elses_preview_cannot_be_confirmed(client, owner, team_member, team_map):
    client.force_login(owner)
    token = (
        client.post(page(team_map.slug), {"file": upload(xlsx_bytes(ONBOARDING))})
        .context["upload"]
        .token
    )
    client.force_login(team_member)

    response = client.post(page(team_map.slug), {"token": token, "confirm": "1"}, follow=True)

    assert "That preview has expired or was already imported." in response.content.decode()
    assert not JourneyMap.objects.filter(title="Onboard").exists()
    assert len(pending_files()) == 2  # still olivia's to confirm


def test_an_upload_over_the_size_limit_is_a_form_error(client, owner, team_map):
    client.force_login(owner)

    response = client.post(page(team_map.slug), {"file": upload(b"x" * (10 * 2**20 + 1))})

    assert "a spreadsheet may be at most 10 MB" in response.content.decode()


def test_the_preview_of_a_stale_upload_expires(owner, settings):
    stale = pending.pending_save(content=b"map,step\n", name="old.csv", under=None, user_id=1)
    old = 1_000_000_000
    for suffix in (".bin", ".json"):
        path = Path(settings.MEDIA_ROOT) / "spreadsheet-imports" / (stale.token + suffix)
        os.utime(path, (old, old))

    assert pending.pending_expire() == 1
    assert pending.pending_load(stale.token, user_id=1, under=None) is None


# --- template and export ------------------------------------------------------------------


def test_the_template_downloads_as_a_workbook_with_the_documented_columns(client, viewer):
    client.force_login(viewer)

    response = client.get("/maps/import/spreadsheet/template.xlsx")

    assert response["Content-Type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert next(workbook["Steps"].iter_rows(values_only=True)) == NAMES


@pytest.mark.parametrize("role", ROLES)
def test_everyone_who_sees_a_published_map_may_export_it(client, request, team_map, role):
    build_map_content(team_map, steps=3)
    client.force_login(request.getfixturevalue(role))

    response = client.get(f"/maps/{team_map.slug}/export/xlsx/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="open-an-account.xlsx"'
    rows = list(load_workbook(io.BytesIO(response.content))["Steps"].iter_rows(values_only=True))
    assert [r[NAMES.index("step")] for r in rows[1:4]] == ["Step 1", "Step 2", "Step 3"]


def test_a_draft_map_does_not_export_to_those_who_cannot_see_it(client, viewer, draft_map):
    client.force_login(viewer)

    assert client.get(f"/maps/{draft_map.slug}/export/xlsx/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, team_map):
    for url in (page(team_map.slug), f"/maps/{team_map.slug}/export/xlsx/"):
        assert client.get(url)["Location"].startswith("/accounts/login/")


# --- the API ------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client: APIClient, content: bytes, query: str = ""):
    return client.post(
        f"/api/import/spreadsheet/{query}", {"file": upload(content)}, format="multipart"
    )


def test_the_api_imports_under_a_map_and_answers_what_it_did(owner, team_map):
    response = post(api(owner), xlsx_bytes(ONBOARDING), f"?under={team_map.slug}")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is False
    assert body["summary"]["created"]["step"] == 4
    assert [(m["title"], m["existing"], m["line"]) for m in body["maps"]] == [
        ("Onboard", False, 2),
        ("Pay a bill", False, 6),
    ]
    assert body["maps"][0]["created"]["pain point"] == 4
    assert JourneyMap.objects.filter(parent=team_map).count() == 2


def test_an_api_dry_run_writes_nothing(owner, team_map):
    response = post(api(owner), xlsx_bytes(ONBOARDING), f"?under={team_map.slug}&dry_run=1")

    assert response.status_code == 200
    assert response.json()["detail"].startswith("5 rows, 2 maps: will create 2 maps")
    assert not JourneyMap.objects.filter(parent=team_map).exists()


def test_the_api_answers_400_with_every_problem(owner, team_map):
    rows = [["map", "step", "mood"], ["Onboard", "Scan", "sad"]]

    response = post(api(owner), csv_bytes(rows), f"?under={team_map.slug}")

    assert response.status_code == 400
    assert response.json()["problems"][0].startswith("line 1, column C: unknown column “mood”")


def test_the_api_wants_a_file(owner, team_map):
    response = api(owner).post(f"/api/import/spreadsheet/?under={team_map.slug}", {})

    assert response.status_code == 400
    assert response.json()["problems"] == ["file: send the spreadsheet as “file” (multipart)"]


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("team_member", 200), ("owner", 200), ("other_owner", 403),
     ("leader", 200), ("admin_user", 200)],
)  # fmt: skip
def test_the_api_imports_under_a_map_for_those_who_may_add_maps_to_it(
    request, team_map, role, status
):
    user = request.getfixturevalue(role)

    response = post(
        api(user), csv_bytes([["map", "step"], ["Onboard", "Scan"]]), f"?under={team_map.slug}"
    )

    assert response.status_code == status
    assert JourneyMap.objects.filter(parent=team_map).exists() == (status == 200)


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("team_member", 403), ("owner", 403), ("other_owner", 403),
     ("leader", 200), ("admin_user", 200)],
)  # fmt: skip
def test_only_leadership_and_admins_import_at_the_top_level(request, role, status):
    user = request.getfixturevalue(role)

    response = post(api(user), csv_bytes([["map", "step"], ["Top map", "Scan"]]))

    assert response.status_code == status
    assert JourneyMap.objects.filter(title="Top map", parent=None).exists() == (status == 200)


@pytest.mark.parametrize("under", ["no-such-map", "bad slug", "nul\x00byte", "ü" * 300])
def test_an_under_that_names_no_map_answers_404(owner, under):
    response = post(api(owner), csv_bytes([["map", "step"], ["M", "s"]]), f"?under={under}")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("under: no journey map")


def test_an_api_upload_over_the_size_limit_is_refused(owner, team_map):
    response = post(api(owner), b"x" * (10 * 2**20 + 1), f"?under={team_map.slug}")

    assert response.status_code == 400
    assert response.json()["problems"] == [
        "file: the file is 10.0 MB; a spreadsheet may be at most 10 MB (split it into several "
        "files)"
    ]


def test_a_map_the_user_cannot_see_answers_404(viewer, draft_map):
    response = post(
        api(viewer), csv_bytes([["map", "step"], ["M", "s"]]), f"?under={draft_map.slug}"
    )

    assert response.status_code == 404


def test_a_matched_map_someone_else_owns_answers_403_naming_its_line(
    team_member, team_map, other_owner
):
    JourneyMapFactory(title="Onboard", parent=team_map, owner=other_owner)

    response = post(
        api(team_member),
        csv_bytes([["map", "step"], ["Onboard", "Scan"]]),
        f"?under={team_map.slug}",
    )

    assert response.status_code == 403
    assert response.json()["problems"][0].startswith("line 2, column A (map): the map “")
    assert not Step.objects.filter(name="Scan").exists()


# --- query budgets --------------------------------------------------------------------


def sheet(steps: int) -> bytes:
    rows = [["map", "stage", "step", "channel", "emotion", "pain points", "insights"]]
    for i in range(steps):
        rows.append(
            ["Onboard", f"Stage {i // 5}", f"Step {i}", "Web", "Neutral", f"P{i}\nQ{i}", f"I{i}"]
        )
    return xlsx_bytes(rows)


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def statements(fn) -> tuple[int, list[str]]:
    """How many statements ran, and which, a bulk INSERT split into batches listed once:
    SQLite takes at most 999 parameters a statement, so Django cuts 100 pain points (and
    their history rows) into two INSERTs each."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    found: list[str] = []
    for query in captured.captured_queries:
        shape = query["sql"][:60] if query["sql"].startswith("INSERT") else query["sql"]
        shape = re.sub(r"s\d+_x\d+", "savepoint", shape)
        if not (found and shape.startswith("INSERT") and found[-1] == shape):
            found.append(shape)
    shapes = [re.sub(r"'[^']*'|\d+", "?", shape)[:80] for shape in found]
    return len(captured.captured_queries), shapes


def test_importing_ten_times_the_rows_takes_the_same_queries(owner, team_map):
    """Reading (the map imported into, its children, clashing slugs, and the existing
    stages, steps, pain points and items of matched maps) plus the importer's fixed reads
    and one bulk write per kind with its history, whatever the number of rows."""
    small, large = sheet(5), sheet(50)
    post(api(owner), small, f"?under={team_map.slug}&dry_run=1")  # caches warm
    dry = [
        queries(lambda c=c: post(api(owner), c, f"?under={team_map.slug}&dry_run=1"))
        for c in (small, large)
    ]
    assert dry[0] == dry[1]

    first = JourneyMapFactory(title="First", owner=owner)
    second = JourneyMapFactory(title="Second", owner=owner)
    wet = [
        statements(lambda: post(api(owner), small, f"?under={first.slug}")),
        statements(lambda: post(api(owner), large, f"?under={second.slug}")),
    ]
    assert wet[0][1] == wet[1][1]
    assert wet[1][0] <= wet[0][0] + 3  # the batches: pain points, their history, items' history
    assert PainPoint.objects.filter(map__parent=second).count() == 100

    # and again: everything matched, nothing written
    again = [
        queries(lambda: post(api(owner), small, f"?under={first.slug}")),
        queries(lambda: post(api(owner), large, f"?under={second.slug}")),
    ]
    assert again[0] == again[1]


def test_exporting_ten_times_the_steps_takes_the_same_number_of_queries(client, owner, team):
    small = JourneyMapFactory(title="Small", owner=owner, team=team)
    large = JourneyMapFactory(title="Large", owner=owner, team=team)
    build_map_content(small, steps=4)
    build_map_content(large, steps=40)
    client.force_login(owner)

    counts = [
        queries(lambda m=m: client.get(f"/maps/{m.slug}/export/xlsx/")) for m in (small, large)
    ]

    assert counts[0] == counts[1]

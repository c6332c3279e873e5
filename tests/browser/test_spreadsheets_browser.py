"""A journey owner imports maps from a spreadsheet in a real browser (issue 15): from the
map's "Import from a spreadsheet" link, upload, read the preview (nothing written yet),
confirm and land on the new map; a sheet with mistakes lists every one by line and
column and imports nothing; the map's "Export as XLSX" downloads the same columns.
Screenshots also land in /tmp/shots-sheets/."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from maps.models import JourneyMap
from tests.test_spreadsheets import ONBOARDING, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots-sheets")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def shot(screenshot):
    SHOTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> None:
        shutil.copy(screenshot(page, f"spreadsheet-{name}", full_page=True), SHOTS / f"{name}.png")

    return _shot


def test_an_owner_previews_and_imports_maps_from_a_spreadsheet(
    sign_in, live_server, owner, team_map, media, shot, tmp_path
):
    sheet = tmp_path / "journeys.xlsx"
    sheet.write_bytes(xlsx_bytes(ONBOARDING[:5]))
    page = sign_in("olivia")
    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    page.locator("summary", has_text="Import").click()  # the map's Import menu
    page.get_by_role("link", name="From a spreadsheet (CSV, XLSX)").click()
    expect(page.get_by_role("heading", name="Import from a spreadsheet", level=1)).to_be_visible()
    shot(page, "upload")

    page.get_by_label("Spreadsheet (XLSX or CSV)").set_input_files(str(sheet))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Preview of “journeys.xlsx”")).to_be_visible()
    expect(page.locator("table.spreadsheet-preview tbody tr")).to_have_count(1)
    expect(page.locator("table.spreadsheet-preview")).to_contain_text("Onboard (new)")
    assert not JourneyMap.objects.filter(title="Onboard").exists()
    shot(page, "preview")

    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="Onboard", level=1)).to_be_visible()
    expect(page.get_by_text("Imported “journeys.xlsx”")).to_be_visible()
    expect(page.get_by_text("Scan the ID").first).to_be_visible()
    onboard = JourneyMap.objects.get(title="Onboard")
    assert onboard.parent == team_map and onboard.steps.count() == 3
    shot(page, "imported")

    with page.expect_download() as download:
        page.locator("summary", has_text="Export").click()  # the map's Export menu
        page.get_by_role("link", name="Spreadsheet (XLSX)").click()
    rows = list(
        load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["Steps"].iter_rows(
            values_only=True
        )
    )
    assert [r[3] for r in rows[1:]] == ["Download the app", "Create a login", "Scan the ID", None]


def test_a_sheet_with_mistakes_lists_them_all_and_imports_nothing(
    sign_in, live_server, owner, team_map, media, shot, tmp_path
):
    sheet = tmp_path / "mistakes.csv"
    rows = [
        ["map", "stage", "step", "emotion", "channel"],
        ["Onboard", "Apply", "Fill in", "very happy", "Fax"],
        ["", "", "", "", "Web"],
    ]
    sheet.write_bytes(csv_bytes(rows, delimiter=";"))
    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/{team_map.slug}/import/spreadsheet/")

    page.get_by_label("Spreadsheet (XLSX or CSV)").set_input_files(str(sheet))
    page.get_by_role("button", name="Preview").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was imported.")
    expect(alert).to_contain_text("line 2, column D (emotion): “very happy” is not one of")
    expect(alert).to_contain_text("line 2, column E (channel): “Fax” is not one of")
    expect(alert).to_contain_text("line 3, column C (step): empty, but the row has a channel")
    assert not JourneyMap.objects.filter(title="Onboard").exists()
    shot(page, "problems")

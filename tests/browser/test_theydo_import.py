"""A journey owner imports a TheyDo file in a real browser (issue 14): from the map's
"Import from TheyDo" link, upload, read the preview (nothing written yet), confirm, and
read what the import did; a bad file shows every problem and imports nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from maps.models import KPI, TheydoImport

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "theydo"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_an_owner_previews_confirms_and_reads_the_result_of_a_theydo_import(
    sign_in, live_server, owner, team_member, team_map, media, screenshot
):
    page = sign_in("olivia")
    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    page.locator("summary", has_text="Import").click()  # the map's Import menu
    page.get_by_role("link", name="From TheyDo").click()
    expect(page.get_by_role("heading", name="Import from TheyDo", level=1)).to_be_visible()

    page.get_by_label("TheyDo file (JSON)").set_input_files(str(FIXTURES / "metrics.json"))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Preview of a TheyDo import")).to_be_visible()
    expect(page.get_by_text("Nothing has been written yet.")).to_be_visible()
    tally = page.locator("table.theydo-tally")
    expect(tally.get_by_role("row", name="KPI 6 0 0")).to_be_visible()
    expect(page.locator("table.theydo-changes tbody tr")).to_have_count(6)
    assert not KPI.objects.exists()
    screenshot(page, "theydo-import-preview", full_page=True)

    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="TheyDo import", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Created 6 KPIs")
    expect(page.locator("table.theydo-tally caption")).to_have_text("What the import did")
    assert KPI.objects.filter(map=team_map).count() == 6
    job = TheydoImport.objects.get()
    assert job.status == "done" and job.file.name == ""
    assert not [p for p in Path(media).rglob("*") if p.is_file()]  # the upload is gone
    screenshot(page, "theydo-import-result", full_page=True)

    page.get_by_role("link", name="All TheyDo imports").click()
    expect(page.locator("table.theydo-imports tbody tr")).to_have_count(1)
    expect(page.locator("table.theydo-imports")).to_contain_text("metrics.json")
    screenshot(page, "theydo-import-page", full_page=True)


def test_a_bad_file_shows_every_problem_and_imports_nothing(
    sign_in, live_server, owner, team_map, media, screenshot, tmp_path
):
    data = json.loads((FIXTURES / "metrics.json").read_text())
    data["metrics"][0]["dataPoints"][1]["dateOfMeasurement"] = "2025-13-01"
    data["metrics"][1]["targetComparisonOperator"] = "AT_LEAST"
    data["metrics"][2]["title"] = None
    bad = tmp_path / "bad-metrics.json"
    bad.write_text(json.dumps(data))

    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/{team_map.slug}/import/theydo/")
    page.get_by_label("TheyDo file (JSON)").set_input_files(str(bad))
    page.get_by_role("button", name="Preview").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was imported.")
    expect(alert).to_contain_text("metrics[0].dataPoints[1].dateOfMeasurement")
    expect(alert).to_contain_text("metrics[1].targetComparisonOperator")
    expect(alert).to_contain_text("metrics[2].title")
    expect(page.get_by_role("button", name="Import", exact=True)).to_have_count(0)
    assert not KPI.objects.exists()
    assert TheydoImport.objects.get().status == "refused"
    screenshot(page, "theydo-import-problems", full_page=True)

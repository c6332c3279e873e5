"""A journey owner in a real browser (issue 15): starts a sub-map from the "Onboard"
template, exports her map with its sub-maps as a journeyhub/1 file, changes it offline,
imports it back through "Import maps" — preview per map, nothing written, then the
import — and finds the change on the map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from maps.models import JourneyMap

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_an_owner_starts_from_a_template_exports_and_imports_her_maps(
    sign_in, live_server, owner, team_map, media, tmp_path, screenshot
):
    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/new/?parent={team_map.slug}")
    page.get_by_label("Title").fill("Onboard new savers")
    page.get_by_role("radio", name="Onboard").check()
    page.get_by_role("button", name="Create map").click()
    expect(page.get_by_role("heading", name="Onboard new savers", level=1)).to_be_visible()
    expect(page.get_by_text("Verify identity and documents").first).to_be_visible()
    screenshot(page, "map-from-template")

    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    page.locator("summary", has_text="Export").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="With its sub-maps (journeyhub/1)").click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [m["slug"] for m in document["maps"]] == ["open-an-account", "onboard-new-savers"]
    document["maps"][1]["title"] = "Onboard new savers and investors"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document), encoding="utf-8")

    page.locator("summary", has_text="Import").click()
    page.get_by_role("link", name="Maps under this one (journeyhub/1)").click()
    expect(page.get_by_role("heading", name="Import maps", level=1)).to_be_visible()
    page.get_by_label("journeyhub/1 file (JSON)").set_input_files(str(edited))
    page.get_by_label("Put the file's top maps under").select_option(label="Open an account")
    page.get_by_role("button", name="Preview").click()
    # the file keeps open-an-account at the top, where it is: "under" must match it
    expect(page.get_by_text("Nothing was imported")).to_be_visible()
    screenshot(page, "import-maps-refused", full_page=True)

    page.goto(f"{live_server.url}/maps/import/")
    page.get_by_label("journeyhub/1 file (JSON)").set_input_files(str(edited))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Nothing has been written yet")).to_be_visible()
    assert JourneyMap.objects.get(slug="onboard-new-savers").title == "Onboard new savers"
    screenshot(page, "import-maps-preview", full_page=True)

    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Updated 1 map")).to_be_visible()
    page.get_by_role("link", name="Onboard new savers and investors").click()
    expect(
        page.get_by_role("heading", name="Onboard new savers and investors", level=1)
    ).to_be_visible()

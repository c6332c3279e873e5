"""The inventory of maps kept elsewhere in a real browser: an owner adds the Miro board
her team still uses, marks it migrated to the JourneyHub map, and the map's page says
where it came from; the progress bars move. Screenshots go to test-artifacts/ and, for
the report of issue 15, to /tmp/shots-inventory/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from governance.models import ExternalMap

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/shots-inventory")


@pytest.fixture
def inventory(owner, team, other_owner, team_map):
    for n, (tool, status) in enumerate(
        [("slides", "to_migrate"), ("spreadsheet", "retired"), ("slides", "to_migrate")]
    ):
        ExternalMap.objects.create(
            title=f"Legacy map {n}",
            tool=tool,
            status=status,
            owner=other_owner,
            retired_reason="Duplicate of the onboarding deck" if status == "retired" else "",
        )
    return team_map


def _keep(path: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def test_an_owner_adds_a_board_marks_it_migrated_and_the_map_says_so(
    sign_in, live_server, inventory, screenshot
):
    page = sign_in("olivia")
    page.locator(".topnav").get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Inventory of maps kept elsewhere")).to_be_visible()
    expect(page.locator("#progress-title")).to_contain_text("1 of 3 done (33.3%)")

    page.get_by_role("link", name="Add a map").click()
    page.get_by_label("Title").fill("Account opening board")
    page.get_by_label("Tool").select_option(label="Miro")
    page.get_by_label("Link").fill("ftp://boards.example.com/1")
    page.get_by_role("button", name="Add to the inventory").click()
    expect(page.locator(".field-error")).to_contain_text("http or https")
    page.get_by_label("Link").fill("https://miro.com/app/board/uXjVOpen=/")
    page.get_by_label("Journey or area").fill("Open an account")
    page.get_by_role("button", name="Add to the inventory").click()
    expect(page.get_by_role("heading", name="Account opening board")).to_be_visible()

    page.get_by_role("link", name="Mark migrated").click()
    page.get_by_role("button", name="Save the status").click()
    expect(page.locator(".field-error")).to_contain_text("Choose the JourneyHub map")
    page.get_by_label("JourneyHub map").select_option(label="Open an account")
    page.get_by_role("button", name="Save the status").click()
    expect(page.locator(".map-facts")).to_contain_text("Migrated to")

    page.locator(".topnav").get_by_role("link", name="Inventory").click()
    expect(page.locator("#progress-title")).to_contain_text("2 of 4 done (50%)")
    _keep(screenshot(page, "inventory-list", full_page=True), "inventory-list.png")

    page.get_by_role("link", name="Open an account").first.click()
    expect(page.locator(".inv-migrated-from")).to_contain_text("Miro: Account opening board")
    _keep(screenshot(page, "inventory-map-migrated-from"), "map-migrated-from.png")


def test_a_viewer_reads_the_inventory_without_edit_controls(
    sign_in, live_server, inventory, viewer
):
    page = sign_in("vic")
    page.goto(f"{live_server.url}/inventory/")
    expect(page.get_by_role("link", name="Legacy map 0")).to_be_visible()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Add a map")).to_be_visible()  # anyone may add

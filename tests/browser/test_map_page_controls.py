"""The map grid's compact controls in a real browser (#16): a card's delete button added
by editor.js from the grid's template, the edit panel opened from a card, a stage moved
with its button, all without reloading the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import PainPoint, Stage
from tests.factories import PainPointFactory, StageFactory, StepFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_edits_deletes_and_moves_from_the_grid(sign_in, live_server, owner, team_map):
    first = StageFactory(map=team_map, name="Apply", position=0)
    StageFactory(map=team_map, name="Decide", position=1)
    step = StepFactory(map=team_map, stage=first, name="Fill in the form")
    PainPointFactory(map=team_map, step=step, title="The form times out")
    PainPointFactory(map=team_map, step=step, title="No way to save a draft")
    page = sign_in("olivia")
    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    grid = page.locator("#map-grid")

    # the edit link opens the panel in place
    page.get_by_role("link", name="Edit The form times out").click()
    panel = page.locator("#editor-panel .editor-panel")
    expect(panel.get_by_label("Title", exact=True)).to_have_value("The form times out")
    panel.get_by_label("Title", exact=True).fill("The form times out after 5 minutes")
    panel.get_by_role("button", name="Save").click()
    expect(grid.get_by_text("The form times out after 5 minutes")).to_be_visible()

    # the delete button next to it, added by editor.js, asks first and swaps the grid
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete No way to save a draft").click()
    expect(page.get_by_text("Deleted pain point")).to_be_visible()
    expect(grid.get_by_text("No way to save a draft")).to_have_count(0)
    assert list(PainPoint.objects.values_list("title", flat=True)) == [
        "The form times out after 5 minutes"
    ]
    # the refreshed grid has its delete buttons too
    expect(
        page.get_by_role("button", name="Delete The form times out after 5 minutes")
    ).to_have_count(1)

    # a dismissed confirmation deletes nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete The form times out after 5 minutes").click()
    expect(grid.get_by_text("The form times out after 5 minutes")).to_be_visible()
    assert PainPoint.objects.count() == 1

    # a stage moved with its keyboard button
    move = page.get_by_role("button", name="Move Apply right")
    move.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".stage-chip-name").first).to_have_text("Decide")
    assert list(Stage.objects.order_by("position").values_list("name", flat=True)) == [
        "Decide",
        "Apply",
    ]

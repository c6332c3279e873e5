"""Journey owners edit maps in a real browser: the flows of issue 5, end to end."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from maps.models import KPI, JourneyMap, PainPoint, Stage, Step, StepLink
from tests.factories import JourneyMapFactory, StageFactory, StepFactory

pytestmark = pytest.mark.django_db(transaction=True)


def open_panel_and_save(
    page, button_name: str, fields: dict[str, str], selects: dict | None = None
):
    page.get_by_role("link", name=button_name).first.click()
    panel = page.locator("#editor-panel .editor-panel")
    expect(panel).to_be_visible()
    for label, value in fields.items():
        panel.get_by_label(label, exact=True).fill(value)
    for label, value in (selects or {}).items():
        panel.get_by_label(label, exact=True).select_option(label=value)
    panel.get_by_role("button", name="Save").click()
    expect(page.locator("#editor-panel .editor-panel")).to_have_count(0)


def test_an_owner_builds_a_sub_map_and_finds_it_all_after_a_reload(
    sign_in, live_server, owner, team_map, screenshot
):
    StepFactory(map=team_map, name="Verify identity", key="verify", position=0)
    page = sign_in("olivia")
    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")

    # zoom into a step: a new sub-map attached to it
    page.get_by_role("link", name="Zoom into Verify identity: create a sub-map").click()
    expect(page.get_by_label("Title")).to_have_value("Verify identity")
    page.get_by_label("Title").fill("Verify my identity")
    page.get_by_role("button", name="Create map").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify my identity")
    sub_map = JourneyMap.objects.get(title="Verify my identity")
    assert sub_map.parent == team_map and sub_map.parent_step.name == "Verify identity"
    expect(page.get_by_text("Zooms into")).to_be_visible()

    # two stages, three steps
    open_panel_and_save(page, "+ Stage", {"Name": "Capture"})
    open_panel_and_save(page, "+ Stage", {"Name": "Decide"})
    open_panel_and_save(page, "+ Step", {"Name": "Scan the passport"}, {"Stage": "Capture"})
    open_panel_and_save(page, "+ Step", {"Name": "Take a selfie"}, {"Stage": "Capture"})
    open_panel_and_save(page, "+ Step", {"Name": "Get the decision"}, {"Stage": "Decide"})
    expect(page.locator(".step-head")).to_have_count(3)

    # a pain point of each kind and a KPI, from the lane's own add button
    page.get_by_role("link", name="Add Customer pain point to Take a selfie").click()
    page.get_by_label("Title").fill("The selfie fails in poor light")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Added pain point")).to_be_visible()
    page.get_by_role("link", name="Add Employee pain point to Get the decision").click()
    page.get_by_label("Title").fill("Manual review queue is worked by hand")
    page.get_by_role("button", name="Save").click()
    grid = page.locator("#map-grid")
    expect(grid.get_by_text("Manual review queue is worked by hand")).to_be_visible()
    page.get_by_role("link", name="Add KPI for the whole map").click()
    page.get_by_label("Name").fill("Automatic approval rate")
    page.get_by_label("Baseline").fill("60")
    page.get_by_label("Target").fill("85")
    page.get_by_role("button", name="Save").click()
    expect(grid.get_by_text("Automatic approval rate")).to_be_visible()

    # reorder from the keyboard: focus "move right" on the first step and press Enter
    move = page.get_by_role("button", name="Move Scan the passport right")
    move.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".step-head .step-name").first).to_contain_text("Take a selfie")

    # a loop back from the decision to the passport scan
    open_panel_and_save(
        page,
        "+ Link (loop, branch)",
        {"Label": "Check failed"},
        {"From step": "Get the decision", "To step": "Scan the passport", "Kind": "Loop back"},
    )
    expect(grid.get_by_text("Loop back: Scan the passport")).to_be_visible()
    screenshot(page, "map-editor")

    # everything is still there after a reload
    page.reload()
    heads = page.locator(".step-head .step-name")
    expect(heads).to_have_count(3)
    expect(heads.nth(0)).to_contain_text("Take a selfie")
    expect(heads.nth(1)).to_contain_text("Scan the passport")
    for text in (
        "The selfie fails in poor light",
        "Manual review queue is worked by hand",
        "Automatic approval rate",
        "Loop back: Scan the passport",
    ):
        expect(page.locator("#map-grid").get_by_text(text)).to_be_visible()
    assert Stage.objects.filter(map=sub_map).count() == 2
    assert set(PainPoint.objects.filter(map=sub_map).values_list("kind", flat=True)) == {
        "customer",
        "employee",
    }
    assert KPI.objects.get(map=sub_map).target == 85
    assert StepLink.objects.get(from_step__map=sub_map).kind == "loop"
    assert list(
        Step.objects.filter(map=sub_map).order_by("position").values_list("name", flat=True)
    )[:2] == ["Take a selfie", "Scan the passport"]


def test_a_second_editor_gets_the_conflict_message(
    sign_in, live_server, owner, team_member, team_map
):
    stage = StageFactory(map=team_map, name="Apply")
    step = StepFactory(map=team_map, stage=stage, name="Fill in the form")
    url = f"{live_server.url}{team_map.get_absolute_url()}"
    olivia, tess = sign_in("olivia"), sign_in("tess")
    olivia.goto(url)
    tess.goto(url)

    olivia.get_by_role("link", name=f"Edit step {step.name}").click()
    olivia.get_by_label("Name").fill("Fill in the application form")
    olivia.get_by_role("button", name="Save").click()
    expect(olivia.get_by_text("Saved step")).to_be_visible()

    tess.get_by_role("link", name=f"Edit step {step.name}").click()  # her page is a version behind
    tess.get_by_label("Name").fill("Complete the form")
    tess.get_by_role("button", name="Save").click()
    alert = tess.locator(".conflict")
    expect(alert).to_contain_text("Not saved.")
    expect(alert).to_contain_text("Fill in the application form")  # the newer content
    step.refresh_from_db()
    assert step.name == "Fill in the application form"

    tess.get_by_role("button", name="Save").click()  # re-apply her version knowingly
    expect(tess.get_by_text("Saved step")).to_be_visible()
    step.refresh_from_db()
    assert step.name == "Complete the form"


def test_a_viewer_sees_no_edit_controls(sign_in, live_server, viewer, team_map, screenshot):
    StepFactory(map=team_map, name="Apply")
    page = sign_in("vic")
    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text(team_map.title)
    expect(page.locator(".step-head")).to_have_count(1)
    for control in (".editor-toolbar", ".add-button", ".icon-button", "text=Map settings"):
        expect(page.locator(control)).to_have_count(0)


def test_a_team_member_edits_the_teams_map_but_not_omars(
    sign_in, live_server, team_member, other_owner, team_map
):
    omars = JourneyMapFactory(title="Pay and transfer", owner=other_owner)
    page = sign_in("tess")
    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    open_panel_and_save(page, "+ Stage", {"Name": "Apply"})
    expect(page.locator(".stage-chip")).to_have_count(1)

    page.goto(f"{live_server.url}{omars.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay and transfer")
    expect(page.locator(".editor-toolbar")).to_have_count(0)
    response = page.request.get(f"{live_server.url}/maps/{omars.slug}/edit/stage/new/")
    assert response.status == 403


def test_the_repository_page(sign_in, live_server, owner, team_map, screenshot):
    JourneyMapFactory(title="Verify my identity", owner=owner, parent=team_map)
    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/")
    expect(page.get_by_role("link", name="Verify my identity")).to_be_visible()
    expect(page.get_by_text(re.compile("Journey|Lifecycle")).first).to_be_visible()
    screenshot(page, "repository", full_page=True)

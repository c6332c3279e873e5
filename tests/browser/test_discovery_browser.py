"""A journey owner discovers a sub-map from an event log in a real browser (issue #18):
from her map's events page, upload the log, read the proposal (steps, links drawn,
ends, variants), raise the link threshold (htmx), rename a step, create the map under
one of her steps, and read its funnel on the new map's events page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import JourneyMap, Step, StepLink
from tests.factories import StepFactory
from tests.test_discovery import csv_log

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_an_owner_discovers_a_sub_map_from_a_log_and_reads_its_funnel(
    sign_in, live_server, owner, team_map, media, screenshot
):
    StepFactory(map=team_map, key="apply", name="Apply for a permit", position=0)
    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/{team_map.slug}/events/")
    page.get_by_role("link", name="Discover a sub-map from a log").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("from an event log")

    page.get_by_label("Event log (CSV or XES)").set_input_files(
        {"name": "permits.csv", "mimeType": "text/csv", "buffer": csv_log()}
    )
    page.get_by_role("button", name="Read the log").click()

    expect(page.get_by_role("heading", name="A map discovered from “permits.csv”")).to_be_visible()
    expect(page.locator("tr.discover-step-row")).to_have_count(6)
    expect(page.locator("svg path.discover-link")).to_have_count(4)  # skip ×2, branch, loop
    expect(page.locator("ol.discover-variants li").first).to_contain_text(
        "40.0 % (2 cases): apply → check → approve → pay"
    )
    screenshot(page, "discovery-proposal", full_page=True)

    # a higher threshold keeps only the 60 % skip; the page is not reloaded (htmx)
    page.get_by_label("Links for transitions in at least").fill("25")
    page.get_by_label("Links for transitions in at least").dispatch_event("change")
    expect(page.locator("svg path.discover-link")).to_have_count(1)
    expect(page.locator("table.discover-links tbody tr")).to_contain_text("skip")

    page.get_by_label("Name of step 1").fill("Apply online")
    page.get_by_label("Title", exact=True).fill("Permit applications")
    page.get_by_label("Where", exact=True).select_option(
        label="A sub-map of “Open an account”, zooming into “Apply for a permit”"
    )
    page.get_by_role("button", name="Create map").click()

    # the new map's figures: every case ended at a discovered end step
    expect(page.get_by_text("Completion rate", exact=True)).to_be_visible()
    funnel = page.locator("table.events-funnel").first
    expect(funnel).to_contain_text("Apply online")
    completion = page.locator("dl div", has=page.get_by_text("Completion rate", exact=True))
    expect(completion.locator("dd")).to_have_text("100.0 %")

    new = JourneyMap.objects.get(title="Permit applications")
    assert new.parent == team_map and new.parent_step.key == "apply"
    assert [s.end_kind for s in Step.objects.filter(map=new).order_by("position")][-2:] == [
        "success",
        "other",
    ]
    assert StepLink.objects.filter(from_step__map=new).count() == 1

    page.goto(f"{live_server.url}/maps/{new.slug}/events/")
    expect(page.locator("table.events-imports tbody tr")).to_have_count(1)
    page.locator("table.events-imports tbody tr a").first.click()
    expect(page.locator("table.events-funnel").first).to_contain_text("Apply online")
    screenshot(page, "discovery-funnel", full_page=True)

"""CX leadership ranks the portfolio in a real browser (issue 7): filter to a journey's
subtree, open a project from the bubble chart, change a weight; a viewer cannot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from governance.models import PrioritisationWeights
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portfolio(owner, team, other_owner, leader):
    PrioritisationWeights.objects.get_or_create(pk=1)
    journey = JourneyMapFactory(title="Onboard", slug="onboard", owner=owner, team=team)
    task = JourneyMapFactory(title="Verify", slug="verify", owner=owner, parent=journey)
    other = JourneyMapFactory(title="Pay", slug="pay", owner=other_owner)
    MeasurementFactory(kpi=KPIFactory(map=journey, baseline=0, target=100), value=40)
    pain = PainPointFactory(map=task, title="Selfie fails", severity=4, frequency=5)
    CXProjectFactory(
        title="Faster onboarding",
        owner=owner,
        team=team,
        status="ongoing",
        maps=[journey],
        effort=8,
        impact=4,
    )
    fix = CXProjectFactory(
        title="Selfie fix",
        owner=owner,
        status="planned",
        maps=[task],
        pain_points=[pain],
        effort=2,
        impact=5,
        reach=5000,
    )
    CXProjectFactory(title="Pay later", owner=other_owner, maps=[other], effort=3, impact=2)
    return {"fix": fix}


def test_leadership_filters_opens_a_project_from_the_chart_and_changes_a_weight(
    sign_in, live_server, portfolio, screenshot
):
    page = sign_in("leader")
    # no animation (portfolio.js honours reduced motion): a bubble is clicked where it is
    # drawn, not where an animation, restarted by the full-page screenshot's resize, has got
    page.emulate_media(reduced_motion="reduce")
    page.get_by_role("link", name="Portfolio", exact=True).click()
    expect(page.get_by_role("heading", name="Project portfolio")).to_be_visible()
    # the map picker: type, pick with the keyboard, filter
    box = page.get_by_role("combobox", name="Journey (and below)")
    box.fill("onb")
    expect(page.get_by_role("listbox").get_by_role("option", name="Onboard")).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("Onboard")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"map=onboard"))
    expect(page).not_to_have_url(re.compile(r"map_name="))
    table = page.locator(".pf-table")
    expect(table.get_by_role("link", name="Selfie fix")).to_be_visible()
    expect(table.get_by_role("link", name="Pay later")).to_have_count(0)
    expect(page.locator("#portfolio-chart")).to_be_visible()
    page.wait_for_function("document.getElementById('portfolio-chart').portfolioChart")
    screenshot(page, "portfolio", full_page=True)

    # click the bubble of "Selfie fix" where Chart.js drew it
    box = page.locator("#portfolio-chart").bounding_box()
    x, y = page.evaluate(
        """(title) => {
          const chart = document.getElementById('portfolio-chart').portfolioChart;
          for (let d = 0; d < chart.data.datasets.length; d++) {
            const i = chart.data.datasets[d].data.findIndex(p => p.title === title);
            // where the bubble ends up, not where its animation has got to
            if (i >= 0) {
              const p = chart.getDatasetMeta(d).data[i].getProps(["x", "y"], true);
              return [p.x, p.y];
            }
          }
          return null;
        }""",
        "Selfie fix",
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(page).to_have_url(f"{live_server.url}/projects/{portfolio['fix'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Selfie fix")
    expect(page.get_by_text("Pain addressed").first).to_be_visible()

    # change a weight: WSJF with business value counting double
    page.goto(f"{live_server.url}/portfolio/weights/")
    page.get_by_label("WSJF (cost of delay ÷ job size)").check()
    page.get_by_label("Business value (WSJF, value vs effort)").fill("2")
    page.get_by_role("button", name="Save weights").click()
    expect(page.get_by_text("Saved the prioritisation weights")).to_be_visible()
    weights = PrioritisationWeights.objects.get()
    assert weights.method == "wsjf" and weights.business_value == 2
    page.goto(f"{live_server.url}/portfolio/")
    expect(page.get_by_text("Ranked by WSJF")).to_be_visible()


def test_one_large_project_no_longer_squeezes_the_others_on_the_chart(
    sign_in, live_server, portfolio, owner, screenshot
):
    # 120 person-weeks next to 2, 3 and 8: effort goes on a log axis
    CXProjectFactory(title="Core banking", owner=owner, effort=120, impact=4, reach=20000)
    page = sign_in("leader")
    page.emulate_media(reduced_motion="reduce")  # no animation: bubbles at their places
    page.goto(f"{live_server.url}/portfolio/")
    page.wait_for_function("document.getElementById('portfolio-chart').portfolioChart")
    xs = page.evaluate(
        """() => {
          const chart = document.getElementById('portfolio-chart').portfolioChart;
          const out = {type: chart.scales.x.type, width: chart.chartArea.width};
          chart.data.datasets.forEach((d, i) => d.data.forEach((p, j) => {
            out[p.title] = chart.getDatasetMeta(i).data[j].x;
          }));
          return out;
        }"""
    )
    assert xs["type"] == "logarithmic"
    # efforts 2 and 3 lie log10(1.5) ÷ log10(192 ÷ 1.2) = 8 % of the axis apart; on the
    # linear axis up to 132 they were 1 ÷ 132 of its width apart (a few pixels)
    assert xs["Pay later"] - xs["Selfie fix"] > xs["width"] / 20
    assert xs["Core banking"] > xs["Faster onboarding"] > xs["Pay later"]
    expect(page.get_by_text("logarithmic scale").first).to_be_visible()
    screenshot(page, "portfolio-log-effort", full_page=False)
    # the chart's values, for those who cannot see it, one click away
    page.get_by_text("Chart data (4 projects)").click()
    expect(page.locator(".pf-chart-table").get_by_role("cell", name="Core banking")).to_be_visible()


def test_a_viewer_cannot_change_the_weights(sign_in, live_server, portfolio, viewer):
    page = sign_in("vic")
    page.goto(f"{live_server.url}/portfolio/weights/")
    expect(page.get_by_role("heading", name="How projects are ranked")).to_be_visible()
    expect(page.get_by_role("button", name="Save weights")).to_have_count(0)
    expect(page.get_by_text("Only CX leadership and admins change")).to_be_visible()
    status = page.evaluate(
        """async () => {
          const token = document.body.getAttribute('hx-headers');
          const csrf = JSON.parse(token)['X-CSRFToken'];
          const body = new URLSearchParams({method: 'wsjf', version: '1', health_gap: '1',
            pain: '1', business_value: '9', time_criticality: '1', risk_reduction: '1',
            customer_value: '1', csrfmiddlewaretoken: csrf});
          const r = await fetch('/portfolio/weights/', {method: 'POST', body});
          return r.status;
        }"""
    )
    assert status == 403
    assert PrioritisationWeights.objects.get().business_value == 1


def test_the_map_picker_is_a_keyboard_combobox_of_visible_maps_only(
    sign_in, live_server, portfolio, viewer, other_owner, screenshot
):
    JourneyMapFactory(title="Offboard draft", slug="offboard", owner=other_owner, status="draft")
    JourneyMapFactory(title="Open an account", slug="open", owner=other_owner)
    page = sign_in("vic")
    page.goto(f"{live_server.url}/portfolio/")
    box = page.get_by_role("combobox", name="Journey (and below)")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("o", delay=30)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    # lifecycles and journeys vic may see, not omar's draft nor a task (Verify)
    options = listbox.get_by_role("option")
    expect(options).to_have_text([re.compile("^Onboard"), "Open an account"])
    screenshot(page, "portfolio-map-picker")
    # arrows move the active option (aria-activedescendant), wrapping round
    box.press("ArrowDown")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    active = box.get_attribute("aria-activedescendant")
    assert active == options.nth(1).get_attribute("id")
    # Escape closes the list, a second one empties the box
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("Escape")
    expect(box).to_have_value("")
    # nothing matches: said so, and Enter then sends the text for the server to resolve
    box.press_sequentially("zzz", delay=30)
    expect(page.get_by_text("No journey you can see matches.")).to_be_visible()
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("No journey you can see is named “zzz”.")
    expect(page.locator(".pf-table")).to_have_count(0)
    # typed and picked with a mouse: the table filters to the journey's subtree
    box = page.get_by_role("combobox", name="Journey (and below)")
    box.fill("")
    box.press_sequentially("Onb", delay=30)
    page.get_by_role("listbox").get_by_role("option", name="Onboard").click()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"map=onboard"))
    table = page.locator(".pf-table")
    expect(table.get_by_role("link", name="Selfie fix")).to_be_visible()
    expect(table.get_by_role("link", name="Pay later")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Journey (and below)")).to_have_value("Onboard")

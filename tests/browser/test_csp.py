"""The Content-Security-Policy holds in a real browser: an owner walks the main pages
(with htmx edits on the map page, Chart.js charts, Swagger UI) and Chromium reports no
violation, neither as a ``securitypolicyviolation`` event nor in the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import (
    CXProjectFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Reports every violation the page sees to the console, where the test collects them.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""


@pytest.fixture
def watched(browser, live_server):
    """A signed-in page whose CSP violations (events and console errors) are collected."""
    contexts = []

    def _open(username: str, password: str = "journeyhub"):
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text or "CSP violation" in message.text
                else None
            ),
        )
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page, violations

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def journey(owner, team, team_map):
    stage = StageFactory(map=team_map, name="Apply")
    step = StepFactory(map=team_map, stage=stage, name="Fill in the form", emotion=-1)
    StepFactory(map=team_map, stage=stage, name="Verify identity", emotion=1)
    kpi = KPIFactory(map=team_map, step=step, name="Completion", baseline=0, target=100)
    for value in (40, 55, 61):
        MeasurementFactory(kpi=kpi, value=value)
    QualitativeFactorFactory(map=team_map, rating=4)
    pain = PainPointFactory(map=team_map, step=step, title="Too many fields")
    project = CXProjectFactory(
        title="Shorter form", owner=owner, team=team, maps=[team_map], pain_points=[pain]
    )
    return {"map": team_map, "project": project}


def test_the_main_pages_run_without_a_csp_violation(watched, live_server, journey, viewer):
    page, violations = watched("olivia")
    url = live_server.url
    slug = journey["map"].slug

    expect(page.get_by_role("heading", level=1).first).to_be_visible()  # home
    page.goto(f"{url}/maps/")
    expect(page.get_by_role("link", name="Open an account").first).to_be_visible()

    # the map editor: open the panel with htmx and add a pain point (grid swapped in)
    page.goto(f"{url}/maps/{slug}/")
    page.get_by_role("link", name="Add Customer pain point to Verify identity").click()
    page.get_by_label("Title").fill("The code never arrives")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#map-grid").get_by_text("The code never arrives")).to_be_visible()
    page.get_by_role("button", name="Move Fill in the form right").click()
    expect(page.locator(".step-head .step-name").first).to_contain_text("Verify identity")

    page.goto(f"{url}/maps/{slug}/scorecard/")  # Chart.js trend and bars
    expect(page.locator("canvas").first).to_be_visible()
    page.goto(f"{url}/portfolio/")  # Chart.js bubbles
    expect(page.locator("canvas").first).to_be_visible()
    page.goto(f"{url}/projects/{journey['project'].pk}/")
    expect(page.get_by_role("heading", name="Shorter form")).to_be_visible()
    for path in (f"/maps/{slug}/history/", f"/maps/{slug}/snapshots/", f"/maps/{slug}/events/"):
        page.goto(f"{url}{path}")
        expect(page.locator("main h1").first).to_be_visible()

    page.goto(f"{url}/api/docs/")  # Swagger UI, under its own relaxed policy
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("JourneyHub API")
    expect(page.locator(".opblock").first).to_be_visible()

    page.goto(f"{url}/no/such/page/")  # the friendly 404
    expect(page.get_by_text("There is no page at this address.")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert violations == []


def test_a_violation_would_be_caught(watched, live_server, owner):
    """The listener works: an inline style attribute set on the page is reported."""
    page, violations = watched("olivia")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in violations), violations


def test_the_error_and_lockout_pages_keep_the_app_around_them(
    watched, browser, live_server, journey, viewer, settings, screenshot
):
    settings.DEBUG = False
    page, violations = watched("vic")
    page.goto(f"{live_server.url}/maps/{journey['map'].slug}/transfer/")
    expect(page.get_by_role("heading", name="You cannot do this here")).to_be_visible()
    expect(
        page.get_by_text("Only the owner, CX leadership or an admin may transfer")
    ).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    screenshot(page, "error-403")
    page.goto(f"{live_server.url}/maps/no-such-map/")
    expect(page.get_by_text("No such journey map.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    screenshot(page, "error-404")
    assert violations == []

    settings.AXES_ENABLED = True
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        stranger = context.new_page()
        for attempt in range(10):
            stranger.goto(f"{live_server.url}/accounts/login/")
            stranger.fill("#id_username", "vic")
            stranger.fill("#id_password", f"wrong-{attempt}")
            stranger.click("button[type=submit]")
        expect(stranger.get_by_role("heading", name="Too many failed sign-ins")).to_be_visible()
        expect(stranger.get_by_text("paused for 15 minutes")).to_be_visible()
        screenshot(stranger, "sign-in-lockout")
    finally:
        context.close()


def test_the_admin_runs_without_a_csp_violation(watched, live_server, admin_user, journey):
    page, violations = watched("admin")
    page.goto(f"{live_server.url}/admin/maps/journeymap/")
    expect(page.locator(".tree-indent").first).to_be_visible()  # the draggable tree
    page.goto(f"{live_server.url}/admin/maps/journeymap/{journey['map'].pk}/change/")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    page.goto(f"{live_server.url}/admin/maps/cxproject/")
    page.wait_for_load_state("networkidle")
    assert violations == []

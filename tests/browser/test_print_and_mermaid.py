"""On paper and in Mermaid, in real Chromium: the print view printed to PDF has every step
of a 32-step map and the lane names on every page; Ctrl+P on the map page leaves the
navigation out; the vendored Mermaid draws the exported text, hostile names included,
without an error or a CSP violation, and the Copy button copies it.

The PDF and a screenshot of the print view land in ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest
from pdfminer.high_level import extract_pages
from pdfminer.layout import LTTextContainer
from playwright.sync_api import expect

from maps.mermaid import map_to_mermaid
from tests.browser.conftest import ARTIFACTS
from tests.factories import (
    KPIFactory,
    LaneItemFactory,
    PainPointFactory,
    PersonaFactory,
    StageFactory,
    StepFactory,
)
from tests.test_mermaid import HOSTILE

pytestmark = pytest.mark.django_db(transaction=True)

PRINTED_LANES = ("Stage", "Step", "Emotion", "Customer pain point", "Insight", "KPI")


def squeeze(text: str) -> str:
    """Text without any whitespace: a name wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text.replace("\u200b", ""))


def pdf_pages(path) -> list[tuple[float, float, str]]:
    pages = []
    for layout in extract_pages(path):
        text = "".join(e.get_text() for e in layout if isinstance(e, LTTextContainer))
        pages.append((layout.width, layout.height, text))
    return pages


@pytest.fixture
def long_journey(team_map):
    """32 steps in three stages, with pain points, insights and KPIs spread over them."""
    stages = [
        StageFactory(map=team_map, name=name, position=i)
        for i, name in enumerate(("Discover", "Apply", "Get started"))
    ]
    steps = []
    for i in range(32):
        step = StepFactory(
            map=team_map,
            stage=stages[i * 3 // 32],
            key=f"s{i}",
            name=f"Step {i + 1:02d} {('Compare plans', 'Call us', 'Sign')[i % 3]}",
            position=i,
            emotion=(i % 5) - 2,
            channel=("web", "phone", "branch")[i % 3],
        )
        steps.append(step)
        PainPointFactory(map=team_map, step=step, title=f"Pain {i + 1}")
        LaneItemFactory(map=team_map, step=step, kind="insight", title=f"Insight {i + 1}")
    for step in steps[::5]:
        KPIFactory(map=team_map, step=step, name=f"KPI of {step.key}")
    return team_map, steps


def test_the_print_view_prints_every_step_with_the_lane_names_on_every_page(
    sign_in, live_server, long_journey, viewer, screenshot
):
    journey_map, steps = long_journey
    page = sign_in("vic")
    page.goto(f"{live_server.url}/maps/{journey_map.slug}/print/")
    assert page.locator(".topbar").count() == 0
    screenshot(page, "print-view")
    path = ARTIFACTS / "print-view.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)

    pages = pdf_pages(path)
    assert len(pages) >= 6  # 32 steps, six per landscape page
    everything = squeeze("".join(text for _, _, text in pages))
    missing = [step.name for step in steps if squeeze(step.name) not in everything]
    assert missing == []
    for number, (width, height, text) in enumerate(pages, start=1):
        assert width > height, f"page {number} is not landscape"
        on_page = squeeze(text)
        assert squeeze("Open an account") in on_page, f"no header on page {number}"
        lanes = [lane for lane in PRINTED_LANES if squeeze(lane) not in on_page]
        assert lanes == [], f"page {number} lacks the lanes {lanes}"
        assert "Sign out" not in text and "Print or save as PDF" not in text


def test_printing_the_map_page_leaves_out_the_navigation_and_the_controls(
    sign_in, live_server, long_journey, screenshot
):
    journey_map, steps = long_journey
    page = sign_in("olivia")
    page.goto(f"{live_server.url}/maps/{journey_map.slug}/")
    assert page.locator(".print-only").is_hidden()  # on screen the buttons lead there
    screenshot(page, "map-page-with-print-and-mermaid")
    page.click("a:text-is('Print')")
    page.wait_for_url(f"**/maps/{journey_map.slug}/print/")
    page.go_back()
    pdf = page.pdf(prefer_css_page_size=True)
    path = ARTIFACTS / "map-page-printed.pdf"
    path.write_bytes(pdf)
    text = "".join(text for _, _, text in pdf_pages(path))
    assert squeeze("Open an account") in squeeze(text)
    assert squeeze(steps[0].name) in squeeze(text)
    # the columns that do not fit are cut: the page says where every step is printed
    assert squeeze(f"/maps/{journey_map.slug}/print/") in squeeze(text)
    for absent in ("Sign out", "Portfolio", "Transfer ownership", "Map settings", "+ Stage"):
        assert squeeze(absent) not in squeeze(text), absent


REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


def test_the_vendored_mermaid_draws_the_export_with_every_step_and_the_copy_button_copies_it(
    browser, live_server, team_map, viewer, screenshot
):
    # two personas: two actors of every step
    team_map.personas.add(
        PersonaFactory(name="Pat, the: #admin;", slug="pat"), PersonaFactory(name="Retiree")
    )
    stage = StageFactory(map=team_map, name="Stage: one; #1")
    names = [*HOSTILE, "Compare plans", "Sign the contract"]
    for i, name in enumerate(names):
        StepFactory(map=team_map, stage=stage if i % 2 else None, name=name, position=i)
    text = map_to_mermaid(team_map)

    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(20_000)  # Mermaid is 5 MB of script
    context.add_init_script(REPORT_VIOLATIONS)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            # failed requests are checked below by URL (Chromium asks for /favicon.ico)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "vic")
    page.fill("#id_password", "journeyhub")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/maps/{team_map.slug}/export/mermaid/")
    preview = page.locator("#mermaid-preview")
    page.wait_for_selector("#mermaid-preview[data-rendered]")
    status = page.locator("#mermaid-preview-status").inner_text()
    assert preview.get_attribute("data-rendered") == "ok", status
    svg = preview.locator("svg")
    assert svg.count() == 1
    drawn = squeeze(svg.evaluate("node => node.textContent"))
    tasks = [line.strip().split(": ")[0] for line in text.splitlines() if line.startswith("  ")]
    task_names = [t for t in tasks if not t.startswith(("title ", "section "))]
    assert len(task_names) == len(names)
    assert [t for t in task_names if squeeze(t) not in drawn] == []
    assert "Syntaxerror" not in drawn
    # names are text: nothing from them became markup
    assert preview.locator("script, b, foreignObject script").count() == 0
    screenshot(page, "mermaid-export", full_page=True)

    page.click("[data-copy]")
    # a locator, not wait_for_function: its polling evaluates a string, which the CSP refuses
    expect(page.locator("#mermaid-copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == text
    assert problems == []
    context.close()

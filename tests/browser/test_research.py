"""Research as evidence in a real browser: an editor records a source, a quote linked to a
step (keyboard-usable multi-select) and a file; a viewer opens the evidence behind the
step's card on the map (htmx, keyboard) and downloads the file. Screenshots of every
page land in ``test-artifacts/`` (research-*.png)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import Attachment, Quote, ResearchSource, Tag
from tests.factories import LaneItemFactory, PainPointFactory, StepFactory
from tests.research_data import PDF, attach, source_with_quotes, tagged

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_an_editor_records_research_and_a_viewer_reads_the_evidence_on_the_map(
    sign_in, live_server, owner, viewer, team_map, media, screenshot, tmp_path
):
    step = StepFactory(map=team_map, name="Scan the code", position=0)
    PainPointFactory(map=team_map, step=step, title="Glare on the screen")
    page = sign_in("olivia")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    page.get_by_role("link", name="Research", exact=True).click()
    expect(page.get_by_role("heading", name=f"Research behind “{team_map.title}”")).to_be_visible()
    page.get_by_role("link", name="Add a research source").click()
    page.get_by_label("Kind").select_option("usability")
    page.get_by_label("Title").fill("Usability test, June")
    page.get_by_label("Date").fill("2026-06-12")
    screenshot(page, "research-source-form", full_page=True)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Usability test, June")).to_be_visible()
    source = ResearchSource.objects.get()
    page.get_by_role("link", name="Add a quote").click()
    page.get_by_label("Text").fill("I could not read the code in the sun.")
    page.get_by_label("Persona hint").fill("Commuter")
    steps = page.get_by_label("Steps it backs")
    steps.focus()
    page.keyboard.press("ArrowDown")  # the keyboard selects an option of the multi-select
    screenshot(page, "research-quote-form", full_page=True)
    page.get_by_role("button", name="Save").click()
    quote = Quote.objects.get()
    assert list(quote.steps.all()) == [step]
    tagged(quote, "Mobile")

    upload = tmp_path / "findings.pdf"
    upload.write_bytes(PDF)
    page.get_by_label("Attach a file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="findings.pdf")).to_be_visible()
    assert Attachment.objects.get().content_type == "application/pdf"
    page.reload()
    screenshot(page, "research-source-page", full_page=True)

    svg = tmp_path / "logo.svg"
    svg.write_text("<svg/>")
    page.get_by_label("Attach a file").set_input_files(str(svg))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text(".svg files are not accepted")).to_be_visible()
    screenshot(page, "research-upload-refused", full_page=True)
    assert Attachment.objects.count() == 1

    more = source_with_quotes(team_map, title="Support log, May", quotes=2, kind="feedback")
    for extra in more.quotes.all():
        extra.steps.add(step)
    attach(more, "tickets.csv", b"id,text\n1,glare\n")
    page.goto(f"{live_server.url}/maps/{team_map.slug}/research/")
    screenshot(page, "research-page", full_page=True)

    opportunity = LaneItemFactory(
        map=team_map,
        step=step,
        kind="opportunity",
        title="Brighter code screen",
        owner=owner,
        status="validated",
        empathy_score=4.5,
        weight=3,
        external_links=["https://example.com/tickets/42", "not a web link"],
    )
    opportunity.tags.set([Tag.objects.create(name="Quick win")])
    quote.lane_items.add(opportunity)
    reader = sign_in("vic")
    reader.goto(f"{live_server.url}{team_map.get_absolute_url()}")
    toggle = reader.locator("summary.evidence-count").first
    expect(toggle).to_contain_text("3 quotes · 2 sources")
    toggle.focus()
    reader.keyboard.press("Enter")  # opens the details; htmx loads the quotes
    expect(reader.get_by_text("I could not read the code in the sun.")).to_be_visible()
    expect(reader.locator(".evidence-quote figcaption").first).to_contain_text(source.title)
    screenshot(reader, "research-evidence-on-map")
    card = reader.locator("article.card-item", has_text="Brighter code screen")
    expect(card).to_contain_text("validated")
    expect(card).to_contain_text("Quick win")
    expect(card.get_by_role("link", name="https://example.com/tickets/42")).to_be_visible()
    expect(card).not_to_contain_text("not a web link")
    card.locator("summary.evidence-count").click()
    expect(card.get_by_text("I could not read the code in the sun.")).to_be_visible()
    card.screenshot(
        path=str(
            screenshot(reader, "research-map-full", full_page=True).with_name(
                "research-lane-card.png"
            )
        )
    )
    reader.goto(f"{live_server.url}/maps/{team_map.slug}/research/{source.pk}/")
    expect(reader.get_by_role("link", name="Add a quote")).to_have_count(0)
    with reader.expect_download() as download:
        reader.get_by_role("link", name="findings.pdf").click()
    assert download.value.suggested_filename == "findings.pdf"
    screenshot(reader, "research-source-page-viewer", full_page=True)
    assert [e for e in errors if "Content Security Policy" in e] == []

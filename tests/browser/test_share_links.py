"""A read-only share link in a real browser: the owner makes one on the sharing page,
someone without an account opens it in a fresh browser (no sign-in, no CSP violation,
nothing to click through to), the owner revokes it and the same address stops."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from governance.models import ShareLinkUse
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def journey(owner, team, other_owner, settings, live_server):
    settings.JOURNEYHUB_BASE_URL = live_server.url  # the address the link is made with
    lifecycle = JourneyMapFactory(title="Customer lifecycle", slug="lifecycle", owner=other_owner)
    journey = JourneyMapFactory(
        title="Open an account", slug="open-an-account", owner=owner, team=team,
        parent=lifecycle, summary="From the first visit to a funded account.",
    )  # fmt: skip
    steps = build_map_content(journey, steps=5, items_per_step=1)
    return {"map": journey, "steps": steps}


def test_a_link_opens_the_map_read_only_without_sign_in_until_it_is_revoked(
    browser, sign_in, journey, screenshot
):
    page = sign_in("olivia")
    page.goto(page.url.rstrip("/") + journey["map"].get_absolute_url())
    page.get_by_role("link", name="Share", exact=True).click()
    page.get_by_label("Label").fill("Agency workshop")
    page.get_by_label("Last day").fill("2099-12-31")
    page.get_by_role("button", name="Make a read-only link").click()
    url = page.locator("#new-link-url").input_value()
    assert "/s/" in url
    expect(page.locator("#links tbody tr")).to_have_count(1)
    expect(page.locator("#links tbody tr")).to_contain_text("Agency workshop")
    expect(page.locator("#links tbody tr")).to_contain_text("Active")
    screenshot(page, "share-links-sharing-page", full_page=True)

    # someone without an account, in a browser of their own
    visitor = browser.new_context(viewport={"width": 1440, "height": 1000})
    visitor.set_default_timeout(10_000)
    try:
        public = visitor.new_page()
        problems: list[str] = []
        public.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" else None,
        )
        response = public.goto(url)
        assert response.status == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-robots-tag"].startswith("noindex")
        expect(public.get_by_role("heading", name="Open an account")).to_be_visible()
        for step in journey["steps"]:
            expect(public.locator(".step-name", has_text=step.name)).to_be_visible()
        expect(public.get_by_label("Username")).to_have_count(0)  # not sent to sign in
        expect(public.get_by_role("button")).to_have_count(0)
        expect(public.get_by_role("form")).to_have_count(0)
        expect(public.get_by_text("Customer lifecycle")).to_have_count(0)
        hrefs = public.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        )
        assert all(h.startswith("#step-") for h in hrefs), hrefs
        assert problems == []  # no CSP violation, nothing failed to load
        assert visitor.cookies() == []
        screenshot(public, "share-links-public-page", full_page=True)
        assert ShareLinkUse.objects.count() == 1

        page.get_by_role("button", name="Revoke link Agency workshop").click()
        expect(page.locator("#links tbody tr")).to_contain_text("Revoked")
        gone = public.goto(url)
        assert gone.status == 404
        expect(public.get_by_role("heading", name="This link does not open a map")).to_be_visible()
        screenshot(public, "share-links-revoked")
    finally:
        visitor.close()

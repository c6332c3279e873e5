"""Comments in a real browser: olivia comments on a pain point mentioning tess (htmx
posts in place, the text stays text, an unknown name stays plain), tess gets one e-mail,
finds the mention on her home page, follows it to the thread and replies; on the map
page the Discussion panel lists the open thread and opens it in a dialog."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from governance.models import Comment
from tests.builders import build_map_content
from tests.factories import PainPointFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def journey(team_map, team_member, settings, live_server):
    settings.JOURNEYHUB_BASE_URL = live_server.url
    build_map_content(team_map, steps=3, items_per_step=1)
    pain = PainPointFactory(map=team_map, title="Waiting for the ID check", severity=4)
    return {"map": team_map, "pain": pain}


def test_a_comment_with_a_mention_on_a_pain_point_reaches_the_mentioned_person(
    sign_in, journey, live_server, screenshot, viewer
):
    journey_map, pain = journey["map"], journey["pain"]
    page = sign_in("olivia")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/maps/{journey_map.slug}/comments/on/painpoint/{pain.pk}/")
    expect(page.get_by_role("heading", name="Discussion of pain point")).to_be_visible()
    page.get_by_label("Comment").fill(
        "@tess can we shorten this?\n<script>alert('x')</script> @vic @nobody"
    )
    page.get_by_role("button", name="Comment", exact=True).click()
    thread = page.locator(".comment-thread").first
    expect(thread).to_contain_text("@tess can we shorten this?")
    expect(thread).to_contain_text("<script>alert('x')</script>")  # shown as text
    expect(thread.locator("a.mention")).to_have_count(2)  # tess and vic see the map
    expect(thread.locator("a.mention").first).to_have_text("@tess")
    assert page.url.endswith(f"/comments/on/painpoint/{pain.pk}/")  # htmx: no reload
    screenshot(page, "comments-pain-point-thread", full_page=True)

    assert errors == []

    # one e-mail each for tess and vic, with an absolute link to the thread
    top = Comment.objects.get(parent__isnull=True)
    assert sorted(m.to[0] for m in mail.outbox) == ["tess@example.com", "vic@example.com"]
    assert f"{live_server.url}/maps/{journey_map.slug}/comments/{top.pk}/" in mail.outbox[0].body

    # tess finds it on her home page and replies in the thread
    tess = sign_in("tess")
    mentions = tess.locator(".comment-mentions")
    expect(mentions).to_contain_text("Olivia Owens on “Open an account”")
    expect(mentions).to_contain_text("@tess can we shorten this?")
    screenshot(tess, "comments-home-mentions")
    mentions.get_by_role("link", name="Olivia Owens on “Open an account”").click()
    expect(tess.get_by_role("heading", name="Thread on pain point")).to_be_visible()
    tess.get_by_label("Comment").fill("Yes: I'll draft it for Thursday.")
    tess.get_by_role("button", name="Reply").last.click()
    expect(tess.locator(".comment-thread")).to_contain_text("I'll draft it for Thursday.")
    assert Comment.objects.filter(parent=top).get().author.username == "tess"


def test_the_map_pages_discussion_panel_opens_an_items_thread_in_a_dialog(
    sign_in, journey, live_server, screenshot, owner, viewer
):
    from governance import comments

    journey_map, pain = journey["map"], journey["pain"]
    comments.comment_create(
        journey_map=journey_map, author=owner, body="@tess can we shorten this?",
        target_kind="painpoint", target_id=pain.pk,
    )  # fmt: skip
    page = sign_in("vic")  # a viewer: he may comment too
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}{journey_map.get_absolute_url()}")
    panel = page.locator(".comment-panel")
    expect(panel).to_contain_text("1 open")
    panel.get_by_role("link", name="Pain point “Waiting for the ID check”").click()
    dialog = page.locator("#comment-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("@tess can we shorten this?")
    dialog.get_by_label("Reply").fill("And the selfie step too.")
    dialog.get_by_role("button", name="Reply").click()
    expect(dialog).to_contain_text("And the selfie step too.")
    screenshot(page, "comments-map-dialog")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # every step can start a thread: comments.js adds the links the page leaves out; the
    # dialog's second swap (settling elements of the same ids) draws no CSP error
    page.get_by_role("link", name="Comment on this step").first.click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Comment")).to_be_visible()
    expect(dialog.get_by_label("Comment")).to_be_focused()
    assert errors == []


def test_a_thread_starts_on_a_pain_point_that_has_no_comments(
    sign_in, journey, live_server, screenshot, viewer
):
    journey_map, pain = journey["map"], journey["pain"]
    page = sign_in("olivia")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}{journey_map.get_absolute_url()}")
    card = page.locator("article.card-item", has_text=pain.title)
    expect(card.locator("a[data-comments]")).to_have_count(1)  # added by comments.js
    card.get_by_role("link", name=f"Comment on {pain.title}").click()
    dialog = page.locator("#comment-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Comment")).to_be_focused()
    dialog.get_by_label("Comment").fill("Could the ID check start before the form?")
    dialog.get_by_role("button", name="Comment", exact=True).click()
    expect(dialog.locator(".comment-thread")).to_contain_text("Could the ID check start")
    screenshot(page, "comments-new-thread-on-card")
    top = Comment.objects.get()
    assert (top.target_kind, top.target_id, top.author.username) == ("painpoint", pain.pk, "olivia")
    assert errors == []

    # a reader's cards carry no edit link: the link is built from the card's data-id
    reader = sign_in("vic")
    reader.goto(f"{live_server.url}{journey_map.get_absolute_url()}")
    other = journey_map.pain_points.exclude(pk=pain.pk).first()
    reader.locator("article.card-item", has_text=other.title).get_by_role(
        "link", name=f"Comment on {other.title}"
    ).click()
    expect(reader.locator("#comment-dialog").get_by_label("Comment")).to_be_visible()
    assert reader.url.endswith(journey_map.get_absolute_url())  # in the dialog, not a page

"""A journey owner drafts a future state of her map, changes it, compares it with today,
discusses a change with @mentions and points it to the project that delivers it, in a
real browser (#17). Screenshots: test-artifacts/future-state-*.png (the README's)."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import expect

from maps.models import JourneyMap
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    PainPointFactory,
    StageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_drafts_a_future_state_compares_discusses_and_links_it_to_a_project(
    sign_in, live_server, owner, team, team_member, screenshot, settings
):
    settings.JOURNEYHUB_BASE_URL = live_server.url
    lifecycle = JourneyMapFactory(
        title="Customer lifecycle",
        owner=owner,
        team=team,
        vision="Banking that feels effortless, wherever you start.",
    )
    journey = JourneyMapFactory(
        title="Open an account", slug="open-an-account", owner=owner, team=team, parent=lifecycle
    )
    apply_stage = StageFactory(map=journey, name="Apply", position=0)
    use_stage = StageFactory(map=journey, name="Use", position=1)
    StepFactory(map=journey, stage=apply_stage, key="apply", name="Apply online", position=0)
    post = StepFactory(
        map=journey, stage=apply_stage, key="post-ident", name="Identify at the post office",
        emotion=-2, position=1,
    )  # fmt: skip
    StepFactory(
        map=journey, stage=apply_stage, key="verify", name="Verify", emotion=-1, channel="web",
        position=2,
    )  # fmt: skip
    StepFactory(map=journey, stage=use_stage, key="first-use", name="First use", emotion=1)
    queue = PainPointFactory(map=journey, step=post, title="Queue at the post office")
    project = CXProjectFactory(
        owner=owner, title="Video identification", maps=[journey], pain_points=[queue]
    )

    page = sign_in("olivia")
    page.goto(f"{live_server.url}{journey.get_absolute_url()}")
    expect(page.get_by_text("Banking that feels effortless")).to_be_visible()  # the vision

    # draft: the form starts on "future state"; the copy lands beside the map
    page.get_by_role("link", name="Draft a future state").click()
    expect(page.get_by_label("A future state (to-be)")).to_be_checked()
    page.get_by_role("button", name="Draft it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open an account (future state)")
    draft = JourneyMap.objects.get(state_of=journey)
    assert draft.parent == lifecycle and draft.owner == owner
    expect(page.locator("#map-states")).to_contain_text("Future state of Open an account")
    screenshot(page, "future-state-drafted")

    # change the future: video identification replaces the post office; verify by app
    page.goto(f"{live_server.url}/maps/{draft.slug}/edit/step/{draft.steps.get(key='verify').pk}/")
    page.get_by_label("Channel").select_option(label="Mobile app")
    page.get_by_label("Emotion").select_option(label="+1 positive")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**{draft.get_absolute_url()}**")
    verify = draft.steps.get(key="verify")
    assert (verify.channel, verify.emotion) == ("app", 1)
    # … and the post office, with its queue, is gone from the future
    draft.pain_points.filter(exchange_key=queue.exchange_key).delete()
    draft.steps.filter(key="post-ident").delete()

    # compare with today, from the future state's header
    page.goto(f"{live_server.url}{draft.get_absolute_url()}")
    page.get_by_role("link", name="Compare with today").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("compared with")
    changed = page.locator(".compare-changed")
    expect(changed.get_by_role("row", name="Verify")).to_contain_text("Mobile app")
    expect(changed.get_by_role("row", name="Verify")).to_contain_text("Emotion: −1 → +1")
    expect(page.locator(".compare-removed")).to_contain_text("Identify at the post office")
    resolved = page.get_by_role("row", name="Queue at the post office")
    expect(resolved.get_by_role("link", name="Video identification")).to_be_visible()
    chart = page.get_by_role(
        "img", name="Emotion by step: Open an account and Open an account (future state)"
    )
    expect(chart).to_be_visible()
    expect(chart.locator("polyline")).to_have_count(2)
    page.get_by_text("The emotion curves as a table").click()
    fallback = page.locator(".compare-table-fallback")
    expect(fallback.get_by_role("row", name="Identify at the post office")).to_contain_text("—")
    screenshot(page, "future-state-compare", full_page=True)

    # discuss the change: a thread on the future state's step, mentioning tess
    page.goto(f"{live_server.url}/maps/{draft.slug}/comments/on/step/{verify.pk}/")
    page.get_by_label("Comment").fill("@tess verifying in the app replaces the post office: agree?")
    page.get_by_role("button", name="Comment", exact=True).click()
    thread = page.locator(".comment-thread").first
    expect(thread.locator("a.mention")).to_have_text("@tess")
    assert [m.to for m in mail.outbox] == [["tess@example.com"]]
    screenshot(page, "future-state-discuss", full_page=True)

    # point the change to the project that delivers it, from its row on the compare page
    page.goto(f"{live_server.url}/maps/{journey.slug}/compare/{draft.slug}/")
    page.locator(".compare-changed").get_by_role("link", name="Link a project to “Verify”").click()
    form = page.locator("#link-project")
    expect(form.get_by_label("Change")).to_have_value("step:verify")
    form.get_by_label("Project").select_option(label="Video identification (idea)")
    form.get_by_role("button", name="Link").click()
    expect(page.get_by_text("“Video identification” now delivers “Verify”.")).to_be_visible()
    row = page.locator(".compare-changed").get_by_role("row", name="Verify")
    expect(row.get_by_role("link", name="Video identification")).to_be_visible()
    assert list(project.steps.values_list("key", flat=True)) == ["verify"]
    screenshot(page, "future-state-linked", full_page=True)

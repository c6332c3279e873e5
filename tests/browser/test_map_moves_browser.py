"""Moving things on the map page in Chromium (#17 rough edges): a step dragged or moved
from the keyboard into another stage really lands there, focus stays on the moved step's
button and the live region says where it went; lane cards reorder in their cell by mouse
and keyboard; a wide map scrolls inside its grid, never the whole page sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import PainPoint, Step
from maps.selectors import STEP_ORDER
from tests.factories import PainPointFactory, StageFactory, StepFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staged(team_map):
    """Stage Apply: a1, a2; stage Use: b1, b2; two customer pain points on b1."""
    apply = StageFactory(map=team_map, name="Apply", position=0)
    use = StageFactory(map=team_map, name="Use", position=1)
    steps = {}
    for i, (name, stage) in enumerate((("a1", apply), ("a2", apply), ("b1", use), ("b2", use))):
        steps[name] = StepFactory(map=team_map, stage=stage, name=name, key=name, position=i)
    pains = [
        PainPointFactory(map=team_map, step=steps["b1"], title=title, position=i)
        for i, title in enumerate(("Queue at the desk", "Form lost"))
    ]
    return {"map": team_map, "apply": apply, "use": use, "pains": pains, **steps}


def layout(journey) -> list[tuple[str, str]]:
    steps = Step.objects.filter(map=journey).select_related("stage").order_by(*STEP_ORDER)
    return [(s.stage.name if s.stage else "-", s.name) for s in steps]


def stage_spans(page) -> list[str]:
    heads = page.locator("th.stage-head")
    return [
        f"{heads.nth(i).inner_text()}:{heads.nth(i).get_attribute('colspan')}"
        for i in range(heads.count())
    ]


def drag(page, source, target, *, dx: float = 0):
    """Press on ``source``, move in steps to ``target``'s centre (+ dx), let go: the
    drag events Sortable listens to, as a hand makes them."""
    start, end = source.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    x, y = end["x"] + end["width"] / 2 + dx, end["y"] + end["height"] / 2
    page.mouse.move(x, y, steps=12)
    page.mouse.move(x + 1, y, steps=2)
    page.mouse.up()


def console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_a_step_dragged_onto_another_stage_lands_there(sign_in, live_server, staged, screenshot):
    page = sign_in("olivia")
    errors = console_errors(page)
    page.goto(f"{live_server.url}{staged['map'].get_absolute_url()}")
    expect(page.locator("th.stage-head")).to_have_count(2)
    handle = page.locator(f"#step-{staged['a1'].pk} .drag-handle")
    drag(page, handle, page.locator(f"#step-{staged['b1'].pk}"))
    expect(page.locator("#editor-status")).to_contain_text("Moved step “a1” to stage “Use”")
    assert stage_spans(page) == ["Apply:1", "Use:3"]
    assert layout(staged["map"])[0] == ("Apply", "a2")
    assert ("Use", "a1") in layout(staged["map"])
    screenshot(page, "map-step-dragged-across-stages")
    # and back onto a2, Apply's only step: dropped under Apply's header, it joins Apply
    drag(
        page,
        page.locator(f"#step-{staged['a1'].pk} .drag-handle"),
        page.locator(f"#step-{staged['a2'].pk}"),
    )
    expect(page.locator("#editor-status")).to_contain_text("Moved step “a1” to stage “Apply”")
    assert stage_spans(page) == ["Apply:2", "Use:2"]
    assert errors == []  # no CSP error from the swaps after a drag


def test_a_step_moved_from_the_keyboard_crosses_into_the_next_stage_keeping_focus(
    sign_in, live_server, staged
):
    page = sign_in("olivia")
    page.goto(f"{live_server.url}{staged['map'].get_absolute_url()}")
    move = page.get_by_role("button", name="Move a2 right")
    move.focus()
    page.keyboard.press("Enter")
    status = page.locator("#editor-status")
    expect(status).to_contain_text("Moved step “a2” to stage “Use”, 1 of 3.")
    expect(page.get_by_role("button", name="Move a2 right")).to_be_focused()
    assert stage_spans(page) == ["Apply:1", "Use:3"]
    # the editor's shortcut: Alt + → on any control of the step presses its move button
    page.keyboard.press("Alt+ArrowRight")
    expect(status).to_contain_text("Moved step “a2” to stage “Use”, 2 of 3.")
    expect(page.get_by_role("button", name="Move a2 right")).to_be_focused()
    # and back: ← twice puts it at the end of Apply again
    page.keyboard.press("Alt+ArrowLeft")
    expect(status).to_contain_text("Moved step “a2” to stage “Use”, 1 of 3.")
    # the next key only once focus is back on the moved step's button (the grid was
    # swapped; a key pressed meanwhile reaches no control)
    expect(page.get_by_role("button", name="Move a2 left")).to_be_focused()
    page.keyboard.press("Alt+ArrowLeft")
    expect(status).to_contain_text("Moved step “a2” to stage “Apply”, 2 of 2.")
    expect(page.get_by_role("button", name="Move a2 left")).to_be_focused()
    assert layout(staged["map"]) == [("Apply", "a1"), ("Apply", "a2"), ("Use", "b1"), ("Use", "b2")]


def test_lane_cards_reorder_in_their_cell_by_mouse_and_keyboard(
    sign_in, live_server, staged, screenshot
):
    first, second = staged["pains"]
    page = sign_in("olivia")
    errors = console_errors(page)
    page.goto(f"{live_server.url}{staged['map'].get_absolute_url()}")
    cards = page.locator("tr.lane-customer_pain_points article.card-item")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(first.title)
    # by mouse: the second card's handle dragged above the first
    drag(page, cards.nth(1).locator(".drag-handle"), cards.nth(0), dx=0)
    expect(page.locator("#editor-status")).to_contain_text(
        f"Moved pain point “{second.title}”: 1 of 2."
    )
    expect(cards.first).to_contain_text(second.title)
    screenshot(page, "map-card-reordered")
    # by keyboard: "Move Queue at the desk up" (now second); at the top, focus moves to "down"
    up = page.get_by_role("button", name=f"Move {first.title} up")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#editor-status")).to_contain_text(
        f"Moved pain point “{first.title}” up: 1 of 2."
    )
    expect(cards.first).to_contain_text(first.title)
    expect(page.get_by_role("button", name=f"Move {first.title} down")).to_be_focused()
    assert list(
        PainPoint.objects.filter(step=staged["b1"])
        .order_by("position", "pk")
        .values_list("title", flat=True)
    ) == [first.title, second.title]
    assert errors == []


def test_a_wide_map_scrolls_in_its_grid_not_the_whole_page(sign_in, live_server, team_map, viewer):
    stage = StageFactory(map=team_map, name="Apply")
    for i in range(24):
        step = StepFactory(
            map=team_map, stage=stage, name=f"Step {i}", position=i, is_moment_of_truth=i % 3 == 0
        )
        PainPointFactory(map=team_map, step=step, severity=4)
    for username in ("olivia", "vic"):
        page = sign_in(username)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{live_server.url}{team_map.get_absolute_url()}")
        expect(page.locator(".step-head")).to_have_count(24)
        grid = page.locator(".grid-scroll")
        assert grid.evaluate("el => el.scrollWidth > el.clientWidth")  # the grid does scroll
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), username

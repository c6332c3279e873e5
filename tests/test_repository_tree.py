"""The repository tree renders in one flat loop and pages through a long top level:
what shows, how it nests, and that nothing is lost or repeated across pages."""

from __future__ import annotations

import re

import pytest

from maps.models import JourneyMap
from tests.factories import JourneyMapFactory, KPIFactory, MeasurementFactory

pytestmark = pytest.mark.django_db


def titles(html: str) -> list[str]:
    return re.findall(r'class="tree-title" href="[^"]+">([^<]+)</a>', html)


def test_a_long_top_level_loads_in_pages_with_every_map_once(client, owner, monkeypatch):
    monkeypatch.setattr("maps.selectors.TREE_ROW_BUDGET", 3)
    for i in range(7):
        JourneyMapFactory(title=f"Root {i}", owner=owner)
    client.force_login(owner)
    page = client.get("/maps/").text
    seen = titles(page)
    assert seen == ["Root 0", "Root 1", "Root 2"]
    assert "Show 4 more top-level maps" in page
    after = re.search(r'hx-get="/maps/\?after=(\d+)"', page).group(1)
    while after:
        part = client.get(f"/maps/?after={after}", HTTP_HX_REQUEST="true").text
        assert "<html" not in part
        seen += titles(part)
        match = re.search(r'hx-get="/maps/\?after=(\d+)"', part)
        after = match.group(1) if match else None
    assert seen == [f"Root {i}" for i in range(7)]


def test_a_bad_page_marker_is_refused_naming_it(client, owner):
    client.force_login(owner)
    response = client.get("/maps/?after=soon")
    assert response.status_code == 400
    assert "after" in response.text


def test_sub_maps_nest_inside_their_parent_and_every_item_closes(client, owner):
    root = JourneyMapFactory(title="Lifecycle", owner=owner)
    journey = JourneyMapFactory(title="Journey", owner=owner, parent=root)
    JourneyMapFactory(title="Task", owner=owner, parent=journey)
    JourneyMapFactory(title="Second journey", owner=owner, parent=root)
    JourneyMapFactory(title="Other lifecycle", owner=owner)
    client.force_login(owner)
    page = client.get("/maps/").text
    body = page[page.index('<ul class="tree"') :]
    body = body[: body.index("</main>")] if "</main>" in body else body
    assert body.count('<li role="treeitem"') == body.count("</li>") == 5
    assert body.count('<ul role="group">') == 2  # below Lifecycle and below Journey
    # Task sits inside Journey's group, which closes before the second journey
    journey_at, task_at = body.index(">Journey<"), body.index(">Task<")
    second_at = body.index(">Second journey<")
    assert journey_at < task_at < body.index("</ul>", task_at) < second_at
    assert 'aria-level="3"' in body  # the task


def test_each_row_shows_the_health_of_the_explained_scorecard(client, owner):
    journey = JourneyMapFactory(title="Scored", owner=owner)
    kpi = KPIFactory(map=journey, baseline=0, target=100)
    MeasurementFactory(kpi=kpi, value=62.4)
    client.force_login(owner)
    page = client.get("/maps/").text
    assert f'href="/maps/{journey.slug}/scorecard/"' in page
    assert '>62<span class="visually-hidden"> health, At risk</span>' in page  # 62.4 → 62
    assert JourneyMap.objects.count() == 1

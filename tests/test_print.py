"""The print view (/maps/<slug>/print/): the map without navigation or controls, in bands
of step columns with the lane names on every band, for whoever may see the map, in a
fixed number of queries. (tests/browser/test_print_and_mermaid.py prints it to PDF.)"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maps.models import PainPoint
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory, KPIFactory, PainPointFactory, StepFactory

pytestmark = pytest.mark.django_db

BAND = re.compile(r'<section class="print-band".*?</section>', re.DOTALL)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>")
STYLE = re.compile(r"<style[\s>]|\sstyle\s*=", re.IGNORECASE)


@pytest.fixture
def long_map(team_map):
    """14 steps over two stages, a pain point on most steps, a KPI on one, one unpinned."""
    steps = build_map_content(team_map, steps=14, items_per_step=1)
    PainPointFactory(map=team_map, title="Nobody answers the phone")  # whole map
    return team_map, steps


def test_the_print_view_has_the_map_header_and_no_navigation_or_controls(client, owner, long_map):
    journey_map, _ = long_map
    client.force_login(owner)  # the owner, who could edit: still no edit controls on paper
    response = client.get(f"/maps/{journey_map.slug}/print/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Open an account</h1>" in html
    assert "Owner: " in html and "Printed " in html
    for absent in ('class="topbar"', "search-nav", "/edit/", "hx-get", "drag-handle"):
        assert absent not in html
    assert 'href="/static/css/print.css"' in html
    assert not INLINE_SCRIPT.search(html) and not STYLE.search(html)  # the CSP holds


def test_steps_are_split_into_bands_with_the_lane_names_on_every_band(client, viewer, long_map):
    journey_map, steps = long_map
    client.force_login(viewer)
    html = client.get(f"/maps/{journey_map.slug}/print/?columns=6").content.decode()
    bands = BAND.findall(html)
    assert len(bands) == 3  # 6 + 6 + 2
    for band, chunk in zip(bands, (steps[0:6], steps[6:12], steps[12:14]), strict=True):
        names = re.findall(r'<span class="print-step-name">(?:★ )?([^<]+)</span>', band)
        assert names == [step.name for step in chunk]
        for lane in ("Stage", "Emotion", "Customer pain point", "Insight", "KPI"):
            assert f'class="print-lane">{lane}' in band
        assert "Open an account" in band  # the running head of each page
    # the last band keeps the column width: two steps, four empty columns
    assert bands[2].count('<th class="print-pad"></th>') == 8
    assert "Steps 13–14 of 14" in bands[2]


def test_lanes_with_nothing_in_them_are_not_printed_and_whole_map_items_are(
    client, viewer, team_map
):
    step = StepFactory(map=team_map, name="Apply")
    PainPointFactory(map=team_map, step=step, title="Form too long")
    PainPointFactory(map=team_map, title="Slow everywhere", kind=PainPoint.Kind.EMPLOYEE)
    KPIFactory(map=team_map, name="Completion")  # on the whole map only
    client.force_login(viewer)
    html = client.get(f"/maps/{team_map.slug}/print/").content.decode()
    (band,) = BAND.findall(html)
    assert 'class="print-lane">Customer pain point' in band and "Form too long" in band
    assert 'class="print-lane">Insight' not in band
    assert 'class="print-lane">KPI' not in band
    whole = html.split("Across the whole map", 1)[1]
    assert "Slow everywhere" in whole and "Completion" in whole


def test_a_map_without_steps_prints_its_header_and_says_so(client, viewer, team_map):
    client.force_login(viewer)
    html = client.get(f"/maps/{team_map.slug}/print/").content.decode()
    assert "Open an account" in html and "This map has no steps yet." in html


@pytest.mark.parametrize("columns", ["abc", "1", "13", "-4", "6.5", "9" * 30])
def test_a_bad_number_of_columns_is_refused_with_a_message_naming_it(
    client, viewer, team_map, columns
):
    client.force_login(viewer)
    response = client.get(f"/maps/{team_map.slug}/print/", {"columns": columns})
    assert response.status_code == 400
    assert response.content.decode().startswith("columns: ")


def test_a_draft_prints_only_for_those_who_may_see_it(client, viewer, other_owner, draft_map):
    StepFactory(map=draft_map, name="Secret step")
    client.force_login(viewer)
    response = client.get(f"/maps/{draft_map.slug}/print/")
    assert response.status_code == 404 and b"Secret step" not in response.content
    client.force_login(other_owner)
    assert b"Secret step" in client.get(f"/maps/{draft_map.slug}/print/").content


def test_signed_out_visitors_are_sent_to_sign_in(client, team_map):
    response = client.get(f"/maps/{team_map.slug}/print/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_page_carries_the_print_sheet_for_ctrl_p(client, viewer, team_map):
    client.force_login(viewer)
    html = client.get(f"/maps/{team_map.slug}/").content.decode()
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_print_view_runs_the_same_queries_for_ten_times_the_content(client, owner, team):
    # session, user, the gate's map, then map_grid's fixed reads (stages, steps, links,
    # pain points, lane items, KPIs, projects, sub-maps, funnel) and the vocabulary
    small = JourneyMapFactory(slug="small", owner=owner, team=team)
    big = JourneyMapFactory(slug="big", owner=owner, team=team)
    build_map_content(small, steps=3, items_per_step=1)
    build_map_content(big, steps=30, items_per_step=10)
    client.force_login(owner)
    assert _queries(client, "/maps/small/print/") == _queries(client, "/maps/big/print/")

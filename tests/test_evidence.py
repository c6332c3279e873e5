"""The evidence behind a card: how many quotes and distinct sources back each step, pain
point and lane item (hand-counted here), shown on the map grid on demand, in a fixed
number of queries however much research there is."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maps.research import NONE, Evidence, evidence_of, evidence_summary
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory, LaneItemFactory, PainPointFactory, StepFactory
from tests.research_data import research_for, source_with_quotes

pytestmark = pytest.mark.django_db


@pytest.fixture
def backed(team_map):
    """Step A: q1, q2 of S1 and q3 of S2, and S3 linked directly → 3 quotes, 3 sources.
    Step B: S1 linked directly → 0 quotes, 1 source. Pain point P: q1 of S1 and S1
    directly → 1 quote, 1 source (the same one). Lane item L: nothing."""
    step_a, step_b = StepFactory(map=team_map, name="A"), StepFactory(map=team_map, name="B")
    pain = PainPointFactory(map=team_map, step=step_a, title="Glare")
    item = LaneItemFactory(map=team_map, step=step_a, kind="insight", title="Unbacked")
    s1 = source_with_quotes(team_map, title="S1", quotes=2)
    s2 = source_with_quotes(team_map, title="S2", quotes=1)
    s3 = source_with_quotes(team_map, title="S3", quotes=1)
    q1, q2 = s1.quotes.all()
    (q3,) = s2.quotes.all()
    for quote in (q1, q2, q3):
        quote.steps.add(step_a)
    q1.pain_points.add(pain)
    s3.steps.add(step_a)
    s1.steps.add(step_b)
    s1.pain_points.add(pain)
    return {"A": step_a, "B": step_b, "P": pain, "L": item, "q1": q1, "S1": s1, "S3": s3}


def test_the_counts_are_the_quotes_and_the_distinct_sources_backing_each_item(backed):
    summary = evidence_summary(
        steps=[backed["A"], backed["B"]], pain_points=[backed["P"]], lane_items=[backed["L"]]
    )
    assert summary[("steps", backed["A"].pk)] == Evidence(quotes=3, sources=3)
    assert summary[("steps", backed["B"].pk)] == Evidence(quotes=0, sources=1)
    assert summary[("pain_points", backed["P"].pk)] == Evidence(quotes=1, sources=1)
    assert summary.get(("lane_items", backed["L"].pk), NONE) == NONE
    assert ("lane_items", backed["L"].pk) not in summary


def test_the_evidence_reads_as_a_sentence():
    assert Evidence(3, 2).sentence == "researched: 3 quotes from 2 sources"
    assert Evidence(1, 1).sentence == "researched: 1 quote from 1 source"
    assert Evidence(0, 2).sentence == "researched: 2 sources"
    assert NONE.sentence == "not researched" and not NONE
    assert Evidence(3, 2).label == "3 quotes · 2 sources"


def test_the_summary_costs_one_query_per_kind_whatever_the_amount_of_research(
    owner, team_map, django_assert_num_queries
):
    steps = build_map_content(team_map, steps=4, items_per_step=1)
    research_for(team_map, copies=1)
    pains = list(team_map.pain_points.all())
    with django_assert_num_queries(2):
        small = evidence_summary(steps=steps, pain_points=pains)
    research_for(team_map, copies=10)
    with django_assert_num_queries(2):
        large = evidence_summary(steps=steps, pain_points=pains)
    first = ("steps", steps[0].pk)
    # per copy: 2 sources × 3 quotes, each quote on every step; the first step also
    # has both sources linked directly
    assert small[first] == Evidence(quotes=6, sources=2)
    assert large[first] == Evidence(quotes=66, sources=22)
    with django_assert_num_queries(0):
        assert evidence_summary() == {}


def test_the_map_grid_shows_the_evidence_of_each_card_and_links_to_the_research_page(
    client, viewer, team_map, backed
):
    client.force_login(viewer)
    page = client.get(team_map.get_absolute_url()).text
    assert "3 quotes · 3 sources" in page  # step A
    assert "1 quote · 1 source" in page  # pain point P
    assert "1 source<" in page  # step B: a source, no quote
    assert reverse("maps:research", args=[team_map.slug]) in page
    evidence_url = reverse("maps:evidence", args=[team_map.slug, "step", backed["A"].pk])
    assert f'hx-get="{evidence_url}"' in page


def test_the_evidence_partial_lists_the_quotes_with_their_source_and_direct_sources(
    client, viewer, team_map, backed
):
    client.force_login(viewer)
    url = reverse("maps:evidence", args=[team_map.slug, "step", backed["A"].pk])
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "S1: quote 1" in partial.text and "S2: quote 1" in partial.text
    assert "Sources:" in partial.text and "S3" in partial.text
    page = client.get(url)  # without htmx: a page of its own
    assert "<html" in page.text and "S1: quote 1" in page.text


def test_the_evidence_of_a_drafts_item_is_not_found_for_those_who_may_not_see_it(
    client, viewer, other_owner, draft_map
):
    step = StepFactory(map=draft_map)
    url = reverse("maps:evidence", args=[draft_map.slug, "step", step.pk])
    client.force_login(viewer)
    assert client.get(url).status_code == 404
    client.force_login(other_owner)
    assert client.get(url).status_code == 200


def test_an_item_of_another_map_is_not_found_through_this_maps_evidence_url(
    client, other_owner, team_map, draft_map
):
    hidden = PainPointFactory(map=draft_map)
    client.force_login(other_owner)
    url = reverse("maps:evidence", args=[team_map.slug, "painpoint", hidden.pk])
    assert client.get(url).status_code == 404
    bad_kind = reverse("maps:evidence", args=[team_map.slug, "kpi", hidden.pk])
    assert client.get(bad_kind).status_code == 404


def test_the_evidence_of_one_item_costs_two_queries(team_map, backed, django_assert_num_queries):
    with django_assert_num_queries(2):
        quotes, sources = evidence_of(backed["A"])
        assert [q.source.title for q in quotes] == ["S1", "S1", "S2"]
        assert [s.title for s in sources] == ["S3"]


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_map_page_and_evidence_partial_cost_the_same_with_ten_times_the_research(
    client, owner, django_assert_max_num_queries
):
    journey = JourneyMapFactory(owner=owner, slug="researched")
    steps = build_map_content(journey, steps=4, items_per_step=2)
    research_for(journey, copies=1)
    client.force_login(owner)
    evidence_url = reverse("maps:evidence", args=[journey.slug, "step", steps[0].pk])
    small_page = page_queries(client, journey.get_absolute_url())
    small_partial = page_queries(client, evidence_url)
    research_for(journey, copies=10)
    with django_assert_max_num_queries(small_page):
        page = client.get(journey.get_absolute_url())
    assert "66 quotes · 22 sources" in page.text
    with django_assert_max_num_queries(small_partial):
        assert client.get(evidence_url, headers={"HX-Request": "true"}).status_code == 200
    # the evidence counts ride on the map's link rows (one UNION with the projects' links
    # and the tags); the tags themselves are one query; the discussion panel, the cards'
    # comment counts and the future states are one each, and so are the map's personas
    assert small_page <= 24
    # session, user, groups, the map, the step, quotes with sources, direct sources …
    assert small_partial <= 9


def test_a_lane_item_card_shows_owner_status_scores_tags_and_only_web_links(
    client, owner, team_map
):
    from maps.models import Tag

    step = StepFactory(map=team_map)
    item = LaneItemFactory(
        map=team_map,
        step=step,
        kind="opportunity",
        title="Faster checks",
        owner=owner,
        status="validated",
        empathy_score=4.5,
        weight=2,
        external_links=["https://example.com/ticket/1", "javascript:alert(1)", "ftp://x"],
    )
    item.tags.set([Tag.objects.create(name="Quick win")])
    client.force_login(owner)
    page = client.get(team_map.get_absolute_url()).text
    assert "validated" in page and "Olivia Owens" in page
    assert "♥ 4.5" in page and "⚖ 2" in page and "Quick win" in page
    assert 'href="https://example.com/ticket/1"' in page
    assert "javascript:alert(1)" not in page and "ftp://x" not in page


def test_the_lane_item_editor_takes_status_scores_and_links_one_per_line(client, owner, team_map):
    from maps.models import LaneItem

    client.force_login(owner)
    response = client.post(
        reverse("maps:item-new", args=[team_map.slug, "laneitem"]),
        {
            "kind": "opportunity",
            "title": "Brighter screen",
            "evidence": "assumption",
            "status": "validated",
            "item_type": "Quick win",
            "empathy_score": "4.5",
            "weight": "2",
            "external_links": "https://example.com/a\n\n  https://example.com/b  \n",
            "map_version": team_map.version,
        },
    )
    assert response.status_code == 302
    item = LaneItem.objects.get()
    assert (item.status, item.item_type, item.empathy_score, item.weight) == (
        "validated",
        "Quick win",
        4.5,
        2.0,
    )
    assert item.external_links == ["https://example.com/a", "https://example.com/b"]
    edit = client.get(reverse("maps:item-edit", args=[team_map.slug, "laneitem", item.pk]))
    assert "https://example.com/a\nhttps://example.com/b" in edit.text


def test_too_many_external_links_are_refused_beside_the_field(client, owner, team_map):
    from maps.models import LaneItem

    client.force_login(owner)
    response = client.post(
        reverse("maps:item-new", args=[team_map.slug, "laneitem"]),
        {
            "kind": "idea",
            "title": "Links",
            "evidence": "assumption",
            "external_links": "\n".join(f"https://example.com/{i}" for i in range(500)),
            "map_version": team_map.version,
        },
    )
    assert response.status_code in (200, 400)
    assert "external links" in response.text.lower()
    assert not LaneItem.objects.exists()


def test_the_grid_counts_the_same_evidence_as_the_research_summary(backed, team_map):
    """The grid reads its evidence from the map's link rows (one UNION query, #16); it
    must count exactly what evidence_summary's subqueries count, on hand-made data,
    including a quote whose source is also linked directly, and other maps' research."""
    from maps.selectors import map_grid

    other = JourneyMapFactory(owner=team_map.owner)
    elsewhere = StepFactory(map=other, name="Elsewhere")
    backed["q1"].steps.add(elsewhere)
    backed["S3"].steps.add(elsewhere)
    grid = map_grid(team_map, children=team_map.children.none())
    items = grid.steps + [c for lane in grid.lanes for _, cell in lane.cells for c in cell]
    by_key = {}
    for obj in items:
        field = {"step": "steps", "painpoint": "pain_points", "laneitem": "lane_items"}.get(
            obj._meta.model_name
        )
        if field:
            by_key[(field, obj.pk)] = obj.backing
    summary = evidence_summary(
        steps=[backed["A"], backed["B"]], pain_points=[backed["P"]], lane_items=[backed["L"]]
    )
    assert set(by_key) == {
        ("steps", backed["A"].pk),
        ("steps", backed["B"].pk),
        ("pain_points", backed["P"].pk),
        ("lane_items", backed["L"].pk),
    }
    for key, backing in by_key.items():
        assert backing == summary.get(key, NONE), key
    assert by_key[("steps", backed["A"].pk)] == Evidence(quotes=3, sources=3)
    other_grid = map_grid(other, children=other.children.none())
    assert other_grid.steps[0].backing == Evidence(quotes=1, sources=2)

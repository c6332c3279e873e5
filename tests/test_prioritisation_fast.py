"""The portfolio's fast path against the straightforward one, on a mixed repository and
for every role: projects read unfiltered and dropped in Python by
``permissions.project_visibility`` (``portfolio_rank(reader=…)``, what /portfolio/ does)
rank, score and overlap exactly as projects filtered in the database by
``permissions.visible_projects`` — visibility never widens, nothing hidden counts."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from governance import permissions, prioritisation
from governance.filters import PortfolioFilter
from maps.models import CXProject, PainPoint
from tests.factories import (
    CXProjectFactory,
    GroupFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db

D = dt.date
ROLES = ("owner", "team_member", "other_owner", "viewer", "leader", "admin_user")


def with_health(journey_map, value: float) -> None:
    MeasurementFactory(kpi=KPIFactory(map=journey_map, baseline=0, target=100), value=value)


@pytest.fixture
def world(owner, team, team_member, other_owner, viewer, draft_map):
    """Maps each role sees differently, and projects reaching them in every way a
    project becomes visible (or stays hidden):

    published ``pub`` (olivia, her team, health 40); olivia's draft ``mine`` (health 70);
    omar's draft ``team_draft`` shared with olivia's team (health 20); omar's
    ``draft_map`` (health 0, nobody else's); omar's draft ``granted`` with a view grant
    to vic and a draft ``below`` it (the grant covers it); omar's draft ``audited`` with
    a view grant to a group vic is in; omar's draft ``edited`` with an edit grant to
    tess; olivia's archived ``old``.
    """
    pub = JourneyMapFactory(title="Pub", slug="pub", owner=owner, team=team)
    mine = JourneyMapFactory(title="Mine", slug="mine", owner=owner, status="draft")
    team_draft = JourneyMapFactory(
        title="Team draft", slug="team-draft", owner=other_owner, team=team, status="draft"
    )
    granted = JourneyMapFactory(title="Granted", owner=other_owner, status="draft")
    below = JourneyMapFactory(title="Below", owner=other_owner, status="draft", parent=granted)
    audited = JourneyMapFactory(title="Audited", owner=other_owner, status="draft")
    edited = JourneyMapFactory(title="Edited", owner=other_owner, status="draft")
    old = JourneyMapFactory(title="Old", owner=owner, status="archived")
    assign_perm("view_journeymap", viewer, granted)
    auditors = GroupFactory(name="Auditors")
    viewer.groups.add(auditors)
    assign_perm("view_journeymap", auditors, audited)
    assign_perm("change_journeymap", team_member, edited)
    for journey_map, health in ((pub, 40), (mine, 70), (team_draft, 20), (draft_map, 0)):
        with_health(journey_map, health)
    with_health(below, 55)
    apply = StepFactory(map=pub, name="Apply", key="apply")
    secret_step = StepFactory(map=draft_map, name="Secret step", key="secret")
    slow = PainPointFactory(map=pub, title="Slow checks", severity=4, frequency=5)
    hidden_pain = PainPointFactory(map=draft_map, title="Hidden pain", severity=5, frequency=5)
    lost = PainPointFactory(map=below, title="Lost", severity=3, frequency=2)

    def project(title, who, status="idea", **kwargs):
        defaults = {"reach": 100, "impact": 3, "confidence": 80, "effort": 2}
        return CXProjectFactory(title=title, owner=who, status=status, **{**defaults, **kwargs})

    q1 = D(2026, 1, 1), D(2026, 3, 31)
    project("On pub", owner, "ongoing", team=team, maps=[pub], steps=[apply],
            pain_points=[slow], start_date=q1[0], end_date=q1[1], reach=1000)  # fmt: skip
    # its hidden half never counts for those who cannot see the draft (gap, pain, step)
    project("Half hidden", other_owner, "planned", maps=[pub, draft_map],
            steps=[apply, secret_step], pain_points=[slow, hidden_pain],
            start_date=D(2026, 3, 1), reach=500)  # fmt: skip
    project("All hidden", other_owner, "planned", maps=[draft_map],
            steps=[secret_step], pain_points=[hidden_pain], reach=400)  # fmt: skip
    project("No map", other_owner, reach=10, impact=5, effort=1)
    project("Team project", other_owner, "ongoing", team=team, maps=[draft_map], reach=300)
    project("On the team draft", other_owner, "planned", maps=[team_draft], reach=250)
    project("Below the grant", other_owner, "ongoing", maps=[below], pain_points=[lost])
    project("Audited", other_owner, "idea", maps=[audited], reach=90)
    project("Edited", other_owner, "planned", maps=[edited], reach=80, effort=8)
    project("Mine only", owner, "ongoing", maps=[mine], start_date=q1[0], reach=70)
    project("On old", owner, "planned", maps=[old, pub], start_date=D(2026, 2, 1), reach=60)
    project("Done", owner, "done", maps=[pub], reach=5000)
    project("Cancelled", other_owner, "cancelled", maps=[draft_map], pain_points=[lost])
    # a tie on every score with "Tie B": the title decides, then the id
    project("Tie A", other_owner, "idea", maps=[pub], reach=33)
    project("Tie B", other_owner, "idea", maps=[pub], reach=33)
    return {"pub": pub, "draft_map": draft_map, "below": below}


def everything(portfolio: prioritisation.Portfolio) -> list[tuple]:
    """Every number and text a page, the CSV or the API shows of a ranking."""
    for p in portfolio.projects:  # ranked by the numbers its breakdowns show
        assert p.values == {m: b.score for m, b in p.scores.items()}
    return [
        (
            p.project_id,
            p.title,
            p.status,
            p.owner_name,
            p.team_name,
            p.gap,
            p.pain,
            {m: (b.score, b.formula, [vars(f) for f in b.factors]) for m, b in p.scores.items()},
            dict(p.ranks),
            dict(p.indexes),
            [m._asdict() for m in p.maps],
            [s._asdict() for s in p.steps],
            [pp._asdict() for pp in p.pain_points],
            [(o.project_id, o.title, o.reasons) for o in p.overlaps],
        )
        for p in portfolio.projects
    ]


def straightforward(user, projects=None, method=None) -> prioritisation.Portfolio:
    """Filtered by ``visible_projects`` in the database, as before."""
    visible = permissions.visible_projects(user)
    return prioritisation.portfolio_rank(
        projects=visible if projects is None else projects(visible),
        others=visible,
        visible_maps=permissions.visible_maps(user),
        method=method,
    )


def fast(user, projects=None, method=None) -> prioritisation.Portfolio:
    every = CXProject.objects.all()
    return prioritisation.portfolio_rank(
        projects=every if projects is None else projects(every),
        others=every,
        reader=user,
        method=method,
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "status", [None, ("idea", "planned", "ongoing"), ("planned",), ("done", "cancelled")]
)
def test_the_fast_path_ranks_exactly_as_filtering_in_the_database(request, world, role, status):
    user = request.getfixturevalue(role)
    projects = None if status is None else (lambda qs: qs.filter(status__in=status))
    for method in prioritisation.METHODS:
        expected = everything(straightforward(user, projects, method))
        assert everything(fast(user, projects, method)) == expected
    assert expected or status == ("done", "cancelled")


def test_what_each_role_sees_of_the_mixed_repository(
    world, owner, team_member, other_owner, viewer, leader, admin_user
):
    def titles(user) -> set[str]:
        return {p.title for p in fast(user).projects}

    everyone = {"On pub", "Half hidden", "No map", "Tie A", "Tie B", "On old", "Done"}
    assert titles(viewer) == everyone | {"Below the grant", "Audited"}
    team_sees = everyone | {"Team project", "On the team draft"}
    assert titles(owner) == team_sees | {"Mine only"}
    assert titles(team_member) == team_sees | {"Edited"}
    every_title = set(CXProject.objects.values_list("title", flat=True))
    assert titles(other_owner) == every_title - {"Mine only"}
    assert titles(leader) == titles(admin_user) == every_title


def test_a_hidden_map_neither_shows_nor_counts_on_the_fast_path(world, viewer, other_owner):
    half = {p.title: p for p in fast(viewer).projects}["Half hidden"]
    assert [m.title for m in half.maps] == ["Pub"]
    assert [s.name for s in half.steps] == ["Apply"]
    assert [pp.title for pp in half.pain_points] == ["Slow checks"]
    assert half.gap == pytest.approx(0.6) and half.pain == pytest.approx(0.8)
    # omar sees his draft: health 0 (gap 1) and the 5 × 5 pain point count
    mine = {p.title: p for p in fast(other_owner).projects}["Half hidden"]
    assert mine.gap == pytest.approx(0.8) and mine.pain == pytest.approx(1.8)
    # the overlap through the hidden pain point and step is omar's only
    overlaps = {o.title: o.reasons for o in mine.overlaps}
    assert "same pain point: Hidden pain" in overlaps["All hidden"]
    assert {o.title for o in half.overlaps} == {"On pub", "On old"}  # on Pub, both


@pytest.mark.parametrize("role", ROLES)
def test_project_visibility_keeps_what_visible_projects_keeps(request, world, role):
    user = request.getfixturevalue(role)
    links: dict[int, list[int]] = {}
    for project_id, map_id in CXProject.maps.through.objects.values_list(
        "cxproject_id", "journeymap_id"
    ):
        links.setdefault(project_id, []).append(map_id)
    sees = permissions.project_visibility(user)
    kept = {
        pk
        for pk, owner_id, team_id in CXProject.objects.values_list("pk", "owner_id", "team_id")
        if sees(owner_id, team_id, links.get(pk, []))
    }
    assert kept == set(permissions.visible_projects(user).values_list("pk", flat=True))


def test_an_inactive_user_sees_no_project(world, viewer):
    viewer.is_active = False
    assert not permissions.project_visibility(viewer)(viewer.pk, None, [])
    assert fast(viewer).projects == []


@pytest.mark.parametrize("role", ("owner", "viewer", "leader"))
@pytest.mark.parametrize(
    "query",
    ["", "status=open", "status=", "q=hidden&status=", "map=pub", "map=team-draft", "owner=omar"],
)
@pytest.mark.parametrize("links_by_id_max", (prioritisation.LINKS_BY_ID_MAX, 0))
def test_the_page_ranks_as_the_straightforward_filtered_ranking(
    request, client, world, role, query, links_by_id_max, monkeypatch
):
    # 0: the links are read as for thousands of projects, those of the filter's projects
    # (and the other active ones) by subqueries, not by ids
    monkeypatch.setattr(prioritisation, "LINKS_BY_ID_MAX", links_by_id_max)
    user = request.getfixturevalue(role)
    if query == "owner=omar":
        query = f"owner={request.getfixturevalue('other_owner').pk}"
    client.force_login(user)
    page = client.get(f"/portfolio/?{query}").context["portfolio"]
    data = QueryDict(query, mutable=True)
    data.setdefault("status", "open")

    def filtered(visible):
        filterset = PortfolioFilter(data, queryset=visible, user=user)
        assert filterset.form.is_valid(), filterset.form.errors
        return filterset.qs

    assert everything(page) == everything(straightforward(user, filtered))


def test_beyond_the_id_list_the_links_of_only_the_ranked_and_active_projects_are_read(
    client, world, leader, monkeypatch
):
    monkeypatch.setattr(prioritisation, "LINKS_BY_ID_MAX", 0)
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/portfolio/?q=hidden")
    sqls = [q["sql"] for q in queries.captured_queries]
    links = [sql for sql in sqls if sql.startswith('SELECT l."cxproject_id"')]
    # maps, pain points: the filtered projects' and the other active ones' links
    assert len(links) == 2
    assert all(sql.count('IN (SELECT "maps_cxproject"."id"') == 2 for sql in links)
    # steps only for the overlaps of the page's rows: the links on their steps, by ids
    shared = [sql for sql in sqls if sql.startswith('SELECT a."cxproject_id"')]
    assert len(shared) == 1 and "maps_cxproject_steps" in shared[0]
    assert [p.title for p in response.context["portfolio"].projects] == [
        p.title for p in straightforward(leader).projects if p.title.endswith(" hidden")
    ]


@pytest.mark.parametrize("role", ("owner", "viewer", "other_owner", "leader"))
def test_the_pages_gaps_are_those_of_every_pain_point_the_user_may_see(
    request, client, world, role
):
    # no project addresses these: on omar's draft (health 0), on Pub, below vic's grant
    hidden = PainPointFactory(map=world["draft_map"], title="Unseen", severity=2, frequency=2)
    PainPointFactory(map=world["pub"], title="Open", severity=3, frequency=3)
    PainPointFactory(map=world["below"], title="Granted", severity=1, frequency=5)
    user = request.getfixturevalue(role)
    client.force_login(user)
    shown = [(g.pain_point_id, g.priority) for g in client.get("/portfolio/").context["gaps"]]
    every = permissions.visible_content(user, PainPoint.objects.all())
    expected = prioritisation.unaddressed_pain_points(pain_points=every)
    assert shown == [(g.pain_point_id, g.priority) for g in expected]
    assert len(shown) == {"owner": 1, "viewer": 2, "other_owner": 3, "leader": 3}[role]
    assert (hidden.pk in {pk for pk, _ in shown}) == (role in ("other_owner", "leader"))


def test_the_page_leaves_the_garbage_collector_as_it_found_it(client, world, viewer):
    client.force_login(viewer)
    assert gc.isenabled()
    assert client.get("/portfolio/").status_code == 200
    assert gc.isenabled()
    gc.disable()
    try:
        assert client.get("/portfolio/").status_code == 200
        assert not gc.isenabled()
    finally:
        gc.enable()

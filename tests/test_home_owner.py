"""The home page as each role finds it (#17): how much of each map's scorecard is
scored, the owner's own maps marked in organisation-wide lists, pain points linked to
their step, "Start a project" from an unaddressed pain point and the prefilled form
it opens; query budgets that hold with ten times the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import reviews
from governance.models import ScorecardSnapshot, ScorecardWeights
from maps.models import CXProject, JourneyMap
from tests.builders import build_repository
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 20)
QB, QC, LB, LC = ScorecardWeights.FIELDS  # quantitative/qualitative × business/customer


@pytest.fixture
def weights():
    """Quantitative business counts twice, qualitative customer not at all: three
    quadrants count, of total weight 2 + 1 + 1 = 4."""
    ScorecardWeights.objects.update_or_create(
        pk=ScorecardWeights.SINGLETON_PK, defaults={QB: 2.0, QC: 1.0, LB: 1.0, LC: 0.0}
    )


def snapshot(journey, health: float, day=TODAY, **quadrants) -> ScorecardSnapshot:
    return ScorecardSnapshot.objects.create(map=journey, date=day, health=health, **quadrants)


@pytest.fixture
def scored_maps(weights, owner, other_owner):
    """Health worked by hand: Σ(score × weight) ÷ Σ(weight) over the scored quadrants
    that count (weight above 0)."""
    maps = {}
    for title, who, health, quadrants in [
        # (2×40 + 70 + 55) ÷ 4 = 51.25, every counting quadrant scored
        ("Full low", owner, 51.25, {QB: 40, QC: 70, LB: 55}),
        # (2×90 + 80 + 70) ÷ 4 = 82.5; LC has a score but weight 0: still full
        ("Full high", other_owner, 82.5, {QB: 90, QC: 80, LB: 70, LC: 20}),
        # 2×10 ÷ 2 = 10: a draft scored from one quadrant, weight 2 of 4
        ("Draft one quadrant", owner, 10.0, {QB: 10}),
        # (30 + 50) ÷ 2 = 40: two of three, weight 1 + 1 of 4
        ("Partial two", other_owner, 40.0, {QC: 30, LB: 50}),
        # (2×60 + 20) ÷ 3 = 46.67: LC's 100 does not count; weight 2 + 1 of 4
        ("Partial three", other_owner, 140 / 3, {QB: 60, LB: 20, LC: 100}),
    ]:
        journey = JourneyMapFactory(owner=who, title=title)
        snapshot(journey, health, **quadrants)
        maps[title] = journey
    return maps


class TestLowestHealthSaysHowMuchIsScored:
    def test_fully_scored_maps_rank_apart_from_partly_scored_ones(self, scored_maps, weights):
        result = reviews.underperformers(JourneyMap.objects.all(), today=TODAY)
        assert [s.map.title for s in result["lowest"]] == ["Full low", "Full high"]
        assert [s.map.title for s in result["partial"]] == [
            "Draft one quadrant",
            "Partial two",
            "Partial three",
        ]
        coverage = {s.map.title: s.coverage for s in (*result["lowest"], *result["partial"])}
        assert [
            (c.scored, c.counting, round(c.weight_share, 2), c.full) for c in coverage.values()
        ] == [
            (3, 3, 100.0, True),
            (3, 3, 100.0, True),
            (1, 3, 50.0, False),  # QB's 2 of 4
            (2, 3, 50.0, False),  # QC + LB: 2 of 4
            (2, 3, 75.0, False),  # QB + LB: 3 of 4
        ]
        assert str(coverage["Draft one quadrant"]) == "1 of 3 quadrants scored"

    def test_each_group_keeps_its_own_limit(self, weights, owner):
        for i in range(4):
            snapshot(
                JourneyMapFactory(owner=owner, title=f"Full {i}"), 50 + i, **{QB: 1, QC: 1, LB: 1}
            )
            snapshot(JourneyMapFactory(owner=owner, title=f"Part {i}"), 10 + i, **{QB: 1})
        result = reviews.underperformers(JourneyMap.objects.all(), today=TODAY, limit=3)
        assert [s.map.title for s in result["lowest"]] == ["Full 0", "Full 1", "Full 2"]
        assert [s.map.title for s in result["partial"]] == ["Part 0", "Part 1", "Part 2"]

    def test_with_every_weight_at_one_all_four_quadrants_must_be_scored(self, owner):
        three = JourneyMapFactory(owner=owner, title="Three")
        snapshot(three, 60, **{QB: 60, QC: 60, LB: 60})
        result = reviews.underperformers(JourneyMap.objects.all(), today=TODAY)
        assert result["lowest"] == []
        (only,) = result["partial"]
        assert str(only.coverage) == "3 of 4 quadrants scored"
        assert only.coverage.weight_share == 75.0

    def test_a_drop_says_when_the_map_is_partly_scored(self, weights, owner):
        journey = JourneyMapFactory(owner=owner, title="Falling")
        snapshot(journey, 80, day=dt.date(2026, 10, 31), **{QB: 80, QC: 80, LB: 80})
        snapshot(journey, 30, **{QB: 30})
        (drop,) = reviews.underperformers(JourneyMap.objects.all(), today=TODAY)["dropped"]
        assert (drop.change, str(drop.coverage)) == (-50.0, "1 of 3 quadrants scored")

    def test_hidden_maps_neither_show_nor_leave_an_empty_section(
        self, client, viewer, draft_map, weights
    ):
        snapshot(draft_map, 5, **{QB: 5, QC: 5, LB: 5})  # omar's draft: vic cannot see it
        visible = JourneyMap.objects.filter(status="published")
        assert reviews.underperformers(visible, today=TODAY)["as_of"] is None
        client.force_login(viewer)
        page = client.get("/").text
        assert "Lowest health" not in page and "Close my account" not in page

    def test_the_page_lists_partly_scored_maps_under_their_own_heading(
        self, client, scored_maps, leader
    ):
        client.force_login(leader)
        page = client.get("/").text
        lowest, partial = page.split("<h4>Partly scored</h4>")
        assert lowest.index("Full low") < lowest.index("Full high")
        assert "Draft one quadrant" not in lowest
        assert partial.index("Draft one quadrant") < partial.index("Partial two")
        assert "1 of 3 quadrants scored (50% of the weight)" in partial
        assert "2 of 3 quadrants scored (75% of the weight)" in partial


def yours_after(page: str, title: str) -> bool:
    """Whether the list entry of ``title`` (up to the end of its line) says "Yours"."""
    line = page[page.index(f">{title}</a>") :].split("</li>", 1)[0]
    return '<span class="badge">Yours</span>' in line


class TestOwnMapsAreMarked:
    def test_an_owner_sees_yours_on_her_maps_in_the_health_lists(self, client, scored_maps, owner):
        client.force_login(owner)
        page = client.get("/").text
        assert yours_after(page, "Full low") and yours_after(page, "Draft one quadrant")
        assert not yours_after(page, "Full high") and not yours_after(page, "Partial two")

    @pytest.mark.parametrize("who", ["team_member", "viewer", "admin_user"])
    def test_no_one_else_sees_olivias_maps_marked_as_theirs(
        self, request, client, scored_maps, who
    ):
        client.force_login(request.getfixturevalue(who))
        page = client.get("/").text
        assert "Full low" in page and not yours_after(page, "Full low")

    def test_a_leader_who_owns_maps_sees_them_marked_in_every_organisation_list(
        self, client, leader, owner
    ):
        own = JourneyMapFactory(owner=leader, title="Lee journey")
        theirs = JourneyMapFactory(owner=owner, title="Olivia journey")
        JourneyMap.objects.update(review_due_at=timezone.now() - dt.timedelta(days=1))
        for journey in (own, theirs):
            PainPointFactory(map=journey, title=f"Pain on {journey.title}")
            KPIFactory(map=journey, name=f"KPI of {journey.title}")
        client.force_login(leader)
        page = client.get("/").text
        due, gaps = page.split('id="due-title"')[1].split('id="gaps-title"')
        gaps, kpis = gaps.split('id="kpi-title"')
        assert yours_after(due, "Lee journey") and not yours_after(due, "Olivia journey")
        assert yours_after(gaps, "Pain on Lee journey")
        assert not yours_after(gaps, "Pain on Olivia journey")
        assert yours_after(kpis, "Lee journey") and not yours_after(kpis, "Olivia journey")


class TestPainPointsOnHome:
    def test_a_pain_point_links_to_its_step_on_the_map_page(self, client, owner, team_map):
        step = StepFactory(map=team_map, name="Upload ID")
        PainPointFactory(map=team_map, step=step, title="ID check fails", severity=5)
        PainPointFactory(map=team_map, title="Letters are slow")
        client.force_login(owner)
        page = client.get("/").text
        assert f'<a href="/maps/open-an-account/#step-{step.pk}">ID check fails</a>' in page
        assert "— Open an account › Upload ID, customer pain point" in page
        assert '<a href="/maps/open-an-account/">Letters are slow</a>' in page

    @pytest.mark.parametrize("who", ["owner", "leader", "admin_user"])
    def test_those_who_may_create_projects_are_offered_one_per_pain_point(
        self, request, client, who, team_map
    ):
        pain = PainPointFactory(map=team_map, title="ID check fails")
        client.force_login(request.getfixturevalue(who))
        page = client.get("/").text
        assert f'href="/projects/new/?pain_point={pain.pk}"' in page
        assert "Start a project</a>" in page

    @pytest.mark.parametrize("who", ["team_member", "viewer"])
    def test_others_are_not_offered_a_project(self, request, client, who, team_map):
        PainPointFactory(map=team_map, title="ID check fails")
        client.force_login(request.getfixturevalue(who))
        page = client.get("/").text
        assert "You don't own any journey maps." in page
        assert "Start a project" not in page and "pain_point=" not in page


class TestStartingAProjectFromAPainPoint:
    def test_the_form_opens_named_after_the_pain_point_with_its_map_and_it(
        self, client, owner, team_map
    ):
        pain = PainPointFactory(map=team_map, title="ID check fails", severity=5, frequency=5)
        client.force_login(owner)
        form = client.get(f"/projects/new/?pain_point={pain.pk}").context["form"]
        assert form.initial["title"] == "ID check fails"
        assert form.initial["maps"] == [team_map.pk]
        assert form.initial["pain_points"] == [pain.pk]
        assert list(form.fields["pain_points"].queryset) == [pain]

    def test_saving_the_prefilled_form_addresses_the_pain_point(self, client, owner, team_map):
        pain = PainPointFactory(map=team_map, title="ID check fails", severity=5, frequency=5)
        client.force_login(owner)
        assert f"?pain_point={pain.pk}" in client.get("/").text
        form = client.get(f"/projects/new/?pain_point={pain.pk}").context["form"]
        posted = {
            "title": form.initial["title"],
            "status": "idea",
            "reach": 100,
            "impact": 3,
            "confidence": 50,
            "effort": 2,
            "maps": form.initial["maps"],
            "pain_points": form.initial["pain_points"],
        }
        response = client.post("/projects/new/", posted)
        project = CXProject.objects.get(title="ID check fails")
        assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
        assert list(project.pain_points.all()) == [pain]
        assert list(project.maps.all()) == [team_map]
        client.get(response["Location"])  # the "Created" message shown
        page = client.get("/").text
        assert "ID check fails" not in page and "Every pain point has a project." in page

    def test_a_pain_point_the_user_cannot_see_is_ignored_with_a_message(
        self, client, owner, team_map, draft_map
    ):
        hidden = PainPointFactory(map=draft_map, title="Secret churn reason")
        client.force_login(owner)
        response = client.get(f"/projects/new/?pain_point={hidden.pk}")
        assert response.status_code == 200
        assert "Secret churn reason" not in response.text
        assert (
            f"The pain point in the link (pain_point={hidden.pk}) is not one you can see, "
            "so the form starts without it."
        ) in response.text
        form = response.context["form"]
        assert form.initial["title"] == "" and "pain_points" not in form.initial
        assert not CXProject.objects.exists()

    @pytest.mark.parametrize("value", ["abc", "-1", "1.5", "²", "99999999999999999999999", "0"])
    def test_a_malformed_or_unknown_pain_point_is_ignored_with_a_message(
        self, client, owner, team_map, value
    ):
        client.force_login(owner)
        response = client.get("/projects/new/", {"pain_point": value})
        assert response.status_code == 200
        assert "is not one you can see, so the form starts without it." in response.text
        assert "pain_points" not in response.context["form"].initial

    def test_a_huge_map_id_is_ignored_rather_than_a_server_error(self, client, owner, team_map):
        client.force_login(owner)
        response = client.get("/projects/new/", {"map": "99999999999999999999999"})
        assert response.status_code == 200 and "maps" not in response.context["form"].initial

    def test_a_viewer_may_not_open_the_prefilled_form(self, client, viewer, team_map):
        pain = PainPointFactory(map=team_map)
        client.force_login(viewer)
        assert client.get(f"/projects/new/?pain_point={pain.pk}").status_code == 403

    def test_a_team_member_who_follows_the_link_gets_it_prefilled(
        self, client, team_member, team_map
    ):
        # tess edits her team's maps, so she may create projects (home lists only the
        # pain points of maps one owns, so it offers her none)
        pain = PainPointFactory(map=team_map, title="ID check fails")
        client.force_login(team_member)
        form = client.get(f"/projects/new/?pain_point={pain.pk}").context["form"]
        assert (form.initial["title"], form.initial["pain_points"]) == ("ID check fails", [pain.pk])


class TestMissingKpis:
    def test_the_one_query_form_gives_the_queryset_forms_list_and_count(self, owner, other_owner):
        now = timezone.now()
        mine, theirs = JourneyMapFactory(owner=owner), JourneyMapFactory(owner=other_owner)
        for i in range(7):
            kpi = KPIFactory(map=mine if i % 2 else theirs, name=f"KPI {i}")
            if i % 3:  # 1, 2, 4, 5 measured; 0, 3, 6 never
                MeasurementFactory(kpi=kpi, date=now.date() - dt.timedelta(days=10 * i))
        for scope in (JourneyMap.objects.all(), JourneyMap.objects.filter(owner=owner)):
            for limit in (1, 3, 10):
                expected = reviews.kpis_missing_measurements(scope, now=now)
                rows, count = reviews.kpis_missing(scope, limit=limit, now=now)
                assert rows == list(expected[:limit]) and count == expected.count()
                assert [k.last_measured for k in rows] == [
                    k.last_measured for k in expected[:limit]
                ]
        # by hand: never measured 0, 3, 6 and the ones 40 and 50 days ago (4, 5)
        rows, count = reviews.kpis_missing(JourneyMap.objects.all(), limit=10, now=now)
        assert [k.name for k in rows] == ["KPI 0", "KPI 3", "KPI 6", "KPI 5", "KPI 4"]
        assert count == 5

    def test_none_missing_counts_zero(self, owner):
        kpi = KPIFactory(map=JourneyMapFactory(owner=owner))
        MeasurementFactory(kpi=kpi, date=timezone.now().date())
        assert reviews.kpis_missing(JourneyMap.objects.all(), limit=10) == ([], 0)


ROLES = ["owner", "team_member", "viewer", "other_owner", "leader", "admin_user"]


@pytest.mark.parametrize("who", ROLES)
def test_the_home_query_count_holds_with_ten_times_the_data(
    request, client, who, owner, team, other_owner, django_assert_max_num_queries
):
    """Session, user, groups/leadership, visible maps' checks, the due list, the worst
    pain points (one or two), their count (one: the stored per-map counts summed),
    may-create (once), missing KPIs with their count (one), handed over, mentions, and
    the health lists (weights, latest day, both lowest lists, the drops): flat whatever
    the number of maps."""
    client.force_login(request.getfixturevalue(who))
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=1)
    with CaptureQueriesContext(connection) as small:
        first = client.get("/")
    build_repository(owner=owner, team=team, other_owner=other_owner, copies=9)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/")
    assert response.status_code == first.status_code == 200
    assert len(small.captured_queries) <= 20

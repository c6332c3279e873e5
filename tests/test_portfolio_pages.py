"""The portfolio page, its CSV export and weights page, project pages and
/api/portfolio/: what each role sees and may do, and query budgets at 5,000 projects."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from governance.models import PrioritisationWeights
from maps.models import CXProject, DeliveryStatus, JourneyMap
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(owner, team, other_owner, draft_map):
    """A journey (health 40) with a task below it, a second journey, omar's draft."""
    journey = JourneyMapFactory(title="Onboard", slug="onboard", owner=owner, team=team)
    task = JourneyMapFactory(title="Verify", slug="verify", owner=owner, parent=journey)
    other = JourneyMapFactory(title="Pay", slug="pay", owner=other_owner)
    kpi = KPIFactory(map=journey, baseline=0, target=100)
    MeasurementFactory(kpi=kpi, value=40)
    pain = PainPointFactory(map=task, title="Selfie fails", severity=4, frequency=5)
    PainPointFactory(map=other, title="Card declined", severity=5, frequency=5)
    big = CXProjectFactory(
        title="Faster onboarding",
        owner=owner,
        team=team,
        reach=1000,
        impact=3,
        confidence=80,
        effort=4,
        status="ongoing",
        maps=[journey],
    )
    fix = CXProjectFactory(
        title="Selfie fix", owner=owner, status="planned", maps=[task], pain_points=[pain]
    )
    pay = CXProjectFactory(title="Pay later", owner=other_owner, maps=[other], reach=10)
    hidden = CXProjectFactory(title="Close faster", owner=other_owner, maps=[draft_map])
    done = CXProjectFactory(
        title="Old onboarding", owner=owner, status="done", maps=[journey], outcome="Learnt."
    )
    return {
        "journey": journey,
        "task": task,
        "other": other,
        "big": big,
        "fix": fix,
        "pay": pay,
        "hidden": hidden,
        "done": done,
        "pain": pain,
    }


def titles_in(html: str, *titles: str) -> list[str]:
    return [t for t in titles if t in html]


ALL = ("Faster onboarding", "Selfie fix", "Pay later", "Close faster", "Old onboarding")


class TestPortfolioPage:
    def test_it_ranks_what_the_user_may_see(self, client, portfolio, viewer, leader):
        client.force_login(viewer)
        html = client.get("/portfolio/?status=").text
        assert "Close faster" not in html  # only touches omar's draft
        assert html.index("Faster onboarding") < html.index("Pay later")
        client.force_login(leader)
        assert titles_in(client.get("/portfolio/?status=").text, *ALL) == list(ALL)

    def test_the_subtree_filter_keeps_projects_touching_the_journey_or_below(
        self, client, portfolio, leader
    ):
        client.force_login(leader)
        html = client.get("/portfolio/?status=&map=onboard").text
        assert titles_in(html, *ALL) == ["Faster onboarding", "Selfie fix", "Old onboarding"]
        # the gaps follow the subtree too: Pay's pain point is not listed
        assert "Card declined" not in html
        assert "Card declined" in client.get("/portfolio/").text

    def test_a_draft_map_nobody_showed_you_filters_to_nothing(
        self, client, portfolio, viewer, draft_map
    ):
        client.force_login(viewer)
        html = client.get(f"/portfolio/?status=&map={draft_map.slug}").text
        assert titles_in(html, *ALL) == []

    def test_status_team_owner_and_text_filters(self, client, portfolio, leader, team, owner):
        client.force_login(leader)
        assert titles_in(client.get("/portfolio/?status=done").text, *ALL) == ["Old onboarding"]
        open_html = client.get("/portfolio/?status=open").text
        assert "Old onboarding" not in titles_in(open_html, *ALL)
        assert titles_in(client.get(f"/portfolio/?status=&team={team.pk}").text, *ALL) == [
            "Faster onboarding"
        ]
        mine = titles_in(client.get(f"/portfolio/?status=&owner={owner.pk}").text, *ALL)
        assert "Pay later" not in mine and "Selfie fix" in mine
        assert titles_in(client.get("/portfolio/?status=&q=learnt").text, *ALL) == [
            "Old onboarding"
        ]

    def test_ranks_are_computed_over_the_filtered_set(self, client, portfolio, leader):
        client.force_login(leader)
        response = client.get("/portfolio/?status=done")
        assert [p.rank for p in response.context["page"].object_list] == [1]

    def test_it_sorts_by_a_column(self, client, portfolio, leader):
        client.force_login(leader)
        rows = client.get("/portfolio/?status=&sort=title").context["page"].object_list
        assert [p.title for p in rows] == sorted(ALL)
        rows = client.get("/portfolio/?status=&sort=-title").context["page"].object_list
        assert [p.title for p in rows] == sorted(ALL, reverse=True)

    def test_the_breakdown_and_overlaps_are_on_the_page(self, client, portfolio, leader):
        client.force_login(leader)
        html = client.get("/portfolio/?status=").text
        assert "<details" in html and "RICE base" in html
        # ongoing "Faster onboarding" (no dates) and planned "Selfie fix" share no map:
        # no overlap; a second active project on Onboard would be flagged
        assert "⚠" not in html
        CXProjectFactory(
            title="Onboarding v2", owner=leader, status="planned", maps=[portfolio["journey"]]
        )
        html = client.get("/portfolio/?status=").text
        assert "same map in overlapping dates: Onboard" in html

    def test_comparing_methods_does_not_change_the_saved_one(self, client, portfolio, leader):
        client.force_login(leader)
        response = client.get("/portfolio/?method=wsjf")
        assert response.context["portfolio"].method == "wsjf"
        assert PrioritisationWeights.objects.get().method == "rice_health"
        assert "WSJF" in response.text

    def test_the_chart_data_links_each_bubble_to_its_project(self, client, portfolio, leader):
        client.force_login(leader)
        response = client.get("/portfolio/")
        points = response.context["chart_data"]["points"]
        first = points[0]
        assert first["url"] == f"/projects/{first['id']}/"
        assert {"x", "y", "r", "status"} <= set(first)
        assert 'id="portfolio-data"' in response.text
        assert "Quick wins" in response.text or "Big bets" in response.text

    def test_the_table_shows_a_0_to_100_index_and_the_breakdown_the_raw_score(
        self, client, portfolio, leader
    ):
        client.force_login(leader)
        response = client.get("/portfolio/")
        # RICE (weights 1): Selfie fix 600 × (1 + 0.8 pain) = 1080 is the best → 100;
        # Faster onboarding 600 × (1 + 0.6 gap) = 960 → 88.9 → 89; Close faster 600 → 56;
        # Pay later 10 × 3 × 0.8 ÷ 4 = 6 → 0.56 → 1
        rows = [(p.title, p.index) for p in response.context["portfolio"].projects]
        assert rows == [
            ("Selfie fix", 100),
            ("Faster onboarding", 89),
            ("Close faster", 56),
            ("Pay later", 1),
        ]
        html = response.text
        assert "Why 89?" in html and "110936" not in html
        assert "<strong>960.00</strong>" in html  # the raw score stays in the breakdown
        assert "= 100 × 960.00 ÷ 1080.00" in html
        assert "(Selfie fix = 100)" in html  # the help text names the project at 100

    def test_the_chart_data_is_one_collapsed_table_not_a_second_list(
        self, client, portfolio, leader
    ):
        client.force_login(leader)
        html = client.get("/portfolio/").text
        assert "Charted projects" not in html and "pf-point-list" not in html
        assert "<summary>Chart data (4 projects)</summary>" in html
        assert "Its values are in the chart data table below it" in html  # the aria-label
        chart_table = html.split('class="table pf-chart-table"')[1].split("</table>")[0]
        # rank, project, quadrant, impact, effort, reach: no link, no score repeated
        assert "<td>Selfie fix</td><td>Quick wins</td>" in chart_table
        assert "href=" not in chart_table

    def test_one_large_project_puts_effort_on_a_log_axis(self, client, portfolio, leader, owner):
        client.force_login(leader)
        data = client.get("/portfolio/").context["chart_data"]
        assert data["effortAxis"] == {"type": "linear", "min": 0, "max": 5.0}  # all 4 weeks
        CXProjectFactory(title="Core banking", owner=owner, effort=400, reach=50000)
        response = client.get("/portfolio/")
        # 400 ÷ 4 ≥ 10: from 4 ÷ 1.6 = 2.5 to 400 × 1.6 = 640
        assert response.context["chart_data"]["effortAxis"] == {
            "type": "logarithmic",
            "min": 2.5,
            "max": 640.0,
        }
        assert "logarithmic scale" in response.text

    def test_each_row_says_where_its_delivery_stands(self, client, portfolio, leader, viewer):
        fix = portfolio["fix"]
        fix.external_links = [
            "https://acme.atlassian.net/browse/CX-1",
            "CX-2",
            "https://github.com/acme/app/issues/7",
            "CX-4",
        ]
        fix.save()
        big = portfolio["big"]
        big.external_links = ["CX-9"]  # a key nobody imported
        big.save()
        DeliveryStatus.objects.bulk_create(
            [
                DeliveryStatus(key="CX-1", status="Done", state="done"),
                DeliveryStatus(key="CX-2", status="In Progress", state="doing"),
                DeliveryStatus(key="ACME/APP#7", status="Open", state="todo"),
                DeliveryStatus(key="CX-4", status="Won't do", state="cancelled"),
            ]
        )
        client.force_login(leader)
        response = client.get("/portfolio/")
        delivery = {p.title: d.summary for p, d in response.context["page_rows"]}
        # cancelled work does not count: 1 of 3 done, 1 in progress
        assert delivery["Selfie fix"] == "1 of 3 done, 1 in progress"
        assert delivery["Faster onboarding"] == ""
        html = response.text
        assert "1 of 3 done, 1 in progress" in html
        assert "1 link, no status" in html
        assert 'href="/projects/delivery-status/"' in html  # leadership imports the status
        client.force_login(viewer)
        html = client.get("/portfolio/").text
        assert "1 of 3 done, 1 in progress" in html
        assert "/projects/delivery-status/" not in html

    def test_unaddressed_pain_points_are_the_gaps(self, client, portfolio, leader):
        client.force_login(leader)
        gaps = client.get("/portfolio/").context["gaps"]
        assert [g.title for g in gaps] == ["Card declined"]  # "Selfie fails" is addressed

    def test_it_has_no_inline_scripts_or_styles(self, client, portfolio, leader):
        client.force_login(leader)
        html = client.get("/portfolio/?status=").text
        assert "style=" not in html
        assert "<script>" not in html


class TestExport:
    def test_the_csv_is_the_ranked_table_with_the_same_filters(self, client, portfolio, leader):
        client.force_login(leader)
        response = client.get("/portfolio/export.csv?status=&map=onboard")
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        # Selfie fix: 1000 × 3 × 0.8 ÷ 4 = 600, its map has no health (gap 0), pain
        #   4 × 5 ÷ 25 = 0.8 → 600 × 1.8 = 1080
        # Faster onboarding: 600, gap (100 − 40) ÷ 100 = 0.6 → 600 × 1.6 = 960
        # Old onboarding: the same 960; the tie goes to the title
        assert [(r["title"], r["score"]) for r in rows] == [
            ("Selfie fix", "1080.00"),
            ("Faster onboarding", "960.00"),
            ("Old onboarding", "960.00"),
        ]
        first = rows[1]
        assert first["rank"] == "2" and first["rank_wsjf"] in {"1", "2", "3"}
        assert first["method"] == "rice_health" and first["journeys"] == "Onboard"
        assert first["health_gap"] == "0.6000"

    def test_a_viewer_exports_only_what_they_see(self, client, portfolio, viewer):
        client.force_login(viewer)
        text = client.get("/portfolio/export.csv?status=").content.decode()
        assert "Close faster" not in text and "Pay later" in text


class TestWeightsPage:
    DATA = {
        "method": "wsjf",
        "health_gap": 0,
        "pain": 0,
        "business_value": 2,
        "time_criticality": 1,
        "risk_reduction": 1,
        "customer_value": 1,
    }

    def test_leadership_changes_the_method_and_weights(self, client, portfolio, leader):
        client.force_login(leader)
        version = PrioritisationWeights.objects.get().version
        response = client.post("/portfolio/weights/", {**self.DATA, "version": version})
        assert response.status_code == 302
        weights = PrioritisationWeights.objects.get()
        assert weights.method == "wsjf" and weights.business_value == 2
        assert weights.version == version + 1
        assert client.get("/portfolio/").context["portfolio"].method == "wsjf"

    def test_a_stale_form_is_refused(self, client, portfolio, leader):
        client.force_login(leader)
        version = PrioritisationWeights.objects.get().version
        client.post("/portfolio/weights/", {**self.DATA, "version": version})
        response = client.post(
            "/portfolio/weights/", {**self.DATA, "method": "value_effort", "version": version}
        )
        assert response.status_code == 200 and "Someone changed" in response.text
        assert PrioritisationWeights.objects.get().method == "wsjf"

    def test_negative_weights_are_refused_with_the_field_named(self, client, leader):
        client.force_login(leader)
        version = PrioritisationWeights.objects.get().version
        response = client.post("/portfolio/weights/", {**self.DATA, "pain": -1, "version": version})
        assert "Weights cannot be negative." in response.text

    def test_a_viewer_sees_the_weights_but_no_form_and_cannot_post(self, client, viewer):
        client.force_login(viewer)
        html = client.get("/portfolio/weights/").text
        assert "How projects are ranked" in html and '<form method="post" novalidate' not in html
        response = client.post("/portfolio/weights/", {**self.DATA, "version": 1})
        assert response.status_code == 403


class TestProjectPages:
    def test_the_project_page_shows_score_overlaps_links_and_history(
        self, client, portfolio, owner
    ):
        fix = portfolio["fix"]
        client.force_login(owner)
        html = client.get(f"/projects/{fix.pk}/").text
        assert "Selfie fails" in html and "Verify" in html
        assert "Pain addressed" in html
        assert "Planned" in html  # status history

    def test_status_changes_are_kept_with_who_made_them(self, client, portfolio, owner, team):
        big = portfolio["big"]
        client.force_login(owner)
        data = {
            "title": big.title,
            "status": "done",
            "team": team.pk,
            "reach": 1000,
            "impact": 3,
            "confidence": 80,
            "effort": 4,
            "maps": [portfolio["journey"].pk],
            "outcome": "Halved the drop-outs.",
        }
        response = client.post(f"/projects/{big.pk}/edit/", data)
        assert response.status_code == 302
        html = client.get(f"/projects/{big.pk}/").text
        assert "Ongoing → <strong>Done</strong>" in html
        assert "Halved the drop-outs." in html
        assert big.history.latest().history_user == owner

    def test_a_new_project_offers_steps_and_pain_points_of_the_chosen_maps_only(
        self, client, portfolio, owner
    ):
        step = StepFactory(map=portfolio["task"], name="Take a selfie")
        StepFactory(map=portfolio["other"], name="Pay now")
        client.force_login(owner)
        base = {
            "title": "Selfie help",
            "status": "idea",
            "reach": 5,
            "impact": 2,
            "confidence": 50,
            "effort": 1,
        }
        response = client.post(
            "/projects/new/", {**base, "maps": [portfolio["task"].pk], "refresh": "1"}
        )
        assert response.status_code == 200
        assert "Take a selfie" in response.text and "Pay now" not in response.text
        assert not CXProject.objects.filter(title="Selfie help").exists()
        response = client.post(
            "/projects/new/",
            {
                **base,
                "maps": [portfolio["task"].pk],
                "steps": [step.pk],
                "pain_points": [portfolio["pain"].pk],
            },
        )
        project = CXProject.objects.get(title="Selfie help")
        assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
        assert project.owner == owner
        assert list(project.steps.all()) == [step]
        assert list(project.maps.all()) == [portfolio["task"]]

    def test_a_step_of_a_map_not_chosen_is_refused(self, client, portfolio, owner):
        elsewhere = StepFactory(map=portfolio["other"], name="Pay now")
        client.force_login(owner)
        response = client.post(
            "/projects/new/",
            {
                "title": "Sneaky",
                "status": "idea",
                "reach": 5,
                "impact": 2,
                "confidence": 50,
                "effort": 1,
                "maps": [portfolio["task"].pk],
                "steps": [elsewhere.pk],
            },
        )
        assert response.status_code == 200
        assert not CXProject.objects.filter(title="Sneaky").exists()

    def test_a_hidden_map_cannot_be_linked(self, client, portfolio, owner, draft_map):
        client.force_login(owner)
        response = client.post(
            "/projects/new/",
            {
                "title": "Sneaky",
                "status": "idea",
                "reach": 5,
                "impact": 2,
                "confidence": 50,
                "effort": 1,
                "maps": [draft_map.pk],
            },
        )
        assert response.status_code == 200
        assert not CXProject.objects.filter(title="Sneaky").exists()

    def test_only_leadership_hands_a_project_to_someone_else(
        self, client, portfolio, owner, other_owner, leader
    ):
        fix = portfolio["fix"]
        data = {
            "title": fix.title,
            "status": "planned",
            "owner": other_owner.pk,
            "reach": 1,
            "impact": 1,
            "confidence": 1,
            "effort": 1,
            "maps": [portfolio["task"].pk],
        }
        client.force_login(owner)
        client.post(f"/projects/{fix.pk}/edit/", data)
        fix.refresh_from_db()
        assert fix.owner == owner  # the owner field is disabled for her
        client.force_login(leader)
        client.post(f"/projects/{fix.pk}/edit/", data)
        fix.refresh_from_db()
        assert fix.owner == other_owner

    def test_a_hidden_project_is_a_404(self, client, portfolio, viewer):
        client.force_login(viewer)
        assert client.get(f"/projects/{portfolio['hidden'].pk}/").status_code == 404
        assert client.get(f"/projects/{portfolio['hidden'].pk}/edit/").status_code == 404

    def test_done_projects_keep_their_outcome(self, client, portfolio, viewer):
        client.force_login(viewer)
        html = client.get(f"/projects/{portfolio['done'].pk}/").text
        assert "Outcome and learnings" in html and "Learnt." in html


class TestPortfolioAPI:
    def test_it_returns_the_ranking_with_breakdowns_and_overlaps(self, portfolio, leader):
        CXProjectFactory(
            title="Onboarding v2", owner=leader, status="planned", maps=[portfolio["journey"]]
        )
        api = APIClient()
        api.force_authenticate(leader)
        body = api.get("/api/portfolio/?status=").json()
        assert body["results"][0]["title"] == "Selfie fix"  # 1080, see TestExport
        first = body["results"][1]
        assert first["rank"] == 2 and first["title"] == "Faster onboarding"
        assert first["score"] == pytest.approx(960)
        assert first["breakdown"]["method"] == "rice_health"
        assert {f["key"] for f in first["breakdown"]["factors"]} >= {"base", "gap", "pain"}
        assert set(first["scores"]) == {"rice_health", "wsjf", "value_effort"}
        assert first["overlaps"] == [
            {
                "project": CXProject.objects.get(title="Onboarding v2").pk,
                "title": "Onboarding v2",
                "reasons": ["same map in overlapping dates: Onboard"],
            }
        ]

    def test_it_filters_and_compares_methods(self, portfolio, leader):
        api = APIClient()
        api.force_authenticate(leader)
        body = api.get("/api/portfolio/?map=onboard&method=wsjf").json()
        assert {r["method"] for r in body["results"]} == {"wsjf"}
        assert body["count"] == 3
        assert api.get("/api/portfolio/?method=nope").status_code == 400

    def test_a_viewer_gets_only_what_they_may_see(self, portfolio, viewer):
        api = APIClient()
        api.force_authenticate(viewer)
        titles = {r["title"] for r in api.get("/api/portfolio/").json()["results"]}
        assert "Close faster" not in titles and "Pay later" in titles

    def test_anonymous_gets_401(self, portfolio):
        assert APIClient().get("/api/portfolio/").status_code == 401


# --- query budgets --------------------------------------------------------------------


def bulk_portfolio(*, owner, maps: list[JourneyMap], count: int) -> None:
    """``count`` projects over ``maps`` in a few bulk inserts, active ones in short,
    mostly disjoint date windows so overlaps stay realistic."""
    statuses = [s for s, _ in CXProject.Status.choices]
    start = dt.date(2026, 1, 1)
    projects = CXProject.objects.bulk_create(
        [
            CXProject(
                title=f"Bulk {i:05d}",
                owner=owner,
                status=statuses[i % len(statuses)],
                reach=(i * 37) % 5000,
                impact=1 + i % 5,
                confidence=10 + (i * 7) % 90,
                effort=1 + (i % 13),
                start_date=start + dt.timedelta(days=3 * i),
                end_date=start + dt.timedelta(days=3 * i + 1),
                external_links=[f"https://acme.atlassian.net/browse/CX-{i}", f"BULK-{i}"],
            )
            for i in range(count)
        ]
    )
    DeliveryStatus.objects.bulk_create(
        [DeliveryStatus(key=f"CX-{i}", status="Done", state="done") for i in range(count)],
        ignore_conflicts=True,
    )
    through = CXProject.maps.through
    through.objects.bulk_create(
        [
            through(cxproject_id=p.pk, journeymap_id=maps[i % len(maps)].pk)
            for i, p in enumerate(projects)
        ]
    )


@pytest.fixture
def budget_world(owner, team):
    maps = [JourneyMapFactory(owner=owner, team=team, title=f"Journey {i}") for i in range(5)]
    for m in maps:
        MeasurementFactory(kpi=KPIFactory(map=m, baseline=0, target=100), value=50)
        PainPointFactory(map=m)
    return maps


def test_the_portfolio_page_runs_the_same_queries_for_3_or_5000_projects(
    client, owner, budget_world, django_assert_max_num_queries
):
    bulk_portfolio(owner=owner, maps=budget_world, count=3)
    client.force_login(owner)
    with CaptureQueriesContext(connection) as small:
        assert client.get("/portfolio/?status=").status_code == 200
    bulk_portfolio(owner=owner, maps=budget_world, count=4997)
    # session, user, groups, leadership check, weights, ranked projects, other active
    # projects, maps/steps/pain points of both, scorecard weights, KPIs, ratings,
    # unaddressed pain points + their health (weights, KPIs, ratings), the page's
    # delivery links and their statuses, the filter's team/owner choices (the map
    # picker asks its own endpoint since #16), the vocabulary (once, for the content and
    # base.html) — none depends on the number of projects
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/portfolio/?status=")  # every status: all 5,000
    assert response.context["count"] == 5000
    # every row on the page has its delivery, from the same two queries
    assert {d.summary for _, d in response.context["page_rows"]} == {"1 of 1 done"}
    assert len(small.captured_queries) <= 21  # was <= 25 before #16, 22 before the picker


def test_the_portfolio_api_runs_the_same_queries_for_3_or_5000_projects(
    owner, budget_world, django_assert_max_num_queries
):
    api = APIClient()
    api.force_authenticate(owner)
    bulk_portfolio(owner=owner, maps=budget_world, count=3)
    with CaptureQueriesContext(connection) as small:
        assert api.get("/api/portfolio/?status=").status_code == 200
    bulk_portfolio(owner=owner, maps=budget_world, count=4997)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = api.get("/api/portfolio/?status=").json()
    assert body["count"] == 5000
    assert len(small.captured_queries) <= 15


def test_the_portfolio_ranks_open_projects_unless_asked_otherwise(client, leader, owner):
    from tests.factories import CXProjectFactory

    CXProjectFactory(owner=owner, title="Still to do", status="planned")
    CXProjectFactory(owner=owner, title="Finished long ago", status="done")
    client.force_login(leader)
    default = client.get("/portfolio/").text
    assert "Still to do" in default and "Finished long ago" not in default
    everything = client.get("/portfolio/?status=").text
    assert "Finished long ago" in everything


def test_the_excel_export_holds_the_same_ranked_rows(client, leader, owner):
    from io import BytesIO

    from openpyxl import load_workbook

    from tests.factories import CXProjectFactory

    CXProjectFactory(owner=owner, title="Big one", status="planned", reach=9000, effort=2)
    CXProjectFactory(owner=owner, title="Small one", status="idea", reach=100, effort=8)
    client.force_login(leader)
    csv_rows = client.get("/portfolio/export.csv").content.decode().splitlines()
    response = client.get("/portfolio/export.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("rank", "score", "method", "project_id", "title")
    assert [r[4] for r in rows[1:]] == ["Big one", "Small one"]
    assert isinstance(rows[1][1], int | float)  # numbers stay numbers
    assert len(rows) == len(csv_rows)


def test_deleting_a_project_asks_first(client, owner):
    from maps.models import CXProject
    from tests.factories import CXProjectFactory

    project = CXProjectFactory(owner=owner, title="Dead end")
    client.force_login(owner)
    page = client.get(f"/projects/{project.pk}/delete/").text
    assert "Delete “Dead end”?" in page and "cancelled" in page
    assert CXProject.objects.filter(pk=project.pk).exists()
    client.post(f"/projects/{project.pk}/delete/")
    assert not CXProject.objects.filter(pk=project.pk).exists()


def test_the_journey_filter_offers_and_filters_only_maps_the_reader_may_see(
    client, viewer, leader, portfolio, draft_map
):
    """The map picker offers, and ``?map=`` filters by, the maps the view rule shows,
    grants included (the page itself lists no maps since #16)."""
    CXProjectFactory(title="Kinder goodbye", maps=[draft_map])

    def offered() -> list[str]:
        body = client.get("/maps/portfolio/choices/?q=").json()
        return [option["slug"] for option in body["results"]]

    client.force_login(viewer)
    assert "onboard" in offered()
    assert "close-my-account" not in offered()
    hidden = client.get("/portfolio/?map=close-my-account&status=").text
    assert "Kinder goodbye" not in hidden

    assign_perm("view_journeymap", viewer, draft_map)
    assert "close-my-account" in offered()
    shown = client.get("/portfolio/?map=close-my-account&status=").text
    assert "Kinder goodbye" in shown

    client.force_login(leader)
    assert "close-my-account" in offered()


# --- the page's number formatting ------------------------------------------------------


def _numbers() -> list[float | int]:
    import random

    rng = random.Random(16)
    edges = [0, 0.0, -0.0, 0.05, -0.05, 0.45, -0.45, 0.5, 2.675, 1e-7, -1e-7, 1e15, 1e-300]
    edges += [99999.994, 123456789012345.67, 7, -7, 34.02, 34.26, 40.0, 1 / 3, 2 / 3]
    drawn = [rng.uniform(-1e6, 1e6) for _ in range(2000)] + [rng.random() for _ in range(2000)]
    drawn += [round(rng.uniform(-100, 100), k) for k in range(6) for _ in range(300)]
    return edges + drawn + [rng.randint(-(10**6), 10**6) for _ in range(500)]


def test_the_fast_floatformat_writes_every_number_as_djangos_floatformat():
    from django.template.defaultfilters import floatformat

    from governance.views_portfolio import floatformat_fast

    for value in _numbers():
        for arg in ("-1", "-2", 0, 1, 2, -1):
            assert floatformat_fast(value, arg) == floatformat(value, arg), (value, arg)


def test_the_fast_floatformat_leaves_other_values_and_grouped_numbers_to_django(settings):
    from decimal import Decimal

    from django.template.defaultfilters import floatformat

    from governance.views_portfolio import floatformat_fast

    for value in (None, "", "abc", Decimal("2.675"), float("inf"), float("nan"), True):
        assert floatformat_fast(value, "-1") == floatformat(value, "-1"), value
    settings.USE_THOUSAND_SEPARATOR = True
    assert floatformat_fast(1234567.891, 2) == floatformat(1234567.891, 2) == "1,234,567.89"


def test_the_pages_number_formatter_is_read_once_and_follows_the_settings(settings):
    """The portfolio reads the number settings once per page (#16); grouped numbers then
    go to Django's floatformat for every value."""
    from django.template.defaultfilters import floatformat

    from governance.views_portfolio import _number_formatter

    plain = _number_formatter()
    assert plain(1234567.891, 2) == floatformat(1234567.891, 2) == "1234567.89"
    settings.USE_THOUSAND_SEPARATOR = True
    grouped = _number_formatter()
    assert grouped is floatformat and grouped(1234567.891, 2) == "1,234,567.89"

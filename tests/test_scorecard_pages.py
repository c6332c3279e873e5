"""The scorecard page, the quadrant-weights page and ``/api/maps/{id}/scorecard/``:
who sees what, rating factors with the version check, and flat query counts."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from governance import scoring
from governance.models import ScorecardWeights
from maps.models import KPI, JourneyMap, Perspective, QualitativeFactor, VocabularyTerm
from tests.builders import build_map_content
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    QualitativeFactorFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def url(journey_map) -> str:
    return f"/maps/{journey_map.slug}/scorecard/"


WEIGHTS_URL = "/maps/scorecard/weights/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def measured_map(team_map):
    """Olivia's team map: one business KPI halfway (20 → 40, latest 30: 50%) and one
    customer rating of 4/5 (75) → health (50 + 75) ÷ 2 = 62.5."""
    kpi = KPIFactory(
        map=team_map,
        name="Conversion",
        perspective=Perspective.BUSINESS,
        baseline=20,
        target=40,
        unit="%",
    )
    MeasurementFactory(kpi=kpi, date="2026-01-01", value=25)
    MeasurementFactory(kpi=kpi, date="2026-02-01", value=30)
    KPIFactory(map=team_map, name="Upgrade rate", perspective=Perspective.BUSINESS, target=None)
    QualitativeFactorFactory(
        map=team_map, name="Ease", perspective=Perspective.CUSTOMER, rating=4, note="Quick."
    )
    return team_map


def rating_post(journey_map, factor, **overrides) -> dict:
    data = {"factor": factor.pk, "rating": 2, "note": "Slower since the redesign.",
            "version": journey_map.version}  # fmt: skip
    return {**data, **overrides}


class TestScorecardPage:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, team_map):
        response = client.get(url(team_map))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_viewers_see_the_numbers_and_their_explanation(self, client, viewer, measured_map):
        client.force_login(viewer)
        page = client.get(url(measured_map)).text
        assert '<span class="sc-number">62.5</span>' in page  # (50 + 75) ÷ 2
        assert "At risk" in page
        assert "Conversion 50% × 1" in page  # the quadrant's explanation
        assert "Ease 4/5 → 75" in page
        assert "Upgrade rate (no target)" in page
        assert "no target" in page
        assert "Quick." in page  # the rating's note

    def test_the_trend_column_names_its_window_not_the_first_kpis_count(
        self, client, viewer, measured_map
    ):
        # the first KPI has 2 values and the second none: the header used to say "Last 2 values"
        client.force_login(viewer)
        page = client.get(url(measured_map)).text
        assert 'Recent values <span class="muted">(up to 12)</span>' in page
        assert "Conversion, last 2 values" in page
        assert "Last 2 values" not in page

    def test_viewers_get_no_rating_form(self, client, viewer, measured_map):
        client.force_login(viewer)
        page = client.get(url(measured_map)).text
        assert "Save rating" not in page
        assert "Change the rating" not in page

    @pytest.mark.parametrize("who", ["owner", "team_member", "admin_user"])
    def test_editors_get_a_rating_form_carrying_the_map_version(
        self, client, request, who, measured_map
    ):
        client.force_login(request.getfixturevalue(who))
        page = client.get(url(measured_map)).text
        assert "Save rating" in page
        assert f'name="version" value="{measured_map.version}"' in page

    def test_someone_elses_draft_is_not_found(self, client, viewer, owner, draft_map):
        for user in (viewer, owner):
            client.force_login(user)
            assert client.get(url(draft_map)).status_code == 404
            assert client.post(url(draft_map), {}).status_code == 404

    def test_leadership_reads_drafts_but_does_not_rate(self, client, leader, draft_map):
        factor = QualitativeFactorFactory(map=draft_map)
        client.force_login(leader)
        assert client.get(url(draft_map)).status_code == 200
        assert client.post(url(draft_map), rating_post(draft_map, factor)).status_code == 403

    def test_the_owner_rates_a_factor_and_the_map_moves_on(self, client, owner, measured_map):
        factor = measured_map.qualitative_factors.get()
        client.force_login(owner)
        response = client.post(url(measured_map), rating_post(measured_map, factor), follow=True)
        assert response.redirect_chain[-1][0] == url(measured_map)
        factor.refresh_from_db()
        assert (factor.rating, factor.note, factor.rated_by) == (
            2,
            "Slower since the redesign.",
            owner,
        )
        assert JourneyMap.objects.get(pk=measured_map.pk).version == measured_map.version + 1
        # health now (50 + 25) ÷ 2 = 37.5: critical
        assert '<span class="sc-number">37.5</span>' in response.text
        assert "Critical" in response.text
        assert factor.history.first().history_user == owner

    def test_a_stale_version_is_refused_with_an_inline_conflict(
        self, client, owner, team_member, measured_map
    ):
        factor = measured_map.qualitative_factors.get()
        stale = measured_map.version
        client.force_login(team_member)
        client.post(url(measured_map), rating_post(measured_map, factor, rating=5))
        client.force_login(owner)
        response = client.post(url(measured_map), rating_post(measured_map, factor, version=stale))
        assert response.status_code == 200
        assert "was changed by someone else since you opened it" in response.text
        factor.refresh_from_db()
        assert factor.rating == 5  # tess's rating stands
        # their input is kept, on the current version, so saving again is a choice
        assert "Slower since the redesign." in response.text
        assert f'name="version" value="{stale + 1}"' in response.text

    def test_viewers_may_not_rate(self, client, viewer, measured_map):
        factor = measured_map.qualitative_factors.get()
        client.force_login(viewer)
        assert client.post(url(measured_map), rating_post(measured_map, factor)).status_code == 403
        assert QualitativeFactor.objects.get(pk=factor.pk).rating == 4

    def test_a_factor_of_another_map_is_not_found(self, client, owner, measured_map):
        elsewhere = QualitativeFactorFactory(map=JourneyMapFactory(owner=owner))
        client.force_login(owner)
        response = client.post(url(measured_map), rating_post(measured_map, elsewhere))
        assert response.status_code == 404

    def test_a_rating_outside_one_to_five_names_the_field(self, client, owner, measured_map):
        factor = measured_map.qualitative_factors.get()
        client.force_login(owner)
        response = client.post(url(measured_map), rating_post(measured_map, factor, rating=9))
        assert response.status_code == 200
        assert "Select a valid choice" in response.text
        assert QualitativeFactor.objects.get(pk=factor.pk).rating == 4

    def test_the_page_is_csp_ready(self, client, owner, measured_map):
        client.force_login(owner)
        page = client.get(url(measured_map)).text
        for tag in re.findall(r"<script[^>]*>", page):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert " style=" not in page
        assert "vendor/chart.js/chart.umd.min.js" in page
        data = json.loads(
            re.search(
                r'<script id="scorecard-data" type="application/json">(.*?)</script>', page
            ).group(1)
        )
        conversion = measured_map.kpis.get(name="Conversion")
        assert data["kpis"][str(conversion.pk)]["values"] == [25, 30]
        assert data["kpis"][str(conversion.pk)]["target"] == 40

    def test_charts_have_their_numbers_in_text(self, client, owner, measured_map):
        scoring.scorecard_snapshot_all()
        client.force_login(owner)
        page = client.get(url(measured_map)).text
        assert 'aria-label="Journey health by month: ' in page
        assert "Conversion, last 2 values: Jan 2026 25, Feb 2026 30; target 40." in page

    def test_sub_maps_health_side_by_side(self, client, owner, measured_map):
        child = JourneyMapFactory(owner=owner, parent=measured_map, title="Verify identity")
        QualitativeFactorFactory(map=child, rating=5)  # health 100
        JourneyMapFactory(owner=owner, parent=measured_map, title="Sign the contract")
        client.force_login(owner)
        page = client.get(url(measured_map)).text
        assert 'id="submaps-chart"' in page
        assert "Health of the sub-maps: Sign the contract not scored, Verify identity 100." in page
        assert "Roll-up of the 2 maps below" in page
        assert f'href="/maps/{child.slug}/scorecard/"' in page

    def test_query_count_is_flat_with_ten_times_the_kpis_and_measurements(
        self, client, owner, django_assert_max_num_queries
    ):
        small = JourneyMapFactory(owner=owner, slug="small")
        build_map_content(small, steps=4, items_per_step=1)
        JourneyMapFactory(owner=owner, parent=small)
        large = JourneyMapFactory(owner=owner, slug="large")
        build_map_content(large, steps=40, items_per_step=1)  # 40 KPIs
        for kpi in KPI.objects.filter(map=large):
            for month in range(2, 12):  # 10 more measurements each
                MeasurementFactory(kpi=kpi, date=f"2025-{month:02d}-01", value=50 + month)
        for i in range(10):
            sub = JourneyMapFactory(owner=owner, parent=large)
            QualitativeFactorFactory(map=sub, rating=1 + i % 5)
            QualitativeFactorFactory(map=large, name=f"Factor {i}")
        scoring.scorecard_backfill(months=12)
        client.force_login(owner)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(small)).status_code == 200
        small_count = len(ctx.captured_queries)
        # session, user, map (the owner's: no visibility query), user's groups and
        # leadership, weights, KPIs with latest values, ratings, maps below, their KPIs,
        # their ratings, trend with last month (one query), KPI trends, ancestors,
        # vocabulary — the same for any amount of data
        with django_assert_max_num_queries(small_count):
            response = client.get(url(large))
        assert response.text.count("data-kpi-chart=") == 40
        assert small_count <= 16


class TestScorecardRendering:
    """The page's content is rendered by Jinja2 with helpers of its own (#16): dates
    memoised per page, sub-map links from one reversed prefix, widgets through Django's
    Jinja2 renderer. Each shows what Django's template showed."""

    def test_dates_are_shown_in_the_sites_time_zone(self, client, owner, settings, team_map):
        settings.TIME_ZONE = "Pacific/Auckland"  # UTC+13 in January
        QualitativeFactorFactory(
            map=team_map,
            rated_by=owner,
            rated_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
        )
        client.force_login(owner)
        page = client.get(url(team_map)).text
        assert "Rated by Olivia" in page
        assert " on 1 Jan 2026." in page  # not 31 Dec 2025: the UTC date

    def test_a_rating_whose_rater_was_deleted_names_nobody(self, client, owner, team_map):
        rater = UserFactory(first_name="Rita", last_name="Rater")
        QualitativeFactorFactory(map=team_map, name="Tone of voice", rated_by=rater)
        rater.delete()  # SET_NULL: the rating stays, its rater's names are gone
        client.force_login(owner)
        page = client.get(url(team_map)).text
        assert "Tone of voice" in page
        assert "None" not in page
        assert "Rita" not in page

    def test_sparklines_of_kpis_measured_on_the_same_days_name_their_own_values(
        self, client, viewer, team_map
    ):
        first = KPIFactory(map=team_map, name="First", target=100)
        second = KPIFactory(map=team_map, name="Second", target=None)
        third = KPIFactory(map=team_map, name="Third", target=10)
        for month, value in ((1, 10), (2, 20.5)):
            MeasurementFactory(kpi=first, date=date(2026, month, 1), value=value)
            MeasurementFactory(kpi=second, date=date(2026, month, 1), value=value * 1000)
        MeasurementFactory(kpi=third, date=date(2025, 12, 31), value=7)
        client.force_login(viewer)
        page = client.get(url(team_map)).text
        assert 'aria-label="First, last 2 values: Jan 2026 10, Feb 2026 20.5; target 100."' in page
        assert 'aria-label="Second, last 2 values: Jan 2026 10,000, Feb 2026 20,500."' in page
        assert 'aria-label="Third, last 1 values: Dec 2025 7; target 10."' in page
        # the latest values' dates, under the same memoised formatting
        assert page.count("1 Feb 2026") == 2 and "31 Dec 2025" in page

    def test_every_map_below_links_to_its_own_scorecard(self, client, owner, team_map):
        child = JourneyMapFactory(owner=owner, parent=team_map, slug="verify_id-2")
        grandchild = JourneyMapFactory(owner=owner, parent=child, slug="scan-passport-3")
        other = JourneyMapFactory(owner=owner, parent=team_map, slug="sign")
        client.force_login(owner)
        page = client.get(url(team_map)).text
        for below in (child, grandchild, other):
            assert f'<a href="{reverse("governance:scorecard", args=[below.slug])}">' in page

    def test_names_are_escaped_wherever_they_appear(self, client, owner, team_map):
        evil = "<script>alert(\"x\")</script> & 'quotes'"
        parent = JourneyMapFactory(owner=owner, title=f"Parent {evil}")
        team_map.parent = parent
        team_map.title = f"Map {evil}"
        team_map.save()
        JourneyMapFactory(owner=owner, parent=team_map, title=f"Child {evil}")
        kpi = KPIFactory(map=team_map, name=f"KPI {evil}", unit="<i>u</i>")  # 30 chars at most
        MeasurementFactory(kpi=kpi, value=60)
        QualitativeFactorFactory(map=team_map, name=f"Factor {evil}", note=f"Note {evil}")
        client.force_login(owner)
        page = client.get(url(team_map)).text
        assert "<script>alert" not in page and "<i>u</i>" not in page
        assert "&lt;i&gt;u&lt;/i&gt;" in page
        for prefix in ("Parent", "Map", "Child", "KPI", "Factor", "Note"):
            assert f"{prefix} &lt;script&gt;alert(" in page, prefix
        assert "&amp; &#39;quotes&#39;" in page or "&amp; &#x27;quotes&#x27;" in page

    def test_an_invalid_rating_keeps_what_was_typed_and_marks_its_fields(
        self, client, owner, measured_map
    ):
        ease = measured_map.qualitative_factors.get()
        other = QualitativeFactorFactory(map=measured_map, name="Trust", rating=2)
        client.force_login(owner)
        response = client.post(
            url(measured_map), rating_post(measured_map, ease, rating=9, note="Typed <b>here")
        )
        page = response.text
        assert response.status_code == 200
        assert QualitativeFactor.objects.get(pk=ease.pk).rating == 4
        prefix = f"id_factor{ease.pk}_"
        assert (
            f'<select name="rating" aria-invalid="true" '
            f'aria-describedby="{prefix}rating_error" id="{prefix}rating">'
        ) in page
        assert f'<p class="field-error" id="{prefix}rating-error">Select a valid choice.' in page
        assert "\nTyped &lt;b&gt;here</textarea>" in page
        assert page.count('<details class="sc-rate" open>') == 1
        # the other factor's form is untouched: its current rating chosen, its own ids
        other_prefix = f"id_factor{other.pk}_"
        assert f'<select name="rating" id="{other_prefix}rating">' in page
        assert '<option value="2" selected>2 — poor</option>' in page
        token = (
            r'class="sc-rate-form" novalidate>\s*<input type="hidden" name="csrfmiddlewaretoken"'
        )
        assert len(re.findall(token, page)) == 2

    def test_a_rating_of_no_factor_on_the_page_is_reported_above_the_list(
        self, client, owner, measured_map
    ):
        client.force_login(owner)
        response = client.post(url(measured_map), {"factor": "x", "rating": "", "version": ""})
        assert response.status_code == 200
        assert '<div class="form-errors" role="alert"><p>The rating was not saved: ' in (
            response.text
        )
        assert "This field is required." in response.text

    def test_the_organisations_terms_name_the_page_with_one_vocabulary_query(
        self, client, viewer, measured_map
    ):
        VocabularyTerm.objects.create(key="kpi", label="Metric")
        VocabularyTerm.objects.create(key="sub_map", label="Zoom-in")
        VocabularyTerm.objects.create(key="level_1", label="Lifecycle")
        JourneyMapFactory(owner=measured_map.owner, parent=measured_map)
        client.force_login(viewer)
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(url(measured_map)).text
        assert '<h2 id="kpis-title">Metrics</h2>' in page
        assert '<h2 id="rollup-title">Zoom-ins</h2>' in page
        assert '<span class="level-tag">Lifecycle</span>' in page
        vocabulary = [q for q in ctx.captured_queries if "maps_vocabularyterm" in q["sql"]]
        assert len(vocabulary) == 1  # the content and base.html's menu share it


class TestWeightsPage:
    VALUES = {
        "quantitative_business": "3",
        "quantitative_customer": "1",
        "qualitative_business": "0",
        "qualitative_customer": "1",
    }

    def post(self, **overrides) -> dict:
        return {**self.VALUES, "version": scoring.current_weights().version, **overrides}

    def test_everyone_signed_in_reads_the_weights(self, client, viewer):
        client.force_login(viewer)
        page = client.get(WEIGHTS_URL).text
        assert "Quantitative · business" in page
        assert "Only CX leadership and admins change them." in page
        assert "Save weights" not in page

    @pytest.mark.parametrize("who", ["viewer", "owner", "team_member", "other_owner"])
    def test_only_leadership_and_admins_change_them(self, client, request, who):
        client.force_login(request.getfixturevalue(who))
        assert client.post(WEIGHTS_URL, self.post()).status_code == 403
        assert scoring.current_weights().quantitative_business == 1.0

    @pytest.mark.parametrize("who", ["leader", "admin_user"])
    def test_leadership_reweights_every_journeys_health(self, client, request, who, measured_map):
        user = request.getfixturevalue(who)
        client.force_login(user)
        assert "Save weights" in client.get(WEIGHTS_URL).text
        response = client.post(WEIGHTS_URL, self.post(), follow=True)
        assert response.redirect_chain[-1][0] == WEIGHTS_URL
        assert scoring.current_weights().as_dict() == {
            "quantitative_business": 3.0,
            "quantitative_customer": 1.0,
            "qualitative_business": 0.0,
            "qualitative_customer": 1.0,
        }
        assert ScorecardWeights.history.first().history_user == user
        # health (3 × 50 + 1 × 75) ÷ (3 + 1) = 225 ÷ 4 = 56.25
        assert scoring.map_scorecard(measured_map).health == pytest.approx(56.25)

    def test_all_zero_weights_are_refused_with_a_message(self, client, leader):
        client.force_login(leader)
        zeros = dict.fromkeys(self.VALUES, "0")
        response = client.post(WEIGHTS_URL, self.post(**zeros))
        assert response.status_code == 200
        assert "At least one quadrant must have a weight above 0" in response.text
        assert scoring.current_weights().quantitative_business == 1.0

    def test_a_negative_weight_names_the_field(self, client, leader):
        client.force_login(leader)
        response = client.post(WEIGHTS_URL, self.post(qualitative_customer="-1"))
        assert 'id="id_qualitative_customer-error">Weights cannot be negative.' in response.text

    def test_a_stale_form_is_refused(self, client, leader, admin_user):
        stale = self.post()
        client.force_login(admin_user)
        client.post(WEIGHTS_URL, self.post(quantitative_customer="5"))
        client.force_login(leader)
        response = client.post(WEIGHTS_URL, stale)
        assert response.status_code == 200
        assert "Someone changed the weights since you opened them" in response.text
        assert scoring.current_weights().quantitative_customer == 5.0


class TestScorecardAPI:
    def test_anonymous_calls_get_401(self, team_map):
        assert api().get(f"/api/maps/{team_map.pk}/scorecard/").status_code == 401

    def test_it_returns_the_pages_numbers_and_explanations(self, viewer, measured_map):
        data = api(viewer).get(f"/api/maps/{measured_map.pk}/scorecard/").json()
        assert data["map"]["slug"] == measured_map.slug
        assert data["health"] == 62.5
        assert data["status"] == "at_risk"
        assert "= 62.5" in data["explanation"]
        assert data["thresholds"] == {"healthy_from": 70.0, "at_risk_from": 40.0}
        business, customer, qual_business, qual_customer = data["quadrants"]
        assert business["key"] == "quantitative_business" and business["score"] == 50.0
        conversion, upgrade = business["kpis"]
        assert conversion["attainment"] == 0.5
        assert conversion["latest"] == 30 and conversion["latest_date"] == "2026-02-01"
        assert [p["value"] for p in conversion["trend"]] == [25, 30]
        assert upgrade["scored"] is False and upgrade["not_scored_reason"] == "no target"
        assert customer["score"] is None and customer["kpis"] == []
        assert qual_business["score"] is None
        assert qual_customer["score"] == 75.0
        assert qual_customer["factors"][0]["rating"] == 4
        assert data["rollup"] is None
        assert data["last_month"] == {"date": None, "health": None, "change": None}

    def test_someone_elses_draft_is_404(self, viewer, owner, draft_map):
        for user in (viewer, owner):
            assert api(user).get(f"/api/maps/{draft_map.pk}/scorecard/").status_code == 404
        assert api().get("/api/maps/999999/scorecard/").status_code == 401

    def test_leadership_reads_drafts(self, leader, draft_map):
        assert api(leader).get(f"/api/maps/{draft_map.pk}/scorecard/").status_code == 200

    def test_the_roll_up_leaves_out_what_the_user_may_not_see(
        self, viewer, leader, other_owner, measured_map
    ):
        hidden = JourneyMapFactory(owner=other_owner, parent=measured_map, status="draft")
        QualitativeFactorFactory(map=hidden, rating=1)  # health 0
        seen = JourneyMapFactory(owner=other_owner, parent=measured_map)
        QualitativeFactorFactory(map=seen, rating=5)  # health 100
        path = f"/api/maps/{measured_map.pk}/scorecard/"
        assert api(viewer).get(path).json()["rollup"]["health"] == 100.0
        assert api(leader).get(path).json()["rollup"]["health"] == 50.0  # (0 + 100) ÷ 2

    def test_it_is_in_the_openapi_schema(self, viewer):
        schema = api(viewer).get("/api/schema/", HTTP_ACCEPT="application/json").json()
        operation = schema["paths"]["/api/maps/{id}/scorecard/"]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/Scorecard")
        assert "quadrants" in schema["components"]["schemas"]["Scorecard"]["properties"]

    def test_query_count_is_flat_with_ten_times_the_kpis_and_measurements(
        self, owner, django_assert_max_num_queries
    ):
        small = JourneyMapFactory(owner=owner)
        build_map_content(small, steps=4, items_per_step=1)
        QualitativeFactorFactory(map=JourneyMapFactory(owner=owner, parent=small))
        large = JourneyMapFactory(owner=owner)
        build_map_content(large, steps=40, items_per_step=1)
        for kpi in KPI.objects.filter(map=large):
            for month in range(2, 12):
                MeasurementFactory(kpi=kpi, date=f"2025-{month:02d}-01", value=50 + month)
        for _ in range(10):
            QualitativeFactorFactory(map=JourneyMapFactory(owner=owner, parent=large))
        client = api(owner)
        with CaptureQueriesContext(connection) as ctx:
            client.get(f"/api/maps/{small.pk}/scorecard/")
        # user's groups, map, weights, KPIs, ratings, maps below (+ their KPIs and ratings),
        # trend, last month, KPI trends
        with django_assert_max_num_queries(len(ctx.captured_queries)):
            response = client.get(f"/api/maps/{large.pk}/scorecard/")
        assert len(response.json()["quadrants"][1]["kpis"]) == 40
        assert len(ctx.captured_queries) <= 12

"""KPI kinds and how a period's value is computed from raw observations.

Every expected number is worked out by hand in the comments. The fixtures are chosen
so that pooling and averaging percentages DIFFER: a test that passed by averaging
would fail here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from governance.scoring import health_by_map
from maps import kpi_math
from maps.models import KPI, Measurement, MeasurementObservation
from maps.services import observations_record
from tests.factories import KPIFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 31)


def record(kpi, *rows):
    return observations_record(kpi=kpi, rows=[{"date": DAY, **row} for row in rows])


def period_value(kpi) -> float:
    return Measurement.objects.get(kpi=kpi, date=DAY).value


class TestFormulas:
    def test_nps_is_percent_promoters_minus_percent_detractors(self):
        # 60 promoters, 20 passives, 20 detractors of 100 → 60% − 20% = +40
        assert kpi_math.nps(60, 20, 20) == pytest.approx(40.0)

    def test_csat_is_the_share_of_fours_and_fives(self):
        # 5, 10, 15, 40, 30 of 100 → (40 + 30) ÷ 100 = 70%
        assert kpi_math.csat(5, 10, 15, 40, 30) == pytest.approx(70.0)

    def test_an_observation_without_answers_is_refused(self):
        assert kpi_math.input_problem("nps", {"promoters": 0, "passives": 0, "detractors": 0})


class TestPooledPeriods:
    def test_nps_pools_the_counts_of_two_regions(self, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.NPS, baseline=0, target=50)
        # region A: 180/60/60 of 300 → 60% − 20% = +40
        # region B:  10/30/60 of 100 → 10% − 60% = −50
        # pooled: 190/90/120 of 400 → 47.5% − 30% = +17.5
        # (the mean of the two percentages would be (40 − 50) ÷ 2 = −5: wrong)
        record(
            kpi,
            {"promoters": 180, "passives": 60, "detractors": 60, "dimensions": {"region": "A"}},
            {"promoters": 10, "passives": 30, "detractors": 60, "dimensions": {"region": "B"}},
        )
        assert period_value(kpi) == pytest.approx(17.5)
        assert MeasurementObservation.objects.filter(kpi=kpi).count() == 2
        # the scorecard reads the one pooled value: (17.5 − 0) ÷ (50 − 0) = 35%
        score = health_by_map([team_map.pk])[team_map.pk].kpis[0]
        assert score.latest == pytest.approx(17.5)
        assert score.attainment == pytest.approx(0.35)

    def test_a_second_observation_of_a_region_replaces_the_first(self, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.NPS)
        a = {"dimensions": {"region": "A"}}
        b = {"promoters": 10, "passives": 30, "detractors": 60, "dimensions": {"region": "B"}}
        record(kpi, {"promoters": 180, "passives": 60, "detractors": 60, **a}, b)
        # region A corrected to 100/100/100 of 300; B unchanged:
        # pooled 110/130/160 of 400 → 27.5% − 40% = −12.5
        record(kpi, {"promoters": 100, "passives": 100, "detractors": 100, **a})
        assert period_value(kpi) == pytest.approx(-12.5)
        assert MeasurementObservation.objects.filter(kpi=kpi).count() == 2
        assert Measurement.objects.filter(kpi=kpi).count() == 1

    def test_csat_pools_the_five_counts(self, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.CSAT)
        # web:   5/10/15/40/30 of 100 → 70 satisfied = 70%
        # store: 10/10/20/5/5  of 50  → 10 satisfied = 20%
        # pooled: 15/20/35/45/35 of 150 → 80 ÷ 150 = 53.33% (the mean would be 45%)
        names = kpi_math.KIND_INPUTS["csat"]
        record(
            kpi,
            {
                **dict(zip(names, (5, 10, 15, 40, 30), strict=True)),
                "dimensions": {"channel": "web"},
            },
            {
                **dict(zip(names, (10, 10, 20, 5, 5), strict=True)),
                "dimensions": {"channel": "store"},
            },
        )
        assert period_value(kpi) == pytest.approx(80 / 150 * 100)

    def test_ces_is_weighted_by_respondents(self, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.CES, baseline=3, target=6)
        # A: mean 5.0 of 300 respondents, B: mean 3.0 of 100
        # (5.0 × 300 + 3.0 × 100) ÷ 400 = 1800 ÷ 400 = 4.5 (the plain mean would be 4.0)
        record(
            kpi,
            {"mean": 5.0, "respondents": 300, "dimensions": {"region": "A"}},
            {"mean": 3.0, "respondents": 100, "dimensions": {"region": "B"}},
        )
        assert period_value(kpi) == pytest.approx(4.5)

    def test_a_ratio_pools_numerators_and_denominators(self, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.RATIO)
        # A: 30 ÷ 40 = 75%, B: 10 ÷ 60 = 16.7%
        # pooled: (30 + 10) ÷ (40 + 60) = 40% (the mean would be 45.8%)
        record(
            kpi,
            {"numerator": 30, "denominator": 40, "dimensions": {"region": "A"}},
            {"numerator": 10, "denominator": 60, "dimensions": {"region": "B"}},
        )
        assert period_value(kpi) == pytest.approx(40.0)

    @pytest.mark.parametrize(("aggregation", "expected"), [("sum", 200.0), ("average", 100.0)])
    def test_plain_values_are_summed_or_averaged(self, team_map, aggregation, expected):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.VALUE, aggregation=aggregation)
        # 120 + 80 = 200; (120 + 80) ÷ 2 = 100
        record(
            kpi,
            {"value": 120, "dimensions": {"channel": "web"}},
            {"value": 80, "dimensions": {"channel": "app"}},
        )
        assert period_value(kpi) == pytest.approx(expected)

    def test_lower_is_better_through_at_most(self, team_map):
        kpi = KPIFactory(map=team_map, name="Days to open", baseline=10, target=4)
        kpi.comparison = KPI.Comparison.AT_MOST
        kpi.save()
        assert kpi.direction == KPI.Direction.LOWER
        # observations 6 and 8 days, averaged → 7; at most 4 from a baseline of 10:
        # (10 − 7) ÷ (10 − 4) = 3 ÷ 6 = 50%
        record(kpi, {"value": 6, "dimensions": {"region": "A"}}, {"value": 8})
        score = health_by_map([team_map.pk])[team_map.pk].kpis[0]
        assert score.latest == pytest.approx(7.0)
        assert score.attainment == pytest.approx(0.5)

    def test_inputs_of_another_kind_are_refused_and_nothing_is_written(self, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.NPS)
        with pytest.raises(ValidationError) as caught:
            record(
                kpi,
                {"promoters": 1, "passives": 1, "detractors": 1},
                {
                    "promoters": 1,
                    "passives": 1,
                    "detractors": 1,
                    "value": 3,
                    "dimensions": {"r": "x"},
                },
            )
        assert "Row 2" in str(caught.value) and "value" in caught.value.message_dict
        assert not MeasurementObservation.objects.exists()
        assert not Measurement.objects.exists()


class TestComparison:
    def test_comparison_follows_direction(self):
        assert KPI(direction="higher").comparison == KPI.Comparison.AT_LEAST
        assert KPI(direction="lower").comparison == KPI.Comparison.AT_MOST

    def test_the_api_sets_the_kind_and_the_comparison(self, owner, team_map):
        client = APIClient()
        client.force_authenticate(owner)
        response = client.post(
            "/api/kpis/",
            {
                "map": team_map.pk,
                "name": "Waiting time",
                "kind": "value",
                "comparison": "at_most",
                "baseline": 10,
                "target": 4,
                "import_key": "wait-1",
                "map_version": team_map.version,
            },
            format="json",
        )
        assert response.status_code == 201, response.data
        assert response.data["direction"] == "lower"
        assert response.data["comparison"] == "at_most"


class TestMeasurementsAPI:
    def test_editors_post_survey_counts_with_dimensions(self, team_member, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.NPS)
        client = APIClient()
        client.force_authenticate(team_member)
        url = f"/api/kpis/{kpi.pk}/measurements/"
        first = {"date": "2026-03-31", "promoters": 180, "passives": 60, "detractors": 60}
        response = client.post(url, {**first, "dimensions": {"region": "A"}}, format="json")
        # region A alone: 60% − 20% = +40
        assert response.status_code == 201 and response.data["value"] == pytest.approx(40)
        second = {"date": "2026-03-31", "promoters": 10, "passives": 30, "detractors": 60}
        response = client.post(url, {**second, "dimensions": {"region": "B"}}, format="json")
        # pooled with region B as above: +17.5
        assert response.data["value"] == pytest.approx(17.5)

    def test_a_missing_input_names_the_field(self, owner, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.CES)
        client = APIClient()
        client.force_authenticate(owner)
        response = client.post(
            f"/api/kpis/{kpi.pk}/measurements/", {"date": "2026-03-31", "mean": 4}, format="json"
        )
        assert response.status_code == 400
        assert "respondents" in response.data
        assert not Measurement.objects.exists()

    def test_a_list_of_observations_is_recorded_at_once(self, owner, team_map):
        kpi = KPIFactory(map=team_map, kind=KPI.Kind.RATIO)
        client = APIClient()
        client.force_authenticate(owner)
        rows = [
            {
                "date": "2026-03-31",
                "numerator": 30,
                "denominator": 40,
                "dimensions": {"region": "A"},
            },
            {
                "date": "2026-03-31",
                "numerator": 10,
                "denominator": 60,
                "dimensions": {"region": "B"},
            },
        ]
        response = client.post(f"/api/kpis/{kpi.pk}/measurements/", rows, format="json")
        assert response.status_code == 201
        assert response.data[0]["value"] == pytest.approx(40.0)  # (30 + 10) ÷ (40 + 60)

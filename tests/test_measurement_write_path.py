"""One write path for a period's value: computed from its observations or entered
directly, never silently both; every path leaves history."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from maps.models import Measurement, MeasurementObservation
from maps.services import observations_record
from tests.factories import KPIFactory, MeasurementFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 31)


@pytest.fixture
def kpi(team_map):
    return KPIFactory(map=team_map, name="Days to open", kind="value")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_direct_value_for_a_period_computed_from_observations_is_refused(owner, kpi):
    observations_record(kpi=kpi, rows=[{"date": DAY, "value": 5}], by=owner)
    measurement = Measurement.objects.get(kpi=kpi, date=DAY)
    response = api(owner).patch(f"/api/measurements/{measurement.pk}/", {"value": 9}, format="json")
    assert response.status_code == 400, response.data
    assert "computed from its 1 observation" in str(response.data), response.data
    assert Measurement.objects.get(kpi=kpi, date=DAY).value == 5


def test_observations_for_a_period_entered_directly_are_refused(owner, kpi):
    MeasurementFactory(kpi=kpi, date=DAY, value=9)
    response = api(owner).post(
        f"/api/kpis/{kpi.pk}/measurements/",
        {"date": "2026-03-31", "value": 5},
        format="json",
    )
    assert response.status_code == 400, response.data
    assert "entered directly" in str(response.data)
    assert Measurement.objects.get(kpi=kpi, date=DAY).value == 9
    assert not MeasurementObservation.objects.exists()


def test_deleting_a_computed_period_deletes_its_observations_with_history(owner, kpi):
    observations_record(
        kpi=kpi,
        rows=[
            {"date": DAY, "value": 5, "dimensions": {"region": "north"}},
            {"date": DAY, "value": 7, "dimensions": {"region": "south"}},
        ],
        by=owner,
    )
    measurement = Measurement.objects.get(kpi=kpi, date=DAY)
    assert api(owner).delete(f"/api/measurements/{measurement.pk}/").status_code == 204
    assert not MeasurementObservation.objects.exists()
    deleted = MeasurementObservation.history.filter(history_type="-")
    assert deleted.count() == 2 and {h.history_user for h in deleted} == {owner}
    # the period is gone, not brought back: a new observation starts it afresh
    observations_record(kpi=kpi, rows=[{"date": DAY, "value": 1}], by=owner)
    assert Measurement.objects.get(kpi=kpi, date=DAY).value == 1


def test_bulk_observation_writes_leave_history_for_observations_and_values(owner, kpi):
    observations_record(
        kpi=kpi,
        rows=[{"date": DAY, "value": 5}, {"date": DAY.replace(day=30), "value": 6}],
        by=owner,
    )
    assert MeasurementObservation.history.filter(history_user=owner).count() == 2
    assert Measurement.history.filter(history_user=owner).count() == 2
    observations_record(kpi=kpi, rows=[{"date": DAY, "value": 8}], by=owner)
    values = Measurement.history.filter(date=DAY).order_by("history_date")
    assert [h.value for h in values] == [5, 8]


def test_the_admin_follows_the_same_rule_for_values_and_observations(client, admin_user, kpi):
    client.force_login(admin_user)
    observations_record(kpi=kpi, rows=[{"date": DAY, "value": 5}], by=admin_user)
    measurement = Measurement.objects.get(kpi=kpi, date=DAY)
    response = client.post(
        f"/admin/maps/measurement/{measurement.pk}/change/",
        {"kpi": kpi.pk, "date": "2026-03-31", "value": 9},
    )
    assert response.status_code == 200  # the form again, with the reason
    assert (
        "computed from its 1 observation" in response.context["adminform"].form.errors["value"][0]
    )
    assert Measurement.objects.get(pk=measurement.pk).value == 5

    direct = MeasurementFactory(kpi=kpi, date=dt.date(2026, 4, 30), value=3)
    response = client.post(
        "/admin/maps/measurementobservation/add/",
        {"kpi": kpi.pk, "date": "2026-04-30", "dimensions": "{}", "value": 8,
         "recorded_at_0": "2026-04-30", "recorded_at_1": "10:00:00"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "entered directly" in str(response.context["adminform"].form.errors["date"])
    assert Measurement.objects.get(pk=direct.pk).value == 3
    assert not MeasurementObservation.objects.filter(date=direct.date).exists()

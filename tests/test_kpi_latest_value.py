"""KPI.latest_value / latest_date: each KPI's latest measurement stored on the KPI row by
database triggers (maps.derived.kpi_latest) and read by health.

Every test compares the stored columns with the subquery health used to run (date
desc, then pk desc), after each kind of write that can change the answer. The file
runs on SQLite here and on PostgreSQL under ``make test-postgres``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import OuterRef, Subquery

from governance import scoring
from governance.models import ScorecardWeights
from governance.scoring import health_by_map, health_values
from maps.models import KPI, Measurement
from tests.builders import trigger_names
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    QualitativeFactorFactory,
)

pytestmark = pytest.mark.django_db

D1, D2, D3 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)


def subquery_latest() -> dict[int, tuple[float | None, dt.date | None]]:
    """Every KPI's latest measurement the slow way: the subquery health used before."""
    latest = Measurement.objects.filter(kpi=OuterRef("pk")).order_by("-date", "-pk")
    rows = KPI.objects.annotate(
        slow_value=Subquery(latest.values("value")[:1]),
        slow_date=Subquery(latest.values("date")[:1]),
    ).values_list("pk", "slow_value", "slow_date")
    return {pk: (value, day) for pk, value, day in rows}


def stored_latest() -> dict[int, tuple[float | None, dt.date | None]]:
    rows = KPI.objects.values_list("pk", "latest_value", "latest_date")
    return {pk: (value, day) for pk, value, day in rows}


def assert_exact() -> None:
    assert stored_latest() == subquery_latest()


@pytest.fixture
def kpis():
    journey = JourneyMapFactory()
    return KPIFactory(map=journey, name="A"), KPIFactory(map=journey, name="B")


class TestTriggersKeepTheLatestMeasurement:
    def test_a_new_kpi_has_no_latest_value(self, kpis):
        assert stored_latest() == {kpis[0].pk: (None, None), kpis[1].pk: (None, None)}

    def test_create_sets_the_latest_and_an_older_date_does_not_replace_it(self, kpis):
        a, _ = kpis
        Measurement.objects.create(kpi=a, date=D2, value=70)
        Measurement.objects.create(kpi=a, date=D1, value=55)
        assert stored_latest()[a.pk] == (70.0, D2)
        assert_exact()

    def test_bulk_create_sets_the_latest_of_each_kpi(self, kpis):
        a, b = kpis
        Measurement.objects.bulk_create(
            [
                Measurement(kpi=a, date=D1, value=51),
                Measurement(kpi=a, date=D3, value=53),
                Measurement(kpi=a, date=D2, value=52),
                Measurement(kpi=b, date=D1, value=61),
            ]
        )
        assert stored_latest() == {a.pk: (53.0, D3), b.pk: (61.0, D1)}
        assert_exact()

    def test_saving_a_new_value_or_date_updates_it(self, kpis):
        a, _ = kpis
        older = Measurement.objects.create(kpi=a, date=D1, value=51)
        Measurement.objects.create(kpi=a, date=D2, value=52)
        older.value = 99
        older.save()
        assert stored_latest()[a.pk] == (52.0, D2)  # not the latest: nothing changes
        older.date = D3
        older.save()
        assert stored_latest()[a.pk] == (99.0, D3)  # moved ahead: now the latest
        assert_exact()

    def test_queryset_update_of_values_and_dates_updates_it(self, kpis):
        a, b = kpis
        MeasurementFactory(kpi=a, date=D1, value=51)
        MeasurementFactory(kpi=a, date=D2, value=52)
        MeasurementFactory(kpi=b, date=D1, value=61)
        Measurement.objects.filter(kpi=a).update(value=10)
        assert stored_latest()[a.pk] == (10.0, D2)
        Measurement.objects.filter(kpi=a, date=D1).update(date=D3)
        assert stored_latest()[a.pk] == (10.0, D3)
        assert_exact()

    def test_a_measurement_moved_to_another_kpi_updates_both(self, kpis):
        a, b = kpis
        moved = MeasurementFactory(kpi=a, date=D3, value=53)
        MeasurementFactory(kpi=a, date=D1, value=51)
        MeasurementFactory(kpi=b, date=D2, value=62)
        Measurement.objects.filter(pk=moved.pk).update(kpi=b)
        assert stored_latest() == {a.pk: (51.0, D1), b.pk: (53.0, D3)}
        assert_exact()

    def test_delete_falls_back_to_the_previous_measurement_or_none(self, kpis):
        a, _ = kpis
        first = MeasurementFactory(kpi=a, date=D1, value=51)
        MeasurementFactory(kpi=a, date=D2, value=52).delete()
        assert stored_latest()[a.pk] == (51.0, D1)
        first.delete()
        assert stored_latest()[a.pk] == (None, None)
        assert_exact()

    def test_queryset_delete_updates_every_kpi_it_touches(self, kpis):
        a, b = kpis
        MeasurementFactory(kpi=a, date=D1, value=51)
        MeasurementFactory(kpi=a, date=D2, value=52)
        MeasurementFactory(kpi=b, date=D3, value=63)
        MeasurementFactory(kpi=b, date=D1, value=61)
        Measurement.objects.filter(date__gte=D2).delete()
        assert stored_latest() == {a.pk: (51.0, D1), b.pk: (61.0, D1)}
        assert_exact()

    def test_deleting_a_kpi_with_measurements_leaves_the_others_exact(self, kpis):
        a, b = kpis
        MeasurementFactory(kpi=a, date=D1, value=51)
        MeasurementFactory(kpi=b, date=D2, value=62)
        a.delete()
        assert stored_latest() == {b.pk: (62.0, D2)}
        assert_exact()

    def test_the_date_decides_not_the_order_of_writing(self, kpis):
        # (kpi, date) is unique, so dates never tie; the pk (last in the subquery's
        # order) only breaks ties the constraint forbids
        a, _ = kpis
        Measurement.objects.create(kpi=a, date=D3, value=53)
        newer_row = Measurement.objects.create(kpi=a, date=D1, value=51)
        assert newer_row.pk > Measurement.objects.get(date=D3).pk
        assert stored_latest()[a.pk] == (53.0, D3)
        assert_exact()

    def test_raw_sql_writes_are_followed(self, kpis):
        a, _ = kpis
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO maps_measurement (kpi_id, date, value, created_at) "
                "VALUES (%s, %s, 42.5, %s)",
                [a.pk, D2, dt.datetime(2026, 3, 1, tzinfo=dt.UTC)],
            )
        assert stored_latest()[a.pk] == (42.5, D2)
        assert_exact()

    def test_a_stale_kpi_instance_saved_later_does_not_overwrite_it(self, kpis):
        a, _ = kpis  # loaded before any measurement: latest_value None in memory
        MeasurementFactory(kpi=a, date=D2, value=52)
        a.name = "Renamed"
        a.save()
        KPI.objects.filter(pk=a.pk).update(latest_value=1.0, latest_date=D1)
        KPI.objects.bulk_update([a], ["name", "latest_value"])
        assert stored_latest()[a.pk] == (52.0, D2)
        assert_exact()


def test_the_triggers_exist_after_every_migration():
    # maps.derived installs them after every migrate, whatever it rebuilt
    # (tests/test_derived_triggers.py runs such migrations)
    names = trigger_names()
    expected = (
        {
            "maps_kpi_latest_on_update",
            "maps_kpi_latest_on_insert",
            "maps_measurement_latest_on_insert",
            "maps_measurement_latest_on_update",
            "maps_measurement_latest_on_delete",
        }
        if connection.vendor == "sqlite"
        else {"maps_kpi_latest", "maps_measurement_latest"}
    )
    assert expected <= names


class TestHealthReadsTheStoredValue:
    def test_health_values_and_health_by_map_give_the_hand_worked_numbers(self):
        journey, empty = JourneyMapFactory(), JourneyMapFactory()
        # business KPI, baseline 50 → target 80: latest 65 → 50 %; customer KPI lower
        # is better, 10 → 0: latest 8 → 20 %; a customer rating of 4 → 75.
        # Business quantitative 50, customer quantitative 20, customer qualitative 75:
        # equal default weights → (50 + 20 + 75) ÷ 3 = 48.33…
        revenue = KPIFactory(map=journey, name="Revenue", perspective="business")
        MeasurementFactory(kpi=revenue, date=D1, value=80)
        MeasurementFactory(kpi=revenue, date=D2, value=65)
        waits = KPIFactory(
            map=journey, name="Wait", perspective="customer", direction="lower",
            baseline=10.0, target=0.0,
        )  # fmt: skip
        MeasurementFactory(kpi=waits, date=D3, value=8)
        QualitativeFactorFactory(map=journey, perspective="customer", rating=4)
        weights = dict.fromkeys(ScorecardWeights.FIELDS, 1.0)
        fast = health_values([journey.pk, empty.pk], weights=weights)
        full = health_by_map([journey.pk, empty.pk], weights=weights)
        assert fast[journey.pk] == pytest.approx((50 + 20 + 75) / 3)
        assert full[journey.pk].health == pytest.approx(fast[journey.pk])
        assert fast[empty.pk] is None and full[empty.pk].health is None
        kpi = {k.name: k for k in full[journey.pk].kpis}
        assert (kpi["Revenue"].latest, kpi["Revenue"].latest_date) == (65.0, D2)

    def test_as_of_still_reads_the_measurement_of_that_date(self):
        kpi = KPIFactory()
        MeasurementFactory(kpi=kpi, date=D1, value=65)  # 50 %
        MeasurementFactory(kpi=kpi, date=D3, value=80)  # 100 %
        past = health_by_map([kpi.map_id], as_of=D2)[kpi.map_id]
        now = health_by_map([kpi.map_id])[kpi.map_id]
        assert (past.kpis[0].latest, past.kpis[0].latest_date) == (65.0, D1)
        assert (now.kpis[0].latest, now.kpis[0].latest_date) == (80.0, D3)

    def test_health_values_reads_kpis_in_one_query_without_a_subquery(
        self, django_assert_num_queries
    ):
        kpi = KPIFactory()
        MeasurementFactory(kpi=kpi, date=D1, value=65)
        weights = dict.fromkeys(ScorecardWeights.FIELDS, 1.0)
        # one query: the stored health rows with the KPIs (their stored latest value)
        # and ratings of the maps without a current one (tests/test_map_health_stored.py)
        with django_assert_num_queries(1) as captured:
            health_values([kpi.map_id], weights=weights)
        assert "maps_measurement" not in captured.captured_queries[0]["sql"]

    def test_many_ids_sent_as_one_parameter_give_the_same_health(self, monkeypatch):
        maps = [JourneyMapFactory() for _ in range(4)]
        for number, journey in enumerate(maps[:3]):
            kpi = KPIFactory(map=journey, name="K", perspective="business")
            MeasurementFactory(kpi=kpi, date=D1, value=50 + 10 * number)
        QualitativeFactorFactory(map=maps[2], perspective="customer", rating=2)
        ids = [journey.pk for journey in maps]
        weights = dict.fromkeys(ScorecardWeights.FIELDS, 1.0)
        as_parameters = health_values(ids, weights=weights)
        monkeypatch.setattr(scoring, "MANY_IDS", 2)  # 4 ids: one JSON/array parameter
        as_one = health_values(ids, weights=weights)
        # 50 → 0 %, 60 → 33.3 %, 70 → 66.7 % and a rating of 2 → 25: (66.7 + 25) ÷ 2
        assert as_one == as_parameters
        assert as_one[maps[1].pk] == pytest.approx(100 / 3)
        assert as_one[maps[2].pk] == pytest.approx((200 / 3 + 25) / 2)
        assert as_one[maps[3].pk] is None

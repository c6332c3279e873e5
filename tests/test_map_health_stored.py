"""Each map's quadrant scores stored in governance.MapHealth (governance 0012), never
stale: database triggers bump the row's generation on every write of the map's KPIs,
measurements (through KPI.latest_value) and qualitative factors, and health_values uses
a stored row only while it was computed at its current generation.

Every test compares health_values with the full computation it replaced (``reference``,
the code health_values ran before: every KPI and rating read and scored in Python) after
each kind of write that changes health. The file runs on SQLite here and on PostgreSQL
under ``make test-postgres``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import QuerySet

from governance import scoring
from governance.models import MapHealth, ScorecardWeights
from maps.models import KPI, JourneyMap, Measurement, QualitativeFactor
from tests.builders import trigger_names
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    QualitativeFactorFactory,
)

pytestmark = pytest.mark.django_db

D1, D2, D3 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)
EQUAL = dict.fromkeys(ScorecardWeights.FIELDS, 1.0)
ODD = {
    "quantitative_business": 3.0,
    "quantitative_customer": 0.7,
    "qualitative_business": 0.0,
    "qualitative_customer": 1.3,
}


def reference(
    map_ids: list[int] | QuerySet, weights: dict[str, float] = EQUAL
) -> dict[int, float | None]:
    """health_values as it was before the stored rows: every KPI and rating of the maps
    read and scored (the same arithmetic in the same order as the scorecard)."""
    ids = map_ids if isinstance(map_ids, QuerySet) else list(map_ids)
    attained: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    seen: set[int] = set()
    for map_id, perspective, direction, weight, baseline, target, value in (
        KPI.objects.filter(map_id__in=ids)
        .order_by("map_id", "name", "pk")
        .values_list(
            "map_id", "perspective", "direction", "weight", "baseline", "target", "latest_value"
        )
    ):
        seen.add(map_id)
        attainment = scoring.kpi_attainment(
            direction=direction, baseline=baseline, target=target, value=value
        )[0]
        if attainment is not None:
            attained[map_id, perspective].append((weight, attainment))
    ratings: dict[tuple[int, str], list[int]] = defaultdict(list)
    for map_id, perspective, rating in (
        QualitativeFactor.objects.filter(map_id__in=ids)
        .order_by("map_id", "name", "pk")
        .values_list("map_id", "perspective", "rating")
    ):
        seen.add(map_id)
        ratings[map_id, perspective].append(rating)
    result: dict[int, float | None] = {} if isinstance(ids, QuerySet) else dict.fromkeys(ids)
    for map_id in seen:
        counting: list[tuple[float, float]] = []
        for spec in scoring.QUADRANTS:
            weight = weights[spec.key]
            if weight <= 0:
                continue
            if spec.kind == "quantitative":
                pairs = attained.get((map_id, spec.perspective))
                if pairs:
                    weighted, total = scoring._weighted(pairs)
                    counting.append((weight, weighted / total * 100))
            else:
                rated = ratings.get((map_id, spec.perspective))
                if rated:
                    counting.append((weight, scoring._mean_rating_score(rated)))
        if counting:
            weighted, total = scoring._weighted(counting)
            result[map_id] = weighted / total
        else:
            result[map_id] = None
    return result


def all_ids() -> list[int]:
    return list(JourneyMap.objects.order_by("pk").values_list("pk", flat=True))


def settle() -> None:
    """Store every map's health the way a read outside a transaction does (its
    write-back statement), here inside the test's transaction."""
    _, rows = scoring._read_health(all_ids(), scoring._counting(EQUAL))
    with connection.cursor() as cursor:
        cursor.executemany(scoring._STORE_SQL, rows)
    assert stale_ids() == set()


def stale_ids() -> set[int]:
    """Maps whose row is not current (a map without a row is computed on every read)."""
    rows = MapHealth.objects.values_list("map_id", "generation", "computed_generation")
    return {pk for pk, generation, computed in rows if computed != generation}


def is_current(map_id: int) -> bool:
    row = MapHealth.objects.filter(map_id=map_id).values_list("generation", "computed_generation")
    return bool(row) and row[0][0] == row[0][1]


def assert_exact(weights: dict[str, float] = EQUAL) -> None:
    """health_values equals the full computation, for lists and querysets of maps, and
    equals the scorecard's health."""
    ids = all_ids()
    assert scoring.health_values(ids, weights=weights) == reference(ids, weights)
    maps = JourneyMap.objects.values("pk")
    assert scoring.health_values(maps, weights=weights) == reference(maps, weights)
    cards = scoring.health_by_map(ids, weights=weights)
    assert {pk: card.health for pk, card in cards.items()} == reference(ids, weights)


@pytest.fixture
def world(owner):
    """Map A: two KPIs and two ratings; map B: one KPI and one rating; map C: nothing,
    so no row. Every row stored and current."""
    a, b, c = (JourneyMapFactory(owner=owner) for _ in range(3))
    k1 = KPIFactory(map=a, name="Conversion", perspective="business", baseline=50, target=80)
    k2 = KPIFactory(
        map=a, name="Wait", perspective="customer", direction="lower", baseline=10, target=0
    )
    k3 = KPIFactory(map=b, name="Revenue", perspective="business", baseline=0, target=10)
    MeasurementFactory(kpi=k1, date=D1, value=65)  # 50 %
    MeasurementFactory(kpi=k2, date=D1, value=8)  # 20 %
    MeasurementFactory(kpi=k3, date=D1, value=3)  # 30 %
    f1 = QualitativeFactorFactory(map=a, name="Trust", perspective="customer", rating=4)
    QualitativeFactorFactory(map=a, name="Effort", perspective="business", rating=2)
    QualitativeFactorFactory(map=b, name="Ease", perspective="customer", rating=5)
    settle()
    return {"a": a, "b": b, "c": c, "k1": k1, "k2": k2, "k3": k3, "f1": f1}


def changed(*maps: JourneyMap) -> None:
    """The write made exactly these maps' rows stale, and health follows it."""
    assert stale_ids() == {m.pk for m in maps}
    assert_exact()


class TestStoredRows:
    def test_the_stored_scores_give_the_same_health_as_the_full_computation(self, world):
        assert_exact()
        assert_exact(ODD)
        # hand-worked: A = mean(50, 20, business rating 2 → 25, customer 4 → 75)
        assert scoring.health_values([world["a"].pk], weights=EQUAL) == {world["a"].pk: 42.5}

    def test_a_read_of_current_rows_reads_no_kpi_or_rating(self, world, django_assert_num_queries):
        ids = all_ids()
        with django_assert_num_queries(1) as captured:
            result, store = scoring._read_health(ids, scoring._counting(EQUAL))
        assert store == []
        sql = captured.captured_queries[0]["sql"]
        assert "governance_maphealth" in sql
        assert result == reference(all_ids())

    def test_only_the_stale_maps_are_computed_again(self, world):
        MeasurementFactory(kpi=world["k3"], date=D2, value=9)
        _, store = scoring._read_health(all_ids(), scoring._counting(EQUAL))
        assert [row[-2] for row in store] == [world["b"].pk]  # (..., map id, generation)

    def test_a_map_without_a_row_is_computed_has_no_health_and_gets_no_row(self, owner):
        empty = JourneyMapFactory(owner=owner)
        assert not MapHealth.objects.filter(map=empty).exists()
        assert scoring.health_values([empty.pk], weights=EQUAL) == {empty.pk: None}
        assert scoring.health_values(JourneyMap.objects.values("pk"), weights=EQUAL) == {}
        assert scoring._read_health([empty.pk], scoring._counting(EQUAL))[1] == []

    def test_many_ids_sent_as_one_parameter_give_the_same_health(self, world, monkeypatch):
        monkeypatch.setattr(scoring, "MANY_IDS", 2)  # 3 ids: one JSON/array parameter
        assert_exact()

    def test_ids_of_maps_that_do_not_exist_have_no_health_and_store_nothing(self, world):
        missing = max(all_ids()) + 100
        result, store = scoring._read_health([missing], scoring._counting(EQUAL))
        assert (result, store) == ({missing: None}, [])


class TestEveryWriteMakesTheRowStale:
    def test_kpi_create(self, world):
        KPIFactory(map=world["c"], perspective="business", baseline=0, target=4)
        MeasurementFactory(kpi=KPI.objects.get(map=world["c"]), date=D1, value=1)
        changed(world["c"])

    @pytest.mark.parametrize(
        "field, value",
        [
            ("baseline", 40.0),
            ("target", 70.0),
            ("direction", "lower"),
            ("weight", 5.0),
            ("perspective", "customer"),
            ("name", "Zzz after Wait"),  # the order of the weighted sum
        ],
    )
    def test_kpi_save_of_any_field(self, world, field, value):
        kpi = world["k1"]
        setattr(kpi, field, value)
        kpi.save()
        changed(world["a"])

    def test_kpi_delete(self, world):
        world["k2"].delete()
        changed(world["a"])

    def test_kpi_bulk_create(self, world):
        KPI.objects.bulk_create(
            [
                KPI(map=world["b"], name="B2", perspective="customer", baseline=0, target=1),
                KPI(map=world["c"], name="C1", perspective="customer", baseline=0, target=1),
            ]
        )
        changed(world["b"], world["c"])

    def test_kpi_queryset_update(self, world):
        KPI.objects.filter(perspective="business").update(weight=2.5, target=100)
        changed(world["a"], world["b"])

    def test_kpi_moved_to_another_map(self, world):
        KPI.objects.filter(pk=world["k2"].pk).update(map=world["b"])
        changed(world["a"], world["b"])

    def test_raw_sql_writes_are_followed(self, world):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE maps_kpi SET target = 60 WHERE id = %s", [world["k1"].pk])
        changed(world["a"])

    @pytest.mark.parametrize(
        "write",
        [
            pytest.param(lambda w: MeasurementFactory(kpi=w["k1"], date=D2, value=80), id="create"),
            pytest.param(
                lambda w: Measurement.objects.bulk_create(
                    [Measurement(kpi=w["k1"], date=D2, value=71)]
                ),
                id="bulk_create",
            ),
            pytest.param(
                lambda w: Measurement.objects.filter(kpi=w["k1"]).update(value=77),
                id="queryset_update",
            ),
            pytest.param(
                lambda w: [
                    setattr(m, "value", 56) or m.save()
                    for m in Measurement.objects.filter(kpi=w["k1"])
                ],
                id="save",
            ),
            pytest.param(lambda w: Measurement.objects.get(kpi=w["k1"]).delete(), id="delete"),
            pytest.param(
                lambda w: Measurement.objects.filter(kpi=w["k1"]).delete(), id="queryset_delete"
            ),
        ],
    )
    def test_measurement_writes(self, world, write):
        write(world)
        changed(world["a"])

    def test_a_measurement_moved_to_another_kpi_of_another_map(self, world):
        Measurement.objects.filter(kpi=world["k3"]).update(kpi=world["k1"], date=D3)
        changed(world["a"], world["b"])

    def test_factor_create(self, world):
        QualitativeFactorFactory(map=world["c"], perspective="business", rating=3)
        changed(world["c"])

    def test_factor_rated_through_the_service(self, world, owner):
        factor = world["f1"]
        scoring.factor_rate(
            factor=factor,
            rating=1,
            note="worse",
            by=owner,
            expected_version=JourneyMap.objects.get(pk=factor.map_id).version,
        )
        changed(world["a"])

    def test_factor_delete(self, world):
        world["f1"].delete()
        changed(world["a"])

    def test_factor_queryset_update(self, world):
        QualitativeFactor.objects.filter(perspective="customer").update(rating=1)
        changed(world["a"], world["b"])

    def test_factor_moved_to_another_map(self, world):
        QualitativeFactor.objects.filter(pk=world["f1"].pk).update(map=world["b"])
        changed(world["a"], world["b"])

    def test_factor_moved_to_a_map_without_a_row(self, world):
        # C has no row to bump: it is computed on every read
        QualitativeFactor.objects.filter(pk=world["f1"].pk).update(map=world["c"])
        changed(world["a"])
        assert not MapHealth.objects.filter(map=world["c"]).exists()

    def test_map_delete_takes_its_row_and_leaves_the_others_current(self, world):
        gone = world["a"].pk
        world["a"].delete()
        assert not MapHealth.objects.filter(map_id=gone).exists()
        changed()

    def test_queryset_delete_of_maps_with_content(self, world):
        KPIFactory(map=world["c"], perspective="business", baseline=0, target=4)  # a row
        settle()
        JourneyMap.objects.filter(pk__in=[world["a"].pk, world["b"].pk]).delete()
        assert list(MapHealth.objects.values_list("map_id", flat=True)) == [world["c"].pk]
        changed()

    def test_a_weights_change_needs_no_recomputation(self, world, leader):
        weights = scoring.current_weights()
        scoring.scorecard_weights_update(by=leader, expected_version=weights.version, values=ODD)
        changed()
        current = scoring.current_weights()
        ids = all_ids()
        assert scoring.health_values(ids) == reference(ids, current.as_dict())
        _, store = scoring._read_health(ids, scoring._counting(current.as_dict()))
        assert store == []


class TestRaces:
    def test_a_row_bumped_while_it_was_computed_is_not_stored_as_current(self, world):
        MeasurementFactory(kpi=world["k1"], date=D2, value=70)  # stale at generation g
        result, store = scoring._read_health(all_ids(), scoring._counting(EQUAL))
        MeasurementFactory(kpi=world["k1"], date=D3, value=79)  # g + 1 before the store
        with connection.cursor() as cursor:
            cursor.executemany(scoring._STORE_SQL, store)
        assert not is_current(world["a"].pk)
        assert result != reference(all_ids())  # what that read computed is out of date now
        assert_exact()  # the next read computes it again

    def test_a_map_without_a_row_gets_one_with_its_first_kpi_never_computed(self, owner):
        journey = JourneyMapFactory(owner=owner)
        _, store = scoring._read_health([journey.pk], scoring._counting(EQUAL))
        assert store == []  # nothing to store into: the read cannot race the first KPI
        kpi = KPIFactory(map=journey, perspective="business", baseline=0, target=10)
        MeasurementFactory(kpi=kpi, date=D1, value=5)
        assert stale_ids() == {journey.pk}
        assert scoring.health_values([journey.pk], weights=EQUAL) == {journey.pk: 50.0}

    def test_a_read_inside_a_transaction_writes_nothing(self, world):
        MeasurementFactory(kpi=world["k1"], date=D2, value=70)
        generation = MapHealth.objects.get(map=world["a"]).generation
        assert_exact()
        row = MapHealth.objects.get(map=world["a"])
        assert (row.generation, row.computed_generation) != (generation, generation)


@pytest.mark.django_db(transaction=True)
class TestWriteBackOutsideATransaction:
    def test_a_read_stores_what_it_computed_and_the_next_read_uses_it(self, owner):
        journey = JourneyMapFactory(owner=owner)
        kpi = KPIFactory(map=journey, perspective="business", baseline=0, target=10)
        MeasurementFactory(kpi=kpi, date=D1, value=4)
        QualitativeFactorFactory(map=journey, perspective="customer", rating=3)
        histories = [
            model.objects.count()
            for model in apps.get_models()
            if model.__name__.startswith("Historical")
        ]
        first = scoring.health_values([journey.pk], weights=EQUAL)
        assert first == reference([journey.pk]) == {journey.pk: 45.0}
        assert is_current(journey.pk)
        stored = MapHealth.objects.get(map=journey)
        assert (stored.quantitative_business, stored.qualitative_customer) == (40.0, 50.0)
        assert stored.has_content
        _, store = scoring._read_health([journey.pk], scoring._counting(EQUAL))
        assert store == []
        assert scoring.health_values([journey.pk], weights=EQUAL) == first
        # derived data: no history rows, and MapHealth has no history at all
        assert [
            model.objects.count()
            for model in apps.get_models()
            if model.__name__.startswith("Historical")
        ] == histories
        assert not hasattr(MapHealth, "history")
        # and a later edit is followed
        MeasurementFactory(kpi=kpi, date=D2, value=10)
        assert not is_current(journey.pk)
        assert scoring.health_values([journey.pk], weights=EQUAL) == {journey.pk: 75.0}
        assert is_current(journey.pk)

    def test_a_locked_row_is_skipped_and_the_read_still_answers(self, owner):
        journey = JourneyMapFactory(owner=owner)
        kpi = KPIFactory(map=journey, perspective="business", baseline=0, target=10)
        MeasurementFactory(kpi=kpi, date=D1, value=4)
        other = connection.copy()
        try:
            # another connection holds the write lock: of the database on SQLite, of the
            # map's row on PostgreSQL (reads go on)
            other.ensure_connection()
            if connection.vendor == "sqlite":
                other.connection.execute("BEGIN IMMEDIATE")
            else:
                other.set_autocommit(False)
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT 1 FROM governance_maphealth WHERE map_id = %s FOR UPDATE",
                        [journey.pk],
                    )
            assert scoring.health_values([journey.pk], weights=EQUAL) == {journey.pk: 40.0}
            if connection.vendor == "sqlite":
                other.connection.execute("ROLLBACK")
            else:
                other.rollback()
        finally:
            other.close()
        assert not is_current(journey.pk)  # the write-back was skipped
        assert scoring.health_values([journey.pk], weights=EQUAL) == {journey.pk: 40.0}
        assert is_current(journey.pk)


def test_the_triggers_exist_after_every_migration():
    # maps.derived installs them (governance.derived_health) after every migrate,
    # whatever it rebuilt (tests/test_derived_triggers.py runs such migrations)
    names = trigger_names()
    expected = (
        {
            f"{table}_health_on_{op}"
            for table in ("maps_kpi", "maps_qualitativefactor")
            for op in ("insert", "update", "delete")
        }
        if connection.vendor == "sqlite"
        else {"maps_kpi_health", "maps_qualitativefactor_health"}
    )
    assert expected <= names


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite rebuilds tables to alter")
def test_a_migration_altering_journey_maps_still_works_on_sqlite():
    # SQLite rebuilds the table (create new__X, drop X, rename), and the rename fails
    # while another table's trigger names X: the health triggers name no map table
    field = JourneyMap._meta.get_field("title")
    nullable = field.clone()
    nullable.set_attributes_from_name("title")
    nullable.model = JourneyMap
    nullable.null = True
    with connection.schema_editor() as editor:
        editor.alter_field(JourneyMap, field, nullable)
    with connection.schema_editor() as editor:
        editor.alter_field(JourneyMap, nullable, field)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%health%'"
        )
        assert not any("maps_journeymap" in (sql or "") for (sql,) in cursor.fetchall())

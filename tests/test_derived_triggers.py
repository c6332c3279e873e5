"""The life cycle of the derived-data triggers (maps.derived): none while migrations run,
all of them, as declared, after every ``migrate``, and the data they keep rebuilt from the
source tables whenever they were gone, so a migration that rebuilds a source table on
SQLite succeeds and leaves the derived data exact.

Each data check compares the stored values with the slow computation the derived-data
test files use (KPI latest values, pain point counts, health). The file runs on SQLite
here and on PostgreSQL under ``make test-postgres``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils.module_loading import import_string

from governance import checks, scoring
from governance.models import MapHealth
from maps import derived
from maps.apps import _after_migrate, _before_migrate
from maps.models import KPI, CXProject, JourneyMap, Measurement, PainPoint, QualitativeFactor
from tests.builders import trigger_names
from tests.factories import (
    CXProjectFactory,
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    PainPointFactory,
    QualitativeFactorFactory,
)
from tests.test_kpi_latest_value import assert_exact as assert_latest_values_exact
from tests.test_map_health_stored import EQUAL, reference, settle
from tests.test_pain_point_counts import assert_exact as assert_counts_exact

D1, D2, D3 = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)
SQLITE = connection.vendor == "sqlite"


def assert_health_exact() -> None:
    ids = list(JourneyMap.objects.order_by("pk").values_list("pk", flat=True))
    assert scoring.health_values(ids, weights=EQUAL) == reference(ids, EQUAL)


def assert_all_exact() -> None:
    assert_latest_values_exact()
    assert_counts_exact()
    assert_health_exact()


def current_health_rows() -> set[int]:
    rows = MapHealth.objects.values_list("map_id", "generation", "computed_generation")
    return {pk for pk, generation, computed in rows if computed == generation}


@pytest.fixture
def world(owner, other_owner):
    """Two maps with KPIs and measurements, pain points (some addressed) and ratings."""
    a, b = JourneyMapFactory(owner=owner), JourneyMapFactory(owner=other_owner)
    k1 = KPIFactory(map=a, name="Conversion", baseline=50, target=80)
    k2 = KPIFactory(map=b, name="Revenue", baseline=0, target=10)
    MeasurementFactory(kpi=k1, date=D1, value=65)
    MeasurementFactory(kpi=k1, date=D2, value=70)
    MeasurementFactory(kpi=k2, date=D1, value=3)
    pains = [PainPointFactory(map=a) for _ in range(3)] + [PainPointFactory(map=b)]
    project = CXProjectFactory(owner=owner)
    project.pain_points.add(pains[0], pains[3])
    QualitativeFactorFactory(map=a, name="Trust", rating=4)
    return {"a": a, "b": b, "k1": k1, "k2": k2, "pains": pains, "project": project}


def write_everything_without_triggers(world) -> None:
    """Writes of every kind that changes derived data, as a data migration makes them."""
    k1, k2, pains = world["k1"], world["k2"], world["pains"]
    Measurement.objects.create(kpi=k1, date=D3, value=79)  # a newer latest value
    Measurement.objects.filter(kpi=k2).delete()  # no latest value any more
    KPI.objects.filter(pk=k2.pk).update(baseline=1)
    PainPoint.objects.filter(pk=pains[1].pk).update(map=world["b"])  # moved
    pains[2].delete()
    CXProject.pain_points.through.objects.create(
        cxproject_id=world["project"].pk, painpoint_id=pains[1].pk
    )
    QualitativeFactor.objects.create(map=world["b"], name="Ease", rating=2)


class TestTheTriggersAfterMigrate:
    pytestmark = pytest.mark.django_db

    def test_every_declared_trigger_is_installed_as_declared(self):
        assert derived.differences() == []
        installed = derived.installed_triggers()
        assert installed == derived.expected_triggers()
        assert installed.keys() <= trigger_names()
        # every group is present in a migrated database, each with its triggers
        assert [g.name for g in derived.groups()] == [
            "kpi_latest",
            "pain_point_counts",
            "map_health",
        ]
        for group in derived.groups():
            declared = group.sqlite_triggers if SQLITE else group.postgres_triggers
            assert declared and declared.keys() <= installed.keys()

    def test_a_migrate_with_work_drops_them_and_the_next_post_migrate_rebuilds(self, world):
        _before_migrate(sender=None, using="default", plan=[("a migration", False)])
        assert derived.installed_triggers() == {}
        write_everything_without_triggers(world)
        with pytest.raises(AssertionError):
            assert_latest_values_exact()  # nothing followed the writes
        _after_migrate(sender=None, using="default")
        assert derived.differences() == []
        assert_all_exact()

    def test_a_migrate_with_nothing_to_do_leaves_them_alone(self, world, monkeypatch):
        rebuilt = []
        monkeypatch.setattr(derived, "rebuild", lambda using="default": rebuilt.append(using))
        _before_migrate(sender=None, using="default", plan=[])
        _after_migrate(sender=None, using="default")
        assert rebuilt == []
        assert derived.differences() == []

    def test_a_trigger_dropped_by_hand_makes_the_next_post_migrate_rebuild(self, world):
        with connection.cursor() as cursor:
            if SQLITE:
                cursor.execute("DROP TRIGGER maps_measurement_latest_on_insert")
            else:
                cursor.execute("DROP TRIGGER maps_measurement_latest ON maps_measurement")
        Measurement.objects.create(kpi=world["k2"], date=D3, value=9)
        assert derived.differences() == [
            "missing: "
            + ("maps_measurement_latest_on_insert" if SQLITE else "maps_measurement_latest")
        ]
        _after_migrate(sender=None, using="default")
        assert derived.differences() == []
        assert_all_exact()

    def test_a_trigger_of_another_definition_is_out_of_date(self, world):
        name = "maps_kpi_health_on_delete" if SQLITE else "maps_kpi_health"
        with connection.cursor() as cursor:
            if SQLITE:
                cursor.execute(f"DROP TRIGGER {name}")
                cursor.execute(
                    f"CREATE TRIGGER {name} AFTER DELETE ON maps_kpi BEGIN SELECT 1; END"
                )
            else:
                cursor.execute(f"COMMENT ON TRIGGER {name} ON maps_kpi IS 'an older version'")
        assert derived.differences() == [f"out of date: {name}"]
        _after_migrate(sender=None, using="default")
        assert derived.differences() == []

    def test_the_triggers_of_governance_0012_are_dropped_wherever_they_remain(self, world):
        # 0012 first installed a trigger on maps_journeymap: on SQLite it fails every
        # rebuild of that table
        with connection.cursor() as cursor:
            if SQLITE:
                cursor.execute(
                    "CREATE TRIGGER maps_journeymap_health_on_delete AFTER DELETE ON "
                    "maps_journeymap BEGIN "
                    "DELETE FROM governance_maphealth WHERE map_id = OLD.id; END"
                )
                retired = "maps_journeymap_health_on_delete"
            else:
                cursor.execute(
                    "CREATE FUNCTION governance_maphealth_forget() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN "
                    "DELETE FROM governance_maphealth WHERE map_id = OLD.id; RETURN NULL; "
                    "END $$"
                )
                cursor.execute(
                    "CREATE TRIGGER maps_journeymap_health AFTER DELETE ON maps_journeymap "
                    "FOR EACH ROW EXECUTE FUNCTION governance_maphealth_forget()"
                )
                retired = "maps_journeymap_health"
        assert derived.differences() == [f"not expected: {retired}"]
        _after_migrate(sender=None, using="default")
        assert retired not in trigger_names()
        assert derived.differences() == []


class TestTheRebuild:
    pytestmark = pytest.mark.django_db

    def test_it_gives_the_same_data_the_triggers_kept(self, world):
        latest = list(KPI.objects.order_by("pk").values_list("latest_value", "latest_date"))
        derived.rebuild()
        assert list(KPI.objects.order_by("pk").values_list("latest_value", "latest_date")) == (
            latest
        )
        assert_all_exact()

    def test_it_corrects_values_written_by_hand_and_keeps_rows_read_as_zero(self, world):
        derived.drop_triggers()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE maps_kpi SET latest_value = 1, latest_date = NULL")
            cursor.execute("UPDATE maps_mappainpointcounts SET total = 99, addressed = 42")
        JourneyMapFactory(owner=world["a"].owner)  # no row of counts, no pain point
        PainPoint.objects.filter(map=world["b"]).delete()  # its row stays, read as zero
        derived.rebuild()
        assert_all_exact()
        assert world["b"].pain_point_counts.total == 0

    def test_every_map_gets_a_health_row_and_none_counts_as_computed(self, world):
        settle()  # every row stored and current
        assert current_health_rows() == {world["a"].pk, world["b"].pk}
        bare = JourneyMapFactory(owner=world["a"].owner)
        MapHealth.objects.filter(map=bare).delete()
        derived.rebuild()
        assert set(MapHealth.objects.values_list("map_id", flat=True)) == set(
            JourneyMap.objects.values_list("pk", flat=True)
        )
        assert current_health_rows() == set()
        assert_health_exact()

    def test_the_command_rebuilds_and_reports_each_group(self, world, capsys):
        derived.drop_triggers()
        write_everything_without_triggers(world)
        call_command("rebuild_derived_data")
        out = capsys.readouterr().out
        assert "kpi_latest: rebuilt" in out and "map_health: rebuilt" in out
        assert derived.differences() == []
        assert_all_exact()

    def test_the_command_checks_without_changing_anything(self, world, capsys):
        call_command("rebuild_derived_data", "--check")
        assert "all installed as declared" in capsys.readouterr().out
        derived.drop_triggers()
        with pytest.raises(CommandError, match="missing: maps_kpi_"):
            call_command("rebuild_derived_data", "--check")
        assert derived.installed_triggers() == {}


class TestTheSystemCheck:
    pytestmark = pytest.mark.django_db

    def test_it_says_nothing_while_every_trigger_is_installed(self):
        assert checks.derived_data_triggers_installed(databases=["default"]) == []

    def test_it_warns_naming_each_missing_trigger(self):
        derived.drop_triggers()
        (warning,) = checks.derived_data_triggers_installed(databases=["default"])
        assert warning.id == "governance.W002"
        expected = derived.expected_triggers()
        assert all(f"missing: {name}" in warning.msg for name in expected)
        assert "rebuild_derived_data" in warning.hint

    def test_it_runs_only_when_databases_are_checked(self):
        derived.drop_triggers()
        assert checks.derived_data_triggers_installed(databases=None) == []


# --- a real migrate run: test-only migrations that rebuild the source tables -------------


def _toggled_null(model, name: str):
    """The field ``name`` of ``model`` with ``null`` flipped: on SQLite an AlterField to
    it rebuilds the table (copy, drop, rename); on PostgreSQL an ALTER COLUMN."""
    _, path, args, kwargs = model._meta.get_field(name).deconstruct()
    kwargs["null"] = not kwargs.get("null", False)
    return import_string(path)(*args, **kwargs)


def _data_migration(ids: dict[str, int]):
    def forwards(apps, schema_editor) -> None:
        """Writes of every kind that changes derived data, through historical models,
        while no derived-data trigger exists."""
        Measurement = apps.get_model("maps", "Measurement")
        Measurement.objects.create(kpi_id=ids["k1"], date=D3, value=79)
        Measurement.objects.filter(kpi_id=ids["k2"]).delete()
        HistoricalPainPoint = apps.get_model("maps", "PainPoint")
        added = HistoricalPainPoint.objects.create(map_id=ids["b"], title="Found late")
        HistoricalPainPoint.objects.filter(pk=ids["moved"]).update(map_id=ids["b"])
        Links = apps.get_model("maps", "CXProject").pain_points.through
        Links.objects.create(cxproject_id=ids["project"], painpoint_id=added.pk)
        apps.get_model("maps", "QualitativeFactor").objects.create(
            map_id=ids["b"], name="Ease", rating=2
        )

    return forwards


@pytest.fixture
def test_migrations(world, monkeypatch) -> Iterator[dict[str, tuple[str, str]]]:
    """Two migrations added to the graph after every app's last one: maps' rebuilds
    maps_kpi, maps_measurement, maps_painpoint and maps_qualitativefactor, then writes
    data; governance's rebuilds governance_maphealth. Yields the targets; unapplies them
    afterwards."""
    ids = {
        "a": world["a"].pk,
        "b": world["b"].pk,
        "k1": world["k1"].pk,
        "k2": world["k2"].pk,
        "moved": world["pains"][1].pk,
        "project": world["project"].pk,
    }
    maps_ops = [
        migrations.AlterField("kpi", "name", _toggled_null(KPI, "name")),
        migrations.AlterField("measurement", "value", _toggled_null(Measurement, "value")),
        migrations.AlterField("painpoint", "title", _toggled_null(PainPoint, "title")),
        migrations.AlterField(
            "qualitativefactor", "name", _toggled_null(QualitativeFactor, "name")
        ),
        migrations.RunPython(_data_migration(ids), migrations.RunPython.noop),
    ]
    governance_ops = [
        migrations.AlterField("maphealth", "has_content", _toggled_null(MapHealth, "has_content")),
    ]
    original = MigrationLoader.build_graph
    leaves: dict[str, tuple[str, str]] = {}

    def build_graph(self) -> None:
        original(self)
        (maps_leaf,) = self.graph.leaf_nodes("maps")
        (governance_leaf,) = self.graph.leaf_nodes("governance")
        leaves.update(maps=maps_leaf, governance=governance_leaf)
        for app, name, operations, dependencies in (
            ("maps", "9999_test_rebuild_sources", maps_ops, [maps_leaf]),
            (
                "governance",
                "9999_test_rebuild_health",
                governance_ops,
                [governance_leaf, ("maps", "9999_test_rebuild_sources")],
            ),
        ):
            migration = type(
                "Migration",
                (migrations.Migration,),
                {"operations": operations, "dependencies": dependencies},
            )(name, app)
            self.disk_migrations[app, name] = migration
            self.graph.add_node((app, name), migration)
            for parent in dependencies:
                self.graph.add_dependency(migration, (app, name), parent)

    monkeypatch.setattr(MigrationLoader, "build_graph", build_graph)
    MigrationLoader(connection)  # find the leaves
    try:
        yield leaves
    finally:
        call_command("migrate", "maps", leaves["maps"][1], verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_migrate_that_rebuilds_the_source_tables_succeeds_and_keeps_derived_data_exact(
    world, test_migrations
):
    # with the triggers in place SQLite refuses to rebuild maps_kpi and maps_painpoint
    # (other tables' triggers name them) and drops the triggers of the others
    assert_health_exact()  # outside a transaction: stores every map's health
    assert current_health_rows()
    call_command("migrate", "governance", "9999_test_rebuild_health", verbosity=0)
    assert derived.differences() == []
    assert_all_exact()
    # and the triggers work: a write after the migrate run is followed
    Measurement.objects.create(kpi=world["k2"], date=D3, value=9)
    PainPointFactory(map=world["a"])
    assert_all_exact()
    # migrating back rebuilds the tables again
    call_command("migrate", "maps", test_migrations["maps"][1], verbosity=0)
    assert derived.differences() == []
    assert_all_exact()


@pytest.mark.django_db(transaction=True)
def test_a_migrate_with_nothing_to_do_rebuilds_nothing(world, monkeypatch):
    rebuilt = []
    monkeypatch.setattr(derived, "rebuild", lambda using="default": rebuilt.append(using))
    call_command("migrate", verbosity=0)
    assert rebuilt == []
    assert derived.differences() == []


@pytest.mark.django_db(transaction=True)
def test_back_before_the_derived_tables_and_forward_again_rebuilds_the_same_data(world):
    # The executor alone (no migrate command, no pre_migrate): the reverse of maps 0025,
    # 0026 and governance 0012 drop their triggers before removing what they name.
    latest = list(KPI.objects.order_by("pk").values_list("pk", "latest_value", "latest_date"))
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("maps", "0024_owner_status_due_index")])
        assert derived.groups() == []
        assert derived.installed_triggers() == {}
        _after_migrate(sender=None, using="default")  # nothing to install, nothing fails
        assert derived.installed_triggers() == {}
    finally:
        executor.loader.build_graph()
        executor.migrate(leaves)
        emit_post_migrate_signal(0, False, connection.alias)
    assert derived.differences() == []
    assert list(KPI.objects.order_by("pk").values_list("pk", "latest_value", "latest_date")) == (
        latest
    )
    assert_all_exact()

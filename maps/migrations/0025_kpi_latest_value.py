"""KPI.latest_value / latest_date: each KPI's latest measurement (date desc, then pk
desc), kept by database triggers so health reads one row per KPI instead of a subquery
per KPI (issue #16).

The triggers, on SQLite and PostgreSQL alike:

* any INSERT, UPDATE (including a measurement moved to another KPI) or DELETE on
  maps_measurement makes the KPIs it touches recompute their latest measurement;
* any write of the two columns on maps_kpi (a KPI inserted or saved by Django with a
  stale in-memory value, queryset.update(), bulk_update) is replaced by the recomputed
  value, so nothing but the measurements decides it.

The measurement triggers only "touch" the KPI row (set latest_value); the KPI trigger
does the one recomputation. Beware: on SQLite a migration that rebuilds maps_kpi or
maps_measurement (most AlterField/RemoveField) drops their triggers; recreate them after
it (tests/test_kpi_latest_value.py checks they exist).
"""

from django.db import migrations, models

# The latest measurement of the KPI row ``{kpi}`` (an index search on (kpi, date)).
_LATEST = (
    "SELECT m.value, m.date FROM maps_measurement m WHERE m.kpi_id = {kpi} "
    "ORDER BY m.date DESC, m.id DESC LIMIT 1"
)

# SQLite leaves recursive_triggers off: the KPI trigger's own UPDATE does not fire it again.
SQLITE_CREATE = [
    f"""
    CREATE TRIGGER maps_kpi_latest_on_update
    AFTER UPDATE OF id, latest_value, latest_date ON maps_kpi
    BEGIN
        UPDATE maps_kpi SET (latest_value, latest_date) = ({_LATEST.format(kpi="NEW.id")})
        WHERE id = NEW.id;
    END
    """,
    # A new KPI has no measurements unless foreign keys were deferred (loaddata) or it
    # was written with values: only then is there anything to compute.
    f"""
    CREATE TRIGGER maps_kpi_latest_on_insert
    AFTER INSERT ON maps_kpi
    WHEN NEW.latest_value IS NOT NULL OR NEW.latest_date IS NOT NULL
        OR EXISTS (SELECT 1 FROM maps_measurement WHERE kpi_id = NEW.id)
    BEGIN
        UPDATE maps_kpi SET (latest_value, latest_date) = ({_LATEST.format(kpi="NEW.id")})
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER maps_measurement_latest_on_insert
    AFTER INSERT ON maps_measurement
    BEGIN
        UPDATE maps_kpi SET latest_value = latest_value WHERE id = NEW.kpi_id;
    END
    """,
    """
    CREATE TRIGGER maps_measurement_latest_on_update
    AFTER UPDATE OF id, kpi_id, date, value ON maps_measurement
    BEGIN
        UPDATE maps_kpi SET latest_value = latest_value WHERE id IN (OLD.kpi_id, NEW.kpi_id);
    END
    """,
    """
    CREATE TRIGGER maps_measurement_latest_on_delete
    AFTER DELETE ON maps_measurement
    BEGIN
        UPDATE maps_kpi SET latest_value = latest_value WHERE id = OLD.kpi_id;
    END
    """,
    # the backfill: every KPI recomputes through its trigger
    "UPDATE maps_kpi SET latest_value = latest_value",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS maps_measurement_latest_on_delete",
    "DROP TRIGGER IF EXISTS maps_measurement_latest_on_update",
    "DROP TRIGGER IF EXISTS maps_measurement_latest_on_insert",
    "DROP TRIGGER IF EXISTS maps_kpi_latest_on_insert",
    "DROP TRIGGER IF EXISTS maps_kpi_latest_on_update",
]

POSTGRES_CREATE = [
    # SELECT INTO sets both to NULL when the KPI has no measurement
    """
    CREATE FUNCTION maps_kpi_latest_compute() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT m.value, m.date INTO NEW.latest_value, NEW.latest_date
        FROM maps_measurement m WHERE m.kpi_id = NEW.id
        ORDER BY m.date DESC, m.id DESC LIMIT 1;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER maps_kpi_latest
    BEFORE INSERT OR UPDATE OF id, latest_value, latest_date ON maps_kpi
    FOR EACH ROW EXECUTE FUNCTION maps_kpi_latest_compute()
    """,
    # setting latest_value fires maps_kpi_latest, which computes the real value
    """
    CREATE FUNCTION maps_measurement_latest_touch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE maps_kpi SET latest_value = NULL WHERE id = OLD.kpi_id;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.kpi_id <> OLD.kpi_id) THEN
            UPDATE maps_kpi SET latest_value = NULL WHERE id = NEW.kpi_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER maps_measurement_latest
    AFTER INSERT OR DELETE OR UPDATE OF id, kpi_id, date, value ON maps_measurement
    FOR EACH ROW EXECUTE FUNCTION maps_measurement_latest_touch()
    """,
    "UPDATE maps_kpi SET latest_value = NULL",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS maps_measurement_latest ON maps_measurement",
    "DROP FUNCTION IF EXISTS maps_measurement_latest_touch()",
    "DROP TRIGGER IF EXISTS maps_kpi_latest ON maps_kpi",
    "DROP FUNCTION IF EXISTS maps_kpi_latest_compute()",
]

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRES_CREATE, POSTGRES_DROP),
}


def _run(schema_editor, index: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(
            f"KPI latest-value triggers are written for SQLite and PostgreSQL, not {vendor}"
        )
    for sql in STATEMENTS[vendor][index]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("maps", "0024_owner_status_due_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="kpi",
            name="latest_date",
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="kpi",
            name="latest_value",
            field=models.FloatField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

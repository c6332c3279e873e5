"""KPI.latest_value / latest_date: each KPI's latest measurement (date desc, then pk
desc), kept by database triggers so health reads one row per KPI instead of a subquery
per KPI (issue #16).

The triggers and the backfill are not this migration's: ``maps.derived.kpi_latest``
declares them and ``maps.derived`` installs them after every ``migrate`` (rebuilding the
values from the measurements), and drops them before one with work to do, because a
SQLite table rebuild by a later migration would drop them or fail on them. (This
migration first created them itself; the end state is the same.)
"""

from django.db import migrations, models

# Only backwards: a run of the migration executor without the migrate command (which
# drops every derived-data trigger first, maps.derived) must not leave triggers naming
# what the reverse of this migration removes. Forwards the triggers are installed after
# the run, never here.
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS maps_measurement_latest_on_delete",
        "DROP TRIGGER IF EXISTS maps_measurement_latest_on_update",
        "DROP TRIGGER IF EXISTS maps_measurement_latest_on_insert",
        "DROP TRIGGER IF EXISTS maps_kpi_latest_on_insert",
        "DROP TRIGGER IF EXISTS maps_kpi_latest_on_update",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS maps_measurement_latest ON maps_measurement",
        "DROP FUNCTION IF EXISTS maps_measurement_latest_touch()",
        "DROP TRIGGER IF EXISTS maps_kpi_latest ON maps_kpi",
        "DROP FUNCTION IF EXISTS maps_kpi_latest_compute()",
    ],
}


def drop_triggers(apps, schema_editor) -> None:
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


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
        migrations.RunPython(migrations.RunPython.noop, drop_triggers),
    ]

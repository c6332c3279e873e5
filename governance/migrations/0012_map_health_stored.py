"""governance.MapHealth: each map's four quadrant scores stored, with a generation
counter that database triggers bump on every write of the map's KPIs and qualitative
factors, so a stored score is used only while nothing it depends on has changed
(issue #16; ``governance.scoring.health_values`` reads and refreshes the rows).

The triggers are not this migration's: ``governance.derived_health`` declares them and
``maps.derived`` installs them after every ``migrate`` and drops them before one with
work to do (a SQLite table rebuild by a later migration would drop them or fail on
them). This migration first created a version of them that named maps_journeymap;
``maps.derived`` drops those wherever they remain.
"""

import django.db.models.deletion
from django.db import migrations, models

# Only backwards: a run of the migration executor without the migrate command (which
# drops every derived-data trigger first, maps.derived) must not leave triggers naming
# what the reverse of this migration removes. Forwards the triggers are installed after
# the run, never here.
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS maps_journeymap_health_on_delete",
        "DROP TRIGGER IF EXISTS maps_kpi_health_on_insert",
        "DROP TRIGGER IF EXISTS maps_kpi_health_on_update",
        "DROP TRIGGER IF EXISTS maps_kpi_health_on_delete",
        "DROP TRIGGER IF EXISTS maps_qualitativefactor_health_on_insert",
        "DROP TRIGGER IF EXISTS maps_qualitativefactor_health_on_update",
        "DROP TRIGGER IF EXISTS maps_qualitativefactor_health_on_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS maps_journeymap_health ON maps_journeymap",
        "DROP FUNCTION IF EXISTS governance_maphealth_forget()",
        "DROP TRIGGER IF EXISTS maps_kpi_health ON maps_kpi",
        "DROP TRIGGER IF EXISTS maps_qualitativefactor_health ON maps_qualitativefactor",
        "DROP FUNCTION IF EXISTS governance_maphealth_bump()",
    ],
}


def drop_triggers(apps, schema_editor) -> None:
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0011_comments"),
        ("maps", "0025_kpi_latest_value"),
    ]

    operations = [
        migrations.CreateModel(
            name="MapHealth",
            fields=[
                (
                    "map",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="maps.journeymap",
                    ),
                ),
                ("quantitative_business", models.FloatField(editable=False, null=True)),
                ("quantitative_customer", models.FloatField(editable=False, null=True)),
                ("qualitative_business", models.FloatField(editable=False, null=True)),
                ("qualitative_customer", models.FloatField(editable=False, null=True)),
                ("has_content", models.BooleanField(default=False, editable=False)),
                ("generation", models.BigIntegerField(default=0, editable=False)),
                ("computed_generation", models.BigIntegerField(editable=False, null=True)),
            ],
            options={
                "verbose_name": "stored map health",
                "verbose_name_plural": "stored map health",
            },
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_triggers),
    ]

"""MapPainPointCounts: each map's pain points and how many of them a CX project addresses,
kept by database triggers so the home page sums one row per map instead of counting every
pain point and looking up every link (issue #16).

The triggers and the backfill are not this migration's: ``maps.derived.pain_point_counts``
declares them and ``maps.derived`` installs them after every ``migrate`` (counting the
rows from the pain points and links), and drops them before one with work to do, because
a SQLite table rebuild by a later migration would drop them or fail on them. (This
migration first created them itself; the end state is the same.)
"""

import django.db.models.deletion
from django.db import migrations, models

# Only backwards: a run of the migration executor without the migrate command (which
# drops every derived-data trigger first, maps.derived) must not leave triggers naming
# what the reverse of this migration removes. Forwards the triggers are installed after
# the run, never here.
DROP = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS maps_painpoint_link_counts_on_update",
        "DROP TRIGGER IF EXISTS maps_painpoint_link_counts_on_delete",
        "DROP TRIGGER IF EXISTS maps_painpoint_link_counts_on_insert",
        "DROP TRIGGER IF EXISTS maps_painpoint_counts_on_move",
        "DROP TRIGGER IF EXISTS maps_painpoint_counts_on_delete",
        "DROP TRIGGER IF EXISTS maps_painpoint_counts_on_insert",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS maps_painpoint_link_counts ON maps_cxproject_pain_points",
        "DROP FUNCTION IF EXISTS maps_painpoint_link_counts()",
        "DROP TRIGGER IF EXISTS maps_painpoint_counts ON maps_painpoint",
        "DROP FUNCTION IF EXISTS maps_painpoint_counts()",
        "DROP FUNCTION IF EXISTS maps_painpoint_counts_recount(bigint)",
    ],
}


def drop_triggers(apps, schema_editor) -> None:
    for sql in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("maps", "0025_kpi_latest_value"),
    ]

    operations = [
        migrations.CreateModel(
            name="MapPainPointCounts",
            fields=[
                (
                    "map",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pain_point_counts",
                        serialize=False,
                        to="maps.journeymap",
                    ),
                ),
                ("total", models.IntegerField(default=0, editable=False)),
                ("addressed", models.IntegerField(default=0, editable=False)),
            ],
            options={
                "verbose_name": "map pain point counts",
                "verbose_name_plural": "map pain point counts",
            },
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_triggers),
    ]

"""governance.MapHealth: each map's four quadrant scores stored, with a generation
counter that database triggers bump on every write of the map's KPIs and qualitative
factors, so a stored score is used only while nothing it depends on has changed
(issue #16; ``governance.scoring.health_values`` reads and refreshes the rows).

The triggers, on SQLite and PostgreSQL alike:

* any INSERT, UPDATE or DELETE on maps_kpi or maps_qualitativefactor adds 1 to the
  generation of the map it touches (both maps when a row moves to another map),
  inserting the row when missing (``INSERT ... ON CONFLICT DO UPDATE``), so a reader
  that computed a missing row before the write cannot store it as current afterwards;
  measurement writes reach maps_kpi through 0025's latest-value triggers;
* a row is only inserted for a map that still exists, and deleting a map deletes its
  row: Django's cascade deletes the KPIs (which bump the row again) before the map.

No backfill: a missing row is computed on its first read (all 10,000 maps of the full
benchmark in one read, about the cost of a read before this table) and written back.
Beware: on SQLite a migration that rebuilds maps_kpi, maps_qualitativefactor or
maps_journeymap drops these triggers; recreate them after it
(tests/test_map_health_stored.py checks they exist).
"""

import django.db.models.deletion
from django.db import migrations, models

# Bump the generation of map ``{map}``, inserting its row (never computed) if missing.
_BUMP = (
    "INSERT INTO governance_maphealth (map_id, generation, has_content) "
    "SELECT {map}, 1, {false} "
    "WHERE EXISTS (SELECT 1 FROM maps_journeymap WHERE id = {map}){extra} "
    "ON CONFLICT (map_id) DO UPDATE "
    "SET generation = governance_maphealth.generation + 1"
)
TABLES = ("maps_kpi", "maps_qualitativefactor")


def _sqlite_bump(map_ref: str, extra: str = "") -> str:
    return _BUMP.format(map=map_ref, false="0", extra=extra)


SQLITE_CREATE = [
    *(
        sql
        for table in TABLES
        for sql in (
            f"""
            CREATE TRIGGER {table}_health_on_insert AFTER INSERT ON {table}
            BEGIN {_sqlite_bump("NEW.map_id")}; END
            """,
            f"""
            CREATE TRIGGER {table}_health_on_update AFTER UPDATE ON {table}
            BEGIN
                {_sqlite_bump("NEW.map_id")};
                {_sqlite_bump("OLD.map_id", " AND OLD.map_id IS NOT NEW.map_id")};
            END
            """,
            f"""
            CREATE TRIGGER {table}_health_on_delete AFTER DELETE ON {table}
            BEGIN {_sqlite_bump("OLD.map_id")}; END
            """,
        )
    ),
    """
    CREATE TRIGGER maps_journeymap_health_on_delete AFTER DELETE ON maps_journeymap
    BEGIN DELETE FROM governance_maphealth WHERE map_id = OLD.id; END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS maps_journeymap_health_on_delete",
    *(
        f"DROP TRIGGER IF EXISTS {table}_health_on_{op}"
        for table in TABLES
        for op in ("insert", "update", "delete")
    ),
]

POSTGRES_CREATE = [
    f"""
    CREATE FUNCTION governance_maphealth_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN
            {_BUMP.format(map="NEW.map_id", false="false", extra="")};
        END IF;
        IF TG_OP = 'DELETE' THEN
            {_BUMP.format(map="OLD.map_id", false="false", extra="")};
        ELSIF TG_OP = 'UPDATE' THEN
            IF NEW.map_id IS DISTINCT FROM OLD.map_id THEN
                {_BUMP.format(map="OLD.map_id", false="false", extra="")};
            END IF;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    *(
        f"""
        CREATE TRIGGER {table}_health AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION governance_maphealth_bump()
        """
        for table in TABLES
    ),
    """
    CREATE FUNCTION governance_maphealth_forget() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM governance_maphealth WHERE map_id = OLD.id;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER maps_journeymap_health AFTER DELETE ON maps_journeymap
    FOR EACH ROW EXECUTE FUNCTION governance_maphealth_forget()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS maps_journeymap_health ON maps_journeymap",
    "DROP FUNCTION IF EXISTS governance_maphealth_forget()",
    *(f"DROP TRIGGER IF EXISTS {table}_health ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS governance_maphealth_bump()",
]

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRES_CREATE, POSTGRES_DROP),
}


def _run(schema_editor, index: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(
            f"Map health triggers are written for SQLite and PostgreSQL, not {vendor}"
        )
    for sql in STATEMENTS[vendor][index]:
        schema_editor.execute(sql, params=None)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 1)


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
        migrations.RunPython(create_triggers, drop_triggers),
    ]

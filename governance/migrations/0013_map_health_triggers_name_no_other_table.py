"""MapHealth triggers that name no table but governance_maphealth, and a row for every
existing map (issue #16).

0012's triggers inserted a row on every KPI or factor write and checked that the map
existed, so they named maps_journeymap, and a trigger on maps_journeymap deleted the row
with its map. On SQLite, Django rebuilds a table to alter it (create new__X, drop X,
rename) and the rename fails while another table's trigger names X: every later
migration altering maps_journeymap would have failed. Now:

* INSERT on maps_kpi / maps_qualitativefactor: add 1 to the map's generation, inserting
  its row if missing (``INSERT ... ON CONFLICT DO UPDATE``);
* UPDATE and DELETE: add 1 to the generation of the map(s) it touches, if they have a
  row; never insert one, so nothing brings back the row of a map being deleted (Django
  deletes the map's measurements, KPIs and its row before the map);
* readers store only into existing rows (``UPDATE ... WHERE generation = g``); a map
  without a row (created since, never given a KPI or factor) is computed on every read.

Every existing map gets a row, never computed (the first read computes and stores it).
A later migration that alters governance_maphealth on SQLite must drop these triggers
first and recreate them after (they name it); one that rebuilds maps_kpi or
maps_qualitativefactor drops them with the table: recreate them
(tests/test_map_health_stored.py checks they exist).
"""

from importlib import import_module

from django.db import migrations

# 0012's statements: dropped going forwards, recreated going backwards
v1 = import_module("governance.migrations.0012_map_health_stored")

UPSERT = (
    "INSERT INTO governance_maphealth (map_id, generation, has_content) "
    "VALUES ({map}, 1, {false}) "
    "ON CONFLICT (map_id) DO UPDATE SET generation = governance_maphealth.generation + 1"
)
BUMP = "UPDATE governance_maphealth SET generation = generation + 1 WHERE map_id = {map}"
TABLES = ("maps_kpi", "maps_qualitativefactor")

SQLITE_CREATE = [
    sql
    for table in TABLES
    for sql in (
        f"""
        CREATE TRIGGER {table}_health_on_insert AFTER INSERT ON {table}
        BEGIN {UPSERT.format(map="NEW.map_id", false="0")}; END
        """,
        f"""
        CREATE TRIGGER {table}_health_on_update AFTER UPDATE ON {table}
        BEGIN
            {BUMP.format(map="OLD.map_id")};
            {BUMP.format(map="NEW.map_id")} AND NEW.map_id IS NOT OLD.map_id;
        END
        """,
        f"""
        CREATE TRIGGER {table}_health_on_delete AFTER DELETE ON {table}
        BEGIN {BUMP.format(map="OLD.map_id")}; END
        """,
    )
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {table}_health_on_{op}"
    for table in TABLES
    for op in ("insert", "update", "delete")
]

POSTGRES_CREATE = [
    f"""
    CREATE FUNCTION governance_maphealth_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {UPSERT.format(map="NEW.map_id", false="false")};
        ELSE
            {BUMP.format(map="OLD.map_id")};
            IF TG_OP = 'UPDATE' THEN
                IF NEW.map_id IS DISTINCT FROM OLD.map_id THEN
                    {BUMP.format(map="NEW.map_id")};
                END IF;
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
]
POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_health ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS governance_maphealth_bump()",
]

BACKFILL = (
    "INSERT INTO governance_maphealth (map_id, generation, has_content) "
    "SELECT id, 1, {false} FROM maps_journeymap WHERE true ON CONFLICT (map_id) DO NOTHING"
)

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP, "0"),
    "postgresql": (POSTGRES_CREATE, POSTGRES_DROP, "false"),
}


def _check(schema_editor) -> str:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise RuntimeError(
            f"Map health triggers are written for SQLite and PostgreSQL, not {vendor}"
        )
    return vendor


def forwards(apps, schema_editor) -> None:
    vendor = _check(schema_editor)
    create, _, false = STATEMENTS[vendor]
    for sql in [*v1.STATEMENTS[vendor][1], *create, BACKFILL.format(false=false)]:
        schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor) -> None:
    vendor = _check(schema_editor)
    _, drop, _ = STATEMENTS[vendor]
    for sql in [*drop, *v1.STATEMENTS[vendor][0]]:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0012_map_health_stored"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]

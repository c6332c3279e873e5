"""Stored health's staleness: ``MapHealth.generation``, bumped by database triggers on
every write of a map's KPIs and qualitative factors (a group of ``maps.derived``,
registered by ``GovernanceConfig.ready``; the table came with governance 0012).

* INSERT on maps_kpi / maps_qualitativefactor: add 1 to the map's generation, inserting
  its row if missing (``INSERT ... ON CONFLICT DO UPDATE``);
* UPDATE and DELETE: add 1 to the generation of the map(s) it touches, if they have a
  row; never insert one, so nothing brings back the row of a map being deleted (Django
  deletes the map's measurements, KPIs and its row before the map);
* measurement writes reach maps_kpi through the KPI latest-value triggers;
* readers (``scoring.health_values``) store only into existing rows, and only while the
  generation is the one they read.

The triggers name no table but governance_maphealth and the one they are on (0012's
first version named maps_journeymap, which failed every SQLite rebuild of it: those
names are retired here, so they are dropped wherever they remain).

The rebuild gives every map a row (as 0013 did) and bumps every generation: whatever a
migration wrote without the triggers, no stored score computed before it counts, and a
reader racing the rebuild cannot store what it computed before it.
"""

from __future__ import annotations

from maps.derived import TriggerGroup

UPSERT = (
    "INSERT INTO governance_maphealth (map_id, generation, has_content) "
    "VALUES ({map}, 1, {false}) "
    "ON CONFLICT (map_id) DO UPDATE SET generation = governance_maphealth.generation + 1"
)
BUMP = "UPDATE governance_maphealth SET generation = generation + 1 WHERE map_id = {map}"
TABLES = ("maps_kpi", "maps_qualitativefactor")

SQLITE = {
    name: sql
    for table in TABLES
    for name, sql in (
        (
            f"{table}_health_on_insert",
            f"""
        CREATE TRIGGER {table}_health_on_insert AFTER INSERT ON {table}
        BEGIN {UPSERT.format(map="NEW.map_id", false="0")}; END
        """,
        ),
        (
            f"{table}_health_on_update",
            f"""
        CREATE TRIGGER {table}_health_on_update AFTER UPDATE ON {table}
        BEGIN
            {BUMP.format(map="OLD.map_id")};
            {BUMP.format(map="NEW.map_id")} AND NEW.map_id IS NOT OLD.map_id;
        END
        """,
        ),
        (
            f"{table}_health_on_delete",
            f"""
        CREATE TRIGGER {table}_health_on_delete AFTER DELETE ON {table}
        BEGIN {BUMP.format(map="OLD.map_id")}; END
        """,
        ),
    )
}

POSTGRES_FUNCTIONS = {
    "governance_maphealth_bump()": f"""
    CREATE OR REPLACE FUNCTION governance_maphealth_bump() RETURNS trigger
    LANGUAGE plpgsql AS $$
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
}
POSTGRES_TRIGGERS = {
    f"{table}_health": (
        table,
        f"""
        CREATE TRIGGER {table}_health AFTER INSERT OR UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION governance_maphealth_bump()
        """,
    )
    for table in TABLES
}

MAP_HEALTH = TriggerGroup(
    name="map_health",
    requires=(("governance_maphealth", None), *((table, None) for table in TABLES)),
    sqlite_triggers=SQLITE,
    postgres_functions=POSTGRES_FUNCTIONS,
    postgres_triggers=POSTGRES_TRIGGERS,
    rebuild_sql=(
        "INSERT INTO governance_maphealth (map_id, generation, has_content) "
        "SELECT id, 0, {false} FROM maps_journeymap WHERE true ON CONFLICT (map_id) DO NOTHING",
        "UPDATE governance_maphealth SET generation = generation + 1",
    ),
    # governance 0012's first triggers (0013 replaced them)
    retired_triggers=("maps_journeymap_health_on_delete", "maps_journeymap_health"),
    retired_functions=("governance_maphealth_forget()",),
)

"""The search index's machinery: which rows of which tables are searchable, the
triggers that copy them into ``search_index_searchentry``, and the full-text index on it.

Why an index table kept by triggers (and not signals, nor queries of each table):

* Imports write with ``bulk_create``/``bulk_update`` and raw ``update()`` calls, which
  send no Django signals; a trigger sees every write, whoever makes it, so an imported
  pain point is found at once and a deleted one disappears at once.
* One table means one ranked, paginated query over every kind, with one permission
  filter (the row's map, or its project) instead of seven queries merged in Python.
* SQLite's full text is an FTS5 virtual table, which must be fed rows anyway: here an
  external-content FTS5 table over the entries (``unicode61`` tokens, diacritics
  folded), kept by three more triggers. PostgreSQL gets a generated ``tsvector`` column
  (title weight A, body weight D; the ``simple`` configuration, so every language is
  matched word for word, as on SQLite) with a GIN index.

Why the triggers are not created by a migration but after every ``migrate``
(``post_migrate``) and dropped before one that has work to do (``pre_migrate``): Django
alters a SQLite table by creating a copy, dropping the original and renaming the copy,
which drops that table's triggers, and SQLite refuses the rename while another table's
trigger names the dropped table (the quote trigger reads ``maps_researchsource``). So no
trigger exists while migrations run; afterwards they are installed and the index is
rebuilt from the tables in one statement per table (``rebuild``), which also covers rows
written by data migrations. ``manage.py rebuild_search_index`` does the same by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, transaction

ENTRY_TABLE = "search_index_searchentry"
FTS_TABLE = "search_index_searchentry_fts"
PREFIX = "search_index_"  # every trigger and function of the index, so they can be found
#: characters of a body that are indexed: far above any description a team writes, far
#: below PostgreSQL's 1 MB limit of a tsvector (a longer text must never fail a write)
BODY_LIMIT = 100_000
#: how SQLite splits words: Unicode letters and digits; "Café" also matches "cafe"
FTS5_TOKENIZER = "unicode61 remove_diacritics 2"
#: PostgreSQL: no stemming and no stop words, like SQLite's tokenizer
PG_CONFIG = "simple"


@dataclass(frozen=True)
class Source:
    """A searchable table. Every value is an SQL expression over ``{row}`` (``NEW`` in a
    trigger, the table itself in a rebuild)."""

    table: str
    model: str
    kind: str
    title: str
    body: str
    map_id: str
    watched: tuple[str, ...]  # the columns whose change re-indexes the row
    project_id: str = "CAST(NULL AS bigint)"  # typed: PostgreSQL's INSERT … SELECT wants it
    step_id: str = "CAST(NULL AS bigint)"
    source_id: str = "CAST(NULL AS bigint)"
    evidence: str = "''"
    #: more statements after a row is updated / deleted (``{row}`` is NEW / OLD)
    on_update: tuple[str, ...] = ()
    on_delete: tuple[str, ...] = ()


SOURCES: tuple[Source, ...] = (
    Source(
        table="maps_journeymap",
        model="journeymap",
        kind="'map'",
        title="{row}.title",
        body="{row}.summary",
        map_id="{row}.id",
        watched=("title", "summary"),
        # a map deleted by raw SQL takes its content's rows along
        on_delete=(f"DELETE FROM {ENTRY_TABLE} WHERE map_id = {{row}}.id",),
    ),
    Source(
        table="maps_step",
        model="step",
        kind="'step'",
        title="{row}.name",
        body="{row}.description",
        map_id="{row}.map_id",
        step_id="{row}.id",
        evidence="{row}.evidence",
        watched=("name", "description", "map_id", "evidence"),
    ),
    Source(
        table="maps_painpoint",
        model="painpoint",
        kind="'pain_point'",
        title="{row}.title",
        body="{row}.description",
        map_id="{row}.map_id",
        step_id="{row}.step_id",
        evidence="{row}.evidence",
        watched=("title", "description", "map_id", "step_id", "evidence"),
    ),
    Source(
        table="maps_laneitem",
        model="laneitem",
        kind="{row}.kind",  # insight, opportunity, research, idea
        title="{row}.title",
        body="{row}.description",
        map_id="{row}.map_id",
        step_id="{row}.step_id",
        evidence="{row}.evidence",
        watched=("kind", "title", "description", "map_id", "step_id", "evidence"),
    ),
    Source(
        table="maps_researchsource",
        model="researchsource",
        kind="'source'",
        title="{row}.title",
        body="{row}.description",
        map_id="{row}.map_id",
        source_id="{row}.id",
        watched=("title", "description", "map_id"),
        # its quotes follow it to another map, and go with it
        on_update=(
            f"UPDATE {ENTRY_TABLE} SET map_id = {{row}}.map_id "
            f"WHERE model = 'quote' AND source_id = {{row}}.id",
        ),
        on_delete=(f"DELETE FROM {ENTRY_TABLE} WHERE model = 'quote' AND source_id = {{row}}.id",),
    ),
    Source(
        table="maps_quote",
        model="quote",
        kind="'quote'",
        title="''",  # a quote is all body: its words rank below the titles of other kinds
        body="{row}.text",
        map_id="(SELECT s.map_id FROM maps_researchsource s WHERE s.id = {row}.source_id)",
        source_id="{row}.source_id",
        watched=("text", "source_id"),
    ),
    Source(
        table="maps_cxproject",
        model="cxproject",
        kind="'project'",
        title="{row}.title",
        body="{row}.summary || ' ' || {row}.outcome",
        map_id="CAST(NULL AS bigint)",
        project_id="{row}.id",
        watched=("title", "summary", "outcome"),
    ),
)

COLUMNS = (
    "model",
    "object_id",
    "kind",
    "title",
    "body",
    "map_id",
    "project_id",
    "step_id",
    "source_id",
    "evidence",
    "updated_at",
)


def _values(source: Source, row: str) -> list[str]:
    def text(expr: str) -> str:
        return f"substr(COALESCE({expr}, ''), 1, {BODY_LIMIT})"

    return [
        f"'{source.model}'",
        f"{row}.id",
        source.kind.format(row=row),
        text(source.title.format(row=row)),
        text(source.body.format(row=row)),
        source.map_id.format(row=row),
        source.project_id.format(row=row),
        source.step_id.format(row=row),
        source.source_id.format(row=row),
        source.evidence.format(row=row),
        f"{row}.updated_at",
    ]


def _upsert(source: Source) -> str:
    """Insert or refresh the entry of the row ``NEW``: also mends an entry gone missing."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
    return (
        f"INSERT INTO {ENTRY_TABLE} ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(_values(source, 'NEW'))}) "
        f"ON CONFLICT (model, object_id) DO UPDATE SET {updates}"
    )


def _delete(source: Source) -> str:
    return f"DELETE FROM {ENTRY_TABLE} WHERE model = '{source.model}' AND object_id = OLD.id"


def _changed(source: Source, distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in source.watched)


def _rebuild_statement(source: Source) -> str:
    return (
        f"INSERT INTO {ENTRY_TABLE} ({', '.join(COLUMNS)}) "
        f"SELECT {', '.join(_values(source, 't'))} FROM {source.table} t"
    )


# --- SQLite ----------------------------------------------------------------------


def _sqlite_triggers() -> dict[str, str]:
    triggers: dict[str, str] = {}
    for s in SOURCES:
        name = f"{PREFIX}{s.model}"
        on_update = "".join(f" {sql.format(row='NEW')};" for sql in s.on_update)
        on_delete = "".join(f" {sql.format(row='OLD')};" for sql in s.on_delete)
        triggers[f"{name}_insert"] = (
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {s.table} BEGIN {_upsert(s)}; END"
        )
        triggers[f"{name}_update"] = (
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(s.watched)} ON {s.table} "
            f"WHEN {_changed(s, 'IS NOT')} BEGIN {_upsert(s)};{on_update} END"
        )
        triggers[f"{name}_delete"] = (
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {s.table} "
            f"BEGIN {_delete(s)};{on_delete} END"
        )
    # the FTS5 table follows the entries (external content: it must be told the old text)
    fts_delete = (
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body) "
        "VALUES ('delete', OLD.id, OLD.title, OLD.body)"
    )
    fts_insert = (
        f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (NEW.id, NEW.title, NEW.body)"
    )
    triggers[f"{PREFIX}fts_insert"] = (
        f"CREATE TRIGGER {PREFIX}fts_insert AFTER INSERT ON {ENTRY_TABLE} BEGIN {fts_insert}; END"
    )
    triggers[f"{PREFIX}fts_update"] = (
        f"CREATE TRIGGER {PREFIX}fts_update AFTER UPDATE OF title, body ON {ENTRY_TABLE} "
        f"WHEN OLD.title IS NOT NEW.title OR OLD.body IS NOT NEW.body "
        f"BEGIN {fts_delete}; {fts_insert}; END"
    )
    triggers[f"{PREFIX}fts_delete"] = (
        f"CREATE TRIGGER {PREFIX}fts_delete AFTER DELETE ON {ENTRY_TABLE} BEGIN {fts_delete}; END"
    )
    return triggers


# --- PostgreSQL --------------------------------------------------------------------

PG_VECTOR = (
    f"setweight(to_tsvector('{PG_CONFIG}'::regconfig, title), 'A') || "
    f"setweight(to_tsvector('{PG_CONFIG}'::regconfig, body), 'D')"
)


def _pg_function(s: Source) -> str:
    on_update = "".join(f" {sql.format(row='NEW')};" for sql in s.on_update)
    on_delete = "".join(f" {sql.format(row='OLD')};" for sql in s.on_delete)
    return (
        f"CREATE OR REPLACE FUNCTION {PREFIX}{s.model}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP = 'DELETE' THEN {_delete(s)};{on_delete} RETURN NULL; END IF; "
        f"{_upsert(s)}; IF TG_OP = 'UPDATE' THEN NULL;{on_update} END IF; RETURN NULL; END $$"
    )


def _pg_triggers() -> dict[str, tuple[str, str]]:
    """name -> (table, CREATE TRIGGER statement)."""
    triggers: dict[str, tuple[str, str]] = {}
    for s in SOURCES:
        name = f"{PREFIX}{s.model}"
        function = f"{name}()"
        triggers[f"{name}_write"] = (
            s.table,
            f"CREATE TRIGGER {name}_write AFTER INSERT OR DELETE ON {s.table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}",
        )
        triggers[f"{name}_update"] = (
            s.table,
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(s.watched)} ON {s.table} "
            f"FOR EACH ROW WHEN ({_changed(s, 'IS DISTINCT FROM')}) EXECUTE FUNCTION {function}",
        )
    return triggers


# --- what the migration, the signals and the command call -------------------------


def _vendor(using: str) -> str:
    return connections[using].vendor


def table_exists(using: str = "default") -> bool:
    connection = connections[using]
    with connection.cursor() as cursor:
        return ENTRY_TABLE in connection.introspection.table_names(cursor)


def ensure_schema(using: str = "default") -> None:
    """The full-text side of the entry table: the FTS5 table (SQLite) or the generated
    tsvector column and its GIN index (PostgreSQL). Idempotent."""
    vendor = _vendor(using)
    with connections[using].cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, body, "
                f"content='{ENTRY_TABLE}', content_rowid='id', tokenize='{FTS5_TOKENIZER}')"
            )
        elif vendor == "postgresql":
            cursor.execute(
                f"ALTER TABLE {ENTRY_TABLE} ADD COLUMN IF NOT EXISTS search_vector tsvector "
                f"GENERATED ALWAYS AS ({PG_VECTOR}) STORED"
            )
            # searches: search_vector @@ to_tsquery(...)
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS searchentry_vector_gin "
                f"ON {ENTRY_TABLE} USING gin (search_vector)"
            )


def drop_schema(using: str = "default") -> None:
    """Undo ``ensure_schema`` and the triggers (the migration's reverse)."""
    drop_triggers(using)
    with connections[using].cursor() as cursor:
        if _vendor(using) == "sqlite":
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif _vendor(using) == "postgresql":
            for s in SOURCES:
                cursor.execute(f"DROP FUNCTION IF EXISTS {PREFIX}{s.model}()")


def installed_triggers(using: str = "default") -> set[str]:
    with connections[using].cursor() as cursor:
        if _vendor(using) == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [f"{PREFIX}%"],
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE %s",
                [f"{PREFIX}%"],
            )
        return {name for (name,) in cursor.fetchall()}


def expected_triggers(using: str = "default") -> set[str]:
    return set(_sqlite_triggers() if _vendor(using) == "sqlite" else _pg_triggers())


def drop_triggers(using: str = "default") -> None:
    vendor = _vendor(using)
    with connections[using].cursor() as cursor:
        if vendor == "sqlite":
            for name in installed_triggers(using):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgname LIKE %s",
                [f"{PREFIX}%"],
            )
            for name, table in cursor.fetchall():
                cursor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')


def install_triggers(using: str = "default") -> None:
    vendor = _vendor(using)
    if vendor not in ("sqlite", "postgresql"):
        return
    drop_triggers(using)
    with connections[using].cursor() as cursor:
        if vendor == "sqlite":
            for sql in _sqlite_triggers().values():
                cursor.execute(sql)
        else:
            for s in SOURCES:
                cursor.execute(_pg_function(s))
            for _table, sql in _pg_triggers().values():
                cursor.execute(sql)


def rebuild(using: str = "default") -> int:
    """Refill the index from the source tables and (re)install the triggers, in one
    transaction (writes to the source tables wait for it). Returns the number of rows."""
    vendor = _vendor(using)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        ensure_schema(using)
        drop_triggers(using)  # refill without a trigger firing per row
        cursor.execute(f"DELETE FROM {ENTRY_TABLE}")
        for s in SOURCES:
            cursor.execute(_rebuild_statement(s))
        if vendor == "sqlite":
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")
        install_triggers(using)
        cursor.execute(f"SELECT COUNT(*) FROM {ENTRY_TABLE}")
        return cursor.fetchone()[0]

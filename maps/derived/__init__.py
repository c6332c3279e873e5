"""Derived data kept by database triggers (issue #16), and the triggers' life cycle.

Three groups of derived columns are written by the database itself, on SQLite and
PostgreSQL alike, so that bulk writes, ``queryset.update()`` and raw SQL keep them exact:

* ``maps.derived.kpi_latest``: ``KPI.latest_value`` / ``latest_date``;
* ``maps.derived.pain_point_counts``: ``MapPainPointCounts`` (total, addressed);
* ``governance.derived_health``: ``MapHealth.generation`` (stored health's staleness).

Each group (a ``TriggerGroup``, registered by its app's ``ready()``) declares its triggers
for both vendors, the tables and columns it needs, and set-based statements that rebuild
its data from the source tables.

Why the triggers are not created by migrations (as maps 0025/0026 and governance
0012/0013 first did) but after every ``migrate`` (``post_migrate``), and dropped before
one that has work to do (``pre_migrate``), as the search index does: Django alters a
SQLite table by creating a copy, dropping the original and renaming the copy. That drops
the table's own triggers (derived data then goes stale with no error) and fails while
another table's trigger names the dropped table (``maps_kpi`` is named by the measurement
triggers, ``maps_painpoint`` by the link table's). So no derived-data trigger exists
while migrations run; afterwards, when the installed triggers differ from the expected
ones (by name and definition), every group's data is rebuilt and its triggers installed
in one transaction (``rebuild``: under a second at 10,000 maps), which also covers rows
that data migrations wrote without triggers. A ``migrate`` with nothing to do changes
nothing. ``manage.py rebuild_derived_data`` does the same by hand, and
``manage.py check --database default`` warns when triggers are missing or differ.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from django.db import connections, transaction

VENDORS = ("sqlite", "postgresql")
#: PostgreSQL: the comment on each trigger, carrying the fingerprint of its definition
PG_COMMENT = "journeyhub derived data "


@dataclass(frozen=True, eq=False)
class TriggerGroup:
    """One kind of derived data: its triggers on both vendors and how to rebuild it."""

    name: str
    #: (table, column or None): the group exists in a database once all of these do
    requires: tuple[tuple[str, str | None], ...]
    #: SQLite: trigger name -> CREATE TRIGGER
    sqlite_triggers: dict[str, str]
    #: PostgreSQL: function signature (as DROP FUNCTION takes it) -> CREATE OR REPLACE FUNCTION
    postgres_functions: dict[str, str]
    #: PostgreSQL: trigger name -> (table, CREATE TRIGGER)
    postgres_triggers: dict[str, tuple[str, str]]
    #: set-based statements refilling the data from the source tables, run without any of
    #: the triggers; ``{false}`` is the vendor's false
    rebuild_sql: tuple[str, ...]
    #: names of triggers and PostgreSQL functions that earlier versions installed: dropped
    retired_triggers: tuple[str, ...] = ()
    retired_functions: tuple[str, ...] = ()
    trigger_names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        names = {*self.sqlite_triggers, *self.postgres_triggers, *self.retired_triggers}
        object.__setattr__(self, "trigger_names", frozenset(names))


_GROUPS: dict[str, TriggerGroup] = {}


def register(group: TriggerGroup) -> None:
    """Called by an app's ``ready()``; registering the same group again replaces it."""
    _GROUPS[group.name] = group


def registered() -> list[TriggerGroup]:
    return list(_GROUPS.values())


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in VENDORS:
        raise RuntimeError(
            f"Derived-data triggers are written for SQLite and PostgreSQL, not {vendor}"
        )
    return vendor


def _normalise(sql: str) -> str:
    # SQLite keeps a trigger's CREATE statement with its leading blanks removed and the
    # blanks after the first two keywords collapsed: compare with all runs collapsed
    return " ".join(sql.split())


def _pg_fingerprint(group: TriggerGroup, name: str) -> str:
    text = "\n".join(
        [
            *map(_normalise, group.postgres_functions.values()),
            _normalise(group.postgres_triggers[name][1]),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def groups(using: str = "default") -> list[TriggerGroup]:
    """The registered groups whose tables and columns exist in the database (none before
    their migration, or after migrating back)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        columns: dict[str, set[str]] = {}
        present = []
        for group in _GROUPS.values():
            ok = True
            for table, column in group.requires:
                if table not in tables:
                    ok = False
                elif column is not None:
                    if table not in columns:
                        description = connection.introspection.get_table_description(cursor, table)
                        columns[table] = {c.name for c in description}
                    ok = ok and column in columns[table]
            if ok:
                present.append(group)
        return present


def expected_triggers(using: str = "default") -> dict[str, str]:
    """name -> fingerprint of every trigger the database should have now."""
    vendor = _vendor(using)
    expected: dict[str, str] = {}
    for group in groups(using):
        if vendor == "sqlite":
            expected.update({name: _normalise(sql) for name, sql in group.sqlite_triggers.items()})
        else:
            expected.update(
                {name: _pg_fingerprint(group, name) for name in group.postgres_triggers}
            )
    return expected


def installed_triggers(using: str = "default") -> dict[str, str]:
    """name -> fingerprint of the derived-data triggers the database has (of any
    registered group, current or retired names; other triggers are left out)."""
    known = {name for group in _GROUPS.values() for name in group.trigger_names}
    with connections[using].cursor() as cursor:
        if _vendor(using) == "sqlite":
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            return {name: _normalise(sql or "") for name, sql in cursor.fetchall() if name in known}
        cursor.execute(
            "SELECT tgname, obj_description(oid, 'pg_trigger') FROM pg_trigger "
            "WHERE NOT tgisinternal"
        )
        return {
            name: (comment or "").removeprefix(PG_COMMENT)
            for name, comment in cursor.fetchall()
            if name in known
        }


def differences(using: str = "default") -> list[str]:
    """What differs between the installed triggers and the expected ones (empty: none)."""
    installed, expected = installed_triggers(using), expected_triggers(using)
    problems = [f"missing: {name}" for name in sorted(expected.keys() - installed.keys())]
    problems += [f"not expected: {name}" for name in sorted(installed.keys() - expected.keys())]
    problems += [
        f"out of date: {name}"
        for name in sorted(expected.keys() & installed.keys())
        if expected[name] != installed[name]
    ]
    return problems


def is_current(using: str = "default") -> bool:
    return installed_triggers(using) == expected_triggers(using)


def drop_triggers(using: str = "default") -> None:
    """Drop every derived-data trigger (and PostgreSQL function) there is."""
    vendor = _vendor(using)
    known = {name for group in _GROUPS.values() for name in group.trigger_names}
    with connections[using].cursor() as cursor:
        if vendor == "sqlite":
            for name in installed_triggers(using):
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
            return
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"
        )
        for name, table in cursor.fetchall():
            if name in known:
                cursor.execute(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
        for group in _GROUPS.values():
            for signature in [*group.postgres_functions, *group.retired_functions]:
                cursor.execute(f"DROP FUNCTION IF EXISTS {signature}")


def _install(using: str, present: list[TriggerGroup]) -> None:
    vendor = _vendor(using)
    with connections[using].cursor() as cursor:
        for group in present:
            if vendor == "sqlite":
                for sql in group.sqlite_triggers.values():
                    cursor.execute(sql)
                continue
            for sql in group.postgres_functions.values():
                cursor.execute(sql)
            for name, (table, sql) in group.postgres_triggers.items():
                cursor.execute(sql)
                comment = PG_COMMENT + _pg_fingerprint(group, name)
                cursor.execute(f'COMMENT ON TRIGGER "{name}" ON "{table}" IS \'{comment}\'')


def rebuild(using: str = "default") -> list[tuple[str, float]]:
    """Refill every group's data from the source tables and (re)install all the triggers,
    in one transaction (writers of those tables wait for it). Returns (group, seconds)."""
    vendor = _vendor(using)
    false = "0" if vendor == "sqlite" else "false"
    timings = []
    with transaction.atomic(using=using):
        present = groups(using)
        drop_triggers(using)  # nothing fires while the data is rewritten
        with connections[using].cursor() as cursor:
            for group in present:
                started = time.perf_counter()
                for sql in group.rebuild_sql:
                    cursor.execute(sql.replace("{false}", false))
                timings.append((group.name, time.perf_counter() - started))
        _install(using, present)
    return timings

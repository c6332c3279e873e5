"""Small pieces for the hand-written SQL of the hot paths (#16)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import JSONField, Model, QuerySet


def m2m_link(model: type[Model], name: str) -> tuple[str, str, str]:
    """The link table of ``model``'s many-to-many field ``name`` and its two columns (the
    one naming a ``model`` row, the one naming the other side), quoted for this
    database."""
    field = model._meta.get_field(name)
    q = connection.ops.quote_name
    return q(field.m2m_db_table()), q(field.m2m_column_name()), q(field.m2m_reverse_name())


_PLACEHOLDER = re.compile(r"%%|%s")


def named_placeholders(sql: str, vendor: str) -> tuple[str, tuple[str, ...] | None]:
    """``sql`` (Django's "format" style: ``%s`` placeholders, ``%%`` a literal ``%``) for
    statements run many times: on SQLite with named placeholders (``%(p0)s``, …) and the
    names, to be run with ``dict(zip(names, params))``; elsewhere as it is and None.

    Django's SQLite cursor turns every "format" statement into the qmark style with a
    regular expression over its whole text on every execution (about 5 % of the map
    page's instructions, #16); a "pyformat" statement takes one ``%`` formatting."""
    if vendor != "sqlite":
        return sql, None
    names: list[str] = []

    def name(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        names.append(f"p{len(names)}")
        return f"%({names[-1]})s"

    return _PLACEHOLDER.sub(name, sql), tuple(names)


def with_names(params: Sequence[Any], names: tuple[str, ...] | None) -> Sequence[Any] | dict:
    """The parameters for ``named_placeholders``' statement."""
    return params if names is None else dict(zip(names, params, strict=True))


# Stand-ins for a prepared query's arguments while the ORM compiles it: ids no row has.
_SENTINELS = (-7_362_100_001, -7_362_100_002, -7_362_100_003)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, index of the argument)
    columns: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]
    names: tuple[str, ...] | None  # named_placeholders' (SQLite)


class Prepared:
    """A ``values_list`` queryset compiled by the ORM once per process (and database
    vendor), then run with other arguments: ``rows(*args)``. The ORM rebuilds and
    compiles a queryset on every evaluation (its filters, joins, ``as_sql``): for the
    map grid's half a dozen small reads that was half their cost, more than the SQL
    (#16). The rows are what the queryset gives: the same SQL and parameters, the same
    converters (booleans, JSON, dates, decimals) applied to each value.

    ``build(*args)`` returns the queryset; it is called once with stand-in integer
    arguments (``_SENTINELS``) that must each reach the parameters unchanged (ids
    compared with ``=``, never inside an expression that transforms them)."""

    def __init__(self, build: Callable[..., QuerySet], *, args: int = 1) -> None:
        self.build = build
        self.args = args
        self._compiled: dict[str, _Compiled] = {}
        functools.update_wrapper(self, build)

    def _compile(self) -> _Compiled:
        queryset = self.build(*_SENTINELS[: self.args])
        query = queryset.query
        compiler = query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # e.g. a stand-in compared with a positive integer field
            raise ValueError(f"{self.build.__name__}: the stand-in ids match nothing") from None
        slots = tuple(
            (i, _SENTINELS.index(value))
            for i, value in enumerate(params)
            if isinstance(value, int) and value in _SENTINELS
        )
        if {arg for _, arg in slots} != set(range(self.args)):
            raise ValueError(f"{self.build.__name__}: every argument must be a parameter")
        columns = (*query.extra_select, *query.values_select, *query.annotation_select)
        fields = [select[0] for select in compiler.select[: compiler.col_count]]
        converters = tuple(
            (i, tuple(_faster(convert) for convert in convs), expression)
            for i, (convs, expression) in compiler.get_converters(fields).items()
        )
        sql, names = named_placeholders(sql, connection.vendor)
        return _Compiled(sql, tuple(params), slots, columns, converters, names)

    def compiled(self) -> _Compiled:
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = self._compile()
        return compiled

    @property
    def columns(self) -> tuple[str, ...]:
        return self.compiled().columns

    def rows(self, *args: Any) -> list[Any]:
        compiled = self.compiled()
        params = list(compiled.params)
        for position, arg in compiled.slots:
            params[position] = args[arg]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, with_names(params, compiled.names))
            rows = cursor.fetchall()
        if not compiled.converters or not rows:
            return rows
        # the converters are the backend's and the fields' value functions (booleans,
        # JSON, dates): pure, given this thread's connection as the ORM gives its own
        converted = []
        for row in rows:
            row = list(row)
            for i, convs, expression in compiled.converters:
                value = row[i]
                for convert in convs:
                    value = convert(value, expression, connection)
                row[i] = value
            converted.append(row)
        return converted


def _faster(convert: Callable) -> Callable:
    """``convert``, or for a ``JSONField`` without a decoder its ``from_db_value`` that
    reads an empty list's text without ``json.loads`` (most lane items' links: a tenth of
    the grid's reading, #16); a new list each time, as ``json.loads`` gives."""
    field = getattr(convert, "__self__", None)
    if getattr(convert, "__func__", None) is not JSONField.from_db_value or field.decoder:
        return convert

    def from_db_value(value: Any, expression: Any, connection: Any) -> Any:
        if value == "[]":
            return []
        return convert(value, expression, connection)

    return from_db_value


def prepared(*, args: int = 1) -> Callable[[Callable[..., QuerySet]], Prepared]:
    """``@prepared()`` over a function returning a ``values_list`` queryset of its
    (integer) arguments: see ``Prepared``."""
    return functools.partial(Prepared, args=args)

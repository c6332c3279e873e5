"""Model querysets compiled by the ORM once, then run with other arguments (#16).

The ORM rebuilds and compiles a queryset on every evaluation: its filters, joins,
``select_related`` columns, ordering. For the one map a map page shows (the map, its
owner, team and parent step, and its ancestors) that cost 2.5 ms of a page whose target
is 15, twenty times the SQL's own time. ``Precompiled`` compiles the queryset once per
database connection and runs the same SQL with the page's arguments; the rows become
model instances through the ORM's own code (``ModelIterable``: ``from_db``, the
``select_related`` populators, the field converters), so they are the instances the
queryset would have given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.query import get_related_populators

from .sql import named_placeholders, with_names

# Stand-ins for the arguments while the ORM compiles the queryset: values no row has,
# of the type the argument has (an integer field would not take a text one).
SENTINELS: dict[type, tuple[Any, ...]] = {
    str: ("\x00journeyhub-argument-0\x00", "\x00journeyhub-argument-1\x00"),
    int: (-7_362_100_101, -7_362_100_102),
}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, index of the argument)
    # argument index -> the adapter's wrapper its stand-in came in (PostgreSQL: Int4)
    wrappers: dict[int, type]
    compiler: Any
    init_list: tuple[str, ...]
    fields: tuple[int, int]  # the first model's columns: [start, end)
    populators: tuple[Any, ...]
    annotations: tuple[tuple[str, int], ...]
    names: tuple[str, ...] | None  # maps.sql.named_placeholders' (SQLite)


def light_instance(
    model: type[Model], attnames: Sequence[str], values: Sequence[Any], db: str = DEFAULT_DB_ALIAS
) -> Any:
    """An instance as ``Model.from_db`` makes it (its columns in its ``__dict__``, not
    adding, from ``db``; the fields not given stay deferred: read on access, as after
    ``defer()``) without running ``Model.__init__``, its ``__dict__`` made in one piece:
    the per-field descriptors and django-mptt's bookkeeping for saving were a sixth of
    ``/api/maps/``, and the grid builds ~300 instances a page (#16). Only for instances
    that are read, of models with no ``__init__`` of their own that matters and no
    ``post_init`` receiver (``maps.api.pages`` checks)."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding, state.db = False, db
    fields: dict[str, Any] = {"_state": state}
    fields.update(zip(attnames, values, strict=True))
    obj.__dict__ = fields
    return obj


def set_prefetched(instance: Model, name: str, rows: list[Model]) -> None:
    """``rows`` as ``prefetch_related(name)`` leaves them: the relation's own queryset
    with its cache filled, so ``instance.<name>.all()`` gives them without a query."""
    related = getattr(instance, name).all()
    related._result_cache, related._prefetch_done = rows, True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = related


class Precompiled:
    """``objects(*args)``: the instances of the queryset ``build(*args)`` returns, which
    is compiled once per connection (``build`` is called once, with ``SENTINELS`` of
    the types ``args`` names: each argument must reach the SQL parameters unchanged,
    e.g. compared with ``=``). No ``prefetch_related``, no ``only``/``defer``."""

    def __init__(self, build: Callable[..., QuerySet], *, args: tuple[type, ...] = (int,)) -> None:
        self.build = build
        self.sentinels = tuple(SENTINELS[kind][i] for i, kind in enumerate(args))

    def _compile(self) -> _Compiled:
        queryset = self.build(*self.sentinels)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots: list[tuple[int, int]] = []
        wrappers: dict[int, type] = {}
        for i, value in enumerate(params):
            # on PostgreSQL the ORM passes an integer compared with an integer column as
            # psycopg's ``Int4(value)`` (an int subclass): found, and the argument wrapped
            # the same way when the SQL runs
            if isinstance(value, (int, str)) and value in self.sentinels:
                slots.append((i, self.sentinels.index(value)))
                if type(value) not in (int, str):
                    wrappers[slots[-1][1]] = type(value)
        if {arg for _, arg in slots} != set(range(len(self.sentinels))):
            raise ValueError(f"{self.build.__name__}: every argument must be a parameter")
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        sql, names = named_placeholders(sql, compiler.connection.vendor)
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            wrappers=wrappers,
            compiler=compiler,
            init_list=tuple(f[0].target.attname for f in select[start:end]),
            fields=(start, end),
            populators=tuple(get_related_populators(klass_info, select, queryset.db)),
            annotations=tuple((compiler.annotation_col_map or {}).items()),
            names=names,
        )

    def instance(self, model: type[Model], attnames: tuple[str, ...], values: list) -> Model:
        """One row's instance (``ModelIterable``'s way); a subclass may make it otherwise."""
        return model.from_db(DEFAULT_DB_ALIAS, attnames, values)

    def objects(self, *args: Any) -> list[Model]:
        connection = connections[DEFAULT_DB_ALIAS]
        cache = connection.__dict__.setdefault("_journeyhub_precompiled", {})
        compiled = cache.get(self)
        if compiled is None:
            compiled = cache[self] = self._compile()
        params = list(compiled.params)
        wrappers = compiled.wrappers
        for position, arg in compiled.slots:
            params[position] = wrappers[arg](args[arg]) if arg in wrappers else args[arg]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, with_names(params, compiled.names))
            rows = cursor.fetchall()
        model = compiled.compiler.klass_info["model"]
        start, end = compiled.fields
        found = []
        # as ModelIterable does with the rows of the compiled query
        make = self.instance
        for row in compiled.compiler.results_iter([rows]):
            obj = make(model, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found

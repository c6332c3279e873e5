"""API list pages whose query is compiled once per process and shape (#16).

A plain list request (no filter, search or ordering parameter: only ``cursor`` and
``page_size``) runs one query: the rows the user may see, in the list's default
ordering, after the cursor, ``LIMIT page_size + 1``. Building that queryset (the
visibility condition, the cursor's condition, the ordering, ``select_related``) and
compiling it to SQL cost the ORM about a third of ``/api/maps/``, several times the
database's own time. ``PrecompiledPages`` builds it once per *shape* with stand-ins
for the values that vary (the user's id and group ids, the cursor's values), through
the same policy (``governance.permissions``) and pagination (``page_queryset``) code as
the ORM path, compiles it with ``maps.precompiled.Precompiled`` and then only runs the
SQL with the request's values: the same SQL, parameters and model instances.

A shape is what changes the SQL's text: whether the user sees everything (CX
leadership, admins) or how many groups they are in; whether there is a cursor and its
direction; the page size (``LIMIT`` is written into the SQL). Lists whose ordering has
a term that is not an integer or text column, or is nullable (``NULL`` changes the
cursor condition's text), keep the ORM path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, models
from django.db.models import QuerySet, prefetch_related_objects, signals
from django.http import Http404
from mptt.models import MPTTModel

from governance import permissions
from journeyhub.pagination import Cursor, Key, ordering_keys, page_queryset
from maps.precompiled import Precompiled, light_instance, set_prefetched

#: the query parameters a plain list request may carry (anything else: the ORM path)
PLAIN_PARAMETERS = frozenset({"cursor", "page_size"})

#: shapes kept per list (beyond: compiled for the request, as the ORM would)
MAX_SHAPES = 64

_INTEGERS = (models.IntegerField, models.AutoField, models.BigAutoField, models.SmallAutoField)
_TEXTS = (models.CharField, models.TextField)


def _stand_in(kind: type, index: int) -> Any:
    """A value unique per index, of the type of the column it replaces, never used as a
    value: it only marks where the request's value goes in the parameters. Integers are
    inside every integer column's range: the ORM drops a comparison with a value outside
    it (``tree_id >= -1`` is always true) instead of writing it."""
    if kind is int:
        return 2_147_480_001 + index
    return f"\x00journeyhub-page-{index}\x00"


def _kind(key: Key) -> type | None:
    field = key.field.target_field if key.field.is_relation else key.field
    if key.nullable:
        return None
    if isinstance(field, _INTEGERS):
        return int
    if isinstance(field, _TEXTS):
        return str
    return None


def _in_range(key: Key, value: Any) -> bool:
    """Whether ``value`` is inside the integer range of the key's column (or no integer)."""
    if not isinstance(value, int):
        return True
    field = key.field.target_field if key.field.is_relation else key.field
    bounds = connection.ops.integer_field_ranges.get(field.get_internal_type())
    return bounds is None or bounds[0] <= value <= bounds[1]


class _Shaped(Precompiled):
    """``Precompiled`` with as many stand-ins as one shape needs (its own tuple); with
    ``light``, rows made as ``light_instance`` makes them."""

    def __init__(
        self, build: Callable[..., QuerySet], stand_ins: tuple[Any, ...], *, light: bool = False
    ) -> None:
        super().__init__(build, args=())
        self.sentinels = stand_ins
        if light:
            self.instance = light_instance  # type: ignore[method-assign]


def _light_allowed(model: type[models.Model]) -> bool:
    """No ``__init__`` of the model's own (django-mptt's keeps only what saving needs)
    and nothing listening to ``post_init`` (which ``__init__`` sends)."""
    return not signals.post_init.has_listeners(model) and all(
        cls in (models.Model, MPTTModel, object)
        for cls in model.__mro__
        if "__init__" in cls.__dict__
    )


class PrecompiledPages:
    """The plain pages of one list: ``build(user)`` returns the list's queryset for
    ``user`` before filtering (``get_queryset``), ``ordering`` is the list's default
    ordering. ``keys`` is ``None`` when the ordering cannot be precompiled."""

    def __init__(
        self, build: Callable[[Any], QuerySet], ordering: tuple[str, ...], *, light: bool = False
    ) -> None:
        self.build = build
        self.ordering = ordering
        #: rows made by ``light_instance`` (a list only read: ``JourneyMapViewSet``)
        self.light = light
        self._shapes: dict[tuple, _Shaped | None] = {}
        self._keys: list[Key] | bool | None = False  # False: not read yet
        self._lookups: tuple = ()

    @property
    def keys(self) -> list[Key] | None:
        if self._keys is False:
            queryset = self.build(None).order_by(*self.ordering)
            self._lookups = tuple(queryset._prefetch_related_lookups)
            keys = ordering_keys(queryset)
            self._keys = keys if all(_kind(key) is not None for key in keys) else None
        return self._keys  # type: ignore[return-value]

    def usable(self, request) -> bool:
        """Whether this request is a plain page of the list (module docstring)."""
        return (
            self.keys is not None
            and set(request.query_params) <= PLAIN_PARAMETERS
            and permissions._active(request.user)
        )

    def rows(self, user, cursor: Cursor | None, size: int) -> list[models.Model] | None:
        """What ``page_rows`` gives for ``build(user)`` in the default ordering (None: a
        shape this list cannot precompile; the caller takes the ORM's path)."""
        keys = self.keys
        assert keys is not None
        if cursor is not None and not all(map(_in_range, keys, cursor.values)):
            return None  # the ORM drops such a comparison (always true or false): its way
        sees_all = permissions.is_leadership(user)
        group_ids = () if sees_all else tuple(sorted(permissions._group_ids(user)))
        shape = (
            sees_all,
            len(group_ids),
            None if cursor is None else (cursor.reverse, cursor.inclusive),
            size,
        )
        if shape in self._shapes:
            compiled = self._shapes[shape]
        else:
            compiled = self._shaped(shape, keys)
            if len(self._shapes) < MAX_SHAPES:  # page sizes vary: keep the cache bounded
                self._shapes[shape] = compiled
        if compiled is None:
            return None
        args: list[Any] = [] if sees_all else [user.pk, *group_ids]
        if cursor is not None:
            args += cursor.values
        found = compiled.objects(*args)
        if self._lookups and found:  # as the queryset's prefetch_related would
            prefetch_related_objects(found, *self._lookups)
        return found

    def _shaped(self, shape: tuple, keys: list[Key]) -> _Shaped:
        sees_all, groups, direction, size = shape
        stand_ins: list[Any] = []
        if not sees_all:
            stand_ins += [_stand_in(int, i) for i in range(1 + groups)]
        if direction is not None:
            stand_ins += [_stand_in(_kind(key), len(stand_ins) + i) for i, key in enumerate(keys)]

        def build(*values: Any) -> QuerySet:
            user = stand_in_user(sees_all, values[: 1 + groups] if not sees_all else ())
            rest = values[0 if sees_all else 1 + groups :]
            cursor = None
            if direction is not None:
                cursor = Cursor(list(rest), reverse=direction[0], inclusive=direction[1])
            queryset = self.build(user).order_by(*self.ordering).prefetch_related(None)
            return page_queryset(queryset, keys, cursor, size)

        build.__name__ = f"page of {self.build.__qualname__}"
        light = self.light and _light_allowed(self.build(None).model)
        shaped = _Shaped(build, tuple(stand_ins), light=light)
        try:  # every stand-in must reach the parameters unchanged (Precompiled checks)
            shaped._compile()
        except (ValueError, EmptyResultSet, FullResultSet):
            return None
        return shaped


def stand_in_user(sees_all: bool, ids: tuple[Any, ...]):
    """A user the policy reads as the request's: ``ids`` are the stand-ins of its id and
    group ids (``governance.permissions`` caches the groups on the user object)."""
    user = get_user_model()(is_active=True, is_superuser=sees_all)
    if not sees_all:
        user.pk = ids[0]
        user._state.adding = False
        user._journeyhub_group_ids = frozenset(ids[1:])
        user._journeyhub_is_leadership = False
    return user


class PrecompiledManyToMany:
    """``prefetch_related(name)`` of one instance of ``model``: the related rows (in their
    model's ordering, as the prefetch reads them) with their SQL compiled once, left where
    the prefetch leaves them (``instance.<name>.all()`` gives them without a query)."""

    def __init__(self, model: type[models.Model], name: str) -> None:
        field = model._meta.get_field(name)
        related, query_name = field.related_model, field.related_query_name()
        self.name = name
        self.query = Precompiled(lambda pk: related._default_manager.filter(**{query_name: pk}))

    def read(self, instance: models.Model) -> None:
        set_prefetched(instance, self.name, self.query.objects(instance.pk))


class PrecompiledObject:
    """The row of a plain detail request (``GET /api/maps/{id}/``, no query parameter but
    those in ``parameters``): ``build(user)`` is the detail's queryset for ``user``
    (``get_queryset``), read by primary key with its SQL compiled once per shape (sees
    everything, or how many groups), through the same policy code as the ORM path. The
    filter backends change nothing without parameters; building and compiling the
    visibility condition was a third of an expanded map's time (#16). ``None`` where
    the ORM's way is to be taken (a parameter, a key that is not a plain number); no row
    raises the ``Http404`` of ``get_object_or_404``."""

    def __init__(
        self,
        build: Callable[[Any], QuerySet],
        parameters: frozenset[str] = frozenset(),
        *,
        prefetch: tuple[PrecompiledManyToMany, ...] = (),
    ) -> None:
        self.build = build
        self.parameters = parameters
        #: the queryset's many-to-many lookups, each read by its own compiled query
        self.prefetch = prefetch
        self._shapes: dict[tuple, _Shaped | None] = {}
        self._lookups: tuple | None = None

    def get(self, request, pk: Any) -> models.Model | None:
        user = request.user
        if not (
            isinstance(pk, str)
            and pk.isdigit()
            and len(pk) <= 9  # inside every integer column's range
            and set(request.query_params) <= self.parameters
            and permissions._active(user)
        ):
            return None
        if self._lookups is None:
            queryset = self.build(None)
            self._model = queryset.model
            lookups = tuple(queryset._prefetch_related_lookups)
            precompiled = {m2m.name for m2m in self.prefetch}
            self._lookups = tuple(name for name in lookups if name not in precompiled)
        sees_all = permissions.is_leadership(user)
        group_ids = () if sees_all else tuple(sorted(permissions._group_ids(user)))
        shape = (sees_all, len(group_ids))
        if shape in self._shapes:
            compiled = self._shapes[shape]
        else:
            compiled = self._shaped(shape)
            if len(self._shapes) < MAX_SHAPES:
                self._shapes[shape] = compiled
        if compiled is None:
            return None
        args: list[Any] = [] if sees_all else [user.pk, *group_ids]
        found = compiled.objects(*args, int(pk))
        if not found:  # what get_object_or_404 answers
            raise Http404(f"No {self._model._meta.object_name} matches the given query.")
        for m2m in self.prefetch:
            m2m.read(found[0])
        if self._lookups:  # as the queryset's prefetch_related would
            prefetch_related_objects(found, *self._lookups)
        return found[0]

    def _shaped(self, shape: tuple) -> _Shaped | None:
        sees_all, groups = shape
        ids = 0 if sees_all else 1 + groups
        stand_ins = tuple(_stand_in(int, i) for i in range(ids + 1))

        def build(*values: Any) -> QuerySet:
            user = stand_in_user(sees_all, values[:ids])
            queryset = self.build(user).prefetch_related(None)
            return queryset.filter(pk=values[ids]).order_by()

        build.__name__ = f"detail of {self.build.__qualname__}"
        shaped = _Shaped(build, stand_ins)
        try:
            shaped._compile()
        except (ValueError, EmptyResultSet, FullResultSet):
            return None
        return shaped

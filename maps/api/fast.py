"""Rows of the API written with exactly DRF's output, at a fraction of its cost (#16).

DRF's ``Serializer.to_representation`` asks every field of every row for its attribute
(``Field.get_attribute``: a generic attribute walk with exception handling, a
``PKOnlyObject`` per relation) and then for its representation: on a page of 50 rows of
20 fields that was a third of an API list's time. ``FastRepresentation`` decides once per
serializer how each field is read (a *reader* per field) and then reads every row with
them. Each reader gives what DRF gives:

* a plain field (``Field.get_attribute`` not overridden) reads its attribute path and
  calls the field's own ``to_representation``; ``None`` stays ``None``; a path that
  is one loaded column of the model is read from the row's ``__dict__`` directly;
* a primary-key relation reads the foreign key's column (``map_id``), as DRF's
  ``use_pk_only_optimization`` does, without the ``PKOnlyObject``;
* a slug relation reads the related object (loaded by ``select_related``) and its slug;
* a many-to-many relation reads the rows a ``Prefetch(…, to_attr=fast_attr(name))``
  stored on the instance (no related manager per row; without it, DRF's path);
* a field with ``fast_stored`` reads the representation a list serializer stored on
  the row under that name for the whole page (a map's persona slugs), if it is there;
* anything else, and any row where a reader meets an exception, a callable or a
  mapping, goes through DRF's own code for that field.

``tests/test_api_fast_representation.py`` compares every serializer of the API with
DRF's output for the same rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import types
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import fields, relations
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import ISO_8601, api_settings

Reader = Callable[[Any], Any]
#: a field's reader for one serializer's context (a field whose representation reads it)
ContextReader = Callable[[Mapping[str, Any]], Reader]

#: what a reader answers for a field DRF leaves out of the row (``SkipField``)
_SKIP = object()
_NOTHING_LOADED: Mapping[str, Any] = types.MappingProxyType({})
#: attribute values DRF would call (``is_simple_callable``): left to DRF
_CALLABLES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial)
_MISSES = (AttributeError, KeyError, ObjectDoesNotExist)


def fast_attr(name: str) -> str:
    """Where a ``Prefetch(name, to_attr=…)`` leaves the rows the many-to-many reader uses."""
    return f"_fast_{name}"


def _drf(field: fields.Field, instance: Any) -> Any:
    """One field of one row exactly as ``Serializer.to_representation`` writes it."""
    try:
        attribute = field.get_attribute(instance)
    except SkipField:
        return _SKIP
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    return None if check_for_none is None else field.to_representation(attribute)


def _walk(instance: Any, attrs: list[str]) -> Any:
    """``getattr`` along ``attrs``; raises ``LookupError`` where DRF's walk would do more
    than plain attribute reads (a mapping, a callable, a missing attribute, a ``None``
    before the end of the path)."""
    for attr in attrs:
        if isinstance(instance, Mapping):
            raise LookupError(attr)
        try:
            instance = getattr(instance, attr)
        except _MISSES as exc:
            raise LookupError(attr) from exc
        if isinstance(instance, _CALLABLES):
            raise LookupError(attr)
    return instance


def _column(model: type[models.Model] | None, attrs: list[str]) -> str | None:
    """The name under which a row keeps the value of ``attrs`` when that is one concrete
    column of ``model`` that is not a relation (``instance.__dict__[name]``)."""
    if model is None or len(attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(attrs[0])
    except FieldDoesNotExist:
        return None
    if not getattr(model_field, "concrete", False) or model_field.is_relation:
        return None
    return attrs[0] if model_field.attname == attrs[0] else None


def _datetime_representation(field: fields.Field) -> Callable[[Any], Any] | None:
    """``DateTimeField.to_representation`` with the field's time zone read once per
    serializer (a page) instead of once per value (``get_current_timezone`` reads a
    context-local: a tenth of a map list's serializing); aware datetimes in ISO 8601
    only, anything else DRF's own code."""
    cls = type(field)
    if not (
        isinstance(field, fields.DateTimeField)
        and all(
            getattr(cls, name) is getattr(fields.DateTimeField, name)
            for name in ("to_representation", "enforce_timezone", "default_timezone")
        )
    ):
        return None
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return None
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return None
    slow = field.to_representation

    def represent(value: Any) -> Any:
        if not isinstance(value, dt.datetime) or value.utcoffset() is None:
            return slow(value)  # naive, empty or not a datetime: DRF's way
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return slow(value)  # DRF's error for it
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return represent


#: DRF fields whose ``to_representation`` gives a value of this exact type back unchanged
_UNCHANGED: tuple[tuple[type, type], ...] = (
    (fields.CharField, str),  # str(value)
    (fields.IntegerField, int),  # int(value)
    (fields.BooleanField, bool),  # True / False for True / False
)


def _unchanged_type(field: fields.Field) -> type | None:
    for cls, kind in _UNCHANGED:
        if isinstance(field, cls) and type(field).to_representation is cls.to_representation:
            return kind
    return None


def _plain_reader(field: fields.Field, model: type[models.Model] | None = None) -> Reader:
    attrs = list(field.source_attrs)
    represent = _datetime_representation(field) or field.to_representation
    if not attrs:  # source="*": the row itself
        return represent
    column = _column(model, attrs)
    if column is not None:
        # a loaded column: read where the model keeps it, without the attribute walk
        # (a deferred one, or a row that is not a model instance: DRF's way)
        def read_column(instance: Any) -> Any:
            try:
                value = instance.__dict__[column]
            except (KeyError, AttributeError):
                return _drf(field, instance)
            return None if value is None else represent(value)

        # what FastRepresentation reads inline: the column, and the type of value the
        # field writes as it is (DRF's str(), int() or bool() of one gives it back)
        read_column.fast_column = column  # type: ignore[attr-defined]
        read_column.fast_type = _unchanged_type(field)  # type: ignore[attr-defined]
        return read_column

    def read(instance: Any) -> Any:
        try:
            value = _walk(instance, attrs)
        except LookupError:
            return _drf(field, instance)
        return None if value is None else represent(value)

    return read


def _pk_reader(field: relations.RelatedField, model: type[models.Model]) -> Reader | None:
    attrs = list(field.source_attrs)
    if len(attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(attrs[0])
    except FieldDoesNotExist:
        return None
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return None
    column = model_field.attname  # what Model.serializable_value(name) reads

    def read(instance: Any) -> Any:
        try:
            return instance.__dict__[column]
        except KeyError:  # deferred, or not a model row
            return _drf(field, instance)

    return read


def _slug_reader(field: relations.SlugRelatedField) -> Reader:
    attrs, slug = list(field.source_attrs), field.slug_field

    def read(instance: Any) -> Any:
        try:
            related = _walk(instance, attrs)
        except LookupError:
            return _drf(field, instance)
        return None if related is None else getattr(related, slug)

    return read


def _many_reader(field: relations.ManyRelatedField) -> Reader:
    attrs, represent = list(field.source_attrs), field.child_relation.to_representation
    stored = fast_attr(attrs[-1]) if len(attrs) == 1 else None

    def read(instance: Any) -> Any:
        rows = instance.__dict__.get(stored) if stored else None
        if rows is None:  # not prefetched for the fast path: DRF's own way
            return _drf(field, instance)
        return [represent(row) for row in rows]

    return read


def _is(field: fields.Field, cls: type, method: str, owner: type) -> bool:
    return isinstance(field, cls) and getattr(type(field), method) is getattr(owner, method)


def _stored_reader(stored: str, otherwise: Reader) -> Reader:
    def read(instance: Any) -> Any:
        try:
            return instance.__dict__[stored]
        except (KeyError, AttributeError):  # not written for this row: the field's way
            return otherwise(instance)

    return read


def reader_for(field: fields.Field, model: type[models.Model] | None) -> Reader:
    """How ``field`` is read from a row (module docstring); DRF's path when unsure. A
    field naming ``fast_stored`` is read from that attribute of the row when a list
    serializer wrote it there (the field's representation, read for the whole page)."""
    stored = getattr(field, "fast_stored", None)
    if stored:
        return _stored_reader(stored, _reader_for(field, model))
    return _reader_for(field, model)


def _reader_for(field: fields.Field, model: type[models.Model] | None) -> Reader:
    if _is(field, relations.ManyRelatedField, "get_attribute", relations.ManyRelatedField):
        if _is(field, relations.ManyRelatedField, "to_representation", relations.ManyRelatedField):
            return _many_reader(field)
    elif (
        isinstance(field, relations.PrimaryKeyRelatedField)
        and field.pk_field is None
        and _is(field, relations.RelatedField, "get_attribute", relations.RelatedField)
        and _is(
            field,
            relations.PrimaryKeyRelatedField,
            "use_pk_only_optimization",
            relations.PrimaryKeyRelatedField,
        )
        and _is(
            field,
            relations.PrimaryKeyRelatedField,
            "to_representation",
            relations.PrimaryKeyRelatedField,
        )
        and model is not None
    ):
        found = _pk_reader(field, model)
        if found is not None:
            return found
    elif (
        isinstance(field, relations.SlugRelatedField)
        and _is(field, relations.RelatedField, "get_attribute", relations.RelatedField)
        and _is(field, relations.SlugRelatedField, "to_representation", relations.SlugRelatedField)
        and not field.use_pk_only_optimization()
        and "__" not in field.slug_field
    ):
        return _slug_reader(field)
    elif not isinstance(field, (relations.RelatedField, relations.ManyRelatedField)) and (
        type(field).get_attribute is fields.Field.get_attribute
    ):
        return _plain_reader(field, model)
    return functools.partial(_drf, field)


class FastRepresentation:
    """A serializer mixin: ``to_representation`` with readers decided once per serializer
    (module docstring). A list's child serializer is one object: a page decides them once.

    A serializer class with ``fast_shared_readers = True`` decides them once per process
    and time zone (a ``DateTimeField`` reader holds the zone): building its fields, which
    DRF does for every request, was a sixth of a page. Only for a class whose readable
    fields never depend on the context (the request, the instance): they are built by
    an instance without one. A field whose *representation* reads the context (a URL on
    the request's host, the requesting user) says so with ``fast_reader_in(context)``,
    which gives its reader for each serializer's context (``ReversedOnceField``)."""

    fast_shared_readers = False

    def _fast_readers(self) -> list[tuple[str, Reader, str | None, type | None]]:
        """(name, reader, the loaded column it reads or None, the type of value written
        unchanged) per readable field."""
        readers = self.__dict__.get("_fast_reader_list")
        if readers is None:
            shared = self.fast_shared_readers
            entries = self._shared_entries() if shared else self._build_entries()
            context = self.context
            readers = [
                (name, read, getattr(read, "fast_column", None), getattr(read, "fast_type", None))
                if bind is None
                else (name, bind(context), None, None)
                for name, read, bind in entries
            ]
            self.__dict__["_fast_reader_list"] = readers
        return readers

    def _build_entries(self) -> list[tuple[str, Reader, ContextReader | None]]:
        """Each readable field's name, reader and, for a field whose representation
        reads the context (``fast_reader_in``), what makes its reader for a context."""
        model = getattr(getattr(self, "Meta", None), "model", None)
        return [
            (f.field_name, reader_for(f, model), getattr(f, "fast_reader_in", None))
            for f in self._readable_fields
        ]

    @classmethod
    def _shared_entries(cls) -> list[tuple[str, Reader, ContextReader | None]]:
        shared = cls.__dict__.get("_fast_shared")
        if shared is None:  # per class, not inherited by a subclass
            shared = {}
            cls._fast_shared = shared
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        entries = shared.get(zone)
        if entries is None:
            entries = shared[zone] = cls()._build_entries()
        return entries

    def to_representation(self, instance):
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        row = {}
        loaded = getattr(instance, "__dict__", _NOTHING_LOADED)
        for name, read, column, unchanged in self._fast_readers():
            if column is not None:  # the column reader's work, inline for the usual values
                value = loaded.get(column, _SKIP)
                if value is None or type(value) is unchanged:
                    row[name] = value
                    continue
            value = read(instance)
            if value is not _SKIP:
                row[name] = value
        return row

"""How API lists are cut into pages.

``KeysetPagination`` (the default, ``docs/api.md``) answers ``{"next", "previous",
"results"}``: ``next`` carries an opaque ``?cursor=`` naming the last row's values of
the list's ordering (always ending in the primary key), and the next page is read with
``WHERE (ordering) > (those values) … LIMIT page_size + 1``. The cost of a page does not
depend on how deep it is, and no ``COUNT`` runs over the (visibility-filtered) list.
Rows inserted or deleted between two requests never make a row appear twice or go
missing: the cursor names a place in the ordering, not an offset.

Clients of the old page numbers keep working: any request with ``?page=`` is answered
by ``PageNumberPagination`` with ``count`` as before (an offset: slower at depth).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.template import loader
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.pagination import PageNumberPagination as Base
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param

MAX_PAGE_SIZE = 500


def _page_size(request, param: str, default: int, maximum: int) -> int:
    """``?page_size=`` must be a whole number from 1 (DRF would silently ignore
    ``page_size=abc``); above ``maximum`` it is capped."""
    raw = request.query_params.get(param)
    if raw is None:
        return default
    if not (raw.isdigit() and len(raw) <= 9 and int(raw) >= 1):
        raise ValidationError({param: [f"A whole number from 1 to {maximum}."]})
    return min(int(raw), maximum)


class PageNumberPagination(Base):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)


# --- keyset pagination -------------------------------------------------------------------


class Unsupported(Exception):
    """An ordering the keyset cannot follow (a lookup across a relation, an expression)."""


@dataclass(frozen=True)
class Key:
    """One term of a list's ordering: a concrete column of the listed model."""

    field: models.Field
    descending: bool

    @property
    def column(self) -> str:
        return self.field.attname

    @property
    def nullable(self) -> bool:
        return self.field.null

    def label(self) -> str:
        return ("-" if self.descending else "") + self.column

    def order_by(self, reverse: bool = False) -> OrderBy:
        descending = self.descending != reverse
        expression = F(self.column)
        if not self.nullable:
            return expression.desc() if descending else expression.asc()
        # NULL counts as the smallest value, on SQLite and PostgreSQL alike
        return expression.desc(nulls_last=True) if descending else expression.asc(nulls_first=True)

    def beyond(self, value: Any, reverse: bool) -> Q | None:
        """Rows strictly after ``value`` in this term's direction (None: no row is)."""
        descending = self.descending != reverse
        if value is None:  # NULL is the smallest value
            return None if descending else Q(**{f"{self.column}__isnull": False})
        after = Q(**{f"{self.column}__lt" if descending else f"{self.column}__gt": value})
        if self.nullable and descending:
            after |= Q(**{f"{self.column}__isnull": True})
        return after

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.column}__isnull": True})
        return Q(**{self.column: value})

    def bound(self, value: Any, reverse: bool) -> Q | None:
        """A plain range on the leading term (``map_id >= 7``) that lets the database
        seek into the index of the ordering before it checks the rest of the condition."""
        if value is None or self.nullable:
            return None
        descending = self.descending != reverse
        return Q(**{f"{self.column}__lte" if descending else f"{self.column}__gte": value})

    def dump(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, (dt.date, dt.datetime, dt.time)):
            return value.isoformat()
        return value

    def load(self, value: Any) -> Any:
        if value is None:
            if not self.nullable:
                raise ValueError(f"{self.column} cannot be empty")
            return None
        if not isinstance(value, (str, int, float)):
            raise ValueError(f"{self.column} is not a plain value")
        target = self.field.target_field if self.field.is_relation else self.field
        parsed = target.to_python(value)
        if isinstance(parsed, int) and not -(2**63) <= parsed < 2**63:
            raise ValueError(f"{self.column} is out of range")
        if isinstance(parsed, dt.datetime) and parsed.tzinfo is None:
            raise ValueError(f"{self.column} has no time zone")
        return parsed


def ordering_keys(queryset: QuerySet) -> list[Key]:
    """The queryset's ordering as columns of its model, ending in the primary key (a
    foreign key orders by its own column, not by the related model's ordering)."""
    opts = queryset.model._meta
    terms = list(queryset.query.order_by) or (
        list(opts.ordering) if queryset.query.default_ordering else []
    )
    keys: list[Key] = []
    for term in terms:
        if not isinstance(term, str) or term == "?":
            raise Unsupported(term)
        descending = term.startswith("-")
        name = term.lstrip("-+")
        if "__" in name:
            raise Unsupported(term)
        try:
            field = opts.pk if name == "pk" else opts.get_field(name)
        except FieldDoesNotExist as exc:
            raise Unsupported(term) from exc
        if not getattr(field, "concrete", False) or field.many_to_many:
            raise Unsupported(term)
        if any(key.field is field for key in keys):
            continue
        keys.append(Key(field, descending))
        if field.primary_key:
            return keys  # unique: what follows never decides anything
    keys.append(Key(opts.pk, False))
    return keys


def after_condition(
    keys: list[Key], values: list[Any], *, reverse: bool, inclusive: bool = False
) -> Q:
    """``(k1, k2, …, pk) > (v1, v2, …, vn)`` in the keys' directions (``>=`` when
    ``inclusive``), written as ``k1 >= v1 AND (k1 > v1 OR (k1 = v1 AND k2 > v2) OR …)``
    so that a database seeks the index of the ordering on its leading column."""
    alternatives = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        beyond = key.beyond(value, reverse)
        if beyond is not None:
            alternatives |= prefix & beyond
        prefix &= key.equal(value)
    if inclusive:
        alternatives |= prefix
    bound = keys[0].bound(values[0], reverse)
    return alternatives if bound is None else bound & alternatives


@dataclass(frozen=True)
class Cursor:
    """A place in a list: the ordering's values of a row; the page is what comes after it
    (before it when ``reverse``), the row itself included when ``inclusive``."""

    values: list[Any]
    reverse: bool = False
    inclusive: bool = False


def page_queryset(
    queryset: QuerySet, keys: list[Key], cursor: Cursor | None, size: int
) -> QuerySet:
    """The rows of the page after (or before) ``cursor`` and one more (is there a next
    page?), in the cursor's direction: ``queryset`` ordered by ``keys``."""
    reverse = cursor is not None and cursor.reverse
    queryset = queryset.order_by(*(key.order_by(reverse) for key in keys))
    if cursor is not None:
        queryset = queryset.filter(
            after_condition(keys, cursor.values, reverse=reverse, inclusive=cursor.inclusive)
        )
    return queryset[: size + 1]


def page_rows(queryset: QuerySet, keys: list[Key], cursor: Cursor | None, size: int) -> list:
    return list(page_queryset(queryset, keys, cursor, size))


class KeysetPagination(BasePagination):
    """Keyset ("cursor") pages over the list's own ordering; ``?page=`` falls back to
    page numbers (module docstring)."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    legacy_class = PageNumberPagination
    template = "rest_framework/pagination/previous_and_next.html"

    def __init__(self) -> None:
        self.page_size = api_settings.PAGE_SIZE
        self.legacy: PageNumberPagination | None = None
        self.next_cursor: Cursor | None = None
        self.previous_cursor: Cursor | None = None
        self.keys: list[Key] = []

    # --- reading a page ----------------------------------------------------------------

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        if "page" in request.query_params or not isinstance(queryset, QuerySet):
            return self._legacy(queryset, request, view)
        try:
            self.keys = ordering_keys(queryset)
        except Unsupported:
            if self.cursor_query_param in request.query_params:
                raise self._refused("This list cannot be read with a cursor; use ?page=.") from None
            return self._legacy(queryset, request, view)
        return self._page(
            request, lambda cursor, size: page_rows(queryset, self.keys, cursor, size)
        )

    def paginate_prepared(
        self, request, keys: list[Key], fetch: Callable[[Cursor | None, int], list]
    ) -> list:
        """A page of a list whose query the caller runs itself (compiled once, e.g.
        ``maps.api.pages``): ``fetch(cursor, size)`` gives what ``page_rows`` would give
        for the list's queryset ordered by ``keys``; cursors and links as for a queryset."""
        self.request = request
        self.keys = keys
        return self._page(request, fetch)

    def _page(self, request, fetch: Callable[[Cursor | None, int], list]) -> list:
        size = _page_size(request, self.page_size_query_param, self.page_size, self.max_page_size)
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        reverse = cursor is not None and cursor.reverse
        rows = fetch(cursor, size)
        more = len(rows) > size
        rows = rows[:size]
        if reverse:
            rows.reverse()
        if cursor is None:
            self.next_cursor = Cursor(self._values(rows[-1])) if more else None
        elif not rows:  # nothing there (rows were deleted): link back to where it stood
            self.next_cursor = Cursor(cursor.values, inclusive=True) if reverse else None
            self.previous_cursor = (
                None if reverse else Cursor(cursor.values, reverse=True, inclusive=True)
            )
        elif reverse:  # came backwards: the page the cursor came from follows
            self.next_cursor = Cursor(self._values(rows[-1]))
            self.previous_cursor = Cursor(self._values(rows[0]), reverse=True) if more else None
        else:
            self.next_cursor = Cursor(self._values(rows[-1])) if more else None
            self.previous_cursor = Cursor(self._values(rows[0]), reverse=True)
        return rows

    def _legacy(self, queryset, request, view):
        self.legacy = self.legacy_class()
        return self.legacy.paginate_queryset(queryset, request, view)

    def _values(self, row) -> list[Any]:
        return [getattr(row, key.column) for key in self.keys]

    # --- cursors -----------------------------------------------------------------------

    def _refused(self, message: str) -> ValidationError:
        return ValidationError({self.cursor_query_param: [message]})

    def _encode(self, cursor: Cursor) -> str:
        payload: dict[str, Any] = {
            "o": [key.label() for key in self.keys],
            "v": [key.dump(value) for key, value in zip(self.keys, cursor.values, strict=True)],
        }
        if cursor.reverse:
            payload["r"] = 1
        if cursor.inclusive:
            payload["i"] = 1
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode(self, text: str | None) -> Cursor | None:
        """The cursor of ``?cursor=``; a 400 naming ``cursor`` for anything that is not a
        cursor of this list in its current ordering."""
        if text is None:
            return None
        try:
            if len(text) > 4000:
                raise ValueError("too long")
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload = json.loads(raw)
            if not isinstance(payload, dict) or not isinstance(payload.get("v"), list):
                raise ValueError("not a cursor")
        except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
            raise self._refused(
                "Not a cursor of this list: follow the next and previous links as given."
            ) from None
        if payload.get("o") != [key.label() for key in self.keys]:
            raise self._refused(
                "This cursor belongs to another ordering of the list; "
                "start again without it (or keep the ordering it was made for)."
            )
        try:
            values = [key.load(value) for key, value in zip(self.keys, payload["v"], strict=True)]
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            raise self._refused("The cursor's values do not fit this list.") from None
        return Cursor(values, reverse=bool(payload.get("r")), inclusive=bool(payload.get("i")))

    def _link(self, cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self._encode(cursor))

    def get_next_link(self) -> str | None:
        return self._link(self.next_cursor)

    def get_previous_link(self) -> str | None:
        return self._link(self.previous_cursor)

    # --- the answer --------------------------------------------------------------------

    def get_paginated_response(self, data):
        if self.legacy is not None:
            return self.legacy.get_paginated_response(data)
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        example = "https://journeyhub.example/api/pain-points/?cursor=eyJvIjpbIm1hcF9pZCJdfQ"
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "Only with ?page= (page numbers): how many rows the list has.",
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "example": example,
                    "description": "The next page (null on the last).",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "example": example,
                    "description": "The page before (null on the first).",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: take it from a next or previous link "
                "of the same list (opaque).",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (1 to {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page numbers instead of cursors (the answer then has count); "
                "an offset costs more the deeper the page: prefer the cursor links.",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]

    def get_html_context(self):
        return {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}

    def to_html(self):
        if self.legacy is not None:
            return self.legacy.to_html()
        return loader.get_template(self.template).render(self.get_html_context())

    def get_results(self, data):
        return data["results"]

"""Small pieces for the hand-written SQL of the hot paths (#16)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Model


def m2m_link(model: type[Model], name: str) -> tuple[str, str, str]:
    """The link table of ``model``'s many-to-many field ``name`` and its two columns (the
    one naming a ``model`` row, the one naming the other side), quoted for this
    database."""
    field = model._meta.get_field(name)
    q = connection.ops.quote_name
    return q(field.m2m_db_table()), q(field.m2m_column_name()), q(field.m2m_reverse_name())

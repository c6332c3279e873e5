"""Serialising writes to the map tree: the one place that knows how the database locks.

django-mptt renumbers ``lft``/``rght`` across a whole tree when a map is created, moved,
renamed (siblings are ordered by title) or deleted, reading the current numbers first;
root-level changes (a new top-level map, a move to or from the top, renaming a top-level
map) also shift the ``tree_id`` of every later tree. Two such writes at once store
overlapping ranges, and grants are resolved by those ranges, so a corrupt tree widens
access. Every tree write therefore takes its locks before it reads any tree field:

* PostgreSQL: transaction-scoped advisory locks. A root-level write holds the whole
  forest exclusively; any other tree write holds the forest shared and then each tree it
  touches exclusively, in ascending order (no deadlock between two writers). Then it
  locks the rows it may renumber (``FOR NO KEY UPDATE``) before changing any: an edit of
  one map (a version bump) holds that row without the tree lock, and if the tree write
  were halfway through renumbering when it met that row, the edit's commit-time check of
  the deferred unique ``(tree_id, lft)`` could wait on the tree write's half-shifted
  rows while the tree write waits on the edit's row, a deadlock (seen as a 500 under
  8 concurrent writers). Waiting for the row first, having changed nothing, cannot.
* SQLite: one writer at a time already. The settings open every transaction with
  ``BEGIN IMMEDIATE``, so a tree write holds the database's write lock before it reads.

The database also refuses a corrupt tree on its own (constraints on ``JourneyMap``), so a
path that forgets the lock fails instead of storing overlaps.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from .models import JourneyMap
from .models.journeys import TREE_FIELDS

_NAMESPACE = 0x4A48  # "JH": keeps our advisory locks apart from anyone else's
_FOREST = 0  # tree ids start at 1, so 0 names the forest itself


def _advisory(key: int, *, shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [_NAMESPACE, key])


def _tree_fields(map_ids: Iterable[int]) -> dict[int, dict]:
    rows = JourneyMap.objects.filter(pk__in=list(map_ids)).values("pk", *TREE_FIELDS)
    return {row.pop("pk"): row for row in rows}


def _lock_rows(tree_ids: set[int] | None) -> None:
    """Row-lock the maps of ``tree_ids`` (``None``: every map, as a root-level write
    shifts the tree ids of later trees), waiting for any edit that holds one. Only a
    count comes back, however many maps are locked."""
    where = "" if tree_ids is None else "WHERE tree_id = ANY(%s)"
    table = JourneyMap._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} {where} FOR NO KEY UPDATE) AS held",
            [] if tree_ids is None else [sorted(tree_ids)],
        )


def lock_for_tree_write(*maps: JourneyMap | None, root_level: bool = False) -> None:
    """Lock the trees of ``maps`` (or, with ``root_level``, the whole forest) until the
    transaction ends, then refresh the tree fields of those in-memory maps so mptt
    computes from the current numbers.

    A map can change tree between reading its tree id and locking it (a concurrent
    root-level write); the ids are read again after locking until they are stable.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Tree locks last for a transaction: call inside transaction.atomic.")
    saved = [m for m in maps if m is not None and m.pk is not None]
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        _advisory(_FOREST, shared=not root_level)
    current = _tree_fields(m.pk for m in saved)
    locked: set[int] = set()
    if postgresql and not root_level:
        while missing := {row["tree_id"] for row in current.values()} - locked:
            for tree_id in sorted(missing):
                _advisory(tree_id)
            locked |= missing
            current = _tree_fields(m.pk for m in saved)
    if postgresql:
        _lock_rows(None if root_level else locked)
    for journey_map in saved:
        for name, value in current[journey_map.pk].items():
            setattr(journey_map, name, value)


def is_root_level_move(node: JourneyMap, target: JourneyMap, position: str) -> bool:
    """Whether mptt's ``move_node`` would create or remove a tree (and so shift tree ids)."""
    becomes_root = position in ("left", "right") and target.parent_id is None
    return becomes_root or node.parent_id is None

"""On PostgreSQL a tree write waits for an edit holding one of the tree's maps before it
renumbers anything (runs in the PostgreSQL pass; SQLite has one writer at a time).

Without that, a tree write halfway through renumbering meets the row an edit holds, the
edit's commit-time check of the deferred unique ``(tree_id, lft)`` waits on a
half-shifted row, and PostgreSQL breaks the deadlock with an error (a 500 under load).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models import F

from maps import services
from maps.models import JourneyMap

pytestmark = pytest.mark.django_db(transaction=True)


def _blocked_query(pid: int) -> str | None:
    """The statement backend ``pid`` is waiting in for a lock, if it is waiting."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'",
            [pid],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_tree_write_waits_for_an_edited_map_before_renumbering_any(owner):
    if connection.vendor != "postgresql":
        pytest.skip("row locks of tree writes are PostgreSQL's (SQLite: BEGIN IMMEDIATE)")
    root = services.map_create(owner=owner, title="Lifecycle", status="published")
    left = services.map_create(owner=owner, title="Left", parent=root, status="draft")
    services.map_create(owner=owner, title="Right", parent=root, status="draft")

    edit_holds_root = threading.Event()
    release_edit = threading.Event()
    writer_pid: list[int] = []
    outcome: dict[str, object] = {}

    def edit() -> None:  # a content edit: bumps the root's version, no tree lock
        try:
            with transaction.atomic():
                JourneyMap.objects.filter(pk=root.pk).update(version=F("version") + 1)
                edit_holds_root.set()
                release_edit.wait(30)
        finally:
            connections.close_all()

    def tree_write() -> None:  # a sub-map under Left: renumbers the root's rght
        try:
            connection.ensure_connection()
            writer_pid.append(connection.connection.info.backend_pid)
            outcome["map"] = services.map_create(
                owner=owner, title="Under left", parent=JourneyMap.objects.get(pk=left.pk)
            )
        except Exception as exc:  # reported below, with the test's own assertion
            outcome["error"] = exc
        finally:
            connections.close_all()

    editor = threading.Thread(target=edit)
    editor.start()
    assert edit_holds_root.wait(10)
    writer = threading.Thread(target=tree_write)
    writer.start()
    try:
        deadline = time.monotonic() + 10
        waiting_in = None
        while waiting_in is None and time.monotonic() < deadline:
            time.sleep(0.05)
            waiting_in = writer_pid and _blocked_query(writer_pid[0])
        assert waiting_in, "the tree write did not wait for the edited map"
        # it waits in the row-locking SELECT, having renumbered nothing
        assert waiting_in.lstrip().upper().startswith("SELECT"), waiting_in
    finally:
        release_edit.set()
        editor.join(30)
        writer.join(30)
    assert "error" not in outcome, outcome.get("error")

    rows = {m.pk: m for m in JourneyMap.objects.all()}
    created = rows[outcome["map"].pk]
    assert created.parent_id == left.pk
    assert (rows[left.pk].lft, rows[left.pk].rght) == (created.lft - 1, created.rght + 1)
    assert rows[root.pk].rght == 2 * len(rows)
    assert rows[root.pk].version == root.version + 1

"""Importing where work items stand from a delivery tool's CSV export.

The columns are found by their header, in the names the tools' own exports use: Jira
("Issue key", "Summary", "Status", "Assignee", "Updated"), Linear ("ID", "Title",
"Status", "Assignee", "Updated"), Azure DevOps ("ID", "Title", "State", "Assigned To",
"Changed Date"), or plain "key" and "status". Only the key and the status are required.

All or nothing, like every import here: every row is checked first, problems name the
line and column, and only a file without problems is written (bulk upsert by key)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from maps.imports import ImportRefused, Problems
from maps.models import CXProject, DeliveryStatus

from .links import normalise_key, recognise

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# each column's header names, the most specific first (Jira exports both "Issue key" and
# "Issue id": the key is what links carry)
COLUMNS: dict[str, tuple[str, ...]] = {
    "key": ("key", "issue key", "identifier", "id", "work item id"),
    "status": ("status", "state"),
    "title": ("title", "summary"),
    "assignee": ("assignee", "assigned to"),
    "updated": ("updated", "updated at", "changed date", "last updated"),
}
REQUIRED = ("key", "status")
DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",  # Jira's default export: 30/Nov/26 10:15 AM
    "%m/%d/%Y %I:%M:%S %p",  # Azure DevOps: 11/30/2026 10:15:00 AM
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
# a tool's status words -> where the work stands; the status itself is kept as written
STATE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (DeliveryStatus.State.CANCELLED, ("cancel", "won't", "wont", "duplicate", "rejected",
                                      "obsolete", "abandon", "declined")),
    (DeliveryStatus.State.DONE, ("done", "closed", "resolved", "complete", "shipped",
                                 "released", "merged", "fixed", "deployed", "live")),
    (DeliveryStatus.State.DOING, ("progress", "review", "doing", "active", "started",
                                  "testing", "qa", "development", "blocked", "committed")),
    (DeliveryStatus.State.TODO, ("to do", "todo", "open", "backlog", "new", "triage",
                                 "selected", "ready", "planned", "unstarted", "proposed")),
)  # fmt: skip


def state_of(status: str) -> str:
    words = status.strip().lower()
    for state, markers in STATE_WORDS:
        if any(re.search(rf"\b{re.escape(m)}", words) for m in markers):
            return state
    return DeliveryStatus.State.UNKNOWN


@dataclass
class StatusImportResult:
    created: int
    updated: int
    unchanged: int
    on_projects: int  # keys of this file that a project's delivery links carry

    @property
    def summary(self) -> str:
        return (
            f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.on_projects} of them linked from CX projects."
        )


def _columns(header: list[str], problems: Problems) -> dict[str, int]:
    names = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                found[column] = names.index(alias)
                break
    for column in REQUIRED:
        if column not in found:
            problems.add(
                f"line 1: no {column} column (one of: {', '.join(COLUMNS[column])}); "
                f"the header has: {', '.join(h for h in header if h.strip()) or 'nothing'}"
            )
    return found


def _when(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
        for pattern in DATE_FORMATS:
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if value is None:
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def too_large(size: int) -> str:
    return f"The file is {size:,} bytes; at most {MAX_BYTES:,}."


def _read(raw: bytes, problems: Problems) -> list[dict]:
    if len(raw) > MAX_BYTES:
        raise ImportRefused([too_large(len(raw))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([f"The file is not UTF-8 text (byte {exc.start + 1})."]) from exc
    if "\0" in text:
        raise ImportRefused(["The file contains a NUL byte: not a CSV export."])
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportRefused(["The file is empty: expected a header line and rows."]) from None
    columns = _columns(header, problems)
    if problems:
        raise problems.refused()
    rows: list[dict] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportRefused([f"More than {MAX_ROWS:,} rows: split the file."])
            row = {c: (cells[i].strip() if i < len(cells) else "") for c, i in columns.items()}
            key = normalise_key(row["key"])
            if not key:
                problems.add(f"line {line}, column {header[columns['key']]!r}: the key is empty")
            elif len(key) > 200:
                problems.add(f"line {line}, column {header[columns['key']]!r}: key too long")
            elif key in seen:
                problems.add(f"line {line}: {row['key']} is also on line {seen[key]}")
            else:
                seen[key] = line
            if not row["status"]:
                problems.add(f"line {line}, column {header[columns['status']]!r}: no status")
            elif len(row["status"]) > 80:
                problems.add(f"line {line}, column {header[columns['status']]!r}: too long")
            updated = None
            if row.get("updated"):
                updated = _when(row["updated"])
                if updated is None:
                    problems.add(
                        f"line {line}, column {header[columns['updated']]!r}: "
                        f"{row['updated']!r} is not a date (e.g. 2026-11-30 10:15)"
                    )
            rows.append(
                {
                    "key": key,
                    "status": row["status"],
                    "state": state_of(row["status"]),
                    "title": row.get("title", "")[:300],
                    "assignee": row.get("assignee", "")[:150],
                    "source_updated_at": updated,
                }
            )
    except csv.Error as exc:
        problems.add(f"line {reader.line_num}: {exc}")
    if not rows and not problems:
        problems.add("The file has a header but no rows.")
    if problems:
        raise problems.refused()
    return rows


FIELDS = ("status", "state", "title", "assignee", "source_updated_at")


def keys_on_projects() -> set[str]:
    """Every work item key a project's delivery links carry."""
    keys: set[str] = set()
    for links in CXProject.objects.exclude(external_links=[]).values_list(
        "external_links", flat=True
    ):
        keys.update(recognise(text).status_key for text in links if isinstance(text, str))
    keys.discard("")
    return keys


def import_delivery_status(raw: bytes, *, by) -> StatusImportResult:
    """Write the statuses of a CSV export (all or nothing); ``ImportRefused`` names the
    problems."""
    rows = _read(raw, Problems())
    with transaction.atomic():
        existing = {
            s.key: s for s in DeliveryStatus.objects.filter(key__in=[r["key"] for r in rows])
        }
        new, changed = [], []
        for row in rows:
            current = existing.get(row["key"])
            if current is None:
                new.append(DeliveryStatus(**row, imported_by=by))
                continue
            if all(getattr(current, f) == row[f] for f in FIELDS):
                continue
            for f in FIELDS:
                setattr(current, f, row[f])
            current.imported_by = by
            current.imported_at = timezone.now()
            changed.append(current)
        # an upsert: an import of the same keys committed meanwhile is overwritten, not a 500
        DeliveryStatus.objects.bulk_create(
            [*new, *changed],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=[*FIELDS, "imported_by", "imported_at"],
        )
    linked = keys_on_projects()
    return StatusImportResult(
        created=len(new),
        updated=len(changed),
        unchanged=len(rows) - len(new) - len(changed),
        on_projects=sum(1 for r in rows if r["key"] in linked),
    )

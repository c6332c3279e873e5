"""The inventory of journey maps kept in other tools: who may do what, the writes, and
the reads the inventory page, its CSV export, the API and the admin share.

Journey management starts by listing the maps an organisation already has (slide
decks, spreadsheets, Miro boards …) and bringing them in one by one. Each entry is
*to migrate* until it is *migrated* (linked to the JourneyHub map that replaces it) or
*retired* (with the reason).

Policy (the same shape as ``governance/permissions.py``: a queryset form and an object
form of each decision):

* every signed-in user reads the whole inventory: it lists titles, tools and links
  only, and a JourneyHub map it points at is named only to those who may see that map;
* every signed-in user adds entries; they own what they add;
* an entry is changed (edited, marked migrated, retired, reopened) by its owner, the
  members of its team, CX leadership and admins — like a map's content;
* only CX leadership and admins give an entry to another owner; others set a team
  only to one of their own teams;
* an entry is marked migrated only to a map the user may see.

Writes carry the ``version`` they started from: a stale edit is refused with
``InventoryConflict`` (409 in the API) and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import Http404

from maps.models import JourneyMap
from maps.research import attachment_check

from . import permissions
from .field_policy import FieldsDenied
from .models import ExternalMap

Status = ExternalMap.Status

EDIT_DENIED = "Only the entry's owner, its team, CX leadership and admins may change it."
OWNER_DENIED = "Only CX leadership and admins give an inventory entry to someone else."
TEAM_DENIED = "Choose one of your own teams; CX leadership and admins may choose any team."
MAP_MISSING = "No such JourneyHub map that you may see."

#: fields an edit may change (status and its companions change through ``entry_set_status``)
EDITABLE_FIELDS = ("title", "tool", "link", "owner", "team", "area", "notes", "last_updated")


# --- policy ---------------------------------------------------------------------------


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def visible_entries(user, queryset: QuerySet[ExternalMap] | None = None) -> QuerySet:
    """Every entry for every signed-in user (the inventory is a shared to-do list)."""
    qs = ExternalMap.objects.all() if queryset is None else queryset
    return qs if _active(user) else qs.none()


def editable_entries(user, queryset: QuerySet[ExternalMap] | None = None) -> QuerySet:
    """Entries the user may change: their own and their teams'; all for leadership."""
    qs = ExternalMap.objects.all() if queryset is None else queryset
    if not _active(user):
        return qs.none()
    if permissions.is_leadership(user):
        return qs
    q = Q(owner=user)
    group_ids = permissions._group_ids(user)
    if group_ids:
        q |= Q(team_id__in=group_ids)
    return qs.filter(q)


def can_add_entry(user) -> bool:
    return _active(user)


def can_edit_entry(user, entry: ExternalMap) -> bool:
    if not _active(user):
        return False
    if entry.owner_id == user.pk or permissions.is_leadership(user):
        return True
    return bool(entry.team_id and entry.team_id in permissions._group_ids(user))


def may_assign_owner(user) -> bool:
    return permissions.is_leadership(user)


def assignable_teams(user) -> QuerySet[Group]:
    """The teams the user may give an entry: all for leadership, else their own."""
    if permissions.is_leadership(user):
        return Group.objects.order_by("name")
    if not _active(user):
        return Group.objects.none()
    return Group.objects.filter(pk__in=permissions._group_ids(user)).order_by("name")


def get_entry_for_user(user, pk: Any, *, edit: bool = False) -> ExternalMap:
    """The gate: 404 for no such entry (or anonymous), 403 to change someone else's."""
    entry = None
    if str(pk).isascii() and str(pk).isdigit() and len(str(pk)) < 19:
        entry = (
            visible_entries(user).select_related("owner", "team", "migrated_to").filter(pk=pk)
        ).first()
    if entry is None:
        raise Http404("No such inventory entry.")
    if edit and not can_edit_entry(user, entry):
        raise PermissionDenied(EDIT_DENIED)
    return entry


# --- writes ---------------------------------------------------------------------------


class InventoryConflict(Exception):
    """The entry changed since the edit started; ``current`` is the stored entry."""

    def __init__(self, current: ExternalMap, expected_version: int):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            f"This entry was changed since you opened it (version {expected_version} → "
            f"{current.version}); nothing was saved. Review the current values and save again."
        )


def _check_people(*, by, entry: ExternalMap, owner, team) -> None:
    """Refuse an owner or team the user may not set (403 naming each field)."""
    denials = {}
    if owner is not None and owner.pk != entry.owner_id and not may_assign_owner(by):
        denials["owner"] = OWNER_DENIED
    if (
        team is not None
        and team.pk != entry.team_id
        and not permissions.is_leadership(by)
        and team.pk not in permissions._group_ids(by)
    ):
        denials["team"] = TEAM_DENIED
    if denials:
        raise FieldsDenied(denials)


def _store_upload(entry: ExternalMap, upload: UploadedFile) -> str | None:
    """Check and store an uploaded file on the entry (unsaved); the name of the file it
    replaces, to delete once the save commits."""
    extension, file_type = attachment_check(upload)  # same size limit and sniffing as research
    previous = entry.file.name or None
    entry.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    entry.file_name = (upload.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    entry.file_content_type = file_type.content_type
    entry.file_size = upload.size
    return previous


def _save(entry: ExternalMap, *, by, upload: UploadedFile | None) -> ExternalMap:
    """Validate and save; a refused save leaves no new file behind, a replaced file goes
    on commit."""
    previous = _store_upload(entry, upload) if upload is not None else None
    stored = entry.file.name if upload is not None else None
    try:
        entry.full_clean()
        entry._history_user = by
        entry.save()
    except Exception:
        if stored:
            entry.file.storage.delete(stored)
        raise
    if previous:
        storage = entry.file.storage
        transaction.on_commit(lambda: storage.delete(previous))
    return entry


def _normalise_status(entry: ExternalMap) -> None:
    """A map only when migrated, a reason only when retired."""
    if entry.status != Status.MIGRATED:
        entry.migrated_to = None
    if entry.status != Status.RETIRED:
        entry.retired_reason = ""
    entry.retired_reason = entry.retired_reason.strip()


def _check_status(by, entry: ExternalMap) -> None:
    """Migrated names a map the user may see; retired says why."""
    if entry.status == Status.MIGRATED and entry.migrated_to is None:
        raise ValidationError({"migrated_to": "Choose the JourneyHub map this one became."})
    if entry.status == Status.RETIRED and not entry.retired_reason:
        raise ValidationError({"retired_reason": "Say why the map is retired."})
    journey_map = entry.migrated_to
    if journey_map and not permissions.visible_maps(by).filter(pk=journey_map.pk).exists():
        raise ValidationError({"migrated_to": MAP_MISSING})


@transaction.atomic
def entry_create(
    *, by, values: Mapping[str, Any], upload: UploadedFile | None = None
) -> ExternalMap:
    """Add an entry, owned by ``by`` unless leadership names another owner. ``values``:
    any of ``EDITABLE_FIELDS`` plus ``status``, ``migrated_to`` and ``retired_reason``
    (an entry may be recorded as already migrated or retired)."""
    if not can_add_entry(by):
        raise PermissionDenied("Sign in to add maps to the inventory.")
    unknown = set(values) - {*EDITABLE_FIELDS, "status", "migrated_to", "retired_reason"}
    if unknown:
        raise ValidationError({name: "Not a field of an inventory entry." for name in unknown})
    entry = ExternalMap(owner=by)
    _check_people(by=by, entry=entry, owner=values.get("owner"), team=values.get("team"))
    for name, value in values.items():
        if value is not None or name in ("team", "migrated_to", "last_updated"):
            setattr(entry, name, value)
    _normalise_status(entry)
    _check_status(by, entry)
    return _save(entry, by=by, upload=upload)


def _lock(entry: ExternalMap, *, by, expected_version: int) -> ExternalMap:
    """The stored entry, locked for the edit; refuses the user or a stale version."""
    # of=self: PostgreSQL locks no row of an outer join (the team is optional)
    current = (
        ExternalMap.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .get(pk=entry.pk)
    )
    if not can_edit_entry(by, current):
        raise PermissionDenied(EDIT_DENIED)
    if current.version != expected_version:
        raise InventoryConflict(current, expected_version)
    return current


@transaction.atomic
def entry_update(
    *,
    entry: ExternalMap,
    by,
    expected_version: int,
    values: Mapping[str, Any],
    upload: UploadedFile | None = None,
    remove_file: bool = False,
) -> ExternalMap:
    """Change an entry's description (``EDITABLE_FIELDS``), its file, or both."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            {
                name: "Change the status with “mark migrated”, “retire” or “reopen”."
                for name in unknown
            }
        )
    current = _lock(entry, by=by, expected_version=expected_version)
    owner = values.get("owner")
    team = values.get("team", current.team)
    _check_people(by=by, entry=current, owner=owner, team=team)
    for name, value in values.items():
        if name == "owner" and value is None:
            continue  # an entry always has an owner: None means "unchanged"
        setattr(current, name, value)
    if remove_file and upload is None and current.file:
        previous = current.file.name
        current.file = ""
        current.file_name = current.file_content_type = ""
        current.file_size = None
        storage = ExternalMap._meta.get_field("file").storage
        transaction.on_commit(lambda: storage.delete(previous))
    current.version += 1
    return _save(current, by=by, upload=upload)


@transaction.atomic
def entry_set_status(
    *,
    entry: ExternalMap,
    by,
    expected_version: int,
    status: str,
    migrated_to: JourneyMap | None = None,
    retired_reason: str = "",
) -> ExternalMap:
    """Mark an entry migrated (to a map the user may see), retired (with a reason) or
    back to migrate."""
    current = _lock(entry, by=by, expected_version=expected_version)
    if status not in Status.values:
        raise ValidationError({"status": "Choose to migrate, migrated or retired."})
    current.status = status
    current.migrated_to = migrated_to
    current.retired_reason = retired_reason or ""
    _normalise_status(current)
    _check_status(by, current)
    current.version += 1
    return _save(current, by=by, upload=None)


@receiver(post_delete, sender=ExternalMap, dispatch_uid="inventory_entry_file")
def _remove_file_on_commit(sender, instance: ExternalMap, **kwargs) -> None:
    """An entry deleted (in the admin) takes its file with it once the deletion commits."""
    if instance.file and instance.file.name:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))


# --- reads ----------------------------------------------------------------------------


@dataclass
class StatusCount:
    status: str
    label: str
    count: int
    percent: float


@dataclass
class ToolRow:
    tool: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        """Migrated or retired: nothing left to do."""
        return self.counts.get(Status.MIGRATED, 0) + self.counts.get(Status.RETIRED, 0)

    @property
    def percent_done(self) -> float:
        return round(100 * self.done / self.total, 1) if self.total else 0.0

    def count(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def to_migrate(self) -> int:
        return self.count(Status.TO_MIGRATE)

    @property
    def migrated(self) -> int:
        return self.count(Status.MIGRATED)

    @property
    def retired(self) -> int:
        return self.count(Status.RETIRED)


@dataclass
class Progress:
    total: int
    statuses: list[StatusCount]
    tools: list[ToolRow]

    @property
    def done(self) -> int:
        return sum(s.count for s in self.statuses if s.status != Status.TO_MIGRATE)

    @property
    def percent_done(self) -> float:
        return round(100 * self.done / self.total, 1) if self.total else 0.0


def inventory_progress(entries: QuerySet[ExternalMap]) -> Progress:
    """Counts and shares by status, and by tool and status, of ``entries`` (one query).
    Percentages are of the entries given, rounded to one decimal."""
    rows = entries.order_by().values_list("tool", "status").annotate(n=Count("pk"))
    by_tool: dict[str, ToolRow] = {}
    by_status = dict.fromkeys(Status.values, 0)
    for tool, status, n in rows:
        row = by_tool.setdefault(tool, ToolRow(tool, ExternalMap.Tool(tool).label))
        row.counts[status] = row.counts.get(status, 0) + n
        by_status[status] += n
    total = sum(by_status.values())
    statuses = [
        StatusCount(s, Status(s).label, n, round(100 * n / total, 1) if total else 0.0)
        for s, n in by_status.items()
    ]
    tools = sorted(by_tool.values(), key=lambda r: (-r.total, r.label))
    return Progress(total=total, statuses=statuses, tools=tools)


def shown_map_ids(user, entries: Iterable[ExternalMap]) -> set[int]:
    """Which of the entries' JourneyHub maps the user may see (one query, none if no
    entry is migrated): a hidden draft is never named."""
    ids = {e.migrated_to_id for e in entries if e.migrated_to_id}
    if not ids:
        return set()
    return set(permissions.visible_maps(user).filter(pk__in=ids).values_list("pk", flat=True))


def mark_shown_maps(user, entries: list[ExternalMap]) -> list[ExternalMap]:
    """Set ``shown_map`` on each entry: its JourneyHub map when the user may see it."""
    shown = shown_map_ids(user, entries)
    for entry in entries:
        entry.shown_map = entry.migrated_to if entry.migrated_to_id in shown else None
    return entries


def inventory_owners() -> QuerySet:
    """People who own entries, for the owner filter."""
    return (
        get_user_model()
        .objects.filter(inventory_entries__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


CSV_COLUMNS = (
    "id",
    "title",
    "tool",
    "status",
    "link",
    "file",
    "owner",
    "team",
    "journey_or_area",
    "notes",
    "last_updated",
    "journeyhub_map",
    "journeyhub_map_url",
    "retired_reason",
    "created_at",
    "updated_at",
)


def csv_rows(entries: list[ExternalMap], *, base_url: str = "") -> list[list[Any]]:
    """One row per entry (after ``mark_shown_maps``), in ``CSV_COLUMNS`` order; the
    caller neutralises formula-like text."""
    rows = []
    for e in entries:
        owner = e.owner.get_full_name() or e.owner.username
        rows.append(
            [
                e.pk,
                e.title,
                e.get_tool_display(),
                e.get_status_display(),
                e.link,
                e.file_name,
                owner,
                e.team.name if e.team else "",
                e.area,
                e.notes,
                e.last_updated.isoformat() if e.last_updated else "",
                e.shown_map.title if e.shown_map else "",
                base_url + e.shown_map.get_absolute_url() if e.shown_map else "",
                e.retired_reason,
                e.created_at.isoformat(timespec="seconds"),
                e.updated_at.isoformat(timespec="seconds"),
            ]
        )
    return rows

"""What a TheyDo import will do, worked out before anything is written, and the pieces
every format shares: TheyDo's "omitted / null / value" rule, owners matched by e-mail,
tags created when missing, and bulk writes that keep history (m2m included).

TheyDo's re-import rule (its README, "Specific Schema Ingestion Rules"): a key that is
omitted leaves the field as it is, ``null`` clears it, a value replaces it; a list
replaces the linked set. ``ownerEmail`` names a user of the workspace: one that matches
no user is treated as omitted, and users are never created.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from ..models import Tag, TagGroup


class _Missing:
    """A key the file leaves out: falsy, so ``given(item, "tags") or ()`` reads well."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def given(data: Mapping[str, Any], key: str) -> Any:
    """The file's value of ``key``: ``MISSING`` when omitted, ``None`` when null."""
    return data.get(key, MISSING) if isinstance(data, Mapping) else MISSING


#: the key an export gives an object that has none (``maps.theydo.export``)
LOCAL_KEY = re.compile(r"jh-([1-9][0-9]{0,17})")


def local_keys(keys: Iterable[str]) -> dict[int, str]:
    """The objects of ours a file names by the key our export gave them (``jh-<pk>``),
    by primary key: importing an export back into the same map updates them instead of
    creating copies."""
    found = {}
    for key in keys:
        match = LOCAL_KEY.fullmatch(key) if isinstance(key, str) else None
        if match:
            found[int(match[1])] = key
    return found


def adopt_local(existing: dict[str, Any], queryset, keys: Iterable[str]) -> None:
    """Add to ``existing`` (import key → object) the unkeyed objects of ``queryset``
    that the file names by their ``jh-<pk>`` key (one query)."""
    wanted = local_keys(k for k in keys if k not in existing)
    if wanted:
        for obj in queryset.filter(pk__in=wanted, import_key__isnull=True):
            existing[wanted[obj.pk]] = obj


def history_user(by):
    """The user history records: ``None`` for system imports (commands)."""
    return by if getattr(by, "pk", None) else None


@dataclass(frozen=True)
class Change:
    noun: str  # "KPI", "insight", "CX project", "quote" …
    key: str  # the file's importKey (or surveyId, responseId)
    title: str
    action: str  # "create" | "update" | "unchanged"
    fields: tuple[str, ...] = ()  # what an update changes, in the file's names


@dataclass
class ImportPlan:
    """The outcome of checking a file against the map: what will be created, updated and
    left alone, and the writes that do it (``apply``, inside the caller's transaction)."""

    format: str
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # e.g. observations, tags created
    notes: list[str] = field(default_factory=list)  # what the file asked for but we did not do
    writes: list[Callable[[], None]] = field(default_factory=list)

    def add(self, noun: str, key: str, title: str, changed: Iterable[str] | None) -> None:
        """``changed`` None: a new object; empty: nothing to change."""
        if changed is None:
            self.changes.append(Change(noun, key, title, "create"))
        else:
            changed = tuple(changed)
            self.changes.append(
                Change(noun, key, title, "update" if changed else "unchanged", changed)
            )

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def apply(self) -> None:
        for write in self.writes:
            write()

    def summary(self) -> dict[str, Any]:
        """What the API answers and the browser shows."""
        tally: dict[str, Counter] = {a: Counter() for a in ("create", "update", "unchanged")}
        for change in self.changes:
            tally[change.action][change.noun] += 1
        return {
            "format": self.format,
            "created": dict(tally["create"]),
            "updated": dict(tally["update"]),
            "unchanged": dict(tally["unchanged"]),
            "counts": self.counts,
            "notes": self.notes,
            "changes": [
                {
                    "action": c.action,
                    "kind": c.noun,
                    "key": c.key,
                    "title": c.title,
                    "fields": list(c.fields),
                }
                for c in self.changes
            ],
        }

    @property
    def text(self) -> str:
        """One sentence: "Created 2 KPIs and 1 insight; updated 3 KPIs; 4 left as they were"."""
        parts = []
        for action, verb in (("create", "created"), ("update", "updated")):
            nouns = Counter(c.noun for c in self.of(action))
            if nouns:
                parts.append(f"{verb} " + ", ".join(plural(n, noun) for noun, n in nouns.items()))
        unchanged = len(self.of("unchanged"))
        if unchanged:
            parts.append(f"{unchanged} left as {'they were' if unchanged != 1 else 'it was'}")
        if self.counts.get("observations"):
            parts.append(plural(self.counts["observations"], "data point") + " recorded")
        text = "; ".join(parts) or "nothing to import"
        return text[0].upper() + text[1:] + "."


def plural(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    if noun.endswith("y") and not noun.endswith(("ey", "ay", "oy")):
        return f"{n} {noun[:-1]}ies"
    return f"{n} {noun}s"


# --- owners ------------------------------------------------------------------------


def owners_by_email(emails: Iterable[str]) -> dict[str, Any]:
    """The active user of each e-mail address (lower-cased), in one query. An address
    shared by two users matches nobody: the file cannot say which one it means."""
    wanted = {e.strip().lower() for e in emails if isinstance(e, str) and e.strip()}
    if not wanted:
        return {}
    users = (
        get_user_model()
        .objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=wanted, is_active=True)
    )
    found: dict[str, list] = defaultdict(list)
    for user in users:
        found[user.email_lower].append(user)
    return {email: matches[0] for email, matches in found.items() if len(matches) == 1}


def owner_change(
    obj: models.Model, raw: Any, owners: Mapping[str, Any], *, path: str, notes: list[str]
) -> tuple[bool, Any]:
    """TheyDo's ``ownerEmail`` rule for one object with an ``owner`` field: (whether the
    owner changes, the new owner). Omitted: left; null: removed; an address: the user it
    matches, or — matching nobody — treated as omitted (noted)."""
    if raw is MISSING:
        return False, None
    if raw is None:
        return obj.owner_id is not None, None
    user = owners.get(raw.strip().lower())
    if user is None:
        notes.append(f"{path}: “{raw}” is no user's e-mail address here: owner left as it is")
        return False, None
    return obj.owner_id != user.pk, user


# --- tags --------------------------------------------------------------------------

#: the three parts of an item's tags, each replaced on its own by the file's key
TAG_PARTS = ("tags", "groups", "groupTags")


def _tag_category(part: str) -> models.Q:
    if part == "tags":
        return models.Q(tag__kind=Tag.Kind.TAG, tag__group__isnull=True)
    if part == "groups":
        return models.Q(tag__kind=Tag.Kind.GROUP)
    return models.Q(tag__kind=Tag.Kind.TAG, tag__group__isnull=False)


class TagResolver:
    """Tags, groups and grouped tags named by a file: found case-insensitively in three
    queries, the missing ones created in bulk when the import is applied (TheyDo creates
    tag groups and tags it does not know)."""

    def __init__(self) -> None:
        self.names: dict[str, set[str]] = {"tags": set(), "groups": set()}
        self.grouped: set[tuple[str, str]] = set()  # (group, tag), lower-cased
        self.spelling: dict[Any, str] = {}  # first spelling in the file of each lower name
        self.groups: dict[str, TagGroup] = {}
        self.tags: dict[Any, Tag] = {}  # ("tags"|"groups", name) or (group, name) → Tag

    def want(self, item: Mapping[str, Any]) -> None:
        for part in ("tags", "groups"):
            for name in given(item, part) or ():
                key = (part, name.strip().lower())
                self.names[part].add(key[1])
                self.spelling.setdefault(key, name.strip())
        for pair in given(item, "groupTags") or ():
            key = (pair["tagGroup"].strip().lower(), pair["tag"].strip().lower())
            self.grouped.add(key)
            self.spelling.setdefault(key, pair["tag"].strip())
            self.spelling.setdefault(("group", key[0]), pair["tagGroup"].strip())

    def resolve(self) -> None:
        """Read the existing ones (no writes)."""
        lower = Lower("name")
        for part, kind in (("tags", Tag.Kind.TAG), ("groups", Tag.Kind.GROUP)):
            if self.names[part]:
                for tag in Tag.objects.annotate(n=lower).filter(
                    kind=kind, group__isnull=True, n__in=self.names[part]
                ):
                    self.tags[(part, tag.name.lower())] = tag
        group_names = {g for g, _ in self.grouped}
        if group_names:
            for group in TagGroup.objects.annotate(n=lower).filter(n__in=group_names):
                self.groups[group.name.lower()] = group
            for tag in (
                Tag.objects.annotate(n=lower)
                .filter(group__in=self.groups.values(), n__in={t for _, t in self.grouped})
                .select_related("group")
            ):
                self.tags[(tag.group.name.lower(), tag.name.lower())] = tag

    @property
    def missing(self) -> dict[str, int]:
        """How many tag groups, tags and groups the import will create (for the preview)."""
        counts = Counter()
        for part in ("tags", "groups"):
            counts[part] = sum(1 for n in self.names[part] if (part, n) not in self.tags)
        counts["tag groups"] = len({g for g, _ in self.grouped} - set(self.groups))
        counts["tags"] += sum(1 for key in self.grouped if key not in self.tags)
        return {name: n for name, n in counts.items() if n}

    def create_missing(self) -> None:
        new_groups = [
            TagGroup(name=self.spelling[("group", g)])
            for g in sorted({g for g, _ in self.grouped} - set(self.groups))
        ]
        for group in TagGroup.objects.bulk_create(new_groups):
            self.groups[group.name.lower()] = group
        new_tags = []
        for part, kind in (("tags", Tag.Kind.TAG), ("groups", Tag.Kind.GROUP)):
            for name in sorted(self.names[part]):
                if (part, name) not in self.tags:
                    new_tags.append(Tag(kind=kind, name=self.spelling[(part, name)]))
        for key in sorted(self.grouped):
            if key not in self.tags:
                new_tags.append(
                    Tag(kind=Tag.Kind.TAG, group=self.groups[key[0]], name=self.spelling[key])
                )
        for tag in Tag.objects.bulk_create(new_tags):
            if tag.group_id:
                self.tags[(tag.group.name.lower(), tag.name.lower())] = tag
            else:
                part = "groups" if tag.kind == Tag.Kind.GROUP else "tags"
                self.tags[(part, tag.name.lower())] = tag

    def ids(self, item: Mapping[str, Any], part: str) -> set[int]:
        if part == "groupTags":
            return {
                self.tags[(p["tagGroup"].strip().lower(), p["tag"].strip().lower())].pk
                for p in given(item, part) or ()
            }
        return {self.tags[(part, n.strip().lower())].pk for n in given(item, part) or ()}


def tag_parts_changed(item: Mapping[str, Any], current: Iterable[Tag]) -> list[str]:
    """The tag keys of ``item`` that would change ``current`` (the object's tags) — for the
    preview; compares names case-insensitively, so it needs no tag to exist yet."""
    now: dict[str, set] = {"tags": set(), "groups": set(), "groupTags": set()}
    for tag in current:
        if tag.kind == Tag.Kind.GROUP:
            now["groups"].add(tag.name.lower())
        elif tag.group_id:
            now["groupTags"].add((tag.group.name.lower(), tag.name.lower()))
        else:
            now["tags"].add(tag.name.lower())
    changed = []
    for part in TAG_PARTS:
        raw = given(item, part)
        if raw is MISSING:
            continue
        if part == "groupTags":
            wanted = {(p["tagGroup"].strip().lower(), p["tag"].strip().lower()) for p in raw or ()}
        else:
            wanted = {n.strip().lower() for n in raw or ()}
        if wanted != now[part]:
            changed.append(part)
    return changed


def tag_changes(item: Mapping[str, Any], obj: models.Model, *, is_new: bool) -> list[str]:
    """The tag keys of the file's ``item`` that change ``obj``'s tags: every non-empty one
    for a new object."""
    if is_new:
        return [part for part in TAG_PARTS if given(item, part)]
    return tag_parts_changed(item, obj.tags.all())


def tags_replace(
    through: type[models.Model],
    owner_field: str,
    items: Iterable[tuple[int, Mapping[str, Any]]],
    resolver: TagResolver,
) -> None:
    """Replace, for each (object id, file item), every tag part the item gives (omitted
    parts are left), with bulk deletes and one bulk insert."""
    rows = []
    for part in TAG_PARTS:
        replaced = [(pk, item) for pk, item in items if given(item, part) is not MISSING]
        if not replaced:
            continue
        through.objects.filter(
            _tag_category(part), **{f"{owner_field}__in": [pk for pk, _ in replaced]}
        ).delete()
        for pk, item in replaced:
            rows += [
                through(**{f"{owner_field}_id": pk, "tag_id": t}) for t in resolver.ids(item, part)
            ]
    through.objects.bulk_create(rows, ignore_conflicts=True)


# --- writes ------------------------------------------------------------------------


def write_tagged(
    model: type[models.Model],
    *,
    created: list,
    updated: list,
    fields: Iterable[str],
    tagged: list[tuple[models.Model, Mapping[str, Any]]],
    tags: TagResolver,
    by,
    link_field: str,
    then: Callable[[], None] | None = None,
) -> None:
    """Write what a planner found, in bulk: the new and changed objects, ``then`` (links
    the new objects need), their tags, and their history with its m2m rows."""
    model.objects.bulk_create(created)
    model.objects.bulk_update(updated, list(fields))
    if then is not None:
        then()
    tags_replace(model.tags.through, link_field, [(o.pk, item) for o, item in tagged], tags)
    history_write(model, created, by=by, update=False)
    history_write(model, updated, by=by, update=True)


# --- history -----------------------------------------------------------------------


def history_write(model: type[models.Model], objs: list, *, by, update: bool) -> None:
    """History rows for objects written in bulk, with their m2m links (simple-history
    records those only for single saves). Call after the objects' links are written."""
    if not objs:
        return
    rows = model.history.bulk_history_create(objs, update=update, default_user=history_user(by))
    row_of = {row.id: row for row in rows or ()}  # ``id`` of a historical row: the object's pk
    for m2m in getattr(model.history.model, "_history_m2m_fields", ()):
        history_m2m = HistoricalRecords.m2m_models[m2m]
        source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        links = m2m.remote_field.through.objects.filter(**{f"{source}__in": list(row_of)})
        history_m2m.objects.bulk_create(
            history_m2m(history=row_of[obj], id=pk, **{f"{source}_id": obj, f"{target}_id": other})
            for pk, obj, other in links.values_list("id", f"{source}_id", f"{target}_id")
        )

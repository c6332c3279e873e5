"""``THEYDO_SOLUTIONS_V1`` → CX projects addressing the map.

A solution is matched by ``importKey`` among the projects imported through this map
(keys are scoped to it), else it becomes a new project linked to the map:

- ``title``; ``description`` → summary; ``externalLinks``; ``type``; ``priority`` HIGH /
  MEDIUM / LOW; ``tags`` / ``groups`` / ``groupTags`` → tags.
- ``status`` is kept as written (exported back as it was) and mapped to ours by its
  words (``STATUS_WORDS``: "draft" → idea, "in progress" → ongoing, "shipped" → done …);
  a status we do not know leaves ours (a new project starts as an idea) and is noted.
- ``ownerEmail`` → owner, matched to an existing user, never created. JourneyHub projects
  always have an owner, and only CX leadership hands a project to someone else: a new
  project belongs to the matched user when the importer is leadership (or the import
  runs as the system) or is that user, else to the importer; ``null`` or an address
  nobody here has leaves the owner as it is. Each such case is noted in the summary.
- Updating a project needs the right to edit it (its owner, its team, leadership).
"""

from __future__ import annotations

import re
from typing import Any

from governance import permissions as policy

from ..imports import Problems
from ..models import CXProject
from . import plan as p
from .items import Field, assign, clean_or_report

FORMAT = "THEYDO_SOLUTIONS_V1"

FIELDS = (
    Field("title", "title", ""),
    Field("description", "summary", ""),
    Field("externalLinks", "external_links", []),
    Field("type", "project_type", ""),
)
BY_ATTR = {f.attr: f.key for f in FIELDS} | {"status": "status", "priority": "priority"}
SAVED = ("title", "summary", "external_links", "project_type", "priority", "status",
         "source_status", "owner", "import_key", "import_map")  # fmt: skip
PRIORITIES = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}

#: the words of other tools' statuses → ours (compared lower-cased, "_"/"-" as spaces)
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("idea", "draft", "new", "proposed", "backlog", "open", "discovery", "exploring",
         "under consideration", "triage"),
        CXProject.Status.IDEA,
    ),
    **dict.fromkeys(
        ("planned", "todo", "to do", "ready", "approved", "scheduled", "next", "committed",
         "not started", "prioritised", "prioritized"),
        CXProject.Status.PLANNED,
    ),
    **dict.fromkeys(
        ("in progress", "ongoing", "doing", "started", "active", "in development",
         "building", "wip", "in review", "testing", "validating", "piloting"),
        CXProject.Status.ONGOING,
    ),
    **dict.fromkeys(
        ("done", "completed", "complete", "shipped", "released", "live", "launched",
         "delivered", "closed", "resolved", "implemented"),
        CXProject.Status.DONE,
    ),
    **dict.fromkeys(
        ("cancelled", "canceled", "rejected", "won't do", "wont do", "archived",
         "abandoned", "dropped", "declined", "on hold"),
        CXProject.Status.CANCELLED,
    ),
}  # fmt: skip


def status_of(text: str) -> str | None:
    return STATUS_WORDS.get(re.sub(r"[\s_-]+", " ", text.strip().lower()))


def plan(*, journey_map, data: dict[str, Any], by, problems: Problems) -> p.ImportPlan:
    result = p.ImportPlan(FORMAT)
    entries = data["solutions"]
    existing = {
        project.import_key: project
        for project in CXProject.objects.filter(
            import_map=journey_map, import_key__in=[e["importKey"] for e in entries]
        )
        .select_related("owner")
        .prefetch_related("tags__group")
    }
    p.adopt_local(  # projects of the map without a key, named by the key our export gave them
        existing,
        CXProject.objects.filter(maps=journey_map)
        .select_related("owner")
        .prefetch_related("tags__group"),
        [e["importKey"] for e in entries],
    )
    owners = p.owners_by_email(e.get("ownerEmail") for e in entries)
    tags = p.TagResolver()
    for entry in entries:
        tags.want(entry)
    tags.resolve()
    leader = by is None or policy.is_leadership(by)

    created: list[CXProject] = []
    updated: list[CXProject] = []
    tagged: list[tuple[CXProject, dict]] = []
    for i, entry in enumerate(entries):
        path = f"solutions[{i}]"
        key = entry["importKey"]
        project = existing.get(key)
        is_new = project is None
        if not is_new and by is not None and not policy.can_edit_project(by, project):
            problems.add(
                f"{path}: you may not change the project “{project.title}” (its owner, its "
                "team or CX leadership may)"
            )
            continue
        if is_new:
            project = CXProject(
                import_map=journey_map,
                import_key=key,
                owner=by if by is not None else journey_map.owner,
            )
        changed: list[str] = []
        if project.import_key != key:
            project.import_key, project.import_map = key, journey_map
            changed.append("importKey")
        assign(project, entry, FIELDS, changed)
        _status(project, entry, path, changed, result.notes)
        priority = p.given(entry, "priority")
        if priority is not p.MISSING and project.priority != PRIORITIES.get(priority, ""):
            project.priority = PRIORITIES.get(priority, "")
            changed.append("priority")
        _owner(project, entry, path, owners, leader, by, changed, result.notes)
        tag_parts = p.tag_changes(entry, project, is_new=is_new)
        changed += tag_parts
        if tag_parts:
            tagged.append((project, entry))
        if not clean_or_report(project, path, BY_ATTR, problems, ["owner", "team"]):
            continue
        result.add("CX project", key, project.title, None if is_new else changed)
        if is_new:
            created.append(project)
        elif changed:
            updated.append(project)
    result.counts.update({f"{noun} created": n for noun, n in tags.missing.items()})

    def link_to_map() -> None:
        link = CXProject.maps.through
        link.objects.bulk_create(
            [link(cxproject_id=c.pk, journeymap_id=journey_map.pk) for c in created]
        )

    def write() -> None:
        tags.create_missing()
        p.write_tagged(CXProject, created=created, updated=updated, fields=SAVED, tagged=tagged,
                       tags=tags, by=by, link_field="cxproject", then=link_to_map)  # fmt: skip

    result.writes.append(write)
    return result


def _status(project: CXProject, entry: dict, path: str, changed: list[str], notes) -> None:
    raw = p.given(entry, "status")
    if raw is p.MISSING:
        return
    written = (raw or "").strip()
    if project.source_status != written:
        project.source_status = written
        changed.append("status")
    ours = status_of(written) if written else None
    if written and ours is None:
        notes.append(
            f"{path}.status: “{written}” is not a status we know; the project stays "
            f"“{project.get_status_display()}” (kept as written for exports)"
        )
    if ours is not None and ours != project.status:
        project.status = ours
        if "status" not in changed:
            changed.append("status")


def _owner(project, entry, path, owners, leader: bool, by, changed, notes) -> None:
    raw = p.given(entry, "ownerEmail")
    if raw is p.MISSING:
        return
    if raw is None:
        if project.pk:
            notes.append(f"{path}.ownerEmail: a project always has an owner; kept {project.owner}")
        return
    user = owners.get(raw.strip().lower())
    if user is None:
        notes.append(f"{path}.ownerEmail: “{raw}” is no user's e-mail address here; owner kept")
        return
    if user.pk == project.owner_id:
        return
    if not leader and user.pk != by.pk:
        notes.append(
            f"{path}.ownerEmail: only CX leadership hands a project to someone else; "
            f"{project.owner} {'stays' if project.pk else 'is'} the owner"
        )
        return
    project.owner = user
    changed.append("ownerEmail")

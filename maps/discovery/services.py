"""Creating the discovered map, through the editor's own services.

``discovered_map_create`` makes the map (``services.map_create``: the field policy, the
tree lock, history), then each step and link (``services.content_save``: the content
policy, the version bump, history), and remembers which step each activity became
(``EventActivityMapping``), so this log and later ones import into the map without a
renaming pass. All in one transaction: the map appears whole or not at all.

``discovered_log_import`` then imports the log's figures into the new map with the event
import (``maps.analytics``), from a CSV written in the import's own columns (a case's
events together, whatever the order the log had, XES included).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from .. import services
from ..analytics import event_import_create
from ..imports import Problems
from ..models import EventActivityMapping, EventImport, JourneyMap, Step, StepLink
from ..models.common import Evidence
from .mining import Proposal, step_keys
from .mining import cases as log_cases
from .store import Upload

MAX_TITLE = 200
MAX_STEP_NAME = 160


@dataclass(frozen=True)
class Placement:
    """Where the new map goes: top level, or under ``parent`` (zooming into a step)."""

    parent: JourneyMap | None = None
    parent_step: Step | None = None


def _summary_text(upload: Upload, proposal: Proposal) -> str:
    summary = upload.summary
    return (
        f"Discovered from the event log “{upload.file_name}”: {summary.events:,} events of "
        f"{summary.cases:,} cases ({summary.first_event[:10]} to {summary.last_event[:10]}); "
        f"links for transitions in at least {proposal.link_threshold:g} % of the cases, "
        f"end steps where at least {proposal.end_threshold:g} % end."
    )


@transaction.atomic
def discovered_map_create(
    *, upload: Upload, proposal: Proposal, title: str, placement: Placement, by
) -> JourneyMap:
    """Create the proposed map owned by ``by``: its steps in the proposal's order (names,
    end kinds, recurring), its links (kind, share of cases as label), the activity
    mapping. Raises ``ValidationError`` (keyed by field) or ``PermissionDenied`` from the
    policies; nothing is written then."""
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the new map a title."})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": f"At most {MAX_TITLE} characters."})
    names = [step.name.strip() for step in proposal.steps]
    for step, name in zip(proposal.steps, names, strict=True):
        if not name:
            raise ValidationError({f"name-{step.activity_index}": "A step needs a name."})
        if len(name) > MAX_STEP_NAME:
            raise ValidationError(
                {f"name-{step.activity_index}": f"At most {MAX_STEP_NAME} characters."}
            )
    parent, parent_step = placement.parent, placement.parent_step
    if parent_step is not None and (parent is None or parent_step.map_id != parent.pk):
        raise ValidationError({"parent_step": "The step must be a step of the parent map."})
    fields = {"parent_step": parent_step} if parent_step is not None else {}
    journey_map = services.map_create(
        owner=by,
        title=title,
        parent=parent,
        team=parent.team if parent else None,
        summary=_summary_text(upload, proposal),
        by=by,
        **fields,
    )
    created: list[Step] = []
    for step, name, key in zip(proposal.steps, names, step_keys(names), strict=True):
        created.append(
            services.content_save(
                instance=Step(
                    map=journey_map,
                    key=key,
                    name=name,
                    position=step.position,
                    end_kind=step.end_kind,
                    is_recurring=step.is_recurring,
                    evidence=Evidence.MEASURED,
                    description=(
                        f"“{step.activity[:200]}” in the event log: {step.case_share:g} % "
                        f"of the cases, {step.occurrences:,} events."
                    ),
                ),
                expected_version=journey_map.version,
                by=by,
            )
        )
    for link in proposal.links:
        services.content_save(
            instance=StepLink(
                from_step=created[link.from_position],
                to_step=created[link.to_position],
                kind=link.kind,
                label=link.label,
            ),
            expected_version=journey_map.version,
            by=by,
        )
    bulk_create_with_history(
        [
            EventActivityMapping(map=journey_map, activity=step.activity, step=created_step)
            for step, created_step in zip(proposal.steps, created, strict=True)
        ],
        EventActivityMapping,
        default_user=by,
    )
    return journey_map


def _canonical_rows(upload: Upload, keys: dict[str, str]) -> Iterable[list[str]]:
    """The log's events as the import's CSV rows (a case's events together)."""
    problems = Problems()
    with upload.open_log() as stream:
        for case in log_cases(
            stream,
            problems,
            mode="grouped" if upload.summary.grouped else "ungrouped",
            activity_column=upload.activity_column,
        ):
            for moment, activity, channel in zip(
                case.times, case.activities, case.channels, strict=True
            ):
                stamp = dt.datetime.fromtimestamp(moment, dt.UTC).isoformat()
                yield [case.case, keys[activity], stamp, channel]


def discovered_log_import(*, upload: Upload, journey_map: JourneyMap, by) -> EventImport:
    """Queue the import of the upload's events into the map discovered from it (its
    steps' keys stand in for the activities). The written CSV is the import's file,
    removed by the import once it has run."""
    keys = dict(
        EventActivityMapping.objects.filter(map=journey_map).values_list("activity", "step__key")
    )
    with tempfile.TemporaryFile() as spooled:
        text = io.TextIOWrapper(spooled, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(["case_id", "step_key", "timestamp", "channel"])
        writer.writerows(_canonical_rows(upload, keys))
        text.flush()
        spooled.seek(0)
        name = upload.file_name.removesuffix(".gz").rsplit(".", 1)[0][:150] or "log"
        event_import = event_import_create(
            journey_map=journey_map, file=File(spooled, name=f"{name}-discovered.csv"), by=by
        )
        text.detach()
    return event_import

"""TheyDo imports as recorded jobs (``maps.models.TheydoImport``): an uploaded file is
previewed (nothing written), confirmed, imported by a Celery task with its progress, and
its upload removed once it is no longer needed; stale previews expire. The API and the
command import at once and are recorded too. Who may do any of it is the caller's
question (the map's editors).

The uploaded file is kept only while a preview waits for its confirmation or an import
runs: a refused file is never stored, a done, refused or failed import's file is removed,
and a preview not confirmed within ``JOURNEYHUB_THEYDO_PREVIEW_HOURS`` is deleted with
its file by the ``expire_theydo_previews`` task."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from .. import upload_jobs
from ..models import JourneyMap, TheydoImport
from ..upload_jobs import UNEXPECTED, UploadKind
from .engine import PLANNERS, theydo_import, theydo_preview
from .plan import ImportPlan, plural

__all__ = ["UNEXPECTED"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: changes kept in a job's summary for the page (the counts cover them all): a survey
#: file of 20 MB may hold 100,000 responses, which no page shows row by row
CHANGES_KEPT = 500


def too_large(size: int) -> str:
    return KIND.too_large(size)


def theydo_parse(content: bytes | str) -> Any:
    """The JSON of a TheyDo file (UTF-8, a BOM allowed), read with ``safe_json``.
    Raises ``ImportRefused`` saying why not."""
    return KIND.parse(content)


def will_do(plan: ImportPlan) -> str:
    """``plan.text`` for a preview: "The import will create 6 KPIs, update 1 insight,
    leave 4 alone and record 19 data points."."""
    parts = []
    for action in ("create", "update"):
        nouns = Counter(c.noun for c in plan.of(action))
        if nouns:
            parts.append(f"{action} " + ", ".join(plural(n, noun) for noun, n in nouns.items()))
    if unchanged := len(plan.of("unchanged")):
        parts.append(f"leave {unchanged} alone")
    if observations := plan.counts.get("observations"):
        parts.append(f"record {plural(observations, 'data point')}")
    if not parts:
        return "The file holds nothing to import."
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"The import will {listed}."


def plan_summary(
    plan: ImportPlan, *, future: bool = False, changes_kept: int | None = CHANGES_KEPT
) -> dict[str, Any]:
    """``plan.summary()`` with its sentence (``text``: what was done, or with ``future``
    what will be), the number of changes and, for a stored job, only the first
    ``changes_kept`` of them."""
    summary = plan.summary()
    summary["text"] = will_do(plan) if future else plan.text
    summary["changes_total"] = len(summary["changes"])
    if changes_kept is not None:
        summary["changes"] = summary["changes"][:changes_kept]
    return summary


def _user(by):
    return by if getattr(by, "pk", None) else None


def _known_format(data: Any) -> str:
    fmt = data.get("format") if isinstance(data, dict) else None
    return fmt if isinstance(fmt, str) and fmt in PLANNERS else ""


def _preview(job: TheydoImport, data: Any) -> dict[str, Any]:
    plan = theydo_preview(journey_map=job.map, data=data, by=job.uploaded_by)
    return {"format": plan.format, "summary": {"preview": plan_summary(plan, future=True)}}


def _run(job: TheydoImport, data: Any) -> dict[str, Any]:
    plan = theydo_import(journey_map=job.map, data=data, by=job.uploaded_by)
    return {"format": plan.format, "summary": {**job.summary, "result": plan_summary(plan)}}


def _task():
    from ..tasks import import_theydo

    return import_theydo


def preview_hours() -> int:
    """How long an unconfirmed preview is kept."""
    return settings.JOURNEYHUB_THEYDO_PREVIEW_HOURS


KIND = UploadKind(
    model=TheydoImport,
    label="TheyDo import",
    max_bytes=lambda: MAX_UPLOAD_BYTES,
    preview=_preview,
    run=_run,
    task=_task,
    preview_hours=preview_hours,
    refused_fields=lambda data: {"format": _known_format(data)},
)


def theydo_upload_preview(*, journey_map: JourneyMap, upload: File, by=None) -> TheydoImport:
    """Check an uploaded file against the map and record what importing it would do,
    writing none of it (``upload_jobs.preview_upload``)."""
    name = upload_jobs.upload_name(upload, "theydo.json")
    job = TheydoImport(map=journey_map, uploaded_by=_user(by), file_name=name)
    return upload_jobs.preview_upload(KIND, job, upload)


def theydo_import_confirm(*, job: TheydoImport) -> bool:
    """Queue a previewed import (``upload_jobs.confirm``)."""
    return upload_jobs.confirm(KIND, job)


def theydo_import_run(*, import_id: int) -> TheydoImport | None:
    """Run a queued import against the map as it is now (``upload_jobs.run_job``)."""
    return upload_jobs.run_job(KIND, import_id, related=("map",))


def theydo_import_now(
    *,
    journey_map: JourneyMap,
    data: Any,
    by=None,
    via: str = TheydoImport.Via.API,
    file_name: str = "",
) -> ImportPlan:
    """Import at once (the API, the command), all or nothing, and record the job (no file
    is kept). Raises ``ImportRefused``."""
    with transaction.atomic():
        plan = theydo_import(journey_map=journey_map, data=data, by=by)
        now = timezone.now()
        TheydoImport.objects.create(
            map=journey_map,
            uploaded_by=_user(by),
            file_name=file_name[:200],
            via=via,
            format=plan.format,
            status=TheydoImport.Status.DONE,
            progress=100,
            summary={"result": plan_summary(plan)},
            started_at=now,
            finished_at=now,
        )
    return plan


def theydo_preview_discard(*, job: TheydoImport) -> bool:
    """Delete a preview and its file (``upload_jobs.discard``)."""
    return upload_jobs.discard(KIND, job)


def theydo_previews_expire(*, older_than_hours: int | None = None) -> int:
    """Delete the previews not confirmed within ``JOURNEYHUB_THEYDO_PREVIEW_HOURS``."""
    return upload_jobs.expire_previews(KIND, older_than_hours=older_than_hours)

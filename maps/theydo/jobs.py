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

import datetime as dt
import logging
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from journeyhub.api import safe_json

from ..imports import ImportRefused, encoding_problem
from ..models import JourneyMap, TheydoImport
from .engine import PLANNERS, theydo_import, theydo_preview
from .plan import ImportPlan, plural

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: changes kept in a job's summary for the page (the counts cover them all): a survey
#: file of 20 MB may hold 100,000 responses, which no page shows row by row
CHANGES_KEPT = 500
UNEXPECTED = "The import failed unexpectedly; nothing was imported. The error has been logged."


def too_large(size: int) -> str:
    return f"the file is {size / 2**20:.1f} MB: at most {MAX_UPLOAD_BYTES // 2**20} MB"


def theydo_parse(content: bytes | str) -> Any:
    """The JSON of a TheyDo file (UTF-8, a BOM allowed), read with ``safe_json``.
    Raises ``ImportRefused`` saying why not."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportRefused([too_large(len(content))])
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ImportRefused([encoding_problem(content)]) from None
    try:
        return safe_json.loads(content)
    except safe_json.JSONRefused as exc:
        raise ImportRefused([str(exc)]) from None


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


def theydo_upload_preview(*, journey_map: JourneyMap, upload: File, by=None) -> TheydoImport:
    """Check an uploaded file against the map and record what importing it would do,
    writing none of it: a ``previewed`` job that keeps the file for its confirmation, or
    a ``refused`` one with every problem (and no file)."""
    name = (upload.name or "theydo.json").replace("\\", "/").rsplit("/", 1)[-1][:200]
    job = TheydoImport(map=journey_map, uploaded_by=_user(by), file_name=name)
    data: Any = None
    try:
        if upload.size > MAX_UPLOAD_BYTES:
            raise ImportRefused([too_large(upload.size)])
        content = upload.read()
        data = theydo_parse(content)
        plan = theydo_preview(journey_map=journey_map, data=data, by=by)
    except ImportRefused as exc:
        job.format = _known_format(data)
        job.status = TheydoImport.Status.REFUSED
        job.problems = exc.problems
        job.finished_at = timezone.now()
        job.save()
        return job
    job.format = plan.format
    job.summary = {"preview": plan_summary(plan, future=True)}
    job.file.save(name, ContentFile(content), save=False)
    try:
        job.save()
    except BaseException:
        job.file.delete(save=False)  # no record, no file
        raise
    return job


def theydo_import_confirm(*, job: TheydoImport) -> bool:
    """Queue a previewed import; the task is enqueued once that is committed (eager
    Celery: it has run when this returns). False when it was not a preview any more
    (confirmed twice, or expired)."""
    from ..tasks import import_theydo

    with transaction.atomic():
        queued = TheydoImport.objects.filter(
            pk=job.pk, status=TheydoImport.Status.PREVIEWED
        ).update(status=TheydoImport.Status.QUEUED, progress=0)
        if queued:
            transaction.on_commit(lambda: import_theydo.delay(job.pk))
    return bool(queued)


def theydo_import_run(*, import_id: int) -> TheydoImport | None:
    """Run a queued import: the engine plans the file again against the map as it is now
    (it may have changed since the preview) and applies it all or nothing. Ends done with
    what it really did, refused with every problem, or failed; the file is removed either
    way. Runs once: a second call does nothing."""
    claimed = TheydoImport.objects.filter(pk=import_id, status=TheydoImport.Status.QUEUED).update(
        status=TheydoImport.Status.RUNNING, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return None
    job = TheydoImport.objects.select_related("map", "uploaded_by").get(pk=import_id)
    rows = TheydoImport.objects.filter(pk=import_id)
    fields: dict[str, Any]
    try:
        with job.file.open("rb") as stream:
            content = stream.read()
        rows.update(progress=25)  # read
        data = theydo_parse(content)
        rows.update(progress=40)  # parsed; checking and writing is one transaction
        plan = theydo_import(journey_map=job.map, data=data, by=job.uploaded_by)
    except ImportRefused as exc:
        fields = {"status": TheydoImport.Status.REFUSED, "problems": exc.problems}
    except Exception:
        logger.exception("TheyDo import %s failed", import_id)
        fields = {"status": TheydoImport.Status.FAILED, "problems": [UNEXPECTED]}
    else:
        fields = {
            "status": TheydoImport.Status.DONE,
            "progress": 100,
            "format": plan.format,
            "summary": {**job.summary, "result": plan_summary(plan)},
        }
    fields["finished_at"] = timezone.now()
    job.file.delete(save=False)  # done, refused or failed: the upload is not needed again
    fields["file"] = ""
    rows.update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)
    return job


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


def _remove_files_on_commit(names: list[str]) -> None:
    storage = TheydoImport._meta.get_field("file").storage

    def remove() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove)


def theydo_preview_discard(*, job: TheydoImport) -> bool:
    """Delete a preview and its file (the user changed their mind). False when it is no
    longer a preview: a confirmed import stays on record."""
    with transaction.atomic():
        deleted, _ = TheydoImport.objects.filter(
            pk=job.pk, status=TheydoImport.Status.PREVIEWED
        ).delete()
        if deleted and job.file.name:
            _remove_files_on_commit([job.file.name])
    return bool(deleted)


def preview_hours() -> int:
    """How long an unconfirmed preview is kept."""
    return settings.JOURNEYHUB_THEYDO_PREVIEW_HOURS


def theydo_previews_expire(*, older_than_hours: int | None = None) -> int:
    """Delete the previews not confirmed within ``older_than_hours``
    (``JOURNEYHUB_THEYDO_PREVIEW_HOURS``), with their files. Returns how many."""
    hours = preview_hours() if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - dt.timedelta(hours=hours)
    with transaction.atomic():
        # locked, so a confirmation arriving now waits and then finds no preview to queue
        stale = list(
            TheydoImport.objects.select_for_update()
            .filter(status=TheydoImport.Status.PREVIEWED, created_at__lt=cutoff)
            .values_list("pk", "file")
        )
        TheydoImport.objects.filter(pk__in=[pk for pk, _ in stale]).delete()
        _remove_files_on_commit([name for _, name in stale if name])
    return len(stale)

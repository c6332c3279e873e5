"""journeyhub/1 files imported through the browser as recorded jobs
(``maps.models.ExchangeImport``, the life of an upload in ``maps.upload_jobs``): the file
is checked and previewed by a dry run of the importer, confirmed, then imported by a
Celery task (inline without a broker) with its progress."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files import File

from .. import upload_jobs
from ..imports import ImportRefused
from ..models import ExchangeImport, JourneyMap
from ..upload_jobs import UploadKind
from .files import MAX_UPLOAD_BYTES
from .importer import ExchangeInvalid, import_document

__all__ = ["MAX_UPLOAD_BYTES"]


def _import(job: ExchangeImport, data: Any, *, dry_run: bool) -> dict[str, Any]:
    try:
        summary = import_document(data, by=job.uploaded_by, under=job.under, dry_run=dry_run)
    except ExchangeInvalid as exc:
        raise ImportRefused(exc.problems) from None
    return {**summary.as_dict(), "text": summary.text}


def _preview(job: ExchangeImport, data: Any) -> dict[str, Any]:
    return {"summary": {"preview": _import(job, data, dry_run=True)}}


def _run(job: ExchangeImport, data: Any) -> dict[str, Any]:
    return {"summary": {**job.summary, "result": _import(job, data, dry_run=False)}}


def _task():
    from ..tasks import import_maps

    return import_maps


KIND = UploadKind(
    model=ExchangeImport,
    label="journeyhub/1 import",
    max_bytes=lambda: MAX_UPLOAD_BYTES,
    preview=_preview,
    run=_run,
    task=_task,
    preview_hours=lambda: settings.JOURNEYHUB_THEYDO_PREVIEW_HOURS,
)


def upload_preview(*, upload: File, by, under: JourneyMap | None) -> ExchangeImport:
    """Check an uploaded document and record what importing it would do, writing none
    of it: a previewed job keeping the file, or a refused one with every problem."""
    name = upload_jobs.upload_name(upload, "maps.json")
    job = ExchangeImport(uploaded_by=by, under=under, file_name=name)
    return upload_jobs.preview_upload(KIND, job, upload)


def confirm(*, job: ExchangeImport) -> bool:
    return upload_jobs.confirm(KIND, job)


def run(*, import_id: int) -> ExchangeImport | None:
    return upload_jobs.run_job(KIND, import_id, related=("under",))


def discard(*, job: ExchangeImport) -> bool:
    return upload_jobs.discard(KIND, job)


def expire_previews(*, older_than_hours: int | None = None) -> int:
    return upload_jobs.expire_previews(KIND, older_than_hours=older_than_hours)

"""The life of an uploaded import (``maps.models.jobs.ImportJob``), whatever it imports:
the file is checked and previewed (nothing written), confirmed, run by a Celery task with
its progress, and removed once it is no longer needed; unconfirmed previews expire.

Each kind of import says how to read its file, what a preview and a run do, and which
task runs it (``UploadKind``); TheyDo files (``maps.theydo.jobs``) and journeyhub/1
documents (``maps.exchange.jobs``) share everything else.

The uploaded file is kept only while a preview waits for its confirmation or an import
runs: a refused file is never stored, a done, refused or failed import's file is removed,
and a preview not confirmed within the kind's hours is deleted with its file.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.fields.json import KT
from django.utils import timezone

from journeyhub.api import safe_json

from .imports import ImportRefused, encoding_problem
from .models.jobs import ImportJob

logger = logging.getLogger(__name__)

UNEXPECTED = "The import failed unexpectedly; nothing was imported. The error has been logged."

#: (job, parsed file) -> fields to store on the job; raises ImportRefused
Step = Callable[[ImportJob, Any], dict[str, Any]]


@dataclass(frozen=True)
class UploadKind:
    model: type[ImportJob]
    label: str  # "TheyDo import": in logs
    max_bytes: Callable[[], int]  # read per call (settings and tests may change it)
    preview: Step  # writes nothing; its fields include summary["preview"]
    run: Step  # all or nothing; its fields include summary["result"]
    task: Callable[[], Any]  # returns the Celery task that calls ``run_job``
    preview_hours: Callable[[], int]
    #: (parsed file or None) -> fields stored on a refused job (e.g. the format it had)
    refused_fields: Callable[[Any], dict[str, Any]] = lambda data: {}

    def too_large(self, size: int) -> str:
        return f"the file is {size / 2**20:.1f} MB: at most {self.max_bytes() // 2**20} MB"

    def parse(self, content: bytes | str) -> Any:
        """The JSON of an uploaded file (UTF-8, a BOM allowed), read with ``safe_json``.
        Raises ``ImportRefused`` saying why not."""
        if len(content) > self.max_bytes():
            raise ImportRefused([self.too_large(len(content))])
        if isinstance(content, bytes):
            try:
                content = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ImportRefused([encoding_problem(content)]) from None
        try:
            return safe_json.loads(content)
        except safe_json.JSONRefused as exc:
            raise ImportRefused([str(exc)]) from None


def upload_name(upload: File, default: str) -> str:
    return (upload.name or default).replace("\\", "/").rsplit("/", 1)[-1][:200]


def preview_upload(kind: UploadKind, job: ImportJob, upload: File) -> ImportJob:
    """Check ``upload`` and record what importing it would do, writing none of it:
    ``job`` (unsaved, its context set) becomes a ``previewed`` job that keeps the file
    for its confirmation, or a ``refused`` one with every problem (and no file)."""
    data: Any = None
    try:
        if upload.size > kind.max_bytes():
            raise ImportRefused([kind.too_large(upload.size)])
        content = upload.read()
        data = kind.parse(content)
        fields = kind.preview(job, data)
    except ImportRefused as exc:
        for name, value in kind.refused_fields(data).items():
            setattr(job, name, value)
        job.status = ImportJob.Status.REFUSED
        job.problems = exc.problems
        job.finished_at = timezone.now()
        job.save()
        return job
    for name, value in fields.items():
        setattr(job, name, value)
    job.file.save(job.file_name or "upload.json", ContentFile(content), save=False)
    try:
        job.save()
    except BaseException:
        job.file.delete(save=False)  # no record, no file
        raise
    return job


def confirm(kind: UploadKind, job: ImportJob) -> bool:
    """Queue a previewed import; the task is enqueued once that is committed (eager
    Celery: it has run when this returns). False when it was not a preview any more
    (confirmed twice, or expired)."""
    with transaction.atomic():
        queued = kind.model.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
            status=ImportJob.Status.QUEUED, progress=0
        )
        if queued:
            task = kind.task()
            transaction.on_commit(lambda: task.delay(job.pk))
    return bool(queued)


def run_job(kind: UploadKind, import_id: int, *, related: tuple[str, ...] = ()) -> Any:
    """Run a queued import: the kind checks the file again against the database as it
    is now (it may have changed since the preview) and applies it all or nothing. Ends
    done with what it really did, refused with every problem, or failed; the file is
    removed either way. Runs once: a second call does nothing."""
    model = kind.model
    claimed = model.objects.filter(pk=import_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return None
    job = model.objects.select_related("uploaded_by", *related).get(pk=import_id)
    rows = model.objects.filter(pk=import_id)
    fields: dict[str, Any]
    try:
        with job.file.open("rb") as stream:
            content = stream.read()
        rows.update(progress=25)  # read
        data = kind.parse(content)
        rows.update(progress=40)  # parsed; checking and writing is one transaction
        fields = {"status": ImportJob.Status.DONE, "progress": 100, **kind.run(job, data)}
    except ImportRefused as exc:
        fields = {"status": ImportJob.Status.REFUSED, "problems": exc.problems}
    except Exception:
        logger.exception("%s %s failed", kind.label, import_id)
        fields = {"status": ImportJob.Status.FAILED, "problems": [UNEXPECTED]}
    fields["finished_at"] = timezone.now()
    job.file.delete(save=False)  # done, refused or failed: the upload is not needed again
    fields["file"] = ""
    rows.update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)
    return job


def _remove_files_on_commit(model: type[ImportJob], names: list[str]) -> None:
    storage = model._meta.get_field("file").storage

    def remove() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove)


def discard(kind: UploadKind, job: ImportJob) -> bool:
    """Delete a preview and its file (the user changed their mind). False when it is no
    longer a preview: a confirmed import stays on record."""
    with transaction.atomic():
        deleted, _ = kind.model.objects.filter(
            pk=job.pk, status=ImportJob.Status.PREVIEWED
        ).delete()
        if deleted and job.file.name:
            _remove_files_on_commit(kind.model, [job.file.name])
    return bool(deleted)


def expire_previews(kind: UploadKind, *, older_than_hours: int | None = None) -> int:
    """Delete the previews not confirmed within ``older_than_hours`` (the kind's
    setting), with their files. Returns how many."""
    hours = kind.preview_hours() if older_than_hours is None else older_than_hours
    cutoff = timezone.now() - dt.timedelta(hours=hours)
    with transaction.atomic():
        # locked, so a confirmation arriving now waits and then finds no preview to queue
        stale = list(
            kind.model.objects.select_for_update()
            .filter(status=ImportJob.Status.PREVIEWED, created_at__lt=cutoff)
            .values_list("pk", "file")
        )
        kind.model.objects.filter(pk__in=[pk for pk, _ in stale]).delete()
        _remove_files_on_commit(kind.model, [name for _, name in stale if name])
    return len(stale)


def with_outcome_texts(jobs: QuerySet) -> QuerySet:
    """Jobs newest first, each with the one sentence a list shows — its result, its
    preview or its first problem — read from the JSON without loading the summaries
    (a survey import's can hold hundreds of changes)."""
    return (
        jobs.defer("summary", "problems")
        .annotate(
            result_text=KT("summary__result__text"),
            preview_text=KT("summary__preview__text"),
            first_problem=KT("problems__0"),
        )
        .order_by("-created_at", "-pk")
    )

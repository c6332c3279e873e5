"""What every uploaded import records (``maps.upload_jobs``): who sent which file, how far
it got, what its preview said it would do, what it did, and every problem."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    class Via(models.TextChoices):
        BROWSER = "browser", "Browser"
        API = "api", "API"
        COMMAND = "command", "Command"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file_name = models.CharField(
        max_length=255, blank=True, help_text="The uploaded file's name (the file goes)."
    )
    via = models.CharField(max_length=7, choices=Via.choices, default=Via.BROWSER)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.PREVIEWED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="In %.")
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text="“preview” and “result”: each a plan's summary and sentence.",
    )
    problems = models.JSONField(default=list, blank=True, help_text="“json.path: message”")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.REFUSED)

    @property
    def is_working(self) -> bool:
        """Queued or running: the page polls it."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def preview(self) -> dict:
        return self.summary.get("preview") or {}

    @property
    def result(self) -> dict:
        return self.summary.get("result") or {}

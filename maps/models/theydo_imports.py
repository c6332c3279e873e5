"""TheyDo imports of a map: one uploaded TheyDo file, previewed before anything is
written, then imported by a Celery task (``maps.theydo.jobs``), with its progress and
what it did. Imports through the API and the command are recorded too (without a file).

The uploaded file is kept only while it is needed: it is removed when the import is done,
refused or failed, and an unconfirmed preview is deleted with its file after
``JOURNEYHUB_THEYDO_PREVIEW_HOURS`` (a day) by the ``expire_theydo_previews`` task."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from .journeys import JourneyMap


class TheydoImport(models.Model):
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

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="theydo_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(upload_to="theydo-imports/%Y/%m/", blank=True)
    file_name = models.CharField(
        max_length=255, blank=True, help_text="The uploaded file's name (the file goes)."
    )
    via = models.CharField(max_length=7, choices=Via.choices, default=Via.BROWSER)
    format = models.CharField(max_length=40, blank=True, help_text="e.g. THEYDO_METRICS_V1")
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
        ordering = ["map", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100),
                name="theydoimport_progress_range",
                violation_error_message="Progress must be between 0 and 100.",
            ),
        ]
        indexes = [
            # the import page's "a map's imports, newest first"
            models.Index(fields=["map", "-created_at"], name="theydoimport_map_created_idx"),
            # the daily task's "previews older than a day"
            models.Index(fields=["status", "created_at"], name="theydoimport_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.map}: {self.file_name or self.format} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("maps:theydo-import", args=[self.map.slug, self.pk])

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

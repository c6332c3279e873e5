"""TheyDo imports of a map: one uploaded TheyDo file, previewed before anything is
written, then imported by a Celery task (``maps.theydo.jobs``), with its progress and
what it did. Imports through the API and the command are recorded too (without a file).

The uploaded file is kept only while it is needed: it is removed when the import is done,
refused or failed, and an unconfirmed preview is deleted with its file after
``JOURNEYHUB_THEYDO_PREVIEW_HOURS`` (a day) by the ``expire_theydo_previews`` task."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from .jobs import ImportJob
from .journeys import JourneyMap


class TheydoImport(ImportJob):
    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="theydo_imports")
    file = models.FileField(upload_to="theydo-imports/%Y/%m/", blank=True)
    format = models.CharField(max_length=40, blank=True, help_text="e.g. THEYDO_METRICS_V1")

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

"""Imports of journeyhub/1 files through the browser (``maps.exchange.jobs``): the upload
is previewed, confirmed, then imported by a Celery task with its progress. The file is
kept only while the preview waits or the import runs."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from .jobs import ImportJob
from .journeys import JourneyMap


class ExchangeImport(ImportJob):
    under = models.ForeignKey(
        JourneyMap,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exchange_imports",
        help_text="The map the file's top maps go under; empty: where they are, or the top.",
    )
    file = models.FileField(upload_to="exchange-imports/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100),
                name="exchangeimport_progress_range",
                violation_error_message="Progress must be between 0 and 100.",
            ),
        ]
        indexes = [
            # the import page's "your imports, newest first"
            models.Index(fields=["uploaded_by", "-created_at"], name="exchangeimport_user_idx"),
            # the hourly task's "previews older than a day"
            models.Index(fields=["status", "created_at"], name="exchangeimport_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name or 'journeyhub/1 import'} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("maps:import-job", args=[self.pk])

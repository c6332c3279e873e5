"""Event-log imports: one uploaded log of a map's customer journeys, processed by
``maps.analytics`` in a Celery task, with its progress and the figures it produced."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .journeys import JourneyMap


class EventImport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        # the log names activities no step stands for: the owner maps them, then confirms
        MAPPING = "mapping", "Awaiting step mapping"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="event_imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    file = models.FileField(upload_to="event-logs/%Y/%m/")
    period = models.DateField(
        null=True,
        blank=True,
        help_text="The date the figures are recorded on; empty: the first day of the month "
        "of the log's last event.",
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    activity_column = models.CharField(
        max_length=200,
        blank=True,
        help_text="The column whose values name the steps (mapped through the map's activity "
        "mapping); empty: step_key, step or activity.",
    )
    mapping_confirmed = models.BooleanField(
        default=False,
        help_text="The owner has mapped the log's activities: rows of activities still "
        "unmapped are left out (and counted) instead of waiting for a mapping.",
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Bytes read, in %.")
    events = models.PositiveIntegerField(default=0)
    cases = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["map", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100),
                name="eventimport_progress_range",
                violation_error_message="Progress must be between 0 and 100.",
            ),
        ]
        indexes = [
            # the events page's past imports and the funnel's "latest done import of a map"
            models.Index(
                fields=["map", "status", "-created_at"], name="eventimport_map_status_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.map}: {self.file_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("maps:event-import", args=[self.map.slug, self.pk])

    @property
    def file_name(self) -> str:
        """The uploaded file's name, also once the file is removed (kept in the result)."""
        if self.file:
            return self.file.name.rsplit("/", 1)[-1]
        return (self.result or {}).get("file_name", "")

    @property
    def is_active(self) -> bool:
        """Queued or running: its page polls for progress."""
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class EventActivityMapping(models.Model):
    """Which step of a map an event log's activity (or other chosen column's value) stands
    for: the owner picks it once on the import page and later imports of the map reuse it,
    so a log need not use the steps' keys."""

    map = models.ForeignKey(
        JourneyMap, on_delete=models.CASCADE, related_name="event_activity_mappings"
    )
    activity = models.CharField(max_length=200)
    step = models.ForeignKey(
        "maps.Step", on_delete=models.CASCADE, related_name="event_activity_mappings"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "activity"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "activity"],
                name="eventactivitymapping_unique_per_map",
                violation_error_message="This activity is already mapped to a step of the map.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.map}: {self.activity} → {self.step}"

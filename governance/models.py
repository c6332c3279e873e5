"""Governance records: reviews that confirm a map is still current."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from maps.models import JourneyMap


class Review(models.Model):
    """An owner confirming that a map is current; resets its staleness."""

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="reviews")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="map_reviews",
    )
    reviewed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["map", "-reviewed_at", "pk"]
        indexes = [
            # a map's review log, newest first
            models.Index(fields=["map", "-reviewed_at"], name="review_map_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.map} reviewed {self.reviewed_at:%Y-%m-%d}"

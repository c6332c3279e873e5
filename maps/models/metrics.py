"""What a journey is measured by: KPIs with their measurements, and qualitative ratings."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .common import Perspective, TimeStamped, one_to_five
from .journeys import JourneyMap, Step


class KPI(TimeStamped):
    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        ANALYTICS = "analytics", "Journey analytics"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="kpis")
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="kpis"
    )
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=30, blank=True, help_text="e.g. %, days, €, points")
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    baseline = models.FloatField(null=True, blank=True)
    target = models.FloatField(null=True, blank=True)
    perspective = models.CharField(
        max_length=10, choices=Perspective.choices, default=Perspective.CUSTOMER
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    weight = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0001, "Weight must be greater than 0.")],
        help_text="Weight within its scorecard quadrant.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "KPI"
        ordering = ["map", "perspective", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "name"],
                name="kpi_name_unique_per_map",
                violation_error_message="This map already has a KPI with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0),
                name="kpi_weight_positive",
                violation_error_message="Weight must be greater than 0.",
            ),
        ]
        indexes = [
            # scorecard quadrants: a map's KPIs by perspective
            models.Index(fields=["map", "perspective"], name="kpi_map_perspective_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.step_id and self.map_id and self.step.map_id != self.map_id:
            errors["step"] = f"The step “{self.step}” is on another map."
        if self.baseline is not None and self.target is not None:
            if self.baseline == self.target:
                errors["target"] = "The target must differ from the baseline."
            elif self.direction == self.Direction.HIGHER and self.target < self.baseline:
                errors["target"] = (
                    "Higher is better, so the target must be above the baseline "
                    f"({self.baseline:g}); or switch the direction to lower is better."
                )
            elif self.direction == self.Direction.LOWER and self.target > self.baseline:
                errors["target"] = (
                    "Lower is better, so the target must be below the baseline "
                    f"({self.baseline:g}); or switch the direction to higher is better."
                )
        if errors:
            raise ValidationError(errors)


class Measurement(models.Model):
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="measurements")
    date = models.DateField()
    value = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kpi", "-date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "date"],
                name="measurement_unique_per_kpi_date",
                violation_error_message="This KPI already has a measurement on this date.",
            )
        ]
        # The unique constraint's index (kpi, date) serves "latest value" and trends.
        indexes = [
            # the admin's and API's "newest measurements first" across KPIs
            models.Index(fields=["-date"], name="measurement_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.value:g} on {self.date:%Y-%m-%d}"


class QualitativeFactor(TimeStamped):
    """A 1–5 judgement on a map: the qualitative half of the balanced scorecard."""

    map = models.ForeignKey(
        JourneyMap, on_delete=models.CASCADE, related_name="qualitative_factors"
    )
    name = models.CharField(max_length=160)
    perspective = models.CharField(
        max_length=10, choices=Perspective.choices, default=Perspective.CUSTOMER
    )
    rating = models.PositiveSmallIntegerField(
        validators=one_to_five("Rating"), help_text="1 (poor) to 5 (excellent)."
    )
    note = models.TextField(blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="qualitative_ratings",
    )
    rated_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "perspective", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "name"],
                name="qualitativefactor_name_unique_per_map",
                violation_error_message="This map already rates a factor with this name.",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5),
                name="qualitativefactor_rating_range",
                violation_error_message="Rating must be between 1 and 5.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rating}/5)"

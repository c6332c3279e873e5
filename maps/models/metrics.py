"""What a journey is measured by: KPIs with their measurements, and qualitative ratings."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .common import (
    Perspective,
    PlausibleDateValidator,
    TimeStamped,
    exchange_key_field,
    finite,
    finite_constraint,
    one_to_five,
)
from .journeys import JourneyMap, Step
from .tags import Tag

ANALYTICS_KEY_PREFIX = "analytics:"  # the import keys of KPIs computed from event logs


#: the smallest |target − baseline|: attainment (value − baseline) ÷ (target − baseline)
#: of values within ±10^15 then stays below 10^25
MIN_TARGET_GAP = 1e-9


class KPI(TimeStamped):
    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Comparison(models.TextChoices):
        """How the target reads; the same fact as ``direction``, in CX teams' words."""

        AT_LEAST = "at_least", "At least the target"
        AT_MOST = "at_most", "At most the target"

    class Kind(models.TextChoices):
        """What a measurement carries and how a period's value is computed
        (``maps.kpi_math``)."""

        VALUE = "value", "Plain value"
        RATIO = "ratio", "Ratio (numerator ÷ denominator, %)"
        NPS = "nps", "NPS (promoters, passives, detractors)"
        CSAT = "csat", "CSAT (five answer counts)"
        CES = "ces", "CES (mean score with respondents)"

    class Aggregation(models.TextChoices):
        SUM = "sum", "Sum"
        AVERAGE = "average", "Average"

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
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.VALUE)
    aggregation = models.CharField(
        max_length=8,
        choices=Aggregation.choices,
        default=Aggregation.AVERAGE,
        help_text="How a plain value's observations of one period combine (sum or average).",
    )
    import_key = models.CharField(
        max_length=120,
        null=True,
        blank=True,
        help_text="The KPI's key in other tools (TheyDo's importKey); imports into this map "
        "match on it. Keys starting with “analytics:” belong to journey analytics.",
    )
    baseline = models.FloatField(null=True, blank=True, validators=finite("The baseline"))
    target = models.FloatField(null=True, blank=True, validators=finite("The target"))
    perspective = models.CharField(
        max_length=10, choices=Perspective.choices, default=Perspective.CUSTOMER
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    weight = models.FloatField(
        default=1.0,
        validators=[
            MinValueValidator(0.0001, "Weight must be greater than 0."),
            *finite("The weight"),
        ],
        help_text="Weight within its scorecard quadrant.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_kpis",
        help_text="Who answers for the KPI (TheyDo's ownerEmail, matched to a user).",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="kpis")
    exchange_key = exchange_key_field()
    # The latest measurement (date desc, then pk desc), stored so health reads one row
    # per KPI instead of a subquery per KPI. Derived data kept by database triggers
    # (maps/derived/kpi_latest.py, installed after every migrate): any write to maps_measurement
    # (bulk, queryset.update, raw SQL) refreshes it, and any write of these columns on
    # maps_kpi (a stale instance's save()) is replaced by the recomputed value. Never
    # edited, exchanged or recorded in history.
    latest_value = models.FloatField(null=True, blank=True, editable=False)
    latest_date = models.DateField(null=True, blank=True, editable=False)
    history = HistoricalRecords(m2m_fields=[tags], excluded_fields=["latest_value", "latest_date"])

    class Meta:
        verbose_name = "KPI"
        ordering = ["map", "perspective", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "exchange_key"],
                name="kpi_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
            models.UniqueConstraint(
                fields=["map", "name"],
                name="kpi_name_unique_per_map",
                violation_error_message="This map already has a KPI with this name.",
            ),
            # Keys are scoped to their map: importing a key never reaches, reveals or
            # blocks another map's KPI. Also serves imports matching KPIs by key.
            models.UniqueConstraint(
                fields=["map", "import_key"],
                name="kpi_import_key_unique_per_map",
                violation_error_message="This map already has a KPI with this import key.",
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0),
                name="kpi_weight_positive",
                violation_error_message="Weight must be greater than 0.",
            ),
            finite_constraint("baseline", "The baseline"),
            finite_constraint("target", "The target"),
            finite_constraint("weight", "The weight"),
        ]
        indexes = [
            # scorecard quadrants: a map's KPIs by perspective
            models.Index(fields=["map", "perspective"], name="kpi_map_perspective_idx"),
            # home's "KPIs missing data": those never measured and those measured before
            # the period, each a range of the stored latest date in list order (all of
            # them for leadership, an owner's maps' by the second)
            models.Index(fields=["latest_date", "id"], name="kpi_latest_date_idx"),
            models.Index(fields=["map", "latest_date"], name="kpi_map_latest_date_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def comparison(self) -> str:
        """``at_least`` when higher is better, ``at_most`` when lower is: derived from
        ``direction`` so the two can never disagree."""
        return (
            self.Comparison.AT_MOST
            if self.direction == self.Direction.LOWER
            else (self.Comparison.AT_LEAST)
        )

    @comparison.setter
    def comparison(self, value: str) -> None:
        self.direction = (
            self.Direction.LOWER if value == self.Comparison.AT_MOST else self.Direction.HIGHER
        )

    def clean(self) -> None:
        super().clean()
        if self.import_key == "":
            self.import_key = None  # blank keys are "none", not a unique empty string
        errors: dict[str, str] = {}
        if (
            self.import_key
            and self.import_key.startswith(ANALYTICS_KEY_PREFIX)
            and self.source != self.Source.ANALYTICS
        ):
            errors["import_key"] = (
                f"Keys starting with “{ANALYTICS_KEY_PREFIX}” are kept for journey analytics."
            )
        if self.step_id and self.map_id and self.step.map_id != self.map_id:
            errors["step"] = f"The step “{self.step}” is on another map."
        if self.baseline is not None and self.target is not None:
            if self.baseline == self.target:
                errors["target"] = "The target must differ from the baseline."
            elif abs(self.target - self.baseline) < MIN_TARGET_GAP:
                # attainment divides by the gap: 1 ÷ 1e-320 would be infinite
                errors["target"] = "The target must differ from the baseline by at least 10^-9."
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
    date = models.DateField(validators=[PlausibleDateValidator()])
    value = models.FloatField(validators=finite("The value"))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kpi", "-date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "date"],
                name="measurement_unique_per_kpi_date",
                violation_error_message="This KPI already has a measurement on this date.",
            ),
            finite_constraint("value", "The value"),
        ]
        # The unique constraint's index (kpi, date) serves "latest value" and trends.
        indexes = [
            # the admin's and API's "newest measurements first" across KPIs
            models.Index(fields=["-date"], name="measurement_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.value:g} on {self.date:%Y-%m-%d}"


class MeasurementObservation(models.Model):
    """One raw observation of a KPI for one period and one combination of dimensions
    (region, channel, segment …): the inputs of the KPI's kind, never a percentage.

    The period's ``Measurement.value`` is recomputed from all observations of that KPI
    and date by ``maps.services.observations_record`` (counts pooled, CES weighted by
    respondents), so the scorecard keeps reading one value per KPI and date."""

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="observations")
    date = models.DateField(validators=[PlausibleDateValidator()])
    dimensions = models.JSONField(default=dict, blank=True)
    # the dimensions as one sorted "key=value|…" string: what uniqueness compares
    dimension_key = models.CharField(max_length=500, blank=True, default="")
    value = models.FloatField(null=True, blank=True, validators=finite("The value"))
    numerator = models.FloatField(null=True, blank=True, validators=finite("The numerator"))
    denominator = models.FloatField(null=True, blank=True, validators=finite("The denominator"))
    promoters = models.PositiveIntegerField(null=True, blank=True)
    passives = models.PositiveIntegerField(null=True, blank=True)
    detractors = models.PositiveIntegerField(null=True, blank=True)
    very_dissatisfied = models.PositiveIntegerField(null=True, blank=True)
    dissatisfied = models.PositiveIntegerField(null=True, blank=True)
    neutral = models.PositiveIntegerField(null=True, blank=True)
    satisfied = models.PositiveIntegerField(null=True, blank=True)
    very_satisfied = models.PositiveIntegerField(null=True, blank=True)
    mean = models.FloatField(null=True, blank=True, validators=finite("The mean"))
    respondents = models.PositiveIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    # written in bulk by maps.services, which records the history rows itself
    history = HistoricalRecords()

    INPUT_FIELDS = (
        "value",
        "numerator",
        "denominator",
        "promoters",
        "passives",
        "detractors",
        "very_dissatisfied",
        "dissatisfied",
        "neutral",
        "satisfied",
        "very_satisfied",
        "mean",
        "respondents",
    )

    class Meta:
        ordering = ["kpi", "-date", "dimension_key", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "date", "dimension_key"],
                name="observation_unique_per_kpi_date_dimensions",
                violation_error_message=(
                    "This KPI already has an observation on this date for these dimensions."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(denominator__isnull=True) | models.Q(denominator__gt=0),
                name="observation_denominator_positive",
                violation_error_message="The denominator must be greater than 0.",
            ),
            *(
                finite_constraint(name, f"The {name}")
                for name in ("value", "numerator", "denominator", "mean")
            ),
        ]
        # The unique constraint's index (kpi, date, dimension_key) serves the recompute
        # of a period and the measurements page's observations of recent periods.

    def __str__(self) -> str:
        where = f" [{self.dimension_key}]" if self.dimension_key else ""
        return f"{self.kpi}: {self.date:%Y-%m-%d}{where}"


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
    exchange_key = exchange_key_field()
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "perspective", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "exchange_key"],
                name="qualitativefactor_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
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

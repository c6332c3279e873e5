"""Lane content of a map: pain points and the other lane items, optionally pinned to a step."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from .common import (
    Evidence,
    LinkListValidator,
    TimeStamped,
    exchange_key_field,
    finite,
    finite_constraint,
    one_to_five,
)
from .journeys import JourneyMap, Step
from .tags import Tag


class MapItem(TimeStamped):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    evidence = models.CharField(
        max_length=12, choices=Evidence.choices, default=Evidence.ASSUMPTION
    )
    position = models.PositiveIntegerField(default=0)
    exchange_key = exchange_key_field()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        step = getattr(self, "step", None)
        if step is not None and self.map_id and step.map_id != self.map_id:
            message = f"The step “{step}” is on another map; pin the item to a step of its own map."
            raise ValidationError({"step": message})


class PainPoint(MapItem):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer pain point"
        EMPLOYEE = "employee", "Employee pain point"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="pain_points")
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="pain_points"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CUSTOMER)
    severity = models.PositiveSmallIntegerField(
        default=3, validators=one_to_five("Severity"), help_text="1 (minor) to 5 (critical)."
    )
    frequency = models.PositiveSmallIntegerField(
        default=3, validators=one_to_five("Frequency"), help_text="1 (rare) to 5 (constant)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "exchange_key"],
                name="painpoint_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
            models.CheckConstraint(
                condition=models.Q(severity__gte=1, severity__lte=5),
                name="painpoint_severity_range",
                violation_error_message="Severity must be between 1 and 5.",
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__gte=1, frequency__lte=5),
                name="painpoint_frequency_range",
                violation_error_message="Frequency must be between 1 and 5.",
            ),
        ]
        indexes = [
            # the map grid lanes and "pain points by kind" filters
            models.Index(fields=["map", "kind"], name="painpoint_map_kind_idx"),
            # /api/pain-points/: the default ordering (map, position, pk), read page by page
            models.Index(fields=["map", "position"], name="painpoint_map_position_idx"),
            # portfolio gaps: pain points ranked by severity
            models.Index(fields=["severity", "frequency"], name="painpoint_severity_idx"),
        ]

    @property
    def score(self) -> int:
        return self.severity * self.frequency


class LaneItem(MapItem):
    """Insights, opportunities, research and ideas: one model, told apart by ``kind``."""

    class Kind(models.TextChoices):
        INSIGHT = "insight", "Insight"
        OPPORTUNITY = "opportunity", "Opportunity"
        RESEARCH = "research", "Research"
        IDEA = "idea", "Idea"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="lane_items")
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="lane_items"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    url = models.URLField(blank=True, help_text="Link to the research, recording or document.")
    # What other tools (TheyDo) keep on insights and opportunities; imports and exports
    # carry them, the card shows them.
    import_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text="The item's key in other tools (TheyDo's importKey), unique per map and kind.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_lane_items",
        help_text="Who looks after the item (TheyDo's ownerEmail, matched to a user).",
    )
    status = models.CharField(max_length=80, blank=True, help_text="e.g. new, validated")
    item_type = models.CharField(max_length=80, blank=True, verbose_name="type")
    icon = models.CharField(max_length=80, blank=True)
    empathy_score = models.FloatField(null=True, blank=True, validators=finite("The empathy score"))
    weight = models.FloatField(null=True, blank=True, validators=finite("The weight"))
    external_links = models.JSONField(default=list, blank=True, validators=[LinkListValidator()])
    tags = models.ManyToManyField(Tag, blank=True, related_name="lane_items")
    history = HistoricalRecords(m2m_fields=[tags])

    class Meta:
        ordering = ["map", "position", "pk"]
        indexes = [
            models.Index(fields=["map", "kind"], name="laneitem_map_kind_idx"),
            # /api/lane-items/: the default ordering (map, position, pk), read page by page
            models.Index(fields=["map", "position"], name="laneitem_map_position_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "exchange_key"],
                name="laneitem_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
            # keys are scoped to one map and kind: one map's import never reaches another's
            models.UniqueConstraint(
                fields=["map", "kind", "import_key"],
                name="laneitem_import_key_unique",
                violation_error_message="This map already has an item of this kind with this "
                "import key.",
            ),
            finite_constraint("empathy_score", "The empathy score"),
            finite_constraint("weight", "The weight"),
        ]

    def clean(self) -> None:
        super().clean()
        if self.import_key == "":
            self.import_key = None  # blank keys are "none", not a unique empty string

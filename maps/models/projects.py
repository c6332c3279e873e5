"""CX projects: the work that fixes pain points, kept as the repository of past work."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from .common import (
    LinkListValidator,
    PlausibleDateValidator,
    TimeStamped,
    between,
    exchange_key_field,
    finite,
    finite_constraint,
    one_to_five,
)
from .content import PainPoint
from .journeys import JourneyMap, Step
from .tags import Tag


class CXProject(TimeStamped):
    class Status(models.TextChoices):
        IDEA = "idea", "Idea"
        PLANNED = "planned", "Planned"
        ONGOING = "ongoing", "Ongoing"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.PLANNED, Status.ONGOING)

    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IDEA)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_projects"
    )
    team = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    start_date = models.DateField(
        null=True, blank=True, validators=[PlausibleDateValidator("The start date")]
    )
    end_date = models.DateField(
        null=True, blank=True, validators=[PlausibleDateValidator("The end date")]
    )
    maps = models.ManyToManyField(JourneyMap, blank=True, related_name="projects")
    steps = models.ManyToManyField(Step, blank=True, related_name="projects")
    pain_points = models.ManyToManyField(PainPoint, blank=True, related_name="projects")
    reach = models.PositiveIntegerField(default=0, help_text="Customers affected per quarter.")
    impact = models.PositiveSmallIntegerField(
        default=3, validators=one_to_five("Impact"), help_text="1 (minimal) to 5 (massive)."
    )
    confidence = models.PositiveSmallIntegerField(
        default=50,
        validators=between("Confidence", 0, 100, "%"),
        help_text="How sure we are of reach and impact, in percent.",
    )
    effort = models.FloatField(
        default=1.0,
        validators=[
            MinValueValidator(0.1, "Effort must be at least 0.1 person-weeks."),
            *finite("Effort"),
        ],
        help_text="Person-weeks.",
    )
    cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0, "Cost cannot be negative.")],
    )
    outcome = models.TextField(blank=True, help_text="What happened, once done or cancelled.")
    priority = models.CharField(max_length=6, choices=Priority.choices, blank=True)
    project_type = models.CharField(max_length=80, blank=True, verbose_name="type")
    external_links = models.JSONField(default=list, blank=True, validators=[LinkListValidator()])
    # What other tools (TheyDo) call the project: its key, scoped to the map it was
    # imported through, and its status as written there (``status`` is ours, mapped).
    import_key = models.CharField(max_length=200, null=True, blank=True, editable=False)
    import_map = models.ForeignKey(
        JourneyMap,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="imported_projects",
        editable=False,
        help_text="The map whose import created the project: its import keys' scope.",
    )
    source_status = models.CharField(max_length=80, blank=True, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="projects")
    # projects belong to no one map: their exchange key is unique across the repository
    exchange_key = exchange_key_field()
    history = HistoricalRecords(m2m_fields=[maps, steps, pain_points, tags])

    class Meta:
        verbose_name = "CX project"
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(impact__gte=1, impact__lte=5),
                name="cxproject_impact_range",
                violation_error_message="Impact must be between 1 and 5.",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0, confidence__lte=100),
                name="cxproject_confidence_range",
                violation_error_message="Confidence must be between 0 and 100%%.",
            ),
            models.CheckConstraint(
                condition=models.Q(effort__gt=0),
                name="cxproject_effort_positive",
                violation_error_message="Effort must be greater than 0 person-weeks.",
            ),
            finite_constraint("effort", "Effort"),
            models.CheckConstraint(
                condition=models.Q(cost__isnull=True) | models.Q(cost__gte=0),
                name="cxproject_cost_not_negative",
                violation_error_message="Cost cannot be negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(start_date__isnull=True)
                | models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="cxproject_dates_ordered",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.UniqueConstraint(
                fields=["exchange_key"],
                name="cxproject_exchange_key_unique",
                violation_error_message="Another project already uses this exchange key.",
            ),
            models.UniqueConstraint(
                fields=["import_map", "import_key"],
                name="cxproject_import_key_unique",
                violation_error_message="A project imported through this map has this key.",
            ),
        ]
        indexes = [
            # portfolio filters: status, owner, team
            models.Index(fields=["status"], name="cxproject_status_idx"),
            models.Index(fields=["owner", "status"], name="cxproject_owner_status_idx"),
            models.Index(fields=["team", "status"], name="cxproject_team_status_idx"),
            # overlap detection: active projects in overlapping date ranges
            models.Index(fields=["start_date", "end_date"], name="cxproject_dates_idx"),
            # /api/projects/: the default ordering (title, pk), read page by page
            models.Index(fields=["title"], name="cxproject_title_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def clean(self) -> None:
        super().clean()
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})


class DeliveryStatus(models.Model):
    """Where a work item in a delivery tool stands, by its key ("CX-142", "acme/app#42"),
    as last imported from that tool's export (``maps.delivery.status_import``). Projects
    reach it through the keys their delivery links carry, so one import serves them all."""

    class State(models.TextChoices):
        TODO = "todo", "To do"
        DOING = "doing", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        UNKNOWN = "unknown", "Unknown"

    key = models.CharField(max_length=200, unique=True, help_text="Upper-cased work item key.")
    status = models.CharField(max_length=80, help_text="The status as the tool wrote it.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.UNKNOWN)
    title = models.CharField(max_length=300, blank=True)
    assignee = models.CharField(max_length=150, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "delivery status"
        verbose_name_plural = "delivery statuses"
        ordering = ("key",)

    def __str__(self) -> str:
        return f"{self.key}: {self.status}"

"""Research as evidence: sources (interviews, surveys, support logs, usability tests,
analytics reports) with their quotes and attached files, linked to the steps, pain
points and lane items they back. TheyDo's survey and feedback response files import
into sources and quotes (``maps.theydo``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .common import TimeStamped, exchange_key_field
from .content import LaneItem, PainPoint
from .journeys import JourneyMap, Persona, Step
from .tags import Tag


class ResearchSource(TimeStamped):
    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Interview"
        SURVEY = "survey", "Survey"
        FEEDBACK = "feedback", "Feedback / support log"
        USABILITY_TEST = "usability", "Usability test"
        ANALYTICS = "analytics", "Analytics report"
        OTHER = "other", "Other"

    map = models.ForeignKey(JourneyMap, on_delete=models.CASCADE, related_name="research_sources")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INTERVIEW)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    conducted_on = models.DateField(null=True, blank=True)
    url = models.URLField(blank=True, max_length=2000, help_text="Where the research lives.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="research_sources",
    )
    import_key = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        help_text="TheyDo's surveyId / feedbackId: re-importing updates this source.",
    )
    #: the fields (columns) an imported survey declared, as in the file, so an export
    #: gives them back: [{"fieldId", "fieldName", "fieldType", "tagGroupTitle", "required"}]
    fields = models.JSONField(default=list, blank=True)
    one_quote_per_response = models.BooleanField(
        default=False,
        help_text="Each response is one verbatim quote (TheyDo's convertAllRowsToQuotes); "
        "otherwise each text answer is a quote of its own.",
    )
    position = models.PositiveIntegerField(default=0)
    exchange_key = exchange_key_field()
    steps = models.ManyToManyField(Step, blank=True, related_name="research_sources")
    pain_points = models.ManyToManyField(PainPoint, blank=True, related_name="research_sources")
    lane_items = models.ManyToManyField(LaneItem, blank=True, related_name="research_sources")
    history = HistoricalRecords(m2m_fields=[steps, pain_points, lane_items])

    class Meta:
        ordering = ["map", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "exchange_key"],
                name="researchsource_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
            models.UniqueConstraint(
                fields=["map", "import_key"],
                name="researchsource_import_key_unique",
                violation_error_message="This map already has a research source with this key.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        if self.import_key == "":
            self.import_key = None


class Quote(TimeStamped):
    """What a customer or employee said, verbatim, in one source."""

    source = models.ForeignKey(ResearchSource, on_delete=models.CASCADE, related_name="quotes")
    text = models.TextField()
    # Where an imported quote comes from: the response, and the text field when each
    # answer is a quote of its own ("" when the quote is the whole response).
    response_id = models.CharField(max_length=200, blank=True)
    field_id = models.CharField(max_length=200, blank=True)
    #: a whole-response quote's text answers by fieldId, so an export gives them back
    answers = models.JSONField(default=dict, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    persona_hint = models.CharField(
        max_length=200, blank=True, help_text="The segment the response named (TheyDo PERSONA)."
    )
    persona = models.ForeignKey(
        Persona, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    position = models.PositiveIntegerField(default=0)
    exchange_key = exchange_key_field()
    tags = models.ManyToManyField(Tag, blank=True, related_name="quotes")
    steps = models.ManyToManyField(Step, blank=True, related_name="quotes")
    pain_points = models.ManyToManyField(PainPoint, blank=True, related_name="quotes")
    lane_items = models.ManyToManyField(LaneItem, blank=True, related_name="quotes")
    history = HistoricalRecords(m2m_fields=[tags, steps, pain_points, lane_items])

    class Meta:
        ordering = ["source", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "exchange_key"],
                name="quote_exchange_key_unique",
                violation_error_message="Another row here already uses this exchange key.",
            ),
            models.UniqueConstraint(
                fields=["source", "response_id", "field_id"],
                condition=~models.Q(response_id=""),
                name="quote_response_unique",
                violation_error_message="This source already has a quote of this response.",
            ),
        ]
        indexes = [models.Index(fields=["source", "responded_at"], name="quote_source_date_idx")]

    def __str__(self) -> str:
        return self.text[:80]


class Attachment(TimeStamped):
    """A file kept with a research source (recording notes, a report, a transcript):
    stored under ``MEDIA_ROOT``, served only to people who may see the map."""

    source = models.ForeignKey(ResearchSource, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="research/%Y/%m/", max_length=300)
    name = models.CharField(max_length=255, help_text="The file's name as uploaded.")
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["source", "name", "pk"]

    def __str__(self) -> str:
        return self.name

"""One searchable row per map, step, pain point, lane item, research source, quote and
CX project. Written only by database triggers (``search_index.index``): never save one."""

from __future__ import annotations

from django.db import models

from maps.models import CXProject, JourneyMap, ResearchSource, Step


def _derived_link(model, **kwargs) -> models.ForeignKey:
    # Triggers keep these ids right and delete the row with its source, so no database
    # constraint (a constraint would order the triggers' writes against Django's
    # cascades) and nothing for Django's collector to do.
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **kwargs,
    )


class SearchEntry(models.Model):
    class Kind(models.TextChoices):
        MAP = "map", "Journey map"
        STEP = "step", "Step"
        PAIN_POINT = "pain_point", "Pain point"
        INSIGHT = "insight", "Insight"
        OPPORTUNITY = "opportunity", "Opportunity"
        RESEARCH = "research", "Research"
        IDEA = "idea", "Idea"
        SOURCE = "source", "Research source"
        QUOTE = "quote", "Quote"
        PROJECT = "project", "CX project"

    #: the source table's model name (``step``, ``laneitem`` …): with ``object_id``, the row
    model = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.TextField(blank=True)
    body = models.TextField(blank=True)
    #: the map the row belongs to (a quote's: its source's); null for projects
    map = _derived_link(JourneyMap)
    project = _derived_link(CXProject)
    #: the step a row is pinned to (a step's: itself), for a link to its column
    step = _derived_link(Step)
    #: a quote's source (a source's: itself)
    source = _derived_link(ResearchSource)
    evidence = models.CharField(max_length=12, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "search entry"
        verbose_name_plural = "search entries"
        ordering = ["pk"]
        constraints = [
            # the triggers' upsert target: one row per source row
            models.UniqueConstraint(fields=["model", "object_id"], name="searchentry_source_unique")
        ]
        indexes = [
            # permission and subtree filters join the hits' maps; facet counts by kind
            models.Index(fields=["map", "kind"], name="searchentry_map_kind_idx"),
            models.Index(fields=["project"], name="searchentry_project_idx"),
            # a source's quotes follow it to another map
            models.Index(fields=["source"], name="searchentry_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}: {self.title[:60]}"

"""What map content is: one declaration, read by the editor, history, snapshots and the exchange
format, so a new kind or a new field cannot be forgotten by one of them.

Each kind names its model, how it reaches its map, its noun and label, and its kind in
the editor's URLs. Its fields are derived from the model (every stored field but the
primary key, the map and the modification time), so a field added to a model is stored,
compared and restored by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from .models import (
    KPI,
    JourneyMap,
    LaneItem,
    Measurement,
    PainPoint,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)

_NOT_CONTENT = {"id", "map", "updated_at"}


@dataclass(frozen=True)
class ContentKind:
    key: str  # in snapshots and exports: "steps"
    model: type[models.Model]
    noun: str  # "step"
    label: str  # "Steps"
    editor: str | None  # the kind in the editor's URLs; None: not edited in the grid
    map_path: str = "map"

    @property
    def fields(self) -> tuple[str, ...]:
        """Every stored field but the primary key, the map and the modification time,
        by attribute name (``step_id``)."""
        return tuple(
            f.attname for f in self.model._meta.concrete_fields if f.name not in _NOT_CONTENT
        )

    def of_map(self, journey_map: JourneyMap) -> models.QuerySet:
        return self.model._default_manager.filter(**{self.map_path: journey_map})


# In dependency order: what others point at comes first (restore creates in this order
# and deletes in the reverse one).
CONTENT_KINDS: tuple[ContentKind, ...] = (
    ContentKind("stages", Stage, "stage", "Stages", "stage"),
    ContentKind("steps", Step, "step", "Steps", "step"),
    ContentKind("links", StepLink, "step link", "Step links", "link", "from_step__map"),
    ContentKind("pain_points", PainPoint, "pain point", "Pain points", "painpoint"),
    ContentKind(
        "lane_items",
        LaneItem,
        "lane item",
        "Insights, opportunities, research, ideas",
        "laneitem",
    ),
    ContentKind("kpis", KPI, "KPI", "KPIs", "kpi"),
    ContentKind("ratings", QualitativeFactor, "qualitative rating", "Qualitative ratings", None),
)
BY_KEY = {kind.key: kind for kind in CONTENT_KINDS}
BY_EDITOR = {kind.editor: kind for kind in CONTENT_KINDS if kind.editor}
BY_MODEL = {kind.model: kind for kind in CONTENT_KINDS}


def map_of(obj: models.Model) -> JourneyMap:
    """The map a piece of content belongs to."""
    if isinstance(obj, JourneyMap):
        return obj
    if isinstance(obj, Measurement):
        return obj.kpi.map
    if isinstance(obj, StepLink):
        return obj.from_step.map
    return obj.map

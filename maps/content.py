"""What map content is: one declaration, read by the editor, history, snapshots and the exchange
format, so a new kind or a new field cannot be forgotten by one of them.

Each kind names its model, how it reaches its map, its noun and label, its kind in the
editor's URLs, its editor form and its API serializer. Its fields are derived from the
model (every stored field but the primary key, the map and the modification time), so
a field added to a model is stored, compared and restored by construction, and
``tests/test_content_registry.py`` fails until the API and the editor form carry it too
(or the kind says why its form leaves it out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.module_loading import import_string

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

#: stored copies of other rows, kept by the database's triggers (maps migration 0025):
#: not content of their own, so never edited, snapshotted, restored or exchanged
DERIVED: dict[str, str] = {
    "latest_value": "a KPI's latest measurement, kept by the database's triggers",
    "latest_date": "the date of a KPI's latest measurement, kept the same way",
}
_NOT_CONTENT = {"id", "map", "updated_at", *DERIVED}


@dataclass(frozen=True)
class ContentKind:
    key: str  # in snapshots and exports: "steps"
    model: type[models.Model]
    noun: str  # "step"
    label: str  # "Steps"
    editor: str | None  # the kind in the editor's URLs; None: not edited in the grid
    serializer: str  # dotted path of its API serializer
    form: str | None = None  # dotted path of its editor form
    map_path: str = "map"
    # fields the editor form leaves out on purpose, each with the reason
    not_in_form: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every stored field but the primary key, the map and the modification time,
        by attribute name (``step_id``)."""
        return tuple(
            f.attname for f in self.model._meta.concrete_fields if f.name not in _NOT_CONTENT
        )

    def of_map(self, journey_map: JourneyMap) -> models.QuerySet:
        return self.model._default_manager.filter(**{self.map_path: journey_map})

    @property
    def form_class(self):
        return import_string(self.form) if self.form else None

    @property
    def serializer_class(self):
        return import_string(self.serializer)


_API = "maps.api.serializers."
_FORMS = "maps.forms."
_ORDERED = {"position": "set by dragging or the arrow keys, not typed"}
# the key journeyhub/1 exports and imports match rows on (maps.exchange); never typed
_KEYED = {"exchange_key": "made when the row is, kept by exports and imports (maps.exchange)"}


# In dependency order: what others point at comes first (restore creates in this order
# and deletes in the reverse one).
#
# Research sources and quotes (maps/research.py) are not kinds here on purpose: a
# snapshot carries concrete fields only, not the many-to-many links that make them
# evidence (quote → steps, pain points, lane items, tags), so a restore would bring them
# back unlinked; restoring deletes what was added since, and a source's attachments are
# files no snapshot can give back; and the history page reaches each kind's rows by a
# ``map_id`` quotes do not have (theirs is ``source__map``). Restores leave research as
# it is (tests/test_research.py).
CONTENT_KINDS: tuple[ContentKind, ...] = (
    ContentKind(
        "stages", Stage, "stage", "Stages", "stage",
        _API + "StageSerializer", _FORMS + "StageForm", not_in_form=_ORDERED | _KEYED,
    ),
    ContentKind(
        "steps", Step, "step", "Steps", "step",
        _API + "StepSerializer", _FORMS + "StepForm", not_in_form=_ORDERED,
    ),
    ContentKind(
        "links", StepLink, "step link", "Step links", "link",
        _API + "StepLinkSerializer", _FORMS + "StepLinkForm", map_path="from_step__map",
    ),
    ContentKind(
        "pain_points", PainPoint, "pain point", "Pain points", "painpoint",
        _API + "PainPointSerializer", _FORMS + "PainPointForm",
        not_in_form=_ORDERED | _KEYED,
    ),
    ContentKind(
        "lane_items", LaneItem, "lane item", "Insights, opportunities, research, ideas",
        "laneitem", _API + "LaneItemSerializer", _FORMS + "LaneItemForm",
        not_in_form={
            **_ORDERED,
            **_KEYED,
            "import_key": "set by imports (TheyDo's importKey), which match on it",
            "owner": "matched by imports from TheyDo's ownerEmail; the API and admin set it",
            "icon": "TheyDo's icon name, kept so an export gives it back",
        },
    ),
    ContentKind(
        "kpis", KPI, "KPI", "KPIs", "kpi", _API + "KPISerializer", _FORMS + "KPIForm",
        not_in_form={
            **_KEYED,
            "import_key": "set by imports (TheyDo's importKey) and journey analytics",
            "source": "journey analytics sets it; people enter manual KPIs",
            "owner": "matched by imports from TheyDo's ownerEmail; the API and admin set it",
        },
    ),
    # rated on the scorecard page (governance.forms.FactorRatingForm), not in the grid
    ContentKind(
        "ratings", QualitativeFactor, "qualitative rating", "Qualitative ratings", None,
        _API + "QualitativeFactorSerializer",
    ),
)  # fmt: skip
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

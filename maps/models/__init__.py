"""The journey map repository: maps, their structure, lane content, KPIs and CX projects."""

from .common import Evidence, Perspective
from .content import LaneItem, PainPoint
from .counts import MapPainPointCounts
from .events import EventActivityMapping, EventImport
from .exchange_imports import ExchangeImport
from .journeys import (
    JourneyMap,
    JourneyMapGroupObjectPermission,
    JourneyMapUserObjectPermission,
    Persona,
    Stage,
    Step,
    StepLink,
)
from .metrics import KPI, Measurement, MeasurementObservation, QualitativeFactor
from .projects import CXProject, DeliveryStatus
from .research import Attachment, Quote, ResearchSource
from .tags import Tag, TagGroup
from .theydo_imports import TheydoImport
from .vocabulary import VocabularyTerm

__all__ = [
    "KPI",
    "Attachment",
    "CXProject",
    "DeliveryStatus",
    "EventActivityMapping",
    "EventImport",
    "Evidence",
    "ExchangeImport",
    "JourneyMap",
    "JourneyMapGroupObjectPermission",
    "JourneyMapUserObjectPermission",
    "LaneItem",
    "MapPainPointCounts",
    "Measurement",
    "MeasurementObservation",
    "PainPoint",
    "Persona",
    "Perspective",
    "QualitativeFactor",
    "Quote",
    "ResearchSource",
    "Stage",
    "Step",
    "StepLink",
    "Tag",
    "TagGroup",
    "TheydoImport",
    "VocabularyTerm",
]

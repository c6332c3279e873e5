"""django-filter filter sets of the API; every filtered field has an index."""

from __future__ import annotations

import django_filters as filters

from journeyhub.api.filters import BoundedFilterSet
from maps.models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    PainPoint,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)


class JourneyMapFilter(BoundedFilterSet):
    owner = filters.CharFilter(field_name="owner__username")
    persona = filters.CharFilter(field_name="persona__slug")
    level = filters.NumberFilter()
    root = filters.BooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = JourneyMap
        fields = ("status", "owner", "team", "persona", "parent", "level")


class StageFilter(BoundedFilterSet):
    class Meta:
        model = Stage
        fields = ("map",)


class StepFilter(BoundedFilterSet):
    class Meta:
        model = Step
        fields = ("map", "stage", "channel", "evidence", "is_moment_of_truth", "is_recurring")


class StepLinkFilter(BoundedFilterSet):
    map = filters.NumberFilter(field_name="from_step__map")

    class Meta:
        model = StepLink
        fields = ("map", "from_step", "to_step", "kind")


class PainPointFilter(BoundedFilterSet):
    min_severity = filters.NumberFilter(field_name="severity", lookup_expr="gte")

    class Meta:
        model = PainPoint
        fields = ("map", "step", "kind", "severity", "frequency", "evidence")


class LaneItemFilter(BoundedFilterSet):
    class Meta:
        model = LaneItem
        fields = ("map", "step", "kind", "evidence")


class KPIFilter(BoundedFilterSet):
    class Meta:
        model = KPI
        fields = ("map", "step", "perspective", "source", "direction")


class MeasurementFilter(BoundedFilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Measurement
        fields = ("kpi", "date_from", "date_to")


class QualitativeFactorFilter(BoundedFilterSet):
    class Meta:
        model = QualitativeFactor
        fields = ("map", "perspective", "rating")


class CXProjectFilter(BoundedFilterSet):
    owner = filters.CharFilter(field_name="owner__username")
    map = filters.NumberFilter(field_name="maps", distinct=True)

    class Meta:
        model = CXProject
        fields = ("status", "owner", "team", "map")

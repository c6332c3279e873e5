"""django-filter filter sets of the API; every filtered field has an index."""

from __future__ import annotations

import django_filters as filters
from django_filters.filters import QuerySetRequestMixin

from governance import permissions
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


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    pass


class VisibleChoicesFilterSet(BoundedFilterSet):
    """Choices of maps and of map content (``?map=``, ``?step=`` …) are only what the user
    may see, so a hidden id answers the same 400 as a missing one and confirms nothing.

    A filter the request does not use gets no choices at all (building the visibility
    condition of each was a large part of a list's time); the browsable API's filter
    form asks for every filter's visible choices (``FilterBackend.to_html``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for name, f in self.filters.items():
            queryset = getattr(f, "queryset", None) if isinstance(f, QuerySetRequestMixin) else None
            if queryset is None or callable(queryset):
                continue
            if not self.all_choices and not self.data.get(name):
                f.queryset = queryset.none()  # not filtered on: nothing to choose from
            elif queryset.model is JourneyMap:
                f.queryset = permissions.visible_maps(user, queryset)
            elif any(field.name == "map" for field in queryset.model._meta.fields):
                f.queryset = permissions.visible_content(user, queryset)

    def _in_use(self) -> bool:
        """Whether the request names a filter (or a widget's key of one: ``date_min``)."""
        return self.all_choices or any(
            str(key).startswith(name) for key in self.data for name in self.filters
        )

    def is_valid(self) -> bool:
        # no filter named: the empty form is valid (no filter is required), and building
        # and validating it was a tenth of a list's time (#16)
        if self.is_bound and not self._in_use():
            return True
        return super().is_valid()

    @property
    def qs(self):
        if self.is_bound and not self._in_use() and not hasattr(self, "_qs"):
            # every filter leaves the list as it is for an empty value (EMPTY_VALUES)
            self._qs = self.queryset.all()
        return super().qs


class JourneyMapFilter(VisibleChoicesFilterSet):
    owner = filters.CharFilter(field_name="owner__username")
    # ?persona=a,b: maps drawn for any of these personas (slugs)
    persona = CharInFilter(method="any_persona", label="Persona slugs, comma-separated (any of)")
    level = filters.NumberFilter()
    root = filters.BooleanFilter(field_name="parent", lookup_expr="isnull")

    class Meta:
        model = JourneyMap
        fields = ("status", "owner", "team", "persona", "parent", "level")

    def any_persona(self, queryset, name, value):
        if not value:
            return queryset
        # A subquery, not a join: a map with two of them is listed once, no DISTINCT.
        links = JourneyMap.personas.through.objects.filter(persona__slug__in=value)
        return queryset.filter(pk__in=links.values("journeymap_id"))


class StageFilter(VisibleChoicesFilterSet):
    class Meta:
        model = Stage
        fields = ("map",)


class StepFilter(VisibleChoicesFilterSet):
    class Meta:
        model = Step
        fields = ("map", "stage", "channel", "evidence", "is_moment_of_truth", "is_recurring")


class StepLinkFilter(VisibleChoicesFilterSet):
    map = filters.NumberFilter(field_name="from_step__map")

    class Meta:
        model = StepLink
        fields = ("map", "from_step", "to_step", "kind")


class PainPointFilter(VisibleChoicesFilterSet):
    min_severity = filters.NumberFilter(field_name="severity", lookup_expr="gte")

    class Meta:
        model = PainPoint
        fields = ("map", "step", "kind", "severity", "frequency", "evidence")


class LaneItemFilter(VisibleChoicesFilterSet):
    class Meta:
        model = LaneItem
        fields = ("map", "step", "kind", "evidence")


class KPIFilter(VisibleChoicesFilterSet):
    class Meta:
        model = KPI
        fields = ("map", "step", "perspective", "source", "direction")


class MeasurementFilter(VisibleChoicesFilterSet):
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = Measurement
        fields = ("kpi", "date_from", "date_to")


class QualitativeFactorFilter(VisibleChoicesFilterSet):
    class Meta:
        model = QualitativeFactor
        fields = ("map", "perspective", "rating")


class CXProjectFilter(VisibleChoicesFilterSet):
    owner = filters.CharFilter(field_name="owner__username")
    map = filters.NumberFilter(field_name="maps", distinct=True)

    class Meta:
        model = CXProject
        fields = ("status", "owner", "team", "map")

"""Related fields that only accept objects the requesting user may see.

An object the user may not see is reported exactly like one that does not exist,
so its existence never leaks.
"""

from __future__ import annotations

from rest_framework import serializers

from governance import permissions
from maps.models import KPI, JourneyMap, PainPoint, Stage, Step


class _VisibleField(serializers.PrimaryKeyRelatedField):
    model = None
    map_path = "map"

    def get_queryset(self):
        request = self.context.get("request")
        qs = self.model.objects.all()
        user = getattr(request, "user", None)
        if self.model is JourneyMap:
            return permissions.visible_maps(user, qs)
        return permissions.visible_content(user, qs, map_path=self.map_path)


class VisibleMapField(_VisibleField):
    model = JourneyMap


class VisibleStageField(_VisibleField):
    model = Stage


class VisibleStepField(_VisibleField):
    model = Step


class VisiblePainPointField(_VisibleField):
    model = PainPoint


class VisibleKPIField(_VisibleField):
    model = KPI


def visible_map_ids(request, map_ids) -> set[int]:
    """Which of ``map_ids`` the requesting user may see (one query, none if empty)."""
    map_ids = set(map_ids)
    if not map_ids:
        return set()
    visible = permissions.visible_maps(getattr(request, "user", None))
    return set(visible.filter(pk__in=map_ids).values_list("pk", flat=True))

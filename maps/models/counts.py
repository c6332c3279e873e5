"""Per-map counts kept by database triggers, so lists over many maps read one row per map
instead of every pain point (issue #16)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Sum

from .journeys import JourneyMap


class MapPainPointCountsQuerySet(models.QuerySet):
    def unaddressed_in(self, maps: models.QuerySet[JourneyMap]) -> int:
        """How many of ``maps``' pain points no CX project addresses: one stored row per
        map summed, instead of counting every pain point (180,000 for an owner of 1,000
        maps at 10,000) and looking up every link."""
        rows = self.all()
        if maps.query.has_filters() or maps.query.is_empty():
            rows = rows.filter(map__in=maps.values("pk"))
        # else CX leadership: every map, no need to ask which
        return rows.aggregate(n=Sum(F("total") - F("addressed")))["n"] or 0


class MapPainPointCounts(models.Model):
    """How many pain points a map has and how many of them some CX project addresses
    (has at least one link in ``maps_cxproject_pain_points``, whatever the project's
    status: the home page's "without a project").

    Derived data: written only by the database's triggers (maps/derived/pain_point_counts.py) on
    ``maps_painpoint`` and the project/pain point link table, on any insert, update (a
    pain point moved to another map) or delete, bulk or not. A map without pain points
    may have no row (read it as zero). Never edited, snapshotted, exported or restored.
    """

    map = models.OneToOneField(
        JourneyMap,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="pain_point_counts",
    )
    total = models.IntegerField(default=0, editable=False)
    addressed = models.IntegerField(default=0, editable=False)

    objects = MapPainPointCountsQuerySet.as_manager()

    class Meta:
        verbose_name = "map pain point counts"
        verbose_name_plural = "map pain point counts"

    def __str__(self) -> str:
        return f"Map {self.map_id}: {self.addressed} of {self.total} pain points addressed"

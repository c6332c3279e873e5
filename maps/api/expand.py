"""``GET /api/maps/{id}/?expand=content``: one map with everything in it, in one call.

The content is the map's journeyhub/1 entry (``maps.exchange.export``: the same fields,
derived from the models, the same keys, the same visibility rules: only this map, and
only projects the reader may see, linked only to what the document holds), with each
row's database ``id`` added so that clients can go on to edit rows by id, and each KPI's
latest value. A fixed number of queries whatever the map's size
(``tests/test_api_expand.py``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maps.exchange.export import export_document
from maps.exchange.spec import CONTENT_PARTS, SOURCE_PART
from maps.models import KPI, JourneyMap
from maps.sql import Prepared

from .serializers import JourneyMapSerializer

EXPANDABLE = ("content",)

#: the lists of ``content``: the registry's kinds, then research and projects
CONTENT_LISTS: tuple[str, ...] = (*(part.name for part in CONTENT_PARTS), SOURCE_PART.name)


def _latest_query(map_id: Any) -> QuerySet:
    return (
        KPI.objects.filter(map=map_id, latest_date__isnull=False)
        .order_by()
        .values_list("pk", "latest_date", "latest_value")
    )


# compiled once per process (maps.sql.Prepared): building the query each time cost more
# than the database's answer
_LATEST = Prepared(_latest_query)


def latest_values(journey_map: JourneyMap) -> dict[int, dict[str, Any]]:
    """Each KPI of the map's latest period value: the one stored on the KPI (kept by
    triggers, maps 0025; a KPI has one measurement per date, so it is the newest date's)."""
    rows = _LATEST.rows(journey_map.pk)
    return {kpi: {"date": date.isoformat(), "value": value} for kpi, date, value in rows}


def map_content(journey_map: JourneyMap, *, user) -> dict[str, Any]:
    """The content of ``journey_map`` as ``user`` sees it. The caller has checked that
    ``user`` may see the map."""
    # the map was read by the view with every field: not read again; the document's
    # vocabulary and personas lists are not part of the answer: not read
    document = export_document(
        journey_map,
        user=user,
        measurements=False,
        subtree=False,
        ids=True,
        fresh=True,
        lists=False,
    )
    entry = document["maps"][0]
    content: dict[str, Any] = {"format": document["format"]}
    content.update((name, entry[name]) for name in CONTENT_LISTS)
    latest = latest_values(journey_map)
    for kpi in content["kpis"]:
        kpi["latest"] = latest.get(kpi["id"])
    content["projects"] = document["projects"]
    return content


def _row_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.DictField(), read_only=True, help_text=help_text)


def _described(name: str) -> str:
    text = f"The map's {name.replace('_', ' ')} as journeyhub/1 writes them, each with its id."
    return text + (" Each KPI also has latest: {date, value} or null." if name == "kpis" else "")


#: what ``content`` holds, for the OpenAPI schema (each row's fields: docs/exchange.md)
MapContentSerializer = type(
    "MapContentSerializer",
    (serializers.Serializer,),
    {
        "format": serializers.CharField(read_only=True, help_text="journeyhub/1"),
        **{name: _row_list(_described(name)) for name in CONTENT_LISTS},
        "projects": _row_list(
            "The CX projects you may see that touch this map, its steps or pain points, "
            "linked only to this map's rows."
        ),
    },
)


@extend_schema_field(MapContentSerializer)
class _ContentField(serializers.Field):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, instance) -> dict[str, Any]:
        return map_content(instance, user=self.context["request"].user)

    def fast_reader_in(self, context: dict):
        """Its reader when the serializer's fields are shared (``fast.FastRepresentation``)."""

        def read(instance) -> dict[str, Any]:
            return map_content(instance, user=context["request"].user)

        return read


class JourneyMapWithContentSerializer(JourneyMapSerializer):
    """A map with its content (``?expand=content``)."""

    content = _ContentField(
        help_text="Everything in the map: its journeyhub/1 entry with database ids."
    )

    class Meta(JourneyMapSerializer.Meta):
        fields = (*JourneyMapSerializer.Meta.fields, "content")

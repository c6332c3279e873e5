"""The research API: sources, quotes and their attached files, with what they back.

Lists hold only what the user may see (the sources and quotes of maps they may see);
writes are for the map's editors and go through ``maps.research``, the rules the
browser pages use. Sources and quotes are map content: writes carry ``map_version``
(a stale one gets 409). Files are uploaded as multipart ``file`` with the ``source``
id, refused with 400 naming ``file`` when too large or of a type not allowed, and
downloaded from the map's research page URL (``download_url``)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser

from governance import permissions
from governance.permissions import Action
from maps import research, services
from maps.models import Attachment, JourneyMap, LaneItem, Persona, Quote, ResearchSource, Tag

from .fields import VisibleMapField, VisiblePainPointField, VisibleStepField, _VisibleField
from .filters import VisibleChoicesFilterSet
from .serializers import (
    CleanModelSerializer,
    MapVersionMixin,
    UserRefField,
    tag_names,
)
from .views import (
    CONFLICT_RESPONSE,
    ObjectPolicyMixin,
    _content_schema,
    conflict,
    django_validation,
    expected_version,
)


class VisibleLaneItemField(_VisibleField):
    model = LaneItem


class VisibleSourceField(_VisibleField):
    model = ResearchSource


def _links() -> dict[str, serializers.Field]:
    return {
        "steps": VisibleStepField(many=True, required=False),
        "pain_points": VisiblePainPointField(many=True, required=False),
        "lane_items": VisibleLaneItemField(many=True, required=False),
    }


class ResearchSourceSerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    owner = UserRefField(
        allow_null=True, required=False, help_text="Username; defaults to you on creation."
    )
    quote_count = serializers.IntegerField(read_only=True)
    steps, pain_points, lane_items = _links().values()
    instruction_fields = ("map_version",)

    class Meta:
        model = ResearchSource
        fields = (
            "id",
            "map",
            "kind",
            "title",
            "description",
            "conducted_on",
            "url",
            "owner",
            "import_key",
            "fields",
            "one_quote_per_response",
            "position",
            "steps",
            "pain_points",
            "lane_items",
            "quote_count",
            "created_at",
            "updated_at",
            "map_version",
        )
        read_only_fields = ("fields", "one_quote_per_response", "created_at", "updated_at")


class QuoteSerializer(MapVersionMixin, CleanModelSerializer):
    source = VisibleSourceField()
    map = serializers.IntegerField(source="source.map_id", read_only=True)
    persona = serializers.SlugRelatedField(
        slug_field="slug", queryset=Persona.objects.all(), allow_null=True, required=False
    )
    tags = tag_names()
    steps, pain_points, lane_items = _links().values()
    instruction_fields = ("map_version",)

    class Meta:
        model = Quote
        fields = (
            "id",
            "source",
            "map",
            "text",
            "persona_hint",
            "persona",
            "responded_at",
            "response_id",
            "field_id",
            "answers",
            "position",
            "tags",
            "steps",
            "pain_points",
            "lane_items",
            "created_at",
            "map_version",
        )
        read_only_fields = ("response_id", "field_id", "answers", "created_at")


class AttachmentSerializer(serializers.ModelSerializer):
    source = VisibleSourceField(help_text="The research source the file belongs to.")
    file = serializers.FileField(
        write_only=True,
        help_text=f"The file (multipart): {research.ALLOWED_EXTENSIONS_TEXT}; size limited by "
        "JOURNEYHUB_ATTACHMENT_MAX_BYTES.",
    )
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = (
            "id",
            "source",
            "file",
            "name",
            "content_type",
            "size",
            "uploaded_by",
            "created_at",
            "download_url",
        )
        read_only_fields = ("name", "content_type", "size", "created_at")

    def get_download_url(self, obj: Attachment) -> str:
        url = reverse("maps:research-file", args=[obj.source.map.slug, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ResearchSourceFilter(VisibleChoicesFilterSet):
    class Meta:
        model = ResearchSource
        fields = ("map", "kind")


class QuoteFilter(VisibleChoicesFilterSet):
    map = django_filters.ModelChoiceFilter(
        field_name="source__map", queryset=JourneyMap.objects.all(), label="Map"
    )

    class Meta:
        model = Quote
        fields = ("source", "map")


class AttachmentFilter(VisibleChoicesFilterSet):
    class Meta:
        model = Attachment
        fields = ("source",)


def _links_of(data: dict) -> dict[str, list]:
    return {field: data.pop(field) for field in list(research.EVIDENCE_FIELDS) if field in data}


class _ResearchViewSet(ObjectPolicyMixin):
    """The map gates every object write: the policy is asked about the map it is on."""

    def map_of(self, obj) -> JourneyMap:
        raise NotImplementedError

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, self.map_of(obj))

    def _authorize_map(self, journey_map: JourneyMap) -> None:
        if not permissions.can_edit_map(self.request.user, journey_map):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])


@_content_schema
class ResearchSourceViewSet(_ResearchViewSet, viewsets.ModelViewSet):
    """Research sources (interviews, surveys, support logs …) of the maps you may see."""

    serializer_class = ResearchSourceSerializer
    search_fields = ("title", "description")
    ordering_fields = ("title", "conducted_on", "position", "created_at")
    ordering = ("map", "position", "pk")
    filterset_class = ResearchSourceFilter

    def map_of(self, obj: ResearchSource) -> JourneyMap:
        return obj.map

    def get_queryset(self):
        qs = (
            ResearchSource.objects.select_related("map", "owner")
            .prefetch_related("steps", "pain_points", "lane_items")
            .annotate(quote_count=Count("quotes", distinct=True))
        )
        return permissions.visible_content(self.request.user, qs)

    def _current(self, pk) -> dict | None:
        fresh = self.get_queryset().filter(pk=pk).first() if pk else None
        return self.get_serializer(fresh).data if fresh else None

    def _save(self, serializer, source: ResearchSource, links: dict) -> None:
        self._authorize_map(source.map)
        version = expected_version(self.request, "map_version")
        try:
            research.source_save(
                source=source, expected_version=version, by=self.request.user, links=links
            )
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(source.pk)) from exc
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc
        serializer.instance = self.get_queryset().get(pk=source.pk)

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "map_version"}
        links = _links_of(data)
        data.setdefault("owner", self.request.user)
        self._save(serializer, ResearchSource(**data), links)

    def perform_update(self, serializer):
        source = serializer.instance
        data = {k: v for k, v in serializer.validated_data.items() if k != "map_version"}
        links = _links_of(data)
        for key, value in data.items():
            setattr(source, key, value)
        self._save(serializer, source, links)

    def perform_destroy(self, instance):
        version = expected_version(self.request, "map_version")
        try:
            research.source_delete(source=instance, expected_version=version, by=self.request.user)
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(instance.pk)) from exc


@_content_schema
class QuoteViewSet(_ResearchViewSet, viewsets.ModelViewSet):
    """Quotes: what people said in a research source, and what it backs."""

    serializer_class = QuoteSerializer
    search_fields = ("text", "persona_hint")
    ordering_fields = ("position", "responded_at", "created_at")
    ordering = ("source", "position", "pk")
    filterset_class = QuoteFilter

    def map_of(self, obj: Quote) -> JourneyMap:
        return obj.source.map

    def get_queryset(self):
        qs = Quote.objects.select_related("source__map", "persona").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.select_related("group")),
            "steps",
            "pain_points",
            "lane_items",
        )
        return permissions.visible_content(self.request.user, qs, map_path="source__map")

    def _current(self, pk) -> dict | None:
        fresh = self.get_queryset().filter(pk=pk).first() if pk else None
        return self.get_serializer(fresh).data if fresh else None

    def _save(self, serializer, quote: Quote, links: dict) -> None:
        self._authorize_map(quote.source.map)
        version = expected_version(self.request, "map_version")
        try:
            research.quote_save(
                quote=quote, expected_version=version, by=self.request.user, links=links
            )
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(quote.pk)) from exc
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc
        serializer.instance = self.get_queryset().get(pk=quote.pk)

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "map_version"}
        links = _links_of(data)
        self._save(serializer, Quote(**data), links)

    def perform_update(self, serializer):
        quote = serializer.instance
        data = {k: v for k, v in serializer.validated_data.items() if k != "map_version"}
        links = _links_of(data)
        for key, value in data.items():
            setattr(quote, key, value)
        self._save(serializer, quote, links)

    def perform_destroy(self, instance):
        version = expected_version(self.request, "map_version")
        try:
            research.quote_delete(quote=instance, expected_version=version, by=self.request.user)
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(instance.pk)) from exc


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": AttachmentSerializer},
        responses={201: AttachmentSerializer, 409: CONFLICT_RESPONSE},
    )
)
class AttachmentViewSet(
    _ResearchViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Files attached to research sources: list, upload (multipart), delete. The file
    itself downloads from ``download_url`` (the map's research pages)."""

    serializer_class = AttachmentSerializer
    parser_classes = (MultiPartParser, FormParser)
    search_fields = ("name",)
    ordering_fields = ("name", "created_at", "size")
    ordering = ("source", "name", "pk")
    filterset_class = AttachmentFilter

    def map_of(self, obj: Attachment) -> JourneyMap:
        return obj.source.map

    def get_queryset(self):
        qs = Attachment.objects.select_related("source__map", "uploaded_by")
        return permissions.visible_content(self.request.user, qs, map_path="source__map")

    def perform_create(self, serializer):
        source = serializer.validated_data["source"]
        self._authorize_map(source.map)
        try:
            serializer.instance = research.attachment_add(
                source=source, upload=serializer.validated_data["file"], by=self.request.user
            )
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc

    def perform_destroy(self, instance):
        research.attachment_delete(attachment=instance, by=self.request.user)

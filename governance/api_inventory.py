"""``/api/inventory/``: the inventory of maps kept in other tools — list (with the
page's filters), read, create and update (PUT/PATCH carry ``version``; a stale one gets
409). Rules are ``governance/inventory.py``'s, the same as the page's: everyone signed
in reads and adds; owner, team, CX leadership and admins change an entry; only
leadership gives one to another owner; "migrated" names a map the caller may see."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import APIException, PermissionDenied

from maps.api.fields import VisibleMapField
from maps.api.serializers import UserRefField, drf_errors
from maps.api.views import VERSION_PARAMETER, expected_version

from . import inventory
from .field_policy import FieldsDenied
from .forms_inventory import InventoryFilter
from .models import ExternalMap

STATUS_FIELDS = ("status", "migrated_to", "retired_reason")


class InventoryConflictError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: dict):
        super().__init__()
        self.detail = detail


class ExternalMapSerializer(serializers.ModelSerializer):
    owner = UserRefField(
        required=False, help_text="Username; empty on create: you. Only leadership gives away."
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), allow_null=True, required=False
    )
    migrated_to = VisibleMapField(
        allow_null=True,
        required=False,
        help_text="Id of the JourneyHub map it became (required when status is migrated); "
        "null when the caller may not see that map.",
    )
    migrated_to_title = serializers.SerializerMethodField()
    file = serializers.FileField(
        write_only=True,
        required=False,
        help_text="Upload (multipart): the same types and size limit as research files.",
    )
    file_url = serializers.SerializerMethodField()
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Current version on reads; on PUT/PATCH the version the edit started from.",
    )
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ExternalMap
        fields = (
            "id", "title", "tool", "link", "file", "file_url", "file_name", "file_size",
            "owner", "team", "area", "notes", "last_updated", "status", "migrated_to",
            "migrated_to_title", "retired_reason", "version", "created_at", "updated_at",
            "web_url",
        )  # fmt: skip
        read_only_fields = ("file_name", "file_size", "created_at", "updated_at")

    def _shown(self, instance: ExternalMap):
        if not hasattr(instance, "shown_map"):
            user = getattr(self.context.get("request"), "user", None)
            inventory.mark_shown_maps(user, [instance])
        return instance.shown_map

    def get_migrated_to_title(self, instance: ExternalMap) -> str | None:
        shown = self._shown(instance)
        return shown.title if shown else None

    def get_file_url(self, instance: ExternalMap) -> str | None:
        if not instance.file:
            return None
        return reverse("inventory:file", args=[instance.pk])

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self._shown(instance) is None:
            data["migrated_to"] = None  # a map the caller may not see is never named
        return data


@extend_schema_view(
    update=extend_schema(
        parameters=[VERSION_PARAMETER],
        responses={
            200: ExternalMapSerializer,
            409: OpenApiResponse(description="Changed since; the body holds the current entry."),
        },
    ),
    partial_update=extend_schema(
        parameters=[VERSION_PARAMETER],
        responses={
            200: ExternalMapSerializer,
            409: OpenApiResponse(description="Changed since; the body holds the current entry."),
        },
    ),
)
class ExternalMapViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The inventory of maps kept in other tools (``?tool=&status=&owner=&team=&q=``)."""

    serializer_class = ExternalMapSerializer
    filterset_class = InventoryFilter
    search_fields = ("title", "area", "notes")
    ordering_fields = ("title", "tool", "status", "last_updated", "updated_at")
    ordering = ("title", "pk")

    def get_queryset(self):
        return inventory.visible_entries(self.request.user).select_related(
            "owner", "team", "migrated_to"
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:  # the page's visible maps in one query
            inventory.mark_shown_maps(self.request.user, page)
        return page

    def get_object(self):
        entry = super().get_object()
        # authorise before the payload is validated: a refusal never depends on the body
        if self.action in ("update", "partial_update") and not inventory.can_edit_entry(
            self.request.user, entry
        ):
            raise PermissionDenied(inventory.EDIT_DENIED)
        return entry

    def handle_exception(self, exc):
        if isinstance(exc, FieldsDenied):
            exc = PermissionDenied(detail=exc.as_api_detail())
        elif isinstance(exc, DjangoValidationError):
            exc = serializers.ValidationError(drf_errors(exc))
        elif isinstance(exc, inventory.InventoryConflict):
            current = exc.current
            exc = InventoryConflictError(
                {
                    "detail": str(exc),
                    "code": "stale_version",
                    "your_version": exc.expected_version,
                    "current_version": current.version,
                    "current": self.get_serializer(current).data,
                }
            )
        return super().handle_exception(exc)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        upload = data.pop("file", None)
        serializer.instance = inventory.entry_create(
            by=self.request.user, values=data, upload=upload
        )

    @transaction.atomic
    def perform_update(self, serializer):
        version = expected_version(self.request, "version")
        entry = serializer.instance
        data = dict(serializer.validated_data)
        data.pop("version", None)
        upload = data.pop("file", None)
        status_given = {k: data.pop(k) for k in STATUS_FIELDS if k in data}
        if status_given:
            shown = inventory.shown_map_ids(self.request.user, [entry])
            new_status = status_given.get("status", entry.status)
            entry = inventory.entry_set_status(
                entry=entry,
                by=self.request.user,
                expected_version=version,
                status=new_status,
                migrated_to=status_given.get(
                    "migrated_to", entry.migrated_to if entry.migrated_to_id in shown else None
                ),
                retired_reason=status_given.get("retired_reason", entry.retired_reason),
            )
            version = entry.version
        if data or upload is not None or not status_given:
            entry = inventory.entry_update(
                entry=entry, by=self.request.user, expected_version=version, values=data,
                upload=upload,
            )  # fmt: skip
        serializer.instance = entry

"""API for sharing maps: grants of the editor or viewer role to a user on a map
(and so on its whole subtree). Owners manage the grants of their own maps; CX
leadership and admins manage all."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from maps.api.fields import VisibleMapField
from maps.api.serializers import UserRefField, drf_errors
from maps.models import JourneyMapUserObjectPermission

from . import permissions, services
from .permissions import Action


class RoleField(serializers.ChoiceField):
    """``editor`` or ``viewer``: read from the grant's permission."""

    def get_attribute(self, instance):
        return services.grant_role(instance)


class MapGrantSerializer(serializers.ModelSerializer):
    map = VisibleMapField(source="content_object")
    user = UserRefField(help_text="Username of the person the map is shared with.")
    role = RoleField(choices=sorted(services.ROLE_CODENAMES))

    class Meta:
        model = JourneyMapUserObjectPermission
        fields = ("id", "map", "user", "role")


class MapGrantViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MapGrantSerializer
    filterset_fields = ("content_object",)
    ordering = ("pk",)

    def get_queryset(self):
        manageable = permissions.manageable_maps(self.request.user)
        return JourneyMapUserObjectPermission.objects.filter(
            content_object__in=manageable.values("pk")
        ).select_related("content_object", "user", "permission")

    def perform_create(self, serializer):
        journey_map = serializer.validated_data["content_object"]
        if not permissions.can(self.request.user, Action.SHARE, journey_map):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.SHARE])
        try:
            serializer.instance = services.map_share(
                journey_map=journey_map,
                user=serializer.validated_data["user"],
                role=serializer.validated_data["role"],
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(drf_errors(exc)) from exc

    def perform_destroy(self, instance):
        services.map_unshare(grant=instance)

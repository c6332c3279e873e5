"""API of read-only share links: ``/api/maps/{id}/share-links/`` lists and makes a
map's links, ``…/share-links/{link_id}/revoke/`` stops one. Those who may share the
map (its owner, CX leadership, admins) use it; the token comes back once, on creation."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from journeyhub.api.permissions import PolicyPermission
from maps.api.serializers import drf_errors
from maps.models import JourneyMap

from . import permissions, share_links
from .models import ShareLink
from .permissions import Action


class ShareLinkSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    revoked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    state = serializers.SerializerMethodField(
        help_text="active, revoked, expired, or paused (the map is not published)."
    )
    expires_on = serializers.DateField(
        required=False, allow_null=True, help_text="The last day the link works; null: no end."
    )
    label = serializers.CharField(
        required=False, allow_blank=True, max_length=share_links.LABEL_MAX, default=""
    )

    class Meta:
        model = ShareLink
        fields = (
            "id",
            "label",
            "expires_on",
            "token_prefix",
            "state",
            "created_at",
            "created_by",
            "revoked_at",
            "revoked_by",
            "uses",
            "last_used_at",
        )
        read_only_fields = (
            "id",
            "token_prefix",
            "created_at",
            "revoked_at",
            "uses",
            "last_used_at",
        )

    def get_state(self, link: ShareLink) -> str:
        if link.revoked_at is not None:
            return "revoked"
        if not link.is_active(self.context.get("today")):
            return "expired"
        if link.map.status != JourneyMap.Status.PUBLISHED:
            return "paused"
        return "active"


class NewShareLinkSerializer(ShareLinkSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown only in this answer.")
    url = serializers.CharField(read_only=True, help_text="The link to hand out.")

    class Meta(ShareLinkSerializer.Meta):
        fields = (*ShareLinkSerializer.Meta.fields, "token", "url")


class ShareLinkViewSet(viewsets.GenericViewSet):
    serializer_class = ShareLinkSerializer
    permission_classes = (IsAuthenticated, PolicyPermission)
    object_actions = {"list": Action.SHARE, "create": Action.SHARE, "revoke": Action.SHARE}
    queryset = ShareLink.objects.none()  # for the schema; every request reads one map's

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def _map(self, pk: int) -> JourneyMap:
        """404 unless the user sees the map, 403 unless they may share it (reads too:
        the list says who opened what, when)."""
        journey_map = permissions.visible_maps(self.request.user).filter(pk=pk).first()
        if journey_map is None:
            raise NotFound("No such journey map.")
        if not permissions.can(self.request.user, Action.SHARE, journey_map):
            raise PermissionDenied(permissions.denied_message(Action.SHARE, journey_map))
        self.check_object_permissions(self.request, journey_map)
        return journey_map

    @extend_schema(
        operation_id="maps_share_links_list",
        tags=["maps"],
        responses={200: ShareLinkSerializer(many=True)},
    )
    def list(self, request: Request, pk: int) -> Response:
        """A map's read-only links, newest first, with their uses."""
        journey_map = self._map(pk)
        links = share_links.share_links_of_map(journey_map).select_related("map")
        page = self.paginate_queryset(links)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        operation_id="maps_share_links_create",
        tags=["maps"],
        request=ShareLinkSerializer,
        responses={
            201: NewShareLinkSerializer,
            400: OpenApiResponse(description="The map is not published, or a field is wrong."),
        },
    )
    def create(self, request: Request, pk: int) -> Response:
        """Make a link to a published map. The answer holds the token and the URL: they
        are not stored and cannot be shown again."""
        journey_map = self._map(pk)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            link, token = share_links.share_link_create(
                journey_map=journey_map,
                by=request.user,
                label=serializer.validated_data.get("label", ""),
                expires_on=serializer.validated_data.get("expires_on"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(drf_errors(exc)) from exc
        link.token = token
        link.url = share_links.share_link_url(token)
        data = NewShareLinkSerializer(link, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="maps_share_links_revoke",
        tags=["maps"],
        request=None,
        responses={200: ShareLinkSerializer, 404: OpenApiResponse(description="No such link.")},
    )
    def revoke(self, request: Request, pk: int, link_id: int) -> Response:
        """Stop a link for good; it stays listed as revoked. Revoking twice changes nothing."""
        journey_map = self._map(pk)
        link = ShareLink.objects.select_related("map").filter(map=journey_map, pk=link_id).first()
        if link is None:
            raise NotFound("No such link on this map.")
        link = share_links.share_link_revoke(link=link, by=request.user)
        link = share_links.share_links_of_map(journey_map).select_related("map").get(pk=link.pk)
        return Response(self.get_serializer(link).data)

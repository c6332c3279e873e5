"""``/api/comments/``: comments on maps and their items — list (by map, item, thread),
read, create (a thread or a reply), edit the text (PATCH, the author within the edit
window), remove (DELETE: soft, the thread stays), and ``…/resolve/`` / ``…/reopen/``
a thread. The rules are ``governance/comments.py``'s, the same as the pages': whoever
may see the map reads and writes; a comment on a map the caller may not see is a 404."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from journeyhub.api.filters import BoundedFilterSet
from maps.api.fields import VisibleMapField
from maps.api.serializers import drf_errors

from . import comments
from .models import Comment


class CommentFilter(BoundedFilterSet):
    map = django_filters.NumberFilter(field_name="map_id", help_text="Comments of this map.")
    target_kind = django_filters.ChoiceFilter(choices=Comment.Target.choices)
    target_id = django_filters.NumberFilter(help_text="With target_kind: one item's comments.")
    thread = django_filters.NumberFilter(
        method="filter_thread", help_text="A thread: its first comment and its replies."
    )
    open = django_filters.BooleanFilter(
        method="filter_open", help_text="true: threads not resolved (and their replies)."
    )

    class Meta:
        model = Comment
        fields = ("map", "target_kind", "target_id", "thread", "open")

    def filter_thread(self, queryset, name, value):
        return queryset.filter(Q(pk=value) | Q(parent_id=value))

    def filter_open(self, queryset, name, value):
        resolved = Q(resolved_at__isnull=False) | Q(parent__resolved_at__isnull=False)
        return queryset.exclude(resolved) if value else queryset.filter(resolved)


class CommentSerializer(serializers.ModelSerializer):
    map = VisibleMapField(help_text="The map's id; comments belong to a map.")
    target_kind = serializers.ChoiceField(
        choices=Comment.Target.choices, default=Comment.Target.MAP,
        help_text="What the thread is about; a reply takes its thread's.",
    )  # fmt: skip
    target_id = serializers.IntegerField(
        required=False, allow_null=True, min_value=1,
        help_text="The item's id (a project: one that touches the map); null for the map.",
    )  # fmt: skip
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Comment.objects.all(), required=False, allow_null=True,
        help_text="Reply to this comment's thread; null: open a thread.",
    )  # fmt: skip
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    body = serializers.CharField(
        max_length=comments.BODY_MAX,
        help_text="Plain text; @username mentions people who may see the map. Empty once removed.",
    )
    mentions = serializers.SerializerMethodField(
        help_text="Usernames mentioned who may see the map (each e-mailed once)."
    )

    class Meta:
        model = Comment
        fields = (
            "id",
            "map",
            "target_kind",
            "target_id",
            "parent",
            "author",
            "body",
            "mentions",
            "created_at",
            "edited_at",
            "removed_at",
            "resolved_at",
            "resolved_by",
        )
        read_only_fields = ("created_at", "edited_at", "removed_at", "resolved_at")

    def get_mentions(self, comment: Comment) -> list[str]:
        return sorted(row.user.get_username() for row in comment.mention_rows.all())

    def get_fields(self):
        fields = super().get_fields()
        # the limits of the parent's queryset: comments the caller may see
        request = self.context.get("request")
        if request is not None:
            fields["parent"].queryset = comments.comments_visible_to(request.user)
        return fields


class CommentEditSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=comments.BODY_MAX)


def _django_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(drf_errors(exc))


@extend_schema_view(
    list=extend_schema(summary="Comments on the maps you may see", tags=["comments"]),
    retrieve=extend_schema(summary="One comment", tags=["comments"]),
    create=extend_schema(
        summary="Comment on a map or one of its items, or reply to a thread",
        tags=["comments"],
        responses={
            201: CommentSerializer,
            400: OpenApiResponse(description="A field is wrong (named)."),
            403: OpenApiResponse(description="You may not see the map."),
        },
    ),
    partial_update=extend_schema(
        summary="Change your comment's text (within the edit window)",
        tags=["comments"],
        request=CommentEditSerializer,
        responses={
            200: CommentSerializer,
            400: OpenApiResponse(description="Empty, too long, or the edit window is over."),
            403: OpenApiResponse(description="Not your comment."),
        },
    ),
    destroy=extend_schema(
        summary="Remove a comment (its thread stays; history keeps the text)",
        tags=["comments"],
        responses={
            204: OpenApiResponse(description="Removed."),
            403: OpenApiResponse(description="Neither the author nor a manager of the map."),
        },
    ),
)
class CommentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = CommentSerializer
    permission_classes = (IsAuthenticated,)
    filterset_class = CommentFilter
    http_method_names = ("get", "post", "patch", "delete", "head", "options")

    def get_queryset(self):
        return (
            comments.comments_visible_to(self.request.user)
            .select_related("author", "resolved_by")
            .prefetch_related("mention_rows__user")
        )

    def perform_create(self, serializer) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = comments.comment_create(
                journey_map=data["map"],
                author=self.request.user,
                body=data["body"],
                target_kind=data.get("target_kind", Comment.Target.MAP),
                target_id=data.get("target_id"),
                parent=data.get("parent"),
            )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        fresh = self.get_queryset().get(pk=serializer.instance.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        comment = self.get_object()
        edit = CommentEditSerializer(data=request.data)
        edit.is_valid(raise_exception=True)
        try:
            comments.comment_edit(
                comment=comment, by=request.user, body=edit.validated_data["body"]
            )
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)

    def destroy(self, request: Request, pk=None) -> Response:
        comments.comment_remove(comment=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _set_resolved(self, request: Request, *, resolved: bool) -> Response:
        comment = self.get_object()
        try:
            comments.thread_set_resolved(thread=comment, by=request.user, resolved=resolved)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)

    @extend_schema(
        summary="Resolve a thread (whoever opened it, the map's managers)",
        tags=["comments"],
        request=None,
        responses={200: CommentSerializer, 400: OpenApiResponse(description="A reply.")},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk=None) -> Response:
        return self._set_resolved(request, resolved=True)

    @extend_schema(
        summary="Reopen a resolved thread",
        tags=["comments"],
        request=None,
        responses={200: CommentSerializer, 400: OpenApiResponse(description="A reply.")},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        return self._set_resolved(request, resolved=False)

"""REST API of the repository. Every endpoint asks ``governance.permissions``:
lists hold only what the user may see, writes the user may not make get 403 (404
where existence must not leak), and writes to a map or its content carry the map's
version, a stale one getting 409 Conflict with the current state."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from governance import permissions
from governance.field_policy import FieldsDenied
from governance.permissions import Action
from governance.reviews import map_mark_reviewed
from governance.services import map_transfer_ownership
from journeyhub.api.permissions import PolicyPermission
from journeyhub.pagination import Cursor, KeysetPagination, page_rows
from maps import services
from maps.models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    PainPoint,
    Persona,
    QualitativeFactor,
    Step,
    StepLink,
    Tag,
)
from maps.selectors import subtree_forest

from . import filters
from . import serializers as s
from .expand import EXPANDABLE, JourneyMapWithContentSerializer
from .fast import fast_attr
from .pages import PrecompiledManyToMany, PrecompiledObject, PrecompiledPages
from .serializers import drf_errors


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: dict):
        super().__init__()
        self.detail = detail


VERSION_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The map version the edit started from (alternative to the body field).",
)
CONFLICT_RESPONSE = OpenApiResponse(
    description="The map changed since the client read it; the body holds the current state."
)


def expected_version(request: Request, field: str) -> int:
    """The map version a write started from: body field, ``?field=`` or If-Match."""
    raw = request.data.get(field) if hasattr(request.data, "get") else None
    if raw in (None, ""):
        raw = request.query_params.get(field) or request.headers.get("If-Match", "").strip('"W/ ')
    if raw in (None, ""):
        raise serializers.ValidationError(
            {
                field: [
                    f"Send the map's {field.replace('_', ' ')} your edit started from "
                    f"(as “{field}” or an If-Match header)."
                ]
            }
        )
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise serializers.ValidationError({field: ["A valid integer is required."]}) from None
    if value < 1:
        raise serializers.ValidationError({field: ["Ensure this value is at least 1."]})
    return value


def conflict(exc: services.VersionConflict, current: dict | None) -> Conflict:
    journey_map = exc.journey_map
    return Conflict(
        {
            "detail": str(exc),
            "code": "stale_version",
            "map": journey_map.pk,
            "your_version": exc.expected_version,
            "current_version": journey_map.version,
            "current": current,
        }
    )


def django_validation(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(drf_errors(exc))


class ObjectPolicyMixin:
    """The policy decides: ``PolicyPermission`` authorizes object writes by
    ``object_actions``; which fields may change to which values is the field policy's
    decision, made by the services, and its refusals answer 403 naming each field."""

    permission_classes = [IsAuthenticated, PolicyPermission]
    #: viewset action -> the policy actions of which the user needs one; anything unsafe
    #: not listed means EDIT
    object_actions: dict[str, Action | tuple[Action, ...]] = {"destroy": Action.EDIT}

    def handle_exception(self, exc):
        if isinstance(exc, FieldsDenied):
            exc = PermissionDenied(detail=exc.as_api_detail())
        return super().handle_exception(exc)


class PrecompiledListMixin:
    """Plain list pages (no filter, search or ordering parameter) read with their query
    compiled once (``maps.api.pages``); any other list request takes DRF's path. The
    viewset's ``list_queryset(user)`` is what ``get_queryset`` gives a list."""

    def list_queryset(self, user) -> QuerySet:
        raise NotImplementedError

    #: a page's rows made without ``Model.__init__``
    #: (``maps.precompiled.light_instance``): for lists whose serializer only reads the rows
    light_rows = False

    @classmethod
    def precompiled_pages(cls) -> PrecompiledPages:
        pages = cls.__dict__.get("_precompiled_pages")
        if pages is None:
            pages = PrecompiledPages(cls().list_queryset, tuple(cls.ordering), light=cls.light_rows)
            cls._precompiled_pages = pages
        return pages

    def list(self, request: Request, *args, **kwargs) -> Response:
        pages = self.precompiled_pages()
        paginator = self.paginator
        if not isinstance(paginator, KeysetPagination) or not pages.usable(request):
            return super().list(request, *args, **kwargs)
        keys = pages.keys

        def fetch(cursor: Cursor | None, size: int) -> list:
            rows = pages.rows(request.user, cursor, size)
            if rows is None:  # a shape that cannot be precompiled: the ORM's way
                rows = page_rows(self.filter_queryset(self.get_queryset()), keys, cursor, size)
            return rows

        page = paginator.paginate_prepared(request, keys, fetch)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- maps -------------------------------------------------------------------------


EXPAND_PARAMETER = OpenApiParameter(
    "expand",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(EXPANDABLE),
    description="content: the map with everything in it (stages, steps, links, pain "
    "points, lane items, KPIs with their latest values, ratings, research, projects) as "
    "journeyhub/1 writes it, each row with its id: one call instead of one per kind.",
)


@extend_schema_view(
    retrieve=extend_schema(
        parameters=[EXPAND_PARAMETER],
        responses={
            200: PolymorphicProxySerializer(
                "MapMaybeWithContent",
                serializers=[s.JourneyMapSerializer, JourneyMapWithContentSerializer],
                resource_type_field_name=None,
            )
        },
    ),
    partial_update=extend_schema(
        parameters=[VERSION_PARAMETER],
        responses={200: s.JourneyMapSerializer, 409: CONFLICT_RESPONSE},
    ),
    update=extend_schema(
        parameters=[VERSION_PARAMETER],
        responses={200: s.JourneyMapSerializer, 409: CONFLICT_RESPONSE},
    ),
    destroy=extend_schema(
        parameters=[VERSION_PARAMETER], responses={204: None, 409: CONFLICT_RESPONSE}
    ),
)
class JourneyMapViewSet(PrecompiledListMixin, ObjectPolicyMixin, viewsets.ModelViewSet):
    """Journey maps. Drafts of others are invisible (404); the owner is set on create and
    changed only through ``transfer``."""

    serializer_class = s.JourneyMapSerializer
    filterset_class = filters.JourneyMapFilter
    object_actions = {
        # editors change the content fields, managers the owner/team/status/place
        "update": (Action.EDIT, Action.TRANSFER),
        "partial_update": (Action.EDIT, Action.TRANSFER),
        "destroy": Action.DELETE,
        "transfer": Action.TRANSFER,
        "review": Action.REVIEW,
    }
    search_fields = ("title", "summary", "slug")
    ordering_fields = ("title", "updated_at", "created_at", "last_reviewed_at", "level")
    ordering = ("tree_id", "lft")
    light_rows = True

    def list_queryset(self, user) -> QuerySet:
        # the team is written as its id (team_id): no join for it; a page reads its
        # personas' slugs itself (one query); the owner column is the owner's username
        # alone, read in the page's query (a whole User per row was a fifth of the page)
        return permissions.visible_maps(user).annotate(
            **{s.MapOwnerField.fast_stored: F("owner__username")}
        )

    @staticmethod
    def detail_queryset(user) -> QuerySet:
        return permissions.visible_maps(user).select_related("owner").prefetch_related("personas")

    def get_queryset(self):
        if self.action == "list":
            return self.list_queryset(self.request.user)
        return self.detail_queryset(self.request.user)

    @classmethod
    def precompiled_object(cls) -> PrecompiledObject:
        found = cls.__dict__.get("_precompiled_object")
        if found is None:
            found = PrecompiledObject(
                cls.detail_queryset,
                frozenset({"expand"}),
                prefetch=(PrecompiledManyToMany(JourneyMap, "personas"),),
            )
            cls._precompiled_object = found
        return found

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """The map; with ``?expand=content`` everything in it as well (maps/api/expand.py)."""
        expand = request.query_params.get("expand", "")
        if expand and expand not in EXPANDABLE:
            raise serializers.ValidationError(
                {"expand": [f"Only “{'”, “'.join(EXPANDABLE)}” can be expanded."]}
            )
        # a plain detail: its query compiled once (maps/api/pages.py), else the ORM's way
        journey_map = self.precompiled_object().get(request, kwargs.get(self.lookup_field))
        if journey_map is None:
            journey_map = self.get_object()
        else:
            self.check_object_permissions(request, journey_map)
        serializer_class = JourneyMapWithContentSerializer if expand else s.JourneyMapSerializer
        return Response(serializer_class(journey_map, context=self.get_serializer_context()).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("version", None)
        try:  # the field policy decides where the user may create a map
            serializer.instance = services.map_create(
                owner=self.request.user, by=self.request.user, **data
            )
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc

    def perform_update(self, serializer):
        journey_map = serializer.instance
        version = expected_version(self.request, "version")
        data = {k: v for k, v in serializer.validated_data.items() if k != "version"}
        try:
            services.map_update(
                journey_map=journey_map, expected_version=version, by=self.request.user, **data
            )
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(exc.journey_map)) from exc
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc

    def perform_destroy(self, instance):
        version = expected_version(self.request, "version")
        try:
            services.map_delete(
                journey_map=instance, expected_version=version, by=self.request.user
            )
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(exc.journey_map)) from exc
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc

    def _current(self, journey_map: JourneyMap) -> dict:
        fresh = JourneyMap.objects.with_people().with_personas().get(pk=journey_map.pk)
        return s.JourneyMapSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(responses=s.MapTreeSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def tree(self, request: Request) -> Response:
        """The whole repository as the user may see it, nested."""
        forest = subtree_forest(self.get_queryset())
        return Response(s.MapTreeSerializer(forest, many=True).data)

    @extend_schema(responses=s.MapTreeSerializer, filters=False)
    @action(
        detail=True, methods=["get"], url_path="tree", pagination_class=None, filter_backends=[]
    )
    def subtree(self, request: Request, pk=None) -> Response:
        """This map and everything beneath it that the user may see, nested."""
        journey_map = self.get_object()
        forest = subtree_forest(self.get_queryset(), root=journey_map)
        return Response(s.MapTreeSerializer(forest[0]).data)

    @extend_schema(request=s.ReviewSerializer, responses={200: s.JourneyMapSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def review(self, request: Request, pk=None) -> Response:
        """Confirm the map is current (its owner, or an admin): resets its review due date.
        Editing content does not count as a review."""
        journey_map = self.get_object()
        payload = s.ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        map_mark_reviewed(
            journey_map=journey_map, by=request.user, note=payload.validated_data.get("note", "")
        )
        return Response(self._current(journey_map))

    @extend_schema(
        request=s.TransferSerializer,
        responses={200: s.JourneyMapSerializer, 409: CONFLICT_RESPONSE},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def transfer(self, request: Request, pk=None) -> Response:
        """Hand the map to a new owner (owner, CX leadership or admin); the new owner is
        notified by e-mail."""
        journey_map = self.get_object()
        payload = s.TransferSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            map_transfer_ownership(
                journey_map=journey_map,
                new_owner=payload.validated_data["owner"],
                by=request.user,
                expected_version=payload.validated_data["version"],
                note=payload.validated_data.get("note", ""),
            )
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(exc.journey_map)) from exc
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc
        return Response(self._current(journey_map))


# --- map content ------------------------------------------------------------------

# tags show by name ("Group: tag"): loaded with their group, one query per page, kept as
# a list on each row (no related manager per row) for the serializers' fast reader
_TAGS = Prefetch("tags", queryset=Tag.objects.select_related("group"), to_attr=fast_attr("tags"))
# a map loaded only for its id: django-mptt reads the parent and title of every map it
# makes (deferred, each would cost a query)
_MAP_ID_FIELDS = ("id", "parent_id", "title")


class MapContentViewSet(PrecompiledListMixin, ObjectPolicyMixin, viewsets.ModelViewSet):
    """Stages, steps, links and lane items: visible with their map, editable by the
    map's editors, every write carrying ``map_version``."""

    map_path = "map"

    def base_queryset(self):
        return self.serializer_class.Meta.model.objects.all()

    def list_queryset(self, user) -> QuerySet:
        return permissions.visible_content(user, self.base_queryset(), map_path=self.map_path)

    def get_queryset(self):
        return self.list_queryset(self.request.user)

    def _authorize(self, instance) -> None:
        if not permissions.can(self.request.user, Action.EDIT, instance):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])

    def _current(self, instance) -> dict | None:
        fresh = self.base_queryset().filter(pk=instance.pk).first() if instance.pk else None
        if fresh is None:
            return None
        return self.get_serializer(fresh).data

    def _save(self, instance, serializer) -> None:
        self._authorize(instance)
        version = expected_version(self.request, "map_version")
        try:
            services.content_save(instance=instance, expected_version=version, by=self.request.user)
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(instance)) from exc
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc
        serializer.instance = instance

    def perform_create(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "map_version"}
        self._save(serializer.Meta.model(**data), serializer)

    def perform_update(self, serializer):
        instance = serializer.instance
        self._authorize(instance)  # on the map it belongs to now …
        for key, value in serializer.validated_data.items():
            if key != "map_version":
                setattr(instance, key, value)
        self._save(instance, serializer)  # … and the one it moves to

    def perform_destroy(self, instance):
        self._authorize(instance)
        version = expected_version(self.request, "map_version")
        try:
            services.content_delete(
                instance=instance, expected_version=version, by=self.request.user
            )
        except services.VersionConflict as exc:
            raise conflict(exc, self._current(instance)) from exc


def _content_schema(cls):
    """Document the 409 of every write beside the normal response."""
    ser = cls.serializer_class
    return extend_schema_view(
        create=extend_schema(responses={201: ser, 409: CONFLICT_RESPONSE}),
        update=extend_schema(responses={200: ser, 409: CONFLICT_RESPONSE}),
        partial_update=extend_schema(responses={200: ser, 409: CONFLICT_RESPONSE}),
        destroy=extend_schema(
            parameters=[
                VERSION_PARAMETER,
                OpenApiParameter("map_version", OpenApiTypes.INT, OpenApiParameter.QUERY),
            ],
            responses={204: None, 409: CONFLICT_RESPONSE},
        ),
    )(cls)


@_content_schema
class StageViewSet(MapContentViewSet):
    serializer_class = s.StageSerializer
    filterset_class = filters.StageFilter
    search_fields = ("name", "description")
    ordering_fields = ("position", "name")
    ordering = ("map", "position", "pk")


@_content_schema
class StepViewSet(MapContentViewSet):
    serializer_class = s.StepSerializer
    filterset_class = filters.StepFilter
    search_fields = ("name", "key", "description")
    ordering_fields = ("position", "name", "emotion")
    ordering = ("map", "position", "pk")


@_content_schema
class StepLinkViewSet(MapContentViewSet):
    serializer_class = s.StepLinkSerializer
    filterset_class = filters.StepLinkFilter
    map_path = "from_step__map"
    search_fields = ("label",)
    ordering_fields = ("kind",)
    ordering = ("pk",)

    def base_queryset(self):
        return StepLink.objects.select_related("from_step")


@_content_schema
class PainPointViewSet(MapContentViewSet):
    serializer_class = s.PainPointSerializer
    filterset_class = filters.PainPointFilter
    search_fields = ("title", "description")
    ordering_fields = ("severity", "frequency", "title", "position")
    ordering = ("map", "position", "pk")


@_content_schema
class LaneItemViewSet(MapContentViewSet):
    """Insights, opportunities, research and ideas (``kind``)."""

    serializer_class = s.LaneItemSerializer
    filterset_class = filters.LaneItemFilter
    search_fields = ("title", "description")
    ordering_fields = ("title", "position", "kind")
    ordering = ("map", "position", "pk")

    def base_queryset(self):
        return LaneItem.objects.select_related("owner").prefetch_related(_TAGS)


@_content_schema
class QualitativeFactorViewSet(MapContentViewSet):
    serializer_class = s.QualitativeFactorSerializer
    filterset_class = filters.QualitativeFactorFilter
    search_fields = ("name", "note")
    ordering_fields = ("name", "rating", "rated_at")
    ordering = ("map", "name", "pk")

    def base_queryset(self):
        return QualitativeFactor.objects.select_related("rated_by")

    def perform_create(self, serializer):
        serializer.validated_data["rated_by"] = self.request.user
        super().perform_create(serializer)

    def perform_update(self, serializer):
        serializer.validated_data["rated_by"] = self.request.user
        super().perform_update(serializer)


@_content_schema
class KPIViewSet(MapContentViewSet):
    serializer_class = s.KPISerializer
    filterset_class = filters.KPIFilter
    search_fields = ("name", "description")
    ordering_fields = ("name", "perspective")
    ordering = ("map", "perspective", "name", "pk")

    def base_queryset(self):
        return KPI.objects.select_related("owner").prefetch_related(_TAGS)

    @extend_schema(
        methods=["GET"],
        responses=s.KPIMeasurementSerializer(many=True),
        filters=False,
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
        ],
    )
    @extend_schema(
        methods=["POST"],
        request=s.ObservationInSerializer,
        responses={201: s.KPIMeasurementSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def measurements(self, request: Request, pk=None) -> Response:
        """The KPI's period values, newest first. POST records one raw observation (or a
        list of them): the date, the inputs of the KPI's kind (``value``;
        ``numerator``/``denominator``; ``promoters``/``passives``/``detractors``; the five
        CSAT counts; ``mean``/``respondents``) and optional ``dimensions``. A second
        observation for the same date and dimensions replaces the first; the period's
        value is recomputed from all of that date's observations (counts pooled, CES
        weighted by respondents) and returned."""
        kpi = self.get_object()
        if request.method == "POST":
            many = isinstance(request.data, list)
            payload = s.ObservationInSerializer(data=request.data, many=many)
            payload.is_valid(raise_exception=True)
            rows = payload.validated_data if many else [payload.validated_data]
            try:
                services.observations_record(kpi=kpi, rows=rows, by=request.user)
            except DjangoValidationError as exc:
                raise django_validation(exc) from exc
            dates = sorted({row["date"] for row in rows})
            touched = kpi.measurements.filter(date__in=dates).order_by("-date", "pk")
            data = s.KPIMeasurementSerializer(touched, many=True).data
            return Response(data if many else data[0], status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(kpi.measurements.order_by("-date", "pk"))
        return self.get_paginated_response(s.KPIMeasurementSerializer(page, many=True).data)


class MeasurementViewSet(ObjectPolicyMixin, viewsets.ModelViewSet):
    """Measurements across KPIs. Observations, not authored content: no map version."""

    serializer_class = s.MeasurementSerializer
    filterset_class = filters.MeasurementFilter
    ordering_fields = ("date", "value")
    ordering = ("kpi", "-date", "pk")

    def get_queryset(self):
        return permissions.visible_content(
            self.request.user, Measurement.objects.all(), map_path="kpi__map"
        )

    def _authorize(self, kpi: KPI) -> None:
        if not permissions.can(self.request.user, Action.EDIT, kpi):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])

    def _record(self, serializer, measurement: Measurement) -> None:
        try:
            serializer.instance = services.measurement_record(
                measurement=measurement, by=self.request.user
            )
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc

    def perform_create(self, serializer):
        self._authorize(serializer.validated_data["kpi"])
        self._record(serializer, Measurement(**serializer.validated_data))

    def perform_update(self, serializer):
        self._authorize(serializer.instance.kpi)
        self._authorize(serializer.validated_data.get("kpi", serializer.instance.kpi))
        for key, value in serializer.validated_data.items():
            setattr(serializer.instance, key, value)
        self._record(serializer, serializer.instance)

    def perform_destroy(self, instance):
        """The period goes, with the observations it was computed from."""
        self._authorize(instance.kpi)
        services.measurement_delete(measurement=instance, by=self.request.user)


# --- projects and personas --------------------------------------------------------


class CXProjectViewSet(PrecompiledListMixin, ObjectPolicyMixin, viewsets.ModelViewSet):
    """CX projects. Visible when they touch a visible map (or none), or are yours or
    your team's; editable by owner, team and CX leadership."""

    serializer_class = s.CXProjectSerializer
    filterset_class = filters.CXProjectFilter
    object_actions = {"destroy": Action.DELETE}
    search_fields = ("title", "summary", "outcome")
    ordering_fields = ("title", "status", "start_date", "end_date", "reach", "impact", "effort")
    ordering = ("title", "pk")

    def list_queryset(self, user) -> QuerySet:
        # the visibility in hand-written SQL; a page reads its links (to visible maps)
        # and its tags itself (serializers.project_links, tag_names_of). The owner column
        # is the owner's username alone (a whole User per row was a fifth of the page);
        # the team column is the team's id, which the row has without a join.
        return permissions.visible_projects_sql(user).annotate(
            **{s.ProjectOwnerField.fast_stored: F("owner__username")}
        )

    def get_queryset(self):
        if self.action == "list":
            return self.list_queryset(self.request.user)
        projects = (
            permissions.visible_projects(self.request.user)
            .select_related("owner", "team")
            .prefetch_related(_TAGS)
        )
        return projects.prefetch_related(
            Prefetch("maps", queryset=JourneyMap.objects.only(*_MAP_ID_FIELDS)),
            Prefetch("steps", queryset=Step.objects.only("id", "map_id")),
            Prefetch("pain_points", queryset=PainPoint.objects.only("id", "map_id")),
        )

    def _save(self, serializer, project: CXProject) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.project_save(
                project=project,
                maps=data.get("maps"),
                steps=data.get("steps"),
                pain_points=data.get("pain_points"),
                by=self.request.user,
            )
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc

    def perform_create(self, serializer):
        if not permissions.can_create_project(self.request.user):
            raise PermissionDenied("Journey owners, their teams and CX leadership create projects.")
        fields = {
            k: v
            for k, v in serializer.validated_data.items()
            if k not in ("maps", "steps", "pain_points")
        }
        fields.setdefault("owner", self.request.user)
        self._save(serializer, CXProject(**fields))

    def perform_update(self, serializer):
        project = serializer.instance
        for key, value in serializer.validated_data.items():
            if key not in ("maps", "steps", "pain_points"):
                setattr(project, key, value)
        self._save(serializer, project)

    def perform_destroy(self, instance):
        services.project_delete(project=instance, by=self.request.user)


class PersonaViewSet(viewsets.ModelViewSet):
    """Personas: everyone reads them; journey owners and CX leadership curate them; CX
    leadership and admins delete them (``maps.personas``)."""

    queryset = Persona.objects.all()
    serializer_class = s.PersonaSerializer
    search_fields = ("name", "description")
    ordering_fields = ("name",)
    ordering = ("name", "pk")
    filterset_fields = ("slug",)

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method == "DELETE" and not permissions.can_delete_personas(request.user):
            raise PermissionDenied("Only CX leadership and admins delete personas.")
        if request.method not in ("GET", "HEAD", "OPTIONS") and not permissions.can_edit_personas(
            request.user
        ):
            raise PermissionDenied("Only journey owners and CX leadership curate personas.")


__all__ = [
    "CXProjectViewSet",
    "JourneyMapViewSet",
    "KPIViewSet",
    "LaneItemViewSet",
    "MeasurementViewSet",
    "PainPointViewSet",
    "PersonaViewSet",
    "QualitativeFactorViewSet",
    "StageViewSet",
    "StepLinkViewSet",
    "StepViewSet",
]

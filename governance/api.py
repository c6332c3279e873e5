"""API of governance: sharing maps — grants of the editor or viewer role to a user on
a map (and so on its whole subtree); owners manage the grants of their own maps, CX
leadership and admins manage all — and each map's balanced scorecard."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from journeyhub.pagination import PageNumberPagination
from maps.api.fast import FastRepresentation
from maps.api.fields import VisibleMapField
from maps.api.serializers import UserRefField, drf_errors
from maps.api.views import PrecompiledListMixin
from maps.models import JourneyMapUserObjectPermission

from . import permissions, prioritisation, scorecard_reads, scoring, services
from .filters import MapGrantFilter, PortfolioFilter
from .permissions import Action


class RoleField(serializers.ChoiceField):
    """``editor`` or ``viewer``: read from the grant's permission."""

    def get_attribute(self, instance):
        return services.grant_role(instance)


class MapGrantSerializer(FastRepresentation, serializers.ModelSerializer):
    map = VisibleMapField(source="content_object")
    user = UserRefField(help_text="Username of the person the map is shared with.")
    role = RoleField(choices=sorted(services.ROLE_CODENAMES))

    class Meta:
        model = JourneyMapUserObjectPermission
        fields = ("id", "map", "user", "role")

    # rows written by readers built once per process (maps.api.fast): none of the
    # fields reads the context to write a row
    fast_shared_readers = True


class MapGrantViewSet(
    PrecompiledListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MapGrantSerializer
    filterset_class = MapGrantFilter
    ordering = ("pk",)

    def list_queryset(self, user):
        # plain pages compiled once (maps/api/pages.py); the map is written as its id
        # (content_object_id): no join for it
        grants = JourneyMapUserObjectPermission.objects.select_related("user", "permission")
        if permissions.is_leadership(user):
            # every map is theirs to manage, and every grant is on a map (a foreign key):
            # no condition ("IN every map" walked the whole map table: ms at 10,000 maps)
            return grants
        manageable = permissions.manageable_maps(user)
        return grants.filter(content_object__in=manageable.values("pk"))

    def get_queryset(self):
        grants = self.list_queryset(self.request.user)
        return grants if self.action == "list" else grants.select_related("content_object")

    def perform_create(self, serializer):
        journey_map = serializer.validated_data["content_object"]
        if not permissions.can(self.request.user, Action.SHARE, journey_map):
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.SHARE])
        try:
            serializer.instance = services.map_share(
                journey_map=journey_map,
                user=serializer.validated_data["user"],
                role=serializer.validated_data["role"],
                by=self.request.user,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(drf_errors(exc)) from exc

    def perform_destroy(self, instance):
        services.map_unshare(grant=instance, by=self.request.user)


# --- the balanced scorecard ---------------------------------------------------------


class RoundedFloatField(serializers.FloatField):
    """A score or share rounded for reading; the full value is not more true."""

    def __init__(self, *, digits: int = 2, **kwargs):
        self.digits = digits
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value is None or not math.isfinite(value):  # JSON has no Infinity
            return None
        return round(float(value), self.digits)


class ScorecardPointSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = serializers.FloatField()


class KPIScoreSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="kpi_id")
    name = serializers.CharField()
    unit = serializers.CharField()
    perspective = serializers.CharField()
    direction = serializers.CharField(help_text="higher or lower (is better)")
    weight = serializers.FloatField(help_text="Weight within its quadrant.")
    baseline = serializers.FloatField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    latest = serializers.FloatField(allow_null=True, help_text="The latest measurement.")
    latest_date = serializers.DateField(allow_null=True)
    attainment = RoundedFloatField(
        digits=4, help_text="0 at the baseline, 1 at the target, clamped; null: not scored."
    )
    raw_attainment = RoundedFloatField(digits=4, help_text="Before clamping.")
    scored = serializers.BooleanField()
    not_scored_reason = serializers.CharField()
    explanation = serializers.CharField()
    trend = serializers.SerializerMethodField(help_text="The last 12 measurements, oldest first.")

    @extend_schema_field(ScorecardPointSerializer(many=True))
    def get_trend(self, obj) -> list[dict]:
        points = self.context.get("kpi_trends", {}).get(obj.kpi_id, [])
        return [{"date": day, "value": value} for day, value in points]


class FactorScoreSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="factor_id")
    name = serializers.CharField()
    perspective = serializers.CharField()
    rating = serializers.IntegerField(help_text="1 (poor) to 5 (excellent).")
    score = RoundedFloatField(help_text="The rating as 0–100.")
    note = serializers.CharField()
    rated_by = serializers.CharField()
    rated_at = serializers.DateTimeField(allow_null=True)


class QuadrantSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="quantitative or qualitative")
    perspective = serializers.CharField(help_text="business or customer")
    weight = serializers.FloatField(help_text="The quadrant's weight in journey health.")
    score = RoundedFloatField(help_text="0–100; null: not scored.")
    status = serializers.CharField()
    explanation = serializers.CharField()
    kpis = KPIScoreSerializer(many=True)
    factors = FactorScoreSerializer(many=True)


class SubMapHealthSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="map_id")
    title = serializers.CharField()
    slug = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    level = serializers.IntegerField()
    health = RoundedFloatField()
    status = serializers.CharField()


class RollupSerializer(serializers.Serializer):
    health = RoundedFloatField(help_text="Mean health of the visible maps below that have one.")
    status = serializers.CharField()
    explanation = serializers.CharField()
    maps = SubMapHealthSerializer(many=True, help_text="Every visible map below, in tree order.")


class TrendPointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The snapshot's date (the month's last one).")
    health = RoundedFloatField()


class LastMonthSerializer(serializers.Serializer):
    date = serializers.DateField(source="change.previous_date", allow_null=True)
    health = RoundedFloatField(source="change.previous")
    change = RoundedFloatField(source="change_since_last_month")


class MapRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    slug = serializers.CharField()
    title = serializers.CharField()
    version = serializers.IntegerField()


class ScorecardSerializer(serializers.Serializer):
    """A map's balanced scorecard with the explanation of every number."""

    map = MapRefSerializer(source="journey_map")
    health = RoundedFloatField(source="scorecard.health", help_text="0–100; null: not scored.")
    status = serializers.CharField(
        source="scorecard.status", help_text="healthy, at_risk, critical or not_scored"
    )
    explanation = serializers.CharField(source="scorecard.explanation")
    weights = serializers.DictField(
        source="scorecard.weights", child=serializers.FloatField(), help_text="Quadrant weights."
    )
    thresholds = serializers.SerializerMethodField()
    quadrants = QuadrantSerializer(source="scorecard.quadrants", many=True)
    rollup = RollupSerializer(allow_null=True, help_text="Null when no visible map is below.")
    trend = TrendPointSerializer(many=True, help_text="Health per month, the last 12 months.")
    last_month = LastMonthSerializer(source="*")

    @extend_schema_field(
        inline_serializer(
            "ScorecardThresholds",
            {"healthy_from": serializers.FloatField(), "at_risk_from": serializers.FloatField()},
        )
    )
    def get_thresholds(self, obj) -> dict:
        return {"healthy_from": scoring.HEALTHY_FROM, "at_risk_from": scoring.AT_RISK_FROM}


class MapScorecardView(APIView):
    """``/api/maps/{id}/scorecard/``: the scorecard page's numbers and explanations."""

    @extend_schema(
        operation_id="maps_scorecard_retrieve",
        tags=["maps"],
        responses={200: ScorecardSerializer, 404: OpenApiResponse(description="No such map.")},
    )
    def get(self, request: Request, pk: int) -> Response:
        """A map's balanced scorecard: health, the four quadrants with the KPIs and
        ratings that made them, the roll-up of the visible maps below it, the monthly
        trend and the change since last month."""
        visible = permissions.visible_maps(request.user)
        journey_map = visible.filter(pk=pk).first()
        if journey_map is None:
            raise NotFound("No such journey map.")
        # the page's reads (scorecard_reads): the same report, a query fewer
        report = scorecard_reads.scorecard_report(journey_map, maps=visible)
        return Response(ScorecardSerializer(report, context={"kpi_trends": report.kpi_trends}).data)


# --- the project portfolio ---------------------------------------------------------


class FactorSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = RoundedFloatField(digits=4)
    effect = serializers.CharField(help_text="How it enters the score: ×, ÷, + weight × value.")
    explanation = serializers.CharField()
    derived = serializers.BooleanField(help_text="Computed from other fields, not entered.")


class BreakdownSerializer(serializers.Serializer):
    method = serializers.CharField()
    score = RoundedFloatField(digits=4)
    formula = serializers.CharField()
    factors = FactorSerializer(many=True)


class MapGapSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="map_id")
    title = serializers.CharField()
    slug = serializers.CharField()
    health = RoundedFloatField()
    gap = RoundedFloatField(digits=4, help_text="(100 − health) ÷ 100; null: does not count.")


class PainShareSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pain_point_id")
    title = serializers.CharField()
    map = serializers.IntegerField(source="map_id")
    severity = serializers.IntegerField()
    frequency = serializers.IntegerField()
    value = RoundedFloatField(digits=4, help_text="severity × frequency ÷ 25")


class StepRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="step_id")
    name = serializers.CharField()
    map = serializers.IntegerField(source="map_id")


class OverlapSerializer(serializers.Serializer):
    project = serializers.IntegerField(source="project_id")
    title = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class PortfolioEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = RoundedFloatField(digits=4)
    method = serializers.CharField()
    id = serializers.IntegerField(source="project_id")
    title = serializers.CharField()
    status = serializers.CharField()
    owner = serializers.CharField(source="owner_name")
    team = serializers.CharField(source="team_name")
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    reach = serializers.IntegerField()
    impact = serializers.IntegerField()
    confidence = serializers.IntegerField()
    effort = serializers.FloatField()
    health_gap = RoundedFloatField(source="gap", digits=4)
    pain = RoundedFloatField(digits=4)
    breakdown = BreakdownSerializer()
    scores = serializers.SerializerMethodField(help_text="Every method's breakdown.")
    ranks = serializers.DictField(child=serializers.IntegerField(), help_text="Rank by method.")
    maps = MapGapSerializer(many=True)
    steps = StepRefSerializer(many=True)
    pain_points = PainShareSerializer(many=True)
    overlaps = OverlapSerializer(many=True)

    @extend_schema_field(serializers.DictField(child=BreakdownSerializer()))
    def get_scores(self, obj) -> dict:
        return {m: BreakdownSerializer(b).data for m, b in obj.scores.items()}


class PortfolioView(APIView):
    """``/api/portfolio/``: the ranked portfolio with breakdowns and overlaps."""

    # paginated like every list: the schema reads this to document count/next/results
    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="portfolio_list",
        tags=["projects"],
        parameters=[
            OpenApiParameter("method", str, enum=list(prioritisation.METHODS)),
            OpenApiParameter("q", str, description="Text in title, summary or outcome."),
            OpenApiParameter("map", str, description="Slug: projects in this map's subtree."),
            OpenApiParameter("team", int),
            OpenApiParameter("owner", int),
            OpenApiParameter("status", str, description="A status, or open."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: PortfolioEntrySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        """Projects the user may see, ranked by the organisation's method (or
        ``method``), each with its score's breakdown, its rank under every method and
        its overlaps with other active projects."""
        visible = permissions.visible_projects(request.user)
        filterset = PortfolioFilter(
            request.query_params or None, queryset=visible, user=request.user
        )
        if filterset.is_bound and not filterset.form.is_valid():
            raise serializers.ValidationError(filterset.form.errors)
        method = request.query_params.get("method")
        if method and method not in prioritisation.METHODS:
            raise serializers.ValidationError(
                {"method": [f"Choose one of {', '.join(prioritisation.METHODS)}."]}
            )
        ranked = prioritisation.portfolio_rank(
            projects=filterset.qs if filterset.is_bound else visible,
            others=visible,
            visible_maps=permissions.visible_maps(request.user),
            method=method,
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(ranked.projects, request, view=self)
        return paginator.get_paginated_response(PortfolioEntrySerializer(page, many=True).data)

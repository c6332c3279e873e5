"""Templates in the API: ``GET /api/templates/`` lists the templates a user may start
from (the shipped essential journeys and the maps offered as templates they may see);
``POST /api/maps/from-template/`` creates a map from one (``maps.map_templates``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from maps import map_templates

from . import serializers as s
from .views import django_validation


class MapTemplateSerializer(serializers.Serializer):
    ref = serializers.CharField(help_text="“essential:<slug>” or “map:<slug>”.")
    title = serializers.CharField()
    summary = serializers.CharField()
    origin = serializers.CharField(help_text="“JourneyHub” or the template map's owner.")
    stages = serializers.ListField(child=serializers.CharField())
    step_count = serializers.IntegerField()


class TemplateListView(APIView):
    """The templates you may start a map from."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MapTemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        templates = map_templates.available_templates(request.user)
        return Response(MapTemplateSerializer(templates, many=True).data)


class FromTemplateSerializer(s.JourneyMapSerializer):
    template = serializers.CharField(
        write_only=True, help_text="The template's ref, from GET /api/templates/."
    )

    instruction_fields = (*s.JourneyMapSerializer.instruction_fields, "template")

    class Meta(s.JourneyMapSerializer.Meta):
        fields = (*s.JourneyMapSerializer.Meta.fields, "template")


class MapFromTemplateView(APIView):
    """Create a map from a template: the new map is yours, a draft unless you say
    otherwise, under ``parent`` (a map where you may add sub-maps; the top level is for
    CX leadership and admins) with the template's stages, steps, lanes and KPI
    definitions. 201 with the map."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=FromTemplateSerializer, responses={201: s.JourneyMapSerializer})
    def post(self, request: Request) -> Response:
        serializer = FromTemplateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        data.pop("is_template", None)  # a copy is not offered until its owner says so
        try:
            journey_map = map_templates.map_from_template(
                template_ref=data.pop("template"), by=request.user, **data
            )
        except DjangoValidationError as exc:
            raise django_validation(exc) from exc
        body = s.JourneyMapSerializer(journey_map, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

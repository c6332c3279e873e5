"""``GET /api/search/?q=…``: the search page's search as JSON, with the same filters,
the same permission rules and the same messages for bad values (400 naming the field)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from journeyhub.pagination import PageNumberPagination
from maps.models import Evidence
from maps.vocabulary import vocabulary_labels

from .search import KINDS, MAX_QUERY_LENGTH, PAGE_SIZE
from .search_forms import SearchForm


class SearchPagination(PageNumberPagination):
    """Pages of hits, with the hits per kind (``counts``, ignoring the kind filter)."""

    page_size = PAGE_SIZE
    max_page_size = 100
    counts: dict[str, int] = {}

    def get_paginated_response(self, data) -> Response:
        response = super().get_paginated_response(data)
        response.data["counts"] = self.counts
        return response

    def get_paginated_response_schema(self, schema: dict) -> dict:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["counts"] = {
            "type": "object",
            "description": "Hits per kind for the query and the other filters.",
            "additionalProperties": {"type": "integer"},
        }
        paginated.setdefault("required", []).append("counts")
        return paginated


class _MapRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class _ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS.choices)
    kind_label = serializers.CharField()
    id = serializers.IntegerField(source="entry.object_id", help_text="The id of the hit.")
    title = serializers.CharField(help_text="Plain text; a quote's start for a quote.")
    title_html = serializers.CharField(help_text="The title, escaped, matches in <mark>.")
    snippet_html = serializers.CharField(help_text="Text around the first match, escaped.")
    url = serializers.CharField(help_text="The page of the hit.")
    map = _MapRefSerializer(allow_null=True)
    project = _ProjectRefSerializer(allow_null=True)
    owner = serializers.CharField(
        source="owner.username", allow_null=True, default=None, help_text="The map's owner."
    )
    source = serializers.CharField(
        source="source_title", allow_blank=True, help_text="A quote's research source."
    )
    evidence = serializers.ChoiceField(
        source="entry.evidence", choices=[("", "none"), *Evidence.choices], allow_blank=True
    )
    updated_at = serializers.DateTimeField(source="entry.updated_at")


class SearchView(APIView):
    pagination_class = SearchPagination

    @extend_schema(
        operation_id="search",
        tags=["search"],
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description=f"Words to find (at most {MAX_QUERY_LENGTH} characters); each "
                "must match the start of a word of the hit.",
            ),
            OpenApiParameter("kind", str, many=True, enum=list(KINDS.values)),
            OpenApiParameter("map", str, description="Slug: this map and its sub-maps."),
            OpenApiParameter("owner", int, description="Id of the owner of the hits' map."),
            OpenApiParameter("evidence", str, many=True, enum=list(Evidence.values)),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: SearchHitSerializer(many=True), 400: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        """Ranked hits across every map the user may see: maps, steps, pain points, lane
        items, research sources, quotes and projects."""
        vocab = vocabulary_labels()
        form = SearchForm(request.query_params, user=request.user, vocab=vocab)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        if not form.cleaned_data["q"]:
            raise serializers.ValidationError({"q": ["Give a word to search for."]})
        results = form.results()
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(results, request, view=self)
        paginator.counts = results.counts
        return paginator.get_paginated_response(SearchHitSerializer(page, many=True).data)

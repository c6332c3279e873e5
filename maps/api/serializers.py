"""API representations of the repository. Validation reuses the models' own clean()
rules, so the API, the admin and the browser forms give the same messages."""

from __future__ import annotations

import copy

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance import permissions
from maps.models import (
    KPI,
    CXProject,
    JourneyMap,
    LaneItem,
    Measurement,
    MeasurementObservation,
    PainPoint,
    Persona,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
)

from .fast import FastRepresentation, fast_attr
from .fields import (
    VisibleKPIField,
    VisibleMapField,
    VisiblePainPointField,
    VisibleStageField,
    VisibleStepField,
    visible_map_ids,
)

User = get_user_model()


def drf_errors(exc: DjangoValidationError) -> dict | list:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if key == "__all__" else key): messages
            for key, messages in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


class CleanModelSerializer(FastRepresentation, serializers.ModelSerializer):
    """Runs the model's full_clean() on the would-be instance, keyed by field; rows are
    written by readers decided once per serializer (``fast.FastRepresentation``)."""

    # write-only fields that are instructions, not model data
    instruction_fields: tuple[str, ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        data = {k: v for k, v in attrs.items() if k not in self.instruction_fields}
        m2m = {f.name for f in model._meta.many_to_many}
        if self.instance is not None:
            candidate = copy.copy(self.instance)
            for key, value in data.items():
                if key not in m2m:
                    setattr(candidate, key, value)
        else:
            candidate = model(**{k: v for k, v in data.items() if k not in m2m})
        try:
            candidate.full_clean(exclude=self._clean_exclude(candidate))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(drf_errors(exc)) from exc
        return attrs

    def _clean_exclude(self, candidate) -> list[str]:
        # Fields the client does not send (owner, slug on create …) are set by services.
        return [
            f.name
            for f in candidate._meta.fields
            if f.name in getattr(self.Meta, "clean_exclude", ())
        ]


class MapVersionMixin(serializers.Serializer):
    map_version = serializers.IntegerField(
        write_only=True,
        min_value=1,
        required=False,
        help_text="The version of the map this edit started from (required on every write). "
        "A stale version is refused with 409 Conflict.",
    )


class UserRefField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.URI)
class ReversedOnceField(serializers.Field):
    """A URL of each row, reversed once per list and filled in per row: ``reverse()`` of
    every row was a large share of a map list's time. ``key`` is the row's attribute
    the URL pattern takes (``pk``, ``slug``); ``absolute`` builds it on the request's
    host, as DRF's hyperlinked fields do."""

    PLACEHOLDER = "0-journeyhub-placeholder-0"

    def __init__(self, view_name: str, key: str, *, absolute: bool, **kwargs):
        self.view_name, self.key, self.absolute = view_name, key, absolute
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def _template(self, context: dict) -> tuple[str, str]:
        cache = context.setdefault("_reversed_once", {})
        if self.view_name not in cache:
            url = reverse(self.view_name, kwargs={self.key: self.PLACEHOLDER})
            request = context.get("request")
            if self.absolute and request is not None:
                url = request.build_absolute_uri(url)
            cache[self.view_name] = tuple(url.split(self.PLACEHOLDER, 1))
        return cache[self.view_name]

    def to_representation(self, instance) -> str:
        head, tail = self._template(self.context)
        return f"{head}{getattr(instance, self.key)}{tail}"

    def fast_reader_in(self, context: dict):
        """The reader of a serializer whose fields are shared (``fast.FastRepresentation``):
        the URL on the host of the context's request, reversed once for it."""
        head, tail = self._template(context)
        key = self.key

        def read(instance) -> str:
            return f"{head}{getattr(instance, key)}{tail}"

        return read


@extend_schema_field(OpenApiTypes.STR)
class ReversedOncePathField(ReversedOnceField):
    """A site path (``/maps/<slug>/``): a string, not an absolute URI."""


class PersonaSlugsField(serializers.ListField):
    """A map's personas as a list of slugs (like the other references), read from the
    prefetched rows; on writes every slug resolved in one query, an unknown one named by
    its place in the list (``personas[1]``). A slug given twice counts once."""

    child = serializers.CharField(max_length=120)
    #: where a page of maps stores each map's slugs (``persona_slugs_of``)
    fast_stored = fast_attr("persona_slugs")

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Slugs of the personas whose journey this is (any number).")
        super().__init__(**kwargs)

    def to_representation(self, value) -> list[str]:
        return [persona.slug for persona in value.all()]

    def to_internal_value(self, data) -> list[Persona]:
        slugs = super().to_internal_value(data)
        found = {p.slug: p for p in Persona.objects.filter(slug__in=set(slugs))} if slugs else {}
        errors = {
            i: [f"{self.field_name}[{i}]: no persona has the slug “{slug}”."]
            for i, slug in enumerate(slugs)
            if slug not in found
        }
        if errors:
            raise serializers.ValidationError(errors)
        return list(dict.fromkeys(found[slug] for slug in slugs))


def persona_slugs_of(map_ids: list[int]) -> dict[int, list[str]]:
    """Each map's persona slugs in the personas' order (name, id), one query: what
    ``prefetch_related("personas")`` gives, without a ``Persona`` per link and the
    prefetch's own query building."""
    found: dict[int, list[str]] = {pk: [] for pk in map_ids}
    if not map_ids:
        return found
    q = connection.ops.quote_name
    field = JourneyMap._meta.get_field("personas")
    link, own, other = field.m2m_db_table(), field.m2m_column_name(), field.m2m_reverse_name()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.{q(own)}, p.{q('slug')} FROM {q(link)} l "
            f"INNER JOIN {q(Persona._meta.db_table)} p ON p.{q('id')} = l.{q(other)} "
            f"WHERE l.{q(own)} IN ({', '.join(['%s'] * len(map_ids))}) "
            f"ORDER BY p.{q('name')}, p.{q('id')}",
            map_ids,
        )
        for journey_map, slug in cursor.fetchall():
            found[journey_map].append(slug)
    return found


class _MapListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        # the page's personas in one query (maps whose personas were not prefetched)
        maps = list(data.all() if hasattr(data, "all") else data)
        stored = PersonaSlugsField.fast_stored
        unread = [
            m
            for m in maps
            if "personas" not in getattr(m, "_prefetched_objects_cache", {})
            and stored not in m.__dict__
        ]
        slugs = persona_slugs_of([m.pk for m in unread])
        for journey_map in unread:
            journey_map.__dict__[stored] = slugs[journey_map.pk]
        return super().to_representation(maps)


class MapOwnerField(serializers.SlugRelatedField):
    """A map's owner by username; a list reads the usernames in its query
    (``fast_stored``: the view annotates them) instead of a ``User`` per row."""

    fast_stored = fast_attr("owner")

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", read_only=True, **kwargs)


class JourneyMapSerializer(CleanModelSerializer):
    owner = MapOwnerField()
    team = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), allow_null=True, required=False
    )
    parent = VisibleMapField(allow_null=True, required=False)
    parent_step = VisibleStepField(allow_null=True, required=False)
    personas = PersonaSlugsField(required=False)
    slug = serializers.SlugField(max_length=200, required=False)
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Current version on reads; on writes, the version the edit started from "
        "(required for PUT/PATCH). A stale version gets 409 Conflict.",
    )
    level = serializers.IntegerField(read_only=True, help_text="Depth in the tree, 0 = top.")
    # set when a future state or scenario is drafted (maps.future_state), not by PATCH
    state = serializers.CharField(read_only=True, help_text="current, future or scenario.")
    state_of = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The current-state map a future state or scenario belongs to (null for one).",
    )
    scenario_label = serializers.CharField(read_only=True)
    is_review_due = serializers.BooleanField(read_only=True)
    url = ReversedOnceField("api:map-detail", "pk", absolute=True)
    web_url = ReversedOncePathField("maps:detail", "slug", absolute=False)

    instruction_fields = ("version",)

    class Meta:
        model = JourneyMap
        fields = (
            "id",
            "url",
            "web_url",
            "title",
            "slug",
            "summary",
            "status",
            "is_template",
            "parent",
            "parent_step",
            "level",
            "state",
            "state_of",
            "scenario_label",
            "vision",
            "personas",
            "owner",
            "team",
            "review_every_days",
            "last_reviewed_at",
            "is_review_due",
            "version",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("last_reviewed_at", "created_at", "updated_at")
        clean_exclude = ("owner", "slug")
        list_serializer_class = _MapListSerializer

    # its readable fields are the same for every request; the two URLs, which are on the
    # request's host, are read through their fast_reader_in
    fast_shared_readers = True

    def to_internal_value(self, data):
        # `persona` (one slug) became `personas` (a list, issue #17): refused rather than
        # ignored, so an old client learns its change was not made.
        if hasattr(data, "keys") and "persona" in data:
            raise serializers.ValidationError(
                {"persona": ["Replaced by `personas`, a list of persona slugs."]}
            )
        return super().to_internal_value(data)


class MapTreeSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    children = serializers.SerializerMethodField()

    class Meta:
        model = JourneyMap
        fields = ("id", "title", "slug", "status", "level", "owner", "parent_step", "children")

    def get_children(self, obj) -> list[dict]:
        # children come from get_cached_trees(): no query per node
        return MapTreeSerializer(obj.get_children(), many=True, context=self.context).data


class TransferSerializer(serializers.Serializer):
    owner = UserRefField(help_text="Username of the new owner.")
    version = serializers.IntegerField(min_value=1, help_text="The map version you started from.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReviewSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class StageSerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    instruction_fields = ("map_version",)

    class Meta:
        model = Stage
        fields = ("id", "map", "name", "description", "position", "exchange_key", "map_version")
        read_only_fields = ("exchange_key",)


class StepSerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    stage = VisibleStageField(allow_null=True, required=False)
    instruction_fields = ("map_version",)

    class Meta:
        model = Step
        fields = (
            "id",
            "map",
            "stage",
            "key",
            "name",
            "description",
            "position",
            "channel",
            "emotion",
            "is_recurring",
            "is_moment_of_truth",
            "evidence",
            "end_kind",
            "map_version",
        )


class StepLinkSerializer(MapVersionMixin, CleanModelSerializer):
    from_step = VisibleStepField()
    to_step = VisibleStepField()
    map = serializers.IntegerField(source="from_step.map_id", read_only=True)
    instruction_fields = ("map_version",)

    class Meta:
        model = StepLink
        fields = ("id", "map", "from_step", "to_step", "kind", "label", "map_version")


class PainPointSerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    step = VisibleStepField(allow_null=True, required=False)
    instruction_fields = ("map_version",)

    class Meta:
        model = PainPoint
        fields = (
            "id",
            "map",
            "step",
            "kind",
            "title",
            "description",
            "severity",
            "frequency",
            "evidence",
            "position",
            "exchange_key",
            "map_version",
        )
        read_only_fields = ("exchange_key",)


def tag_names() -> serializers.Field:
    """Tags as readable names ("Group: tag"); set by imports and the admin."""
    return serializers.StringRelatedField(
        many=True, read_only=True, help_text="Tags and groups as names (“Group: tag”); read-only."
    )


class LaneItemSerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    step = VisibleStepField(allow_null=True, required=False)
    owner = UserRefField(allow_null=True, required=False, help_text="Username of the owner.")
    tags = tag_names()
    instruction_fields = ("map_version",)

    class Meta:
        model = LaneItem
        fields = (
            "id",
            "map",
            "step",
            "kind",
            "title",
            "description",
            "url",
            "evidence",
            "position",
            "import_key",
            "owner",
            "status",
            "item_type",
            "icon",
            "empathy_score",
            "weight",
            "external_links",
            "tags",
            "exchange_key",
            "map_version",
        )
        read_only_fields = ("exchange_key",)


class KPISerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    step = VisibleStepField(allow_null=True, required=False)
    comparison = serializers.ChoiceField(
        choices=KPI.Comparison.choices,
        required=False,
        help_text="at_least (higher is better) or at_most (lower is better): the same fact "
        "as direction; when both are sent, comparison wins.",
    )
    owner = UserRefField(allow_null=True, required=False, help_text="Username of the owner.")
    tags = tag_names()
    instruction_fields = ("map_version",)

    def validate(self, attrs):
        if "comparison" in attrs:
            at_most = attrs.pop("comparison") == KPI.Comparison.AT_MOST
            attrs["direction"] = KPI.Direction.LOWER if at_most else KPI.Direction.HIGHER
        return super().validate(attrs)

    class Meta:
        model = KPI
        fields = (
            "id",
            "map",
            "step",
            "name",
            "description",
            "unit",
            "direction",
            "comparison",
            "kind",
            "aggregation",
            "import_key",
            "baseline",
            "target",
            "perspective",
            "source",
            "weight",
            "owner",
            "tags",
            "exchange_key",
            "map_version",
        )
        read_only_fields = ("exchange_key",)


class MeasurementSerializer(CleanModelSerializer):
    kpi = VisibleKPIField()

    class Meta:
        model = Measurement
        fields = ("id", "kpi", "date", "value")
        validators = []  # (kpi, date) upserts instead of refusing


class KPIMeasurementSerializer(CleanModelSerializer):
    class Meta:
        model = Measurement
        fields = ("id", "date", "value")
        clean_exclude = ("kpi",)

    def _clean_exclude(self, candidate) -> list[str]:
        return ["kpi"]


class ObservationInSerializer(serializers.Serializer):
    """One raw observation of a KPI, as ``POST /api/kpis/{id}/measurements/`` takes it:
    the date, the inputs of the KPI's kind and optional dimensions. A plain ``value``
    suits value KPIs; the period's value is recomputed from all its observations."""

    date = serializers.DateField()
    dimensions = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=100),
        required=False,
        help_text='e.g. {"region": "EU", "channel": "web", "segment": "SMB"}',
    )
    value = serializers.FloatField(required=False, allow_null=True)
    numerator = serializers.FloatField(required=False, allow_null=True)
    denominator = serializers.FloatField(required=False, allow_null=True)
    promoters = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    passives = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    detractors = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    very_dissatisfied = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    dissatisfied = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    neutral = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    satisfied = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    very_satisfied = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    mean = serializers.FloatField(required=False, allow_null=True)
    respondents = serializers.IntegerField(required=False, allow_null=True, min_value=0)


class ObservationSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeasurementObservation
        fields = ("id", "date", "dimensions", *MeasurementObservation.INPUT_FIELDS, "recorded_at")


class MeasurementsImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        required=False, help_text="A CSV or TheyDo metrics (JSON) file, as multipart upload."
    )


class QualitativeFactorSerializer(MapVersionMixin, CleanModelSerializer):
    map = VisibleMapField()
    rated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    instruction_fields = ("map_version",)

    class Meta:
        model = QualitativeFactor
        fields = (
            "id",
            "map",
            "name",
            "perspective",
            "rating",
            "note",
            "rated_by",
            "rated_at",
            "exchange_key",
            "map_version",
        )
        read_only_fields = ("rated_at", "exchange_key")


class PersonaSerializer(CleanModelSerializer):
    class Meta:
        model = Persona
        fields = ("id", "name", "slug", "description")


#: a project's links as (id, map id) pairs by kind, in the order the related managers give
ProjectLinks = dict[str, list[tuple[int, int]]]


def project_links(project_ids: list[int], *, user=None) -> dict[int, ProjectLinks]:
    """The links of a page of projects read from the three link tables as ids in one
    ``UNION ALL`` (no map, step or pain point objects are made), in the order of the maps
    in the tree, then of the steps and pain points on their map. With ``user``, only the
    links to maps ``user`` may see (``permissions.visible_map_sql``, in the same query).
    Written as SQL: Django took longer to build the joined, ordered queries than the
    database to run them."""
    found: dict[int, ProjectLinks] = {
        pk: {"maps": [], "steps": [], "pain_points": []} for pk in project_ids
    }
    if not project_ids:
        return found
    q = connection.ops.quote_name
    maps = q(JourneyMap._meta.db_table)
    marks = ", ".join(["%s"] * len(project_ids))
    visible = None if user is None else permissions.visible_map_sql(user, "m", connection)
    names = ("maps", "steps", "pain_points")
    branches, params = [], []
    for n, name in enumerate(names):
        m2m = CXProject._meta.get_field(name)
        link = q(m2m.remote_field.through._meta.db_table)
        own, other = q(m2m.m2m_column_name()), q(m2m.m2m_reverse_name())
        if name == "maps":
            joins, position = f"INNER JOIN {maps} m ON m.{q('id')} = l.{other}", "0"
        else:  # a step or pain point: on its map, by position, then id
            target = q(m2m.related_model._meta.db_table)
            joins = (
                f"INNER JOIN {target} t ON t.{q('id')} = l.{other} "
                f"INNER JOIN {maps} m ON m.{q('id')} = t.{q('map_id')}"
            )
            position = f"t.{q('position')}"
        where = f"l.{own} IN ({marks})"
        params += project_ids
        if visible is not None:
            where += f" AND {visible[0]}"
            params += visible[1]
        # the map's tree_id, lft, id: JourneyMap's ordering, which orders the steps too
        branches.append(
            f"SELECT {n}, l.{own}, l.{other}, m.{q('id')}, m.{q('tree_id')}, m.{q('lft')}, "
            f"{position} FROM {link} l {joins} WHERE {where}"
        )
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches) + " ORDER BY 1, 5, 6, 4, 7, 3", params)
        for n, project, pk, on_map, *_ in cursor.fetchall():
            found[project][names[n]].append((pk, on_map))
    return found


def tag_names_of(model: type, ids: list[int]) -> dict[int, list[str]]:
    """The tags of the rows ``ids`` of ``model`` as ``str(tag)`` writes them, in the tags'
    own ordering (kind, group without a name first, group, name, id), one query: what
    a ``Prefetch`` of the tags with their groups gives, without making a ``Tag`` and a
    ``TagGroup`` per link."""
    found: dict[int, list[str]] = {pk: [] for pk in ids}
    if not ids:
        return found
    q = connection.ops.quote_name
    tags = model._meta.get_field("tags")
    tag_model = tags.related_model
    group_model = tag_model._meta.get_field("group").related_model
    link, own, other = tags.m2m_db_table(), tags.m2m_column_name(), tags.m2m_reverse_name()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.{q(own)}, t.{q('name')}, t.{q('group_id')}, g.{q('name')} "
            f"FROM {q(link)} l INNER JOIN {q(tag_model._meta.db_table)} t "
            f"ON t.{q('id')} = l.{q(other)} LEFT OUTER JOIN {q(group_model._meta.db_table)} g "
            f"ON g.{q('id')} = t.{q('group_id')} "
            f"WHERE l.{q(own)} IN ({', '.join(['%s'] * len(ids))}) "
            f"ORDER BY t.{q('kind')}, CASE WHEN g.{q('name')} IS NULL THEN 0 ELSE 1 END, "
            f"g.{q('name')}, t.{q('name')}, t.{q('id')}",
            ids,
        )
        for owner, name, group_id, group in cursor.fetchall():
            found[owner].append(f"{group}: {name}" if group_id is not None else name)
    return found


class _ProjectListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        # the page's links to maps the reader may see, and its tags: two queries
        projects = list(data.all() if hasattr(data, "all") else data)
        request = self.context.get("request")
        self.context["project_links"] = project_links(
            [p.pk for p in projects], user=getattr(request, "user", None)
        )
        stored = fast_attr("tags")
        untagged = [p for p in projects if stored not in p.__dict__]
        names = tag_names_of(CXProject, [p.pk for p in untagged])
        for project in untagged:
            project.__dict__[stored] = names[project.pk]
        return super().to_representation(projects)


class ProjectOwnerField(UserRefField):
    """A project's owner; a list reads the usernames in its query (``fast_stored``: the
    view annotates them) instead of a ``User`` per row."""

    fast_stored = fast_attr("owner")


class CXProjectSerializer(CleanModelSerializer):
    owner = ProjectOwnerField(required=False, help_text="Username; defaults to you.")
    team = serializers.PrimaryKeyRelatedField(
        queryset=Group.objects.all(), allow_null=True, required=False
    )
    maps = VisibleMapField(many=True, required=False)
    steps = VisibleStepField(many=True, required=False)
    pain_points = VisiblePainPointField(many=True, required=False)
    tags = tag_names()

    class Meta:
        model = CXProject
        fields = (
            "id",
            "title",
            "summary",
            "status",
            "owner",
            "team",
            "start_date",
            "end_date",
            "maps",
            "steps",
            "pain_points",
            "reach",
            "impact",
            "confidence",
            "effort",
            "cost",
            "outcome",
            "priority",
            "project_type",
            "external_links",
            "tags",
            "import_key",
            "source_status",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("created_at", "updated_at", "import_key", "source_status")
        clean_exclude = ("owner",)
        list_serializer_class = _ProjectListSerializer

    # its readable fields are the same for every request (none reads the context)
    fast_shared_readers = True

    def to_representation(self, instance):
        """Links to maps, steps and pain points on maps the reader cannot see are left
        out, so a project never lists a hidden draft's ids."""
        data = super().to_representation(instance)
        links = self.context.get("project_links", {}).get(instance.pk)
        if links is not None:  # read for the page: only those the reader may see
            for name, pairs in links.items():
                data[name] = [pk for pk, _ in pairs]
            return data
        links = {  # one project, not a list
            "maps": [(m.pk, m.pk) for m in instance.maps.all()],
            "steps": [(step.pk, step.map_id) for step in instance.steps.all()],
            "pain_points": [(p.pk, p.map_id) for p in instance.pain_points.all()],
        }
        visible = visible_map_ids(
            self.context.get("request"), {m for pairs in links.values() for _, m in pairs}
        )
        for name, pairs in links.items():
            data[name] = [pk for pk, map_id in pairs if map_id in visible]
        return data

    @property
    def _readable_fields(self):
        # the links are written by to_representation above: rendering them first as
        # well (a related manager per link kind and project) was wasted time
        for field in super()._readable_fields:
            if field.field_name not in self.LINKS:
                yield field

    LINKS = ("maps", "steps", "pain_points")

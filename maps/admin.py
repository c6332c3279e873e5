"""Django admin for every repository model.

Changelists name their ``list_select_related`` so none does a query per row; large
foreign keys use autocomplete; inlines on a map only offer that map's stages and
steps, evaluated once per request rather than once per inline row.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.utils.html import format_html
from guardian.admin import GuardedModelAdminMixin
from mptt.admin import DraggableMPTTAdmin
from simple_history.admin import SimpleHistoryAdmin

from governance import field_policy

# research also connects the signal that removes an attachment's file with its row
from . import research, services
from .models import (
    KPI,
    CXProject,
    DeliveryStatus,
    EventActivityMapping,
    EventImport,
    ExchangeImport,
    JourneyMap,
    JourneyMapGroupObjectPermission,
    JourneyMapUserObjectPermission,
    LaneItem,
    MapPainPointCounts,
    Measurement,
    MeasurementObservation,
    PainPoint,
    Persona,
    QualitativeFactor,
    Stage,
    Step,
    StepLink,
    TheydoImport,
    VocabularyTerm,
)
from .models.research import Attachment, Quote, ResearchSource
from .models.tags import Tag, TagGroup
from .models.vocabulary import DEFAULT_TERMS
from .services import map_of, map_touch
from .tree import is_root_level_move, lock_for_tree_write


class MapScopedChoicesMixin:
    """Limit ``stage``/``step`` choices of an inline to the map being edited.

    The choices are materialised once per request: a plain ModelChoiceField would
    re-run its query for every inline row.
    """

    scoped_fields = ("stage", "step")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.scoped_fields and field is not None:
            journey_map = getattr(request, "_journeyhub_admin_map", None)
            cache = request.__dict__.setdefault("_journeyhub_choices", {})
            key = (db_field.related_model, getattr(journey_map, "pk", None))
            if key not in cache:
                qs = db_field.related_model.objects.none()
                if journey_map is not None:
                    qs = db_field.related_model.objects.filter(map=journey_map)
                cache[key] = (qs, [("", "---------"), *((o.pk, str(o)) for o in qs)])
            field.queryset, field.choices = cache[key]
        return field


class FieldPolicyAdmin:
    """The admin asks the field policy too: a change it refuses shows beside its field."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class PolicyForm(form_class):
            def clean(self):
                cleaned = super().clean()
                instance = self.instance
                stored = (
                    type(instance)._base_manager.get(pk=instance.pk) if instance.pk else instance
                )
                rules = field_policy.FIELD_RULES[field_policy.resource_of(instance)]
                changes = {f: cleaned.get(f) for f in self.changed_data if f in rules}
                for field, message in field_policy.change_denials(user, stored, changes).items():
                    self.add_error(field if field in self.fields else None, message)
                return cleaned

        return PolicyForm


class ExchangeKeyReadOnly:
    """The exchange key is what a re-import matches a row by (docs/exchange.md): set
    once when the row is made, shown, never retyped in the admin."""

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if any(f.name == "exchange_key" for f in self.model._meta.fields):
            fields += ("exchange_key",)
        return fields


class BumpsMapVersion(ExchangeKeyReadOnly):
    """Admin edits of a map or its content move the map to a new version."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        map_touch(journey_map_id=map_of(obj).pk)

    def delete_model(self, request, obj):
        journey_map_id = map_of(obj).pk
        super().delete_model(request, obj)
        map_touch(journey_map_id=journey_map_id)

    def delete_queryset(self, request, queryset):
        map_ids = {map_of(obj).pk for obj in queryset}
        super().delete_queryset(request, queryset)
        for journey_map_id in map_ids:
            map_touch(journey_map_id=journey_map_id)


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ("position", "name", "description")


class StepInline(MapScopedChoicesMixin, admin.TabularInline):
    model = Step
    extra = 0
    fields = (
        "position",
        "stage",
        "key",
        "name",
        "channel",
        "emotion",
        "evidence",
        "is_moment_of_truth",
        "is_recurring",
        "end_kind",
    )


class PainPointInline(MapScopedChoicesMixin, admin.TabularInline):
    model = PainPoint
    extra = 0
    fields = ("kind", "title", "step", "severity", "frequency", "evidence")
    classes = ("collapse",)


class KPIInline(MapScopedChoicesMixin, admin.TabularInline):
    model = KPI
    extra = 0
    fields = (
        "name",
        "perspective",
        "unit",
        "direction",
        "baseline",
        "target",
        "weight",
        "source",
        "step",
    )
    classes = ("collapse",)


@admin.register(JourneyMap)
class JourneyMapAdmin(
    FieldPolicyAdmin,
    BumpsMapVersion,
    GuardedModelAdminMixin,
    DraggableMPTTAdmin,
    SimpleHistoryAdmin,
):
    list_display = (
        "tree_actions",
        "indented_title",
        "level_number",
        "status",
        "owner",
        "team",
        "persona_names",
        "last_reviewed_at",
    )
    list_display_links = ("indented_title",)
    # the tree is what people come to this list for: open it, don't make them click each node
    expand_tree_by_default = True
    list_filter = ("status", "state", "team", "personas", "owner")
    list_select_related = ("owner", "team")
    search_fields = ("title", "slug", "summary")
    prepopulated_fields = {"slug": ("title",)}
    autocomplete_fields = ("parent", "parent_step", "owner", "team", "personas", "state_of")
    readonly_fields = ("version", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "status", "personas")}),
        ("Place in the tree", {"fields": ("parent", "parent_step")}),
        ("Ownership", {"fields": ("owner", "team")}),
        ("Current and future state", {"fields": ("state", "state_of", "scenario_label", "vision")}),
        (
            "Governance",
            {
                "fields": (
                    "review_every_days",
                    "last_reviewed_at",
                    "version",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    inlines = (StageInline, StepInline, PainPointInline, KPIInline)

    @admin.display(description="level", ordering="level")
    def level_number(self, obj: JourneyMap) -> int:
        return obj.level + 1

    @admin.display(description="personas")
    def persona_names(self, obj: JourneyMap) -> str:
        return ", ".join(p.name for p in obj.personas.all())  # prefetched by get_queryset

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("personas")

    class Media:
        css = {"all": ["css/admin-tree.css"]}

    @admin.display(description="title")
    def indented_title(self, item: JourneyMap) -> str:
        # mptt indents with a style="" attribute, which the Content-Security-Policy refuses
        return format_html(
            '<div class="tree-indent tree-level-{}">{}</div>', min(item.level, 9), item
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        request._journeyhub_admin_map = obj  # read by MapScopedChoicesMixin
        return obj

    # Every tree write takes the tree locks first (maps/tree.py).

    def save_model(self, request, obj, form, change):
        if not change:
            lock_for_tree_write(obj.parent, root_level=obj.parent_id is None)
        elif {"parent", "title"} & set(form.changed_data):
            root_level = form.initial.get("parent") is None or obj.parent_id is None
            lock_for_tree_write(obj, obj.parent if obj.parent_id else None, root_level=root_level)
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        lock_for_tree_write(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            lock_for_tree_write(root_level=True)
            super().delete_queryset(request, queryset)

    def _move_node(self, request):
        """Drag and drop in the tree: mptt's move under the locks of the trees involved."""
        ids = [request.POST.get("cut_item", ""), request.POST.get("pasted_on", "")]
        found = {
            str(m.pk): m
            for m in JourneyMap.objects.filter(
                pk__in=[i for i in ids if i.isascii() and i.isdigit()]
            )
        }
        node, target = found.get(ids[0]), found.get(ids[1])
        with transaction.atomic():
            if node is not None and target is not None:
                position = request.POST.get("position", "")
                lock_for_tree_write(
                    node, target, root_level=is_root_level_move(node, target, position)
                )
            return super()._move_node(request)


@admin.register(Persona)
class PersonaAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "map_count")
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_map_count=Count("maps"))

    @admin.display(description="maps", ordering="_map_count")
    def map_count(self, obj) -> int:
        return obj._map_count


@admin.register(Stage)
class StageAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = ("name", "map", "position")
    list_select_related = ("map",)
    search_fields = ("name", "map__title")
    autocomplete_fields = ("map",)


@admin.register(Step)
class StepAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = (
        "name",
        "map",
        "stage",
        "position",
        "channel",
        "emotion",
        "evidence",
        "is_moment_of_truth",
        "is_recurring",
        "end_kind",
    )
    list_select_related = ("map", "stage")
    list_filter = ("evidence", "channel", "is_moment_of_truth", "is_recurring", "end_kind")
    search_fields = ("name", "key", "map__title")
    autocomplete_fields = ("map", "stage")


@admin.register(StepLink)
class StepLinkAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = ("__str__", "kind", "label", "map_title")
    list_select_related = ("from_step", "to_step", "from_step__map")
    list_filter = ("kind",)
    search_fields = ("label", "from_step__name", "to_step__name", "from_step__map__title")
    autocomplete_fields = ("from_step", "to_step")

    @admin.display(description="map", ordering="from_step__map__title")
    def map_title(self, obj: StepLink) -> str:
        return obj.from_step.map.title


@admin.register(PainPoint)
class PainPointAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = ("title", "kind", "map", "step", "severity", "frequency", "evidence")
    list_select_related = ("map", "step")
    list_filter = ("kind", "severity", "frequency", "evidence")
    search_fields = ("title", "description", "map__title")
    autocomplete_fields = ("map", "step")


@admin.register(LaneItem)
class LaneItemAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = ("title", "kind", "map", "step", "evidence")
    list_select_related = ("map", "step")
    list_filter = ("kind", "evidence")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ("title", "description", "map__title")
    autocomplete_fields = ("map", "step")


class MeasurementAdminForm(forms.ModelForm):
    """A value entered directly in the admin follows the API's rule: not for a period
    whose value is computed from its observations."""

    def clean(self):
        cleaned = super().clean()
        kpi_id, date = (
            self.instance.kpi_id or getattr(cleaned.get("kpi"), "pk", None),
            cleaned.get("date"),
        )
        if kpi_id and date and self.has_changed():
            problem = services.direct_value_problem(kpi_id=kpi_id, date=date)
            if problem:
                self.add_error("value", problem)
        return cleaned


class ObservationAdminForm(forms.ModelForm):
    """An observation for a period whose value was entered directly is refused, as in the
    API and the imports."""

    def clean(self):
        cleaned = super().clean()
        kpi, date = cleaned.get("kpi"), cleaned.get("date")
        if kpi and date:
            problem = services.direct_periods_problem(
                {(kpi.pk, date)}, kpi_names={kpi.pk: kpi.name}
            )
            if problem:
                self.add_error("date", problem)
        return cleaned


class MeasurementInline(admin.TabularInline):
    model = Measurement
    form = MeasurementAdminForm
    extra = 1
    fields = ("date", "value")
    ordering = ("-date",)


@admin.register(KPI)
class KPIAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = (
        "name",
        "map",
        "perspective",
        "kind",
        "direction",
        "baseline",
        "target",
        "unit",
        "weight",
        "source",
    )
    list_select_related = ("map",)
    list_filter = ("perspective", "kind", "direction", "source")
    search_fields = ("name", "description", "map__title")
    autocomplete_fields = ("map", "step")
    inlines = (MeasurementInline,)


@admin.register(Measurement)
class MeasurementAdmin(SimpleHistoryAdmin):
    form = MeasurementAdminForm
    list_display = ("kpi", "map_title", "date", "value")
    list_select_related = ("kpi", "kpi__map")
    # No date_hierarchy: listing its years scans every measurement (4 s at 1.2 M rows).
    # Newest first by the indexed date alone, not the default ordering through KPI and map.
    ordering = ("-date", "-pk")
    list_filter = (("date", admin.DateFieldListFilter),)
    search_fields = ("kpi__name", "kpi__map__title")
    autocomplete_fields = ("kpi",)

    @admin.display(description="map", ordering="kpi__map__title")
    def map_title(self, obj: Measurement) -> str:
        return obj.kpi.map.title


@admin.register(MeasurementObservation)
class MeasurementObservationAdmin(admin.ModelAdmin):
    """Raw observations; saving or deleting one recomputes its period's value."""

    form = ObservationAdminForm
    list_display = ("kpi", "date", "dimension_key", "recorded_by", "recorded_at")
    list_select_related = ("kpi", "recorded_by")
    ordering = ("-date", "-pk")  # the indexed date, not the default through KPI
    list_filter = (("date", admin.DateFieldListFilter),)
    search_fields = ("kpi__name", "dimension_key")
    autocomplete_fields = ("kpi",)
    raw_id_fields = ("recorded_by",)

    def save_model(self, request, obj, form, change):
        obj.dimension_key = services.dimension_key(obj.dimensions or {})
        super().save_model(request, obj, form, change)
        services.periods_recompute(periods={(obj.kpi_id, obj.date)})

    def delete_model(self, request, obj):
        period = (obj.kpi_id, obj.date)
        super().delete_model(request, obj)
        services.periods_recompute(periods={period})


@admin.register(QualitativeFactor)
class QualitativeFactorAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    list_display = ("name", "map", "perspective", "rating", "rated_by", "rated_at")
    list_select_related = ("map", "rated_by")
    list_filter = ("perspective", "rating")
    search_fields = ("name", "note", "map__title")
    autocomplete_fields = ("map", "rated_by")


@admin.register(CXProject)
class CXProjectAdmin(ExchangeKeyReadOnly, FieldPolicyAdmin, SimpleHistoryAdmin):
    list_display = (
        "title",
        "status",
        "owner",
        "team",
        "start_date",
        "end_date",
        "reach",
        "impact",
        "confidence",
        "effort",
    )
    list_select_related = ("owner", "team")
    list_filter = ("status", "team", "owner")
    search_fields = ("title", "summary", "outcome")
    autocomplete_fields = ("owner", "team", "maps", "steps", "pain_points")
    date_hierarchy = "start_date"


class VocabularyTermForm(forms.ModelForm):
    key = forms.ChoiceField(choices=[(k, f"{k} (default: {v})") for k, v in DEFAULT_TERMS.items()])

    class Meta:
        model = VocabularyTerm
        fields = ("key", "label")


@admin.register(VocabularyTerm)
class VocabularyTermAdmin(admin.ModelAdmin):
    form = VocabularyTermForm
    list_display = ("key", "label", "default_label")
    search_fields = ("key", "label")

    @admin.display(description="default")
    def default_label(self, obj: VocabularyTerm) -> str:
        return DEFAULT_TERMS.get(obj.key, "")


@admin.register(JourneyMapUserObjectPermission)
class JourneyMapUserGrantAdmin(admin.ModelAdmin):
    list_display = ("content_object", "user", "permission")
    list_select_related = ("content_object", "user", "permission", "permission__content_type")
    search_fields = ("content_object__title", "user__username")
    autocomplete_fields = ("content_object", "user")


@admin.register(JourneyMapGroupObjectPermission)
class JourneyMapGroupGrantAdmin(admin.ModelAdmin):
    list_display = ("content_object", "group", "permission")
    list_select_related = ("content_object", "group", "permission", "permission__content_type")
    search_fields = ("content_object__title", "group__name")
    autocomplete_fields = ("content_object", "group")


@admin.register(EventImport)
class EventImportAdmin(admin.ModelAdmin):
    """Event-log imports: a record of what was uploaded and what it produced. Importing
    happens on the map's events page or with ``manage.py import_events``."""

    list_display = ("map", "status", "progress", "events", "cases", "uploaded_by", "created_at")
    list_select_related = ("map", "uploaded_by")
    list_filter = ("status",)
    ordering = ("-created_at", "-pk")
    search_fields = ("map__title", "file")
    autocomplete_fields = ("map",)
    raw_id_fields = ("uploaded_by",)
    readonly_fields = ("created_at", "started_at", "finished_at")


@admin.register(EventActivityMapping)
class EventActivityMappingAdmin(SimpleHistoryAdmin):
    """A map's remembered activity → step mapping for event logs (made on an import's
    page when its log names activities that are not step keys)."""

    list_display = ("activity", "step", "map", "updated_at")
    list_select_related = ("map", "step")
    ordering = ("map", "activity", "pk")
    search_fields = ("activity", "map__title", "step__name")
    autocomplete_fields = ("map", "step")
    readonly_fields = ("created_at", "updated_at")


class ImportJobAdmin(admin.ModelAdmin):
    """Uploaded imports (``maps.upload_jobs``): read and deleted here, made elsewhere."""

    ordering = ("-created_at", "-pk")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TheydoImport)
class TheydoImportAdmin(ImportJobAdmin):
    """TheyDo imports: what was uploaded, previewed and imported, with its problems.
    Importing happens on the map's "Import from TheyDo" page, the API or
    ``manage.py import_theydo``; here the records are read and deleted."""

    list_display = ("map", "format", "status", "progress", "via", "uploaded_by", "created_at")
    list_select_related = ("map", "uploaded_by")
    list_filter = ("status", "format", "via")
    search_fields = ("map__title", "file_name")


@admin.register(ExchangeImport)
class ExchangeImportAdmin(ImportJobAdmin):
    """journeyhub/1 imports from the browser ("Import maps"): what was uploaded, its
    preview, what it did, its problems."""

    list_display = ("file_name", "under", "status", "progress", "uploaded_by", "created_at")
    list_select_related = ("under", "uploaded_by")
    list_filter = ("status",)
    search_fields = ("file_name", "uploaded_by__username")


# --- tags and research -------------------------------------------------------------------


@admin.register(TagGroup)
class TagGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "tag_count")
    search_fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_tag_count=Count("tags"))

    @admin.display(description="tags", ordering="_tag_count")
    def tag_count(self, obj) -> int:
        return obj._tag_count


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "group")
    list_select_related = ("group",)
    list_filter = ("kind",)
    search_fields = ("name", "group__name")
    autocomplete_fields = ("group",)


class EvidenceLinksForm(forms.ModelForm):
    """A source's or quote's links reach only the steps, pain points and lane items of
    its own map (the rule of ``maps.research``)."""

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("source") if "source" in self.fields else None
        journey_map = source.map if source is not None else cleaned.get("map")
        if journey_map is None and self.instance.pk:
            journey_map = research._map_of_evidence(self.instance)
        if journey_map is not None:
            links = {f: cleaned.get(f) or [] for f in research.EVIDENCE_FIELDS if f in self.fields}
            for field, message in research.links_problems(journey_map, links).items():
                self.add_error(field, message)
        return cleaned


class QuoteInline(admin.StackedInline):
    model = Quote
    extra = 0
    fields = ("text", "persona_hint", "responded_at", "position")
    show_change_link = True


class AttachmentInline(admin.TabularInline):
    """Files are uploaded on the research page, where their type is checked; here they
    are listed and may be deleted (their files go too)."""

    model = Attachment
    extra = 0
    fields = ("name", "content_type", "size", "uploaded_by", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ResearchSource)
class ResearchSourceAdmin(BumpsMapVersion, SimpleHistoryAdmin):
    form = EvidenceLinksForm
    list_display = ("title", "kind", "map", "conducted_on", "owner")
    list_select_related = ("map", "owner")
    list_filter = ("kind",)
    search_fields = ("title", "description", "map__title")
    autocomplete_fields = ("map", "owner", "steps", "pain_points", "lane_items")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (QuoteInline, AttachmentInline)


class QuoteTouchesMap(ExchangeKeyReadOnly):
    """A quote's map is its source's: admin edits move that map to a new version."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        map_touch(journey_map_id=obj.source.map_id)

    def delete_model(self, request, obj):
        journey_map_id = obj.source.map_id
        super().delete_model(request, obj)
        map_touch(journey_map_id=journey_map_id)

    def delete_queryset(self, request, queryset):
        map_ids = set(queryset.values_list("source__map_id", flat=True))
        super().delete_queryset(request, queryset)
        for journey_map_id in map_ids:
            map_touch(journey_map_id=journey_map_id)


@admin.register(Quote)
class QuoteAdmin(QuoteTouchesMap, SimpleHistoryAdmin):
    form = EvidenceLinksForm
    list_display = ("__str__", "source", "persona_hint", "responded_at")
    list_select_related = ("source",)
    search_fields = ("text", "persona_hint", "source__title")
    autocomplete_fields = ("source", "persona", "tags", "steps", "pain_points", "lane_items")


class AttachmentAdminForm(forms.ModelForm):
    """An upload in the admin is checked like one on the research page (type sniffed
    from the content, size limit)."""

    class Meta:
        model = Attachment
        fields = ("source", "file")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and not getattr(upload, "_committed", False):  # a new upload
            try:
                self._checked = research.attachment_check(upload)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["file"]) from exc
        return upload


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    """Listed, uploaded (type and size checked) and deleted here; deleting one removes
    its file."""

    form = AttachmentAdminForm
    list_display = ("name", "source", "content_type", "size", "uploaded_by", "created_at")
    list_select_related = ("source", "uploaded_by")
    search_fields = ("name", "source__title")
    autocomplete_fields = ("source",)
    shown = ("source", "name", "content_type", "size", "uploaded_by", "created_at")

    def get_fields(self, request, obj=None):
        return self.shown if obj is not None else ("source", "file")

    def get_readonly_fields(self, request, obj=None):
        return self.shown if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if not change:
            extension, file_type = form._checked
            upload = form.cleaned_data["file"]
            obj.name = upload.name.rsplit("/", 1)[-1][:255]
            obj.content_type = file_type.content_type
            obj.size = upload.size
            obj.uploaded_by = request.user
            obj.file.name = f"{uuid.uuid4().hex}.{extension}"  # never the uploader's name
        super().save_model(request, obj, form, change)


@admin.register(DeliveryStatus)
class DeliveryStatusAdmin(admin.ModelAdmin):
    """Where delivery work items stand, by key, as last imported (Portfolio → Delivery
    status); projects reach them through the keys in their delivery links."""

    list_display = ("key", "status", "state", "title", "assignee", "imported_at")
    list_filter = ("state",)
    search_fields = ("key", "title", "status")
    ordering = ("key",)
    readonly_fields = ("imported_at", "imported_by")


class DerivedPerMapAdmin(admin.ModelAdmin):
    """Rows derived from a map's content and kept by the database's triggers: shown,
    searchable by map, never written here."""

    list_select_related = ("map",)
    search_fields = ("map__title",)
    ordering = ("pk",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MapPainPointCounts)
class MapPainPointCountsAdmin(DerivedPerMapAdmin):
    """Each map's pain point counts (maps/derived/pain_point_counts.py)."""

    list_display = ("map", "total", "addressed")

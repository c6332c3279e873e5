from django.contrib import admin
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from maps.admin import DerivedPerMapAdmin

from .comments import comment_remove
from .models import (
    Comment,
    CommentMention,
    ExternalMap,
    MapHealth,
    MapSnapshot,
    PrioritisationWeights,
    ReminderLog,
    Review,
    ScorecardSnapshot,
    ScorecardWeights,
    ShareLink,
    ShareLinkUse,
)
from .share_links import share_link_revoke


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("map", "reviewed_by", "reviewed_at", "note")
    list_select_related = ("map", "reviewed_by")
    date_hierarchy = "reviewed_at"
    search_fields = ("map__title", "note", "reviewed_by__username")
    autocomplete_fields = ("map", "reviewed_by")


@admin.register(ScorecardWeights)
class ScorecardWeightsAdmin(SimpleHistoryAdmin):
    """The one row of quadrant weights; its history shows who changed them and when.

    Admins edit it here; CX leadership uses the scorecard weights page, which runs
    the same validation and version check.
    """

    list_display = ("__str__", *ScorecardWeights.FIELDS, "version", "updated_at")
    readonly_fields = ("version", "updated_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the scorecard always has weights

    def save_model(self, request, obj, form, change):
        if change:  # whoever has the weights page open now gets a conflict, not an overwrite
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(ScorecardSnapshot)
class ScorecardSnapshotAdmin(admin.ModelAdmin):
    """Snapshots are computed by the nightly task; the admin is for looking them up."""

    list_display = ("map", "date", "health", *ScorecardWeights.FIELDS)
    list_select_related = ("map",)
    list_filter = ("date",)
    date_hierarchy = "date"
    search_fields = ("map__title", "map__slug")
    autocomplete_fields = ("map",)
    ordering = ("-date", "map__title", "pk")


@admin.register(ReminderLog)
class ReminderLogAdmin(admin.ModelAdmin):
    list_display = ("owner", "day", "maps", "sent_at")
    list_select_related = ("owner",)
    date_hierarchy = "day"
    search_fields = ("owner__username",)


@admin.register(PrioritisationWeights)
class PrioritisationWeightsAdmin(SimpleHistoryAdmin):
    """The one row of prioritisation method and weights, with its history. CX leadership
    uses the portfolio weights page, which runs the same validation and version check."""

    list_display = ("__str__", "method", *PrioritisationWeights.FIELDS, "version", "updated_at")
    readonly_fields = ("version", "updated_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the portfolio always has a method and weights

    def save_model(self, request, obj, form, change):
        if change:  # whoever has the weights page open now gets a conflict
            obj.version += 1
        super().save_model(request, obj, form, change)


@admin.register(MapSnapshot)
class MapSnapshotAdmin(admin.ModelAdmin):
    list_display = ("label", "map", "created_by", "created_at")
    list_select_related = ("map", "created_by")
    search_fields = ("label", "map__title")
    autocomplete_fields = ("map", "created_by")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"


@admin.register(ShareLink)
class ShareLinkAdmin(SimpleHistoryAdmin):
    """Read-only links to published maps. They are made on the map's sharing page or
    through the API (the token is shown once there, never stored); here they are looked
    up and revoked, and their history says who made and revoked them."""

    list_display = (
        "map", "label", "token_prefix", "created_by", "created_at", "expires_on",
        "revoked_at", "uses", "last_used_at",
    )  # fmt: skip
    list_select_related = ("map", "created_by")
    list_filter = ("revoked_at", "expires_on")
    search_fields = ("map__title", "map__slug", "label", "token_prefix")
    date_hierarchy = "created_at"
    fields = (
        "map", "label", "expires_on", "token_prefix", "created_by", "created_at",
        "revoked_at", "revoked_by", "uses", "last_used_at",
    )  # fmt: skip
    readonly_fields = (
        "map", "token_prefix", "created_by", "created_at", "revoked_at", "revoked_by",
        "uses", "last_used_at",
    )  # fmt: skip
    actions = ("revoke",)

    def has_add_permission(self, request) -> bool:
        return False  # a token made here could not be shown to anyone: use the sharing page

    @admin.action(description="Revoke the selected links")
    def revoke(self, request, queryset) -> None:
        links = list(queryset.filter(revoked_at__isnull=True).select_related("map"))
        for link in links:
            share_link_revoke(link=link, by=request.user)
        self.message_user(request, f"{len(links)} link(s) revoked.")


@admin.register(ShareLinkUse)
class ShareLinkUseAdmin(admin.ModelAdmin):
    """The log of openings, read-only: a network (not an address) and a user agent."""

    list_display = ("link", "used_at", "network", "user_agent")
    list_select_related = ("link", "link__map")
    date_hierarchy = "used_at"
    search_fields = ("link__map__title", "link__label", "network")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ExternalMap)
class ExternalMapAdmin(SimpleHistoryAdmin):
    """The inventory of maps kept in other tools. Admins change any entry here (the
    model's constraints still hold); everyone else uses /inventory/, whose rules are in
    ``governance/inventory.py``."""

    list_display = ("title", "tool", "status", "owner", "team", "migrated_to", "last_updated")
    list_select_related = ("owner", "team", "migrated_to")
    list_filter = ("status", "tool")
    search_fields = ("title", "area", "notes", "link")
    autocomplete_fields = ("owner", "team", "migrated_to")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # files come in through the page or the API, which check their type and size
    readonly_fields = (
        "file", "file_name", "file_content_type", "file_size", "version", "created_at",
    )  # fmt: skip

    def save_model(self, request, obj, form, change):
        if change:  # whoever has the entry's edit page open now gets a conflict
            obj.version += 1
        super().save_model(request, obj, form, change)


class CommentMentionInline(admin.TabularInline):
    model = CommentMention
    fields = ("user", "created_at", "notified_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(SimpleHistoryAdmin):
    """Comments are written on the map pages and the API (so mentions resolve and notify);
    here they are read and, if need be, removed (softly: the thread stays, the history
    keeps the words)."""

    list_display = ("__str__", "target_kind", "target_id", "author", "created_at", "removed_at")
    list_select_related = ("map", "author")
    list_filter = ("target_kind", "removed_at", "resolved_at")
    search_fields = ("map__title", "map__slug", "body", "author__username")
    date_hierarchy = "created_at"
    fields = (
        "map", "target_kind", "target_id", "parent", "author", "body", "created_at",
        "edited_at", "removed_at", "removed_by", "resolved_at", "resolved_by",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (CommentMentionInline,)
    actions = ("remove",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Remove the selected comments (the threads stay)")
    def remove(self, request, queryset) -> None:
        for comment in queryset.filter(removed_at__isnull=True).select_related("map"):
            comment_remove(comment=comment, by=request.user)


@admin.register(CommentMention)
class CommentMentionAdmin(admin.ModelAdmin):
    """Who was mentioned where, and when the one e-mail went (read-only)."""

    list_display = ("user", "comment", "created_at", "notified_at")
    list_select_related = ("user", "comment__map")
    search_fields = ("user__username", "comment__map__title")
    fields = ("comment", "user", "created_at", "notified_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(MapHealth)
class MapHealthAdmin(DerivedPerMapAdmin):
    """Each map's stored quadrant scores (governance/derived_health.py), kept current by
    triggers and ``scoring.health_values``."""

    list_display = ("map", "generation", "computed_generation", "has_content")

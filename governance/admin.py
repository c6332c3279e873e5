from django.contrib import admin

from .models import Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ("map", "reviewed_by", "reviewed_at", "note")
    list_select_related = ("map", "reviewed_by")
    date_hierarchy = "reviewed_at"
    search_fields = ("map__title", "note", "reviewed_by__username")
    autocomplete_fields = ("map", "reviewed_by")

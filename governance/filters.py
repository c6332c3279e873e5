"""Filters of the project portfolio (page, CSV export and API share them)."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q

from journeyhub.api.filters import BoundedFilterSet
from maps.api.filters import VisibleChoicesFilterSet
from maps.models import CXProject, JourneyMap, JourneyMapUserObjectPermission

from . import permissions

SUBTREE_CHOICE_MAX_LEVEL = 1  # the map select lists lifecycles and journeys; ?map= takes any


class PortfolioFilter(BoundedFilterSet):
    q = filters.CharFilter(method="search", label="Search")
    map = filters.CharFilter(
        method="in_subtree",
        label="Journey (with everything below it)",
        widget=forms.Select,
    )
    team = filters.ModelChoiceFilter(
        queryset=Group.objects.filter(projects__isnull=False).distinct().order_by("name")
    )
    status = filters.ChoiceFilter(
        choices=[("open", "Open (idea, planned, ongoing)"), *CXProject.Status.choices],
        method="with_status",
        empty_label="Any status",
    )
    owner = filters.ModelChoiceFilter(
        queryset=get_user_model()
        .objects.filter(owned_projects__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username"),
        label="Owner",
    )

    class Meta:
        model = CXProject
        fields = ("q", "map", "team", "status", "owner")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.form.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.form.fields["team"].empty_label = "Any team"
        self.form.fields["owner"].empty_label = "Anyone"
        self._map_choices = None

    def map_choices(self) -> list[tuple[str, str]]:
        """Lifecycles and journeys the user may see, indented by level (one query)."""
        if self._map_choices is None:
            rows = (
                permissions.visible_maps(self.user)
                .filter(level__lte=SUBTREE_CHOICE_MAX_LEVEL)
                .order_by("tree_id", "lft")
                .values_list("slug", "title", "level")
            )
            self._map_choices = [("", "All journeys")] + [
                (slug, "\u2003" * level + title) for slug, title, level in rows
            ]
        return self._map_choices

    def prepare_form(self):
        """The form of the page, its map select filled (the API never renders it)."""
        self.form.fields["map"].widget.choices = self.map_choices()
        return self.form

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(summary__icontains=value) | Q(outcome__icontains=value)
        )

    def with_status(self, queryset, name, value):
        if value == "open":
            return queryset.exclude(status__in=(CXProject.Status.DONE, CXProject.Status.CANCELLED))
        return queryset.filter(status=value) if value else queryset

    def in_subtree(self, queryset, name, value):
        """Projects touching any visible map in the chosen map's subtree (tree_id/lft/rght)."""
        if not value:
            return queryset
        root = (
            permissions.visible_maps(self.user)
            .filter(slug=value)
            .values("tree_id", "lft", "rght")
            .first()
        )
        if root is None:
            return queryset.none()
        self.subtree = root
        through = CXProject.maps.through.objects.filter(
            cxproject_id=OuterRef("pk"),
            journeymap__tree_id=root["tree_id"],
            journeymap__lft__gte=root["lft"],
            journeymap__rght__lte=root["rght"],
        )
        return queryset.filter(Exists(through))

    subtree: dict | None = None

    def subtree_maps(self):
        """The visible maps of the chosen subtree, for pain points and the like; None
        without a subtree filter."""
        if not self.subtree:
            return None
        return JourneyMap.objects.filter(
            tree_id=self.subtree["tree_id"],
            lft__gte=self.subtree["lft"],
            rght__lte=self.subtree["rght"],
        )

    @property
    def is_active(self) -> bool:
        return self.is_bound and self.form.is_valid() and any(self.form.cleaned_data.values())


class MapGrantFilter(VisibleChoicesFilterSet):
    """``?content_object=<map id>`` of the grants API: only visible maps are valid choices."""

    class Meta:
        model = JourneyMapUserObjectPermission
        fields = ("content_object",)

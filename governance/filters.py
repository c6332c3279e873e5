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
from .forms import PortfolioFilterForm

SUBTREE_CHOICE_MAX_LEVEL = 1  # the map picker offers lifecycles and journeys; ?map= takes any
PICKER_LIMIT = 20  # maps the picker lists at once, unless asked for fewer or more
PICKER_LIMIT_MAX = 50
PICKER_QUERY_MAX = 200  # characters of what was typed (a map's title is at most 200)


class PortfolioFilter(BoundedFilterSet):
    q = filters.CharFilter(method="search", label="Search")
    map = filters.CharFilter(
        method="in_subtree",
        label="Journey (with everything below it)",
        widget=forms.HiddenInput,
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
        form = PortfolioFilterForm

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.form.fields["owner"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.form.fields["team"].empty_label = "Any team"
        self.form.fields["owner"].empty_label = "Anyone"
        # the page's picker sends the typed text as ``map_name``: resolved by the form
        self.form.user = user

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
            .values("tree_id", "lft", "rght", "title")
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


def picker_maps(user, text: str, *, limit: int = PICKER_LIMIT) -> tuple[list[dict], bool]:
    """The lifecycles and journeys the user may see whose title holds ``text`` (any case;
    all of them for an empty text), in the tree's order, at most ``limit``; and whether
    more match. One query (two for a user with grants, read first)."""
    rows = list(
        permissions.visible_maps_resolved(user)
        .filter(level__lte=SUBTREE_CHOICE_MAX_LEVEL, title__icontains=text)
        .order_by("tree_id", "lft")
        .values("pk", "slug", "title", "level", "parent__title")[: limit + 1]
    )
    return [
        {
            "id": row["pk"],
            "slug": row["slug"],
            "title": row["title"],
            "level": row["level"],
            "parent": row["parent__title"],
        }
        for row in rows[:limit]
    ], len(rows) > limit


# Maps named in the message when a typed name matches several.
AMBIGUOUS_NAMED = 5


def resolve_map_name(user, text: str, current: str = "") -> str:
    """The slug of the map the picker's typed ``text`` names, for the form without
    JavaScript: the map of ``current`` (the ``?map=`` slug sent with it) when ``text`` is
    still its title; else the one visible lifecycle or journey titled ``text`` (any
    case), any visible map whose slug is ``text``, or the one whose title holds it.
    Raises ``ValidationError`` naming what matched when nothing or several do."""
    from django.core.exceptions import ValidationError

    text = text.strip()
    visible = permissions.visible_maps(user)
    if current:
        title = visible.filter(slug=current).values_list("title", flat=True).first()
        if title is not None and title.casefold() == text.casefold():
            return current
    offered = visible.filter(level__lte=SUBTREE_CHOICE_MAX_LEVEL).order_by("tree_id", "lft")
    named = list(offered.filter(title__iexact=text).values_list("slug", "title")[:AMBIGUOUS_NAMED])
    if len(named) == 1:
        return named[0][0]
    if not named:
        slug = visible.filter(slug=text).values_list("slug", flat=True).first()
        if slug is not None:
            return slug
        named = list(
            offered.filter(title__icontains=text).values_list("slug", "title")[
                : AMBIGUOUS_NAMED + 1
            ]
        )
        if len(named) == 1:
            return named[0][0]
    if not named:
        raise ValidationError(
            "No journey you can see is named “%(text)s”.", code="no_match", params={"text": text}
        )
    shown = ", ".join(f"{title} ({slug})" for slug, title in named[:AMBIGUOUS_NAMED])
    more = " and more" if len(named) > AMBIGUOUS_NAMED else ""
    raise ValidationError(
        "“%(text)s” matches several journeys: %(shown)s%(more)s. Type the whole title or "
        "the address name (in brackets) of one.",
        code="ambiguous",
        params={"text": text, "shown": shown, "more": more},
    )


class MapGrantFilter(VisibleChoicesFilterSet):
    """``?content_object=<map id>`` of the grants API: only visible maps are valid choices."""

    class Meta:
        model = JourneyMapUserObjectPermission
        fields = ("content_object",)

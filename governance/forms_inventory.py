"""Forms and filters of the inventory of maps kept elsewhere (``governance/inventory.py``
holds the rules; these only shape input)."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.validators import URLValidator
from django.db.models import Q

from journeyhub.api.filters import BoundedFilterSet
from maps.models import JourneyMap
from maps.research import ALLOWED_EXTENSIONS_TEXT, attachment_max_bytes

from . import inventory, permissions
from .models import ExternalMap


class HttpURLField(forms.URLField):
    """A link people can open from the page: http or https only."""

    default_validators = [URLValidator(schemes=["http", "https"])]
    default_error_messages = {"invalid": "Enter an http or https URL."}


def _person(user) -> str:
    return user.get_full_name() or user.username


class InventoryFilter(BoundedFilterSet):
    """``?q=&tool=&status=&owner=&team=`` of the page, its CSV export and the API. Every
    filtered column is indexed (tool, status; owner and team are foreign keys)."""

    q = filters.CharFilter(method="search", label="Search", max_length=200)
    tool = filters.ChoiceFilter(choices=ExternalMap.Tool.choices, empty_label="Any tool")
    status = filters.ChoiceFilter(choices=ExternalMap.Status.choices, empty_label="Any status")
    owner = filters.ModelChoiceFilter(queryset=inventory.inventory_owners(), label="Owner")
    team = filters.ModelChoiceFilter(
        queryset=Group.objects.filter(inventory_entries__isnull=False).distinct().order_by("name")
    )

    class Meta:
        model = ExternalMap
        fields = ("q", "tool", "status", "owner", "team")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["owner"].label_from_instance = _person
        self.form.fields["owner"].empty_label = "Anyone"
        self.form.fields["team"].empty_label = "Any team"

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(area__icontains=value) | Q(notes__icontains=value)
        )

    @property
    def is_active(self) -> bool:
        return self.is_bound and self.form.is_valid() and any(self.form.cleaned_data.values())


class EntryForm(forms.ModelForm):
    """Add or edit an entry's description and file. The owner select is shown only to
    those who may give entries to others; the team select lists the teams the user may
    choose (plus the entry's current team, so saving never changes it by accident)."""

    upload = forms.FileField(
        label="File",
        required=False,
        help_text=(
            f"Instead of (or beside) a link: up to {attachment_max_bytes() // 2**20} MB, "
            f"one of {ALLOWED_EXTENSIONS_TEXT}."
        ),
    )
    link = HttpURLField(
        assume_scheme="https",
        max_length=2000,
        required=False,
        help_text="Where the map lives (http or https).",
        widget=forms.URLInput(attrs={"placeholder": "https://miro.com/app/board/…"}),
    )
    remove_file = forms.BooleanField(label="Remove the stored file", required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = ExternalMap
        fields = ("title", "tool", "link", "owner", "team", "area", "notes", "last_updated")
        widgets = {
            "last_updated": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        entry = self.instance
        if inventory.may_assign_owner(user):
            self.fields["owner"].queryset = (
                get_user_model()
                .objects.filter(is_active=True)
                .order_by("first_name", "last_name", "username")
            )
            self.fields["owner"].label_from_instance = _person
            self.fields["owner"].required = False
            self.fields["owner"].help_text = "Empty: you."
        else:
            del self.fields["owner"]
        teams = inventory.assignable_teams(user)
        if entry.team_id:
            teams = teams | Group.objects.filter(pk=entry.team_id)
        self.fields["team"].queryset = teams.distinct().order_by("name")
        self.fields["team"].empty_label = "No team"
        if not entry.file:
            del self.fields["remove_file"]

    def clean(self):
        data = super().clean()
        if self.instance.pk and not data.get("version"):  # an edit names what it started from
            self.add_error(
                None, "This form lacks the entry's version: reload the page and edit again."
            )
        return data

    def values(self) -> dict:
        """The cleaned description fields, for ``entry_create`` / ``entry_update``."""
        return {
            name: self.cleaned_data.get(name) for name in self._meta.fields if name in self.fields
        }


class StatusForm(forms.Form):
    """Mark an entry migrated (pick the map: only maps the user may see), retired (say
    why), or back to migrate."""

    status = forms.ChoiceField(choices=ExternalMap.Status.choices, widget=forms.RadioSelect)
    migrated_to = forms.ModelChoiceField(
        queryset=JourneyMap.objects.none(),
        to_field_name="slug",
        required=False,
        label="JourneyHub map",
        help_text="The map in JourneyHub that replaces this one (required when migrated).",
    )
    retired_reason = forms.CharField(
        label="Why is it retired?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when retired, e.g. “covered by the onboarding journey”.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["migrated_to"]
        field.queryset = permissions.visible_maps(user).order_by("tree_id", "lft")
        field.label_from_instance = lambda m: "\u2003" * m.level + m.title
        field.empty_label = "Choose a map"

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if (
            status == ExternalMap.Status.MIGRATED
            and not data.get("migrated_to")
            and "migrated_to" not in self.errors
        ):
            self.add_error("migrated_to", "Choose the JourneyHub map this one became.")
        if status == ExternalMap.Status.RETIRED and not (data.get("retired_reason") or "").strip():
            self.add_error("retired_reason", "Say why the map is retired.")
        return data

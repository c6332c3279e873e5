"""The search form: the query and its filters, validated the same way for the search page
and ``/api/search/`` (a bad value is a message naming the field, never a 500)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from maps.models import Evidence, JourneyMap

from . import permissions
from .search import KINDS, MAX_QUERY_LENGTH, kind_labels, query_words, search

#: the map select lists lifecycles and journeys; ``?map=`` takes the slug of any map
MAP_CHOICE_MAX_LEVEL = 1


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=MAX_QUERY_LENGTH,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "A word in a pain point, quote, project…"}
        ),
    )
    kind = forms.MultipleChoiceField(
        label="Kind", required=False, widget=forms.CheckboxSelectMultiple
    )
    map = forms.CharField(label="Within", required=False, max_length=200, widget=forms.Select)
    owner = forms.TypedChoiceField(label="Owner", required=False, coerce=int, empty_value=None)
    evidence = forms.MultipleChoiceField(
        label="Evidence",
        required=False,
        choices=Evidence.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, data=None, *, user, vocab=None, **kwargs: Any):
        super().__init__(data, **kwargs)
        self.user = user
        self.vocab = vocab
        self.fields["kind"].choices = list(kind_labels(vocab).items())
        self.fields["owner"].choices = [("", "Anyone"), *self._owner_choices()]
        self.fields["map"].widget.choices = self._map_choices()

    def _owner_choices(self) -> list[tuple[int, str]]:
        """Owners of the maps the user may see (one query)."""
        owns_visible = Exists(permissions.visible_maps(self.user).filter(owner=OuterRef("pk")))
        users = (
            get_user_model()
            .objects.filter(owns_visible)
            .order_by("first_name", "last_name", "username")
            .only("first_name", "last_name", "username")
        )
        return [(u.pk, u.get_full_name() or u.username) for u in users]

    def _map_choices(self) -> list[tuple[str, str]]:
        """Lifecycles and journeys the user may see, indented by level (one query)."""
        rows = (
            permissions.visible_maps(self.user)
            .filter(level__lte=MAP_CHOICE_MAX_LEVEL)
            .order_by("tree_id", "lft")
            .values_list("slug", "title", "level")
        )
        indented = [(slug, "\u2003" * level + title) for slug, title, level in rows]
        return [("", "All maps"), *indented]

    def clean_q(self) -> str:
        text = self.cleaned_data["q"]
        if text and not query_words(text):
            raise forms.ValidationError(
                "Search for a word: letters or digits (punctuation alone matches nothing)."
            )
        return text

    def clean_map(self) -> JourneyMap | None:
        slug = self.cleaned_data["map"]
        if not slug:
            return None
        found = (
            permissions.visible_maps(self.user)
            .filter(slug=slug)
            .only("title", "slug", "tree_id", "lft", "rght", "level")
            .first()
        )
        if found is None:
            raise forms.ValidationError(f"No map you may see has the address “{slug}”.")
        if found.level > MAP_CHOICE_MAX_LEVEL:  # keep a deeper map selectable in the select
            self.fields["map"].widget.choices = [
                *self.fields["map"].widget.choices,
                (found.slug, found.title),
            ]
        return found

    @property
    def has_query(self) -> bool:
        return self.is_valid() and bool(self.cleaned_data["q"])

    def results(self):
        """The search of a valid form with a query."""
        data = self.cleaned_data
        return search(
            user=self.user,
            text=data["q"],
            kinds=data["kind"],
            under=data["map"],
            owner_id=data["owner"],
            evidence=data["evidence"],
            vocab=self.vocab,
        )


__all__ = ["KINDS", "SearchForm"]

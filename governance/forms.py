from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from maps.forms import LinesField
from maps.models import CXProject, JourneyMap, PainPoint, Step

from . import permissions
from .models import PrioritisationWeights, ScorecardWeights
from .services import ROLE_CODENAMES

User = get_user_model()


class TransferForm(forms.Form):
    new_owner = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", "username"
        ),
        label="New owner",
    )
    note = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}), label="Note"
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, current_owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["new_owner"]
        if current_owner is not None:
            field.queryset = field.queryset.exclude(pk=current_owner.pk)
        field.label_from_instance = lambda u: f"{u.get_full_name() or u.username} ({u.username})"


class ShareForm(forms.Form):
    username = forms.CharField(max_length=150, label="Colleague's username")
    role = forms.ChoiceField(
        choices=[
            ("editor", "Editor — may change the content"),
            ("viewer", "Viewer — may read drafts"),
        ]
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"No active user is called “{username}”.")
        return user

    def clean_role(self):
        role = self.cleaned_data["role"]
        if role not in ROLE_CODENAMES:
            raise forms.ValidationError("Choose editor or viewer.")
        return role


RATING_CHOICES = [
    (5, "5 — excellent"),
    (4, "4 — good"),
    (3, "3 — fair"),
    (2, "2 — poor"),
    (1, "1 — very poor"),
]


class FactorRatingForm(forms.Form):
    """Rate one qualitative factor of a map; carries the map version it started from."""

    factor = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    rating = forms.TypedChoiceField(choices=RATING_CHOICES, coerce=int, label="Rating")
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note",
        help_text="Why this rating: what you saw, heard or measured.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _weight(label: str) -> forms.FloatField:
    return forms.FloatField(
        min_value=0,
        label=label,
        error_messages={"min_value": "Weights cannot be negative."},
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )


class ScorecardWeightsForm(forms.Form):
    """The four quadrant weights; at least one above 0."""

    quantitative_business = _weight("Quantitative · business")
    quantitative_customer = _weight("Quantitative · customer")
    qualitative_business = _weight("Qualitative · business")
    qualitative_customer = _weight("Qualitative · customer")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def clean(self):
        cleaned = super().clean()
        values = [cleaned.get(name) for name in ScorecardWeights.FIELDS]
        if all(v is not None for v in values) and not any(v > 0 for v in values):
            raise forms.ValidationError(
                "At least one quadrant must have a weight above 0, or no journey could "
                "have a health score."
            )
        return cleaned


class PrioritisationWeightsForm(forms.Form):
    """The ranking method and the weight of each factor (formulas in
    ``governance/prioritisation.py``)."""

    method = forms.ChoiceField(
        choices=PrioritisationWeights.Method.choices,
        label="Rank by",
        widget=forms.RadioSelect,
    )
    health_gap = _weight("Journey health gap (RICE)")
    pain = _weight("Pain addressed (RICE)")
    business_value = _weight("Business value (WSJF, value vs effort)")
    time_criticality = _weight("Time criticality (WSJF)")
    risk_reduction = _weight("Risk reduction / opportunity enablement (WSJF)")
    customer_value = _weight("Customer value (value vs effort)")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PortfolioFilterForm(forms.Form):
    """The portfolio's filters (``governance.filters.PortfolioFilter`` adds its fields)
    and the map picker's text, ``map_name``.

    The picker sends the chosen map's slug as ``map`` (what the API, the export and saved
    links send alone) and its text as ``map_name``; without JavaScript only the text
    names a map, and it is resolved here: an emptied box is every journey, and text that
    names no or several maps is refused on ``map_name`` with what matched."""

    map_name = forms.CharField(required=False, max_length=200, label="Journey (and below)")
    user = None  # the reader, set by the filter set: the maps the text may name

    def clean(self):
        cleaned = super().clean()
        # no filter of its own: it only chooses ``map``
        text = cleaned.pop("map_name", "")
        if "map_name" not in self.data or "map_name" in self._errors:
            return cleaned
        if not text:
            cleaned["map"] = ""
            return cleaned
        from .filters import resolve_map_name  # the filters import this form

        try:
            cleaned["map"] = resolve_map_name(self.user, text, cleaned.get("map") or "")
        except forms.ValidationError as exc:
            self.add_error("map_name", exc)
        return cleaned


class MapPickerQueryForm(forms.Form):
    """``?q=&limit=`` of the portfolio's map picker endpoint."""

    q = forms.CharField(required=False, max_length=200)
    limit = forms.IntegerField(required=False, min_value=1, max_value=50)


class ProjectForm(forms.ModelForm):
    """A CX project and what it addresses. Maps come first: the steps and pain points
    offered are those of the chosen maps (the user may see them all), so the selects
    stay small however large the repository."""

    maps = forms.ModelMultipleChoiceField(
        queryset=JourneyMap.objects.none(),
        required=False,
        label="Journey maps",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Choose the maps, then “Show their steps and pain points” to pick those.",
    )
    steps = forms.ModelMultipleChoiceField(
        queryset=Step.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    pain_points = forms.ModelMultipleChoiceField(
        queryset=PainPoint.objects.none(),
        required=False,
        label="Pain points",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    external_links = LinesField(
        required=False,
        label="Links to delivery",
        help_text="One per line: the Jira, Linear or GitHub issue, the plan, the results.",
    )

    class Meta:
        model = CXProject
        fields = (
            "title",
            "summary",
            "status",
            "owner",
            "team",
            "start_date",
            "end_date",
            "reach",
            "impact",
            "confidence",
            "effort",
            "cost",
            "outcome",
            "priority",
            "project_type",
            "external_links",
        )
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {"outcome": "Outcome and learnings"}

    def __init__(
        self, *args, user, visible_maps, may_reassign: bool, may_change_team: bool, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["maps"].queryset = visible_maps.order_by("tree_id", "lft")
        self.fields["maps"].label_from_instance = lambda m: "\u2003" * m.level + m.title
        chosen = self._chosen_map_ids()
        self.fields["steps"].queryset = (
            Step.objects.filter(map__in=visible_maps.filter(pk__in=chosen))
            .select_related("map")
            .order_by("map__tree_id", "map__lft", "position", "pk")
        )
        self.fields["steps"].label_from_instance = lambda s: f"{s.map.title} › {s.name}"
        self.fields["pain_points"].queryset = (
            PainPoint.objects.filter(map__in=visible_maps.filter(pk__in=chosen))
            .select_related("map")
            .order_by("map__tree_id", "map__lft", "-severity", "title", "pk")
        )
        self.fields["pain_points"].label_from_instance = lambda p: (
            f"{p.map.title} › {p.title} (severity {p.severity}, frequency {p.frequency})"
        )
        owner = self.fields["owner"]
        owner.queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "last_name", "username"
        )
        owner.label_from_instance = lambda u: u.get_full_name() or u.username
        owner.required = False  # left empty: the current owner (or, new, the author)
        if not may_reassign:  # only CX leadership hands a project to someone else
            owner.disabled = True
            owner.help_text = "CX leadership may hand the project to someone else."
        team = self.fields["team"]
        if not permissions.is_leadership(user):
            team_ids = set(permissions._group_ids(user))
            if self.instance.team_id:
                team_ids.add(self.instance.team_id)
            team.queryset = Group.objects.filter(pk__in=team_ids).order_by("name")
        else:
            team.queryset = Group.objects.order_by("name")
        if not may_change_team:  # the field policy: the owner chooses the project's team
            team.disabled = True
            team.help_text = "The project's owner or CX leadership may change its team."
        self.fields["outcome"].help_text = "What happened and what we learned, once done."

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None and self.instance.owner_id:
            return self.instance.owner
        return owner

    def _chosen_map_ids(self) -> list[int]:
        if self.is_bound:
            raw = (
                self.data.getlist(self.add_prefix("maps")) if hasattr(self.data, "getlist") else []
            )
            return [pk for pk in map(row_id, raw) if pk is not None]
        initial = self.initial.get("maps")
        if initial is not None:
            return [getattr(m, "pk", m) for m in initial]
        if self.instance.pk:
            return list(self.instance.maps.values_list("pk", flat=True))
        return []


def row_id(value: str) -> int | None:
    """A row id from a query string: ASCII digits within a 64-bit integer, else None
    ("²".isdigit() is true, and SQLite refuses integers past 2**63)."""
    if value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


PAIN_POINT_REFUSED = (
    "The pain point in the link (pain_point={value}) is not one you can see, so the "
    "form starts without it."
)


def project_initial(params, *, visible_maps) -> tuple[dict, str]:
    """A new project's starting values from the link that opened the form, and a message
    when part of the link was refused (never an error page: the form still opens).

    ``?map=<id>`` ("+ CX project" on a map page) starts it on that map; ``?pain_point=<id>``
    ("Start a project" on home) names it after the pain point and links the pain point
    and its map, so that it counts as addressed once saved. Only what ``visible_maps``
    holds is taken: an id of anything else is ignored like an unknown one."""
    initial: dict = {}
    refused = ""
    map_id = row_id(params.get("map", ""))
    if map_id is not None and visible_maps.filter(pk=map_id).exists():
        initial["maps"] = [map_id]
    raw = params.get("pain_point", "")
    if raw:
        pain_point = None
        pain_point_id = row_id(raw)
        if pain_point_id is not None:
            pain_point = (
                PainPoint.objects.filter(pk=pain_point_id, map__in=visible_maps.values("pk"))
                .only("pk", "title", "map_id")
                .first()
            )
        if pain_point is None:
            refused = PAIN_POINT_REFUSED.format(value=raw[:40])
        else:
            initial["title"] = pain_point.title[: CXProject._meta.get_field("title").max_length]
            initial["maps"] = list(dict.fromkeys([*initial.get("maps", []), pain_point.map_id]))
            initial["pain_points"] = [pain_point.pk]
    return initial, refused

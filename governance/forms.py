from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from .models import ScorecardWeights
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

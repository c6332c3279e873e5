from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

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

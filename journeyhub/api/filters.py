"""The filter set every API filter set builds on: numbers in query strings are bounded,
so ``?map=35688714910420787200`` answers 400 naming the filter instead of a 500
(``OverflowError`` on SQLite: Python ints beyond 64 bits do not fit its INTEGER)."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field

#: the range of a 64-bit signed integer: every integer column and key fits in it
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def is_out_of_range(text: str) -> bool:
    """``text`` is an integer beyond 64 bits (checked without converting 5,000 digits)."""
    digits = text.lstrip("+-")
    if not digits.isdigit():
        return False
    return len(digits.lstrip("0")) > 19 or not INT_MIN <= int(text) <= INT_MAX


class BoundedFilterSet(filters.FilterSet):
    """Number filters (declared or generated) accept only 64-bit integers' range; model
    choice filters only integers of that range (a huge id is "not one of the choices")."""

    def __init__(self, *args, all_choices: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        #: fill the choices of filters not in use too (a form to show, not a filtering)
        self.all_choices = all_choices
        model = self._meta.model
        for f in self.filters.values():
            if issubclass(f.field_class, (forms.DecimalField, forms.FloatField)):
                f.extra.setdefault("min_value", INT_MIN)
                f.extra.setdefault("max_value", INT_MAX)
                f.extra.setdefault("max_digits", 30)
                target = get_model_field(model, f.field_name) if model else None
                if isinstance(target, models.IntegerField) or getattr(target, "is_relation", False):
                    f.extra.setdefault("decimal_places", 0)  # ?map=0.5 is no id
            elif f.field_class is forms.NullBooleanField:
                f.field_class = StrictBooleanField

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            if isinstance(field, forms.ModelChoiceField) and not getattr(field, "_bounded", 0):
                field.clean = _bounded_choice(field.clean, field)
                field._bounded = True
        return form


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``, ``True``/``False``); anything else is refused
    instead of silently meaning "no filter"."""

    widget = forms.TextInput
    TRUE, FALSE = {"true", "True", "1"}, {"false", "False", "0"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value in self.TRUE or value is True:
            return True
        if value in self.FALSE or value is False:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")

    def validate(self, value):
        pass


def _bounded_choice(clean, field: forms.ModelChoiceField):
    def bounded(value):
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            text = str(item).strip() if item is not None else ""
            if is_out_of_range(text):
                raise forms.ValidationError(
                    field.error_messages["invalid_choice"], code="invalid_choice"
                )
        return clean(value)

    return bounded


class FilterBackend(DjangoFilterBackend):
    """DRF's django-filter backend; filter sets it builds from ``filterset_fields`` are
    bounded too."""

    filterset_base = BoundedFilterSet

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        if getattr(self, "_all_choices", False):
            kwargs["all_choices"] = True
        return kwargs

    def to_html(self, request, queryset, view):
        """The browsable API's filter form lists every filter's choices (as far as the
        user may see them), not only those of the filters in use."""
        self._all_choices = True
        return super().to_html(request, queryset, view)

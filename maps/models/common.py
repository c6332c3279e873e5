"""Choices and abstract bases shared by the map content models."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def between(label: str, low: int, high: int, unit: str = "") -> list:
    """Field validators whose message names the field; the database constraint says the same."""
    message = f"{label} must be between {low} and {high}{unit}.".replace("%", "%%")
    return [MinValueValidator(low, message), MaxValueValidator(high, message)]


def one_to_five(label: str) -> list:
    return between(label, 1, 5)


class Evidence(models.TextChoices):
    """How well a step or lane item is backed, so guesses are never mistaken for facts."""

    ASSUMPTION = "assumption", "Assumption"
    ANECDOTAL = "anecdotal", "Anecdotal"
    RESEARCHED = "researched", "Researched"
    MEASURED = "measured", "Measured"


class Perspective(models.TextChoices):
    BUSINESS = "business", "Business"
    CUSTOMER = "customer", "Customer"


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

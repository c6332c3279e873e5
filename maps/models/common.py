"""Choices and abstract bases shared by the map content models."""

from __future__ import annotations

from django.db import models


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

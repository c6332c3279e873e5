"""What map content is, and how each kind reaches its map."""

from __future__ import annotations

from django.db import models

from .models import JourneyMap, Measurement, StepLink


def map_of(obj: models.Model) -> JourneyMap:
    """The map a piece of content belongs to."""
    if isinstance(obj, JourneyMap):
        return obj
    if isinstance(obj, Measurement):
        return obj.kpi.map
    if isinstance(obj, StepLink):
        return obj.from_step.map
    return obj.map

"""Reading the vocabulary: one query per request, defaults for anything not overridden."""

from __future__ import annotations

from django.db.models import QuerySet

from .models.vocabulary import DEFAULT_TERMS, VocabularyTerm
from .sql import prepared


@prepared(args=0)
def _overrides() -> QuerySet:
    # compiled once per process (maps.sql.Prepared): every page reads it
    return VocabularyTerm.objects.values_list("key", "label")


def vocabulary_labels() -> dict[str, str]:
    labels = dict(DEFAULT_TERMS)
    labels.update(_overrides.rows())
    return labels


def level_name(labels: dict[str, str], level: int) -> str:
    """Display name of a zoom level; ``level`` is the tree depth (0 = the top)."""
    return labels.get(f"level_{level + 1}", f"Level {level + 1}")

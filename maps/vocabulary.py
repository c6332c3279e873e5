"""Reading the vocabulary: one query per request, defaults for anything not overridden."""

from __future__ import annotations

from .models.vocabulary import DEFAULT_TERMS, VocabularyTerm


def vocabulary_labels() -> dict[str, str]:
    labels = dict(DEFAULT_TERMS)
    labels.update(VocabularyTerm.objects.values_list("key", "label"))
    return labels


def level_name(labels: dict[str, str], level: int) -> str:
    """Display name of a zoom level; ``level`` is the tree depth (0 = the top)."""
    return labels.get(f"level_{level + 1}", f"Level {level + 1}")

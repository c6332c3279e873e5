"""Single-row, versioned settings (scorecard and prioritisation weights): read them,
and change them so that of two leaders saving from the same version the second is
refused and nothing is written."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction

W = TypeVar("W", bound=models.Model)


def singleton_get(model: type[W]) -> W:
    """The saved row (one query), or an unsaved one with the defaults."""
    return model.objects.filter(pk=model.SINGLETON_PK).first() or model()


@transaction.atomic
def singleton_update(
    model: type[W], *, by, expected_version: int, values: dict[str, Any], noun: str
) -> W:
    row = model.objects.select_for_update().filter(pk=model.SINGLETON_PK).first() or model(
        version=1
    )
    if row.version != expected_version:
        raise ValidationError(
            {
                "version": (
                    f"Someone changed the {noun} since you opened them (you started from "
                    f"version {expected_version}, they are now at version {row.version}). "
                    f"Nothing was saved: review the current {noun} and try again."
                )
            }
        )
    for name, value in values.items():
        setattr(row, name, value)
    row.full_clean(validate_unique=False)
    row.version += 1
    if by is not None:
        row._history_user = by
    row.save()
    return row

"""The content registry is complete: every field of every kind of map content reaches the
API and the editor form (or the kind says why its form leaves it out), and the editor,
history and snapshots read their kinds from it."""

from __future__ import annotations

import pytest

from governance import history, map_snapshots
from maps import editor
from maps.content import CONTENT_KINDS

SERVER_MANAGED = {"created_at"}  # set by the database, shown nowhere as input


def field_names(kind) -> set[str]:
    return {name.removesuffix("_id") for name in kind.fields} - SERVER_MANAGED


@pytest.mark.parametrize("kind", CONTENT_KINDS, ids=lambda k: k.key)
def test_every_field_of_a_kind_is_in_its_api_serializer(kind):
    serializer_fields = set(kind.serializer_class.Meta.fields)
    assert field_names(kind) <= serializer_fields, field_names(kind) - serializer_fields
    assert kind.serializer_class.Meta.model is kind.model


@pytest.mark.parametrize("kind", [k for k in CONTENT_KINDS if k.form], ids=lambda k: k.key)
def test_every_field_of_a_kind_is_in_its_editor_form_or_left_out_with_a_reason(kind):
    form_fields = set(kind.form_class._meta.fields)
    missing = field_names(kind) - form_fields - set(kind.not_in_form)
    assert not missing, f"add {missing} to {kind.form} or to the kind's not_in_form"
    assert kind.form_class._meta.model is kind.model
    assert not set(kind.not_in_form) & form_fields  # a stale reason would mislead


def test_the_editor_history_and_snapshots_read_their_kinds_from_the_registry():
    assert set(editor.MODELS.values()) == {k.model for k in CONTENT_KINDS if k.editor}
    assert {model for model, _ in history.KINDS} >= {k.model for k in CONTENT_KINDS}
    assert [key for key, _, _ in map_snapshots.CONTENT] == [k.key for k in CONTENT_KINDS]

"""The scorecard page's unbound rating forms, one per factor, filled into HTML rendered
once per process (#16).

Building a ``FactorRatingForm`` and rendering its four widgets through Django's Jinja2
widget templates cost an editor's page ~0.4 ms per factor. The widgets' HTML differs
between factors only in the factor's id (element ids, the hidden ``factor`` value), the
map version, the note and which rating is selected: ``unbound_rating_form`` renders a real
form once per rating value with stand-ins for the other three and fills them in (the note
escaped as the widget template escapes it). What it returns offers what the page's
template reads of a form (``factor``, ``version``, ``rating``, ``note``, ``errors``,
``non_field_errors()``). A form with errors (a failed POST) is still a real form.
tests/test_scorecard_rating_forms.py holds the two equal.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from .forms import FactorRatingForm

# stand-ins no factor id, version or note has
_FACTOR = "987654321001"
_VERSION = "987654321002"
_NOTE = "jh-note-7362100"
_SLOTS = re.compile(f"({_FACTOR}|{_VERSION}|{_NOTE})")


def _split(html: str) -> tuple[str, ...]:
    """``html`` cut at the stand-ins: text, stand-in, text, … (odd items are slots)."""
    return tuple(_SLOTS.split(html))


def _fill(parts: tuple[str, ...], values: dict[str, str]) -> Markup:
    return Markup("".join(values[part] if i % 2 else part for i, part in enumerate(parts)))


@dataclass(frozen=True)
class _FieldPattern:
    """A bound field's HTML and label id cut at the stand-ins, its label and help."""

    html: tuple[str, ...]
    id_for_label: tuple[str, ...]
    label: str
    help_text: str

    @classmethod
    def of(cls, bound: Any) -> _FieldPattern:
        return cls(_split(str(bound)), _split(bound.id_for_label), bound.label, bound.help_text)

    def fill(self, values: dict[str, str]) -> FilledField:
        return FilledField(
            html=_fill(self.html, values),
            id_for_label=str(_fill(self.id_for_label, values)),
            label=self.label,
            help_text=self.help_text,
        )


@dataclass(frozen=True)
class _Pattern:
    factor: tuple[str, ...]
    version: tuple[str, ...]
    rating: _FieldPattern
    note: _FieldPattern


@functools.lru_cache(maxsize=16)
def _pattern(rating: Any, renderer: Any) -> _Pattern:
    """A real unbound form with this rating selected and stand-ins for the rest."""
    form = FactorRatingForm(
        auto_id=f"id_factor{_FACTOR}_%s",
        renderer=renderer,
        initial={
            "factor": int(_FACTOR),
            "rating": rating,
            "note": _NOTE,
            "version": int(_VERSION),
        },
    )
    return _Pattern(
        factor=_split(str(form["factor"])),
        version=_split(str(form["version"])),
        rating=_FieldPattern.of(form["rating"]),
        note=_FieldPattern.of(form["note"]),
    )


@dataclass(frozen=True)
class FilledField:
    """What the page's ``field`` macro reads of a bound field."""

    html: Markup
    id_for_label: str
    label: str
    help_text: str
    errors: tuple = ()

    def __html__(self) -> str:
        return self.html


@dataclass(frozen=True)
class FilledRatingForm:
    """An unbound ``FactorRatingForm`` as the page's template reads it."""

    factor: Markup
    version: Markup
    rating: FilledField
    note: FilledField
    errors: tuple = ()

    def non_field_errors(self) -> tuple:
        return ()


def unbound_rating_form(
    *, factor_id: int, rating: Any, note: str | None, version: int, renderer: Any
) -> FilledRatingForm:
    """``FactorRatingForm(auto_id=f"id_factor{factor_id}_%s", renderer=renderer,
    initial={...})`` as the page renders it."""
    try:
        pattern = _pattern(rating, renderer)
    except TypeError:  # an unhashable rating: no pattern to keep
        pattern = _pattern.__wrapped__(rating, renderer)
    values = {
        _FACTOR: str(factor_id),
        _VERSION: str(version),
        # the Textarea's template: {% if widget.value %}{{ widget.value }}{% endif %},
        # its value str(note), none for "" or None
        _NOTE: "" if note is None or note == "" else str(escape(str(note))),
    }
    return FilledRatingForm(
        factor=_fill(pattern.factor, values),
        version=_fill(pattern.version, values),
        rating=pattern.rating.fill(values),
        note=pattern.note.fill(values),
    )

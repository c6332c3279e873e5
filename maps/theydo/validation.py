"""Is this a TheyDo file we can import? Detects the format from ``data["format"]``, checks
it against our schema of that format (``maps.theydo.schemas``) with ``jsonschema``, then
runs the checks a schema cannot express, and lists EVERY problem as a sentence prefixed
by its JSON path, e.g.::

    metrics[1].dataPoints[0].dateOfMeasurement: “2025-13-01” is not a date (YYYY-MM-DD)

The cross-field checks are those of TheyDo's own validator (``s3tcli/validate.py``) for
the responses formats — field ids unique, a TAG_GROUP field names its tag group (trimmed),
one PERSONA field at most, responses answer declared fields, each once — and ours:
a ``required: true`` field has a non-empty value in every response (the contract's own
description of ``required``), response ids are unique in a file, an importKey is
non-blank and unique in a file (keys match the map's items on re-import), and a title is
not blank.

Fast on large files: ``fastjsonschema`` (compiled from the same schemas) finds the
entries that fail and ``jsonschema`` explains only those (``_Checker``): a valid 20 MB
metrics file of 137,000 data points is checked in about 3 s instead of about 110 s.

The caller reads the file with ``journeyhub.api.safe_json``; ``validate`` applies the
same limits (depth, finite numbers) to data that comes from elsewhere, so ``jsonschema``
never meets what would break it.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from journeyhub.api import safe_json

from ..imports import Problems
from .schemas import (
    DATE_RE,
    EMAIL_RE,
    FORMATS,
    RESPONSES_METADATA,
    SCHEMAS,
    UTC_TIME_RE,
)

Path = tuple[str | int, ...]
Found = tuple[Path, str]

#: schema problems looked at before giving up on a file (each costs some memory): a file
#: with more lists the first ``Problems.limit`` and says where checking stopped
MAX_SCHEMA_ERRORS = 1_000

_DATE = re.compile(f"^{DATE_RE}$")
_DATE_TIME = re.compile(f"^{DATE_RE}T{UTC_TIME_RE}$")
_EMAIL = re.compile(EMAIL_RE)


def is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE.match(value))


def is_utc_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_email(value: object) -> bool:
    return not isinstance(value, str) or bool(_EMAIL.match(value))


FORMAT_FUNCTIONS = {"date": is_date, "date-time": is_utc_date_time, "email": is_email}
FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in FORMAT_FUNCTIONS.items():
    FORMAT_CHECKER.checks(_name)(_check)


class _Checker:
    """The schema of one format in the pieces validation uses. ``jsonschema`` is exact
    and explains, but spends ~100 µs on a data point (a 20 MB file: minutes), so
    ``fastjsonschema``, compiled from the same schema, first finds the entries of the
    file's list that fail; only those, and the file without its list, are explained by
    ``jsonschema``. A valid file never meets ``jsonschema`` past its skeleton."""

    def __init__(self, fmt: str):
        root = SCHEMAS[fmt]
        self.root = root
        self.list_key = FORMATS[fmt][1]
        items = root["properties"][self.list_key]["items"]
        skeleton = copy.deepcopy(root)
        skeleton["properties"][self.list_key] = {"type": "array"}
        self.skeleton = Draft202012Validator(skeleton, format_checker=FORMAT_CHECKER)
        entry = {"$defs": root["$defs"], **items}
        self.entry = Draft202012Validator(entry, format_checker=FORMAT_CHECKER)
        # a metric matches the one branch whose ``type`` constant it names: compiling
        # each branch alone spares the fast check four failing branches per metric
        branches = {
            _resolve(b, root)["properties"]["type"]["const"]: {"$defs": root["$defs"], **b}
            for b in items.get("oneOf", ())
        }
        self.fast_by_type = {t: _fast(s) for t, s in branches.items()}
        self.exact_by_type = {
            t: Draft202012Validator(s, format_checker=FORMAT_CHECKER) for t, s in branches.items()
        }
        self.fast_entry = _fast(entry)

    def _kind(self, entry: Any) -> str | None:
        """The branch an entry of a ``oneOf`` list chooses by its ``type`` (None: none)."""
        kind = entry.get("type") if isinstance(entry, dict) else None
        return kind if isinstance(kind, str) and kind in self.fast_by_type else None

    def entry_fails(self, entry: Any) -> bool:
        fast = self.fast_entry
        if self.fast_by_type:
            kind = self._kind(entry)
            if kind is None:
                return True
            fast = self.fast_by_type[kind]
        try:
            fast(entry)
        except fastjsonschema.JsonSchemaException:
            return True
        return False

    def explain_entry(self, entry: Any) -> Iterator[Found]:
        """An entry's problems, paths relative to it. A metric naming a known type is
        checked against that type's schema alone (what ``oneOf`` would pick)."""
        kind = self._kind(entry)
        exact = self.exact_by_type[kind] if kind is not None else self.entry
        for error in exact.iter_errors(entry):
            yield from _explain(error, self.root)


def _fast(schema: dict) -> Callable[[Any], Any]:
    return fastjsonschema.compile(schema, formats=FORMAT_FUNCTIONS, use_default=False)


# --- words -----------------------------------------------------------------------------

TYPE_WORDS = {
    "string": "a text",
    "number": "a number",
    "integer": "a whole number",
    "array": "a list",
    "object": "an object",
    "boolean": "true or false",
    "null": "null",
}
FORMAT_WORDS = {
    "date": "is not a date (YYYY-MM-DD)",
    "date-time": "is not a date and time in UTC ending in Z (YYYY-MM-DDThh:mm:ssZ)",
    "email": "is not an e-mail address",
}


def describe(value: Any) -> str:
    """A value as a problem quotes it: texts in quotes, cut at 40 characters."""
    if isinstance(value, str):
        return f"“{value[:40]}{'…' if len(value) > 40 else ''}”"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else f"{text[:40]}…"
    return "a list" if isinstance(value, list) else "an object"


def path_text(path: Sequence[str | int]) -> str:
    text = "$"
    for key in path:
        text = safe_json.path_join(text, key)
    return "" if text == "$" else text


def _sort_key(found: Found) -> tuple:
    # a list's items by index, an object's keys by name; the path's own problems first
    return tuple((0, k, "") if isinstance(k, int) else (1, 0, k) for k in found[0])


def _at(path: Path, message: str) -> Found:
    return path, message


# --- schema problems as sentences ----------------------------------------------------


def _type_words(expected: str | list[str]) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    return " or ".join(TYPE_WORDS.get(n, n) for n in names)


def _resolve(schema: dict, root: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _one_of(error: ValidationError, root: dict) -> Iterator[Found]:
    """A ``oneOf`` in plain words: "a value or null" says what the value must be; a
    choice by a ``type`` constant (the metric types) explains the chosen branch."""
    path = tuple(error.absolute_path)
    branches = [_resolve(b, root) for b in error.validator_value]
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    instance = error.instance
    if len(branches) == 2 and branches[1] == {"type": "null"}:
        subs = by_branch.get(0, [])
        if any(s.validator == "type" and not s.relative_path for s in subs):
            yield _at(
                path,
                f"must be {_type_words(branches[0].get('type', 'a value'))} or null, "
                f"found {describe(instance)}",
            )
            return
        for sub in subs:
            yield from _explain(sub, root)
        return
    consts = [b.get("properties", {}).get("type", {}).get("const") for b in branches]
    if all(consts):
        if not isinstance(instance, dict):
            yield _at(path, f"must be an object, found {describe(instance)}")
        elif "type" not in instance:
            yield _at((*path, "type"), f"is required but missing (one of {', '.join(consts)})")
        elif instance["type"] not in consts:
            yield _at(
                (*path, "type"),
                f"{describe(instance['type'])} is not one of {', '.join(consts)}",
            )
        else:
            for sub in by_branch.get(consts.index(instance["type"]), []):
                yield from _explain(sub, root)
        return
    yield _at(path, f"{describe(instance)} does not match any of the accepted shapes")


def _explain(error: ValidationError, root: dict) -> Iterator[Found]:
    """One jsonschema error as (path, sentence) pairs."""
    path = tuple(error.absolute_path)
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "oneOf":
        yield from _one_of(error, root)
    elif kind == "required":
        for key in expected:
            if isinstance(instance, dict) and key not in instance:
                yield _at((*path, key), "is required but missing")
    elif kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        for key in instance:
            if key not in known:
                yield _at(
                    (*path, key),
                    f"unknown field {describe(key)} (known: {', '.join(known)})",
                )
    elif kind == "type":
        yield _at(path, f"must be {_type_words(expected)}, found {describe(instance)}")
    elif kind == "const":
        yield _at(path, f"must be {describe(expected)}, found {describe(instance)}")
    elif kind == "enum":
        yield _at(path, f"{describe(instance)} is not one of {', '.join(map(str, expected))}")
    elif kind in ("pattern", "format"):
        words = FORMAT_WORDS.get(error.schema.get("format", ""), "is not in the expected form")
        yield _at(path, f"{describe(instance)} {words}")
    elif kind == "minimum":
        yield _at(path, f"{describe(instance)} is less than {expected}, the smallest allowed")
    elif kind == "maximum":
        yield _at(path, f"{describe(instance)} is more than {expected}, the largest allowed")
    elif kind == "minLength":
        yield _at(path, "must not be empty" if expected == 1 else f"needs {expected}+ characters")
    elif kind == "maxLength":
        yield _at(path, f"is longer than {expected} characters")
    else:  # a keyword our schemas do not use today: jsonschema's own words
        yield _at(path, error.message)


def schema_problems(fmt: str, data: dict) -> tuple[list[Found], str | None]:
    """Every problem ``data`` has against the schema of ``fmt``, and the entry after
    which checking stopped (at ``MAX_SCHEMA_ERRORS`` problems), if it did."""
    checker = checker_of(fmt)
    # a dict as an ordered set: a value failing both ``pattern`` and ``format`` is one
    found = dict.fromkeys(
        f for e in checker.skeleton.iter_errors(data) for f in _explain(e, checker.root)
    )
    entries = data.get(checker.list_key)
    if not isinstance(entries, list):
        return list(found), None
    for i, entry in enumerate(entries):
        if not checker.entry_fails(entry):
            continue
        found.update(
            dict.fromkeys(((checker.list_key, i, *p), m) for p, m in checker.explain_entry(entry))
        )
        if len(found) >= MAX_SCHEMA_ERRORS and i < len(entries) - 1:
            return list(found), path_text((checker.list_key, i))
    return list(found), None


@functools.cache
def checker_of(fmt: str) -> _Checker:
    """The checker of a format, compiled on first use (~0.2 s each: not at start-up)."""
    return _Checker(fmt)


# --- cross-field checks ----------------------------------------------------------------


def _items(value: Any) -> list[tuple[int, dict]]:
    return (
        [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]
        if isinstance(value, list)
        else []
    )


def _unique(entries: list[tuple[int, dict]], key: str, base: Path) -> Iterator[Found]:
    """A key's text value given twice among ``entries`` (exact comparison)."""
    seen: dict[str, Path] = {}
    for i, entry in entries:
        value = entry.get(key)
        if not isinstance(value, str):
            continue
        if value in seen:
            yield _at((*base, i, key), f"{describe(value)} is also {path_text(seen[value])}")
        else:
            seen[value] = (*base, i, key)


def _keyed_checks(fmt: str, data: dict) -> Iterator[Found]:
    list_key = FORMATS[fmt][1]
    entries = _items(data.get(list_key))
    for i, entry in entries:
        for key in ("importKey", "title"):
            value = entry.get(key)
            if isinstance(value, str) and not value.strip():
                yield _at((list_key, i, key), "must not be blank")
    yield from _unique(entries, "importKey", (list_key,))


def _responses_checks(fmt: str, data: dict) -> Iterator[Found]:
    metadata_key, _, _, fields_key = RESPONSES_METADATA[fmt]
    metadata = data.get(metadata_key)
    fields = _items(metadata.get(fields_key)) if isinstance(metadata, dict) else []
    base: Path = (metadata_key, fields_key)
    yield from _unique(fields, "fieldId", base)
    declared: dict[str, dict] = {}
    persona: Path | None = None
    for i, field in fields:
        if isinstance(field.get("fieldId"), str):
            declared.setdefault(field["fieldId"], field)
        field_type = field.get("fieldType", "TEXT")
        title = field.get("tagGroupTitle")
        if field_type == "TAG_GROUP" and not (isinstance(title, str) and title.strip()):
            yield _at((*base, i, "tagGroupTitle"), "a TAG_GROUP field needs a tag group title")
        if field_type == "PERSONA":
            if persona is not None:
                yield _at(
                    (*base, i, "fieldType"),
                    f"only one field may be PERSONA, and {path_text(persona)} already is",
                )
            else:
                persona = (*base, i)
    required = [k for k, f in declared.items() if f.get("required") is True]
    names = ", ".join(declared) or "none"
    responses = _items(data.get("responses"))
    yield from _unique(responses, "responseId", ("responses",))
    for r, response in responses:
        answers = _items(response.get("responseFields"))
        yield from _unique(answers, "fieldId", ("responses", r, "responseFields"))
        given: dict[str, Any] = {}
        for a, answer in answers:
            field_id = answer.get("fieldId")
            if not isinstance(field_id, str):
                continue
            given.setdefault(field_id, answer.get("textValue"))
            if field_id not in declared:
                yield _at(
                    ("responses", r, "responseFields", a, "fieldId"),
                    f"{describe(field_id)} is not a field of {metadata_key}.{fields_key} "
                    f"(declared: {names})",
                )
            elif declared[field_id].get("required") is True:
                value = answer.get("textValue")
                if isinstance(value, str) and not value.strip():
                    yield _at(
                        ("responses", r, "responseFields", a, "textValue"),
                        f"the field {describe(field_id)} is required and may not be empty",
                    )
        for field_id in required:
            if field_id not in given:
                yield _at(
                    ("responses", r, "responseFields"),
                    f"no value for the required field {describe(field_id)}",
                )


def cross_field_problems(fmt: str, data: dict) -> list[Found]:
    """The checks JSON Schema cannot express. Written for data that may also have schema
    problems (every value's type is checked), so one round lists everything."""
    if fmt in RESPONSES_METADATA:
        return list(_responses_checks(fmt, data))
    return list(_keyed_checks(fmt, data))


# --- the entry point -------------------------------------------------------------------


def validate(data: Any, problems: Problems) -> str | None:
    """The format of ``data`` when it is a valid TheyDo file; else ``None``, with every
    problem added to ``problems`` (sorted by JSON path)."""
    accepted = ", ".join(FORMATS)
    try:
        safe_json.check(data)
    except safe_json.JSONRefused as exc:
        problems.add(str(exc))
        return None
    if not isinstance(data, dict):
        problems.add(
            f"the file must be a JSON object with a “format” (one of {accepted}), "
            f"found {describe(data)}"
        )
        return None
    fmt = data.get("format", None)
    if not isinstance(fmt, str) or fmt not in SCHEMAS:
        found = "is missing" if "format" not in data else f"{describe(fmt)} is not a TheyDo format"
        problems.add(f"format: {found}; the accepted formats are {accepted}")
        return None
    found, stopped = schema_problems(fmt, data)
    found += cross_field_problems(fmt, data)
    unique = dict.fromkeys(found)
    for path, message in sorted(unique, key=_sort_key):
        problems.add(f"{path_text(path) or 'the file'}: {message}")
    if stopped:
        problems.unfinished_after = stopped
    return None if unique or stopped else fmt

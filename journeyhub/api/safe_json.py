"""The one JSON loader for data that comes from outside (API bodies, imports).

``json.loads`` accepts what breaks the code behind it: nesting 100,000 levels deep
(``RecursionError``), integers of 4,300+ digits (``ValueError``) or of a few hundred
(``OverflowError`` in ``float()``), ``NaN``/``Infinity`` and ``1e999`` (stored as
``inf``, then served as invalid JSON). ``loads`` refuses all of them with a message
naming the JSON path, e.g. ``metrics[0].dataPoints[3].numerator``.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_INT_DIGITS = 30


class JSONRefused(ValueError):
    """The text is not JSON we accept; the message says why and where."""


class _Refused:
    """What a number we refuse parses to, so the walk can name its path."""

    def __init__(self, literal: str, why: str):
        self.literal, self.why = literal, why


def _int(literal: str) -> int | _Refused:
    digits = len(literal.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused(
            f"{literal[:12]}…", f"an integer of {digits} digits (at most {MAX_INT_DIGITS})"
        )
    return int(literal)


def _constant(literal: str) -> _Refused:
    return _Refused(literal, "not a finite number")


def path_join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]" if path != "$" else f"[{key}]"
    return f"{path}.{key}" if path != "$" else str(key)


def _shorten(path: str) -> str:
    return path if len(path) <= 80 else f"{path[:38]}…{path[-38:]}"


def check(data: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse too deep nesting and non-finite or refused numbers, naming the path.
    Iterative, so it cannot itself run out of stack."""
    stack: list[tuple[Any, str, int]] = [(data, "$", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= max_depth:
                raise JSONRefused(f"{_shorten(path)}: nested more than {max_depth} levels deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((item, path_join(path, key), depth + 1) for key, item in items)
        elif isinstance(value, _Refused):
            raise JSONRefused(f"{_shorten(path)}: {value.literal} is {value.why}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise JSONRefused(f"{_shorten(path)}: the number is not finite (too large)")


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` for untrusted text. Raises ``JSONRefused``."""
    try:
        data = json.loads(text, parse_int=_int, parse_constant=_constant)
    except RecursionError:
        raise JSONRefused(f"the JSON is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise JSONRefused(
            f"the JSON is not valid (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except UnicodeDecodeError:
        raise JSONRefused("the JSON is not UTF-8 text") from None
    check(data, max_depth=max_depth)
    return data

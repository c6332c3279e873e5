"""The documented columns of a map spreadsheet (one row per step), read by the reader,
the converter, the writer, the template workbook and ``docs/spreadsheets.md``.

Headers match case-insensitively and ignoring spaces, ``_`` and ``-``, in any order; a
few aliases are accepted (``step name`` for ``step``). The cell values people type for
``channel`` and ``emotion`` are read by ``channel_value`` and ``emotion_value``, which
accept the stored values, the labels the pages show and a few common words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maps.models import Step


@dataclass(frozen=True)
class Column:
    name: str  # the header we write, and its canonical spelling
    help: str  # one line for the template's "Read me" sheet and the import page
    example: str = ""
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int | None = None  # of the cell (or of each line, for list columns)
    is_list: bool = False  # one entry per line of the cell


MAX_TEXT = 10_000  # a description: ample for a paragraph, a refusal for a pasted book

COLUMNS: tuple[Column, ...] = (
    Column(
        "map",
        "The map's title (or slug). Empty: the map of the line above. Several maps in one "
        "sheet become several maps.",
        "Open an account",
        required=True,
        aliases=("journey", "map title", "journey map"),
        max_length=200,
    ),
    Column(
        "stage",
        "The stage the step belongs to; stages are ordered by first appearance. Empty: the "
        "stage of the line above (within the same map).",
        "Apply",
        aliases=("phase", "stage name"),
        max_length=120,
    ),
    Column(
        "step key",
        "Optional stable key of the step (letters, digits, - and _). Re-importing matches "
        "steps on it, or on the step's name when there is none.",
        "apply-online",
        aliases=("key",),
        max_length=80,
    ),
    Column(
        "step",
        "The step's name; steps are ordered by row. A line without a step declares a stage, "
        "or holds pain points and insights of the map that belong to no step.",
        "Fill in the application",
        required=True,
        aliases=("step name", "touchpoint"),
        max_length=160,
    ),
    Column("description", "What happens in this step.", "", max_length=MAX_TEXT),
    Column(
        "channel",
        "Web, Mobile app, Branch, Phone, Chat, E-mail, Letter, Partner or Other (empty: none).",
        "Web",
        aliases=("touchpoint channel",),
        max_length=40,
    ),
    Column(
        "emotion",
        "How the customer feels: Very negative, Negative, Neutral, Positive, Very positive, "
        "or a number from -2 to 2 (empty: Neutral).",
        "Negative",
        aliases=("feeling", "emotion score"),
        max_length=40,
    ),
    Column(
        "pain points",
        "The customer's pain points at this step, one per line of the cell.",
        "Too many fields\nNo way to save and come back",
        aliases=("customer pain points", "pain point", "pains"),
        max_length=200,
        is_list=True,
    ),
    Column(
        "employee pain points",
        "The employees' pain points at this step, one per line of the cell.",
        "",
        aliases=("employee pain point",),
        max_length=200,
        is_list=True,
    ),
    Column(
        "insights",
        "Insights at this step, one per line of the cell.",
        "Half of the applicants stop at the income question",
        aliases=("insight",),
        max_length=200,
        is_list=True,
    ),
    Column(
        "opportunities",
        "Opportunities at this step, one per line of the cell.",
        "Prefill from the customer's bank data",
        aliases=("opportunity",),
        max_length=200,
        is_list=True,
    ),
    Column(
        "research",
        "Research items at this step (studies, recordings), one per line of the cell.",
        "",
        max_length=200,
        is_list=True,
    ),
    Column(
        "ideas",
        "Ideas at this step, one per line of the cell.",
        "",
        aliases=("idea",),
        max_length=200,
        is_list=True,
    ),
)
#: list columns → (model, kind) of the items they hold; the converter and the writer read it
PAIN_POINT_COLUMNS = {"pain points": "customer", "employee pain points": "employee"}
LANE_ITEM_COLUMNS = {
    "insights": "insight",
    "opportunities": "opportunity",
    "research": "research",
    "ideas": "idea",
}
BY_NAME = {column.name: column for column in COLUMNS}
NAMES = tuple(column.name for column in COLUMNS)
MAX_LIST_ENTRIES = 100  # lines in one list cell


def normalise_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower()).strip()


_HEADERS = {
    normalise_header(spelling): column.name
    for column in COLUMNS
    for spelling in (column.name, *column.aliases)
}


def column_for_header(text: str) -> str | None:
    """The column a header names, or None."""
    return _HEADERS.get(normalise_header(text))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: what spreadsheets show above a column."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- values people type ---------------------------------------------------------------

EMOTION_WORDS: dict[str, int] = {
    "very negative": -2,
    "very bad": -2,
    "negative": -1,
    "bad": -1,
    "neutral": 0,
    "ok": 0,
    "okay": 0,
    "positive": 1,
    "good": 1,
    "very positive": 2,
    "very good": 2,
}
EMOTION_LABELS = {
    -2: "Very negative",
    -1: "Negative",
    0: "Neutral",
    1: "Positive",
    2: "Very positive",
}
EMOTION_ACCEPTED = "Very negative, Negative, Neutral, Positive, Very positive or -2 … 2"

_CHANNEL_WORDS: dict[str, str] = {
    **{value: value for value in Step.Channel.values},
    **{label.lower(): value for value, label in Step.Channel.choices},
    "website": "web",
    "online": "web",
    "mobile": "app",
    "mobile app": "app",
    "store": "branch",
    "shop": "branch",
    "call": "phone",
    "telephone": "phone",
    "call centre": "phone",
    "call center": "phone",
    "live chat": "chat",
    "e mail": "email",
    "mail": "mail",  # the stored value of "Letter"
    "post": "mail",
    "letter": "mail",
}
CHANNEL_ACCEPTED = ", ".join(label for _, label in Step.Channel.choices)


def _words(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def emotion_value(text: str) -> int | None:
    """The stored emotion (−2 … 2) for what someone typed, or None if it is not one."""
    if not text.strip():
        return 0
    number = text.strip().replace("−", "-").replace("+", "")
    if re.fullmatch(r"-?\d+(\.0+)?", number):
        value = int(float(number))
        return value if -2 <= value <= 2 else None
    return EMOTION_WORDS.get(_words(text))


def channel_value(text: str) -> str | None:
    """The stored channel for what someone typed ("" for none), or None if it is not one."""
    if not text.strip():
        return ""
    words = _words(text)
    return _CHANNEL_WORDS.get(words) or _CHANNEL_WORDS.get(words.replace(" ", ""))


def list_entries(text: str) -> list[str]:
    """The entries of a list cell: one per line; empty lines and list bullets dropped."""
    entries = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = re.sub(r"^\s*(?:[•·▪◦*]|-\s)\s*", "", line).strip()
        if line:
            entries.append(line)
    return entries

"""A journey map as Mermaid ``journey`` text, so a map can live in a wiki or a README.

    journey
        title Open an account
        section Apply
            Fill in the form: 2: Young professional, Web

- ``title`` is the map's title; each stage with steps is a ``section`` (in stage order);
  steps without a stage come last, under ``UNSTAGED`` (a map without any stage has no
  sections at all); stages without steps are left out (Mermaid draws nothing for them).
- every step is a task, in the map's order; its score is the step's emotion moved from
  −2..+2 onto Mermaid's 1..5 (``EMOTION_SCORE``: very negative 1, neutral 3, very
  positive 5); its actors are the map's personas and the step's channel, when set.
- Mermaid's journey grammar has no quoting, so names are made safe rather than escaped
  (``_clean``): line breaks and control characters become spaces, ``:`` becomes “∶”
  (U+2236 RATIO), ``#`` becomes “♯” (U+266F), ``;`` becomes “,”, runs of ``%`` become
  one, and in actors ``,`` (the actor separator) becomes “/”. A step name that begins
  like a keyword of the grammar (``journey``, ``title``, ``section``, ``accDescr {``) or
  a comment (``%``) starts with an invisible zero-width space, so it reads the same but
  is taken as a name. Empty names get a placeholder. HTML needs nothing here: Mermaid
  draws names as text. (The replacement characters are in common fonts: DejaVu, Noto,
  Segoe UI; fullwidth forms are not.)
- Mermaid refuses diagrams over 50,000 characters by default (``maxTextSize``): a map of
  several hundred steps needs that raised where it is pasted.
"""

from __future__ import annotations

import re

from .models import JourneyMap, Stage, Step

MEDIA_TYPE = "text/plain; charset=utf-8"

# Step.emotion is −2 (very bad) .. +2 (very good); Mermaid journey scores are 1..5.
EMOTION_SCORE: dict[int, int] = {-2: 1, -1: 2, 0: 3, 1: 4, 2: 5}

UNSTAGED = "Unstaged"
UNTITLED = "Untitled map"
UNNAMED_STAGE = "Unnamed stage"
UNNAMED_STEP = "Unnamed step"

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_SPACES = re.compile(r"\s+")
_PERCENTS = re.compile(r"%{2,}")
# Mermaid's lexer tries these keywords and % comments before a task name, ignoring case
# (``accTitle:`` and ``accDescr:`` cannot occur: colons are replaced). JavaScript's ``\b``
# is ASCII-only.
_KEYWORD_START = re.compile(
    r"^(journey(?![A-Za-z0-9_])|title\s|section\s|accdescr\s*\{|%)", re.IGNORECASE
)
_ZERO_WIDTH_SPACE = "\u200b"


def _clean(text: str, *, fallback: str, actor: bool = False) -> str:
    text = _CONTROL.sub(" ", text or "")
    text = text.replace(":", "∶").replace("#", "♯").replace(";", ",")
    if actor:
        text = text.replace(",", " /")
    return _PERCENTS.sub("%", _SPACES.sub(" ", text).strip()) or fallback


def _task_name(name: str) -> str:
    text = _clean(name, fallback=UNNAMED_STEP)
    return _ZERO_WIDTH_SPACE + text if _KEYWORD_START.match(text) else text


def step_score(emotion: int) -> int:
    """The Mermaid score (1..5) of a step's emotion (−2..+2); out-of-range values clamp."""
    return EMOTION_SCORE[max(-2, min(2, emotion))]


def map_to_mermaid(journey_map: JourneyMap) -> str:
    """The map's Mermaid ``journey`` text (two queries: stages, steps; a third for the
    personas unless prefetched)."""
    stages = {stage.pk: stage for stage in Stage.objects.filter(map=journey_map)}
    steps = list(
        Step.objects.filter(map=journey_map)
        .only("name", "stage_id", "channel", "emotion", "position")
        .order_by("position", "pk")
    )
    personas = [
        name
        for name in (_clean(p.name, fallback="", actor=True) for p in journey_map.personas.all())
        if name
    ]
    staged: dict[int, list[Step]] = {pk: [] for pk in stages}
    unstaged: list[Step] = []
    for step in steps:
        staged.get(step.stage_id, unstaged).append(step)

    sections: list[tuple[str | None, list[Step]]] = [
        (_clean(stage.name, fallback=UNNAMED_STAGE), staged[pk])
        for pk, stage in sorted(stages.items(), key=lambda kv: (kv[1].position, kv[0]))
        if staged[pk]
    ]
    if unstaged:
        sections.append((UNSTAGED if stages else None, unstaged))

    lines = ["journey", f"    title {_clean(journey_map.title, fallback=UNTITLED)}"]
    for section, section_steps in sections:
        indent = "    "
        if section is not None:
            lines.append(f"    section {section}")
            indent = "        "
        for step in section_steps:
            actors = list(personas)
            if step.channel:
                actors.append(_clean(step.get_channel_display(), fallback="", actor=True))
            task = f"{indent}{_task_name(step.name)}: {step_score(step.emotion)}"
            lines.append(task + (f": {', '.join(actors)}" if actors else ""))
    return "\n".join(lines) + "\n"


def mermaid_file_name(journey_map: JourneyMap) -> str:
    return f"{journey_map.slug}.mmd"

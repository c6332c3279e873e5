"""``THEYDO_SURVEY_RESPONSES_V1`` and ``THEYDO_FEEDBACK_RESPONSES_V1`` → one research
source of the map with its responses as quotes.

The two formats differ only in their metadata wrapper: ``surveyMetadata`` {``surveyName``,
``surveyId``, ``surveyFields``} or ``feedbackMetadata`` {``feedbackName``,
``feedbackId``, ``feedbackFields``}, each with an optional ``convertAllRowsToQuotes``.

- The file is a ``ResearchSource`` of kind survey / feedback, matched by its id
  (``import_key``, scoped to the map; an id already used by the other kind of source is
  refused). The name → title; the declared fields are kept as in the file (``fieldType``
  TEXT when omitted) so an export gives them back; ``convertAllRowsToQuotes`` (default
  false) → ``one_quote_per_response``; a new source is owned by the importing user.
- Field types: ``TEXT`` answers become quote text. ``TAG_GROUP``: the answer is a tag in
  the tag group titled ``tagGroupTitle`` (both matched case-insensitively, created when
  missing), set on every quote of the response. ``PERSONA``: the answer is kept on the
  response's quotes as ``persona_hint`` and linked to the persona of that name
  (case-insensitive, exact) when one exists; personas are never created — TheyDo's AI
  matches loosely, we do not guess. ``IGNORE``: skipped, not stored. Empty answers (blank
  after trimming) are skipped.
- ``convertAllRowsToQuotes`` true: each response is one verbatim quote (``field_id``
  ""): its TEXT answers in the order the fields are declared — the answer alone when the
  file declares one TEXT field, else one "Field name: answer" paragraph per answer — and
  ``answers`` {fieldId: answer}. false: TheyDo's AI would pick the quotes out of each
  response; we have no AI, so the rule is deterministic: every non-empty TEXT answer is
  one quote of its own (``field_id`` = its field). A response with no TEXT answer gives no
  quote (noted).
- ``responseDateTime`` (UTC) → ``responded_at``.
- Re-import of the same id updates the source (title, fields, flag) and upserts quotes by
  (responseId, fieldId): text, answers, date, TAG_GROUP tags and persona are replaced
  (tags that are not in a tag group, added by hand, stay); evidence links stay. Quotes of
  responses the file does not have are kept: surveys are often uploaded month by month.
  Quotes of a response the file has that it no longer produces (an answer now empty, or
  ``convertAllRowsToQuotes`` changed) are deleted, and the preview says so.
- New quotes go after the source's existing ones, in the file's order. Every write is in
  bulk: a fixed number of statements whatever the number of responses (batched only by
  the database's parameter limit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.db.models.functions import Lower
from django.utils import timezone

from ..imports import Problems
from ..models import Persona, Quote, ResearchSource
from ..services import map_touch
from . import plan as p

SURVEY = "THEYDO_SURVEY_RESPONSES_V1"
FEEDBACK = "THEYDO_FEEDBACK_RESPONSES_V1"

#: the longest import key, title, response or field id, tag and persona hint we store
MAX_TEXT = 200


@dataclass(frozen=True)
class Shape:
    """Where the two formats put the same things."""

    metadata: str
    name: str
    id: str
    fields: str
    kind: str
    noun: str


SHAPES = {
    SURVEY: Shape(
        "surveyMetadata", "surveyName", "surveyId", "surveyFields",
        ResearchSource.Kind.SURVEY, "survey",
    ),
    FEEDBACK: Shape(
        "feedbackMetadata", "feedbackName", "feedbackId", "feedbackFields",
        ResearchSource.Kind.FEEDBACK, "feedback",
    ),
}  # fmt: skip

SOURCE_FIELDS = ("title", "fields", "one_quote_per_response", "updated_at")
QUOTE_FIELDS = (
    "text",
    "answers",
    "responded_at",
    "persona_hint",
    "persona",
    "updated_at",
)


@dataclass
class Wanted:
    """One quote as the file gives it."""

    response_id: str
    field_id: str
    text: str
    answers: dict[str, str]
    responded_at: dt.datetime
    hint: str
    group_tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.response_id}/{self.field_id}" if self.field_id else self.response_id


def plan(*, journey_map, data: dict[str, Any], by, problems: Problems) -> p.ImportPlan:
    fmt = data["format"]
    shape = SHAPES[fmt]
    result = p.ImportPlan(fmt)
    meta = data[shape.metadata]
    where = shape.metadata
    key = meta[shape.id]
    title = meta[shape.name].strip()
    _check_length(key, f"{where}.{shape.id}", problems, empty="it is the key re-imports match")
    if not title:
        title = key.strip()
        result.notes.append(f"{where}.{shape.name}: empty: the source is titled “{title}”")
    _check_length(title, f"{where}.{shape.name}", problems)

    fields = [{**f, "fieldType": f.get("fieldType", "TEXT")} for f in meta[shape.fields]]
    for k, f in enumerate(fields):
        at = f"{where}.{shape.fields}[{k}].fieldId"
        _check_length(f["fieldId"], at, problems, empty="responses refer to fields by it")
    one_per_response = bool(meta.get("convertAllRowsToQuotes", False))

    source = ResearchSource.objects.filter(map=journey_map, import_key=key).first() if key else None
    if source is not None and source.kind != shape.kind:
        problems.add(
            f"{where}.{shape.id}: “{key}” is already the key of the "
            f"{source.get_kind_display().lower()} source “{source.title}” of this map; "
            f"a {shape.noun} needs an id of its own"
        )
    wanted, silent = _quotes_wanted(data["responses"], fields, one_per_response, problems)
    if problems:
        return result

    # --- the source -----------------------------------------------------------------
    is_new = source is None
    changed: list[str] = []
    if is_new:
        position = ResearchSource.objects.filter(map=journey_map).aggregate(n=Max("position"))
        source = ResearchSource(
            map=journey_map,
            kind=shape.kind,
            import_key=key,
            title=title,
            fields=fields,
            one_quote_per_response=one_per_response,
            owner=p.history_user(by),
            position=(position["n"] + 1) if position["n"] is not None else 0,
        )
    else:
        for attr, value, name in (
            ("title", title, shape.name),
            ("fields", fields, shape.fields),
            ("one_quote_per_response", one_per_response, "convertAllRowsToQuotes"),
        ):
            if getattr(source, attr) != value:
                setattr(source, attr, value)
                changed.append(name)
    result.add("research source", key, title, None if is_new else changed)
    result.counts["responses"] = len(data["responses"])

    # --- the quotes -------------------------------------------------------------------
    existing, current_tags, last_position = _quotes_of(source) if not is_new else ({}, {}, -1)
    personas = _personas({w.hint for w in wanted if w.hint})
    tags = p.TagResolver()
    for w in wanted:
        tags.want({"groupTags": w.group_tags})
    tags.resolve()

    created: list[Quote] = []
    updated: list[Quote] = []
    tagged: list[tuple[Quote, dict]] = []
    unmatched: dict[str, int] = {}
    now = timezone.now()
    for w in wanted:
        persona = personas.get(w.hint.lower()) if w.hint else None
        if w.hint and persona is None:
            unmatched[w.hint] = unmatched.get(w.hint, 0) + 1
        quote = existing.get((w.response_id, w.field_id))
        group_tags = {
            (t["tagGroup"].strip().lower(), t["tag"].strip().lower()) for t in w.group_tags
        }
        item = {"groupTags": w.group_tags}
        if quote is None:
            last_position += 1
            quote = Quote(
                source=source,
                response_id=w.response_id,
                field_id=w.field_id,
                text=w.text,
                answers=w.answers,
                responded_at=w.responded_at,
                persona_hint=w.hint,
                persona=persona,
                position=last_position,
            )
            created.append(quote)
            if w.group_tags:
                tagged.append((quote, item))
            result.add("quote", w.key, _headline(w.text), None)
            continue
        quote_changed = []
        for attr, value, name in (
            ("text", w.text, "text"),
            ("answers", w.answers, "answers"),
            ("responded_at", w.responded_at, "responseDateTime"),
            ("persona_hint", w.hint, "persona"),
        ):
            if getattr(quote, attr) != value:
                setattr(quote, attr, value)
                quote_changed.append(name)
        if quote.persona_id != (persona.pk if persona else None):
            quote.persona = persona
            if "persona" not in quote_changed:
                quote_changed.append("persona")
        if group_tags != current_tags.get(quote.pk, set()):
            quote_changed.append("tags")
            tagged.append((quote, item))
        if quote_changed:
            quote.updated_at = now
            updated.append(quote)
        result.add("quote", w.key, _headline(w.text), quote_changed)

    # quotes of this file's responses that the file no longer gives
    produced = {(w.response_id, w.field_id) for w in wanted}
    responses = {r["responseId"] for r in data["responses"]}
    stale = [
        q
        for (response_id, field_id), q in existing.items()
        if response_id in responses and (response_id, field_id) not in produced
    ]
    stale.sort(key=lambda q: (q.position, q.pk))
    _notes(result, stale=stale, unmatched=unmatched, silent=silent)
    result.counts.update({f"{noun} created": n for noun, n in tags.missing.items()})

    def write() -> None:
        tags.create_missing()
        if is_new:
            ResearchSource.objects.bulk_create([source])
            p.history_write(ResearchSource, [source], by=by, update=False)
        elif changed:
            source.updated_at = now
            ResearchSource.objects.bulk_update([source], SOURCE_FIELDS)
            p.history_write(ResearchSource, [source], by=by, update=True)
        _quotes_delete(stale, by=by)
        Quote.objects.bulk_create(created)
        Quote.objects.bulk_update(updated, QUOTE_FIELDS)
        p.tags_replace(Quote.tags.through, "quote", [(q.pk, i) for q, i in tagged], tags)
        p.history_write(Quote, created, by=by, update=False)
        p.history_write(Quote, updated, by=by, update=True)
        if is_new or changed or created or updated or stale:
            # research is map content: editors holding the old version get a conflict
            map_touch(journey_map_id=journey_map.pk)

    result.writes.append(write)
    return result


def _quotes_of(source: ResearchSource) -> tuple[dict, dict, int]:
    """The source's imported quotes by (response, field), the TAG_GROUP part of each
    one's tags as lower-cased (group, tag) pairs, and the last position of its quotes."""
    existing: dict[tuple[str, str], Quote] = {}
    last_position = -1
    for quote in Quote.objects.filter(source=source):
        last_position = max(last_position, quote.position)
        if quote.response_id:  # quotes added by hand are never matched
            existing[(quote.response_id, quote.field_id)] = quote
    current_tags: dict[int, set[tuple[str, str]]] = {}
    # joined rather than listed by quote id: a source of 100,000 quotes is one statement
    for quote_id, group, name in Quote.tags.through.objects.filter(
        quote__source=source, tag__group__isnull=False
    ).values_list("quote_id", "tag__group__name", "tag__name"):
        current_tags.setdefault(quote_id, set()).add((group.lower(), name.lower()))
    return existing, current_tags, last_position


def _some(keys: list[str]) -> str:
    shown = ", ".join(f"“{k}”" for k in keys[:5])
    return shown + (" …" if len(keys) > 5 else "")


def _notes(
    result: p.ImportPlan, *, stale: list[Quote], unmatched: dict[str, int], silent: list[str]
) -> None:
    """What the preview tells besides the changes: deletions, hints, silent responses."""
    if stale:
        result.counts["quotes deleted"] = len(stale)
        keys = [f"{q.response_id}/{q.field_id}" if q.field_id else q.response_id for q in stale]
        result.notes.append(
            f"{p.plural(len(stale), 'quote')} of responses in this file that it no longer "
            "gives (an answer now empty, or convertAllRowsToQuotes changed) will be deleted "
            f"with their evidence links: {_some(keys)}"
        )
    for hint, n in unmatched.items():
        result.notes.append(
            f"PERSONA “{hint}” ({p.plural(n, 'quote')}) matches no persona here: it is kept "
            "as a hint only"
        )
    if silent:
        result.notes.append(
            f"{p.plural(len(silent), 'response')} with no text answer gave no quote: "
            f"{_some(silent)}"
        )


def _check_length(value: str, path: str, problems: Problems, *, empty: str = "") -> None:
    if empty and not value.strip():
        problems.add(f"{path}: must not be empty ({empty})")
    elif len(value) > MAX_TEXT:
        problems.add(f"{path}: at most {MAX_TEXT} characters (it has {len(value)})")


def _utc(raw: str, path: str, problems: Problems) -> dt.datetime | None:
    """TheyDo's ``responseDateTime``: ISO-8601 in UTC, ending in ``Z``."""
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or not raw.endswith("Z"):
        problems.add(
            f"{path}: “{raw}” is not a UTC date-time ending in Z (e.g. 2026-01-01T00:00:00Z)"
        )
        return None
    return moment.astimezone(dt.UTC)


def _quotes_wanted(
    responses: list[dict], fields: list[dict], one_per_response: bool, problems: Problems
) -> tuple[list[Wanted], list[str]]:
    """The quotes the file gives, in its order, and the responses that give none."""
    texts = [f for f in fields if f["fieldType"] == "TEXT"]
    labelled = len(texts) > 1
    by_id = {f["fieldId"]: f for f in fields}
    wanted: list[Wanted] = []
    silent: list[str] = []
    for i, response in enumerate(responses):
        path = f"responses[{i}]"
        response_id = response["responseId"]
        why = "quotes are matched by it on re-import"
        _check_length(response_id, f"{path}.responseId", problems, empty=why)
        moment = _utc(response["responseDateTime"], f"{path}.responseDateTime", problems)
        answers: dict[str, str] = {}
        group_tags: list[dict[str, str]] = []
        hint = ""
        for j, answer in enumerate(response["responseFields"]):
            declared = by_id[answer["fieldId"]]
            value = answer["textValue"]
            if not value.strip():
                continue  # an empty answer (validation refuses it for required fields)
            kind = declared["fieldType"]
            at = f"{path}.responseFields[{j}].textValue"
            if kind == "TEXT":
                answers[declared["fieldId"]] = value
            elif kind == "TAG_GROUP":
                _check_length(value.strip(), at, problems)
                group_tags.append({"tagGroup": declared["tagGroupTitle"], "tag": value})
            elif kind == "PERSONA":
                hint = value.strip()
                _check_length(hint, at, problems)
        ordered = [(f, answers[f["fieldId"]]) for f in texts if f["fieldId"] in answers]
        if not ordered:
            silent.append(response_id)
            continue
        common = {
            "response_id": response_id,
            "responded_at": moment,
            "hint": hint,
            "group_tags": group_tags,
        }
        if one_per_response:
            text = (
                "\n\n".join(f"{f['fieldName']}: {value}" for f, value in ordered)
                if labelled
                else ordered[0][1]
            )
            answered = {f["fieldId"]: value for f, value in ordered}
            wanted.append(Wanted(field_id="", text=text, answers=answered, **common))
        else:
            wanted += [
                Wanted(field_id=f["fieldId"], text=value, answers={}, **common)
                for f, value in ordered
            ]
    return wanted, silent


def _personas(hints: set[str]) -> dict[str, Persona]:
    """The persona each hint names (lower-cased), in one query. Two personas whose names
    differ only in case: the hint matches neither (we do not guess)."""
    if not hints:
        return {}
    found: dict[str, list[Persona]] = {}
    for persona in Persona.objects.annotate(n=Lower("name")).filter(
        n__in={h.lower() for h in hints}
    ):
        found.setdefault(persona.n, []).append(persona)
    return {name: matches[0] for name, matches in found.items() if len(matches) == 1}


def _headline(text: str) -> str:
    """The first 60 characters of a quote, on one line, for the preview."""
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:59] + "…"


def _quotes_delete(quotes: list[Quote], *, by) -> None:
    """Delete quotes with their links and a "deleted" history row each, in a fixed number
    of statements: ``QuerySet.delete`` would send a signal per quote and simple-history
    would write each quote's history row one by one."""
    if not quotes:
        return
    pks = [q.pk for q in quotes]
    history = Quote.history.model
    now = timezone.now()
    history.objects.bulk_create(
        history(
            history_date=now,
            history_user=p.history_user(by),
            history_type="-",
            **{f.attname: getattr(q, f.attname) for f in history.tracked_fields},
        )
        for q in quotes
    )
    for m2m in Quote._meta.many_to_many:
        m2m.remote_field.through.objects.filter(quote_id__in=pks).delete()
    # the links are gone and nothing else points at a quote: Django's own fast delete
    Quote.objects.filter(pk__in=pks)._raw_delete(Quote.objects.db)

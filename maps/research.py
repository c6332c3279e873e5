"""Research as evidence: the business rules for research sources, their quotes and
attached files, and what backs a step, pain point or lane item. The browser pages, the
API and the admin all call these.

Sources and quotes are authored map content: their writes carry the map's version
(``expected_version``) like every other edit, so two people editing the same map never
overwrite each other silently. Attachments are files kept with a source, not content
the map shows: uploading or deleting one does not move the map's version (like
measurements), so nobody editing the grid gets a conflict because a report was
uploaded.

Files: an upload is accepted only when its extension AND its first bytes say it is one
of ``ALLOWED_TYPES``, and it is not larger than ``JOURNEYHUB_ATTACHMENT_MAX_BYTES``.
Anything a browser could run (HTML, SVG, JavaScript, executables) is refused. Files are
stored under ``MEDIA_ROOT`` with a random name; deleting an attachment (directly, or by
deleting its source or its map) removes the file once the transaction commits.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F, Func, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete
from django.dispatch import receiver

from governance import permissions
from governance.permissions import Action

from .models import Attachment, JourneyMap, LaneItem, PainPoint, Quote, ResearchSource, Step, Tag
from .services import _save_or_refuse, _with_history_user, map_bump_version

DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

#: the fields that link evidence to what it backs, with the model they point at
EVIDENCE_FIELDS: dict[str, type[models.Model]] = {
    "steps": Step,
    "pain_points": PainPoint,
    "lane_items": LaneItem,
}


def attachment_max_bytes() -> int:
    return int(getattr(settings, "JOURNEYHUB_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


def _check_edit(by, journey_map: JourneyMap) -> None:
    if by is not None and not permissions.can_edit_map(by, journey_map):
        raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])


# --- sources -------------------------------------------------------------------------


@transaction.atomic
def source_save(
    *,
    source: ResearchSource,
    expected_version: int,
    by=None,
    links: dict[str, Sequence[Any]] | None = None,
) -> ResearchSource:
    """Create or update a research source of a map (version-checked). A source stays on
    the map it was created on: its quotes' links point at that map's steps. ``links``:
    the steps, pain points and lane items it backs directly (see ``evidence_link``)."""
    if source.pk is not None:
        stored_map_id = (
            ResearchSource.objects.filter(pk=source.pk).values_list("map_id", flat=True).first()
        )
        if stored_map_id is not None and stored_map_id != source.map_id:
            raise ValidationError({"map": "A research source stays on the map it belongs to."})
    _check_edit(by, source.map)
    if source.pk is None and not source.position:
        last = ResearchSource.objects.filter(map=source.map).aggregate(m=models.Max("position"))
        source.position = 0 if last["m"] is None else last["m"] + 1
    source.full_clean()
    _refuse_foreign_links(source.map, links)
    map_bump_version(journey_map=source.map, expected_version=expected_version)
    _with_history_user(source, by)
    _save_or_refuse(source)
    _set_links(source, links)
    return source


@transaction.atomic
def source_delete(*, source: ResearchSource, expected_version: int, by=None) -> None:
    """Delete a source with its quotes and attachments (their files go on commit)."""
    _check_edit(by, source.map)
    map_bump_version(journey_map=source.map, expected_version=expected_version)
    _with_history_user(source, by)
    for quote in source.quotes.all():  # each with its history row and its user
        _with_history_user(quote, by)
        quote.delete()
    source.delete()


# --- quotes --------------------------------------------------------------------------


@transaction.atomic
def quote_save(
    *,
    quote: Quote,
    expected_version: int,
    by=None,
    tags: Iterable[Tag] | None = None,
    links: dict[str, Sequence[Any]] | None = None,
) -> Quote:
    """Create or update a quote of a source (version-checked on the source's map).
    ``tags``: the quote's tags (None leaves them); ``links``: the steps, pain points
    and lane items it backs (see ``evidence_link``)."""
    source = quote.source
    if quote.pk is not None:
        stored_source_id = (
            Quote.objects.filter(pk=quote.pk).values_list("source_id", flat=True).first()
        )
        if stored_source_id is not None and stored_source_id != quote.source_id:
            raise ValidationError({"source": "A quote stays in the source it was said in."})
    _check_edit(by, source.map)
    if quote.pk is None and not quote.position:
        last = Quote.objects.filter(source=source).aggregate(m=models.Max("position"))
        quote.position = 0 if last["m"] is None else last["m"] + 1
    quote.full_clean()
    _refuse_foreign_links(source.map, links)
    map_bump_version(journey_map=source.map, expected_version=expected_version)
    _with_history_user(quote, by)
    _save_or_refuse(quote)
    if tags is not None:
        quote.tags.set(list(tags))
    _set_links(quote, links)
    return quote


@transaction.atomic
def quote_delete(*, quote: Quote, expected_version: int, by=None) -> None:
    journey_map = quote.source.map
    _check_edit(by, journey_map)
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    _with_history_user(quote, by)
    quote.delete()


# --- evidence links --------------------------------------------------------------------


def _map_of_evidence(item: Quote | ResearchSource) -> JourneyMap:
    return item.source.map if isinstance(item, Quote) else item.map


def links_problems(journey_map: JourneyMap, links: dict[str, Sequence[Any]]) -> dict[str, str]:
    """For each field whose items are not all of ``journey_map``, the reason (keyed by
    the field: ``steps``, ``pain_points``, ``lane_items``). Items may be objects or ids."""
    problems = {}
    for field, items in links.items():
        if field not in EVIDENCE_FIELDS:
            problems[field] = f"“{field}” is not something evidence backs."
            continue
        model = EVIDENCE_FIELDS[field]
        ids = {getattr(item, "pk", item) for item in items}
        if not ids:
            continue
        found = dict(model.objects.filter(pk__in=ids).values_list("pk", "map_id"))
        foreign = sorted(pk for pk in ids if found.get(pk) != journey_map.pk)
        if foreign:
            noun = model._meta.verbose_name_plural
            listed = ", ".join(f"#{pk}" for pk in foreign[:10])
            problems[field] = (
                f"Evidence backs only the {noun} of its own map “{journey_map}”; "
                f"{listed} {'is' if len(foreign) == 1 else 'are'} not on it."
            )
    return problems


@transaction.atomic
def evidence_link(
    *,
    item: Quote | ResearchSource,
    expected_version: int,
    by=None,
    steps: Sequence[Step] | None = None,
    pain_points: Sequence[PainPoint] | None = None,
    lane_items: Sequence[LaneItem] | None = None,
) -> Quote | ResearchSource:
    """Set what a quote or a source backs: each list given replaces its linked set
    (None leaves it). Only the steps, pain points and lane items of the item's own map;
    anything else is refused and nothing changes."""
    journey_map = _map_of_evidence(item)
    _check_edit(by, journey_map)
    given = {
        field: list(value)
        for field, value in (
            ("steps", steps),
            ("pain_points", pain_points),
            ("lane_items", lane_items),
        )
        if value is not None
    }
    _refuse_foreign_links(journey_map, given)
    map_bump_version(journey_map=journey_map, expected_version=expected_version)
    _with_history_user(item, by)
    _set_links(item, given)
    return item


def _refuse_foreign_links(journey_map: JourneyMap, links: dict[str, Sequence[Any]] | None) -> None:
    problems = links_problems(journey_map, links or {})
    if problems:
        raise ValidationError(problems)


def _set_links(item: Quote | ResearchSource, links: dict[str, Sequence[Any]] | None) -> None:
    for field, value in (links or {}).items():
        getattr(item, field).set(list(value))


# --- evidence summaries ------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What backs one step, pain point or lane item."""

    quotes: int = 0
    sources: int = 0

    def __bool__(self) -> bool:
        return bool(self.quotes or self.sources)

    @property
    def label(self) -> str:
        """ "3 quotes · 2 sources"."""
        parts = []
        if self.quotes:
            parts.append(f"{self.quotes} quote{'s' if self.quotes != 1 else ''}")
        if self.sources:
            parts.append(f"{self.sources} source{'s' if self.sources != 1 else ''}")
        return " · ".join(parts) or "no research"

    @property
    def sentence(self) -> str:
        """ "researched: 3 quotes from 2 sources"."""
        if not self:
            return "not researched"
        if not self.quotes:
            return f"researched: {self.sources} source{'s' if self.sources != 1 else ''}"
        return (
            f"researched: {self.quotes} quote{'s' if self.quotes != 1 else ''} from "
            f"{self.sources} source{'s' if self.sources != 1 else ''}"
        )


NONE = Evidence()


def with_evidence(queryset: models.QuerySet, field: str) -> models.QuerySet:
    """Steps, pain points or lane items (``field`` names the kind) annotated with
    ``evidence_quotes`` (the quotes linked to each) and ``evidence_sources`` (the
    distinct sources of those quotes plus the sources linked directly): correlated
    subqueries, so the annotation costs no query of its own."""
    column = f"{EVIDENCE_FIELDS[field]._meta.model_name}_id"
    quote_links = getattr(Quote, field).through.objects
    source_links = getattr(ResearchSource, field).through.objects
    quotes = (
        quote_links.filter(**{column: OuterRef("pk")})
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    sources = (
        ResearchSource.objects.filter(
            Q(
                pk__in=quote_links.filter(**{column: OuterRef(OuterRef("pk"))}).values(
                    "quote__source_id"
                )
            )
            | Q(
                pk__in=source_links.filter(**{column: OuterRef(OuterRef("pk"))}).values(
                    "researchsource_id"
                )
            )
        )
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT"))
        .values("n")
    )
    return queryset.annotate(
        evidence_quotes=Coalesce(Subquery(quotes, output_field=IntegerField()), 0),
        evidence_sources=Coalesce(Subquery(sources, output_field=IntegerField()), 0),
    )


def attach_evidence(objs: Iterable[models.Model]) -> None:
    """Give objects loaded ``with_evidence`` a ``backing`` (an ``Evidence``; their
    ``evidence`` field is the evidence level people chose)."""
    for obj in objs:
        obj.backing = Evidence(obj.evidence_quotes, obj.evidence_sources)


def evidence_summary(
    *,
    steps: Iterable[int | Step] = (),
    pain_points: Iterable[int | PainPoint] = (),
    lane_items: Iterable[int | LaneItem] = (),
) -> dict[tuple[str, int], Evidence]:
    """For each item given, the quotes and distinct sources backing it, keyed by
    ``(field, pk)`` (``("steps", 12)``): a quote's source counts as a source, so does a
    source linked directly. One query per kind given, whatever the number of items or
    of quotes; items without evidence are absent (use ``.get(key, NONE)``)."""
    wanted = {"steps": steps, "pain_points": pain_points, "lane_items": lane_items}
    result: dict[tuple[str, int], Evidence] = {}
    for field, items in wanted.items():
        ids = sorted({getattr(item, "pk", item) for item in items})
        if not ids:
            continue
        rows = with_evidence(EVIDENCE_FIELDS[field].objects.filter(pk__in=ids), field)
        for pk, quotes, sources in rows.values_list("pk", "evidence_quotes", "evidence_sources"):
            if quotes or sources:
                result[(field, pk)] = Evidence(quotes, sources)
    return result


def evidence_of(item: Step | PainPoint | LaneItem) -> tuple[list[Quote], list[ResearchSource]]:
    """The quotes backing an item (with their source) and the sources linked to it
    directly: two queries."""
    field = next(f for f, model in EVIDENCE_FIELDS.items() if isinstance(item, model))
    quotes = list(
        Quote.objects.filter(**{field: item})
        .select_related("source", "persona")
        .order_by("source__position", "source_id", "position", "pk")
    )
    sources = list(ResearchSource.objects.filter(**{field: item}).order_by("position", "pk"))
    return quotes, sources


# --- attachments ---------------------------------------------------------------------------


def _is_text(head: bytes) -> bool:
    """Plain text a browser would not run: UTF-8 without NUL bytes, not starting as
    markup (HTML, SVG, XML, script)."""
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # only a character cut at the end of the sample is fine
            return False
        text = head[: exc.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n").lower()
    markup = ("<!doctype", "<html", "<head", "<body", "<script", "<svg", "<?xml", "<iframe")
    return not start.startswith(markup)


def _office(folder: str) -> Callable[[bytes, Any], bool]:
    """An Office Open XML file: a zip with [Content_Types].xml and its main folder. Only
    the zip's directory is read, nothing is extracted."""

    def check(head: bytes, file) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False
        finally:
            file.seek(0)
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return check


def _mp3(head: bytes, file) -> bool:
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _iso_media(head: bytes, file) -> bool:
    return head[4:8] == b"ftyp"


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    matches: Callable[[bytes, Any], bool]


ALLOWED_TYPES: dict[str, FileType] = {
    "pdf": FileType("application/pdf", "PDF", lambda h, f: h.startswith(b"%PDF-")),
    "png": FileType("image/png", "PNG image", lambda h, f: h.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": FileType("image/jpeg", "JPEG image", lambda h, f: h.startswith(b"\xff\xd8\xff")),
    "jpeg": FileType("image/jpeg", "JPEG image", lambda h, f: h.startswith(b"\xff\xd8\xff")),
    "gif": FileType("image/gif", "GIF image", lambda h, f: h[:6] in (b"GIF87a", b"GIF89a")),
    "webp": FileType(
        "image/webp", "WebP image", lambda h, f: h[:4] == b"RIFF" and h[8:12] == b"WEBP"
    ),
    "txt": FileType("text/plain; charset=utf-8", "text", lambda h, f: _is_text(h)),
    "csv": FileType("text/csv; charset=utf-8", "CSV", lambda h, f: _is_text(h)),
    "md": FileType("text/markdown; charset=utf-8", "Markdown", lambda h, f: _is_text(h)),
    "docx": FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word document",
        _office("word/"),
    ),
    "xlsx": FileType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Excel workbook",
        _office("xl/"),
    ),
    "pptx": FileType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PowerPoint presentation",
        _office("ppt/"),
    ),
    "mp3": FileType("audio/mpeg", "MP3 audio", _mp3),
    "m4a": FileType("audio/mp4", "M4A audio", _iso_media),
    "mp4": FileType("video/mp4", "MP4 video", _iso_media),
}
ALLOWED_EXTENSIONS_TEXT = ", ".join(sorted(ALLOWED_TYPES))
SNIFF_BYTES = 2048


def _size_text(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n / 1024:.0f} KB"


def attachment_check(upload: UploadedFile) -> tuple[str, FileType]:
    """The upload's extension and type, or a ValidationError keyed ``file`` saying why
    it is refused (too large, empty, a type not allowed, content not matching)."""
    name = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    limit = attachment_max_bytes()
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            {"file": f"“{name}” is larger than the limit of {_size_text(limit)}."}
        )
    if upload.size == 0:
        raise ValidationError({"file": f"“{name}” is empty."})
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    file_type = ALLOWED_TYPES.get(extension)
    if file_type is None:
        shown = f".{extension} files" if extension else "Files without an extension"
        raise ValidationError(
            {"file": f"{shown} are not accepted (“{name}”). Allowed: {ALLOWED_EXTENSIONS_TEXT}."}
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    if not file_type.matches(head, upload):
        raise ValidationError(
            {
                "file": f"“{name}” is named .{extension} but its content is not a "
                f"{file_type.label}; nothing was stored."
            }
        )
    return extension, file_type


@transaction.atomic
def attachment_add(*, source: ResearchSource, upload: UploadedFile, by=None) -> Attachment:
    """Store an uploaded file with a research source, after ``attachment_check``. The
    stored name is random (never the uploader's); the original name is kept to show."""
    _check_edit(by, source.map)
    extension, file_type = attachment_check(upload)
    original = (upload.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
    attachment = Attachment(
        source=source,
        name=original,
        content_type=file_type.content_type,
        size=upload.size,
        uploaded_by=by if getattr(by, "pk", None) else None,
    )
    attachment.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
    stored = attachment.file.name
    try:  # a refused row must not leave its file behind
        attachment.full_clean()
        attachment.save()
    except Exception:
        attachment.file.storage.delete(stored)
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, by=None) -> None:
    """Delete an attachment; its file goes when the transaction commits."""
    _check_edit(by, attachment.source.map)
    attachment.delete()


@receiver(post_delete, sender=Attachment, dispatch_uid="research_attachment_file")
def _remove_file_on_commit(sender, instance: Attachment, **kwargs) -> None:
    """However an attachment goes (itself, its source, its map, the admin), its file
    goes too, once the deletion is committed (a rollback keeps both)."""
    if instance.file and instance.file.name:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))

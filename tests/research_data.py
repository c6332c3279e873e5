"""Research data for the research and evidence tests: sources, quotes, tags, files."""

from __future__ import annotations

import io
import zipfile

from django.core.files.base import ContentFile

from maps.models import (
    Attachment,
    JourneyMap,
    LaneItem,
    PainPoint,
    Quote,
    ResearchSource,
    Step,
    Tag,
    TagGroup,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
GIF = b"GIF89a" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00" + b"\x00" * 40
M4A = b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00" + b"\x00" * 40
TEXT = b"Interview notes: the glare on the screen made the code unreadable.\n"
CSV = b"respondent,answer\n1,Too slow\n"
MARKDOWN = b"# Findings\n\n- People give up at step 3\n"


def office(folder: str) -> bytes:
    """A minimal Office Open XML file: [Content_Types].xml and its main part."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}document.xml", "<document/>")
    return buffer.getvalue()


ALLOWED_SAMPLES = {
    "notes.pdf": PDF,
    "shot.png": PNG,
    "photo.jpg": JPEG,
    "photo.jpeg": JPEG,
    "anim.gif": GIF,
    "pic.webp": WEBP,
    "notes.txt": TEXT,
    "answers.csv": CSV,
    "findings.md": MARKDOWN,
    "report.docx": office("word/"),
    "figures.xlsx": office("xl/"),
    "deck.pptx": office("ppt/"),
    "call.mp3": MP3,
    "voice.m4a": M4A,
    "session.mp4": MP4,
}

#: refused: each could run in a browser or on a computer, or is not what it says
REFUSED_SAMPLES = {
    "page.html": b"<!DOCTYPE html><script>alert(1)</script>",
    "page.htm": b"<html><body>hi</body></html>",
    "logo.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "app.js": b"alert(1)",
    "setup.exe": b"MZ\x90\x00" + b"\x00" * 40,
    "noextension": TEXT,
    "fake.png": b"<!DOCTYPE html><script>alert(1)</script>",
    "fake.pdf": b"<html><script>alert(1)</script></html>",
    "markup.txt": b"  <!doctype html><script>alert(1)</script>",
    "svg.md": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    "binary.txt": b"MZ\x90\x00\x03\x00\x00\x00",
    "word.docx": b"PK\x03\x04not really a zip",
    "sheet.xlsx": office("word/"),  # a Word file named as a workbook
    "song.mp3": b"<html></html>",
}


def source_with_quotes(
    journey_map: JourneyMap,
    *,
    title: str = "Interviews, March",
    quotes: int = 2,
    kind: str = ResearchSource.Kind.INTERVIEW,
) -> ResearchSource:
    source = ResearchSource.objects.create(map=journey_map, title=title, kind=kind)
    for i in range(quotes):
        Quote.objects.create(source=source, text=f"{title}: quote {i + 1}", position=i)
    return source


def attach(source: ResearchSource, name: str = "notes.txt", content: bytes = TEXT) -> Attachment:
    attachment = Attachment(
        source=source, name=name, content_type="text/plain; charset=utf-8", size=len(content)
    )
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.save()
    return attachment


def tagged(quote: Quote, *names: str) -> None:
    group, _ = TagGroup.objects.get_or_create(name="Channel")
    quote.tags.set([Tag.objects.get_or_create(group=group, name=name)[0] for name in names])


def research_for(journey_map: JourneyMap, *, copies: int = 1) -> None:
    """Per copy: two sources of three quotes each, with tags, a file, and links to the
    map's steps, pain points and lane items (quotes and the sources themselves)."""
    steps = list(Step.objects.filter(map=journey_map))
    pains = list(PainPoint.objects.filter(map=journey_map))
    items = list(LaneItem.objects.filter(map=journey_map))
    for copy in range(copies):
        for s in range(2):
            source = source_with_quotes(journey_map, title=f"Source {copy}-{s}", quotes=3)
            attach(source)
            source.steps.set(steps[:1])
            for quote in source.quotes.all():
                tagged(quote, "Support", "Email")
                quote.steps.set(steps)
                quote.pain_points.set(pains)
                quote.lane_items.set(items)

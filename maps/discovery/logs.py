"""Reading an event log as a stream of ``(case, activity, seconds, channel)`` events.

Two formats, told apart by their content (gzip-compressed or not):

* CSV, the columns the event import reads (``maps.analytics``: ``case_id`` or
  ``customer_id``, ``step_key`` or ``step``, ``timestamp``, ``channel``); the reading
  (lines, header, timestamps) is the event import's own.
* XES (IEEE 1849), read by ``maps.discovery.xes``.

Readers never hold more than one line or one element; every problem goes to the
``Problems`` they are given (first ones kept, the rest counted, "… and N more").
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from collections.abc import Iterator
from typing import IO

from django.utils import timezone

from ..analytics import _header, _lines, _parse_timestamp, _rows
from ..imports import ImportRefused, Problems
from ..models.common import EARLIEST_YEAR, MAX_YEARS_AHEAD

#: one event: case id, activity, seconds since the epoch, channel ("" when unknown)
Event = tuple[str, str, float, str]

GZIP_MAGIC = b"\x1f\x8b"
#: what a damaged or cut gzip stream raises while it is read
DAMAGED = (OSError, EOFError, zlib.error)
MAX_ACTIVITY = 200  # EventActivityMapping.activity's length


def open_log(stream: IO[bytes]) -> tuple[str, IO[bytes]]:
    """``("csv" | "xes", readable binary stream)``: gzip is unpacked on the fly, and the
    format is read from the first non-blank bytes (XML starts with ``<``)."""
    buffered = stream if hasattr(stream, "peek") else io.BufferedReader(stream)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        buffered = io.BufferedReader(gzip.GzipFile(fileobj=buffered))  # type: ignore[arg-type]
    try:
        start = buffered.peek(512)[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    except DAMAGED as exc:  # a damaged gzip stream
        raise ImportRefused([f"the file is not readable gzip ({exc})"]) from None
    return ("xes" if start.startswith(b"<") else "csv"), buffered


def plausible_range() -> tuple[float, float, int]:
    """The timestamps an event may have (seconds), and the latest year, as the import."""
    latest_year = timezone.localdate().year + MAX_YEARS_AHEAD
    earliest = dt.datetime(EARLIEST_YEAR, 1, 1, tzinfo=dt.UTC).timestamp()
    latest = dt.datetime(latest_year + 1, 1, 1, tzinfo=dt.UTC).timestamp()
    return earliest, latest, latest_year


def read_events(
    stream: IO[bytes], problems: Problems, *, activity_column: str = ""
) -> Iterator[Event]:
    """The log's events in file order, whatever its format; bad events are reported to
    ``problems`` and left out. Raises ``ImportRefused`` for a file that cannot be read
    at all (no header, not UTF-8, not XML)."""
    kind, readable = open_log(stream)
    if kind == "xes":
        from .xes import xes_events

        return xes_events(readable, problems)
    return csv_events(readable, problems, activity_column=activity_column)


def csv_events(
    stream: IO[bytes], problems: Problems, *, activity_column: str = ""
) -> Iterator[Event]:
    """The events of an event-import CSV (see ``maps.analytics``), line by line;
    ``activity_column`` names the column of the activities (default: the import's)."""
    reader = csv.reader(_lines(stream, [0]))
    columns, case_name, step_name = _header(reader, activity_column)
    c_case, c_step, c_time = columns["case"], columns["step"], columns["timestamp"]
    c_channel = columns["channel"]  # -1: the log has no channel column
    width = max(columns.values()) + 1
    earliest, latest, latest_year = plausible_range()
    try:
        for row in _rows(reader, problems):
            line = reader.line_num
            if len(row) < width:
                if any(cell.strip() for cell in row):
                    problems.add(f"line {line}: {len(row)} cells, the header has at least {width}")
                continue
            case = row[c_case].strip()
            activity = row[c_step].strip()
            moment = _parse_timestamp(row[c_time])
            bad = False
            if not case:
                if not any(cell.strip() for cell in row):
                    continue
                problems.add(f"line {line}, column {case_name}: empty")
                bad = True
            if not activity:
                problems.add(f"line {line}, column {step_name}: empty")
                bad = True
            elif len(activity) > MAX_ACTIVITY:
                problems.add(
                    f"line {line}, column {step_name}: longer than {MAX_ACTIVITY} characters"
                )
                bad = True
            if moment is None:
                problems.add(
                    f"line {line}, column timestamp: “{row[c_time].strip()[:80]}” is not an "
                    "ISO 8601 timestamp (e.g. 2026-05-03T09:15:00Z)"
                )
                bad = True
            elif not earliest <= moment < latest:
                problems.add(
                    f"line {line}, column timestamp: “{row[c_time].strip()[:40]}” is not "
                    f"plausible: it must be between {EARLIEST_YEAR} and {latest_year}"
                )
                bad = True
            if not bad:
                channel = row[c_channel].strip().lower()[:40] if c_channel >= 0 else ""
                yield case, activity, moment, channel  # type: ignore[misc]
    except DAMAGED as exc:  # a gzip stream cut short
        problems.add(f"the file ends early or is damaged ({exc})")

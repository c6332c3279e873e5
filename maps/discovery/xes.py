"""XES event logs (IEEE 1849), read streaming.

What is read:

* ``<trace>`` elements with a ``concept:name`` attribute (the case id), holding
  ``<event>`` elements with ``concept:name`` (the activity), ``time:timestamp`` and an
  optional ``lifecycle:transition``;
* or the flat form XES also allows: ``<event>`` elements directly under ``<log>``,
  each carrying its case id as ``case:concept:name`` (or ``case:id``, ``case_id``);
  their cases need not be together, the summary sorts that out.

Only ``complete`` events are kept when events say their lifecycle transition (``start``,
``schedule`` … are the same activity seen earlier); events without one are kept.
Attributes nested in other attributes (lists, containers) are not the event's own.

How: the standard library's expat parser, fed 64 KB at a time, with handlers for the
elements' starts and ends (no element tree at all: ``ElementTree.iterparse`` builds and
clears an element per attribute and measured twice as slow on 1,000,000 events). A
document type declaration or entity declaration is refused before anything is expanded
(what ``defusedxml`` does), so no entity can grow the input. Memory holds one trace's
events at most (its case id may come after them); problems name the line, the trace and
the event.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from xml.parsers import expat

from ..analytics import _parse_timestamp
from ..imports import ImportRefused, Problems
from ..models.common import EARLIEST_YEAR
from .logs import DAMAGED, MAX_ACTIVITY, Event, plausible_range

ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})
CASE_KEYS = ("case:concept:name", "case:id", "case_id", "concept:case")
NAME, TIME, LIFECYCLE = "concept:name", "time:timestamp", "lifecycle:transition"
KEPT_TRANSITION = "complete"
CHUNK = 64 * 1024


class _Refused(Exception):
    """Raised inside a handler to stop the parser."""


class _Reader:
    """The handlers' state while one document is parsed."""

    def __init__(self, parser, problems: Problems) -> None:
        self.parser = parser
        self.problems = problems
        self.earliest, self.latest, self.latest_year = plausible_range()
        self.stack: list[str] = []
        self.ready: list[Event] = []  # events of the chunk just parsed, handed out after it
        self.traces = self.events = self.in_trace = 0
        self.trace_case = ""
        self.trace_events: list[tuple[str, float]] = []
        self.attributes: dict[str, str] = {}
        self.event_line = self.trace_line = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2] if ":" in name else name
        stack = self.stack
        stack.append(local)
        if len(stack) == 1 and local != "log":
            raise _Refused(f"line 1: the root element is <{local}>, an XES log's is <log>")
        if local in ATTRIBUTE_TAGS and len(stack) > 1:
            parent = stack[-2]
            if parent == "event":
                self.attributes[attributes.get("key", "")] = attributes.get("value", "")
            elif parent == "trace" and attributes.get("key") == NAME:
                self.trace_case = attributes.get("value", "").strip()
        elif local == "event":
            self.attributes = {}
            self.event_line = self.parser.CurrentLineNumber
        elif local == "trace" and len(stack) == 2:
            self.traces += 1
            self.trace_case, self.trace_events, self.in_trace = "", [], 0
            self.trace_line = self.parser.CurrentLineNumber

    def end(self, name: str) -> None:
        local = self.stack.pop()
        depth = len(self.stack)
        in_trace = depth == 2 and self.stack[-1] == "trace"
        if local == "event" and (depth == 1 or in_trace):
            self.events += 1
            if in_trace:
                self.in_trace += 1
                where = f"line {self.event_line}, trace {self.traces}, event {self.in_trace}"
            else:
                where = f"line {self.event_line}, event {self.events} (not in a trace)"
            kept = self._event(where)
            if kept is None:
                return
            if in_trace:
                self.trace_events.append(kept)
                return
            attributes = self.attributes
            case = next((attributes[k].strip() for k in CASE_KEYS if k in attributes), "")
            if case:
                self.ready.append((case, kept[0], kept[1], ""))
            else:
                self.problems.add(
                    f"{where}: no case id; an event outside a trace needs a "
                    "case:concept:name attribute"
                )
        elif local == "trace" and len(self.stack) == 1:
            if not self.trace_case:
                self.problems.add(
                    f"line {self.trace_line}, trace {self.traces}: no concept:name (its case id)"
                )
            else:
                case = self.trace_case
                self.ready.extend(
                    (case, activity, moment, "") for activity, moment in self.trace_events
                )
            self.trace_events = []

    def _event(self, where: str) -> tuple[str, float] | None:
        """The event's (activity, seconds), or None when it is not kept (another
        lifecycle transition) or has a problem (reported)."""
        attributes, problems = self.attributes, self.problems
        transition = attributes.get(LIFECYCLE)
        if transition is not None and transition.strip().lower() != KEPT_TRANSITION:
            return None
        activity = attributes.get(NAME, "").strip()
        raw_time = attributes.get(TIME)
        bad = False
        if not activity:
            problems.add(f"{where}: no concept:name (its activity)")
            bad = True
        elif len(activity) > MAX_ACTIVITY:
            problems.add(f"{where}: the activity name is longer than {MAX_ACTIVITY} characters")
            bad = True
        moment = _parse_timestamp(raw_time) if raw_time is not None else None
        if raw_time is None:
            problems.add(f"{where}: no time:timestamp")
            bad = True
        elif moment is None:
            problems.add(f"{where}: time:timestamp “{raw_time.strip()[:60]}” is not an xs:dateTime")
            bad = True
        elif not self.earliest <= moment < self.latest:
            problems.add(
                f"{where}: time:timestamp “{raw_time.strip()[:40]}” is not plausible: it must "
                f"be between {EARLIEST_YEAR} and {self.latest_year}"
            )
            bad = True
        return None if bad else (activity, moment)  # type: ignore[return-value]


def _no_dtd(*args) -> None:
    raise _Refused("the XML declares a DTD or entities, which an XES log never needs")


def xes_events(stream: IO[bytes], problems: Problems) -> Iterator[Event]:
    """The log's kept events: a trace's when its end tag is read, flat ones as they come."""
    parser = expat.ParserCreate()
    reader = _Reader(parser, problems)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.buffer_text = True
    started = False
    try:
        while chunk := stream.read(CHUNK):
            started = started or bool(chunk.strip())
            parser.Parse(chunk, False)
            if reader.ready:
                yield from reader.ready
                reader.ready = []
        parser.Parse(b"", True)
        yield from reader.ready
    except _Refused as exc:
        raise ImportRefused([str(exc)]) from None
    except expat.ExpatError as exc:
        if not started:
            problems.add("the file holds no XML element")
        else:
            message = expat.ErrorString(exc.code)
            problems.add(
                f"line {exc.lineno}, column {exc.offset + 1}: not well-formed XML ({message})"
            )
    except DAMAGED as exc:
        problems.add(f"the file ends early or is damaged ({exc})")

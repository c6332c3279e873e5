"""XES event logs (IEEE 1849), read streaming.

What is read:

* ``<trace>`` elements with a ``concept:name`` attribute (the case id), holding
  ``<event>`` elements with ``concept:name`` (the activity), ``time:timestamp`` and an
  optional ``lifecycle:transition``;
* or the flat form XES also allows: ``<event>`` elements directly under ``<log>``,
  each carrying its case id as ``case:concept:name`` (or ``case:id``, ``case_id``);
  their cases need not be together, the summary sorts that out.

Only ``complete`` events are kept when events say their lifecycle transition (``start``,
``schedule`` … are the same activity seen earlier); events without one are kept. The
XML is parsed with ``defusedxml``'s iterparse (no DTD, no entities) and every element is
cleared once read, so memory holds one trace at most, never the whole tree. Elements in
any namespace are accepted (``xmlns="http://www.xes-standard.org/"`` or none).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from ..analytics import _parse_timestamp
from ..imports import ImportRefused, Problems
from ..models.common import EARLIEST_YEAR
from .logs import MAX_ACTIVITY, Event, plausible_range

ATTRIBUTE_TAGS = frozenset({"string", "date", "int", "float", "boolean", "id"})
CASE_KEYS = ("case:concept:name", "case:id", "case_id", "concept:case")
NAME, TIME, LIFECYCLE = "concept:name", "time:timestamp", "lifecycle:transition"
KEPT_TRANSITION = "complete"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if tag[:1] == "{" else tag


def xes_events(stream: IO[bytes], problems: Problems) -> Iterator[Event]:
    """The log's kept events, a trace's events when its end tag is read (its case id may
    come after them), flat events as they come."""
    earliest, latest, latest_year = plausible_range()
    stack: list[str] = []
    root = None
    traces = events = 0
    trace_case: str | None = None
    trace_events: list[tuple[str, float, int]] = []  # (activity, seconds, event number)
    attributes: dict[str, str] = {}
    in_trace_events = 0
    try:
        for action, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
            tag = _local(element.tag)
            if action == "start":
                if root is None:
                    root = element
                    if tag != "log":
                        raise ImportRefused(
                            [f"line 1: the root element is <{tag}>, an XES log's is <log>"]
                        )
                if tag == "trace" and stack[-1:] == ["log"]:
                    traces += 1
                    trace_case, trace_events, in_trace_events = None, [], 0
                elif tag == "event":
                    attributes = {}
                stack.append(tag)
                continue
            stack.pop()
            parent = stack[-1] if stack else None
            if tag in ATTRIBUTE_TAGS:
                key = element.get("key")
                if key and parent == "event":
                    attributes[key] = element.get("value", "")
                elif key == NAME and parent == "trace":
                    trace_case = element.get("value", "").strip()
                continue
            if tag == "event" and parent in ("trace", "log"):
                events += 1
                if parent == "trace":
                    in_trace_events += 1
                    where = f"trace {traces}, event {in_trace_events}"
                else:
                    where = f"event {events} (not in a trace)"
                kept = _event(attributes, where, problems, earliest, latest, latest_year)
                if kept is not None:
                    activity, moment = kept
                    if parent == "trace":
                        trace_events.append((activity, moment, in_trace_events))
                    else:
                        case = next(
                            (attributes[k].strip() for k in CASE_KEYS if k in attributes), ""
                        )
                        if case:
                            yield case, activity, moment, ""
                        else:
                            problems.add(
                                f"{where}: no case id; an event outside a trace needs a "
                                "case:concept:name attribute"
                            )
                if parent == "log":
                    root.clear()  # type: ignore[union-attr]
                else:
                    element.clear()  # the trace keeps an empty element until its end
            elif tag == "trace" and parent == "log":
                if not trace_case:
                    problems.add(f"trace {traces}: no concept:name (its case id)")
                else:
                    for activity, moment, _ in trace_events:
                        yield trace_case, activity, moment, ""
                trace_events = []
                root.clear()  # type: ignore[union-attr]
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        message = str(exc).split(":", 1)[0]
        problems.add(f"line {line}, column {column + 1}: not well-formed XML ({message})")
    except DefusedXmlException:
        problems.add("the XML declares a DTD or entities, which an XES log never needs")
    except (OSError, EOFError) as exc:
        problems.add(f"the file ends early or is damaged ({exc})")
    if root is None and not problems:
        problems.add("the file holds no XML element")


def _event(
    attributes: dict[str, str],
    where: str,
    problems: Problems,
    earliest: float,
    latest: float,
    latest_year: int,
) -> tuple[str, float] | None:
    """The event's (activity, seconds), or None when it is not kept (another lifecycle
    transition) or has a problem (reported)."""
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
    elif not earliest <= moment < latest:
        problems.add(
            f"{where}: time:timestamp “{raw_time.strip()[:40]}” is not plausible: it must be "
            f"between {EARLIEST_YEAR} and {latest_year}"
        )
        bad = True
    return None if bad else (activity, moment)  # type: ignore[return-value]

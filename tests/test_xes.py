"""XES event logs (IEEE 1849): traces, the flat form, lifecycles, gzip and bad files."""

from __future__ import annotations

import gzip
import io
import random

import pytest

from maps.discovery.logs import read_events
from maps.discovery.mining import propose, summarise
from maps.imports import ImportRefused, Problems
from tests.test_discovery import ROWS, csv_log, names


def _attr(key: str, value: str, kind: str = "string") -> str:
    return f'<{kind} key="{key}" value="{value}"/>'


def grouped_xes(rows=ROWS, *, lifecycle: bool = True) -> bytes:
    """The hand-worked log of test_discovery as XES traces, each event also "started"
    an hour earlier (a start event the reader must leave out)."""
    traces: dict[str, list[tuple[str, str]]] = {}
    for case, activity, moment in rows:
        traces.setdefault(case, []).append((activity, moment))
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">',
        '<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>',
        '<global scope="event">' + _attr("concept:name", "__INVALID__") + "</global>",
        '<classifier name="Activity" keys="concept:name"/>',
        _attr("concept:name", "permits"),
    ]
    for case, events in traces.items():
        parts.append("<trace>")
        parts.append(_attr("concept:name", case))
        for activity, moment in events:
            if lifecycle:
                parts.append(
                    "<event>"
                    + _attr("concept:name", activity)
                    + _attr("lifecycle:transition", "start")
                    + _attr("time:timestamp", moment.replace("Z", "+00:00"), "date")
                    + "</event>"
                )
            parts.append(
                "<event>"
                + _attr("concept:name", activity)
                + (_attr("lifecycle:transition", "complete") if lifecycle else "")
                + _attr("time:timestamp", moment.replace("Z", ".000+00:00"), "date")
                + '<list key="resources">'
                + _attr("concept:name", "nested: not the activity")
                + "</list>"
                + "</event>"
            )
        parts.append("</trace>")
    parts.append("</log>")
    return "\n".join(parts).encode()


def flat_xes(rows) -> bytes:
    """Events directly under <log>, each naming its case (no namespace)."""
    events = [
        "<event>"
        + _attr("case:concept:name", case)
        + _attr("concept:name", activity)
        + _attr("time:timestamp", moment, "date")
        + "</event>"
        for case, activity, moment in rows
    ]
    return ("<log>\n" + "\n".join(events) + "\n</log>\n").encode()


def events_of(content: bytes) -> list[tuple]:
    problems = Problems()
    found = list(read_events(io.BytesIO(content), problems))
    assert not problems, problems.listed()
    return found


def proposal_of(content: bytes):
    return propose(summarise(lambda: io.BytesIO(content)))


def test_traces_give_their_complete_events_with_the_trace_name_as_case():
    found = events_of(grouped_xes())
    assert len(found) == len(ROWS)
    assert [(case, activity) for case, activity, _, _ in found[:4]] == [
        ("c1", "apply"),
        ("c1", "check"),
        ("c1", "approve"),
        ("c1", "pay"),
    ]
    assert found[0][2] == 1772355600.0  # 2026-03-01T09:00:00Z


def test_events_without_a_lifecycle_are_all_kept():
    assert len(events_of(grouped_xes(lifecycle=False))) == len(ROWS)


def test_an_xes_log_proposes_the_same_map_as_the_same_log_in_csv():
    from_xes, from_csv = proposal_of(grouped_xes()), proposal_of(csv_log())
    assert [s.activity for s in from_xes.steps] == [s.activity for s in from_csv.steps]
    assert names(from_xes, from_xes.links) == names(from_csv, from_csv.links)
    assert [(v.steps, v.cases) for v in from_xes.variants] == [
        (v.steps, v.cases) for v in from_csv.variants
    ]


def test_events_not_grouped_by_trace_are_read_by_their_case_attribute():
    shuffled = list(ROWS)
    random.Random(11).shuffle(shuffled)
    summary = summarise(lambda: io.BytesIO(flat_xes(shuffled)))
    assert not summary.grouped  # the cases came interleaved
    flat, traced = propose(summary), proposal_of(grouped_xes())
    assert [s.activity for s in flat.steps] == [s.activity for s in traced.steps]
    assert names(flat, flat.links) == names(traced, traced.links)
    assert [s.end_kind for s in flat.steps] == [s.end_kind for s in traced.steps]


def test_a_gzipped_xes_log_is_unpacked():
    assert proposal_of(gzip.compress(grouped_xes())).cases == 5


def test_a_gzipped_csv_log_is_unpacked():
    assert proposal_of(gzip.compress(csv_log())).events == 20


def test_missing_attributes_are_named_by_line_trace_and_event():
    stamp = _attr("time:timestamp", "2026-01-01T00:00:00Z", "date")
    content = "\n".join(
        [
            "<log><trace>" + _attr("concept:name", "t1"),
            "<event>" + _attr("concept:name", "a") + "</event>",
            "<event>" + stamp + "</event>",
            "<event>" + _attr("concept:name", "b") + _attr("time:timestamp", "soon", "date"),
            "</event></trace><trace><event>" + _attr("concept:name", "a") + stamp + "</event>",
            "</trace><event>" + _attr("concept:name", "a") + stamp + "</event>",
            "</log>",
        ]
    ).encode()
    with pytest.raises(ImportRefused) as refused:
        summarise(lambda: io.BytesIO(content))
    assert refused.value.problems == [
        "line 2, trace 1, event 1: no time:timestamp",
        "line 3, trace 1, event 2: no concept:name (its activity)",
        "line 4, trace 1, event 3: time:timestamp “soon” is not an xs:dateTime",
        "line 5, trace 2: no concept:name (its case id)",
        "line 6, event 5 (not in a trace): no case id; an event outside a trace needs a "
        "case:concept:name attribute",
    ]


def test_xml_that_is_not_well_formed_is_refused_with_its_line_and_column():
    content = b"<log>\n<trace>\n<event>\n</trace>\n</log>\n"
    with pytest.raises(ImportRefused) as refused:
        summarise(lambda: io.BytesIO(content))
    assert refused.value.problems == ["line 4, column 3: not well-formed XML (mismatched tag)"]


def test_a_document_that_is_not_an_xes_log_is_refused():
    with pytest.raises(ImportRefused) as refused:
        summarise(lambda: io.BytesIO(b"<html><body/></html>"))
    assert refused.value.problems == ["line 1: the root element is <html>, an XES log's is <log>"]


def test_xml_with_a_dtd_or_entities_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE log [<!ENTITY a "aaaaaaaaaa">]><log>&a;</log>'
    with pytest.raises(ImportRefused) as refused:
        summarise(lambda: io.BytesIO(bomb))
    assert refused.value.problems == [
        "the XML declares a DTD or entities, which an XES log never needs"
    ]


def test_many_bad_events_are_listed_up_to_fifty_then_and_n_more():
    events = "".join("<event>" + _attr("concept:name", "a") + "</event>" for _ in range(70))
    content = f"<log><trace>{_attr('concept:name', 't')}{events}</trace></log>".encode()
    with pytest.raises(ImportRefused) as refused:
        summarise(lambda: io.BytesIO(content))
    assert refused.value.problems[-1] == "… and 20 more problems"


@pytest.mark.parametrize("cut", ["truncated", "corrupt"])
def test_a_damaged_gzip_file_is_refused_not_a_crash(cut):
    header, _, rows = csv_log().partition(b"\n")
    packed = gzip.compress(header + b"\n" + rows * 400)
    middle = len(packed) // 2
    damaged = packed[:middle] if cut == "truncated" else packed[:20] + bytes(300) + packed[320:]
    with pytest.raises(ImportRefused) as refused:
        summarise(lambda: io.BytesIO(damaged))
    assert refused.value.problems[-1].startswith(
        ("the file is not readable gzip", "the file ends early or is damaged")
    )

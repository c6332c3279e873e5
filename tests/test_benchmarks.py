"""The benchmark harness (benchmarks/run.py) runs end to end at a tiny scale.

It generates a 20-map repository in the test database, times a few pages and an API
list (first and deep page), computes each page's floor and writes RESULTS.md. A smoke
test of the harness, not of the timings: those need a quiet machine (benchmarks/README.md).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from benchmarks import run as bench
from benchmarks.generate import row_counts


@pytest.mark.django_db(transaction=True)  # committed rows: the floor reads through sqlite3
def test_the_harness_times_pages_computes_their_floor_and_writes_the_results(tmp_path):
    results_md = tmp_path / "RESULTS.md"
    output = tmp_path / "latest.json"
    args, size = bench.parse_args(
        [
            "--scale",
            "tiny",
            "--runs",
            "2",
            "--no-probe",
            "--users",
            "owner,viewer",
            "--pages",
            "map page, typical|^portfolio|/api/pain-points/",
            "--write-results",
            "--results-md",
            str(results_md),
            "--output",
            str(output),
        ]
    )

    assert bench.run(args, size, prepare=False) == 0

    counts = row_counts()
    assert counts["maps.JourneyMap"] == 20
    # 60 % of the lane content is pain points (the #16 shape)
    share = counts["maps.PainPoint"] / (counts["maps.PainPoint"] + counts["maps.LaneItem"])
    assert 0.55 < share < 0.65

    report = json.loads(output.read_text())
    by_key = {(p["page"], p["user"]): p for p in report["pages"]}
    assert set(by_key) == {
        ("map page, typical map, read-only", "viewer"),
        ("map page, typical map, editor", "owner"),
        ("portfolio", "owner"),
        ("portfolio", "viewer"),
        *(
            (f"/api/pain-points/ {which} page", user)
            for which in ("first", "deep")
            for user in ("owner", "viewer")
        ),
    }
    for page in report["pages"]:
        assert page["status"] == 200, page
        assert not page["skipped"], page
        assert page["bytes"] > 0 and page["queries"] > 0
        assert len(page["runs_ms"]) == 2
        assert page["p50_ms"] > 0 and page["p95_ms"] >= page["p50_ms"]
        if connection.vendor == "sqlite":
            assert page["floor_ms"] > 0 and page["floor_rows"] > 0, page
            assert page["floor_ratio"] == pytest.approx(page["p50_ms"] / page["floor_ms"], rel=0.1)
            assert page["floor_cpu_ratio"] > 0

    # the deep page is a later page of the list, here by page number (50 of ~250 rows)
    deep = by_key[("/api/pain-points/ deep page", "viewer")]
    assert "page=" in deep["url"] or "cursor=" in deep["url"]
    assert deep["rows_shown"] == 50
    # the editor's typical map page has a weight target; the read-only one does not
    assert by_key[("map page, typical map, editor", "owner")]["max_kb"] == 250
    assert report["load_start"] and report["load_end"]
    assert report["profile"]["top"], "the slowest page was profiled"
    assert len(report["profile"]["top"]) <= 15

    text = results_md.read_text()
    assert "## Scale `tiny`: 20 maps" in text
    assert "| map page, typical map, editor | owner | 30 |" in text
    assert "### Profile of the slowest page" in text
    assert "--scale tiny" in text  # the command that made the figures
    assert (tmp_path / "results" / "tiny.json").exists()


def test_the_floor_builds_exactly_the_bytes_of_the_page_from_the_rows_read():
    rows = [(1, "Pain <point>", None), (2, "Lane & item", 3.5)]
    body = bench.build_bytes(rows, 1000)
    assert len(body) == 1000
    assert b"<td>Pain &lt;point&gt;</td>" in body
    assert bench.build_bytes([], 10) == b"<tr><td></"


def test_p95_is_the_nearest_rank_percentile():
    assert bench.percentile([float(n) for n in range(1, 21)], 95) == 19.0
    assert bench.percentile([5.0], 95) == 5.0

"""The benchmark harness (benchmarks/run.py) runs end to end at a tiny scale.

It generates a 20-map repository in the test database, times a few pages and an API
list (first and deep page), computes each page's floor and writes RESULTS.md. A smoke
test of the harness, not of the timings: those need a quiet machine (benchmarks/README.md).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from benchmarks import run as bench
from benchmarks.generate import row_counts
from tests.builders import build_map_content
from tests.factories import JourneyMapFactory


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


# --- the probe compares like with like -------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _expanded(client, journey_map) -> int:
    return _count(client, f"/api/maps/{journey_map.pk}/?expand=content")


@pytest.fixture
def shaped_maps(owner):
    """Two published maps of the same shape, one ten times the other (both with a linked
    project, KPIs, ratings, a review...), and one about as small, without a linked project."""
    from maps.models import CXProject, JourneyMap

    made = {}
    for name, steps in (("small", 3), ("large", 30), ("unlinked", 4)):
        journey_map = JourneyMapFactory(owner=owner, slug=name, status=JourneyMap.Status.PUBLISHED)
        build_map_content(journey_map, steps=steps, items_per_step=2)
        made[name] = journey_map
    CXProject.objects.filter(maps=made["unlinked"]).delete()
    return made


@pytest.mark.django_db
def test_a_map_of_the_same_shape_gives_the_same_count_and_the_probe_picks_that_shape(
    owner, shaped_maps
):
    small, large, unlinked = shaped_maps["small"], shaped_maps["large"], shaped_maps["unlinked"]
    shape = bench.map_shape(large.pk)
    assert "projects" in shape and "kpis" in shape and "qualitative_factors" in shape
    assert bench.map_shape(small.pk) == shape
    assert "projects" not in bench.map_shape(unlinked.pk)

    client = APIClient()
    client.force_authenticate(owner)
    _expanded(client, small)  # the warm-up, as the harness's: per-process caches filled
    # like with like: the same count at a tenth of the size
    assert _expanded(client, small) == _expanded(client, large)
    # the data-shape difference the probe used to report as growth: no linked project,
    # one query fewer
    assert _expanded(client, unlinked) < _expanded(client, large)

    # the probe's typical map: the one of the real run's shape, even when another map is
    # closer to the mean size
    assert bench.choose_subject(owner).typical_slug == "unlinked"
    chosen = bench.choose_subject(owner, typical_shape=shape)
    assert chosen.typical_slug == "small" and chosen.typical_shape == shape


@pytest.mark.django_db
def test_a_real_growth_still_flags_and_a_shape_difference_is_named(owner, shaped_maps):
    from maps.models import Step

    small, large = shaped_maps["small"], shaped_maps["large"]
    shape = bench.map_shape(large.pk)

    def page_with_an_n_plus_one(journey_map) -> int:
        # a test double of a page that reads each step's stage on its own
        with CaptureQueriesContext(connection) as queries:
            [step.stage.name for step in Step.objects.filter(map=journey_map)]
        return len(queries)

    def page_without(journey_map) -> int:
        with CaptureQueriesContext(connection) as queries:
            [s.stage.name for s in Step.objects.filter(map=journey_map).select_related("stage")]
        return len(queries)

    todo = [
        bench.Page(name, "/x/", ("owner",), 20, "map", subject="typical")
        for name in ("n+1", "flat")
    ]
    here = bench.Subject("large", large.pk, 30, 0, "large", large.pk, 30, 0, shape, shape)
    results = [
        bench.Result(
            "n+1", "/x/", "owner", "pages", 200, 20, queries=page_with_an_n_plus_one(large)
        ),
        bench.Result("flat", "/x/", "owner", "pages", 200, 20, queries=page_without(large)),
    ]
    probe = {
        "subject": {"typical_shape": bench.map_shape(small.pk)},
        "pages": [
            {
                "page": "n+1",
                "user": "owner",
                "queries": page_with_an_n_plus_one(small),
                "skipped": "",
            },
            {"page": "flat", "user": "owner", "queries": page_without(small), "skipped": ""},
        ],
    }
    bench.apply_probe(results, probe, here, todo)
    grown, flat = results
    assert grown.failures == [
        f"queries grow with the data: {grown.probe_queries} on the probe, {grown.queries} here"
    ]
    assert grown.queries - grown.probe_queries == 27  # one per step more: 30 against 3
    assert flat.passed and flat.probe_queries == flat.queries

    # the probe's map of another shape: the growth still fails, saying why it may not be
    results[0].failures.clear()
    probe["subject"]["typical_shape"] = [name for name in shape if name != "projects"]
    bench.apply_probe(results, probe, here, todo)
    assert (
        results[0]
        .failures[0]
        .endswith(
            "(the probe's typical map differs in shape: only here ['projects'], only there -)"
        )
    )

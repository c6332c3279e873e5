"""Time JourneyHub's pages on a synthetic repository of a chosen scale (``make bench``).

Builds a fresh benchmark database (``var/bench.sqlite3``, or ``DATABASE_URL`` when it
is set), fills it with ``benchmarks/generate.py`` and requests each page through
``django.test.Client`` as a non-superuser map owner and as a superuser. Per page:
median wall time of N runs (after one warm-up), query count and database time
(``CaptureQueriesContext``), peak Python memory of one more run (``tracemalloc``),
response size. A probe at a tenth of the size, run in a subprocess on its own SQLite
file, gives each page's query count on less data: the design wants a fixed number of
queries whatever the data size, so a count that grows fails.

Results go to stdout as a table and to ``benchmarks/results/latest.json``. Exit code 0
unless ``--strict`` and a goal fails.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "latest.json"

SCALES: dict[str, dict[str, int]] = {
    # a smoke test of the benchmark itself
    "small": {
        "maps": 100,
        "steps_per_map": 10,
        "items_per_map": 10,
        "projects": 50,
        "measurements_per_kpi": 6,
        "kpis_per_map": 2,
    },
    # 1,000 maps, ~20,000 steps, ~20,000 pain points + lane items, ~48,000 measurements
    "default": {
        "maps": 1000,
        "steps_per_map": 20,
        "items_per_map": 20,
        "projects": 500,
        "measurements_per_kpi": 12,
        "kpis_per_map": 4,
    },
    # docs/DESIGN "Storage and scale": 10,000 maps, 200,000 lane items, 5,000 projects,
    # ~1.2 million measurements
    "full": {
        "maps": 10_000,
        "steps_per_map": 20,
        "items_per_map": 20,
        "projects": 5000,
        "measurements_per_kpi": 24,
        "kpis_per_map": 5,
    },
}

# Goals: every page answers within this median wall time, with at most its budget of
# queries, and with no more queries than on the probe's ten times smaller repository.
MEDIAN_SECONDS_GOAL = 1.5
QUERY_BUDGETS = {
    # as tests/test_pages.py: session, user, groups, leadership check, rows per level,
    # the annotated tree, "more levels" counts, filter choices, health, vocabulary
    "repository": 16,
    # as tests/test_pages.py: the grid, the funnel and health, fixed
    "map detail": 19,
    # session, user, permissions, counts, page, filter choices, date hierarchy, tree
    "admin": 15,
}


@dataclass
class Page:
    name: str
    url: str
    budget: int
    users: tuple[str, ...] = ("owner", "superuser")


def pages(biggest_map: str) -> list[Page]:
    admin = QUERY_BUDGETS["admin"]
    return [
        Page("repository tree", "/maps/", QUERY_BUDGETS["repository"]),
        Page("tree: expand a node", f"/maps/?under={biggest_map}", QUERY_BUDGETS["repository"]),
        Page("repository search", "/maps/?q=Journey", QUERY_BUDGETS["repository"]),
        Page("biggest map", f"/maps/{biggest_map}/", QUERY_BUDGETS["map detail"]),
        Page("admin: maps", "/admin/maps/journeymap/", admin),
        Page("admin: pain points", "/admin/maps/painpoint/", admin),
        Page("admin: lane items", "/admin/maps/laneitem/", admin),
        Page("admin: measurements", "/admin/maps/measurement/", admin),
        Page("admin: CX projects", "/admin/maps/cxproject/", admin),
    ]


@dataclass
class Result:
    page: str
    url: str
    user: str
    status: int
    runs: list[float]
    median_s: float
    min_s: float
    cpu_s: float
    queries: int
    db_s: float
    peak_mb: float
    size_kb: float
    budget: int
    probe_queries: int | None = None
    failures: list[str] = field(default_factory=list)
    slowest_queries: list[dict[str, Any]] = field(default_factory=list)
    repeated_queries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


# ------------------------------------------------------------------------------ measure


class QueryLog:
    """Counts and times every query (no 9,000-query cap) and keeps their SQL."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - start, sql))

    def slowest(self, n: int = 3) -> list[dict[str, Any]]:
        top = sorted(self.queries, key=lambda q: q[0], reverse=True)[:n]
        return [{"seconds": round(t, 4), "sql": sql[:400]} for t, sql in top]

    def repeated(self) -> list[dict[str, Any]]:
        """Statements run more than once with different values: the N+1 suspects."""
        shapes = Counter(re.sub(r"\b\d+\b", "N", sql) for _, sql in self.queries)
        return [{"count": n, "sql": sql[:400]} for sql, n in shapes.most_common(3) if n > 1]


def measure(client, page: Page, user: str, runs: int) -> Result:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    gc.collect()
    reset_queries()  # CaptureQueriesContext indexes into a log capped at 9,000 entries
    log = QueryLog()
    with connection.execute_wrapper(log), CaptureQueriesContext(connection) as captured:
        response = client.get(page.url)  # also the warm-up
    status = response.status_code
    size = len(response.content)
    queries = len(log.queries)
    if queries <= 9000 and queries != len(captured.captured_queries):
        print(f"  note: {queries} queries run, {len(captured)} captured", file=sys.stderr)
    db_seconds = sum(t for t, _ in log.queries)

    times = []
    cpu_times = []  # this process's CPU: robust when other work shares the machine
    for _ in range(runs):
        gc.collect()
        start, cpu_start = time.perf_counter(), time.process_time()
        client.get(page.url)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)

    gc.collect()
    tracemalloc.start()
    client.get(page.url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    median = statistics.median(times)
    failures = []
    if status != 200:
        failures.append(f"status {status}")
    if median > MEDIAN_SECONDS_GOAL:
        failures.append(f"median {median:.2f} s > {MEDIAN_SECONDS_GOAL} s")
    if queries > page.budget:
        failures.append(f"{queries} queries > budget {page.budget}")
    return Result(
        page=page.name,
        url=page.url,
        user=user,
        status=status,
        runs=[round(t, 4) for t in times],
        median_s=round(median, 4),
        min_s=round(min(times), 4),
        cpu_s=round(statistics.median(cpu_times), 4),
        queries=queries,
        db_s=round(db_seconds, 4),
        peak_mb=round(peak / 2**20, 2),
        size_kb=round(size / 1024, 1),
        budget=page.budget,
        failures=failures,
        slowest_queries=log.slowest(),
        repeated_queries=log.repeated(),
    )


def biggest_visible_map(owner) -> str:
    """The visible map with the most steps, pain points and lane items together."""
    from django.db.models import F

    from governance.permissions import visible_maps
    from maps.models import LaneItem, PainPoint, Step
    from maps.selectors import _count_of

    return (
        visible_maps(owner)
        .annotate(
            size=_count_of(Step) + _count_of(PainPoint) + _count_of(LaneItem),
        )
        .order_by(F("size").desc(), "pk")
        .values_list("slug", flat=True)
        .first()
    )


def run_pages(users: dict[str, Any], biggest: str, runs: int) -> list[Result]:
    from django.test import Client

    results = []
    for page in pages(biggest):
        for who in page.users:
            client = Client()
            client.force_login(users[who])
            result = measure(client, page, who, runs)
            results.append(result)
            mark = "PASS" if result.passed else "FAIL"
            print(
                f"  {page.name:<22} {who:<9} {result.median_s:7.3f} s "
                f"{result.queries:3d} q  {mark}",
                file=sys.stderr,
            )
    return results


# -------------------------------------------------------------------------------- probe


def probe_size(size: dict[str, int]) -> dict[str, int]:
    """A tenth of the maps and projects, half of everything per map."""
    return {
        "maps": max(size["maps"] // 10, 20),
        "steps_per_map": max(size["steps_per_map"] // 2, 4),
        "items_per_map": max(size["items_per_map"] // 2, 4),
        "projects": max(size["projects"] // 10, 10),
        "measurements_per_kpi": max(size["measurements_per_kpi"] // 2, 2),
        "kpis_per_map": max(size["kpis_per_map"] // 2, 1),
    }


def run_probe(size: dict[str, int], seed: int) -> dict[str, Any] | None:
    """This script on a small repository, in a subprocess with its own SQLite file."""
    out = PROJECT_DIR / "var" / "bench-probe.json"
    out.unlink(missing_ok=True)
    args = [sys.executable, str(Path(__file__).resolve()), "--no-probe", "--runs", "1"]
    args += ["--db", str(PROJECT_DIR / "var" / "bench-probe.sqlite3"), "--output", str(out)]
    args += ["--seed", str(seed)]
    for key, value in probe_size(size).items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    print(f"probe: {' '.join(args[2:])}", file=sys.stderr)
    done = subprocess.run(args, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    if done.returncode != 0 or not out.exists():
        print(f"probe failed ({done.returncode}):\n{done.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(out.read_text())


def apply_probe(results: list[Result], probe: dict[str, Any]) -> None:
    counts = {(r["page"], r["user"]): r["queries"] for r in probe["pages"]}
    for result in results:
        small = counts.get((result.page, result.user))
        result.probe_queries = small
        if small is not None and result.queries > small:
            result.failures.append(
                f"queries grow with the data: {small} on the probe, {result.queries} here"
            )


# --------------------------------------------------------------------------------- report


def table(results: list[Result]) -> str:
    head = (
        f"{'page':<22} {'user':<9} {'status':>6} {'median s':>9} {'min s':>7} {'cpu s':>6} "
        f"{'queries':>7} "
        f"{'probe q':>7} {'budget':>6} {'db s':>6} {'peak MB':>8} {'KB':>7}  result"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        probe = "-" if r.probe_queries is None else str(r.probe_queries)
        verdict = "PASS" if r.passed else "FAIL: " + "; ".join(r.failures)
        lines.append(
            f"{r.page:<22} {r.user:<9} {r.status:>6} {r.median_s:>9.3f} {r.min_s:>7.3f} "
            f"{r.cpu_s:>6.3f} {r.queries:>7} {probe:>7} {r.budget:>6} {r.db_s:>6.3f} "
            f"{r.peak_mb:>8.1f} {r.size_kb:>7.0f}  {verdict}"
        )
    return "\n".join(lines)


def environment() -> dict[str, Any]:
    import django
    from django.conf import settings
    from django.db import connection

    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "database": connection.vendor,
        "database_version": ".".join(map(str, connection.Database.sqlite_version_info))
        if connection.vendor == "sqlite"
        else None,
        "debug": settings.DEBUG,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


# ----------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(PROJECT_DIR))
    from benchmarks.bootstrap import DEFAULT_DB, migrate, setup_django
    from benchmarks.generate import add_size_arguments, size_from_args

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    add_size_arguments(parser)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page (default 5)")
    parser.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB,
        help=f"SQLite file, recreated, when DATABASE_URL is not set (default {DEFAULT_DB})",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database and its data from the previous run (same scale!)",
    )
    parser.add_argument("--no-probe", action="store_true", help="skip the query-growth probe")
    parser.add_argument(
        "--debug", action="store_true", help="measure with DEBUG=True (default: DEBUG=False)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file ({RESULTS})")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal fails")
    args = parser.parse_args(argv)
    size = size_from_args(args, SCALES[args.scale])

    user_db = bool(os.environ.get("DATABASE_URL"))
    url = setup_django(args.db, fresh=not args.reuse)
    print(f"database: {url}", file=sys.stderr)

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from benchmarks.generate import generate, row_counts

    # Measure like production: no query log, no template debug info (the test runner
    # does the same). Set before the first request builds the template engine; it also
    # spares the generator the query log.
    settings.DEBUG = args.debug
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    migrate()
    User = get_user_model()
    already = User.objects.filter(username="bench-admin").exists()
    if already and not args.reuse:
        print(
            "this database already holds benchmark data; use --reuse to measure it as is, "
            "or point DATABASE_URL at an empty database"
            if user_db
            else "could not start from an empty database",
            file=sys.stderr,
        )
        return 2
    if already:
        generation = {"reused": True, "counts": row_counts()}
        print("reusing the existing benchmark data", file=sys.stderr)
    else:
        print(f"generating ({args.scale} scale: {size})", file=sys.stderr)
        generation = generate(**size, log=lambda message: print(message, file=sys.stderr))
        print(f"generated in {generation['seconds']:.1f} s", file=sys.stderr)

    users = {
        "owner": User.objects.get(username="bench-owner-0"),
        "superuser": User.objects.get(username="bench-admin"),
    }
    load_before = round(os.getloadavg()[0], 2)
    biggest = biggest_visible_map(users["owner"])
    print(f"measuring, {args.runs} runs per page; biggest map: {biggest}", file=sys.stderr)
    results = run_pages(users, biggest, args.runs)

    probe = None
    if not args.no_probe:
        probe = run_probe(size, args.seed)
        if probe is not None:
            apply_probe(results, probe)

    print()
    print(table(results))
    counts = generation["counts"]
    print()
    if "seconds" in generation:
        print(f"generation: {generation['seconds']:.1f} s")
    print("rows: " + ", ".join(f"{label} {n:,}" for label, n in counts.items()))

    passed = all(r.passed for r in results)
    report = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "size": size,
        "environment": {**environment(), "load_average_1m_before": load_before},
        "goals": {
            "median_seconds": MEDIAN_SECONDS_GOAL,
            "query_budgets": QUERY_BUDGETS,
            "queries_flat": (
                "no more queries than on the probe: 1/10 of the maps and projects, "
                "1/2 of the content per map"
            ),
        },
        "generation": generation,
        "biggest_map": biggest,
        "runs_per_page": args.runs,
        "pages": [{**asdict(r), "passed": r.passed} for r in results],
        "probe": None
        if probe is None
        else {
            "size": probe["size"],
            "generation_seconds": probe["generation"].get("seconds"),
            "pages": [
                {k: p[k] for k in ("page", "user", "queries", "median_s")} for p in probe["pages"]
            ],
        },
        "passed": passed,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{'PASS' if passed else 'FAIL'}: results in {args.output}")
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())

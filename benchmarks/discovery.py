"""Map discovery at scale: generate a process log of N events (a permit process: 24
activities, a rework loop, optional steps, an alternative branch, three ends) as CSV
sorted by case, CSV with interleaved cases, and XES (traces, gzip), and read each with
``maps.discovery.mining.summarise`` and ``propose``, printing wall and CPU time, the
peak of Python allocations (tracemalloc) and the process's peak RSS.

    .venv/bin/python benchmarks/discovery.py [--events 1000000] [--formats csv,xes]
        [--no-tracemalloc]

No database: discovery reads files only (creating the map is the editor's services).
Each format runs in a fresh process, so one's peak memory does not hide another's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journeyhub.settings")
VAR = ROOT / "var"

MAIN = [
    "submit application",
    "receive confirmation",
    "assign case officer",
    "check completeness",
    "request missing documents",  # optional: 30 %
    "receive documents",
    "check zoning",
    "check building code",
    "consult neighbours",  # optional: 20 %
    "site visit",
    "draft decision",
    "legal review",
    "manager approval",
]
APPROVED = ["send permit", "collect fee", "register permit", "close case"]
REJECTED = ["send refusal", "receive objection", "review objection", "close objection"]
WITHDRAWN = ["applicant withdraws", "archive"]


def case_activities(rng: random.Random) -> list[str]:
    """One case: the main line with optional steps, a rework loop, and one of three ends."""
    path: list[str] = []
    for activity in MAIN:
        if activity == "request missing documents" and rng.random() > 0.3:
            continue
        if activity == "receive documents" and path[-1:] != ["request missing documents"]:
            continue
        if activity == "consult neighbours" and rng.random() > 0.2:
            continue
        path.append(activity)
        if activity == "check building code" and rng.random() < 0.15:
            path += ["check zoning", "check building code"]  # rework: back to zoning
        if activity == "check completeness" and rng.random() < 0.08:
            return path + WITHDRAWN
    ending = rng.random()
    if ending < 0.7:
        return path + APPROVED[: rng.choice((2, 3, 4, 4, 4))]
    return path + (REJECTED if ending < 0.9 else REJECTED[:1])


def cases(events: int, seed: int = 7):
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()
    written = number = 0
    while written < events:
        activities = case_activities(rng)[: events - written]
        moment = start + rng.randrange(3600 * 24 * 365)
        times = []
        for _ in activities:
            moment += rng.randrange(60, 3 * 24 * 3600)
            times.append(moment)
        yield f"{number:08d}", activities, times
        written += len(activities)
        number += 1


def _stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(path: Path, events: int, *, interleaved: bool) -> None:
    rows = (
        f"{case},{activity},{_stamp(moment)},web\n"
        for case, activities, times in cases(events)
        for activity, moment in zip(activities, times, strict=True)
    )
    with path.open("w") as out:
        out.write("case_id,activity,timestamp,channel\n")
        if not interleaved:
            out.writelines(rows)
            return
        # cases interleaved in windows of 1,000 lines: a log in time order, not by case
        window: list[str] = []
        shuffle = random.Random(3).shuffle
        for row in rows:
            window.append(row)
            if len(window) == 1000:
                shuffle(window)
                out.writelines(window)
                window = []
        shuffle(window)
        out.writelines(window)


def write_xes(path: Path, events: int) -> None:
    with gzip.open(path, "wt", compresslevel=3) as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.write('<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">\n')
        for case, activities, times in cases(events):
            out.write(f'<trace>\n<string key="concept:name" value="{case}"/>\n')
            for activity, moment in zip(activities, times, strict=True):
                out.write(
                    f'<event><string key="concept:name" value="{activity}"/>'
                    '<string key="lifecycle:transition" value="complete"/>'
                    f'<date key="time:timestamp" value="{_stamp(moment)}"/></event>\n'
                )
            out.write("</trace>\n")
        out.write("</log>\n")


FILES = {
    "csv": ("bench-discovery.csv", lambda p, n: write_csv(p, n, interleaved=False)),
    "csv-interleaved": (
        "bench-discovery-interleaved.csv",
        lambda p, n: write_csv(p, n, interleaved=True),
    ),
    "xes": ("bench-discovery.xes.gz", write_xes),
}


def measure(kind: str, events: int, traced: bool) -> dict:
    """Run in a child process: read one file, return its figures."""
    import django

    django.setup()
    from maps.discovery.mining import propose, summarise

    path = VAR / f"{events}-{FILES[kind][0]}"
    if traced:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    summary = summarise(lambda: path.open("rb"))
    proposal = propose(summary)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    return {
        "format": kind,
        "events": summary.events,
        "cases": summary.cases,
        "mode": summary.mode,
        "steps": len(proposal.steps),
        "links": [(x.from_position, x.to_position, x.kind, x.share) for x in proposal.links],
        "ends": [(s.activity, s.end_share) for s in proposal.steps if s.end_kind],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "traced_peak_mb": None if peak is None else round(peak / 2**20, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "file_mb": round(path.stat().st_size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,csv-interleaved,xes")
    parser.add_argument("--no-tracemalloc", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.events, not args.no_tracemalloc)))
        return
    VAR.mkdir(exist_ok=True)
    for kind in args.formats.split(","):
        name, write = FILES[kind]
        path = VAR / f"{args.events}-{name}"
        if not path.exists():
            write(path, args.events)
        command = [sys.executable, __file__, "--events", str(args.events), "--child", kind]
        if args.no_tracemalloc:
            command.append("--no-tracemalloc")
        result = json.loads(subprocess.run(command, capture_output=True, text=True).stdout)
        links = result.pop("links")
        ends = result.pop("ends")
        print(json.dumps(result))
        print(f"  {len(links)} links: {links}")
        print(f"  ends: {ends}")


if __name__ == "__main__":
    main()

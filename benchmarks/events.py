"""Event-log import at scale: generate a 1,000,000-event CSV in ``var/`` and import it
with ``maps.analytics.events_import`` into a fresh benchmark database, printing wall time
and peak memory (tracemalloc: Python allocations; ru_maxrss: the whole process).

    .venv/bin/python benchmarks/events.py [--events 1000000] [--no-tracemalloc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = ROOT / "var" / "bench-events.sqlite3"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{DB}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journeyhub.settings")

STEPS = ("apply", "details", "verify", "check", "sign", "card", "activate", "login")


def write_log(path: Path, events: int, seed: int = 7) -> tuple[int, int]:
    """A funnel with drop-offs and verify → details loops; (events, cases) written."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    written = cases = 0
    with path.open("w") as out:
        out.write("case_id,step_key,timestamp,channel,outcome\n")
        while written < events:
            case = f"c{cases:08d}"
            cases += 1
            moment = start + dt.timedelta(minutes=rng.randrange(60 * 24 * 28))
            index = loops = 0
            while written < events:
                out.write(f"{case},{STEPS[index]},{moment:%Y-%m-%dT%H:%M:%SZ},app,\n")
                written += 1
                if index == len(STEPS) - 1 or rng.random() < 0.06:
                    break
                moment += dt.timedelta(minutes=rng.randrange(1, 600))
                if STEPS[index] == "verify" and loops < 2 and rng.random() < 0.2:
                    index, loops = 1, loops + 1
                else:
                    index += 1
    return written, cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--no-tracemalloc", action="store_true", help="time without tracing")
    args = parser.parse_args()

    import django

    DB.unlink(missing_ok=True)
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from maps.analytics import events_import
    from maps.models import JourneyMap, Step

    owner = get_user_model().objects.create(username="bench-events")
    journey_map = JourneyMap.objects.create(title="Bench events", slug="bench-events", owner=owner)
    Step.objects.bulk_create(
        Step(map=journey_map, key=key, name=key.title(), position=i) for i, key in enumerate(STEPS)
    )
    path = ROOT / "var" / "bench-events.csv"
    began = time.perf_counter()
    events, cases = write_log(path, args.events)
    size = path.stat().st_size
    print(
        f"generated {events:,} events of {cases:,} cases, {size / 2**20:.1f} MB "
        f"in {time.perf_counter() - began:.1f} s: {path}"
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not args.no_tracemalloc:
        tracemalloc.start()
    began = time.perf_counter()
    cpu = time.process_time()
    with path.open("rb") as stream:
        result = events_import(journey_map=journey_map, stream=stream, size=size)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if not args.no_tracemalloc else None
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"imported {result['events']:,} events of {result['cases']:,} cases in {wall:.1f} s "
        f"(CPU {cpu:.1f} s); completion {result['completion_rate']} %, "
        f"median duration {result['median_duration_hours']} h"
    )
    if peak is not None:
        print(f"peak Python memory (tracemalloc): {peak / 2**20:.1f} MB")
    print(f"process max RSS: {rss_before / 1024:.0f} MB before, {rss_after / 1024:.0f} MB after")


if __name__ == "__main__":
    main()

"""``manage.py rebuild_derived_data``: refill the derived data kept by database triggers
(KPI latest values, pain point counts, stored health's generations) from the source
tables and reinstall the triggers (after a restore that skipped them, or to be sure).
``--check`` only lists what differs from the expected triggers, and fails if anything
does."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from maps import derived


class Command(BaseCommand):
    help = (
        "Rebuild the derived data kept by database triggers from the source tables and "
        "reinstall the triggers."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only list the triggers that are missing or differ; fail if any do.",
        )

    def handle(self, *args, database: str = "default", check: bool = False, **options) -> None:
        if check:
            problems = derived.differences(database)
            if problems:
                raise CommandError("derived-data triggers: " + "; ".join(problems))
            self.stdout.write("derived-data triggers: all installed as declared")
            return
        started = time.perf_counter()
        timings = derived.rebuild(database)
        for name, seconds in timings:
            self.stdout.write(f"{name}: rebuilt in {seconds:.2f} s")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"derived data: {len(timings)} groups, triggers installed, {elapsed:.1f} s"
        )

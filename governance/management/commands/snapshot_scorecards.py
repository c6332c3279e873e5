"""``manage.py snapshot_scorecards``: store every map's scorecard for today (what the
nightly task does), or back-fill monthly snapshots so trends show from day one."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from governance import scoring


class Command(BaseCommand):
    help = (
        "Store today's balanced-scorecard snapshot of every journey map (idempotent: a "
        "second run the same day replaces the first). With --backfill-months N, store one "
        "snapshot per month for the last N months, each computed from the measurements as "
        "they were at that month's end."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            help="Store the snapshot under this date (YYYY-MM-DD) instead of today.",
        )
        parser.add_argument(
            "--backfill-months",
            type=int,
            default=0,
            metavar="N",
            help="Also store the month-end snapshots of the N−1 months before this one.",
        )

    def handle(self, *args, **options) -> None:
        months = options["backfill_months"]
        if months < 0:
            raise CommandError("--backfill-months must be 0 or more.")
        started = time.perf_counter()
        if months:
            dates = scoring.scorecard_backfill(months=months, today=options["date"])
            written = f"{len(dates)} monthly snapshots per map, {dates[0]} to {dates[-1]}"
        else:
            count = scoring.scorecard_snapshot_all(day=options["date"])
            written = f"{count} snapshots for {options['date'] or 'today'}"
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Stored {written} in {elapsed:.1f} s."))

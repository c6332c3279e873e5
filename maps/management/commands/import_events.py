"""``manage.py import_events MAP_SLUG FILE [--period YYYY-MM-DD]``: an event log into a
map's analytics KPIs, synchronously, all or nothing (``maps.analytics``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from maps.analytics import event_import_create, event_import_run, summary_text
from maps.models import EventImport, JourneyMap


class Command(BaseCommand):
    help = (
        "Import an event log (CSV: case_id or customer_id, step_key, timestamp, optional "
        "channel and outcome) for a map: per-step funnel figures become measurements of the "
        "map's analytics KPIs. Any bad line: nothing is imported, the problems are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("map_slug")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--period",
            type=dt.date.fromisoformat,
            help="Date to record the figures on (default: first day of the last event's month).",
        )
        parser.add_argument(
            "--activity-column",
            default="",
            help="The column naming the steps (default: step_key, step or activity); values "
            "that are not step keys go through the map's activity mapping.",
        )
        parser.add_argument(
            "--leave-out-unmapped",
            action="store_true",
            help="Leave out (and count) the rows of activities mapped to no step, instead of "
            "refusing the log.",
        )

    def handle(
        self,
        *args,
        map_slug: str,
        file: Path,
        period=None,
        activity_column: str = "",
        leave_out_unmapped: bool = False,
        **options,
    ):
        journey_map = JourneyMap.objects.filter(slug=map_slug).first()
        if journey_map is None:
            raise CommandError(f"No journey map with the slug “{map_slug}”.")
        try:
            stream = file.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        with stream:
            # the same record and service as an upload, run here rather than by a worker
            queued = event_import_create(
                journey_map=journey_map,
                file=File(stream, name=file.name),
                period=period,
                activity_column=activity_column,
                enqueue=False,
            )
        if leave_out_unmapped:
            EventImport.objects.filter(pk=queued.pk).update(mapping_confirmed=True)
        event_import = event_import_run(import_id=queued.pk) or queued
        if event_import.status == EventImport.Status.MAPPING:
            # nobody will map them here: the log is not kept waiting
            EventImport.objects.filter(pk=queued.pk).update(status=EventImport.Status.FAILED)
            event_import.file.delete(save=False)
            EventImport.objects.filter(pk=queued.pk).update(file="")
            problems = event_import.result["problems"]
            raise CommandError(
                "Nothing was imported:\n"
                + "\n".join(f"  {p}" for p in problems)
                + "\nMap them in the browser (the map's event logs page), or give "
                "--leave-out-unmapped."
            )
        if event_import.status != EventImport.Status.DONE:
            problems = event_import.result.get("problems") or [event_import.error]
            raise CommandError("Nothing was imported:\n" + "\n".join(f"  {p}" for p in problems))
        self.stdout.write(self.style.SUCCESS(summary_text(event_import.result)))

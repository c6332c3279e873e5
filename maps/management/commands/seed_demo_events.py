"""``manage.py seed_demo_events``: import demo event logs for "Open an account", one per
30-day window over the last 90 days, so its analytics KPIs have a trend and the map a
funnel. Idempotent: running it again replaces the demo imports and updates the same
KPIs and measurements."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from maps.analytics import event_import_create, event_import_run, summary_text
from maps.demo_events import DEMO_MAP, demo_event_log
from maps.models import EventImport, JourneyMap

FILE_PREFIX = "demo-events-"
WINDOWS = 3  # 30-day windows, oldest first
WINDOW_DAYS = 30


class Command(BaseCommand):
    help = "Import the demo event logs of the demo map “Open an account” (run seed_demo first)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=700, help="Journeys per window.")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the demo map has event imports already (used by `make run`).",
        )

    def handle(self, *args, cases: int, **options):
        journey_map = JourneyMap.objects.filter(slug=DEMO_MAP).select_related("owner").first()
        if journey_map is None:
            if options["if_empty"]:
                return  # not the demo repository: nothing to add to
            raise CommandError(f"No map “{DEMO_MAP}”: run manage.py seed_demo first.")
        if options["if_empty"] and EventImport.objects.filter(map=journey_map).exists():
            self.stdout.write("The demo map has event imports already; none added.")
            return
        # earlier demo imports, by their file's name (kept in the result once the file is
        # removed after its import)
        earlier = EventImport.objects.filter(map=journey_map).filter(
            Q(file__contains=f"/{FILE_PREFIX}") | Q(result__file_name__startswith=FILE_PREFIX)
        )
        for old in earlier:
            old.file.delete(save=False)
            old.delete()
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        for window in range(WINDOWS):
            start = today - dt.timedelta(days=WINDOW_DAYS * (WINDOWS - window))
            period = (start + dt.timedelta(days=WINDOW_DAYS - 1)).date()
            text = demo_event_log(
                start=start, days=WINDOW_DAYS, cases=cases, seed=window + 1, lift=0.01 * window
            )
            queued = event_import_create(
                journey_map=journey_map,
                file=ContentFile(text.encode(), name=f"{FILE_PREFIX}{period:%Y-%m-%d}.csv"),
                by=journey_map.owner,
                period=period,  # each window's figures on its last day: a monthly trend
                enqueue=False,
            )
            done = event_import_run(import_id=queued.pk)
            if done is None or done.status != EventImport.Status.DONE:
                raise CommandError(f"The demo import failed: {done.error if done else '?'}")
            self.stdout.write(f"{DEMO_MAP} {period}: {summary_text(done.result)}")

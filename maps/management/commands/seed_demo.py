"""``manage.py seed_demo``: build (or bring back) the retail-bank demo repository."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from maps.demo import PASSWORD, seed_demo
from maps.models import JourneyMap


class Command(BaseCommand):
    help = (
        "Create the retail-bank demo repository: users, teams and reviews, and the "
        "journeyhub/1 file maps/data/demo.journeyhub.json (personas, a customer lifecycle "
        "with its journeys and task maps, pain points, KPIs, ratings and CX projects) "
        "through the importer. Idempotent: running it again changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if the repository already holds journey maps (used by `make run`).",
        )

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and JourneyMap.objects.exists():
            self.stdout.write("The repository already holds journey maps; demo not seeded.")
            return
        started = time.perf_counter()
        with transaction.atomic():
            result = seed_demo()
        elapsed = time.perf_counter() - started
        for line in result.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {elapsed:.1f} s. Sign in as admin, leader, olivia, omar, "
                f"tess or vic with the password “{PASSWORD}”."
            )
        )

"""``manage.py rebuild_search_index``: refill the search index from the maps tables and
reinstall its triggers (after a restore that skipped them, or to be sure)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from search_index import index


class Command(BaseCommand):
    help = "Rebuild the search index from the maps tables and reinstall its triggers."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args, database: str = "default", **options) -> None:
        started = time.perf_counter()
        rows = index.rebuild(database)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"search index: {rows} entries in {elapsed:.1f} s")

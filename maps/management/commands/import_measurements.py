"""``manage.py import_measurements MAP_SLUG FILE``: a CSV or TheyDo metrics file into a
map's KPIs, all or nothing (``maps.imports``)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from maps.imports import ImportRefused, measurements_import
from maps.models import JourneyMap


class Command(BaseCommand):
    help = (
        "Import KPI measurements for a map from a CSV file or TheyDo's metrics file "
        "(THEYDO_METRICS_V1). Any bad row: nothing is imported, the problems are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("map_slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args, map_slug: str, file: Path, **options):
        journey_map = JourneyMap.objects.filter(slug=map_slug).first()
        if journey_map is None:
            raise CommandError(f"No journey map with the slug “{map_slug}”.")
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            result = measurements_import(journey_map=journey_map, content=content)
        except ImportRefused as exc:
            raise CommandError(
                "Nothing was imported:\n" + "\n".join(f"  {p}" for p in exc.problems)
            ) from exc
        self.stdout.write(self.style.SUCCESS(result.summary))

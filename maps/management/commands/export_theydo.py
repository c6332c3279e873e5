"""``manage.py export_theydo MAP_SLUG FORMAT [-o FILE] [--source ID]``: a map's content
as a TheyDo file (``maps.theydo.export``). FORMAT is a format name
(``THEYDO_METRICS_V1`` …) or its kind (``metrics``, ``insights``, ``opportunities``,
``solutions``, ``survey_responses``, ``feedback_responses``). Writes to standard output
unless ``-o`` names a file."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from maps.models import JourneyMap
from maps.theydo.export import ExportRefused, export
from maps.theydo.schemas import FORMATS, KINDS


class Command(BaseCommand):
    help = "Export a map's metrics, insights, opportunities, solutions or responses as TheyDo JSON."

    def add_arguments(self, parser):
        parser.add_argument("map_slug")
        parser.add_argument("format", help=f"one of {', '.join(KINDS)} (or the format's name)")
        parser.add_argument("-o", "--output", type=Path, help="Write to this file.")
        parser.add_argument(
            "--source", help="Responses formats: the surveyId / feedbackId of the source."
        )

    def handle(self, *args, map_slug: str, format: str, output: Path | None = None, **options):
        journey_map = JourneyMap.objects.filter(slug=map_slug).first()
        if journey_map is None:
            raise CommandError(f"No journey map with the slug “{map_slug}”.")
        fmt = KINDS.get(format.lower(), format.upper())
        if fmt not in FORMATS:
            raise CommandError(f"“{format}” is not one of: {', '.join(KINDS)}.")
        try:
            document = export(journey_map, fmt, source=options.get("source"))
        except ExportRefused as exc:
            raise CommandError(str(exc)) from exc
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        self.stderr.write(f"Wrote {fmt} of “{journey_map}” to {output}.")

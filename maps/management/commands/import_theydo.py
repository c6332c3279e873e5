"""``manage.py import_theydo MAP_SLUG FILE [--dry-run]``: a TheyDo file (any of the six
formats) into a map, all or nothing (``maps.theydo``). Prints what was (or, with
``--dry-run``, would be) created, updated and left alone; a refused file prints every
problem and exits with status 1."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from maps.imports import ImportRefused
from maps.models import JourneyMap, TheydoImport
from maps.theydo.engine import theydo_preview
from maps.theydo.jobs import theydo_import_now, theydo_parse, will_do
from maps.theydo.plan import ImportPlan


class Command(BaseCommand):
    help = (
        "Import a TheyDo file (THEYDO_METRICS_V1, THEYDO_INSIGHTS_V1, THEYDO_OPPORTUNITIES_V1, "
        "THEYDO_SOLUTIONS_V1, THEYDO_SURVEY_RESPONSES_V1, THEYDO_FEEDBACK_RESPONSES_V1) into a "
        "map. Any problem: nothing is imported, every problem is listed by JSON path."
    )

    def add_arguments(self, parser):
        parser.add_argument("map_slug")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what the import would do; write nothing."
        )

    def handle(self, *args, map_slug: str, file: Path, dry_run: bool = False, **options):
        journey_map = JourneyMap.objects.filter(slug=map_slug).first()
        if journey_map is None:
            raise CommandError(f"No journey map with the slug “{map_slug}”.")
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        try:
            data = theydo_parse(content)
            if dry_run:
                plan = theydo_preview(journey_map=journey_map, data=data)
            else:
                plan = theydo_import_now(
                    journey_map=journey_map,
                    data=data,
                    via=TheydoImport.Via.COMMAND,
                    file_name=file.name,
                )
        except ImportRefused as exc:
            raise CommandError(
                "Nothing was imported:\n" + "\n".join(f"  {p}" for p in exc.problems)
            ) from exc
        self._report(plan, dry_run=dry_run)

    def _report(self, plan: ImportPlan, *, dry_run: bool) -> None:
        text = f"Dry run, nothing written. {will_do(plan)}" if dry_run else plan.text
        self.stdout.write(self.style.SUCCESS(text))
        self.stdout.write(f"Format: {plan.format}")
        summary = plan.summary()
        labels = ("create", "update", "leave") if dry_run else ("created", "updated", "left")
        for tally, label in zip(("created", "updated", "unchanged"), labels, strict=True):
            for kind, n in summary[tally].items():
                self.stdout.write(f"  {label:<7} {n:>6}  {kind}")
        for name, n in summary["counts"].items():
            self.stdout.write(f"  {name}: {n}")
        for change in plan.of("update"):
            fields = ", ".join(change.fields)
            self.stdout.write(f"  {labels[1]} {change.noun} “{change.key}”: {fields}")
        for note in plan.notes:
            self.stdout.write(f"Note: {note}")

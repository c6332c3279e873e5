"""``manage.py import_delivery_status FILE``: where work items stand, from a delivery tool's
CSV export (Jira, Linear, Azure DevOps …), all or nothing (``maps.delivery``). Meant for a
scheduled job that exports from the tool and loads the file here."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from maps.delivery.status_import import import_delivery_status
from maps.imports import ImportRefused


class Command(BaseCommand):
    help = "Import delivery status by work item key from a CSV export (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV export, or - for stdin.")

    def handle(self, *args, file: str, **options):
        try:
            raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        try:
            result = import_delivery_status(raw, by=None)
        except ImportRefused as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError("Nothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(result.summary))

"""``manage.py import_maps FILE [--under SLUG] [--dry-run] --as USERNAME``: a journeyhub/1
document into the repository, all or nothing, with the permissions of the named user
(``maps.exchange``, docs/exchange.md). Every problem is listed by JSON path."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.permissions import visible_maps
from maps.exchange import ExchangeInvalid, import_document
from maps.exchange.files import parse


class Command(BaseCommand):
    help = "Import a journeyhub/1 JSON document (all or nothing) as the named user."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The journeyhub/1 file, or - for stdin.")
        parser.add_argument("--under", help="The slug of the map the top maps go under.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count, write nothing."
        )
        parser.add_argument(
            "--as", dest="username", required=True, help="Import with this user's permissions."
        )

    def handle(self, *args, file: str, username: str, under=None, dry_run=False, **options):
        user = (
            get_user_model()
            .objects.filter(is_active=True, **{get_user_model().USERNAME_FIELD: username})
            .first()
        )
        if user is None:
            raise CommandError(f"--as: no active user “{username}”.")
        parent = None
        if under:
            parent = visible_maps(user).filter(slug=under).first()
            if parent is None:
                raise CommandError(f"--under: no map “{under}” that {username} may see.")
        try:
            content = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        started = time.perf_counter()
        try:
            summary = import_document(parse(content), by=user, under=parent, dry_run=dry_run)
        except ExchangeInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(str(exc)) from None
        for note in summary.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write(
            self.style.SUCCESS(f"{summary.text} ({time.perf_counter() - started:.1f} s)")
        )

"""``manage.py export_maps SLUG [--no-measurements] [--single] [-o FILE] [--as USERNAME]``:
a map and its subtree as a journeyhub/1 document (``maps.exchange``, docs/exchange.md).

Also keeps the format's JSON Schema in step with the code: ``export_maps --schema``
prints it, ``--write-schema`` rewrites ``docs/exchange/journeyhub-1.schema.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from governance.permissions import visible_maps
from maps.exchange import export_document
from maps.exchange.files import dumps
from maps.exchange.schema import FIELDS_BEGIN, FIELDS_END, document_schema, fields_markdown

SCHEMA_FILE = Path(settings.BASE_DIR) / "docs" / "exchange" / "journeyhub-1.schema.json"
DOC_FILE = Path(settings.BASE_DIR) / "docs" / "exchange.md"


def schema_text() -> str:
    """The schema file's exact text: stable key order, UTF-8, a final newline."""
    return json.dumps(document_schema(), indent=2, ensure_ascii=False) + "\n"


def doc_text(current: str) -> str:
    """docs/exchange.md with its field reference (between the markers) rendered anew."""
    head, _, rest = current.partition(FIELDS_BEGIN)
    _, _, tail = rest.partition(FIELDS_END)
    return head + fields_markdown() + tail


class Command(BaseCommand):
    help = "Export a map (and its subtree) as a journeyhub/1 JSON document."

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="The slug of the map to export.")
        parser.add_argument(
            "--no-measurements",
            action="store_true",
            help="Leave out the KPIs' measurements and observations.",
        )
        parser.add_argument("--single", action="store_true", help="The map alone, no sub-maps.")
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")
        parser.add_argument(
            "--as",
            dest="username",
            help="Export what this user may see (default: everything, as a superuser would).",
        )
        parser.add_argument("--schema", action="store_true", help="Print the JSON Schema.")
        parser.add_argument(
            "--write-schema",
            action="store_true",
            help=f"Rewrite docs/exchange/{SCHEMA_FILE.name} and the field reference of "
            "docs/exchange.md.",
        )

    def handle(self, *args, slug=None, username=None, output=None, **options):
        if options["write_schema"]:
            SCHEMA_FILE.parent.mkdir(parents=True, exist_ok=True)
            SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
            DOC_FILE.write_text(doc_text(DOC_FILE.read_text(encoding="utf-8")), encoding="utf-8")
            self.stdout.write(f"wrote {SCHEMA_FILE.relative_to(settings.BASE_DIR)}")
            self.stdout.write(f"wrote the field reference of {DOC_FILE.name}")
            return
        if options["schema"]:
            self.stdout.write(schema_text(), ending="")
            return
        if not slug:
            raise CommandError("Name the map to export by its slug.")
        user = self._user(username)
        journey_map = visible_maps(user).filter(slug=slug).first()
        if journey_map is None:
            raise CommandError(f"No map “{slug}” that {user.get_username()} may see.")
        document = export_document(
            journey_map,
            user=user,
            measurements=not options["no_measurements"],
            subtree=not options["single"],
        )
        text = dumps(document)
        if output:
            Path(output).write_text(text, encoding="utf-8")
            self.stderr.write(f"{len(document['maps'])} map(s) written to {output}")
        else:
            self.stdout.write(text, ending="")

    @staticmethod
    def _user(username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            user = users.filter(**{get_user_model().USERNAME_FIELD: username}).first()
            if user is None:
                raise CommandError(f"--as: no active user “{username}”.")
            return user
        user = users.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            raise CommandError("No superuser to export as: name a user with --as USERNAME.")
        return user

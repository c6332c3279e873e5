"""``manage.py theydo_schemas [--write | --check]``: our JSON Schemas of TheyDo's six
formats (``maps.theydo.schemas``) as the files under ``docs/theydo/schemas/``. Without
an option it lists the files and whether each is up to date; ``--write`` rewrites them;
``--check`` exits with status 1 when one differs (CI and the tests keep docs in step)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from maps.theydo.schemas import SCHEMAS, schema_file_name

SCHEMA_DIR = Path(settings.BASE_DIR) / "docs" / "theydo" / "schemas"


def schema_text(fmt: str) -> str:
    """The file's exact text: stable key order, UTF-8, a final newline."""
    return json.dumps(SCHEMAS[fmt], indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write or check docs/theydo/schemas/*.schema.json from maps.theydo.schemas."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--write", action="store_true", help="Rewrite the schema files.")
        group.add_argument(
            "--check", action="store_true", help="Exit with status 1 if a file is out of date."
        )

    def handle(self, *args, write: bool = False, check: bool = False, **options):
        stale = []

        def shown(path: Path) -> str:
            return str(path.relative_to(base) if path.is_relative_to(base) else path)

        base = Path(settings.BASE_DIR)
        for fmt in SCHEMAS:
            path = SCHEMA_DIR / schema_file_name(fmt)
            text = schema_text(fmt)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if write and current != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote     {shown(path)}")
            elif current != text:
                stale.append(path)
                self.stdout.write(f"outdated  {shown(path)}")
            else:
                self.stdout.write(f"current   {shown(path)}")
        if check and stale:
            raise CommandError(
                f"{len(stale)} schema file(s) differ from maps.theydo.schemas: "
                "run manage.py theydo_schemas --write"
            )

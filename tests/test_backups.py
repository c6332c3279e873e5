"""The README's "Backups" procedures, run as written: back up, lose data, restore, and the
data is back (SQLite with the online backup API; PostgreSQL with pg_dump/pg_restore).

The shell blocks are read from README.md itself, so the documentation cannot drift from
what is tested. They run in a scratch directory laid out like a checkout (``.venv``,
``manage.py``, ``var/``) against a database of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT, manage, new_sqlite_url, prepare, production_env

# real processes on databases of their own: not repeated by the PostgreSQL pass of make test
pytestmark = pytest.mark.servers

README = ROOT / "README.md"

CREATE = """
from django.contrib.auth.models import User
from maps.models import JourneyMap, PainPoint
owner = User.objects.get(username="admin")
journey = JourneyMap.objects.create(title="Open an account", slug="open-an-account", owner=owner)
PainPoint.objects.create(map=journey, title="ID check fails twice", severity=4)
"""
# what a bad day does after the backup: a map deleted (its pain points with it), one added
DAMAGE = """
from django.contrib.auth.models import User
from maps.models import JourneyMap
JourneyMap.objects.filter(slug="open-an-account").delete()
owner = User.objects.get(username="admin")
JourneyMap.objects.create(title="After the backup", slug="after-the-backup", owner=owner)
"""
CONTENT = """
import json
from maps.models import JourneyMap, PainPoint
print(json.dumps({
    "maps": sorted(JourneyMap.objects.values_list("title", flat=True)),
    "pain_points": sorted(PainPoint.objects.values_list("map__slug", "title")),
}))
"""
BEFORE = {
    "maps": ["Open an account"],
    "pain_points": [["open-an-account", "ID check fails twice"]],
}


def readme_blocks(heading: str) -> list[str]:
    """The ``sh`` blocks under '### <heading>' of the README's Backups section."""
    backups = README.read_text().split("\n## Backups\n", 1)[1].split("\n## ", 1)[0]
    section = backups.split(f"\n### {heading}\n", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def content(env: dict[str, str]) -> dict:
    return json.loads(manage(env, "shell", "--no-imports", "-c", CONTENT))


def follow_the_readme(heading: str, env: dict[str, str], checkout: Path) -> None:
    """Run the section's backup block, the damage, then its restore block, in one shell."""
    backup, restore = readme_blocks(heading)
    damage = (
        '.venv/bin/python manage.py shell --no-imports -c "$DAMAGE"\n'
        '.venv/bin/python manage.py shell --no-imports -c "$CONTENT"\n'
    )
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", backup + damage + restore],
        cwd=checkout,
        env={**env, "DAMAGE": DAMAGE, "CONTENT": CONTENT},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    damaged = json.loads(next(line for line in result.stdout.splitlines() if line[:1] == "{"))
    assert damaged == {"maps": ["After the backup"], "pain_points": []}
    if heading == "SQLite":
        assert "ok" in result.stdout.split()  # the integrity check of the backup


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A directory laid out like a checkout: .venv, manage.py and var/."""
    root = tmp_path / "checkout"
    (root / "var").mkdir(parents=True)
    (root / ".venv").symlink_to(Path(sys.prefix))
    (root / "manage.py").symlink_to(ROOT / "manage.py")
    return root


def test_the_readme_sqlite_backup_and_restore_bring_the_data_back(checkout):
    env = production_env(new_sqlite_url(checkout / "var"))
    prepare(env, superusers=["admin"])
    manage(env, "shell", "--no-imports", "-c", CREATE)
    assert content(env) == BEFORE

    follow_the_readme("SQLite", env, checkout)

    assert content(env) == BEFORE
    assert list((checkout / "backups").glob("journeyhub-*.sqlite3"))


@pytest.mark.postgres
def test_the_readme_postgresql_backup_and_restore_bring_the_data_back(checkout, fresh_postgres_url):
    env = production_env(fresh_postgres_url, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
    prepare(env, superusers=["admin"])
    manage(env, "shell", "--no-imports", "-c", CREATE)
    assert content(env) == BEFORE

    follow_the_readme("PostgreSQL", env, checkout)

    assert content(env) == BEFORE
    assert list((checkout / "backups").glob("journeyhub-*.dump"))

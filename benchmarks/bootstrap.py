"""Point Django at the benchmark database and set it up; standard library only.

Must run before anything imports Django settings: ``DATABASE_URL`` is read once,
when ``journeyhub.settings`` is imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT_DIR / "var" / "bench.sqlite3"


def bench_database_url(path: Path = DEFAULT_DB) -> str:
    return f"sqlite:///{path}"


def setup_django(db_path: Path = DEFAULT_DB, *, fresh: bool = False) -> str:
    """Use ``DATABASE_URL`` if set, else the SQLite file ``db_path``; returns the URL.

    ``fresh`` deletes that SQLite file first (never a database named by the caller's
    own ``DATABASE_URL``).
    """
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journeyhub.settings")
    if not os.environ.get("DATABASE_URL"):
        db_path = db_path.resolve()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = bench_database_url(db_path)
    import django

    django.setup()
    return os.environ["DATABASE_URL"]


def migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)

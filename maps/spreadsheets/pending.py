"""Uploaded spreadsheets waiting between the browser's preview and its confirmation.

The file is kept under ``MEDIA_ROOT/spreadsheet-imports/`` (never served) as
``<token>.bin`` beside ``<token>.json`` (who uploaded it, where it goes, its name),
where the token is 32 random bytes: only the uploader's confirmation, which must come
from the same user, reads it back. A confirmed or discarded upload is removed at once;
one left unconfirmed for ``KEEP_HOURS`` is removed by the next upload.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

KEEP_HOURS = 24
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Pending:
    token: str
    name: str
    under: str | None  # the slug of the map imported into; None: top level
    user_id: int

    @property
    def content(self) -> bytes:
        return _folder().joinpath(f"{self.token}.bin").read_bytes()


def _folder() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "spreadsheet-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pending_save(*, content: bytes, name: str, under: str | None, user_id: int) -> Pending:
    pending_expire()
    token = secrets.token_urlsafe(32)
    folder = _folder()
    folder.joinpath(f"{token}.bin").write_bytes(content)
    meta = {"name": name[:200], "under": under, "user_id": user_id}
    folder.joinpath(f"{token}.json").write_text(json.dumps(meta))
    return Pending(token=token, **meta)


def pending_load(token: str, *, user_id: int, under: str | None) -> Pending | None:
    """The upload ``user_id`` made for ``under``, or None (unknown, expired, someone
    else's, or meant for another map)."""
    if not TOKEN.match(token or ""):
        return None
    try:
        meta = json.loads(_folder().joinpath(f"{token}.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user_id or meta.get("under") != under:
        return None
    return Pending(token=token, **meta)


def pending_discard(token: str) -> None:
    if TOKEN.match(token or ""):
        for suffix in (".bin", ".json"):
            _folder().joinpath(token + suffix).unlink(missing_ok=True)


def pending_expire() -> int:
    """Remove uploads older than ``KEEP_HOURS``; returns how many."""
    cutoff = time.time() - KEEP_HOURS * 3600
    removed = 0
    for path in _folder().glob("*.json"):
        try:
            if path.stat().st_mtime < cutoff:
                pending_discard(path.stem)
                removed += 1
        except OSError:
            continue  # removed by a concurrent request
    return removed

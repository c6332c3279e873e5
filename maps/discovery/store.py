"""The uploaded log between its proposal and "Create map": kept only that long.

An upload is a folder ``MEDIA_ROOT/discovery/<token>/`` holding the log as sent
(``log``) and ``state.json`` (who uploaded it, under which map, its summary). The token
is 24 random URL-safe characters, and only its uploader may open it. The folder goes
when the map is created, when the owner discards it, or ``JOURNEYHUB_DISCOVERY_HOURS``
after the upload (every upload sweeps the expired ones; ``uploads_expire`` for a
periodic task). A refused log is never kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from .mining import LogSummary, summarise

TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
LOG, STATE = "log", "state.json"
CLAIMED = ".creating"  # the folder's suffix while its map is being created


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "discovery"


def _hours() -> int:
    return settings.JOURNEYHUB_DISCOVERY_HOURS


@dataclass
class Upload:
    token: str
    folder: Path
    user_id: int
    parent_id: int | None
    file_name: str
    activity_column: str
    created_at: dt.datetime
    summary: LogSummary

    @property
    def expires_at(self) -> dt.datetime:
        return self.created_at + dt.timedelta(hours=_hours())

    def open_log(self) -> IO[bytes]:
        return (self.folder / LOG).open("rb")


def upload_save(*, upload: File, user, parent_id: int | None, activity_column: str = "") -> Upload:
    """Keep ``upload`` and read its summary; a refused log is removed at once and its
    ``ImportRefused`` raised. Sweeps expired uploads first."""
    uploads_expire()
    token = secrets.token_urlsafe(18)
    folder = _root() / token
    folder.mkdir(parents=True)
    try:
        with (folder / LOG).open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        summary = summarise(lambda: (folder / LOG).open("rb"), activity_column=activity_column)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = (upload.name or "log").replace("\\", "/").rsplit("/", 1)[-1][:200]
    state: dict[str, Any] = {
        "user_id": user.pk,
        "parent_id": parent_id,
        "file_name": name,
        "activity_column": activity_column,
        "created_at": timezone.now().isoformat(),
        "summary": summary.as_json(),
    }
    temporary = folder / f"{STATE}.part"
    temporary.write_text(json.dumps(state), encoding="utf-8")
    temporary.replace(folder / STATE)  # whole or absent, never half-written
    return _loaded(token, folder, state)


def _loaded(token: str, folder: Path, state: dict[str, Any]) -> Upload:
    return Upload(
        token=token,
        folder=folder,
        user_id=state["user_id"],
        parent_id=state["parent_id"],
        file_name=state["file_name"],
        activity_column=state.get("activity_column", ""),
        created_at=dt.datetime.fromisoformat(state["created_at"]),
        summary=LogSummary.from_json(state["summary"]),
    )


def upload_for_user(token: str, user) -> Upload | None:
    """The user's own unexpired upload of ``token``, or None (anyone else's, a malformed
    token, a discarded or expired upload all look the same)."""
    if not TOKEN.fullmatch(token or ""):
        return None
    folder = _root() / token
    try:
        state = json.loads((folder / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    upload = _loaded(token, folder, state)
    if upload.user_id != user.pk:
        return None
    if upload.expires_at <= timezone.now():
        upload_discard(upload)
        return None
    return upload


def upload_claim(upload: Upload) -> Upload | None:
    """Take the upload for one "Create map": its folder is renamed away, so a second
    request at the same moment (a double click) finds nothing instead of creating a
    second map. None when another request took it first."""
    claimed = upload.folder.with_name(f"{upload.token}{CLAIMED}")
    try:
        upload.folder.rename(claimed)
    except OSError:
        return None
    return dataclasses.replace(upload, folder=claimed)


def upload_release(upload: Upload) -> None:
    """Give a claimed upload back (the map was not created)."""
    upload.folder.rename(_root() / upload.token)


def upload_discard(upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)


def uploads_expire(*, now: dt.datetime | None = None) -> int:
    """Remove the uploads older than ``JOURNEYHUB_DISCOVERY_HOURS`` (by the folder's
    time, so a folder whose state was never written goes too). Returns how many."""
    root = _root()
    if not root.is_dir():
        return 0
    cutoff = (now or timezone.now()).timestamp() - _hours() * 3600
    removed = 0
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue  # removed by a concurrent sweep
    return removed

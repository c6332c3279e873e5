"""Reading and writing journeyhub/1 files: UTF-8 JSON, read with ``safe_json`` (depth,
integer digits, finite numbers), written with a stable key order."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils import timezone

from journeyhub.api import safe_json

from .importer import ExchangeInvalid

#: the largest file the API and the browser take (the command reads any size)
MAX_UPLOAD_BYTES = 20 * 2**20  # as the other imports (maps.api.imports)


def parse(content: bytes | str) -> Any:
    """The JSON of a file (a BOM allowed), or ``ExchangeInvalid`` saying why not."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ExchangeInvalid([f"the file is not UTF-8 text (byte {exc.start})"]) from None
    try:
        return safe_json.loads(content)
    except safe_json.JSONRefused as exc:
        raise ExchangeInvalid([str(exc)]) from None


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def file_name(document: dict[str, Any]) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]", "", document.get("root") or "maps")[:80] or "maps"
    return f"{slug}-{timezone.now():%Y%m%d}.journeyhub.json"

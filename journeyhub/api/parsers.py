"""The API's JSON parser: ``journeyhub.api.safe_json.loads`` (depth, integer digits, finite
numbers) behind DRF's parser interface, with a body size limit that answers 413."""

from __future__ import annotations

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from . import safe_json


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {limit / 2**20:.1f} MB; send less data per "
        "request (or a file to the import endpoint)."
    )


class GuardedJSONParser(JSONParser):
    """JSON bodies: at most ``max_bytes`` (``DATA_UPLOAD_MAX_MEMORY_SIZE`` unless a view
    sets more), nested at most 64 deep, integers of at most 30 digits, finite numbers.
    Anything else is a 400 (413 for size) whose message names the JSON path."""

    max_bytes: int | None = None

    def parse(self, stream, media_type=None, parser_context=None):
        limit = self.max_bytes or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = b""
        if stream is not None:
            raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise too_large(limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding) if isinstance(raw, bytes) else raw
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from None
        try:
            return safe_json.loads(text)
        except safe_json.JSONRefused as exc:
            raise ParseError(f"JSON parse error - {exc}") from None

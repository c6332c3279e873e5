"""The API's exception handler: DRF's, plus JSON answers for what Django raises while
reading a request (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, too many form fields or
files), which would otherwise become Django's HTML 400 page."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.views import exception_handler as drf_exception_handler

from .parsers import too_large


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = ParseError(str(exc))
    elif isinstance(exc, MultiPartParserError):
        exc = ParseError(f"Multipart form parse error - {exc}")
    response = drf_exception_handler(exc, context)
    # A ValidationError raised outside a serializer (e.g. DRF's search filter refusing a
    # NUL character) has a list for its body; the documented error body is an object.
    if response is not None and isinstance(response.data, list):
        response.data = {"detail": " ".join(str(message) for message in response.data)}
    return response

"""API throttles (DRF); the token endpoint's view is in ``journeyhub/api_urls.py``.

Limits (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, documented in the README):

* ``token`` — ``POST /api/auth/token/``, per client IP: slows password guessing through
  the API (sign-in in the browser is locked out by django-axes instead);
* ``imports`` — the import endpoints (views with ``throttle_scope = "imports"``), per user;
* ``writes`` — every other POST, PUT, PATCH and DELETE of the API, per user.

Reads are not throttled. An answer over a limit is 429 with ``Retry-After``.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle, UserRateThrottle


class _LiveRates:
    """DRF binds ``THROTTLE_RATES`` once, when its classes are defined; read the current
    settings instead, so a changed setting (tests, ``override_settings``) takes effect."""

    @property
    def THROTTLE_RATES(self) -> dict:  # DRF reads this name
        return api_settings.DEFAULT_THROTTLE_RATES


class ScopedThrottle(_LiveRates, ScopedRateThrottle):
    """Views that name a ``throttle_scope`` (token, imports) get that scope's limit."""


class WriteThrottle(_LiveRates, UserRateThrottle):
    """Writes per user (or per IP for anonymous requests); reads pass."""

    scope = "writes"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "throttle_scope", None):
            return True  # reads are free; scoped views count against their own limit
        return super().allow_request(request, view)


class ShareLinkThrottle(_LiveRates, SimpleRateThrottle):
    """Openings of public share links (``/s/<token>/``) per client IP, whatever the
    token: the page needs no sign-in, so this is what keeps a scraper or a token
    guesser slow. Used by a plain Django view: only ``request.META`` is read."""

    scope = "share_links"

    def get_ident(self, request) -> str:
        # DRF trusts X-Forwarded-For unless NUM_PROXIES is set; anyone can send that
        # header, so without a configured proxy count only the socket's address counts
        if api_settings.NUM_PROXIES is None:
            return request.META.get("REMOTE_ADDR", "")
        return super().get_ident(request)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

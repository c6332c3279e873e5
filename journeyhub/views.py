"""Friendly error pages: 403 and 404 keep the site's navigation and say why; the
sign-in lockout page (django-axes) says for how long.

The reason is the policy's own message (``PermissionDenied("Only the owner …")``,
``Http404("No such journey map.")``). The JSON API keeps answering JSON (DRF renders
its own errors; these handlers only see API paths that match no view)."""

from __future__ import annotations

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404

DEFAULT_403 = "You do not have access to this page."
DEFAULT_404 = "There is no page at this address."


def _reason(exception: Exception | None, default: str) -> str:
    """The exception's message when it was written for people (a plain string), else
    ``default``: the URL resolver's 404 carries the patterns it tried, never shown."""
    if exception is None or isinstance(exception, Resolver404):
        return default
    args = getattr(exception, "args", ())
    if len(args) == 1 and isinstance(args[0], str) and args[0].strip():
        return args[0]
    return default


def _wants_json(request: HttpRequest) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _error_page(
    request: HttpRequest, exception: Exception | None, *, status: int, default: str
) -> HttpResponse:
    reason = _reason(exception, default)
    if _wants_json(request):
        return JsonResponse({"detail": reason}, status=status)
    return render(request, f"{status}.html", {"reason": reason}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, exception, status=403, default=DEFAULT_403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, exception, status=404, default=DEFAULT_404)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer once a username + IP has too many failed sign-ins (429)."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {
        "username": get_client_username(request, credentials) or "",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": minutes,
    }
    if _wants_json(request):
        detail = "Too many failed sign-ins; try again later."
        return JsonResponse({"detail": detail, **context}, status=429)
    return render(request, "registration/locked_out.html", context, status=429)

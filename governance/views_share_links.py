"""Share links in the browser: made and revoked on the map's sharing page, opened by
anyone at ``/s/<token>/`` without signing in (governance/share_links.py has the rules)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from journeyhub.throttling import ShareLinkThrottle

from . import permissions, share_links
from .models import ShareLink
from .permissions import Action

NEW_LINK_SESSION_KEY = "share_link_new"


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=share_links.LABEL_MAX,
        required=False,
        label="Label",
        help_text=(
            "Who the link is for, e.g. “agency workshop”. Only those who may share the map see it."
        ),
    )
    expires_on = forms.DateField(
        required=False,
        label="Last day",
        help_text="Empty: the link works until you revoke it.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def share_links_context(request: HttpRequest, journey_map, link_form=None) -> dict:
    """What the sharing page's "Links" section shows: the map's links, the form, and a
    link just made (its address is shown this once, then only its first characters)."""
    new_link = request.session.pop(NEW_LINK_SESSION_KEY, None)
    if new_link and new_link.get("map") != journey_map.pk:
        new_link = None
    return {
        "share_links": list(share_links.share_links_of_map(journey_map)),
        "link_form": link_form or ShareLinkForm(),
        "new_link": new_link,
        "today": timezone.localdate(),
        "may_link": journey_map.status == journey_map.Status.PUBLISHED,
    }


@require_POST
@login_required
def share_link_create(request: HttpRequest, slug: str) -> HttpResponse:
    from .views import share_page  # the sharing page owns the rest of its context

    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.SHARE)
    form = ShareLinkForm(request.POST)
    if form.is_valid():
        try:
            link, token = share_links.share_link_create(
                journey_map=journey_map,
                by=request.user,
                label=form.cleaned_data["label"],
                expires_on=form.cleaned_data["expires_on"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            request.session[NEW_LINK_SESSION_KEY] = {
                "map": journey_map.pk,
                "id": link.pk,
                "url": share_links.share_link_url(token),
            }
            messages.success(request, "Link made: copy it now, it is shown only once.")
            return redirect("governance:share", slug=journey_map.slug)
    return share_page(request, journey_map, link_form=form, status=400)


@require_POST
@login_required
def share_link_revoke(request: HttpRequest, slug: str, link_id: int) -> HttpResponse:
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.SHARE)
    link = get_object_or_404(ShareLink.objects.select_related("map"), pk=link_id, map=journey_map)
    share_links.share_link_revoke(link=link, by=request.user)
    messages.success(request, f"Link {link.label or link.token_prefix + '…'} revoked.")
    return redirect("governance:share", slug=journey_map.slug)


# --- the public page ---------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    """Headers of every answer at /s/: not indexed, no referrer sent onwards (the token
    would leak to any site the page links to), not kept by shared caches (a revoked link
    must stop at once)."""
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store, private"
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    # one page for unknown, tampered, revoked, expired and unpublished: no hint which
    return _private(render(request, "public/not_found.html", status=404))


@require_GET
@login_not_required
def public_map(request: HttpRequest, token: str) -> HttpResponse:
    """A published map, read-only, for whoever holds the link."""
    throttle = ShareLinkThrottle()
    if not throttle.allow_request(request, None):
        wait = throttle.wait()
        response = render(request, "public/throttled.html", status=429)
        if wait is not None:
            response["Retry-After"] = str(max(1, round(wait)))
        return _private(response)
    link = share_links.share_link_for_token(token)
    if link is None:
        return _not_found(request)
    journey_map = link.map
    context = {
        "map": journey_map,
        "grid": share_links.public_grid(journey_map),
        "can_edit": False,
        "can_zoom": False,
        "public": True,
    }
    response = render(request, "public/map.html", context)
    share_links.share_link_record_use(
        link=link,
        ip=throttle.get_ident(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return _private(response)

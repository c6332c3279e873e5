"""``/favicon.ico``: browsers ask for it on every page that names no icon (the admin, JSON
in a tab, files); it points at the site's SVG icon instead of answering 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe


@login_not_required
@require_safe
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # a temporary redirect, cached for a day: the target's hashed name changes with the file
    response = HttpResponseRedirect(static("favicon.svg"))
    patch_cache_control(response, public=True, max_age=86400)
    return response

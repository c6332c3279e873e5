"""Browser pages for event-log imports of a map: upload, progress and results.

Everyone who may see the map reads the past imports, their progress and figures (the
funnel on the map page links here); only its editors upload."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from governance import permissions
from governance.permissions import Action

from .analytics import event_import_create
from .models import EventImport
from .selectors import map_crumbs

MAX_UPLOAD_BYTES = 500 * 1024 * 1024
PAST_IMPORTS = 20


class EventImportForm(forms.Form):
    file = forms.FileField(
        label="Event log (CSV)",
        help_text="Columns case_id (or customer_id), step_key, timestamp, channel and an "
        "optional outcome; each case's events together.",
    )
    period = forms.DateField(
        required=False,
        label="Period",
        help_text="The date to record the figures on (YYYY-MM-DD). Empty: the first day "
        "of the month of the last event.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
        return upload


@require_http_methods(["GET", "POST"])
@login_required
def events(request: HttpRequest, slug: str) -> HttpResponse:
    """List the past imports (anyone who may see the map); editors also upload an event
    log, imported by a Celery task."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    can_import = permissions.can(request.user, Action.EDIT, journey_map)
    if request.method == "POST" and not can_import:
        raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])
    form = EventImportForm(request.POST or None, request.FILES or None) if can_import else None
    if form is not None and request.method == "POST" and form.is_valid():
        event_import = event_import_create(
            journey_map=journey_map,
            file=form.cleaned_data["file"],
            by=request.user,
            period=form.cleaned_data["period"],
        )
        return redirect("maps:event-import", slug=journey_map.slug, import_id=event_import.pk)
    imports = list(
        EventImport.objects.filter(map=journey_map)
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")[:PAST_IMPORTS]
    )
    return render(
        request,
        "maps/events.html",
        {
            "map": journey_map,
            "crumbs": map_crumbs(journey_map, visible=permissions.visible_maps(request.user)),
            "form": form,
            "imports": imports,
            "can_import": can_import,
        },
    )


@require_GET
@login_required
def event_import(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """One import: its progress bar, polled by htmx until it finishes, then its figures.
    htmx requests get only the partial. Read-only: anyone who may see the map."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    event_import = (
        EventImport.objects.filter(map=journey_map, pk=import_id)
        .select_related("uploaded_by")
        .first()
    )
    if event_import is None:
        raise Http404("No such event import on this map.")
    event_import.map = journey_map
    context = {"map": journey_map, "event_import": event_import}
    if request.htmx:
        response = render(request, "maps/partials/events_status.html", context)
    else:
        visible = permissions.visible_maps(request.user)
        context["crumbs"] = map_crumbs(journey_map, visible=visible)
        response = render(request, "maps/events_import.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response

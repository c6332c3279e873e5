"""Browser pages for importing a TheyDo file into a map: upload, the preview of what the
import will create, update and leave alone (nothing written yet), the confirmation, the
progress bar of the import task and what it did. The map's editors only: 404 for those
who cannot see the map, 403 for those who may only read it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import permissions
from governance.permissions import Action

from .models import JourneyMap, TheydoImport
from .selectors import map_crumbs
from .theydo import jobs
from .upload_jobs import with_outcome_texts

PAST_IMPORTS = 20
ACTIONS = ("create", "update", "unchanged")  # a change's action, in the table's order
TALLIES = ("created", "updated", "unchanged")  # a summary's counts by kind


class TheydoUploadForm(forms.Form):
    file = forms.FileField(
        label="TheyDo file (JSON)",
        help_text=f"One of TheyDo's six import formats, at most "
        f"{jobs.MAX_UPLOAD_BYTES // 2**20} MB. Nothing is written before you confirm.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > jobs.MAX_UPLOAD_BYTES:
            message = jobs.too_large(upload.size)
            raise forms.ValidationError(f"{message[0].upper()}{message[1:]}.")
        return upload


def _map(request: HttpRequest, slug: str) -> JourneyMap:
    return permissions.get_map_for_user(request.user, slug, action=Action.EDIT)


def _job(journey_map: JourneyMap, import_id: int) -> TheydoImport:
    job = (
        TheydoImport.objects.filter(map=journey_map, pk=import_id)
        .select_related("uploaded_by")
        .first()
    )
    if job is None:
        raise Http404("No such TheyDo import on this map.")
    job.map = journey_map
    return job


@require_http_methods(["GET", "POST"])
@login_required
def theydo_imports(request: HttpRequest, slug: str) -> HttpResponse:
    """The upload form and the map's past imports; an upload is previewed at once and
    the browser is sent to its preview."""
    journey_map = _map(request, slug)
    # bound on every POST: a POST without the file is a form error, not a blank form
    form = (
        TheydoUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else TheydoUploadForm()
    )
    if request.method == "POST" and form.is_valid():
        job = jobs.theydo_upload_preview(
            journey_map=journey_map, upload=form.cleaned_data["file"], by=request.user
        )
        return redirect("maps:theydo-import", slug=journey_map.slug, import_id=job.pk)
    # the summaries can hold hundreds of changes: the list reads only their sentences
    past = with_outcome_texts(
        TheydoImport.objects.filter(map=journey_map).select_related("uploaded_by")
    )[:PAST_IMPORTS]
    return render(
        request,
        "maps/theydo_import.html",
        {
            "map": journey_map,
            "crumbs": map_crumbs(journey_map, visible=permissions.visible_maps(request.user)),
            "form": form,
            "imports": list(past),
            "preview_hours": jobs.preview_hours(),
        },
    )


def summary_view(summary: dict[str, Any], *, done: bool) -> dict[str, Any]:
    """A plan summary as the page shows it: per kind, how many are created, updated
    and left alone; the other counts in words; the changes, new and updated first."""
    kinds: list[str] = []
    for tally in TALLIES:
        kinds += [k for k in summary.get(tally, {}) if k not in kinds]
    rows = [
        {"kind": kind, **{tally: summary.get(tally, {}).get(kind, 0) for tally in TALLIES}}
        for kind in kinds
    ]
    counts = []
    for name, n in summary.get("counts", {}).items():
        if name == "observations":
            points = f"{n} data point{'s' if n != 1 else ''}"
            counts.append(f"{points} recorded" if done else f"{points} to record")
        elif name == "periods":
            values = f"{n} period value{'s' if n != 1 else ''}"
            counts.append(f"{values} computed" if done else f"{values} to compute")
        elif name.endswith(" created"):  # tags, tag groups, groups the file names
            noun = name.removesuffix(" created")
            noun = noun.removesuffix("s") if n == 1 else noun
            counts.append(f"{n} {noun} created" if done else f"{n} {noun} to be created")
        else:
            counts.append(f"{n} {name}")
    changes = sorted(summary.get("changes", []), key=lambda c: ACTIONS.index(c["action"]))
    total = summary.get("changes_total", len(changes))
    return {
        **summary,
        "rows": rows,
        "totals": {tally: sum(row[tally] for row in rows) for tally in TALLIES},
        "count_lines": counts,
        "changes": changes,
        "changes_hidden": max(total - len(changes), 0),
    }


def _tally(summary: dict[str, Any]) -> tuple:
    return tuple(summary.get(tally, {}) for tally in TALLIES)


@require_GET
@login_required
def theydo_import(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """One import: its preview and the button that confirms it; then its progress bar,
    polled by htmx until it finishes; then what it did, or every problem. htmx requests
    get only the status partial."""
    journey_map = _map(request, slug)
    job = _job(journey_map, import_id)
    context: dict[str, Any] = {
        "map": journey_map,
        "job": job,
        "preview_hours": jobs.preview_hours(),
        "status_url": reverse("maps:theydo-import", args=[journey_map.slug, job.pk]),
        "confirm_url": reverse("maps:theydo-import-confirm", args=[journey_map.slug, job.pk]),
        "discard_url": reverse("maps:theydo-import-discard", args=[journey_map.slug, job.pk]),
        "upload_url": reverse("maps:theydo-imports", args=[journey_map.slug]),
        "summary_template": "maps/partials/theydo_import_summary.html",
        "done_template": "maps/partials/theydo_import_done.html",
        "subject": "map",
    }
    if job.status == TheydoImport.Status.PREVIEWED:
        context["summary"] = summary_view(job.preview, done=False)
    elif job.status == TheydoImport.Status.DONE:
        context["summary"] = summary_view(job.result, done=True)
        # the engine planned again at import time: say so when that differed
        context["replanned"] = bool(job.preview) and _tally(job.preview) != _tally(job.result)
    if request.htmx:
        response = render(request, "maps/partials/import_job_status.html", context)
    else:
        context["crumbs"] = map_crumbs(journey_map, visible=permissions.visible_maps(request.user))
        response = render(request, "maps/theydo_import_job.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@login_required
def theydo_import_confirm(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """Confirm a preview: the import task runs (at once without a broker). Confirming
    twice imports once; the page shows where the import is."""
    journey_map = _map(request, slug)
    job = _job(journey_map, import_id)
    jobs.theydo_import_confirm(job=job)
    return redirect("maps:theydo-import", slug=journey_map.slug, import_id=job.pk)


@require_POST
@login_required
def theydo_import_discard(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """Drop a preview and its file without importing; a started or finished import
    stays on record."""
    journey_map = _map(request, slug)
    job = _job(journey_map, import_id)
    if not jobs.theydo_preview_discard(job=job):
        return redirect("maps:theydo-import", slug=journey_map.slug, import_id=job.pk)
    return redirect("maps:theydo-imports", slug=journey_map.slug)

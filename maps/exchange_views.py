"""Browser pages for the journeyhub/1 exchange format: "Export" on a map (the subtree or
the map alone, as the reader may see it) and "Import maps": upload, the preview of what
the import will create, update and leave alone per map (nothing written yet), the
confirmation, the progress bar of the import task and what it did."""

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

from .exchange import export_document
from .exchange import jobs as exchange_jobs
from .exchange.files import dumps, file_name
from .models import ExchangeImport, JourneyMap
from .upload_jobs import UploadKind, with_outcome_texts

PAST_IMPORTS = 20
TALLIES = ("created", "updated", "unchanged")


def _under_choices(user):
    """The maps an upload may go under: those where the user may add sub-maps."""
    # leadership may grow the repository anywhere (``permissions.can``, CREATE_SUBMAP)
    if permissions.is_leadership(user):
        maps = permissions.visible_maps(user)
    else:
        maps = permissions.editable_maps(user)
    return maps.order_by("tree_id", "lft").only("pk", "title", "level", "slug")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="journeyhub/1 file (JSON)",
        help_text=f"Maps exported from JourneyHub (“Export” on a map page), at most "
        f"{exchange_jobs.MAX_UPLOAD_BYTES // 2**20} MB. Nothing is written before you confirm.",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )
    under = forms.ModelChoiceField(
        queryset=JourneyMap.objects.none(),
        required=False,
        label="Put the file's top maps under",
        empty_label="Where the file says (new top-level maps: CX leadership and admins)",
        help_text="Maps already in JourneyHub are matched by their slug and updated in place.",
    )

    def __init__(self, *args, user, kind: UploadKind = exchange_jobs.KIND, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["under"].queryset = _under_choices(user)
        self.fields["under"].label_from_instance = lambda m: f"{'— ' * m.level}{m.title}"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.kind.max_bytes():
            message = self.kind.too_large(upload.size)
            raise forms.ValidationError(f"{message[0].upper()}{message[1:]}.")
        return upload


@require_GET
@login_required
def map_export(request: HttpRequest, slug: str) -> HttpResponse:
    """Download the map (``?subtree=0``: without its sub-maps; ``?measurements=0``:
    without observations and measurements) as a journeyhub/1 document, holding only what
    the reader may see."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    subtree = request.GET.get("subtree") != "0"
    measurements = request.GET.get("measurements") != "0"
    document = export_document(
        journey_map, user=request.user, measurements=measurements, subtree=subtree
    )
    body = dumps(document)
    name = file_name(document)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _own_job(request: HttpRequest, import_id: int) -> ExchangeImport:
    job = (
        ExchangeImport.objects.filter(pk=import_id, uploaded_by=request.user)
        .select_related("uploaded_by", "under")
        .first()
    )
    if job is None:
        raise Http404("No such import of yours.")
    return job


@require_http_methods(["GET", "POST"])
@login_required
def imports(request: HttpRequest) -> HttpResponse:
    """The upload form and your past imports; an upload is previewed at once."""
    initial = {}
    if request.GET.get("under"):
        initial["under"] = JourneyMap.objects.filter(slug=request.GET["under"]).first()
    form = (
        ImportUploadForm(request.POST, request.FILES, user=request.user)
        if request.method == "POST"
        else ImportUploadForm(user=request.user, initial=initial)
    )
    if request.method == "POST" and form.is_valid():
        job = exchange_jobs.upload_preview(
            upload=form.cleaned_data["file"], by=request.user, under=form.cleaned_data["under"]
        )
        return redirect("maps:import-job", import_id=job.pk)
    past = with_outcome_texts(
        ExchangeImport.objects.filter(uploaded_by=request.user).select_related("under")
    )[:PAST_IMPORTS]
    return render(
        request,
        "maps/import_maps.html",
        {"form": form, "imports": list(past), "preview_hours": exchange_jobs.KIND.preview_hours()},
    )


def summary_view(summary: dict[str, Any]) -> dict[str, Any]:
    """An import summary as the page shows it: one row per map and kind with how many
    rows are created, updated and left alone, the map's own line first."""
    maps = []
    for slug, entry in summary.get("maps", {}).items():
        kinds: list[str] = []
        for tally in TALLIES:
            kinds += [k for k in entry.get(tally, {}) if k not in kinds]
        rows = [
            {"kind": k, **{tally: entry.get(tally, {}).get(k, 0) for tally in TALLIES}}
            for k in kinds
        ]
        maps.append({"slug": slug, "rows": rows})
    totals = {tally: sum(summary.get(tally, {}).values()) for tally in TALLIES}
    return {**summary, "by_map": maps, "totals": totals}


@require_GET
@login_required
def import_job(request: HttpRequest, import_id: int) -> HttpResponse:
    """One import: its preview and the confirm button; then its progress bar, polled by
    htmx until it finishes; then what it did, or every problem."""
    job = _own_job(request, import_id)
    context: dict[str, Any] = {
        "job": job,
        "preview_hours": exchange_jobs.KIND.preview_hours(),
        "status_url": reverse("maps:import-job", args=[job.pk]),
        "confirm_url": reverse("maps:import-confirm", args=[job.pk]),
        "discard_url": reverse("maps:import-discard", args=[job.pk]),
        "upload_url": reverse("maps:import"),
        "summary_template": "maps/partials/import_maps_summary.html",
        "done_template": "maps/partials/import_maps_done.html",
        "subject": "maps",
    }
    if job.status == ExchangeImport.Status.PREVIEWED:
        context["summary"] = summary_view(job.preview)
    elif job.status == ExchangeImport.Status.DONE:
        context["summary"] = summary_view(job.result)
        context["maps"] = list(
            permissions.visible_maps(request.user)
            .filter(slug__in=list(job.result.get("maps", {})))
            .order_by("tree_id", "lft")
            .only("slug", "title", "level")
        )
    template = "maps/partials/import_job_status.html" if request.htmx else "maps/import_job.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@login_required
def import_confirm(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _own_job(request, import_id)
    exchange_jobs.confirm(job=job)
    return redirect("maps:import-job", import_id=job.pk)


@require_POST
@login_required
def import_discard(request: HttpRequest, import_id: int) -> HttpResponse:
    job = _own_job(request, import_id)
    if not exchange_jobs.discard(job=job):
        return redirect("maps:import-job", import_id=job.pk)
    return redirect("maps:import")

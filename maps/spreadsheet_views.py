"""Browser pages for spreadsheets (``maps.spreadsheets``): "Import from a spreadsheet"
(upload → preview of what will be created and updated, nothing written → confirm), under
a map the user may add maps to or at the top level (CX leadership and admins); the
template workbook; a map's "Export as XLSX" (everyone who may see the map)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from governance import permissions
from governance.permissions import Action

from .imports import ImportRefused
from .models import JourneyMap
from .selectors import map_crumbs
from .spreadsheets import columns, pending, reader, writer
from .spreadsheets.service import count_text, spreadsheet_import

TOP_LEVEL_DENIED = (
    "Only CX leadership and administrators import maps at the top level; open the map "
    "the new maps belong under and import there."
)


class SpreadsheetUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet (XLSX or CSV)",
        help_text=f"One row per step, at most {reader.MAX_UPLOAD_BYTES // 2**20} MB and "
        f"{reader.MAX_ROWS:,} rows. Nothing is written before you confirm.",
        widget=forms.ClearableFileInput(
            attrs={"accept": f".xlsx,.csv,text/csv,{reader.XLSX_MIME}"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > reader.MAX_UPLOAD_BYTES:
            message = reader.too_large(upload.size)
            raise forms.ValidationError(f"{message[0].upper()}{message[1:]}.")
        return upload


def _under(request: HttpRequest, slug: str | None) -> JourneyMap | None:
    """The gate: a map the user may add maps under (404 unseen, 403 read-only), or the
    top level for CX leadership and admins."""
    if slug is None:
        if not permissions.can_create_top_level_map(request.user):
            raise PermissionDenied(TOP_LEVEL_DENIED)
        return None
    return permissions.get_map_for_user(request.user, slug, action=Action.CREATE_SUBMAP)


@require_http_methods(["GET", "POST"])
@login_required
def spreadsheet_import_page(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """GET: the upload form. POST with a file: the preview (a dry run). POST with
    ``confirm``: the import of the previewed file; ``discard``: drop it."""
    under = _under(request, slug)
    under_slug = under.slug if under else None
    here = (
        reverse("maps:spreadsheet-import", args=[under_slug])
        if under
        else reverse("maps:spreadsheet-import-top")
    )
    context: dict[str, Any] = {
        "map": under,
        "columns": columns.COLUMNS,
        "max_rows": f"{reader.MAX_ROWS:,}",
        "keep_hours": pending.KEEP_HOURS,
    }
    if under is not None:
        context["crumbs"] = map_crumbs(under, visible=permissions.visible_maps(request.user))
    form = SpreadsheetUploadForm()
    token = request.POST.get("token", "")
    if request.method == "POST" and token:
        upload = pending.pending_load(token, user_id=request.user.pk, under=under_slug)
        if upload is None:
            messages.error(request, "That preview has expired or was already imported.")
            return redirect(here)
        if "discard" in request.POST:
            pending.pending_discard(token)
            messages.info(request, f"“{upload.name}” was not imported.")
            return redirect(here)
        try:
            result = spreadsheet_import(content=upload.content, by=request.user, under=under)
        except ImportRefused as exc:
            # the repository changed since the preview: show why, keep the file
            context |= {"problems": exc.problems, "upload": upload}
        else:
            pending.pending_discard(token)
            messages.success(request, f"Imported “{upload.name}”: {result.text}")
            first = result.maps[0].slug if len(result.maps) == 1 else None
            return redirect(
                reverse("maps:detail", args=[first])
                if first
                else under.get_absolute_url()
                if under
                else reverse("maps:repository")
            )
    elif request.method == "POST":
        form = SpreadsheetUploadForm(request.POST, request.FILES)
        if form.is_valid():
            file = form.cleaned_data["file"]
            content = file.read()
            try:
                result = spreadsheet_import(
                    content=content, by=request.user, under=under, dry_run=True
                )
            except ImportRefused as exc:
                context["problems"] = exc.problems
            else:
                upload = pending.pending_save(
                    content=content, name=file.name, under=under_slug, user_id=request.user.pk
                )
                context |= {"upload": upload, "result": result, "rows": _preview_rows(result)}
    context["form"] = form
    return render(request, "maps/spreadsheet_import.html", context)


def _preview_rows(result) -> list[dict[str, Any]]:
    """Per map of the sheet: what will be created, updated and left as it is."""
    rows = []
    for plan in result.maps:
        counts = result.summary.maps.get(plan.slug, {})
        rows.append(
            {
                "plan": plan,
                **{
                    action: ", ".join(
                        count_text(noun, n) for noun, n in counts.get(action, {}).items()
                    )
                    for action in ("created", "updated", "unchanged")
                },
            }
        )
    return rows


@require_GET
@login_required
def spreadsheet_template(request: HttpRequest) -> HttpResponse:
    """The template workbook: the columns, an example map and a "Read me" sheet."""
    response = HttpResponse(content_type=reader.XLSX_MIME)
    response["Content-Disposition"] = 'attachment; filename="journeyhub-maps-template.xlsx"'
    writer.template_workbook(response)
    return response


@require_GET
@login_required
def map_export_xlsx(request: HttpRequest, slug: str) -> HttpResponse:
    """The map as a workbook that imports back: everyone who may see the map."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    response = HttpResponse(content_type=reader.XLSX_MIME)
    name = slugify(journey_map.slug)[:80] or "map"
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    writer.map_workbook(journey_map, response)
    return response

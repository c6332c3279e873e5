"""Browser pages of the inventory of maps kept elsewhere: the list with filters,
migration progress and per-tool breakdown, CSV export, add / edit / mark migrated /
retire, an entry's page with its history, and its stored file. Rules and numbers come
from ``governance.inventory``; these views only load, authorise and render.

Mounted at ``/inventory/`` (namespace ``inventory``) by ``journeyhub/urls.py``."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from journeyhub.exports import csv_cell

from . import inventory
from .field_policy import FieldsDenied
from .forms_inventory import EntryForm, InventoryFilter, StatusForm
from .models import ExternalMap
from .views_scorecard import _add_errors

PER_PAGE = 50
HISTORY_SHOWN = 20


def _filtered(request: HttpRequest) -> tuple[InventoryFilter, object]:
    """The filter set and the entries it selects (none while the filters are invalid)."""
    visible = inventory.visible_entries(request.user)
    filterset = InventoryFilter(request.GET or None, queryset=visible)
    if filterset.is_bound and not filterset.form.is_valid():
        return filterset, visible.none()
    return filterset, (filterset.qs if filterset.is_bound else visible)


def _querystring(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


@require_GET
@login_required
def inventory_list(request: HttpRequest) -> HttpResponse:
    """The inventory: progress of the filtered entries, per tool, and the entries."""
    filterset, entries = _filtered(request)
    progress = inventory.inventory_progress(entries)
    page = Paginator(
        entries.select_related("owner", "team", "migrated_to").order_by("title", "pk"), PER_PAGE
    ).get_page(request.GET.get("page"))
    rows = inventory.mark_shown_maps(request.user, list(page.object_list))
    for entry in rows:
        entry.may_edit = inventory.can_edit_entry(request.user, entry)
    return render(
        request,
        "governance/inventory.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "progress": progress,
            "page": page,
            "rows": rows,
            "querystring": _querystring(request, "page"),
            "export_query": _querystring(request, "page"),
            "can_add": inventory.can_add_entry(request.user),
        },
    )


@require_GET
@login_required
def inventory_export(request: HttpRequest) -> HttpResponse:
    """The filtered inventory as CSV; text that a spreadsheet would run as a formula is
    neutralised (``journeyhub/exports.py``)."""
    _, entries = _filtered(request)
    rows = inventory.mark_shown_maps(
        request.user,
        list(entries.select_related("owner", "team", "migrated_to").order_by("title", "pk")),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="map-inventory.csv"'
    writer = csv.writer(response)
    writer.writerow(inventory.CSV_COLUMNS)
    for row in inventory.csv_rows(rows, base_url=settings.JOURNEYHUB_BASE_URL):
        writer.writerow([csv_cell(value) for value in row])
    return response


def _conflict(form, exc: inventory.InventoryConflict) -> None:
    """Show the conflict and let a second save apply the user's values knowingly."""
    data = form.data.copy()
    data["version"] = str(exc.current.version)
    form.data = data
    form.add_error(None, str(exc))


@require_http_methods(["GET", "POST"])
@login_required
def entry_new(request: HttpRequest) -> HttpResponse:
    if not inventory.can_add_entry(request.user):  # pragma: no cover - login_required
        raise PermissionDenied("Sign in to add maps to the inventory.")
    form = EntryForm(
        request.POST or None, request.FILES or None, user=request.user, instance=ExternalMap()
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = inventory.entry_create(
                by=request.user, values=form.values(), upload=form.cleaned_data.get("upload")
            )
        except FieldsDenied as exc:
            _add_errors(form, exc.as_validation_error())
        except ValidationError as exc:
            _add_errors(form, _upload_errors(exc))
        else:
            messages.success(request, f"Added “{entry.title}” to the inventory.")
            return redirect(entry)
    return render(request, "governance/inventory_form.html", {"form": form, "entry": None})


def _upload_errors(exc: ValidationError) -> ValidationError:
    """The service names the file ``file``; the form's field is ``upload``."""
    if hasattr(exc, "error_dict") and "file" in exc.error_dict:
        errors = dict(exc.error_dict)
        errors["upload"] = errors.pop("file")
        return ValidationError(errors)
    return exc


@require_GET
@login_required
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = inventory.get_entry_for_user(request.user, pk)
    inventory.mark_shown_maps(request.user, [entry])
    history = list(
        entry.history.select_related("history_user").order_by("-history_date", "-history_id")[
            :HISTORY_SHOWN
        ]
    )
    return render(
        request,
        "governance/inventory_detail.html",
        {
            "entry": entry,
            "history": history,
            "can_edit": inventory.can_edit_entry(request.user, entry),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = inventory.get_entry_for_user(request.user, pk, edit=True)
    initial = {"version": entry.version}
    form = EntryForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        instance=entry,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        stored = inventory.get_entry_for_user(request.user, pk, edit=True)  # the form changed it
        try:
            entry = inventory.entry_update(
                entry=stored,
                by=request.user,
                expected_version=form.cleaned_data.get("version") or 0,
                values=form.values(),
                upload=form.cleaned_data.get("upload"),
                remove_file=bool(form.cleaned_data.get("remove_file")),
            )
        except inventory.InventoryConflict as exc:
            _conflict(form, exc)
        except FieldsDenied as exc:
            _add_errors(form, exc.as_validation_error())
        except ValidationError as exc:
            _add_errors(form, _upload_errors(exc))
        else:
            messages.success(request, f"Saved “{entry.title}”.")
            return redirect(entry)
    return render(request, "governance/inventory_form.html", {"form": form, "entry": entry})


@require_http_methods(["GET", "POST"])
@login_required
def entry_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark migrated (pick the map), retire (say why) or reopen; ``?status=`` preselects."""
    entry = inventory.get_entry_for_user(request.user, pk, edit=True)
    if request.method == "POST":
        form = StatusForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                entry = inventory.entry_set_status(
                    entry=entry,
                    by=request.user,
                    expected_version=form.cleaned_data["version"],
                    status=form.cleaned_data["status"],
                    migrated_to=form.cleaned_data.get("migrated_to"),
                    retired_reason=form.cleaned_data.get("retired_reason") or "",
                )
            except inventory.InventoryConflict as exc:
                _conflict(form, exc)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request, f"“{entry.title}” is now {entry.get_status_display().lower()}."
                )
                return redirect(entry)
    else:
        wanted = request.GET.get("status", "")
        shown = inventory.shown_map_ids(request.user, [entry])
        form = StatusForm(
            user=request.user,
            initial={
                "status": wanted if wanted in ExternalMap.Status.values else entry.status,
                "migrated_to": entry.migrated_to.slug if entry.migrated_to_id in shown else None,
                "retired_reason": entry.retired_reason,
                "version": entry.version,
            },
        )
    return render(request, "governance/inventory_status.html", {"form": form, "entry": entry})


@require_GET
@login_required
def entry_file(request: HttpRequest, pk: int) -> FileResponse:
    """The stored file, always as a download (never rendered by the browser)."""
    entry = inventory.get_entry_for_user(request.user, pk)
    if not entry.file:
        raise Http404("This entry has no stored file.")
    try:
        handle = entry.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=entry.file_name or "file",
        content_type=entry.file_content_type or "application/octet-stream",
    )


app_name = "inventory"
urlpatterns = [
    path("", inventory_list, name="list"),
    path("export.csv", inventory_export, name="export"),
    path("new/", entry_new, name="new"),
    path("<int:pk>/", entry_detail, name="detail"),
    path("<int:pk>/edit/", entry_edit, name="edit"),
    path("<int:pk>/status/", entry_status, name="status"),
    path("<int:pk>/file/", entry_file, name="file"),
]

"""The delivery status import page: CX leadership uploads a delivery tool's CSV export
(Jira, Linear, Azure DevOps …) and every project whose links carry those keys shows where
its work stands (``maps.delivery``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from maps.delivery import status_import
from maps.imports import ImportRefused
from maps.models import DeliveryStatus

from . import permissions


class DeliveryStatusForm(forms.Form):
    file = forms.FileField(
        label="CSV export",
        help_text="From Jira, Linear, Azure DevOps or any tool: a key column and a status column.",
    )


@require_http_methods(["GET", "POST"])
def delivery_status_import(request: HttpRequest) -> HttpResponse:
    if not permissions.is_leadership(request.user):
        raise PermissionDenied("Only CX leadership imports delivery status.")
    problems: list[str] = []
    form = (
        DeliveryStatusForm(request.POST, request.FILES)
        if request.method == "POST"
        else DeliveryStatusForm()
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > status_import.MAX_BYTES:
            # refused before reading it into memory; the import checks the bytes it gets too
            problems = [status_import.too_large(upload.size)]
        else:
            try:
                result = status_import.import_delivery_status(upload.read(), by=request.user)
            except ImportRefused as exc:
                problems = exc.problems
            else:
                messages.success(request, f"Delivery status imported: {result.summary}")
                return redirect("delivery_status_import")
    known = DeliveryStatus.objects.aggregate(n=Count("pk"), last=Max("imported_at"))
    return render(
        request,
        "governance/delivery_status.html",
        {
            "form": form,
            "problems": problems,
            "known": known["n"],
            "last_import": known["last"],
            "columns": status_import.COLUMNS,
        },
        status=400 if problems or form.errors else 200,
    )

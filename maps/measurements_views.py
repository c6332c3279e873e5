"""Browser pages for a KPI's measurements: entering observations by hand, and
importing a CSV or TheyDo metrics file for a map. The map's editors only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from governance import permissions
from governance.permissions import Action

from . import kpi_math, services
from .forms import MeasurementsImportForm, ObservationForm
from .imports import CSV_DIMENSIONS, ImportRefused, measurements_import
from .models import KPI, MeasurementObservation

RECENT_PERIODS = 24
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _kpi_for_user(request: HttpRequest, slug: str, kpi_id: int) -> KPI:
    """The gate: the map must be editable by the user, the KPI must be on it."""
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.EDIT)
    kpi = permissions.get_content_for_user(request.user, KPI, kpi_id, journey_map=journey_map)
    kpi.map = journey_map
    return kpi


@require_http_methods(["GET", "POST"])
@login_required
def kpi_measurements(request: HttpRequest, slug: str, kpi_id: int) -> HttpResponse:
    """Recent period values of a KPI with the observations they pool, and a form for
    one more observation whose fields follow the KPI's kind."""
    kpi = _kpi_for_user(request, slug, kpi_id)
    form = ObservationForm(request.POST or None, kpi=kpi)
    if request.method == "POST" and form.is_valid():
        try:
            services.observations_record(kpi=kpi, rows=[form.observation_row()], by=request.user)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, error)
        else:
            messages.success(
                request, f"Recorded {kpi.name} for {form.cleaned_data['date']:%-d %b %Y}."
            )
            return redirect("maps:kpi-measurements", slug=kpi.map.slug, kpi_id=kpi.pk)
    periods = list(kpi.measurements.order_by("-date", "-pk")[:RECENT_PERIODS])
    observations: dict = {}
    if periods:
        rows = MeasurementObservation.objects.filter(
            kpi=kpi, date__gte=periods[-1].date, date__lte=periods[0].date
        ).order_by("-date", "dimension_key", "pk")
        for row in rows:
            observations.setdefault(row.date, []).append(row)
    inputs = kpi_math.KIND_INPUTS[kpi.kind]
    table = [
        (
            period,
            [
                (obs, [getattr(obs, name) for name in inputs])
                for obs in observations.get(period.date, [])
            ],
        )
        for period in periods
    ]
    return render(
        request,
        "maps/measurements.html",
        {
            "map": kpi.map,
            "kpi": kpi,
            "form": form,
            "input_fields": [form[name] for name in inputs],
            "dimension_fields": [form[name] for name in CSV_DIMENSIONS],
            "input_labels": [ObservationForm.LABELS[name] for name in inputs],
            "table": table,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def import_measurements(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload a CSV or TheyDo metrics file for the map's KPIs: all rows or none."""
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.EDIT)
    form = MeasurementsImportForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ImportRefused([f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB"])
            result = measurements_import(
                journey_map=journey_map, content=upload.read(), by=request.user
            )
        except ImportRefused as exc:
            problems = exc.problems
        else:
            messages.success(request, result.summary)
            return redirect("maps:measurements-import", slug=journey_map.slug)
    kpis = list(KPI.objects.filter(map=journey_map).order_by("name", "pk"))
    for kpi in kpis:
        kpi.inputs = ", ".join(kpi_math.KIND_INPUTS[kpi.kind])
    return render(
        request,
        "maps/import_measurements.html",
        {"map": journey_map, "form": form, "problems": problems, "kpis": kpis},
    )

"""Browser pages for event-log imports of a map: upload, progress, the step mapping of a
log's activities, and results.

Everyone who may see the map reads the past imports, their progress and figures (the
funnel on the map page links here); only its editors upload and map activities."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import permissions
from governance.permissions import Action

from .analytics import activity_mapping_confirm, event_import_create, map_steps, suggested_step
from .models import EventActivityMapping, EventImport, JourneyMap, Step
from .selectors import map_crumbs

MAX_UPLOAD_BYTES = 500 * 1024 * 1024
PAST_IMPORTS = 20
LEAVE_OUT = ""  # the picker's "leave its rows out" choice


class EventImportForm(forms.Form):
    file = forms.FileField(
        label="Event log (CSV)",
        help_text="Columns case_id (or customer_id), step_key (or step, or activity), "
        "timestamp, and optionally channel and outcome; each case's events together.",
    )
    activity_column = forms.CharField(
        required=False,
        max_length=200,
        label="Column naming the steps",
        help_text="Empty: step_key, step or activity. Any column works: values that are "
        "not step keys are mapped to steps once, and remembered.",
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


class ActivityMappingForm(forms.Form):
    """One step picker per unmapped activity of an import, in the order the import
    listed them (most rows first); fields are named by position, the activity is the
    label, so any activity text is safe as a field name."""

    def __init__(self, *args, unmapped: list[dict], steps: list[Step], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(LEAVE_OUT, "— leave its rows out —")] + [
            (str(step.pk), f"{step.name} ({step.key})") for step in steps
        ]
        self.activities: list[str] = []
        for number, row in enumerate(unmapped):
            activity = row["activity"]
            suggested = suggested_step(activity, steps)
            self.fields[f"a{number}"] = forms.ChoiceField(
                label=activity,
                choices=choices,
                required=False,
                initial=str(suggested.pk) if suggested else LEAVE_OUT,
                help_text=f"{row['rows']:,} row{'s' if row['rows'] != 1 else ''}, first on "
                f"line {row['line']}",
            )
            self.activities.append(activity)

    def choices(self) -> dict[str, int | None]:
        return {
            activity: int(value) if (value := self.cleaned_data.get(f"a{n}")) else None
            for n, activity in enumerate(self.activities)
        }


def _mapping_form(event_import: EventImport, data=None) -> ActivityMappingForm:
    return ActivityMappingForm(
        data,
        unmapped=event_import.result.get("unmapped", []),
        steps=map_steps(event_import.map),
    )


def _load_import(journey_map: JourneyMap, import_id: int) -> EventImport:
    event_import = (
        EventImport.objects.filter(map=journey_map, pk=import_id)
        .select_related("uploaded_by")
        .first()
    )
    if event_import is None:
        raise Http404("No such event import on this map.")
    event_import.map = journey_map
    return event_import


@require_http_methods(["GET", "POST"])
@login_required
def events(request: HttpRequest, slug: str) -> HttpResponse:
    """List the past imports and the remembered activity mapping (anyone who may see
    the map); editors also upload an event log, imported by a Celery task."""
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
            activity_column=form.cleaned_data["activity_column"],
        )
        return redirect("maps:event-import", slug=journey_map.slug, import_id=event_import.pk)
    imports = list(
        EventImport.objects.filter(map=journey_map)
        .select_related("uploaded_by")
        .order_by("-created_at", "-pk")[:PAST_IMPORTS]
    )
    mappings = list(
        EventActivityMapping.objects.filter(map=journey_map)
        .select_related("step")
        .order_by("activity", "pk")
    )
    return render(
        request,
        "maps/events.html",
        {
            "map": journey_map,
            "crumbs": map_crumbs(journey_map, visible=permissions.visible_maps(request.user)),
            "form": form,
            "imports": imports,
            "mappings": mappings,
            "steps": map_steps(journey_map) if can_import else [],
            "can_import": can_import,
        },
        status=400 if form is not None and form.is_bound else 200,
    )


def _import_page(
    request: HttpRequest,
    journey_map: JourneyMap,
    event_import: EventImport,
    *,
    mapping_form: ActivityMappingForm | None = None,
    mapping_error: str = "",
    status: int = 200,
) -> HttpResponse:
    can_map = event_import.status == EventImport.Status.MAPPING and permissions.can(
        request.user, Action.EDIT, journey_map
    )
    if can_map and mapping_form is None:
        mapping_form = _mapping_form(event_import)
    context = {
        "map": journey_map,
        "event_import": event_import,
        "mapping_form": mapping_form if can_map else None,
        "mapping_error": mapping_error,
    }
    if request.htmx:
        response = render(request, "maps/partials/events_status.html", context, status=status)
    else:
        visible = permissions.visible_maps(request.user)
        context["crumbs"] = map_crumbs(journey_map, visible=visible)
        response = render(request, "maps/events_import.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@login_required
def event_import(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """One import: its progress bar, polled by htmx until it finishes or waits for a
    step mapping (editors get the pickers), then its figures. htmx requests get only the
    partial. Read-only: anyone who may see the map."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    return _import_page(request, journey_map, _load_import(journey_map, import_id))


@require_POST
@login_required
def event_import_mapping(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """The editors' step for each unmapped activity of an import waiting for it: saved
    as the map's activity mapping, then the import runs again with it."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    if not permissions.can(request.user, Action.EDIT, journey_map):
        raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])
    event_import = _load_import(journey_map, import_id)
    if event_import.status != EventImport.Status.MAPPING:
        error = (
            f"This import is {event_import.get_status_display().lower()}: it is not waiting "
            "for a step mapping."
        )
        return _import_page(request, journey_map, event_import, mapping_error=error, status=400)
    form = _mapping_form(event_import, request.POST)
    if form.is_valid():
        try:
            activity_mapping_confirm(
                event_import=event_import, choices=form.choices(), by=request.user
            )
        except ValidationError as exc:
            for activity, messages in exc.message_dict.items():
                field = (
                    f"a{form.activities.index(activity)}" if activity in form.activities else None
                )
                for message in messages:
                    form.add_error(field, message)
        else:
            return redirect("maps:event-import", slug=journey_map.slug, import_id=event_import.pk)
    return _import_page(request, journey_map, event_import, mapping_form=form, status=400)

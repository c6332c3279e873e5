"""Browser pages to discover a map from an event log (``maps.discovery``).

Upload a log → its proposal (steps with editable names and end kinds, thresholds for
links and ends re-applied with htmx, variants, the links drawn) → "Create map" in one
go, or discard. Who may create a map there may discover: top-level maps (CX leadership,
admins), or sub-maps under ``?parent=<slug>`` (``Action.CREATE_SUBMAP`` on it; 404 for
those who may not see it). An upload is its uploader's alone (404 for anyone else).
"""

from __future__ import annotations

import math

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from governance import permissions
from governance.permissions import Action

from .discovery import mining
from .discovery.services import Placement, discovered_log_import, discovered_map_create
from .discovery.store import (
    Upload,
    upload_claim,
    upload_discard,
    upload_for_user,
    upload_release,
    upload_save,
)
from .events_views import MAX_UPLOAD_BYTES
from .imports import ImportRefused
from .models import JourneyMap, Step

TOP_LEVEL_DENIED = (
    "Only CX leadership and admins create top-level maps: discover a sub-map from the events "
    "page of the map it belongs under."
)
END_KINDS = {"": "Not an end", "success": "Successful end", "other": "Other end"}


class DiscoverForm(forms.Form):
    file = forms.FileField(
        label="Event log (CSV or XES)",
        help_text="CSV with the columns of the event import (case_id, step_key or activity, "
        "timestamp; channel optional), or XES (.xes, .xes.gz). Gzip is unpacked.",
    )
    activity_column = forms.CharField(
        required=False,
        max_length=200,
        label="Activity column (CSV)",
        help_text="Empty: step_key, step or activity.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
        return upload


def _parent_for_start(request: HttpRequest) -> JourneyMap | None:
    slug = request.GET.get("parent", "")
    if slug:
        return permissions.get_map_for_user(request.user, slug, action=Action.CREATE_SUBMAP)
    if not permissions.can_create_top_level_map(request.user):
        raise PermissionDenied(TOP_LEVEL_DENIED)
    return None


def _upload_for_request(request: HttpRequest, token: str) -> tuple[Upload, JourneyMap | None]:
    """The gate of an upload: the uploader's own, and they may still create the map
    there (a grant may have gone since the upload)."""
    upload = upload_for_user(token, request.user)
    if upload is None:
        raise Http404("No such log: it was used, discarded or has expired.")
    if upload.parent_id is None:
        if not permissions.can_create_top_level_map(request.user):
            raise PermissionDenied(TOP_LEVEL_DENIED)
        return upload, None
    parent = (
        permissions.visible_maps(request.user)
        .select_related("team")
        .filter(pk=upload.parent_id)
        .first()
    )
    if parent is None:
        raise Http404("The map this log was to go under is gone.")
    if not permissions.can(request.user, Action.CREATE_SUBMAP, parent):
        raise PermissionDenied(permissions.DENIED_MESSAGES[Action.CREATE_SUBMAP])
    return upload, parent


@require_http_methods(["GET", "POST"])
@login_required
def discover(request: HttpRequest) -> HttpResponse:
    """The upload form; a log read without problems leads to its proposal."""
    parent = _parent_for_start(request)
    form = DiscoverForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            upload = upload_save(
                upload=form.cleaned_data["file"],
                user=request.user,
                parent_id=parent.pk if parent else None,
                activity_column=form.cleaned_data["activity_column"],
            )
        except ImportRefused as exc:
            problems = exc.problems
        else:
            return redirect("maps:discover-proposal", token=upload.token)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "maps/discover.html",
        {
            "form": form,
            "parent": parent,
            "problems": problems,
            "hours": settings.JOURNEYHUB_DISCOVERY_HOURS,
        },
        status=status,
    )


def _threshold(data: QueryDict, name: str, default: float, errors: dict[str, str]) -> float:
    raw = data.get(name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= 100:
        errors[name] = f"{name}: “{raw[:20]}” is not a percentage between 0 and 100."
        return default
    return value


def _choices(data: QueryDict, summary: mining.LogSummary) -> tuple[dict, dict[str, str]]:
    """The owner's thresholds, names and end kinds from a request, and their problems
    (keyed by field name)."""
    errors: dict[str, str] = {}
    link = _threshold(data, "link_threshold", mining.DEFAULT_LINK_THRESHOLD, errors)
    end = _threshold(data, "end_threshold", mining.DEFAULT_END_THRESHOLD, errors)
    names, end_kinds = {}, {}
    for index in range(len(summary.activities)):
        if f"name-{index}" in data:
            names[index] = data[f"name-{index}"]
        if f"end-{index}" in data:
            kind = data[f"end-{index}"]
            if kind not in END_KINDS:
                errors[f"end-{index}"] = (
                    f"end-{index}: “{kind[:20]}” is not an end kind (success, other or empty)."
                )
            else:
                end_kinds[index] = kind
    return {
        "link_threshold": link,
        "end_threshold": end,
        "names": names,
        "end_kinds": end_kinds,
    }, errors


def _placements(user, parent: JourneyMap | None) -> list[tuple[str, str]]:
    if parent is None:
        return [("", "A new top-level map")]
    steps = Step.objects.filter(map=parent).order_by("position", "pk").only("pk", "name")
    return [("", f"A sub-map of “{parent.title}”")] + [
        (str(step.pk), f"A sub-map of “{parent.title}”, zooming into “{step.name}”")
        for step in steps
    ]


def _render_proposal(
    request: HttpRequest,
    upload: Upload,
    parent: JourneyMap | None,
    data: QueryDict,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    choices, problems = _choices(data, upload.summary)
    problems.update(errors or {})
    proposal = mining.propose(upload.summary, **choices)
    context = {
        "upload": upload,
        "parent": parent,
        "proposal": proposal,
        "drawing": drawing(proposal),
        "errors": problems,
        "end_kinds": END_KINDS,
        "placements": _placements(request.user, parent),
        "chosen_placement": data.get("placement", ""),
        "title": data.get("title", ""),
        "import_events": request.method == "GET" or data.get("import_events") == "on",
        "link_rows": _rows(proposal, proposal.links),
        "flow_rows": _rows(proposal, proposal.flow),
    }
    if problems and status == 200:
        status = 400
    template = (
        "maps/discover_proposal_partial.html" if request.htmx else "maps/discover_proposal.html"
    )
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _rows(proposal: mining.Proposal, transitions) -> list[dict]:
    """Links or main-flow transitions with their steps' names, for the tables."""
    return [
        {
            "from": proposal.steps[t.from_position].name,
            "to": proposal.steps[t.to_position].name,
            "kind": getattr(t, "kind", ""),
            "share": t.share,
            "cases": t.cases,
        }
        for t in transitions
    ]


@require_http_methods(["GET"])
@login_required
def proposal(request: HttpRequest, token: str) -> HttpResponse:
    """The proposed map for the thresholds and names in the query (htmx: the partial)."""
    upload, parent = _upload_for_request(request, token)
    return _render_proposal(request, upload, parent, request.GET)


@require_POST
@login_required
def create(request: HttpRequest, token: str) -> HttpResponse:
    """Create the map as proposed with the owner's choices, then (optionally) import the
    log's figures into it; the upload is removed."""
    upload, parent = _upload_for_request(request, token)
    choices, errors = _choices(request.POST, upload.summary)
    placement = Placement(parent=parent)
    chosen = request.POST.get("placement", "")
    if chosen:
        step = (
            Step.objects.filter(map=parent, pk=chosen).first()
            if parent is not None and chosen.isascii() and chosen.isdigit()
            else None
        )
        if step is None:
            errors["placement"] = f"placement: “{chosen[:20]}” is not a step of the parent map."
        placement = Placement(parent=parent, parent_step=step)
    if errors:
        return _render_proposal(request, upload, parent, request.POST, errors=errors, status=400)
    proposed = mining.propose(upload.summary, **choices)
    claimed = upload_claim(upload)
    if claimed is None:
        raise Http404("This log is being turned into a map already.")
    try:
        journey_map = discovered_map_create(
            upload=claimed,
            proposal=proposed,
            title=request.POST.get("title", ""),
            placement=placement,
            by=request.user,
        )
    except ValidationError as exc:
        upload_release(claimed)
        found = {
            field if field != "__all__" else "title": f"{field}: {' '.join(messages_)}"
            for field, messages_ in getattr(exc, "message_dict", {"__all__": exc.messages}).items()
        }
        return _render_proposal(request, upload, parent, request.POST, errors=found, status=400)
    except BaseException:  # a refused permission, a version conflict …: nothing was created
        upload_release(claimed)
        raise
    text = (
        f"Created “{journey_map}” with {len(proposed.steps)} steps and {len(proposed.links)} links."
    )
    destination = journey_map.get_absolute_url()
    if request.POST.get("import_events") == "on":
        event_import = discovered_log_import(
            upload=claimed, journey_map=journey_map, by=request.user
        )
        text += " The log's figures are being imported."
        destination = reverse(
            "maps:event-import", kwargs={"slug": journey_map.slug, "import_id": event_import.pk}
        )
    upload_discard(claimed)
    messages.success(request, text)
    return redirect(destination)


@require_POST
@login_required
def discard(request: HttpRequest, token: str) -> HttpResponse:
    """Forget the upload (the file goes at once)."""
    upload, parent = _upload_for_request(request, token)
    upload_discard(upload)
    messages.success(request, f"Discarded “{upload.file_name}”; nothing was created.")
    return redirect(parent.get_absolute_url() if parent else reverse("maps:repository"))


# --- the drawing -----------------------------------------------------------------------------

BOX_WIDTH, BOX_HEIGHT, GAP, MARGIN = 150, 48, 40, 90
LINK_COLOURS = {"branch": "#2563eb", "skip": "#7c3aed", "loop": "#dc2626"}


def drawing(proposal: mining.Proposal) -> dict:
    """Boxes for the steps in a row and arcs for the links (forward above, loops below),
    as coordinates for an inline SVG (attributes only: no styles, CSP-ready)."""
    pitch = BOX_WIDTH + GAP
    top = MARGIN
    boxes = [
        {
            "x": 10 + step.position * pitch,
            "y": top,
            "label": step.name if len(step.name) <= 20 else step.name[:19] + "…",
            "name": step.name,
            "end": step.end_kind,
        }
        for step in proposal.steps
    ]
    arrows = [
        {
            "x1": 10 + p * pitch + BOX_WIDTH,
            "x2": 10 + (p + 1) * pitch,
            "y": top + BOX_HEIGHT // 2,
        }
        for p in range(len(proposal.steps) - 1)
    ]
    arcs = []
    for link in proposal.links:
        start = 10 + link.from_position * pitch + BOX_WIDTH // 2
        end = 10 + link.to_position * pitch + BOX_WIDTH // 2
        span = abs(link.to_position - link.from_position)
        lift = min(MARGIN - 14, 16 + 14 * span)  # wider arcs higher: their labels apart
        if link.kind == "loop":
            base = top + BOX_HEIGHT
            peak = base + lift
        else:
            base = top
            peak = base - lift
        arcs.append(
            {
                "d": f"M {start} {base} C {start} {peak}, {end} {peak}, {end} {base}",
                "colour": LINK_COLOURS.get(link.kind, "#555"),
                "label": f"{link.kind} · {link.label}",
                "lx": (start + end) // 2,
                "ly": peak + 12 if link.kind == "loop" else peak - 3,
            }
        )
    width = 20 + max(len(proposal.steps), 1) * pitch - GAP
    return {
        "width": width,
        "height": top + BOX_HEIGHT + MARGIN,
        "boxes": boxes,
        "arrows": arrows,
        "arcs": arcs,
        "box_width": BOX_WIDTH,
        "box_height": BOX_HEIGHT,
    }

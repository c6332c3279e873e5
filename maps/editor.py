"""The map editor in the browser: create, edit, delete and reorder a map's content.

One view per action; each answers htmx requests with partials (the form into the
editor panel, or the refreshed grid) and plain requests with full pages and
redirects, so everything also works without JavaScript. All writes go through
``maps.services`` with the map version the user's page showed, so an edit based on
an old version is refused with the newer content on screen, never applied silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from governance import field_policy, permissions
from governance.comments import comment_counts_for_map
from governance.permissions import Action
from governance.scorecard_reads import current_weights
from governance.scoring import HealthStatus, health_values

from . import map_templates, services
from .content import BY_EDITOR
from .forms import MapSettingsForm, NewMapForm
from .models import JourneyMap, Stage, Step
from .selectors import map_for_display, map_grid
from .vocabulary import vocabulary_labels

# the editor's kinds come from the content registry
MODELS = {editor: kind.model for editor, kind in BY_EDITOR.items()}
NOUNS = {editor: kind.noun for editor, kind in BY_EDITOR.items()}


def _editable_map(request: HttpRequest, slug: str) -> JourneyMap:
    return permissions.get_map_for_user(request.user, slug, action=Action.EDIT)


def _item(journey_map: JourneyMap, kind: str, pk: int):
    return permissions.get_content_for_user(None, MODELS[kind], pk, journey_map=journey_map)


@dataclass(frozen=True)
class _Health(HealthStatus):
    """A map's health with its ``status`` and ``status_label`` (``health_values``' number,
    the one ``health_by_map`` gives, without its explanations: 3 queries to 1-2, #16)."""

    health: float | None


def grid_context(request: HttpRequest, journey_map: JourneyMap) -> dict:
    """Everything the map page and its grid partial show (fixed number of queries)."""
    can_edit = permissions.can_edit_map(request.user, journey_map)
    # a leaf (most maps) has no sub-map to show: building the visibility filter for
    # none cost about a millisecond of the read-only page (#16)
    children = (
        JourneyMap.objects.none()
        if journey_map.is_leaf_node()
        else permissions.visible_maps(request.user).filter(parent=journey_map)
    )
    return {
        "map": journey_map,
        # the header's health link: the number and its status only (no explanations)
        # (the weights as the scorecard page reads them: a statement compiled once)
        "scorecard": _Health(
            health_values([journey_map.pk], weights=current_weights()).get(journey_map.pk)
        ),
        "grid": map_grid(journey_map, children=children),
        "can_edit": can_edit,
        "can_manage": permissions.can_manage_map(request.user, journey_map),
        # Action.CREATE_SUBMAP's rule, without asking the grants a second time
        "can_zoom": can_edit or permissions.is_leadership(request.user),
        "can_review": permissions.can(request.user, Action.REVIEW, journey_map),
        # "💬 n" on each card (governance.comments): one query
        "comment_counts": comment_counts_for_map(journey_map, relative=True),
    }


def _refreshed_grid(request: HttpRequest, journey_map: JourneyMap, status: str) -> HttpResponse:
    """The grid after a change, plus (out of band) an empty editor panel and a status line."""
    fresh = map_for_display(JourneyMap.objects.all(), journey_map.slug)
    context = grid_context(request, fresh)
    html = render_to_string("maps/partials/grid.html", context, request=request)
    html += render_to_string(
        "maps/partials/editor_oob.html", {"status": status, "map": fresh}, request=request
    )
    return reswap(retarget(HttpResponse(html), "#map-grid"), "outerHTML")


def _done(request: HttpRequest, journey_map: JourneyMap, status: str) -> HttpResponse:
    if request.htmx:
        return _refreshed_grid(request, journey_map, status)
    messages.success(request, status)
    return redirect(journey_map)


def _form_response(request, journey_map, context: dict) -> HttpResponse:
    context = {"map": journey_map, **context}
    if request.htmx:
        return render(request, "maps/partials/editor_form.html", context)
    return render(request, "maps/editor_page.html", context)


def _started_from(request: HttpRequest, journey_map: JourneyMap) -> int:
    """The version the user's page showed (``?v=``), so a form opened on an old page
    still conflicts with changes made since."""
    try:
        return max(1, int(request.GET.get("v", journey_map.version)))
    except ValueError:
        return journey_map.version


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@require_http_methods(["GET", "POST"])
@login_required
def item_form(request: HttpRequest, slug: str, kind: str, pk: int | None = None) -> HttpResponse:
    if kind not in MODELS:
        raise Http404("No such kind of map content.")
    journey_map = _editable_map(request, slug)
    instance = _item(journey_map, kind, pk) if pk else MODELS[kind]()
    form_class = BY_EDITOR[kind].form_class
    conflict = None
    if request.method == "POST":
        form = form_class(request.POST, instance=instance, journey_map=journey_map)
        if form.is_valid():
            item = form.save(commit=False)
            if pk is None and hasattr(item, "position"):
                item.position = services.next_position(MODELS[kind], journey_map=journey_map)
            try:
                services.content_save(
                    instance=item,
                    expected_version=form.cleaned_data["map_version"],
                    by=request.user,
                )
            except services.VersionConflict as exc:
                conflict = _conflict(exc, kind, pk, journey_map)
                data = request.POST.copy()
                data["map_version"] = exc.journey_map.version  # saving again re-applies
                form = form_class(data, instance=_fresh(instance), journey_map=journey_map)
                form.is_valid()
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                verb = "Saved" if pk else "Added"
                return _done(request, journey_map, f"{verb} {NOUNS[kind]} “{item}”.")
    else:
        initial = {"map_version": _started_from(request, journey_map)}
        for field in ("kind", "step", "stage", "from_step"):
            if request.GET.get(field):
                initial[field] = request.GET[field]
        form = form_class(instance=instance, journey_map=journey_map, initial=initial)
    return _form_response(
        request,
        journey_map,
        {
            "form": form,
            "kind": kind,
            "noun": NOUNS[kind],
            "item": instance if pk else None,
            "conflict": conflict,
            "action": request.path,
        },
    )


def _fresh(instance):
    if instance.pk is None:
        return type(instance)()
    return type(instance).objects.filter(pk=instance.pk).first() or type(instance)()


def _conflict(exc: services.VersionConflict, kind: str, pk, journey_map) -> dict:
    current = MODELS[kind].objects.filter(pk=pk).first() if pk else None
    return {
        "message": str(exc),
        "current": current,
        "deleted": bool(pk) and current is None,
        "fields": _describe(current) if current is not None else [],
    }


def _describe(obj) -> list[tuple[str, str]]:
    """(label, value) pairs of an item's current content, for the conflict message."""
    rows = []
    for field in obj._meta.concrete_fields:
        if field.name in ("id", "map", "created_at", "updated_at", "position"):
            continue
        value = getattr(obj, f"get_{field.name}_display", lambda f=field: getattr(obj, f.name))()
        rows.append((str(field.verbose_name).capitalize(), "—" if value in (None, "") else value))
    return rows


@require_POST
@login_required
def item_delete(request: HttpRequest, slug: str, kind: str, pk: int) -> HttpResponse:
    if kind not in MODELS:
        raise Http404("No such kind of map content.")
    journey_map = _editable_map(request, slug)
    item = _item(journey_map, kind, pk)
    label = str(item)
    try:
        version = int(request.POST.get("map_version", ""))
        services.content_delete(instance=item, expected_version=version, by=request.user)
    except ValueError:
        return _done(request, journey_map, "Nothing deleted: the page did not say which version.")
    except services.VersionConflict as exc:
        return _done(request, journey_map, f"Nothing deleted. {exc}")
    return _done(request, journey_map, f"Deleted {NOUNS[kind]} “{label}”.")


# kinds the grid reorders: stages and steps (the whole map), cards within their cell
REORDERED = (
    "stage",
    "step",
    *(k for k, kind in BY_EDITOR.items() if kind.model in services.CELL_ORDERED),
)
_OFFSETS = {"left": -1, "up": -1, "right": 1, "down": 1}


def _posted_int(data, field: str) -> int:
    try:
        return int(data.get(field, ""))
    except ValueError:
        raise ValidationError({field: f"“{field}” must be a whole number (an id)."}) from None


def _posted_ids(data, field: str = "order") -> list[int]:
    try:
        return [int(pk) for pk in data[field].split(",") if pk]
    except ValueError:
        raise ValidationError({field: f"“{field}” must be ids separated by commas."}) from None


def _posted_shift(data) -> tuple[int, int] | None:
    """The grid's move buttons (``name`` left/right/up/down, ``value`` the id) or
    ``move`` + ``direction``: (id, offset), or None when neither was sent."""
    for name, offset in _OFFSETS.items():
        if data.get(name):
            return _posted_int(data, name), offset
    if data.get("move"):
        direction = data.get("direction", "")
        if direction not in _OFFSETS:
            raise ValidationError({"direction": "“direction” must be left, right, up or down."})
        return _posted_int(data, "move"), _OFFSETS[direction]
    return None


def _place(step: Step, journey_map: JourneyMap) -> str:
    """Where a moved step is now, said in the live region: its stage and place in it."""
    siblings = list(
        Step.objects.filter(map=journey_map, stage_id=step.stage_id)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )
    where = f"stage “{step.stage}”" if step.stage_id else "the unstaged steps"
    return f"{where}, {siblings.index(step.pk) + 1} of {len(siblings)}"


def _reorder_steps(request: HttpRequest, journey_map: JourneyMap, version: int) -> str:
    data = request.POST
    shift = _posted_shift(data)
    if shift is not None:
        step = services.step_shift(
            journey_map=journey_map, step_id=shift[0], offset=shift[1],
            expected_version=version, by=request.user,
        )  # fmt: skip
    elif "moved" in data:  # dragged, possibly into another stage (stage "" = unstaged)
        stage = data.get("stage", "")
        step = services.step_move(
            journey_map=journey_map,
            step_id=_posted_int(data, "moved"),
            stage_id=_posted_int(data, "stage") if stage else None,
            ordered_ids=_posted_ids(data),
            expected_version=version,
            by=request.user,
        )
    elif data.get("order"):  # a new order of all steps, each keeping its stage
        services.items_reorder(
            journey_map=journey_map, model=Step, ordered_ids=_posted_ids(data),
            expected_version=version, by=request.user,
        )  # fmt: skip
        return "Moved the steps."
    else:
        raise ValidationError({"order": "Say what moves: “order”, or a move button's id."})
    return f"Moved step “{step}” to {_place(step, journey_map)}."


def _reorder_stages(request: HttpRequest, journey_map: JourneyMap, version: int) -> str:
    current = list(
        Stage.objects.filter(map=journey_map)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )
    shift = _posted_shift(request.POST)
    if shift is not None:
        if shift[0] not in current:
            raise ValidationError({"move": f"Stage {shift[0]} is not a stage of this map."})
        ordered = _moved(current, shift[0], shift[1])
    elif request.POST.get("order"):
        ordered = _posted_ids(request.POST)
    else:
        raise ValidationError({"order": "Say what moves: “order”, or a move button's id."})
    services.items_reorder(
        journey_map=journey_map, model=Stage, ordered_ids=ordered,
        expected_version=version, by=request.user,
    )  # fmt: skip
    return "Moved the stages."


def _reorder_cell(request: HttpRequest, journey_map: JourneyMap, kind: str, version: int) -> str:
    model, noun = MODELS[kind], NOUNS[kind]
    shift = _posted_shift(request.POST)
    if shift is not None:
        item, place, size = services.card_shift(
            journey_map=journey_map, model=model, item_id=shift[0], offset=shift[1],
            expected_version=version, by=request.user,
        )  # fmt: skip
        return f"Moved {noun} “{item}” {'up' if shift[1] < 0 else 'down'}: {place} of {size}."
    if not request.POST.get("order"):
        raise ValidationError({"order": "Say what moves: “order”, or a move button's id."})
    ordered = _posted_ids(request.POST)
    cell = services.cell_reorder(
        journey_map=journey_map, model=model, ordered_ids=ordered,
        expected_version=version, by=request.user,
    )  # fmt: skip
    moved = request.POST.get("moved", "")
    item = next((obj for obj in cell if str(obj.pk) == moved), None)
    if item is None:
        return f"Moved the {noun}s."
    return f"Moved {noun} “{item}”: {cell.index(item) + 1} of {len(cell)}."


def _moved(order: list[int], pk: int, offset: int) -> list[int]:
    i = order.index(pk)
    j = min(max(i + offset, 0), len(order) - 1)
    order = list(order)
    order[i], order[j] = order[j], order[i]
    return order


def _refused(request: HttpRequest, journey_map: JourneyMap, message: str, status: int):
    """A move that changed nothing: the grid as it is now (the card back in its place) and
    the reason, with a 4xx status; ``static/js/editor.js`` swaps it in all the same."""
    if request.htmx:
        response = _refreshed_grid(request, journey_map, message)
        response.status_code = status
        return response
    if status == 409:
        messages.error(request, message)
        return redirect(journey_map)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@require_POST
@login_required
def reorder(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """Move content in the grid. Stages and steps: ``order`` (all ids, from drag and drop;
    for a step dragged into another stage also ``moved`` and ``stage``, "" for none) or a
    move button (``left``/``right`` = the id, or ``move`` + ``direction``), which moves a
    step past the end of its stage into the next. Pain points and lane items: ``order``
    (the ids of one cell, ``moved`` optional) or ``up``/``down`` = the id. Refused moves
    answer 400 naming the field (409 for a stale ``map_version``) and change nothing."""
    if kind not in REORDERED:
        raise Http404("Only stages, steps, pain points and lane items are reordered.")
    journey_map = _editable_map(request, slug)
    try:
        version = _posted_int(request.POST, "map_version")
        if kind == "step":
            status = _reorder_steps(request, journey_map, version)
        elif kind == "stage":
            status = _reorder_stages(request, journey_map, version)
        else:
            status = _reorder_cell(request, journey_map, kind, version)
    except services.VersionConflict as exc:
        return _refused(request, journey_map, f"Nothing moved. {exc}", 409)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            text = " ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
            )
        else:
            text = " ".join(exc.messages)
        return _refused(request, journey_map, f"Nothing moved. {text}", 400)
    return _done(request, journey_map, status)


@require_http_methods(["GET", "POST"])
@login_required
def map_settings(request: HttpRequest, slug: str) -> HttpResponse:
    journey_map = _editable_map(request, slug)
    form_options = {
        "lane_labels": vocabulary_labels(),
        "locked": field_policy.locked_fields(request.user, journey_map, ["status", "is_template"]),
    }
    conflict = None
    if request.method == "POST":
        form = MapSettingsForm(request.POST, instance=journey_map, **form_options)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
            fields["hidden_lanes"] = form.instance.hidden_lanes
            try:
                services.map_update(
                    journey_map=JourneyMap.objects.get(pk=journey_map.pk),
                    expected_version=form.cleaned_data["map_version"],
                    by=request.user,
                    **fields,
                )
            except services.VersionConflict as exc:
                conflict = {
                    "message": str(exc),
                    "current": None,
                    "fields": _describe(exc.journey_map),
                }
                data = request.POST.copy()
                data["map_version"] = exc.journey_map.version
                form = MapSettingsForm(data, instance=exc.journey_map, **form_options)
                form.is_valid()
            except ValidationError as exc:
                _add_errors(form, exc)
            except field_policy.FieldsDenied as exc:
                _add_errors(form, exc.as_validation_error())
            else:
                if request.htmx:  # the header changes too: reload the page
                    messages.success(request, "Saved the map's settings.")
                    return HttpResponseClientRedirect(journey_map.get_absolute_url())
                return _done(request, journey_map, "Saved the map's settings.")
    else:
        form = MapSettingsForm(
            instance=journey_map,
            **form_options,
            initial={"map_version": _started_from(request, journey_map)},
        )
    return _form_response(
        request,
        journey_map,
        {
            "form": form,
            "kind": "settings",
            "noun": "map settings",
            "conflict": conflict,
            "action": request.path,
            "item": journey_map,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def map_new(request: HttpRequest) -> HttpResponse:
    """Create a map: top level (leadership, admins) or beneath ``?parent=<slug>``,
    optionally zooming into one of the parent's steps (``?step=<id>``)."""
    parent = None
    if request.GET.get("parent"):
        parent = permissions.get_map_for_user(
            request.user, request.GET["parent"], action=Action.CREATE_SUBMAP
        )
    elif not permissions.can_create_top_level_map(request.user):
        raise PermissionDenied(
            "Choose the map your new map zooms into; only CX leadership "
            "and admins create top-level maps."
        )
    templates = map_templates.available_templates(request.user)
    choices = [(t.ref, t.title) for t in templates]
    if request.method == "POST":
        form = NewMapForm(request.POST, parent=parent, templates=choices)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            template_ref = fields.pop("template", "")
            try:
                if template_ref:
                    journey_map = map_templates.map_from_template(
                        template_ref=template_ref, by=request.user, parent=parent, **fields
                    )
                else:
                    journey_map = services.map_create(
                        owner=request.user,
                        parent=parent,
                        team=parent.team if parent else None,
                        by=request.user,
                        **fields,
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Created “{journey_map}”. You own it.")
                return redirect(journey_map)
    else:
        initial = {"status": JourneyMap.Status.DRAFT, "template": request.GET.get("template", "")}
        if parent is not None and request.GET.get("step"):
            step = Step.objects.filter(map=parent, pk=request.GET["step"]).first()
            if step is not None:
                initial.update(parent_step=step.pk, title=step.name)
        form = NewMapForm(parent=parent, initial=initial, templates=choices)
    return render(
        request,
        "maps/map_new.html",
        {"form": form, "parent": parent, "templates": {t.ref: t for t in templates}},
    )

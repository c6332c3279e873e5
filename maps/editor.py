"""The map editor in the browser: create, edit, delete and reorder a map's content.

One view per action; each answers htmx requests with partials (the form into the
editor panel, or the refreshed grid) and plain requests with full pages and
redirects, so everything also works without JavaScript. All writes go through
``maps.services`` with the map version the user's page showed, so an edit based on
an old version is refused with the newer content on screen, never applied silently.
"""

from __future__ import annotations

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
from governance.scoring import health_by_map

from . import map_templates, services
from .content import BY_EDITOR
from .forms import MapSettingsForm, NewMapForm
from .models import JourneyMap, Step
from .selectors import STEP_ORDER, map_for_display, map_grid
from .vocabulary import vocabulary_labels

# the editor's kinds come from the content registry
MODELS = {editor: kind.model for editor, kind in BY_EDITOR.items()}
NOUNS = {editor: kind.noun for editor, kind in BY_EDITOR.items()}


def _editable_map(request: HttpRequest, slug: str) -> JourneyMap:
    return permissions.get_map_for_user(request.user, slug, action=Action.EDIT)


def _item(journey_map: JourneyMap, kind: str, pk: int):
    return permissions.get_content_for_user(None, MODELS[kind], pk, journey_map=journey_map)


def grid_context(request: HttpRequest, journey_map: JourneyMap) -> dict:
    """Everything the map page and its grid partial show (fixed number of queries)."""
    visible = permissions.visible_maps(request.user)
    return {
        "map": journey_map,
        "scorecard": health_by_map([journey_map.pk]).get(journey_map.pk),
        "grid": map_grid(journey_map, children=visible.filter(parent=journey_map)),
        "can_edit": permissions.can_edit_map(request.user, journey_map),
        "can_manage": permissions.can_manage_map(request.user, journey_map),
        "can_zoom": permissions.can(request.user, Action.CREATE_SUBMAP, journey_map),
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


@require_POST
@login_required
def reorder(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """New order of stages or steps: ``order`` (all ids, from drag and drop) or
    ``move`` + ``direction`` (one step left/right, from the keyboard)."""
    if kind not in ("stage", "step"):
        raise Http404("Only stages and steps are reordered.")
    journey_map = _editable_map(request, slug)
    model = MODELS[kind]
    order = STEP_ORDER if model is Step else ("position", "pk")
    current = list(
        model.objects.filter(map=journey_map).order_by(*order).values_list("pk", flat=True)
    )
    try:
        version = int(request.POST.get("map_version", ""))
        if request.POST.get("order"):
            ordered = [int(pk) for pk in request.POST["order"].split(",") if pk]
        elif request.POST.get("left") or request.POST.get("right"):
            # the grid's move buttons: name="left" (or "right"), value = the item's id
            left = request.POST.get("left")
            ordered = _moved(current, int(left or request.POST["right"]), -1 if left else 1)
        else:
            moved = int(request.POST.get("move", ""))
            offset = -1 if request.POST.get("direction") == "left" else 1
            ordered = _moved(current, moved, offset)
    except ValueError:
        return _done(request, journey_map, "Nothing moved: the request was incomplete.")
    try:
        services.items_reorder(
            journey_map=journey_map,
            model=model,
            ordered_ids=ordered,
            expected_version=version,
            by=request.user,
        )
    except services.VersionConflict as exc:
        return _done(request, journey_map, f"Nothing moved. {exc}")
    except ValidationError as exc:
        return _done(request, journey_map, " ".join(exc.messages))
    return _done(request, journey_map, f"Moved the {NOUNS[kind]}s.")


def _moved(order: list[int], pk: int, offset: int) -> list[int]:
    if pk not in order:
        raise ValueError(pk)
    i = order.index(pk)
    j = min(max(i + offset, 0), len(order) - 1)
    order = list(order)
    order[i], order[j] = order[j], order[i]
    return order


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

"""Browser pages of map states: drafting a future state or a scenario of a map, and
comparing two maps (today's and a future state or scenario). Rules and reads live in
``maps.future_state`` and ``maps.compare``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import permissions
from governance.field_policy import FieldsDenied
from governance.forms import row_id

from . import compare_links, future_state
from .compare import chart, compare
from .models import JourneyMap
from .selectors import map_crumbs

State = JourneyMap.State


class VariantForm(forms.Form):
    state = forms.ChoiceField(
        choices=[(State.FUTURE, "A future state (to-be)"), (State.SCENARIO, "A scenario")],
        widget=forms.RadioSelect,
        label="Draft",
    )
    scenario_label = forms.CharField(
        max_length=future_state.LABEL_MAX,
        required=False,
        label="Scenario label",
        help_text="What the scenario varies, e.g. a persona or a channel (scenarios only).",
    )
    title = forms.CharField(
        max_length=future_state.TITLE_MAX,
        required=False,
        help_text="Left empty: the map's title with “(future state)” or the scenario label.",
    )


@require_http_methods(["GET", "POST"])
@login_required
def variant_new(request: HttpRequest, slug: str) -> HttpResponse:
    """Draft a future state or a scenario of a map: a copy of its structure beside it."""
    source = permissions.get_map_for_user(
        request.user, slug, queryset=JourneyMap.objects.select_related("parent")
    )
    if source.state != State.CURRENT:
        raise PermissionDenied(
            "Only a current-state map gets future states and scenarios; draft from "
            "the map this one belongs to."
        )
    if not future_state.can_draft_variant(request.user, source):
        raise PermissionDenied(
            "A future state or scenario goes beside this map: only those who may add a map "
            "there (the parent's editors, CX leadership, admins) may draft one."
        )
    status = 200
    if request.method == "POST":
        form = VariantForm(request.POST)
        if form.is_valid():
            try:
                draft = future_state.map_draft_variant(
                    source=source, by=request.user, **form.cleaned_data
                )
            except FieldsDenied as exc:
                raise PermissionDenied(str(exc)) from exc
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                noun = "future state" if draft.state == State.FUTURE else "scenario"
                messages.success(
                    request,
                    f"Drafted “{draft.title}”, a {noun} of “{source.title}”: change it "
                    "freely, then compare it with today.",
                )
                return redirect(draft)
        status = 400
    else:
        wanted = request.GET.get("state")
        form = VariantForm(initial={"state": wanted if wanted in VARIANTS else State.FUTURE})
    context = {
        "map": source,
        "form": form,
        "crumbs": map_crumbs(source, visible=permissions.visible_maps(request.user)),
    }
    return render(request, "maps/compare_new.html", context, status=status)


VARIANTS = {State.FUTURE, State.SCENARIO}


@require_GET
@login_required
def map_compare(request: HttpRequest, slug: str, other_slug: str | None = None) -> HttpResponse:
    """``slug`` (today's map, the baseline) compared with ``other_slug`` or ``?with=``;
    without either, with its first future state or scenario (or, for a future state,
    with the current state it belongs to). Both must be visible (else 404)."""
    user = request.user
    baseline = permissions.get_map_for_user(user, slug)
    other_slug = other_slug or request.GET.get("with", "").strip()
    if not other_slug:
        return _default_comparison(request, baseline)
    other = permissions.get_map_for_user(user, other_slug)
    if other.pk == baseline.pk:
        return HttpResponse(
            "with: choose another map than this one to compare it with.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return _compare_page(request, baseline, other, chosen=request.GET.get("link", ""))


def _compare_page(
    request: HttpRequest,
    baseline: JourneyMap,
    other: JourneyMap,
    *,
    chosen: str = "",
    project: str = "",
    errors: dict[str, str] | None = None,
) -> HttpResponse:
    user = request.user
    comparison = compare(
        future_state.comparison_side(baseline, user=user),
        future_state.comparison_side(other, user=user),
    )
    projects = list(compare_links.project_choices(user, baseline, other))
    context = {
        "map": baseline,
        "other": other,
        "comparison": comparison,
        "chart": chart(comparison.curve, baseline=baseline.title, other=other.title),
        "crumbs": map_crumbs(baseline, visible=permissions.visible_maps(user)),
        "link": {
            "items": compare_links.linkables(comparison),
            "projects": projects,
            "chosen": chosen,
            "project": project,
            "errors": errors or {},
            "may_create": permissions.can_create_project(user),
        },
    }
    return render(request, "maps/compare.html", context, status=400 if errors else 200)


@require_POST
@login_required
def compare_link(request: HttpRequest, slug: str, other_slug: str) -> HttpResponse:
    """Point a step change or a resolved pain point of the comparison to a project."""
    user = request.user
    baseline = permissions.get_map_for_user(user, slug)
    other = permissions.get_map_for_user(user, other_slug)
    chosen = request.POST.get("item", "")
    project_id = request.POST.get("project", "").strip()
    try:
        pk = row_id(project_id)
        if pk is None:
            raise compare_links.LinkRefused("project", "project: choose a project.")
        step, pain = compare_links.resolve_item(chosen, baseline=baseline, other=other)
        try:
            project = compare_links.link_project(project_id=pk, step=step, pain_point=pain, by=user)
        except FieldsDenied as exc:
            raise compare_links.LinkRefused("project", str(exc)) from exc
        except ValidationError as exc:
            raise compare_links.LinkRefused("project", "; ".join(exc.messages)) from exc
    except compare_links.LinkRefused as refused:
        return _compare_page(
            request,
            baseline,
            other,
            chosen=chosen,
            project=project_id,
            errors={refused.field: refused.message},
        )
    what = step.name if step is not None else pain.title  # type: ignore[union-attr]
    messages.success(request, f"“{project.title}” now delivers “{what}”.")
    url = reverse("maps:compare", kwargs={"slug": baseline.slug, "other_slug": other.slug})
    return redirect(f"{url}#link-project")


def _default_comparison(request: HttpRequest, journey_map: JourneyMap) -> HttpResponse:
    states = future_state.map_states(request.user, journey_map)
    if states.state_of is not None:
        return redirect("maps:compare", slug=states.state_of.slug, other_slug=journey_map.slug)
    if states.variants:
        return redirect("maps:compare", slug=journey_map.slug, other_slug=states.variants[0].slug)
    return HttpResponse(
        "with: this map has no future state or scenario; name the map to compare it with "
        "(?with=<slug>).",
        status=400,
        content_type="text/plain; charset=utf-8",
    )

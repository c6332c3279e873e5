"""Browser pages of governance: transferring and sharing a map."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from journeyhub.redirects import safe_next
from maps.models import JourneyMapUserObjectPermission
from maps.selectors import map_crumbs
from maps.services import VersionConflict

from . import history, map_snapshots, permissions, reviews, services
from .forms import ShareForm, TransferForm
from .models import MapSnapshot
from .permissions import Action
from .views_share_links import share_links_context


def _crumbs(request: HttpRequest, journey_map) -> list:
    """The map's ancestors for the breadcrumbs: hidden ones as a neutral gap."""
    return map_crumbs(journey_map, visible=permissions.visible_maps(request.user))


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@require_http_methods(["GET", "POST"])
@login_required
def transfer(request: HttpRequest, slug: str) -> HttpResponse:
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.TRANSFER)
    form = TransferForm(
        request.POST or None,
        current_owner=journey_map.owner,
        initial={"version": journey_map.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.map_transfer_ownership(
                journey_map=journey_map,
                new_owner=form.cleaned_data["new_owner"],
                by=request.user,
                expected_version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
            )
        except VersionConflict as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                f"{journey_map.owner.get_full_name() or journey_map.owner} now owns "
                f"“{journey_map}” and has been notified.",
            )
            return redirect(journey_map)
    return render(request, "governance/transfer.html", {"map": journey_map, "form": form})


@require_http_methods(["GET", "POST"])
@login_required
def share(request: HttpRequest, slug: str) -> HttpResponse:
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.SHARE)
    form = ShareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.map_share(
                journey_map=journey_map,
                user=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                by=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            user = form.cleaned_data["username"]
            messages.success(
                request,
                f"Shared “{journey_map}” and its sub-maps with {user.get_full_name() or user} "
                f"as {form.cleaned_data['role']}.",
            )
            return redirect("governance:share", slug=journey_map.slug)
    return share_page(request, journey_map, form=form)


def share_page(
    request: HttpRequest, journey_map, *, form=None, link_form=None, status: int = 200
) -> HttpResponse:
    """The sharing page: people with access, and read-only links (views_share_links)."""
    grants = (
        JourneyMapUserObjectPermission.objects.filter(content_object=journey_map)
        .select_related("user", "permission")
        .order_by("user__username")
    )
    rows = [(grant, services.grant_role(grant)) for grant in grants]
    context = {"map": journey_map, "form": form or ShareForm(), "grants": rows}
    context.update(share_links_context(request, journey_map, link_form))
    return render(request, "governance/share.html", context, status=status)


@require_POST
@login_required
def unshare(request: HttpRequest, slug: str, grant_id: int) -> HttpResponse:
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.SHARE)
    grant = get_object_or_404(
        JourneyMapUserObjectPermission.objects.select_related("user"),
        pk=grant_id,
        content_object=journey_map,
    )
    services.map_unshare(grant=grant, by=request.user)
    messages.success(request, f"{grant.user.get_full_name() or grant.user} no longer has access.")
    return redirect("governance:share", slug=journey_map.slug)


@require_POST
@login_required
def mark_reviewed(request: HttpRequest, slug: str) -> HttpResponse:
    """The owner (or an admin) confirms the map is current; editing does not count."""
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.REVIEW)
    note = request.POST.get("note", "").strip()[:2000]
    reviews.map_mark_reviewed(journey_map=journey_map, by=request.user, note=note)
    messages.success(
        request,
        f"Marked “{journey_map}” as reviewed. Next review due "
        f"{journey_map.review_due_at:%-d %b %Y}.",
    )
    return redirect(safe_next(request, journey_map.get_absolute_url()))


HISTORY_PER_PAGE = 50


@require_http_methods(["GET"])
@login_required
def map_history(request: HttpRequest, slug: str) -> HttpResponse:
    """Who changed what and when, field by field, across the map and its content."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    entries = history.map_history(journey_map)
    people = history.people_in(entries)
    person = request.GET.get("person", "")
    if person.isdigit():
        entries = [e for e in entries if e.who is not None and e.who.pk == int(person)]
    page = Paginator(entries, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/history.html",
        {
            "map": journey_map,
            "crumbs": _crumbs(request, journey_map),
            "page": page,
            "people": people,
            "person": person,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def snapshots(request: HttpRequest, slug: str) -> HttpResponse:
    """A map's labelled snapshots; editors take a new one."""
    journey_map = permissions.get_map_for_user(request.user, slug)
    can_take = permissions.can(request.user, Action.EDIT, journey_map)
    error = ""
    if request.method == "POST":
        if not can_take:
            raise PermissionDenied(permissions.DENIED_MESSAGES[Action.EDIT])
        try:
            snapshot = map_snapshots.snapshot_take(
                journey_map=journey_map, label=request.POST.get("label", ""), by=request.user
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Saved the snapshot “{snapshot.label}”.")
            return redirect("governance:snapshots", slug=journey_map.slug)
    rows = journey_map.snapshots.select_related("created_by").defer("data")
    return render(
        request,
        "governance/snapshots.html",
        {
            "map": journey_map,
            "crumbs": _crumbs(request, journey_map),
            "snapshots": rows,
            "can_take": can_take,
            "error": error,
        },
    )


@require_http_methods(["GET"])
@login_required
def snapshot_compare(request: HttpRequest, slug: str, snapshot_id: int) -> HttpResponse:
    journey_map = permissions.get_map_for_user(request.user, slug)
    snapshot = get_object_or_404(
        MapSnapshot.objects.select_related("created_by"), pk=snapshot_id, map=journey_map
    )
    map_changes, kinds = map_snapshots.compare(snapshot, journey_map)
    return render(
        request,
        "governance/snapshot_compare.html",
        {
            "map": journey_map,
            "snapshot": snapshot,
            "map_changes": map_changes,
            "kinds": kinds,
            "can_restore": permissions.can(request.user, Action.TRANSFER, journey_map),
        },
    )


@require_POST
@login_required
def snapshot_restore(request: HttpRequest, slug: str, snapshot_id: int) -> HttpResponse:
    """Owner, CX leadership or admin put a snapshot back; the current state is kept as
    a snapshot first."""
    journey_map = permissions.get_map_for_user(request.user, slug, action=Action.TRANSFER)
    snapshot = get_object_or_404(MapSnapshot, pk=snapshot_id, map=journey_map)
    try:
        version = int(request.POST.get("map_version", ""))
        safety, _ = map_snapshots.snapshot_restore(
            snapshot=snapshot, by=request.user, expected_version=version
        )
    except ValueError:
        messages.error(request, "Nothing restored: the page did not say which version it showed.")
        return redirect("governance:snapshot", slug=slug, snapshot_id=snapshot.pk)
    except VersionConflict as exc:
        messages.error(request, f"Nothing restored. {exc}")
        return redirect("governance:snapshot", slug=slug, snapshot_id=snapshot.pk)
    messages.success(
        request,
        f"Restored “{snapshot.label}”. The content before it is kept as the snapshot "
        f"“{safety.label}”.",
    )
    return redirect(journey_map)

"""Comments in the browser: a map's discussion, one item's threads (the map page opens
them in a dialog through htmx), a thread, and the edit, remove, resolve and reopen forms.
The rules are in ``governance/comments.py``; every view loads the map through its gate
(404 for those who may not see it)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from maps.models import JourneyMap

from . import comments, permissions
from .models import Comment


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=comments.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Mention someone with @username: they get an e-mail if they may see the map.",
        error_messages={"required": "Write something: the comment is empty."},
    )


def _map(request: HttpRequest, slug: str) -> JourneyMap:
    return permissions.get_map_for_user(request.user, slug)


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _discussion_url(journey_map: JourneyMap, kind: str, target_id: int | None) -> str:
    if kind == Comment.Target.MAP:
        return reverse("comments:list", args=[journey_map.slug])
    return reverse("comments:item", args=[journey_map.slug, kind, target_id])


def _discussion(
    request: HttpRequest,
    journey_map: JourneyMap,
    kind: str,
    target_id: int | None,
    *,
    form: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """A map's threads (kind "map": all of them) or one item's, and the form for a new
    thread; htmx gets only the part the map page's dialog shows."""
    if kind == Comment.Target.MAP:
        threads = comments.threads_of_map(journey_map)
        label = "the map"
    else:
        threads = comments.threads_of_map(journey_map, target_kind=kind, target_id=target_id)
        label = comments.target_labels(journey_map, [(kind, target_id)])[(kind, target_id)]
    comments.with_permissions(threads, request.user)
    context = {
        "map": journey_map,
        "threads": threads,
        "label": label,
        "kind": kind,
        "target_id": target_id,
        "form": form or CommentForm(),
        "action": _discussion_url(journey_map, kind, target_id),
        **_permissions_context(request, journey_map),
    }
    template = "governance/comments.html"
    if request.htmx:
        template += "#discussion"
    return render(request, template, context, status=status)


def _permissions_context(request: HttpRequest, journey_map: JourneyMap) -> dict:
    """What the templates need to offer each comment's buttons (the rules are the
    service's; this saves asking per comment)."""
    return {
        "may_manage": permissions.can_manage_map(request.user, journey_map),
        "edit_window": comments.edit_window(),
    }


def _create(
    request: HttpRequest,
    journey_map: JourneyMap,
    kind: str,
    target_id: int | None,
    *,
    parent: Comment | None = None,
) -> tuple[Comment | None, HttpResponse | None]:
    """Post a comment from ``request.POST``: the comment, or the form again with why."""
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = comments.comment_create(
                journey_map=journey_map,
                author=request.user,
                body=form.cleaned_data["body"],
                target_kind=kind,
                target_id=target_id,
                parent=parent,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return comment, None
    if parent is not None:
        return None, _thread_page(request, journey_map, parent.pk, reply_form=form, status=400)
    return None, _discussion(request, journey_map, kind, target_id, form=form, status=400)


def _shown(request: HttpRequest, journey_map: JourneyMap) -> tuple[str, int | None] | None:
    """The discussion the htmx form was part of (``shown``: "map" or "kind:id"), so the
    map-wide list stays the map-wide list after a reply; None if absent or not valid."""
    kind, _, target_id = request.POST.get("shown", "").partition(":")
    if kind == Comment.Target.MAP:
        return kind, None
    try:
        target = comments.target_of_map(journey_map=journey_map, kind=kind, target_id=target_id)
    except ValidationError:
        return None
    return kind, target.pk


def _after_change(request: HttpRequest, journey_map: JourneyMap, comment: Comment, note: str):
    """htmx (the map page's dialog): the discussion of the thread's item again; otherwise
    back to the thread, at the comment."""
    thread = comment.parent or comment
    if request.htmx:
        kind, target_id = _shown(request, journey_map) or (thread.target_kind, thread.target_id)
        return _discussion(request, journey_map, kind, target_id)
    messages.success(request, note)
    return redirect(
        reverse("comments:thread", args=[journey_map.slug, thread.pk]) + f"#comment-{comment.pk}"
    )


@require_http_methods(["GET", "POST"])
@login_required
def discussion(
    request: HttpRequest, slug: str, kind: str = Comment.Target.MAP, target_id: int | None = None
) -> HttpResponse:
    journey_map = _map(request, slug)
    if kind == Comment.Target.MAP and target_id is not None:
        raise Http404("No such item.")
    try:
        comments.target_of_map(journey_map=journey_map, kind=kind, target_id=target_id)
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from exc
    if request.method == "POST":
        comment, failed = _create(request, journey_map, kind, target_id)
        if comment is None:
            return failed
        return _after_change(request, journey_map, comment, "Comment posted.")
    return _discussion(request, journey_map, kind, target_id)


def _thread_page(
    request: HttpRequest,
    journey_map: JourneyMap,
    comment_id: int,
    *,
    reply_form: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    found = comments.thread_of_map(journey_map, comment_id)
    if found is None:
        raise Http404("No such comment on this map.")
    comments.with_permissions([found], request.user)
    context = {
        "map": journey_map,
        "thread": found,
        "reply_form": reply_form or CommentForm(),
        "discussion_url": _discussion_url(journey_map, found.top.target_kind, found.top.target_id),
        **_permissions_context(request, journey_map),
    }
    return render(request, "governance/comments_thread_page.html", context, status=status)


def _comment(journey_map: JourneyMap, comment_id: int) -> Comment:
    comment = (
        Comment.objects.select_related("map", "parent", "author")
        .filter(map=journey_map, pk=comment_id)
        .first()
    )
    if comment is None:
        raise Http404("No such comment on this map.")
    return comment


@require_http_methods(["GET", "POST"])
@login_required
def thread(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    """A thread; POST replies to it."""
    journey_map = _map(request, slug)
    if request.method == "POST":
        parent = _comment(journey_map, comment_id)
        comment, failed = _create(
            request, journey_map, parent.target_kind, parent.target_id, parent=parent
        )
        if comment is None:
            return failed
        return _after_change(request, journey_map, comment, "Reply posted.")
    return _thread_page(request, journey_map, comment_id)


@require_http_methods(["GET", "POST"])
@login_required
def edit(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    journey_map = _map(request, slug)
    comment = _comment(journey_map, comment_id)
    if comment.author_id != request.user.pk:
        raise PermissionDenied(comments.EDIT_DENIED)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                comments.comment_edit(
                    comment=comment, by=request.user, body=form.cleaned_data["body"]
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return _after_change(request, journey_map, comment, "Comment changed.")
        status = 400
    context = {
        "map": journey_map,
        "comment": comment,
        "form": form,
        "closed": request.method == "GET" and not comments.may_edit(request.user, comment),
    }
    return render(request, "governance/comments_edit.html", context, status=status)


@require_POST
@login_required
def remove(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    journey_map = _map(request, slug)
    comment = comments.comment_remove(comment=_comment(journey_map, comment_id), by=request.user)
    return _after_change(request, journey_map, comment, "Comment removed.")


@require_POST
@login_required
def resolve(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    return _set_resolved(request, slug, comment_id, resolved=True)


@require_POST
@login_required
def reopen(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    return _set_resolved(request, slug, comment_id, resolved=False)


def _set_resolved(request: HttpRequest, slug: str, comment_id: int, *, resolved: bool):
    journey_map = _map(request, slug)
    comment = _comment(journey_map, comment_id)
    top = comment.parent or comment
    comments.thread_set_resolved(thread=top, by=request.user, resolved=resolved)
    return _after_change(
        request, journey_map, top, "Thread resolved." if resolved else "Thread reopened."
    )


app_name = "comments"
urlpatterns = [
    path("<slug:slug>/comments/", discussion, name="list"),
    path("<slug:slug>/comments/on/<str:kind>/<int:target_id>/", discussion, name="item"),
    path("<slug:slug>/comments/<int:comment_id>/", thread, name="thread"),
    path("<slug:slug>/comments/<int:comment_id>/edit/", edit, name="edit"),
    path("<slug:slug>/comments/<int:comment_id>/remove/", remove, name="remove"),
    path("<slug:slug>/comments/<int:comment_id>/resolve/", resolve, name="resolve"),
    path("<slug:slug>/comments/<int:comment_id>/reopen/", reopen, name="reopen"),
]

"""Comments and @mentions on a map and its items: the rules, the writes and the reads.

A comment always belongs to a map; whoever may see the map may read its comments and
write new ones (viewers and stakeholders included), nobody else. A comment without a
parent opens a thread about the map itself, one of its stages, steps, pain points,
lane items or KPIs, or a CX project that touches the map; replies join that thread.

* Edit: the author, within ``JOURNEYHUB_COMMENT_EDIT_MINUTES`` of posting.
* Remove (soft: the thread stays, the comment reads "comment removed"): the author, and
  the map's managers (owner, CX leadership, admins), who moderate its discussion.
* Resolve and reopen a thread: whoever opened it, and the map's managers.
* ``@username`` mentions resolve only to active users who may see the map; any other
  name stays plain text, is not notified, and nothing tells the author whether such a
  user exists. Each resolved mention sends one e-mail (Celery, after the commit); an
  edit notifies only the names it adds.

The text is stored as typed; ``comment_html`` escapes it for display, keeps its line
breaks and links the resolved mentions. History (django-simple-history) keeps every
version, the removed text included.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from maps.content import BY_EDITOR
from maps.models import CXProject, JourneyMap
from maps.sql import prepared

from . import permissions
from .models import Comment, CommentMention

BODY_MAX = Comment._meta.get_field("body").max_length
MENTIONS_MAX = 20  # distinct names resolved per comment; more stay plain text
Target = Comment.Target

# @name: Django usernames are letters, digits and @ . + - _; not inside an e-mail
# address (a word character before the @), and a sentence's final dot is not the name's
MENTION_RE = re.compile(r"(?<![\w@.+-])@([\w.+-]+[\w+-]|[\w])")


# --- what a comment can be about -----------------------------------------------------


def _target_models() -> dict[str, type[models.Model]]:
    """Each item kind's model: the content registry's editor kinds, and CX projects."""
    kinds = {kind: BY_EDITOR[kind].model for kind in ("stage", "step", "painpoint", "laneitem")}
    kinds["kpi"] = BY_EDITOR["kpi"].model
    kinds["project"] = CXProject
    return kinds


TARGET_MODELS = _target_models()
KIND_OF_MODEL = {model: kind for kind, model in TARGET_MODELS.items()}


def target_of_map(
    *, journey_map: JourneyMap, kind: str, target_id: int | str | None
) -> models.Model | JourneyMap:
    """The item a comment on ``journey_map`` is about, or a ValidationError naming the
    field: the item must belong to the map (a project must touch it)."""
    if kind == Target.MAP:
        return journey_map
    model = TARGET_MODELS.get(kind)
    if model is None:
        choices = ", ".join(Target.values)
        raise ValidationError({"target_kind": f"Comment on one of: {choices}."})
    if target_id is None or not str(target_id).isdigit():
        raise ValidationError({"target_id": f"Name the {model._meta.verbose_name} by its id."})
    if model is CXProject:
        found = journey_map.projects.filter(pk=int(target_id)).first()
    else:
        found = model._default_manager.filter(map=journey_map, pk=int(target_id)).first()
    if found is None:
        raise ValidationError(
            {"target_id": f"This map has no {model._meta.verbose_name} {target_id}."}
        )
    return found


def target_label(kind: str, obj: models.Model) -> str:
    if kind == Target.MAP:
        return "the map"
    name = getattr(obj, "name", None) or getattr(obj, "title", None) or str(obj)
    return f"{Target(kind).label.lower()} “{name}”"


def target_labels(journey_map: JourneyMap, pairs: Iterable[tuple[str, int | None]]) -> dict:
    """``{(kind, id): label}`` for a set of targets: one query per kind present."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for kind, target_id in pairs:
        if kind != Target.MAP and target_id is not None:
            by_kind[kind].add(target_id)
    labels: dict[tuple[str, int | None], str] = {(Target.MAP, None): "the map"}
    for kind, ids in by_kind.items():
        model = TARGET_MODELS[kind]
        for obj in model._default_manager.filter(pk__in=ids):
            labels[(kind, obj.pk)] = target_label(kind, obj)
    return labels


# --- who may do what -------------------------------------------------------------------


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def edit_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.JOURNEYHUB_COMMENT_EDIT_MINUTES)


def may_comment(user, journey_map: JourneyMap) -> bool:
    return permissions.can_view_map(user, journey_map)


def may_edit(user, comment: Comment, *, now: dt.datetime | None = None) -> bool:
    """The author, while the comment is young and not removed."""
    now = now or timezone.now()
    return (
        _active(user)
        and comment.author_id == user.pk
        and comment.removed_at is None
        and now - comment.created_at <= edit_window()
    )


def may_remove(user, comment: Comment) -> bool:
    if comment.removed_at is not None or not _active(user):
        return False
    return comment.author_id == user.pk or permissions.can_manage_map(user, comment.map)


def may_resolve(user, thread: Comment) -> bool:
    """Resolve or reopen: whoever opened the thread, and the map's managers."""
    if thread.parent_id is not None or not _active(user):
        return False
    return thread.author_id == user.pk or permissions.can_manage_map(user, thread.map)


EDIT_DENIED = "Only the author may edit a comment."
REMOVE_DENIED = "Only the author and the map's owner, CX leadership or an admin may remove it."
RESOLVE_DENIED = (
    "Only whoever opened the thread and the map's owner, CX leadership or an admin may "
    "resolve or reopen it."
)
COMMENT_DENIED = "You may not see this map."


# --- mentions ------------------------------------------------------------------------------


def mentioned_names(body: str) -> list[str]:
    """The distinct ``@names`` in a text, in order of appearance (at most MENTIONS_MAX)."""
    names: list[str] = []
    for match in MENTION_RE.finditer(body):
        name = match.group(1)
        if name not in names:
            names.append(name)
        if len(names) == MENTIONS_MAX:
            break
    return names


def resolve_mentions(*, journey_map: JourneyMap, body: str) -> list:
    """The active users named in ``body`` who may see ``journey_map``: one query for the
    names, then the map's policy for each (a dozen names at most in practice)."""
    names = mentioned_names(body)
    if not names:
        return []
    users = get_user_model().objects.filter(username__in=names, is_active=True)
    return [user for user in users if permissions.can_view_map(user, journey_map)]


def _sync_mentions(comment: Comment, users: list) -> list[CommentMention]:
    """Make the comment's mention rows match ``users``; return the new ones (the only
    ones to notify). A name the edit dropped loses its row (and its home-page entry)."""
    wanted = {user.pk for user in users}
    existing = set(comment.mention_rows.values_list("user_id", flat=True))
    comment.mention_rows.exclude(user_id__in=wanted).delete()
    new = [CommentMention(comment=comment, user_id=user_id) for user_id in wanted - existing]
    return CommentMention.objects.bulk_create(new)


def _notify_on_commit(mentions: list[CommentMention]) -> None:
    from .tasks import notify_mention

    for mention in mentions:
        mention_id = mention.pk
        transaction.on_commit(lambda mention_id=mention_id: notify_mention.delay(mention_id))


# --- writes ------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationError({"body": "Write something: the comment is empty."})
    if len(body) > BODY_MAX:
        raise ValidationError(
            {"body": f"A comment has at most {BODY_MAX} characters (this one has {len(body)})."}
        )
    if "\x00" in body:
        raise ValidationError({"body": "The text contains a NUL character."})
    return body


@transaction.atomic
def comment_create(
    *,
    journey_map: JourneyMap,
    author,
    body: str,
    target_kind: str = Target.MAP,
    target_id: int | str | None = None,
    parent: Comment | None = None,
) -> Comment:
    """Open a thread on the map or one of its items, or reply to ``parent`` (a reply
    joins its thread's item; replying to a reply joins the same thread)."""
    if not may_comment(author, journey_map):
        raise PermissionDenied(COMMENT_DENIED)
    body = _clean_body(body)
    if parent is not None:
        if parent.map_id != journey_map.pk:
            raise ValidationError({"parent": "That comment is on another map."})
        if parent.parent_id is not None:
            parent = parent.parent
        target_kind, target_id = parent.target_kind, parent.target_id
    else:
        target = target_of_map(journey_map=journey_map, kind=target_kind, target_id=target_id)
        target_id = None if target_kind == Target.MAP else target.pk
    comment = Comment(
        map=journey_map,
        target_kind=target_kind,
        target_id=target_id,
        parent=parent,
        author=author,
        body=body,
    )
    comment._history_user = author
    comment.save()
    _notify_on_commit(_sync_mentions(comment, resolve_mentions(journey_map=journey_map, body=body)))
    return comment


@transaction.atomic
def comment_edit(*, comment: Comment, by, body: str, now: dt.datetime | None = None) -> Comment:
    """Change one's own comment within the edit window; only names the edit adds are
    notified."""
    now = now or timezone.now()
    if comment.author_id != getattr(by, "pk", None) or not _active(by):
        raise PermissionDenied(EDIT_DENIED)
    if comment.removed_at is not None:
        raise ValidationError({"body": "This comment was removed; it cannot be edited."})
    if not may_edit(by, comment, now=now):
        minutes = settings.JOURNEYHUB_COMMENT_EDIT_MINUTES
        raise ValidationError(
            {
                "body": (
                    f"Comments can be edited for {minutes} minutes after posting; this one "
                    f"was posted at {timezone.localtime(comment.created_at):%H:%M on %d %b %Y}. "
                    "Reply to the thread instead."
                )
            }
        )
    body = _clean_body(body)
    if body == comment.body:
        return comment
    comment.body = body
    comment.edited_at = now
    comment._history_user = by
    comment.save(update_fields=["body", "edited_at"])
    users = resolve_mentions(journey_map=comment.map, body=body)
    _notify_on_commit(_sync_mentions(comment, users))
    return comment


@transaction.atomic
def comment_remove(*, comment: Comment, by) -> Comment:
    """Soft removal: the text goes (history keeps it), the thread and its replies stay."""
    if not may_remove(by, comment):
        if comment.removed_at is not None:
            return comment  # removing twice changes nothing
        raise PermissionDenied(REMOVE_DENIED)
    comment.body = ""
    comment.removed_at = timezone.now()
    comment.removed_by = by
    comment._history_user = by
    comment.save(update_fields=["body", "removed_at", "removed_by"])
    comment.mention_rows.all().delete()
    return comment


@transaction.atomic
def thread_set_resolved(*, thread: Comment, by, resolved: bool) -> Comment:
    if thread.parent_id is not None:
        raise ValidationError({"parent": "Resolve the thread, not a reply."})
    if not may_resolve(by, thread):
        raise PermissionDenied(RESOLVE_DENIED)
    if (thread.resolved_at is not None) == resolved:
        return thread  # already so
    thread.resolved_at = timezone.now() if resolved else None
    thread.resolved_by = by if resolved else None
    thread._history_user = by
    thread.save(update_fields=["resolved_at", "resolved_by"])
    return thread


# --- reads ---------------------------------------------------------------------------------


class CommentCounts(dict):
    """``{(kind, id): comments}`` of one map's items, and each card's link to its item's
    threads (``link(item)``: usable from Django and Jinja2 templates alike, one URL
    reversal per page)."""

    def __init__(
        self,
        journey_map: JourneyMap,
        counts: dict,
        *,
        relative: bool = False,
        open_threads: int | None = None,
    ) -> None:
        super().__init__(counts)
        self.map = journey_map
        self.relative = relative  # links relative to the map page (where its grid is shown)
        # the map's open threads (removed first comments included), read with the counts:
        # the discussion panel reads no thread when there is none (None: not counted)
        self.open_threads = open_threads
        self._prefix: str | None = None

    def url(self, kind: str, target_id: int) -> str:
        if self._prefix is None:  # …/comments/on/
            self._prefix = reverse("comments:item", args=[self.map.slug, "k", 1])[: -len("k/1/")]
            if self.relative:
                self._prefix = self._prefix.removeprefix(self.map.get_absolute_url())
        return f"{self._prefix}{kind}/{target_id}/"

    def link(self, item: models.Model, *, always: bool = False) -> SafeString:
        """The card's "💬 n" link to its item's threads (``static/js/comments.js`` opens
        it in the map page's discussion dialog; without JavaScript it is a page). Only
        for items that have comments, unless ``always`` (each step has one, to start a
        thread there): hundreds of cards with "💬 0" cost 80 KB of a map page. The bubble
        is a CSS icon (``static/img/comment.svg``): an emoji needs a colour-emoji font."""
        kind = KIND_OF_MODEL.get(type(item))
        if kind is None:
            return SafeString("")
        n = self.get((kind, item.pk), 0)
        if not n and not always:
            return SafeString("")
        if not n:  # as small as it can be: it is on every step
            return format_html(
                '<a class="comment-count" href="{}" data-comments aria-label="Comment"></a>',
                self.url(kind, item.pk),
            )
        return format_html(
            '<a class="comment-count" href="{}" data-comments>{}'
            '<span class="visually-hidden"> comment{}</span></a>',
            self.url(kind, item.pk), n, "" if n == 1 else "s",
        )  # fmt: skip


@prepared()  # compiled once per process: compiling it cost more than running it (#16)
def _count_rows(map_id: int) -> QuerySet:
    return (
        Comment.objects.filter(map=map_id)
        .order_by()
        .values_list("target_kind", "target_id")
        .annotate(
            n=Count("pk", filter=Q(removed_at__isnull=True)),
            open_threads=Count("pk", filter=Q(parent__isnull=True, resolved_at__isnull=True)),
        )
    )


def comment_counts_for_map(journey_map: JourneyMap, *, relative: bool = False) -> CommentCounts:
    """``{(kind, id): comments}`` of a map's items and the map itself (removed ones left
    out), for the counts on the grid's cards, and how many open threads the map has
    (``open_threads``, as ``open_thread_count``): one query. ``relative``: links relative
    to the map page, for its grid."""
    counts: dict[tuple[str, int | None], int] = {}
    open_threads = 0
    for kind, target_id, n, opened in _count_rows.rows(journey_map.pk):
        if n:
            counts[(kind, target_id)] = n
        open_threads += opened
    return CommentCounts(journey_map, counts, relative=relative, open_threads=open_threads)


def _mention_link(user, base: str) -> str:
    url = base + reverse("maps:repository") + f"?owner={user.pk}"
    title = escape(user.get_full_name() or user.get_username())
    return f'<a class="mention" href="{url}" title="{title}">@{escape(user.get_username())}</a>'


def comment_html(body: str, mentioned: dict[str, object], *, base: str = "") -> SafeString:
    """The text escaped, line breaks kept, and ``@name`` linked for the users in
    ``mentioned`` (username -> user; to their maps); other ``@names`` stay plain text.
    ``base``: the site's address, for e-mails."""
    parts: list[str] = []
    last = 0
    for match in MENTION_RE.finditer(body):
        user = mentioned.get(match.group(1))
        if user is None:
            continue
        parts.append(escape(body[last : match.start()]))
        parts.append(_mention_link(user, base))
        last = match.end()
    parts.append(escape(body[last:]))
    # every piece was escaped above; the links are built from escaped names
    return mark_safe("".join(parts).replace("\n", "<br>"))


def _with_html(comments: Iterable[Comment]) -> None:
    for comment in comments:
        users = {row.user.get_username(): row.user for row in comment.mention_rows.all()}
        comment.html = comment_html(comment.body, users)


@dataclass
class Thread:
    top: Comment
    replies: list[Comment]
    label: str

    @property
    def resolved(self) -> bool:
        return self.top.resolved_at is not None


def _comments() -> QuerySet[Comment]:
    return Comment.objects.select_related("author", "resolved_by", "map").prefetch_related(
        "mention_rows__user"
    )


def threads_of_map(
    journey_map: JourneyMap,
    *,
    target_kind: str | None = None,
    target_id: int | None = None,
    open_only: bool = False,
    limit: int | None = None,
) -> list[Thread]:
    """A map's threads (or one item's), open ones first, newest activity first, each with
    its replies and its item's label. Four queries and one per item kind shown."""
    tops = _comments().filter(map=journey_map, parent__isnull=True)
    if target_kind is not None:
        tops = tops.filter(target_kind=target_kind, target_id=target_id)
    if open_only:
        tops = tops.filter(resolved_at__isnull=True)
    tops = tops.order_by(models.F("resolved_at").desc(nulls_first=True), "-created_at", "-pk")
    tops = list(tops[:limit] if limit else tops)
    replies: dict[int, list[Comment]] = defaultdict(list)
    reply_rows = list(
        _comments().filter(parent__in=[t.pk for t in tops]).order_by("created_at", "pk")
    )
    for reply in reply_rows:
        replies[reply.parent_id].append(reply)
    _with_html([*tops, *reply_rows])
    labels = target_labels(journey_map, ((t.target_kind, t.target_id) for t in tops))
    return [
        Thread(
            top=t,
            replies=replies[t.pk],
            label=labels.get((t.target_kind, t.target_id), "an item since deleted"),
        )
        for t in tops
    ]


def thread_of_map(journey_map: JourneyMap, comment_id: int) -> Thread | None:
    """One thread by the id of any of its comments, or None if not on this map."""
    comment = Comment.objects.filter(map=journey_map, pk=comment_id).only("parent_id").first()
    if comment is None:
        return None
    top_id = comment.parent_id or comment.pk
    top = _comments().filter(pk=top_id).first()
    replies = list(_comments().filter(parent_id=top_id).order_by("created_at", "pk"))
    _with_html([top, *replies])
    labels = target_labels(journey_map, [(top.target_kind, top.target_id)])
    label = labels.get((top.target_kind, top.target_id), "an item since deleted")
    return Thread(top=top, replies=replies, label=label)


def with_permissions(threads: Iterable[Thread], user, *, now: dt.datetime | None = None) -> None:
    """Mark each comment with what ``user`` may do to it (``may_edit``, ``may_remove``,
    and ``may_resolve`` on a thread's first comment), for the buttons; no queries beyond
    the user's groups, cached for the request."""
    now = now or timezone.now()
    for t in threads:
        t.top.may_resolve = may_resolve(user, t.top)
        for comment in (t.top, *t.replies):
            comment.may_edit = may_edit(user, comment, now=now)
            comment.may_remove = may_remove(user, comment)


def open_thread_count(journey_map: JourneyMap) -> int:
    return Comment.objects.filter(
        map=journey_map, parent__isnull=True, resolved_at__isnull=True
    ).count()


def mentions_for_home(user, *, limit: int = 10) -> list[CommentMention]:
    """The comments that mention ``user`` on maps they (still) may see, unresolved threads
    first, then newest first: one query."""
    rows = (
        CommentMention.objects.filter(user=user, comment__removed_at__isnull=True)
        .select_related("comment__map", "comment__author", "comment__parent")
        .annotate(
            thread_resolved_at=Coalesce("comment__parent__resolved_at", "comment__resolved_at"),
            thread_resolved=ExpressionWrapper(
                Q(thread_resolved_at__isnull=False), output_field=BooleanField()
            ),
        )
        .order_by("thread_resolved", "-created_at", "-pk")
    )
    rows = permissions.visible_content(user, rows, map_path="comment__map")
    return list(rows[:limit])


def comments_visible_to(user) -> QuerySet[Comment]:
    """Every comment on a map the user may see (the API's list)."""
    return permissions.visible_content(user, Comment.objects.all())


def home_context(user) -> dict:
    """The home page's "Mentions" list (governance/home.py calls this once)."""
    return {"mentions": mentions_for_home(user)}

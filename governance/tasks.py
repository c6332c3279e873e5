"""Background work of governance. Tasks take ids and call services or send mail."""

from __future__ import annotations

import textwrap
from datetime import date

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from maps.models import JourneyMap

from . import comments, permissions, scoring
from .models import CommentMention


@shared_task
def notify_ownership_transferred(
    map_id: int, previous_owner_id: int, new_owner_id: int, by_id: int, note: str = ""
) -> bool:
    """E-mail the new owner that a map is now theirs, with the note written at the handover."""
    users = get_user_model().objects.in_bulk([previous_owner_id, new_owner_id, by_id])
    journey_map = JourneyMap.objects.filter(pk=map_id).first()
    new_owner = users.get(new_owner_id)
    if journey_map is None or new_owner is None or not new_owner.email:
        return False
    previous = users.get(previous_owner_id)
    by = users.get(by_id)

    def name(user) -> str:
        return (user.get_full_name() or user.get_username()) if user else "someone"

    send_mail(
        subject=f"You now own the journey map “{journey_map.title}”",
        message=(
            f"Hello {name(new_owner)},\n\n"
            f"{name(by)} transferred the journey map “{journey_map.title}” "
            f"from {name(previous)} to you. You are now responsible for keeping it current: "
            "its steps, pain points, KPIs and reviews "
            f"(every {journey_map.review_every_days} days).\n\n"
            + (
                f"{name(by)} wrote:\n{textwrap.indent(note.strip(), '> ')}\n\n"
                if note.strip()
                else ""
            )
            + f"{settings.JOURNEYHUB_BASE_URL}{journey_map.get_absolute_url()}\n"
        ),
        from_email=None,
        recipient_list=[new_owner.email],
    )
    return True


@shared_task
def snapshot_scorecards(day: str | None = None) -> int:
    """Store every map's scorecard as today's snapshot (or ``day``'s, an ISO date).
    Run nightly by beat; running it again the same day replaces that day's snapshots."""
    return scoring.scorecard_snapshot_all(day=date.fromisoformat(day) if day else None)


@shared_task
def send_review_reminders() -> int:
    """Daily: e-mail each owner one digest of the maps due for review (once per day)."""
    from .reminders import send_review_reminders as send

    return send()


@shared_task
def notify_mention(mention_id: int) -> bool:
    """E-mail someone @mentioned in a comment, once (``notified_at`` marks it sent). Left
    unsent: a mention removed by an edit, a removed comment, a user without an address or
    who may no longer see the map."""
    with transaction.atomic():
        mention = (
            CommentMention.objects.select_for_update(of=("self",))
            .select_related("user", "comment__map", "comment__author", "comment__parent")
            .prefetch_related("comment__mention_rows__user")
            .filter(pk=mention_id, notified_at__isnull=True)
            .first()
        )
        if mention is None:
            return False
        comment, user = mention.comment, mention.user
        if (
            comment.removed_at is not None
            or not user.email
            or not permissions.can_view_map(user, comment.map)
        ):
            return False
        base = settings.JOURNEYHUB_BASE_URL  # e-mails link to the site's public address
        thread = comment.parent or comment
        label = comments.target_labels(comment.map, [(thread.target_kind, thread.target_id)])
        context = {
            "user": user,
            "comment": comment,
            "author": comment.author,
            "map": comment.map,
            "where": label.get((thread.target_kind, thread.target_id), "an item since deleted"),
            "url": f"{base}{comment.get_absolute_url()}#comment-{comment.pk}",
            "html": comments.comment_html(
                comment.body,
                {row.user.get_username(): row.user for row in comment.mention_rows.all()},
                base=base,
            ),
        }
        author = comment.author
        who = (author.get_full_name() or author.get_username()) if author else "Someone"
        send_mail(
            subject=f"{who} mentioned you on “{comment.map.title}”",
            message=render_to_string("governance/email/mention.txt", context),
            html_message=render_to_string("governance/email/mention.html", context),
            from_email=None,
            recipient_list=[user.email],
        )
        mention.notified_at = timezone.now()
        mention.save(update_fields=["notified_at"])
    return True

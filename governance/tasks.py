"""Background work of governance. Tasks take ids and call services or send mail."""

from __future__ import annotations

import textwrap
from datetime import date

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from maps.models import JourneyMap

from . import scoring


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

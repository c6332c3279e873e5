"""The daily review digest: one e-mail per owner listing the maps they should review.

Idempotent per day: a ``ReminderLog`` row per owner and day is written with the mail,
so running the task (or ``manage.py send_review_reminders``) twice sends nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from maps.models import JourneyMap

from .models import ReminderLog
from .reviews import maps_due

REMIND_DAYS_AHEAD = 7


@dataclass
class Digest:
    owner: object
    overdue: list[JourneyMap] = field(default_factory=list)
    due_soon: list[JourneyMap] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.due_soon)


def review_digests(*, now=None) -> list[Digest]:
    """Every active owner with something due, and what (two queries)."""
    now = now or timezone.now()
    by_owner: dict[int, Digest] = {}
    for journey in maps_due(
        JourneyMap.objects.filter(owner__is_active=True), within_days=REMIND_DAYS_AHEAD, now=now
    ):
        digest = by_owner.setdefault(journey.owner_id, Digest(owner=journey.owner))
        (digest.overdue if journey.review_due_at <= now else digest.due_soon).append(journey)
    return sorted(by_owner.values(), key=lambda d: d.owner.get_username())


def send_review_reminders(*, today: date | None = None, now=None) -> int:
    """Send today's digests that were not sent yet; returns how many were sent."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    already = set(ReminderLog.objects.filter(day=today).values_list("owner_id", flat=True))
    sent = 0
    for digest in review_digests(now=now):
        if digest.owner.pk in already or not digest.owner.email:
            continue
        try:
            with transaction.atomic():
                ReminderLog.objects.create(owner=digest.owner, day=today, maps=digest.count)
                _send(digest, today)
        except IntegrityError:  # a concurrent run sent it first
            continue
        sent += 1
    return sent


def _send(digest: Digest, today: date) -> None:
    context = {
        "digest": digest,
        "today": today,
        "base_url": settings.JOURNEYHUB_BASE_URL,
        "ahead": REMIND_DAYS_AHEAD,
    }
    n = digest.count
    send_mail(
        subject=f"{n} journey map{'s' if n != 1 else ''} to review",
        message=render_to_string("governance/email/review_digest.txt", context),
        from_email=None,
        recipient_list=[digest.owner.email],
    )

"""A demo repository for a retail bank, built by ``manage.py seed_demo``.

The repository — personas, a customer lifecycle map that zooms into the seven essential
journeys and from there into task maps, pain points and other lane items, KPIs with a
year of monthly measurements, qualitative ratings and CX projects in every status — is
data: ``maps/data/demo.journeyhub.json``, a ``journeyhub/1`` document loaded through the
exchange importer like any file a team imports. Only what that format does not carry is
here: the six demo people and their teams, and the reviews behind each map's
``last_reviewed_at``.

Dates in the file are as of its ``exported_at``; seeding moves every date by whole
months so the newest measurement falls in the current month (measurements stay on the
first of the month) and the maps' ages, reviews and project dates keep their meaning.

Seeding is idempotent: the importer matches maps by slug and content by key and writes
only what is missing or different, so a second run in the same month changes nothing and
adds no history. A run in a later month moves the year of measurements along: the
months that fell out of the window are removed.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from .exchange import ExchangeSummary, import_document
from .exchange.spec import ALL_PARTS
from .models import JourneyMap, Measurement

DEMO_FILE = Path(__file__).parent / "data" / "demo.journeyhub.json"
PASSWORD = "journeyhub"
MEASUREMENT_MONTHS = 12

DIGITAL_TEAM = "Digital onboarding team"
SERVICING_TEAM = "Servicing team"
FIRST_REVIEW_NOTE = "First review after the research round."
LATEST_REVIEW_NOTE = "Walked through the map with the team; pain points and KPIs updated."


def leadership_group() -> str:
    return settings.JOURNEYHUB_LEADERSHIP_GROUP


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    groups: tuple[str, ...] = ()
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


def user_specs() -> list[UserSpec]:
    return [
        UserSpec("admin", "Ada", "Admin", is_staff=True, is_superuser=True),
        UserSpec("leader", "Lee", "Leader", groups=(leadership_group(),)),
        UserSpec("olivia", "Olivia", "Owens", groups=(DIGITAL_TEAM,)),
        UserSpec("omar", "Omar", "Olsen", groups=(SERVICING_TEAM,)),
        UserSpec("tess", "Tess", "Taylor", groups=(DIGITAL_TEAM,)),
        UserSpec("vic", "Vic", "Vance"),
    ]


# --------------------------------------------------------------------------- dates


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the last day of a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@cache
def _date_fields() -> tuple[frozenset[str], frozenset[str]]:
    """The document's names of date and of date-time fields, from the exchange spec."""
    dates: set[str] = set()
    times: set[str] = set()
    for part in ALL_PARTS:
        for attname in part.fields:
            model_field = part.model_field(attname)
            if isinstance(model_field, models.DateTimeField):
                times.add(attname)
            elif isinstance(model_field, models.DateField):
                dates.add(attname)
    return frozenset(dates), frozenset(times)


_TIME_TEXT = re.compile(r"^(\d{4}-\d{2}-\d{2})(T.*)$")


def _shift_value(name: str, value: Any, months: int) -> Any:
    dates, times = _date_fields()
    if not isinstance(value, str):
        return value
    if name in dates:
        return add_months(dt.date.fromisoformat(value), months).isoformat()
    if name in times and (match := _TIME_TEXT.match(value)):
        day = add_months(dt.date.fromisoformat(match[1]), months)
        return day.isoformat() + match[2]
    return value


def _walk(node: Any, months: int) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if isinstance(value, dict | list):
                _walk(value, months)
            else:
                node[name] = _shift_value(name, value, months)
    elif isinstance(node, list):
        for item in node:
            _walk(item, months)


@cache
def _file_document() -> dict[str, Any]:
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def demo_document(today: dt.date) -> dict[str, Any]:
    """The demo file with every date moved so its month is ``today``'s."""
    document = copy.deepcopy(_file_document())
    anchor = dt.date.fromisoformat(document["exported_at"][:10])
    months = (today.year - anchor.year) * 12 + today.month - anchor.month
    if months:
        for name in ("personas", "maps", "projects"):
            _walk(document[name], months)
    return document


# --------------------------------------------------------------------------- seeding


@dataclass
class DemoResult:
    summary: ExchangeSummary
    written: Counter = field(default_factory=Counter)  # people, teams, reviews: label -> n
    unchanged: Counter = field(default_factory=Counter)
    deleted: int = 0

    def lines(self) -> list[str]:
        created = sum(self.summary.created.values()) + sum(self.written.values())
        updated = sum(self.summary.updated.values())
        unchanged = sum(self.summary.unchanged.values()) + sum(self.unchanged.values())
        totals = Counter()
        for counts in (self.summary.created, self.summary.updated, self.summary.unchanged):
            totals.update(counts)
        totals.update(self.written)
        totals.update(self.unchanged)
        lines = [
            f"Retail-bank demo: {created} created, {updated} updated, {unchanged} unchanged, "
            f"{self.deleted} deleted."
        ]
        for noun, count in sorted(totals.items()):
            lines.append(f"  {_LABELS.get(noun, noun + 's')}: {count}")
        return lines


_LABELS = {"map": "journey maps", "user": "users", "team": "teams", "review": "reviews"}


def _tally(result: DemoResult, noun: str, created: bool) -> None:
    (result.written if created else result.unchanged)[noun] += 1


def seed_people(result: DemoResult) -> None:
    groups: dict[str, Group] = {}
    for name in (leadership_group(), DIGITAL_TEAM, SERVICING_TEAM):
        groups[name], created = Group.objects.get_or_create(name=name)
        _tally(result, "team", created)
    User = get_user_model()
    for spec in user_specs():
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": spec.email,
                "is_staff": spec.is_staff,
                "is_superuser": spec.is_superuser,
            },
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(*(groups[name] for name in spec.groups))
        _tally(result, "user", created)


def _reviews(entry: dict[str, Any]) -> Iterator[tuple[str, dt.datetime]]:
    """A map's demo reviews: the latest (its ``last_reviewed_at``) and, when the map is
    old enough, the first one a cadence earlier."""
    if not entry.get("last_reviewed_at"):
        return
    latest = dt.datetime.fromisoformat(entry["last_reviewed_at"])
    yield LATEST_REVIEW_NOTE, latest
    earlier = latest - dt.timedelta(days=entry["review_every_days"] - 3, hours=-4)
    if entry.get("created_at") and earlier > dt.datetime.fromisoformat(entry["created_at"]):
        yield FIRST_REVIEW_NOTE, earlier


def seed_reviews(document: dict[str, Any], result: DemoResult) -> None:
    Review = apps.get_model("governance", "Review")  # maps does not import governance
    maps = dict(JourneyMap.objects.values_list("slug", "pk"))
    owners = dict(JourneyMap.objects.values_list("slug", "owner_id"))
    for entry in document["maps"]:
        for note, reviewed_at in _reviews(entry):
            _, created = Review.objects.update_or_create(
                map_id=maps[entry["slug"]],
                note=note,
                defaults={"reviewed_by_id": owners[entry["slug"]], "reviewed_at": reviewed_at},
            )
            _tally(result, "review", created)


def drop_stale_measurements(document: dict[str, Any]) -> int:
    """Remove the demo's monthly measurements that the moved window no longer holds."""
    kept = {
        (entry["slug"], kpi["name"], m["date"])
        for entry in document["maps"]
        for kpi in entry.get("kpis", [])
        for m in kpi.get("measurements", [])
    }
    slugs = [entry["slug"] for entry in document["maps"]]
    stale = [
        pk
        for pk, slug, name, day in Measurement.objects.filter(kpi__map__slug__in=slugs)
        .values_list("pk", "kpi__map__slug", "kpi__name", "date")
        .iterator()
        if (slug, name, day.isoformat()) not in kept
    ]
    Measurement.objects.filter(pk__in=stale).delete()
    return len(stale)


def seed_demo(today: dt.date | None = None) -> DemoResult:
    """Create or update the demo repository; call inside a transaction."""
    today = today or timezone.localdate()
    people = DemoResult(summary=ExchangeSummary(dry_run=False))
    seed_people(people)
    document = demo_document(today)
    admin = get_user_model().objects.get(username="admin")
    result = DemoResult(
        summary=import_document(document, by=admin),
        written=people.written,
        unchanged=people.unchanged,
    )
    seed_reviews(document, result)
    result.deleted = drop_stale_measurements(document)
    return result

"""Choices and abstract bases shared by the map content models."""

from __future__ import annotations

import datetime as dt
import math
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible

#: The largest magnitude a stored number may have. Far above any KPI, count or cost a
#: CX team records, far below float overflow: sums and ratios of stored numbers stay
#: finite, so no page or API answer can ever meet ``inf`` or ``NaN``.
MAX_MAGNITUDE = 1e15
#: Dates of measurements, observations and projects: nothing before this year ...
EARLIEST_YEAR = 1900
#: ... and nothing more than this many years ahead of today.
MAX_YEARS_AHEAD = 10


@deconstructible
class FiniteNumberValidator:
    """A finite number of at most ``MAX_MAGNITUDE``; the message names the field."""

    def __init__(self, label: str = "This value"):
        self.label = label

    def __call__(self, value) -> None:
        if value is None:
            return
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = math.inf
        if not math.isfinite(number) or abs(number) > MAX_MAGNITUDE:
            raise ValidationError(
                f"{self.label} must be a finite number between −10^15 and 10^15.",
                code="not_finite",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, FiniteNumberValidator) and other.label == self.label


def finite(label: str) -> list:
    return [FiniteNumberValidator(label)]


def finite_constraint(field: str, label: str) -> models.CheckConstraint:
    """The database's copy of ``FiniteNumberValidator``: refuses ±inf on SQLite and
    PostgreSQL (and NaN on PostgreSQL; SQLite stores NaN as NULL, which a NOT NULL
    column refuses), whatever path writes the row."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__isnull": True})
        | models.Q(**{f"{field}__gte": -MAX_MAGNITUDE, f"{field}__lte": MAX_MAGNITUDE}),
        name=f"%(class)s_{field}_finite",
        violation_error_message=f"{label} must be a finite number between −10^15 and 10^15.",
    )


def date_problem(value: dt.date | None, label: str = "The date") -> str | None:
    """Why ``value`` is not a plausible date (before 1900, or more than ten years ahead),
    or None. Year 9999 and the like are typing slips, and break date arithmetic."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    latest = timezone.localdate().year + MAX_YEARS_AHEAD
    if value.year < EARLIEST_YEAR or value.year > latest:
        return (
            f"{label} {value:%Y-%m-%d} is not plausible: it must be between "
            f"{EARLIEST_YEAR} and {latest}."
        )
    return None


@deconstructible
class PlausibleDateValidator:
    def __init__(self, label: str = "The date"):
        self.label = label

    def __call__(self, value) -> None:
        problem = date_problem(value, self.label)
        if problem:
            raise ValidationError(problem, code="implausible_date")

    def __eq__(self, other) -> bool:
        return isinstance(other, PlausibleDateValidator) and other.label == self.label


def between(label: str, low: int, high: int, unit: str = "") -> list:
    """Field validators whose message names the field; the database constraint says the same."""
    message = f"{label} must be between {low} and {high}{unit}.".replace("%", "%%")
    return [MinValueValidator(low, message), MaxValueValidator(high, message)]


def one_to_five(label: str) -> list:
    return between(label, 1, 5)


class Evidence(models.TextChoices):
    """How well a step or lane item is backed, so guesses are never mistaken for facts."""

    ASSUMPTION = "assumption", "Assumption"
    ANECDOTAL = "anecdotal", "Anecdotal"
    RESEARCHED = "researched", "Researched"
    MEASURED = "measured", "Measured"


class Perspective(models.TextChoices):
    BUSINESS = "business", "Business"
    CUSTOMER = "customer", "Customer"


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


MAX_LINKS = 50


@deconstructible
class LinkListValidator:
    """External links: a list of at most ``MAX_LINKS`` texts of at most 2,000 characters
    (TheyDo's ``externalLinks`` are any strings; pages render http(s) ones as links)."""

    def __call__(self, value) -> None:
        if not isinstance(value, list):
            raise ValidationError("External links must be a list of texts.", code="not_list")
        if len(value) > MAX_LINKS:
            raise ValidationError(f"At most {MAX_LINKS} external links.", code="too_many")
        for i, link in enumerate(value):
            if not isinstance(link, str) or not link.strip() or len(link) > 2000:
                raise ValidationError(
                    f"External link {i + 1} must be a non-empty text of at most 2,000 characters.",
                    code="bad_link",
                )

    def __eq__(self, other) -> bool:
        return isinstance(other, LinkListValidator)


#: what a key in a journeyhub/1 document looks like (``maps.exchange``): hand-written files
#: may use readable keys ("welcome-call"), rows made here get a short random one
EXCHANGE_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"


def new_exchange_key() -> str:
    """A short random key: 40 bits, unique within one map by a constraint."""
    return secrets.token_hex(5)


def exchange_key_field() -> models.CharField:
    """The stable key a row keeps through export and import (``docs/exchange.md``): not a
    database id, so an exported map imported elsewhere and exported again says the same,
    and a re-import updates the row instead of copying it."""
    return models.CharField(
        max_length=40,
        default=new_exchange_key,
        validators=[
            RegexValidator(
                EXCHANGE_KEY_PATTERN,
                "1–40 letters, digits, “-”, “_” or “.”, starting with a letter or digit.",
            )
        ],
        help_text="Stable key in journeyhub/1 exports; imports match rows on it.",
    )

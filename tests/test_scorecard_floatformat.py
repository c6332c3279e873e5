"""``governance.floatformat.page_floatformat`` is Django's ``floatformat`` filter: the
same string for every value and argument, in several languages, with and without
thousand separators; and the scorecard page with it is byte for byte the page with
Django's filter (#16)."""

from __future__ import annotations

import math
import random
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat as django_floatformat
from django.utils import translation

from governance import views_scorecard
from governance.floatformat import page_floatformat
from governance.models import ScorecardSnapshot
from maps.models import Perspective
from tests.factories import (
    JourneyMapFactory,
    KPIFactory,
    MeasurementFactory,
    QualitativeFactorFactory,
)

# the CSRF tokens, masked afresh for every response
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+')
ARGS = (1, 0, -1, 2, 6, -6, 7, "1", "0", "-2", "1u", "0u", "2g", "-3gu", "3ug", "g", "u", "x", "")


def _values() -> list:
    rng = random.Random(16)
    values: list = [0, 0.0, -0.0, 0.05, 0.15, 0.25, 0.35, 0.45, -0.05, -0.25, 2.5, -2.5,
                    62.25, 99.95, 99.995, 1 / 3, 2 / 3, 100, -7, 48_000, 1234567.891,
                    10**14, -(10**14), 1e15, -1e15, 1e16, 5e-7, -5e-7, 1e-20, 123e-9,
                    math.inf, -math.inf, math.nan, True, None, "", "62.25", "abc",
                    Decimal("62.25"), Decimal("-0.05")]  # fmt: skip
    values += [rng.uniform(-1000, 1000) for _ in range(400)]
    values += [round(rng.uniform(-100, 100), rng.randint(0, 4)) for _ in range(400)]
    values += [rng.randint(-(10**7), 10**7) for _ in range(100)]
    values += [k / 8 for k in range(-40, 41)]  # exact halves and quarters
    return values


def _outcome(floatformat, value, arg) -> object:
    try:
        return floatformat(value, arg)
    except Exception as exc:  # Django's filter fails on an empty argument: so must this
        return repr(exc)


@pytest.mark.parametrize("language", ["en-gb", "de", "fr"])
@pytest.mark.parametrize("grouping", [False, True])
def test_the_same_string_as_djangos_filter(settings, language, grouping):
    settings.USE_THOUSAND_SEPARATOR = grouping
    with translation.override(language):
        floatformat = page_floatformat()
        for value in _values():
            for arg in ARGS:
                expected = _outcome(django_floatformat, value, arg)
                found = _outcome(floatformat, value, arg)
                assert found == expected, (value, arg)
                assert type(found) is type(expected), (value, arg)  # both safe strings


def test_the_language_is_the_one_active_when_the_page_began():
    with translation.override("de"):
        floatformat = page_floatformat()
    with translation.override("de"):
        assert floatformat(1234.5, "1") == django_floatformat(1234.5, "1") == "1234,5"


@pytest.fixture
def scored_tree(owner, team):
    """A parent with two sub-maps, KPIs, ratings and a year of snapshots whose health
    drops this month: every number the page formats."""
    parent = JourneyMapFactory(title="Parent", slug="parent", owner=owner, team=team)
    for i, slug in enumerate(("child-a", "child-b")):
        child = JourneyMapFactory(title=slug, slug=slug, owner=owner, parent=parent)
        KPIFactory(map=child, baseline=10 + i, target=30.5)
    kpi = KPIFactory(map=parent, name="Conversion", perspective=Perspective.BUSINESS,
                     baseline=20, target=40, unit="%")  # fmt: skip
    for k, value in enumerate((25.25, 31.125, 33.333333, 29.95)):
        MeasurementFactory(kpi=kpi, date=date(2026, 1 + k, 1), value=value)
    KPIFactory(map=parent, name="Upgrade rate", perspective=Perspective.CUSTOMER, target=None)
    QualitativeFactorFactory(map=parent, name="Ease", perspective=Perspective.CUSTOMER, rating=4)
    QualitativeFactorFactory(map=parent, name="Trust", perspective=Perspective.BUSINESS, rating=2)
    today = date.today()
    for back in range(0, 400, 9):
        ScorecardSnapshot.objects.create(
            map=parent, date=today - timedelta(days=back), health=40 + (back % 37) * 1.35
        )
    parent.refresh_from_db()
    return parent


@pytest.mark.django_db
def test_the_page_is_the_page_with_djangos_filter(client, monkeypatch, scored_tree, admin_user):
    client.force_login(admin_user)  # an editor: the rating forms too

    def page() -> str:
        text = client.get(f"/maps/{scored_tree.slug}/scorecard/").text
        assert "sc-change" in text and "submaps-chart" in text and "data-kpi-chart" in text
        return text

    def slow_numbers() -> object:
        return lambda value, arg=-1: django_floatformat(value, arg)

    fast = page()
    monkeypatch.setattr(views_scorecard, "page_floatformat", slow_numbers)
    assert _TOKEN.sub("", fast) == _TOKEN.sub("", page())

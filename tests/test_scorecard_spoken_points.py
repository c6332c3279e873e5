"""A KPI's sparkline label on the scorecard page (``views_scorecard._kpi_row``) is built
in Python: the same bytes as the template's loop that wrote it before (#16)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import translation
from django.utils.timezone import template_localtime

from governance import scoring
from governance.views_scorecard import _date_filter, _kpi_row
from maps import map_page

# the template's loop as it was (templates/jinja2/governance/scorecard.html before #16)
_LOOP = map_page.environment.from_string(
    "{{ points|length }} values: {% for day, value in points %}{{ date(day, 'M Y') }} "
    "{{ value }}{% if not loop.last %}, {% endif %}{% endfor %}"
)


def _as_template_wrote(trend: list[tuple[date, float]]) -> str:
    points = [(day, scoring.number(value)) for day, value in trend]
    return _LOOP.render(points=points, date=_date_filter())


@pytest.mark.parametrize(
    "trend",
    [
        [],
        [(date(2026, 1, 31), 7.0)],
        [(date(2025, 12, 1) + timedelta(days=31 * k), v) for k, v in enumerate(
            [48_000, 7.5, 8.05, -0.125, 1e-5, 123456.789, 0.0, 99.99995, 3, 12.5, -7, 2.25])],
        [(date(2026, 3, 1), 1 / 3), (date(2026, 3, 2), 2 / 3), (date(2026, 3, 3), None)],
    ],
)  # fmt: skip
def test_the_label_is_the_loops_bytes(trend):
    kpi = object()
    same_kpi, count, label = _kpi_row(kpi, trend, _date_filter())
    assert same_kpi is kpi
    assert f"{count} values: {label}" == _as_template_wrote(trend)
    assert hasattr(label, "__html__")  # escaped once, not again by the template


def test_special_characters_are_escaped_as_the_template_escaped_them(monkeypatch):
    trend = [(date(2026, 1, 1), 1.0), (date(2026, 2, 1), 2.0)]
    monkeypatch.setattr(scoring, "number", lambda value: f'<b a="x">&{value}\'')
    _, count, label = _kpi_row(None, trend, _date_filter())
    assert f"{count} values: {label}" == _as_template_wrote(trend)
    assert "<b" not in label


@pytest.mark.parametrize("language", ["en-gb", "de", "fr"])
def test_dates_are_djangos_date_filter_in_every_language(settings, language):
    settings.USE_TZ, settings.TIME_ZONE = True, "Pacific/Auckland"
    values = [None, "", date(2026, 1, 31), date(1999, 12, 1), date(2026, 7, 4)]
    values += [datetime(2026, 1, 31, 12, 30, tzinfo=UTC), datetime(2026, 5, 1, 23, 59)]
    with translation.override(language):
        format_date = _date_filter()
        for value in values:
            for fmt in ("M Y", "j M Y", "F Y", "D, jS F Y"):
                for _ in range(2):  # the memoised answer too
                    # as a template: an aware datetime in the current time zone first
                    expected = date_filter(template_localtime(value), fmt)
                    assert format_date(value, fmt) == expected, (value, fmt)


def test_a_process_wide_month_is_never_another_languages():
    day = date(2026, 3, 15)
    with translation.override("en-gb"):
        assert _date_filter()(day, "F Y") == "March 2026"
    with translation.override("de"):
        assert _date_filter()(day, "F Y") == "März 2026"
    with translation.override("en-gb"):
        assert _date_filter()(day, "F Y") == "March 2026"

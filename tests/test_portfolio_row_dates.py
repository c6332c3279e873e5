"""The portfolio's row dates (``views_portfolio._date_formatter``, #16: the month's name
asked of Django once per month, not a localised format per date) are Django's ``date``
filter's, for every month, days and years of every width, in English and another
language, and anything else still goes to the filter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.defaultfilters import date as date_filter
from django.utils import translation

from governance.views_portfolio import ROW_DATE, _date_formatter

DATES = [
    dt.date(year, month, day)
    for year in (1, 99, 999, 2026, 9999)
    for month in range(1, 13)
    for day in (1, 9, 10, 28)
]


@pytest.mark.parametrize("language", ["en-gb", "de", "fr"])
def test_row_dates_are_djangos(language):
    with translation.override(language):
        format_date = _date_formatter()
        for value in DATES:
            assert format_date(value, ROW_DATE) == date_filter(value, ROW_DATE), value


def test_other_values_and_formats_go_to_the_filter():
    format_date = _date_formatter()
    moment = dt.datetime(2026, 3, 7, 12, 30)
    assert format_date(None, ROW_DATE) == date_filter(None, ROW_DATE) == ""
    assert format_date(moment, ROW_DATE) == date_filter(moment, ROW_DATE)
    assert format_date(dt.date(2026, 3, 7), "Y-m-d") == "2026-03-07"
    assert format_date(dt.date(2026, 3, 7), ROW_DATE) == "7 Mar 2026"

"""Properties of the date and month parsers every page, import and the API share
(``common.params.parse_date``/``parse_month``, ``imports.cells.day``): what is shown (dd/mm/yyyy,
mm/yyyy) reads back as the same day, and anything else is a ValueError (a clear message on the
page, 422 in the API, a problem in an import) — never another exception."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danso_network.common.params import YEARS, parse_date, parse_month
from danso_network.imports.cells import CellError, day

from .conftest import FUZZ

days = st.dates(min_value=date(YEARS[0], 1, 1), max_value=date(YEARS[1], 12, 31))
# Strings near a date's shape: digits and separators in any order, plus anything at all.
date_like = st.one_of(
    st.text(alphabet="0123456789/-. ", max_size=14),
    st.text(max_size=14),
    st.builds(lambda d, m, y, a, b: f"{d}{a}{m}{b}{y}", st.integers(-5, 99), st.integers(-5, 99),
              st.integers(-10, 99999), st.sampled_from("/-."), st.sampled_from("/-.")),
)


@settings(FUZZ, max_examples=200)
@given(days, st.sampled_from(["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]), st.booleans())
def test_a_shown_date_reads_back_as_the_same_day(value, fmt, unpadded):
    text = value.strftime(fmt)
    if unpadded and fmt.startswith("%d"):
        text = f"{value.day}{fmt[2]}{value.month}{fmt[2]}{value.year:04d}"
    assert parse_date(f" {text} ") == value


@settings(FUZZ, max_examples=150)
@given(days, st.booleans())
def test_a_shown_month_reads_back_as_its_first_day(value, slash):
    text = value.strftime("%m/%Y") if slash else value.strftime("%Y-%m")
    assert parse_month(text) == value.replace(day=1)


@settings(FUZZ, max_examples=400)
@given(date_like)
def test_anything_else_is_a_value_error_or_a_day_in_the_years(text):
    for parse in (parse_date, parse_month):
        try:
            value = parse(text)
        except ValueError:
            continue
        assert isinstance(value, date) and YEARS[0] <= value.year <= YEARS[1]


@settings(FUZZ, max_examples=300)
@given(st.one_of(date_like, days, st.datetimes(), st.integers(), st.floats(), st.booleans(), st.none()))
def test_an_import_cell_is_a_day_or_a_clear_problem(value):
    """A date column's cell: a real day in the accepted years, or a CellError saying what to
    write ("ngày/tháng/năm") — whatever the spreadsheet held."""
    try:
        value = day(value)
    except CellError as e:
        assert str(e.message)
        return
    assert value is None or (isinstance(value, date) and YEARS[0] <= value.year <= YEARS[1])


@pytest.mark.parametrize("text", ["31/02/2026", "00/01/2026", "1/13/2026", "07/12/26", "2026-13-01", "07/12/0000",
                                  "٠٧/١٢/٢٠٢٦", "07/12/99999", "--", ""])
def test_impossible_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)

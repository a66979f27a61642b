"""The one formula-safe writer (issue #9, item 1; OWASP "CSV injection")."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from python_calamine import CalamineWorkbook
from xlsxwriter import Workbook

from danso_network.exports.writer import UTF8_BOM, csv_lines, safe_cell, write_xlsx_row

ATTACKS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", ATTACKS)
def test_text_that_would_run_as_a_formula_is_neutralised(text):
    assert safe_cell(text) == "'" + text


def test_numbers_dates_and_plain_text_are_untouched():
    assert safe_cell(-250000) == -250000
    assert safe_cell(Decimal("-0.25")) == Decimal("-0.25")
    assert safe_cell(date(2026, 1, 1)) == date(2026, 1, 1)
    assert safe_cell("Ấp 3") == "Ấp 3"
    assert safe_cell(None) is None


def test_csv_starts_with_a_bom_and_carries_no_formula():
    text = "".join(csv_lines([["Tên", "Số tiền"], [ATTACKS[0], -5], ["Ấp Bom Bo", 450000]]))
    assert text.startswith(UTF8_BOM)
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["Tên", "Số tiền"], ["'" + ATTACKS[0], "-5"], ["Ấp Bom Bo", "450000"]]
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_xlsx_cells_are_text_numbers_and_dates_never_formulas(tmp_path):
    path = tmp_path / "out.xlsx"
    workbook = Workbook(str(path))
    sheet = workbook.add_worksheet()
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    write_xlsx_row(sheet, 0, ["=1+1", -2, date(2026, 3, 4), None, True], formats={2: day})
    workbook.close()
    values = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert values[0][0] == "'=1+1"
    assert values[0][1] == -2
    assert str(values[0][2]).startswith("2026-03-04")

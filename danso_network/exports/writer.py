"""The one formula-safe writer for every CSV and XLSX cell the application produces.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula: a hamlet renamed ``=HYPERLINK("http://x","y")``
would become a live link in the allowance sheet of every office that opens it ("CSV injection",
OWASP). Text cells starting with one of these characters are written with a leading apostrophe,
which spreadsheet programs show as plain text; numbers, dates and booleans are written as what
they are, so a negative amount stays a negative number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"  # lets Excel read Vietnamese in a CSV as UTF-8


def safe_text(value: str) -> str:
    """Text that no spreadsheet program will run as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def safe_cell(value: Any) -> Any:
    """A cell value made safe: text neutralised, numbers/dates/booleans/None left as they are,
    anything else written as its (neutralised) text."""
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    return safe_text(str(value))


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def csv_lines(rows: Iterable[Iterable[Any]], *, bom: bool = True) -> Iterator[str]:
    """CSV text, one line at a time (for a streamed response), every cell made safe; with the
    UTF-8 byte-order mark first so Excel shows Vietnamese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        yield UTF8_BOM
    for row in rows:
        writer.writerow(safe_row(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_xlsx_row(worksheet, row: int, values: Iterable[Any], *, first_col: int = 0, formats=None) -> None:
    """One row of an xlsxwriter worksheet: text with ``write_string`` (never parsed as a formula,
    and neutralised for programs that re-parse it), numbers as numbers, dates as dates.
    ``formats`` maps a column offset to a cell format.

    This is the per-cell path of the 150,000-row roster (issue #11: within 1.3× of bare
    xlsxwriter), so the common cells (text, numbers, dates, empty) are dispatched on
    their exact class and written with xlsxwriter's undecorated ``_write_*`` methods, which skip
    the A1-notation check the public ``write_*`` run on every call (xlsxwriter ≥ 3.2 < 4, as
    pyproject.toml pins it; the public methods are used if they are ever gone); anything else
    takes the general path through :func:`safe_cell`. Same rule, same cells either way."""
    get_format = (formats or {}).get
    write_string = getattr(worksheet, "_write_string", worksheet.write_string)
    write_number = getattr(worksheet, "_write_number", worksheet.write_number)
    write_blank = getattr(worksheet, "_write_blank", worksheet.write_blank)
    write_datetime = getattr(worksheet, "_write_datetime", worksheet.write_datetime)
    col = first_col
    for offset, value in enumerate(values):
        cls = value.__class__
        if cls is str:
            write_string(row, col, safe_text(value), get_format(offset))
        elif value is None:
            write_blank(row, col, None, get_format(offset))
        elif cls is int or cls is float:
            write_number(row, col, value, get_format(offset))
        elif cls is date or cls is datetime:
            write_datetime(row, col, value, get_format(offset))
        else:
            _write_xlsx_cell(worksheet, row, col, safe_cell(value), get_format(offset))
        col += 1


def _write_xlsx_cell(worksheet, row: int, col: int, value: Any, fmt) -> None:
    """Any other (already made safe) value: booleans, Decimals, dates, int/str subclasses…"""
    if isinstance(value, bool):
        worksheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        worksheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, datetime):
        worksheet.write_datetime(row, col, value, fmt)
    elif isinstance(value, date):
        worksheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    else:
        worksheet.write_string(row, col, value, fmt)

"""A :class:`~.document.Document` as an Excel workbook (issue #11): one worksheet per sheet.

Written with xlsxwriter in constant-memory mode, so the national roster (150,000 rows) is
streamed to disk a row at a time and never held in memory. That mode writes each row out as
soon as a later row is started, so everything is written strictly top to bottom (the title
block, a blank row, the header, the rows, the "no rows" line or the totals row, the notes), and
whatever belongs to the sheet rather than to a row (column widths, frozen panes, the
autofilter, print setup) is set before the rows or is not row data at all (xlsxwriter keeps it
apart and writes it when the workbook closes). Merged cells are written in row order too.

Layout of each worksheet:

- the title block: the document title (bold, larger), ``document.lines``, then ``sheet.title``
  if any, each merged across the table's width; a blank row;
- the header row (bold, wrapped, bordered, light fill), frozen (panes under it), repeated at the
  top of every printed page, with an autofilter over the header and the rows;
- the rows, every cell through :func:`.writer.write_xlsx_row` (the one formula-safe writer),
  with one cell format per column kind: dates as real dates shown dd/mm/yyyy, whole numbers and
  money ``#,##0``, decimals ``#,##0.0``, percentages as the number of percent with one decimal
  and a "%" sign (``0.0"%"``: 45.3 shows "45.3%" and stays 45.3, as on the pages);
- ``sheet.empty_text`` when there was no row (a valid file with its headers, not an error);
- the totals row when the sheet has total columns: the label in the first column and the sums
  computed while streaming, written as numbers rather than formulas, so every viewer shows them
  without recalculating (a formula's cached value is empty in a file xlsxwriter writes);
- under the first sheet's table, ``document.notes``.

Printing: A4 landscape, fitted to one page wide, the header row repeated on every page, and
"Trang &P/&N" in the page footer.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, BinaryIO

from flask_babel import gettext as _
from xlsxwriter import Workbook

from .document import Column, Document, Kind, Sheet
from .writer import safe_text, write_xlsx_row

# Default column widths (characters) by kind, when a Column has none.
DEFAULT_WIDTHS: dict[Kind, float] = {
    Kind.TEXT: 22, Kind.INT: 10, Kind.NUMBER: 12, Kind.DATE: 12, Kind.PCT: 10, Kind.MONEY: 14, Kind.ORDINAL: 7,
}
NUMBER_FORMATS: dict[Kind, str | None] = {
    Kind.TEXT: None, Kind.INT: "#,##0", Kind.MONEY: "#,##0", Kind.NUMBER: "#,##0.0",
    Kind.PCT: '0.0"%"', Kind.DATE: "dd/mm/yyyy", Kind.ORDINAL: None,
}
NUMERIC_KINDS = frozenset({Kind.INT, Kind.NUMBER, Kind.PCT, Kind.MONEY, Kind.ORDINAL})
PLAIN_KINDS = frozenset({Kind.TEXT, Kind.ORDINAL})  # body cells written without a style (General)

SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_RESERVED_SHEET_NAMES = {"history"}  # Excel keeps it for change tracking
A4 = 9  # xlsxwriter's paper index
LINE_HEIGHT = 15  # points, one line of 11-point text


def sheet_names(names: Sequence[str]) -> list[str]:
    """Worksheet names Excel accepts, in order: the characters ``[]:*?/\\`` replaced by "-",
    no leading or trailing apostrophe, at most 31 characters, not empty ("Bảng N" instead),
    and unique ignoring case (a " (2)", " (3)"… suffix, the name shortened to make room)."""
    taken: set[str] = set()
    result = []
    for number, raw in enumerate(names, start=1):
        base = _SHEET_NAME_FORBIDDEN.sub("-", raw or "").strip().strip("'").strip()[:SHEET_NAME_MAX].strip()
        base = base or _("Bảng %(number)s", number=number)
        name, copy = base, 1
        while name.casefold() in taken or name.casefold() in _RESERVED_SHEET_NAMES:
            copy += 1
            suffix = f" ({copy})"
            name = base[: SHEET_NAME_MAX - len(suffix)].rstrip() + suffix
        taken.add(name.casefold())
        result.append(name)
    return result


class _Formats:
    """The workbook's cell formats, made once."""

    def __init__(self, workbook: Workbook):
        add = workbook.add_format
        self.title = add({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
        self.line = add({"align": "center", "valign": "vcenter"})
        self.sheet_title = add({"bold": True, "align": "center", "valign": "vcenter"})
        self.header = add({"bold": True, "text_wrap": True, "border": 1, "bg_color": "#DDEBF7",
                           "align": "center", "valign": "vcenter"})
        self.empty = add({"italic": True})
        self.note = add({"italic": True})
        self.cell: dict[Kind, Any] = {}
        self.total: dict[Kind, Any] = {}
        for kind, num_format in NUMBER_FORMATS.items():
            spec = {"num_format": num_format} if num_format else {}
            # Body cells: a number format only where one is needed. A style on every cell (borders,
            # alignment) made the national roster 1.2-1.5x slower than bare xlsxwriter (issue #11's
            # target: 1.3x); text and ordinal cells are written in Excel's General style.
            self.cell[kind] = None if kind in PLAIN_KINDS else add(spec)
            self.total[kind] = add(spec | {"border": 1, "bold": True, "bg_color": "#F2F2F2"})


def write_xlsx(document: Document, target: str | os.PathLike | BinaryIO) -> None:
    """Write ``document`` as an XLSX workbook to ``target`` (a path or a binary file object).

    Each sheet's rows are read once, in order (they may be a generator). Temporary row data goes
    to the system's temporary directory while the workbook is written (constant-memory mode)."""
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    workbook = Workbook(target, {
        "constant_memory": True,
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "remove_timezone": True,  # Excel has no time zones: aware datetimes are written as local
        "nan_inf_to_errors": True,  # a NaN is shown #NUM!, never an aborted export
    })
    try:
        workbook.set_properties({"title": document.title, "comments": "danso_network"})
        formats = _Formats(workbook)
        names = sheet_names([sheet.name for sheet in document.sheets])
        for index, (sheet, name) in enumerate(zip(document.sheets, names, strict=True)):
            notes = document.notes if index == 0 else []
            _write_sheet(workbook.add_worksheet(name), sheet, document, notes, formats)
        if not document.sheets:  # a workbook needs a sheet: the title block alone
            _write_sheet(workbook.add_worksheet(), None, document, document.notes, formats)
    except BaseException:
        _discard(workbook)
        raise
    workbook.close()


def _discard(workbook: Workbook) -> None:
    """After a failure while streaming (a query error, a cancelled job), delete the row data
    that constant-memory mode keeps in temporary files until ``close()`` (the national roster's
    is over 100 MB); the workbook is never written."""
    for worksheet in workbook.worksheets():
        handle, filename = getattr(worksheet, "row_data_fh", None), getattr(worksheet, "row_data_filename", None)
        if handle is not None:
            handle.close()
        if filename:
            with contextlib.suppress(OSError):
                os.remove(filename)
    workbook.fileclosed = True  # no "workbook not closed" warning when it is collected


def column_width(column: Column) -> float:
    return column.width if column.width is not None else DEFAULT_WIDTHS[Kind(column.kind)]


def _write_sheet(ws, sheet: Sheet | None, document: Document, notes: list[str], formats: _Formats) -> None:
    columns: Sequence[Column] = sheet.columns if sheet is not None else []
    kinds = [Kind(c.kind) for c in columns]
    width = max(len(columns), 1)
    widths = [column_width(c) for c in columns]

    # What belongs to the sheet, before any row.
    for col, chars in enumerate(widths):
        ws.set_column(col, col, chars)
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer("&C" + _("Trang %(page)s/%(pages)s", page="\0P", pages="\0N").replace("&", "&&").replace("\0", "&"))

    row = 0

    def block_line(text: str, fmt, height: float | None = None) -> None:
        nonlocal row
        if height:
            ws.set_row(row, height)
        if width > 1:
            ws.merge_range(row, 0, row, width - 1, "", fmt)
        ws.write_string(row, 0, safe_text(text), fmt)
        row += 1

    block_line(document.title, formats.title, 21)
    for line in document.lines:
        block_line(line, formats.line)
    if sheet is not None and sheet.title:
        block_line(sheet.title, formats.sheet_title)
    row += 1  # a blank row

    if sheet is None:
        _write_notes(ws, row, notes, formats)
        return

    header_row = row
    ws.set_row(header_row, LINE_HEIGHT * max(
        [math.ceil(len(c.label) / max(w - 1, 1)) for c, w in zip(columns, widths, strict=True)] or [1]))
    write_xlsx_row(ws, header_row, [c.label for c in columns], formats=dict.fromkeys(range(width), formats.header))
    ws.freeze_panes(header_row + 1, 0)
    ws.repeat_rows(header_row)
    row = header_row + 1

    cell_formats = {col: formats.cell[kind] for col, kind in enumerate(kinds)}
    total_cols = [col for col, c in enumerate(columns) if c.total] if sheet.has_totals else []
    totals: dict[int, Any] = dict.fromkeys(total_cols, 0)
    for values in sheet.rows:
        write_xlsx_row(ws, row, values, formats=cell_formats)
        for col in total_cols:
            totals[col] = add_to_total(totals[col], values[col] if col < len(values) else None)
        row += 1
    last_data_row = row - 1
    if columns:
        ws.autofilter(header_row, 0, last_data_row, len(columns) - 1)

    if last_data_row == header_row:
        ws.write_string(row, 0, safe_text(sheet.empty_text), formats.empty)
        row += 1
    if sheet.has_totals:
        totals_row = [None] * len(columns)
        if not columns[0].total:
            totals_row[0] = sheet.totals_label
        for col in total_cols:
            totals_row[col] = totals[col]
        write_xlsx_row(ws, row, totals_row, formats={col: formats.total[kind] for col, kind in enumerate(kinds)})
        row += 1
    _write_notes(ws, row + 1, notes, formats)


def _write_notes(ws, row: int, notes: list[str], formats: _Formats) -> None:
    for note in notes:
        ws.write_string(row, 0, safe_text(note), formats.note)
        row += 1


def add_to_total(total: Any, value: Any) -> Any:
    """A running total: numbers added (ints stay exact), anything else (None, hidden "(ẩn)"
    text, booleans) skipped. A Decimal meeting a float is added as a float."""
    cls = value.__class__
    if cls is int:  # the common cases first: this runs for every row
        return total + value
    if cls is float:
        return total + value if total.__class__ is not Decimal else float(total) + value
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return total
    try:
        return total + value
    except TypeError:
        return float(total) + float(value)

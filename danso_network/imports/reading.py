"""Reading the spreadsheets offices already keep (issue #12): XLSX, XLS and ODS through
python-calamine, CSV through the standard library — one :class:`Table` of rows keyed by field,
whatever the file's layout, and a clear Vietnamese refusal for what cannot be read.

The rules every import shares (hamlets, facilities, collaborators, accounts):

- **What is refused before any row is looked at** (:class:`FileRefused`, nothing is written): a
  file larger than ``IMPORT_MAX_BYTES`` (20 MB by default; the web server refuses more than
  ``MAX_CONTENT_LENGTH`` before that), a file whose content is not a spreadsheet (the extension
  is not trusted: an XLSX is a ZIP archive, an XLS or a password-protected XLSX an OLE
  compound file), a password-protected or corrupt workbook, an empty sheet, a header row that
  lacks a required column.
- **The header row** is found among the first :data:`HEADER_SCAN_ROWS` rows — templates and the
  roster export put a title block above it — as the first row naming every required field.
  Headers are matched folded (``textnorm.fold``: case, diacritics and spacing ignored, so "Số
  CCCD", "so cccd" and "SỐ  CCCD" are one column) against each :class:`Field`'s labels; a column
  the import does not know is ignored and reported once (:attr:`Table.ignored`).
- **Cells are values, never formulas**: calamine gives the value Excel stored for a formula
  cell, and a CSV cell "=1+1" is the text "=1+1"; nothing is evaluated. Text is NFC, trimmed,
  without control characters (``textnorm.clean_text``).
- **Rows** keep the number the user sees in the spreadsheet (1-based, counting the title block),
  so a problem says "dòng 17" where the user looks; empty rows are skipped.
- **CSV**: UTF-8 (with or without BOM), else Windows-1258 (Vietnamese Excel's "CSV" on Windows);
  the delimiter is sniffed among comma, semicolon and tab.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed
from ..textnorm import clean_text, fold

IMPORT_MAX_BYTES = 20 * 1024 * 1024  # default of the setting of the same name
HEADER_SCAN_ROWS = 30
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
TABLE_SUFFIXES = (*SPREADSHEET_SUFFIXES, ".csv", ".txt")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileRefused(ValidationFailed):
    """A file that cannot be read as a table at all (422 on a page or the API, exit 2 in the
    CLI); ``problems`` holds one Vietnamese line per problem (missing columns…)."""

    def __init__(self, message: Any, problems: Sequence[Any] = ()):
        super().__init__(message, problems=[str(p) for p in problems])


@dataclass(frozen=True)
class Field:
    """A column an import reads: ``key`` in the rows, the header it is written with in our
    templates and exports (``label``, first) and other headers offices use (``aliases``)."""

    key: str
    label: Any  # a lazy Vietnamese string
    aliases: tuple[str, ...] = ()
    required: bool = False

    def names(self) -> set[str]:
        """The headers this field is recognised by: its label in the reader's language and in
        Vietnamese (a file keeps the headers it was made with, whatever the language of the page
        it is uploaded on), and its aliases; all folded."""
        names = {fold(str(self.label)), *(fold(a) for a in self.aliases)}
        if has_app_context():
            with force_locale("vi"):
                names.add(fold(str(self.label)))
        return names


@dataclass
class Row:
    number: int  # the row's number in the spreadsheet (1-based)
    values: dict[str, Any]  # field key → the cell's value (None: empty)

    def get(self, key: str) -> Any:
        return self.values.get(key)


@dataclass
class Table:
    """The rows of one sheet under its header row."""

    filename: str
    sheet: str | None  # the sheet's name; None for a CSV
    header_row: int
    columns: dict[str, str]  # field key → the header as written in the file
    rows: list[Row]
    ignored: list[str] = field(default_factory=list)  # headers no field reads
    labels: dict[str, Any] = field(default_factory=dict)  # field key → its label, for a column the file lacks

    def header(self, key: str) -> str:
        """The column's header as the user wrote it (for problems); for a column the file does
        not have (a value the import inferred, e.g. a hamlet's type from its name), the field's
        label, never the internal key."""
        return self.columns.get(key) or str(self.labels.get(key, key))


def max_bytes() -> int:
    if has_app_context():
        return int(current_app.config.get("IMPORT_MAX_BYTES", IMPORT_MAX_BYTES))
    return IMPORT_MAX_BYTES


def megabytes(n: int) -> str:
    """A size for a message: "20 MB", "0,5 MB"."""
    value = n / 1024 / 1024
    return f"{value:.0f} MB" if value >= 1 else f"{value:.1f} MB".replace(".", ",")


def read_table(source: str | os.PathLike | IO[bytes], fields: Sequence[Field], *, filename: str | None = None,
               sheet: str | None = None) -> Table:
    """The rows of the first sheet (or ``sheet``) whose header row names every required field.

    ``source`` is a path or a binary file (an upload); ``filename`` its name as the user knows it
    (the extension says CSV or workbook; the content is checked either way)."""
    data = _read_bytes(source)
    name = filename or (os.path.basename(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else "")
    suffix = Path(name).suffix.lower()
    if data[:4] == _ZIP or data[:8] == _OLE or suffix in SPREADSHEET_SUFFIXES:
        sheets = _workbook_sheets(data, suffix, sheet)
    elif suffix in (".csv", ".txt", ""):
        sheets = [(None, _csv_rows(data))]
    else:
        raise FileRefused(_l("Tệp “%(f)s” không phải bảng tính: hãy dùng tệp Excel (.xlsx) hoặc CSV.", f=name[:80]))
    return _table(name, sheets, fields)


def _read_bytes(source) -> bytes:
    limit = max_bytes()
    if isinstance(source, (str, os.PathLike)):
        if os.path.getsize(source) > limit:
            raise FileRefused(_l("Tệp lớn hơn %(m)s, không nhập được. Hãy chia thành nhiều tệp nhỏ hơn.", m=megabytes(limit)))
        with open(source, "rb") as f:
            return f.read()
    data = source.read(limit + 1)
    if len(data) > limit:
        raise FileRefused(_l("Tệp lớn hơn %(m)s, không nhập được. Hãy chia thành nhiều tệp nhỏ hơn.", m=megabytes(limit)))
    return data


def _workbook_sheets(data: bytes, suffix: str, wanted: str | None) -> list[tuple[str, Iterator[list]]]:
    from python_calamine import CalamineWorkbook, PasswordError

    if data[:4] != _ZIP and data[:8] != _OLE:
        raise FileRefused(_l("Tệp không phải bảng tính Excel hợp lệ (nội dung không đúng định dạng %(s)s).",
                             s=suffix or ".xlsx"))
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = workbook.sheet_names
        if wanted is not None and wanted not in names:
            raise FileRefused(_l("Bảng tính không có trang “%(s)s”.", s=wanted[:40]))
        chosen = [wanted] if wanted is not None else names
        return [(n, _sheet_rows(workbook, n)) for n in chosen]
    except PasswordError:
        raise FileRefused(_l("Tệp Excel đang đặt mật khẩu: hãy bỏ mật khẩu (Tệp → Thông tin → Bảo vệ sổ làm việc) "
                             "rồi tải lên lại.")) from None
    except FileRefused:
        raise
    except Exception as e:  # calamine's errors (zip, xml, unknown format): the file is damaged
        if data[:8] == _OLE and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00" in data[:65536]:
            raise FileRefused(_l("Tệp Excel đang đặt mật khẩu: hãy bỏ mật khẩu (Tệp → Thông tin → Bảo vệ sổ làm việc) "
                                 "rồi tải lên lại.")) from None
        raise FileRefused(_l("Không đọc được tệp Excel (tệp hỏng hoặc không đúng định dạng): %(e)s",
                             e=str(e)[:120])) from None


def _sheet_rows(workbook, name: str) -> Iterator[list]:
    """The sheet's rows from row 1 (calamine starts at the first non-empty cell: the empty rows
    and columns before it are given back so row and column numbers are the user's)."""
    sheet = workbook.get_sheet_by_name(name)
    start = sheet.start or (0, 0)
    rows = sheet.to_python(skip_empty_area=True)

    def rows_from_one():
        for _ in range(start[0]):
            yield []
        pad = [None] * start[1]
        for row in rows:
            yield pad + list(row)
    return rows_from_one()


def _csv_rows(data: bytes) -> Iterator[list]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1258")
        except UnicodeDecodeError:
            raise FileRefused(_l("Không đọc được tệp CSV: hãy lưu với bảng mã UTF-8 (“CSV UTF-8” trong Excel).")) from None
    if "\x00" in text:
        raise FileRefused(_l("Tệp không phải bảng tính CSV (có ký tự nhị phân): hãy dùng tệp Excel (.xlsx) hoặc CSV."))
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return iter(csv.reader(io.StringIO(text, newline=""), dialect))


def cell_value(value: Any) -> Any:
    """A cell as the imports read it: None for empty, text cleaned (NFC, trimmed), numbers,
    dates and booleans as they are (a datetime at midnight is its date; a time of day is kept)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = clean_text(value)
        return text or None
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) else value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (bool, int, float, date, time, timedelta)):
        return value
    return clean_text(str(value)) or None


def _match_header(row: list, fields: Sequence[Field]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    by_name = {name: f for f in fields for name in f.names()}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored = []
    for i, raw in enumerate(row):
        text = cell_value(raw)
        if text is None:
            continue
        found = by_name.get(fold(str(text)))
        if found is None or found.key in positions:
            ignored.append(str(text))
            continue
        positions[found.key] = i
        headers[found.key] = str(text)
    return positions, headers, ignored


def _table(filename: str, sheets: list[tuple[str | None, Iterator[list]]], fields: Sequence[Field]) -> Table:
    required = [f for f in fields if f.required]
    best: tuple[int, str | None, list[Field]] | None = None  # the most required columns seen, to explain
    for sheet_name, rows in sheets:
        for number, row in enumerate(rows, 1):
            if number > HEADER_SCAN_ROWS:
                break
            positions, headers, ignored = _match_header(row, fields)
            if not positions:
                continue
            missing = [f for f in required if f.key not in positions]
            if not missing:
                return Table(filename, sheet_name, number, headers, list(_rows(rows, positions, number)), ignored,
                             {f.key: f.label for f in fields})
            if best is None or len(missing) < len(best[2]):
                best = (number, sheet_name, missing)
    if best is None:
        raise FileRefused(_l("Không tìm thấy dòng tiêu đề cột trong %(n)d dòng đầu của tệp. Các cột cần có: %(c)s.",
                             n=HEADER_SCAN_ROWS, c=", ".join(str(f.label) for f in required)))
    number, sheet_name, missing = best
    where = _l("trang “%(s)s”, dòng %(r)d", s=sheet_name, r=number) if sheet_name else _l("dòng %(r)d", r=number)
    raise FileRefused(
        _l("Thiếu cột bắt buộc (%(w)s): %(c)s.", w=where, c=", ".join(f"“{f.label}”" for f in missing)),
        [_l("Thiếu cột “%(c)s”.", c=f.label) for f in missing])


def _rows(rows: Iterator[list], positions: dict[str, int], header_row: int) -> Iterator[Row]:
    for number, row in enumerate(rows, header_row + 1):
        values = {key: cell_value(row[i]) if i < len(row) else None for key, i in positions.items()}
        if any(v is not None for v in values.values()):
            yield Row(number, values)

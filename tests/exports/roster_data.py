"""Helpers of the roster export tests: reading the files back. The network they read is the
``people`` fixture of tests/exports/conftest.py:

Đồng Nai: commune A (phường Bình Phước) has Khu phố 1 (Lan, village health worker too) and
Khu phố 2 (a person whose name starts with "=", suspended since 01/11/2026); commune B (xã Đồng
Xoài) has Ấp Tân Lập (Hoa) and Ấp 2, nobody there (vacant). Hà Nội: Tổ dân phố 5 (Mai). Hamlets of
A and Ấp Tân Lập have a geometry, Ấp 2 none. Đồng Nai has recruitment criteria (quotas)."""

from __future__ import annotations

import csv
import io

from python_calamine import CalamineWorkbook

from danso_network.exports.writer import UTF8_BOM

FORMULA_NAME = "=HYPERLINK(\"http://x\",\"Bấm\")"


def xlsx_sheets(data: bytes) -> dict[str, list[list]]:
    """Every worksheet of an XLSX file as rows of values (calamine, as a reader would)."""
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def header_index(rows: list[list], first: str = "STT") -> int:
    return next(i for i, row in enumerate(rows) if row and row[0] == first)


def table(rows: list[list], first: str = "STT") -> tuple[list, list[list]]:
    """(header, data rows) of a worksheet: the rows under the header up to the first blank one."""
    start = header_index(rows, first)
    data = []
    for row in rows[start + 1:]:
        if not any(v not in ("", None) for v in row) or not isinstance(row[0], int | float):
            break
        data.append(row)
    return rows[start], data


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(UTF8_BOM)
    return list(csv.reader(io.StringIO(text[1:])))

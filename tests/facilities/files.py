"""Files as offices write them, and the rows a change would touch (facility tests)."""

from __future__ import annotations

import csv
import io
from datetime import date

import xlsxwriter
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.extensions import db
from danso_network.units.models import Facility, ServiceArea

HEADER = ["Mã trung tâm", "Tên trung tâm", "Địa chỉ", "Điện thoại", "Mã xã/phường phục vụ", "Hiệu lực từ", "Quyết định"]


def csv_file(rows: list[list], header: list[str] = HEADER) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows([header, *([("" if v is None else v) for v in row] for row in rows)])
    return io.BytesIO(text.getvalue().encode("utf-8"))


def xlsx_file(rows: list[list], header: list[str] = HEADER, *, title: list[str] = ()) -> io.BytesIO:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet("TTYT")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    r = 0
    for line in title:
        ws.write(r, 0, line)
        r += 1
    for row in [header, *rows]:
        for c, value in enumerate(row):
            if isinstance(value, date):
                ws.write_datetime(r, c, value, dates)
            elif isinstance(value, str) and value.startswith("="):
                ws.write_formula(r, c, value, None, 42)
            elif value is not None:
                ws.write(r, c, value)
        r += 1
    book.close()
    buffer.seek(0)
    return buffer


def counts() -> tuple[int, int, int]:
    """Facilities, service-area rows and audit events: what an import or action may write."""
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Facility, ServiceArea, AuditEvent))

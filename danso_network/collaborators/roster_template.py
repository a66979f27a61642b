"""The XLSX template of the collaborators' import (issue #12 item 3), for the user's area.

Three worksheets, written with xlsxwriter, every cell through the formula-safe writer
(``exports.writer``: text is never a formula; the drop-down lists are data validation, not cells):

- **"Danh sách CTV"** — where the rows go: a title block, then the header row of the import's
  columns (``roster_import.FIELDS``, the roster export's headers, so an exported roster and a
  filled template read alike), one comment per header saying what to write. Required columns
  have an orange header; the read-only column (STT, numbered in advance) is grey and locked, the
  other cells are free (the sheet is protected without a password so that the STT and the header
  stay as they are; "Review → Unprotect" lifts it). Drop-down lists for the coded columns (hamlet
  code, sex, education, kind of assignment, yes/no), dates checked as dates, CCCD and phone as
  text (their leading 0 kept), over :data:`ROWS` rows.
- **"Thôn"** — the hamlets in force today in the area, read-only (protected): the code to write
  ("<commune code>-<hamlet code>"), the name, type, commune, the day it is in force from (a start
  date cannot be earlier) and the households.
- **"Hướng dẫn"** — the instructions in Vietnamese.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased
from xlsxwriter import Workbook

from ..auth.permissions import scope_of
from ..common.clock import today
from ..errors import PermissionDenied
from ..exports.writer import safe_text, write_xlsx_row
from ..extensions import db
from ..recruitment.labels import EDUCATION_LABELS, SEX_LABELS
from ..textnorm import slug
from ..units.labels import type_label
from ..units.models import AdminUnit, UnitLevel
from ..units.services import bytewise, valid_on
from .labels import KIND_LABELS
from .models import AssignmentKind
from .permissions import ASSIGNMENT_ROLES
from .roster_import import FIELD_BY_KEY

ROWS = 2000  # rows made ready (numbered, validated) under the header; more can be added
DATA_SHEET = "Danh sách CTV"
HAMLET_SHEET = "Thôn"
HELP_SHEET = "Hướng dẫn"
MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The template's columns in order: (field key or None for STT, width, required, what to write).
COLUMNS: list[tuple[str | None, float, bool]] = [
    (None, 6, False), ("hamlet_code", 14, True), ("hamlet", 22, False), ("commune", 22, False),
    ("full_name", 26, True), ("date_of_birth", 12, True), ("sex", 9, True), ("national_id", 15, True),
    ("phone", 13, False), ("ethnicity", 10, False), ("education", 22, True), ("kind", 16, False),
    ("started_on", 12, True), ("decision_ref", 22, False), ("contract_number", 18, False),
    ("contract_date", 12, False), ("vhw", 10, False), ("family_children", 10, False),
]
TEXT_COLUMNS = {"hamlet_code", "national_id", "phone", "decision_ref", "contract_number"}
DATE_COLUMNS = {"date_of_birth", "started_on", "contract_date"}


def _hints() -> dict[str | None, str]:
    return {
        None: _("Số thứ tự, chỉ để đọc: không cần sửa."),
        "hamlet_code": _("Bắt buộc: chọn mã thôn trong danh sách (trang “Thôn”), dạng <mã xã>-<mã thôn>."),
        "hamlet": _("Không bắt buộc khi đã có mã thôn; nếu ghi, phải đúng tên thôn của mã đó."),
        "commune": _("Không bắt buộc khi đã có mã thôn."),
        "full_name": _("Bắt buộc: họ và tên đầy đủ, có dấu."),
        "date_of_birth": _("Bắt buộc với người mới: ngày/tháng/năm, vd. 17/05/1990."),
        "sex": _("Bắt buộc với người mới: Nam hoặc Nữ."),
        "national_id": _("Bắt buộc: số CCCD 12 chữ số. Một người một số; cùng số CCCD là cùng một người."),
        "phone": _("Không bắt buộc: 10–11 chữ số bắt đầu bằng 0."),
        "ethnicity": _("Không bắt buộc, vd. Kinh."),
        "education": _("Bắt buộc với người mới: chọn trong danh sách."),
        "kind": _("Thôn chính (để trống cũng là thôn chính) hoặc Kiêm nhiệm thêm (một dòng cho mỗi thôn kiêm nhiệm)."),
        "started_on": _("Bắt buộc với người mới: ngày bắt đầu phụ trách thôn, không trước ngày thôn có hiệu lực "
                        "(trang “Thôn”), không sau hôm nay."),
        "decision_ref": _("Số quyết định công nhận (nếu có), vd. 12/QĐ-TTYT."),
        "contract_number": _("Số hợp đồng trách nhiệm (nếu có)."),
        "contract_date": _("Ngày ký hợp đồng (nếu có), không sau ngày bắt đầu phụ trách."),
        "vhw": _("Có nếu kiêm nhân viên y tế thôn bản; để trống là Không."),
        "family_children": _("Có nếu kiêm công tác gia đình và trẻ em; để trống là Không."),
    }


def instructions() -> list[str]:
    """The lines of the "Hướng dẫn" sheet (also shown on the upload page)."""
    return [
        _("Mẫu nhập danh sách cộng tác viên dân số"),
        "",
        _("1. Mỗi dòng ở trang “%(s)s” là một cộng tác viên ở một thôn. Người kiêm nhiệm thêm thôn có thêm một dòng "
          "cho thôn đó, cùng số CCCD, cột “Loại phân công” ghi “Kiêm nhiệm thêm”.", s=DATA_SHEET),
        _("2. Cột có tiêu đề màu cam là bắt buộc (ngày sinh, giới tính, trình độ học vấn và ngày bắt đầu bắt buộc với "
          "người chưa có trong hệ thống). Cột màu xám chỉ để đọc. Không đổi tên tiêu đề cột."),
        _("3. Mã thôn chọn trong danh sách thả xuống (trang “%(s)s” liệt kê các thôn đang có hiệu lực trong địa bàn "
          "của bạn).", s=HAMLET_SHEET),
        _("4. Ngày ghi ngày/tháng/năm (vd. 07/12/2026). Số CCCD và số điện thoại ghi dạng chữ để giữ số 0 ở đầu."),
        _("5. Người đã có trong hệ thống (cùng số CCCD) được cập nhật: ô để trống giữ nguyên thông tin đã có; cột "
          "Có/Không để trống nghĩa là Không. Không đổi được ngày bắt đầu, thôn chính (điều chuyển) hay cho nghỉ việc "
          "qua tệp: hãy làm trên trang hồ sơ cộng tác viên."),
        _("6. Người chưa có trong hệ thống được ghi là cộng tác viên đã được công nhận trước khi dùng phần mềm (“Chuyển "
          "từ sổ sách giấy”), phụ trách thôn từ ngày bắt đầu đã ghi."),
        _("7. Khi tải tệp lên, hệ thống kiểm tra toàn bộ trước (chạy thử): liệt kê số dòng thêm mới, cập nhật, không "
          "đổi và mọi lỗi theo dòng, cột. Chỉ khi không còn lỗi mới ghi, và ghi tất cả trong một lần. Nhập lại cùng tệp "
          "không thay đổi gì."),
        _("8. Có thể nhập lại tệp “Danh sách CTV” đã xuất từ trang danh sách cộng tác viên (cùng tiêu đề cột)."),
    ]


@dataclass(frozen=True)
class TemplateInfo:
    filename: str  # ASCII, with extension
    display_name: str  # Vietnamese
    title: str  # the area
    hamlets: int


def template_area(user, unit: AdminUnit | None) -> tuple[list[str], str]:
    """The areas whose hamlets the template lists and its title: ``unit`` (inside the user's
    assignment scope, else refused), or the user's whole assignment scope (None: the CLI's
    administrator, everything)."""
    areas = None if user is None else scope_of(user).prefixes_for(ASSIGNMENT_ROLES)
    if unit is not None:
        if areas is not None and not unit.path.startswith(tuple(areas)):
            raise PermissionDenied(_("%(u)s nằm ngoài địa bàn bạn được phân quyền phân công cộng tác viên.",
                                     u=unit.full_name))
        return [unit.path], unit.full_name
    if areas is None:
        return [], _("Toàn quốc")
    if not areas:
        raise PermissionDenied(_("Tài khoản của bạn không có quyền phân công cộng tác viên ở địa bàn nào."))
    return sorted(areas), _("Địa bàn của bạn")


def hamlet_rows(prefixes: Sequence[str], on: date) -> list[tuple]:
    """The hamlets in force on ``on`` under the areas (none: everywhere), by commune and code:
    (code to write, name, type, commune, commune code, in force from, households)."""
    commune = aliased(AdminUnit)
    stmt = (select(commune.code, AdminUnit.local_id, AdminUnit.name, AdminUnit.type, commune.full_name,
                   AdminUnit.valid_from, AdminUnit.households)
            .join(commune, commune.id == AdminUnit.parent_id)
            .where(AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, on))
            .order_by(commune.code, bytewise(AdminUnit.local_id), AdminUnit.id))
    if prefixes:
        stmt = stmt.where(or_(*(AdminUnit.path.startswith(p) for p in prefixes)))
    return [(f"{code}-{local}", name, type_label(kind), commune_name, code, since, households)
            for code, local, name, kind, commune_name, since, households in db.session.execute(stmt)]


def write_template(target: str | os.PathLike | IO[bytes], *, user, unit: AdminUnit | None = None,
                   on: date | None = None) -> TemplateInfo:
    """Write the template for ``user``'s area (or ``unit`` in it) to ``target``."""
    on = on or today()
    prefixes, title = template_area(user, unit)
    hamlets = hamlet_rows(prefixes, on)
    if isinstance(target, os.PathLike):
        target = os.fspath(target)
    workbook = Workbook(target, {"strings_to_formulas": False, "strings_to_urls": False,
                                 "strings_to_numbers": False, "in_memory": True})
    workbook.set_properties({"title": _("Mẫu nhập danh sách cộng tác viên dân số"), "comments": "danso_network"})
    _data_sheet(workbook, title, on, len(hamlets))
    _hamlet_sheet(workbook, hamlets)
    _help_sheet(workbook, title, on)
    workbook.close()
    return TemplateInfo(f"mau-nhap-ctv-{slug(title, default='dia-ban')}-{on.isoformat()}.xlsx",
                        _("Mẫu nhập CTV - %(t)s - %(d)s.xlsx", t=title, d=on.strftime("%d-%m-%Y")), title,
                        len(hamlets))


def _header_label(key: str | None) -> str:
    return _("STT") if key is None else str(FIELD_BY_KEY[key].label)


def _data_sheet(workbook: Workbook, title: str, on: date, hamlet_count: int) -> None:
    ws = workbook.add_worksheet(DATA_SHEET)
    bold = workbook.add_format({"bold": True, "font_size": 14})
    note = workbook.add_format({"italic": True, "font_color": "#555555"})
    header = {"bold": True, "text_wrap": True, "border": 1, "align": "center", "valign": "vcenter"}
    free = workbook.add_format({"bg_color": "#DDEBF7", **header})
    required = workbook.add_format({"bg_color": "#F8CBAD", **header})
    locked_header = workbook.add_format({"bg_color": "#D9D9D9", **header})
    grey = workbook.add_format({"bg_color": "#EDEDED", "locked": True})
    text = workbook.add_format({"num_format": "@", "locked": False})
    day = workbook.add_format({"num_format": "dd/mm/yyyy", "locked": False})
    plain = workbook.add_format({"locked": False})
    ws.write_string(0, 0, safe_text(_("DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ (MẪU NHẬP)")), bold)
    ws.write_string(1, 0, safe_text(_("Địa bàn: %(t)s · Mẫu lập ngày %(d)s", t=title, d=on.strftime("%d/%m/%Y"))))
    ws.write_string(2, 0, safe_text(_("Xem trang “%(h)s” trước khi điền. Cột tiêu đề màu cam: bắt buộc; màu xám: chỉ "
                                      "để đọc.", h=HELP_SHEET)), note)
    head = 4
    hints = _hints()
    for col, (key, chars, must) in enumerate(COLUMNS):
        fmt = locked_header if key is None else required if must else free
        cell_format = grey if key is None else text if key in TEXT_COLUMNS else day if key in DATE_COLUMNS else plain
        ws.set_column(col, col, chars, cell_format)
        write_xlsx_row(ws, head, [_header_label(key)], first_col=col, formats={0: fmt})
        ws.write_comment(head, col, safe_text(hints[key]), {"x_scale": 2, "y_scale": 1.5})
    ws.set_row(head, 32)
    ws.freeze_panes(head + 1, 2)
    first, last = head + 1, head + ROWS
    for n in range(1, ROWS + 1):
        write_xlsx_row(ws, head + n, [n], formats={0: grey})
    position = {key: col for col, (key, _w, _r) in enumerate(COLUMNS)}

    def choose(key: str, source, message: str) -> None:
        col = position[key]
        ws.data_validation(first, col, last, col, {
            "validate": "list", "source": source, "ignore_blank": True, "error_type": "warning",
            "error_title": _("Giá trị không có trong danh sách"), "error_message": message})

    if hamlet_count:
        choose("hamlet_code", f"='{HAMLET_SHEET}'!$A$2:$A${hamlet_count + 1}",
               _("Chọn mã thôn trong danh sách (trang “%(s)s”).", s=HAMLET_SHEET))
    choose("sex", [str(label) for label in SEX_LABELS.values()], _("Chọn Nam hoặc Nữ."))
    choose("education", [str(label) for label in EDUCATION_LABELS.values()], _("Chọn trình độ trong danh sách."))
    choose("kind", [str(KIND_LABELS[k]) for k in AssignmentKind], _("Chọn Thôn chính hoặc Kiêm nhiệm thêm."))
    for key in ("vhw", "family_children"):
        choose(key, [_("Có"), _("Không")], _("Chọn Có hoặc Không (để trống là Không)."))
    for key in DATE_COLUMNS:
        col = position[key]
        ws.data_validation(first, col, last, col, {
            "validate": "date", "criteria": "between", "minimum": datetime(1900, 1, 1),
            "maximum": datetime(on.year, on.month, on.day), "ignore_blank": True, "error_type": "warning",
            "error_title": _("Ngày không hợp lệ"),
            "error_message": _("Ghi ngày/tháng/năm, không sau hôm nay (%(d)s).", d=on.strftime("%d/%m/%Y"))})
    col = position["national_id"]
    ws.data_validation(first, col, last, col, {
        "validate": "length", "criteria": "==", "value": 12, "ignore_blank": True, "error_type": "warning",
        "error_title": _("Số CCCD"), "error_message": _("Số CCCD gồm đúng 12 chữ số.")})
    ws.protect("", {"format_cells": True, "format_columns": True, "format_rows": True, "insert_rows": True,
                    "delete_rows": True, "sort": True, "autofilter": True, "select_locked_cells": True,
                    "select_unlocked_cells": True})


def _hamlet_sheet(workbook: Workbook, hamlets: list[tuple]) -> None:
    ws = workbook.add_worksheet(HAMLET_SHEET)
    header = workbook.add_format({"bold": True, "border": 1, "bg_color": "#D9D9D9", "text_wrap": True})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    labels = [_("Mã thôn"), _("Thôn/tổ dân phố"), _("Loại"), _("Xã/phường"), _("Mã xã/phường"),
              _("Có hiệu lực từ"), _("Số hộ")]
    for col, chars in enumerate((14, 26, 14, 26, 12, 13, 9)):
        ws.set_column(col, col, chars)
    write_xlsx_row(ws, 0, labels, formats=dict.fromkeys(range(len(labels)), header))
    for n, row in enumerate(hamlets, 1):
        write_xlsx_row(ws, n, row, formats={5: day})
    if not hamlets:
        ws.write_string(1, 0, safe_text(_("Không có thôn/tổ dân phố nào đang có hiệu lực trong địa bàn này.")))
    ws.freeze_panes(1, 1)
    ws.autofilter(0, 0, max(len(hamlets), 1), len(labels) - 1)
    ws.protect("", {"sort": True, "autofilter": True, "select_locked_cells": True, "select_unlocked_cells": True})


def _help_sheet(workbook: Workbook, title: str, on: date) -> None:
    ws = workbook.add_worksheet(HELP_SHEET)
    ws.set_column(0, 0, 120, workbook.add_format({"text_wrap": True, "valign": "top"}))
    bold = workbook.add_format({"bold": True, "font_size": 13})
    lines = instructions()
    write_xlsx_row(ws, 0, [lines[0]], formats={0: bold})
    for n, line in enumerate(lines[1:], 1):
        write_xlsx_row(ws, n, [line or None])
    n = len(lines) + 1
    write_xlsx_row(ws, n, [_("Các cột (tiêu đề ở dòng %(r)d của trang “%(s)s”):", r=5, s=DATA_SHEET)], formats={0: bold})
    hints = _hints()
    for offset, (key, _w, must) in enumerate(COLUMNS, 1):
        mark = _("bắt buộc") if must else (_("chỉ để đọc") if key is None else _("không bắt buộc"))
        write_xlsx_row(ws, n + offset, [f"• {_header_label(key)} ({mark}): {hints[key]}"])
    write_xlsx_row(ws, n + len(COLUMNS) + 2, [_("Địa bàn: %(t)s; mẫu lập ngày %(d)s.", t=title,
                                                d=on.strftime("%d/%m/%Y"))])

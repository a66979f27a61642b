"""The monthly allowance sheet as one :class:`~danso_network.exports.document.Document` (issue #11
item 2): the "Bảng tổng hợp chi bồi dưỡng cộng tác viên dân số" that a station, an area health
centre or the Department prints, signs and sends to accounting, written as XLSX, PDF or CSV by
the shared writers (``exports.services.write_document``), so the three files have one definition
of the columns.

What the document holds:

- the official heading and the signer of the issuing office (``exports.heading.heading_for`` on
  the month's last day: a commune's station, the centre, the province's Department of Health;
  Nghị định 30/2020/NĐ-CP, Phụ lục I), dated the day it is made (Vietnam's today);
- the title, the area (the unit's full name or the centre's name), "Tháng mm/yyyy" and the
  month's figures (collaborators, lines, days, total) from :func:`.services.sheet_summary`;
- one sheet whose columns are those of the former CSV: STT, commune, commune category, hamlet,
  zone, full name, CCCD, VHW, family & children duty, assignment kind, days paid, days
  suspended, days in the month, monthly rate, legal basis, amount, notes (XLSX and CSV); the
  PDF has the narrower printed set of :func:`columns` (A4 landscape). Lines are listed by
  commune in the sheet's order (:func:`.services.iter_sheet`), numbered through the whole sheet;
  after each commune a row "Cộng <commune>" with its subtotal (0 for a commune without
  collaborators that month), and last a row "Tổng cộng" with the sum of the lines written. The
  writers' own totals row is not used (``totals_label=None``): it would add the subtotal rows
  to the lines. A month without any line has no row at all, so every format writes its header
  and "Không có dòng nào." (``Sheet.empty_text``);
- the CCCD number only where the reader sees it on the page (``auth.personal_data`` rule 1: an
  editing role over the line's hamlet), "(ẩn)" elsewhere, with a note saying so; a note for
  the lines to check (no rule or no base salary), as on the page.

Size. Measured on the 2-CPU development machine while other work ran on it (load 6-8, so the
wall times are pessimistic), the Đồng Nai demo loaded by ``danso demo load`` into SQLite, the
province's sheet for 11/2026 (95 communes, 2,688 lines): the summary 0.2-0.8 s; CSV 636 KB in
0.6 s of CPU (1.6 s wall) and XLSX 216 KB in 1.0 s of CPU (2.6 s wall), both under 200 MB; the
PDF (printed columns, 1.5 MB; the demo's 85-character legal basis wraps over several lines
in every row) 54 s of CPU in one process (148 s wall) with about
900 MB at its peak, as WeasyPrint keeps every laid-out page. A centre's sheet (Bù Đăng, 111
lines) makes its PDF in 3.6 s of CPU. The rows are a generator over
:func:`.services.iter_sheet`, which loads ``SHEET_CHUNK`` lines per query: the XLSX writer
streams them (constant-memory mode), the CSV writer writes them as they come, the PDF writer
reads them all before laying out. Hence :func:`made_by_job`: a sheet of more than
``exports.services.inline_limit()`` lines (5,000 by default; ≈ 7,000 for Hồ Chí Minh City) in
any format, or a PDF of more than a fifth of it (1,000 lines: a province, not a centre), is made
by a background job (:data:`JOB_KIND`), as the roster's large exports are; the rest is answered
at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import IO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..auth.personal_data import HIDDEN_TEXT, personal_data_areas
from ..collaborators.models import AssignmentKind
from ..common import clock
from ..common.params import parse_month
from ..errors import NotFound, PermissionDenied
from ..exports.document import Column, Document, Kind, Sheet
from ..exports.heading import heading_for
from ..exports.services import (
    FORMAT_LABELS,
    MIMETYPES,
    TABLE_FORMATS,
    BadExport,
    check_format,
    file_safe,
    inline_limit,
    write_document,
)
from ..extensions import db
from ..jobs.services import JobFile, register
from ..textnorm import slug
from ..units.models import AdminUnit, Facility
from ..units.services import served_units
from . import services as allowances
from .forms import ASSIGNMENT_KIND_LABELS, COMMUNE_CATEGORY_SHORT, ZONE_SHORT
from .permissions import can_view_centre_sheet, can_view_sheet

FORMATS = TABLE_FORMATS  # xlsx, csv, pdf
JOB_KIND = "allowance_sheet_export"
PDF_SHARE = 5  # a PDF goes to a job over inline_limit() // PDF_SHARE lines (1,000 by default)

Progress = Callable[[int], None]  # lines written so far


def columns(*, printed: bool = False) -> list[Column]:
    """The sheet's columns: those of the former CSV, in its order (XLSX and CSV); widths in
    characters. A printed sheet (PDF, A4 landscape: 17 columns would break words and CCCD
    numbers in two) has the page's narrower set, as a printed roster has
    (``exports.services.roster_columns``): the commune's category left out (its name says
    it), the kind of assignment after the hamlet's name, both concurrent duties in one column,
    the days paid only (suspended days are in the notes, the month's length is the month's)."""
    if printed:
        return [
            Column(_("STT"), Kind.ORDINAL, 5), Column(_("Xã/phường"), Kind.TEXT, 14),
            Column(_("Thôn/tổ dân phố"), Kind.TEXT, 14), Column(_("Họ và tên"), Kind.TEXT, 20),
            Column(_("Số CCCD"), Kind.TEXT, 13), Column(_("Vùng"), Kind.TEXT, 8),
            Column(_("Kiêm nhiệm"), Kind.TEXT, 9), Column(_("Số ngày hưởng"), Kind.INT, 7),
            Column(_("Mức tháng (đồng)"), Kind.MONEY, 10), Column(_("Căn cứ"), Kind.TEXT, 16),
            Column(_("Thành tiền (đồng)"), Kind.MONEY, 11), Column(_("Ghi chú"), Kind.TEXT, 18),
        ]
    return [
        Column(_("STT"), Kind.ORDINAL, 6), Column(_("Xã/phường"), Kind.TEXT, 20),
        Column(_("Loại xã"), Kind.TEXT, 8), Column(_("Thôn/tổ dân phố"), Kind.TEXT, 16),
        Column(_("Vùng"), Kind.TEXT, 12), Column(_("Họ và tên"), Kind.TEXT, 24),
        Column(_("Số CCCD"), Kind.TEXT, 14), Column(_("Kiêm NVYT thôn bản"), Kind.TEXT, 9),
        Column(_("Kiêm GĐ&TE"), Kind.TEXT, 9), Column(_("Loại phân công"), Kind.TEXT, 14),
        Column(_("Số ngày hưởng"), Kind.INT, 9), Column(_("Số ngày tạm đình chỉ"), Kind.INT, 9),
        Column(_("Số ngày trong tháng"), Kind.INT, 9), Column(_("Mức tháng (đồng)"), Kind.MONEY, 12),
        Column(_("Căn cứ"), Kind.TEXT, 24), Column(_("Thành tiền (đồng)"), Kind.MONEY, 13),
        Column(_("Ghi chú"), Kind.TEXT, 36),
    ]


LABEL_COLUMN = 1  # "Xã/phường": where the subtotal and total rows put "Cộng <commune>", "Tổng cộng"
AMOUNT_COLUMN = {False: 15, True: 10}  # "Thành tiền (đồng)", by ``printed``: where they put the sum
WIDTH = {False: 17, True: 12}


def _sum_row(label: str, amount: int, printed: bool) -> list:
    row: list = [None] * WIDTH[printed]
    row[LABEL_COLUMN], row[AMOUNT_COLUMN[printed]] = label, amount
    return row


def _seer(user: User | None) -> Callable[[str], bool]:
    """Whether the reader sees a line's CCCD (its hamlet's path): an editing role over it
    (``auth.personal_data.can_see_personal_data``, rule 1), from the reader's areas computed
    once rather than once per line (a job runs outside a request, where the scope is not
    cached). None: the CLI's administrator, who sees all."""
    if user is None:
        return lambda path: True
    areas = tuple(personal_data_areas(user))
    return (lambda path: path.startswith(areas)) if areas else (lambda path: False)


def sheet_rows(units: Sequence[AdminUnit], month: date, summary: allowances.SheetSummary, *,
               user: User | None, printed: bool = False, progress: Progress | None = None) -> Iterator[list]:
    """The sheet's rows in :func:`columns` (``printed`` or not), streamed (see the module
    docstring): each line, a subtotal row after each commune, the total row last; nothing at
    all for a month without lines. Communes without lines are held back until a line shows
    there is a sheet to write."""
    sees = _seer(user)
    yes, no = _("Có"), _("Không")
    duties = (_("YTTB"), _("GĐ&TE"))
    categories = {k: str(v) for k, v in COMMUNE_CATEGORY_SHORT.items()}
    zones = {k: str(v) for k, v in ZONE_SHORT.items()}
    kinds = {k: str(v) for k, v in ASSIGNMENT_KIND_LABELS.items()}
    hidden = str(HIDDEN_TEXT)
    held: list[list] = []  # subtotal rows of empty communes before the first line
    n = total = 0
    for group in allowances.iter_sheet(units, month, summary):
        subtotal = 0
        for line in group.lines:
            if held:
                yield from held
                held.clear()
            n += 1
            subtotal += line.amount
            cccd = (line.national_id or "") if sees(line.assignment.hamlet_path) else hidden
            basis = line.rule.legal_basis if line.rule is not None else None
            notes = " ".join(str(note) for note in line.notes) or None
            if printed:
                hamlet = line.hamlet.name
                if line.kind == AssignmentKind.ADDITIONAL:
                    hamlet = f"{hamlet} ({kinds[AssignmentKind.ADDITIONAL]})"
                held_duties = ", ".join(d for d, on in zip(duties, (line.vhw, line.family_children), strict=True)
                                        if on)
                yield [n, group.commune.full_name, hamlet, line.full_name, cccd, zones[line.zone],
                       held_duties or None, line.days_active, line.full_amount, basis, line.amount, notes]
            else:
                yield [n, group.commune.full_name, categories.get(line.commune_category, ""), line.hamlet.name,
                       zones[line.zone], line.full_name, cccd, yes if line.vhw else no,
                       yes if line.family_children else no, kinds.get(line.kind, line.kind), line.days_active,
                       line.days_suspended, line.days_in_month, line.full_amount, basis, line.amount, notes]
            if progress is not None:
                progress(n)
        total += subtotal
        row = _sum_row(_("Cộng %(c)s", c=group.commune.full_name), subtotal, printed)
        if n:
            yield row
        else:
            held.append(row)
    if n:
        yield _sum_row(_("Tổng cộng"), total, printed)


def sheet_document(units: Sequence[AdminUnit], month: date, *, user: User | None, title: str,
                   unit: AdminUnit | None = None, facility: Facility | None = None,
                   printed: bool = False, progress: Progress | None = None,
                   summary: allowances.SheetSummary | None = None) -> Document:
    """The month's allowance sheet of ``units`` (a unit, or the units a centre serves) as a
    document for ``user`` (None: the CLI's administrator), issued by ``facility`` (a centre's
    sheet) or by the office of ``unit`` (module docstring). ``title`` names the area;
    ``printed``: the PDF's columns (:func:`columns`); ``summary``, the month's figures when
    already computed."""
    month = allowances.month_start(month)
    summary = summary or allowances.sheet_summary(units, month)
    thousands = _thousands
    lines = [title, _("Tháng %(m)s", m=month.strftime("%m/%Y")),
             _("%(c)s cộng tác viên · %(l)s dòng chi · %(d)s ngày hưởng · tổng %(t)s đồng",
               c=thousands(summary.collaborators), l=thousands(summary.lines), d=thousands(summary.days),
               t=thousands(summary.total))]
    notes = []
    if summary.problems:
        notes.append(_("%(n)d dòng cần kiểm tra (chưa có mức bồi dưỡng áp dụng hoặc chưa có lương cơ sở): thành tiền "
                       "các ngày đó được tính bằng 0. Xem cột ghi chú.", n=summary.problems))
    sees = _seer(user)
    if summary.lines and not all(sees(u.path) for u in units):
        notes.append(_("“%(h)s”: số CCCD được ẩn theo quy định bảo vệ dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP).",
                       h=str(HIDDEN_TEXT)))
    made_on = clock.today()
    heading = (heading_for(unit=unit, facility=facility, on=summary.last_day)
               if unit is not None or facility is not None else None)
    return Document(
        title=_("Bảng tổng hợp chi bồi dưỡng cộng tác viên dân số"), lines=lines,
        sheets=[Sheet(_("Bồi dưỡng CTV"), columns(printed=printed),
                      sheet_rows(units, month, summary, user=user, printed=printed, progress=progress),
                      totals_label=None)],
        filename=f"bang-boi-duong-ctv-{slug(title, default='khu-vuc')}-{month.strftime('%Y-%m')}", made_on=made_on, heading=heading,
        notes=notes)


def display_name(title: str, month: date) -> str:
    """The Vietnamese file name offered to browsers (without the extension)."""
    return file_safe(_("Bảng chi bồi dưỡng CTV - %(t)s - %(m)s", t=title, m=month.strftime("%m-%Y")))


def _thousands(value: int) -> str:
    """1234567 → "1.234.567" (the Vietnamese grouping, as the PDF writes numbers)."""
    return f"{value:,}".replace(",", ".")


def made_by_job(lines: int, fmt: str) -> bool:
    """Whether a sheet of ``lines`` lines is made by a background job rather than at once: over
    ``exports.services.inline_limit()`` lines in any format (the roster's rule), and a PDF
    over a fifth of it (:data:`PDF_SHARE`; a PDF line costs about 20 ms of layout, an XLSX or
    CSV line under 1 ms: see the module docstring)."""
    limit = inline_limit()
    return lines > (limit // PDF_SHARE if fmt == "pdf" else limit)


# --- the area of a sheet, for pages and jobs alike ----------------------------------------------------


def unit_area(unit: AdminUnit, user: User | None) -> tuple[list[AdminUnit], str]:
    """A unit's sheet: the user's grant must cover the unit (``permissions.can_view_sheet``, the
    page's rule; None: the CLI's administrator)."""
    if user is not None and not can_view_sheet(user, unit):
        raise PermissionDenied(_l("%(u)s nằm ngoài địa bàn bạn được xem; không xuất được danh sách.",
                                  u=unit.full_name))
    return [unit], unit.full_name


def centre_area(facility: Facility, month: date, user: User | None) -> tuple[list[AdminUnit], str]:
    """A centre's sheet (``views.centre_sheet``): the user must reach every unit the centre serves
    today; the month's served units outside the user's area are left out."""
    if user is not None and not can_view_centre_sheet(user, facility, clock.today()):
        raise PermissionDenied(_l("Địa bàn của %(f)s nằm ngoài địa bàn bạn được xem; không xuất được danh sách.",
                                  f=facility.name))
    served = [u for u in served_units(facility, allowances.month_end(month))
              if user is None or can_view_sheet(user, u)]
    return served, facility.name


# --- the background job (large sheets) ---------------------------------------------------------------


def _month_param(raw) -> date:
    """A job's month, ``yyyy-mm`` (``common.params.parse_month``: years 1900-2100)."""
    try:
        return parse_month(str(raw))
    except ValueError:
        raise BadExport(_l("Tham số xuất danh sách không hợp lệ.")) from None


def _job_area(params: dict, user: User | None) -> tuple[list[AdminUnit], str, AdminUnit | None, Facility | None, date]:
    """The job's area and month, re-checked against the user's scope (404 unknown, 403 outside)."""
    if not isinstance(params, dict):
        raise BadExport(_l("Tham số xuất danh sách không hợp lệ."))
    month = _month_param(params.get("month"))
    if params.get("unit_id") is not None:
        unit = _get(AdminUnit, params["unit_id"])
        if unit is None:
            raise NotFound(_l("Không có đơn vị hành chính này."))
        units, title = unit_area(unit, user)
        return units, title, unit, None, month
    facility = _get(Facility, params.get("facility_id"))
    if facility is None:
        raise NotFound(_l("Không có cơ sở y tế này."))
    units, title = centre_area(facility, month, user)
    return units, title, None, facility, month


def _get(model, object_id):
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        return None
    return db.session.get(model, object_id) if 0 < object_id < 2**31 else None


def job_params(*, fmt: str, month: date, unit: AdminUnit | None = None, facility: Facility | None = None) -> dict:
    area = {"unit_id": unit.id} if unit is not None else {"facility_id": facility.id}
    return {**area, "month": month.strftime("%Y-%m"), "format": fmt}


def check_job(params: dict, user: User) -> dict:
    """Before a sheet is queued: a table format, a month, and an area the user may see (the
    page's own rule). Returns the parameters as they will be run."""
    fmt = check_format(params.get("format") if isinstance(params, dict) else None, FORMATS)
    _units, _title, unit, facility, month = _job_area(params, user)
    return job_params(fmt=fmt, month=month, unit=unit, facility=facility)


def run_job(params: dict, progress) -> JobFile:
    """Make the sheet's file with the rights of the user who asked (``progress.owner``, checked
    again now: a grant may have ended since), reporting the lines written."""
    user = progress.owner
    fmt = check_format(params.get("format"), FORMATS)
    units, title, unit, facility, month = _job_area(params, user)
    summary = allowances.sheet_summary(units, month)
    total = summary.lines
    progress.update(0, total, _("Đang tạo tệp %(f)s…", f=FORMAT_LABELS[fmt]))
    document = sheet_document(units, month, user=user, title=title, unit=unit, facility=facility,
                              printed=fmt == "pdf", progress=lambda done: progress.update(done, total),
                              summary=summary)

    def write(target: IO[bytes]) -> None:
        write_document(document, fmt, target)

    return JobFile(f"{document.filename}.{fmt}", MIMETYPES[fmt], write=write)


register(JOB_KIND, run_job, check=check_job, label=_l("Bảng chi bồi dưỡng CTV"))

"""Supervision lists as printed documents (issue #11, item 2): the monthly meeting's sign-in
sheet and the overdue-supervision list, each an ``exports.document.Document`` written to XLSX or
PDF by the shared writers (every cell through the formula-safe writer; the PDF is
``templates/exports/document.html``: official heading, table header on every page, page numbers,
the signature block of the head of the issuing office, Nghị định 30/2020/NĐ-CP Phụ lục I).

- The meeting sheet (:func:`meeting_document`) is the commune station's sign-in / hand-in sheet
  for a month's collaborators' meeting (giao ban, TT 02/2021/TT-BYT Art. 3.7): one row per
  collaborator expected that month (``services.meeting_roster``, in its order: hamlet, then
  name) with whether they attended and handed in the P0/CTV slip when the meeting is recorded
  (``services.get_meeting``), and an empty column to sign in. Issued by the commune's station
  (``exports.heading.heading_for(unit=commune)``).
- The overdue list (:func:`overdue_document`) is every row of the overdue page for the user's
  area and date (``services.overdue_visits``, the page's order and columns, not only the page's
  50 rows), issued by the user's own office (:func:`issuing_area`).

The views answer ``?format=xlsx|pdf`` on the pages' own routes after the pages' own scope checks
(a download refuses exactly what its page refuses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..auth.permissions import landing_of, scope_of
from ..common.clock import today
from ..exports import services as export_services
from ..exports.document import Column, Document, Kind, Sheet
from ..exports.heading import heading_for
from ..exports.pdf import vn_int
from ..exports.services import Area, BadExport, inline_limit
from ..textnorm import slug
from ..units.models import AdminUnit
from . import services

MEETING_FORMATS = ("xlsx", "pdf")
OVERDUE_FORMATS = ("xlsx", "pdf")


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class Printed:
    """A document and the Vietnamese name offered for its file (without the extension)."""

    document: Document
    display: str


# --- the monthly meeting's sign-in sheet ---------------------------------------------------------


def meeting_document(commune: AdminUnit, month: date, *, made_on: date | None = None) -> Printed:
    """The sign-in / hand-in sheet of the commune's meeting of ``month``: STT, hamlet(s), full
    name, attended and P0/CTV slip handed in ("Có"/"Không", when the meeting is recorded; empty
    for a collaborator it did not record, as "—" on the page), the attendance note, and an empty
    column to sign. Headed by the commune's station on ``made_on`` (today) and signed by its
    head; the recorded meeting's counts and note follow the table."""
    month = services.month_start(month)
    made_on = made_on or today()
    roster = services.meeting_roster(commune, month)
    meeting = services.get_meeting(commune, month)
    yes, no = _("Có"), _("Không")
    rows = []
    for number, row in enumerate(roster, 1):
        att = row.attendance
        rows.append((number, ", ".join(h.name for h in row.hamlets), row.collaborator.full_name,
                     (yes if att.attended else no) if att else None,
                     (yes if att.p0_submitted else no) if att else None,
                     (att.note or None) if att else None, None))
    line = _("Tháng %(m)s · %(c)s", m=month.strftime("%m/%Y"), c=commune.full_name)
    notes = []
    if meeting is not None:
        line += " · " + _("họp ngày %(d)s", d=_vn(meeting.held_on))
        recorded = [r.attendance for r in roster if r.attendance is not None]
        notes.append(_("Dự họp: %(a)d/%(n)d CTV; nộp phiếu P0/CTV: %(p)d/%(n)d CTV.",
                       a=sum(a.attended for a in recorded), p=sum(a.p0_submitted for a in recorded), n=len(roster)))
        if meeting.note:
            notes.append(_("Ghi chú: %(n)s", n=meeting.note))
    else:
        notes.append(_("Chưa ghi điểm danh buổi giao ban tháng này: đánh dấu dự họp, nộp phiếu P0/CTV và "
                       "ký tên tại buổi giao ban."))
    columns = [Column(_("STT"), Kind.ORDINAL, 6), Column(_("Thôn/tổ dân phố"), Kind.TEXT, 22),
               Column(_("Họ và tên"), Kind.TEXT, 28), Column(_("Dự họp"), Kind.TEXT, 8),
               Column(_("Nộp phiếu P0/CTV"), Kind.TEXT, 14), Column(_("Ghi chú"), Kind.TEXT, 22),
               Column(_("Ký tên"), Kind.TEXT, 22)]
    title = _("Bảng điểm danh giao ban cộng tác viên dân số")
    return Printed(Document(
        title=title, lines=[line],
        sheets=[Sheet(_("Điểm danh giao ban"), columns, rows, totals_label=None)],
        filename=f"diem-danh-giao-ban-{slug(commune.full_name, default='khu-vuc')}-{month:%Y-%m}",
        made_on=made_on, heading=heading_for(unit=commune, on=made_on), notes=notes),
        f"{title} - {commune.full_name} - {month:%m-%Y}")


# --- the overdue-supervision list ------------------------------------------------------------------


def issuing_area(user: User, on: date) -> Area | None:
    """The area whose office issues the user's lists, chosen as the exports do
    (``exports.services.scope_area`` and ``area_heading``): a user whose scope is one health
    centre's communes (``auth.permissions.landing_of(...).only_centre``) → that centre; otherwise
    the scope: one commune → its station, one province → its Department, several areas of one
    province → the Department, several provinces → no issuer. None for a user without scope
    (whose page is empty)."""
    if not scope_of(user).prefixes:
        return None
    centre = landing_of(user, on).only_centre
    if centre is not None:
        return export_services.centre_area(centre, user, on)
    return export_services.scope_area(user)


def check_overdue_size(prefixes: Sequence[str], on: date, fmt: str) -> None:
    """A PDF holds at most ``EXPORT_INLINE_ROWS`` rows (exports/pdf.py: WeasyPrint keeps every
    laid-out page in memory, about 250 KB a row); a larger list is refused (400) with the way
    out: one commune, or Excel (streamed, any size)."""
    if fmt != "pdf":
        return
    rows, most = services.overdue_count(prefixes, on), inline_limit()
    if rows > most:
        raise BadExport(_l("Danh sách có %(n)s dòng, quá nhiều cho một tệp PDF (tối đa %(m)s dòng). "
                           "Hãy chọn một xã/phường, hoặc tải bản Excel.", n=vn_int(rows), m=vn_int(most)))


def overdue_document(user: User, prefixes: Sequence[str], on: date, *, commune: AdminUnit | None = None,
                     made_on: date | None = None) -> Printed:
    """Every collaborator of ``prefixes`` overdue for supervision on ``on``
    (``services.overdue_visits``: most overdue first, then commune, hamlet and name), with the
    page's columns: STT, collaborator, hamlet, commune, last visit (or "never, started on …"),
    due date, days overdue. The title block names the commune chosen on the page (else the
    user's area), the date and the count; headed and signed by the user's office
    (:func:`issuing_area`)."""
    made_on = made_on or today()
    found = services.overdue_visits(prefixes, on)
    rows = [(n, r.full_name, r.hamlet_name, r.commune_name,
             r.last_visit if r.last_visit is not None else _("Chưa giám sát (bắt đầu %(d)s)", d=_vn(r.since)),
             r.due_on, r.days_overdue) for n, r in enumerate(found, 1)]
    area = issuing_area(user, made_on)
    place = commune.full_name if commune is not None else (area.title if area is not None else "")
    lines = [line for line in (place, _("Tính đến ngày %(d)s", d=_vn(on)),
                               _("%(n)s cộng tác viên quá hạn giám sát.", n=vn_int(len(found)))) if line]
    columns = [Column(_("STT"), Kind.ORDINAL, 6), Column(_("Cộng tác viên"), Kind.TEXT, 26),
               Column(_("Thôn/tổ dân phố"), Kind.TEXT, 18), Column(_("Xã/phường"), Kind.TEXT, 20),
               Column(_("Giám sát gần nhất"), Kind.DATE, 26), Column(_("Đến hạn"), Kind.DATE, 11),
               Column(_("Số ngày quá hạn"), Kind.INT, 11)]
    title = _("Danh sách cộng tác viên quá hạn giám sát")
    return Printed(Document(
        title=title, lines=lines,
        sheets=[Sheet(_("Quá hạn giám sát"), columns, rows, totals_label=None)],
        filename=f"ctv-qua-han-giam-sat-{slug(place, default='khu-vuc')}-{on.isoformat()}",
        made_on=made_on, heading=export_services.area_heading(area, made_on) if area is not None else None,
        notes=[_("CTV đang hoạt động chưa được giám sát trong chu kỳ của tỉnh (mặc định 92 ngày, tức ít nhất mỗi "
                 "quý một lần), kể từ lần giám sát gần nhất hoặc từ ngày bắt đầu.")]),
        " - ".join(p for p in (title, place, on.strftime("%d-%m-%Y")) if p))

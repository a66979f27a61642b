"""The annex of a recognition decision ("Danh sách cộng tác viên dân số được công nhận, kèm theo
Quyết định số …") as a file (issue #11, item 2): the list the decision page prints
(``views.decision``, ``templates/recruitment/decision.html``), as a PDF or an Excel workbook.

- Rows: the decision's applications in the page's order, with the page's columns: name, date of
  birth, sex, ethnicity, CCCD, hamlet, commune, education, village health worker. The people are
  listed by name for every reader of the decision; the CCCD number and the full date of birth
  only for those whose personal data the reader sees (``auth.personal_data.visible_in_decision``,
  rule 3: its issuer sees everyone, another reader the people of their own area), "(ẩn)" and the
  year of birth for the others. The decision precedes the contract and the start of work, so the
  annex has no start date: it lists whom the decision recognises, as signed.
- Heading and signature: the decision's own (Nghị định 30/2020/NĐ-CP, Phụ lục I): the issuing
  body and the signer stored on it (``issuer_name``, ``signer_title``, ``signer_name``), the
  superior body that ``exports.heading`` gives the issuing facility when the decision records
  it (a centre's parent, the Department; a Department's provincial People's Committee), and the
  date line of the decision's day in its province ("Đồng Nai, ngày 01 tháng 10 năm 2025").
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from flask_babel import gettext as _

from ..auth.models import User
from ..auth.personal_data import HIDDEN_TEXT, visible_in_decision
from ..exports.document import Column, Document, Heading, Kind, Sheet
from ..exports.heading import heading_for
from ..extensions import db
from ..textnorm import fold
from ..units.models import AdminUnit
from .labels import EDUCATION_LABELS, SEX_LABELS
from .models import RecognitionDecision

FORMATS = ("xlsx", "pdf")


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def decision_heading(decision: RecognitionDecision) -> Heading:
    """The heading and signer of the decision itself: its issuer and signer as recorded, the
    superior body of its issuing facility (``exports.heading.heading_for``) when it records one,
    none otherwise; the place is the decision's province."""
    province = db.session.get(AdminUnit, decision.province_id)
    signer_title = decision.signer_title or _("Thủ trưởng đơn vị")
    if decision.issuer_facility is not None:
        base = heading_for(facility=decision.issuer_facility, on=decision.issued_on)
        return replace(base, issuer=decision.issuer_name, place=province.name, signer_title=signer_title,
                       signer_name=decision.signer_name)
    return Heading(issuer=decision.issuer_name, superior=None, place=province.name, signer_title=signer_title,
                   signer_name=decision.signer_name)


def _columns(printed: bool) -> list[Column]:
    born = ([Column(_("Ngày sinh"), Kind.DATE, 9)] if printed else
            [Column(_("Năm sinh"), Kind.ORDINAL, 8), Column(_("Ngày sinh"), Kind.DATE, 11)])
    return [Column(_("STT"), Kind.ORDINAL, 5), Column(_("Họ và tên"), Kind.TEXT, 22), *born,
            Column(_("Giới tính"), Kind.TEXT, 7), Column(_("Dân tộc"), Kind.TEXT, 8),
            Column(_("Số CCCD"), Kind.TEXT, 13), Column(_("Thôn/tổ dân phố"), Kind.TEXT, 16),
            Column(_("Xã/phường"), Kind.TEXT, 16), Column(_("Trình độ học vấn"), Kind.TEXT, 13),
            Column(_("Kiêm NVYT thôn bản"), Kind.TEXT, 9)]


def annex_document(decision: RecognitionDecision, user: User, *, printed: bool = False) -> Document:
    """The decision's annex as ``user`` may read it (see the module docstring): one column for
    the date of birth when ``printed`` (PDF: the date, or the year where hidden), the year and
    the date apart otherwise (XLSX)."""
    shown = visible_in_decision(user, decision)
    hidden = str(HIDDEN_TEXT)
    yes, no = _("Có"), _("Không")
    sexes = {k: str(v) for k, v in SEX_LABELS.items()}
    education = {k: str(v) for k, v in EDUCATION_LABELS.items()}
    rows = []
    for n, application in enumerate(decision.applications, 1):
        person = application.candidate
        visible = application.id in shown
        born = person.date_of_birth
        birth = (born if visible else str(born.year),) if printed else (born.year, born if visible else hidden)
        hamlet = application.hamlet
        rows.append((n, person.full_name, *birth, sexes.get(person.sex, person.sex), person.ethnicity,
                     person.national_id if visible else hidden, hamlet.name,
                     hamlet.parent.full_name if hamlet.parent is not None else None,
                     education.get(person.education, person.education),
                     yes if person.is_village_health_worker else no))
    count = len(rows)
    notes = [_("Danh sách này có %(n)d người.", n=count)]
    if len(shown) < count:
        notes.append(_("“%(h)s”: số CCCD được ẩn và ngày sinh chỉ ghi năm, theo quy định bảo vệ dữ liệu cá nhân "
                       "(Nghị định 13/2023/NĐ-CP).", h=hidden))
    number = re.sub(r"[^a-z0-9]+", "-", fold(decision.number)).strip("-")[:40] or str(decision.id)
    return Document(
        title=_("Danh sách cộng tác viên dân số được công nhận"),
        lines=[_("(Kèm theo Quyết định số %(n)s ngày %(d)s của %(i)s)", n=decision.number, d=_d(decision.issued_on),
                 i=decision.issuer_name)],
        sheets=[Sheet(_("Danh sách kèm theo"), _columns(printed), rows, totals_label=None)],
        filename=f"danh-sach-kem-theo-qd-{number}-{decision.issued_on.isoformat()}", made_on=decision.issued_on,
        heading=decision_heading(decision), notes=notes)


def display_name(decision: RecognitionDecision) -> str:
    """The file's Vietnamese name (offered to browsers beside the ASCII one)."""
    return _("Danh sách kèm theo Quyết định số %(n)s", n=decision.number)

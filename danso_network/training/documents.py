"""A training course's attendance list as a file (issue #11, item 2): the course page's list as
an Excel workbook, and the printed sign-in list (``/training/<id>/print``) as a PDF.

What the file holds is what the page shows its reader (``views.course``, ``views.print_course``):

- the rows of :func:`.services.attendances_query` — the whole list for the organising area,
  otherwise only the people of the reader's own area (:func:`.permissions.sees_every_attendee`),
  ordered by name;
- the PDF has the printed list's columns (STT, name, year of birth, hamlet, commune) with the
  result, the note and an empty "Ký tên" column for the trainees to sign; only the year of birth,
  as on the printed list (the sheet is passed round the class);
- the XLSX has the course page's columns: the full date of birth only where the reader sees
  personal data (``auth.personal_data``: an editing role over the person's area, rule 1; the
  course page's own test, :func:`.services.people_in` over ``personal_data_areas``), "(ẩn)"
  elsewhere, the year always.

Heading and signature (Nghị định 30/2020/NĐ-CP, Phụ lục I; ``exports.heading``): a course
records no facility, only its area (``unit``) and the organiser's name as typed. The issuer is
the facility serving the course's area (station, centre or Department) whose name is the
organiser's, as the printed list heads itself with the organiser; failing that, the office of
the course's area (``heading_for(unit=course.unit)``). A list cut to the reader's own area is
not the organiser's list: it is issued by the reader's office — the one facility (or unit) of
their grants in force — and, when that is not one office, by the course's.
"""

from __future__ import annotations

from datetime import date

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..auth.models import User
from ..auth.permissions import scope_of
from ..auth.personal_data import HIDDEN_TEXT, personal_data_areas
from ..common.clock import today
from ..exports.document import Column, Document, Heading, Kind, Sheet
from ..exports.heading import heading_for
from ..extensions import db
from ..textnorm import fold, slug
from ..units.models import Facility
from ..units.services import facilities_serving, units_at_paths
from . import services as training
from .models import TrainingAttendance, TrainingCourse
from .permissions import sees_every_attendee

FORMATS = ("xlsx", "pdf")


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def organising_facility(course: TrainingCourse, on: date) -> Facility | None:
    """The facility serving the course's area on ``on`` whose name is the course's organiser
    (compared without case or diacritics), nearest first; None when the organiser is not one of
    them (another body, or a name typed differently)."""
    wanted = fold(course.organiser)
    return next((f for f in facilities_serving(course.unit, on) if fold(f.name) == wanted), None)


def course_heading(course: TrainingCourse, on: date) -> Heading:
    """The heading of the course's whole list: the organising facility, else the office of the
    course's area."""
    facility = organising_facility(course, on)
    if facility is not None:
        return heading_for(facility=facility, on=on)
    return heading_for(unit=course.unit, on=on)


def reader_heading(user: User, course: TrainingCourse, on: date) -> Heading:
    """The heading of a list cut to the reader's area: the one office of the reader's grants in
    force on ``on`` (a facility, or a unit for a unit grant); several, or none: the course's."""
    grants = [g for g in user.grants if g.valid_on(on)]
    facilities = {g.facility_id for g in grants if g.facility_id is not None}
    units = {g.unit_id for g in grants if g.unit_id is not None}
    if len(facilities) == 1 and not units:
        return heading_for(facility=next(g.facility for g in grants if g.facility_id is not None), on=on)
    if len(units) == 1 and not facilities:
        return heading_for(unit=next(g.unit for g in grants if g.unit_id is not None), on=on)
    return course_heading(course, on)


def _columns(printed: bool) -> list[Column]:
    if printed:
        return [Column(_("STT"), Kind.ORDINAL, 5), Column(_("Họ và tên"), Kind.TEXT, 24),
                Column(_("Năm sinh"), Kind.ORDINAL, 8), Column(_("Thôn/tổ dân phố"), Kind.TEXT, 18),
                Column(_("Xã/phường"), Kind.TEXT, 18), Column(_("Hoàn thành"), Kind.TEXT, 10),
                Column(_("Ghi chú"), Kind.TEXT, 16), Column(_("Ký tên"), Kind.TEXT, 16)]
    return [Column(_("STT"), Kind.ORDINAL, 6), Column(_("Họ và tên"), Kind.TEXT, 26),
            Column(_("Năm sinh"), Kind.ORDINAL, 8), Column(_("Ngày sinh"), Kind.DATE, 11),
            Column(_("Thôn/tổ dân phố"), Kind.TEXT, 22), Column(_("Xã/phường"), Kind.TEXT, 22),
            Column(_("Đối tượng"), Kind.TEXT, 10), Column(_("Hoàn thành"), Kind.TEXT, 11),
            Column(_("Ghi chú"), Kind.TEXT, 30)]


def attendance_document(course: TrainingCourse, user: User, *, printed: bool = False) -> Document:
    """The course's attendance list that ``user`` sees, as a document: the printed sign-in list
    with ``printed`` (PDF), else the course page's list (XLSX). See the module docstring."""
    attendances: list[TrainingAttendance] = list(db.session.scalars(training.attendances_query(course, user)))
    ids = [a.candidate_id for a in attendances]
    seen = training.people_in(personal_data_areas(user), ids) if not printed else set()
    appointed = training.is_collaborator(ids) if not printed else set()
    yes, no, hidden = _("Hoàn thành"), _("Chưa"), str(HIDDEN_TEXT)
    collaborator, candidate = _("CTV"), _("Ứng viên")
    rows = []
    for n, a in enumerate(attendances, 1):
        person = a.candidate
        hamlet = person.residence_hamlet
        commune = hamlet.parent.full_name if hamlet.parent is not None else None
        born = person.date_of_birth
        year = born.year if born else None
        result = yes if a.completed else no
        if printed:
            rows.append((n, person.full_name, year, hamlet.name, commune, result, a.note, None))
        else:
            rows.append((n, person.full_name, year, (born if person.id in seen else hidden) if born else None,
                         hamlet.name, commune, collaborator if person.id in appointed else candidate, result,
                         a.note))

    made_on = today()
    whole = sees_every_attendee(user, course)
    when = _("Từ ngày %(a)s đến ngày %(b)s", a=_d(course.starts_on), b=_d(course.ends_on))
    when += " · " + _("%(h)s giờ", h=format_decimal(course.hours))
    if course.location:
        when += " · " + _("Địa điểm: %(l)s", l=course.location)
    lines = [_("Lớp: %(t)s", t=course.title), _("Đơn vị tổ chức: %(o)s", o=course.organiser), when]
    if not whole:
        areas = ", ".join(u.full_name for u in units_at_paths(scope_of(user).prefixes))
        lines.append(_("Chỉ gồm học viên thuộc địa bàn: %(a)s", a=areas))
    completed = sum(1 for a in attendances if a.completed)
    total = _("Tổng số: %(n)s học viên, %(d)s đã hoàn thành", n=len(attendances), d=completed)
    lines.append(total)
    notes = [total]
    if not printed and any(a.candidate_id not in seen for a in attendances):
        notes.append(_("“%(h)s”: ngày sinh đầy đủ được ẩn theo quy định bảo vệ dữ liệu cá nhân "
                       "(Nghị định 13/2023/NĐ-CP).", h=hidden))
    sheet = Sheet(_("Danh sách học viên"), _columns(printed), rows, empty_text=_("Chưa có học viên nào."),
                  totals_label=None)
    heading = course_heading(course, made_on) if whole else reader_heading(user, course, made_on)
    return Document(title=_("Danh sách học viên lớp tập huấn"), lines=lines, sheets=[sheet],
                    filename=f"danh-sach-hoc-vien-lop-{course.id}-{slug(course.title, limit=50, default='lop')}-{made_on.isoformat()}",
                    made_on=made_on, heading=heading, notes=notes)


def display_name(course: TrainingCourse) -> str:
    """The file's Vietnamese name (offered to browsers beside the ASCII one)."""
    return _("Danh sách học viên - %(t)s", t=course.title)

"""Training courses (lớp tập huấn) and who attended them (issue #4 item 8; DOMAIN.md §3.5).

The rules, with their sources:

- Collaborators attend the training courses run by the competent authorities (TT 02/2021/TT-BYT
  Art. 3, task 8).
- A collaborator chosen under the primary-school exception must be trained in population work
  (TT 02/2021/TT-BYT Art. 2.1) before starting work (DOMAIN.md §7.2, "ACTIVE after the mandatory
  initial training"). The evidence is a *completed* attendance on a course marked
  ``is_population_work`` that ended on or before the activation day:
  :func:`completed_population_training`, called by ``recruitment.services._activate``. (Issue #3
  kept a free date on the application; it was dropped for this record.)
- A course belongs to the area that organises it (``unit``). It is visible to users whose scope
  covers that unit and to users whose area lies under it: a province course is open to every
  station of the province. Only users with an editing role covering the unit change the course.
- Attendance is keyed by the person (:class:`Candidate`), so training taken before appointment
  counts. A user adds only people of their own area: a person belongs to the areas of their
  applications' hamlets and of their open assignments.
- Completion is recorded only once the course has ended (``ends_on`` ≤ the day it is recorded),
  and is not withdrawn afterwards (an activation may rest on it; a mistaken entry is corrected by
  the administrator in the database, with the audit trail). A row is removed only while not
  completed. [PROP: DOMAIN.md §3.5 finds no rule on certification.]

Services follow DESIGN.md §4: guard → change → audit → flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import scope_of
from ..collaborators.models import Assignment, Collaborator
from ..collaborators.permissions import can_record_at
from ..common import clock
from ..common.paging import PER_PAGE, Page, paginate
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..extensions import db
from ..recruitment.models import Application, Candidate
from ..textnorm import fold, is_ascii_digits
from ..units.models import AdminUnit, UnitLevel
from ..units.services import ancestor_paths, path_filter
from .models import TrainingAttendance, TrainingCourse, course_search_text
from .permissions import (
    can_change_attendance,
    can_edit_course,
    can_enrol,
    can_view_course,
    recording_prefixes,
    sees_every_attendee,
)

MAX_HOURS = Decimal("99999.9")  # Numeric(6, 1)
COURSE_FIELDS = ["unit_id", "title", "organiser", "starts_on", "ends_on", "hours", "is_population_work", "location",
                 "note"]


# --- scope in SQL (the predicates are in :mod:`.permissions`) -----------------------------------


def visible_courses_filter(prefixes: Sequence[str]):
    """SQL condition: the course's unit lies inside one of the areas, or one of the areas lies
    inside the course's unit (as :func:`.permissions.can_view_course`). No prefixes → nothing
    (fail-closed)."""
    above = sorted({a for p in prefixes for a in ancestor_paths(p)})
    conditions = [path_filter(prefixes, TrainingCourse.unit_path)]
    if above:
        conditions.append(TrainingCourse.unit_path.in_(above))
    return or_(*conditions)


def person_filter(prefixes: Sequence[str]):
    """SQL condition on :class:`Candidate`: the person has an application for a hamlet, or an
    open assignment to a hamlet, inside one of the areas."""
    by_application = exists(select(Application.id).where(Application.candidate_id == Candidate.id,
                                                         path_filter(prefixes, Application.hamlet_path)))
    by_assignment = exists(select(Assignment.id).join(Collaborator, Collaborator.id == Assignment.collaborator_id)
                           .where(Collaborator.candidate_id == Candidate.id, Assignment.ended_on.is_(None),
                                  path_filter(prefixes, Assignment.hamlet_path)))
    return or_(by_application, by_assignment)


def home_path(candidate: Candidate) -> str:
    """Where the person is counted now (for the audit trail): the open assignment, else the
    latest application, else the residence."""
    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.candidate_id == candidate.id))
    if collaborator is not None:
        open_ = [a for a in collaborator.assignments if a.ended_on is None]
        if open_:
            return next((a for a in open_ if a.kind == "primary"), open_[0]).hamlet_path
    if candidate.applications:
        return max(candidate.applications, key=lambda a: a.id).hamlet_path
    return candidate.residence_hamlet.path


# --- reading ------------------------------------------------------------------------------------


def completed_population_training(candidate: Candidate, on: date) -> TrainingAttendance | None:
    """The person's latest completed attendance on a population-work course that ended on or
    before ``on``, or ``None``. This is the evidence TT 02/2021/TT-BYT Art. 2.1 asks of a
    collaborator chosen under the primary-school exception before activation."""
    return db.session.scalar(
        select(TrainingAttendance).join(TrainingCourse, TrainingCourse.id == TrainingAttendance.course_id)
        .where(TrainingAttendance.candidate_id == candidate.id, TrainingAttendance.completed.is_(True),
               TrainingCourse.is_population_work.is_(True), TrainingCourse.ends_on <= on)
        .order_by(TrainingCourse.ends_on.desc(), TrainingAttendance.id.desc()).limit(1))


def trainings_of(candidate: Candidate) -> list[TrainingAttendance]:
    """Every course the person is on, the latest first (for the collaborator profile)."""
    return list(db.session.scalars(
        select(TrainingAttendance).join(TrainingCourse, TrainingCourse.id == TrainingAttendance.course_id)
        .where(TrainingAttendance.candidate_id == candidate.id)
        .options(selectinload(TrainingAttendance.course).selectinload(TrainingCourse.unit))
        .order_by(TrainingCourse.starts_on.desc(), TrainingCourse.id.desc())))


@dataclass(frozen=True)
class TrainingSummary:
    attendances: list[TrainingAttendance]
    completed: int
    hours: Decimal  # hours of the completed courses
    population_work: TrainingAttendance | None  # the latest completed population-work course


def training_summary(candidate: Candidate, on: date | None = None) -> TrainingSummary:
    rows = trainings_of(candidate)
    done = [a for a in rows if a.completed]
    return TrainingSummary(rows, len(done), sum((a.course.hours for a in done), Decimal(0)),
                           completed_population_training(candidate, on or clock.today()))


@dataclass(frozen=True)
class TrainingSection:
    """The training part of a collaborator's profile: the person's courses and totals, and the
    courses the viewer may open."""

    summary: TrainingSummary
    visible_courses: frozenset[int]


def profile_section(collaborator: Collaborator, viewer: User, on: date | None = None) -> TrainingSection:
    """What ``training/_profile_section.html`` shows, for the profile view to pass."""
    summary = training_summary(collaborator.candidate, on)
    return TrainingSection(summary, frozenset(a.course.id for a in summary.attendances
                                              if can_view_course(viewer, a.course)))


@dataclass(frozen=True)
class PopulationTraining:
    """The population-work training a primary-school-exception candidate must complete before
    activation (TT 02/2021/TT-BYT Art. 2.1), for the application page: the evidence, if any,
    and whether the viewer may open its course."""

    attendance: TrainingAttendance | None
    course_visible: bool = False

    def __bool__(self) -> bool:
        return self.attendance is not None


def population_training(candidate: Candidate, viewer: User, on: date | None = None) -> PopulationTraining:
    """:func:`completed_population_training` on ``on`` (today by default), with the viewer's access."""
    attendance = completed_population_training(candidate, on or clock.today())
    return PopulationTraining(attendance, attendance is not None and can_view_course(viewer, attendance.course))


def courses_query(prefixes: Sequence[str], *, q: str | None = None, year: int | None = None,
                  population_work: bool | None = None):
    """A select of the courses visible from the areas (see :func:`visible_courses_filter`),
    latest first; ``q`` matches the title or organiser without diacritics ("tap huan" finds "Tập
    huấn"), in SQL on the folded :attr:`TrainingCourse.search_text`."""
    stmt = select(TrainingCourse).where(visible_courses_filter(prefixes)).options(selectinload(TrainingCourse.unit))
    if year:
        stmt = stmt.where(TrainingCourse.starts_on >= date(year, 1, 1), TrainingCourse.starts_on <= date(year, 12, 31))
    if population_work is not None:
        stmt = stmt.where(TrainingCourse.is_population_work.is_(population_work))
    needle = fold(q)
    if needle:
        stmt = stmt.where(TrainingCourse.search_text.contains(needle, autoescape=True))
    return stmt.order_by(TrainingCourse.starts_on.desc(), TrainingCourse.id.desc())


def course_page(prefixes: Sequence[str], page: int = 1, per_page: int = PER_PAGE, **filters) -> Page:
    """One page of :func:`courses_query`, counted and sliced by the database."""
    return paginate(courses_query(prefixes, **filters), page, per_page)


def courses_visible(prefixes: Sequence[str], **filters) -> list[TrainingCourse]:
    """Every course of :func:`courses_query` (for the services and the CLI, not for a page)."""
    return list(db.session.scalars(courses_query(prefixes, **filters)))


def course_years(prefixes: Sequence[str]) -> list[int]:
    """The years in which visible courses started (for the year filter), latest first."""
    first, last = db.session.execute(select(func.min(TrainingCourse.starts_on), func.max(TrainingCourse.starts_on))
                                     .where(visible_courses_filter(prefixes))).one()
    if first is None:
        return []
    return list(range(last.year, first.year - 1, -1))


def attendance_counts(course_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """``{course_id: (people, completed)}`` in one query."""
    if not course_ids:
        return {}
    rows = db.session.execute(
        select(TrainingAttendance.course_id, func.count(TrainingAttendance.id),
               func.count(case((TrainingAttendance.completed.is_(True), 1))))
        .where(TrainingAttendance.course_id.in_(list(course_ids))).group_by(TrainingAttendance.course_id))
    return {cid: (int(n), int(done)) for cid, n, done in rows}


def attendance_page(course: TrainingCourse, user: User, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the course's attendance list the user may see, by name, counted and sliced by
    the database."""
    return paginate(attendances_query(course, user), page, per_page)


def attendances_query(course: TrainingCourse, user: User):
    """A select of the course's attendance rows the user may see, by name."""
    stmt = (select(TrainingAttendance).join(Candidate, Candidate.id == TrainingAttendance.candidate_id)
            .where(TrainingAttendance.course_id == course.id)
            .options(selectinload(TrainingAttendance.candidate).selectinload(Candidate.residence_hamlet)
                     .selectinload(AdminUnit.parent)))
    if not sees_every_attendee(user, course):
        stmt = stmt.where(person_filter(scope_of(user).prefixes))
    return stmt.order_by(Candidate.search_text, Candidate.id)


def find_people(prefixes: Sequence[str], q: str, *, limit: int = 20) -> list[Candidate]:
    """Collaborators and candidates of the areas whose name (without diacritics) contains ``q``
    or whose CCCD starts with it. Too short a query finds nothing. Callers pass areas where the
    user sees CCCD numbers (the course page: where the user records training, the editing roles'
    areas, ``auth.personal_data.personal_data_areas``), so that digits cannot probe others."""
    needle = fold(q)
    digits = (q or "").replace(" ", "")
    if len(needle) < 2:
        return []
    match = Candidate.search_text.contains(needle, autoescape=True)
    if is_ascii_digits(digits):
        match = or_(match, Candidate.national_id.startswith(digits, autoescape=True))
    return list(db.session.scalars(
        select(Candidate).where(match, person_filter(prefixes))
        .options(selectinload(Candidate.residence_hamlet).selectinload(AdminUnit.parent))
        .order_by(Candidate.search_text, Candidate.id).limit(limit)))


def people_in(prefixes: Sequence[str], candidate_ids: Sequence[int]) -> set[int]:
    """Which of these people belong to the areas (see :func:`person_filter`), in one query."""
    if not candidate_ids or not prefixes:
        return set()
    return set(db.session.scalars(select(Candidate.id).where(Candidate.id.in_(list(candidate_ids)),
                                                             person_filter(prefixes))))


def on_course(course: TrainingCourse, candidate_ids: Sequence[int]) -> dict[int, TrainingAttendance]:
    """The attendance rows of these people on the course, by person."""
    if not candidate_ids:
        return {}
    rows = db.session.scalars(select(TrainingAttendance).where(TrainingAttendance.course_id == course.id,
                                                               TrainingAttendance.candidate_id.in_(list(candidate_ids))))
    return {a.candidate_id: a for a in rows}


def is_collaborator(candidate_ids: Sequence[int]) -> set[int]:
    """Which of these people have been appointed (for a badge in lists)."""
    if not candidate_ids:
        return set()
    return set(db.session.scalars(select(Collaborator.candidate_id)
                                  .where(Collaborator.candidate_id.in_(list(candidate_ids)))))


def organising_units(user: User) -> list[AdminUnit]:
    """The units the user may organise a course for: the tops of their editing scope (their
    province for a province admin, their communes for the centre and the stations)."""
    paths = recording_prefixes(user)
    if not paths:
        return []
    units = db.session.scalars(select(AdminUnit).where(AdminUnit.path.in_(paths),
                                                       AdminUnit.level != UnitLevel.HAMLET.value))
    return sorted(units, key=lambda u: (u.level != UnitLevel.PROVINCE, fold(u.name)))


# --- changing -----------------------------------------------------------------------------------


def _snapshot(course: TrainingCourse) -> dict:
    return {f: getattr(course, f) for f in COURSE_FIELDS}


def _clean_course(unit: AdminUnit, *, title, organiser, starts_on, ends_on, hours, location, note) -> dict:
    title, organiser = (title or "").strip(), (organiser or "").strip()
    if unit is None or unit.level == UnitLevel.HAMLET:
        raise ValidationFailed(_l("Vui lòng chọn đơn vị tổ chức (tỉnh hoặc xã/phường)."), field="unit_id")
    if not title:
        raise ValidationFailed(_l("Vui lòng nhập tên lớp tập huấn."), field="title")
    if not organiser:
        raise ValidationFailed(_l("Vui lòng nhập đơn vị tổ chức lớp."), field="organiser")
    if starts_on is None:
        raise ValidationFailed(_l("Vui lòng nhập ngày bắt đầu."), field="starts_on")
    if ends_on is None:
        raise ValidationFailed(_l("Vui lòng nhập ngày kết thúc."), field="ends_on")
    if ends_on < starts_on:
        raise ValidationFailed(_l("Ngày kết thúc không được trước ngày bắt đầu."), field="ends_on")
    try:
        hours = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_l("Số giờ học phải là một số."), field="hours") from None
    if hours <= 0:
        raise ValidationFailed(_l("Số giờ học phải lớn hơn 0."), field="hours")
    if hours > MAX_HOURS:
        raise ValidationFailed(_l("Số giờ học quá lớn."), field="hours")
    return {"title": title[:300], "organiser": organiser[:300], "starts_on": starts_on, "ends_on": ends_on,
            "hours": hours, "location": (location or "").strip()[:300] or None, "note": (note or "").strip() or None}


def create_course(unit: AdminUnit, *, title: str, organiser: str, starts_on: date, ends_on: date, hours,
                  is_population_work: bool, location: str | None = None, note: str | None = None,
                  actor: User) -> TrainingCourse:
    """Record a training course organised for ``unit``'s area (TT 02/2021/TT-BYT Art. 3 task 8).
    The end is not before the start; hours are positive; the unit lies in the actor's editing
    scope. A course may be recorded ahead of time (a planned course)."""
    if unit is not None and not can_record_at(actor, unit):
        raise PermissionDenied(_l("Bạn không được tổ chức lớp tập huấn cho %(u)s.", u=unit.full_name))
    values = _clean_course(unit, title=title, organiser=organiser, starts_on=starts_on, ends_on=ends_on,
                           hours=hours, location=location, note=note)
    course = TrainingCourse(unit_id=unit.id, unit_path=unit.path, is_population_work=bool(is_population_work),
                            search_text=course_search_text(values["title"], values["organiser"]),
                            created_at=clock.now(), created_by_id=getattr(actor, "id", None), **values)
    course.unit = unit
    db.session.add(course)
    db.session.flush()
    record("training_course.create", course, label=course.title, unit_path=unit.path, after=_snapshot(course),
           actor=actor)
    db.session.flush()
    return course


def update_course(course: TrainingCourse, *, title: str, organiser: str, starts_on: date, ends_on: date, hours,
                  is_population_work: bool, location: str | None = None, note: str | None = None,
                  actor: User, on: date | None = None) -> TrainingCourse:
    """Correct a course's details (the organising area only). Once someone's completion is
    recorded, the course cannot be moved to end after ``on`` (today), nor stop being a
    population-work course: those completions are evidence for TT 02/2021/TT-BYT Art. 2.1."""
    on = on or clock.today()
    if not can_edit_course(actor, course):
        raise PermissionDenied(_l("Chỉ đơn vị tổ chức lớp mới sửa được thông tin lớp."))
    values = _clean_course(course.unit, title=title, organiser=organiser, starts_on=starts_on, ends_on=ends_on,
                           hours=hours, location=location, note=note)
    has_completed = db.session.scalar(select(func.count(TrainingAttendance.id)).where(
        TrainingAttendance.course_id == course.id, TrainingAttendance.completed.is_(True))) > 0
    if has_completed and values["ends_on"] > on:
        raise ValidationFailed(_l("Lớp đã có học viên được ghi hoàn thành, nên ngày kết thúc không được sau hôm nay "
                                  "(%(d)s).", d=on.strftime("%d/%m/%Y")), field="ends_on")
    if has_completed and course.is_population_work and not is_population_work:
        raise ValidationFailed(_l("Lớp đã có học viên được ghi hoàn thành tập huấn công tác dân số; không bỏ được "
                                  "đánh dấu này."), field="is_population_work")
    before = _snapshot(course)
    for key, value in values.items():
        setattr(course, key, value)
    course.is_population_work = bool(is_population_work)
    course.search_text = course_search_text(course.title, course.organiser)
    after = _snapshot(course)
    if before != after:
        record("training_course.update", course, label=course.title, unit_path=course.unit_path, before=before,
               after=after, actor=actor)
    db.session.flush()
    return course


def record_attendance(course: TrainingCourse, *, candidate: Candidate, completed: bool, note: str | None = None,
                      actor: User, on: date | None = None) -> TrainingAttendance:
    """Put a person on a course, or update their result (one row per course and person).

    Completion can be recorded only once the course has ended (``ends_on`` ≤ ``on``, today by
    default), and a recorded completion is not withdrawn (see the module docstring). A new
    person must belong to the actor's own area; an existing row may also be updated by the
    organising area."""
    on = on or clock.today()
    attendance = db.session.scalar(select(TrainingAttendance).where(
        TrainingAttendance.course_id == course.id, TrainingAttendance.candidate_id == candidate.id))
    allowed = can_change_attendance(actor, attendance) if attendance is not None else can_enrol(actor, course,
                                                                                                  candidate)
    if not allowed:
        raise PermissionDenied(_l("Bạn chỉ ghi được học viên thuộc địa bàn của mình, ở lớp bạn được xem."))
    if completed and course.ends_on > on:
        raise ValidationFailed(_l("Lớp kết thúc ngày %(d)s: chỉ ghi “Hoàn thành” sau khi lớp đã kết thúc.",
                                  d=course.ends_on.strftime("%d/%m/%Y")), field="completed")
    if attendance is not None and attendance.completed and not completed:
        raise Conflict(_l("%(n)s đã được ghi hoàn thành lớp này; kết quả hoàn thành không huỷ được.",
                          n=candidate.full_name))
    note = (note or "").strip()[:300] or None
    path = home_path(candidate)
    if attendance is None:
        attendance = TrainingAttendance(course=course, candidate=candidate, completed=bool(completed), note=note,
                                        recorded_at=clock.now(), recorded_by_id=getattr(actor, "id", None))
        db.session.add(attendance)
        try:
            db.session.flush()
        except IntegrityError:
            raise Conflict(_l("%(n)s vừa được người khác ghi vào lớp này. Vui lòng tải lại trang.",
                              n=candidate.full_name)) from None
        record("training_attendance.add", attendance, label=f"{candidate.full_name} – {course.title}",
               unit_path=path, after={"course_id": course.id, "candidate_id": candidate.id,
                                      "completed": attendance.completed, "note": note}, actor=actor)
    else:
        before = {"completed": attendance.completed, "note": attendance.note}
        attendance.completed, attendance.note = bool(completed), note
        after = {"completed": attendance.completed, "note": attendance.note}
        if before != after:
            attendance.recorded_at, attendance.recorded_by_id = clock.now(), getattr(actor, "id", None)
            record("training_attendance.update", attendance, label=f"{candidate.full_name} – {course.title}",
                   unit_path=path, before=before, after=after, actor=actor)
    db.session.flush()
    return attendance


def remove_attendance(attendance: TrainingAttendance, *, actor: User) -> None:
    """Take a person off a course's list (entered by mistake, did not come). Refused once the
    completion is recorded: it is the evidence an activation may rest on."""
    if not can_change_attendance(actor, attendance):
        raise PermissionDenied(_l("Bạn không được xoá học viên này khỏi lớp."))
    if attendance.completed:
        raise Conflict(_l("%(n)s đã được ghi hoàn thành lớp này; không xoá được.", n=attendance.candidate.full_name))
    candidate, course = attendance.candidate, attendance.course
    record("training_attendance.remove", attendance, label=f"{candidate.full_name} – {course.title}",
           unit_path=home_path(candidate), before={"course_id": course.id, "candidate_id": candidate.id,
                                                   "completed": False, "note": attendance.note}, actor=actor)
    db.session.delete(attendance)
    db.session.flush()

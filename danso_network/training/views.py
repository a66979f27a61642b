"""Training pages: the course list, a course with its attendance list and the form to add people,
the printable list of trainees, and the template helpers the application page and the
collaborator profile use.

Every page loads its course through :func:`get_course_or_404` (404 unknown, 403 out of scope). A
POST makes one service call from :mod:`.training` and commits once; a :class:`DomainError` rolls
back and the form comes back with the input kept, so nothing changes (DESIGN.md §4).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from wtforms.fields.choices import SelectChoice

from ..auth.models import User
from ..auth.permissions import require, scope_of
from ..collaborators.permissions import RECORDING_ROLES
from ..errors import DomainError, PermissionDenied
from ..extensions import db
from ..recruitment.labels import EDUCATION_LABELS
from ..recruitment.models import Candidate
from ..training.models import TrainingAttendance, TrainingCourse
from . import services as training
from .forms import AttendanceForm, CourseForm, RemoveAttendanceForm

bp = Blueprint("training", __name__, url_prefix="/training")

PER_PAGE = 50


@bp.app_context_processor
def training_helpers():
    """For the application page (recruitment/show.html) and the collaborator profile."""
    return {
        "population_training_of": lambda candidate, on=None: training.completed_population_training(
            candidate, on or date.today()),
        "training_summary_of": training.training_summary,
        "can_view_training_course": lambda course: training.can_view_course(current_user, course),
    }


class ListPagination(Pagination):
    """Pagination over a Python list (the title search folds diacritics in Python)."""

    def _query_items(self):
        start = self._query_offset
        return self._query_args["items"][start:start + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["items"])


def _actor() -> User:
    return current_user._get_current_object()


def get_course_or_404(course_id: int) -> TrainingCourse:
    """The course, or 404 if unknown; 403 unless the user's area covers it or lies under it."""
    course = db.session.get(TrainingCourse, course_id)
    if course is None:
        abort(404)
    require(training.can_view_course(current_user, course))
    return course


def get_attendance_or_404(attendance_id: int) -> TrainingAttendance:
    attendance = db.session.get(TrainingAttendance, attendance_id)
    if attendance is None:
        abort(404)
    require(training.can_view_attendance(current_user, attendance))
    return attendance


# --- courses ------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    prefixes = scope_of(current_user).prefixes
    q = request.args.get("q", "").strip()[:100]
    year = request.args.get("year", type=int)
    if year is not None and not 1900 <= year <= 2100:
        year = None  # a year typed by hand outside the calendar the courses can have
    kind = request.args.get("kind", "")
    population_work = {"population": True, "other": False}.get(kind)
    courses = training.courses_visible(prefixes, q=q, year=year, population_work=population_work)
    page = ListPagination(items=courses, page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                          error_out=False)
    counts = training.attendance_counts([c.id for c in page.items])
    return render_template("training/index.html", page=page, counts=counts, q=q, year=year, kind=kind,
                           years=training.course_years(prefixes), total=len(courses),
                           can_create=bool(training.organising_units(current_user)))


def _course_form(units, course: TrainingCourse | None = None) -> CourseForm:
    form = CourseForm()
    form.unit_id.choices = [SelectChoice(u.id, u.full_name) for u in units]
    if course is not None and request.method == "GET":
        form.fill(course)
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_course():
    units = training.organising_units(current_user)
    require(bool(units))
    form = _course_form(units)
    if request.method == "GET" and len(units) == 1:
        form.unit_id.data = units[0].id
    if form.validate_on_submit():
        unit = next(u for u in units if u.id == form.unit_id.data)
        try:
            course = training.create_course(unit, actor=_actor(), **form.course_fields())
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
        else:
            db.session.commit()
            flash(_("Đã ghi lớp tập huấn “%(t)s”. Tiếp theo: thêm học viên.", t=course.title), "success")
            return redirect(url_for(".course", course_id=course.id))
    status = 422 if request.method == "POST" else 200
    return render_template("training/course_form.html", form=form, course=None), status


@bp.route("/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit_course(course_id: int):
    course = get_course_or_404(course_id)
    require(training.can_edit_course(current_user, course))
    form = _course_form([course.unit], course)
    if form.validate_on_submit():
        try:
            training.update_course(course, actor=_actor(), **form.course_fields())
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
        else:
            db.session.commit()
            flash(_("Đã lưu lớp tập huấn “%(t)s”.", t=course.title), "success")
            return redirect(url_for(".course", course_id=course.id))
    status = 422 if request.method == "POST" else 200
    return render_template("training/course_form.html", form=form, course=course), status


def _render_course(course: TrainingCourse, *, failed: AttendanceForm | None = None, failed_person=None,
                   status: int = 200):
    q = (request.values.get("q") or "").strip()[:100]
    page = db.paginate(training.attendances_query(course, current_user), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    counts = training.attendance_counts([course.id]).get(course.id, (0, 0))
    may_enrol = training.can_enrol_on(current_user, course)
    editor = training.can_edit_course(current_user, course)
    recording = scope_of(current_user).prefixes_for(RECORDING_ROLES)
    row_ids = [a.candidate_id for a in page.items]
    changeable = set(row_ids) if editor else training.people_in(recording, row_ids) if may_enrol else set()
    found = training.find_people(recording, q) if may_enrol and q else []
    on_course = training.on_course(course, [c.id for c in found])
    appointed = training.is_collaborator(row_ids + [c.id for c in found])
    return render_template(
        "training/course.html", course=course, page=page, counts=counts, q=q, found=found, on_course=on_course,
        appointed=appointed, may_enrol=may_enrol, editor=editor, changeable=changeable, failed=failed,
        failed_person=failed_person, ended=course.ends_on <= date.today(),
        sees_all=training.sees_every_attendee(current_user, course), EDUCATION_LABELS=EDUCATION_LABELS), status


@bp.get("/<int:course_id>")
@login_required
def course(course_id: int):
    return _render_course(get_course_or_404(course_id))


@bp.get("/<int:course_id>/print")
@login_required
def print_course(course_id: int):
    course = get_course_or_404(course_id)
    rows = list(db.session.scalars(training.attendances_query(course, current_user)))
    return render_template("training/print.html", course=course, rows=rows,
                           sees_all=training.sees_every_attendee(current_user, course))


@bp.post("/<int:course_id>/attendance")
@login_required
def record_attendance(course_id: int):
    course = get_course_or_404(course_id)
    require(training.can_enrol_on(current_user, course) or training.can_edit_course(current_user, course))
    form = AttendanceForm()
    person = db.session.get(Candidate, form.candidate_id.data) if form.validate_on_submit() else None
    if person is None:
        if not form.errors:
            form.form_errors.append(_("Không tìm thấy người này."))
        return _render_course(course, failed=form, status=422)
    try:
        training.record_attendance(course, candidate=person, completed=form.completed.data, note=form.note.data,
                                   actor=_actor())
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    except DomainError as e:
        db.session.rollback()
        form.show_domain_error(e)
        return _render_course(course, failed=form, failed_person=person, status=e.status)
    db.session.commit()
    if form.completed.data:
        flash(_("Đã ghi %(n)s hoàn thành lớp “%(t)s”.", n=person.full_name, t=course.title), "success")
    else:
        flash(_("Đã ghi %(n)s vào danh sách lớp “%(t)s”.", n=person.full_name, t=course.title), "success")
    return redirect(url_for(".course", course_id=course.id, q=request.form.get("q") or None))


@bp.route("/attendance/<int:attendance_id>/remove", methods=["GET", "POST"])
@login_required
def remove_attendance(attendance_id: int):
    attendance = get_attendance_or_404(attendance_id)
    require(training.can_change_attendance(current_user, attendance))
    course, person = attendance.course, attendance.candidate
    form = RemoveAttendanceForm()
    status = 200
    if form.validate_on_submit():
        try:
            training.remove_attendance(attendance, actor=_actor())
        except PermissionDenied:
            db.session.rollback()
            abort(403)
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
            status = e.status
        else:
            db.session.commit()
            flash(_("Đã xoá %(n)s khỏi danh sách lớp “%(t)s”.", n=person.full_name, t=course.title), "success")
            return redirect(url_for(".course", course_id=course.id))
    elif request.method == "POST":
        status = 422
    return render_template("training/remove.html", form=form, attendance=attendance, course=course,
                           person=person), status


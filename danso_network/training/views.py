"""Training pages: the course list, a course with its attendance list and the form to add people,
and the printable list of trainees; the course page answers ``?format=xlsx|pdf`` with its list as a file
(:mod:`.documents`). The collaborator profile and the application page receive
their training data from their own views (:func:`.services.profile_section`,
:func:`.services.population_training`).

Every page loads its course with :func:`load_or_404` and a predicate of :mod:`.permissions` (404
unknown, 403 out of scope). Lists are counted and sliced by the database. A POST makes one service
call and commits once; a :class:`DomainError` rolls back and the form comes back with the input
kept, so nothing changes (DESIGN.md §4).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..auth.permissions import require, scope_of
from ..auth.personal_data import personal_data_areas
from ..common import clock
from ..common.params import choice_arg, int_arg, page_arg
from ..common.views import actor, load_or_404, run_service
from ..exports.services import check_format
from ..exports.views import send_document
from ..extensions import db
from ..recruitment.labels import EDUCATION_LABELS
from ..recruitment.models import Candidate
from . import documents
from . import services as training
from .forms import AttendanceForm, CourseForm, RemoveAttendanceForm
from .models import TrainingAttendance, TrainingCourse
from .permissions import (
    can_change_attendance,
    can_edit_course,
    can_enrol_on,
    can_view_attendance,
    can_view_course,
    recording_prefixes,
    sees_every_attendee,
)

bp = Blueprint("training", __name__, url_prefix="/training")

KINDS = {"population": True, "other": False}


def _refused(outcome) -> None:
    """A refusal for lack of rights is a 403 page, as an out-of-scope address is."""
    if outcome.status == 403:
        abort(403)


# --- courses ------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    prefixes = scope_of(current_user).prefixes
    q = request.args.get("q", "").strip()[:100]
    year = int_arg("year", low=1900, high=2100)  # a year typed by hand outside the calendar: no filter
    kind = choice_arg("kind", KINDS, "")
    page, per_page = page_arg()
    courses = training.course_page(prefixes, page, per_page, q=q, year=year, population_work=KINDS.get(kind))
    counts = training.attendance_counts([c.id for c in courses.items])
    return render_template("training/index.html", page=courses, counts=counts, q=q, year=year, kind=kind,
                           years=training.course_years(prefixes), total=courses.total,
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
        outcome = run_service(training.create_course, unit, actor=actor(), **form.course_fields(), form=form)
        _refused(outcome)
        if outcome.ok:
            db.session.commit()
            flash(_("Đã ghi lớp tập huấn “%(t)s”. Tiếp theo: thêm học viên.", t=outcome.value.title), "success")
            return redirect(url_for(".course", course_id=outcome.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("training/course_form.html", form=form, course=None), status


@bp.route("/<int:course_id>/edit", methods=["GET", "POST"])
@login_required
def edit_course(course_id: int):
    course = load_or_404(TrainingCourse, course_id, need=can_view_course)
    require(can_edit_course(current_user, course))
    form = _course_form([course.unit], course)
    if form.validate_on_submit():
        outcome = run_service(training.update_course, course, actor=actor(), **form.course_fields(), form=form)
        _refused(outcome)
        if outcome.ok:
            db.session.commit()
            flash(_("Đã lưu lớp tập huấn “%(t)s”.", t=course.title), "success")
            return redirect(url_for(".course", course_id=course.id))
    status = 422 if request.method == "POST" else 200
    return render_template("training/course_form.html", form=form, course=course), status


def _render_course(course: TrainingCourse, *, failed: AttendanceForm | None = None, failed_person=None,
                   status: int = 200):
    q = (request.values.get("q") or "").strip()[:100]
    page = training.attendance_page(course, current_user, *page_arg())
    counts = training.attendance_counts([course.id]).get(course.id, (0, 0))
    may_enrol = can_enrol_on(current_user, course)
    editor = can_edit_course(current_user, course)
    recording = recording_prefixes(current_user)
    row_ids = [a.candidate_id for a in page.items]
    changeable = set(row_ids) if editor else training.people_in(recording, row_ids) if may_enrol else set()
    found = training.find_people(recording, q) if may_enrol and q else []
    on_course = training.on_course(course, [c.id for c in found])
    appointed = training.is_collaborator(row_ids + [c.id for c in found])
    seen = training.people_in(personal_data_areas(current_user), row_ids + [c.id for c in found])
    return render_template(
        "training/course.html", course=course, page=page, counts=counts, q=q, found=found, on_course=on_course,
        seen=seen,
        appointed=appointed, may_enrol=may_enrol, editor=editor, changeable=changeable, failed=failed,
        failed_person=failed_person, ended=course.ends_on <= clock.today(),
        sees_all=sees_every_attendee(current_user, course), EDUCATION_LABELS=EDUCATION_LABELS), status


@bp.get("/<int:course_id>")
@login_required
def course(course_id: int):
    """The course page; ``?format=xlsx|pdf``: its attendance list as a file (the same rows, after
    the same scope check: 404 unknown, 403 out of scope; another format is a 400)."""
    course = load_or_404(TrainingCourse, course_id, need=can_view_course)
    if "format" in request.args:
        fmt = check_format(request.args.get("format"), documents.FORMATS)
        document = documents.attendance_document(course, current_user, printed=fmt == "pdf")
        return send_document(document, fmt, documents.display_name(course))
    return _render_course(course)


@bp.get("/<int:course_id>/print")
@login_required
def print_course(course_id: int):
    course = load_or_404(TrainingCourse, course_id, need=can_view_course)
    rows = list(db.session.scalars(training.attendances_query(course, current_user)))  # the printed list: all
    return render_template("training/print.html", course=course, rows=rows,
                           sees_all=sees_every_attendee(current_user, course))


@bp.post("/<int:course_id>/attendance")
@login_required
def record_attendance(course_id: int):
    course = load_or_404(TrainingCourse, course_id, need=can_view_course)
    require(can_enrol_on(current_user, course) or can_edit_course(current_user, course))
    form = AttendanceForm()
    person = db.session.get(Candidate, form.candidate_id.data) if form.validate_on_submit() else None
    if person is None:
        if not form.errors:
            form.form_errors.append(_("Không tìm thấy người này."))
        return _render_course(course, failed=form, status=422)
    outcome = run_service(training.record_attendance, course, candidate=person, completed=form.completed.data,
                          note=form.note.data, actor=actor(), form=form)
    _refused(outcome)
    if not outcome.ok:
        return _render_course(course, failed=form, failed_person=person, status=outcome.status)
    db.session.commit()
    if form.completed.data:
        flash(_("Đã ghi %(n)s hoàn thành lớp “%(t)s”.", n=person.full_name, t=course.title), "success")
    else:
        flash(_("Đã ghi %(n)s vào danh sách lớp “%(t)s”.", n=person.full_name, t=course.title), "success")
    return redirect(url_for(".course", course_id=course.id, q=request.form.get("q") or None))


@bp.route("/attendance/<int:attendance_id>/remove", methods=["GET", "POST"])
@login_required
def remove_attendance(attendance_id: int):
    attendance = load_or_404(TrainingAttendance, attendance_id, need=can_view_attendance)
    require(can_change_attendance(current_user, attendance))
    course, person = attendance.course, attendance.candidate
    form = RemoveAttendanceForm()
    status = 200
    if form.validate_on_submit():
        outcome = run_service(training.remove_attendance, attendance, actor=actor(), form=form)
        _refused(outcome)
        status = outcome.status
        if outcome.ok:
            db.session.commit()
            flash(_("Đã xoá %(n)s khỏi danh sách lớp “%(t)s”.", n=person.full_name, t=course.title), "success")
            return redirect(url_for(".course", course_id=course.id))
    elif request.method == "POST":
        status = 422
    return render_template("training/remove.html", form=form, attendance=attendance, course=course,
                           person=person), status


"""Collaborator pages: roster (by unit, by centre, over the user's whole scope), profile,
assignment actions (transfer, extra hamlet, suspend, reinstate, terminate, end a cover), quota
status, Sổ A0 hand-overs, and the roster's import from a file with its template (issue #12 item 3:
upload → dry run → confirm; a long file through a background job).

Every page loads its object with ``load_or_404`` and the permission predicate (404 unknown, 403
out of scope). A POST validates the form's shape and runs one service through ``run_service``,
which rolls back a refusal and shows it on the form; success commits once (DESIGN.md §4).
Lists are counted and sliced by the database (``services.roster_page``, ``quota_page``,
``common.paging.paginate``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, selectinload
from wtforms.fields.choices import SelectChoice

from ..allowances import services as allowances
from ..audit.labels import action_label
from ..audit.models import AuditEvent
from ..auth.permissions import can_view_audit, landing_of, require, scope_of
from ..auth.personal_data import personal_data_areas
from ..common.clock import today
from ..common.paging import paginate
from ..common.params import bool_arg, choice_arg, date_arg, page_arg
from ..common.views import actor, load_or_404, run_service
from ..errors import MAX_ID, DomainError
from ..exports.services import content_disposition
from ..extensions import db
from ..imports import staging
from ..imports.reading import FileRefused
from ..jobs import services as jobs
from ..jobs.models import Job
from ..jobs.permissions import can_view_job
from ..recruitment.labels import EDUCATION_LABELS, SEX_LABELS
from ..recruitment.permissions import can_view_application
from ..recruitment.services import provinces_without_criteria
from ..supervision import services as supervision
from ..training import services as training
from ..units.labels import type_label
from ..units.lineage import area_on
from ..units.models import LEVEL_TYPES, AdminUnit, Facility, UnitLevel
from ..units.services import path_filter, served_units, valid_on
from . import roster_import, roster_template, services
from .forms import (
    AddHamletForm,
    EndCoverForm,
    EndDutyForm,
    HandoverForm,
    ImportConfirmForm,
    ReinstateForm,
    RosterImportForm,
    StartDutyForm,
    SuspendForm,
    TerminateForm,
    TransferForm,
)
from .labels import (
    FLAG_COLOURS,
    FLAG_LABELS,
    ROSTER_STATUS_LABELS,
    SORT_LABELS,
    STATUS_COLOURS,
    STATUS_LABELS,
    TENURE_LABELS,
    duty_label,
    end_reason_label,
    kind_label,
)
from .models import Assignment, Collaborator, CollaboratorDuty, DutyKind, RegisterHandover
from .permissions import (
    ASSIGNMENT_ROLES,
    can_change_assignments,
    can_change_collaborator,
    can_record_at,
    can_view_collaborator,
    can_view_path,
    home_assignment,
)
from .policy import policy_for, province_id_of

bp = Blueprint("collaborators", __name__, url_prefix="/collaborators")

HAMLET_TYPES = sorted((t.value for t in LEVEL_TYPES[UnitLevel.HAMLET]), key=lambda t: type_label(t))


@bp.context_processor
def labels():
    """Labels and pure functions only: the data a page shows comes from its view."""
    return {"STATUS_LABELS": STATUS_LABELS, "STATUS_COLOURS": STATUS_COLOURS, "TENURE_LABELS": TENURE_LABELS,
            "ROSTER_STATUS_LABELS": ROSTER_STATUS_LABELS, "SORT_LABELS": SORT_LABELS, "FLAG_LABELS": FLAG_LABELS,
            "FLAG_COLOURS": FLAG_COLOURS, "end_reason_label": end_reason_label, "kind_label": kind_label,
            "duty_label": duty_label,
            "tenure_years": services.tenure_years, "SEX_LABELS": SEX_LABELS, "EDUCATION_LABELS": EDUCATION_LABELS}


# --- loading ----------------------------------------------------------------------------------------


def _unit(unit_id: int) -> AdminUnit:
    return load_or_404(AdminUnit, unit_id, need=lambda user, unit: can_view_path(user, unit.path))


def _changeable(collaborator_id: int) -> Collaborator:
    """The collaborator whose assignments the user may change (404 unknown, 403 otherwise)."""
    return load_or_404(Collaborator, collaborator_id, need=can_change_collaborator)


def _picked(model, object_id: int | None):
    """The row a form's select names, or None (nothing chosen, or a number naming nothing)."""
    return db.session.get(model, object_id) if object_id and 0 < object_id <= MAX_ID else None


def _hamlet_choices(exclude=()) -> dict:
    """Hamlets in force today where the user may assign collaborators, grouped by commune."""
    prefixes = scope_of(current_user).prefixes_for(ASSIGNMENT_ROLES)
    commune = aliased(AdminUnit)
    rows = db.session.execute(
        select(AdminUnit.id, AdminUnit.name, commune.full_name).join(commune, commune.id == AdminUnit.parent_id)
        .where(AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, today()), path_filter(prefixes))
        .order_by(commune.search_text, commune.id, AdminUnit.local_id, AdminUnit.search_text)).all()
    groups: dict = {"": [SelectChoice("", _("— Chọn thôn/tổ dân phố —"))]}
    for hamlet_id, name, commune_name in rows:
        if hamlet_id not in exclude:
            groups.setdefault(commune_name, []).append(SelectChoice(hamlet_id, name))
    return groups


# --- roster ---------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """Where "my collaborators" lands (``auth.permissions.landing_of``): the one centre's or
    the one unit's roster, else the roster over the user's whole scope; a user without a grant
    is told so."""
    landing = landing_of(current_user)
    if landing.only_centre is not None:
        return redirect(url_for(".centre_roster", facility_id=landing.only_centre.id))
    if landing.only_unit is not None:
        return redirect(url_for(".roster", unit_id=landing.only_unit.id))
    if landing.units:
        return redirect(url_for(".scope_roster"))
    return render_template("collaborators/index.html", centres=landing.centres)


def _roster_filters() -> services.RosterFilters:
    return services.RosterFilters(
        as_of=date_arg("as_of"), status=choice_arg("status", services.ROSTER_STATUSES),
        hamlet_type=choice_arg("hamlet_type", HAMLET_TYPES), difficult=bool_arg("difficult"), vhw=bool_arg("vhw"),
        family_children=bool_arg("family_children"),
        tenure=choice_arg("tenure", services.TENURES), q=request.args.get("q", "").strip()[:100] or None,
        sort=choice_arg("sort", services.SORTS, "name"), cccd_areas=tuple(personal_data_areas(current_user)))


def _render_roster(prefixes: list[str], filters: services.RosterFilters, *, title: str, **context):
    number, per_page = page_arg()
    page = services.roster_page(prefixes, filters, page=number, per_page=per_page)
    context.setdefault("communes", [])
    unit = context.get("unit")
    import_unit = unit.id if unit is not None and can_change_assignments(current_user, unit) else None
    return render_template("collaborators/roster.html", page=page, filters=filters, title=title,
                           hamlet_types=HAMLET_TYPES, type_label=type_label, may_import=_may_import(),
                           import_unit=import_unit, **context)


@bp.get("/roster")
@login_required
def scope_roster():
    """The roster over the user's whole scope (every area of every grant: a province admin's
    province, a national user's provinces, a user's several communes) on one page, with the
    same filters, search, sort, pages and print as a unit's roster. No grant, nobody."""
    landing = landing_of(current_user)
    return _render_roster(scope_of(current_user).prefixes, _roster_filters(), title=_("Toàn bộ địa bàn của bạn"),
                          areas=landing.units, centres=landing.centres)


@bp.get("/roster/<int:unit_id>")
@login_required
def roster(unit_id: int):
    """The roster of a commune, a province or any unit in the user's area, as of a date."""
    unit = _unit(unit_id)
    filters = _roster_filters()
    return _render_roster(area_on(unit, filters.as_of), filters, title=unit.full_name, unit=unit)


@bp.get("/roster/centre/<int:facility_id>")
@login_required
def centre_roster(facility_id: int):
    """The roster of the communes a facility (an area health centre) serves on the date. The
    user must reach every commune it serves today; past communes outside the user's area are
    left out."""
    facility = load_or_404(Facility, facility_id)
    served_now = served_units(facility, today())
    require(bool(served_now) and all(can_view_path(current_user, u.path) for u in served_now))
    filters = _roster_filters()
    served = [u for u in served_units(facility, filters.as_of) if can_view_path(current_user, u.path)]
    return _render_roster([u.path for u in served], filters, title=facility.name, facility=facility,
                          communes=served)


# --- quota ----------------------------------------------------------------------------------------


@bp.get("/quota/<int:unit_id>")
@login_required
def quota(unit_id: int):
    """Quota status of every hamlet under a unit as of a date, flags coloured, printable. The
    totals cover the whole unit; ``flag`` narrows the list, not the totals."""
    unit = _unit(unit_id)
    as_of = date_arg("as_of")
    flag = choice_arg("flag", FLAG_LABELS)
    number, per_page = page_arg()
    area = area_on(unit, as_of)  # before the unit was formed: the units it was formed from
    totals = services.quota_summary(area, as_of=as_of)
    page = services.quota_page(area, as_of=as_of, flag=flag, page=number, per_page=per_page, totals=totals)
    return render_template("collaborators/quota.html", unit=unit, as_of=as_of, page=page, totals=totals, flag=flag,
                           show_all=request.args.get("all") == "1",
                           no_criteria=provinces_without_criteria([unit.path], as_of))


# --- profile --------------------------------------------------------------------------------------


def _timeline(collaborator: Collaborator) -> list[AuditEvent]:
    """Audit events on the collaborator, their application, assignments, suspensions and
    hand-overs, newest first."""
    handover_ids = list(db.session.scalars(select(RegisterHandover.id).where(
        RegisterHandover.from_collaborator_id == collaborator.id)))
    objects = {"Collaborator": [collaborator.id], "Application": [collaborator.application_id],
               "Assignment": [a.id for a in collaborator.assignments],
               "Suspension": [s.id for s in collaborator.suspensions], "RegisterHandover": handover_ids}
    conds = [and_(AuditEvent.object_type == kind, AuditEvent.object_id.in_([str(i) for i in ids]))
             for kind, ids in objects.items() if ids]
    return list(db.session.scalars(select(AuditEvent).where(or_(*conds))
                                   .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(200)))


def _iso(value) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return str(value or "—")


def _summary(event: AuditEvent) -> str:
    """One line saying what the event changed, for the profile's timeline."""
    before, after = event.before or {}, event.after or {}
    if event.action == "collaborator.transfer":
        line = _("Từ %(a)s sang %(b)s, từ ngày %(d)s", a=before.get("hamlet", "—"), b=after.get("hamlet", "—"),
                 d=_iso(after.get("on")))
        if after.get("residence_exception"):
            return line + "; " + _("ngoại lệ nơi cư trú: %(j)s", j=after["residence_exception"])
        if after.get("residence_hamlet"):
            return line + "; " + _("nơi cư trú mới: %(r)s", r=after["residence_hamlet"])
        return line
    if event.action == "collaborator.start_duty":
        line = _("Từ ngày %(d)s", d=_iso(after.get("started_on")))
        return line + (" (" + after["decision_ref"] + ")" if after.get("decision_ref") else "")
    if event.action == "collaborator.end_duty":
        return _("Từ ngày %(d)s", d=_iso(after.get("ended_on")))
    if event.action == "collaborator.add_hamlet":
        return _("%(h)s, từ ngày %(d)s", h=after.get("hamlet", "—"), d=_iso(after.get("on")))
    if event.action == "collaborator.end_cover":
        return _("%(h)s, từ ngày %(d)s", h=after.get("hamlet", "—"), d=_iso(after.get("ended_on")))
    if event.action == "collaborator.suspend":
        return _("Từ ngày %(d)s: %(r)s", d=_iso(after.get("started_on")), r=after.get("reason", ""))
    if event.action == "collaborator.reinstate":
        return _("Từ ngày %(d)s", d=_iso(after.get("ended_on")))
    if event.action == "collaborator.terminate":
        return _("%(r)s, từ ngày %(d)s", r=end_reason_label(after.get("reason")), d=_iso(after.get("ended_on")))
    if event.action == "handover.open":
        return _("%(h)s, từ ngày %(d)s", h=event.object_label, d=_iso(after.get("requested_on")))
    if event.action == "handover.record":
        return _("Ngày %(d)s, người nhận: %(p)s", d=_iso(after.get("handed_on")), p=after.get("received_by", ""))
    if event.action == roster_import.PAPER_ACTION:
        return _("%(h)s, từ ngày %(d)s; nhập từ %(s)s", h=after.get("hamlet", "—"), d=_iso(after.get("started_on")),
                 s=after.get("source", "—"))
    if event.action == roster_import.UPDATE_ACTION:
        return _("Cập nhật từ tệp “%(f)s”", f=after.get("file", "—"))
    return ""


def _event_label(action: str) -> str:
    return action_label(action)


@bp.get("/<int:collaborator_id>")
@login_required
def show(collaborator_id: int):
    collaborator = load_or_404(Collaborator, collaborator_id, need=can_view_collaborator)
    day = today()
    status = services.status_on(collaborator, day)
    current = services.open_assignments(collaborator)
    may_change = can_change_collaborator(current_user, collaborator)
    home = home_assignment(collaborator, day)
    policy = policy_for(province_id_of(home.hamlet_path), day) if home else None
    serving = bool(current) and status in ("active", "suspended")
    actions = {
        "transfer": may_change and status == "active" and any(a.kind == "primary" for a in current),
        "add_hamlet": may_change and status == "active" and bool(policy and policy.allow_additional_hamlet),
        "suspend": may_change and status == "active",
        "reinstate": may_change and services.open_suspension(collaborator) is not None,
        "terminate": may_change and serving,
    }
    end_cover = {a.id: EndCoverForm(formdata=None) for a in current
                 if a.kind == "additional" and can_change_assignments(current_user, a.hamlet)}
    handovers = list(db.session.scalars(select(RegisterHandover).where(
        RegisterHandover.from_collaborator_id == collaborator.id).order_by(RegisterHandover.requested_on)))
    timeline = _timeline(collaborator) if can_view_audit(current_user) else None
    application = collaborator.application
    return render_template(
        "collaborators/show.html", collaborator=collaborator, candidate=collaborator.candidate, status=status,
        current=current, home=home, assignments=sorted(collaborator.assignments, key=lambda a: (a.started_on, a.id),
                                                       reverse=True),
        suspensions=sorted(collaborator.suspensions, key=lambda s: s.started_on, reverse=True),
        application=application, decision=application.decision, actions=actions, end_cover=end_cover,
        handovers=handovers, timeline=timeline, summary=_summary, event_label=_event_label,
        can_view_application=can_view_application(current_user, application), policy=policy,
        allowance_section=allowances.profile_section(collaborator, actor(), day),
        training_section=training.profile_section(collaborator, actor(), day),
        supervision_section=supervision.profile_section(collaborator, day, actor()),
        duty_section=_duty_section(collaborator, day, may_change=may_change and serving))


@dataclass
class DutySection:
    """The profile's "kiêm công tác gia đình và trẻ em" part: the period in force today (or
    None), every period newest first, and the form the user may use (start or end; None)."""

    current: CollaboratorDuty | None
    periods: list[CollaboratorDuty]
    start_form: StartDutyForm | None
    end_form: EndDutyForm | None


def _duty_section(collaborator: Collaborator, day: date, *, may_change: bool) -> DutySection:
    periods = sorted((d for d in collaborator.duties if d.duty == DutyKind.FAMILY_CHILDREN),
                     key=lambda d: (d.started_on, d.id), reverse=True)
    current = next((d for d in periods if d.open_on(day)), None)
    held = services.open_duty(collaborator, DutyKind.FAMILY_CHILDREN)
    return DutySection(current, periods,
                       StartDutyForm(formdata=None) if may_change and held is None else None,
                       EndDutyForm(formdata=None) if may_change and held is not None else None)


# --- actions --------------------------------------------------------------------------------------


def _on(form) -> str:
    return form.on.data.strftime("%d/%m/%Y")


def _act(action: str, collaborator: Collaborator, form, call: Callable[[], object],
         message: Callable[[object], str], **extra):
    """The shape every action page shares: a valid POST runs the one service (``call``) and, if
    it is not refused, commits and goes back to the profile with ``message(result)``; otherwise
    the form is shown again with its errors (422, or the refusal's status)."""
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            outcome = run_service(call, form=form)
            if outcome.ok:
                db.session.commit()
                flash(message(outcome.value), "success")
                return redirect(url_for(".show", collaborator_id=collaborator.id))
            status = outcome.status
    current = services.open_assignments(collaborator)
    return render_template("collaborators/action.html", action=action, collaborator=collaborator, form=form,
                           current=current, since=services.served_since(current),
                           suspension=services.open_suspension(collaborator),
                           status=services.status_on(collaborator, today()), **extra), status


def _hamlet_form(form_class, collaborator: Collaborator):
    form = form_class()
    form.hamlet.choices = _hamlet_choices(exclude={a.hamlet_id for a in services.open_assignments(collaborator)})
    return form


@bp.route("/<int:collaborator_id>/transfer", methods=["GET", "POST"])
@login_required
def transfer(collaborator_id: int):
    collaborator = _changeable(collaborator_id)
    form = _hamlet_form(TransferForm, collaborator)
    return _act("transfer", collaborator, form, lambda: services.transfer_collaborator(
        collaborator, _picked(AdminUnit, form.hamlet.data), on=form.on.data, actor=actor(),
        decision_ref=form.decision_ref.data, note=form.note.data, residence=form.residence.data,
        residence_exception=form.residence_exception.data),
        lambda new: _("Đã điều chuyển %(n)s sang %(h)s từ ngày %(d)s.", n=collaborator.full_name,
                      h=new.hamlet.name, d=_on(form)))


@bp.route("/<int:collaborator_id>/add-hamlet", methods=["GET", "POST"])
@login_required
def add_hamlet(collaborator_id: int):
    collaborator = _changeable(collaborator_id)
    form = _hamlet_form(AddHamletForm, collaborator)
    home = home_assignment(collaborator)
    return _act("add_hamlet", collaborator, form, lambda: services.add_hamlet(
        collaborator, _picked(AdminUnit, form.hamlet.data), on=form.on.data, actor=actor(),
        decision_ref=form.decision_ref.data),
        lambda new: _("%(n)s kiêm nhiệm thêm %(h)s từ ngày %(d)s.", n=collaborator.full_name, h=new.hamlet.name,
                      d=_on(form)),
        policy=policy_for(province_id_of(home.hamlet_path)) if home else None)


@bp.route("/<int:collaborator_id>/suspend", methods=["GET", "POST"])
@login_required
def suspend(collaborator_id: int):
    collaborator = _changeable(collaborator_id)
    form = SuspendForm()
    return _act("suspend", collaborator, form, lambda: services.suspend_collaborator(
        collaborator, on=form.on.data, reason=form.reason.data, actor=actor()),
        lambda _made: _("Đã tạm đình chỉ %(n)s từ ngày %(d)s.", n=collaborator.full_name, d=_on(form)))


@bp.route("/<int:collaborator_id>/reinstate", methods=["GET", "POST"])
@login_required
def reinstate(collaborator_id: int):
    collaborator = _changeable(collaborator_id)
    form = ReinstateForm()
    return _act("reinstate", collaborator, form, lambda: services.reinstate_collaborator(
        collaborator, on=form.on.data, actor=actor(), note=form.note.data),
        lambda _ended: _("%(n)s hoạt động trở lại từ ngày %(d)s.", n=collaborator.full_name, d=_on(form)))


def _terminated(collaborator: Collaborator, form, handovers) -> str:
    message = _("%(n)s nghỉ việc từ ngày %(d)s.", n=collaborator.full_name, d=_on(form))
    if handovers:
        message += " " + _("%(h)s không còn cộng tác viên: đã đưa vào danh sách cần tuyển; hãy ghi nhận bàn "
                           "giao Sổ A0.", h=", ".join(h.hamlet.name for h in handovers))
    return message


@bp.route("/<int:collaborator_id>/terminate", methods=["GET", "POST"])
@login_required
def terminate(collaborator_id: int):
    collaborator = _changeable(collaborator_id)
    form = TerminateForm()
    return _act("terminate", collaborator, form, lambda: services.terminate_collaborator(
        collaborator, on=form.on.data, reason=form.reason.data, actor=actor(), note=form.note.data),
        lambda handovers: _terminated(collaborator, form, handovers))


@bp.post("/assignments/<int:assignment_id>/end-cover")
@login_required
def end_cover(assignment_id: int):
    """End an additional hamlet from the profile page (a small form there): errors and
    refusals are flashed on the profile."""
    assignment = load_or_404(Assignment, assignment_id, need=lambda user, a: (
        can_view_collaborator(user, a.collaborator) and can_change_assignments(user, a.hamlet)))
    back = redirect(url_for(".show", collaborator_id=assignment.collaborator_id))
    form = EndCoverForm()
    if not form.validate_on_submit():
        for message in (m for errors in form.errors.values() for m in errors):
            flash(message, "danger")
        return back
    if run_service(services.end_additional_hamlet, assignment, on=form.on.data, actor=actor()).ok:
        db.session.commit()
        flash(_("Đã kết thúc kiêm nhiệm %(h)s từ ngày %(d)s.", h=assignment.hamlet.name, d=_on(form)), "success")
    return back


def _duty_action(collaborator_id: int, form, call: Callable[[Collaborator], object], message: Callable[..., str]):
    """A duty form posted from the profile: its errors and refusals are flashed there."""
    collaborator = _changeable(collaborator_id)
    back = redirect(url_for(".show", collaborator_id=collaborator.id))
    if not form.validate_on_submit():
        for text in (m for errors in form.errors.values() for m in errors):
            flash(text, "danger")
        return back
    if run_service(call, collaborator).ok:
        db.session.commit()
        flash(message(collaborator), "success")
    return back


@bp.post("/<int:collaborator_id>/duty/start")
@login_required
def start_duty(collaborator_id: int):
    """Give the collaborator "kiêm công tác gia đình và trẻ em" from a date (services.start_duty)."""
    form = StartDutyForm()
    return _duty_action(collaborator_id, form, lambda c: services.start_duty(
        c, form.duty.data, on=form.on.data, actor=actor(), decision_ref=form.decision_ref.data),
        lambda c: _("%(n)s kiêm nhiệm công tác gia đình và trẻ em từ ngày %(d)s.", n=c.full_name, d=_on(form)))


@bp.post("/<int:collaborator_id>/duty/end")
@login_required
def end_duty(collaborator_id: int):
    """End "kiêm công tác gia đình và trẻ em" from a date (services.end_duty)."""
    form = EndDutyForm()
    return _duty_action(collaborator_id, form, lambda c: services.end_duty(
        c, form.duty.data, on=form.on.data, actor=actor()),
        lambda c: _("%(n)s thôi kiêm nhiệm công tác gia đình và trẻ em từ ngày %(d)s.", n=c.full_name, d=_on(form)))


# --- hand-overs -----------------------------------------------------------------------------------


@bp.get("/handovers")
@login_required
def handovers():
    """Sổ A0 hand-overs still to record in the user's area, oldest request first; counted and
    sliced by the database."""
    number, per_page = page_arg()
    page = paginate(services.pending_handovers_query(scope_of(current_user).prefixes), number, per_page)
    return render_template("collaborators/handovers.html", page=page, can_record_at=can_record_at)


def _successor_choices(handover: RegisterHandover) -> list[SelectChoice]:
    """Collaborators serving in the hamlet since the request (the likely receivers)."""
    rows = db.session.scalars(
        select(Collaborator).join(Assignment, Assignment.collaborator_id == Collaborator.id)
        .where(Assignment.hamlet_id == handover.hamlet_id, Collaborator.id != handover.from_collaborator_id,
               or_(Assignment.ended_on.is_(None), Assignment.ended_on > handover.requested_on))
        .options(selectinload(Collaborator.candidate)).distinct())
    return [SelectChoice("", _("— Không (giao cho trạm y tế) —"))] + [SelectChoice(c.id, c.full_name) for c in rows]


@bp.route("/handovers/<int:handover_id>", methods=["GET", "POST"])
@login_required
def handover(handover_id: int):
    handover = load_or_404(RegisterHandover, handover_id, need=lambda user, h: can_view_path(user, h.hamlet_path))
    if request.method == "POST":
        require(can_record_at(current_user, handover.hamlet))
    form = HandoverForm()
    form.to_collaborator.choices = _successor_choices(handover)
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        outcome = run_service(services.record_handover, handover, handed_on=form.handed_on.data,
                              received_by=form.received_by.data, note=form.note.data, actor=actor(), form=form,
                              to_collaborator=_picked(Collaborator, form.to_collaborator.data))
        if outcome.ok:
            db.session.commit()
            flash(_("Đã ghi nhận bàn giao Sổ A0 của %(h)s.", h=handover.hamlet.name), "success")
            return redirect(url_for(".handovers"))
        status = outcome.status
    may_record = handover.handed_on is None and can_record_at(current_user, handover.hamlet)
    return render_template("collaborators/handover.html", handover=handover, form=form,
                           may_record=may_record), status


# --- importing the roster from a file -------------------------------------------------------------


def _may_import(user=None) -> bool:
    """Whoever may appoint somewhere (station head, centre officer, province admin) may import."""
    return bool(scope_of(user or current_user).prefixes_for(ASSIGNMENT_ROLES))


def _import_unit(unit_id: int | None) -> AdminUnit | None:
    """The unit a template is asked for (404 unknown, 403 unless the user may appoint there)."""
    if unit_id is None:
        return None
    return load_or_404(AdminUnit, unit_id, need=lambda user, unit: can_change_assignments(user, unit))


def _upload_page(form: RosterImportForm, status: int = 200, unit: AdminUnit | None = None):
    return render_template("collaborators/import.html", form=form, unit=unit, max_mb=_max_mb(),
                           inline_rows=roster_import.inline_rows(),
                           instructions=roster_template.instructions()[2:]), status


def _max_mb() -> int:
    from ..imports.reading import max_bytes

    return max_bytes() // (1024 * 1024)


def _preview(data: dict, status: int = 200, *, job: Job | None = None):
    form = ImportConfirmForm(formdata=None, token=data.get("token"))
    return render_template("collaborators/import_preview.html", report=data, form=form, job=job,
                           preview_problems=roster_import.PREVIEW_PROBLEMS), status


def _run_staged(item: staging.Staged, *, commit: bool):
    """Read the staged file and make the plan (inline), or hand a long file to a background job.
    A file that cannot be read is discarded and the upload page says why."""
    user = actor()
    try:
        table = roster_import.read_staged(item)
    except FileRefused as refused:
        staging.discard(item)
        form = RosterImportForm(formdata=None)
        form.file.errors = [str(refused), *refused.problems]
        return _upload_page(form, 422)
    if len(table.rows) > roster_import.inline_rows():
        job = jobs.submit(roster_import.JOB_KIND, {"token": item.token, "commit": commit}, user)
        db.session.commit()  # the job starts once its row is committed
        return redirect(url_for(".import_job", job_id=job.id))
    plan = roster_import.plan_roster_import(table, user=user)
    if not commit or plan.problems:
        db.session.rollback()  # the plan only read
        if plan.problems:
            staging.discard(item)  # nothing to confirm: the user fixes the file and uploads it again
        token = None if plan.problems else item.token
        return _preview(roster_import.report(plan, token=token), 422 if plan.problems and commit else 200)
    try:
        summary = roster_import.apply_roster_import(plan, actor=user, filename=item.filename)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _preview(roster_import.report(plan, token=item.token), error.status)
    db.session.commit()
    staging.discard(item)
    flash(_("Đã nhập tệp “%(f)s”: %(c)s dòng thêm mới, %(u)s dòng cập nhật, %(k)s dòng không đổi.", f=item.filename,
            c=summary.created, u=summary.updated, k=summary.unchanged), "success")
    return redirect(url_for(".scope_roster"))


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_roster():
    """Upload a roster file (XLSX/XLS/ODS/CSV): it is kept, read and checked, and the dry run
    shows what it would do; nothing is written until the user confirms (:func:`import_confirm`)."""
    require(_may_import())
    unit = _import_unit(request.args.get("unit_id", type=int))
    form = RosterImportForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422 if form.is_submitted() else 200, unit)
    try:
        item = staging.stage(form.file.data.stream, form.file.data.filename, kind=roster_import.STAGED_KIND,
                             owner_id=current_user.id)
    except DomainError as error:
        form.show_domain_error(error)
        return _upload_page(form, error.status, unit)
    return _run_staged(item, commit=False)


@bp.post("/import/confirm")
@login_required
def import_confirm():
    """Import the file the dry run showed: read again and planned again (the database may have
    changed since), written in one transaction only if there is no problem."""
    require(_may_import())
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash(_("Yêu cầu nhập không hợp lệ. Vui lòng tải tệp lên lại."), "danger")
        return redirect(url_for(".import_roster"))
    item = staging.staged(form.token.data, kind=roster_import.STAGED_KIND, owner_id=current_user.id)
    return _run_staged(item, commit=True)


@bp.get("/import/jobs/<int:job_id>")
@login_required
def import_job(job_id: int):
    """A long file's dry run or import, run in the background: its progress while it runs, then
    the same dry-run page (with the confirmation) or the result."""
    job = load_or_404(Job, job_id, need=can_view_job, where=lambda j: j.kind == roster_import.JOB_KIND)
    jobs.fail_if_dead(job, at_once=True)
    if job.active or job.state != "done":
        return render_template("collaborators/import_job.html", job=job, expired=jobs.is_expired(job),
                               refresh=2 if job.active else None)
    try:
        result = jobs.open_result(job)
        data = json.loads(result.path.read_text(encoding="utf-8"))
    except (DomainError, OSError, ValueError):
        db.session.rollback()
        return render_template("collaborators/import_job.html", job=job, expired=True, refresh=None)
    return _preview(data, job=job)


def _template_response(unit: AdminUnit | None):
    require(_may_import())
    buffer = io.BytesIO()
    info = roster_template.write_template(buffer, user=actor(), unit=unit)
    response = Response(buffer.getvalue(), mimetype=roster_template.MIMETYPE)
    response.headers["Content-Disposition"] = content_disposition(info.filename, info.display_name)
    return response


@bp.get("/import/template")
@login_required
def import_template():
    """The XLSX template for the hamlets of the user's whole assignment scope."""
    return _template_response(None)


@bp.get("/import/template/<int:unit_id>")
@login_required
def import_template_unit(unit_id: int):
    """The XLSX template for the hamlets of one unit of the user's assignment scope."""
    return _template_response(_import_unit(unit_id))

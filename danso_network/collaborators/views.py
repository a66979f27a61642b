"""Collaborator pages: roster (by unit, by centre), profile, assignment actions (transfer, extra
hamlet, suspend, reinstate, terminate), quota status, Sổ A0 hand-overs.

Every page loads its object through a ``get_…_or_404`` helper (404 unknown, 403 out of scope).
A POST checks the user's right to change (403), validates the form's shape, makes one service
call and commits once; a :class:`DomainError` rolls back and re-renders the form with the input
and the message, so nothing changes (DESIGN.md §4).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, selectinload
from wtforms.fields.choices import SelectChoice

from ..audit.models import AuditEvent
from ..audit.views import action_label
from ..auth.models import User
from ..auth.permissions import can_view_audit, require, scope_of
from ..errors import DomainError
from ..extensions import db
from ..recruitment.labels import EDUCATION_LABELS, SEX_LABELS
from ..recruitment.permissions import can_view_application
from ..units.labels import type_label
from ..units.models import LEVEL_TYPES, AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import path_filter, served_units, valid_on
from . import services
from .forms import (
    AddHamletForm,
    EndCoverForm,
    HandoverForm,
    ReinstateForm,
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
    end_reason_label,
    kind_label,
)
from .models import Assignment, Collaborator, RegisterHandover
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

PER_PAGE = 50
HAMLET_TYPES = sorted((t.value for t in LEVEL_TYPES[UnitLevel.HAMLET]), key=lambda t: type_label(t))


@bp.context_processor
def labels():
    return {"STATUS_LABELS": STATUS_LABELS, "STATUS_COLOURS": STATUS_COLOURS, "TENURE_LABELS": TENURE_LABELS,
            "ROSTER_STATUS_LABELS": ROSTER_STATUS_LABELS, "SORT_LABELS": SORT_LABELS, "FLAG_LABELS": FLAG_LABELS,
            "FLAG_COLOURS": FLAG_COLOURS, "end_reason_label": end_reason_label, "kind_label": kind_label,
            "tenure_years": services.tenure_years, "SEX_LABELS": SEX_LABELS, "EDUCATION_LABELS": EDUCATION_LABELS}


# --- loading and permission helpers -----------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()


def get_collaborator_or_404(collaborator_id: int) -> Collaborator:
    """The collaborator, or 404 if unknown; 403 unless one of their hamlets is in the user's area."""
    collaborator = db.session.get(Collaborator, collaborator_id)
    if collaborator is None:
        abort(404)
    require(can_view_collaborator(current_user, collaborator))
    return collaborator


def get_changeable_or_404(collaborator_id: int) -> Collaborator:
    """As :func:`get_collaborator_or_404`, and 403 unless the user may change the assignments."""
    collaborator = get_collaborator_or_404(collaborator_id)
    require(can_change_collaborator(current_user, collaborator))
    return collaborator


def get_unit_or_404(unit_id: int) -> AdminUnit:
    unit = db.session.get(AdminUnit, unit_id)
    if unit is None:
        abort(404)
    require(can_view_path(current_user, unit.path))
    return unit


def get_handover_or_404(handover_id: int) -> RegisterHandover:
    handover = db.session.get(RegisterHandover, handover_id)
    if handover is None:
        abort(404)
    require(can_view_path(current_user, handover.hamlet_path))
    return handover


def _refused(form, error: DomainError) -> int:
    """Undo everything the service did and show its message on the form; the HTTP status."""
    db.session.rollback()
    form.show_domain_error(error)
    return error.status


def _date_arg(name: str = "as_of") -> date:
    """A date from the query string (YYYY-MM-DD from a date input, or dd/mm/yyyy); today if
    absent, today with a warning if unreadable."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return date.today()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    flash(_("Ngày “%(d)s” không hợp lệ; đang hiển thị số liệu hôm nay.", d=raw[:20]), "warning")
    return date.today()


def _bool_arg(name: str) -> bool | None:
    return {"1": True, "0": False}.get(request.args.get(name, ""))


def _choice_arg(name: str, choices, default=None):
    value = request.args.get(name, "")
    return value if value in choices else default


def _hamlet_choices(exclude=()) -> dict:
    """Hamlets in force today where the user may assign collaborators, grouped by commune."""
    prefixes = scope_of(current_user).prefixes_for(ASSIGNMENT_ROLES)
    commune = aliased(AdminUnit)
    rows = db.session.execute(
        select(AdminUnit.id, AdminUnit.name, commune.full_name).join(commune, commune.id == AdminUnit.parent_id)
        .where(AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, date.today()), path_filter(prefixes))
        .order_by(commune.search_text, commune.id, AdminUnit.local_id, AdminUnit.search_text)).all()
    groups: dict = {"": [SelectChoice("", _("— Chọn thôn/tổ dân phố —"))]}
    for hamlet_id, name, commune_name in rows:
        if hamlet_id not in exclude:
            groups.setdefault(commune_name, []).append(SelectChoice(hamlet_id, name))
    return groups


def _unit_id_of(path: str) -> int:
    return int(path.strip("/").split("/")[-1])


def _list_page(items: list, page: int, per_page: int = PER_PAGE) -> services.RosterPage:
    """A page over a computed list (quota rows), with the roster's pagination interface."""
    last = max(1, -(-len(items) // per_page))
    page = min(max(1, page), last)
    return services.RosterPage(items[(page - 1) * per_page: page * per_page], len(items), page, per_page)


# --- roster ---------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """The user's areas: straight to the roster when there is one, else a list to choose from."""
    prefixes = scope_of(current_user).prefixes
    if len(prefixes) == 1:
        return redirect(url_for(".roster", unit_id=_unit_id_of(prefixes[0])))
    units = list(db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_([_unit_id_of(p) for p in prefixes]))
                                    .order_by(AdminUnit.path)))
    today = date.today()
    centres = sorted({g.facility.id: g.facility for g in _actor().grants
                      if g.valid_on(today) and g.facility is not None
                      and g.facility.kind == FacilityKind.HEALTH_CENTRE.value}.values(), key=lambda f: f.name)
    return render_template("collaborators/index.html", units=units, centres=centres)


def _roster_filters() -> services.RosterFilters:
    return services.RosterFilters(
        as_of=_date_arg(), status=_choice_arg("status", services.ROSTER_STATUSES),
        hamlet_type=_choice_arg("hamlet_type", HAMLET_TYPES), difficult=_bool_arg("difficult"), vhw=_bool_arg("vhw"),
        tenure=_choice_arg("tenure", services.TENURES), q=request.args.get("q", "").strip()[:100] or None,
        sort=_choice_arg("sort", services.SORTS, "name"))


def _render_roster(prefixes: list[str], filters: services.RosterFilters, *, title: str,
                   unit: AdminUnit | None = None, facility: Facility | None = None,
                   communes: list[AdminUnit] | None = None):
    page = services.roster_page(prefixes, filters, page=request.args.get("page", 1, type=int), per_page=PER_PAGE)
    return render_template("collaborators/roster.html", page=page, filters=filters, title=title, unit=unit,
                           facility=facility, communes=communes or [], hamlet_types=HAMLET_TYPES,
                           type_label=type_label)


@bp.get("/roster/<int:unit_id>")
@login_required
def roster(unit_id: int):
    """The roster of a commune, a province or any unit in the user's area, as of a date."""
    unit = get_unit_or_404(unit_id)
    return _render_roster([unit.path], _roster_filters(), title=unit.full_name, unit=unit)


@bp.get("/roster/centre/<int:facility_id>")
@login_required
def centre_roster(facility_id: int):
    """The roster of the communes a facility (an area health centre) serves on the date. The
    user must reach every commune it serves today; past communes outside the user's area are
    left out."""
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        abort(404)
    served_now = served_units(facility, date.today())
    require(bool(served_now) and all(can_view_path(current_user, u.path) for u in served_now))
    filters = _roster_filters()
    served = [u for u in served_units(facility, filters.as_of) if can_view_path(current_user, u.path)]
    return _render_roster([u.path for u in served], filters, title=facility.name, facility=facility,
                          communes=served)


# --- quota ----------------------------------------------------------------------------------------


@bp.get("/quota/<int:unit_id>")
@login_required
def quota(unit_id: int):
    """Quota status of every hamlet under a unit as of a date, flags coloured, printable."""
    unit = get_unit_or_404(unit_id)
    as_of = _date_arg()
    rows = services.quota_status(unit, as_of=as_of)
    totals = services.quota_totals(rows)
    flag = _choice_arg("flag", FLAG_LABELS)
    shown = [r for r in rows if r.flag == flag] if flag else rows
    show_all = request.args.get("all") == "1"
    page = _list_page(shown, request.args.get("page", 1, type=int), per_page=max(len(shown), 1) if show_all
                      else PER_PAGE)
    return render_template("collaborators/quota.html", unit=unit, as_of=as_of, page=page, totals=totals, flag=flag,
                           show_all=show_all)


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
        return _("Từ %(a)s sang %(b)s, từ ngày %(d)s", a=before.get("hamlet", "—"), b=after.get("hamlet", "—"),
                 d=_iso(after.get("on")))
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
    return ""


def _event_label(action: str) -> str:
    return action_label(action)


@bp.get("/<int:collaborator_id>")
@login_required
def show(collaborator_id: int):
    collaborator = get_collaborator_or_404(collaborator_id)
    today = date.today()
    status = services.status_on(collaborator, today)
    current = services.open_assignments(collaborator)
    may_change = can_change_collaborator(current_user, collaborator)
    home = home_assignment(collaborator, today)
    policy = policy_for(province_id_of(home.hamlet_path), today) if home else None
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
        can_view_application=can_view_application(current_user, application), policy=policy)


# --- actions --------------------------------------------------------------------------------------


def _render_action(action: str, collaborator: Collaborator, form, status: int = 200, **extra):
    return render_template("collaborators/action.html", action=action, collaborator=collaborator, form=form,
                           current=services.open_assignments(collaborator),
                           suspension=services.open_suspension(collaborator),
                           status=services.status_on(collaborator, date.today()), **extra), status


def _done(collaborator: Collaborator, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".show", collaborator_id=collaborator.id))


@bp.route("/<int:collaborator_id>/transfer", methods=["GET", "POST"])
@login_required
def transfer(collaborator_id: int):
    collaborator = get_changeable_or_404(collaborator_id)
    form = TransferForm()
    form.hamlet.choices = _hamlet_choices(exclude={a.hamlet_id for a in services.open_assignments(collaborator)})
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        hamlet = db.session.get(AdminUnit, form.hamlet.data)
        try:
            services.transfer_collaborator(collaborator, hamlet, on=form.on.data, actor=_actor(),
                                           decision_ref=form.decision_ref.data, note=form.note.data)
        except DomainError as e:
            status = _refused(form, e)
        else:
            return _done(collaborator, _("Đã điều chuyển %(n)s sang %(h)s từ ngày %(d)s.", n=collaborator.full_name,
                                         h=hamlet.name, d=form.on.data.strftime("%d/%m/%Y")))
    return _render_action("transfer", collaborator, form, status)


@bp.route("/<int:collaborator_id>/add-hamlet", methods=["GET", "POST"])
@login_required
def add_hamlet(collaborator_id: int):
    collaborator = get_changeable_or_404(collaborator_id)
    form = AddHamletForm()
    form.hamlet.choices = _hamlet_choices(exclude={a.hamlet_id for a in services.open_assignments(collaborator)})
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        hamlet = db.session.get(AdminUnit, form.hamlet.data)
        try:
            services.add_hamlet(collaborator, hamlet, on=form.on.data, actor=_actor(),
                                decision_ref=form.decision_ref.data)
        except DomainError as e:
            status = _refused(form, e)
        else:
            return _done(collaborator, _("%(n)s kiêm nhiệm thêm %(h)s từ ngày %(d)s.", n=collaborator.full_name,
                                         h=hamlet.name, d=form.on.data.strftime("%d/%m/%Y")))
    home = home_assignment(collaborator)
    policy = policy_for(province_id_of(home.hamlet_path)) if home else None
    return _render_action("add_hamlet", collaborator, form, status, policy=policy)


@bp.post("/assignments/<int:assignment_id>/end-cover")
@login_required
def end_cover(assignment_id: int):
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    collaborator = get_collaborator_or_404(assignment.collaborator_id)
    require(can_change_assignments(current_user, assignment.hamlet))
    form = EndCoverForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return redirect(url_for(".show", collaborator_id=collaborator.id))
    try:
        services.end_additional_hamlet(assignment, on=form.on.data, actor=_actor())
    except DomainError as e:
        db.session.rollback()
        flash(str(e), "danger")
        return redirect(url_for(".show", collaborator_id=collaborator.id))
    return _done(collaborator, _("Đã kết thúc kiêm nhiệm %(h)s từ ngày %(d)s.", h=assignment.hamlet.name,
                                 d=form.on.data.strftime("%d/%m/%Y")))


@bp.route("/<int:collaborator_id>/suspend", methods=["GET", "POST"])
@login_required
def suspend(collaborator_id: int):
    collaborator = get_changeable_or_404(collaborator_id)
    form = SuspendForm()
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            services.suspend_collaborator(collaborator, on=form.on.data, reason=form.reason.data, actor=_actor())
        except DomainError as e:
            status = _refused(form, e)
        else:
            return _done(collaborator, _("Đã tạm đình chỉ %(n)s từ ngày %(d)s.", n=collaborator.full_name,
                                         d=form.on.data.strftime("%d/%m/%Y")))
    return _render_action("suspend", collaborator, form, status)


@bp.route("/<int:collaborator_id>/reinstate", methods=["GET", "POST"])
@login_required
def reinstate(collaborator_id: int):
    collaborator = get_changeable_or_404(collaborator_id)
    form = ReinstateForm()
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            services.reinstate_collaborator(collaborator, on=form.on.data, actor=_actor(), note=form.note.data)
        except DomainError as e:
            status = _refused(form, e)
        else:
            return _done(collaborator, _("%(n)s hoạt động trở lại từ ngày %(d)s.", n=collaborator.full_name,
                                         d=form.on.data.strftime("%d/%m/%Y")))
    return _render_action("reinstate", collaborator, form, status)


@bp.route("/<int:collaborator_id>/terminate", methods=["GET", "POST"])
@login_required
def terminate(collaborator_id: int):
    collaborator = get_changeable_or_404(collaborator_id)
    form = TerminateForm()
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            handovers = services.terminate_collaborator(collaborator, on=form.on.data, reason=form.reason.data,
                                                        actor=_actor(), note=form.note.data)
        except DomainError as e:
            status = _refused(form, e)
        else:
            message = _("%(n)s nghỉ việc từ ngày %(d)s.", n=collaborator.full_name, d=form.on.data.strftime("%d/%m/%Y"))
            if handovers:
                message += " " + _("%(h)s không còn cộng tác viên: đã đưa vào danh sách cần tuyển; hãy ghi nhận bàn "
                                   "giao Sổ A0.", h=", ".join(h.hamlet.name for h in handovers))
            return _done(collaborator, message)
    return _render_action("terminate", collaborator, form, status)


# --- hand-overs -----------------------------------------------------------------------------------


@bp.get("/handovers")
@login_required
def handovers():
    """Sổ A0 hand-overs still to record in the user's area."""
    stmt = services.pending_handovers_query(scope_of(current_user).prefixes)
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
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
    handover = get_handover_or_404(handover_id)
    if request.method == "POST":
        require(can_record_at(current_user, handover.hamlet))
    form = HandoverForm()
    form.to_collaborator.choices = _successor_choices(handover)
    status = 422 if form.is_submitted() else 200
    if form.validate_on_submit():
        successor = db.session.get(Collaborator, form.to_collaborator.data) if form.to_collaborator.data else None
        try:
            services.record_handover(handover, handed_on=form.handed_on.data, received_by=form.received_by.data,
                                     to_collaborator=successor, note=form.note.data, actor=_actor())
        except DomainError as e:
            status = _refused(form, e)
        else:
            db.session.commit()
            flash(_("Đã ghi nhận bàn giao Sổ A0 của %(h)s.", h=handover.hamlet.name), "success")
            return redirect(url_for(".handovers"))
    may_record = handover.handed_on is None and can_record_at(current_user, handover.hamlet)
    return render_template("collaborators/handover.html", handover=handover, form=form,
                           may_record=may_record), status

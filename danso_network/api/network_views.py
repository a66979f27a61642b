"""The collaborator-network part of the JSON API (issue #4 item 9): roster reads, profiles,
assignment changes, quota status, supervision visits, overdue visits and follow-ups, monthly
meetings (giao ban) and the under-review list.

Registered on the same blueprint as :mod:`.views` (so the bearer tokens, the CSRF exemption and
the JSON error handlers apply) and imported from it. Same flow as every API view: authenticate →
load the object (404 unknown) and check scope with the predicate the HTML views use (403) →
parse the body's shape → ONE service call → commit once → serialise. Lists are read as of a date
(``as_of``, default today), since the network's history is dated.
"""

from __future__ import annotations

from datetime import date

from flask import jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.permissions import scope_of
from ..collaborators import services as network
from ..collaborators.models import Assignment, AssignmentKind, Collaborator, RegisterHandover
from ..collaborators.permissions import (
    can_change_assignments,
    can_change_collaborator,
    can_record_at,
    can_record_for_collaborator,
    can_view_collaborator,
)
from ..common.clock import today
from ..common.paging import paginate
from ..common.views import load_or_404
from ..errors import PermissionDenied
from ..extensions import db
from ..recruitment.services import provinces_without_criteria
from ..supervision import services as supervision
from ..supervision.models import SupervisionVisit
from ..supervision.permissions import can_close_follow_up, can_view_visit
from ..units.models import AdminUnit, UnitLevel
from . import auth, network_schemas, schemas
from .permissions import can_see_personal_data, personal_data_areas
from .views import actor, bp, hamlet_or_404

# --- loading and scope --------------------------------------------------------------------------


def unit_or_404(unit_id: int) -> AdminUnit:
    return load_or_404(AdminUnit, unit_id, missing=_l("Không tìm thấy đơn vị hành chính."))


def commune_or_404(commune_id: int) -> AdminUnit:
    return load_or_404(AdminUnit, commune_id, missing=_l("Không tìm thấy xã/phường/đặc khu."),
                       where=lambda u: u.level == UnitLevel.COMMUNE)


def area_of(unit: AdminUnit) -> list[str]:
    """The part of ``unit`` the caller reaches: the whole unit when their scope covers it, else
    the parts of their scope inside it (a centre officer asking for the province gets the
    communes the centre serves; an old district partly merged into a station's commune, the old
    communes it was formed from). Nothing in common: 403."""
    scope = scope_of(actor())
    if scope.roles_at(unit.path):
        return [unit.path]
    inside = [p for p in scope.read_prefixes if p.startswith(unit.path)]
    if not inside:
        raise PermissionDenied(_l("%(u)s nằm ngoài phạm vi của bạn.", u=unit.full_name))
    return inside


def area(unit_id: int) -> tuple[AdminUnit, list[str]]:
    unit = unit_or_404(unit_id)
    return unit, area_of(unit)


def collaborator_or_404(collaborator_id: int, need=can_view_collaborator) -> Collaborator:
    return load_or_404(Collaborator, collaborator_id, need, user=actor(), missing=_l("Không tìm thấy cộng tác viên."),
                       denied=_l("Bạn không có quyền xem hoặc thay đổi hồ sơ cộng tác viên này."))


def assignment_or_404(assignment_id: int) -> Assignment:
    found = load_or_404(Assignment, assignment_id, missing=_l("Không tìm thấy phân công."))
    if not can_change_assignments(actor(), found.hamlet):
        raise PermissionDenied(_l("Bạn không có quyền thay đổi phân công tại %(h)s.", h=found.hamlet.full_name))
    return found


def visit_or_404(visit_id: int, need=can_view_visit) -> SupervisionVisit:
    return load_or_404(SupervisionVisit, visit_id, need, user=actor(), missing=_l("Không tìm thấy lần giám sát."),
                       denied=_l("Bạn không có quyền xem hoặc thay đổi lần giám sát này."))


def as_of() -> date:
    return schemas.query_date("as_of", today())


# --- roster, profile, quota ---------------------------------------------------------------------


def roster_filters(on: date) -> network.RosterFilters:
    q = request.args.get("q", "").strip()[:network_schemas.Q_MAX] or None
    return network.RosterFilters(
        as_of=on, status=schemas.query_choice("status", network.ROSTER_STATUSES),
        hamlet_type=schemas.query_choice("hamlet_type", network_schemas.HAMLET_TYPES),
        difficult=schemas.query_bool("difficult"), vhw=schemas.query_bool("vhw"),
        tenure=schemas.query_choice("tenure", network.TENURES), q=q,
        sort=schemas.query_choice("sort", network.SORTS) or "name", cccd_areas=tuple(personal_data_areas(actor())))


@bp.get("/units/<int:unit_id>/collaborators")
@auth.token_required
def roster(unit_id: int):
    unit, prefixes = area(unit_id)
    on = as_of()
    filters = roster_filters(on)
    page, per_page = schemas.query_page()
    found = network.roster_page(prefixes, filters, page, per_page)
    user = actor()
    return jsonify(unit=schemas.unit(unit), as_of=on.isoformat(), **schemas.page_json(
        found, lambda r: network_schemas.roster_row(r, can_see_personal_data(user, [r.hamlet_path]))))


def profile(collaborator: Collaborator, on: date | None = None) -> dict:
    on = on or today()
    user = actor()
    handovers = db.session.scalars(select(RegisterHandover).where(
        RegisterHandover.from_collaborator_id == collaborator.id).order_by(RegisterHandover.requested_on,
                                                                           RegisterHandover.id))
    can = {"change_assignments": can_change_collaborator(user, collaborator),
           "record_visits": can_record_for_collaborator(user, collaborator)}
    return network_schemas.profile(
        collaborator, on=on, status=network.status_on(collaborator, on),
        current=network.current_assignments(collaborator, on), handovers=list(handovers),
        personal=can_see_personal_data(user, {a.hamlet_path for a in collaborator.assignments}), can=can)


@bp.get("/collaborators/<int:collaborator_id>")
@auth.token_required
def collaborator(collaborator_id: int):
    found = collaborator_or_404(collaborator_id)
    return jsonify(profile(found, as_of()))


@bp.get("/units/<int:unit_id>/quota")
@auth.token_required
def quota(unit_id: int):
    """Quota status of the hamlets of the caller's part of the unit: one page, and the totals of
    the whole part (both counted by the database). ``no_criteria`` lists the provinces with no
    recruitment criteria in force on the date: their hamlets' quota is null."""
    unit, prefixes = area(unit_id)
    on = as_of()
    page, per_page = schemas.query_page()
    totals = network.quota_summary(prefixes, as_of=on)
    found = network.quota_page(prefixes, as_of=on, page=page, per_page=per_page, totals=totals)
    return jsonify(unit=schemas.unit(unit), as_of=on.isoformat(), **schemas.page_json(found, network_schemas.quota_row),
                   totals=network_schemas.quota_totals(totals),
                   no_criteria=[schemas.unit(p) for p in provinces_without_criteria(prefixes, on)])


# --- assignment changes -------------------------------------------------------------------------


def changed(collaborator: Collaborator, **extra):
    """After an action: the profile as of today, plus what the action made."""
    return jsonify(collaborator=profile(collaborator), **extra)


def handovers_of(*assignments: Assignment) -> list[dict]:
    ids = [a.id for a in assignments if a is not None]
    if not ids:
        return []
    return [network_schemas.handover(h) for h in db.session.scalars(
        select(RegisterHandover).where(RegisterHandover.assignment_id.in_(ids)).order_by(RegisterHandover.id))]


def _primary(collaborator: Collaborator) -> Assignment | None:
    return next((a for a in network.open_assignments(collaborator) if a.kind == AssignmentKind.PRIMARY), None)


@bp.post("/collaborators/<int:collaborator_id>/transfer")
@auth.token_required
def transfer(collaborator_id: int):
    found = collaborator_or_404(collaborator_id, need=can_change_collaborator)
    data = schemas.parse(network_schemas.TRANSFER)
    hamlet = hamlet_or_404(data["hamlet_id"])
    left = _primary(found)
    new = network.transfer_collaborator(found, hamlet, on=data["on"], actor=actor(),
                                        decision_ref=data.get("decision_ref"), note=data.get("note"),
                                        residence=data.get("residence"),
                                        residence_exception=data.get("residence_exception"))
    db.session.commit()
    return changed(found, assignment=network_schemas.assignment(new), handovers=handovers_of(left))


@bp.post("/collaborators/<int:collaborator_id>/add-hamlet")
@auth.token_required
def add_hamlet(collaborator_id: int):
    found = collaborator_or_404(collaborator_id, need=can_change_collaborator)
    data = schemas.parse(network_schemas.ADD_HAMLET)
    hamlet = hamlet_or_404(data["hamlet_id"])
    new = network.add_hamlet(found, hamlet, on=data["on"], actor=actor(), decision_ref=data.get("decision_ref"))
    db.session.commit()
    return changed(found, assignment=network_schemas.assignment(new))


@bp.post("/assignments/<int:assignment_id>/end-cover")
@auth.token_required
def end_cover(assignment_id: int):
    found = assignment_or_404(assignment_id)
    data = schemas.parse(network_schemas.END_COVER)
    network.end_additional_hamlet(found, on=data["on"], actor=actor(), note=data.get("note"))
    db.session.commit()
    return changed(found.collaborator, assignment=network_schemas.assignment(found), handovers=handovers_of(found))


@bp.post("/collaborators/<int:collaborator_id>/suspend")
@auth.token_required
def suspend(collaborator_id: int):
    found = collaborator_or_404(collaborator_id, need=can_change_collaborator)
    data = schemas.parse(network_schemas.SUSPEND)
    made = network.suspend_collaborator(found, on=data["on"], reason=data["reason"], actor=actor())
    db.session.commit()
    return changed(found, suspension=network_schemas.suspension(made))


@bp.post("/collaborators/<int:collaborator_id>/reinstate")
@auth.token_required
def reinstate(collaborator_id: int):
    found = collaborator_or_404(collaborator_id, need=can_change_collaborator)
    data = schemas.parse(network_schemas.REINSTATE)
    ended = network.reinstate_collaborator(found, on=data["on"], actor=actor(), note=data.get("note"))
    db.session.commit()
    return changed(found, suspension=network_schemas.suspension(ended))


@bp.post("/collaborators/<int:collaborator_id>/terminate")
@auth.token_required
def terminate(collaborator_id: int):
    found = collaborator_or_404(collaborator_id, need=can_change_collaborator)
    data = schemas.parse(network_schemas.TERMINATE)
    handovers = network.terminate_collaborator(found, on=data["on"], reason=data["reason"], actor=actor(),
                                               note=data.get("note"))
    db.session.commit()
    return changed(found, handovers=[network_schemas.handover(h) for h in handovers])


# --- supervision visits -------------------------------------------------------------------------


@bp.get("/collaborators/<int:collaborator_id>/visits")
@auth.token_required
def collaborator_visits(collaborator_id: int):
    """Every visit to the collaborator, newest first: whoever sees the profile sees its visits."""
    collaborator = collaborator_or_404(collaborator_id)
    found = paginate(supervision.visits_of(collaborator), *schemas.query_page())
    return jsonify(schemas.page_json(found, network_schemas.visit,
                                     collaborator=network_schemas.person_ref(collaborator.id, collaborator.full_name),
                                     checklist_items=network_schemas.checklist_items()))


@bp.post("/collaborators/<int:collaborator_id>/visits")
@auth.token_required
def record_visit(collaborator_id: int):
    collaborator = collaborator_or_404(collaborator_id, need=can_record_for_collaborator)
    data = schemas.parse(network_schemas.VISIT_CREATE)
    visit = supervision.record_visit(collaborator, supervisor=actor(), actor=actor(), **data)
    db.session.commit()
    return jsonify(network_schemas.visit(visit)), 201, {"Location": url_for(".visit", visit_id=visit.id)}


@bp.get("/visits/<int:visit_id>")
@auth.token_required
def visit(visit_id: int):
    return jsonify(network_schemas.visit(visit_or_404(visit_id)))


@bp.post("/visits/<int:visit_id>/close-follow-up")
@auth.token_required
def close_follow_up(visit_id: int):
    found = visit_or_404(visit_id, need=can_close_follow_up)
    data = schemas.parse(network_schemas.FOLLOW_UP_CLOSE)
    supervision.close_follow_up(found, closed_on=data["closed_on"], result=data["result"], actor=actor())
    db.session.commit()
    return jsonify(network_schemas.visit(found))


@bp.get("/units/<int:unit_id>/overdue-visits")
@auth.token_required
def overdue_visits(unit_id: int):
    unit, prefixes = area(unit_id)
    on = as_of()
    found = supervision.overdue_page(prefixes, on, *schemas.query_page())
    return jsonify(schemas.page_json(found, network_schemas.overdue, unit=schemas.unit(unit), as_of=on.isoformat()))


@bp.get("/units/<int:unit_id>/follow-ups")
@auth.token_required
def open_follow_ups(unit_id: int):
    unit, prefixes = area(unit_id)
    on = as_of()
    found = supervision.open_follow_ups_page(prefixes, on, *schemas.query_page())
    _open, late = supervision.follow_up_counts(prefixes, on)
    return jsonify(schemas.page_json(found, network_schemas.follow_up, unit=schemas.unit(unit), as_of=on.isoformat(),
                                     overdue=late))


# --- monthly meetings and the under-review list -------------------------------------------------


@bp.get("/communes/<int:commune_id>/meetings")
@auth.token_required
def meetings(commune_id: int):
    commune = commune_or_404(commune_id)
    area_of(commune)
    found = supervision.meetings_page(commune, *schemas.query_page())
    return jsonify(schemas.page_json(found, network_schemas.meeting_summary, commune=schemas.unit(commune)))


@bp.get("/communes/<int:commune_id>/meetings/<month>")
@auth.token_required
def meeting(commune_id: int, month: str):
    commune = commune_or_404(commune_id)
    area_of(commune)
    first = network_schemas.parse_month(month)
    return jsonify(network_schemas.meeting_sheet(commune, first, supervision.get_meeting(commune, first),
                                                 supervision.meeting_roster(commune, first)))


@bp.put("/communes/<int:commune_id>/meetings/<month>")
@auth.token_required
def record_meeting(commune_id: int, month: str):
    commune = commune_or_404(commune_id)
    if not can_record_at(actor(), commune):
        raise PermissionDenied(_l("Bạn không được ghi giao ban của %(c)s.", c=commune.full_name))
    first = network_schemas.parse_month(month)
    data = schemas.parse(network_schemas.MEETING_PUT)
    created = supervision.get_meeting(commune, first) is None
    found = supervision.record_meeting(commune, month=first, held_on=data["held_on"], attendance=data["attendance"],
                                       note=data.get("note"), actor=actor())
    db.session.commit()
    body = network_schemas.meeting_sheet(commune, first, found, supervision.meeting_roster(commune, first))
    return jsonify(body), 201 if created else 200


@bp.get("/units/<int:unit_id>/under-review")
@auth.token_required
def under_review(unit_id: int):
    unit, prefixes = area(unit_id)
    on = as_of()
    found = supervision.under_review_page(prefixes, on, *schemas.query_page())
    return jsonify(schemas.page_json(found, network_schemas.review, unit=schemas.unit(unit), as_of=on.isoformat()))


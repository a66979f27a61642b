"""The collaborator network over time: transfers, extra hamlets, suspensions, terminations and the
hand-over of the household register; status and quota as of any date; the roster.

Every action is one function: guard → change → audit record → flush; never commits (DESIGN.md §4).
History is appended, never edited: an assignment is closed (``ended_on`` + reason) and a new one
opened (DESIGN.md §4 rule 5). Dates are half-open: a record is in force on ``d`` when
``started_on <= d < ended_on``. Every date is an explicit argument (``on``, ``as_of``) so the
past can be recorded and asked about; only "not in the future" looks at today.

``actor`` is the user acting; ``None`` means the system (CLI, demo seed), which is not
scope-checked — the web views and the API always pass the logged-in user.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import wraps

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, defer, selectinload
from sqlalchemy.sql.selectable import Join

from ..audit.services import record
from ..common.clock import now, today
from ..common.paging import PER_PAGE, Page, clamp, paginate
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..extensions import db
from ..recruitment.models import Candidate
from ..recruitment.services import bands_in_force, below_quota, check_national_id, quota_sql
from ..textnorm import fold, is_ascii_digits
from ..units.models import AdminUnit, UnitLevel
from ..units.services import bytewise, in_areas, is_postgresql, valid_on
from .labels import DUTY_WORK
from .models import (
    TERMINATION_REASONS,
    Assignment,
    AssignmentKind,
    Collaborator,
    CollaboratorDuty,
    DutyKind,
    EndReason,
    RegisterHandover,
    Suspension,
)
from .permissions import can_change_assignments, can_change_collaborator, can_record_at, home_assignment
from .policy import policy_for, province_id_of

CONCURRENT_CHANGE = _l("Hồ sơ cộng tác viên vừa được người khác thay đổi. Vui lòng tải lại trang để xem tình trạng mới.")


class Status(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"
    NOT_STARTED = "not_started"


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _guard_race(service):
    """The database's own guards (one open assignment per person and hamlet, one open
    suspension per person) catching what another user wrote between our checks and our write:
    the same refusal, seen later — a Conflict, not a 500."""

    @wraps(service)
    def guarded(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except IntegrityError:
            raise Conflict(CONCURRENT_CHANGE) from None

    return guarded


def open_on(model, day: date):
    """SQL condition: a dated record (assignment, suspension) is in force on ``day``."""
    return and_(model.started_on <= day, or_(model.ended_on.is_(None), model.ended_on > day))


# --- reading one collaborator ---------------------------------------------------------------------


def current_assignments(collaborator: Collaborator, day: date) -> list[Assignment]:
    """The assignments in force on ``day``, the primary one first."""
    rows = [a for a in collaborator.assignments if a.open_on(day)]
    return sorted(rows, key=lambda a: (a.kind != AssignmentKind.PRIMARY, a.started_on, a.id))


def status_on(collaborator: Collaborator, day: date) -> str:
    """``not_started`` before the first assignment; ``ended`` when none is in force (and one
    began before); ``suspended`` when a suspension is in force; else ``active``."""
    started = [a for a in collaborator.assignments if a.started_on <= day]
    if not started:
        return Status.NOT_STARTED
    if not any(a.open_on(day) for a in started):
        return Status.ENDED
    if any(s.open_on(day) for s in collaborator.suspensions):
        return Status.SUSPENDED
    return Status.ACTIVE


def open_assignments(collaborator: Collaborator) -> list[Assignment]:
    """Assignments not closed yet (``ended_on`` NULL), the primary one first."""
    rows = [a for a in collaborator.assignments if a.ended_on is None]
    return sorted(rows, key=lambda a: (a.kind != AssignmentKind.PRIMARY, a.started_on, a.id))


def open_suspension(collaborator: Collaborator) -> Suspension | None:
    return next((s for s in collaborator.suspensions if s.ended_on is None), None)


def is_terminated(collaborator: Collaborator) -> bool:
    return bool(collaborator.assignments) and not open_assignments(collaborator)


def last_end(collaborator: Collaborator) -> date | None:
    ends = [a.ended_on for a in collaborator.assignments if a.ended_on is not None]
    return max(ends) if ends else None


def tenure_years(since: date | None, as_of: date) -> int | None:
    """Whole years served from ``since`` to ``as_of``: ``n`` once ``since`` is on or before the
    date ``n`` years before ``as_of`` (so a start on 29 February completes its year on 1 March
    in common years). The roster's tenure filter uses the same cut-off."""
    if since is None or since > as_of:
        return None
    years = as_of.year - since.year
    return years - 1 if years and _years_before(as_of, years) < since else years


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


# --- guards ---------------------------------------------------------------------------------------


def _not_future(on: date | None, field: str = "on") -> None:
    if on is None:
        raise ValidationFailed(_l("Vui lòng nhập ngày."), field=field)
    if on > today():
        raise ValidationFailed(_l("Ngày %(d)s chưa đến: chỉ ghi nhận việc đã xảy ra, không chọn ngày trong tương lai.",
                                  d=_d(on)), field=field)


def _require_change(actor, collaborator: Collaborator) -> None:
    if actor is not None and not can_change_collaborator(actor, collaborator):
        raise PermissionDenied(_l("Bạn không có quyền thay đổi phân công của cộng tác viên %(n)s (ngoài địa bàn "
                                  "bạn quản lý, hoặc vai trò của bạn chỉ được xem).", n=collaborator.full_name))


def _require_hamlet(hamlet: AdminUnit | None, on: date) -> AdminUnit:
    if hamlet is None:
        raise ValidationFailed(_l("Vui lòng chọn thôn/tổ dân phố."), field="hamlet")
    if hamlet.level != UnitLevel.HAMLET:
        raise ValidationFailed(_l("%(u)s không phải là thôn/tổ dân phố.", u=hamlet.full_name), field="hamlet")
    if not hamlet.valid_on(on):
        raise ValidationFailed(_l("%(h)s không có hiệu lực vào ngày %(d)s.", h=hamlet.full_name, d=_d(on)),
                               field="hamlet")
    return hamlet


def _require_in_scope(actor, hamlet: AdminUnit) -> None:
    if actor is not None and not can_change_assignments(actor, hamlet):
        raise PermissionDenied(_l("%(h)s (%(c)s) nằm ngoài địa bàn bạn được phân quyền phân công cộng tác viên; "
                                  "không có gì được thay đổi.", h=hamlet.name,
                                  c=hamlet.parent.full_name if hamlet.parent else ""), field="hamlet")


def _require_serving(collaborator: Collaborator, *, allow_suspended: bool = False) -> list[Assignment]:
    """The open assignments; refuses someone who has left, or (unless allowed) is suspended."""
    current = open_assignments(collaborator)
    if not current:
        ended = last_end(collaborator)
        raise Conflict(_l("%(n)s đã nghỉ việc từ ngày %(d)s.", n=collaborator.full_name, d=_d(ended) if ended else "—"))
    suspension = open_suspension(collaborator)
    if suspension is not None and not allow_suspended:
        raise Conflict(_l("%(n)s đang bị tạm đình chỉ từ ngày %(d)s; hãy cho hoạt động trở lại trước.",
                          n=collaborator.full_name, d=_d(suspension.started_on)))
    return current


# --- hand-over of the household register (Sổ A0) ------------------------------------------------


def _request_handovers(closed: Sequence[Assignment], on: date, actor) -> list[RegisterHandover]:
    """For each closed assignment whose hamlet is left with nobody on ``on``: an open request to
    hand over the hamlet's Sổ A0 (TT 01/2022/TT-BYT: the collaborator keeps the register;
    DOMAIN.md §7.2 proposes the hand-over to the station or the successor)."""
    db.session.flush()
    made = []
    for assignment in closed:
        left = db.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.hamlet_id == assignment.hamlet_id, open_on(Assignment, on))) or 0
        if left:
            continue
        handover = RegisterHandover(hamlet_id=assignment.hamlet_id, hamlet_path=assignment.hamlet_path,
                                    from_collaborator_id=assignment.collaborator_id, assignment_id=assignment.id,
                                    requested_on=on)
        db.session.add(handover)
        made.append((handover, assignment))
    if made:
        db.session.flush()
    for handover, assignment in made:
        record("handover.open", handover, label=assignment.hamlet.name, unit_path=assignment.hamlet_path,
               after={"hamlet_id": assignment.hamlet_id, "from_collaborator_id": assignment.collaborator_id,
                      "assignment_id": assignment.id, "requested_on": on}, actor=actor)
    return [h for h, _ in made]


def pending_handovers_query(prefixes: Sequence[str]):
    """A select of the hand-overs not yet recorded in the given areas, oldest request first."""
    return (select(RegisterHandover)
            .where(RegisterHandover.handed_on.is_(None), in_areas(prefixes, RegisterHandover.hamlet_path))
            .options(selectinload(RegisterHandover.hamlet).selectinload(AdminUnit.parent),
                     selectinload(RegisterHandover.from_collaborator).selectinload(Collaborator.candidate))
            .order_by(RegisterHandover.requested_on, RegisterHandover.id))


def pending_handovers(prefixes: Sequence[str]) -> list[RegisterHandover]:
    return list(db.session.scalars(pending_handovers_query(prefixes)))


def record_handover(handover: RegisterHandover, *, handed_on: date, received_by: str | None,
                    to_collaborator: Collaborator | None = None, note: str | None = None,
                    actor) -> RegisterHandover:
    """Record that the hamlet's Sổ A0 was handed over (to the station or to the successor): on or
    after the request, not in the future, once (TT 01/2022/TT-BYT; DOMAIN.md §7.2, a proposal).
    A successor named must be serving in that hamlet on the day."""
    if handover.handed_on is not None:
        raise Conflict(_l("Việc bàn giao Sổ A0 của %(h)s đã được ghi nhận ngày %(d)s.", h=handover.hamlet.name,
                          d=_d(handover.handed_on)))
    if actor is not None and not can_record_at(actor, handover.hamlet):
        raise PermissionDenied(_l("Bạn không có quyền ghi nhận bàn giao sổ tại %(h)s.", h=handover.hamlet.full_name))
    _not_future(handed_on, "handed_on")
    if handed_on < handover.requested_on:
        raise ValidationFailed(_l("Ngày bàn giao (%(d)s) không được trước ngày phát sinh yêu cầu (%(r)s).",
                                  d=_d(handed_on), r=_d(handover.requested_on)), field="handed_on")
    received_by = " ".join((received_by or "").split())
    if to_collaborator is not None:
        serving = any(a.hamlet_id == handover.hamlet_id and a.open_on(handed_on) for a in to_collaborator.assignments)
        if not serving:
            raise ValidationFailed(_l("%(n)s không phụ trách %(h)s vào ngày %(d)s.", n=to_collaborator.full_name,
                                      h=handover.hamlet.name, d=_d(handed_on)), field="to_collaborator")
        received_by = received_by or to_collaborator.full_name
    if not received_by:
        raise ValidationFailed(_l("Vui lòng ghi họ tên, chức vụ người nhận sổ."), field="received_by")
    handover.handed_on = handed_on
    handover.received_by = received_by[:200]
    handover.to_collaborator = to_collaborator
    handover.note = (note or "").strip() or None
    handover.recorded_by_id = getattr(actor, "id", None)
    db.session.flush()
    record("handover.record", handover, label=handover.hamlet.name, unit_path=handover.hamlet_path,
           after={"handed_on": handed_on, "received_by": handover.received_by,
                  "to_collaborator_id": getattr(to_collaborator, "id", None), "note": handover.note}, actor=actor)
    db.session.flush()
    return handover


# --- assignments ----------------------------------------------------------------------------------


def _new_assignment(collaborator: Collaborator, hamlet: AdminUnit, kind: AssignmentKind, on: date, actor, *,
                    decision_ref: str | None, allowance_tier: str | None = None) -> Assignment:
    assignment = Assignment(collaborator=collaborator, hamlet_id=hamlet.id, hamlet=hamlet, hamlet_path=hamlet.path,
                            kind=kind.value, started_on=on, decision_ref=(decision_ref or "").strip() or None,
                            allowance_tier=allowance_tier, created_at=now(), created_by_id=getattr(actor, "id", None))
    db.session.add(assignment)
    return assignment


def _close(assignment: Assignment, on: date, reason: EndReason, note: str | None) -> None:
    assignment.ended_on = on
    assignment.end_reason = reason.value
    assignment.end_note = (note or "").strip() or None


def _already_there(collaborator: Collaborator, hamlet: AdminUnit) -> Assignment | None:
    return next((a for a in collaborator.assignments if a.hamlet_id == hamlet.id and a.ended_on is None), None)


class Residence(enum.StrEnum):
    """What a transfer says when the new hamlet is not the collaborator's recorded residence:
    where they live from the transfer date (TT 02/2021/TT-BYT Art. 2.2: lives in the hamlet served)."""

    MOVES = "moves"  # moves to the new hamlet: recorded as the candidate's residence
    ELSEWHERE = "elsewhere"  # still lives elsewhere: a written exception, flagged


# As long as the written reason of an approval over a failed screening (recruitment.services._approve).
RESIDENCE_EXCEPTION_MIN = 10


def _residence_rule(collaborator: Collaborator, to_hamlet: AdminUnit, residence: str | None,
                    justification: str | None) -> tuple[bool, str | None]:
    """TT 02/2021/TT-BYT Art. 2.2: a collaborator lives in the hamlet served. A transfer to a
    hamlet where the recorded residence already is needs nothing. Otherwise the transfer says
    either that the person moves there (the residence is then recorded) or that they still live
    elsewhere, with a written justification of at least :data:`RESIDENCE_EXCEPTION_MIN`
    characters — an exception, like the primary-school one of Art. 2.1, stored on the new
    assignment and flagged. Neither: refused. Returns (moves, the exception's text or None)."""
    candidate = collaborator.candidate
    if candidate.residence_hamlet_id == to_hamlet.id:
        return False, None
    if residence == Residence.MOVES:
        return True, None
    if residence != Residence.ELSEWHERE:
        raise ValidationFailed(_l("Cộng tác viên phải sinh sống tại thôn phụ trách (Thông tư 02/2021/TT-BYT, Điều 2): "
                                  "%(n)s đang cư trú tại %(r)s. Hãy xác nhận chuyển đến sinh sống tại %(h)s, hoặc "
                                  "ghi giải trình ngoại lệ nơi cư trú.", n=collaborator.full_name,
                                  r=candidate.residence_hamlet.full_name, h=to_hamlet.name), field="residence")
    text = (justification or "").strip()
    if len(text) < RESIDENCE_EXCEPTION_MIN:
        raise ValidationFailed(_l("Giải trình ngoại lệ nơi cư trú cần ghi rõ lý do (ít nhất %(n)d ký tự).",
                                  n=RESIDENCE_EXCEPTION_MIN), field="residence_exception")
    return False, text


@_guard_race
def transfer_collaborator(collaborator: Collaborator, to_hamlet: AdminUnit, *, on: date, actor,
                          decision_ref: str | None = None, note: str | None = None, residence: str | None = None,
                          residence_exception: str | None = None) -> Assignment:
    """Move a collaborator to another hamlet: the open primary assignment closes on ``on``
    ("transferred") and a primary one opens in ``to_hamlet`` the same day (half-open dates, no
    gap, no overlap). Refused: a hamlet outside the actor's assignment scope, not a hamlet or not
    in force on the day, the same hamlet, someone who has left or is suspended, a date before the
    current assignment began or in the future; then the residence rule (TT 02/2021/TT-BYT Art.
    2.2, :func:`_residence_rule`): ``residence`` "moves" records ``to_hamlet`` as the candidate's
    residence from ``on`` (audited before/after); "elsewhere" stores ``residence_exception`` on
    the new assignment. A hamlet left without a collaborator gets a Sổ A0 hand-over request."""
    _not_future(on)
    _require_hamlet(to_hamlet, on)
    _require_in_scope(actor, to_hamlet)
    _require_change(actor, collaborator)
    _require_serving(collaborator)
    current = next((a for a in open_assignments(collaborator) if a.kind == AssignmentKind.PRIMARY), None)
    if current is None:
        raise Conflict(_l("%(n)s không có thôn chính đang phụ trách để điều chuyển.", n=collaborator.full_name))
    if to_hamlet.id == current.hamlet_id:
        raise ValidationFailed(_l("%(n)s đang phụ trách chính %(h)s; hãy chọn một thôn khác.",
                                  n=collaborator.full_name, h=to_hamlet.name), field="hamlet")
    if on < current.started_on:
        raise ValidationFailed(_l("Ngày điều chuyển (%(d)s) không được trước ngày bắt đầu phụ trách %(h)s (%(s)s).",
                                  d=_d(on), h=current.hamlet.name, s=_d(current.started_on)), field="on")
    if _already_there(collaborator, to_hamlet) is not None:
        raise Conflict(_l("%(n)s đang kiêm nhiệm %(h)s; hãy kết thúc kiêm nhiệm trước khi điều chuyển về thôn này.",
                          n=collaborator.full_name, h=to_hamlet.name), field="hamlet")
    moves, exception = _residence_rule(collaborator, to_hamlet, residence, residence_exception)
    _close(current, on, EndReason.TRANSFERRED, note)
    new = _new_assignment(collaborator, to_hamlet, AssignmentKind.PRIMARY, on, actor, decision_ref=decision_ref,
                          allowance_tier=current.allowance_tier)
    new.residence_exception = exception
    before = {"hamlet_id": current.hamlet_id, "hamlet": current.hamlet.name, "assignment_id": current.id}
    after = {"hamlet_id": to_hamlet.id, "hamlet": to_hamlet.name, "on": on, "decision_ref": new.decision_ref,
             "note": current.end_note, "residence_exception": exception}
    if moves:
        candidate = collaborator.candidate
        before |= _residence_of(candidate)
        candidate.residence_hamlet_id, candidate.residence_hamlet, candidate.resident_since = to_hamlet.id, to_hamlet, on
        after |= _residence_of(candidate)
    handovers = _request_handovers([current], on, actor)
    record("collaborator.transfer", collaborator, label=collaborator.full_name, unit_path=to_hamlet.path,
           before=before, after={**after, "assignment_id": new.id, "handovers": [h.id for h in handovers]}, actor=actor)
    db.session.flush()
    return new


def _residence_of(candidate: Candidate) -> dict:
    return {"residence_hamlet_id": candidate.residence_hamlet_id, "residence_hamlet": candidate.residence_hamlet.full_name,
            "resident_since": candidate.resident_since}


@_guard_race
def add_hamlet(collaborator: Collaborator, hamlet: AdminUnit, *, on: date, actor,
               decision_ref: str | None = None) -> Assignment:
    """Have a collaborator cover an additional hamlet (kiêm nhiệm) from ``on``, only where the
    province's network policy in force that day allows it (province setting; TT 02/2021/TT-BYT
    places one collaborator per hamlet and leaves the rest to the province). Refused outside the
    actor's scope, for someone who has left or is suspended, for a hamlet already covered by
    them, before they began, or in the future.

    No residence is asked (unlike :func:`transfer_collaborator`): the residence rule of TT
    02/2021/TT-BYT Art. 2.2 concerns the collaborator's own hamlet, which stays the primary one;
    a kiêm nhiệm hamlet is by nature one they do not live in (no one lives in two hamlets), and
    the province that allows it accepts that."""
    _not_future(on)
    _require_hamlet(hamlet, on)
    _require_in_scope(actor, hamlet)
    _require_change(actor, collaborator)
    policy = policy_for(province_id_of(hamlet.path), on)
    if not policy.allow_additional_hamlet:
        raise Conflict(_l("Tỉnh chưa cho phép cộng tác viên kiêm nhiệm thêm thôn vào ngày %(d)s (thiết lập "
                          "của tỉnh).", d=_d(on)))
    _require_serving(collaborator)
    if _already_there(collaborator, hamlet) is not None:
        raise Conflict(_l("%(n)s đang phụ trách %(h)s.", n=collaborator.full_name, h=hamlet.name), field="hamlet")
    first = min(a.started_on for a in collaborator.assignments)
    if on < first:
        raise ValidationFailed(_l("Ngày bắt đầu kiêm nhiệm (%(d)s) không được trước ngày cộng tác viên bắt đầu "
                                  "hoạt động (%(s)s).", d=_d(on), s=_d(first)), field="on")
    assignment = _new_assignment(collaborator, hamlet, AssignmentKind.ADDITIONAL, on, actor,
                                 decision_ref=decision_ref)
    db.session.flush()
    record("collaborator.add_hamlet", collaborator, label=collaborator.full_name, unit_path=hamlet.path,
           after={"assignment_id": assignment.id, "hamlet_id": hamlet.id, "hamlet": hamlet.name, "on": on,
                  "decision_ref": assignment.decision_ref}, actor=actor)
    db.session.flush()
    return assignment


@_guard_race
def end_additional_hamlet(assignment: Assignment, *, on: date, actor, note: str | None = None) -> Assignment:
    """Stop covering an additional hamlet on ``on`` ("cover_ended"); the collaborator keeps the
    primary hamlet. Not before the cover began, not in the future, once. A hamlet left with
    nobody gets a Sổ A0 hand-over request."""
    collaborator = assignment.collaborator
    if assignment.kind != AssignmentKind.ADDITIONAL:
        raise ValidationFailed(_l("Đây là thôn chính của cộng tác viên; hãy dùng điều chuyển hoặc nghỉ việc."))
    if assignment.ended_on is not None:
        raise Conflict(_l("Việc kiêm nhiệm %(h)s đã kết thúc ngày %(d)s.", h=assignment.hamlet.name,
                          d=_d(assignment.ended_on)))
    _not_future(on)
    _require_in_scope(actor, assignment.hamlet)
    if on < assignment.started_on:
        raise ValidationFailed(_l("Ngày kết thúc kiêm nhiệm (%(d)s) không được trước ngày bắt đầu (%(s)s).",
                                  d=_d(on), s=_d(assignment.started_on)), field="on")
    _close(assignment, on, EndReason.COVER_ENDED, note)
    handovers = _request_handovers([assignment], on, actor)
    record("collaborator.end_cover", collaborator, label=collaborator.full_name, unit_path=assignment.hamlet_path,
           after={"assignment_id": assignment.id, "hamlet": assignment.hamlet.name, "ended_on": on,
                  "handovers": [h.id for h in handovers]}, actor=actor)
    db.session.flush()
    return assignment


# --- suspension, termination ----------------------------------------------------------------------


@_guard_race
def suspend_collaborator(collaborator: Collaborator, *, on: date, reason: str, actor) -> Suspension:
    """Suspend (tạm đình chỉ) from ``on`` with a written reason: the collaborator keeps the
    hamlet but is not active nor paid until reinstated (DOMAIN.md §7.2: station head, a
    proposal). Refused for someone who has left or is already suspended, before they began,
    overlapping an earlier suspension, or in the future."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed(_l("Vui lòng ghi lý do tạm đình chỉ."), field="reason")
    _not_future(on)
    _require_change(actor, collaborator)
    _require_serving(collaborator)
    first = min(a.started_on for a in collaborator.assignments)
    if on < first:
        raise ValidationFailed(_l("Ngày tạm đình chỉ (%(d)s) không được trước ngày cộng tác viên bắt đầu hoạt động "
                                  "(%(s)s).", d=_d(on), s=_d(first)), field="on")
    previous = [s.ended_on for s in collaborator.suspensions if s.ended_on is not None and s.ended_on > on]
    if previous:
        raise ValidationFailed(_l("Ngày tạm đình chỉ (%(d)s) trùng với lần tạm đình chỉ trước (kết thúc %(e)s).",
                                  d=_d(on), e=_d(max(previous))), field="on")
    suspension = Suspension(collaborator=collaborator, started_on=on, reason=reason, created_at=now(),
                            created_by_id=getattr(actor, "id", None))
    db.session.add(suspension)
    db.session.flush()
    record("collaborator.suspend", collaborator, label=collaborator.full_name,
           unit_path=open_assignments(collaborator)[0].hamlet_path,
           after={"suspension_id": suspension.id, "started_on": on, "reason": reason}, actor=actor)
    db.session.flush()
    return suspension


@_guard_race
def reinstate_collaborator(collaborator: Collaborator, *, on: date, actor, note: str | None = None) -> Suspension:
    """End the open suspension on ``on`` (active again from that day). Refused when the
    collaborator is not suspended, before the suspension began, or in the future."""
    suspension = open_suspension(collaborator)
    if suspension is None:
        raise Conflict(_l("%(n)s không bị tạm đình chỉ.", n=collaborator.full_name))
    _not_future(on)
    _require_change(actor, collaborator)
    if on < suspension.started_on:
        raise ValidationFailed(_l("Ngày hoạt động trở lại (%(d)s) không được trước ngày bắt đầu tạm đình chỉ (%(s)s).",
                                  d=_d(on), s=_d(suspension.started_on)), field="on")
    suspension.ended_on = on
    suspension.end_note = (note or "").strip() or None
    db.session.flush()
    home = open_assignments(collaborator) or collaborator.assignments
    record("collaborator.reinstate", collaborator, label=collaborator.full_name, unit_path=home[0].hamlet_path,
           before={"suspension_id": suspension.id, "started_on": suspension.started_on},
           after={"ended_on": on, "note": suspension.end_note}, actor=actor)
    db.session.flush()
    return suspension


@_guard_race
def terminate_collaborator(collaborator: Collaborator, *, on: date, reason: EndReason | str, actor,
                           note: str | None = None) -> list[RegisterHandover]:
    """End the collaborator's service on ``on`` for one of the reasons of DOMAIN.md §7.2
    (proposal; losing a criterion of TT 02/2021/TT-BYT Art. 2 is a reason): every open
    assignment closes that day with the reason, and an open suspension closes too. Refused for
    an unknown reason, someone who has already left, a date before an open assignment or the
    suspension began or before a recorded suspension ended, or in the future.
    Returns the Sổ A0 hand-over requests for the hamlets left with nobody — those hamlets are
    vacant from that day (recruitment.services.vacancies)."""
    try:
        reason = EndReason(reason)
    except ValueError:
        reason = None
    if reason not in TERMINATION_REASONS:
        raise ValidationFailed(_l("Vui lòng chọn lý do nghỉ việc trong danh sách."), field="reason")
    _not_future(on)
    _require_change(actor, collaborator)
    current = _require_serving(collaborator, allow_suspended=True)
    for assignment in current:
        if on < assignment.started_on:
            raise ValidationFailed(_l("Ngày nghỉ việc (%(d)s) không được trước ngày bắt đầu phụ trách %(h)s (%(s)s).",
                                      d=_d(on), h=assignment.hamlet.name, s=_d(assignment.started_on)), field="on")
    suspension = open_suspension(collaborator)
    if suspension is not None and on < suspension.started_on:
        raise ValidationFailed(_l("Ngày nghỉ việc (%(d)s) không được trước ngày bắt đầu tạm đình chỉ (%(s)s).",
                                  d=_d(on), s=_d(suspension.started_on)), field="on")
    later = [s.ended_on for s in collaborator.suspensions if s.ended_on is not None and s.ended_on > on]
    if later:
        raise ValidationFailed(_l("Ngày nghỉ việc (%(d)s) không được trước ngày kết thúc lần tạm đình chỉ đã ghi "
                                  "(%(e)s).", d=_d(on), e=_d(max(later))), field="on")
    duties = _duties_ending_with_service(collaborator, on)
    before = {"assignments": [{"id": a.id, "hamlet": a.hamlet.name, "kind": a.kind} for a in current],
              "suspension_id": getattr(suspension, "id", None)}
    for assignment in current:
        _close(assignment, on, reason, note)
    if suspension is not None:
        suspension.ended_on = on
        suspension.end_note = (note or "").strip() or None
    for duty in duties:
        duty.ended_on = on
    handovers = _request_handovers(current, on, actor)
    record("collaborator.terminate", collaborator, label=collaborator.full_name, unit_path=current[0].hamlet_path,
           before=before, after={"ended_on": on, "reason": reason.value, "note": (note or "").strip() or None,
                                 "handovers": [h.id for h in handovers], "duties_ended": [d.id for d in duties]},
           actor=actor)
    db.session.flush()
    return handovers


# --- duties held together with population work -----------------------------------------------------
#
# "Kiêm công tác gia đình và trẻ em" (models.DutyKind): a local title, dated on the person (not on
# a hamlet: a transfer keeps it). DOMAIN.md §0.4 (MED); Đồng Nai KH 14676/KH-UBND (2021) as cited
# by issue #9 item 15. Who may give or end it: whoever may change the collaborator's assignments
# (permissions.can_change_collaborator), as for the recognition decision it usually comes with.


def _duty_kind(duty) -> DutyKind:
    try:
        return DutyKind(duty)
    except ValueError:
        raise ValidationFailed(_l("Vui lòng chọn nhiệm vụ kiêm nhiệm trong danh sách."), field="duty") from None


def _duty_work(duty: DutyKind) -> str:
    return str(DUTY_WORK.get(duty, duty.value))


def open_duty(collaborator: Collaborator, duty: DutyKind | str) -> CollaboratorDuty | None:
    """The collaborator's period of ``duty`` not closed yet, if any."""
    return next((d for d in collaborator.duties if d.duty == duty and d.ended_on is None), None)


def holds_duty(collaborator_id, duty: DutyKind | str, day: date):
    """SQL condition: the collaborator whose id is ``collaborator_id`` (a column) holds ``duty``
    on ``day`` (an EXISTS on the indexed ``collaborator_id``; lists and filters use it)."""
    return exists().where(CollaboratorDuty.collaborator_id == collaborator_id,
                          CollaboratorDuty.duty == DutyKind(duty).value, open_on(CollaboratorDuty, day))


def duties_on(collaborator_ids: Iterable[int], on: date) -> dict[int, set[DutyKind]]:
    """The duties each of the collaborators holds on ``on``, in one query (a collaborator holding
    none is left out)."""
    ids = sorted(set(collaborator_ids))
    if not ids:
        return {}
    found: dict[int, set[DutyKind]] = defaultdict(set)
    for collaborator_id, duty in db.session.execute(
            select(CollaboratorDuty.collaborator_id, CollaboratorDuty.duty)
            .where(CollaboratorDuty.collaborator_id.in_(ids), open_on(CollaboratorDuty, on))):
        found[collaborator_id].add(DutyKind(duty))
    return dict(found)


def _duty_audit_path(collaborator: Collaborator) -> str | None:
    home = home_assignment(collaborator)
    return home.hamlet_path if home is not None else None


@_guard_race
def start_duty(collaborator: Collaborator, duty: DutyKind | str, *, on: date, actor,
               decision_ref: str | None = None) -> CollaboratorDuty:
    """Record that the collaborator holds ``duty`` from ``on`` (by the decision ``decision_ref``,
    the recognition decision or a later one). Refused: an unknown duty; an actor who may not
    change the collaborator's assignments; a date in the future or before the collaborator began
    (``activated_on``); someone who has left; the duty already held (one open period per person
    and duty, which the database also keeps); a start inside an earlier period of the same duty.
    A suspended collaborator may be given it (the suspension pauses the work, not the role)."""
    duty = _duty_kind(duty)
    _require_change(actor, collaborator)
    _not_future(on)
    _require_serving(collaborator, allow_suspended=True)
    if on < collaborator.activated_on:
        raise ValidationFailed(_l("Ngày bắt đầu kiêm nhiệm (%(d)s) không được trước ngày cộng tác viên bắt đầu "
                                  "hoạt động (%(s)s).", d=_d(on), s=_d(collaborator.activated_on)), field="on")
    current = open_duty(collaborator, duty)
    if current is not None:
        raise Conflict(_l("%(n)s đang kiêm nhiệm %(w)s từ ngày %(d)s.", n=collaborator.full_name,
                          w=_duty_work(duty), d=_d(current.started_on)), field="on")
    later = [d.ended_on for d in collaborator.duties if d.duty == duty and d.ended_on is not None and d.ended_on > on]
    if later:
        raise ValidationFailed(_l("Ngày bắt đầu (%(d)s) trùng với lần kiêm nhiệm trước (kết thúc %(e)s).",
                                  d=_d(on), e=_d(max(later))), field="on")
    row = CollaboratorDuty(collaborator=collaborator, duty=duty.value, started_on=on,
                           decision_ref=(decision_ref or "").strip()[:200] or None, created_at=now(),
                           created_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    record("collaborator.start_duty", collaborator, label=collaborator.full_name,
           unit_path=_duty_audit_path(collaborator),
           after={"duty_id": row.id, "duty": duty.value, "started_on": on, "decision_ref": row.decision_ref},
           actor=actor)
    db.session.flush()
    return row


@_guard_race
def end_duty(collaborator: Collaborator, duty: DutyKind | str, *, on: date, actor) -> CollaboratorDuty:
    """Close the open period of ``duty`` on ``on`` (held until the day before). Refused: an
    unknown duty; an actor who may not change the collaborator's assignments; no open period; a
    date in the future or before the period began. Leaving the network ends it too
    (:func:`terminate_collaborator`)."""
    duty = _duty_kind(duty)
    _require_change(actor, collaborator)
    current = open_duty(collaborator, duty)
    if current is None:
        raise Conflict(_l("%(n)s không kiêm nhiệm %(w)s.", n=collaborator.full_name, w=_duty_work(duty)))
    _not_future(on)
    if on < current.started_on:
        raise ValidationFailed(_l("Ngày thôi kiêm nhiệm (%(d)s) không được trước ngày bắt đầu (%(s)s).",
                                  d=_d(on), s=_d(current.started_on)), field="on")
    current.ended_on = on
    db.session.flush()
    record("collaborator.end_duty", collaborator, label=collaborator.full_name,
           unit_path=_duty_audit_path(collaborator),
           before={"duty_id": current.id, "duty": duty.value, "started_on": current.started_on},
           after={"ended_on": on}, actor=actor)
    db.session.flush()
    return current


def _duties_ending_with_service(collaborator: Collaborator, on: date) -> list[CollaboratorDuty]:
    """The open duties that end when the collaborator leaves on ``on``; refuses a leaving date
    before one of them began (the duty is held only while serving)."""
    duties = [d for d in collaborator.duties if d.ended_on is None]
    for duty in duties:
        if on < duty.started_on:
            raise ValidationFailed(_l("Ngày nghỉ việc (%(d)s) không được trước ngày bắt đầu kiêm nhiệm %(w)s (%(s)s).",
                                      d=_d(on), w=_duty_work(DutyKind(duty.duty)), s=_d(duty.started_on)),
                                   field="on")
    return duties


# --- quota status -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaRow:
    hamlet: AdminUnit
    commune: AdminUnit
    households: int
    quota: int | None  # None: the province has no recruitment criteria in force on the date
    active: int  # assignments in force on the date, collaborator not suspended
    suspended: int  # assignments in force on the date, collaborator suspended
    households_per_collaborator: float | None  # households / active (None when nobody is active)
    flag: str  # "under" | "over" | "ok" | "unknown" (see :func:`quota_flag`)


@dataclass(frozen=True)
class QuotaTotals:
    hamlets: int
    households: int
    quota: int
    active: int
    suspended: int
    under: int
    over: int
    empty: int  # hamlets with nobody active
    without_quota: int = 0  # hamlets whose quota is unknown (no criteria in force): not in ``quota``
    unknown: int = 0  # of those, the hamlets flagged "unknown" (someone active; nobody is "under")

    @property
    def households_per_collaborator(self) -> float | None:
        return self.households / self.active if self.active else None


def quota_flag(active: int, quota: int | None) -> str:
    """Under, over or at the quota. An unknown quota (no criteria) is "unknown", except that
    nobody active is "under" the national floor of one per hamlet (TT 02/2021/TT-BYT)."""
    if quota is None:
        return "under" if active < 1 else "unknown"
    return "under" if active < quota else "over" if active > quota else "ok"


_GEOMETRY = ("geom_wkb", "geom_simplified_wkb")  # not needed for a table; large
QUOTA_FLAGS = ("under", "over", "ok", "unknown")


@dataclass(frozen=True)
class QuotaQuery:
    """The hamlets in force on a date under some areas, each with its households, quota and the
    collaborators serving there (active, suspended: one GROUP BY over the assignments in force),
    as SQL expressions over one FROM clause. Shared by the quota list and the coverage computation
    (``coverage.services.hamlet_frame``), so both count alike."""

    hamlet: type
    commune: type
    counts: object  # subquery: hamlet_id, serving, suspended
    conditions: tuple
    households: object
    quota: object
    active: object
    suspended: object

    def select(self, *columns):
        return (select(*columns).select_from(self.hamlet)
                .join(self.commune, self.commune.id == self.hamlet.parent_id)
                .outerjoin(self.counts, self.counts.c.hamlet_id == self.hamlet.id).where(*self.conditions))

    def flag_is(self, flag: str):
        """The SQL condition for :func:`quota_flag`'s value."""
        return {"under": below_quota(self.active, self.quota), "over": self.active > self.quota,
                "ok": self.active == self.quota, "unknown": and_(self.quota.is_(None), self.active >= 1)}[flag]


def suspended_on(day: date):
    """A subquery of the collaborators (``collaborator_id``, each once) under a suspension in
    force on ``day``: outer-joined rather than tested row by row (``EXISTS``), which PostgreSQL
    plans as one hash join and costs low enough not to compile it (JIT) on a national area."""
    return (select(Suspension.collaborator_id).where(open_on(Suspension, day)).distinct()
            .subquery("suspended_on"))


def _serving_counts(day: date):
    """``select(hamlet_id, serving, suspended)`` over the assignments, to be filtered and grouped
    by hamlet: how many, and how many of those under a suspension in force on ``day``. Each
    database counts the way it answers fastest, with the same result: PostgreSQL outer-joins the
    suspended collaborators (:func:`suspended_on`); SQLite tests each assignment (``EXISTS``
    through the suspensions' collaborator index), which keeps it reading the assignments of the
    area through their path index."""
    if is_postgresql():
        suspended = suspended_on(day)
        return (select(Assignment.hamlet_id.label("hamlet_id"), func.count().label("serving"),
                       func.count(suspended.c.collaborator_id).label("suspended"))
                .select_from(Assignment)
                .outerjoin(suspended, suspended.c.collaborator_id == Assignment.collaborator_id))
    in_suspension = exists().where(Suspension.collaborator_id == Assignment.collaborator_id, open_on(Suspension, day))
    return select(Assignment.hamlet_id.label("hamlet_id"), func.count().label("serving"),
                  func.sum(case((in_suspension, 1), else_=0)).label("suspended"))


_quota_hamlet = aliased(AdminUnit, name="quota_hamlet")  # made once: a fresh alias costs milliseconds
_quota_commune = aliased(AdminUnit, name="quota_commune")


def quota_query(prefixes: Sequence[str], as_of: date) -> QuotaQuery:
    """The hamlets in force on ``as_of`` under the areas with their quota and collaborators
    (:class:`QuotaQuery`). Collaborators count per assignment in force that day, an additional
    hamlet (kiêm nhiệm) included; "active" excludes those under a suspension in force."""
    hamlet, commune = _quota_hamlet, _quota_commune
    counts = (_serving_counts(as_of).where(in_areas(prefixes, Assignment.hamlet_path), open_on(Assignment, as_of))
              .group_by(Assignment.hamlet_id).subquery("quota_counts"))
    households = func.coalesce(hamlet.households, 0)
    n_suspended = func.coalesce(counts.c.suspended, 0)
    return QuotaQuery(
        hamlet=hamlet, commune=commune, counts=counts,
        conditions=(hamlet.level == UnitLevel.HAMLET.value, valid_on(hamlet, as_of),
                    in_areas(prefixes, hamlet.path)),
        households=households, quota=quota_sql(hamlet.households, hamlet.path, bands_in_force(
            {province_id_of(p) for p in prefixes}, as_of)),
        active=func.coalesce(counts.c.serving, 0) - n_suspended, suspended=n_suspended)


def quota_summary(prefixes: Sequence[str], *, as_of: date) -> QuotaTotals:
    """The totals above the quota list, counted by the database in one query: hamlets in force
    on ``as_of`` under the areas, their households and quotas, collaborators active and
    suspended, hamlets under and over quota, hamlets with nobody active, and the hamlets whose
    quota is unknown (their province has no criteria in force; their quota is not summed)."""
    q = quota_query(prefixes, as_of)

    def how_many(cond):
        return func.sum(case((cond, 1), else_=0))

    row = db.session.execute(q.select(
        func.count(), func.sum(q.households), func.sum(q.quota), func.sum(q.active), func.sum(q.suspended),
        how_many(q.flag_is("under")), how_many(q.flag_is("over")), how_many(q.active == 0),
        how_many(q.quota.is_(None)), how_many(q.flag_is("unknown")))).one()
    return QuotaTotals(*(int(v or 0) for v in row))


def _quota_total(totals: QuotaTotals, flag: str | None) -> int:
    return {"under": totals.under, "over": totals.over, "unknown": totals.unknown,
            "ok": totals.hamlets - totals.under - totals.over - totals.unknown}.get(flag, totals.hamlets)


def _quota_select(prefixes: Sequence[str], as_of: date, flag: str | None = None):
    q = quota_query(prefixes, as_of)
    stmt = (q.select(q.hamlet, q.commune, q.households, q.quota, q.active, q.suspended)
            .options(*(defer(getattr(model, c)) for model in (q.hamlet, q.commune) for c in _GEOMETRY))
            .order_by(bytewise(q.commune.search_text), q.commune.id, bytewise(q.hamlet.local_id),
                      bytewise(q.hamlet.search_text), q.hamlet.id))
    return stmt.where(q.flag_is(flag)) if flag in QUOTA_FLAGS else stmt


def _quota_row(values) -> QuotaRow:
    hamlet, commune, households, quota, active, suspended = values
    households, active, suspended = int(households), int(active), int(suspended)
    quota = None if quota is None else int(quota)
    return QuotaRow(hamlet, commune, households, quota, active, suspended,
                    households / active if active else None, quota_flag(active, quota))


def quota_page(prefixes: Sequence[str], *, as_of: date, flag: str | None = None, page: int = 1,
               per_page: int = PER_PAGE, totals: QuotaTotals | None = None) -> Page:
    """One page of the quota status of the hamlets under the areas (unit paths; none →
    nothing), as of a date: per hamlet in force that day, its households, the quota from the
    province's criteria bands in force that day (unknown, None, where it has none), collaborators
    active and suspended (counted by GROUP BY), households per active collaborator and the flag
    (under/over/ok/unknown, :func:`quota_flag`); ``flag``
    keeps only the hamlets so flagged. At least one collaborator per hamlet (TT 02/2021/TT-BYT).

    Ordered by commune, hamlet number and name, and sliced by the database; the number of rows
    comes from the totals (:func:`quota_summary`, computed here unless given)."""
    totals = totals or quota_summary(prefixes, as_of=as_of)
    found = paginate(_quota_select(prefixes, as_of, flag), page, per_page, scalars=False,
                     total=_quota_total(totals, flag))
    return found.map(_quota_row)


def quota_status(unit: AdminUnit, *, as_of: date) -> list[QuotaRow]:
    """Every row of :func:`quota_page` for one unit (the hamlet itself, or the hamlets under
    it), for exports and checks; pages use :func:`quota_page`."""
    return [_quota_row(r) for r in db.session.execute(_quota_select([unit.path], as_of))]


# --- roster -------------------------------------------------------------------------------------------

ROSTER_STATUSES = ("active", "suspended", "ended")
TENURES = ("lt1", "1to3", "3to5", "ge5")
SORTS = ("name", "hamlet", "started", "tenure")
_TENURE_BOUNDS = {"lt1": (0, 1), "1to3": (1, 3), "3to5": (3, 5), "ge5": (5, None)}


@dataclass(frozen=True)
class RosterFilters:
    as_of: date
    status: str | None = None  # None = serving on as_of (active + suspended); "active"; "suspended"; "ended"
    hamlet_type: str | None = None
    difficult: bool | None = None  # hamlet is_difficult or is_ethnic_minority
    vhw: bool | None = None  # candidate.is_village_health_worker
    family_children: bool | None = None  # holds "kiêm công tác gia đình và trẻ em" on as_of (CollaboratorDuty)
    tenure: str | None = None  # "lt1" | "1to3" | "3to5" | "ge5": whole years from activated_on to as_of
    q: str | None = None  # name (diacritics-insensitive, every word) or CCCD digits (prefix)
    sort: str = "name"  # "name" | "hamlet" | "started" | "tenure"
    # Where digits in ``q`` may match CCCD numbers: the areas where the reader sees them
    # (``auth.personal_data.personal_data_areas``); elsewhere a CCCD finds nobody.
    cccd_areas: tuple[str, ...] = ()


@dataclass(frozen=True)
class RosterRow:
    collaborator_id: int
    full_name: str
    national_id: str
    date_of_birth: date
    sex: str
    phone: str | None
    is_vhw: bool
    hamlet_id: int
    hamlet_name: str
    hamlet_type: str
    commune_id: int
    commune_name: str
    assignment_kind: str
    started_on: date  # serving the hamlet since: across the reforms that re-opened it (serving_since)
    ended_on: date | None
    end_reason: str | None
    activated_on: date
    status: str
    hamlet_path: str = ""  # whose personal data the reader sees is decided by it (auth.personal_data)
    residence_exception: str | None = None  # a transfer's written residence exception (flagged)
    family_children: bool = False  # holds "kiêm công tác gia đình và trẻ em" on as_of


RosterPage = Page  # a roster page: ``.rows`` (= ``.items``) are :class:`RosterRow`


_hamlet = aliased(AdminUnit, name="roster_hamlet")
_commune = aliased(AdminUnit, name="roster_commune")
_other = aliased(Assignment, name="later_assignment")

# Reforms followed back by :func:`serving_since` (2025 and 2026 took two; a third to spare).
SINCE_REFORMS = 3


def served_since(assignments: Sequence[Assignment]) -> dict[int, date]:
    """Assignment id → the day its collaborator began serving that hamlet (:func:`serving_since`:
    followed back across administrative reforms), for pages that show a few assignments."""
    if not assignments:
        return {}
    rows = db.session.execute(select(Assignment.id, serving_since())
                              .where(Assignment.id.in_([a.id for a in assignments])))
    return {assignment_id: day for assignment_id, day in rows}


def serving_since(depth: int = SINCE_REFORMS):
    """SQL, for the roster's "Phụ trách từ": the day the collaborator began serving the hamlet of
    the row's assignment. An administrative reform closes a hamlet and re-opens it under its new
    commune, ending the assignment "unit_reorganised" and opening the next one the same day in
    the successor (``units.reforms``, DESIGN.md §3: units are effective-dated); the person goes
    on serving the same households, so the day is that of the assignment it continues, followed
    back through up to ``depth`` reforms: an assignment of the same collaborator and kind that
    ended "unit_reorganised" on the day this one began. Where two such assignments ended that day
    (two additional hamlets reorganised at once) the link is not known and the row's own start
    is shown. A transfer, a return or a hamlet merger starts anew (another hamlet). Continuous
    service as a whole is ``Collaborator.activated_on`` (tenure)."""
    chain, links = [Assignment], []
    for _ in range(depth):
        later, earlier = chain[-1], aliased(Assignment)
        links.append(and_(earlier.collaborator_id == later.collaborator_id, earlier.kind == later.kind,
                          earlier.ended_on == later.started_on,
                          earlier.end_reason == EndReason.UNIT_REORGANISED.value))
        chain.append(earlier)

    def start_of(level: int):
        """The start of the assignment ``level`` reforms back, when the chain is one line."""
        return (select(func.max(chain[level].started_on)).select_from(*chain[1:level + 1])
                .where(*links[:level]).having(func.count() == 1).correlate(Assignment).scalar_subquery())

    first = start_of(1)
    if depth == 1:
        return func.coalesce(first, Assignment.started_on)
    deepest = func.coalesce(*(start_of(level) for level in range(depth, 1, -1)), first)
    return case((first.is_not(None), deepest), else_=Assignment.started_on)


_ROSTER_COLUMNS = (
    Collaborator.id, Candidate.full_name, Candidate.national_id, Candidate.date_of_birth, Candidate.sex,
    Candidate.phone, Candidate.is_village_health_worker, _hamlet.id, _hamlet.name, _hamlet.type, _commune.id,
    _commune.name, Assignment.kind, Assignment.started_on, Assignment.ended_on, Assignment.end_reason,
    Collaborator.activated_on,
)
_STARTED = 13  # Assignment.started_on's position


def _roster_columns(since: bool) -> tuple:
    """The roster's columns; ``since``: "Phụ trách từ" across reforms (:func:`serving_since`, the
    page and :func:`roster_rows`) rather than the assignment's own start (the export, which the
    roster import reads back and compares with the assignment, ``collaborators.roster_import``)."""
    if not since:
        return _ROSTER_COLUMNS
    return (*_ROSTER_COLUMNS[:_STARTED], serving_since().label("serving_since"), *_ROSTER_COLUMNS[_STARTED + 1:])


def _roster_conditions(prefixes: Sequence[str], f: RosterFilters) -> tuple[list, object]:
    """The WHERE conditions and the "suspended on as_of" expression."""
    day = f.as_of
    suspended = exists().where(Suspension.collaborator_id == Assignment.collaborator_id, open_on(Suspension, day))
    conds = [in_areas(prefixes, Assignment.hamlet_path)]
    if f.status == "ended":
        # The collaborator's last assignment(s) ended on or before the date, nothing after it
        # (a transfer's closed assignment is followed by the next one, so it is not "ended").
        conds += [Assignment.ended_on <= day, not_(exists().where(
            _other.collaborator_id == Assignment.collaborator_id, _other.id != Assignment.id,
            _other.started_on <= day, or_(_other.ended_on.is_(None), _other.ended_on > Assignment.ended_on)))]
    else:
        conds.append(open_on(Assignment, day))
        if f.status == "active":
            conds.append(not_(suspended))
        elif f.status == "suspended":
            conds.append(suspended)
    if f.hamlet_type:
        conds.append(_hamlet.type == f.hamlet_type)
    if f.difficult is True:
        conds.append(or_(_hamlet.is_difficult.is_(True), _hamlet.is_ethnic_minority.is_(True)))
    elif f.difficult is False:
        conds.append(and_(_hamlet.is_difficult.is_(False), _hamlet.is_ethnic_minority.is_(False)))
    if f.vhw is not None:
        conds.append(Candidate.is_village_health_worker.is_(f.vhw))
    if f.family_children is not None:
        held = _family_children(f)
        conds.append(held if f.family_children else not_(held))
    if f.tenure in _TENURE_BOUNDS:
        low, high = _TENURE_BOUNDS[f.tenure]
        if low:
            conds.append(Collaborator.activated_on <= _years_before(day, low))
        if high:
            conds.append(Collaborator.activated_on > _years_before(day, high))
    people = _people_matching(f.q)
    if people is not None:
        conds.append(Assignment.collaborator_id.in_(people))
        if _is_cccd_query(f.q):  # a CCCD is matched only where the reader may see it
            conds.append(in_areas(f.cccd_areas, Assignment.hamlet_path))
    return conds, suspended


def _family_children(f: RosterFilters):
    """SQL: the row's collaborator holds "kiêm công tác gia đình và trẻ em" on the roster's date."""
    return holds_duty(Assignment.collaborator_id, DutyKind.FAMILY_CHILDREN, f.as_of)


def _is_cccd_query(q: str | None) -> bool:
    return is_ascii_digits((q or "").strip().replace(" ", ""))


def _people_matching(q: str | None):
    """The collaborators a search names, as a subquery (None: no search): CCCD digits match as a
    prefix, words match the folded name, each word anywhere ("nguyen thi", "lan nguyen" and
    "NGUYỄN" all find "Nguyễn Thị Lan"). Given as ``collaborator_id IN (…)`` so the database
    can start from the few people found rather than from every assignment of the area (a
    national search scans the candidates' name index once)."""
    q = (q or "").strip()
    if not q:
        return None
    digits = q.replace(" ", "")
    if is_ascii_digits(digits):
        conds = [Candidate.national_id.startswith(digits, autoescape=True)]
        if not is_postgresql():  # the unique index answers a range on SQLite (see in_areas)
            conds.append(and_(Candidate.national_id >= digits,
                              Candidate.national_id < digits[:-1] + chr(ord(digits[-1]) + 1)))
    else:
        conds = [Candidate.search_text.contains(word, autoescape=True) for word in fold(q).split(" ") if word]
    return select(Collaborator.id).join(Candidate, Candidate.id == Collaborator.candidate_id).where(*conds)


def _roster_order(f: RosterFilters) -> list:
    name_key = bytewise(Candidate.search_text)
    order = {
        "hamlet": [bytewise(_commune.search_text), _commune.id, bytewise(_hamlet.local_id),
                   bytewise(_hamlet.search_text), _hamlet.id, name_key],
        "started": [serving_since().desc(), name_key],
        "tenure": [Collaborator.activated_on, name_key],
    }.get(f.sort, [name_key])
    return [*order, Collaborator.id, Assignment.id]


class _InOrder(Join):
    """An inner join whose left side SQLite keeps as the outer loop (``CROSS JOIN … ON``, the
    one join SQLite does not reorder); other databases get a plain JOIN and plan it themselves."""

    inherit_cache = True


@compiles(_InOrder, "sqlite")
def _in_order_sqlite(join, compiler, **kw):
    head, _sep, tail = compiler.visit_join(join, **kw).rpartition(" JOIN ")
    return f"{head} CROSS JOIN {tail}"


def _roster_from(stmt, f: RosterFilters, *, full: bool, ordered: bool = True, by_names: bool = False):
    """Join what the columns, filters and order need: all of it for ``full`` rows; for the
    ordering pass the person (the order always ends on the name) and the hamlet and commune only
    when filtered or sorted on; for a count (not ``ordered``) only what the filters read.
    ``by_names`` walks the people in name order first (see :func:`roster_page`)."""
    person = ordered or full or f.vhw is not None or f.tenure in _TENURE_BOUNDS
    if by_names:
        stmt = stmt.select_from(_InOrder(_InOrder(Candidate, Collaborator, Collaborator.candidate_id == Candidate.id),
                                         Assignment, Assignment.collaborator_id == Collaborator.id))
    elif person:
        stmt = (stmt.select_from(Assignment).join(Collaborator, Collaborator.id == Assignment.collaborator_id)
                .join(Candidate, Candidate.id == Collaborator.candidate_id))
    else:
        stmt = stmt.select_from(Assignment)
    if full or (ordered and f.sort == "hamlet") or f.hamlet_type or f.difficult is not None:
        stmt = stmt.join(_hamlet, _hamlet.id == Assignment.hamlet_id)
    if full or (ordered and f.sort == "hamlet"):
        stmt = stmt.join(_commune, _commune.id == _hamlet.parent_id)
    return stmt


def _roster_select(prefixes: Sequence[str], f: RosterFilters, *, since: bool = False):
    conds, suspended = _roster_conditions(prefixes, f)
    return (_roster_from(select(*_roster_columns(since), suspended.label("suspended"), Assignment.hamlet_path,
                                Assignment.residence_exception, _family_children(f).label("family_children")), f,
                         full=True)
            .where(*conds).order_by(*_roster_order(f)))


def _row(values, f: RosterFilters) -> RosterRow:
    status = "ended" if f.status == "ended" else ("suspended" if values[17] else "active")
    return RosterRow(*values[:17], status=status, hamlet_path=values[18], residence_exception=values[19],
                     family_children=bool(values._mapping["family_children"]))


def roster_page(prefixes: Sequence[str], filters: RosterFilters, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the roster of the given areas (unit paths; none → nothing): one row per
    (collaborator, assignment) in force on ``filters.as_of`` — or, for ``status="ended"``, the
    last assignment(s) of those who had left by then. Columns only, no ORM objects.

    Three queries: the total, counted with only what the filters read; the page's ids, ordered
    with only what the filters and the order need (in name order over a large share of
    everyone — a national roster — by walking the name index until the page is full,
    :func:`_walk_names`); the page's rows in full (names, hamlet, commune, suspension).

    Name order is the folded full name (``Candidate.search_text``: family name first, accents
    ignored, "Đ" with "D"), then the collaborator's id — deterministic and the same on SQLite
    and PostgreSQL. Ordering by given name (tên) needs a stored sort key; not done."""
    page, per_page = clamp(page, per_page)
    conds, suspended = _roster_conditions(prefixes, filters)
    total = db.session.scalar(_roster_from(select(func.count()), filters, full=False, ordered=False)
                              .where(*conds)) or 0
    page = min(page, max(1, math.ceil(total / per_page)))  # past the end (a stale link): the last page
    if not total:
        return Page([], 0, page, per_page)
    offset = (page - 1) * per_page
    by_names = filters.sort == "name" and _walk_names(total, offset + per_page)
    ordered = (_roster_from(select(Assignment.id), filters, full=False, by_names=by_names)
               .where(*conds).order_by(*_roster_order(filters)))
    ids = list(db.session.scalars(ordered.limit(per_page).offset(offset)))
    full = db.session.execute(_roster_from(select(*_roster_columns(True), suspended.label("suspended"),
                                                  Assignment.hamlet_path, Assignment.residence_exception,
                                                  _family_children(filters).label("family_children"), Assignment.id),
                                           filters, full=True).where(Assignment.id.in_(ids))).all()
    by_id = {r[-1]: r for r in full}
    return Page([_row(by_id[i], filters) for i in ids], total, page, per_page)


def _walk_names(total: int, through: int) -> bool:
    """Whether to find a page in name order by walking the people's name index until the page
    is full (cheap when the areas hold a large share of everyone: a national or large
    province roster), rather than sorting every matching row (cheap when they are few). The
    walk reads about ``through × people / total`` names; the sort reads ``total`` rows."""
    people = db.session.scalar(select(func.max(Candidate.id))) or 0
    return through * people < total * total


def roster_rows(prefixes: Sequence[str], filters: RosterFilters) -> Iterator[RosterRow]:
    """Every roster row for the filters, in order, streamed, "Phụ trách từ" as on the page."""
    result = db.session.execute(_roster_select(prefixes, filters, since=True).execution_options(yield_per=1000))
    for values in result:
        yield _row(values, filters)


# --- people appointed before the app ("from paper") -------------------------------------------------
#
# A province that starts using the app already has a network: people recognised by decisions on
# paper, serving for years. They are entered as they are now, without replaying the selection
# workflow (its criteria may postdate their recognition): candidate, an application in state
# "active" nominated "Chuyển từ sổ sách giấy" with one timeline entry, the collaborator, the
# primary assignment from the day they began (the decision's number as its reference), any
# additional hamlet, and "kiêm công tác gia đình và trẻ em" from the same day where they hold it.
# The demo writes its pre-app people the same way (demo/network.py ``_write_people``); the roster
# import (``roster_import``) writes through :func:`record_from_paper`.

FROM_PAPER = "Chuyển từ sổ sách giấy"  # Application.nominated_by of a person entered from paper (as the demo)


@dataclass(frozen=True)
class PaperHamlet:
    """A hamlet as :func:`record_from_paper` needs it (no ORM object: an import names thousands)."""

    id: int
    path: str
    name: str


@dataclass(frozen=True)
class PaperCollaborator:
    """One person appointed before the app, as the paper record has them today."""

    full_name: str
    date_of_birth: date
    sex: str
    national_id: str
    education: str
    hamlet: PaperHamlet  # the primary hamlet, where they live (TT 02/2021/TT-BYT Art. 2.2)
    started_on: date
    ethnicity: str = ""
    phone: str | None = None
    is_village_health_worker: bool = False
    decision_ref: str | None = None
    contract_number: str | None = None
    contract_date: date | None = None
    family_children: bool = False
    additional: tuple[tuple[PaperHamlet, date, str | None], ...] = ()  # (hamlet, from, decision)
    row: int | None = None  # where it was read (an import's row number), for the audit


def _insert_rows(model, rows: list[dict]) -> None:
    """The rows as one executemany of the table's INSERT (SQLAlchemy Core: no ORM object, no
    per-row bookkeeping), the same on SQLite and PostgreSQL. Without RETURNING: SQLite would then
    insert row by row to keep the new ids in order; they are read back by a unique key instead."""
    if rows:
        db.session.connection().execute(model.__table__.insert(), rows)


def _ids_by(column, key_column, keys: Sequence) -> dict:
    """``{key: id}`` of the rows just inserted, read back by a unique key a few hundred at a time."""
    found = {}
    ordered = list(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        found.update({key: row_id for row_id, key in db.session.execute(
            select(column, key_column).where(key_column.in_(chunk)))})
    return found


def _record_many(action: str, events: Sequence[tuple[int, str, str | None, dict]], actor) -> None:
    """One audit event per ``(collaborator id, label, unit path, after)``, as
    :func:`audit.services.record` writes it (the actor — the logged-in user when None in a
    request, else the system —, JSON values, the request's address), in one multi-row INSERT
    rather than one ORM object and INSERT each."""
    from flask import has_request_context, request

    from ..audit import services as audit
    from ..audit.models import AuditEvent

    who = audit._resolve_actor(actor)
    stamp, ip = now(), request.remote_addr if has_request_context() else None
    _insert_rows(AuditEvent, [dict(
        at=stamp, actor_id=getattr(who, "id", None), actor_name=getattr(who, "username", None) or audit.SYSTEM_ACTOR,
        action=action, object_type="Collaborator", object_id=str(object_id), object_label=label[:300],
        unit_path=unit_path, before=None, after=audit._jsonable(after), ip=ip)
        for object_id, label, unit_path, after in events])


def _check_paper(person: PaperCollaborator, on: date, areas: Sequence[str] | None) -> None:
    if areas is not None and not person.hamlet.path.startswith(tuple(areas)):
        raise PermissionDenied(_l("%(h)s nằm ngoài địa bàn bạn được phân quyền phân công cộng tác viên; "
                                  "không có gì được thay đổi.", h=person.hamlet.name), field="hamlet")
    if len(" ".join(person.full_name.split())) < 3:
        raise ValidationFailed(_l("Vui lòng nhập đầy đủ họ và tên."), field="full_name")
    starts = [person.started_on, *(since for _h, since, _ref in person.additional)]
    if max(starts) > on or person.date_of_birth >= on:
        raise ValidationFailed(_l("Ngày %(d)s chưa đến: chỉ ghi nhận việc đã xảy ra, không chọn ngày trong tương lai.",
                                  d=_d(max(max(starts), person.date_of_birth))), field="started_on")
    if min(starts) < person.started_on:
        raise ValidationFailed(_l("Ngày bắt đầu kiêm nhiệm (%(d)s) không được trước ngày cộng tác viên bắt đầu "
                                  "hoạt động (%(s)s).", d=_d(min(starts)), s=_d(person.started_on)), field="on")
    check_national_id(person.national_id, born=person.date_of_birth, sex=person.sex)


def record_from_paper(people: Sequence[PaperCollaborator], *, actor, source: str,
                      audit_after: dict | None = None) -> list[int]:
    """Enter people appointed before the app as they are today (DOMAIN.md §7.2: the paper
    records of a province that starts using the app; issue #12 item 3), in bulk — a few
    multi-row INSERTs whatever their number, the new ids read back by the CCCD — and return their
    collaborator ids in order.

    Each person gets a candidate (residence: the primary hamlet), an application in state
    "active" nominated :data:`FROM_PAPER` with its contract and one timeline entry saying where
    the record came from (``source``, e.g. the file's name), the collaborator, the primary
    assignment from ``started_on`` (``decision_ref``: the recognition decision's number as
    written; no ``RecognitionDecision`` row is made, its issuer and signer are not on the paper
    list), each additional hamlet (kiêm nhiệm), and "kiêm công tác gia đình và trẻ em" from
    ``started_on`` when ``family_children``. One audit event per person (``collaborator.from_paper``,
    ``audit_after`` added to its after-dict).

    The caller checked the rules that need the database (the hamlets exist and are in force
    from the start, the CCCD is new, the province allows an additional hamlet); this function
    checks again what it can without reading: the actor's assignment scope (None: the system),
    no date in the future, additional hamlets not before the primary one, and the CCCD
    (:func:`recruitment.services.check_national_id`). A refusal raises before anything is
    written. Never commits."""
    from ..recruitment.models import Application, ApplicationEvent
    from ..recruitment.workflow import State
    from .permissions import ASSIGNMENT_ROLES

    if not people:
        return []
    day = today()
    areas = None
    if actor is not None:
        from ..auth.permissions import scope_of

        areas = scope_of(actor).prefixes_for(ASSIGNMENT_ROLES)
    for person in people:
        _check_paper(person, day, areas)
    stamp = now()
    actor_id, actor_name = getattr(actor, "id", None), getattr(actor, "username", None) or "system"
    # Rows inserted in bulk, their ids read back by their unique keys (the CCCD, then the candidate).
    _insert_rows(Candidate, [dict(
        full_name=" ".join(p.full_name.split()), search_text=fold(p.full_name), date_of_birth=p.date_of_birth,
        sex=p.sex, ethnicity=(p.ethnicity or "").strip(), national_id=p.national_id, phone=p.phone,
        residence_hamlet_id=p.hamlet.id, resident_since=None, education=p.education,
        is_village_health_worker=p.is_village_health_worker, speaks_local_language=False,
        created_at=stamp) for p in people])
    by_cccd = _ids_by(Candidate.id, Candidate.national_id, [p.national_id for p in people])
    candidate_ids = [by_cccd[p.national_id] for p in people]
    _insert_rows(Application, [dict(
        candidate_id=cid, hamlet_id=p.hamlet.id, hamlet_path=p.hamlet.path, state=State.ACTIVE.value, version=1,
        nominated_by=FROM_PAPER, dossier={}, decision_id=None, contract_number=p.contract_number,
        contract_date=p.contract_date, activated_on=p.started_on, created_at=stamp, updated_at=stamp)
        for p, cid in zip(people, candidate_ids, strict=True)])
    by_candidate = _ids_by(Application.id, Application.candidate_id, candidate_ids)  # new people: one each
    application_ids = [by_candidate[cid] for cid in candidate_ids]
    _insert_rows(ApplicationEvent, [dict(
        application_id=aid, action="activate", from_state=State.CONTRACTED.value, to_state=State.ACTIVE.value,
        actor_id=actor_id, actor_name=actor_name, at=stamp,
        comment=(f"{FROM_PAPER}: công nhận theo {p.decision_ref or 'quyết định không ghi số'}; hoạt động từ "
                 f"{_d(p.started_on)}. Nguồn: {source}.")) for p, aid in zip(people, application_ids, strict=True)])
    _insert_rows(Collaborator, [dict(
        candidate_id=cid, application_id=aid, activated_on=p.started_on, created_at=stamp)
        for p, cid, aid in zip(people, candidate_ids, application_ids, strict=True)])
    by_candidate = _ids_by(Collaborator.id, Collaborator.candidate_id, candidate_ids)
    collaborator_ids = [by_candidate[cid] for cid in candidate_ids]
    assignments, duties = [], []
    for p, cid in zip(people, collaborator_ids, strict=True):
        assignments.append(dict(collaborator_id=cid, hamlet_id=p.hamlet.id, hamlet_path=p.hamlet.path,
                                kind=AssignmentKind.PRIMARY.value, started_on=p.started_on, decision_ref=p.decision_ref,
                                created_at=stamp, created_by_id=actor_id))
        for hamlet, since, ref in p.additional:
            assignments.append(dict(collaborator_id=cid, hamlet_id=hamlet.id, hamlet_path=hamlet.path,
                                    kind=AssignmentKind.ADDITIONAL.value, started_on=since, decision_ref=ref,
                                    created_at=stamp, created_by_id=actor_id))
        if p.family_children:
            duties.append(dict(collaborator_id=cid, duty=DutyKind.FAMILY_CHILDREN.value, started_on=p.started_on,
                               decision_ref=p.decision_ref, created_at=stamp, created_by_id=actor_id))
    _insert_rows(Assignment, assignments)
    _insert_rows(CollaboratorDuty, duties)
    events = []
    for p, cid in zip(people, collaborator_ids, strict=True):
        after = {"hamlet_id": p.hamlet.id, "hamlet": p.hamlet.name, "started_on": p.started_on,
                 "decision_ref": p.decision_ref, "contract_number": p.contract_number,
                 "is_village_health_worker": p.is_village_health_worker, "family_children": p.family_children,
                 "additional": [{"hamlet": h.name, "on": since} for h, since, _ref in p.additional],
                 "source": source, **({"row": p.row} if p.row is not None else {}), **(audit_after or {})}
        events.append((cid, p.full_name, p.hamlet.path, after))
    _record_many("collaborator.from_paper", events, actor)
    db.session.flush()
    return collaborator_ids

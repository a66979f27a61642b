"""Supervision of the collaborator network (issue #4 items 6–7): the supervision chain (derived,
never stored), supervision visits with a checklist built from the collaborator's duties, the
overdue-visit and open follow-up lists, the commune's professional-direction links, monthly
meetings (giao ban) with the P0 slip, and the "under review" list.

One function per action, guard → change → audit record → flush; never commits (DESIGN.md §4).
Every date is explicit (``on``, ``visited_on``…) so the past can be asked about and tests are
deterministic. A collaborator *serves* on a day ``d`` when one of their assignments is in force
(``started_on ≤ d < ended_on``, ``ended_on`` NULL = open) and no suspension is in force that day.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    and_,
    case,
    exists,
    extract,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.sql.functions import FunctionElement

from ..audit.services import record, snapshot
from ..auth.models import Role, RoleGrant, User
from ..auth.permissions import scope_of
from ..collaborators.models import Assignment, AssignmentKind, Collaborator, Suspension
from ..collaborators.permissions import can_record_for_collaborator
from ..collaborators.policy import Policy, policies_for, province_id_of
from ..common.clock import now, today
from ..common.dates import check_effective_date
from ..common.paging import PER_PAGE, Page, clamp, count, paginate
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..recruitment.models import Candidate
from ..textnorm import fold
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import ancestor_paths, bytewise, facilities_serving, in_areas, path_filter, valid_on
from .models import (
    ChecklistItem,
    LinkKind,
    MeetingAttendance,
    MonthlyMeeting,
    ProfessionalLink,
    SupervisionVisit,
)

FUTURE_VISIT = _l("Ngày giám sát không được ở tương lai.")
NOTE_MAX = 300  # MeetingAttendance.note


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


# --- who serves when ---------------------------------------------------------------------------


def _in_force(model, day: date):
    """SQL: a dated row (assignment, suspension) is in force on ``day`` (half-open interval)."""
    return and_(model.started_on <= day, or_(model.ended_on.is_(None), model.ended_on > day))


def _not_suspended(day: date, assignment=Assignment):
    return ~exists().where(Suspension.collaborator_id == assignment.collaborator_id, _in_force(Suspension, day))


def assignment_on(collaborator: Collaborator, day: date) -> Assignment | None:
    """The assignment in force on ``day``, the primary one first (None if none)."""
    in_force = [a for a in collaborator.assignments if a.open_on(day)]
    in_force.sort(key=lambda a: (a.kind != AssignmentKind.PRIMARY.value, a.started_on, a.id))
    return in_force[0] if in_force else None


def suspended_on(collaborator: Collaborator, day: date) -> bool:
    return any(s.open_on(day) for s in collaborator.suspensions)


def serving_on(collaborator: Collaborator, day: date) -> bool:
    return assignment_on(collaborator, day) is not None and not suspended_on(collaborator, day)


@dataclass(frozen=True)
class ServingRow:
    """A collaborator serving on a date, placed by the assignment in force (primary first)."""

    collaborator_id: int
    full_name: str
    hamlet_id: int
    hamlet_name: str
    hamlet_path: str
    commune_id: int
    commune_name: str
    activated_on: date
    kind: str


def _placing(prefixes: Sequence[str], on: date):
    """``(a, in_area, placed)``: an alias of Assignment, the SQL conditions "in force on ``on`` in
    the area" (cheap: an index range) and the conditions that keep, for each collaborator serving
    there (not suspended), the one assignment that places them — the rule of
    :func:`assignment_on`: primary first, then the earliest start, then the lowest id. Written as
    "no better assignment exists" (a probe of the collaborator's index) rather than a window over
    the area, which SQLite sorts slowly. Callers put their own cheap filters between the two."""
    a, b = aliased(Assignment), aliased(Assignment)

    def secondary(x):
        return case((x.kind == AssignmentKind.PRIMARY.value, 0), else_=1)

    better = exists().where(
        b.collaborator_id == a.collaborator_id, b.id != a.id, _in_force(b, on), in_areas(prefixes, b.hamlet_path),
        or_(secondary(b) < secondary(a),
            and_(secondary(b) == secondary(a),
                 or_(b.started_on < a.started_on, and_(b.started_on == a.started_on, b.id < a.id)))))
    return a, [_in_force(a, on), in_areas(prefixes, a.hamlet_path)], [_not_suspended(on, a), ~better]


def _policies(prefixes: Sequence[str], on: date) -> dict[int, Policy]:
    """The network policy in force on ``on`` of each province the area touches (34 at most)."""
    return policies_for({province_id_of(p) for p in prefixes}, on)


def _by_province(path_column, values: Mapping[int, object]):
    """SQL: the value of the province a path lies in, for paths within these provinces (the
    callers' rows are filtered to the area, whose provinces are the keys). A literal when all
    provinces agree; else the most common value by default and, for each other value, one test of
    the path's first characters against its provinces' paths (``substr(path, 1, 4) IN ('/12/',
    …)``, per distinct length) — a national list then tests a row a few times, not 34 LIKEs."""
    groups: dict[object, list[int]] = defaultdict(list)
    for pid, value in sorted(values.items()):
        groups[value].append(pid)
    if len(groups) <= 1:
        return literal(next(iter(groups))) if groups else null()
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[1][0]))

    def lies_in(pids):
        by_length: dict[int, list[str]] = defaultdict(list)
        for pid in pids:
            by_length[len(f"/{pid}/")].append(f"/{pid}/")
        return or_(*(func.substr(path_column, 1, n).in_(paths) for n, paths in sorted(by_length.items())))

    return case(*[(lies_in(pids), literal(value)) for value, pids in ranked[1:]], else_=literal(ranked[0][0]))


class _DayNumber(FunctionElement):
    """A date as a whole number of days, to order by a date plus a number of days."""

    type = Integer()
    inherit_cache = True


@compiles(_DayNumber)
def _day_number(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - DATE '2000-01-01')"  # PostgreSQL: date - date


@compiles(_DayNumber, "sqlite")
def _day_number_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) AS INTEGER)"


def _place_and_name_order(commune, hamlet) -> list:
    """Commune, hamlet, then the collaborator's name, each folded (accents ignored, "Đ" with
    "D"), the same on SQLite and PostgreSQL; the query must join Candidate."""
    return [bytewise(commune.search_text), bytewise(hamlet.search_text), bytewise(Candidate.search_text)]


def _chunks(ids: Sequence[int], size: int = 5000):
    """Ids in slices (a page has 50; a whole list for an export may have thousands)."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _windowed_page(stmt, page: int, per_page: int, make_rows: Callable[[Sequence[tuple]], list]) -> Page:
    """One page of a select of columns with its total, in ONE query (``count(*) OVER ()`` beside
    LIMIT/OFFSET), as ``collaborators.services.roster_page`` does; ``make_rows`` turns the
    page's values into rows. A page past the end (a stale link) shows the last page."""
    page, per_page = clamp(page, per_page)
    found = db.session.execute(stmt.add_columns(func.count().over().label("total"))
                               .limit(per_page).offset((page - 1) * per_page)).all()
    if not found:
        total = count(stmt)
        last = max(1, math.ceil(total / per_page))
        if total and page > last:
            return _windowed_page(stmt, last, per_page, make_rows)
        return Page([], total, page, per_page)
    return Page(make_rows([tuple(r)[:-1] for r in found]), int(found[0][-1]), page, per_page)


def serving_collaborators(prefixes: Sequence[str], on: date) -> dict[int, ServingRow]:
    """Every collaborator serving on ``on`` in the area, in one query (names, hamlet, commune)."""
    hamlet, commune = aliased(AdminUnit), aliased(AdminUnit)
    stmt = (select(Assignment.collaborator_id, Candidate.full_name, Assignment.hamlet_id, hamlet.name,
                   Assignment.hamlet_path, commune.id, commune.full_name, Collaborator.activated_on, Assignment.kind)
            .join(Collaborator, Collaborator.id == Assignment.collaborator_id)
            .join(Candidate, Candidate.id == Collaborator.candidate_id)
            .join(hamlet, hamlet.id == Assignment.hamlet_id)
            .join(commune, commune.id == hamlet.parent_id)
            .where(_in_force(Assignment, on), path_filter(prefixes, Assignment.hamlet_path), _not_suspended(on)))
    rows: dict[int, ServingRow] = {}
    for values in db.session.execute(stmt):
        row = ServingRow(*values)
        current = rows.get(row.collaborator_id)
        if current is None or (row.kind == AssignmentKind.PRIMARY and current.kind != AssignmentKind.PRIMARY):
            rows[row.collaborator_id] = row
    return rows


# --- the supervision chain -----------------------------------------------------------------------


class ChainLevelKey:
    STATION_OFFICER = "station_officer"
    STATION_HEAD = "station_head"
    HEALTH_CENTRE = "health_centre"
    DEPARTMENT = "department"


@dataclass(frozen=True)
class Holder:
    """A person holding a role at a level of the chain on the date, with the grant's period."""

    user: User
    role: str
    valid_from: date
    valid_to: date | None
    place: str

    @property
    def last_day(self) -> date | None:
        """The last day the role was held (``valid_to`` is the first day without it)."""
        return self.valid_to - timedelta(days=1) if self.valid_to else None


@dataclass(frozen=True)
class ChainLevel:
    key: str
    facilities: list[Facility]
    holders: list[Holder]


@dataclass(frozen=True)
class SupervisionChain:
    collaborator: Collaborator
    on: date
    assignment: Assignment | None  # the assignment that places the collaborator for the chain
    serving: bool
    suspended: bool
    hamlet: AdminUnit | None
    commune: AdminUnit | None
    levels: list[ChainLevel] = field(default_factory=list)
    links: list[ProfessionalLink] = field(default_factory=list)


def _placing_assignment(collaborator: Collaborator, on: date) -> Assignment | None:
    """The assignment in force on the date; else the latest one begun by then; else the first."""
    found = assignment_on(collaborator, on)
    if found is not None:
        return found
    begun = [a for a in collaborator.assignments if a.started_on <= on]
    if begun:
        return max(begun, key=lambda a: (a.started_on, a.id))
    return min(collaborator.assignments, key=lambda a: (a.started_on, a.id), default=None)


def supervision_chain_for(collaborator: Collaborator, on: date) -> SupervisionChain:
    """The chain above a collaborator on a date, derived from what is recorded, never stored
    (issue #4 item 6; DOMAIN.md §6): the commune health station's population officers
    (``station_officer`` grants at the station serving the commune, or at the commune) → the
    station head(s) (``station_head``) → the area health centre(s) serving the commune and their
    ``centre_officer`` users → the Department of Health of the province and its
    ``province_admin`` users. Each level lists whoever held the role *on that date* (grants are
    dated and closed, never deleted, so a past date shows the people of that time). Beside the
    station, the commune's labour–social affairs and culture–sports officers direct collaborators
    professionally (Đồng Nai KH 14676/KH-UBND, 2021): their links valid on the date come too.

    The collaborator is placed by the assignment in force on the date (primary first), or, on a
    date they were not serving, by their nearest assignment (``serving`` then says so)."""
    assignment = _placing_assignment(collaborator, on)
    suspended = suspended_on(collaborator, on)
    serving = assignment is not None and assignment.open_on(on) and not suspended
    if assignment is None:
        return SupervisionChain(collaborator, on, None, False, suspended, None, None)
    hamlet = assignment.hamlet
    commune = hamlet.parent if hamlet.level == UnitLevel.HAMLET else hamlet
    province_id = province_id_of(commune.path)
    serving_facilities = facilities_serving(commune, on)
    stations = [f for f in serving_facilities if f.kind == FacilityKind.STATION]
    centres = [f for f in serving_facilities if f.kind == FacilityKind.HEALTH_CENTRE]
    departments = [f for f in serving_facilities if f.kind == FacilityKind.DEPARTMENT]
    if not departments:
        departments = list(db.session.scalars(select(Facility).where(
            Facility.kind == FacilityKind.DEPARTMENT.value, Facility.unit_id == province_id, valid_on(Facility, on))))
    station_ids = {f.id for f in stations}
    centre_ids = {f.id for f in centres}
    department_ids = {f.id for f in departments}
    grants = db.session.scalars(
        select(RoleGrant)
        .where(valid_on(RoleGrant, on),
               RoleGrant.role.in_([Role.STATION_OFFICER.value, Role.STATION_HEAD.value, Role.CENTRE_OFFICER.value,
                                   Role.PROVINCE_ADMIN.value]),
               or_(RoleGrant.facility_id.in_(sorted(station_ids | centre_ids | department_ids)),
                   RoleGrant.unit_id.in_([commune.id, province_id])))
        .options(selectinload(RoleGrant.user), selectinload(RoleGrant.facility), selectinload(RoleGrant.unit))
        .order_by(RoleGrant.valid_from, RoleGrant.id))
    buckets: dict[str, list[Holder]] = defaultdict(list)
    for grant in grants:
        place = grant.facility.name if grant.facility is not None else grant.unit.full_name
        holder = Holder(grant.user, grant.role, grant.valid_from, grant.valid_to, place)
        at_station = grant.facility_id in station_ids or grant.unit_id == commune.id
        if grant.role == Role.STATION_OFFICER and at_station:
            buckets[ChainLevelKey.STATION_OFFICER].append(holder)
        elif grant.role == Role.STATION_HEAD and at_station:
            buckets[ChainLevelKey.STATION_HEAD].append(holder)
        elif grant.role == Role.CENTRE_OFFICER and grant.facility_id in centre_ids:
            buckets[ChainLevelKey.HEALTH_CENTRE].append(holder)
        elif grant.role == Role.PROVINCE_ADMIN and (grant.facility_id in department_ids
                                                    or grant.unit_id == province_id):
            buckets[ChainLevelKey.DEPARTMENT].append(holder)
    levels = [
        ChainLevel(ChainLevelKey.STATION_OFFICER, stations, buckets[ChainLevelKey.STATION_OFFICER]),
        ChainLevel(ChainLevelKey.STATION_HEAD, stations, buckets[ChainLevelKey.STATION_HEAD]),
        ChainLevel(ChainLevelKey.HEALTH_CENTRE, centres, buckets[ChainLevelKey.HEALTH_CENTRE]),
        ChainLevel(ChainLevelKey.DEPARTMENT, departments, buckets[ChainLevelKey.DEPARTMENT]),
    ]
    return SupervisionChain(collaborator, on, assignment, serving, suspended, hamlet, commune, levels,
                            links_on(commune, on))


# --- supervision visits ------------------------------------------------------------------------


CHECKLIST_KEYS = tuple(item.value for item in ChecklistItem)
VISIT_FIELDS = ["collaborator_id", "hamlet_id", "supervisor_id", "visited_on", "checklist", "score", "findings",
                "follow_up", "follow_up_due"]


def checklist_score(checklist: Mapping[str, bool | None]) -> int:
    """The share of *checked* items passed, in percent, rounded half up (1 of 8 → 13):
    ``round(100 × passed / answered)``. Items not checked (None) do not count either way. A
    checklist with nothing checked has no score: :func:`record_visit` refuses it."""
    answered = [v for v in checklist.values() if v is not None]
    if not answered:
        raise ValidationFailed(_l("Phiếu giám sát phải đánh giá ít nhất một nội dung (Đạt hoặc Chưa đạt)."),
                               field="checklist")
    passed = sum(1 for v in answered if v)
    return (200 * passed + len(answered)) // (2 * len(answered))


def _normalise_checklist(checklist: Mapping[str, bool | None]) -> dict[str, bool | None]:
    unknown = sorted(str(k) for k in checklist if k not in CHECKLIST_KEYS)
    if unknown:
        raise ValidationFailed(_l("Nội dung giám sát không có trong bảng kiểm: %(k)s.", k=", ".join(unknown)),
                               field="checklist")
    bad = sorted(k for k, v in checklist.items() if v is not None and not isinstance(v, bool))
    if bad:
        raise ValidationFailed(_l("Kết quả của nội dung %(k)s phải là Đạt, Chưa đạt hoặc Không kiểm tra.",
                                  k=", ".join(bad)), field="checklist")
    return {k: checklist.get(k) for k in CHECKLIST_KEYS}


def record_visit(collaborator: Collaborator, *, supervisor: User, visited_on: date,
                 checklist: Mapping[str, bool | None], findings: str | None = None, follow_up: str | None = None,
                 follow_up_due: date | None = None, actor=None) -> SupervisionVisit:
    """Record a supervision visit (bảng kiểm giám sát) to a collaborator (issue #4 item 6).

    Rules: the visit cannot be dated in the future; the collaborator must be serving that day
    (an assignment in force, not suspended); the checklist holds only items of
    :class:`ChecklistItem`, each Đạt (True), Chưa đạt (False) or not checked (None/missing), and at
    least one must be checked (DOMAIN.md §7.3, a proposal built from the duties of TT 02/2021/TT-BYT
    Art. 3 and TT 01/2022/TT-BYT); the score is :func:`checklist_score`. A follow-up (việc cần
    khắc phục) and its due date go together — one without the other is refused, since a follow-up
    with no date could never fall due — and it is due on or after the visit. The visit is filed
    under the hamlet of the assignment in force that day (primary first), so scope follows it.
    Callers check ``can_record_for_collaborator`` for the supervisor."""
    if visited_on > today():
        raise ValidationFailed(FUTURE_VISIT, field="visited_on")
    assignment = assignment_on(collaborator, visited_on)
    if assignment is None:
        raise ValidationFailed(_l("%(n)s không làm cộng tác viên vào ngày %(d)s (chưa bắt đầu hoặc đã thôi).",
                                  n=collaborator.full_name, d=_vn(visited_on)), field="visited_on")
    if suspended_on(collaborator, visited_on):
        raise ValidationFailed(_l("%(n)s đang bị tạm đình chỉ vào ngày %(d)s.", n=collaborator.full_name,
                                  d=_vn(visited_on)), field="visited_on")
    answers = _normalise_checklist(checklist)
    score = checklist_score(answers)
    follow_up = _clean(follow_up)
    if follow_up_due is not None and follow_up is None:
        raise ValidationFailed(_l("Có hạn khắc phục thì phải ghi nội dung cần khắc phục."), field="follow_up")
    if follow_up is not None and follow_up_due is None:
        raise ValidationFailed(_l("Vui lòng ghi hạn khắc phục cho nội dung cần khắc phục."), field="follow_up_due")
    if follow_up_due is not None and follow_up_due < visited_on:
        raise ValidationFailed(_l("Hạn khắc phục không được trước ngày giám sát (%(d)s).", d=_vn(visited_on)),
                               field="follow_up_due")
    visit = SupervisionVisit(collaborator=collaborator, hamlet_id=assignment.hamlet_id,
                             hamlet_path=assignment.hamlet_path, supervisor=supervisor, visited_on=visited_on,
                             checklist=answers, score=score, findings=_clean(findings), follow_up=follow_up,
                             follow_up_due=follow_up_due, created_at=now())
    db.session.add(visit)
    db.session.flush()
    # The latest visit, in one UPDATE: two visits recorded at once cannot leave the earlier date.
    latest = func.coalesce(Collaborator.last_visited_on, visited_on)
    db.session.execute(update(Collaborator).where(Collaborator.id == collaborator.id)
                       .values(last_visited_on=case((latest < visited_on, visited_on), else_=latest))
                       .execution_options(synchronize_session=False))
    db.session.expire(collaborator, ["last_visited_on"])
    record("visit.record", visit, label=f"{collaborator.full_name} – {_vn(visited_on)}",
           unit_path=visit.hamlet_path, after=snapshot(visit, VISIT_FIELDS), actor=actor)
    db.session.flush()
    return visit


def close_follow_up(visit: SupervisionVisit, *, closed_on: date, result: str, actor=None) -> SupervisionVisit:
    """Close the follow-up of a visit with what was done. Refused when the visit has no
    follow-up, when it is already closed (closing is final), when the date is before the visit or
    in the future, or without a result."""
    if visit.follow_up is None:
        raise Conflict(_l("Lần giám sát này không có nội dung cần khắc phục."))
    if visit.follow_up_closed_on is not None:
        raise Conflict(_l("Việc khắc phục này đã được xác nhận hoàn thành ngày %(d)s.",
                          d=_vn(visit.follow_up_closed_on)))
    if closed_on < visit.visited_on:
        raise ValidationFailed(_l("Ngày hoàn thành không được trước ngày giám sát (%(d)s).",
                                  d=_vn(visit.visited_on)), field="closed_on")
    if closed_on > today():
        raise ValidationFailed(_l("Ngày hoàn thành không được ở tương lai."), field="closed_on")
    result = _clean(result)
    if result is None:
        raise ValidationFailed(_l("Vui lòng ghi kết quả khắc phục."), field="result")
    visit.follow_up_closed_on = closed_on
    visit.follow_up_result = result
    record("visit.close_follow_up", visit, label=f"{visit.collaborator.full_name} – {_vn(visit.visited_on)}",
           unit_path=visit.hamlet_path, before={"follow_up_closed_on": None, "follow_up_result": None},
           after={"follow_up_closed_on": closed_on, "follow_up_result": result}, actor=actor)
    db.session.flush()
    return visit


def visits_query(prefixes: Sequence[str], *, date_from: date | None = None, date_to: date | None = None,
                 supervisor_id: int | None = None, q: str | None = None, collaborator_id: int | None = None):
    """A select of visits filed under the area, newest first, with optional filters (name search
    is diacritics-insensitive)."""
    stmt = (select(SupervisionVisit).where(in_areas(prefixes, SupervisionVisit.hamlet_path))
            .options(selectinload(SupervisionVisit.collaborator).selectinload(Collaborator.candidate),
                     selectinload(SupervisionVisit.hamlet), selectinload(SupervisionVisit.supervisor)))
    if date_from is not None:
        stmt = stmt.where(SupervisionVisit.visited_on >= date_from)
    if date_to is not None:
        stmt = stmt.where(SupervisionVisit.visited_on <= date_to)
    if supervisor_id:
        stmt = stmt.where(SupervisionVisit.supervisor_id == supervisor_id)
    if collaborator_id:
        stmt = stmt.where(SupervisionVisit.collaborator_id == collaborator_id)
    folded = fold(q)
    if folded:
        names = (select(Collaborator.id).join(Candidate, Candidate.id == Collaborator.candidate_id)
                 .where(*[Candidate.search_text.contains(w, autoescape=True) for w in folded.split(" ")]))
        stmt = stmt.where(SupervisionVisit.collaborator_id.in_(names))
    return stmt.order_by(SupervisionVisit.visited_on.desc(), SupervisionVisit.id.desc())


def supervisors_in(prefixes: Sequence[str]) -> list[User]:
    """Users who recorded visits in the area (for the list's filter)."""
    ids = select(SupervisionVisit.supervisor_id).where(in_areas(prefixes, SupervisionVisit.hamlet_path))
    return sorted(db.session.scalars(select(User).where(User.id.in_(ids))), key=lambda u: fold(u.full_name))


def visits_of(collaborator: Collaborator):
    """A select of every visit to the collaborator, newest first (the API's list)."""
    return (select(SupervisionVisit).where(SupervisionVisit.collaborator_id == collaborator.id)
            .options(selectinload(SupervisionVisit.hamlet), selectinload(SupervisionVisit.supervisor))
            .order_by(SupervisionVisit.visited_on.desc(), SupervisionVisit.id.desc()))


def recent_visits(collaborator: Collaborator, limit: int = 5) -> list[SupervisionVisit]:
    return list(db.session.scalars(
        select(SupervisionVisit).where(SupervisionVisit.collaborator_id == collaborator.id)
        .options(selectinload(SupervisionVisit.supervisor))
        .order_by(SupervisionVisit.visited_on.desc(), SupervisionVisit.id.desc()).limit(limit)))


# --- overdue visits and open follow-ups ---------------------------------------------------------


@dataclass(frozen=True)
class OverdueRow:
    collaborator_id: int
    full_name: str
    hamlet_id: int
    hamlet_name: str
    commune_id: int
    commune_name: str
    hamlet_path: str
    last_visit: date | None  # None: never visited
    since: date  # the last visit, or the day the collaborator started
    interval_days: int
    due_on: date
    days_overdue: int


def _last_seen(on: date):
    """SQL: the day a collaborator was last seen on ``on`` — their last visit on or before ``on``,
    else the day they started. The stored latest visit (``Collaborator.last_visited_on``) answers
    whenever it is not after ``on`` (always, for today: visits are never dated in the future);
    only a list as of an earlier day reads the visits, and only for who was visited since."""
    visit = aliased(SupervisionVisit)
    read = (select(func.max(visit.visited_on)).where(visit.collaborator_id == Collaborator.id, visit.visited_on <= on)
            .scalar_subquery())
    last = case((Collaborator.last_visited_on <= on, Collaborator.last_visited_on),
                (Collaborator.last_visited_on.is_(None), null()), else_=read)
    return func.coalesce(last, Collaborator.activated_on)


def _overdue_select(prefixes: Sequence[str], on: date, policies: Mapping[int, Policy], *, full: bool = True):
    """The overdue list as one select (columns only), in its order: most overdue first, then by
    commune, hamlet and name (folded), then id. A collaborator is overdue when the day they were
    last seen (:func:`_last_seen`) is before ``on`` minus their province's interval.
    ``full=False`` keeps only what counting needs."""
    a, in_area, placed = _placing(prefixes, on)
    cutoffs = {pid: on - timedelta(days=p.visit_interval_days) for pid, p in policies.items()}
    since = _last_seen(on).label("since")
    overdue = since < _by_province(a.hamlet_path, cutoffs)
    if not full:
        return (select(a.collaborator_id).join(Collaborator, Collaborator.id == a.collaborator_id)
                .where(*in_area, overdue, *placed))
    hamlet, commune = aliased(AdminUnit), aliased(AdminUnit)
    intervals = {pid: p.visit_interval_days for pid, p in policies.items()}
    if len(set(intervals.values())) <= 1:
        most_overdue_first = since  # rendered as its label: computed once a row
    else:  # the due date (last seen + the province's interval), earliest first
        most_overdue_first = _DayNumber(since) + _by_province(a.hamlet_path, intervals)
    return (select(a.collaborator_id, Candidate.full_name, a.hamlet_id, hamlet.name, commune.id, commune.full_name,
                   a.hamlet_path, since, Collaborator.activated_on)
            .join(Collaborator, Collaborator.id == a.collaborator_id)
            .join(Candidate, Candidate.id == Collaborator.candidate_id)
            .join(hamlet, hamlet.id == a.hamlet_id)
            .join(commune, commune.id == hamlet.parent_id)
            .where(*in_area, overdue, *placed)
            .order_by(most_overdue_first, *_place_and_name_order(commune, hamlet), a.collaborator_id))


def _overdue_rows(values: Sequence[tuple], on: date, policies: Mapping[int, Policy]) -> list[OverdueRow]:
    """The rows of a page; their last visits are read in one query (the sort needed only the
    day each collaborator was last seen, which may be their start)."""
    last = {}
    for ids in _chunks([v[0] for v in values]):
        last.update(db.session.execute(
            select(SupervisionVisit.collaborator_id, func.max(SupervisionVisit.visited_on))
            .where(SupervisionVisit.collaborator_id.in_(ids), SupervisionVisit.visited_on <= on)
            .group_by(SupervisionVisit.collaborator_id)).all())
    rows = []
    for cid, name, hamlet_id, hamlet_name, commune_id, commune_name, path, since, _activated_on in values:
        interval = policies[province_id_of(path)].visit_interval_days
        due_on = since + timedelta(days=interval)
        rows.append(OverdueRow(cid, name, hamlet_id, hamlet_name, commune_id, commune_name, path, last.get(cid), since,
                               interval, due_on, (on - due_on).days))
    return rows


def overdue_page(prefixes: Sequence[str], on: date, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of :func:`overdue_visits`, counted and cut by the database."""
    if not prefixes:
        return Page([], 0, 1, per_page)
    policies = _policies(prefixes, on)
    return _windowed_page(_overdue_select(prefixes, on, policies), page, per_page,
                          lambda values: _overdue_rows(values, on, policies))


def overdue_count(prefixes: Sequence[str], on: date) -> int:
    """How many collaborators :func:`overdue_visits` lists (one SQL COUNT)."""
    return count(_overdue_select(prefixes, on, _policies(prefixes, on), full=False)) if prefixes else 0


def overdue_visits(prefixes: Sequence[str], on: date) -> list[OverdueRow]:
    """Collaborators serving on ``on`` in the area whose latest visit on or before ``on`` is older
    than the province's ``visit_interval_days`` (policy_for; default 92 days = at least once a
    quarter, a proposal of DOMAIN.md §7.3), or who were never visited and started more than that
    many days before. Due date = last visit (or start) + interval; a visit exactly ``interval``
    days ago is not yet overdue. Most overdue first, then by commune, hamlet and name. The whole
    list (for exports and checks): pages use :func:`overdue_page`, counts :func:`overdue_count`.
    Computed by the database in one query, whatever the size of the area."""
    if not prefixes:
        return []
    policies = _policies(prefixes, on)
    return _overdue_rows(db.session.execute(_overdue_select(prefixes, on, policies)).all(), on, policies)


@dataclass(frozen=True)
class FollowUpRow:
    visit: SupervisionVisit
    overdue: bool  # due before ``on`` and still open
    days_late: int


def _open_follow_ups_select(prefixes: Sequence[str], on: date, collaborator_id: int | None = None):
    """Follow-ups open on ``on`` of visits filed in the area, in their order: by due date (so the
    overdue ones, due before ``on``, come first, the most late first), then the visit's date, id."""
    stmt = (select(SupervisionVisit)
            .where(in_areas(prefixes, SupervisionVisit.hamlet_path), SupervisionVisit.follow_up.is_not(None),
                   SupervisionVisit.visited_on <= on,
                   or_(SupervisionVisit.follow_up_closed_on.is_(None), SupervisionVisit.follow_up_closed_on > on))
            .order_by(case((SupervisionVisit.follow_up_due.is_(None), 1), else_=0), SupervisionVisit.follow_up_due,
                      SupervisionVisit.visited_on, SupervisionVisit.id))
    if collaborator_id is not None:
        stmt = stmt.where(SupervisionVisit.collaborator_id == collaborator_id)
    return stmt


def _follow_up_rows(visits: Sequence[SupervisionVisit], on: date) -> list[FollowUpRow]:
    rows = []
    for visit in visits:
        due = visit.follow_up_due
        late = (on - due).days if due is not None and due < on else 0
        rows.append(FollowUpRow(visit, late > 0, late))
    return rows


_FOLLOW_UP_LOADS = (selectinload(SupervisionVisit.collaborator).selectinload(Collaborator.candidate),
                    selectinload(SupervisionVisit.collaborator).selectinload(Collaborator.assignments),
                    selectinload(SupervisionVisit.hamlet).selectinload(AdminUnit.parent),
                    selectinload(SupervisionVisit.supervisor))


def open_follow_ups_page(prefixes: Sequence[str], on: date, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of :func:`open_follow_ups`, counted and cut by the database."""
    found = paginate(_open_follow_ups_select(prefixes, on).options(*_FOLLOW_UP_LOADS), page, per_page)
    return Page(_follow_up_rows(found.items, on), found.total, found.page, found.per_page)


def follow_up_counts(prefixes: Sequence[str], on: date) -> tuple[int, int]:
    """``(open, overdue)``: the follow-ups :func:`open_follow_ups` lists and those due before
    ``on`` (one SQL query)."""
    listed = _open_follow_ups_select(prefixes, on).order_by(None).subquery()
    total, late = db.session.execute(select(
        func.count(), func.coalesce(func.sum(case((listed.c.follow_up_due < on, 1), else_=0)), 0))).one()
    return int(total or 0), int(late or 0)


def open_follow_ups(prefixes: Sequence[str], on: date, *, collaborator_id: int | None = None) -> list[FollowUpRow]:
    """Follow-ups open on ``on`` (the visit on or before ``on``, not closed by then) of visits
    filed in the area: overdue ones (due before ``on``) first, most late first, then by due date.
    The whole list (one collaborator's, or for checks): pages use :func:`open_follow_ups_page`."""
    stmt = _open_follow_ups_select(prefixes, on, collaborator_id).options(*_FOLLOW_UP_LOADS)
    return _follow_up_rows(list(db.session.scalars(stmt)), on)


# --- professional-direction links ---------------------------------------------------------------


LINK_FIELDS = ["commune_id", "kind", "person_name", "position", "phone", "valid_from", "valid_to", "legal_basis"]


def links_on(commune: AdminUnit, on: date) -> list[ProfessionalLink]:
    """The commune's professional-direction links valid on ``on`` (LĐTBXH first, then VHTT)."""
    order = case((ProfessionalLink.kind == LinkKind.LABOUR_SOCIAL.value, 0), else_=1)
    return list(db.session.scalars(select(ProfessionalLink).where(ProfessionalLink.commune_id == commune.id,
                                                                  valid_on(ProfessionalLink, on))
                                   .order_by(order, ProfessionalLink.valid_from)))


def link_history(commune: AdminUnit) -> list[ProfessionalLink]:
    order = case((ProfessionalLink.kind == LinkKind.LABOUR_SOCIAL.value, 0), else_=1)
    return list(db.session.scalars(select(ProfessionalLink).where(ProfessionalLink.commune_id == commune.id)
                                   .order_by(order, ProfessionalLink.valid_from.desc(), ProfessionalLink.id.desc())))


def set_professional_link(commune: AdminUnit, *, kind: str, person_name: str, valid_from: date,
                          position: str | None = None, phone: str | None = None, legal_basis: str | None = None,
                          actor=None) -> ProfessionalLink:
    """Record who directs the commune's collaborators professionally from ``valid_from``: the
    commune's labour–invalids–social affairs or culture–sports officer (Đồng Nai KH 14676/KH-UBND,
    2021). A new holder closes the open link of the same kind on the day they start (history is
    kept); the start must then be after the current holder's start. A start inside an earlier,
    already closed period of the same kind is refused (periods never overlap). The start is bounded
    (``common.dates``): a year-9999 start would block every later holder."""
    if commune.level != UnitLevel.COMMUNE:
        raise ValidationFailed(_l("Chỉ xã, phường, đặc khu mới có cán bộ phụ trách chuyên môn."))
    check_effective_date(valid_from)
    try:
        kind = LinkKind(kind).value
    except ValueError:
        raise ValidationFailed(_l("Loại phụ trách chuyên môn không hợp lệ."), field="kind") from None
    person_name = _clean(person_name)
    if person_name is None:
        raise ValidationFailed(_l("Vui lòng nhập họ tên người phụ trách."), field="person_name")
    same_kind = list(db.session.scalars(select(ProfessionalLink).where(
        ProfessionalLink.commune_id == commune.id, ProfessionalLink.kind == kind).with_for_update()))
    current = next((link for link in same_kind if link.valid_to is None), None)
    if current is not None and valid_from <= current.valid_from:
        raise ValidationFailed(_l("Ngày bắt đầu phải sau ngày bắt đầu của người đang phụ trách (%(n)s, từ %(d)s).",
                                  n=current.person_name, d=_vn(current.valid_from)), field="valid_from")
    clash = next((link for link in same_kind if link.valid_to is not None and link.valid_to > valid_from), None)
    if clash is not None:
        raise ValidationFailed(_l("Ngày bắt đầu trùng với thời gian phụ trách của %(n)s (%(a)s – %(b)s).",
                                  n=clash.person_name, a=_vn(clash.valid_from), b=_vn(clash.valid_to)),
                               field="valid_from")
    before = None
    if current is not None:
        before = snapshot(current, ["id", "person_name", "valid_from", "valid_to"])
        current.valid_to = valid_from
        db.session.flush()  # the open-link unique index: close the old one before opening the new one
    link = ProfessionalLink(commune_id=commune.id, kind=kind, person_name=person_name, position=_clean(position),
                            phone=_clean(phone), valid_from=valid_from, legal_basis=_clean(legal_basis),
                            created_at=now(), created_by_id=getattr(actor, "id", None))
    db.session.add(link)
    db.session.flush()
    record("professional_link.set", link, label=f"{commune.full_name}: {person_name}", unit_path=commune.path,
           before={"closed": before} if before else None, after=snapshot(link, LINK_FIELDS), actor=actor)
    db.session.flush()
    return link


def end_professional_link(link: ProfessionalLink, *, valid_to: date, actor=None) -> ProfessionalLink:
    """End a link without a successor (the officer left); ``valid_to`` is the first day without
    it and must be after its start, and is bounded like a start (``common.dates``): an end cannot
    be moved, so one in year 9999 would block every later holder. An ended link stays in the history."""
    if link.valid_to is not None:
        raise Conflict(_l("Việc phụ trách này đã kết thúc từ %(d)s.", d=_vn(link.valid_to)))
    check_effective_date(valid_to, field="valid_to")
    if valid_to <= link.valid_from:
        raise ValidationFailed(_l("Ngày kết thúc phải sau ngày bắt đầu (%(d)s).", d=_vn(link.valid_from)),
                               field="valid_to")
    link.valid_to = valid_to
    record("professional_link.end", link, label=f"{link.commune.full_name}: {link.person_name}",
           unit_path=link.commune.path, before={"valid_to": None}, after={"valid_to": valid_to}, actor=actor)
    db.session.flush()
    return link


# --- monthly meetings (giao ban) ----------------------------------------------------------------


@dataclass
class RosterRow:
    collaborator: Collaborator
    hamlets: list[AdminUnit]
    attendance: MeetingAttendance | None = None


def _month_overlap(model, month: date):
    """SQL: a dated row is in force on at least one day of ``month``."""
    return and_(model.started_on < next_month(month),
                or_(model.ended_on.is_(None), and_(model.ended_on > month, model.ended_on > model.started_on)))


def _suspended_whole_month(month: date):
    return exists().where(Suspension.collaborator_id == Assignment.collaborator_id, Suspension.started_on <= month,
                          or_(Suspension.ended_on.is_(None), Suspension.ended_on >= next_month(month)))


def get_meeting(commune: AdminUnit, month: date) -> MonthlyMeeting | None:
    return db.session.scalar(select(MonthlyMeeting).where(MonthlyMeeting.commune_id == commune.id,
                                                          MonthlyMeeting.month == month_start(month)))


def meeting_roster(commune: AdminUnit, month: date) -> list[RosterRow]:
    """The collaborators expected at the commune's meeting of ``month``: everyone with an
    assignment in one of the commune's hamlets in force on at least one day of the month, except
    those suspended for the whole month (TT 02/2021/TT-BYT Art. 3.7: the collaborator attends the
    station's monthly meeting). Existing attendance of a recorded meeting is attached. Sorted by
    hamlet, then name."""
    month = month_start(month)
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.hamlet_path.startswith(commune.path, autoescape=True), _month_overlap(Assignment, month),
               ~_suspended_whole_month(month))
        .options(selectinload(Assignment.collaborator).selectinload(Collaborator.candidate),
                 selectinload(Assignment.hamlet))
        .order_by(Assignment.started_on))
    rows: dict[int, RosterRow] = {}
    for a in assignments:
        row = rows.setdefault(a.collaborator_id, RosterRow(a.collaborator, []))
        if a.hamlet not in row.hamlets:
            row.hamlets.append(a.hamlet)
    meeting = get_meeting(commune, month)
    if meeting is not None:
        for att in meeting.attendances:
            if att.collaborator_id in rows:
                rows[att.collaborator_id].attendance = att
    return sorted(rows.values(), key=lambda r: (fold(r.hamlets[0].name), fold(r.collaborator.full_name)))


def _attendance_value(value) -> tuple[bool, bool, str | None]:
    if not isinstance(value, tuple | list) or len(value) not in (2, 3):
        raise ValidationFailed(_l("Mỗi dòng điểm danh gồm: có dự họp, đã nộp phiếu P0 (và ghi chú nếu có)."))
    attended, p0 = bool(value[0]), bool(value[1])
    note = _clean(value[2]) if len(value) == 3 else None
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(_l("Ghi chú điểm danh dài quá %(n)d ký tự.", n=NOTE_MAX))
    return attended, p0, note


def _sheet(meeting: MonthlyMeeting) -> dict:
    return {"held_on": meeting.held_on, "note": meeting.note,
            "attendance": {str(a.collaborator_id): [a.attended, a.p0_submitted, a.note]
                           for a in sorted(meeting.attendances, key=lambda a: a.collaborator_id)}}


def record_meeting(commune: AdminUnit, *, month: date, held_on: date,
                   attendance: Mapping[int, tuple], note: str | None = None, actor=None) -> MonthlyMeeting:
    """Record the commune's monthly collaborators' meeting (giao ban) and, for each collaborator,
    whether they attended and handed in the P0/CTV slip (TT 02/2021/TT-BYT Art. 3.7; TT 01/2022/TT-BYT:
    the P0 slip is handed to the commune population officer at the monthly meeting).

    ``month`` is the month the meeting is for (any day of it; stored as the first day);
    ``attendance`` maps collaborator ids to ``(attended, p0_submitted)`` or
    ``(attended, p0_submitted, note)``. Rules: held in that month or later, never before it, and
    not in the future; every listed collaborator must be on the commune's roster for the month
    (:func:`meeting_roster`) — anyone else is refused; the sheet may not be empty. Recording the
    same month again updates the meeting and the listed rows (rows of collaborators not listed
    are kept) with before/after in the audit log, instead of failing."""
    if commune.level != UnitLevel.COMMUNE:
        raise ValidationFailed(_l("Giao ban CTV được ghi theo xã, phường, đặc khu."))
    month = month_start(month)
    if held_on < month:
        raise ValidationFailed(_l("Ngày họp không được trước tháng giao ban (%(m)s).", m=month.strftime("%m/%Y")),
                               field="held_on")
    if held_on > today():
        raise ValidationFailed(_l("Ngày họp không được ở tương lai."), field="held_on")
    if not attendance:
        raise ValidationFailed(_l("Bảng điểm danh chưa có cộng tác viên nào."))
    values = {int(cid): _attendance_value(v) for cid, v in attendance.items()}
    roster = {r.collaborator.id for r in meeting_roster(commune, month)}
    outsiders = sorted(set(values) - roster)
    if outsiders:
        names = dict(db.session.execute(select(Collaborator.id, Candidate.full_name)
                                        .join(Candidate, Candidate.id == Collaborator.candidate_id)
                                        .where(Collaborator.id.in_(outsiders))).all())
        raise ValidationFailed(_l("Không thuộc danh sách CTV của %(c)s trong tháng %(m)s: %(n)s.",
                                  c=commune.full_name, m=month.strftime("%m/%Y"),
                                  n=", ".join(names.get(i, f"#{i}") for i in outsiders)))
    meeting = get_meeting(commune, month)
    before = _sheet(meeting) if meeting is not None else None
    if meeting is None:
        meeting = MonthlyMeeting(commune_id=commune.id, commune_path=commune.path, month=month, held_on=held_on,
                                 note=_clean(note), created_at=now(), recorded_by_id=getattr(actor, "id", None))
        db.session.add(meeting)
    else:
        meeting.held_on = held_on
        meeting.note = _clean(note)
    existing = {a.collaborator_id: a for a in meeting.attendances}
    for cid, (attended, p0, row_note) in values.items():
        row = existing.get(cid)
        if row is None:
            meeting.attendances.append(MeetingAttendance(collaborator_id=cid, attended=attended, p0_submitted=p0,
                                                         note=row_note))
        else:
            row.attended, row.p0_submitted, row.note = attended, p0, row_note
    db.session.flush()
    label = f"{commune.full_name} – {month.strftime('%m/%Y')}"
    if before is None:
        record("meeting.record", meeting, label=label, unit_path=commune.path, after=_sheet(meeting), actor=actor)
    else:
        record("meeting.update", meeting, label=label, unit_path=commune.path, before=before, after=_sheet(meeting),
               actor=actor)
    db.session.flush()
    return meeting


@dataclass(frozen=True)
class MeetingSummary:
    meeting: MonthlyMeeting
    rows: int
    attended: int
    p0: int

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.rows if self.rows else None

    @property
    def p0_rate(self) -> float | None:
        return self.p0 / self.rows if self.rows else None


def meetings_query(commune: AdminUnit):
    """A select of the commune's recorded meetings, latest month first."""
    return (select(MonthlyMeeting).where(MonthlyMeeting.commune_id == commune.id)
            .order_by(MonthlyMeeting.month.desc()))


def summarise_meetings(meetings: Sequence[MonthlyMeeting]) -> list[MeetingSummary]:
    """For each meeting: rows on its sheet, how many attended, how many handed in the P0 slip
    (one grouped query)."""
    ids = [m.id for m in meetings]
    totals = {row[0]: row[1:] for row in db.session.execute(
        select(MeetingAttendance.meeting_id, func.count(),
               func.sum(case((MeetingAttendance.attended == true(), 1), else_=0)),
               func.sum(case((MeetingAttendance.p0_submitted == true(), 1), else_=0)))
        .where(MeetingAttendance.meeting_id.in_(ids)).group_by(MeetingAttendance.meeting_id))} if ids else {}
    return [MeetingSummary(m, *(int(x or 0) for x in totals.get(m.id, (0, 0, 0)))) for m in meetings]


def meeting_summaries(commune: AdminUnit) -> list[MeetingSummary]:
    return summarise_meetings(list(db.session.scalars(meetings_query(commune))))


def meetings_page(commune: AdminUnit, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the commune's meetings (latest month first) with their summaries."""
    found = paginate(meetings_query(commune), page, per_page)
    return Page(summarise_meetings(found.items), found.total, found.page, found.per_page)


def meeting_roster_count(commune: AdminUnit, month: date) -> int:
    """How many collaborators :func:`meeting_roster` lists for ``month`` (one SQL COUNT)."""
    month = month_start(month)
    return db.session.scalar(
        select(func.count(func.distinct(Assignment.collaborator_id)))
        .where(Assignment.hamlet_path.startswith(commune.path, autoescape=True), _month_overlap(Assignment, month),
               ~_suspended_whole_month(month))) or 0


def recent_attendance(collaborator: Collaborator, limit: int = 6) -> list[MeetingAttendance]:
    return list(db.session.scalars(
        select(MeetingAttendance).join(MonthlyMeeting, MonthlyMeeting.id == MeetingAttendance.meeting_id)
        .where(MeetingAttendance.collaborator_id == collaborator.id)
        .options(selectinload(MeetingAttendance.meeting).selectinload(MonthlyMeeting.commune))
        .order_by(MonthlyMeeting.month.desc()).limit(limit)))


# --- under review ---------------------------------------------------------------------------------


class Miss:
    ABSENT = "absent"  # did not attend (whatever the slip)
    NO_P0 = "no_p0"  # attended but did not hand in the P0 slip
    NO_RECORD = "no_record"  # expected at a recorded meeting, but not on its sheet


@dataclass(frozen=True)
class MissedMeeting:
    month: date
    held_on: date
    reason: str  # Miss.*


@dataclass(frozen=True)
class ReviewRow:
    collaborator_id: int
    full_name: str
    hamlet_id: int
    hamlet_name: str
    commune_id: int
    commune_name: str
    hamlet_path: str
    missed: list[MissedMeeting]


def _review_runs(prefixes: Sequence[str], on: date, policies: Mapping[int, Policy], most: int):
    """A subquery with one row per commune of the area whose meetings can put someone under
    review: its N most recent meetings for a month up to ``on``'s month and held on or before
    ``on`` (N = the province's ``missed_meetings_for_review``), when there are N of them for N
    consecutive calendar months. Columns: ``commune_id``, ``commune_path``, ``needed`` (N) and,
    for the i-th most recent meeting (i = 1..``most``; NULL beyond N), ``id_i``, ``month_i``,
    ``held_on_i``."""
    needed = _by_province(MonthlyMeeting.commune_path,
                          {pid: p.missed_meetings_for_review for pid, p in policies.items()})
    area = or_(in_areas(prefixes, MonthlyMeeting.commune_path),
               MonthlyMeeting.commune_path.in_(sorted({a for p in prefixes for a in ancestor_paths(p)[:-1]})))
    month_number = extract("year", MonthlyMeeting.month) * 12 + extract("month", MonthlyMeeting.month)
    recent = (select(MonthlyMeeting.id, MonthlyMeeting.commune_id, MonthlyMeeting.commune_path, MonthlyMeeting.month,
                     MonthlyMeeting.held_on, needed.label("needed"), month_number.label("number"),
                     func.row_number().over(partition_by=MonthlyMeeting.commune_id,
                                            order_by=MonthlyMeeting.month.desc()).label("recency"))
              .where(area, MonthlyMeeting.month <= on, MonthlyMeeting.held_on <= on)
              .subquery())
    columns = [func.max(case((recent.c.recency == i, getattr(recent.c, name)))).label(f"{name}_{i}")
               for i in range(1, most + 1) for name in ("id", "month", "held_on")]
    return (select(recent.c.commune_id, recent.c.commune_path, recent.c.needed, *columns)
            .where(recent.c.recency <= recent.c.needed)
            .group_by(recent.c.commune_id, recent.c.commune_path, recent.c.needed)
            # N meetings whose months span N-1 months: N months in a row.
            .having(func.count() == recent.c.needed,
                    func.max(recent.c.number) - func.min(recent.c.number) == recent.c.needed - 1)
            .subquery("runs"))


def _review_select(prefixes: Sequence[str], on: date, policies: Mapping[int, Policy]):
    """Parts of the under-review query: ``(a, runs, reasons, stmt)`` — the placing assignment
    of each collaborator serving in the area whose commune has a run, the run, the reason the
    collaborator missed the run's i-th meeting (NULL: not missed) and the select of those who
    missed every meeting of their run (columns ``collaborator_id``, ``hamlet_id``,
    ``hamlet_path``). One attendance lookup per meeting and collaborator, the latest meeting
    first, so whoever attended it is left at once."""
    most = max(p.missed_meetings_for_review for p in policies.values())
    a, in_area, placed = _placing(prefixes, on)
    runs = _review_runs(prefixes, on, policies, most)
    hamlet = aliased(AdminUnit)
    stmt = (select(a.collaborator_id, a.hamlet_id, a.hamlet_path).select_from(a)
            .join(hamlet, hamlet.id == a.hamlet_id)
            .join(runs, runs.c.commune_id == hamlet.parent_id))
    reasons, missed_every = [], []
    for i in range(1, most + 1):
        row, other = aliased(MeetingAttendance), aliased(Assignment)
        meeting_id, held_on = getattr(runs.c, f"id_{i}"), getattr(runs.c, f"held_on_{i}")
        stmt = stmt.outerjoin(row, and_(row.meeting_id == meeting_id, row.collaborator_id == a.collaborator_id))
        # No row on the sheet is a miss only for who served in the commune that day, not suspended.
        served_that_day = exists().where(
            other.collaborator_id == a.collaborator_id, other.hamlet_path.startswith(runs.c.commune_path),
            other.started_on <= held_on, or_(other.ended_on.is_(None), other.ended_on > held_on))
        suspended_that_day = exists().where(
            Suspension.collaborator_id == a.collaborator_id, Suspension.started_on <= held_on,
            or_(Suspension.ended_on.is_(None), Suspension.ended_on > held_on))
        reason = case((and_(row.id.is_not(None), row.attended == false()), Miss.ABSENT),
                      (and_(row.id.is_not(None), row.p0_submitted == false()), Miss.NO_P0),
                      (and_(row.id.is_(None), meeting_id.is_not(None), served_that_day, ~suspended_that_day),
                       Miss.NO_RECORD))
        reasons.append(reason)
        missed_every.append(or_(runs.c.needed < i, reason.is_not(None)))
    # The placement is checked only for who missed the latest meeting (a CASE keeps PostgreSQL
    # from turning it into an anti-join over everyone); most attended and are left at once.
    missed_then_placed = case((missed_every[0], and_(*placed)), else_=false())
    return a, runs, reasons, stmt.where(*in_area, missed_then_placed, *missed_every[1:])


def _under_review_select(prefixes: Sequence[str], on: date, policies: Mapping[int, Policy], *, full: bool = True):
    """The under-review list as one select (one row per collaborator, columns only), ordered by
    commune, hamlet and name (folded), then id; names are joined for those listed only.
    ``full=False`` keeps only what counting needs."""
    _a, _runs, _reasons, found = _review_select(prefixes, on, policies)
    if not full:
        return found
    listed = found.subquery("listed")
    hamlet, commune = aliased(AdminUnit), aliased(AdminUnit)
    return (select(listed.c.collaborator_id, Candidate.full_name, listed.c.hamlet_id, hamlet.name, commune.id,
                   commune.full_name, listed.c.hamlet_path)
            .join(Collaborator, Collaborator.id == listed.c.collaborator_id)
            .join(Candidate, Candidate.id == Collaborator.candidate_id)
            .join(hamlet, hamlet.id == listed.c.hamlet_id)
            .join(commune, commune.id == hamlet.parent_id)
            .order_by(*_place_and_name_order(commune, hamlet), listed.c.collaborator_id))


def _review_rows(values: Sequence[tuple], prefixes: Sequence[str], on: date,
                 policies: Mapping[int, Policy]) -> list[ReviewRow]:
    """The rows of a page, with the meetings each one missed, latest first (one query)."""
    if not values:
        return []
    a, runs, reasons, found = _review_select(prefixes, on, policies)
    columns = [runs.c.needed]
    for i, reason in enumerate(reasons, start=1):
        columns += [getattr(runs.c, f"month_{i}"), getattr(runs.c, f"held_on_{i}"), reason]
    missed: dict[int, list[MissedMeeting]] = {}
    for ids in _chunks([v[0] for v in values]):
        for cid, needed, *run in db.session.execute(
                found.with_only_columns(a.collaborator_id, *columns).where(a.collaborator_id.in_(ids))):
            missed[cid] = [MissedMeeting(*run[3 * i:3 * i + 3]) for i in range(needed)]
    return [ReviewRow(cid, name, hamlet_id, hamlet_name, commune_id, commune_name, path, missed.get(cid, []))
            for cid, name, hamlet_id, hamlet_name, commune_id, commune_name, path in values]


def under_review_page(prefixes: Sequence[str], on: date, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of :func:`under_review`, counted and cut by the database."""
    if not prefixes:
        return Page([], 0, 1, per_page)
    policies = _policies(prefixes, on)
    return _windowed_page(_under_review_select(prefixes, on, policies), page, per_page,
                          lambda values: _review_rows(values, prefixes, on, policies))


def under_review_count(prefixes: Sequence[str], on: date) -> int:
    """How many collaborators :func:`under_review` lists (one SQL COUNT)."""
    return count(_under_review_select(prefixes, on, _policies(prefixes, on), full=False)) if prefixes else 0


def under_review(prefixes: Sequence[str], on: date) -> list[ReviewRow]:
    """Collaborators serving on ``on`` who missed the meetings of the last N consecutive months
    (DOMAIN.md §7.2, a proposal: "P0/CTV slip not submitted by the monthly meeting for 2 months
    in a row" and "missed monthly meetings"), N = the province's ``missed_meetings_for_review``
    (default 2).

    Precisely: take the collaborator's commune on ``on`` (the assignment in force, primary first)
    and its N most recent recorded meetings for a month up to ``on``'s month and held on or
    before ``on``. The collaborator is under review when there are N of them, they are for N
    consecutive calendar months (a month without a recorded meeting breaks the run: nothing can
    be concluded over it), and the collaborator missed every one. Missing a meeting means being
    marked absent, or attending without handing in the P0 slip, or having no row on the sheet of
    a meeting held on a day they served in the commune (not suspended that day). A meeting held
    before they joined the commune is not a miss, so a newcomer is never under review for it.
    One attended meeting with the slip in the run clears the collaborator.

    Ordered by commune, hamlet and name. The whole list (for exports and checks): pages use
    :func:`under_review_page`, counts :func:`under_review_count`. Computed by the database (a
    window over the communes' meetings, one row per collaborator and meeting of the run), in a
    fixed number of queries whatever the size of the area."""
    if not prefixes:
        return []
    policies = _policies(prefixes, on)
    values = db.session.execute(_under_review_select(prefixes, on, policies)).all()
    return _review_rows(values, prefixes, on, policies)


# --- the dashboard -------------------------------------------------------------------------------


def dashboard_counts(prefixes: Sequence[str], on: date) -> dict[str, int]:
    """The dashboard's figures for the area on ``on``: overdue visits, open follow-ups (and how
    many are past due), collaborators under review."""
    open_follow_ups, late_follow_ups = follow_up_counts(prefixes, on)
    return {"overdue": overdue_count(prefixes, on), "follow_ups": open_follow_ups,
            "follow_ups_late": late_follow_ups, "under_review": under_review_count(prefixes, on)}


# --- the area's communes (for the dashboard) ----------------------------------------------------


@dataclass(frozen=True)
class CommuneStatus:
    commune: AdminUnit
    last_meeting: date | None
    links: int


def _communes_select(prefixes: Sequence[str], on: date):
    """The communes of the area valid on ``on``, by folded name."""
    return (select(AdminUnit).where(AdminUnit.level == UnitLevel.COMMUNE.value, valid_on(AdminUnit, on),
                                    in_areas(prefixes, AdminUnit.path))
            .order_by(bytewise(AdminUnit.search_text), AdminUnit.id))


def communes_page(prefixes: Sequence[str], on: date, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the area's communes (valid on ``on``, by name) with their last recorded
    meeting month and the number of professional-direction links in force: the page by
    LIMIT/OFFSET, then two grouped queries over the page's communes."""
    found = paginate(_communes_select(prefixes, on), page, per_page)
    ids = [c.id for c in found.items]
    last, links = {}, {}
    if ids:
        last = dict(db.session.execute(select(MonthlyMeeting.commune_id, func.max(MonthlyMeeting.month))
                                       .where(MonthlyMeeting.commune_id.in_(ids))
                                       .group_by(MonthlyMeeting.commune_id)).all())
        links = dict(db.session.execute(select(ProfessionalLink.commune_id, func.count())
                                        .where(ProfessionalLink.commune_id.in_(ids), valid_on(ProfessionalLink, on))
                                        .group_by(ProfessionalLink.commune_id)).all())
    return found.map(lambda c: CommuneStatus(c, last.get(c.id), links.get(c.id, 0)))


COMMUNE_CHOICES_MAX = 400  # beyond that a drop-down list is no help (a national user has 3,321)


def commune_choices(prefixes: Sequence[str], on: date) -> list[tuple[int, str]]:
    """``(id, full name)`` of the area's communes for a list's commune filter, by name; empty
    when the area has more than :data:`COMMUNE_CHOICES_MAX` of them (the filter is then hidden;
    ``?commune=`` still works)."""
    stmt = _communes_select(prefixes, on).with_only_columns(AdminUnit.id, AdminUnit.full_name)
    rows = db.session.execute(stmt.limit(COMMUNE_CHOICES_MAX + 1)).all()
    return [] if len(rows) > COMMUNE_CHOICES_MAX else [tuple(r) for r in rows]


# --- the collaborator's profile -----------------------------------------------------------------


@dataclass(frozen=True)
class ProfileSection:
    """What the supervision part of a collaborator's profile shows."""

    chain: SupervisionChain
    visits: list[SupervisionVisit]
    follow_ups: list[FollowUpRow]
    meetings: list[MeetingAttendance]
    can_record: bool


def profile_section(collaborator: Collaborator, on: date, user) -> ProfileSection:
    """For ``supervision/_profile_section.html`` (the collaborator's profile passes it as
    ``supervision_section``): the chain on ``on``, the last visits with their scores, the open
    follow-ups filed in ``user``'s scope, the last meetings (attended, P0 slip), and whether
    ``user`` may record a visit."""
    return ProfileSection(
        chain=supervision_chain_for(collaborator, on),
        visits=recent_visits(collaborator),
        follow_ups=open_follow_ups(scope_of(user).prefixes, on, collaborator_id=collaborator.id),
        meetings=recent_attendance(collaborator),
        can_record=can_record_for_collaborator(user, collaborator))

"""What the home page shows each user: the units in their scope with headline counts, and what
waits for them (the "Việc cần làm" panel, :func:`todo_for`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select

from ..auth.models import EDITING_ROLES, Role, RoleGrant, User
from ..auth.permissions import Scope
from ..collaborators.services import pending_handovers_query
from ..common.clock import today
from ..common.paging import Page, count, paginate
from ..coverage.chart import TrendChart, trend_chart
from ..coverage.services import CoverageSummary, hamlet_frame, oldest_vacancies, summarise, trend
from ..extensions import db
from ..recruitment.models import Application, CriteriaSet
from ..recruitment.services import VacancyFilters, in_force_by_province, vacancy_totals
from ..recruitment.workflow import TRANSITIONS, Action, Approver, State, allowed_roles, target_state
from ..supervision.services import follow_up_counts, overdue_count
from ..targets.services import TargetsPanel, dashboard_targets
from ..units.models import AdminUnit, Facility, FacilityKind
from ..units.services import (
    UnitCounts,
    facilities_serving_units,
    in_areas,
    path_filter,
    province_id_of,
    unit_stats,
    valid_on,
)

# The home lists at most this many stations without an officer by name, then counts the rest.
STATIONS_LISTED = 10


@dataclass
class ScopeEntry:
    unit: AdminUnit
    roles: list[Role]
    counts: UnitCounts
    facility_names: list[str]


@dataclass
class HomeOverview:
    entries: list[ScopeEntry]
    grants: list[RoleGrant]
    stations_without_officer: Page  # the first few, and how many in all

    @property
    def empty(self) -> bool:
        return not self.entries


def home_overview(user, scope: Scope) -> HomeOverview:
    day = today()
    units = {u.path: u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.path.in_(scope.prefixes)))}
    stats = unit_stats(list(units.values()), day)
    serving = facilities_serving_units(list(units.values()), day)
    entries = []
    for path in sorted(units, key=lambda p: (units[p].level != "province", units[p].code or "", units[p].name)):
        unit = units[path]
        entries.append(ScopeEntry(
            unit=unit, roles=sorted(scope.roles_at(path)), counts=stats[unit.id],
            facility_names=[f.name for f in serving[unit.id]][:1],
        ))
    grants = list(db.session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id, valid_on(RoleGrant, day))))
    return HomeOverview(entries=entries, grants=grants,
                        stations_without_officer=paginate(stations_without_officer_query(scope.prefixes, day),
                                                          1, STATIONS_LISTED))


def stations_without_officer(prefixes: list[str], on: date) -> list[Facility]:
    """Every station of :func:`stations_without_officer_query` (a commune's, a short list)."""
    return list(db.session.scalars(stations_without_officer_query(prefixes, on)))


def stations_without_officer_query(prefixes: list[str], on: date):
    """Commune health stations in the areas, open on the date, where no active account holds
    the station population officer's role (viên chức dân số) on that date. The Đồng Nai plan
    KH 14676/KH-UBND keeps one population officer per station, who runs the monthly meeting and
    checks the Sổ A0 (TT 01/2022/TT-BYT); a station without one goes unnoticed otherwise."""
    officer = (select(RoleGrant.id).join(User, User.id == RoleGrant.user_id)
               .where(RoleGrant.facility_id == Facility.id, RoleGrant.role == Role.STATION_OFFICER.value,
                      valid_on(RoleGrant, on), User.active))
    return (select(Facility).join(AdminUnit, AdminUnit.id == Facility.unit_id)
            .where(Facility.kind == FacilityKind.STATION.value, valid_on(Facility, on),
                   path_filter(prefixes, AdminUnit.path), ~exists(officer))
            .order_by(AdminUnit.search_text, Facility.id))


# --- what waits for the user ("Việc cần làm") ------------------------------------------------------


@dataclass(frozen=True)
class TodoItem:
    """One line of the home's to-do panel: what waits, how many, and the list that shows them."""

    key: str
    label: str
    count: int
    endpoint: str
    args: dict = field(default_factory=dict)
    late: int = 0  # of ``count``, how many are past their due date (follow-ups)
    group: str = "network"  # "selection" (recruitment) or "network" (collaborators in post)


@dataclass(frozen=True)
class SelectionStep:
    """A step of the selection that waits for someone: applications in ``state`` on which
    ``action`` is the next move (recruitment/workflow.py says who may take it). ``decided``
    splits the approved ones: without a recognition decision (False: a decision to issue) or
    with one (True: a contract to record)."""

    key: str
    label: str
    state: State
    action: Action
    endpoint: str
    args: dict = field(default_factory=dict)
    decided: bool | None = None

    def condition(self):
        cond = Application.state == self.state.value
        if self.decided is True:
            return and_(cond, Application.decision_id.is_not(None))
        if self.decided is False:
            return and_(cond, Application.decision_id.is_(None))
        return cond


_LIST = "recruitment.applications"
SELECTION_STEPS = (
    SelectionStep("complete", _l("Hồ sơ mới được giới thiệu, cần hoàn thiện"), State.NOMINATED,
                  Action.COMPLETE_DOSSIER, _LIST, {"state": State.NOMINATED.value}),
    SelectionStep("returned", _l("Hồ sơ bị trả lại, cần bổ sung"), State.RETURNED, Action.COMPLETE_DOSSIER, _LIST,
                  {"state": State.RETURNED.value}),
    SelectionStep("screen", _l("Hồ sơ đủ, cần sàng lọc"), State.DOSSIER_COMPLETE, Action.SCREEN, _LIST,
                  {"state": State.DOSSIER_COMPLETE.value}),
    SelectionStep("review", _l("Hồ sơ đã sàng lọc, cần thẩm định tại trạm"), State.SCREENED, Action.REVIEW, _LIST,
                  {"state": State.SCREENED.value}),
    SelectionStep("submit", _l("Hồ sơ đã thẩm định, cần trình phê duyệt"), State.STATION_REVIEWED, Action.SUBMIT,
                  "recruitment.submit_batch"),
    SelectionStep("approve", _l("Hồ sơ chờ phê duyệt"), State.SUBMITTED, Action.APPROVE, "recruitment.approvals"),
    SelectionStep("confirm", _l("Hồ sơ chờ UBND xã xác nhận"), State.DIRECTOR_APPROVED, Action.CONFIRM,
                  "recruitment.approvals"),
    # Whoever may record the contract puts the application in a decision (issue_decision's check).
    SelectionStep("decide", _l("Hồ sơ đã phê duyệt, chờ ban hành quyết định công nhận"), State.APPROVED,
                  Action.CONTRACT, "recruitment.new_decision", decided=False),
    SelectionStep("contract", _l("Đã có quyết định công nhận, cần ghi hợp đồng trách nhiệm"), State.APPROVED,
                  Action.CONTRACT, _LIST, {"state": State.APPROVED.value}, decided=True),
    SelectionStep("activate", _l("Đã ký hợp đồng, cần ghi ngày bắt đầu hoạt động"), State.CONTRACTED,
                  Action.ACTIVATE, _LIST, {"state": State.CONTRACTED.value}),
)
# Every role that takes some step of the selection, whatever the province's approver.
SELECTION_ROLES = frozenset().union(*(allowed_roles(s, a, approver) for s, a in TRANSITIONS for approver in Approver))
# Supervision visits, follow-ups and Sổ A0 hand-overs are recorded by every editing role
# (collaborators.permissions.RECORDING_ROLES); the same roles follow the hamlets left with nobody.
NETWORK_ROLES = EDITING_ROLES


def approvers_in_force(province_ids, on: date) -> dict[int, Approver]:
    """Who approves in each province on ``on``: the approver of the criteria version in force
    (``recruitment.services.in_force_by_province``). A province without criteria is left out:
    its applications offer no action until the province sets them."""
    return {p: Approver(a) for p, a in in_force_by_province(province_ids, on, CriteriaSet.approver).items()}


def reachable_states(approver: Approver) -> frozenset[State]:
    """The states an application can be in under ``approver``: a province where the centre or
    the station director approves alone never has one awaiting the commune's confirmation."""
    return frozenset({State.NOMINATED} | {target_state(s, a, approver) for s, a in TRANSITIONS})


def _areas(scope: Scope, keep: Callable[[str, frozenset[Role]], bool]) -> list[str]:
    """The scope's paths whose roles pass ``keep``, without those inside another kept one."""
    return Scope({p: roles for p, roles in scope.paths.items() if keep(p, roles)}).prefixes


def _selection_counts(scope: Scope, on: date) -> list[TodoItem]:
    """The selection steps this user takes somewhere in the scope, each counted over the areas
    where they hold a role allowed to take it there (the province's approver decides who
    approves: ``workflow.allowed_roles``), all in one aggregate query over the applications."""
    approvers = approvers_in_force({province_id_of(p) for p, roles in scope.paths.items()
                                    if roles & SELECTION_ROLES}, on)
    if not approvers:
        return []
    reachable = {approver: reachable_states(approver) for approver in set(approvers.values())}
    steps = []
    for step in SELECTION_STEPS:
        def may_act(path, roles, step=step):
            approver = approvers.get(province_id_of(path))
            return (approver is not None and step.state in reachable[approver]
                    and bool(roles & allowed_roles(step.state, step.action, approver)))

        areas = _areas(scope, may_act)
        if areas:
            steps.append((step, areas))
    if not steps:
        return []
    everywhere = Scope(dict.fromkeys((p for _, areas in steps for p in areas), frozenset())).prefixes
    counts = db.session.execute(
        select(*(func.count(case((and_(step.condition(), in_areas(areas, Application.hamlet_path)), 1)))
                 for step, areas in steps))
        .where(Application.state.in_(sorted({step.state.value for step, _ in steps})),
               in_areas(everywhere, Application.hamlet_path))).one()
    return [TodoItem(step.key, step.label, int(n or 0), step.endpoint, step.args, group="selection")
            for (step, _), n in zip(steps, counts, strict=True)]


def _network_counts(scope: Scope, on: date) -> list[TodoItem]:
    """Collaborators overdue for a supervision visit and follow-ups still open (the counts of
    supervision.services: the province's visit interval, a proposal of DOMAIN.md §7.3), Sổ A0
    hand-overs not yet recorded (TT 01/2022/TT-BYT) and hamlets with no collaborator in post
    (TT 02/2021/TT-BYT: at least one per hamlet; the count the vacancy list shows), over the
    areas where the user holds a recording role."""
    areas = _areas(scope, lambda _path, roles: bool(roles & NETWORK_ROLES))
    if not areas:
        return []
    open_follow_ups, late = follow_up_counts(areas, on)
    return [
        TodoItem("overdue", _l("CTV quá hạn giám sát"), overdue_count(areas, on), "supervision.overdue"),
        TodoItem("follow_ups", _l("Việc cần khắc phục sau giám sát chưa xong"), open_follow_ups,
                 "supervision.follow_ups", late=late),
        TodoItem("handovers", _l("Sổ A0 chờ bàn giao"), count(pending_handovers_query(areas)),
                 "collaborators.handovers"),
        TodoItem("vacant", _l("Thôn, tổ dân phố chưa có CTV"), vacancy_totals(areas, VacancyFilters(on)).empty,
                 "recruitment.vacancies"),
    ]


def todo_for(scope: Scope, on: date) -> list[TodoItem]:
    """What waits for the user on ``on`` (issue #9 item 19), one line per kind of work they can
    act on, in the order of the work: the selection steps (recruitment/workflow.py: complete,
    screen, review, submit, approve, confirm, issue the decision, record the contract, start),
    then the network (overdue supervision, open follow-ups, Sổ A0 hand-overs, hamlets without a
    collaborator). A line the user's roles cannot act on is left out (a viewer has none); a line
    with nothing waiting is kept, with 0. Each count is made by the database over the user's
    areas — a fixed handful of queries, whatever the size of the area."""
    return _selection_counts(scope, on) + _network_counts(scope, on)


# --- the coverage dashboard ------------------------------------------------------------------------

# The dashboard names this many hamlets left longest without a collaborator.
OLDEST_LISTED = 5
TREND_MONTHS = 12


@dataclass(frozen=True)
class VacantHamlet:
    hamlet_id: int
    name: str
    days_vacant: int  # since the last collaborator left, or since the hamlet came into force
    pending: bool  # a candidate is in the selection for it


@dataclass(frozen=True)
class CoverageDashboard:
    """The home's coverage panel (issue #10 item 4): the figures of the user's whole area, the
    % of hamlets covered at the end of each of the last 12 months, the hamlets vacant longest
    and the collaborators overdue for a supervision visit. Plain values only (kept by
    ``common.cache.wide_scope`` for a multi-province area)."""

    summary: CoverageSummary
    trend: list[tuple[date, float | None]]
    oldest: list[VacantHamlet]
    overdue: int
    # This year's annual targets (issue #11 item 4): a commune's lines, or "N/M xã đạt chỉ tiêu".
    targets: TargetsPanel | None = None

    @property
    def chart(self) -> TrendChart:
        return trend_chart(self.trend)


def coverage_dashboard(scope: Scope, on: date) -> CoverageDashboard | None:
    """The coverage panel of a user's area on ``on`` (None for a user without any area): the
    coverage computation of ``coverage/`` (one hamlet frame, the status rules of
    TT 02/2021/TT-BYT and the province's quota), its 12-month trend, and the overdue count of
    ``supervision.services`` (the province's visit interval), and this year's annual targets
    (``targets.services.dashboard_targets``, on the same coverage frame)."""
    prefixes = scope.prefixes
    if not prefixes:
        return None
    frame = hamlet_frame(prefixes, on)
    oldest = [VacantHamlet(int(r.hamlet_id), str(r.full_name), int(r.days_vacant), r.status == "pending")
              for r in oldest_vacancies(frame, OLDEST_LISTED).itertuples()]
    return CoverageDashboard(summary=summarise(frame, on), trend=trend(prefixes, TREND_MONTHS, on), oldest=oldest,
                             overdue=overdue_count(prefixes, on),
                             targets=dashboard_targets(prefixes, on, frame=frame))

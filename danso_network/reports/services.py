"""The network report (issue #11 item 3): a year, a quarter or a month of the collaborator network,
one row per commune and one per area health centre, with totals; on a page and as XLSX and PDF.

Every figure reuses a definition written elsewhere, and is read by SQL aggregates grouped by
commune: a fixed number of queries whatever the area (the whole country answers in seconds).

The period (:class:`Period`): a calendar year, quarter or month, ``first_day`` to ``end``; a
period not over yet ends today (Vietnam's date, ``common.clock.today``), so its figures are
those known so far. Each figure, per commune:

- **collaborators at the start / at the end**: the roster's count
  (``collaborators.services.roster_page``, no filter): the assignments in force on the day,
  collaborators active or suspended, one line per hamlet served (a collaborator covering an
  additional hamlet is listed, and counted, in each, as on the roster and the quota page). "At
  the start" is the roster of the day before the period (the close of the previous period: 31/12
  for a year), "at the end" the roster of its last day (or today); so that start + appointed −
  left = end, but for transfers between communes, returns and additional hamlets;
- **appointed**: collaborators whose first activation (``Collaborator.activated_on``) falls in the
  period, counted in the commune of their first assignment;
- **left**: collaborators whose service ended in the period (``S ≤ ended_on ≤ E``: not on the
  roster of the end, on the roster the day before) — their primary assignment closed for one of
  the reasons a user gives when terminating (``collaborators.models.TERMINATION_REASONS``), with
  no other assignment of theirs in force the next day. A transfer (``transferred``) or the end of
  an additional hamlet (``cover_ended``) is not a departure. Counted once per person (a
  termination closes the additional hamlets too), by reason;
- **turnover %** = left ÷ ((start + end) ÷ 2) × 100 (none when both are 0);
- **hamlets, covered, vacant, average vacancy age, households per collaborator**: the coverage
  computation on the period's end (``coverage.services.hamlet_frame`` summed by
  ``coverage.rules.aggregate(frame, "commune")``): covered = at or above the quota; vacant =
  nobody active (vacant or pending, TT 02/2021/TT-BYT: at least one per hamlet); average vacancy
  age = the mean of ``days_vacant`` over those hamlets; households per collaborator = households
  ÷ active collaborators (as on the quota page);
- **trainings and attendance**: the courses starting in the period that people of the commune
  attended or that the commune organised (each course once: a centre's or the total's count is
  of distinct courses), and the attendance rows of people of the commune on them. A person is of
  the commune of their primary assignment in force on the course's first day, else of their
  residence (training before appointment counts, ``training.services``);
- **supervision visits done** (visits dated in the period, filed under the hamlet of the visit)
  **against due**: one visit per ``visit_interval_days`` of active service
  (``collaborators.policy``: the province's policy in force on the period's end, 92 days by
  default — at least once a quarter, DOMAIN.md §7.3), i.e. due = Σ days served in the period
  (primary assignments, days under a suspension left out: a suspended collaborator is not
  visited, ``supervision.services.record_visit``) ÷ the interval, rounded half up per commune;
  a year of service is ≈ 4 visits, a month ≈ 0.34;
- **meetings held, attendance and P0 slips**: the monthly meeting rows (``supervision.models``)
  of the months of the period, the collaborators marked present and those who handed in the P0
  slip (TT 01/2022/TT-BYT);
- **allowance paid**: the monthly allowance sheets (``allowances.services``) of the months of the
  period that are over on its end (a month still running is not paid yet), summed per commune
  (:func:`_allowance_by_commune`).

Centre rows sum the figures of the communes each centre serves on the period's end
(``units.models.ServiceArea``, a centre's service area being the commune or an ancestor); a
commune served by two centres counts in each, one served by none in no centre row. Totals are the
sum of the commune rows (courses counted once).
"""

from __future__ import annotations

import enum
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, and_, case, distinct, exists, false, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from ..allowances.models import Zone
from ..allowances.services import (
    COMMUNE_CATEGORY_OF_TYPE,
    SheetContext,
    month_end,
    round_half_up,
    sheet_summary,
)
from ..auth.permissions import landing_of, scope_of
from ..collaborators.labels import end_reason_label
from ..collaborators.models import TERMINATION_REASONS, Assignment, AssignmentKind, Collaborator, Suspension
from ..collaborators.policy import policies_for
from ..common import clock
from ..coverage import rules as coverage_rules
from ..coverage import services as coverage
from ..errors import MAX_ID, NotFound, PermissionDenied, ValidationFailed
from ..exports.document import Column, Document, Heading, Kind, Sheet
from ..exports.heading import heading_for
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.services import JobFile
from ..recruitment.models import Candidate
from ..supervision.models import MeetingAttendance, MonthlyMeeting, SupervisionVisit
from ..supervision.services import commune_choices
from ..targets.labels import TARGET_LABELS, verdict_label
from ..targets.models import TARGET_KINDS
from ..targets.services import scorecards, targets_for
from ..textnorm import fold, slug
from ..training.models import TrainingAttendance, TrainingCourse
from ..units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel
from ..units.services import in_areas, path_ids, province_id_of, served_units, units_at_paths, valid_on
from .permissions import can_view_centre_report, can_view_scope_report, can_view_unit_report

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
REASONS = tuple(r.value for r in TERMINATION_REASONS)


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- the period ------------------------------------------------------------------------------------


class PeriodKind(enum.StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """A calendar year, quarter or month, from ``first_day`` to ``end``: its last day
    (``last_day``), or today when the period is not over yet (the figures known so far). Made by
    :meth:`of`, which refuses a period that has not begun."""

    year: int
    quarter: int | None
    month: int | None
    first_day: date
    last_day: date  # the calendar's last day of the period
    end: date  # last_day, or today while the period runs

    @classmethod
    def of(cls, year: int, *, quarter: int | None = None, month: int | None = None,
           today: date | None = None) -> Period:
        """The period of ``year`` (its ``quarter`` 1–4 or ``month`` 1–12, not both). Refused
        (ValidationFailed) when the numbers are out of range or the period begins after today."""
        today = today or clock.today()
        if quarter is not None and month is not None:
            raise ValidationFailed(_l("Chọn một quý hoặc một tháng, không chọn cả hai."), field="period")
        if not 2000 <= year <= 2100:
            raise ValidationFailed(_l("Năm báo cáo %(y)s không hợp lệ.", y=year), field="year")
        if quarter is not None and not 1 <= quarter <= 4:
            raise ValidationFailed(_l("Quý phải từ 1 đến 4."), field="quarter")
        if month is not None and not 1 <= month <= 12:
            raise ValidationFailed(_l("Tháng phải từ 1 đến 12."), field="month")
        if month is not None:
            first = date(year, month, 1)
            last = month_end(first)
        elif quarter is not None:
            first = date(year, 3 * quarter - 2, 1)
            last = month_end(date(year, 3 * quarter, 1))
        else:
            first, last = date(year, 1, 1), date(year, 12, 31)
        period = cls(year, quarter, month, first, last, min(last, today))
        if first > today:
            raise ValidationFailed(_l("Kỳ báo cáo %(p)s chưa bắt đầu (hôm nay là %(d)s).", p=period.label,
                                      d=_vn(today)), field="year")
        return period

    @property
    def kind(self) -> PeriodKind:
        return PeriodKind.MONTH if self.month else PeriodKind.QUARTER if self.quarter else PeriodKind.YEAR

    @property
    def over(self) -> bool:
        return self.end == self.last_day

    @property
    def opening_day(self) -> date:
        """The day whose roster is the period's start: the day before it begins."""
        return self.first_day - timedelta(days=1)

    @property
    def label(self) -> str:
        """"năm 2026", "quý IV năm 2026", "tháng 12 năm 2026"."""
        if self.month:
            return _("tháng %(m)s năm %(y)s", m=self.month, y=self.year)
        if self.quarter:
            return _("quý %(q)s năm %(y)s", q=ROMAN[self.quarter], y=self.year)
        return _("năm %(y)s", y=self.year)

    @property
    def paid_months(self) -> list[date]:
        """The first days of the months of the period that are over on its end (their allowance
        sheets are final)."""
        months, month = [], self.first_day
        while month <= self.last_day:
            if month_end(month) <= self.end:
                months.append(month)
            month = month_end(month) + timedelta(days=1)
        return months

    def args(self) -> dict:
        """The period as query-string arguments (pages, jobs)."""
        found = {"year": self.year}
        if self.quarter:
            found["quarter"] = self.quarter
        if self.month:
            found["month"] = self.month
        return found


# --- the area ------------------------------------------------------------------------------------


@dataclass
class Area:
    """What a report covers: unit paths (``prefixes``) and how to name and head it. ``key`` is
    the page's value for it ("unit-<id>", "centre-<id>", "scope")."""

    key: str
    label: str
    prefixes: list[str]
    units: list[AdminUnit]  # the units the prefixes are (for the allowance sheets, the data check)
    unit: AdminUnit | None = None
    centre: Facility | None = None


def unit_area(unit: AdminUnit) -> Area:
    return Area(f"unit-{unit.id}", unit.full_name, [unit.path], [unit], unit=unit)


def centre_area(centre: Facility, on: date, user=None) -> Area:
    """The communes the centre serves on ``on`` (those the user may see, when a user is given:
    as the centre's roster does)."""
    units = served_units(centre, on)
    if user is not None:
        units = [u for u in units if scope_of(user).roles_at(u.path)]
    return Area(f"centre-{centre.id}", centre.name, [u.path for u in units], units, centre=centre)


def scope_area(user) -> Area:
    prefixes = scope_of(user).prefixes
    return Area("scope", _("Toàn bộ địa bàn của bạn"), prefixes, units_at_paths(prefixes))


def national_area() -> Area:
    """Every province (the CLI run as an administrator, the benchmark)."""
    units = list(db.session.scalars(select(AdminUnit).where(AdminUnit.level == UnitLevel.PROVINCE.value)
                                    .order_by(AdminUnit.code)))
    return Area("national", _("Toàn quốc"), [u.path for u in units], units)


AREA_KEY = re.compile(r"^(unit|centre)-([0-9]{1,10})$")


def default_area_key(user) -> str:
    """Where the report lands a user (``auth.permissions.landing_of``): their one centre or
    their one unit (a grant on a hamlet: their scope, the hamlet), else their whole scope."""
    landing = landing_of(user)
    if landing.only_centre is not None:
        return f"centre-{landing.only_centre.id}"
    if landing.only_unit is not None and landing.only_unit.level != UnitLevel.HAMLET.value:
        return f"unit-{landing.only_unit.id}"
    return "scope"


def area_for(user, key: str | None, on: date) -> Area:
    """The area a page, a job or the API names by ``key`` ("unit-<id>", "centre-<id>", "scope";
    empty: :func:`default_area_key`), for ``user``: NotFound for an unknown or malformed key or a
    hamlet, PermissionDenied outside the user's scope (:mod:`.permissions`); a centre's area is
    the communes it serves on ``on`` that the user may see."""
    key = (key or "").strip() or default_area_key(user)
    if key == "scope":
        if not can_view_scope_report(user):
            raise PermissionDenied(_l("Bạn chưa được phân quyền địa bàn nào."))
        return scope_area(user)
    match = AREA_KEY.match(key)
    if match is None:
        raise NotFound(_l("Địa bàn “%(k)s” không hợp lệ.", k=key[:40]), field="area")
    kind, object_id = match.group(1), int(match.group(2))
    if kind == "unit":
        unit = db.session.get(AdminUnit, object_id) if object_id <= MAX_ID else None
        if unit is None or unit.level == UnitLevel.HAMLET.value:
            raise NotFound(_l("Không tìm thấy đơn vị hành chính."), field="area")
        if not can_view_unit_report(user, unit):
            raise PermissionDenied(_l("Bạn không được xem báo cáo của %(u)s.", u=unit.full_name))
        return unit_area(unit)
    centre = db.session.get(Facility, object_id) if object_id <= MAX_ID else None
    if centre is None or centre.kind != FacilityKind.HEALTH_CENTRE.value:
        raise NotFound(_l("Không tìm thấy trung tâm y tế."), field="area")
    if not can_view_centre_report(user, centre):
        raise PermissionDenied(_l("Bạn không được xem báo cáo của %(u)s.", u=centre.name))
    return centre_area(centre, on, user)


def area_choices(user, on: date) -> list[tuple[str, str]]:
    """``(key, label)`` of the areas the page offers: the whole scope (when it has several
    parts), the health centres whose report the user may see, the units at the tops of the scope
    and their communes (up to ``supervision.services.COMMUNE_CHOICES_MAX``)."""
    landing = landing_of(user, on)
    scope = scope_of(user)
    choices = []
    if len(landing.units) + len(landing.centres) > 1:
        choices.append(("scope", _("Toàn bộ địa bàn của bạn")))
    served: dict[int, list[str]] = defaultdict(list)
    names: dict[int, str] = {}
    unit = aliased(AdminUnit)
    provinces = sorted({province_id_of(p) for p in scope.prefixes})
    for facility_id, name, path in _rows(
            select(Facility.id, Facility.name, unit.path).join(ServiceArea, ServiceArea.facility_id == Facility.id)
            .join(unit, unit.id == ServiceArea.unit_id)
            .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, valid_on(Facility, on), valid_on(ServiceArea, on),
                   or_(*[unit.path.startswith(f"/{p}/") for p in provinces]) if provinces else false())):
        served[facility_id].append(path)
        names[facility_id] = name
    for facility_id in sorted(served, key=lambda i: fold(names[i])):
        if all(scope.roles_at(path) for path in served[facility_id]):
            choices.append((f"centre-{facility_id}", names[facility_id]))
    for u in landing.units:
        if u.level != UnitLevel.HAMLET.value:
            choices.append((f"unit-{u.id}", u.full_name))
    tops = {f"unit-{u.id}" for u in landing.units}
    choices += [(f"unit-{cid}", name) for cid, name in commune_choices(scope.prefixes, on)
                if f"unit-{cid}" not in tops]
    return choices


def check_period(area: Area, period: Period) -> None:
    """Refuse a period before any data of the area: one ending before its units came into force
    (the app holds nothing earlier: ``coverage.services.require_data_on``), or beginning after
    they were all closed by a reform."""
    if not area.units:
        return
    since = min(u.valid_from for u in area.units)
    if period.end < since:
        raise ValidationFailed(_l("%(u)s chỉ có dữ liệu từ ngày %(d)s; hãy chọn một kỳ từ ngày đó trở đi.",
                                  u=area.label, d=_vn(since)), field="year")
    closes = [u.valid_to for u in area.units]
    if all(c is not None for c in closes) and period.first_day >= max(closes):
        raise ValidationFailed(_l("%(u)s không còn hiệu lực từ ngày %(d)s (đã sáp nhập hoặc giải thể); hãy chọn "
                                  "một kỳ trước đó.", u=area.label, d=_vn(max(closes))), field="year")


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """The figures of one row (a commune, a centre, the total), additive: a centre's and the
    total's are the sum of their communes' (:meth:`add`); ratios are computed from the sums."""

    start: int = 0
    end: int = 0
    appointed: int = 0
    left: Counter = field(default_factory=Counter)  # end reason → people
    hamlets: int = 0
    covered: int = 0
    vacant: int = 0  # hamlets with nobody active (vacant or pending)
    vacancy_days: int = 0  # Σ days_vacant of those hamlets
    households: int = 0
    active: int = 0  # active collaborators per hamlet served (coverage)
    courses: frozenset = frozenset()  # ids of the courses held
    attendances: int = 0
    completed: int = 0
    visits: int = 0
    visits_due: int = 0
    meetings: int = 0
    meeting_rows: int = 0  # collaborators on the meetings' sheets
    attended: int = 0
    p0: int = 0
    allowance: int | None = None  # None: no month of the period is over yet

    def add(self, other: Figures) -> Figures:
        for name in ("start", "end", "appointed", "hamlets", "covered", "vacant", "vacancy_days", "households",
                     "active", "attendances", "completed", "visits", "visits_due", "meetings", "meeting_rows",
                     "attended", "p0"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.left = self.left + other.left
        self.courses = self.courses | other.courses
        if other.allowance is not None:
            self.allowance = (self.allowance or 0) + other.allowance
        return self

    @property
    def left_total(self) -> int:
        return sum(self.left.values())

    @property
    def turnover_pct(self) -> float | None:
        """Left ÷ the average of the collaborators at the start and at the end, in percent."""
        average = (self.start + self.end) / 2
        return self.left_total * 100 / average if average else None

    @property
    def pct_covered(self) -> float | None:
        return self.covered * 100 / self.hamlets if self.hamlets else None

    @property
    def average_vacancy_days(self) -> float | None:
        return self.vacancy_days / self.vacant if self.vacant else None

    @property
    def households_per_collaborator(self) -> float | None:
        return self.households / self.active if self.active else None

    @property
    def trainings(self) -> int:
        return len(self.courses)

    @property
    def attendance_pct(self) -> float | None:
        """Collaborators present per 100 on the meetings' sheets."""
        return self.attended * 100 / self.meeting_rows if self.meeting_rows else None


@dataclass
class ReportRow:
    unit_id: int  # the commune's id, or the centre's (a facility)
    code: str
    name: str
    province: str
    figures: Figures
    communes: int = 1  # a centre: how many communes of the report it serves


@dataclass
class NetworkReport:
    period: Period
    communes: list[ReportRow]
    centres: list[ReportRow]
    total: Figures
    reasons: list[str]  # the end reasons with a departure, in their order (EndReason)
    intervals: dict[int, int]  # province id → visit interval (days) used for "due"
    provinces: list[str]  # the provinces of the rows, by name
    targets: object | None = None  # the targets section (danso_network.targets), when available

    @property
    def several_provinces(self) -> bool:
        return len(self.provinces) > 1


# --- SQL helpers -----------------------------------------------------------------------------------


class _DaysBetween(FunctionElement):
    """``later - earlier`` in whole days, for two dates."""

    type = Integer()
    inherit_cache = True


@compiles(_DaysBetween)
def _days_between(element, compiler, **kw):
    earlier, later = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"  # PostgreSQL: date - date


@compiles(_DaysBetween, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    earlier, later = list(element.clauses)
    return (f"CAST(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)})"
            " AS INTEGER)")


def _day(value: date):
    return literal(value, Date)


def _latest(*values):
    """SQL: the latest of dates (none NULL)."""
    result = values[0]
    for value in values[1:]:
        result = case((value > result, value), else_=result)
    return result


def _earliest(*values):
    result = values[0]
    for value in values[1:]:
        result = case((value < result, value), else_=result)
    return result


def _open_end(model, end_exclusive: date):
    """SQL: a dated row's first day not in force, an open one counting as ``end_exclusive``."""
    return case((or_(model.ended_on.is_(None), model.ended_on > end_exclusive), _day(end_exclusive)),
                else_=model.ended_on)


def _rows(stmt) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(stmt)]


_hamlet = aliased(AdminUnit, name="report_hamlet")


# --- one query per figure, grouped by commune --------------------------------------------------------


def _serving(prefixes: Sequence[str], period: Period) -> dict[int, tuple[int, int]]:
    """commune id → (roster lines on the opening day, on the end): assignments in force
    (``collaborators.services.open_on``) under the areas, as ``roster_page`` counts them."""
    a, opening, end = Assignment, period.opening_day, period.end

    def on(day):
        return func.sum(case((and_(a.started_on <= day, or_(a.ended_on.is_(None), a.ended_on > day)), 1), else_=0))

    stmt = (select(_hamlet.parent_id, on(opening), on(end)).select_from(a)
            .join(_hamlet, _hamlet.id == a.hamlet_id)
            .where(in_areas(prefixes, a.hamlet_path), a.started_on <= end,
                   or_(a.ended_on.is_(None), a.ended_on > opening))
            .group_by(_hamlet.parent_id))
    return {c: (int(s or 0), int(e or 0)) for c, s, e in _rows(stmt)}


def _appointed(prefixes: Sequence[str], period: Period) -> dict[int, int]:
    """commune id → collaborators first activated in the period, placed by their first
    assignment (the primary one begun on the activation day; the lowest id if several)."""
    a, earlier = Assignment, aliased(Assignment)
    stmt = (select(_hamlet.parent_id, func.count(distinct(Collaborator.id))).select_from(Collaborator)
            .join(a, and_(a.collaborator_id == Collaborator.id, a.kind == AssignmentKind.PRIMARY.value,
                          a.started_on == Collaborator.activated_on))
            .join(_hamlet, _hamlet.id == a.hamlet_id)
            .where(Collaborator.activated_on >= period.first_day, Collaborator.activated_on <= period.end,
                   in_areas(prefixes, a.hamlet_path),
                   ~exists().where(earlier.collaborator_id == a.collaborator_id, earlier.id < a.id,
                                   earlier.started_on <= a.started_on))
            .group_by(_hamlet.parent_id))
    return dict(_rows(stmt))


def _left(prefixes: Sequence[str], period: Period) -> dict[int, Counter]:
    """commune id → {end reason: people whose service ended in the period}: their primary
    assignment closed on a day ``S ≤ d ≤ E`` for a termination reason, with no assignment of
    theirs in force on ``d`` (which a transfer or a return the same day would be)."""
    a, other = Assignment, aliased(Assignment)
    stmt = (select(_hamlet.parent_id, a.end_reason, func.count(distinct(a.collaborator_id))).select_from(a)
            .join(_hamlet, _hamlet.id == a.hamlet_id)
            .where(a.kind == AssignmentKind.PRIMARY.value, a.ended_on >= period.first_day, a.ended_on <= period.end,
                   a.end_reason.in_(REASONS), in_areas(prefixes, a.hamlet_path),
                   ~exists().where(other.collaborator_id == a.collaborator_id, other.id != a.id,
                                   other.started_on <= a.ended_on,
                                   or_(other.ended_on.is_(None), other.ended_on > a.ended_on)))
            .group_by(_hamlet.parent_id, a.end_reason))
    found: dict[int, Counter] = defaultdict(Counter)
    for commune_id, reason, people in _rows(stmt):
        found[commune_id][reason] += int(people)
    return found


def _service_days(prefixes: Sequence[str], period: Period) -> dict[int, int]:
    """commune id → days of active service in the period: Σ over primary assignments of the days
    in force within it, less the days under a suspension (both half-open, clipped)."""
    a, s = Assignment, Suspension
    first, stop = period.first_day, period.end + timedelta(days=1)
    in_period = [a.kind == AssignmentKind.PRIMARY.value, in_areas(prefixes, a.hamlet_path), a.started_on < stop,
                 or_(a.ended_on.is_(None), and_(a.ended_on > first, a.ended_on > a.started_on))]
    a_from, a_to = _latest(a.started_on, _day(first)), _open_end(a, stop)
    served = dict(_rows(select(_hamlet.parent_id, func.sum(_DaysBetween(a_from, a_to))).select_from(a)
                        .join(_hamlet, _hamlet.id == a.hamlet_id).where(*in_period).group_by(_hamlet.parent_id)))
    s_from, s_to = _latest(a_from, s.started_on), _earliest(a_to, _open_end(s, stop))
    paused = dict(_rows(select(_hamlet.parent_id, func.sum(_DaysBetween(s_from, s_to))).select_from(a)
                        .join(_hamlet, _hamlet.id == a.hamlet_id)
                        .join(s, s.collaborator_id == a.collaborator_id)
                        .where(*in_period, s.started_on < a_to, or_(s.ended_on.is_(None), s.ended_on > a_from))
                        .group_by(_hamlet.parent_id)))
    return {c: int(days or 0) - int(paused.get(c) or 0) for c, days in served.items()}


def _visits(prefixes: Sequence[str], period: Period) -> dict[int, int]:
    """commune id → supervision visits dated in the period (filed under the visit's hamlet)."""
    v = SupervisionVisit
    return dict(_rows(select(_hamlet.parent_id, func.count()).select_from(v).join(_hamlet, _hamlet.id == v.hamlet_id)
                      .where(v.visited_on >= period.first_day, v.visited_on <= period.end,
                             in_areas(prefixes, v.hamlet_path))
                      .group_by(_hamlet.parent_id)))


def _meetings(prefixes: Sequence[str], period: Period) -> dict[int, tuple[int, int, int, int]]:
    """commune id → (meetings of the months of the period, rows on their sheets, present, P0
    slips handed in)."""
    m, att = MonthlyMeeting, MeetingAttendance
    stmt = (select(m.commune_id, func.count(distinct(m.id)), func.count(att.id),
                   func.sum(case((att.attended.is_(True), 1), else_=0)),
                   func.sum(case((att.p0_submitted.is_(True), 1), else_=0)))
            .select_from(m).outerjoin(att, att.meeting_id == m.id)
            .where(m.month >= period.first_day, m.month <= period.end, in_areas(prefixes, m.commune_path))
            .group_by(m.commune_id))
    return {c: (int(n), int(rows), int(present or 0), int(p0 or 0)) for c, n, rows, present, p0 in _rows(stmt)}


def _trainings(prefixes: Sequence[str], period: Period) -> dict[int, tuple[set, int, int]]:
    """commune id → (ids of the courses starting in the period that its people attended or that
    it organised, attendance rows of its people, of them completed). A person is of the commune
    of their primary assignment in force on the course's first day, else of their residence."""
    c, ta = TrainingCourse, TrainingAttendance
    held = and_(c.starts_on >= period.first_day, c.starts_on <= period.end)
    a = aliased(Assignment)
    stmt = (select(_hamlet.parent_id, ta.course_id, func.count(),
                   func.sum(case((ta.completed.is_(True), 1), else_=0)))
            .select_from(ta).join(c, c.id == ta.course_id)
            .join(Candidate, Candidate.id == ta.candidate_id)
            .outerjoin(Collaborator, Collaborator.candidate_id == Candidate.id)
            .outerjoin(a, and_(a.collaborator_id == Collaborator.id, a.kind == AssignmentKind.PRIMARY.value,
                               a.started_on <= c.starts_on, or_(a.ended_on.is_(None), a.ended_on > c.starts_on)))
            .join(_hamlet, _hamlet.id == func.coalesce(a.hamlet_id, Candidate.residence_hamlet_id))
            .where(held, in_areas(prefixes, _hamlet.path))
            .group_by(_hamlet.parent_id, ta.course_id))
    found: dict[int, tuple[set, int, int]] = {}
    for commune_id, course_id, rows, done in _rows(stmt):
        courses, n, completed = found.get(commune_id, (set(), 0, 0))
        courses.add(course_id)
        found[commune_id] = (courses, n + int(rows), completed + int(done or 0))
    organiser = aliased(AdminUnit)
    for commune_id, course_id in _rows(select(c.unit_id, c.id).join(organiser, organiser.id == c.unit_id)
                                       .where(held, organiser.level == UnitLevel.COMMUNE.value,
                                              in_areas(prefixes, c.unit_path))):
        courses, n, completed = found.get(commune_id, (set(), 0, 0))
        courses.add(course_id)
        found[commune_id] = (courses, n, completed)
    return found


def _coverage(frame: pd.DataFrame) -> dict[int, dict]:
    """commune id → the coverage figures of a ``coverage.services.hamlet_frame``, summed by
    ``rules.aggregate(frame, "commune")``, and the days vacant summed over the hamlets with nobody
    active (for the average vacancy age)."""
    rows = coverage.aggregate(frame, "commune")
    nobody = frame[frame["active"] == 0]
    days = nobody.groupby("commune_id")["days_vacant"].sum() if len(nobody) else pd.Series(dtype="int64")
    found = {}
    for r in rows.itertuples(index=False):
        found[int(r.unit_id)] = {"hamlets": int(r.hamlets), "covered": int(r.covered), "vacant": int(r.vacancies),
                                 "households": int(r.households), "active": int(r.collaborators),
                                 "vacancy_days": int(days.get(r.unit_id, 0) or 0)}
    return found


# --- the allowance ---------------------------------------------------------------------------------


def _allowance_by_commune(units: Sequence[AdminUnit], months: Sequence[date]) -> dict[int, int]:
    """commune id → the allowance of the monthly sheets of ``months``, each month's amount
    exactly as ``allowances.services.SheetContext.summary`` computes its commune total.

    Reading twelve summaries costs twelve scans of the network (about 1 s each nationally), so
    the lines are grouped once over the whole span — by what decides an amount, as the summary
    groups them per month (commune, commune type, zone, village health worker when a rule of the
    span depends on it, kind, first and end day clipped to the span, suspended collaborator) —
    and each group is paid month by month by the summary's own function (``SheetContext.pay``,
    which clips the days to the month, given the suspensions overlapping the month as the
    summary gives them), and the additional-hamlet rule of each month (``pays_additional``). Where a rule of the span
    depends on the "gia đình và trẻ em" duty (held on some day of each month), the summaries are
    read month by month instead."""
    if not months or not units:
        return {}
    contexts = [SheetContext(units, month) for month in months]
    totals: Counter = Counter()
    if any(ctx.rates.depends_on_duty for ctx in contexts):
        for month in months:
            for total in sheet_summary(units, month).communes:
                totals[total.commune.id] += total.amount
        return dict(totals)
    first, last = contexts[0].first, contexts[-1].last
    stop = last + timedelta(days=1)
    prefixes = contexts[0].prefixes
    vhw = any(ctx.rates.depends_on_vhw for ctx in contexts)
    hamlet, commune = aliased(AdminUnit), aliased(AdminUnit)
    suspended = (select(Suspension.collaborator_id).where(
        Suspension.started_on <= last, or_(Suspension.ended_on.is_(None), Suspension.ended_on > first))
        .distinct().subquery())
    columns = {
        "unit_id": commune.id, "unit_path": commune.path, "unit_type": commune.type, "own": commune.id == hamlet.id,
        "difficult": or_(hamlet.is_difficult, hamlet.is_ethnic_minority),
        "vhw": Candidate.is_village_health_worker if vhw else None, "kind": Assignment.kind,
        "start": case((Assignment.started_on < first, first), else_=Assignment.started_on),
        "end": case((or_(Assignment.ended_on.is_(None), Assignment.ended_on > stop), stop), else_=Assignment.ended_on),
        "suspended_id": suspended.c.collaborator_id}
    columns = {name: column for name, column in columns.items() if column is not None}
    stmt = (select(*(column.label(name) for name, column in columns.items())).select_from(Assignment)
            .join(hamlet, Assignment.hamlet_id == hamlet.id)
            .join(commune, commune.id == func.coalesce(hamlet.parent_id, hamlet.id)))
    if vhw:
        stmt = (stmt.join(Collaborator, Assignment.collaborator_id == Collaborator.id)
                .join(Candidate, Collaborator.candidate_id == Candidate.id))
    per_line = (stmt.outerjoin(suspended, suspended.c.collaborator_id == Assignment.collaborator_id)
                .where(in_areas(prefixes, Assignment.hamlet_path), Assignment.started_on <= last,
                       or_(Assignment.ended_on.is_(None),
                           and_(Assignment.ended_on > first, Assignment.ended_on > Assignment.started_on)))
                .subquery())
    keys = [per_line.c[name] for name in columns]
    # Lines paid alike in every month (same province, commune type, zone, kind, days and
    # suspensions) are paid once per month, then spread over their communes.
    cases: dict[tuple, Counter] = defaultdict(Counter)
    for row in db.session.execute(select(*keys, func.count()).group_by(*keys)):
        g = dict(zip([*columns, "n"], row, strict=True))
        category = None if g["own"] else COMMUNE_CATEGORY_OF_TYPE.get(g["unit_type"])
        zone = Zone.DIFFICULT if g["difficult"] else Zone.NORMAL
        cases[(province_id_of(g["unit_path"]), category, zone, bool(g.get("vhw")), g["kind"], g["start"], g["end"],
               g["suspended_id"])][g["unit_id"]] += g["n"]
    suspensions = _suspensions(case_key[-1] for case_key in cases if case_key[-1] is not None)
    for (province_id, category, zone, vhw_, kind, start, end, suspended_id), communes in cases.items():
        periods = suspensions.get(suspended_id, ())
        for ctx in contexts:
            if start > ctx.last or end <= ctx.first:
                continue
            if kind == AssignmentKind.ADDITIONAL and not ctx.pays_additional(province_id):
                continue
            paused = tuple(s for s in periods if s[0] <= ctx.last and (s[1] is None or s[1] > ctx.first))
            amount = ctx.pay(province_id, category, zone, vhw_, start, end, paused).amount
            if amount:
                for commune_id, n in communes.items():
                    totals[commune_id] += amount * n
    return dict(totals)


def _suspensions(collaborator_ids) -> dict[int, tuple]:
    """The suspensions of these collaborators as ``(started_on, ended_on)``, oldest first (a
    suspension outside a month leaves no day suspended in it)."""
    ids = sorted(set(collaborator_ids))
    found: dict[int, list] = defaultdict(list)
    for start in range(0, len(ids), 5000):
        for cid, started, ended in db.session.execute(
                select(Suspension.collaborator_id, Suspension.started_on, Suspension.ended_on)
                .where(Suspension.collaborator_id.in_(ids[start:start + 5000]))):
            found[cid].append((started, ended))
    return {cid: tuple(sorted(rows, key=lambda r: r[0])) for cid, rows in found.items()}


# --- the report ------------------------------------------------------------------------------------


def _commune_units(prefixes: Sequence[str], on: date, ids: set[int]) -> list[tuple[int, str, str, str]]:
    """``(id, code, full name, path)`` of the communes of the report: those in force on ``on``
    under the areas, and any other holding a figure (one closed during the period)."""
    u = AdminUnit
    columns = (u.id, func.coalesce(u.code, ""), u.full_name, u.path)
    rows = _rows(select(*columns).where(u.level == UnitLevel.COMMUNE.value, valid_on(u, on), in_areas(prefixes, u.path)))
    missing = sorted(ids - {r[0] for r in rows})
    if missing:
        rows += _rows(select(*columns).where(u.id.in_(missing)))
    return rows


def _centre_memberships(communes: Sequence[tuple], prefixes: Sequence[str], on: date) -> dict[int, tuple[int, ...]]:
    """commune id → the area health centres serving it on ``on`` (``coverage.rules.centre_memberships``:
    a centre's service area is the commune or one of its ancestors)."""
    if not communes:
        return {}
    unit = aliased(AdminUnit)
    ancestors = sorted({i for p in prefixes for i in path_ids(p)})
    areas = _rows(select(ServiceArea.facility_id, ServiceArea.unit_id)
                  .join(Facility, Facility.id == ServiceArea.facility_id)
                  .join(unit, unit.id == ServiceArea.unit_id)
                  .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, valid_on(Facility, on),
                         valid_on(ServiceArea, on), or_(in_areas(prefixes, unit.path), ServiceArea.unit_id.in_(ancestors))))
    return coverage_rules.centre_memberships(
        pd.DataFrame({"commune_id": [c[0] for c in communes], "commune_path": [c[3] for c in communes]}),
        pd.DataFrame({"facility_id": [a[0] for a in areas], "unit_id": [a[1] for a in areas]}))


def _names(ids: set[int]) -> dict[int, tuple[str, str]]:
    """unit id → (code, name) for a few units (the provinces)."""
    if not ids:
        return {}
    return {i: (code or "", name) for i, code, name in
            _rows(select(AdminUnit.id, AdminUnit.code, AdminUnit.name).where(AdminUnit.id.in_(sorted(ids))))}


def network_report(prefixes: Sequence[str], period: Period) -> NetworkReport:
    """The network report of the areas (unit paths; none → an empty report) over ``period``: one
    row per commune, one per area health centre serving them on the period's end, and the totals
    (the module's docstring defines each figure). About fifteen queries whatever the area."""
    prefixes = list(prefixes)
    on, paid = period.end, bool(period.paid_months)
    if prefixes:
        serving, appointed, left = _serving(prefixes, period), _appointed(prefixes, period), _left(prefixes, period)
        service_days, visits = _service_days(prefixes, period), _visits(prefixes, period)
        meetings, trainings = _meetings(prefixes, period), _trainings(prefixes, period)
        frame = coverage.hamlet_frame(prefixes, on)
        cover = _coverage(frame)
        allowance = _allowance_by_commune(units_at_paths(prefixes), period.paid_months)
    else:
        serving = appointed = left = service_days = visits = meetings = trainings = cover = allowance = {}
        frame = None
    ids = set().union(serving, appointed, left, service_days, visits, meetings, trainings, cover, allowance)
    communes = _commune_units(prefixes, on, ids) if prefixes else []
    provinces = {c[0]: province_id_of(c[3]) for c in communes}
    intervals = {pid: p.visit_interval_days for pid, p in policies_for(set(provinces.values()), on).items()}
    province_names = _names(set(provinces.values()))

    rows = []
    for commune_id, code, name, _path in communes:
        start, end = serving.get(commune_id, (0, 0))
        courses, attendances, completed = trainings.get(commune_id, (set(), 0, 0))
        n_meetings, meeting_rows, attended, p0 = meetings.get(commune_id, (0, 0, 0, 0))
        days = service_days.get(commune_id, 0)
        figures = Figures(
            start=start, end=end, appointed=int(appointed.get(commune_id, 0)), left=left.get(commune_id, Counter()),
            **cover.get(commune_id, {}), courses=frozenset(courses), attendances=attendances, completed=completed,
            visits=int(visits.get(commune_id, 0)),
            visits_due=round_half_up(days / intervals[provinces[commune_id]]) if days > 0 else 0,
            meetings=n_meetings, meeting_rows=meeting_rows, attended=attended, p0=p0,
            allowance=allowance.get(commune_id, 0) if paid else None)
        rows.append(ReportRow(commune_id, code, name, province_names[provinces[commune_id]][1], figures))
    rows.sort(key=lambda r: (r.code, fold(r.name), r.unit_id))

    total = Figures(allowance=0 if paid else None)
    for row in rows:
        total.add(row.figures)
    return NetworkReport(period, rows, _centre_rows(rows, communes, prefixes, on), total,
                         [r for r in REASONS if total.left.get(r)], intervals,
                         sorted({name for _code, name in province_names.values()}, key=fold),
                         targets_section(rows, period, frame))


# --- annual targets (danso_network.targets) --------------------------------------------------------


@dataclass
class TargetsSection:
    """The communes of the report with annual targets for the period's year, judged met / not
    met (``targets.services.scorecards``: the targets in force and the year's figures so far)."""

    year: int
    rows: list[tuple[ReportRow, object]]  # (the commune's row, its targets.services.Scorecard)
    final: bool  # the year is over: a target not met is "không đạt", not "đang thực hiện"

    @property
    def met(self) -> int:
        return sum(1 for _row, card in self.rows if card.verdict == "met")

    @property
    def judged(self) -> int:
        return len(self.rows)


def targets_section(rows: Sequence[ReportRow], period: Period, frame: pd.DataFrame | None) -> TargetsSection | None:
    """The targets of the report's communes, for a year's report only (targets are annual, set by
    the province or the centre per commune and year, issue #11 item 4); None for a quarter or a
    month, or when no commune of the report has targets for the year. The coverage frame of the
    period's end is the report's own (one computation)."""
    if period.kind != PeriodKind.YEAR or not rows:
        return None
    on = period.end if not period.over else period.last_day + timedelta(days=1)
    targets = targets_for([r.unit_id for r in rows], period.year, on)
    with_targets = [r for r in rows if targets[r.unit_id].any_set]
    if not with_targets:
        return None
    cards = scorecards([r.unit_id for r in with_targets], period.year, on, frame=frame)
    return TargetsSection(period.year, [(r, cards[r.unit_id]) for r in with_targets], period.over)


def _centre_rows(rows: Sequence[ReportRow], communes: Sequence[tuple], prefixes: Sequence[str],
                 on: date) -> list[ReportRow]:
    """One row per area health centre serving communes of the report on ``on``: their sum."""
    members = _centre_memberships(communes, prefixes, on)
    by_commune = {r.unit_id: r for r in rows}
    sums: dict[int, ReportRow] = {}
    for commune_id, centre_ids in members.items():
        for centre_id in centre_ids:
            row = sums.setdefault(centre_id, ReportRow(centre_id, "", "", "", Figures(allowance=None), 0))
            row.figures.add(by_commune[commune_id].figures)
            row.communes += 1
    if not sums:
        return []
    unit = aliased(AdminUnit)
    for centre_id, code, name, path in _rows(select(Facility.id, Facility.code, Facility.name, unit.path)
                                             .join(unit, unit.id == Facility.unit_id)
                                             .where(Facility.id.in_(sorted(sums)))):
        sums[centre_id].code, sums[centre_id].name = code, name
        sums[centre_id].province = str(province_id_of(path))
    provinces = _names({int(r.province) for r in sums.values()})
    for row in sums.values():
        row.province = provinces[int(row.province)][1]
    return sorted(sums.values(), key=lambda r: (fold(r.province), fold(r.name), r.unit_id))


def build_report(area: Area, period: Period) -> NetworkReport:
    """The report of an area over a period, refused for a period before any data of the area
    (:func:`check_period`)."""
    check_period(area, period)
    return network_report(area.prefixes, period)


# --- the document ----------------------------------------------------------------------------------

FORMATS = ("xlsx", "pdf")
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def unknown_format(fmt):
    """The refusal of a format other than :data:`FORMATS` (a lazy string)."""
    return _l("Định dạng “%(f)s” không được hỗ trợ; chọn xlsx hoặc pdf.", f=str(fmt)[:20])


def _one_decimal(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figure_columns(reasons: Sequence[str]) -> list[Column]:
    """The columns of the figures, in the order of :func:`figure_cells` (a column per end reason
    with a departure in the report)."""
    return [
        Column(_("CTV đầu kỳ"), Kind.INT, 9),
        Column(_("CTV cuối kỳ"), Kind.INT, 9),
        Column(_("Tuyển mới"), Kind.INT, 8),
        Column(_("Nghỉ việc"), Kind.INT, 8),
        *[Column(_("Nghỉ: %(r)s", r=end_reason_label(r)), Kind.INT, 10) for r in reasons],
        Column(_("Tỷ lệ biến động (%)"), Kind.PCT, 9),
        Column(_("Số thôn/tổ dân phố"), Kind.INT, 9),
        Column(_("Thôn đủ định mức"), Kind.INT, 9),
        Column(_("Tỷ lệ thôn đủ định mức (%)"), Kind.PCT, 9),
        Column(_("Thôn chưa có CTV hoạt động"), Kind.INT, 10),
        Column(_("Số ngày trống bình quân"), Kind.NUMBER, 9),
        Column(_("Số hộ/CTV"), Kind.NUMBER, 8),
        Column(_("Lớp tập huấn"), Kind.INT, 8),
        Column(_("Lượt tham dự tập huấn"), Kind.INT, 9),
        Column(_("Lượt giám sát đã thực hiện"), Kind.INT, 9),
        Column(_("Lượt giám sát phải thực hiện"), Kind.INT, 9),
        Column(_("Giao ban đã họp"), Kind.INT, 8),
        Column(_("Lượt CTV dự giao ban"), Kind.INT, 9),
        Column(_("Phiếu P0 đã nộp"), Kind.INT, 8),
        Column(_("Bồi dưỡng đã chi (đồng)"), Kind.MONEY, 14),
    ]


def figure_cells(f: Figures, reasons: Sequence[str]) -> list:
    """One row's figures in the order of :func:`figure_columns`."""
    return [f.start, f.end, f.appointed, f.left_total, *[f.left.get(r, 0) for r in reasons],
            _one_decimal(f.turnover_pct), f.hamlets, f.covered, _one_decimal(f.pct_covered), f.vacant,
            _one_decimal(f.average_vacancy_days), _one_decimal(f.households_per_collaborator), f.trainings,
            f.attendances, f.visits, f.visits_due, f.meetings, f.attended, f.p0, f.allowance]


def report_notes(report: NetworkReport) -> list[str]:
    """The definitions printed under the tables."""
    period = report.period
    notes = [
        _("CTV đầu kỳ, cuối kỳ: số dòng của danh sách CTV (đang hoạt động và tạm đình chỉ) ngày %(a)s và ngày %(b)s; "
          "CTV kiêm nhiệm thêm thôn được tính ở mỗi thôn phụ trách.", a=_vn(period.opening_day), b=_vn(period.end)),
        _("Tuyển mới: CTV bắt đầu hoạt động lần đầu trong kỳ. Nghỉ việc: CTV thôi làm CTV trong kỳ, tính một lần mỗi "
          "người; điều chuyển sang thôn khác không tính là nghỉ việc."),
        _("Tỷ lệ biến động = số nghỉ việc ÷ trung bình cộng của số CTV đầu kỳ và cuối kỳ × 100."),
        _("Thôn đủ định mức, thôn chưa có CTV hoạt động, số ngày trống bình quân và số hộ/CTV: tính ngày %(d)s "
          "(số hộ ÷ số CTV đang hoạt động).", d=_vn(period.end)),
        _("Lớp tập huấn: các lớp khai giảng trong kỳ do xã tổ chức hoặc có người của xã tham dự (mỗi lớp tính một lần "
          "ở dòng tổng)."),
    ]
    intervals = sorted(set(report.intervals.values()))
    if len(intervals) == 1:
        notes.append(_("Lượt giám sát phải thực hiện: mỗi CTV một lượt cho mỗi %(n)s ngày hoạt động trong kỳ (quy định "
                       "của tỉnh), không tính ngày tạm đình chỉ; làm tròn theo từng xã.", n=intervals[0]))
    elif intervals:
        notes.append(_("Lượt giám sát phải thực hiện: mỗi CTV một lượt cho mỗi khoảng thời gian theo quy định của tỉnh "
                       "(%(n)s ngày) trong thời gian hoạt động của kỳ, không tính ngày tạm đình chỉ; làm tròn theo "
                       "từng xã.", n=", ".join(str(i) for i in intervals)))
    months = period.paid_months
    if months:
        notes.append(_("Bồi dưỡng đã chi: tổng bảng bồi dưỡng hằng tháng từ tháng %(a)s đến tháng %(b)s.",
                       a=months[0].strftime("%m/%Y"), b=months[-1].strftime("%m/%Y")))
    else:
        notes.append(_("Bồi dưỡng: chưa có tháng nào của kỳ kết thúc, chưa tính."))
    return notes


def report_document(report: NetworkReport, area: Area, *, made_on: date | None = None,
                    heading: Heading | None = None) -> Document:
    """The report as a :class:`~danso_network.exports.document.Document`: a sheet per commune and
    a sheet per health centre, each ending with its totals row (ratios computed from the sums,
    so not left to the writers' column sums), the definitions as notes."""
    period = report.period
    reasons = report.reasons
    several = report.several_provinces
    province = [Column(_("Tỉnh/thành phố"), Kind.TEXT, 16)] if several else []
    total_label = _("Tổng cộng")

    def commune_rows():
        for r in report.communes:
            yield [r.code, r.name, *([r.province] if several else []), *figure_cells(r.figures, reasons)]
        yield ["", total_label, *([""] if several else []), *figure_cells(report.total, reasons)]

    def centre_rows():
        for r in report.centres:
            yield [r.name, *([r.province] if several else []), r.communes, *figure_cells(r.figures, reasons)]

    communes = Sheet(_("Theo xã, phường"), [Column(_("Mã"), Kind.TEXT, 7), Column(_("Xã/phường/đặc khu"), Kind.TEXT, 24),
                                             *province, *figure_columns(reasons)],
                     commune_rows(), title=_("Số liệu theo xã, phường, đặc khu"), totals_label=None)
    centres = Sheet(_("Theo trung tâm y tế"), [Column(_("Trung tâm Y tế"), Kind.TEXT, 28), *province,
                                                Column(_("Số xã/phường"), Kind.INT, 8), *figure_columns(reasons)],
                    centre_rows(), title=_("Số liệu theo trung tâm y tế khu vực (tổng các xã, phường trung tâm phụ "
                                           "trách ngày %(d)s)", d=_vn(period.end)),
                    empty_text=_("Không có trung tâm y tế nào phụ trách các xã, phường của báo cáo."), totals_label=None)
    sheets = [communes, centres]
    if report.targets is not None:
        sheets.append(targets_sheet(report.targets))
    if period.over:
        span = _("Kỳ báo cáo: %(p)s, từ ngày %(a)s đến ngày %(b)s.", p=period.label, a=_vn(period.first_day),
                 b=_vn(period.end))
    else:
        span = _("Kỳ báo cáo: %(p)s, từ ngày %(a)s đến ngày %(b)s (kỳ chưa kết thúc: số liệu đến hết ngày %(b)s).",
                 p=period.label, a=_vn(period.first_day), b=_vn(period.end))
    made_on = made_on or clock.today()
    return Document(
        title=_("Báo cáo mạng lưới cộng tác viên dân số %(p)s", p=period.label),
        lines=[_("Địa bàn: %(a)s", a=area.label), span], sheets=sheets,
        filename=f"bao-cao-mang-luoi-ctv-{slug(period.label, limit=200)}-{slug(area.label, limit=200)}"[:120].rstrip("-"),
        made_on=made_on, heading=heading, notes=report_notes(report))


def targets_sheet(section: TargetsSection) -> Sheet:
    """The communes with annual targets: per target, the target, the figure and the verdict, and
    the commune's verdict (every target set met)."""
    columns = [Column(_("Mã"), Kind.TEXT, 7), Column(_("Xã/phường/đặc khu"), Kind.TEXT, 24)]
    for kind in TARGET_KINDS:
        figure = Kind.PCT if kind.is_pct else Kind.INT
        columns += [Column(_("%(t)s: chỉ tiêu", t=TARGET_LABELS[kind]), figure, 10),
                    Column(_("%(t)s: thực hiện", t=TARGET_LABELS[kind]), figure, 10),
                    Column(_("%(t)s: đánh giá", t=TARGET_LABELS[kind]), Kind.TEXT, 12)]
    columns.append(Column(_("Đánh giá chung"), Kind.TEXT, 14))

    def value(number):
        return None if number is None else float(number) if not isinstance(number, int) else number

    def rows():
        for row, card in section.rows:
            cells = [row.code, row.name]
            for line in card.lines:
                cells += [value(line.target), value(line.actual), verdict_label(line.verdict, section.final)]
            yield [*cells, verdict_label(card.verdict, section.final)]

    return Sheet(_("Chỉ tiêu năm"), columns, rows(),
                 title=_("Chỉ tiêu năm %(y)s: %(m)s/%(n)s xã, phường đạt mọi chỉ tiêu được giao", y=section.year,
                         m=section.met, n=section.judged), totals_label=None)


def heading_of(area: Area, on: date) -> Heading | None:
    """The official heading of the area's report (``exports.heading.heading_for``): the centre's,
    the unit's, or the province's for several units of one province; none for several provinces
    (no single office issues it)."""
    if area.centre is not None:
        return heading_for(facility=area.centre, on=on)
    if area.unit is not None:
        return heading_for(unit=area.unit, on=on)
    if len(area.units) == 1:
        return heading_for(unit=area.units[0], on=on)
    provinces = {province_id_of(p) for p in area.prefixes}
    if len(provinces) == 1:
        return heading_for(unit=db.session.get(AdminUnit, provinces.pop()), on=on)
    return None


def write_report(document: Document, fmt: str, target) -> None:
    """Write the document as ``fmt`` (one of :data:`FORMATS`) to a path or a binary file."""
    if fmt == "xlsx":
        from ..exports.xlsx import write_xlsx

        write_xlsx(document, target)
    elif fmt == "pdf":
        from ..exports.pdf import write_pdf

        write_pdf(document, target)
    else:
        raise ValidationFailed(unknown_format(fmt), field="format")


# --- files and background jobs ---------------------------------------------------------------------

JOB_KIND = "network_report"


def report_file(area: Area, period: Period, fmt: str, target, *, made_on: date | None = None) -> Document:
    """Compute the area's report and write it as ``fmt`` to ``target`` (a path or a binary
    file); the document written, for its file name."""
    if fmt not in FORMATS:
        raise ValidationFailed(unknown_format(fmt), field="format")
    made_on = made_on or clock.today()
    document = report_document(build_report(area, period), area, made_on=made_on, heading=heading_of(area, made_on))
    write_report(document, fmt, target)
    return document


def runs_in_background(area: Area) -> bool:
    """A report over several provinces (a national user's scope) is written by a background job;
    a province's (at most ~170 communes) answers at once."""
    return len({province_id_of(p) for p in area.prefixes}) > 1


def _whole(value, name: str) -> int | None:
    """A job's or the API's number (a year, a quarter, a month): absent → None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isascii()
                                                                    and value.isdigit() and len(value) <= 4)):
        raise ValidationFailed(_l("“%(v)s” không phải là một số hợp lệ.", v=str(value)[:20]), field=name)
    return int(value)


def period_from(params: dict, today: date | None = None) -> Period:
    """The period of ``{"year", "quarter", "month"}`` (the page's, a job's or the API's params);
    the current year by default."""
    year = _whole(params.get("year"), "year")
    return Period.of(year if year is not None else (today or clock.today()).year,
                     quarter=_whole(params.get("quarter"), "quarter"), month=_whole(params.get("month"), "month"),
                     today=today)


def _check_job(params: dict, user) -> dict:
    """A report job's params, checked as the page checks them: the format, the period, the area
    in the user's scope, data for the period. Normalised (the area's key made explicit)."""
    fmt = params.get("format")
    if fmt not in FORMATS:
        raise ValidationFailed(unknown_format(fmt), field="format")
    period = period_from(params)
    area = area_for(user, params.get("area"), period.end)
    check_period(area, period)
    return {"area": area.key, "format": fmt, **period.args()}


def _run_job(params: dict, progress) -> JobFile:
    period = period_from(params)
    area = area_for(progress.owner, params.get("area"), period.end)
    fmt = params["format"]
    progress.update(0, 2, _("Đang tính số liệu báo cáo…"))
    report = build_report(area, period)
    progress.update(1, 2, _("Đang ghi tệp…"))
    made_on = clock.today()
    document = report_document(report, area, made_on=made_on, heading=heading_of(area, made_on))
    return JobFile(f"{document.filename}.{fmt}", MIMETYPES[fmt], write=lambda handle: write_report(document, fmt, handle))


jobs.register(JOB_KIND, _run_job, check=_check_job, label=_l("Báo cáo mạng lưới CTV"))

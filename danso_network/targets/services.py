"""Annual targets of a commune's collaborator network, and the year's actual figures they are
judged against (issue #11 item 4).

Who sets them: district plans implementing Resolution 21-NQ/TW (25/10/2017) assign each commune
yearly targets; since the 2025 reform the area health centre or the provincial Department of
Health does (:mod:`.permissions`: the province admin anywhere in the province, the centre officer
for the communes the centre serves; a version set by the province is replaced only by the
province).

Versions (effective-dated, like the province's criteria and allowance rules): a commune's targets
for a year are a chain of versions, each in force ``valid_from`` ≤ d < ``valid_to``. Setting new
targets closes the version in force on the new version's first day and opens the new one, so a
target changed in June keeps the January version for history; the version in force on a date
answers for that date (:func:`targets_for`). A version starts within its year (not before 1
January: a target for a year does not apply before the year; not after 31 December: it would never
be in force during it), on or after the commune came into force, and not before the latest version
of the year (history is never rewritten). A version starting the same day as the latest one
corrects it (a typing error): its values are replaced, the old ones kept in the audit log.

The actual figures (:func:`actuals_for`) are the existing computations, not new definitions:

- **hamlets covered %** — the coverage of ``coverage/``: ``coverage.services.hamlet_frame`` and
  ``coverage.rules.aggregate(frame, "commune")``: covered hamlets (active collaborators at or above
  the province's quota, TT 02/2021/TT-BYT Art. 2) per 100 hamlets in force, as of the year's last
  day, or ``on`` for a year not over;
- **collaborators trained** — distinct collaborators who served in one of the commune's hamlets at
  some time in the year (an assignment in force on a day from 1 January to the day asked) and
  completed a training course that ended in that period (``training``: an attendance marked
  completed, TT 02/2021/TT-BYT Art. 3 task 8); a row of someone who did not finish the course does
  not count;
- **supervision visits** — visits (``supervision.SupervisionVisit``) dated in the period and filed
  under a hamlet of the commune (a visit is filed under the hamlet the collaborator served that day);
- **meeting attendance %** — of the rows on the attendance sheets of the commune's monthly meetings
  (giao ban, TT 02/2021/TT-BYT Art. 3.7) for the months of the period, the share marked attended:
  the attendance rate of ``supervision.services.MeetingSummary`` over the year. None without a
  recorded meeting.

Percentages are rounded half-up to one decimal, as targets are set and as pages show them, and
compared at that precision.

Judging (:func:`judge`): a target not set is not judged (``not_set``); a target is ``met`` when the
actual figure is at least the target, else ``not_met`` (a figure that cannot be computed — no
hamlet, no meeting sheet — does not meet a target). For a year not over, the verdict is on the
figure so far (:attr:`Actuals.final` is False): counts only grow, so a count already reached is met
for good; a percentage may still move, and a target not reached yet is shown "chưa đạt — đang
thực hiện" (:mod:`.labels`), not "không đạt", until the year is over.

A fixed number of queries whatever the number of communes (the yearly report calls these for every
commune of the country). Services follow DESIGN.md §4: guard → change → audit → flush, never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pandas as pd
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, distinct, func, or_, select, true
from sqlalchemy.orm import aliased, selectinload

from ..audit.services import record, snapshot
from ..auth.models import Role, User
from ..collaborators.models import Assignment, Collaborator
from ..common import clock
from ..common.dates import TT_02_2021_IN_FORCE, YEARS_AHEAD, check_effective_date
from ..common.paging import PER_PAGE, Page, paginate
from ..coverage import rules as coverage_rules
from ..coverage.services import hamlet_frame
from ..errors import PermissionDenied, ValidationFailed
from ..extensions import db
from ..supervision.models import MeetingAttendance, MonthlyMeeting, SupervisionVisit
from ..training.models import TrainingAttendance, TrainingCourse
from ..units.models import AdminUnit, UnitLevel
from ..units.services import bytewise, in_areas, province_id_of, served_units, valid_on
from .models import MAX_COUNT, MAX_COUNT_SHOWN, MAX_PCT, MIN_YEAR, TARGET_KINDS, CommuneTarget, TargetKind
from .permissions import can_replace_targets, can_set_targets

TENTH = Decimal("0.1")
VERSION_FIELDS = ["commune_id", "year", *(k.value for k in TARGET_KINDS), "valid_from", "valid_to", "source",
                  "note", "is_illustrative", "set_by_role", "set_by_facility_id", "set_by_unit_id"]
# Asked for more communes of one province than this, the coverage frame is read for the whole
# province and filtered (one path filter instead of hundreds of OR-ed ones).
FRAME_COMMUNES_PER_PROVINCE = 20
SOURCE_MAX = 300
NOTE_MAX = 2000


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def year_start(year: int) -> date:
    return date(year, 1, 1)


def year_end(year: int) -> date:
    return date(year, 12, 31)


def latest_year(today: date | None = None) -> int:
    """The last year targets may be set for: :data:`common.dates.YEARS_AHEAD` years ahead."""
    return (today or clock.today()).year + YEARS_AHEAD


def targets_day(year: int, on: date | None = None) -> date:
    """The day whose version answers for ``year``: ``on`` (default today) brought within the year —
    31 December for a past year, 1 January for a year not started."""
    day = on or clock.today()
    return min(max(day, year_start(year)), year_end(year))


def pct(part: int, whole: int) -> Decimal | None:
    """``part`` per 100 of ``whole``, rounded half-up to one decimal; None when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


# --- what is set ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """A commune's targets for a year as the version in force answers them (plain values). All
    None, ``version_id`` None: no targets set for the commune that year."""

    commune_id: int
    year: int
    hamlets_covered_pct: Decimal | None = None
    collaborators_trained: int | None = None
    supervision_visits: int | None = None
    meeting_attendance_pct: Decimal | None = None
    version_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    source: str | None = None
    is_illustrative: bool = False
    set_by_role: str | None = None

    def value(self, kind: TargetKind | str):
        return getattr(self, TargetKind(kind).value)

    @property
    def any_set(self) -> bool:
        return any(self.value(k) is not None for k in TARGET_KINDS)


_TARGET_COLUMNS = (CommuneTarget.commune_id, CommuneTarget.year,
                   *(getattr(CommuneTarget, k.value) for k in TARGET_KINDS), CommuneTarget.id,
                   CommuneTarget.valid_from, CommuneTarget.valid_to, CommuneTarget.source,
                   CommuneTarget.is_illustrative, CommuneTarget.set_by_role)


def _targets(row) -> Targets:
    (commune_id, year, covered, trained, visits, attendance, version_id, valid_from, valid_to, source,
     illustrative, role) = row
    return Targets(commune_id, year, _decimal(covered), trained, visits, _decimal(attendance), version_id, valid_from,
                   valid_to, source, bool(illustrative), role)


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TENTH)


def targets_of(version: CommuneTarget) -> Targets:
    return _targets(tuple(getattr(version, c.key) for c in _TARGET_COLUMNS))


def targets_for(commune_ids: Iterable[int], year: int, on: date | None = None) -> dict[int, Targets]:
    """Each commune's targets for ``year``: the version in force on :func:`targets_day` (``on``,
    default today, brought within the year). Every id asked gets an entry; one without a version
    has every target None (``Targets.any_set`` False). One query, whatever the number of communes."""
    ids = sorted({int(i) for i in commune_ids})
    if not ids:
        return {}
    day = targets_day(year, on)
    rows = db.session.execute(select(*_TARGET_COLUMNS).where(
        CommuneTarget.commune_id.in_(ids), CommuneTarget.year == year, valid_on(CommuneTarget, day))).all()
    found = {row[0]: _targets(row) for row in rows}
    return {i: found.get(i) or Targets(i, year) for i in ids}


def targets_in_area(prefixes: Sequence[str], year: int, on: date | None = None) -> dict[int, Targets]:
    """The targets in force (as :func:`targets_for`) of every commune under the areas that has a
    version for ``year``, by commune id. One query."""
    if not prefixes:
        return {}
    day = targets_day(year, on)
    rows = db.session.execute(
        select(*_TARGET_COLUMNS).join(AdminUnit, AdminUnit.id == CommuneTarget.commune_id)
        .where(CommuneTarget.year == year, valid_on(CommuneTarget, day), in_areas(prefixes, AdminUnit.path))).all()
    return {row[0]: _targets(row) for row in rows}


def versions(commune: AdminUnit, year: int) -> list[CommuneTarget]:
    """Every version of the commune's targets for ``year``, latest first (the history)."""
    return list(db.session.scalars(
        select(CommuneTarget).where(CommuneTarget.commune_id == commune.id, CommuneTarget.year == year)
        .options(selectinload(CommuneTarget.set_by), selectinload(CommuneTarget.set_by_facility),
                 selectinload(CommuneTarget.set_by_unit))
        .order_by(CommuneTarget.valid_from.desc(), CommuneTarget.id.desc())))


def version_in_force(commune: AdminUnit, year: int, on: date | None = None) -> CommuneTarget | None:
    """The version of :func:`targets_for` as a row (for the edit form)."""
    return db.session.scalar(select(CommuneTarget).where(
        CommuneTarget.commune_id == commune.id, CommuneTarget.year == year,
        valid_on(CommuneTarget, targets_day(year, on))))


def latest_version(commune: AdminUnit, year: int) -> CommuneTarget | None:
    """The version that starts last (the open one): the one a new version replaces."""
    return db.session.scalar(select(CommuneTarget).where(CommuneTarget.commune_id == commune.id,
                                                         CommuneTarget.year == year)
                             .order_by(CommuneTarget.valid_from.desc()).limit(1))


def suggested_valid_from(commune: AdminUnit, year: int, latest: CommuneTarget | None = None) -> date:
    """The first day the form proposes: the start of the year (or of the commune) for a first
    version — a plan's targets are for the whole year; for a new version, today brought within the
    year and not before the latest version."""
    start = max(year_start(year), commune.valid_from)
    if latest is None:
        return start
    return min(max(clock.today(), start, latest.valid_from), year_end(year))


def years_with_targets(commune: AdminUnit) -> list[int]:
    return list(db.session.scalars(select(CommuneTarget.year).where(CommuneTarget.commune_id == commune.id)
                                   .distinct().order_by(CommuneTarget.year.desc())))


# --- setting ----------------------------------------------------------------------------------------


def check_year(year) -> int:
    """A year targets may be set for: from :data:`.models.MIN_YEAR` (TT 02/2021/TT-BYT) to
    :func:`latest_year`."""
    last = latest_year()
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= last:
        raise ValidationFailed(_l("Năm giao chỉ tiêu phải từ %(a)d đến %(b)d.", a=MIN_YEAR, b=last), field="year")
    return year


def _number(kind: TargetKind, raw) -> Decimal | int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValidationFailed(_l("Giá trị chỉ tiêu không hợp lệ."), field=kind.value)
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ValidationFailed(_l("Chỉ tiêu phải là một số."), field=kind.value)
    if kind.is_pct:
        if not 0 <= value <= MAX_PCT:
            raise ValidationFailed(_l("Tỉ lệ phải từ 0 đến 100."), field=kind.value)
        if value != value.quantize(TENTH):
            raise ValidationFailed(_l("Tỉ lệ chỉ ghi tối đa một chữ số thập phân (ví dụ 92,5)."), field=kind.value)
        return value.quantize(TENTH)
    if value != value.to_integral_value():
        raise ValidationFailed(_l("Chỉ tiêu này phải là số nguyên."), field=kind.value)
    if not 0 <= value <= MAX_COUNT:
        raise ValidationFailed(_l("Chỉ tiêu phải từ 0 đến %(n)s.", n=MAX_COUNT_SHOWN),
                               field=kind.value)
    return int(value)


def clean_values(values: Mapping[str, object]) -> dict[str, Decimal | int | None]:
    """The four targets, checked: percentages from 0 to 100 with at most one decimal, counts whole
    numbers from 0 to :data:`.models.MAX_COUNT`; missing or empty = not set. Unknown keys refused."""
    unknown = sorted(set(values) - {k.value for k in TARGET_KINDS})
    if unknown:
        raise ValidationFailed(_l("Chỉ tiêu không hợp lệ: %(k)s.", k=", ".join(unknown)))
    return {k.value: _number(k, values.get(k.value)) for k in TARGET_KINDS}


def check_valid_from(commune: AdminUnit, year: int, valid_from: date) -> date:
    """The first day of a version: within ``year``, on or after the commune came into force and
    before it closed, and within the bounds of ``common.dates`` (from TT 02/2021/TT-BYT, at most two
    years ahead)."""
    if valid_from < year_start(year) or valid_from > year_end(year):
        raise ValidationFailed(_l("Ngày áp dụng phải trong năm %(y)d (từ %(a)s đến %(b)s).", y=year,
                                  a=_vn(year_start(year)), b=_vn(year_end(year))), field="valid_from")
    if valid_from < commune.valid_from:
        raise ValidationFailed(_l("%(c)s chỉ có hiệu lực từ ngày %(d)s; ngày áp dụng phải từ ngày đó trở đi.",
                                  c=commune.full_name, d=_vn(commune.valid_from)), field="valid_from")
    if commune.valid_to is not None and valid_from >= commune.valid_to:
        raise ValidationFailed(_l("%(c)s đã hết hiệu lực từ ngày %(d)s (sáp nhập hoặc giải thể).",
                                  c=commune.full_name, d=_vn(commune.valid_to)), field="valid_from")
    return check_effective_date(valid_from, earliest=TT_02_2021_IN_FORCE)


def setter_grant(actor: User, commune: AdminUnit, on: date | None = None) -> tuple[str, int | None, int | None]:
    """``(role, facility_id, unit_id)`` of the grant under which ``actor`` sets the commune's
    targets (who set it is recorded with the version): a province-admin grant covering the commune
    first, else a centre-officer one (a centre's grant covers the units it serves that day)."""
    day = on or clock.today()
    grants = sorted((g for g in actor.grants if g.valid_on(day)), key=lambda g: g.id)
    for role in (Role.PROVINCE_ADMIN, Role.CENTRE_OFFICER):
        for grant in grants:
            if grant.role != role.value:
                continue
            paths = [grant.unit.path] if grant.unit is not None else [u.path for u in served_units(grant.facility, day)]
            if any(commune.path.startswith(p) for p in paths):
                return role.value, grant.facility_id, grant.unit_id
    raise PermissionDenied(_l("Bạn không có quyền giao chỉ tiêu cho %(c)s.", c=commune.full_name))


def set_targets(commune: AdminUnit, year: int, values: Mapping[str, object], *, actor: User, valid_from: date,
                source: str | None = None, note: str | None = None, is_illustrative: bool = False) -> CommuneTarget:
    """Set the commune's targets for ``year`` from ``valid_from`` (the module docstring has the
    rules): ``values`` maps :class:`TargetKind` names to a number or None (not set); at least one
    is set. The version in force is closed on ``valid_from`` and kept; a version starting the same
    day as the latest one replaces its values (a correction). Who may: :func:`.permissions.can_set_targets`,
    and :func:`.permissions.can_replace_targets` for the version replaced. ``source``: the plan
    (e.g. "KH 123/KH-TTYT"). Audited as ``targets.set`` (``before``: the version closed) or
    ``targets.correct`` (``before``: the old values)."""
    if commune.level != UnitLevel.COMMUNE:
        raise ValidationFailed(_l("Chỉ tiêu năm được giao cho từng xã, phường, đặc khu."))
    year = check_year(year)
    clean = clean_values(values)
    if all(v is None for v in clean.values()):
        raise ValidationFailed(_l("Vui lòng nhập ít nhất một chỉ tiêu."))
    source, note = _clean(source), _clean(note)
    if source is not None and len(source) > SOURCE_MAX:
        raise ValidationFailed(_l("Căn cứ tối đa %(n)d ký tự.", n=SOURCE_MAX), field="source")
    if note is not None and len(note) > NOTE_MAX:
        raise ValidationFailed(_l("Ghi chú tối đa %(n)d ký tự.", n=NOTE_MAX), field="note")
    check_valid_from(commune, year, valid_from)
    if actor is None or not can_set_targets(actor, commune):
        raise PermissionDenied(_l("Bạn không có quyền giao chỉ tiêu cho %(c)s.", c=commune.full_name))
    existing = list(db.session.scalars(
        select(CommuneTarget).where(CommuneTarget.commune_id == commune.id, CommuneTarget.year == year)
        .order_by(CommuneTarget.valid_from).with_for_update()))
    latest = existing[-1] if existing else None
    if latest is not None and not can_replace_targets(actor, latest):
        raise PermissionDenied(_l("Chỉ tiêu năm %(y)d của %(c)s do Sở Y tế giao; chỉ quản trị viên cấp tỉnh được "
                                  "thay đổi.", y=year, c=commune.full_name))
    if latest is not None and valid_from < latest.valid_from:
        raise ValidationFailed(_l("Đã có chỉ tiêu áp dụng từ ngày %(d)s; phiên bản mới phải áp dụng từ ngày đó trở đi "
                                  "(lịch sử không được sửa lùi).", d=_vn(latest.valid_from)), field="valid_from")
    role, facility_id, unit_id = setter_grant(actor, commune)
    fields = dict(clean, source=source, note=note, is_illustrative=bool(is_illustrative), set_by_id=actor.id,
                  set_by_role=role, set_by_facility_id=facility_id, set_by_unit_id=unit_id)
    label = f"{commune.full_name} – {year}"
    if latest is not None and valid_from == latest.valid_from:
        before = snapshot(latest, VERSION_FIELDS)
        for name, value in fields.items():
            setattr(latest, name, value)
        db.session.flush()
        record("targets.correct", latest, label=label, unit_path=commune.path, before=before,
               after=snapshot(latest, VERSION_FIELDS), actor=actor)
        db.session.flush()
        return latest
    closed = None
    if latest is not None:
        closed = snapshot(latest, ["id", "valid_from", "valid_to"])
        latest.valid_to = valid_from
        db.session.flush()  # the open-version unique index: close the old one before opening the new one
    version = CommuneTarget(commune_id=commune.id, year=year, valid_from=valid_from, created_at=clock.now(), **fields)
    db.session.add(version)
    db.session.flush()
    record("targets.set", version, label=label, unit_path=commune.path,
           before={"closed": closed} if closed else None, after=snapshot(version, VERSION_FIELDS), actor=actor)
    db.session.flush()
    return version


# --- what was done ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actuals:
    """A commune's actual figures for ``year`` from 1 January to ``as_of`` (the year's last day, or
    the day asked for a year not over; None: the year had not started). ``final``: the year is
    over on the day asked, so the figures are the year's."""

    commune_id: int
    year: int
    as_of: date | None
    final: bool
    hamlets: int = 0
    hamlets_covered: int = 0
    hamlets_covered_pct: Decimal | None = None
    collaborators_trained: int = 0
    supervision_visits: int = 0
    meeting_rows: int = 0
    meetings_attended: int = 0
    meeting_attendance_pct: Decimal | None = None

    def value(self, kind: TargetKind | str):
        return getattr(self, TargetKind(kind).value)


def _frame_areas(paths: Iterable[str]) -> list[str]:
    """The areas to read the coverage frame over: the communes themselves, or the whole province
    when more than :data:`FRAME_COMMUNES_PER_PROVINCE` of its communes are asked."""
    by_province: dict[int, list[str]] = {}
    for p in paths:
        by_province.setdefault(province_id_of(p), []).append(p)
    areas: list[str] = []
    for province_id, found in sorted(by_province.items()):
        areas.extend([f"/{province_id}/"] if len(found) > FRAME_COMMUNES_PER_PROVINCE else sorted(found))
    return areas


def _coverage(paths: Mapping[int, str], as_of: date, frame: pd.DataFrame | None) -> dict[int, tuple[int, int]]:
    """Commune id → (hamlets in force, covered hamlets) on ``as_of``: ``coverage.rules.aggregate``
    of a ``coverage.services.hamlet_frame`` (``frame`` when the caller has one for that day)."""
    if not paths:
        return {}
    if frame is None:
        frame = hamlet_frame(_frame_areas(paths.values()), as_of)
    mine = frame[frame["commune_id"].isin(list(paths))]
    if mine.empty:
        return {}
    totals = coverage_rules.aggregate(mine, "commune")
    return {int(u): (int(h), int(c)) for u, h, c in zip(totals["unit_id"], totals["hamlets"], totals["covered"],
                                                         strict=True)}


def _trained(ids: Sequence[int], start: date, as_of: date) -> dict[int, int]:
    """Commune id → collaborators who served there on a day of [start, as_of] (an assignment in
    force that day, primary or additional) and completed a course that ended in that period."""
    hamlet = aliased(AdminUnit, name="target_hamlet")
    overlaps = and_(Assignment.started_on <= as_of,
                    or_(Assignment.ended_on.is_(None),
                        and_(Assignment.ended_on > start, Assignment.ended_on > Assignment.started_on)))
    completed = (select(TrainingAttendance.candidate_id)
                 .join(TrainingCourse, TrainingCourse.id == TrainingAttendance.course_id)
                 .where(TrainingAttendance.completed == true(), TrainingCourse.ends_on >= start,
                        TrainingCourse.ends_on <= as_of))
    return dict(db.session.execute(
        select(hamlet.parent_id, func.count(distinct(Assignment.collaborator_id)))
        .select_from(Assignment).join(hamlet, hamlet.id == Assignment.hamlet_id)
        .join(Collaborator, Collaborator.id == Assignment.collaborator_id)
        .where(hamlet.parent_id.in_(ids), overlaps, Collaborator.candidate_id.in_(completed))
        .group_by(hamlet.parent_id)).all())


def _visits(ids: Sequence[int], start: date, as_of: date) -> dict[int, int]:
    hamlet = aliased(AdminUnit, name="visit_hamlet")
    return dict(db.session.execute(
        select(hamlet.parent_id, func.count(SupervisionVisit.id))
        .select_from(SupervisionVisit).join(hamlet, hamlet.id == SupervisionVisit.hamlet_id)
        .where(hamlet.parent_id.in_(ids), SupervisionVisit.visited_on >= start, SupervisionVisit.visited_on <= as_of)
        .group_by(hamlet.parent_id)).all())


def _meetings(ids: Sequence[int], start: date, as_of: date) -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        select(MonthlyMeeting.commune_id, func.count(MeetingAttendance.id),
               func.sum(case((MeetingAttendance.attended == true(), 1), else_=0)))
        .join(MeetingAttendance, MeetingAttendance.meeting_id == MonthlyMeeting.id)
        .where(MonthlyMeeting.commune_id.in_(ids), MonthlyMeeting.month >= start, MonthlyMeeting.month <= as_of)
        .group_by(MonthlyMeeting.commune_id)).all()
    return {cid: (int(rows_ or 0), int(attended or 0)) for cid, rows_, attended in rows}


def actuals_for(commune_ids: Iterable[int], year: int, on: date | None = None, *,
                frame: pd.DataFrame | None = None) -> dict[int, Actuals]:
    """Each commune's actual figures for ``year`` as of ``on`` (default today): the period is
    1 January to the year's last day, or to ``on`` for a year not over (the module docstring has
    the definitions). ``frame``: a ``coverage.services.hamlet_frame`` of that last day covering
    the communes, when the caller has one (the dashboard, the yearly report), else it is read.
    Every id asked gets an entry. A fixed number of queries: the communes' paths, the coverage
    frame (unless given), collaborators trained, visits, meetings."""
    ids = sorted({int(i) for i in commune_ids})
    if not ids:
        return {}
    day = on or clock.today()
    start, as_of = year_start(year), min(day, year_end(year))
    final = day > year_end(year)
    if as_of < start:  # the year has not started: nothing done yet
        return {i: Actuals(i, year, None, False) for i in ids}
    paths = dict(db.session.execute(select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(ids),
                                                                             AdminUnit.level == UnitLevel.COMMUNE.value)).all())
    coverage = _coverage(paths, as_of, frame)
    trained, visits, meetings = _trained(ids, start, as_of), _visits(ids, start, as_of), _meetings(ids, start, as_of)
    found = {}
    for i in ids:
        hamlets, covered = coverage.get(i, (0, 0))
        rows, attended = meetings.get(i, (0, 0))
        found[i] = Actuals(i, year, as_of, final, hamlets=hamlets, hamlets_covered=covered,
                           hamlets_covered_pct=pct(covered, hamlets), collaborators_trained=int(trained.get(i, 0)),
                           supervision_visits=int(visits.get(i, 0)), meeting_rows=rows, meetings_attended=attended,
                           meeting_attendance_pct=pct(attended, rows))
    return found


# --- judging ----------------------------------------------------------------------------------------


class Verdict(enum.StrEnum):
    """The outcome of one target (string values, so pages, files and the API share them)."""

    MET = "met"
    NOT_MET = "not_met"
    NOT_SET = "not_set"


def judge(target, actual) -> Verdict:
    """``not_set`` when no target is set; ``met`` when the actual figure is at least the target;
    else ``not_met`` (also when the figure cannot be computed: None). For a year not over the
    figure is the one so far (see the module docstring)."""
    if target is None:
        return Verdict.NOT_SET
    if actual is None:
        return Verdict.NOT_MET
    return Verdict.MET if Decimal(str(actual)) >= Decimal(str(target)) else Verdict.NOT_MET


@dataclass(frozen=True)
class Line:
    kind: TargetKind
    target: Decimal | int | None
    actual: Decimal | int | None
    verdict: Verdict


@dataclass(frozen=True)
class Scorecard:
    """A commune's year: its targets, its figures, one judged line per target kind."""

    targets: Targets
    actuals: Actuals
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def set_lines(self) -> list[Line]:
        return [line for line in self.lines if line.verdict != Verdict.NOT_SET]

    @property
    def met(self) -> int:
        return sum(1 for line in self.lines if line.verdict == Verdict.MET)

    @property
    def verdict(self) -> Verdict:
        """``met`` when every target set is met, ``not_set`` when none is set, else ``not_met``."""
        judged = self.set_lines
        if not judged:
            return Verdict.NOT_SET
        return Verdict.MET if all(line.verdict == Verdict.MET for line in judged) else Verdict.NOT_MET

    @property
    def final(self) -> bool:
        return self.actuals.final


def scorecard(targets: Targets, actuals: Actuals) -> Scorecard:
    return Scorecard(targets, actuals, tuple(
        Line(kind, targets.value(kind), actuals.value(kind), judge(targets.value(kind), actuals.value(kind)))
        for kind in TARGET_KINDS))


def scorecards(commune_ids: Iterable[int], year: int, on: date | None = None, *,
               frame: pd.DataFrame | None = None) -> dict[int, Scorecard]:
    """:func:`targets_for` and :func:`actuals_for` of the communes, judged."""
    ids = sorted({int(i) for i in commune_ids})
    targets, actuals = targets_for(ids, year, on), actuals_for(ids, year, on, frame=frame)
    return {i: scorecard(targets[i], actuals[i]) for i in ids}


# --- an area ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaSummary:
    """How many of an area's communes with targets for ``year`` meet all of them (plain values)."""

    year: int
    met: int  # communes meeting every target set
    judged: int  # communes with at least one target set
    final: bool
    as_of: date | None

    @property
    def not_met(self) -> int:
        return self.judged - self.met


def area_summary(prefixes: Sequence[str], year: int, on: date | None = None, *,
                 frame: pd.DataFrame | None = None) -> AreaSummary:
    """"N/M xã đạt chỉ tiêu": of the communes under the areas with targets for ``year``, those
    meeting every target set. Only the communes with targets are computed."""
    day = on or clock.today()
    targets = {i: t for i, t in targets_in_area(prefixes, year, day).items() if t.any_set}
    actuals = actuals_for(targets, year, day, frame=frame) if targets else {}
    cards = [scorecard(targets[i], actuals[i]) for i in targets]
    as_of = min(day, year_end(year)) if day >= year_start(year) else None
    return AreaSummary(year, sum(1 for c in cards if c.verdict == Verdict.MET), len(cards), day > year_end(year), as_of)


@dataclass(frozen=True)
class AreaRow:
    commune: AdminUnit
    card: Scorecard

    @property
    def commune_id(self) -> int:
        return self.commune.id


def communes_query(prefixes: Sequence[str], year: int, on: date | None = None):
    """The communes under the areas in force on :func:`targets_day`, by folded name."""
    day = targets_day(year, on)
    return (select(AdminUnit).where(AdminUnit.level == UnitLevel.COMMUNE.value, valid_on(AdminUnit, day),
                                    in_areas(prefixes, AdminUnit.path))
            .order_by(bytewise(AdminUnit.search_text), AdminUnit.id))


def area_page(prefixes: Sequence[str], year: int, on: date | None = None, page: int = 1,
              per_page: int = PER_PAGE) -> Page:
    """One page of the area's communes with their scorecards: the communes by LIMIT/OFFSET, then
    :func:`scorecards` for the page's communes only."""
    found = paginate(communes_query(prefixes, year, on), page, per_page) if prefixes else Page([], 0, 1, per_page)
    cards = scorecards([c.id for c in found.items], year, on)
    return found.map(lambda c: AreaRow(c, cards[c.id]))


# --- the commune page and the home dashboard --------------------------------------------------------


@dataclass(frozen=True)
class CommuneSection:
    """What the commune page (units/show.html) shows: the year's scorecard and whether the user
    may set the targets."""

    commune_id: int
    year: int
    card: Scorecard
    can_set: bool
    setter_name: str | None = None


def commune_section(commune: AdminUnit, on: date, user) -> CommuneSection:
    """The commune's targets for ``on``'s year against its figures as of ``on``."""
    card = scorecards([commune.id], on.year, on)[commune.id]
    setter = None
    if card.targets.version_id is not None:
        version = db.session.get(CommuneTarget, card.targets.version_id)
        setter = version.setter_name if version is not None else None
    return CommuneSection(commune.id, on.year, card, can_set_targets(user, commune), setter)


@dataclass(frozen=True)
class TargetsPanel:
    """The home dashboard's line on targets (plain values: kept by ``common.cache.wide_scope``).
    For a commune's user, ``card`` (one compact line per target); for a wider area, ``summary``
    ("N/M xã đạt chỉ tiêu")."""

    year: int
    card: Scorecard | None = None
    summary: AreaSummary | None = None
    unit_id: int | None = None  # the one commune, or None for an area


def dashboard_targets(prefixes: Sequence[str], on: date, *, frame: pd.DataFrame | None = None) -> TargetsPanel | None:
    """The targets of ``on``'s year for the home dashboard of a user whose area is ``prefixes``:
    the scorecard when the area is one commune, else the area's summary. ``frame``: the
    dashboard's coverage frame of ``on`` (reused, not read again)."""
    prefixes = list(prefixes)
    if not prefixes:
        return None
    year = on.year
    if len(prefixes) == 1:
        unit = db.session.execute(select(AdminUnit.id, AdminUnit.level).where(AdminUnit.path == prefixes[0])).first()
        if unit is not None and unit.level == UnitLevel.COMMUNE.value:
            card = scorecards([unit.id], year, on, frame=frame)[unit.id]
            return TargetsPanel(year, card=card, unit_id=unit.id)
    return TargetsPanel(year, summary=area_summary(prefixes, year, on, frame=frame))


def prefixes_of_centre(facility, on: date) -> list[str]:
    """The paths of the units a centre serves on ``on``."""
    return sorted(u.path for u in served_units(facility, on))

"""Coverage as of a date: the SQL that feeds the computation, and the public functions used by the
maps, the dashboards, the API and the quota page's check.

:func:`hamlet_frame` reads one row per hamlet with a fixed number of queries whatever the area
(the hamlets with their quota and collaborators — the quota list's own SQL,
``collaborators.services.quota_query`` — applications in progress and the end of the last active
service in the same statement; the centres' service areas; the provinces' quota bands), into a
DataFrame of plain columns; everything after is pandas (:mod:`.rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.orm import aliased

from ..collaborators.models import Assignment, Suspension
from ..collaborators.services import open_on, quota_query
from ..common.clock import today, zone
from ..common.memory import collector_paused
from ..errors import ValidationFailed
from ..extensions import db
from ..recruitment.models import Application, CriteriaSet
from ..recruitment.workflow import FINAL_STATES, State
from ..units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel
from ..units.services import in_areas, is_postgresql, path_ids, province_id_of, valid_on
from . import rules
from .rules import AGGREGATIONS, STATUSES, Status, aggregate, oldest_vacancies

__all__ = ["AGGREGATIONS", "FRAME_COLUMNS", "STATUSES", "CoverageSummary", "Status", "aggregate", "centre_coverage",
           "centre_prefixes", "hamlet_frame", "in_progress_on", "oldest_vacancies", "require_data_on", "summarise",
           "trend", "unit_coverage"]

FRAME_COLUMNS = ("hamlet_id", "name", "full_name", "path", "commune_id", "province_id", "households", "quota",
                 "active", "suspended", "pending", "status", "households_per_collaborator", "days_vacant",
                 "is_difficult", "is_ethnic_minority", "is_synthetic", "has_geometry", "centre_ids")


# --- the SQL -------------------------------------------------------------------------------------


def _end_of_day(on: date) -> datetime:
    """The instant ``on`` ends in Vietnam (the configured zone), in UTC as timestamps are stored."""
    return datetime.combine(on + timedelta(days=1), time(), tzinfo=zone()).astimezone(UTC)


def in_progress_on(on: date):
    """SQL: an application was in the selection pipeline on ``on`` — made by the end of that day
    and not yet at a final state (``workflow.FINAL_STATES``): still open now, or activated after
    ``on``, or rejected/withdrawn after that day (its last change, ``updated_at``: a final state
    never changes again)."""
    end = _end_of_day(on)
    return and_(Application.created_at < end, or_(
        Application.state.not_in([s.value for s in FINAL_STATES]),
        and_(Application.state == State.ACTIVE.value, Application.activated_on > on),
        and_(Application.state.in_([State.REJECTED.value, State.WITHDRAWN.value]), Application.updated_at >= end)))


def _pending_counts(prefixes: Sequence[str], on: date):
    return (select(Application.hamlet_id.label("hamlet_id"), func.count().label("pending"))
            .where(in_areas(prefixes, Application.hamlet_path), in_progress_on(on))
            .group_by(Application.hamlet_id).subquery("coverage_pending"))


_served = aliased(Assignment, name="served")
_paused = aliased(Suspension, name="paused")


def _gap_start(a, paused_since, on: date):
    """SQL over one assignment ``a`` begun by ``on``: the first day of the gap in active service
    it leaves as of ``on`` — the day it ended (by ``on``), or, when its collaborator was under a
    suspension on its last day (for an assignment still in force: on ``on``), the day that
    suspension began (``paused_since``); NULL when they were suspended from its start."""
    stop = _stop(a, on)
    return case((paused_since.is_(None), stop), (paused_since > a.started_on, paused_since), else_=None)


def _stop(a, on: date):
    """SQL: the first day ``a`` is not served, counting ``on + 1`` for one still in force."""
    return case((a.ended_on <= on, a.ended_on), else_=literal(on + timedelta(days=1), Date))


def _paused_at_stop(a, s, on: date):
    """SQL: suspension ``s`` of ``a``'s collaborator was in force on ``a``'s last day served."""
    stop = _stop(a, on)
    return and_(s.collaborator_id == a.collaborator_id, s.started_on < stop, or_(s.ended_on.is_(None),
                                                                                  s.ended_on >= stop))


def _service_ends(prefixes: Sequence[str], on: date):
    """PostgreSQL: a subquery (``hamlet_id, last_active``) of the latest :func:`_gap_start` of
    each hamlet of the areas — read from the assignments ended by ``on`` and those of
    collaborators suspended that day (the others leave no gap), outer-joined to the suspension
    in force on their last day (suspensions never overlap:
    ``collaborators.services.suspend_collaborator``). One hash join, where a correlated
    subquery per hamlet would make PostgreSQL compile the national query (JIT) for seconds."""
    a, s = _served, _paused
    suspended = select(Suspension.collaborator_id).where(open_on(Suspension, on))
    return (select(a.hamlet_id.label("hamlet_id"), func.max(_gap_start(a, s.started_on, on)).label("last_active"))
            .select_from(a)
            .outerjoin(s, _paused_at_stop(a, s, on))
            .where(in_areas(prefixes, a.hamlet_path), a.started_on <= on,
                   or_(a.ended_on <= on, a.collaborator_id.in_(suspended)))
            .group_by(a.hamlet_id).subquery("coverage_ends"))


def _last_gap(hamlet, on: date):
    """SQLite: the latest :func:`_gap_start` of ``hamlet`` (correlated), read through the
    assignments' (hamlet, dates) index and asked only of the hamlets with nobody active — where
    SQLite would otherwise group every assignment of the country to answer one province."""
    a, s = _served, _paused
    paused_since = select(func.max(s.started_on)).where(_paused_at_stop(a, s, on)).scalar_subquery()
    return (select(func.max(_gap_start(a, paused_since, on))).where(a.hamlet_id == hamlet.id, a.started_on <= on)
            .correlate(hamlet).scalar_subquery())


_HAMLET_COLUMNS = ("hamlet_id", "name", "full_name", "path", "commune_id", "households", "quota", "active",
                   "suspended", "pending", "vacant_since", "is_difficult", "is_ethnic_minority", "is_synthetic",
                   "has_geometry")


def _hamlet_rows(prefixes: Sequence[str], on: date) -> dict[str, tuple]:
    """The hamlets' columns (:data:`_HAMLET_COLUMNS`), read by one statement built on the quota
    list's own (``collaborators.services.quota_query``: the same hamlets, quota and counts).
    ``vacant_since`` (only where nobody is active): the first day of the current gap in active
    service (:func:`_gap_start`), or the day the hamlet came into force if nobody ever served."""
    q = quota_query(prefixes, on)
    h = q.hamlet
    pending = _pending_counts(prefixes, on)
    ends = _service_ends(prefixes, on) if is_postgresql() else None
    last_gap = ends.c.last_active if ends is not None else _last_gap(h, on)
    since = case((q.active == 0, func.coalesce(last_gap, h.valid_from)), else_=None)
    stmt = (select(h.id, h.name, h.full_name, h.path, h.parent_id, q.households, q.quota, q.active, q.suspended,
                   func.coalesce(pending.c.pending, 0), type_coerce(since, Date), h.is_difficult,
                   h.is_ethnic_minority, h.is_synthetic, h.geom_simplified_wkb.is_not(None))
            .select_from(h)
            .outerjoin(q.counts, q.counts.c.hamlet_id == h.id)
            .outerjoin(pending, pending.c.hamlet_id == h.id)
            .where(*q.conditions))
    if ends is not None:
        stmt = stmt.outerjoin(ends, ends.c.hamlet_id == h.id)
    return _columns(stmt, _HAMLET_COLUMNS)


def _columns(stmt, names: Sequence[str]) -> dict[str, tuple]:
    """A statement's result as columns (name → tuple of values), read without ORM objects."""
    with collector_paused():
        rows = db.session.connection().execute(stmt).all()
        return dict(zip(names, zip(*rows, strict=True) if rows else [()] * len(names), strict=True))


_served_unit = aliased(AdminUnit, name="served_unit")  # made once: a fresh alias costs milliseconds


def _centre_areas(prefixes: Sequence[str], on: date) -> pd.DataFrame:
    """(facility_id, unit_id): the service areas, in force on ``on``, of the area health centres
    in force that day, over the areas or their ancestors."""
    unit = _served_unit
    ancestors = {i for p in prefixes for i in path_ids(p)}
    return pd.DataFrame(_columns(
        select(ServiceArea.facility_id, ServiceArea.unit_id)
        .join(Facility, Facility.id == ServiceArea.facility_id)
        .join(unit, unit.id == ServiceArea.unit_id)
        .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, valid_on(Facility, on), valid_on(ServiceArea, on),
               or_(in_areas(prefixes, unit.path), ServiceArea.unit_id.in_(ancestors))),
        ("facility_id", "unit_id")))


# --- the frame -----------------------------------------------------------------------------------


def hamlet_frame(prefixes: Sequence[str], on: date) -> pd.DataFrame:
    """One row per hamlet in force on ``on`` under the areas (unit paths, as
    ``auth.permissions.scope_of(user).prefixes`` gives; none → no rows), ordered by hamlet id:

    ``hamlet_id, name, full_name, path, commune_id, province_id, households`` (0 when not
    recorded, as on the quota page), ``quota`` (Int64; <NA> when the province has no criteria in
    force), ``active`` and ``suspended`` collaborators (per assignment in force, additional
    hamlets included), ``pending`` (applications in progress), ``status`` (:class:`rules.Status`),
    ``households_per_collaborator`` (Float64, <NA> when nobody is active), ``days_vacant``
    (Int64, <NA> unless nobody is active: vacant or pending), ``is_difficult,
    is_ethnic_minority, is_synthetic, has_geometry`` (a simplified geometry is stored), and
    ``centre_ids`` (tuple of the ids of the area health centres serving the hamlet that day).

    A fixed number of queries whatever the number of hamlets: three (the quota bands, the
    hamlets, the centres' service areas), plus, for a scope of more than two provinces, the scope
    filter's look-up of the provinces (``units.services.in_areas``) once per table filtered; no
    ORM objects."""
    prefixes = list(prefixes)
    raw = _hamlet_rows(prefixes, on)
    order = np.argsort(np.array(raw["hamlet_id"], dtype="int64"), kind="stable")

    def column(name: str, dtype="int64") -> np.ndarray:
        return np.array(raw[name], dtype=dtype)[order]

    commune_ids, paths = column("commune_id"), column("path", "object")
    active, quota, pending = column("active"), pd.array(column("quota", "object"), dtype="Int64"), column("pending")
    frame = pd.DataFrame({
        "hamlet_id": column("hamlet_id"),
        "name": pd.array(column("name", "object"), dtype="str"),
        "full_name": pd.array(column("full_name", "object"), dtype="str"),
        "path": pd.array(paths, dtype="str"),
        "commune_id": commune_ids,
        "province_id": _provinces(commune_ids, paths),
        "households": column("households"),
        "quota": quota,
        "active": active,
        "suspended": column("suspended"),
        "pending": pending,
    })
    frame["status"] = rules.statuses(frame["active"], frame["quota"], frame["pending"])
    frame["households_per_collaborator"] = rules.households_per_collaborator(frame["households"], frame["active"])
    frame["days_vacant"] = rules.days_vacant(frame["active"], pd.Series(column("vacant_since", "object")), on)
    for flag in ("is_difficult", "is_ethnic_minority", "is_synthetic", "has_geometry"):
        frame[flag] = column(flag, "bool")
    frame["centre_ids"] = _centre_ids(commune_ids, paths, prefixes, on)
    return frame[list(FRAME_COLUMNS)]


def _first_per_commune(commune_ids: np.ndarray, paths: np.ndarray) -> dict[int, str]:
    """A hamlet path per commune (any hamlet of it)."""
    ids, first = np.unique(commune_ids, return_index=True)
    return {int(c): paths[i] for c, i in zip(ids.tolist(), first.tolist(), strict=True)}


def _provinces(commune_ids: np.ndarray, paths: np.ndarray) -> np.ndarray:
    """Each hamlet's province (the root of its path), worked out once per commune."""
    province = {c: province_id_of(p) for c, p in _first_per_commune(commune_ids, paths).items()}
    return np.array([province[c] for c in commune_ids.tolist()], dtype="int64")


def _centre_ids(commune_ids: np.ndarray, paths: np.ndarray, prefixes: Sequence[str], on: date) -> pd.Series:
    """Per hamlet, the ids of the area health centres serving its commune (:func:`rules.centre_memberships`)."""
    if not len(commune_ids):
        return pd.Series([], dtype="object")
    communes = _first_per_commune(commune_ids, paths)
    found = rules.centre_memberships(
        pd.DataFrame({"commune_id": list(communes), "commune_path": [p.rsplit("/", 2)[0] + "/" for p in communes.values()]}),
        _centre_areas(prefixes, on))
    return pd.Series([found[c] for c in commune_ids.tolist()], dtype="object")


# --- one unit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageSummary:
    """The coverage of one area on one date (one row of :func:`rules.aggregate`)."""

    unit_id: int | None
    as_of: date
    hamlets: int
    covered: int
    below_quota: int
    vacant: int
    pending: int
    unknown: int
    pct_covered: float | None  # covered hamlets per 100 hamlets; None without hamlets
    households: int
    households_covered: int
    collaborators: int
    vacancies: int  # hamlets with nobody active (vacant + pending)
    vacancies_over_90_days: int

    def count(self, status: str) -> int:
        return getattr(self, Status(status).value)


def summarise(frame: pd.DataFrame, on: date, unit_id: int | None = None) -> CoverageSummary:
    """The whole frame summed (``aggregate(frame, "national")``) as a :class:`CoverageSummary`."""
    row = aggregate(frame, "national").iloc[0]
    values = {f.name: row[f.name] for f in fields(CoverageSummary) if f.name not in ("unit_id", "as_of")}
    pct = values.pop("pct_covered")
    return CoverageSummary(unit_id=unit_id, as_of=on, pct_covered=None if pd.isna(pct) else float(pct),
                           **{k: int(v) for k, v in values.items()})


def unit_coverage(unit: AdminUnit, on: date) -> CoverageSummary:
    """The coverage of a province, commune or hamlet (everything under it) on ``on``."""
    return summarise(hamlet_frame([unit.path], on), on, unit.id)


def centre_prefixes(facility: Facility, on: date) -> list[str]:
    """The paths of the units a facility serves on ``on`` (its service areas)."""
    return list(db.session.scalars(
        select(AdminUnit.path).join(ServiceArea, ServiceArea.unit_id == AdminUnit.id)
        .where(ServiceArea.facility_id == facility.id, valid_on(ServiceArea, on)).order_by(AdminUnit.path)))


def centre_coverage(facility: Facility, on: date) -> CoverageSummary:
    """The coverage of the communes an area health centre serves on ``on`` (``unit_id`` None: a
    facility is not an admin unit)."""
    return summarise(hamlet_frame(centre_prefixes(facility, on), on), on)


def require_data_on(unit: AdminUnit, on: date) -> None:
    """Refuse (ValidationFailed, field ``as_of``) a date on which the unit was not in force: before
    it was created (there is no data before that) or after it was closed by a reform."""
    if on < unit.valid_from:
        raise ValidationFailed(_l("%(u)s chỉ có dữ liệu từ ngày %(d)s; hãy chọn một ngày từ ngày đó trở đi.",
                                  u=unit.full_name, d=unit.valid_from.strftime("%d/%m/%Y")), field="as_of")
    if unit.valid_to is not None and on >= unit.valid_to:
        raise ValidationFailed(_l("%(u)s không còn hiệu lực từ ngày %(d)s (đã sáp nhập hoặc giải thể); hãy chọn một "
                                  "ngày trước đó.", u=unit.full_name, d=unit.valid_to.strftime("%d/%m/%Y")),
                               field="as_of")


# --- over time -----------------------------------------------------------------------------------


def _bands_by_day(province_ids: set[int], days: Sequence[date]) -> dict[date, dict[int, list | None]]:
    """``recruitment.services.bands_in_force`` for every day at once (one query): the version in
    force on a day is the last one (by ``valid_from``, then version) starting on or before it."""
    versions = db.session.execute(
        select(CriteriaSet.province_id, CriteriaSet.valid_from, CriteriaSet.quota_bands)
        .where(CriteriaSet.province_id.in_(province_ids), CriteriaSet.valid_from <= max(days))
        .order_by(CriteriaSet.province_id, CriteriaSet.valid_from, CriteriaSet.version)).all() if province_ids else []
    found = {}
    for day in days:
        bands: dict[int, list | None] = dict.fromkeys(province_ids)
        for province_id, valid_from, quota_bands in versions:
            if valid_from <= day:
                bands[province_id] = quota_bands
        found[day] = bands
    return found


def trend(prefixes: Sequence[str], months: int = 12, on: date | None = None) -> list[tuple[date, float | None]]:
    """% of hamlets covered at the end of each of the last ``months`` months up to ``on``
    (default today; :func:`rules.month_ends`: the current month's point is ``on``), oldest first;
    None for a day with no hamlet in force.

    Computed from the dated rows, not one frame per month: the area's hamlets, the assignments
    and suspensions overlapping the period and the criteria versions are read once (four queries
    whatever ``months`` and the area), then each day is a vectorised count in pandas/numpy
    (:func:`rules.pct_covered_on`, the rules of :func:`rules.statuses`)."""
    on = on or today()
    prefixes = list(prefixes)
    days = rules.month_ends(on, months)
    first, last = days[0], days[-1]
    hamlets = _columns(
        select(AdminUnit.id, AdminUnit.parent_id, AdminUnit.path, func.coalesce(AdminUnit.households, 0),
               AdminUnit.valid_from, AdminUnit.valid_to)
        .where(AdminUnit.level == UnitLevel.HAMLET.value, in_areas(prefixes, AdminUnit.path),
               AdminUnit.valid_from <= last, or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > first)),
        ("hamlet_id", "commune_id", "path", "households", "valid_from", "valid_to"))
    hamlets["province_id"] = _provinces(np.array(hamlets["commune_id"], dtype="int64"), hamlets["path"])
    overlapping = and_(in_areas(prefixes, Assignment.hamlet_path), Assignment.started_on <= last,
                       or_(Assignment.ended_on.is_(None), Assignment.ended_on > first))
    assignments = _columns(
        select(Assignment.hamlet_id, Assignment.collaborator_id, Assignment.started_on, Assignment.ended_on)
        .where(overlapping), ("hamlet_id", "collaborator_id", "started_on", "ended_on"))
    suspensions = _columns(
        select(Suspension.collaborator_id, Suspension.started_on, Suspension.ended_on)
        .where(Suspension.collaborator_id.in_(select(Assignment.collaborator_id).where(overlapping)),
               Suspension.started_on <= last, or_(Suspension.ended_on.is_(None), Suspension.ended_on > first)),
        ("collaborator_id", "started_on", "ended_on"))
    bands = _bands_by_day({province_id_of(p) for p in prefixes}, days)
    return rules.pct_covered_on(days, pd.DataFrame(hamlets), pd.DataFrame(assignments), pd.DataFrame(suspensions),
                                bands)

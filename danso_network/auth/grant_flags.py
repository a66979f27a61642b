"""Grants that a reform left giving nothing (issue #13 item 5: "grants on closed units are
flagged … nobody loses access without it being shown").

A grant in force whose unit has closed (merged, split, renamed, moved or dissolved: a new
version of the unit was opened instead), whose facility has closed, or whose facility serves no
unit any more, reaches nothing from that day (``auth.permissions.compute_scope``: a closed unit
is not in anybody's scope; history is read through the units one reaches today). Nothing moves a
grant silently (``units.reforms``: grants move only when the reform is applied with
``move_grants``), so these grants are listed for the province admin, each with the proposal the
reform's preview would make: the unit that took over (the one keeping the closed unit's code
first, QĐ 124/2004/QĐ-TTg), or the facility of the same kind serving what the facility served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, not_, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..common import clock
from ..extensions import db
from ..units import lineage
from ..units.models import AdminUnit, Facility, ServiceArea
from ..units.services import in_areas, served_units, valid_on
from .models import RoleGrant

UNIT_CLOSED = "unit_closed"
FACILITY_CLOSED = "facility_closed"
SERVES_NOTHING = "serves_nothing"
REASON_LABELS = {
    UNIT_CLOSED: _l("Đơn vị đã hết hiệu lực"),
    FACILITY_CLOSED: _l("Cơ sở y tế đã đóng"),
    SERVES_NOTHING: _l("Cơ sở y tế không còn phục vụ đơn vị nào"),
}


@dataclass(frozen=True)
class FlaggedGrant:
    grant: RoleGrant
    reason: str  # UNIT_CLOSED | FACILITY_CLOSED | SERVES_NOTHING
    since: date | None  # the first day it gave nothing (None: the facility never served a unit)
    proposals: tuple  # AdminUnit (a unit grant) or Facility (a facility grant), the likeliest first

    @property
    def place(self):
        return self.grant.unit if self.grant.unit is not None else self.grant.facility

    @property
    def place_name(self) -> str:
        return self.grant.unit.full_name if self.grant.unit is not None else self.grant.facility.name

    @property
    def reason_label(self) -> str:
        return str(REASON_LABELS[self.reason])

    @staticmethod
    def name_of(place) -> str:
        return place.full_name if isinstance(place, AdminUnit) else place.name


def flagged_grants(on: date | None = None, areas: Sequence[str] | None = None) -> list[FlaggedGrant]:
    """The grants in force on ``on`` (today by default) that reach nothing that day (module
    docstring), with what they lie in limited to ``areas`` (unit paths; ``None``: everywhere), by
    user name."""
    on = on or clock.today()
    found = [*_unit_grants(on, areas), *_facility_grants(on, areas)]
    return sorted(found, key=lambda f: (f.grant.user.username, f.grant.id))


def _unit_grants(on: date, areas: Sequence[str] | None) -> list[FlaggedGrant]:
    stmt = (select(RoleGrant).join(AdminUnit, AdminUnit.id == RoleGrant.unit_id)
            .where(valid_on(RoleGrant, on), AdminUnit.valid_to.is_not(None), AdminUnit.valid_to <= on)
            .options(selectinload(RoleGrant.unit), selectinload(RoleGrant.user)))
    if areas is not None:
        stmt = stmt.where(in_areas(list(areas), AdminUnit.path))
    return [FlaggedGrant(g, UNIT_CLOSED, g.unit.valid_to, tuple(lineage.live_successors(g.unit, on)))
            for g in db.session.scalars(stmt)]


def _facility_grants(on: date, areas: Sequence[str] | None) -> list[FlaggedGrant]:
    place = aliased(AdminUnit)
    serving = select(ServiceArea.id).where(ServiceArea.facility_id == Facility.id, valid_on(ServiceArea, on)).exists()
    closed = Facility.valid_to.is_not(None) & (Facility.valid_to <= on)
    stmt = (select(RoleGrant).join(Facility, Facility.id == RoleGrant.facility_id)
            .join(place, place.id == Facility.unit_id)
            .where(valid_on(RoleGrant, on), or_(closed, not_(serving)))
            .options(selectinload(RoleGrant.facility), selectinload(RoleGrant.user)))
    if areas is not None:
        stmt = stmt.where(in_areas(list(areas), place.path))
    flagged = []
    for grant in db.session.scalars(stmt):
        facility = grant.facility
        if facility.valid_to is not None and facility.valid_to <= on:
            reason, since = FACILITY_CLOSED, facility.valid_to
        else:
            reason, since = SERVES_NOTHING, db.session.scalar(
                select(func.max(ServiceArea.valid_to)).where(ServiceArea.facility_id == facility.id,
                                                             ServiceArea.valid_to <= on))
        flagged.append(FlaggedGrant(grant, reason, since, tuple(_facility_proposals(facility, since, on))))
    return flagged


def _facility_proposals(facility: Facility, since: date | None, on: date) -> list[Facility]:
    """The facilities of the same kind serving on ``on`` what ``facility`` served the day before
    it stopped (those units, or the units that took over from them)."""
    if since is None:
        return []
    units: dict[int, AdminUnit] = {}
    for unit in served_units(facility, since - timedelta(days=1)):
        for now_unit in ([unit] if unit.valid_on(on) else lineage.live_successors(unit, on)):
            units[now_unit.id] = now_unit
    if not units:
        return []
    return list(db.session.scalars(
        select(Facility).join(ServiceArea, ServiceArea.facility_id == Facility.id)
        .where(ServiceArea.unit_id.in_(list(units)), valid_on(ServiceArea, on), valid_on(Facility, on),
               Facility.kind == facility.kind, Facility.id != facility.id)
        .distinct().order_by(Facility.name, Facility.id)))

"""What the home page shows each user: the units in their scope with headline counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select

from ..auth.models import Role, RoleGrant, User
from ..auth.permissions import Scope
from ..common.clock import today
from ..common.paging import Page, paginate
from ..extensions import db
from ..units.models import AdminUnit, Facility, FacilityKind
from ..units.services import UnitCounts, facilities_serving, path_filter, unit_stats, valid_on

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
    entries = []
    for path in sorted(units, key=lambda p: (units[p].level != "province", units[p].code or "", units[p].name)):
        unit = units[path]
        entries.append(ScopeEntry(
            unit=unit, roles=sorted(scope.roles_at(path)), counts=stats[unit.id],
            facility_names=[f.name for f in facilities_serving(unit)][:1],
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

"""What the home page shows each user: the units in their scope with headline counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..auth.models import Role, RoleGrant
from ..auth.permissions import Scope
from ..common.clock import today
from ..extensions import db
from ..units.models import AdminUnit
from ..units.services import UnitCounts, facilities_serving, unit_stats, valid_on


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
    return HomeOverview(entries=entries, grants=grants)

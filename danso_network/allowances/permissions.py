"""Who may read and change allowance data (predicates written once, used by views, templates, the
API and the CLI; DESIGN.md §4 rule 6). Fail-closed: no grant, no access.

- The base salary is national law: anyone with a grant reads it; a province admin of every
  province in force records a new decree.
- A province's allowance rules and network policy are read by everyone working in the province
  and changed only by its province admins.
- A monthly sheet covers a unit's whole area (or every unit a centre serves): the user's grant
  must cover all of it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..auth.models import Role, User
from ..auth.permissions import scope_of
from ..common import clock
from ..extensions import db
from ..units.models import AdminUnit, Facility, UnitLevel
from ..units.services import served_units, valid_on


def can_view_settings(user: User, province: AdminUnit) -> bool:
    """Everyone working in the province reads its allowance rules and network policy; only its
    province admins change them (:func:`can_manage_network_settings`)."""
    return any(p.startswith(province.path) or province.path.startswith(p) for p in scope_of(user).prefixes)


def can_manage_network_settings(user: User, province: AdminUnit) -> bool:
    """Allowance rules, the base salary and the network policy belong to the province."""
    return Role.PROVINCE_ADMIN in scope_of(user).roles_at(province.path)


def can_view_base_salary(user: User) -> bool:
    """The base salary is public national law: anyone with a grant reads it."""
    return not scope_of(user).empty


def can_manage_base_salary(user: User) -> bool:
    """The base salary is national law and changes every province's allowance sheets, so a new
    decree is recorded only by a province admin of *every* province in force today (in an
    installation holding one province, its admins). Fail-closed: no province in force, nobody."""
    scope = scope_of(user)
    if Role.PROVINCE_ADMIN not in scope.all_roles:
        return False
    provinces = db.session.scalars(select(AdminUnit.path).where(
        AdminUnit.level == UnitLevel.PROVINCE.value, valid_on(AdminUnit, clock.today()))).all()
    return bool(provinces) and all(Role.PROVINCE_ADMIN in scope.roles_at(path) for path in provinces)


def can_view_sheet(user: User, unit: AdminUnit) -> bool:
    """A sheet covers a unit's whole area: the user's grant must cover the unit."""
    return bool(scope_of(user).roles_at(unit.path))


def can_view_centre_sheet(user: User, facility: Facility, on: date | None = None) -> bool:
    """A centre's sheet covers every unit it serves: the user must reach all of them."""
    units = served_units(facility, on)
    return bool(units) and all(can_view_sheet(user, u) for u in units)

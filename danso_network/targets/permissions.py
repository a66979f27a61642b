"""Who may read and set a commune's annual targets (predicates written once, used by views,
templates and services; DESIGN.md §4 rule 6). Fail-closed: no grant, no access.

- Everyone whose area covers the commune reads its targets (station heads, officers, viewers,
  the commune's committee included).
- The targets are set by the province admin (Sở Y tế / Chi cục Dân số) for any commune of the
  province, and by the centre officer (Trung tâm Y tế khu vực) for the communes the centre serves
  — the offices that issue the yearly plans (issue #11 item 4). Station heads and viewers only read.
- A version is changed by those who set it: a version the province set binds the centre, so only
  a province admin replaces it; one the centre set is replaced by the centre or by the province.
"""

from __future__ import annotations

from datetime import date

from ..auth.models import Role, User
from ..auth.permissions import can_view_unit, scope_of
from ..units.models import AdminUnit, Facility, UnitLevel
from ..units.services import served_units
from .models import CommuneTarget

SETTING_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.CENTRE_OFFICER})


def can_view_targets(user: User, unit: AdminUnit) -> bool:
    """A commune's targets, or the list of an area's communes: whoever covers the unit."""
    return can_view_unit(user, unit)


def can_set_targets(user: User, commune: AdminUnit) -> bool:
    """The province admin or the centre officer covering the commune (not station heads, not viewers)."""
    return commune.level == UnitLevel.COMMUNE and bool(scope_of(user).roles_at(commune.path) & SETTING_ROLES)


def can_replace_targets(user: User, version: CommuneTarget) -> bool:
    """Whether ``user`` may replace ``version`` with a new one: who may set the commune's
    targets, and a province admin when the province set it."""
    if not can_set_targets(user, version.commune):
        return False
    return version.set_by_role != Role.PROVINCE_ADMIN.value or Role.PROVINCE_ADMIN in scope_of(user).roles_at(
        version.commune.path)


def can_view_centre_targets(user: User, facility: Facility, on: date | None = None) -> bool:
    """A centre's list covers every unit it serves: the user must reach all of them."""
    units = served_units(facility, on)
    return bool(units) and all(can_view_unit(user, u) for u in units)

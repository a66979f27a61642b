"""Who may see which map (the scope rule of ``auth.permissions``, written once for maps).

- A unit's map (a commune, a hamlet's commune): ``can_view_unit``, the whole unit.
- A province's map: the whole province, or the part of it in the user's scope (a centre
  officer sees the communes the centre serves coloured among the province's, as the roster API
  answers for a province; ``visible_area``). Nothing in common: refused.
- A health centre's map: every commune the centre serves today lies in the user's scope (a
  centre officer, a viewer of the centre, the province). A station head of one of those
  communes sees only part of the centre: refused (fail-closed; their commune has its own map).
"""

from __future__ import annotations

from ..auth.permissions import can_view_unit, scope_of
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import served_units


def visible_area(user, unit: AdminUnit) -> tuple[str, ...]:
    """The unit paths of ``unit`` the user's map shows: the unit itself when the scope covers it,
    for a province the parts of the scope inside it; empty: refused."""
    scope = scope_of(user)
    if scope.reaches(unit.path):
        return (unit.path,)
    if unit.level != UnitLevel.PROVINCE:
        return ()
    return tuple(sorted(p for p in scope.prefixes if p.startswith(unit.path)))


def can_view_unit_map(user, unit: AdminUnit) -> bool:
    return bool(visible_area(user, unit))


def can_view_centre_map(user, facility: Facility) -> bool:
    if facility.kind != FacilityKind.HEALTH_CENTRE.value:
        return False
    if can_view_unit(user, facility.unit):
        return True
    scope = scope_of(user)
    served = served_units(facility)
    return bool(served) and all(scope.reaches(unit.path) for unit in served)

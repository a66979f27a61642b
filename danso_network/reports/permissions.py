"""Who may see which network report (the scope rule of ``auth.permissions``, written once for
reports; fail-closed: no grant, no report).

- A unit's report (a province, a commune, a pre-2025 district): the user's grant covers the unit
  (``can_view_unit``). A hamlet has no report of its own: its commune's is the report.
- A health centre's report: every commune the centre serves today lies in the user's scope, or
  the user's scope covers the centre's own unit (the province) — as the centre's roster and map.
  A station head of one of those communes sees only part of the centre: refused.
- The user's whole scope: any grant.
"""

from __future__ import annotations

from datetime import date

from ..auth.permissions import can_view_unit, scope_of
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import served_units


def can_view_unit_report(user, unit: AdminUnit) -> bool:
    return unit.level != UnitLevel.HAMLET.value and can_view_unit(user, unit)


def can_view_centre_report(user, facility: Facility, on: date | None = None) -> bool:
    if facility.kind != FacilityKind.HEALTH_CENTRE.value:
        return False
    if can_view_unit(user, facility.unit):
        return True
    scope = scope_of(user)
    served = served_units(facility, on)
    return bool(served) and all(scope.roles_at(unit.path) for unit in served)


def can_view_scope_report(user) -> bool:
    return not scope_of(user).empty

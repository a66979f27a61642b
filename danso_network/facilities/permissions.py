"""Who may read and change a province's health facilities (issue #12, item 1; DESIGN.md §4 rule 6).

Written once, used by the views, the templates and the CLI's ``--user``. Fail-closed: no grant
valid today, no access.

- **Change** (create, edit, change service areas, close, import, a station for every commune):
  the province's admins (a ``province_admin`` grant covering the province — a national admin holds
  one in every province). A centre officer, a station head or a viewer changes nothing.
- **Read the list** of a province: everyone working in it (any grant inside the province, or
  above it).
- **Read one facility**: whoever works in the area it serves or served (a station head sees
  their station, its centre and the Department; not the station of the next commune), and the
  province's admins.
"""

from __future__ import annotations

from sqlalchemy import select

from ..auth.models import Role, User
from ..auth.permissions import scope_of
from ..extensions import db
from ..units.models import AdminUnit, Facility, ServiceArea
from ..units.services import province_of


def _overlaps(path: str, prefixes: list[str]) -> bool:
    """The area at ``path`` and the scope share ground: one holds the other."""
    return any(path.startswith(p) or p.startswith(path) for p in prefixes)


def can_view_facilities(user: User, province: AdminUnit) -> bool:
    """The province's list: anyone with a grant inside (or above) the province."""
    return _overlaps(province.path, scope_of(user).prefixes)


def can_manage_facilities(user: User, province: AdminUnit) -> bool:
    """Creating, editing, closing and importing a province's facilities: its province admins."""
    return Role.PROVINCE_ADMIN in scope_of(user).roles_at(province.path)


def can_manage_facility(user: User, facility: Facility) -> bool:
    return can_manage_facilities(user, province_of(facility.unit))


def served_paths(facility_ids: list[int]) -> dict[int, set[str]]:
    """For each facility, the paths of every unit it serves or served (one query)."""
    result: dict[int, set[str]] = {i: set() for i in facility_ids}
    if facility_ids:
        rows = db.session.execute(select(ServiceArea.facility_id, AdminUnit.path)
                                  .join(AdminUnit, AdminUnit.id == ServiceArea.unit_id)
                                  .where(ServiceArea.facility_id.in_(facility_ids)))
        for facility_id, path in rows:
            result[facility_id].add(path)
    return result


def _visible(facility: Facility, paths: set[str], prefixes: list[str]) -> bool:
    if any(facility.unit.path.startswith(p) for p in prefixes):
        return True
    return any(_overlaps(path, prefixes) for path in paths)


def can_view_facility(user: User, facility: Facility) -> bool:
    """One facility's page: its own unit inside the user's scope, or a unit it serves or served
    sharing ground with the scope."""
    scope = scope_of(user)
    if scope.empty:
        return False
    return _visible(facility, served_paths([facility.id])[facility.id], scope.prefixes)


def viewable_ids(user: User, facilities: list[Facility]) -> set[int]:
    """The facilities of a list page the user may open (:func:`can_view_facility`, in one query)."""
    scope = scope_of(user)
    if scope.empty or not facilities:
        return set()
    paths = served_paths([f.id for f in facilities])
    return {f.id for f in facilities if _visible(f, paths[f.id], scope.prefixes)}

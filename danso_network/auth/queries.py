"""Read queries for the user administration screens."""

from __future__ import annotations

from sqlalchemy import exists, func, not_, or_, select
from sqlalchemy.orm import aliased, selectinload

from ..textnorm import fold
from ..units.models import AdminUnit, Facility
from ..units.services import in_areas
from .models import Role, RoleGrant, User
from .permissions import scope_of


def users_in_area(actor: User, q: str = ""):
    """Accounts a province admin manages: every grant of the account lies in the admin's area
    (the same rule as ``can_manage_user``, as SQL), optionally filtered by name or login."""
    prefixes = scope_of(actor).prefixes_for({Role.PROVINCE_ADMIN})
    # The place of each grant (its unit, or its facility's unit) by outer joins, so that the
    # database tests each grant's path once (one anti-join), not once per area and grant.
    unit, facility, facility_unit = aliased(AdminUnit), aliased(Facility), aliased(AdminUnit)
    place = func.coalesce(unit.path, facility_unit.path)
    outside = (select(RoleGrant.id)
               .outerjoin(unit, unit.id == RoleGrant.unit_id)
               .outerjoin(facility, facility.id == RoleGrant.facility_id)
               .outerjoin(facility_unit, facility_unit.id == facility.unit_id)
               .where(RoleGrant.user_id == User.id, or_(place.is_(None), not_(in_areas(prefixes, place)))))
    has_grant = exists().where(RoleGrant.user_id == User.id)
    has_outside = outside.exists()
    grants = selectinload(User.grants)
    stmt = (select(User).where(has_grant, not_(has_outside))  # the list shows each account's grants
            .options(grants.selectinload(RoleGrant.facility), grants.selectinload(RoleGrant.unit)))
    if q:
        term = q.strip().lower()
        folded = fold(q)
        stmt = stmt.where(or_(User.username.contains(term, autoescape=True),
                              User.full_name.contains(q.strip(), autoescape=True),
                              User.username.contains(folded, autoescape=True)))
    return stmt.order_by(User.username, User.id)

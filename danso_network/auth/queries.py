"""Read queries for the user administration screens."""

from __future__ import annotations

from sqlalchemy import and_, exists, not_, or_, select
from sqlalchemy.orm import selectinload

from ..textnorm import fold
from ..units.models import AdminUnit, Facility
from ..units.services import path_filter
from .models import Role, RoleGrant, User
from .permissions import scope_of


def users_in_area(actor: User, q: str = ""):
    """Accounts a province admin manages: every grant of the account lies in the admin's area
    (the same rule as ``can_manage_user``, as SQL), optionally filtered by name or login."""
    prefixes = scope_of(actor).prefixes_for({Role.PROVINCE_ADMIN})
    unit_path = select(AdminUnit.path).where(AdminUnit.id == RoleGrant.unit_id).scalar_subquery()
    facility_path = (select(AdminUnit.path).join(Facility, Facility.unit_id == AdminUnit.id)
                     .where(Facility.id == RoleGrant.facility_id).scalar_subquery())
    grant_inside = or_(and_(RoleGrant.unit_id.is_not(None), path_filter(prefixes, unit_path)),
                       and_(RoleGrant.facility_id.is_not(None), path_filter(prefixes, facility_path)))
    has_grant = exists().where(RoleGrant.user_id == User.id)
    has_outside = exists().where(RoleGrant.user_id == User.id, not_(grant_inside))
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

"""Who sees a province's guided start: its province admins (they do the steps)."""

from __future__ import annotations

from ..auth.models import Role, User
from ..auth.permissions import scope_of
from ..units.models import AdminUnit


def can_set_up(user: User, province: AdminUnit) -> bool:
    return Role.PROVINCE_ADMIN in scope_of(user).roles_at(province.path)

"""Predicates of the JSON API beyond those of the feature packages (DESIGN.md §4 rule 6: a
permission is a predicate written once; fail-closed)."""

from __future__ import annotations

from collections.abc import Iterable

from ..auth.models import EDITING_ROLES, User
from ..auth.permissions import scope_of


def can_see_personal_data(user: User, paths: Iterable[str]) -> bool:
    """Whether a collaborator's CCCD number and phone are shown: only to editing roles (station,
    centre, province) over every one of ``paths`` (the hamlets concerned); read-only roles
    (viewers, the commune committee) get ``null``, so personal data stays with those who work
    with it (NĐ 13/2023/NĐ-CP on personal data protection; a design choice of this API)."""
    scope = scope_of(user)
    paths = list(paths)
    return bool(paths) and all(scope.roles_at(p) & EDITING_ROLES for p in paths)

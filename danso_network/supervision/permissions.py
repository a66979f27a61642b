"""Who may see and change supervision records, beyond the collaborator predicates of
``collaborators/permissions.py`` (DESIGN.md §4 rule 6: a predicate written once, fail-closed).
A visit is filed under the hamlet the collaborator served on the visit day; scope follows it."""

from __future__ import annotations

from ..auth.models import User
from ..auth.permissions import scope_of
from ..collaborators.permissions import RECORDING_ROLES, can_record_for_collaborator, can_view_collaborator
from .models import SupervisionVisit


def can_view_visit(user: User, visit: SupervisionVisit) -> bool:
    """Whoever covers the hamlet the visit is filed under, or sees the collaborator's profile."""
    return bool(scope_of(user).roles_at(visit.hamlet_path)) or can_view_collaborator(user, visit.collaborator)


def can_close_follow_up(user: User, visit: SupervisionVisit) -> bool:
    """Recording roles where the visit took place, or where the collaborator works now (a
    collaborator who moved is followed up by the new station)."""
    return (bool(scope_of(user).roles_at(visit.hamlet_path) & RECORDING_ROLES)
            or can_record_for_collaborator(user, visit.collaborator))

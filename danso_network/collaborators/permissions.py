"""Who may see and change collaborator-network records (predicates written once, used by views,
templates, the API and the CLI). Scope follows the hamlet: a grant covering a hamlet's path covers
its collaborators, visits, hand-overs and meetings (DESIGN.md §4 rule 6). Fail-closed: no grant,
no access."""

from __future__ import annotations

from datetime import date

from ..auth.models import EDITING_ROLES, Role, User
from ..auth.permissions import scope_of
from ..common.clock import today
from ..units.models import AdminUnit
from .models import Assignment, Collaborator

# Appointing, transferring, suspending and terminating: the station head, the centre and the
# province (the station officer keeps the records but does not decide).
ASSIGNMENT_ROLES = frozenset({Role.STATION_HEAD, Role.CENTRE_OFFICER, Role.PROVINCE_ADMIN})
# Recording what happened (visits, meetings, hand-overs, training attendance): every editing role.
RECORDING_ROLES = EDITING_ROLES
# Professional-direction links of a commune: the station head, the centre and the province.
LINK_ROLES = ASSIGNMENT_ROLES


def _roles(user: User, path: str):
    return scope_of(user).roles_at(path)


def home_assignment(collaborator: Collaborator, on: date | None = None) -> Assignment | None:
    """The assignment that places the collaborator for scope: the open primary one on the date,
    else any open one, else the latest."""
    on = on or today()
    assignments = collaborator.assignments
    open_ = [a for a in assignments if a.open_on(on)]
    primary = [a for a in open_ if a.kind == "primary"]
    if primary:
        return primary[0]
    if open_:
        return open_[0]
    return max(assignments, key=lambda a: (a.started_on, a.id)) if assignments else None


def can_view_path(user: User, path: str) -> bool:
    return bool(_roles(user, path))


def can_view_collaborator(user: User, collaborator: Collaborator) -> bool:
    """Anyone whose area holds one of the collaborator's hamlets, now or in the past, sees the
    whole profile (a receiving station sees where the person came from, and the other way)."""
    return any(_roles(user, a.hamlet_path) for a in collaborator.assignments)


def can_change_assignments(user: User, hamlet: AdminUnit) -> bool:
    return bool(_roles(user, hamlet.path) & ASSIGNMENT_ROLES)


def can_change_collaborator(user: User, collaborator: Collaborator) -> bool:
    home = home_assignment(collaborator)
    return home is not None and bool(_roles(user, home.hamlet_path) & ASSIGNMENT_ROLES)


def can_record_for_collaborator(user: User, collaborator: Collaborator) -> bool:
    """Visits and similar records are written where the collaborator works now."""
    home = home_assignment(collaborator)
    return home is not None and bool(_roles(user, home.hamlet_path) & RECORDING_ROLES)


def can_record_at(user: User, unit: AdminUnit) -> bool:
    """Meetings, hand-overs, training attendance in a unit's area."""
    return bool(_roles(user, unit.path) & RECORDING_ROLES)


def can_manage_links(user: User, commune: AdminUnit) -> bool:
    return bool(_roles(user, commune.path) & LINK_ROLES)

"""Who may see and act on recruitment records (predicates written once)."""

from __future__ import annotations

from ..auth.models import Role, User
from ..auth.permissions import scope_of
from ..auth.personal_data import can_see_applicant_data
from ..units.models import AdminUnit
from .models import Application, Attachment, RecognitionDecision


def can_view_application(user: User, application: Application) -> bool:
    return bool(scope_of(user).roles_at(application.hamlet_path))


def can_nominate(user: User, hamlet: AdminUnit) -> bool:
    """Stations propose candidates for their hamlets (Gia Lai QĐ 34/2023: the station chooses)."""
    return bool(scope_of(user).roles_at(hamlet.path) & {Role.STATION_HEAD, Role.STATION_OFFICER})


NOMINATING_ROLES = frozenset({Role.STATION_HEAD, Role.STATION_OFFICER})


def can_nominate_somewhere(user: User) -> bool:
    """Whether to offer "Giới thiệu ứng viên" at all (a viewer or a centre never nominates)."""
    return bool(scope_of(user).all_roles & NOMINATING_ROLES)


def can_edit_dossier(user: User, application: Application) -> bool:
    return bool(scope_of(user).roles_at(application.hamlet_path) & {Role.STATION_HEAD, Role.STATION_OFFICER})


def can_view_attachment(user: User, attachment: Attachment) -> bool:
    """Scans of the dossier (CCCD copy, health certificate, diplomas) are personal data: opened
    only by who sees the applicant's personal data (auth/personal_data.py); others see that the
    file exists on the application page."""
    return can_view_application(user, attachment.application) and can_see_applicant_data(user, attachment.application)


def can_view_decision(user: User, decision: RecognitionDecision) -> bool:
    """Visible to anyone who sees at least one of its applications."""
    return any(can_view_application(user, a) for a in decision.applications)


def can_manage_criteria(user: User, province: AdminUnit) -> bool:
    return Role.PROVINCE_ADMIN in scope_of(user).roles_at(province.path)


def can_view_criteria(user: User, province: AdminUnit) -> bool:
    """Everyone working in the province reads the rules; only its admins change them."""
    scope = scope_of(user)
    return any(p.startswith(province.path) for p in scope.prefixes)


def can_take(user: User, application: Application, action) -> bool:
    """Whether the user holds a role that may take ``action`` on this application: at all (not a
    viewer; not a station head where the centre approves), and from the current state when that
    move exists there. A move that no longer exists (a stale page) is allowed through, so the
    service can explain the state to the user."""
    from . import services
    from .workflow import TRANSITIONS, Approver, State, allowed_roles

    criteria = services.criteria_for(services.province_of(application.hamlet))
    if criteria is None:
        return True  # the service explains that the province has no criteria yet
    approver = Approver(criteria.approver)
    held = services.roles_for(user, application)
    ever = frozenset().union(*(allowed_roles(s, action, approver) for s, a in TRANSITIONS if a == action))
    now = allowed_roles(State(application.state), action, approver)
    return bool(held & ever) and (not now or bool(held & now))

"""Reading the audit trail, scoped to what a user may see.

Scope rule: a user sees the events whose ``unit_path`` lies in a subtree where they hold an
editing role (the roles that may open the audit screen, ``auth.permissions.can_view_audit``).
Events tied to no unit (account creation, logins, password changes) are shown to province
administrators only. No grant, no rows (fail-closed, DESIGN.md §4 rule 6).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import selectinload

from ..auth.models import EDITING_ROLES, Role
from ..auth.permissions import Scope
from ..extensions import db
from ..units.services import in_areas
from .models import AuditEvent


def visible_to(scope: Scope):
    """SQL condition: the events this scope may see."""
    prefixes = scope.prefixes_for(EDITING_ROLES)
    if not prefixes:
        return false()
    # ``in_areas`` is the paths' index-friendly test (nothing to test for every province)
    cond = in_areas(prefixes, AuditEvent.unit_path)
    if Role.PROVINCE_ADMIN in scope.all_roles:
        return or_(cond, AuditEvent.unit_path.is_(None))
    return and_(cond, AuditEvent.unit_path.is_not(None))


def _start_of(day: date, tz: tzinfo) -> datetime:
    """Midnight of a local calendar day, in UTC (events are stored in UTC)."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def events_query(scope: Scope, *, tz: tzinfo, action: str | None = None, object_type: str | None = None,
                 date_from: date | None = None, date_to: date | None = None, label: str | None = None):
    """A select of the visible events, newest first. ``date_from``/``date_to`` are local calendar
    days, both included; ``label`` matches part of the object label."""
    stmt = select(AuditEvent).where(visible_to(scope)).options(selectinload(AuditEvent.actor))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if date_from:
        stmt = stmt.where(AuditEvent.at >= _start_of(date_from, tz))
    if date_to:
        stmt = stmt.where(AuditEvent.at < _start_of(date_to + timedelta(days=1), tz))
    if label:
        stmt = stmt.where(AuditEvent.object_label.icontains(label, autoescape=True))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def actions_seen(scope: Scope) -> list[str]:
    """The distinct actions among the visible events (for the filter list)."""
    return _distinct(AuditEvent.action, scope)


def object_types_seen(scope: Scope) -> list[str]:
    """The distinct object types among the visible events (for the filter list)."""
    return _distinct(AuditEvent.object_type, scope)


def _distinct(column, scope: Scope) -> list[str]:
    return sorted(v for v in db.session.scalars(select(column).where(visible_to(scope)).distinct()) if v)

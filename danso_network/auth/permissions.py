"""Permission predicates, written once and used by views, templates, the API and the CLI.

Scope rule (issue #2, DESIGN.md §4 rule 6): a grant at a unit covers that unit and everything
below it; a grant at a facility covers the units the facility serves (a station its commune, a
centre its communes, the Department its province). Only grants valid today count. No grant, no
access: every predicate answers ``False`` for an anonymous user or a user without grants.

History across a reform (issue #13 item 5): the users of a unit read its predecessors — the
communes merged into it, its hamlets' earlier versions, the old province merged into the new
one — with everything recorded there (``units.lineage.predecessor_areas``). That history is
read-only: it adds :data:`HISTORY_ROLE` (the viewer's role) at those paths, so every "may read"
check (``roles_at(path)`` not empty) reaches it and every edit check (an editing role, or a
named role, at the path) does not. A grant at a unit that has closed gives nothing from that day
(the preview of the reform and ``auth.grant_flags`` show it); the history comes from the units
the user reaches today, never from closed grants. It is worked out on first use in a request:
a check the user's own areas answer (:meth:`Scope.reaches`, the edit checks) does not need it,
and it cost a province admin ≈ 9 ms on every request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import abort, g, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..units.lineage import collapse, covered, predecessor_areas
from ..units.models import AdminUnit, ServiceArea
from ..units.services import path_filter, valid_on
from .models import EDITING_ROLES, Role, RoleGrant, User

# What a user holds over the history of their units: reading, like a viewer (no editing role).
HISTORY_ROLE = Role.VIEWER


@dataclass(frozen=True)
class Scope:
    """The subtrees a user reaches, per role. ``paths`` maps a unit path to the roles held there;
    ``history`` maps the path of a predecessor of those units to the roles held over the units it
    is a predecessor of (read-only: :data:`HISTORY_ROLE` at those paths, module docstring),
    worked out by ``find_history`` on first use."""

    paths: dict[str, frozenset[Role]] = field(default_factory=dict)
    find_history: Callable[[], dict[str, frozenset[Role]]] | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def history(self) -> dict[str, frozenset[Role]]:
        return self.find_history() if self.find_history is not None else {}

    @property
    def prefixes(self) -> list[str]:
        """The user's own areas (today's units): lists of "my area" and every edit."""
        # Drop paths already covered by a shorter one, so SQL filters stay short.
        ordered = sorted(self.paths, key=len)
        kept: list[str] = []
        for p in ordered:
            if not any(p.startswith(k) for k in kept):
                kept.append(p)
        return kept

    @property
    def history_prefixes(self) -> list[str]:
        """The predecessors' areas the user reads besides their own (read-only)."""
        return [p for p in collapse(self.history) if not covered(p, self.paths)]

    @property
    def read_prefixes(self) -> list[str]:
        """Everything the user reads: their own areas and their units' history (lists of records
        across a reform, e.g. a roster as of a day before it)."""
        return collapse([*self.paths, *self.history])

    def prefixes_for(self, roles) -> list[str]:
        roles = frozenset(roles)
        return [p for p, held in self.paths.items() if held & roles]

    def history_prefixes_for(self, roles) -> list[str]:
        """The history of the units where the user holds one of ``roles`` (e.g. the old units a
        province admin's province was formed from, whose grants they look after)."""
        roles = frozenset(roles)
        return [p for p, held in self.history.items() if held & roles]

    def own_roles_at(self, unit_path: str) -> frozenset[Role]:
        """The roles held at a unit through the user's own areas (not its history)."""
        held: set[Role] = set()
        for p, roles in self.paths.items():
            if unit_path.startswith(p):
                held |= roles
        return frozenset(held)

    def roles_at(self, unit_path: str) -> frozenset[Role]:
        """The roles held at a unit; :data:`HISTORY_ROLE` alone where it is history only."""
        held = self.own_roles_at(unit_path)
        if self.history and covered(unit_path, self.history):
            held |= {HISTORY_ROLE}
        return held

    def reaches(self, unit_path: str) -> bool:
        """``bool(roles_at(unit_path))``, the history read only when the own areas do not reach it."""
        return bool(self.own_roles_at(unit_path)) or bool(self.history and covered(unit_path, self.history))

    @property
    def all_roles(self) -> frozenset[Role]:
        return frozenset().union(*self.paths.values()) if self.paths else frozenset()

    @property
    def empty(self) -> bool:
        return not self.paths

    def filter(self, column=AdminUnit.path):
        return path_filter(self.prefixes, column)


def compute_scope(user: User, day: date | None = None) -> Scope:
    from ..common.clock import today

    day = day or today()
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    paths: dict[str, set[Role]] = {}
    grants = db.session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id, valid_on(RoleGrant, day))
                                .options(selectinload(RoleGrant.unit)))
    for grant in grants:
        role = Role(grant.role)
        if grant.unit_id is not None:
            unit_paths = [grant.unit.path] if grant.unit.valid_on(day) else []
        else:
            unit_paths = list(db.session.scalars(
                select(AdminUnit.path).join(ServiceArea, ServiceArea.unit_id == AdminUnit.id)
                .where(ServiceArea.facility_id == grant.facility_id, valid_on(ServiceArea, day))))
        for p in unit_paths:
            paths.setdefault(p, set()).add(role)
    own = {p: frozenset(r) for p, r in paths.items()}

    def find_history() -> dict[str, frozenset[Role]]:
        return {p: frozenset().union(*(own[o] for o in origins)) for p, origins in predecessor_areas(own).items()}
    return Scope(own, find_history)


def scope_of(user: User) -> Scope:
    """The user's scope today, computed once per request."""
    if has_request_context():
        cache = g.setdefault("_scopes", {})
        key = getattr(user, "id", None)
        if key not in cache:
            cache[key] = compute_scope(user)
        return cache[key]
    return compute_scope(user)


# --- predicates -------------------------------------------------------------------------------


def can_view_unit(user: User, unit: AdminUnit) -> bool:
    """A unit of the user's area, or of its history (a predecessor of one of their units)."""
    return scope_of(user).reaches(unit.path)


def can_edit_unit(user: User, unit: AdminUnit) -> bool:
    """Editing hamlets and unit figures: any editing role covering the unit (not viewers, not
    the history of the user's units)."""
    return bool(scope_of(user).own_roles_at(unit.path) & EDITING_ROLES)  # the history adds no editing role


def can_manage_users(user: User) -> bool:
    return Role.PROVINCE_ADMIN in scope_of(user).all_roles


def grant_path(grant: RoleGrant) -> str:
    return grant.unit.path if grant.unit is not None else grant.facility.unit.path


def admin_areas(actor: User) -> list[str]:
    """Where a province admin looks after accounts: the province(s) they administer and the
    units those were formed from (a grant at an old commune of a merged province is theirs to
    end or replace)."""
    scope = scope_of(actor)
    own = scope.prefixes_for({Role.PROVINCE_ADMIN})
    return collapse([*own, *scope.history_prefixes_for({Role.PROVINCE_ADMIN})]) if own else []


def can_manage_user(actor: User, user: User) -> bool:
    """A province admin manages accounts whose every grant (past or present) lies inside the
    province(s) they administer, or in the units those were formed from (:func:`admin_areas`).
    An account with no grant belongs to nobody's area: only the CLI reaches it (fail-closed)."""
    prefixes = admin_areas(actor)
    if not prefixes or not user.grants:
        return False
    return all(any(grant_path(g).startswith(p) for p in prefixes) for g in user.grants)


def can_grant_at(actor: User, unit: AdminUnit) -> bool:
    """Roles may be granted only inside the actor's own province-admin area."""
    return any(unit.path.startswith(p) for p in scope_of(actor).prefixes_for({Role.PROVINCE_ADMIN}))


def can_view_audit(user: User) -> bool:
    return bool(scope_of(user).all_roles & EDITING_ROLES)


def require(allowed: bool) -> None:
    """Abort with 403 unless ``allowed``: the one way views refuse out-of-scope access."""
    if not allowed:
        abort(403)


@dataclass
class Landing:
    """Where a list of "my area" lands a user: the units at the tops of their scope and the
    health centres they work for (a centre's area is the communes it serves on the day)."""

    units: list[AdminUnit]
    centres: list
    centre_covers_scope: bool = False  # the one centre's area holds every unit of the scope

    @property
    def only_unit(self) -> AdminUnit | None:
        """The one unit to go straight to (no centre grant to choose instead)."""
        return self.units[0] if len(self.units) == 1 and not self.centres else None

    @property
    def only_centre(self):
        """The one centre to go straight to, when its area holds every unit of the scope."""
        return self.centres[0] if len(self.centres) == 1 and self.centre_covers_scope else None


def landing_of(user: User, day: date | None = None) -> Landing:
    """The areas a user's lists start from (written once for the roster, the allowance sheet,
    supervision and the home page): the units at the tops of the scope, and the health centres
    of the user's grants valid on ``day`` (Vietnam's today by default)."""
    from ..common.clock import today
    from ..units.models import FacilityKind
    from ..units.services import served_units, units_at_paths

    day = day or today()
    units = units_at_paths(scope_of(user).prefixes)
    centres = sorted({g.facility.id: g.facility for g in user.grants
                      if g.valid_on(day) and g.facility is not None
                      and g.facility.kind == FacilityKind.HEALTH_CENTRE.value}.values(), key=lambda f: f.name)
    covers = False
    if len(centres) == 1:
        served = served_units(centres[0], day)
        covers = all(any(u.path.startswith(s.path) for s in served) for u in units)
    return Landing(units=units, centres=centres, centre_covers_scope=covers)

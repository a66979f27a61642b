"""The unit tree as of a date and its change history in the JSON API (issue #13 items 5–6), and the
grants a reform left reaching nothing.

Registered on the API blueprint (tokens, CSRF exemption, JSON errors). Scope is what the pages
use: a user reads their own units and their units' history (``auth.permissions``: the
predecessors across a reform, read-only) — so, as of a day before a reform, the tree shows the
units that were then in force where the user's units come from. 404 unknown, 403 out of scope,
422 for a parameter that does not read (a date not ``YYYY-MM-DD``, ``from`` after ``to``).
"""

from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.grant_flags import flagged_grants
from ..auth.labels import role_label
from ..auth.permissions import admin_areas, can_manage_users, can_view_unit, scope_of
from ..common.clock import today
from ..common.paging import Page, paginate
from ..common.views import load_or_404
from ..errors import PermissionDenied, ValidationFailed
from ..units import lineage
from ..units.labels import level_label, type_label
from ..units.models import AdminUnit, UnitChange, UnitChangeKind, UnitLevel
from ..units.reforms import CHANGE_KIND_LABELS
from ..units.services import bytewise, in_areas, valid_on
from . import auth, schemas
from .views import actor, bp

LEVELS = tuple(lv.value for lv in UnitLevel)
KINDS = tuple(k.value for k in UnitChangeKind)


# --- serialising --------------------------------------------------------------------------------


def unit_version(u: AdminUnit, *, history: bool | None = None) -> dict:
    """A unit version: what it was called, where it sat and when it was in force."""
    body = {"id": u.id, "code": u.code, "local_id": u.local_id, "name": u.name, "full_name": u.full_name,
            "level": u.level, "level_label": str(level_label(u.level)), "type": u.type,
            "type_label": str(type_label(u.type)), "parent_id": u.parent_id, "valid_from": schemas.day(u.valid_from),
            "valid_to": schemas.day(u.valid_to), "decision_ref": u.decision_ref}
    if history is not None:
        body["history"] = history
    return body


def change_ref(c: UnitChange) -> dict:
    return {"id": c.id, "kind": c.kind, "kind_label": str(CHANGE_KIND_LABELS[UnitChangeKind(c.kind)]),
            "effective_on": schemas.day(c.effective_on), "decision_ref": c.decision_ref, "note": c.note}


def link(found: lineage.Link) -> dict:
    return {"unit": unit_version(found.unit), "change": change_ref(found.change)}


def place(p) -> dict:
    """A grant's unit or facility (or a proposed one)."""
    if isinstance(p, AdminUnit):
        return {"kind": "unit", "id": p.id, "name": p.full_name}
    return {"kind": "facility", "id": p.id, "name": p.name}


# --- loading and scope --------------------------------------------------------------------------


def unit_or_404(unit_id: int, need=None) -> AdminUnit:
    return load_or_404(AdminUnit, unit_id, need, user=actor(), missing=_l("Không tìm thấy đơn vị hành chính."),
                       denied=_l("Đơn vị này nằm ngoài phạm vi của bạn."))


def read_area(root: AdminUnit | None) -> list[str]:
    """What the caller reads under ``root`` (their whole reach when none): the whole unit when
    they read it, else the parts of their reach inside it (a centre officer asking for the
    province gets its communes); nothing in common, 403."""
    scope = scope_of(actor())
    reach = scope.read_prefixes
    if root is None:
        return reach
    if scope.roles_at(root.path):
        return [root.path]
    inside = [p for p in reach if p.startswith(root.path)]
    if not inside:
        raise PermissionDenied(_l("%(u)s nằm ngoài phạm vi của bạn.", u=root.full_name))
    return inside


# --- the tree as of a date ----------------------------------------------------------------------


@bp.get("/units/tree")
@auth.token_required
def unit_tree():
    """The units in force on ``as_of`` (default today) that the caller reads — under ``root``
    when given — flat, in tree order (each unit right before the units below it), a page at a
    time."""
    on = schemas.query_date("as_of", today())
    level = schemas.query_choice("level", LEVELS)
    root_id = schemas.query_int("root", 0)
    root = unit_or_404(root_id) if root_id else None
    areas = read_area(root)
    if root is not None and not root.valid_on(on):
        raise ValidationFailed(_l("%(u)s không có hiệu lực vào ngày %(d)s.", u=root.full_name,
                                  d=on.strftime("%d/%m/%Y")), field="as_of")
    stmt = select(AdminUnit).where(valid_on(AdminUnit, on), in_areas(areas, AdminUnit.path))
    if level is not None:
        stmt = stmt.where(AdminUnit.level == level)
    page = paginate(stmt.order_by(bytewise(AdminUnit.path)), *schemas.query_page())
    own = scope_of(actor()).paths
    return jsonify(as_of=on.isoformat(), root=unit_version(root) if root is not None else None, **schemas.page_json(
        page, lambda u: unit_version(u, history=not lineage.covered(u.path, own))))


# --- the change history -------------------------------------------------------------------------


@bp.get("/units/<int:unit_id>/changes")
@auth.token_required
def unit_changes(unit_id: int):
    """The unit's predecessors (what it was formed from) and successors (what took over from
    it), each with the change: kind, effective date, decision."""
    unit = unit_or_404(unit_id, need=can_view_unit)
    return jsonify(unit=unit_version(unit), predecessors=[link(x) for x in lineage.predecessors(unit)],
                   successors=[link(x) for x in lineage.successors(unit)])


@bp.get("/unit-changes")
@auth.token_required
def unit_change_list():
    """The changes touching the caller's units or their history, effective from ``from`` to
    ``to`` (both included), a page at a time, oldest first."""
    start, end = schemas.query_date("from"), schemas.query_date("to")
    if start is not None and end is not None and start > end:
        raise ValidationFailed(_l("Tham số “from” phải là ngày không sau “to”."), field="from")
    kind = schemas.query_choice("kind", KINDS)
    level = schemas.query_choice("level", LEVELS)
    stmt = lineage.changes_query(scope_of(actor()).read_prefixes, start=start, end=end, kind=kind,
                                 level=UnitLevel(level) if level else None)
    page = paginate(stmt, *schemas.query_page())
    sides = lineage.sides(page.items)
    return jsonify(**schemas.page_json(
        page, lambda c: {**change_ref(c), "sources": [unit_version(u) for u in sides[c.id][0]],
                         "targets": [unit_version(u) for u in sides[c.id][1]]}),
        **{"from": schemas.day(start), "to": schemas.day(end)})


# --- grants left reaching nothing ---------------------------------------------------------------


@bp.get("/grants/flagged")
@auth.token_required
def grants_flagged():
    """For a province admin: the grants in their area in force on ``on`` (default today) whose
    unit or facility has closed or serves nothing, with the proposed successor."""
    user = actor()
    if not can_manage_users(user):
        raise PermissionDenied(_l("Chỉ quản trị cấp tỉnh xem được danh sách này."))
    on = schemas.query_date("on", today())
    found = flagged_grants(on, admin_areas(user))
    number, per_page = schemas.query_page()
    page = Page(found[(number - 1) * per_page: number * per_page], len(found), number, per_page)
    return jsonify(on=on.isoformat(), **schemas.page_json(page, lambda f: {
        "grant_id": f.grant.id, "role": f.grant.role, "role_label": role_label(f.grant.role),
        "user": {"id": f.grant.user.id, "username": f.grant.user.username, "full_name": f.grant.user.full_name},
        "place": place(f.place), "valid_from": schemas.day(f.grant.valid_from),
        "valid_to": schemas.day(f.grant.valid_to), "reason": f.reason, "reason_label": f.reason_label,
        "since": schemas.day(f.since), "proposals": [place(p) for p in f.proposals]}))


"""Queries over the effective-dated unit tree, and the actions that change units and facilities.

Every query can be asked "as of" a date: a unit is valid on ``day`` when
``valid_from <= day < valid_to`` (``valid_to`` NULL = still valid). Services flush, never commit,
and record an audit event for every change (DESIGN.md §4 style rules 2, 3).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased, defer

from ..audit.services import record, snapshot
from ..common.clock import today
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..textnorm import clean_text, fold, has_meaning, is_ascii_digits
from .labels import type_label
from .models import (
    FIGURE_LIMITS,
    HAMLET_TYPES_UNDER,
    LEVEL_TYPES,
    AdminUnit,
    Facility,
    FacilityKind,
    ServiceArea,
    UnitLevel,
    UnitType,
)

UNIT_AUDIT_FIELDS = [
    "code", "local_id", "name", "full_name", "level", "type", "parent_id", "valid_from", "valid_to",
    "decision_ref", "households", "population", "is_difficult", "is_ethnic_minority", "is_synthetic", "note",
]


def valid_on(model, day: date):
    """SQL condition: the row of an effective-dated ``model`` is valid on ``day``."""
    return and_(model.valid_from <= day, or_(model.valid_to.is_(None), model.valid_to > day))


# --- reading the tree -------------------------------------------------------------------------


def get_unit(unit_id: int) -> AdminUnit:
    unit = db.session.get(AdminUnit, unit_id)
    if unit is None:
        raise NotFound(_l("Không tìm thấy đơn vị hành chính."))
    return unit


def find_unit_by_code(code: str, as_of: date | None = None) -> AdminUnit | None:
    """The unit holding an official code on a date (codes are reused only after closure)."""
    day = as_of or today()
    return db.session.scalar(select(AdminUnit).where(AdminUnit.code == code, valid_on(AdminUnit, day)))


def children(unit: AdminUnit, as_of: date | None = None) -> list[AdminUnit]:
    day = as_of or today()
    return list(db.session.scalars(
        select(AdminUnit)
        .where(AdminUnit.parent_id == unit.id, valid_on(AdminUnit, day))
        .order_by(AdminUnit.code, AdminUnit.local_id, AdminUnit.name)
    ))


def descendants_query(unit: AdminUnit, as_of: date | None = None, level: UnitLevel | None = None):
    """A select of every unit strictly below ``unit`` valid on the date, optionally one level."""
    day = as_of or today()
    stmt = select(AdminUnit).where(
        AdminUnit.path.startswith(unit.path, autoescape=True), AdminUnit.id != unit.id,
        valid_on(AdminUnit, day),
    )
    if level is not None:
        stmt = stmt.where(AdminUnit.level == level.value)
    return stmt


def descendants(unit: AdminUnit, as_of: date | None = None, level: UnitLevel | None = None) -> list[AdminUnit]:
    stmt = descendants_query(unit, as_of, level).order_by(AdminUnit.path)
    return list(db.session.scalars(stmt))


def ancestors(unit: AdminUnit) -> list[AdminUnit]:
    """Root first, parent last. Ancestry is fixed by the path: a reparented unit is a new row."""
    ids = unit.ancestor_ids
    if not ids:
        return []
    rows = {u.id: u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def units_at_level(level: UnitLevel, as_of: date | None = None, within: Sequence[str] | None = None):
    day = as_of or today()
    stmt = select(AdminUnit).where(AdminUnit.level == level.value, valid_on(AdminUnit, day))
    if within is not None:
        stmt = stmt.where(path_filter(within))
    return list(db.session.scalars(stmt.order_by(AdminUnit.code, AdminUnit.name)))


def path_filter(prefixes: Iterable[str], column=AdminUnit.path):
    """SQL condition: ``column`` lies under one of the paths. No prefixes → matches nothing."""
    conds = [column.startswith(p, autoescape=True) for p in prefixes]
    return or_(*conds) if conds else false()


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def in_areas(prefixes: Sequence[str], column=AdminUnit.path):
    """``units.services.path_filter``: the column lies under one of the paths (none → nothing),
    written for the paths' indexes and for wide scopes.

    - A few areas (at most two provinces among them): on SQLite as ranges
      (``'/1/' <= path < '/10'``: ``0`` follows ``/``), which the path indexes answer — a LIKE
      with ESCAPE never uses an index there, and SQLite compares text bytewise, so each range is
      exactly its prefix; on PostgreSQL as the LIKEs, which its ``text_pattern_ops`` indexes
      answer (its locale collations do not compare bytewise).
    - Many provinces (a national user): most rows match, so no index helps, and testing every
      row against 34 patterns is what costs; the path's first characters are looked up in the
      prefixes of the same length instead (``substr(path, 1, 4) IN ('/12/', '/34/', …)``), one
      test per distinct length; and when they are every province there is (the root of every
      path, past ones included), there is nothing to test."""
    prefixes = list(prefixes)
    provinces = [p for p in prefixes if p.count("/") == 2]
    if len(provinces) > 2:
        roots = db.session.scalars(select(AdminUnit.path).where(AdminUnit.parent_id.is_(None)))
        if set(roots) <= set(provinces):
            return true()
        by_length: dict[int, list[str]] = {}
        for p in prefixes:
            by_length.setdefault(len(p), []).append(p)
        return or_(*(func.substr(column, 1, n).in_(same) for n, same in sorted(by_length.items())))
    if not prefixes or is_postgresql():
        return path_filter(prefixes, column)
    return or_(*(and_(column >= p, column < p[:-1] + chr(ord(p[-1]) + 1)) for p in prefixes))


def bytewise(column):
    """Sort text identically on SQLite (BINARY) and PostgreSQL (whose locale collations ignore
    spaces): the folded names are ASCII, so byte order is alphabetical order."""
    return column.collate("C") if is_postgresql() else column


# --- materialised paths (``/1/7/42/``: province 1, then 7, then unit 42) ----------------------------


def path_ids(path: str) -> list[int]:
    """The ids along a path, from the province down to the unit itself."""
    return [int(p) for p in path.strip("/").split("/") if p]


def unit_id_of(path: str) -> int:
    """The unit a path ends at (``/1/7/42/`` → 42)."""
    return path_ids(path)[-1]


def province_id_of(path: str) -> int:
    """The province of any unit is the root of its path (``/1/7/42/`` → 1)."""
    return path_ids(path)[0]


def ancestor_paths(path: str) -> list[str]:
    """``/1/7/42/`` → ``/1/``, ``/1/7/``, ``/1/7/42/``: the areas a unit lies under, itself last."""
    ids = path_ids(path)
    return ["/" + "/".join(str(i) for i in ids[:n]) + "/" for n in range(1, len(ids) + 1)]


def province_of(unit: AdminUnit) -> AdminUnit:
    """The province a unit belongs to."""
    root_id = province_id_of(unit.path)
    return unit if unit.id == root_id else db.session.get(AdminUnit, root_id)


def provinces_of(prefixes: Iterable[str]) -> list[AdminUnit]:
    """The provinces that the given areas (e.g. a user's scope) lie in, by name."""
    roots = {province_id_of(p) for p in prefixes}
    if not roots:
        return []
    return sorted(db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(roots),
                                                           AdminUnit.level == UnitLevel.PROVINCE.value)
                                     .options(defer(AdminUnit.geom_wkb), defer(AdminUnit.geom_simplified_wkb))),
                  key=lambda u: u.search_text or u.name)


@dataclass(frozen=True)
class UnitCounts:
    children: int
    hamlets: int
    households: int
    population: int


def subtree_counts(unit: AdminUnit, as_of: date | None = None) -> UnitCounts:
    """Children, hamlets, households and population under a unit on a date (hamlet sums; a
    commune with no hamlets yet falls back to its own recorded households)."""
    day = as_of or today()
    n_children = db.session.scalar(
        select(func.count()).select_from(AdminUnit)
        .where(AdminUnit.parent_id == unit.id, valid_on(AdminUnit, day))
    ) or 0
    if unit.level == UnitLevel.HAMLET:
        return UnitCounts(0, 0, unit.households or 0, unit.population or 0)
    hamlet_stats = db.session.execute(
        select(func.count(), func.coalesce(func.sum(AdminUnit.households), 0),
               func.coalesce(func.sum(AdminUnit.population), 0))
        .where(AdminUnit.path.startswith(unit.path, autoescape=True),
               AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, day))
    ).one()
    households, population = int(hamlet_stats[1]), int(hamlet_stats[2])
    if not hamlet_stats[0]:
        households, population = unit.households or 0, unit.population or 0
    return UnitCounts(n_children, int(hamlet_stats[0]), households, population)


def child_stats(unit: AdminUnit, as_of: date | None = None) -> dict[int, tuple[int, int, int]]:
    """For each child of ``unit``: (hamlets, households, population) below it, in one query."""
    day = as_of or today()
    child = aliased(AdminUnit)
    hamlet = aliased(AdminUnit)
    rows = db.session.execute(
        select(child.id, func.count(hamlet.id), func.coalesce(func.sum(hamlet.households), 0),
               func.coalesce(func.sum(hamlet.population), 0))
        .select_from(child)
        .join(hamlet, and_(hamlet.path.startswith(child.path), hamlet.level == UnitLevel.HAMLET.value,
                           valid_on(hamlet, day)), isouter=True)
        .where(child.parent_id == unit.id, valid_on(child, day))
        .group_by(child.id)
    )
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def search_units(query: str, prefixes: Sequence[str], as_of: date | None = None, limit: int = 50,
                 levels: Sequence[UnitLevel] | None = None) -> list[AdminUnit]:
    """Diacritics-insensitive search by name or code within the given subtrees."""
    day = as_of or today()
    folded = fold(query)
    if not folded:
        return []
    stmt = select(AdminUnit).where(valid_on(AdminUnit, day), path_filter(prefixes))
    if is_ascii_digits(folded):
        stmt = stmt.where(or_(AdminUnit.code.startswith(folded), AdminUnit.search_text.contains(folded)))
    else:
        for word in folded.split(" "):
            stmt = stmt.where(AdminUnit.search_text.contains(word, autoescape=True))
    if levels:
        stmt = stmt.where(AdminUnit.level.in_([lv.value for lv in levels]))
    level_order = func.length(AdminUnit.path)  # shallower units (communes) before hamlets
    return list(db.session.scalars(stmt.order_by(level_order, AdminUnit.name).limit(limit)))


def search_text_for(unit: AdminUnit) -> str:
    """What search matches: name, full name and code. A hamlet's full name repeats its commune's,
    so only its own name counts (else "dong xoai" would list every hamlet of Đồng Xoài)."""
    if unit.level == UnitLevel.HAMLET:
        return fold(unit.name)
    return fold(f"{unit.name} {unit.full_name} {unit.code or ''}")


# --- changing units ---------------------------------------------------------------------------


def _check_type(level: UnitLevel, unit_type: str, parent: AdminUnit | None) -> None:
    try:
        t = UnitType(unit_type)
    except ValueError:
        raise ValidationFailed(_l("Loại đơn vị “%(t)s” không hợp lệ.", t=unit_type), field="type") from None
    if t not in LEVEL_TYPES[level]:
        raise ValidationFailed(_l("Loại đơn vị “%(t)s” không thuộc cấp này.", t=type_label(t)), field="type")
    if level == UnitLevel.HAMLET and parent is not None:
        allowed = HAMLET_TYPES_UNDER.get(UnitType(parent.type), frozenset())
        if t not in allowed:
            raise ValidationFailed(
                _l("Theo Thông tư 04/2012/TT-BNV, loại “%(t)s” không được tổ chức dưới %(p)s.",
                   t=type_label(t), p=parent.full_name), field="type")


def _assign_path(unit: AdminUnit) -> None:
    db.session.flush()
    base = unit.parent.path if unit.parent is not None else "/"
    unit.path = f"{base}{unit.id}/"


def create_unit(*, level: UnitLevel, name: str, full_name: str, type: str, valid_from: date,
                parent: AdminUnit | None = None, code: str | None = None, local_id: str | None = None,
                valid_to: date | None = None, actor=None, audit: bool = True, keeps_code_of: AdminUnit | None = None,
                **attrs) -> AdminUnit:
    """Create a unit below ``parent`` valid over ``[valid_from, valid_to)`` (``valid_to`` for
    recording a unit that has already ended). Rules: only provinces are roots; hamlets have a
    local id, no code; codes follow :func:`check_code_free` (``keeps_code_of``: the unit this one
    succeeds or precedes in a reform, whose code it shares at another time)."""
    if (level == UnitLevel.PROVINCE) != (parent is None):
        raise ValidationFailed(_l("Chỉ cấp tỉnh mới không có đơn vị cấp trên."))
    _check_type(level, type, parent)
    if valid_to is not None and valid_to <= valid_from:
        raise ValidationFailed(_l("Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực."), field="valid_to")
    if parent is not None and not parent.valid_on(valid_from):
        raise ValidationFailed(_l("Đơn vị cấp trên không còn hiệu lực vào ngày bắt đầu."))
    check_figures(level, attrs)
    if code is not None:
        check_code_free(code, valid_from, valid_to, keeps_code_of=keeps_code_of)
    unit = AdminUnit(level=level.value, name=name.strip(), full_name=full_name.strip(), type=str(type),
                     parent=parent, code=code, local_id=local_id, valid_from=valid_from, valid_to=valid_to,
                     **attrs)
    unit.search_text = search_text_for(unit)
    db.session.add(unit)
    _assign_path(unit)
    if audit:
        record("unit.create", unit, label=unit.full_name, unit_path=unit.path,
               after=snapshot(unit, UNIT_AUDIT_FIELDS), actor=actor)
    return unit


FIGURE_LABELS = {"households": _l("Số hộ gia đình"), "population": _l("Số nhân khẩu"), "area_km2": _l("Diện tích (km²)")}


def figure_problem(level: UnitLevel | str, key: str, value) -> str | None:
    """Why a figure of a unit is out of bounds (``FIGURE_LIMITS``), or None when it is fine."""
    limit = FIGURE_LIMITS[UnitLevel(level)].get(key)
    if value is None or limit is None:
        return None
    if not 0 <= value <= limit:
        shown = format(limit, ",").replace(",", ".")
        return str(_l("%(f)s phải từ 0 đến %(m)s.", f=FIGURE_LABELS[key], m=shown))
    return None


def check_figures(level: UnitLevel | str, values: dict) -> None:
    """Refuse households, population or area outside their bounds for the level."""
    for key in FIGURE_LIMITS[UnitLevel(level)]:
        problem = figure_problem(level, key, values.get(key))
        if problem:
            raise ValidationFailed(problem, field=key)


def check_code_free(code: str, valid_from: date, valid_to: date | None = None, *,
                    keeps_code_of: AdminUnit | None = None) -> None:
    """A code belongs to one unit for ever (QĐ 124/2004/QĐ-TTg, DESIGN.md §3): it never changes
    while the unit exists, and a closed code is never given to another unit. Only a unit of the
    same line through a reform (``keeps_code_of``: the merged unit keeps the code of the new seat;
    a split keeps the old code for the part with the old seat — or, recording history, the
    predecessor of a unit that kept its code) may share it, at another time. Two units never hold
    the same code at the same time."""
    holders = list(db.session.scalars(select(AdminUnit).where(AdminUnit.code == code)
                                      .order_by(AdminUnit.valid_from, AdminUnit.id)))
    for holder in holders:
        overlaps = ((holder.valid_to is None or holder.valid_to > valid_from)
                    and (valid_to is None or holder.valid_from < valid_to))
        if overlaps:
            raise Conflict(_l("Mã %(code)s đang được đơn vị “%(name)s” sử dụng.", code=code, name=holder.full_name),
                           field="code")
    if holders and not (keeps_code_of is not None and keeps_code_of.code == code):
        last = holders[-1]
        raise Conflict(_l("Mã %(code)s là mã của “%(name)s” (hiệu lực %(start)s–%(end)s). Theo QĐ 124/2004/QĐ-TTg, "
                          "mã của một đơn vị không được cấp cho đơn vị khác, kể cả khi đơn vị đó đã giải thể.",
                          code=code, name=last.full_name, start=last.valid_from.strftime("%d/%m/%Y"),
                          end=last.valid_to.strftime("%d/%m/%Y") if last.valid_to else "…"), field="code")


def update_unit(unit: AdminUnit, *, actor=None, **changes) -> AdminUnit:
    """Correct a unit's attributes in place (names, counts, flags, geometry). Changes of the tree
    itself (merge, split, reparent) close the unit and open new ones instead."""
    forbidden = {"parent_id", "parent", "level", "path", "valid_from", "valid_to", "code"} & set(changes)
    if forbidden:
        raise ValidationFailed(_l("Không thể sửa trực tiếp các trường: %(f)s.", f=", ".join(sorted(forbidden))))
    if not unit.is_current:
        raise Conflict(_l("Đơn vị này đã hết hiệu lực; không thể sửa."))
    if "type" in changes:
        _check_type(UnitLevel(unit.level), changes["type"], unit.parent)
    check_figures(unit.level, changes)
    before = snapshot(unit, UNIT_AUDIT_FIELDS)
    for key, value in changes.items():
        setattr(unit, key, value)
    unit.search_text = search_text_for(unit)
    after = snapshot(unit, UNIT_AUDIT_FIELDS)
    if before != after or {"geom_wkb", "geom_simplified_wkb", "geom_simplified_geojson"} & set(changes):
        record("unit.update", unit, label=unit.full_name, unit_path=unit.path,
               before={k: v for k, v in before.items() if after[k] != v},
               after={k: v for k, v in after.items() if before[k] != v}, actor=actor)
    db.session.flush()
    return unit


def close_unit(unit: AdminUnit, *, on: date, decision_ref: str | None = None, actor=None) -> AdminUnit:
    """Close a unit from ``on`` (its last valid day is the day before). Units are never deleted,
    so history and the records attached to them survive reforms."""
    if not unit.is_current:
        raise Conflict(_l("Đơn vị này đã hết hiệu lực từ trước."))
    if on <= unit.valid_from:
        raise ValidationFailed(_l("Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực (%(d)s).",
                                  d=unit.valid_from.strftime("%d/%m/%Y")), field="valid_to")
    open_children = db.session.scalar(select(func.count()).select_from(AdminUnit).where(
        AdminUnit.parent_id == unit.id, or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > on)))
    if open_children:
        raise Conflict(_l("Còn %(n)d đơn vị trực thuộc đang hiệu lực; hãy xử lý chúng trước.", n=open_children))
    if unit.level == UnitLevel.HAMLET:
        from ..collaborators.models import Assignment  # a hamlet's collaborators outlive no hamlet

        open_assignments = db.session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.hamlet_id == unit.id, or_(Assignment.ended_on.is_(None), Assignment.ended_on > on)))
        if open_assignments:
            raise Conflict(_l("Thôn/tổ dân phố còn %(n)d CTV đang được phân công; hãy kết thúc hoặc chuyển "
                              "phân công trước khi đóng.", n=open_assignments))
    before = snapshot(unit, ["valid_to", "decision_ref"])
    unit.valid_to = on
    if decision_ref:
        unit.decision_ref = decision_ref
    record("unit.close", unit, label=unit.full_name, unit_path=unit.path, before=before,
           after=snapshot(unit, ["valid_to", "decision_ref"]), actor=actor)
    db.session.flush()
    return unit


def next_hamlet_local_id(commune: AdminUnit) -> str:
    """Hamlets have no official code; each gets the next free number within its commune."""
    existing = db.session.scalars(select(AdminUnit.local_id).where(AdminUnit.parent_id == commune.id))
    numbers = [int(x) for x in existing if is_ascii_digits(x)]
    return f"{(max(numbers) + 1) if numbers else 1:03d}"


def create_hamlet(commune: AdminUnit, *, name: str, type: str, valid_from: date,
                  households: int | None = None, population: int | None = None,
                  is_difficult: bool = False, is_ethnic_minority: bool = False,
                  local_id: str | None = None, actor=None, **attrs) -> AdminUnit:
    """Add a hamlet (thôn/ấp/tổ dân phố…) to a commune. Its type must suit the commune's type
    (Thông tư 04/2012/TT-BNV) and its name must be unique among the commune's current hamlets."""
    if commune.level != UnitLevel.COMMUNE:
        raise ValidationFailed(_l("Thôn/tổ dân phố chỉ được tạo trong một xã, phường hoặc đặc khu."))
    name = clean_text(name)
    if not has_meaning(name):
        raise ValidationFailed(_l("Tên thôn/tổ dân phố phải có chữ hoặc số."), field="name")
    # Compared in Python: SQLite's lower() folds ASCII only ("Ấp" ≠ "ấp").
    current_names = db.session.scalars(select(AdminUnit.name).where(
        AdminUnit.parent_id == commune.id, AdminUnit.valid_to.is_(None)))
    clash = next((n for n in current_names if n.casefold() == name.casefold()), None)
    if clash is not None:
        raise Conflict(_l("%(c)s đã có “%(n)s”.", c=commune.full_name, n=clash), field="name")
    return create_unit(
        level=UnitLevel.HAMLET, name=name, full_name=f"{name}, {commune.full_name}", type=type,
        valid_from=valid_from, parent=commune, local_id=local_id or next_hamlet_local_id(commune),
        households=households, population=population, is_difficult=is_difficult,
        is_ethnic_minority=is_ethnic_minority, actor=actor, **attrs)


# --- facilities -------------------------------------------------------------------------------


def create_facility(*, code: str, kind: FacilityKind, name: str, unit: AdminUnit, valid_from: date,
                    parent: Facility | None = None, serves: Iterable[AdminUnit] = (), actor=None,
                    **attrs) -> Facility:
    """A department sits at a province and has no parent; a centre reports to a department; a
    station reports to a centre and serves exactly one commune (DOMAIN.md §6)."""
    if (kind == FacilityKind.DEPARTMENT) != (parent is None):
        raise ValidationFailed(_l("Chỉ Sở Y tế không có cơ sở cấp trên."))
    expected_parent = {FacilityKind.HEALTH_CENTRE: FacilityKind.DEPARTMENT,
                       FacilityKind.STATION: FacilityKind.HEALTH_CENTRE}.get(kind)
    if expected_parent and parent.kind != expected_parent:
        raise ValidationFailed(_l("Cơ sở cấp trên không đúng loại."))
    serves = list(serves)
    if kind == FacilityKind.STATION and (len(serves) != 1 or serves[0].level != UnitLevel.COMMUNE):
        raise ValidationFailed(_l("Trạm y tế phục vụ đúng một xã/phường/đặc khu."))
    if db.session.scalar(select(Facility).where(Facility.code == code)) is not None:
        raise Conflict(_l("Mã cơ sở %(code)s đã tồn tại.", code=code))
    facility = Facility(code=code, kind=kind.value, name=name, unit=unit, parent=parent,
                        valid_from=valid_from, **attrs)
    db.session.add(facility)
    for served in serves:
        facility.service_areas.append(ServiceArea(unit=served, valid_from=valid_from))
    db.session.flush()
    record("facility.create", facility, label=name, unit_path=unit.path,
           after={"code": code, "kind": kind.value, "name": name, "unit_id": unit.id,
                  "parent_id": parent.id if parent else None,
                  "serves": [u.code or u.id for u in serves]}, actor=actor)
    return facility


def served_units(facility: Facility, as_of: date | None = None) -> list[AdminUnit]:
    day = as_of or today()
    return list(db.session.scalars(
        select(AdminUnit).join(ServiceArea, ServiceArea.unit_id == AdminUnit.id)
        .where(ServiceArea.facility_id == facility.id, valid_on(ServiceArea, day))
        .order_by(AdminUnit.code, AdminUnit.name)))


def facilities_serving(unit: AdminUnit, as_of: date | None = None) -> list[Facility]:
    """Facilities whose service area covers the unit or one of its ancestors on the date,
    nearest first (station, then centre, then department)."""
    return facilities_serving_units([unit], as_of)[unit.id]


def _nearest_first(facility: Facility) -> tuple[int, int]:
    order = {FacilityKind.STATION: 0, FacilityKind.HEALTH_CENTRE: 1, FacilityKind.DEPARTMENT: 2}
    return order[FacilityKind(facility.kind)], facility.id


def facilities_serving_units(units: Sequence[AdminUnit], as_of: date | None = None) -> dict[int, list[Facility]]:
    """:func:`facilities_serving` for several units in one query (a list page's column)."""
    day = as_of or today()
    wanted = {u.id: {*u.ancestor_ids, u.id} for u in units}
    every = set().union(*wanted.values()) if wanted else set()
    serving: dict[int, set[Facility]] = {}
    if every:
        for unit_id, facility in db.session.execute(
                select(ServiceArea.unit_id, Facility).join(Facility, Facility.id == ServiceArea.facility_id)
                .where(ServiceArea.unit_id.in_(list(every)), valid_on(ServiceArea, day), valid_on(Facility, day))):
            serving.setdefault(unit_id, set()).add(facility)
    return {uid: sorted(set().union(*(serving.get(i, set()) for i in ids)), key=_nearest_first)
            for uid, ids in wanted.items()}


def supervision_chain(facility: Facility) -> list[Facility]:
    """The facility and its parents up to the Department."""
    chain = [facility]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    return chain


# --- browsing and hamlet maintenance (unit browser UI) ----------------------------------------

CHILD_SORTS = ("code", "name", "households")
CHILD_FLAGS = ("difficult", "ethnic_minority")


def units_at_paths(paths: Sequence[str]) -> list[AdminUnit]:
    """The units whose path is one of ``paths`` (e.g. the tops of a user's scope), provinces first."""
    if not paths:
        return []
    stmt = select(AdminUnit).where(AdminUnit.path.in_(list(paths)))
    return sorted(db.session.scalars(stmt),
                  key=lambda u: (u.level != UnitLevel.PROVINCE, u.code or "", u.search_text))


def unit_stats(units: Sequence[AdminUnit], as_of: date | None = None) -> dict[int, UnitCounts]:
    """:func:`subtree_counts` for several units in few queries (same rules: hamlet sums, and a unit
    with no hamlets falls back to its own recorded households and population).

    Each unit's hamlets are summed in a select of its own, joined by UNION ALL: its path is then a
    value, so :func:`in_areas` reads them through the path index (a LIKE on PostgreSQL, a range on
    SQLite); a join on ``hamlet.path LIKE
    target.path || '%'`` compares every unit with every other one (330 ms for a health centre's 42
    communes on the national dataset, issue #14 load test)."""
    if not units:
        return {}
    day = as_of or today()
    by_id = {u.id: u for u in units}
    children = dict(db.session.execute(
        select(AdminUnit.parent_id, func.count(AdminUnit.id))
        .where(AdminUnit.parent_id.in_(list(by_id)), valid_on(AdminUnit, day))
        .group_by(AdminUnit.parent_id)).all())
    sums: dict[int, tuple] = {}
    ordered = list(by_id.values())
    for start in range(0, len(ordered), STATS_PER_QUERY):
        parts = [select(literal(u.id, Integer).label("uid"), func.count(AdminUnit.id),
                        func.coalesce(func.sum(AdminUnit.households), 0),
                        func.coalesce(func.sum(AdminUnit.population), 0))
                 .where(in_areas([u.path]), AdminUnit.id != u.id,
                        AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, day))
                 for u in ordered[start:start + STATS_PER_QUERY]]
        for uid, n_hamlets, households, population in db.session.execute(union_all(*parts)):
            sums[uid] = (n_hamlets, households, population)
    result = {}
    for uid, unit in by_id.items():
        n_hamlets, households, population = sums.get(uid, (0, 0, 0))
        if not n_hamlets:
            households, population = unit.households or 0, unit.population or 0
        result[uid] = UnitCounts(int(children.get(uid) or 0), int(n_hamlets), int(households), int(population))
    return result


STATS_PER_QUERY = 200  # units summed per statement by :func:`unit_stats` (SQLite allows 500 compound selects)


def children_query(unit: AdminUnit, as_of: date | None = None, *, sort: str = "code",
                   descending: bool = False, flag: str | None = None):
    """A select of the children of ``unit`` valid on the date, for a paginated table.

    ``sort`` is one of :data:`CHILD_SORTS` (anything else sorts by code); "households" sorts by
    the hamlet sum below each child, or its own figure when it has no hamlets (as
    :func:`subtree_counts`). ``flag`` keeps only children marked difficult or ethnic-minority."""
    day = as_of or today()
    hamlet = aliased(AdminUnit)
    hamlet_households = (
        select(func.sum(hamlet.households))
        .where(hamlet.path.startswith(AdminUnit.path), hamlet.level == UnitLevel.HAMLET.value,
               valid_on(hamlet, day))
        .scalar_subquery())
    keys = {
        "code": [func.coalesce(AdminUnit.code, AdminUnit.local_id), AdminUnit.search_text],
        "name": [AdminUnit.search_text, AdminUnit.name],  # folded name: "Ấp" sorts with "A"
        "households": [func.coalesce(hamlet_households, AdminUnit.households, 0), AdminUnit.search_text],
    }
    order = keys.get(sort, keys["code"])
    if descending:
        order = [order[0].desc(), *order[1:]]
    stmt = select(AdminUnit).where(AdminUnit.parent_id == unit.id, valid_on(AdminUnit, day))
    if flag == "difficult":
        stmt = stmt.where(AdminUnit.is_difficult.is_(True))
    elif flag == "ethnic_minority":
        stmt = stmt.where(AdminUnit.is_ethnic_minority.is_(True))
    return stmt.order_by(*order, AdminUnit.id)


def parents_of(units: Iterable[AdminUnit]) -> dict[int, AdminUnit]:
    """The parents of many units in one query (for result lists that show "thuộc …")."""
    ids = {u.parent_id for u in units if u.parent_id is not None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(ids)))}


def update_hamlet(hamlet: AdminUnit, *, name: str, type: str, households: int | None = None,
                  population: int | None = None, is_difficult: bool = False,
                  is_ethnic_minority: bool = False, note: str | None = None, actor=None) -> AdminUnit:
    """Correct a hamlet's record. Its name stays unique among the commune's current hamlets and
    its full name follows the name; a new type must suit the commune's type (Thông tư
    04/2012/TT-BNV), while a type recorded before that check is kept as it is."""
    if hamlet.level != UnitLevel.HAMLET:
        raise ValidationFailed(_l("Chỉ sửa được thôn/tổ dân phố tại đây."))
    name = clean_text(name)
    if not has_meaning(name):
        raise ValidationFailed(_l("Tên thôn/tổ dân phố phải có chữ hoặc số."), field="name")
    commune = hamlet.parent
    import unicodedata

    # Compared in Python: SQLite's lower() folds ASCII only, so "Ấp 1" would not meet "ấp 1".
    key = unicodedata.normalize("NFC", name).casefold()
    siblings = db.session.scalars(select(AdminUnit).where(
        AdminUnit.parent_id == hamlet.parent_id, AdminUnit.id != hamlet.id, AdminUnit.valid_to.is_(None)))
    clash = next((s for s in siblings if unicodedata.normalize("NFC", s.name).casefold() == key), None)
    if clash is not None:
        raise Conflict(_l("%(c)s đã có “%(n)s”.", c=commune.full_name, n=clash.name), field="name")
    changes = dict(name=name, full_name=f"{name}, {commune.full_name}", households=households,
                   population=population, is_difficult=is_difficult, is_ethnic_minority=is_ethnic_minority,
                   note=(note or "").strip() or None)
    if type != hamlet.type:
        changes["type"] = type
    return update_unit(hamlet, actor=actor, **changes)


# --- hamlets in bulk (issue #12 item 2: ``units.hamlets_import``) -----------------------------------

_NUMBER = re.compile(r"\d+")


def _base_letters() -> dict[int, str]:
    """Each precomposed Latin letter with marks (Vietnamese: ấ, ờ, ự…) → its letter; đ → d."""
    table = {ord("đ"): "d", ord("Đ"): "D"}
    for code in range(0xC0, 0x2000):
        parts = unicodedata.normalize("NFD", chr(code))
        if len(parts) > 1 and parts[0].isascii() and all(unicodedata.category(c) == "Mn" for c in parts[1:]):
            table[code] = parts[0]
    return table


_BASE_LETTERS = _base_letters()


def quick_fold(text: str | None) -> str:
    """:func:`textnorm.fold`, the same result, faster on Vietnamese text (a national file folds
    a few hundred thousand names): letters with marks are mapped to their letter at once, and
    only text that is not then plain ASCII goes through ``fold``."""
    if not text:
        return ""
    plain = text.translate(_BASE_LETTERS)
    if plain.isascii():
        return " ".join(plain.split()).lower()
    return fold(text)


def hamlet_key(name: str | None) -> str:
    """What two hamlet names are compared by, in a file and against the database (issue #12:
    "Ấp 3" = "ấp 3" = "AP 3"): :func:`textnorm.fold` of the NFC text — case, Vietnamese diacritics
    (đ = d) and repeated spaces ignored — with every number read as a number, so "Ấp 03" = "Ấp 3"
    (offices pad numbers in spreadsheets, "Tổ 01", where the record says "Tổ 1"; two hamlets of
    one commune are never told apart by a leading zero)."""
    folded = quick_fold(unicodedata.normalize("NFC", name or ""))
    return _NUMBER.sub(lambda m: str(int(m.group())), folded) if "0" in folded else folded


def local_code_key(code: str | None) -> str:
    """A hamlet's local code as it is compared: "001" = "1" (a code Excel turned into a number
    loses its zeros), otherwise the code itself, case ignored."""
    code = (code or "").strip()
    return str(int(code)) if is_ascii_digits(code) else code.casefold()


def hamlet_full_name(name: str, commune_full_name: str) -> str:
    """A hamlet's full name, as :func:`create_hamlet` writes it: "Ấp 3, Xã Bom Bo"."""
    return f"{name}, {commune_full_name}"


def hamlet_type_problem(unit_type: UnitType, commune_type: str, commune_name: str) -> str | None:
    """Why ``unit_type`` may not be organised under a commune of ``commune_type`` (Thông tư
    04/2012/TT-BNV, the rule :func:`_check_type` enforces), or None when it may."""
    try:
        allowed = HAMLET_TYPES_UNDER.get(UnitType(commune_type), frozenset())
    except ValueError:
        allowed = frozenset()
    if unit_type in allowed:
        return None
    return str(_l("Theo Thông tư 04/2012/TT-BNV, loại “%(t)s” không được tổ chức dưới %(p)s.",
                  t=type_label(unit_type), p=commune_name))


def next_local_number(codes: Iterable[str | None]) -> int:
    """The number after the highest all-digit local code among ``codes`` (1 for none), as
    :func:`next_hamlet_local_id` numbers a commune's hamlets (closed ones count: a number once
    given is not given again)."""
    numbers = [int(c) for c in codes if is_ascii_digits(c)]
    return (max(numbers) + 1) if numbers else 1


@dataclass(slots=True)
class NewHamlet:
    """A hamlet to create in bulk, already checked (the import's plan applies the rules of
    :func:`create_hamlet` to every row first)."""

    commune_id: int
    commune_path: str
    commune_full_name: str
    name: str
    type: str
    local_id: str
    valid_from: date
    households: int | None = None
    population: int | None = None
    is_difficult: bool = False
    is_ethnic_minority: bool = False


@dataclass(slots=True)
class HamletCorrection:
    """Columns of one hamlet to correct in bulk: ``before`` and ``after`` hold only the columns
    that change (the audit's before/after); ``path`` is the hamlet's (for the audit's area)."""

    hamlet_id: int
    path: str
    label: str  # the hamlet's full name after the change
    before: dict
    after: dict


BULK_CHUNK = 2000  # rows per statement batch: bounded memory, few round trips
_HAMLET_CORRECTABLE = ("name", "full_name", "search_text", "type", "local_id", "households", "population",
                       "is_difficult", "is_ethnic_minority")


def _audit_rows(action: str, events: Iterable[tuple[int, str, str, dict | None, dict | None]], *, actor) -> None:
    """Audit events of one bulk change, written as one batch (what :func:`audit.services.record`
    writes for each, without an ORM object per event: 60,000 of them would cost ~40 s and
    hundreds of MB). ``events``: (unit id, label, unit path, before, after)."""
    from flask import has_request_context, request

    from ..audit.models import AuditEvent
    from ..audit.services import SYSTEM_ACTOR
    from ..common.clock import now

    at = now()
    actor_id, actor_name = getattr(actor, "id", None), getattr(actor, "username", None) or SYSTEM_ACTOR
    ip = request.remote_addr if has_request_context() else None
    rows = []
    for unit_id, label, path, before, after in events:
        rows.append(dict(at=at, actor_id=actor_id, actor_name=actor_name, action=action, object_type="AdminUnit",
                         object_id=str(unit_id), object_label=label[:300], unit_path=path, before=before,
                         after=after, ip=ip))
        if len(rows) >= BULK_CHUNK:
            db.session.execute(AuditEvent.__table__.insert(), rows)
            rows = []
    if rows:
        db.session.execute(AuditEvent.__table__.insert(), rows)


def create_hamlets(new: Sequence[NewHamlet], *, actor=None, source: str | None = None,
                   progress=None) -> list[int]:
    """Create many hamlets at once (issue #12: a national file of 60,000 in under a minute) —
    :func:`create_hamlet` in bulk, for rows its rules were checked on: a name with a letter or
    digit, unique in the commune, a type allowed under the commune's type, figures within
    ``FIGURE_LIMITS``, a start within the commune's validity, a local code free in the commune
    (the partial unique index on current local codes still guards the last). Each gets its
    materialised path and one ``unit.create`` audit event naming ``source`` (the file). Rows
    are inserted in batches, then given their paths (which returns their ids); never commits.
    ``progress(done)`` is called after each batch. Returns the new ids, in the order given."""
    table = AdminUnit.__table__
    ids: list[int] = []
    for start in range(0, len(new), BULK_CHUNK):
        chunk = new[start:start + BULK_CHUNK]
        rows = [dict(level=UnitLevel.HAMLET.value, code=None, local_id=h.local_id, name=h.name,
                     full_name=hamlet_full_name(h.name, h.commune_full_name), search_text=quick_fold(h.name),
                     type=h.type, parent_id=h.commune_id, path=h.commune_path, valid_from=h.valid_from,
                     valid_to=None, households=h.households, population=h.population, is_difficult=h.is_difficult,
                     is_ethnic_minority=h.is_ethnic_minority, is_synthetic=False, decision_ref=None, note=None)
                for h in chunk]
        # Inserted with their commune's path — a state no finished unit has — then given their own:
        # an executemany without RETURNING is batched by every driver (SQLite with RETURNING sends one
        # statement per row), and the update returns the ids, found by the commune and the local
        # code (unique among a commune's current hamlets).
        db.session.execute(table.insert(), rows)
        commune_paths = sorted({h.commune_path for h in chunk})
        written = db.session.execute(
            table.update()
            .where(table.c.level == UnitLevel.HAMLET.value, table.c.path.in_(commune_paths))
            .values(path=table.c.path + cast(table.c.id, String) + "/")
            .returning(table.c.id, table.c.parent_id, table.c.local_id, table.c.path))
        by_place = {(parent_id, local_id): (unit_id, path) for unit_id, parent_id, local_id, path in written}
        placed = [by_place[(h.commune_id, h.local_id)] for h in chunk]
        _audit_rows("unit.create", (
            (unit_id, row["full_name"], path, None,
             {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()
              if k in UNIT_AUDIT_FIELDS and v is not None and k != "path"} | {"source": source})
            for (unit_id, path), row in zip(placed, rows, strict=True)), actor=actor)
        ids.extend(unit_id for unit_id, _path in placed)
        if progress is not None:
            progress(len(ids))
    return ids


def correct_hamlets(corrections: Sequence[HamletCorrection], *, actor=None, source: str | None = None,
                    progress=None) -> None:
    """Correct many current hamlets at once — :func:`update_hamlet` in bulk, for corrections its
    rules were checked on (names unique in the commune, types allowed, figures in bounds); the
    full name and search text follow a new name. One ``unit.update`` audit event each, with the
    changed columns before and after and ``source`` (the file). Never commits."""
    table = AdminUnit.__table__
    done = 0
    for start in range(0, len(corrections), BULK_CHUNK):
        chunk = corrections[start:start + BULK_CHUNK]
        by_columns: dict[tuple[str, ...], list[dict]] = {}
        for c in chunk:
            values = {k: v for k, v in c.after.items() if k in _HAMLET_CORRECTABLE}
            if "name" in values:
                values["search_text"] = quick_fold(values["name"])  # as search_text_for
            by_columns.setdefault(tuple(sorted(values)), []).append(
                {"_id": c.hamlet_id, **{f"v_{k}": v for k, v in values.items()}})
        for columns, rows in by_columns.items():
            db.session.execute(table.update().where(table.c.id == bindparam("_id"), table.c.valid_to.is_(None))
                               .values({k: bindparam(f"v_{k}") for k in columns}), rows)
        _audit_rows("unit.update", ((c.hamlet_id, c.label, c.path, c.before, {**c.after, "source": source})
                                    for c in chunk), actor=actor)
        done += len(chunk)
        if progress is not None:
            progress(done)


def set_hamlet_geometries(changes: Sequence[tuple[int, str, str, dict, bool]], *, actor=None,
                          source: str | None = None) -> None:
    """Give hamlets their boundaries (``spatial.geometry_columns`` of a repaired WGS 84
    geometry): ``changes`` are (hamlet id, path, label, geometry columns, had one before). One
    ``unit.update`` audit event each naming ``source`` (the file). Never commits."""
    table = AdminUnit.__table__
    for start in range(0, len(changes), BULK_CHUNK):
        chunk = changes[start:start + BULK_CHUNK]
        db.session.execute(table.update().where(table.c.id == bindparam("_id"))
                           .values({k: bindparam(f"v_{k}") for k in chunk[0][3]}),
                           [{"_id": hamlet_id, **{f"v_{k}": v for k, v in columns.items()}}
                            for hamlet_id, _p, _l, columns, _h in chunk])
        _audit_rows("unit.update", (
            (hamlet_id, label, path, {"geometry": "có" if had else None},
             {"geometry": f"<{len(columns['geom_wkb'])} bytes>", "source": source})
            for hamlet_id, path, label, columns, had in chunk), actor=actor)

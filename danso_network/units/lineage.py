"""How units succeed each other across reforms, read from the ``UnitChange`` rows (issue #13
items 5–6; DESIGN.md §5: "how units succeed each other, so history survives reforms").

Read-only queries, shared by the scope (``auth.permissions``: the users of a unit read its
predecessors' history), the grants a reform left pointing at closed units
(``auth.grant_flags``) and the JSON API (the tree as of a date, a unit's changes, the changes
of a period).

Rules:

- A **predecessor** of a unit is a source of a change that has the unit as a target; a
  predecessor's predecessors are predecessors too. The predecessors of an *area* (a unit and
  everything under it) are those of every unit in it: a commune merged into it, its hamlets'
  earlier versions (a commune merger re-versions its hamlets under the new commune), a hamlet
  moved in from another commune (its earlier version, not that whole commune). Nothing is read
  upwards: the province a commune belongs to is not a predecessor of the commune.
- A predecessor is read with everything under it (its old hamlets, their assignments and
  records all carry its path).
- A **closed** unit all of whose units below it are predecessors of the area (an old district
  whose every commune merged into the area, then the old province whose every district did) is
  part of that history too, so its page and lists read whole; one that is only partly so (a
  district some of whose communes went elsewhere) is not: its readable parts are its communes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, exists, not_, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from .models import AdminUnit, UnitChange, UnitLevel, unit_change_source, unit_change_target
from .services import ancestor_paths, in_areas

MAX_ROUNDS = 50  # predecessors of predecessors: far more reforms than a unit ever goes through


def covered(path: str, areas: Iterable[str]) -> bool:
    """Whether ``path`` lies under one of ``areas`` (a set of paths, for many look-ups)."""
    areas = areas if isinstance(areas, set | frozenset | dict) else set(areas)
    return any(a in areas for a in ancestor_paths(path))


def collapse(paths: Iterable[str]) -> list[str]:
    """The paths without those already under a shorter one (SQL filters stay short)."""
    kept: set[str] = set()
    for p in sorted(set(paths), key=len):
        if not covered(p, kept):
            kept.add(p)
    return sorted(kept)


# --- the predecessors of an area ---------------------------------------------------------------------


# Made once: fresh aliases give each statement a new cache key, and compiling it again cost a
# province admin's scope 7 ms of its 18 (the demo, on every request that reads the history).
_target, _source = aliased(AdminUnit, name="change_target_unit"), aliased(AdminUnit, name="change_source_unit")


def _pairs(frontier: Sequence[str], known: Sequence[str], *, hamlets: bool) -> list[tuple[str, str]]:
    """(target path, source path) of the changes whose targets lie under ``frontier`` and whose
    sources lie under none of ``known``; hamlet sources apart from the others, so that a commune
    found first spares listing each of its hamlets."""
    target, source = _target, _source
    t, s = unit_change_target, unit_change_source
    level = source.level == UnitLevel.HAMLET.value
    stmt = (select(target.path, source.path).distinct()
            .select_from(t).join(target, target.id == t.c.unit_id)
            .join(s, s.c.change_id == t.c.change_id).join(source, source.id == s.c.unit_id)
            .where(in_areas(list(frontier), target.path), level if hamlets else not_(level)))
    if known:
        stmt = stmt.where(not_(in_areas(list(known), source.path)))
    return [tuple(row) for row in db.session.execute(stmt)]


def _origins(path: str, areas: Mapping[str, frozenset[str]]) -> frozenset[str]:
    found: set[str] = set()
    for a in ancestor_paths(path):
        found |= areas.get(a, frozenset())
    return frozenset(found)


def predecessor_areas(areas: Iterable[str]) -> dict[str, frozenset[str]]:
    """The history of ``areas`` (unit paths, e.g. a user's scope): the paths of their
    predecessors (module docstring), each mapped to the areas it is a predecessor of, collapsed
    (a path under another one listed is left out) and leaving out what ``areas`` already hold."""
    own = collapse(areas)
    if not own:
        return {}
    origins: dict[str, frozenset[str]] = {p: frozenset({p}) for p in own}  # own areas and history, by path
    history: dict[str, frozenset[str]] = {}
    frontier = own
    for _round in range(MAX_ROUNDS):
        found: dict[str, set[str]] = {}
        for hamlets in (False, True):
            known = [*origins, *found]
            for target_path, source_path in _pairs(frontier, known, hamlets=hamlets):
                if covered(source_path, found):
                    continue
                found.setdefault(source_path, set()).update(_origins(target_path, origins))
            if not hamlets and found:
                _roll_up(found, origins)
        fresh = {p: frozenset(o) for p, o in found.items() if not covered(p, origins)}
        if not fresh:
            break
        for p in collapse(fresh):
            origins[p] = history[p] = fresh[p]
        frontier = list(collapse(fresh))
    kept = collapse([*own, *history])
    return {p: history[p] for p in kept if p in history}


def _roll_up(found: dict[str, set[str]], origins: Mapping[str, frozenset[str]]) -> None:
    """Add to ``found`` each closed unit above it whose every unit below is in ``found`` or was
    found before (deepest first, so an old province follows its old districts), with the areas
    common to them all."""
    candidates = {a for p in found for a in ancestor_paths(p)[:-1]
                  if not covered(a, origins) and a not in found}
    if not candidates:
        return
    closed = {u.path: u.id for u in db.session.execute(
        select(AdminUnit.path, AdminUnit.id).where(AdminUnit.path.in_(candidates),
                                                   AdminUnit.valid_to.is_not(None)))}
    if not closed:
        return
    children: dict[int, list[str]] = {}
    for parent_id, path in db.session.execute(select(AdminUnit.parent_id, AdminUnit.path)
                                              .where(AdminUnit.parent_id.in_(list(closed.values())))):
        children.setdefault(parent_id, []).append(path)
    for path in sorted(closed, key=lambda p: -p.count("/")):
        below = children.get(closed[path], [])
        if below and all(b in found or b in origins for b in below):
            common = frozenset.intersection(*(frozenset(found[b]) if b in found else origins[b] for b in below))
            for b in below:
                found.pop(b, None)
            found[path] = set(common)


def area_on(unit: AdminUnit, day: date) -> list[str]:
    """The paths holding a unit's records on ``day`` (issue #13 item 4: "as of a date
    everywhere"): its own path; on a day before the unit was formed, also the paths of the units
    it was formed from, whose records then carried their own paths — so the roster of a merged
    commune as of the day before the merger lists the collaborators of the communes merged into
    it, and the totals of the two days add up. Afterwards the predecessors hold nothing in force,
    so their paths are not needed."""
    if day >= unit.valid_from:
        return [unit.path]
    return collapse([unit.path, *predecessor_areas([unit.path])])


# --- one unit's changes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A unit reached through one change: a predecessor (a source of a change the unit is a
    target of) or a successor (a target of a change the unit is a source of)."""

    change: UnitChange
    unit: AdminUnit


def _links(unit: AdminUnit, *, forward: bool) -> list[Link]:
    mine, other = (unit_change_source, unit_change_target) if forward else (unit_change_target, unit_change_source)
    stmt = (select(UnitChange, AdminUnit)
            .join(mine, mine.c.change_id == UnitChange.id)
            .join(other, other.c.change_id == UnitChange.id)
            .join(AdminUnit, AdminUnit.id == other.c.unit_id)
            .where(mine.c.unit_id == unit.id)
            .order_by(UnitChange.effective_on, UnitChange.id, AdminUnit.path))
    return [Link(change, found) for change, found in db.session.execute(stmt)]


def predecessors(unit: AdminUnit) -> list[Link]:
    """The units ``unit`` was formed from, with the change (kind, date, decision) that formed it."""
    return _links(unit, forward=False)


def successors(unit: AdminUnit) -> list[Link]:
    """The units that took over from ``unit``, with the change that made them."""
    return _links(unit, forward=True)


def live_successors(unit: AdminUnit, on: date) -> list[AdminUnit]:
    """The units in force on ``on`` that took over from ``unit``, following successors of
    successors (a merger, then a rename). The one keeping ``unit``'s code (the seat, QĐ
    124/2004/QĐ-TTg) comes first, then the others by name."""
    seen = {unit.id}
    frontier, found = [unit], []
    for _round in range(MAX_ROUNDS):
        following = []
        for u in frontier:
            for link in successors(u):
                if link.unit.id in seen:
                    continue
                seen.add(link.unit.id)
                (found if link.unit.valid_on(on) else following).append(link.unit)
        if not following:
            break
        frontier = following
    return sorted(found, key=lambda u: (u.code is None or u.code != unit.code, u.level, u.full_name, u.id))


# --- the changes of a period ---------------------------------------------------------------------------


def changes_query(areas: Sequence[str], *, start: date | None = None, end: date | None = None,
                  kind: str | None = None, level: UnitLevel | None = None) -> Select:
    """The changes one of whose units (sources or targets) lies under ``areas``, effective from
    ``start`` to ``end`` (both included), of one ``kind``, touching units of one ``level``; in
    date order. No areas: none."""
    source, target = aliased(AdminUnit), aliased(AdminUnit)

    def touching(table, alias, *conds):
        return exists(select(table.c.unit_id).join(alias, alias.id == table.c.unit_id)
                      .where(table.c.change_id == UnitChange.id, *conds))

    conds = [or_(touching(unit_change_source, source, in_areas(list(areas), source.path)),
                 touching(unit_change_target, target, in_areas(list(areas), target.path)))]
    if start is not None:
        conds.append(UnitChange.effective_on >= start)
    if end is not None:
        conds.append(UnitChange.effective_on <= end)
    if kind is not None:
        conds.append(UnitChange.kind == kind)
    if level is not None:
        s2, t2 = aliased(AdminUnit), aliased(AdminUnit)
        conds.append(or_(touching(unit_change_source, s2, s2.level == level.value),
                         touching(unit_change_target, t2, t2.level == level.value)))
    return select(UnitChange).where(and_(*conds)).order_by(UnitChange.effective_on, UnitChange.id)


def sides(changes: Sequence[UnitChange]) -> dict[int, tuple[list[AdminUnit], list[AdminUnit]]]:
    """Sources and targets of each change, in two queries for a page of them."""
    found: dict[int, tuple[list[AdminUnit], list[AdminUnit]]] = {c.id: ([], []) for c in changes}
    if not found:
        return found
    for index, table in enumerate((unit_change_source, unit_change_target)):
        stmt = (select(table.c.change_id, AdminUnit).join(AdminUnit, AdminUnit.id == table.c.unit_id)
                .where(table.c.change_id.in_(list(found))).order_by(AdminUnit.path))
        for change_id, unit in db.session.execute(stmt):
            found[change_id][index].append(unit)
    return found

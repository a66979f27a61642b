"""A whole administrative reform from one table (issue #13 item 3): ``danso units reform FILE``.

The table says, for each old commune, the new commune it goes into: old code → new code, ``part``
where only a part of the old commune goes there (a divided commune has one row per part, naming
its hamlets), the effective date and the decision; optionally the new unit's name, full name, type
and parent (the province). ``data/dong_nai_reform_2025.csv`` is the real case: Đồng Nai's 270
communes of Đồng Nai and Bình Phước into 95 on 1/7/2025 (NQ 1662/NQ-UBTVQH15).

Like every import (``imports.problems``): **everything is checked first**, each problem with its
row; **then all or nothing** in one transaction. Refused, with the exact rows at fault and nothing
applied:

- a row that cannot be read (codes of 5 digits, a date, the decision), rows with different
  effective dates (one file is one reform, on one day);
- an old code no commune holds the day before the date (unknown, or not a commune, or already
  closed — a file applied twice), an old name that does not match its code;
- duplicates: the same row twice, an old commune going wholly into two new ones (a divided one
  says ``part`` on each of its rows), ``part`` on a single row, or mixed;
- a cycle or a chain of codes (A → B while B → C, or B → A): the code of a commune that goes
  elsewhere would be given again — a closed code is never reused (QĐ 124/2004/QĐ-TTg);
- a new code held by a live unit that is not one of its sources, or by a closed one; rows of one
  new commune that disagree on its name, type, parent or decision; a parent not in force;
- a divided commune whose hamlets are not each given to exactly one part;
- whatever :mod:`units.reforms` refuses for an operation (its ``problems``), on its rows.

How rows become operations (:mod:`units.reforms`, applied in order in one transaction, each
audited; nothing is deleted):

- a new commune formed from several old ones → :class:`~.reforms.MergeUnits` (the target code is
  the seat's, QĐ 124/2004/QĐ-TTg: a source holding it keeps it);
- one old commune into one new one with the same code → :class:`~.reforms.Reparent` when its
  parent changes (on 1/7/2025 every commune left its district for the province), else
  :class:`~.reforms.Rename` when its name or type changes; rows that change nothing are counted
  unchanged;
- a commune divided into new communes formed from it alone → :class:`~.reforms.SplitUnit`;
- a commune divided among communes also formed from others (Xuân Tâm, 2025: part into Xuân Đông,
  part into Xuân Hoà): its hamlets for the other parts move first (:class:`~.reforms.Reparent`,
  into the new commune once it exists), then the commune joins the merger of its **main part** —
  the part keeping its code, else its first row — so the lineage reads "merged into" the main
  part, "its hamlets moved to" the others. A new commune made only of such parts is created first
  (:class:`~.reforms.Create`). Parts that would wait for each other are refused (two steps).

Hamlets follow their commune (re-versioned by :mod:`units.reforms`) and are adapted to the new
commune, visibly in the preview: a type that may not be organised under it (Thông tư
04/2012/TT-BNV) becomes the corresponding one — ấp ↔ khu phố, thôn ↔ tổ dân phố, as when the
2025 reform turned the tổ dân phố of abolished thị trấn into thôn (DOMAIN.md §4) — and its name
follows when it begins with the type ("Ấp 3" → "Khu phố 3"); a name that would repeat in the new
commune gets its old commune's name in brackets ("Ấp 1 (Tân Thành)"), for the province to rename
by decision later.

The dry run (``dry_run=True``) carries out every operation inside a SAVEPOINT and rolls it back: an
operation may name a unit an earlier one creates, so this is the only exact preview; it writes
nothing. :func:`run_reform` flushes, never commits.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..audit.services import record
from ..errors import DomainError
from ..extensions import db
from ..imports import cells
from ..imports.problems import ImportRefused, Problem, Problems
from ..imports.reading import Field, Row, Table, read_table
from ..textnorm import clean_text, fold
from . import reforms
from . import services as unit_services
from .models import HAMLET_TYPES_UNDER, LEVEL_TYPES, AdminUnit, UnitChangeKind, UnitLevel, UnitType

FIELDS = [
    Field("old_code", _l("Mã đơn vị cũ"), required=True,
          aliases=("Mã đơn vị cũ", "Mã cũ", "Mã xã cũ", "Mã xã/phường cũ", "Mã ĐVHC cũ", "old_code")),
    Field("old_name", _l("Tên đơn vị cũ"), aliases=("Tên đơn vị cũ", "Tên cũ", "Tên xã cũ", "Tên xã/phường cũ",
                                                  "old_name")),
    Field("new_code", _l("Mã đơn vị mới"), required=True,
          aliases=("Mã đơn vị mới", "Mã mới", "Mã xã mới", "Mã xã/phường mới", "Mã ĐVHC mới", "new_code")),
    Field("new_name", _l("Tên đơn vị mới"), aliases=("Tên đơn vị mới", "Tên mới", "Tên xã mới", "Tên xã/phường mới",
                                                   "new_name")),
    Field("new_full_name", _l("Tên đầy đủ đơn vị mới"), aliases=("Tên đầy đủ đơn vị mới", "Tên đầy đủ mới",
                                                                "new_full_name")),
    Field("new_type", _l("Loại đơn vị mới"), aliases=("Loại đơn vị mới", "Loại mới", "new_type")),
    Field("new_parent_code", _l("Mã đơn vị cấp trên mới"),
          aliases=("Mã đơn vị cấp trên mới", "Mã tỉnh mới", "Mã tỉnh", "new_parent_code")),
    Field("part", _l("Một phần"), aliases=("Một phần", "Sáp nhập một phần", "Chia tách", "part")),
    Field("effective_on", _l("Ngày hiệu lực"), required=True,
          aliases=("Ngày hiệu lực", "Hiệu lực từ", "Có hiệu lực từ ngày", "effective_on")),
    Field("decision_ref", _l("Văn bản quyết định"), required=True,
          aliases=("Văn bản quyết định", "Số văn bản", "Nghị quyết", "Quyết định", "decision_ref")),
    Field("hamlets", _l("Thôn/tổ dân phố chuyển sang"),
          aliases=("Thôn/tổ dân phố chuyển sang", "Thôn/tổ dân phố", "Các thôn", "hamlets")),
]
HEADERS = {f.key: f.aliases[0] for f in FIELDS}

COMMUNE_TYPES = LEVEL_TYPES[UnitLevel.COMMUNE]
# Full names are data, written in Vietnamese whatever the page's language.
COMMUNE_WORDS = {UnitType.XA: "Xã", UnitType.PHUONG: "Phường", UnitType.THI_TRAN: "Thị trấn",
                 UnitType.DAC_KHU: "Đặc khu"}
TYPE_CHOICES = {**{w: t.value for t, w in COMMUNE_WORDS.items()}, **{t.value: t.value for t in COMMUNE_WORDS}}
HAMLET_WORDS = {
    UnitType.THON: "Thôn", UnitType.AP: "Ấp", UnitType.BAN: "Bản", UnitType.LANG: "Làng", UnitType.BUON: "Buôn",
    UnitType.BON: "Bon", UnitType.PLEI: "Plei", UnitType.PHUM: "Phum", UnitType.SOC: "Sóc", UnitType.XOM: "Xóm",
    UnitType.TO_DAN_PHO: "Tổ dân phố", UnitType.KHU_PHO: "Khu phố", UnitType.KHOI_PHO: "Khối phố",
    UnitType.KHOM: "Khóm", UnitType.TIEU_KHU: "Tiểu khu",
}
# The hamlet type a hamlet takes under a commune where its own may not be organised (Thông tư
# 04/2012/TT-BNV): the southern pair ấp ↔ khu phố (khóm ↔ ấp in the Mekong), otherwise thôn ↔
# tổ dân phố.
TO_RURAL = {UnitType.KHU_PHO: UnitType.AP, UnitType.KHOM: UnitType.AP, UnitType.TO_DAN_PHO: UnitType.THON,
            UnitType.KHOI_PHO: UnitType.THON, UnitType.TIEU_KHU: UnitType.THON}
TO_URBAN = {UnitType.AP: UnitType.KHU_PHO, UnitType.THON: UnitType.TO_DAN_PHO}
COMMUNE_CODE = re.compile(r"^\d{1,5}$")
PARENT_CODE = re.compile(r"^\d{1,3}$")
DECISION_MAX = reforms.DECISION_MAX
_HAMLET_SEPARATORS = re.compile(r"[;,\n]+")

Progress = Callable[[int, int, str], None]  # (done, total, what)


class _Missing(Exception):
    """A unit an earlier operation should have created is not there (that operation failed)."""


@dataclass
class ReformRow:
    number: int
    old_code: str | None
    old_name: str | None
    new_code: str | None
    new_name: str | None
    new_full_name: str | None
    new_type: str | None
    new_parent_code: str | None
    part: bool
    effective_on: date | None
    decision_ref: str | None
    hamlets: tuple[str, ...] = ()


@dataclass
class Step:
    """One operation of :mod:`units.reforms`, built when its turn comes (it may name a unit an
    earlier step creates): ``rows`` are the table's rows it comes from."""

    kind: UnitChangeKind
    rows: tuple[int, ...]
    label: str
    build: Callable[[], Any]
    new_code: str | None = None


@dataclass
class ReformPlan:
    filename: str
    table: Table | None
    rows: list[ReformRow]
    problems: Problems
    effective_on: date | None = None
    steps: list[Step] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # rows that change nothing
    new_codes: list[str] = field(default_factory=list)
    old_codes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ReformSummary:
    """What a reform did (or, in a dry run, would do)."""

    filename: str
    effective_on: date | None
    dry_run: bool
    operations: int = 0
    changes: int = 0  # UnitChange rows
    communes_closed: int = 0
    communes_opened: int = 0
    hamlets_closed: int = 0
    hamlets_opened: int = 0
    assignments: int = 0  # assignments continued in a successor hamlet
    collaborators: int = 0
    applications: int = 0  # open applications moved
    off_quota: int = 0  # resulting hamlets over or under their quota
    unchanged: int = 0  # rows that change nothing
    grants: list = field(default_factory=list)  # reforms.GrantRow: grants whose reach changes
    grants_made: int = 0
    warnings: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # one per operation
    change_ids: list[int] = field(default_factory=list)

    def add(self, step: Step, result: reforms.ApplyResult) -> None:
        impact = result.impact
        self.operations += 1
        self.changes += len(result.changes)
        self.change_ids += [c.id for c in result.changes]
        for unit in result.closed:
            if unit.level == UnitLevel.HAMLET:
                self.hamlets_closed += 1
            else:
                self.communes_closed += 1
        for unit in result.opened:
            if unit.level == UnitLevel.HAMLET:
                self.hamlets_opened += 1
            else:
                self.communes_opened += 1
        self.assignments += len(result.assignments)
        self.collaborators += impact.collaborators
        self.applications += result.applications
        self.off_quota += len(impact.off_quota)
        self.grants += impact.grants
        self.grants_made += len(result.grants)
        for warning in impact.warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)
        self.lines.append(f"{step.label} ({_rows_text(step.rows)})")


# --- reading --------------------------------------------------------------------------------------


def read_reform(source: str | IO[bytes], *, filename: str | None = None) -> Table:
    """The reform table of an XLSX/CSV file (``imports.reading.read_table``)."""
    return read_table(source, FIELDS, filename=filename)


def _code(problems: Problems, row: Row, key: str, pattern: re.Pattern, width: int, *, required: bool) -> str | None:
    value = problems.cell(row, key, cells.code, max_length=10, required=required)
    if value is None:
        return None
    if not pattern.match(value):
        problems.add(row.number, key, _l("Mã “%(v)s” không hợp lệ: mã gồm %(n)d chữ số.", v=value, n=width))
        return None
    return value.zfill(width)  # a code Excel turned into a number lost its leading zeros


def _read_row(row: Row, problems: Problems) -> ReformRow:
    old_code = _code(problems, row, "old_code", COMMUNE_CODE, 5, required=True)
    new_code = _code(problems, row, "new_code", COMMUNE_CODE, 5, required=True)
    parent_code = _code(problems, row, "new_parent_code", PARENT_CODE, 2, required=False)
    if parent_code is not None and len(parent_code.lstrip("0")) > 2:
        parent_code = parent_code.lstrip("0").zfill(3)  # a pre-2025 district (3 digits)
    decision = problems.cell(row, "decision_ref", cells.text, max_length=DECISION_MAX, required=True)
    hamlets = problems.cell(row, "hamlets", cells.text, max_length=4000) or ""
    return ReformRow(
        number=row.number, old_code=old_code, new_code=new_code, new_parent_code=parent_code,
        old_name=problems.cell(row, "old_name", cells.text, max_length=250),
        new_name=problems.cell(row, "new_name", cells.text, max_length=200),
        new_full_name=problems.cell(row, "new_full_name", cells.text, max_length=250),
        new_type=problems.cell(row, "new_type", cells.choice, TYPE_CHOICES),
        part=bool(problems.cell(row, "part", cells.flag)),
        effective_on=problems.cell(row, "effective_on", cells.day, required=True),
        decision_ref=clean_text(decision) if decision else None,
        hamlets=tuple(t.strip() for t in _HAMLET_SEPARATORS.split(hamlets) if t.strip()))


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _rows_text(numbers: Sequence[int]) -> str:
    numbers = sorted(set(numbers))
    if len(numbers) == 1:
        return str(_l("dòng %(r)d", r=numbers[0]))
    return str(_l("các dòng %(r)s", r=", ".join(str(n) for n in numbers)))


# --- planning -------------------------------------------------------------------------------------


def plan_reform(table: Table) -> ReformPlan:
    """Read every row and check the whole reform against the database, writing nothing; the
    plan's ``steps`` are the operations, in the order they must be applied."""
    problems = Problems(table)
    rows = [_read_row(r, problems) for r in table.rows]
    plan = ReformPlan(filename=table.filename, table=table, rows=rows, problems=problems)
    if not rows:
        problems.add(None, None, _l("Tệp không có dòng nào."))
        return plan
    plan.effective_on = _one_date(rows, problems)
    good = [r for r in rows if r.old_code and r.new_code]
    _check_duplicates(good, problems)
    _check_cycles(good, problems)
    if problems or plan.effective_on is None:
        return plan
    _Planner(plan, good).build()
    return plan


def _one_date(rows: list[ReformRow], problems: Problems) -> date | None:
    """The reform's day: the date of most rows (the first row's on a tie); every other is refused."""
    days = Counter(r.effective_on for r in rows if r.effective_on is not None)
    if not days:
        return None
    first = next(r.effective_on for r in rows if r.effective_on is not None)
    best = max(days, key=lambda d: (days[d], d == first))
    for r in rows:
        if r.effective_on is not None and r.effective_on != best:
            problems.add(r.number, "effective_on", _l(
                "Ngày hiệu lực %(d)s khác với các dòng khác (%(e)s): mỗi tệp là một đợt sắp xếp, cùng một ngày hiệu "
                "lực.", d=_d(r.effective_on), e=_d(best)))
    return best


def _check_duplicates(rows: list[ReformRow], problems: Problems) -> None:
    seen: dict[tuple[str, str], int] = {}
    by_old: dict[str, list[ReformRow]] = {}
    for r in rows:
        key = (r.old_code, r.new_code)
        if key in seen:
            problems.add(r.number, "old_code", _l("Trùng với dòng %(r)d (mã cũ %(o)s → mã mới %(n)s).", r=seen[key],
                                                  o=r.old_code, n=r.new_code))
            continue
        seen[key] = r.number
        by_old.setdefault(r.old_code, []).append(r)
    for code, group in by_old.items():
        parts = {r.part for r in group}
        if len(parts) > 1:
            for r in group:
                problems.add(r.number, "part", _l(
                    "Mã cũ %(c)s có dòng ghi “một phần” và dòng không ghi (%(rows)s): một đơn vị bị chia thì mọi dòng "
                    "của nó đều ghi “một phần”.", c=code, rows=_rows_text([g.number for g in group])))
        elif parts == {False} and len(group) > 1:
            for r in group[1:]:
                problems.add(r.number, "old_code", _l(
                    "Mã cũ %(c)s đã sáp nhập toàn bộ vào mã %(n)s ở dòng %(r)d: một đơn vị chỉ sáp nhập toàn bộ vào một "
                    "đơn vị mới; nếu bị chia, ghi “một phần” ở mọi dòng của nó.", c=code, n=group[0].new_code,
                    r=group[0].number))
        elif parts == {True} and len(group) == 1:
            problems.add(group[0].number, "part", _l(
                "Mã cũ %(c)s ghi “một phần” nhưng không có phần nào khác: một đơn vị bị chia có một dòng cho mỗi phần.",
                c=code))


def _check_cycles(rows: list[ReformRow], problems: Problems) -> None:
    """A new code that is the code of an old commune of the file going elsewhere: the old unit
    closes and its code would be given again (QĐ 124/2004/QĐ-TTg). Codes that go round (A → B,
    B → A) are reported as a cycle, on every row of it."""
    targets: dict[str, list[ReformRow]] = {}
    for r in rows:
        targets.setdefault(r.old_code, []).append(r)
    edges = {o: sorted({r.new_code for r in rs if r.new_code != o}) for o, rs in targets.items()}
    in_cycle: set[int] = set()
    reported: set[frozenset] = set()

    def walk(start: str, code: str, path: list[str]) -> None:
        for nxt in edges.get(code, []):
            if nxt == start and len(path) > 1:
                key = frozenset(path)
                if key in reported:
                    continue
                reported.add(key)
                chain = " → ".join([*path, start])
                cycle_rows = [r for a, b in zip(path, [*path[1:], start], strict=True) for r in targets[a]
                              if r.new_code == b]
                for r in cycle_rows:
                    in_cycle.add(r.number)
                    problems.add(r.number, "new_code", _l(
                        "Vòng lặp mã %(chain)s (%(rows)s): mã của đơn vị cũ không được cấp lại cho đơn vị khác "
                        "(QĐ 124/2004/QĐ-TTg).", chain=chain, rows=_rows_text([c.number for c in cycle_rows])))
            elif nxt not in path and nxt in edges and len(path) < 50:
                walk(start, nxt, [*path, nxt])

    for code in sorted(edges):
        walk(code, code, [code])
    for r in rows:
        if r.number in in_cycle or r.new_code == r.old_code or r.new_code not in targets:
            continue
        own = targets[r.new_code]
        if all(o.new_code != r.new_code for o in own):
            problems.add(r.number, "new_code", _l(
                "Mã mới %(n)s là mã của đơn vị cũ ở dòng %(r)d, đơn vị đó chuyển sang mã %(m)s: mã đã đóng không được "
                "cấp lại cho đơn vị khác (QĐ 124/2004/QĐ-TTg).", n=r.new_code, r=own[0].number, m=own[0].new_code))


@dataclass(eq=False)
class _Target:
    """A new commune of the file and where it comes from."""

    code: str
    rows: list[ReformRow]
    whole: list[AdminUnit] = field(default_factory=list)  # old communes going wholly into it
    parts: list[AdminUnit] = field(default_factory=list)  # divided communes with a part in it
    name: str = ""
    full_name: str = ""
    type: str = ""
    parent: AdminUnit | None = None
    decision_ref: str = ""
    sources: list[AdminUnit] = field(default_factory=list)  # the operation's sources (main parts included)
    incoming: list[tuple[AdminUnit, list[AdminUnit]]] = field(default_factory=list)  # (divided, its hamlets)

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(r.number for r in self.rows)


class _Planner:
    def __init__(self, plan: ReformPlan, rows: list[ReformRow]):
        self.plan, self.rows, self.problems = plan, rows, plan.problems
        self.on: date = plan.effective_on
        self.before = self.on - timedelta(days=1)
        self.old: dict[str, AdminUnit] = {}
        self.targets: dict[str, _Target] = {}
        self.hamlets: dict[int, list[AdminUnit]] = {}  # old commune id → its hamlets in force
        self.part_hamlets: dict[tuple[str, str], list[AdminUnit]] = {}  # (old code, new code) → hamlets
        self.main: dict[str, str] = {}  # divided commune's code → its main part's new code
        self.pure_splits: list[str] = []

    def problem(self, rows: Sequence[ReformRow] | ReformRow, key: str | None, message) -> None:
        for r in ([rows] if isinstance(rows, ReformRow) else rows):
            self.problems.add(r.number, key, message)

    # -- the units of the file --------------------------------------------------------------------

    def build(self) -> None:
        self._old_units()
        self._targets()
        if self.problems:
            return
        self._parents()
        self._divided()
        if self.problems:
            return
        self._steps()
        self.plan.new_codes = list(self.targets)
        self.plan.old_codes = list(self.old)

    def _old_units(self) -> None:
        codes = sorted({r.old_code for r in self.rows})
        holders: dict[str, list[AdminUnit]] = {}
        for start in range(0, len(codes), 500):
            for unit in db.session.scalars(select(AdminUnit).where(AdminUnit.code.in_(codes[start:start + 500]))
                                           .order_by(AdminUnit.valid_from, AdminUnit.id)):
                holders.setdefault(unit.code, []).append(unit)
        reported: set[str] = set()
        for r in self.rows:
            if r.old_code in self.old or r.old_code in reported:
                if r.old_code in self.old:
                    self._check_old_name(r, self.old[r.old_code])
                continue
            found = holders.get(r.old_code, [])
            unit = next((u for u in found if u.valid_on(self.before)), None)
            message = None
            if unit is None:
                message = (_l("Mã %(c)s là của %(u)s, đã hết hiệu lực từ ngày %(d)s.", c=r.old_code,
                              u=found[-1].full_name, d=_d(found[-1].valid_to))
                           if found and found[-1].valid_to is not None and found[-1].valid_to <= self.before else
                           _l("Không có xã/phường nào mang mã %(c)s vào ngày %(d)s (trước ngày hiệu lực).",
                              c=r.old_code, d=_d(self.before)))
            elif unit.level != UnitLevel.COMMUNE:
                message = _l("Mã %(c)s là của %(u)s, không phải xã/phường/đặc khu: tệp sắp xếp chỉ gồm đơn vị cấp xã.",
                             c=r.old_code, u=unit.full_name)
            elif unit.valid_to is not None:
                message = _l("%(u)s đã hết hiệu lực từ ngày %(d)s: không sắp xếp lại được (tệp đã được áp dụng?).",
                             u=unit.full_name, d=_d(unit.valid_to))
            if message is not None:
                reported.add(r.old_code)
                self.problem([x for x in self.rows if x.old_code == r.old_code], "old_code", message)
                continue
            self.old[r.old_code] = unit
            self._check_old_name(r, unit)

    def _check_old_name(self, r: ReformRow, unit: AdminUnit) -> None:
        if r.old_name and fold(r.old_name) not in {fold(unit.name), fold(unit.full_name)}:
            self.problem(r, "old_name", _l("Tên “%(n)s” không khớp với mã %(c)s (mã này là của %(u)s).", n=r.old_name,
                                           c=r.old_code, u=unit.full_name))

    def _targets(self) -> None:
        for r in self.rows:
            self.targets.setdefault(r.new_code, _Target(r.new_code, [])).rows.append(r)
        for target in self.targets.values():
            for r in target.rows:
                unit = self.old.get(r.old_code)
                if unit is not None:
                    (target.parts if r.part else target.whole).append(unit)
            self._agree(target)
            self._new_code_free(target)

    def _agree(self, target: _Target) -> None:
        """Rows of one new commune say the same of it (name, type, parent, decision)."""
        for key in ("new_name", "new_full_name", "new_type", "new_parent_code", "decision_ref"):
            given = [(r, getattr(r, key)) for r in target.rows if getattr(r, key)]
            if not given:
                continue
            first_row, first = given[0]
            for r, value in given[1:]:
                if (fold(value) if isinstance(value, str) else value) != (
                        fold(first) if isinstance(first, str) else first):
                    self.problem(r, key, _l("Khác với dòng %(r)d (“%(v)s”) cho cùng đơn vị mới mã %(c)s.",
                                            r=first_row.number, v=first, c=target.code))
        target.decision_ref = next((r.decision_ref for r in target.rows if r.decision_ref), "")

    def _new_code_free(self, target: _Target) -> None:
        """The new code: a source's (the seat keeps its code), or one no other unit holds or held
        (QĐ 124/2004/QĐ-TTg); the code of an old commune of the file is checked as a chain."""
        if target.code in {r.old_code for r in self.rows}:
            return
        holders = list(db.session.scalars(select(AdminUnit).where(AdminUnit.code == target.code)
                                          .order_by(AdminUnit.valid_from, AdminUnit.id)))
        live = [u for u in holders if u.valid_to is None or u.valid_to > self.on]
        if live:
            self.problem(target.rows, "new_code", _l("Mã mới %(c)s đang được %(u)s sử dụng (đơn vị không có trong tệp).",
                                                     c=target.code, u=live[0].full_name))
        elif holders:
            last = holders[-1]
            self.problem(target.rows, "new_code", _l(
                "Mã mới %(c)s là mã của %(u)s, đã đóng từ ngày %(d)s: mã đã đóng không được cấp lại (QĐ "
                "124/2004/QĐ-TTg).", c=target.code, u=last.full_name, d=_d(last.valid_to)))

    def _parents(self) -> None:
        for target in self.targets.values():
            sources = [*target.whole, *target.parts]
            seat = next((u for u in sources if u.code == target.code), sources[0] if sources else None)
            row = next((r for r in target.rows if r.new_parent_code), None)
            if row is not None:
                parent = unit_services.find_unit_by_code(row.new_parent_code, as_of=self.on)
                if parent is None or parent.level not in (UnitLevel.PROVINCE, UnitLevel.DISTRICT):
                    self.problem(row, "new_parent_code", _l(
                        "Không có tỉnh/thành phố nào mang mã %(c)s vào ngày %(d)s.", c=row.new_parent_code, d=_d(self.on)))
                    continue
                target.parent = parent
            elif seat is not None:
                target.parent = self._parent_of(seat)
                if target.parent is None:
                    self.problem(target.rows, "new_parent_code", _l(
                        "%(u)s thuộc %(p)s, đơn vị này không còn hiệu lực ngày %(d)s: hãy ghi mã đơn vị cấp trên mới.",
                        u=seat.full_name, p=seat.parent.full_name, d=_d(self.on)))
                    continue
            new_type = next((r.new_type for r in target.rows if r.new_type), None)
            target.type = new_type or (seat.type if seat is not None else UnitType.XA.value)
            name = next((r.new_name for r in target.rows if r.new_name), None)
            target.name = clean_text(name or (seat.name if seat is not None else ""))
            full = next((r.new_full_name for r in target.rows if r.new_full_name), None)
            target.full_name = clean_text(full or "") or commune_full_name(target.name, target.type)
            if not target.name:
                self.problem(target.rows, "new_name", _l("Vui lòng ghi tên đơn vị mới mã %(c)s.", c=target.code))

    def _parent_of(self, unit: AdminUnit) -> AdminUnit | None:
        """The parent of ``unit``'s successor when the file names none: its own parent while in
        force, else the unit in force then holding the code of its province (a province that
        absorbed others kept its code)."""
        parent = unit.parent
        if parent is not None and parent.valid_to is None:
            return parent
        province = unit_services.province_of(unit)
        found = unit_services.find_unit_by_code(province.code, as_of=self.on) if province.code else None
        return found if found is not None and found.level == UnitLevel.PROVINCE else None

    # -- divided communes -------------------------------------------------------------------------

    def _hamlets_of(self, unit: AdminUnit) -> list[AdminUnit]:
        if unit.id not in self.hamlets:
            self.hamlets[unit.id] = list(db.session.scalars(
                select(AdminUnit).where(AdminUnit.parent_id == unit.id, AdminUnit.level == UnitLevel.HAMLET.value,
                                        AdminUnit.valid_from <= self.before,
                                        or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > self.on))
                .order_by(AdminUnit.local_id, AdminUnit.name, AdminUnit.id)))
        return self.hamlets[unit.id]

    def _divided(self) -> None:
        """Each hamlet of a divided commune goes to exactly one of its parts, named in the part's
        row by name or local number; rows of undivided communes name none."""
        by_old: dict[str, list[ReformRow]] = {}
        for r in self.rows:
            if r.part:
                by_old.setdefault(r.old_code, []).append(r)
            elif r.hamlets:
                self.problem(r, "hamlets", _l("Chỉ ghi thôn/tổ dân phố cho các dòng “một phần” (đơn vị bị chia)."))
        for code, rows in by_old.items():
            unit = self.old[code]
            hamlets = self._hamlets_of(unit)
            by_local = {_local_key(h.local_id): h for h in hamlets if h.local_id}
            by_name = {fold(h.name): h for h in hamlets}
            given: dict[int, ReformRow] = {}
            for r in rows:
                chosen = []
                for token in r.hamlets:
                    h = by_name.get(fold(token)) or by_local.get(_local_key(token))
                    if h is None:
                        self.problem(r, "hamlets", _l("%(u)s không có thôn/tổ dân phố “%(h)s” đang hiệu lực.",
                                                      u=unit.full_name, h=token))
                    elif h.id in given:
                        self.problem(r, "hamlets", _l("%(h)s đã được phân về phần ở dòng %(r)d.", h=h.name,
                                                      r=given[h.id].number))
                    else:
                        given[h.id] = r
                        chosen.append(h)
                self.part_hamlets[(code, r.new_code)] = chosen
            left = [h.name for h in hamlets if h.id not in given]
            if left:
                self.problem(rows, "hamlets", _l(
                    "%(u)s bị chia: các thôn/tổ dân phố sau chưa được phân về phần nào: %(h)s.", u=unit.full_name,
                    h=", ".join(left)))
            targets = [r.new_code for r in rows]
            self.main[code] = code if code in targets else targets[0]
            if all(len(self.targets[n].rows) == 1 for n in targets):
                self.pure_splits.append(code)

    # -- operations --------------------------------------------------------------------------------

    def _steps(self) -> None:
        for target in self.targets.values():
            target.sources = list(target.whole)
            for unit in target.parts:
                if unit.code in self.pure_splits:
                    continue
                if self.main[unit.code] == target.code:
                    target.sources.append(unit)
                else:
                    target.incoming.append((unit, self.part_hamlets[(unit.code, target.code)]))
        names = self._hamlet_names()
        # A target's operation waits for the targets its divided sources send hamlets to.
        waits: dict[str, set[str]] = {code: set() for code in self.targets}
        for code, main in self.main.items():
            if code in self.pure_splits:
                continue
            for r in self.rows:
                if r.old_code == code and r.new_code != main:
                    waits[main].add(r.new_code)
        order = _topological(list(self.targets), waits)
        if order is None:
            stuck = [r for r in self.rows if r.part and r.old_code not in self.pure_splits]
            self.problem(stuck, "part", _l(
                "Các đơn vị bị chia chờ lẫn nhau (phần của đơn vị này sáp nhập vào đơn vị mới có phần của đơn vị kia): "
                "không áp dụng được trong một lần; hãy tách thành hai tệp."))
            return
        done_splits: set[str] = set()
        for code in order:
            target = self.targets[code]
            for unit in target.parts:
                if unit.code in self.pure_splits and unit.code not in done_splits:
                    done_splits.add(unit.code)
                    self._split_step(unit, names)
            if all(u.code in self.pure_splits for u in target.parts) and target.parts and not target.whole:
                continue
            self._target_step(target, names)
            for unit, hamlets in target.incoming:
                for h in hamlets:
                    self._reparent_hamlet_step(unit, h, target, names)

    def _hamlet_names(self) -> dict[int, tuple[str, str]]:
        """hamlet id → (name, type) in its new commune: retyped where its type may not be
        organised there, its name following; a repeated name gets its old commune's in brackets."""
        result: dict[int, tuple[str, str]] = {}
        for target in self.targets.values():
            members: list[tuple[AdminUnit, AdminUnit]] = []  # (hamlet, its old commune)
            seat = next((u for u in target.sources if u.code == target.code), None)
            ordered = sorted(target.sources, key=lambda u: u is not seat)
            for unit in ordered:
                moved = {h.id for (o, n), hs in self.part_hamlets.items() if o == unit.code and n != target.code
                         for h in hs}
                members += [(h, unit) for h in self._hamlets_of(unit) if h.id not in moved]
            for unit in target.parts:
                if unit.code in self.pure_splits:
                    members += [(h, unit) for h in self.part_hamlets[(unit.code, target.code)]]
            for unit, hamlets in target.incoming:
                members += [(h, unit) for h in hamlets]
            taken: set[str] = set()
            for hamlet, commune in members:
                name, hamlet_type = adapt_hamlet(hamlet.name, hamlet.type, target.type)
                if _name_key(name) in taken:
                    name = f"{name} ({commune.name})"
                taken.add(_name_key(name))
                result[hamlet.id] = (name, hamlet_type)
        return result

    @staticmethod
    def _changes(hamlets: Sequence[AdminUnit], names: Mapping[int, tuple[str, str]]) -> tuple[dict, dict]:
        new_names = {h.id: names[h.id][0] for h in hamlets if h.id in names and names[h.id][0] != h.name}
        new_types = {h.id: names[h.id][1] for h in hamlets if h.id in names and names[h.id][1] != h.type}
        return new_names, new_types

    def _add(self, kind: UnitChangeKind, rows: Sequence[int], label: str, build: Callable[[], Any],
             new_code: str | None = None) -> None:
        self.plan.steps.append(Step(kind, tuple(rows), label, build, new_code))

    def _target_step(self, target: _Target, names) -> None:
        on, decision = self.on, target.decision_ref
        sources = target.sources
        hamlets = [h for u in sources for h in self._hamlets_of(u)]
        hamlet_names, hamlet_types = self._changes(hamlets, names)
        kind_label = reforms.CHANGE_KIND_LABELS
        if not sources:  # made only of parts of divided communes: created first
            parent = target.parent
            self._add(UnitChangeKind.CREATE, target.numbers, f"{kind_label[UnitChangeKind.CREATE]} {target.full_name}",
                      lambda: reforms.Create(level=UnitLevel.COMMUNE, parent=parent, name=target.name,
                                             type=target.type, code=target.code, full_name=target.full_name,
                                             effective_on=on, decision_ref=decision), target.code)
            return
        if len(sources) == 1:
            unit = sources[0]
            if unit.code != target.code:
                self.problem(target.rows, "new_code", _l(
                    "%(u)s (mã %(o)s) không sáp nhập hay chia tách: đơn vị giữ nguyên mã %(o)s khi đổi tên hoặc chuyển "
                    "đơn vị cấp trên; mã mới %(n)s chỉ dùng khi sáp nhập hoặc chia tách.", u=unit.full_name,
                    o=unit.code, n=target.code))
                return
            if target.parent is not None and target.parent.id != unit.parent_id:
                self._add(UnitChangeKind.REPARENT, target.numbers,
                          f"{kind_label[UnitChangeKind.REPARENT]} {unit.full_name} → {target.full_name}, "
                          f"{target.parent.full_name}",
                          lambda: reforms.Reparent(unit=unit, new_parent=target.parent, name=target.name,
                                                   type=target.type, effective_on=on, decision_ref=decision,
                                                   hamlet_names=hamlet_names, hamlet_types=hamlet_types),
                          target.code)
            elif (target.name, target.full_name, target.type) != (unit.name, unit.full_name, unit.type):
                self._add(UnitChangeKind.RENAME, target.numbers,
                          f"{kind_label[UnitChangeKind.RENAME]} {unit.full_name} → {target.full_name}",
                          lambda: reforms.Rename(unit=unit, name=target.name, full_name=target.full_name,
                                                 type=target.type, effective_on=on, decision_ref=decision,
                                                 hamlet_names=hamlet_names, hamlet_types=hamlet_types), target.code)
            elif hamlet_names or hamlet_types:
                self.problem(target.rows, "new_code", _l(
                    "%(u)s không thay đổi nhưng thôn/tổ dân phố của nó phải đổi tên hoặc loại: hãy sửa thôn trước.",
                    u=unit.full_name))
            else:
                self.plan.unchanged += list(target.numbers)
            return
        seat = next((u for u in sources if u.code == target.code), None)
        label = (f"{kind_label[UnitChangeKind.MERGE]} {', '.join(u.full_name for u in sources)} → "
                 f"{target.full_name}")
        note = None
        moved = [(u, n) for u in sources if u.code in self.main and u.code not in self.pure_splits
                 for (o, n) in self.part_hamlets if o == u.code and n != target.code]
        if moved:
            note = "; ".join(str(_l("một phần %(u)s (thôn/tổ dân phố) chuyển sang đơn vị mã %(n)s", u=u.full_name,
                                    n=n)) for u, n in moved)
        self._add(UnitChangeKind.MERGE, target.numbers, label,
                  lambda: reforms.MergeUnits(sources=sources, target_name=target.name, target_code=target.code,
                                             target_full_name=target.full_name, type=target.type, seat_source=seat,
                                             target_parent=target.parent, effective_on=on, decision_ref=decision,
                                             hamlet_names=hamlet_names, hamlet_types=hamlet_types, note=note),
                  target.code)

    def _split_step(self, unit: AdminUnit, names) -> None:
        rows = [r for r in self.rows if r.old_code == unit.code]
        on = self.on
        decision = next((r.decision_ref for r in rows if r.decision_ref), "")
        parts, targets = [], [self.targets[r.new_code] for r in rows]
        for target in targets:
            parts.append(reforms.Part(name=target.name, code=target.code, full_name=target.full_name,
                                      type=target.type, hamlets=self.part_hamlets[(unit.code, target.code)]))
        hamlet_names, hamlet_types = self._changes(self._hamlets_of(unit), names)
        label = (f"{reforms.CHANGE_KIND_LABELS[UnitChangeKind.SPLIT]} {unit.full_name} → "
                 f"{', '.join(t.full_name for t in targets)}")
        parent = targets[0].parent
        if parent is not None and parent.id != unit.parent_id:
            self.problem(rows, "new_parent_code", _l(
                "Chia tách giữ đơn vị cấp trên của %(u)s (%(p)s); để chuyển cấp trên, hãy chuyển sau khi chia.",
                u=unit.full_name, p=unit.parent.full_name))
            return
        self._add(UnitChangeKind.SPLIT, [r.number for r in rows], label,
                  lambda: reforms.SplitUnit(source=unit, parts=parts, effective_on=on, decision_ref=decision,
                                            hamlet_names=hamlet_names, hamlet_types=hamlet_types))

    def _reparent_hamlet_step(self, unit: AdminUnit, hamlet: AdminUnit, target: _Target, names) -> None:
        rows = [r.number for r in self.rows if r.old_code == unit.code and r.new_code == target.code]
        name, hamlet_type = names[hamlet.id]
        on, decision, code = self.on, target.decision_ref, target.code

        def build():
            parent = unit_services.find_unit_by_code(code, as_of=on)
            if parent is None or parent.level != UnitLevel.COMMUNE:
                raise _Missing(code)
            return reforms.Reparent(unit=hamlet, new_parent=parent, name=name if name != hamlet.name else None,
                                    type=hamlet_type if hamlet_type != hamlet.type else None, effective_on=on,
                                    decision_ref=decision,
                                    note=str(_l("Phần của %(u)s sáp nhập vào %(t)s.", u=unit.full_name,
                                                t=target.full_name)))

        self._add(UnitChangeKind.REPARENT, rows,
                  f"{reforms.CHANGE_KIND_LABELS[UnitChangeKind.REPARENT]} {hamlet.full_name} → {target.full_name}",
                  build)


def _topological(codes: list[str], waits: dict[str, set[str]]) -> list[str] | None:
    """``codes`` in file order, each after those it waits for; None when they wait in a circle."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(code: str) -> bool:
        if state.get(code) == 2:
            return True
        if state.get(code) == 1:
            return False
        state[code] = 1
        for other in sorted(waits.get(code, ()), key=codes.index):
            if not visit(other):
                return False
        state[code] = 2
        order.append(code)
        return True

    for code in codes:
        if not visit(code):
            return None
    return order


def _local_key(value: str | None) -> str:
    value = (value or "").strip()
    return str(int(value)) if value.isascii() and value.isdigit() else value.casefold()


def _name_key(name: str) -> str:
    return fold(name)


def commune_full_name(name: str, unit_type: str) -> str:
    """"Xã Bom Bo": the commune's type word and its name (data: Vietnamese in every language)."""
    try:
        word = COMMUNE_WORDS[UnitType(unit_type)]
    except (ValueError, KeyError):
        return name
    return f"{word} {name}"


def adapt_hamlet(name: str, hamlet_type: str, commune_type: str) -> tuple[str, str]:
    """A hamlet's name and type under a commune of ``commune_type``: unchanged where its type may
    be organised there (Thông tư 04/2012/TT-BNV); otherwise the corresponding type (ấp ↔ khu
    phố, thôn ↔ tổ dân phố, see :data:`TO_RURAL`, :data:`TO_URBAN`), and a name that begins with
    the old type's word begins with the new one's ("Ấp 3" → "Khu phố 3")."""
    try:
        current, allowed = UnitType(hamlet_type), HAMLET_TYPES_UNDER.get(UnitType(commune_type), frozenset())
    except ValueError:
        return name, hamlet_type
    if current in allowed or not allowed:
        return name, hamlet_type
    new = TO_RURAL.get(current, UnitType.THON) if UnitType.THON in allowed else TO_URBAN.get(current,
                                                                                               UnitType.TO_DAN_PHO)
    old_word, new_word = HAMLET_WORDS[current], HAMLET_WORDS[new]
    if fold(name).startswith(fold(old_word) + " "):
        name = f"{new_word} {name[len(old_word) + 1:].strip()}"
    return name, new.value


# --- carrying it out ------------------------------------------------------------------------------


def run_reform(plan: ReformPlan, *, actor=None, dry_run: bool = False, move_grants: bool = False,
               progress: Progress | None = None) -> ReformSummary:
    """Apply every step of ``plan`` in order (:func:`units.reforms.apply`, ``actor`` checked by
    it; None: the system, for the CLI), all or nothing: a plan with problems, or any step
    refused, raises :class:`ImportRefused` with every problem on its rows and leaves the database
    as it was. ``dry_run`` applies everything inside a SAVEPOINT and rolls it back. One
    ``unit.reform_import`` audit event names the file. Flushes, never commits."""
    if plan.problems:
        raise ImportRefused(list(plan.problems))
    summary = ReformSummary(plan.filename, plan.effective_on, dry_run, unchanged=len(plan.unchanged))
    problems = Problems(plan.table)
    failed: dict[str, tuple[int, ...]] = {}  # new code → rows of the step that failed to make it
    outer = db.session.begin_nested()
    try:
        total = len(plan.steps)
        for done, step in enumerate(plan.steps):
            if progress is not None:
                progress(done, total, step.label)
            try:
                operation = step.build()
            except _Missing as missing:
                rows = failed.get(str(missing), ())
                problems.add(step.rows[0] if step.rows else None, "new_code", _l(
                    "Không thực hiện được vì đơn vị mới mã %(c)s chưa được tạo (xem %(rows)s).", c=str(missing),
                    rows=_rows_text(rows) if rows else "—"))
                continue
            try:
                with db.session.begin_nested():
                    result = reforms.apply(operation, actor=actor, move_grants=move_grants)
            except DomainError as refused:
                if step.new_code:
                    failed[step.new_code] = step.rows
                messages = list(getattr(refused, "problems", None) or []) or [str(refused.message)]
                suffix = f" ({_rows_text(step.rows)})" if len(step.rows) > 1 else ""
                for message in messages:
                    problems.add(step.rows[0] if step.rows else None, None, f"{step.label}: {message}{suffix}")
                continue
            summary.add(step, result)
        if progress is not None:
            progress(total, total, "")
        if problems or dry_run:
            outer.rollback()
        else:
            outer.commit()
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise
    if problems:
        raise ImportRefused(list(problems))
    if not dry_run and summary.operations:
        _audit(plan, summary, actor)
    return summary


def _audit(plan: ReformPlan, summary: ReformSummary, actor) -> None:
    opened = [unit_services.find_unit_by_code(code, as_of=plan.effective_on) for code in plan.new_codes]
    paths = [u.path for u in opened if u is not None]
    common = None
    if paths:
        prefix = os.path.commonprefix(paths)
        common = prefix[: prefix.rfind("/") + 1] or None
        common = common if common not in ("", "/") else None
    record("unit.reform_import", object_type="import", object_id=plan.filename[:60],
           label=str(_l("Sắp xếp đơn vị hành chính theo tệp %(f)s", f=plan.filename)), unit_path=common,
           after={"source": plan.filename, "effective_on": plan.effective_on,
                  "decisions": sorted({r.decision_ref for r in plan.rows if r.decision_ref}),
                  "old_codes": plan.old_codes, "new_codes": plan.new_codes, "changes": summary.change_ids,
                  "unchanged_rows": plan.unchanged}, actor=actor)
    db.session.flush()


def import_reform(source, *, filename: str | None = None, actor=None, dry_run: bool = False,
                  move_grants: bool = False, progress: Progress | None = None) -> ReformSummary:
    """Read, check and apply a reform file in one call (:func:`read_reform`, :func:`plan_reform`,
    :func:`run_reform`)."""
    return run_reform(plan_reform(read_reform(source, filename=filename)), actor=actor, dry_run=dry_run,
                      move_grants=move_grants, progress=progress)


__all__ = ["FIELDS", "HEADERS", "ImportRefused", "Problem", "ReformPlan", "ReformRow", "ReformSummary", "Step",
           "adapt_hamlet", "commune_full_name", "import_reform", "plan_reform", "read_reform", "run_reform"]

"""Hamlets in bulk (issue #12 item 2): a spreadsheet of hamlets per commune, and their boundaries
from a GIS file — checked whole first, then written all or nothing.

**The table** (XLSX/XLS/ODS or CSV, read by ``imports.reading``; headers :data:`FIELDS`): the
commune's official code and the hamlet's name are required; type, households, population, the
difficult and ethnic-minority flags, a local code and a start date are optional.

**Matching** (the rule a re-import relies on: it updates, never duplicates). A row belongs to the
current commune holding its code (``Mã xã/phường``; a code Excel turned into a number gets its
leading zeros back). Within it, the row is the current hamlet whose name matches
(``services.hamlet_key``: Unicode NFC, case, Vietnamese diacritics and spacing ignored, numbers
read as numbers — "Ấp 3" = "ấp 3" = "AP 3" = "Ấp 03"), or, when the row gives a local code
(``Mã thôn``, "001" = "1"), the current hamlet holding that code — which lets the template's round
trip rename a hamlet or correct its spelling. A row naming one hamlet by its code and another by
its name is a problem; so is a name that two current hamlets of the commune share (the code then
says which). A row matched by name alone keeps the stored spelling of the name (a file typed
without accents never strips them); a row matched by its code sets the name as written. No match:
a new hamlet, its local code the one given or the commune's next number (``001``, ``002``…).

**What a row changes** on a matched hamlet: only what it says. An empty cell keeps what is
recorded (a file without households never erases them; "Không" clears a flag). The start date of
an existing hamlet is never changed by a file (effective dates are history; the hamlet page closes
and opens hamlets); a new hamlet starts on the row's date, by default the commune's own start:
the hamlets of an office's list already exist, and collaborators appointed before the import must
find their hamlet in force.

**Problems** (each with its sheet, row and column, nothing written while there is one): an
unknown, closed or out-of-scope commune, a commune name that is not the code's, a hamlet twice
in the file (same name, same code or the same hamlet), a type not allowed under the commune's type
(Thông tư 04/2012/TT-BNV), figures out of ``FIGURE_LIMITS`` or a population below the households,
a start before the commune's, a code of a closed hamlet, unreadable cells.

**Writing** (``apply_hamlets``): the services' bulk writers (``services.create_hamlets``,
``correct_hamlets``), one audit event per hamlet naming the file and one ``unit.import`` event
for the file, all in the caller's transaction (never committed here). Loading is set-based: the
communes of the file and their hamlets in a few queries whatever the number of rows (a national
file of 60,000 hamlets: ``benchmarks/bench_imports.py``).

**Boundaries** (:func:`plan_hamlet_boundaries`): a GIS file read by ``importer.read_units_file``
(GeoJSON, GeoPackage, zipped shapefile) whose features carry a commune code and a hamlet name or
local code; geometry reprojected to WGS 84 and repaired as the units importer does, stored full
and simplified (``spatial.geometry_columns``). A feature that matches no current hamlet is a
problem (import the hamlets first).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..auth.models import EDITING_ROLES
from ..common.clock import today
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..imports import cells
from ..imports.cells import CellError
from ..imports.problems import ImportRefused, Problems, Summary
from ..imports.reading import Field, Row, Table, read_table
from ..textnorm import fold, has_meaning, is_ascii_digits
from . import services
from .labels import TYPE_LABELS, type_label
from .models import FIGURE_LIMITS, HAMLET_TYPES_UNDER, LEVEL_TYPES, AdminUnit, UnitLevel, UnitType

KIND = "hamlets"  # the staged uploads' and the background job's kind
BOUNDARY_KIND = "hamlet_boundaries"
JOB_KIND = "hamlets_import"
INLINE_ROWS = 5000  # default of the setting IMPORT_INLINE_ROWS: more rows are imported by a background job
BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")  # what the page accepts (the CLI: any GIS file)
NAME_MAX = 150  # the hamlet form's limit
LOCAL_ID_MAX = 20  # AdminUnit.local_id
FULL_NAME_MAX = 250  # AdminUnit.full_name
PROGRESS_EVERY = 1000

Progress = Callable[[int, int], None]  # (done, total)

# Headers as our template writes them (Vietnamese, whatever the page's language) and as offices
# write them. Each field's first alias is its Vietnamese header, so a file made in one language
# is read in the other.
FIELDS = [
    Field("commune_code", _l("Mã xã/phường"), required=True,
          aliases=("Mã xã/phường", "Mã xã", "Mã phường", "Mã xã, phường", "Mã xã/phường/đặc khu", "Mã ĐVHC",
                   "Mã đơn vị hành chính", "commune_code")),
    Field("commune_name", _l("Tên xã/phường"),
          aliases=("Tên xã/phường", "Tên xã", "Tên phường", "Xã/phường", "Xã, phường", "commune_name")),
    Field("name", _l("Tên thôn/tổ dân phố"), required=True,
          aliases=("Tên thôn/tổ dân phố", "Tên thôn", "Tên ấp", "Tên tổ dân phố", "Tên thôn, tổ dân phố",
                   "Tên thôn/ấp/tổ dân phố", "Thôn/tổ dân phố", "Thôn, tổ dân phố", "hamlet_name", "name")),
    Field("type", _l("Loại"), aliases=("Loại", "Loại thôn", "Loại thôn/tổ dân phố", "type")),
    Field("local_id", _l("Mã thôn"), aliases=("Mã thôn", "Mã thôn/tổ dân phố", "Mã tổ dân phố", "Mã nội bộ",
                                            "local_id")),
    Field("households", _l("Số hộ"), aliases=("Số hộ", "Số hộ gia đình", "households")),
    Field("population", _l("Dân số"), aliases=("Dân số", "Số nhân khẩu", "Nhân khẩu", "Số dân", "population")),
    Field("is_difficult", _l("Thôn khó khăn"),
          aliases=("Thôn khó khăn", "Thôn đặc biệt khó khăn", "Đặc biệt khó khăn", "Địa bàn đặc biệt khó khăn",
                   "Khó khăn")),
    Field("is_ethnic_minority", _l("Thôn dân tộc thiểu số"),
          aliases=("Thôn dân tộc thiểu số", "Vùng đồng bào dân tộc thiểu số", "Vùng đồng bào DTTS",
                   "Dân tộc thiểu số", "DTTS")),
    Field("valid_from", _l("Ngày hiệu lực"),
          aliases=("Ngày hiệu lực", "Có hiệu lực từ ngày", "Hiệu lực từ", "Ngày bắt đầu hiệu lực")),
]
HEADERS = {f.key: f.aliases[0] for f in FIELDS}  # the template's headers

# How offices write a hamlet's type (the Vietnamese word, with or without accents), besides our
# codes ("to_dan_pho") and the labels of the page's language.
HAMLET_TYPE_WORDS: dict[UnitType, str] = {
    UnitType.THON: "Thôn", UnitType.AP: "Ấp", UnitType.BAN: "Bản", UnitType.LANG: "Làng", UnitType.BUON: "Buôn",
    UnitType.BON: "Bon", UnitType.PLEI: "Plei", UnitType.PHUM: "Phum", UnitType.SOC: "Sóc", UnitType.XOM: "Xóm",
    UnitType.TO_DAN_PHO: "Tổ dân phố", UnitType.KHU_PHO: "Khu phố", UnitType.KHOI_PHO: "Khối phố",
    UnitType.KHOM: "Khóm", UnitType.TIEU_KHU: "Tiểu khu",
}
TYPE_ABBREVIATIONS = {"tdp": UnitType.TO_DAN_PHO, "to": UnitType.TO_DAN_PHO, "kp": UnitType.KHU_PHO}
TYPE_WORD_OF = {t.value: w for t, w in HAMLET_TYPE_WORDS.items()}
NAME_PREFIXES = {**{fold(w): t for t, w in HAMLET_TYPE_WORDS.items()}, **TYPE_ABBREVIATIONS}
YES, NO = "Có", "Không"


def allowed_types(commune_type: str) -> frozenset[UnitType]:
    """The hamlet types a commune of this type may have (Thông tư 04/2012/TT-BNV)."""
    try:
        return HAMLET_TYPES_UNDER.get(UnitType(commune_type), frozenset())
    except ValueError:
        return frozenset()


def type_words() -> dict[str, UnitType]:
    """Folded word → hamlet type: the Vietnamese words, our codes, the labels of the page's
    language, common abbreviations ("TDP", "KP")."""
    words = {t.value: t for t in LEVEL_TYPES[UnitLevel.HAMLET]}
    words.update({fold(w): t for t, w in HAMLET_TYPE_WORDS.items()})
    words.update({fold(str(TYPE_LABELS[t])): t for t in LEVEL_TYPES[UnitLevel.HAMLET]})
    words.update(TYPE_ABBREVIATIONS)
    words.update({w: t for t, w in HAMLET_TYPE_WORDS.items()})  # as written, looked up before folding
    return words


def type_from_name(name: str, words: dict[str, UnitType]) -> UnitType | None:
    """The type a hamlet's name begins with ("Ấp Tân Lập" → ấp, "Tổ 5" → tổ dân phố), or None."""
    folded = fold(name)
    for word in sorted(words, key=len, reverse=True):
        if "_" not in word and (folded == word or folded.startswith(word + " ")):
            return words[word]
    return None


def inline_rows() -> int:
    from flask import current_app

    return int(current_app.config.get("IMPORT_INLINE_ROWS", INLINE_ROWS))


# --- the plan ---------------------------------------------------------------------------------------

CHANGE_LABELS = {
    "name": _l("Tên"), "type": _l("Loại"), "local_id": _l("Mã thôn"), "households": _l("Số hộ"),
    "population": _l("Dân số"), "is_difficult": _l("Thôn khó khăn"), "is_ethnic_minority": _l("Thôn dân tộc thiểu số"),
}


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "type":
        return type_label(value)
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, int):
        return format(value, ",").replace(",", ".")
    return str(value)


@dataclass(slots=True)
class PlannedHamlet:
    """One row of the file, checked: what it does to which hamlet."""

    row: int
    action: str  # create | update | unchanged
    commune_code: str
    commune_name: str  # the commune's full name
    name: str  # the hamlet's name after the import
    local_id: str | None = None
    hamlet_id: int | None = None
    new: services.NewHamlet | None = None  # what a created hamlet will be
    correction: services.HamletCorrection | None = None  # what an update changes

    def change_lines(self) -> list[str]:
        """The changes as the dry run shows them ("Số hộ: 250 → 300")."""
        if self.correction is None:
            return []
        before, after = self.correction.before, self.correction.after
        return [f"{CHANGE_LABELS[k]}: {_shown(k, before.get(k))} → {_shown(k, after[k])}"
                for k in CHANGE_LABELS if k in after]


@dataclass
class HamletPlan:
    """What a hamlet file would do (``plan_hamlets``): every row's action and every problem."""

    filename: str
    sheet: str | None
    items: list[PlannedHamlet] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> Summary:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for item in self.items:
            counts[item.action] += 1
        return Summary(counts["create"], counts["update"], counts["unchanged"], list(self.problems))

    @property
    def rows(self) -> int:
        return len(self.items)

    def changes(self, limit: int | None = None) -> list[PlannedHamlet]:
        """The rows that create or update, in file order (at most ``limit``)."""
        out = []
        for item in self.items:
            if item.action != "unchanged":
                out.append(item)
                if limit is not None and len(out) >= limit:
                    break
        return out


@dataclass(slots=True, frozen=True)
class _Commune:
    id: int
    code: str
    name: str
    full_name: str
    type: str
    path: str
    valid_from: date
    valid_to: date | None


@dataclass(slots=True)
class _Parsed:
    """A row's cells, read (None: empty or unreadable — ``ok`` says which)."""

    row: Row
    ok: bool = True
    commune_code: str | None = None
    commune_name: str | None = None
    name: str | None = None
    key: str = ""
    type: UnitType | None = None
    local_id: str | None = None
    households: int | None = None
    population: int | None = None
    is_difficult: bool | None = None
    is_ethnic_minority: bool | None = None
    valid_from: date | None = None


class _Index:
    """The hamlets of one commune, every way a row may find one."""

    __slots__ = ("by_key", "by_code", "closed_codes", "codes")

    def __init__(self):
        self.by_key: dict[str, list] = {}  # name key → current hamlets (two: ambiguous)
        self.by_code: dict[str, Any] = {}  # local code key → current hamlet
        self.closed_codes: dict[str, Any] = {}  # local code key → a closed hamlet that held it
        self.codes: list[str] = []  # every local code ever given in the commune (numbering)


class Scope:
    """Which communes an import may touch: those under ``within`` (the unit whose page it is;
    None: anywhere) where ``actor`` holds an editing role (None: the CLI without ``--user``,
    which may touch every commune). Fail-closed: a user without grants touches none."""

    def __init__(self, actor=None, within: AdminUnit | None = None):
        from ..auth.permissions import scope_of

        self.actor = actor
        self.within = within
        self.scope = scope_of(actor) if actor is not None else None

    def refusal(self, path: str, commune_label: str) -> str | None:
        if self.within is not None and not path.startswith(self.within.path):
            return _("%(c)s không thuộc %(u)s; hãy nhập tại trang của đơn vị chứa nó.", c=commune_label,
                     u=self.within.full_name)
        if self.scope is not None and not (self.scope.roles_at(path) & EDITING_ROLES):
            return _("%(c)s nằm ngoài địa bàn bạn được quản lý.", c=commune_label)
        return None


def _chunks(values: Sequence, size: int = 500) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def normalise_commune_code(value: Any) -> str | None:
    """A commune code as text of 5 digits ("25195"; 4 → "00004": a number lost its zeros)."""
    code = cells.code(value, max_length=10)
    if code is None:
        return None
    if is_ascii_digits(code) and len(code) < 5:
        code = code.zfill(5)
    if not (is_ascii_digits(code) and len(code) == 5):
        raise CellError(_l("Mã xã/phường gồm 5 chữ số (ví dụ 25195); ô ghi “%(v)s”.", v=code[:30]))
    return code


def load_communes(codes: Iterable[str], on: date) -> tuple[dict[str, _Commune], dict[str, _Commune]]:
    """The communes holding these codes on ``on`` and, for codes no commune holds then, the last
    commune that held it (to say it closed) — in a few queries whatever the number of codes."""
    current: dict[str, _Commune] = {}
    closed: dict[str, _Commune] = {}
    columns = (AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.full_name, AdminUnit.type, AdminUnit.path,
               AdminUnit.valid_from, AdminUnit.valid_to)
    for chunk in _chunks(sorted(set(codes))):
        rows = db.session.execute(select(*columns).where(AdminUnit.code.in_(chunk),
                                                         AdminUnit.level == UnitLevel.COMMUNE.value)
                                  .order_by(AdminUnit.valid_from, AdminUnit.id))
        for row in rows:
            commune = _Commune(*row)
            if commune.valid_from <= on and (commune.valid_to is None or commune.valid_to > on):
                current[commune.code] = commune
            else:
                closed[commune.code] = commune
    return current, {k: v for k, v in closed.items() if k not in current}


_HAMLET_COLUMNS = (AdminUnit.id, AdminUnit.parent_id, AdminUnit.name, AdminUnit.local_id, AdminUnit.type,
                   AdminUnit.households, AdminUnit.population, AdminUnit.is_difficult, AdminUnit.is_ethnic_minority,
                   AdminUnit.valid_from, AdminUnit.valid_to, AdminUnit.path, AdminUnit.full_name)


def load_hamlets(commune_ids: Iterable[int]) -> dict[int, _Index]:
    """Every hamlet of these communes (closed ones for their local codes), indexed per commune."""
    indexes: dict[int, _Index] = {}
    for chunk in _chunks(sorted(set(commune_ids))):
        for h in db.session.execute(select(*_HAMLET_COLUMNS).where(AdminUnit.parent_id.in_(chunk),
                                                                    AdminUnit.level == UnitLevel.HAMLET.value)):
            index = indexes.setdefault(h.parent_id, _Index())
            index.codes.append(h.local_id)
            code = services.local_code_key(h.local_id)
            if h.valid_to is None:
                index.by_key.setdefault(services.hamlet_key(h.name), []).append(h)
                if code:
                    index.by_code[code] = h
            elif code:
                index.closed_codes.setdefault(code, h)
    return indexes


_FLAGS: dict[str, bool] = {}  # yes/no cells as written ("Có", "x", "Không"…), read once: files repeat a few


def _commune_code(row: Row) -> tuple[str | None, Any]:
    """The row's commune code, or None and why (an empty or unreadable cell)."""
    try:
        code = normalise_commune_code(row.get("commune_code"))
    except CellError as e:
        return None, e.message
    return (code, None) if code is not None else (None, _l("Ô này không được để trống."))


def _read_row(row: Row, problems: Problems, words: dict[str, UnitType], code: str | None) -> _Parsed:
    """The row's cells as values (its commune code read already); each unreadable cell is a
    problem of its row and column."""
    before = len(problems)
    p = _Parsed(row, commune_code=code)
    p.commune_name = problems.cell(row, "commune_name", cells.text, max_length=250)
    p.name = problems.cell(row, "name", cells.text, max_length=NAME_MAX, required=True)
    if p.name is not None and not has_meaning(p.name):
        problems.add(row.number, "name", _l("Tên thôn/tổ dân phố phải có chữ hoặc số."))
        p.name = None
    p.key = services.hamlet_key(p.name) if p.name else ""
    raw_type = row.get("type")
    if raw_type is not None:
        p.type = words.get(str(raw_type)) or words.get(fold(str(raw_type)))
        if p.type is None:
            problems.add(row.number, "type", _l("“%(v)s” không phải loại thôn/tổ dân phố; ghi một trong: %(o)s.",
                                                v=str(raw_type)[:40], o=", ".join(HAMLET_TYPE_WORDS.values())))
    p.local_id = problems.cell(row, "local_id", cells.code, max_length=LOCAL_ID_MAX)
    limits = FIGURE_LIMITS[UnitLevel.HAMLET]
    p.households = problems.cell(row, "households", cells.integer, low=0, high=limits["households"])
    p.population = problems.cell(row, "population", cells.integer, low=0, high=limits["population"])
    if p.households is not None and p.population is not None and p.population < p.households:
        problems.add(row.number, "population", _l("Dân số (%(p)s) ít hơn số hộ (%(h)s): mỗi hộ có ít nhất một người.",
                                                  p=p.population, h=p.households))
    for key in ("is_difficult", "is_ethnic_minority"):
        value = row.get(key)
        if value is None:
            continue
        known = _FLAGS.get(value) if isinstance(value, str) else None
        if known is None:
            known = problems.cell(row, key, cells.flag)
            if known is not None and isinstance(value, str) and len(_FLAGS) < 1000:
                _FLAGS[value] = known
        setattr(p, key, known)
    p.valid_from = problems.cell(row, "valid_from", cells.day)
    p.ok = len(problems) == before
    return p


@functools.lru_cache(maxsize=4096)
def _commune_matches(written: str, commune: _Commune) -> bool:
    """A commune name as a file writes it ("Bình Phước", "Phường Bình Phước", "P. Bình Phước")
    is the commune's: compared folded, with or without its type (a national file repeats each
    commune's name on every row: each pair is compared once)."""
    folded = fold(written)
    name = fold(commune.name)
    return folded in (name, fold(commune.full_name)) or folded.endswith(" " + name) or folded.endswith("." + name)


def plan_hamlets(table: Table, *, actor=None, within: AdminUnit | None = None, on: date | None = None,
                 progress: Progress | None = None) -> HamletPlan:
    """Read every row of ``table`` (``imports.reading.read_table`` with :data:`FIELDS`), check
    every rule of the module's docstring and decide each row's action — writing nothing.

    ``actor``: the user importing (their editing scope applies; None: the CLI's administrator);
    ``within``: the unit whose page the file was given on (rows outside it are problems);
    ``on``: the day communes must be in force (today). ``progress(done, total)`` is called as
    rows are checked."""
    on = on or today()
    problems = Problems(table)
    plan = HamletPlan(table.filename, table.sheet, problems=problems)
    if table.ignored:
        plan.notes.append(_("Các cột không dùng khi nhập: %(c)s.", c=", ".join(f"“{c}”" for c in table.ignored)))
    total = len(table.rows)
    if not total:
        problems.add(None, None, _l("Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."))
        return plan
    words = type_words()
    rows = table.rows
    # Pass 1: the commune of every row, so communes and hamlets are loaded set-based.
    codes: list[str | None] = []
    code_errors: dict[int, Any] = {}
    same: dict[str, str] = {}
    for i, row in enumerate(rows):
        code, error = _commune_code(row)
        codes.append(same.setdefault(code, code) if code else None)
        if error is not None:
            code_errors[i] = error
    current, closed = load_communes(same, on)
    scope = Scope(actor, within)
    refused = {code: scope.refusal(c.path, _("Xã/phường mã %(code)s (%(name)s)", code=code, name=c.full_name))
               for code, c in current.items()}
    groups: dict[str, list[int]] = {}  # rows of each commune the file may touch, in file order
    elsewhere: list[int] = []  # rows of no such commune: their cells are still checked
    for i, code in enumerate(codes):
        if code is not None and code in current and not refused[code]:
            groups.setdefault(code, []).append(i)
        else:
            elsewhere.append(i)
    # Pass 2: a few hundred communes at a time, their hamlets loaded once and let go after.
    matcher = _Matcher(plan, problems)
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)

    for i in elsewhere:
        p = _read_row(rows[i], problems, words, codes[i])
        number = rows[i].number
        if i in code_errors:
            problems.add(number, "commune_code", code_errors[i])
        elif codes[i] not in current:
            old = closed.get(codes[i])
            problems.add(number, "commune_code", _l(
                "Xã/phường mã %(code)s (%(name)s) đã hết hiệu lực từ %(d)s; ghi mã của xã/phường hiện nay.",
                code=codes[i], name=old.full_name, d=old.valid_to.strftime("%d/%m/%Y"))
                if old is not None and old.valid_to is not None else
                _l("Không có xã/phường nào mang mã %(code)s.", code=codes[i]))
        else:
            problems.add(number, "commune_code", refused[codes[i]])
        advance()
    commune_codes = list(groups)
    for chunk in _chunks(commune_codes):
        indexes = load_hamlets([current[code].id for code in chunk])
        for code in chunk:
            commune = current[code]
            index = indexes.get(commune.id) or _Index()
            matcher.start(commune)
            for i in groups[code]:
                p = _read_row(rows[i], problems, words, code)
                if p.commune_name and not _commune_matches(p.commune_name, commune):
                    problems.add(p.row.number, "commune_name", _l(
                        "Mã %(code)s là mã của %(name)s, không phải “%(v)s”.", code=code, name=commune.full_name,
                        v=p.commune_name[:60]))
                elif p.ok:
                    matcher.match(p, commune, index)
                advance()
            matcher.number_new_hamlets(commune, index)
        del indexes
    order = {table.header(f.key): n for n, f in enumerate(FIELDS)}  # a row's problems in the file's column order
    problems.items.sort(key=lambda problem: (problem.row or 0, order.get(problem.column, len(order))))
    plan.items.sort(key=lambda item: item.row)
    problems.table = None  # the plan keeps no reference to the file's rows
    if matcher.kept_dates:
        plan.notes.append(_("%(n)d dòng ghi ngày hiệu lực khác ngày đã lưu của thôn/tổ dân phố đã có; ngày đã lưu "
                            "được giữ nguyên (ngày hiệu lực không sửa bằng nhập tệp).", n=matcher.kept_dates))
    return plan


class _Matcher:
    """Rows to hamlets, one commune's index at a time (the module docstring's rule)."""

    def __init__(self, plan: HamletPlan, problems: Problems):
        self.plan = plan
        self.problems = problems
        self.kept_dates = 0
        self.start(None)

    def start(self, commune: _Commune | None) -> None:
        """A commune's rows come next: names, codes and hamlets are unique per commune."""
        self.seen_key: dict[str, int] = {}
        self.seen_code: dict[str, int] = {}
        self.seen_hamlet: dict[int, int] = {}
        self.new: list[PlannedHamlet] = []

    def _problem(self, number: int, key: str, message) -> None:
        self.problems.add(number, key, message)

    def match(self, p: _Parsed, commune: _Commune, index: _Index) -> None:
        number = p.row.number
        code = services.local_code_key(p.local_id) if p.local_id else ""
        named = index.by_key.get(p.key, [])
        by_code = index.by_code.get(code) if code else None
        if by_code is None and len(named) > 1:
            self._problem(number, "name", _l(
                "%(c)s có %(n)d thôn/tổ dân phố cùng tên “%(v)s” (mã %(codes)s); ghi cột “Mã thôn” để chọn đúng "
                "thôn.", c=commune.full_name, n=len(named), v=p.name, codes=", ".join(h.local_id for h in named)))
            return
        by_name = named[0] if named else None
        if by_code is not None and by_name is not None and by_code.id != by_name.id:
            self._problem(number, "local_id", _l(
                "Mã thôn “%(code)s” là của “%(a)s”, còn tên “%(v)s” là của thôn/tổ dân phố khác (mã %(b)s); sửa một "
                "trong hai.", code=p.local_id, a=by_code.name, v=p.name, b=by_name.local_id))
            return
        hamlet = by_code or by_name
        if not self._first(p, commune, hamlet, code):
            return
        if hamlet is None:
            self._create(p, commune, index, code)
        else:
            self._update(p, commune, index, hamlet, renamed=by_code is not None)

    def _first(self, p: _Parsed, commune: _Commune, hamlet, code: str) -> bool:
        """A hamlet, a name and a code appear once per commune in a file."""
        number = p.row.number
        key = p.key
        if key in self.seen_key:
            self._problem(number, "name", _l("“%(v)s” của %(c)s đã có ở dòng %(r)d: mỗi thôn/tổ dân phố chỉ ghi một "
                                             "dòng.", v=p.name, c=commune.full_name, r=self.seen_key[key]))
            return False
        if hamlet is not None and hamlet.id in self.seen_hamlet:
            self._problem(number, "name", _l("Dòng này và dòng %(r)d cùng chỉ “%(v)s” của %(c)s: mỗi thôn/tổ dân phố "
                                             "chỉ ghi một dòng.", r=self.seen_hamlet[hamlet.id], v=hamlet.name,
                                             c=commune.full_name))
            return False
        if code and code in self.seen_code:
            self._problem(number, "local_id", _l("Mã thôn “%(code)s” của %(c)s đã có ở dòng %(r)d.", code=p.local_id,
                                                 c=commune.full_name, r=self.seen_code[code]))
            return False
        self.seen_key[key] = number
        if code:
            self.seen_code[code] = number
        if hamlet is not None:
            self.seen_hamlet[hamlet.id] = number
        return True

    def _type_ok(self, p: _Parsed, commune: _Commune, unit_type: UnitType) -> bool:
        problem = services.hamlet_type_problem(unit_type, commune.type, commune.full_name)
        if problem:
            self._problem(p.row.number, "type", problem)
            return False
        return True

    def _closed_code(self, p: _Parsed, index: _Index, code: str) -> bool:
        old = index.closed_codes.get(code) if code else None
        if old is not None:
            self._problem(p.row.number, "local_id", _l(
                "Mã thôn “%(code)s” là mã của “%(name)s” đã đóng (từ %(d)s); chọn mã khác hoặc để trống để tự đánh số.",
                code=p.local_id, name=old.name, d=old.valid_to.strftime("%d/%m/%Y")))
            return True
        return False

    def _create(self, p: _Parsed, commune: _Commune, index: _Index, code: str) -> None:
        number = p.row.number
        unit_type = p.type or type_from_name(p.name, NAME_PREFIXES)
        ok = True
        if unit_type is None:
            allowed = allowed_types(commune.type)
            self._problem(number, "type", _l(
                "Thôn/tổ dân phố mới “%(v)s”: cột “Loại” trống và tên không cho biết loại; ghi một trong: %(o)s.",
                v=p.name, o=", ".join(HAMLET_TYPE_WORDS[t] for t in HAMLET_TYPE_WORDS if t in allowed)))
            ok = False
        elif not self._type_ok(p, commune, unit_type):
            ok = False
        if self._closed_code(p, index, code):
            ok = False
        start = p.valid_from or commune.valid_from
        if start < commune.valid_from:
            self._problem(number, "valid_from", _l(
                "Ngày hiệu lực %(d)s trước ngày %(c)s có hiệu lực (%(f)s).", d=start.strftime("%d/%m/%Y"),
                c=commune.full_name, f=commune.valid_from.strftime("%d/%m/%Y")))
            ok = False
        if len(services.hamlet_full_name(p.name, commune.full_name)) > FULL_NAME_MAX:
            self._problem(number, "name", _l("Tên quá dài: tên đầy đủ (kèm tên xã/phường) tối đa %(n)d ký tự.",
                                             n=FULL_NAME_MAX))
            ok = False
        if not ok:
            return
        new = services.NewHamlet(commune.id, commune.path, commune.full_name, p.name, unit_type.value,
                                 p.local_id or "", start, p.households, p.population, bool(p.is_difficult),
                                 bool(p.is_ethnic_minority))
        item = PlannedHamlet(number, "create", commune.code, commune.full_name, p.name, p.local_id, new=new)
        self.plan.items.append(item)
        if not new.local_id:
            self.new.append(item)

    def _update(self, p: _Parsed, commune: _Commune, index: _Index, hamlet, *, renamed: bool) -> None:
        number = p.row.number
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}

        def change(key: str, old: Any, new: Any) -> None:
            if new is not None and new != old:
                before[key], after[key] = old, new

        if renamed and p.name != hamlet.name:
            change("name", hamlet.name, p.name)
            change("full_name", hamlet.full_name, services.hamlet_full_name(p.name, commune.full_name))
            if len(services.hamlet_full_name(p.name, commune.full_name)) > FULL_NAME_MAX:
                self._problem(number, "name", _l("Tên quá dài: tên đầy đủ (kèm tên xã/phường) tối đa %(n)d ký tự.",
                                                 n=FULL_NAME_MAX))
                return
        if p.type is not None and p.type.value != hamlet.type:
            if not self._type_ok(p, commune, p.type):
                return
            change("type", hamlet.type, p.type.value)
        code = services.local_code_key(p.local_id) if p.local_id else ""
        if code and code != services.local_code_key(hamlet.local_id):
            if self._closed_code(p, index, code):
                return
            change("local_id", hamlet.local_id, p.local_id)
        change("households", hamlet.households, p.households)
        change("population", hamlet.population, p.population)
        change("is_difficult", hamlet.is_difficult, p.is_difficult)
        change("is_ethnic_minority", hamlet.is_ethnic_minority, p.is_ethnic_minority)
        if p.valid_from is not None and p.valid_from != hamlet.valid_from:
            self.kept_dates += 1
        name = after.get("name", hamlet.name)
        item = PlannedHamlet(number, "update" if after else "unchanged", commune.code, commune.full_name, name,
                             after.get("local_id", hamlet.local_id), hamlet_id=hamlet.id)
        if after:
            item.correction = services.HamletCorrection(
                hamlet.id, hamlet.path, services.hamlet_full_name(name, commune.full_name), before, after)
        self.plan.items.append(item)

    def number_new_hamlets(self, commune: _Commune, index: _Index) -> None:
        """Give the commune's new hamlets without a code its next numbers, after every code the
        commune has had and every code the file gives it (three digits: 001, 002…)."""
        if not self.new:
            return
        taken = {*self.seen_code, *(services.local_code_key(c) for c in index.codes if c)}
        number = services.next_local_number([*index.codes, *self.seen_code])
        for item in self.new:
            while str(number) in taken:
                number += 1
            item.local_id = item.new.local_id = f"{number:03d}"
            taken.add(str(number))
        self.new = []


# --- applying -----------------------------------------------------------------------------------------


def _common_path(paths: Iterable[str]) -> str | None:
    prefix = os.path.commonprefix(list(paths))
    prefix = prefix[: prefix.rfind("/") + 1]
    return prefix if prefix not in ("", "/") else None


def apply_hamlets(plan: HamletPlan, *, actor=None, filename: str | None = None,
                  progress: Progress | None = None) -> Summary:
    """Write the plan: new hamlets created and matched ones corrected through the services'
    bulk writers, each audited with the file's name, plus one ``unit.import`` event for the file
    (none when nothing changes: a re-import of the same file writes nothing at all). Refuses a
    plan with problems (:class:`ImportRefused`: nothing written). All in the caller's
    transaction, inside a SAVEPOINT; never commits."""
    summary = plan.summary
    if plan.problems:
        raise ImportRefused(list(plan.problems))
    source = filename or plan.filename
    new = [item.new for item in plan.items if item.new is not None]
    corrections = [item.correction for item in plan.items if item.correction is not None]
    total = len(new) + len(corrections)
    if not total:
        return summary
    with db.session.begin_nested():
        ids = services.create_hamlets(new, actor=actor, source=source,
                                      progress=(lambda n: progress(n, total)) if progress else None)
        services.correct_hamlets(corrections, actor=actor, source=source,
                                 progress=(lambda n: progress(len(new) + n, total)) if progress else None)
        paths = [*(f"{h.commune_path}{i}/" for h, i in zip(new, ids, strict=True)), *(c.path for c in corrections)]
        record("unit.import", object_type="import", object_id=source[:60],
               label=str(_l("Nhập thôn/tổ dân phố từ tệp %(f)s", f=source)), unit_path=_common_path(paths),
               after={"source": source, "kind": KIND, "created": summary.created, "updated": summary.updated,
                      "unchanged": summary.unchanged}, actor=actor)
        db.session.flush()
    db.session.expire_all()  # the units were written past the ORM: anything loaded is read again
    return summary


def import_hamlets(source, *, filename: str, actor=None, within: AdminUnit | None = None,
                   progress: Progress | None = None) -> tuple[HamletPlan, Summary]:
    """Read, plan and apply a hamlet file in one go (the confirmation step, the background job):
    the plan is made again from the file, never trusted from the dry run."""
    table = read_table(source, FIELDS, filename=filename)
    plan = plan_hamlets(table, actor=actor, within=within, progress=progress)
    return plan, apply_hamlets(plan, actor=actor, filename=filename, progress=progress)


# --- the template and the result file ------------------------------------------------------------------


def _flag(value: bool | None) -> str:
    return YES if value else NO


def template_document(unit: AdminUnit | None, *, actor=None, on: date | None = None):
    """The XLSX template of the import (``exports.document``): the current hamlets of the
    communes ``actor`` may edit under ``unit`` (every one for None), with the import's headers —
    downloaded, corrected or completed, and uploaded again, it changes only what was edited;
    then a sheet of instructions and one of the communes with their codes and the hamlet types
    they allow."""
    from ..exports.document import Column, Document, Kind, Sheet

    on = on or today()
    scope = Scope(actor, unit)
    communes = [c for c in _communes_under(unit, on)
                if scope.refusal(c.path, c.full_name) is None]
    by_id = {c.id: c for c in communes}

    def hamlet_rows():
        for chunk in _chunks([c.id for c in communes]):
            stmt = (select(*_HAMLET_COLUMNS).where(AdminUnit.parent_id.in_(chunk), AdminUnit.valid_to.is_(None),
                                                   AdminUnit.level == UnitLevel.HAMLET.value)
                    .order_by(AdminUnit.parent_id, AdminUnit.local_id, AdminUnit.name))
            rows = sorted(db.session.execute(stmt), key=lambda h: (by_id[h.parent_id].code, h.local_id or "", h.name))
            for h in rows:
                c = by_id[h.parent_id]
                yield (c.code, c.full_name, h.name, TYPE_WORD_OF.get(h.type, h.type), h.local_id, h.households,
                       h.population, _flag(h.is_difficult), _flag(h.is_ethnic_minority), h.valid_from)

    columns = [Column(HEADERS["commune_code"], Kind.TEXT, 13), Column(HEADERS["commune_name"], Kind.TEXT, 26),
               Column(HEADERS["name"], Kind.TEXT, 28), Column(HEADERS["type"], Kind.TEXT, 12),
               Column(HEADERS["local_id"], Kind.TEXT, 10), Column(HEADERS["households"], Kind.INT, 10),
               Column(HEADERS["population"], Kind.INT, 10), Column(HEADERS["is_difficult"], Kind.TEXT, 12),
               Column(HEADERS["is_ethnic_minority"], Kind.TEXT, 14), Column(HEADERS["valid_from"], Kind.DATE, 13)]
    where = unit.full_name if unit is not None else _("Địa bàn được quản lý")
    data = Sheet(_("Thôn, tổ dân phố"), columns, hamlet_rows(), empty_text="")
    guide = Sheet(_("Hướng dẫn"), [Column(_("Cột"), Kind.TEXT, 26), Column(_("Bắt buộc"), Kind.TEXT, 10),
                                   Column(_("Cách ghi"), Kind.TEXT, 110)], instruction_rows(),
                  title=_("Cách điền trang “Thôn, tổ dân phố”"), empty_text="")
    commune_sheet = Sheet(_("Xã, phường"), [Column(_("Mã"), Kind.TEXT, 10), Column(_("Xã/phường/đặc khu"), Kind.TEXT, 30),
                                            Column(_("Loại thôn/tổ dân phố được dùng"), Kind.TEXT, 60)],
                          [(c.code, c.full_name, ", ".join(w for t, w in HAMLET_TYPE_WORDS.items()
                                                           if t in allowed_types(c.type))) for c in communes],
                          title=_("Mã xã/phường dùng trong cột “Mã xã/phường”"))
    slug = re.sub(r"[^a-z0-9]+", "-", fold(where)).strip("-")[:50] or "dia-ban"
    return Document(title=_("Danh sách thôn/tổ dân phố (mẫu nhập)"),
                    lines=[where, _("Sửa hoặc thêm dòng ở trang này rồi tải lên tại “Nhập thôn/tổ dân phố từ tệp”; "
                                    "xem trang “Hướng dẫn”."), _("Ngày tải mẫu: %(d)s", d=on.strftime("%d/%m/%Y"))],
                    sheets=[data, guide, commune_sheet], filename=f"mau-nhap-thon-{slug}-{on.isoformat()}", made_on=on)


def instruction_rows() -> list[tuple[str, str, str]]:
    yes, no = _("Có"), _("Không")
    return [
        (HEADERS["commune_code"], yes, _("Mã 5 chữ số của xã/phường/đặc khu (xem trang “Xã, phường”). Mã ghi dạng số "
                                         "mất số 0 ở đầu được tự thêm lại.")),
        (HEADERS["commune_name"], no, _("Để đối chiếu: nếu ghi, phải là tên của xã/phường mang mã ở cột trước.")),
        (HEADERS["name"], yes, _("Tên thôn/tổ dân phố, ví dụ “Ấp 3”, “Thôn Tân Lập”, “Tổ dân phố 5”. Tên được so khớp "
                                 "không phân biệt hoa thường, dấu và số 0 ở đầu số: “Ấp 3” = “ấp 3” = “AP 03”.")),
        (HEADERS["type"], no, _("Thôn, Ấp, Bản, Làng, Buôn, Bon, Plei, Phum, Sóc, Xóm (dưới xã); Tổ dân phố, Khu "
                                "phố, Khối phố, Khóm, Tiểu khu (dưới phường) — Thông tư 04/2012/TT-BNV. Để trống: giữ "
                                "loại đã có, hoặc lấy theo chữ đầu của tên khi tạo mới.")),
        (HEADERS["local_id"], no, _("Mã nội bộ trong xã (thôn không có mã chính thức). Ghi mã có sẵn (như trong mẫu) "
                                    "để sửa tên thôn đó; để trống khi thêm thôn mới để hệ thống tự đánh số.")),
        (HEADERS["households"], no, _("Số nguyên từ 0 đến 20.000. Để trống: giữ số đã có.")),
        (HEADERS["population"], no, _("Số nguyên từ 0 đến 100.000, không ít hơn số hộ. Để trống: giữ số đã có.")),
        (HEADERS["is_difficult"], no, _("Có hoặc Không (x, 1 cũng là Có). Để trống: giữ như đã có.")),
        (HEADERS["is_ethnic_minority"], no, _("Có hoặc Không. Để trống: giữ như đã có.")),
        (HEADERS["valid_from"], no, _("Ngày thôn mới bắt đầu có hiệu lực (ngày/tháng/năm); để trống: ngày xã/phường "
                                      "có hiệu lực. Không đổi ngày của thôn đã có.")),
        ("", "", _("Mỗi thôn một dòng. Dòng trùng thôn với dòng khác, xã/phường không tồn tại hoặc ngoài địa bàn "
                   "được quản lý đều là lỗi: khi tệp còn lỗi, không dòng nào được ghi.")),
        ("", "", _("Nhập lại cùng một tệp không thay đổi gì; thôn không có trong tệp không bị xoá (đóng thôn tại "
                   "trang của thôn).")),
    ]


def _communes_under(unit: AdminUnit | None, on: date) -> list[_Commune]:
    columns = (AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.full_name, AdminUnit.type, AdminUnit.path,
               AdminUnit.valid_from, AdminUnit.valid_to)
    stmt = select(*columns).where(AdminUnit.level == UnitLevel.COMMUNE.value, services.valid_on(AdminUnit, on))
    if unit is not None:
        stmt = stmt.where(AdminUnit.path.startswith(unit.path, autoescape=True))
    return [_Commune(*row) for row in db.session.execute(stmt.order_by(AdminUnit.code))]


ACTION_LABELS = {"create": _l("Tạo mới"), "update": _l("Cập nhật"), "unchanged": _l("Không đổi")}


def result_document(plan: HamletPlan, summary: Summary):
    """What an import did, row by row (the background job's file)."""
    from ..exports.document import Column, Document, Kind, Sheet

    on = today()
    rows = ((item.row, item.commune_code, item.commune_name, item.name, item.local_id, str(ACTION_LABELS[item.action]),
             "; ".join(item.change_lines())) for item in plan.items)
    sheet = Sheet(_("Kết quả"), [Column(_("Dòng"), Kind.ORDINAL, 7), Column(HEADERS["commune_code"], Kind.TEXT, 13),
                                 Column(_("Xã/phường"), Kind.TEXT, 28), Column(HEADERS["name"], Kind.TEXT, 28),
                                 Column(HEADERS["local_id"], Kind.TEXT, 10), Column(_("Kết quả"), Kind.TEXT, 12),
                                 Column(_("Thay đổi"), Kind.TEXT, 60)], rows)
    return Document(title=_("Kết quả nhập thôn/tổ dân phố"),
                    lines=[_("Tệp: %(f)s", f=plan.filename),
                           _("Tạo mới %(c)d, cập nhật %(u)d, không đổi %(n)d.", c=summary.created, u=summary.updated,
                             n=summary.unchanged)],
                    sheets=[sheet], filename=f"ket-qua-nhap-thon-{on.isoformat()}", made_on=on)


# --- the background job (files of more than IMPORT_INLINE_ROWS rows) ----------------------------------------


def _job_unit(params: dict, user) -> AdminUnit | None:
    from ..auth.permissions import can_edit_unit

    unit_id = params.get("unit_id")
    if unit_id is None:
        return None
    unit = db.session.get(AdminUnit, unit_id) if isinstance(unit_id, int) else None
    if unit is None:
        raise NotFound(_l("Không tìm thấy đơn vị hành chính."))
    if not can_edit_unit(user, unit):
        raise PermissionDenied(_l("Bạn không có quyền nhập thôn/tổ dân phố cho %(u)s.", u=unit.full_name))
    return unit


def check_job(params: dict, user) -> dict:
    """Before the job is queued: the staged file is the user's and the unit in their scope."""
    from ..imports import staging

    token = params.get("token") if isinstance(params.get("token"), str) else None
    staging.staged(token, kind=KIND, owner_id=user.id)
    _job_unit(params, user)
    return {"token": token, "unit_id": params.get("unit_id")}


def run_job(params: dict, progress):
    """Import a staged hamlet file for ``progress.owner`` (scope checked again: a grant may
    have ended since), reporting rows checked then written; the file is the row-by-row result.
    A plan with problems fails the job with the count (nothing written)."""
    import io

    from ..exports.xlsx import write_xlsx
    from ..imports import staging
    from ..jobs.services import JobFile

    user = progress.owner
    staged = staging.staged(params.get("token"), kind=KIND, owner_id=user.id)
    unit = _job_unit(params, user)
    checking, writing = _("Đang kiểm tra các dòng…"), _("Đang ghi vào cơ sở dữ liệu…")
    table = read_table(staged.path, FIELDS, filename=staged.filename)
    plan = plan_hamlets(table, actor=user, within=unit,
                        progress=lambda done, total: progress.update(done, total, checking))
    summary = apply_hamlets(plan, actor=user, filename=staged.filename,
                            progress=lambda done, total: progress.update(done, total, writing))
    staging.discard(staged)
    buffer = io.BytesIO()
    write_xlsx(result_document(plan, summary), buffer)
    data = buffer.getvalue()
    return JobFile(f"ket-qua-nhap-thon-{today().isoformat()}.xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   write=lambda target: target.write(data))


def _register() -> None:
    from ..jobs.services import register

    register(JOB_KIND, run_job, check=check_job, label=_l("Nhập thôn/tổ dân phố"))


_register()


# --- boundaries from a GIS file ------------------------------------------------------------------------------

# Column names offices' GIS files use (compared folded, non-letters as "_"); shapefiles cut them to 10 characters.
BOUNDARY_COLUMNS: dict[str, tuple[str, ...]] = {
    "commune_code": ("commune_code", "commune_co", "ma_xa", "ma_xa_phuong", "ma_xa_phuo", "maxa", "ma_dvhc",
                     "parent_code", "parent_cod"),
    "name": ("name", "hamlet_name", "hamlet_nam", "ten_thon", "ten_thon_to_dan_pho", "ten_thon_t", "tenthon", "ten"),
    "local_id": ("local_id", "hamlet_code", "hamlet_cod", "ma_thon", "mathon", "local_code"),
}


@dataclass(slots=True)
class PlannedBoundary:
    row: int  # the feature's number in the file (1-based)
    action: str  # update | unchanged
    commune_code: str
    commune_name: str
    hamlet_id: int
    name: str
    path: str
    label: str
    columns: dict  # spatial.geometry_columns
    had_geometry: bool
    repaired: bool = False


@dataclass
class BoundaryPlan:
    filename: str
    items: list[PlannedBoundary] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    notes: list[str] = field(default_factory=list)
    without: int = 0  # current hamlets of the file's communes that the file gives no boundary

    @property
    def summary(self) -> Summary:
        updated = sum(item.action == "update" for item in self.items)
        return Summary(0, updated, len(self.items) - updated, list(self.problems))

    @property
    def rows(self) -> int:
        return len(self.items)

    def changes(self, limit: int | None = None) -> list[PlannedBoundary]:
        out = [item for item in self.items if item.action != "unchanged"]
        return out[:limit] if limit is not None else out


def _column_word(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(str(name))).strip("_")


def _boundary_columns(frame) -> dict[str, str]:
    by_word = {_column_word(c): str(c) for c in frame.columns if c != frame.geometry.name}
    found = {}
    for key, words in BOUNDARY_COLUMNS.items():
        for word in words:
            if word in by_word:
                found[key] = by_word[word]
                break
    return found


def read_boundaries(path, *, layer: str | None = None):
    """A GIS file of hamlet boundaries (``importer.read_units_file``: GeoJSON, GeoPackage,
    zipped shapefile; :class:`importer.ImportFailed` with one line when it cannot be read)."""
    from .importer import read_units_file

    return read_units_file(path, layer=layer)


def plan_hamlet_boundaries(frame, *, filename: str, actor=None, within: AdminUnit | None = None,
                           on: date | None = None) -> BoundaryPlan:
    """Match every feature of ``frame`` to a current hamlet — by commune code, then the hamlet's
    local code when the file has one, else its name (``services.hamlet_key``) — and prepare its
    geometry as the units importer does (reprojected to WGS 84, repaired, polygons only). Every
    unreadable, unmatched, out-of-scope or repeated feature is a problem; nothing is written."""
    from .importer import _prepare_geometry, _wgs84
    from .spatial import geometry_columns

    on = on or today()
    problems = Problems()
    plan = BoundaryPlan(filename, problems=problems)
    if frame is None or len(frame) == 0:
        problems.add(None, None, _l("Tệp “%(f)s” không có đối tượng nào.", f=filename))
        return plan
    columns = _boundary_columns(frame)
    if "commune_code" not in columns:
        problems.add(None, None, _l("Tệp thiếu cột mã xã/phường (commune_code, ma_xa…)."))
    if "name" not in columns and "local_id" not in columns:
        problems.add(None, None, _l("Tệp thiếu cột tên thôn (name, ten_thon…) hoặc mã thôn (local_id, ma_thon…)."))
    if problems:
        return plan
    found: list[str] = []
    geoms = _wgs84(frame, found, plan.notes)
    for message in found:
        problems.add(None, None, message)
    if geoms is None:
        return plan
    raw = {key: list(frame[column]) for key, column in columns.items()}
    features = []
    for index in range(len(frame)):
        number = index + 1
        try:
            code = normalise_commune_code(_gis_value(raw["commune_code"][index]))
            if code is None:
                raise CellError(_l("Ô này không được để trống."))
        except CellError as e:
            problems.add(number, columns["commune_code"], e.message)
            code = None
        name = _gis_text(raw["name"][index]) if "name" in raw else None
        local = _gis_text(raw["local_id"][index]) if "local_id" in raw else None
        if not name and not local:
            problems.add(number, columns.get("name") or columns["local_id"], _l("Thiếu tên và mã thôn."))
        geom, geom_problem, repaired = _prepare_geometry(geoms[index])
        if geom_problem is not None:
            problems.add(number, frame.geometry.name, geom_problem)
        features.append((number, code, name, local, geom, repaired))
    current, closed = load_communes({f[1] for f in features if f[1]}, on)
    scope = Scope(actor, within)
    refused = {code: scope.refusal(c.path, _("Xã/phường mã %(code)s (%(name)s)", code=code, name=c.full_name))
               for code, c in current.items()}
    indexes = load_hamlets([c.id for code, c in current.items() if refused[code] is None])
    matched: dict[int, int] = {}
    chosen = []
    for number, code, name, local, geom, repaired in features:
        if code is None or not (name or local):  # already a problem of its row
            continue
        commune = current.get(code)
        if commune is None:
            problems.add(number, columns["commune_code"], _l("Không có xã/phường nào đang hiệu lực mang mã %(code)s.",
                                                             code=code))
            continue
        if refused[code]:
            problems.add(number, columns["commune_code"], refused[code])
            continue
        index = indexes.get(commune.id) or _Index()
        hamlet = None
        if local:
            hamlet = index.by_code.get(services.local_code_key(local))
            if hamlet is None:
                problems.add(number, columns["local_id"], _l("%(c)s không có thôn/tổ dân phố mã “%(v)s”.",
                                                             c=commune.full_name, v=local))
                continue
            if name and services.hamlet_key(name) != services.hamlet_key(hamlet.name):
                problems.add(number, columns["name"], _l("Mã thôn “%(v)s” là của “%(a)s”, không phải “%(b)s”.",
                                                         v=local, a=hamlet.name, b=name))
                continue
        else:
            named = index.by_key.get(services.hamlet_key(name), [])
            if not named:
                problems.add(number, columns["name"], _l(
                    "%(c)s không có thôn/tổ dân phố “%(v)s”: hãy nhập thôn trước (Nhập thôn/tổ dân phố từ tệp) hoặc "
                    "sửa tên.", c=commune.full_name, v=name))
                continue
            if len(named) > 1:
                problems.add(number, columns["name"], _l(
                    "%(c)s có %(n)d thôn/tổ dân phố cùng tên “%(v)s”; thêm cột mã thôn (local_id) để chọn đúng thôn.",
                    c=commune.full_name, n=len(named), v=name))
                continue
            hamlet = named[0]
        if hamlet.id in matched:
            problems.add(number, columns.get("name") or columns["local_id"], _l(
                "Đối tượng này và đối tượng ở dòng %(r)d cùng là ranh giới của “%(v)s”.", r=matched[hamlet.id],
                v=hamlet.name))
            continue
        matched[hamlet.id] = number
        if geom is not None:
            chosen.append((number, commune, hamlet, geom, repaired))
    plan.without = sum(len(hs) for c in current.values() if c.id in indexes
                       for hs in indexes[c.id].by_key.values()) - len(matched)
    if problems:
        return plan
    stored = _stored_geometries([h.id for _n, _c, h, _g, _r in chosen])
    repaired_count = 0
    for number, commune, hamlet, geom, repaired in chosen:
        values = geometry_columns(geom)
        before = stored.get(hamlet.id)
        action = "unchanged" if before == values["geom_wkb"] else "update"
        repaired_count += repaired
        plan.items.append(PlannedBoundary(number, action, commune.code, commune.full_name, hamlet.id, hamlet.name,
                                          hamlet.path, services.hamlet_full_name(hamlet.name, commune.full_name),
                                          values, before is not None, repaired))
    if repaired_count:
        plan.notes.append(_("%(n)d ranh giới không hợp lệ (tự cắt…) đã được sửa tự động.", n=repaired_count))
    if plan.without > 0:
        plan.notes.append(_("%(n)d thôn/tổ dân phố của các xã/phường trong tệp không có ranh giới trong tệp (giữ "
                            "nguyên).", n=plan.without))
    return plan


def _gis_value(value: Any) -> Any:
    from .importer import _missing

    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    return value


def _gis_text(value: Any) -> str | None:
    from .importer import _text

    return _text(_gis_value(value))


def _stored_geometries(ids: Sequence[int]) -> dict[int, bytes | None]:
    stored: dict[int, bytes | None] = {}
    for chunk in _chunks(sorted(ids)):
        for hamlet_id, wkb in db.session.execute(select(AdminUnit.id, AdminUnit.geom_wkb)
                                                 .where(AdminUnit.id.in_(chunk))):
            stored[hamlet_id] = wkb
    return stored


def apply_hamlet_boundaries(plan: BoundaryPlan, *, actor=None, filename: str | None = None) -> Summary:
    """Store the planned boundaries (full and simplified, box and centroid), each audited with
    the file's name, plus one ``unit.import`` event (none when nothing changes). Refuses a plan
    with problems; never commits."""
    summary = plan.summary
    if plan.problems:
        raise ImportRefused(list(plan.problems))
    source = filename or plan.filename
    changed = [item for item in plan.items if item.action == "update"]
    if not changed:
        return summary
    with db.session.begin_nested():
        services.set_hamlet_geometries([(i.hamlet_id, i.path, i.label, i.columns, i.had_geometry) for i in changed],
                                       actor=actor, source=source)
        record("unit.import", object_type="import", object_id=source[:60],
               label=str(_l("Nhập ranh giới thôn/tổ dân phố từ tệp %(f)s", f=source)),
               unit_path=_common_path(i.path for i in changed),
               after={"source": source, "kind": BOUNDARY_KIND, "updated": summary.updated,
                      "unchanged": summary.unchanged}, actor=actor)
        db.session.flush()
    db.session.expire_all()
    return summary


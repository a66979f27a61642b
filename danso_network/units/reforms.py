"""Administrative reforms of communes and hamlets — merge, split, rename, re-parent, create, close —
with an impact preview before anything is applied (issue #13 items 1–2; DESIGN.md §3, §5).

Each operation is a request dataclass (:class:`MergeUnits`, :class:`SplitUnit`, :class:`Rename`,
:class:`Reparent`, :class:`Create`, :class:`Close`) with an effective date and the decision that
orders it. :func:`preview` reads what it would do (an :class:`Impact`, pure read, with the
``problems`` that refuse it); :func:`apply` does it, or refuses with every problem and writes
nothing; :func:`impact_document` makes the preview a downloadable document.

Rules:

- **Nothing is deleted.** Every unit an operation changes is closed (``valid_to`` = the effective
  date: its last day is the day before, half-open like every dated record) and its successor is
  opened that day; a ``UnitChange`` row (kind, effective date, decision, sources → targets) says
  who succeeds whom, so the tree as of any earlier day is exactly what it was.
- **Codes** (QĐ 124/2004/QĐ-TTg; DESIGN.md §3): a code never changes while its unit exists; the
  unit formed by a merger keeps the code of the unit holding the new seat and the other codes are
  closed, never given again; on a split the part keeping the old seat keeps the old code; any
  other code must never have been used. Hamlets have no official code (Thông tư
  04/2012/TT-BNV): a new hamlet version keeps its local number where it is free in its commune.
- **A unit's path never changes**: assignments and applications copy their hamlet's path, and
  every scope filter is a prefix query on it. So when a commune is merged, split, renamed or moved,
  each of its current hamlets is re-versioned too — closed, and reopened under the new commune
  with its name, local number, figures and boundary (a ``reparent`` change each) — and "everything
  under the new commune" stays one prefix query, while the old communes keep their old hamlets.
- **Assignments follow their hamlet** (DESIGN.md §4 rule 5, append-only): the one in force ends
  on the effective date — "hamlet merged" for a hamlet merger; :data:`REORGANISED` for every other
  re-versioning — and one opens in the successor the same day: same collaborator, kind,
  recognition decision, allowance tier and residence exception, so the collaborator's service is
  continuous (``Collaborator.activated_on`` is untouched; no register hand-over is asked, since
  nobody leaves). Two assignments of one person that land in one hamlet (a primary and an
  additional hamlet merged) become one, the primary. An assignment that already ended after the
  effective date (a record made later) keeps that end in its successor hamlet.
- **Quotas** of each resulting hamlet are recomputed from its households (a merger adds the
  households of the merged hamlets) with the province's criteria in force on the effective date
  (``recruitment.rules.quota_for``, the bands the quota page uses), against the day before.
- **Open applications** (any state not final) move with their hamlet when its successor is
  unambiguous, with a timeline entry; on a hamlet split they go to the part named in
  :attr:`Part.applications`, else they stay and are listed as needing attention (a person applies
  for one hamlet; which part is theirs is a decision, not a guess). The candidates of moved
  assignments and applications who live in a closed hamlet are recorded as living in its
  successor (same ``resident_since``: they did not move).
- **Service areas** move: a facility serving a closed unit stops serving it that day and serves
  its successor from that day when it is the seat's facility (the station and centre of the seat
  commune serve the merged commune; a split's other parts get the centre, not the station). A
  station left serving nothing, and a new commune left without a station, are listed.
- **Grants are never moved silently.** The preview lists every grant whose reach changes: grants
  at a closed unit (with the successor proposed), grants at a facility left serving nothing (with
  the seat's facility proposed), and grants at facilities whose area follows the reform.
  :func:`apply` ends the old grants and grants the proposals only with ``move_grants=True``;
  otherwise access through a closed unit simply ends on the effective date, as the preview said.
- Only a province admin covering every affected unit may apply (:func:`can_reform`). Every write
  is audited (``audit.services.record``); :func:`apply` flushes, never commits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..audit.services import SYSTEM_ACTOR, record
from ..auth import services as auth_services
from ..auth.labels import role_label
from ..auth.models import Role, RoleGrant
from ..auth.permissions import scope_of
from ..collaborators.labels import FLAG_LABELS, end_reason_label, kind_label
from ..collaborators.models import Assignment, AssignmentKind, EndReason, RegisterHandover, Suspension
from ..collaborators.services import open_on, quota_flag
from ..common.clock import now, today
from ..common.dates import check_effective_date
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..extensions import db
from ..facilities.services import last_change
from ..recruitment.labels import STATE_LABELS
from ..recruitment.models import Application, ApplicationEvent, Candidate
from ..recruitment.rules import quota_for
from ..recruitment.services import bands_in_force
from ..recruitment.workflow import FINAL_STATES
from ..textnorm import clean_text, fold, has_meaning, is_ascii_digits
from . import services as unit_services
from .labels import facility_kind_label, level_label, type_label
from .models import (
    HAMLET_TYPES_UNDER,
    LEVEL_TYPES,
    AdminUnit,
    Facility,
    FacilityKind,
    ServiceArea,
    UnitChange,
    UnitChangeKind,
    UnitLevel,
    UnitType,
)

# The end reason of an assignment moved by a reorganisation other than a hamlet merger (a split,
# a rename, a move, the hamlet's commune merged).
REORGANISED = EndReason.UNIT_REORGANISED

# The timeline entry written on an application moved to its hamlet's successor.
APPLICATION_EVENT = "unit_reform"

CHANGE_KIND_LABELS = {
    UnitChangeKind.MERGE: _l("Sáp nhập"),
    UnitChangeKind.SPLIT: _l("Chia tách"),
    UnitChangeKind.RENAME: _l("Đổi tên"),
    UnitChangeKind.REPARENT: _l("Chuyển đơn vị cấp trên"),
    UnitChangeKind.CREATE: _l("Thành lập"),
    UnitChangeKind.CLOSE: _l("Giải thể"),
}

GRANT_CHANGE_LABELS = {
    "moves": _l("Đơn vị đóng — đề xuất cấp lại tại đơn vị kế thừa"),
    "ends": _l("Đơn vị đóng, không có đơn vị kế thừa — quyền kết thúc"),
    "loses": _l("Cơ sở không còn vùng phục vụ — đề xuất cấp lại"),
    "follows": _l("Phạm vi thay đổi theo vùng phục vụ của cơ sở"),
}

# For the audit screen (the integrator merges them into audit.labels.ACTION_LABELS).
CONCURRENT_CHANGE = _l("Các đơn vị này vừa được người khác thay đổi; không có gì được ghi. Vui lòng xem lại bản xem "
                       "trước rồi thực hiện lại.")
DECISION_MAX = 200  # AdminUnit.decision_ref / UnitChange.decision_ref
COMMUNE_CODE = re.compile(r"^\d{5}$")  # QĐ 124/2004/QĐ-TTg, QĐ 19/2025/QĐ-TTg: five digits
_PARENT_LEVELS = {UnitLevel.COMMUNE: {UnitLevel.PROVINCE, UnitLevel.DISTRICT}, UnitLevel.HAMLET: {UnitLevel.COMMUNE}}
_REFORMABLE = (UnitLevel.COMMUNE, UnitLevel.HAMLET)
_COPIED = ("households", "population", "is_difficult", "is_ethnic_minority", "is_synthetic", "area_km2", "note",
           "geom_wkb", "geom_simplified_wkb", "geom_simplified_geojson", "bbox_minx", "bbox_miny", "bbox_maxx",
           "bbox_maxy", "centroid_lon", "centroid_lat")


# --- the operations ---------------------------------------------------------------------------------


@dataclass
class MergeUnits:
    """N communes (or N hamlets of one commune) become one from ``effective_on``. A commune merger
    needs ``target_code``: the seat's code (``seat_source``, or the source holding that code) or a
    code never used. ``hamlet_names`` / ``hamlet_types`` (hamlet id → value) rename or retype
    hamlets of merged communes whose name would repeat or whose type does not suit the new
    commune (Thông tư 04/2012/TT-BNV). A hamlet merger adds up the households unless
    ``households`` is given."""

    kind: ClassVar[UnitChangeKind] = UnitChangeKind.MERGE
    sources: Sequence[AdminUnit]
    target_name: str
    effective_on: date
    decision_ref: str
    target_code: str | None = None
    target_full_name: str | None = None
    type: str | None = None
    seat_source: AdminUnit | None = None
    target_parent: AdminUnit | None = None
    households: int | None = None
    population: int | None = None
    hamlet_names: Mapping[int, str] = field(default_factory=dict)
    hamlet_types: Mapping[int, str] = field(default_factory=dict)
    note: str | None = None


@dataclass
class Part:
    """One unit a split makes. A commune part has a ``code`` (the old one for the part keeping the
    old seat, else a code never used) and the ``hamlets`` going to it; a hamlet part has the
    ``assignments`` going to it (every assignment in force must go to one part), optionally the
    open ``applications``, and its ``households``."""

    name: str
    code: str | None = None
    full_name: str | None = None
    type: str | None = None
    hamlets: Sequence[AdminUnit] = ()
    assignments: Sequence[Assignment] = ()
    applications: Sequence[Application] = ()
    households: int | None = None
    population: int | None = None


@dataclass
class SplitUnit:
    kind: ClassVar[UnitChangeKind] = UnitChangeKind.SPLIT
    source: AdminUnit
    parts: Sequence[Part]
    effective_on: date
    decision_ref: str
    hamlet_names: Mapping[int, str] = field(default_factory=dict)
    hamlet_types: Mapping[int, str] = field(default_factory=dict)
    note: str | None = None


@dataclass
class Rename:
    """A new name (and optionally a new type, e.g. a xã becoming a phường) from ``effective_on``;
    a commune keeps its code."""

    kind: ClassVar[UnitChangeKind] = UnitChangeKind.RENAME
    unit: AdminUnit
    name: str
    effective_on: date
    decision_ref: str
    full_name: str | None = None
    type: str | None = None
    hamlet_names: Mapping[int, str] = field(default_factory=dict)
    hamlet_types: Mapping[int, str] = field(default_factory=dict)
    note: str | None = None


@dataclass
class Reparent:
    """A hamlet moves to another commune (or a commune to another province or district) from
    ``effective_on``, optionally under a new name or type; a commune keeps its code."""

    kind: ClassVar[UnitChangeKind] = UnitChangeKind.REPARENT
    unit: AdminUnit
    new_parent: AdminUnit
    effective_on: date
    decision_ref: str
    name: str | None = None
    type: str | None = None
    hamlet_names: Mapping[int, str] = field(default_factory=dict)
    hamlet_types: Mapping[int, str] = field(default_factory=dict)
    note: str | None = None


@dataclass
class Create:
    kind: ClassVar[UnitChangeKind] = UnitChangeKind.CREATE
    level: UnitLevel
    parent: AdminUnit
    name: str
    type: str
    effective_on: date
    decision_ref: str
    code: str | None = None
    full_name: str | None = None
    households: int | None = None
    population: int | None = None
    is_difficult: bool = False
    is_ethnic_minority: bool = False
    note: str | None = None


@dataclass
class Close:
    """A unit ends (giải thể) from ``effective_on``, with no successor: refused while units below
    it or assignments in it are still in force after that day."""

    kind: ClassVar[UnitChangeKind] = UnitChangeKind.CLOSE
    unit: AdminUnit
    effective_on: date
    decision_ref: str
    note: str | None = None


Operation = MergeUnits | SplitUnit | Rename | Reparent | Create | Close


# --- the impact -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Why an operation is refused: the item at fault (a unit, a person, a code) and the reason."""

    item: str
    message: str

    def __str__(self) -> str:
        return f"{self.item}: {self.message}" if self.item else self.message


@dataclass(frozen=True)
class UnitRow:
    action: str  # "close" | "open"
    level: str
    code: str  # the official code, or a hamlet's local number
    full_name: str
    parent: str
    valid_from: date
    valid_to: date | None  # the day it no longer holds (half-open, as AdminUnit.valid_to)
    unit_id: int | None  # the unit closed; None for one to open
    note: str = ""


@dataclass(frozen=True)
class AssignmentRow:
    collaborator_id: int
    collaborator: str
    assignment_id: int
    kind: str
    from_hamlet: str
    to_hamlet: str | None  # None: ends without a successor (merged into the person's primary one)
    started_on: date
    end_reason: str
    note: str = ""


@dataclass(frozen=True)
class QuotaRow:
    hamlet: str  # the resulting hamlet
    sources: str  # the hamlets it comes from
    households_before: int | None
    households_after: int | None
    quota_before: int | None  # None: no criteria in force the day before
    quota_after: int | None  # None: no criteria in force on the effective date
    active: int
    suspended: int
    flag: str  # "under" | "over" | "ok" | "unknown" (collaborators.services.quota_flag)


@dataclass(frozen=True)
class ApplicationRow:
    application_id: int
    candidate: str
    state: str
    from_hamlet: str
    to_hamlet: str | None  # None: stays, needs attention


@dataclass(frozen=True)
class GrantRow:
    grant_id: int
    username: str
    full_name: str
    role: str
    place: str  # the unit or facility the grant is held at
    change: str  # "moves" | "ends" | "loses" | "follows" (GRANT_CHANGE_LABELS)
    proposal: str | None  # where the grant would be held after (move_grants=True)


@dataclass(frozen=True)
class AreaRow:
    facility_id: int
    facility: str
    kind: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass
class Impact:
    """What an operation would change, as plain values (for a page, the CLI's dry run and
    :func:`impact_document`). ``problems`` non-empty: it would be refused."""

    kind: UnitChangeKind
    summary: str
    effective_on: date
    decision_ref: str
    units: list[UnitRow] = field(default_factory=list)
    assignments: list[AssignmentRow] = field(default_factory=list)
    quotas: list[QuotaRow] = field(default_factory=list)
    applications: list[ApplicationRow] = field(default_factory=list)
    grants: list[GrantRow] = field(default_factory=list)
    service_areas: list[AreaRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def collaborators(self) -> int:
        return len({a.collaborator_id for a in self.assignments})

    @property
    def off_quota(self) -> list[QuotaRow]:
        """The resulting hamlets over or under their quota."""
        return [q for q in self.quotas if q.flag in ("under", "over")]

    @property
    def unresolved_applications(self) -> list[ApplicationRow]:
        return [a for a in self.applications if a.to_hamlet is None]


@dataclass
class ApplyResult:
    changes: list[UnitChange]
    opened: list[AdminUnit]
    closed: list[AdminUnit]
    assignments: list[Assignment]  # the assignments opened in the successors
    applications: int  # applications moved
    grants: list[RoleGrant]  # grants made (move_grants=True)
    impact: Impact


# --- planning (pure read) ---------------------------------------------------------------------------


@dataclass(eq=False)
class _New:
    """A unit version the operation opens (``unit`` once applied)."""

    level: UnitLevel
    name: str
    full_name: str
    type: str
    parent: AdminUnit | _New
    code: str | None = None
    local_id: str | None = None
    keeps_code_of: AdminUnit | None = None
    predecessors: list[AdminUnit] = field(default_factory=list)
    seat: AdminUnit | None = None  # the predecessor whose seat (and station) it keeps
    attrs: dict = field(default_factory=dict)
    unit: AdminUnit | None = None

    @property
    def display_code(self) -> str:
        return self.code or self.local_id or ""

    @property
    def parent_unit(self) -> AdminUnit:
        return self.parent.unit if isinstance(self.parent, _New) else self.parent

    def province_id(self) -> int:
        parent = self.parent
        while isinstance(parent, _New):
            parent = parent.parent
        return unit_services.province_id_of(parent.path)


@dataclass(eq=False)
class _Move:
    assignment: Assignment
    source: AdminUnit
    target: _New | None
    reason: EndReason
    note: str = ""


@dataclass(eq=False)
class _AreaChange:
    facility: Facility
    before: list[AdminUnit]
    ends: list[ServiceArea]
    gains: list[_New]
    station_unit: _New | None  # the unit a station comes to sit at

    @property
    def after_labels(self) -> list[str]:
        ended = {a.unit_id for a in self.ends}
        return [u.full_name for u in self.before if u.id not in ended] + [n.full_name for n in self.gains]


@dataclass(eq=False)
class _GrantChange:
    grant: RoleGrant
    change: str
    unit_target: _New | None = None
    facility_target: Facility | None = None

    @property
    def proposal(self) -> str | None:
        if self.unit_target is not None:
            return self.unit_target.full_name
        return self.facility_target.name if self.facility_target is not None else None


@dataclass(eq=False)
class _Change:
    kind: UnitChangeKind
    sources: list[AdminUnit]
    targets: list[_New]
    note: str | None


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _key(name: str) -> str:
    """Names compared as :func:`units.services.create_hamlet` does: NFC, case ignored."""
    return unicodedata.normalize("NFC", name or "").casefold()


def _full_name(level: UnitLevel, name: str, unit_type: str, parent: AdminUnit | _New) -> str:
    if level == UnitLevel.HAMLET:
        return f"{name}, {parent.full_name}"  # as units.services.create_hamlet writes it
    return f"{type_label(unit_type)} {name}"


def _copy(unit: AdminUnit) -> dict:
    return {k: getattr(unit, k) for k in _COPIED}


def _sum(values: Iterable[int | float | None]):
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _union_geometry(units: Sequence[AdminUnit]) -> dict:
    """The boundary of merged units: the union of theirs, when every one has one."""
    if not units or any(u.geom_wkb is None for u in units):
        return {}
    import shapely

    from . import spatial

    return spatial.geometry_columns(spatial.repair(shapely.union_all([spatial.from_wkb(u.geom_wkb) for u in units])))


class _Planner:
    """Works out an operation: what closes, what opens, what follows, and every problem. Reads
    only; :func:`apply` carries out a plan without problems."""

    def __init__(self, op: Operation):
        self.op = op
        self.on: date = op.effective_on
        self.decision_ref = clean_text(op.decision_ref or "")
        self.note = clean_text(op.note or "") or None
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.opens: list[_New] = []
        self.closing: dict[int, AdminUnit] = {}
        self.successors: dict[int, list[_New]] = {}
        self.changes: list[_Change] = []
        self.moves: list[_Move] = []
        self.applications: list[tuple[Application, _New | None, AdminUnit]] = []
        self.residences: list[tuple[Candidate, _New]] = []
        self.areas: list[_AreaChange] = []
        self.grants: list[_GrantChange] = []
        self._planned: dict[tuple[str, int], list[_New]] = {}
        self._hamlet_names: Mapping[int, str] = getattr(op, "hamlet_names", None) or {}
        self._hamlet_types: Mapping[int, str] = getattr(op, "hamlet_types", None) or {}

    # -- helpers ----------------------------------------------------------------------------------

    def problem(self, item: str, message) -> None:
        self.problems.append(Problem(item or "", str(message)))

    def build(self) -> _Planner:
        self._check_common()
        if self.on is None:
            return self
        handler = {MergeUnits: self._merge, SplitUnit: self._split, Rename: self._rename, Reparent: self._reparent,
                   Create: self._create, Close: self._close}[type(self.op)]
        handler()
        self._dedupe_moves()
        self._plan_residences()
        self._plan_areas()
        self._plan_grants()
        self._plan_attention()
        return self

    def _check_common(self) -> None:
        if self.on is None:
            self.problem(_("Ngày hiệu lực"), _("Vui lòng nhập ngày hiệu lực."))
        else:
            try:  # not decades ahead; how early is bounded by the units themselves (their valid_from)
                check_effective_date(self.on, field="effective_on", earliest=date.min)
            except ValidationFailed as refused:
                self.problem(_("Ngày hiệu lực"), refused.message)
        if not has_meaning(self.decision_ref):
            self.problem(_("Quyết định"), _("Vui lòng ghi số, ký hiệu của văn bản quyết định việc sắp xếp."))
        elif len(self.decision_ref) > DECISION_MAX:
            self.problem(_("Quyết định"), _("Số, ký hiệu văn bản dài quá %(n)d ký tự.", n=DECISION_MAX))

    def _check_source(self, unit: AdminUnit) -> bool:
        """A unit this operation closes: a commune or hamlet, in force, begun before the date."""
        if unit.level not in _REFORMABLE:
            self.problem(unit.full_name, _("Chỉ sắp xếp được xã/phường/đặc khu và thôn/tổ dân phố."))
            return False
        if unit.valid_to is not None:
            self.problem(unit.full_name, _("Đã hết hiệu lực từ ngày %(d)s.", d=_d(unit.valid_to)))
            return False
        if self.on is not None and self.on <= unit.valid_from:
            self.problem(unit.full_name, _("Ngày hiệu lực %(d)s phải sau ngày đơn vị bắt đầu hiệu lực (%(s)s).",
                                           d=_d(self.on), s=_d(unit.valid_from)))
            return False
        return True

    def _check_parent(self, level: UnitLevel, parent: AdminUnit | None, item: str) -> bool:
        if parent is None or parent.level not in _PARENT_LEVELS[level]:
            self.problem(item, _("%(p)s không thể là đơn vị cấp trên của %(l)s.",
                                 p=parent.full_name if parent is not None else "—", l=level_label(level).lower()))
            return False
        if self.on is not None and (not parent.valid_on(self.on) or parent.id in self.closing):
            self.problem(item, _("Đơn vị cấp trên %(p)s không có hiệu lực vào ngày %(d)s.", p=parent.full_name,
                                 d=_d(self.on)))
            return False
        return True

    def _check_code(self, code: str | None, item: str, *, line: Sequence[AdminUnit] = (),
                    seat: AdminUnit | None = None) -> tuple[bool, AdminUnit | None]:
        """A commune code for a new unit: five digits, and either the code of a unit in ``line``
        (the sources it succeeds: only the seat's, QĐ 124/2004/QĐ-TTg) or a code never used —
        neither held by another unit in force nor closed. Returns (acceptable, the unit whose
        code it keeps)."""
        code = (code or "").strip()
        if not code:
            self.problem(item, _("Vui lòng nhập mã của đơn vị mới."))
            return False, None
        if not COMMUNE_CODE.match(code):
            self.problem(item, _("Mã %(code)s không hợp lệ: mã xã/phường/đặc khu gồm đúng 5 chữ số.", code=code))
            return False, None
        same = [u for u in line if u.code == code]
        if same:
            holder = same[0]
            if seat is not None and holder.id != seat.id:
                self.problem(item, _("Mã %(code)s là mã của %(u)s, không phải đơn vị đặt trụ sở (%(s)s): theo QĐ "
                                     "124/2004/QĐ-TTg, đơn vị sau sáp nhập giữ mã của đơn vị nơi đặt trụ sở mới; mã "
                                     "của các đơn vị khác bị đóng.", code=code, u=holder.full_name, s=seat.full_name))
                return False, None
            return True, holder
        line_ids = {u.id for u in line}
        holders = [u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.code == code)
                                                 .order_by(AdminUnit.valid_from, AdminUnit.id))
                   if u.id not in line_ids]
        live = [u for u in holders if u.valid_to is None or (self.on is not None and u.valid_to > self.on)]
        if live:
            self.problem(item, _("Mã %(code)s đang được %(u)s sử dụng.", code=code, u=live[0].full_name))
            return False, None
        if holders:
            last = holders[-1]
            self.problem(item, _("Mã %(code)s là mã của %(u)s, đã đóng từ ngày %(d)s: theo QĐ 124/2004/QĐ-TTg, mã đã "
                                 "đóng không được cấp lại cho đơn vị khác.", code=code, u=last.full_name,
                                 d=_d(last.valid_to)))
            return False, None
        return True, None

    @staticmethod
    def _pkey(parent: AdminUnit | _New) -> tuple[str, int]:
        return ("new", id(parent)) if isinstance(parent, _New) else ("unit", parent.id)

    def _current_children(self, unit: AdminUnit) -> list[AdminUnit]:
        """The units below ``unit`` still in force on or after the effective date."""
        return list(db.session.scalars(
            select(AdminUnit).where(AdminUnit.parent_id == unit.id,
                                    or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > self.on))
            .order_by(AdminUnit.code, AdminUnit.local_id, AdminUnit.name, AdminUnit.id)))

    def _name_clash(self, parent: AdminUnit | _New, name: str, exclude: Sequence[AdminUnit]) -> str | None:
        """The name of a hamlet that would be in force in ``parent`` with the same name."""
        names = [n.full_name for n in self._planned.get(self._pkey(parent), []) if n.level == UnitLevel.HAMLET
                 and _key(n.name) == _key(name)]
        if isinstance(parent, AdminUnit):
            skip = {u.id for u in exclude} | set(self.closing)
            names += [u.full_name for u in self._current_children(parent)
                      if u.id not in skip and _key(u.name) == _key(name)]
        return names[0] if names else None

    def _local_id(self, parent: AdminUnit | _New, preferred: str | None, predecessors: Sequence[AdminUnit]) -> str:
        """A hamlet's local number in ``parent``: its own where nobody else in the commune ever had
        it; else the next number (a number once given is not given again)."""
        planned = [n.local_id for n in self._planned.get(self._pkey(parent), []) if n.local_id]
        existing: list[tuple[int, str | None]] = []
        if isinstance(parent, AdminUnit):
            existing = list(db.session.execute(select(AdminUnit.id, AdminUnit.local_id)
                                               .where(AdminUnit.parent_id == parent.id)).all())
        own = {u.id for u in predecessors}
        others = set(planned) | {lid for uid, lid in existing if uid not in own and lid}
        if preferred and preferred not in others:
            return preferred
        numbers = [int(x) for x in [*planned, *(lid for _uid, lid in existing)] if is_ascii_digits(x)]
        return f"{(max(numbers) + 1) if numbers else 1:03d}"

    def new(self, level: UnitLevel, *, name: str, parent: AdminUnit | _New, type: str | None,
            full_name: str | None = None, code: str | None = None, keeps: AdminUnit | None = None,
            predecessors: Sequence[AdminUnit] = (), seat: AdminUnit | None = None, attrs: dict | None = None,
            preferred_local: str | None = None, item: str | None = None) -> _New:
        """Plan a new unit version, checking its name, type, figures and (hamlets) name in the commune."""
        name = clean_text(name or "")
        unit_type = str(type or "")
        full_name = clean_text(full_name or "") or _full_name(level, name, unit_type, parent)
        item = item or full_name
        n = _New(level=level, name=name, full_name=full_name, type=unit_type, parent=parent, code=code,
                 keeps_code_of=keeps, predecessors=list(predecessors), seat=seat, attrs=dict(attrs or {}))
        if not has_meaning(name):
            self.problem(item, _("Tên phải có chữ hoặc số."))
        self._check_type(level, unit_type, parent, item)
        for key, value in n.attrs.items():
            problem = unit_services.figure_problem(level, key, value) if key in ("households", "population",
                                                                                  "area_km2") else None
            if problem:
                self.problem(item, problem)
        if level == UnitLevel.HAMLET:
            clash = self._name_clash(parent, name, predecessors)
            if clash is not None and has_meaning(name):
                self.problem(item, _("%(c)s đã có “%(n)s”.", c=parent.full_name, n=clash))
            n.local_id = self._local_id(parent, preferred_local, predecessors)
        self._planned.setdefault(self._pkey(parent), []).append(n)
        self.opens.append(n)
        return n

    def _check_type(self, level: UnitLevel, unit_type: str, parent: AdminUnit | _New, item: str) -> None:
        try:
            t = UnitType(unit_type)
        except ValueError:
            self.problem(item, _("Loại đơn vị “%(t)s” không hợp lệ.", t=unit_type))
            return
        if t not in LEVEL_TYPES[level]:
            self.problem(item, _("Loại đơn vị “%(t)s” không thuộc cấp này.", t=type_label(t)))
        elif level == UnitLevel.HAMLET:
            try:
                allowed = HAMLET_TYPES_UNDER.get(UnitType(parent.type), frozenset())
            except ValueError:
                return  # the parent's own type is refused already
            if t not in allowed:
                self.problem(item, _("Theo Thông tư 04/2012/TT-BNV, loại “%(t)s” không được tổ chức dưới %(p)s.",
                                     t=type_label(t), p=parent.full_name))

    def close(self, unit: AdminUnit, successors: Sequence[_New] = ()) -> None:
        self.closing[unit.id] = unit
        self.successors[unit.id] = list(successors)

    def change(self, kind: UnitChangeKind, sources: Sequence[AdminUnit], targets: Sequence[_New],
               note: str | None = None, *, main: bool = True) -> None:
        """Record a change; the operation's own (``main``) comes first, before the hamlets
        re-versioned with it."""
        change = _Change(kind, list(sources), list(targets), note)
        if main:
            self.changes.insert(0, change)
        else:
            self.changes.append(change)

    def _open_assignments(self, hamlet: AdminUnit) -> list[Assignment]:
        """The hamlet's assignments in force on or after the effective date."""
        found = list(db.session.scalars(
            select(Assignment).where(Assignment.hamlet_id == hamlet.id,
                                     or_(Assignment.ended_on.is_(None), Assignment.ended_on > self.on))
            .order_by(Assignment.started_on, Assignment.id)))
        for a in found:
            if a.started_on > self.on:
                self.problem(a.collaborator.full_name, _("Phân công tại %(h)s bắt đầu ngày %(s)s, sau ngày hiệu lực "
                                                         "%(d)s.", h=hamlet.full_name, s=_d(a.started_on),
                                                         d=_d(self.on)))
        return found

    def _open_applications(self, hamlet: AdminUnit) -> list[Application]:
        final = [s.value for s in FINAL_STATES]
        return list(db.session.scalars(select(Application).where(Application.hamlet_id == hamlet.id,
                                                                 Application.state.not_in(final))
                                       .order_by(Application.id)))

    def follow(self, old: AdminUnit, target: _New, reason: EndReason) -> None:
        """The assignments and open applications of hamlet ``old`` go to ``target``."""
        for a in self._open_assignments(old):
            self.moves.append(_Move(a, old, target, reason))
        for application in self._open_applications(old):
            self.applications.append((application, target, old))

    def reversion(self, hamlet: AdminUnit, parent: _New, note: str | None) -> _New | None:
        """Re-open a hamlet under the new version of its commune (same name, number, figures)."""
        if hamlet.level != UnitLevel.HAMLET:
            self.problem(hamlet.full_name, _("Chỉ sắp xếp được xã/phường/đặc khu và thôn/tổ dân phố."))
            return None
        if self.on <= hamlet.valid_from:
            self.problem(hamlet.full_name, _("Ngày hiệu lực %(d)s phải sau ngày đơn vị bắt đầu hiệu lực (%(s)s).",
                                             d=_d(self.on), s=_d(hamlet.valid_from)))
            return None
        if hamlet.valid_to is not None:
            self.problem(hamlet.full_name, _("Đã định hết hiệu lực ngày %(d)s, sau ngày hiệu lực của việc sắp xếp: hãy "
                                             "xử lý riêng trước.", d=_d(hamlet.valid_to)))
            return None
        name = self._hamlet_names.get(hamlet.id, hamlet.name)
        new = self.new(UnitLevel.HAMLET, name=name, parent=parent, type=self._hamlet_types.get(hamlet.id, hamlet.type),
                       predecessors=[hamlet], seat=hamlet, attrs=_copy(hamlet), preferred_local=hamlet.local_id,
                       item=hamlet.full_name)
        self.close(hamlet, [new])
        self.follow(hamlet, new, REORGANISED)
        self.change(UnitChangeKind.REPARENT, [hamlet], [new], note, main=False)
        return new

    def reversion_children(self, old: AdminUnit, new: _New) -> None:
        note = _("Theo việc sắp xếp %(u)s.", u=old.full_name)
        for child in self._current_children(old):
            self.reversion(child, new, note)

    # -- the operations ---------------------------------------------------------------------------

    def _merge(self) -> None:
        op: MergeUnits = self.op
        sources = list(op.sources)
        item = self._merged_label(op, sources)
        if len({u.id for u in sources}) != len(sources):
            seen: set[int] = set()
            for u in sources:
                if u.id in seen:
                    self.problem(u.full_name, _("Được chọn hai lần."))
                seen.add(u.id)
            sources = list({u.id: u for u in sources}.values())
        if len(sources) < 2:
            self.problem(item, _("Sáp nhập cần ít nhất hai đơn vị."))
            return
        levels = {u.level for u in sources}
        if len(levels) != 1:
            self.problem(item, _("Các đơn vị sáp nhập phải cùng cấp."))
            return
        if not all([self._check_source(u) for u in sources]):
            return
        seat = op.seat_source
        if seat is not None and seat.id not in {u.id for u in sources}:
            self.problem(seat.full_name, _("Đơn vị đặt trụ sở phải là một trong các đơn vị sáp nhập."))
            return
        level = UnitLevel(sources[0].level)
        if level == UnitLevel.COMMUNE:
            ok, keeps = self._check_code(op.target_code, item, line=sources, seat=seat)
            seat = seat or keeps or sources[0]
            parent = op.target_parent or seat.parent
            if not ok or not self._check_parent(level, parent, item):
                return
            attrs = dict(households=_sum(u.households for u in sources), population=_sum(u.population for u in sources),
                         area_km2=_sum(u.area_km2 for u in sources), is_difficult=any(u.is_difficult for u in sources),
                         is_ethnic_minority=any(u.is_ethnic_minority for u in sources), note=self.note,
                         is_synthetic=any(u.is_synthetic for u in sources), **_union_geometry(sources))
            target = self.new(level, name=op.target_name, full_name=op.target_full_name, parent=parent,
                              type=op.type or seat.type, code=op.target_code.strip(), keeps=keeps,
                              predecessors=sources, seat=seat, attrs=attrs)
            ordered = [seat, *(u for u in sources if u.id != seat.id)]
            for source in ordered:
                self.close(source, [target])
            for source in ordered:
                self.reversion_children(source, target)
        else:
            seat = seat or sources[0]
            if op.target_code:
                self.problem(item, _("Thôn/tổ dân phố không có mã chính thức (Thông tư 04/2012/TT-BNV); để trống mã."))
            communes = {u.parent_id for u in sources}
            if len(communes) != 1:
                for u in sources[1:]:
                    if u.parent_id != sources[0].parent_id:
                        self.problem(u.full_name, _("Thôn/tổ dân phố sáp nhập phải cùng một xã/phường (%(c)s).",
                                                    c=sources[0].parent.full_name))
                return
            commune = sources[0].parent
            if op.target_parent is not None and op.target_parent.id != commune.id:
                self.problem(item, _("Thôn/tổ dân phố sau sáp nhập ở lại %(c)s; để chuyển sang xã khác, hãy chuyển "
                                     "đơn vị cấp trên sau khi sáp nhập.", c=commune.full_name))
                return
            if not self._check_parent(level, commune, item):
                return
            households = op.households if op.households is not None else _sum(u.households for u in sources)
            population = op.population if op.population is not None else _sum(u.population for u in sources)
            attrs = dict(households=households, population=population, area_km2=_sum(u.area_km2 for u in sources),
                         is_difficult=any(u.is_difficult for u in sources), note=self.note,
                         is_ethnic_minority=any(u.is_ethnic_minority for u in sources),
                         is_synthetic=any(u.is_synthetic for u in sources), **_union_geometry(sources))
            target = self.new(level, name=op.target_name, full_name=None, parent=commune, type=op.type or seat.type,
                              predecessors=sources, seat=seat, attrs=attrs)
            for source in sources:
                self.close(source, [target])
                self.follow(source, target, EndReason.HAMLET_MERGED)
        self.change(UnitChangeKind.MERGE, sources, [target], self.note)

    @staticmethod
    def _merged_label(op: MergeUnits, sources: Sequence[AdminUnit]) -> str:
        """How problems name the unit a merger would make: its full name as it would be written."""
        name = clean_text(op.target_name or "")
        if op.target_full_name:
            return clean_text(op.target_full_name)
        if not sources or not name or sources[0].level not in _REFORMABLE:
            return name or _("Đơn vị sau sáp nhập")
        first = op.seat_source or sources[0]
        return _full_name(UnitLevel(first.level), name, op.type or first.type, first.parent)

    def _split(self) -> None:
        op: SplitUnit = self.op
        source = op.source
        parts = list(op.parts)
        if not self._check_source(source):
            return
        if len(parts) < 2:
            self.problem(source.full_name, _("Chia tách cần ít nhất hai phần."))
            return
        if source.level == UnitLevel.HAMLET:
            self._split_hamlet(source, parts)
        else:
            self._split_commune(source, parts)

    def _split_hamlet(self, source: AdminUnit, parts: list[Part]) -> None:
        commune = source.parent
        if not self._check_parent(UnitLevel.HAMLET, commune, source.full_name):
            return
        in_force = self._open_assignments(source)
        by_id = {a.id: a for a in in_force}
        target_of: dict[int, int] = {}
        for i, part in enumerate(parts):
            for a in part.assignments:
                who = a.collaborator.full_name if a.collaborator is not None else str(a.id)
                if a.id not in by_id:
                    self.problem(who, _("Phân công này không thuộc %(h)s hoặc đã kết thúc.", h=source.full_name))
                elif a.id in target_of:
                    self.problem(who, _("Phân công tại %(h)s được phân về hai phần.", h=source.full_name))
                else:
                    target_of[a.id] = i
        for a in in_force:
            if a.id not in target_of:
                self.problem(a.collaborator.full_name, _("Phân công tại %(h)s chưa được phân về phần nào.",
                                                         h=source.full_name))
        news = []
        for i, part in enumerate(parts):
            attrs = dict(households=part.households, population=part.population, is_difficult=source.is_difficult,
                         is_ethnic_minority=source.is_ethnic_minority, note=self.note)
            if part.code:
                self.problem(part.name, _("Thôn/tổ dân phố không có mã chính thức (Thông tư 04/2012/TT-BNV); để trống mã."))
            news.append(self.new(UnitLevel.HAMLET, name=part.name, parent=commune, type=part.type or source.type,
                                 predecessors=[source], seat=source if i == 0 else None, attrs=attrs))
            if part.households is None:
                self.warnings.append(_("Chưa ghi số hộ của %(h)s: định mức CTV tạm tính ở mức thấp nhất.",
                                       h=news[-1].full_name))
        self.close(source, news)
        for a in in_force:
            if a.id in target_of:
                self.moves.append(_Move(a, source, news[target_of[a.id]], REORGANISED))
        chosen: dict[int, int] = {}
        for i, part in enumerate(parts):
            for application in part.applications:
                chosen.setdefault(application.id, i)
        for application in self._open_applications(source):
            target = news[chosen[application.id]] if application.id in chosen else None
            self.applications.append((application, target, source))
        self.change(UnitChangeKind.SPLIT, [source], news, self.note)

    def _split_commune(self, source: AdminUnit, parts: list[Part]) -> None:
        parent = source.parent
        if not self._check_parent(UnitLevel.COMMUNE, parent, source.full_name):
            return
        children = self._current_children(source)
        child_ids = {h.id for h in children}
        part_of: dict[int, int] = {}
        for i, part in enumerate(parts):
            for h in part.hamlets:
                if h.id not in child_ids:
                    self.problem(h.full_name, _("Không thuộc %(u)s (hoặc đã hết hiệu lực).", u=source.full_name))
                elif h.id in part_of:
                    self.problem(h.full_name, _("Được phân về hai phần."))
                else:
                    part_of[h.id] = i
        for h in children:
            if h.id not in part_of:
                self.problem(h.full_name, _("Chưa được phân về phần nào của việc chia tách %(u)s.", u=source.full_name))
        codes: dict[str, str] = {}
        keeps_at = None
        ok = True
        for i, part in enumerate(parts):
            label = (clean_text(part.full_name or "")
                     or (_full_name(UnitLevel.COMMUNE, clean_text(part.name), part.type or source.type, parent)
                         if has_meaning(part.name) else _("Phần %(n)d", n=i + 1)))
            code = (part.code or "").strip()
            if code and code in codes:
                self.problem(label, _("Mã %(code)s đã dùng cho %(u)s: mỗi phần một mã, chỉ phần giữ trụ sở cũ giữ mã "
                                      "%(old)s.", code=code, u=codes[code], old=source.code))
                ok = False
                continue
            codes[code] = label
            good, keeps = self._check_code(code, label, line=[source])
            ok = ok and good
            if keeps is not None:
                keeps_at = i
        if not ok:
            return
        seat_at = keeps_at if keeps_at is not None else 0
        news = []
        for i, part in enumerate(parts):
            news.append(self.new(UnitLevel.COMMUNE, name=part.name, full_name=part.full_name, parent=parent,
                                 type=part.type or source.type, code=part.code.strip(),
                                 keeps=source if i == keeps_at else None, predecessors=[source],
                                 seat=source if i == seat_at else None,
                                 attrs=dict(is_difficult=source.is_difficult, note=self.note,
                                            is_ethnic_minority=source.is_ethnic_minority)))
        self.close(source, news)
        note = _("Theo việc sắp xếp %(u)s.", u=source.full_name)
        for h in children:
            if h.id in part_of:
                self.reversion(h, news[part_of[h.id]], note)
        self.change(UnitChangeKind.SPLIT, [source], news, self.note)

    def _rename(self) -> None:
        op: Rename = self.op
        unit = op.unit
        if not self._check_source(unit):
            return
        level = UnitLevel(unit.level)
        name = clean_text(op.name or "")
        unit_type = op.type or unit.type
        parent = unit.parent
        if not self._check_parent(level, parent, unit.full_name):
            return
        full_name = clean_text(op.full_name or "") or _full_name(level, name, unit_type, parent)
        if (name, full_name, unit_type) == (unit.name, unit.full_name, unit.type):
            self.problem(unit.full_name, _("Tên và loại mới trùng với hiện tại: không có gì thay đổi."))
            return
        if level == UnitLevel.COMMUNE:
            new = self.new(level, name=name, full_name=full_name, parent=parent, type=unit_type, code=unit.code,
                           keeps=unit, predecessors=[unit], seat=unit, attrs=_copy(unit), item=unit.full_name)
            self.close(unit, [new])
            self.reversion_children(unit, new)
        else:
            new = self.new(level, name=name, parent=parent, type=unit_type, predecessors=[unit], seat=unit,
                           attrs=_copy(unit), preferred_local=unit.local_id, item=unit.full_name)
            self.close(unit, [new])
            self.follow(unit, new, REORGANISED)
        self.change(UnitChangeKind.RENAME, [unit], [new], self.note)

    def _reparent(self) -> None:
        op: Reparent = self.op
        unit, parent = op.unit, op.new_parent
        if not self._check_source(unit):
            return
        level = UnitLevel(unit.level)
        if not self._check_parent(level, parent, unit.full_name):
            return
        if parent.id == unit.parent_id:
            self.problem(unit.full_name, _("Đã thuộc %(p)s.", p=parent.full_name))
            return
        name = clean_text(op.name or "") or unit.name
        unit_type = op.type or unit.type
        if level == UnitLevel.COMMUNE:
            new = self.new(level, name=name, parent=parent, type=unit_type, code=unit.code, keeps=unit,
                           full_name=unit.full_name if name == unit.name and unit_type == unit.type else None,
                           predecessors=[unit], seat=unit, attrs=_copy(unit))
            self.close(unit, [new])
            self.reversion_children(unit, new)
        else:
            new = self.new(level, name=name, parent=parent, type=unit_type, predecessors=[unit], seat=unit,
                           attrs=_copy(unit), preferred_local=unit.local_id, item=unit.full_name)
            self.close(unit, [new])
            self.follow(unit, new, REORGANISED)
        self.change(UnitChangeKind.REPARENT, [unit], [new], self.note)

    def _create(self) -> None:
        op: Create = self.op
        level = UnitLevel(op.level)
        name = clean_text(op.name or "")
        item = (clean_text(op.full_name or "")
                or (_full_name(level, name, op.type, op.parent) if name and op.parent is not None else name)
                or _("Đơn vị mới"))
        if level not in _REFORMABLE:
            self.problem(item, _("Chỉ sắp xếp được xã/phường/đặc khu và thôn/tổ dân phố."))
            return
        if not self._check_parent(level, op.parent, item):
            return
        keeps = None
        if level == UnitLevel.COMMUNE:
            ok, keeps = self._check_code(op.code, item)
            if not ok:
                return
        elif op.code:
            self.problem(item, _("Thôn/tổ dân phố không có mã chính thức (Thông tư 04/2012/TT-BNV); để trống mã."))
        attrs = dict(households=op.households, population=op.population, is_difficult=op.is_difficult,
                     is_ethnic_minority=op.is_ethnic_minority, note=self.note)
        new = self.new(level, name=op.name, full_name=op.full_name if level == UnitLevel.COMMUNE else None,
                       parent=op.parent, type=op.type, code=(op.code or "").strip() or None, keeps=keeps, attrs=attrs)
        self.change(UnitChangeKind.CREATE, [], [new], self.note)

    def _close(self) -> None:
        op: Close = self.op
        unit = op.unit
        if not self._check_source(unit):
            return
        children = self._current_children(unit)
        if children:
            names = ", ".join(c.name for c in children[:5]) + ("…" if len(children) > 5 else "")
            self.problem(unit.full_name, _("Còn %(n)d đơn vị trực thuộc đang hiệu lực (%(names)s): hãy sáp nhập, chuyển "
                                           "hoặc đóng chúng trước.", n=len(children), names=names))
        if unit.level == UnitLevel.HAMLET:
            for a in self._open_assignments(unit):
                self.problem(a.collaborator.full_name, _("Đang phụ trách %(h)s: hãy kết thúc hoặc điều chuyển phân công "
                                                         "trước khi đóng thôn.", h=unit.full_name))
            for application in self._open_applications(unit):
                self.applications.append((application, None, unit))
        self.close(unit)
        self.change(UnitChangeKind.CLOSE, [unit], [], self.note)

    # -- what follows -----------------------------------------------------------------------------

    def _dedupe_moves(self) -> None:
        """One open assignment per person and hamlet: when two of a person's assignments land in
        the same new hamlet, the primary one (else the oldest) continues; the other just ends."""
        groups: dict[tuple[int, int], list[_Move]] = {}
        for m in self.moves:
            if m.target is not None:
                groups.setdefault((m.assignment.collaborator_id, id(m.target)), []).append(m)
        for group in groups.values():
            if len(group) < 2:
                continue
            group.sort(key=lambda m: (m.assignment.kind != AssignmentKind.PRIMARY, m.assignment.started_on,
                                      m.assignment.id))
            for m in group[1:]:
                m.note = _("Gộp vào phân công tại %(h)s.", h=m.target.full_name)
                m.target = None
                self.warnings.append(_("%(n)s phụ trách cả %(a)s và %(b)s: sau sắp xếp chỉ còn một phân công tại "
                                       "%(t)s.", n=m.assignment.collaborator.full_name, a=group[0].source.name,
                                       b=m.source.name, t=group[0].target.full_name))

    def _plan_residences(self) -> None:
        """Candidates of moved assignments and applications who live in a closed hamlet live in
        its successor: the unique one, or the one their own assignment or application goes to."""
        seen: set[int] = set()
        people = [(m.assignment.collaborator.candidate, m.source, m.target) for m in self.moves if m.target]
        people += [(application.candidate, old, target) for application, target, old in self.applications if target]
        for candidate, source, target in people:
            if candidate.id in seen or candidate.residence_hamlet_id not in self.closing:
                continue
            successors = self.successors.get(candidate.residence_hamlet_id, [])
            if len(successors) == 1:
                new_home = successors[0]
            elif source.id == candidate.residence_hamlet_id:
                new_home = target
            else:
                continue
            seen.add(candidate.id)
            self.residences.append((candidate, new_home))

    def _seat_successor(self, unit: AdminUnit) -> _New | None:
        successors = self.successors.get(unit.id, [])
        return next((n for n in successors if n.seat is unit), successors[0] if len(successors) == 1 else None)

    def _plan_areas(self) -> None:
        """Facilities serving a closed unit: it ends there that day; the successor is served from
        that day by the seat's facilities (every part of a split gets the centre, the station
        goes with the seat). A new commune no station will serve is listed."""
        if self.closing:
            self._plan_facility_areas()
        served = {id(n) for change in self.areas for n in change.gains
                  if change.facility.kind == FacilityKind.STATION}
        for n in self.opens:
            if n.level == UnitLevel.COMMUNE and id(n) not in served:
                self.warnings.append(_("%(u)s chưa có trạm y tế phục vụ: hãy tạo hoặc giao trạm sau khi sắp xếp.",
                                       u=n.full_name))

    def _plan_facility_areas(self) -> None:
        areas = list(db.session.scalars(select(ServiceArea).where(ServiceArea.unit_id.in_(list(self.closing)),
                                                                  ServiceArea.valid_to.is_(None))
                                        .order_by(ServiceArea.facility_id, ServiceArea.id)))
        by_facility: dict[int, list[ServiceArea]] = {}
        for area in areas:
            by_facility.setdefault(area.facility_id, []).append(area)
        for facility_id, lost in by_facility.items():
            facility = db.session.get(Facility, facility_id)
            if facility.valid_to is not None and facility.valid_to <= self.on:
                continue
            for area in lost:
                if area.valid_from >= self.on:
                    self.problem(facility.name, _("Phục vụ %(u)s từ ngày %(s)s, không trước ngày hiệu lực %(d)s: hãy "
                                                  "sửa vùng phục vụ trước.", u=area.unit.full_name,
                                                  s=_d(area.valid_from), d=_d(self.on)))
            latest = last_change(facility)
            if latest > self.on:
                self.problem(facility.name, _("Vùng phục vụ đã thay đổi ngày %(s)s, sau ngày hiệu lực %(d)s.",
                                              s=_d(latest), d=_d(self.on)))
            gains: list[_New] = []
            for area in lost:
                for n in self.successors.get(area.unit_id, []):
                    takes = n.seat is not None and n.seat.id == area.unit_id
                    if not takes and n.seat is None and facility.kind != FacilityKind.STATION:
                        takes = True
                    if takes and n not in gains:
                        gains.append(n)
            before = [a.unit for a in db.session.scalars(select(ServiceArea).where(
                ServiceArea.facility_id == facility.id, ServiceArea.valid_to.is_(None)).order_by(ServiceArea.id))]
            station_unit = None
            if facility.kind == FacilityKind.STATION and gains and facility.unit_id in self.closing:
                station_unit = gains[0]
            change = _AreaChange(facility, before, lost, gains, station_unit)
            self.areas.append(change)
            if not change.after_labels:
                self.warnings.append(_("%(f)s sẽ không còn phục vụ đơn vị nào từ ngày %(d)s: hãy đóng cơ sở hoặc giao "
                                       "vùng phục vụ mới.", f=facility.name, d=_d(self.on)))

    def _plan_grants(self) -> None:
        if not self.closing:
            return
        live = or_(RoleGrant.valid_to.is_(None), RoleGrant.valid_to > self.on)
        for grant in db.session.scalars(select(RoleGrant).where(RoleGrant.unit_id.in_(list(self.closing)), live)
                                        .order_by(RoleGrant.id)):
            target = self._seat_successor(grant.unit)
            self.grants.append(_GrantChange(grant, "moves" if target is not None else "ends", unit_target=target))
            self._grant_starts_late(grant)
        for change in self.areas:
            facility = change.facility
            losing = not change.after_labels
            proposal = None
            if losing:
                lost_ids = {a.unit_id for a in change.ends}
                proposal = next((other.facility for other in self.areas if other.facility.id != facility.id
                                 and other.facility.kind == facility.kind
                                 and any(any(p.id in lost_ids for p in n.predecessors) for n in other.gains)), None)
            for grant in db.session.scalars(select(RoleGrant).where(RoleGrant.facility_id == facility.id, live)
                                            .order_by(RoleGrant.id)):
                self.grants.append(_GrantChange(grant, "loses" if losing else "follows", facility_target=proposal))
                if losing:
                    self._grant_starts_late(grant)

    def _grant_starts_late(self, grant: RoleGrant) -> None:
        if grant.valid_from >= self.on:
            self.warnings.append(_("Quyền của %(u)s bắt đầu ngày %(s)s, không trước ngày hiệu lực: cần sửa quyền này "
                                   "thủ công.", u=grant.user.username, s=_d(grant.valid_from)))

    def _plan_attention(self) -> None:
        for application, target, old in self.applications:
            if target is None:
                self.warnings.append(_("Hồ sơ tuyển chọn của %(n)s tại %(h)s cần được xử lý: chưa xác định thôn/tổ dân "
                                       "phố tiếp nhận.", n=application.candidate.full_name, h=old.full_name))
        communes = [u.id for u in self.closing.values() if u.level == UnitLevel.COMMUNE]
        if communes:
            self._commune_records(communes)
        hamlets = [u.id for u in self.closing.values() if u.level == UnitLevel.HAMLET]
        if hamlets:
            for handover in db.session.scalars(select(RegisterHandover).where(
                    RegisterHandover.hamlet_id.in_(hamlets), RegisterHandover.handed_on.is_(None))):
                self.warnings.append(_("Sổ A0 của %(h)s chưa được bàn giao (yêu cầu từ ngày %(d)s).",
                                       h=handover.hamlet.full_name, d=_d(handover.requested_on)))

    def _commune_records(self, communes: list[int]) -> None:
        """Dated records of a closed commune that stay with it (history) but that someone must
        record again for its successor: the professional-direction links and the yearly targets
        still in force."""
        from ..supervision.labels import LINK_KIND_LABELS
        from ..supervision.models import ProfessionalLink
        from ..targets.models import CommuneTarget

        for link in db.session.scalars(select(ProfessionalLink).where(
                ProfessionalLink.commune_id.in_(communes),
                or_(ProfessionalLink.valid_to.is_(None), ProfessionalLink.valid_to > self.on))
                .order_by(ProfessionalLink.id)):
            self.warnings.append(_("%(u)s còn liên hệ chỉ đạo chuyên môn đang hiệu lực (%(k)s: %(n)s): hãy ghi lại cho "
                                   "đơn vị kế thừa.", u=link.commune.full_name,
                                   k=LINK_KIND_LABELS.get(link.kind, link.kind), n=link.person_name))
        for target in db.session.scalars(select(CommuneTarget).where(
                CommuneTarget.commune_id.in_(communes), CommuneTarget.valid_to.is_(None),
                CommuneTarget.year >= self.on.year).order_by(CommuneTarget.year, CommuneTarget.id)):
            commune = self.closing[target.commune_id]
            self.warnings.append(_("%(u)s có chỉ tiêu năm %(y)d: hãy giao lại chỉ tiêu cho đơn vị kế thừa.",
                                   u=commune.full_name, y=target.year))

    # -- the impact -------------------------------------------------------------------------------

    def closes_in_order(self) -> list[AdminUnit]:
        """Hamlets before their communes (a unit closes after everything below it)."""
        return sorted(self.closing.values(), key=lambda u: (-u.path.count("/"), u.id))

    def impact(self) -> Impact:
        kind = self.op.kind
        impact = Impact(kind=kind, summary=self._summary(), effective_on=self.on, decision_ref=self.decision_ref,
                        warnings=[str(w) for w in self.warnings], problems=list(self.problems))
        for unit in self.closes_in_order():
            successors = ", ".join(n.full_name for n in self.successors.get(unit.id, []))
            impact.units.append(UnitRow("close", level_label(unit.level), unit.display_code, unit.full_name,
                                        unit.parent.full_name if unit.parent else "", unit.valid_from, self.on,
                                        unit.id, _("Kế thừa: %(u)s", u=successors) if successors else ""))
        for n in self.opens:
            note = _("Giữ mã của %(u)s", u=n.keeps_code_of.full_name) if n.keeps_code_of is not None else ""
            impact.units.append(UnitRow("open", level_label(n.level), n.display_code, n.full_name,
                                        n.parent.full_name, self.on, None, None, note))
        for m in self.moves:
            a = m.assignment
            impact.assignments.append(AssignmentRow(
                a.collaborator_id, a.collaborator.full_name, a.id, kind_label(a.kind), m.source.full_name,
                m.target.full_name if m.target else None, a.started_on, end_reason_label(m.reason), str(m.note or "")))
        impact.quotas = self._quotas()
        for application, target, old in self.applications:
            impact.applications.append(ApplicationRow(
                application.id, application.candidate.full_name, str(STATE_LABELS.get(application.state,
                                                                                      application.state)),
                old.full_name, target.full_name if target else None))
        for g in self.grants:
            grant = g.grant
            place = grant.unit.full_name if grant.unit is not None else grant.facility.name
            impact.grants.append(GrantRow(grant.id, grant.user.username, grant.user.full_name, role_label(grant.role),
                                          place, g.change, g.proposal))
        for change in self.areas:
            impact.service_areas.append(AreaRow(change.facility.id, change.facility.name,
                                                facility_kind_label(change.facility.kind),
                                                tuple(u.full_name for u in change.before), tuple(change.after_labels)))
        return impact

    def _summary(self) -> str:
        op = self.op
        label = str(CHANGE_KIND_LABELS[op.kind])
        sources = [u.full_name for u in self.changes[0].sources] if self.changes else []
        targets = [n.full_name for n in self.changes[0].targets] if self.changes else []
        if sources and targets:
            text = f"{label} {', '.join(sources)} → {', '.join(targets)}"
        else:
            text = f"{label} {', '.join(sources or targets)}".strip()
        return text

    def _quotas(self) -> list[QuotaRow]:
        """Each resulting hamlet: households and quota (the province's bands in force) the day
        before, from its source hamlets, and from the effective date; the collaborators moving in."""
        hamlets = [n for n in self.opens if n.level == UnitLevel.HAMLET]
        if not hamlets:
            return []
        provinces = {n.province_id() for n in hamlets}
        before = bands_in_force(provinces, self.on - timedelta(days=1))
        after = bands_in_force(provinces, self.on)
        moving = [m for m in self.moves if m.target is not None]
        people = {m.assignment.collaborator_id for m in moving}
        suspended = set(db.session.scalars(select(Suspension.collaborator_id).where(
            Suspension.collaborator_id.in_(people), open_on(Suspension, self.on)))) if people else set()
        rows = []
        for n in hamlets:
            province = n.province_id()
            sources = [u for u in n.predecessors if u.level == UnitLevel.HAMLET]
            bands_before, bands_after = before.get(province), after.get(province)
            households_before = _sum(u.households for u in sources)
            quota_before = (sum(quota_for(u.households or 0, bands_before) for u in sources)
                            if sources and bands_before is not None else None)
            households_after = n.attrs.get("households")
            quota_after = quota_for(households_after or 0, bands_after) if bands_after is not None else None
            incoming = [m for m in moving if m.target is n]
            paused = sum(1 for m in incoming if m.assignment.collaborator_id in suspended)
            active = len(incoming) - paused
            rows.append(QuotaRow(n.full_name, ", ".join(u.full_name for u in sources), households_before,
                                 households_after, quota_before, quota_after, active, paused,
                                 quota_flag(active, quota_after)))
        return rows


# --- the public functions ---------------------------------------------------------------------------


def _affected(operation: Operation) -> list[AdminUnit]:
    """The units whose area an operation changes: where the actor must be a province admin."""
    if isinstance(operation, MergeUnits):
        return [*operation.sources, *([operation.target_parent] if operation.target_parent else [])]
    if isinstance(operation, SplitUnit | Rename | Close):
        return [operation.source if isinstance(operation, SplitUnit) else operation.unit]
    if isinstance(operation, Reparent):
        return [operation.unit, operation.new_parent]
    return [operation.parent]


def can_reform(user, operation: Operation) -> bool:
    """Reforms are decided by the province (People's Council and Committee resolutions): only a
    province admin whose area covers every unit the operation changes may record one."""
    units = [u for u in _affected(operation) if u is not None]
    scope = scope_of(user)
    return bool(units) and all(Role.PROVINCE_ADMIN in scope.roles_at(u.path) for u in units)


def preview(operation: Operation) -> Impact:
    """What ``operation`` would change — units closed and opened, assignments that move with the
    collaborators' names, quotas before and after per resulting hamlet, open applications, grants
    that must change, service areas — and the ``problems`` that refuse it. Reads only."""
    return _Planner(operation).build().impact()


def apply(operation: Operation, *, actor, move_grants: bool = False) -> ApplyResult:
    """Carry out ``operation`` (module docstring for the rules): refused with every problem of
    :func:`preview` (``ValidationFailed`` with ``problems``), or by scope (``PermissionDenied``),
    before anything is written. Order: the assignments in force end; the old units close (hamlets
    first); the new ones open (communes first); assignments reopen in the successors; open
    applications and residences move; service areas end and start; grants move when
    ``move_grants``; then one ``UnitChange`` row per change. Audited; flushes, never commits."""
    if actor is not None and not can_reform(actor, operation):
        raise PermissionDenied(_l("Chỉ quản trị cấp tỉnh của địa bàn mới được sắp xếp đơn vị hành chính; không có gì "
                                  "được thay đổi."))
    plan = _Planner(operation).build()
    impact = plan.impact()
    if impact.problems:
        messages = [str(p) for p in impact.problems]
        raise ValidationFailed(messages[0], problems=messages)
    try:
        return _carry_out(plan, impact, actor=actor, move_grants=move_grants)
    except (IntegrityError, StaleDataError):
        # The database's guards (one current holder of a code, of a local number, one open
        # assignment per person and hamlet; an application's version) catching what another
        # user wrote between the preview and the write: the same refusal, seen later.
        raise Conflict(CONCURRENT_CHANGE) from None


def _carry_out(plan: _Planner, impact: Impact, *, actor, move_grants: bool) -> ApplyResult:
    on, decision_ref = plan.on, plan.decision_ref
    actor_id = getattr(actor, "id", None)

    ends = {}
    for m in plan.moves:
        a = m.assignment
        ends[a.id] = (a.ended_on, a.end_reason, a.end_note)
        a.ended_on, a.end_reason = on, m.reason.value
        a.end_note = str(m.note) or decision_ref
    db.session.flush()

    closed = plan.closes_in_order()
    for unit in closed:
        unit_services.close_unit(unit, on=on, actor=actor)

    for n in plan.opens:
        n.unit = unit_services.create_unit(level=n.level, name=n.name, full_name=n.full_name, type=n.type,
                                           valid_from=on, parent=n.parent_unit, code=n.code, local_id=n.local_id,
                                           keeps_code_of=n.keeps_code_of, actor=actor, decision_ref=decision_ref,
                                           **n.attrs)

    opened_assignments = _reopen_assignments(plan, ends, actor_id, actor)
    moved_applications = _move_applications(plan, actor)
    _move_residences(plan, actor)
    _move_areas(plan, actor)
    new_grants = _move_grants(plan, actor) if move_grants else []

    changes = []
    for ch in plan.changes:
        change = UnitChange(kind=ch.kind.value, effective_on=on, decision_ref=decision_ref,
                            note=str(ch.note) if ch.note else None, sources=list(ch.sources),
                            targets=[n.unit for n in ch.targets])
        db.session.add(change)
        db.session.flush()
        where = (change.targets or change.sources)[0].path
        label = f"{CHANGE_KIND_LABELS[ch.kind]}: " + ", ".join(u.full_name for u in change.sources)
        if change.targets:
            label += " → " + ", ".join(u.full_name for u in change.targets)
        record("unit.change", change, label=label, unit_path=where, actor=actor,
               after={"kind": ch.kind.value, "effective_on": on, "decision_ref": decision_ref, "note": change.note,
                      "sources": [u.id for u in change.sources], "targets": [u.id for u in change.targets]})
        changes.append(change)
    db.session.flush()
    return ApplyResult(changes, [n.unit for n in plan.opens], closed, opened_assignments, moved_applications,
                       new_grants, impact)


def _reopen_assignments(plan: _Planner, ends: dict, actor_id, actor) -> list[Assignment]:
    """Each moved assignment continues in its successor from the effective date (same person,
    kind, decision, tier, exception); one audit event per collaborator."""
    opened: list[Assignment] = []
    by_person: dict[int, list[tuple[_Move, Assignment | None]]] = {}
    for m in plan.moves:
        a, new = m.assignment, None
        if m.target is not None:
            ended_on, end_reason, end_note = ends[a.id]
            hamlet = m.target.unit
            new = Assignment(collaborator=a.collaborator, hamlet_id=hamlet.id, hamlet=hamlet, hamlet_path=hamlet.path,
                             kind=a.kind, started_on=plan.on, ended_on=ended_on, end_reason=end_reason,
                             end_note=end_note, decision_id=a.decision_id, decision_ref=plan.decision_ref,
                             allowance_tier=a.allowance_tier, residence_exception=a.residence_exception,
                             created_at=now(), created_by_id=actor_id)
            db.session.add(new)
            opened.append(new)
        by_person.setdefault(a.collaborator_id, []).append((m, new))
    db.session.flush()
    for moves in by_person.values():
        collaborator = moves[0][0].assignment.collaborator
        where = next((new.hamlet_path for _m, new in moves if new is not None), moves[0][0].assignment.hamlet_path)
        record("collaborator.reform", collaborator, label=collaborator.full_name, unit_path=where, actor=actor,
               before={"assignments": [{"id": m.assignment.id, "hamlet_id": m.source.id, "hamlet": m.source.name}
                                       for m, _new in moves]},
               after={"on": plan.on, "decision_ref": plan.decision_ref,
                      "reason": moves[0][0].reason.value,
                      "assignments": [{"id": new.id, "hamlet_id": new.hamlet_id, "hamlet": new.hamlet.name}
                                      for _m, new in moves if new is not None]})
    return opened


def _move_applications(plan: _Planner, actor) -> int:
    moved = 0
    for application, target, old in plan.applications:
        if target is None:
            continue
        hamlet = target.unit
        application.hamlet_id, application.hamlet, application.hamlet_path = hamlet.id, hamlet, hamlet.path
        application.updated_at = now()
        db.session.add(ApplicationEvent(
            application=application, action=APPLICATION_EVENT, from_state=application.state,
            to_state=application.state, actor_id=getattr(actor, "id", None),
            actor_name=getattr(actor, "username", None) or SYSTEM_ACTOR, at=now(),
            comment=_("Chuyển từ %(a)s sang %(b)s theo %(d)s, hiệu lực từ ngày %(on)s.", a=old.full_name,
                      b=hamlet.full_name, d=plan.decision_ref, on=_d(plan.on))))
        record("application.reform", application, label=application.candidate.full_name, unit_path=hamlet.path,
               before={"hamlet_id": old.id, "hamlet": old.full_name}, actor=actor,
               after={"hamlet_id": hamlet.id, "hamlet": hamlet.full_name, "on": plan.on,
                      "decision_ref": plan.decision_ref})
        moved += 1
    db.session.flush()
    return moved


def _move_residences(plan: _Planner, actor) -> None:
    for candidate, target in plan.residences:
        old = candidate.residence_hamlet_id
        candidate.residence_hamlet_id, candidate.residence_hamlet = target.unit.id, target.unit
        record("candidate.reform", candidate, label=candidate.full_name, unit_path=target.unit.path, actor=actor,
               before={"residence_hamlet_id": old},
               after={"residence_hamlet_id": target.unit.id, "on": plan.on, "decision_ref": plan.decision_ref})
    db.session.flush()


def _move_areas(plan: _Planner, actor) -> None:
    for change in plan.areas:
        facility = change.facility
        before = sorted(u.code or str(u.id) for u in change.before)
        before_unit = facility.unit_id
        for area in change.ends:
            area.valid_to = plan.on
        for n in change.gains:
            db.session.add(ServiceArea(facility=facility, unit=n.unit, valid_from=plan.on))
        extra_before, extra_after = {}, {}
        if change.station_unit is not None:
            facility.unit = change.station_unit.unit
            extra_before, extra_after = {"unit_id": before_unit}, {"unit_id": facility.unit.id}
        db.session.flush()
        after = sorted(u.code or str(u.id) for u in unit_services.served_units(facility, plan.on))
        record("facility.service_area", facility, label=facility.name, unit_path=facility.unit.path, actor=actor,
               before={"serves": before, **extra_before},
               after={"serves": after, "on": plan.on, "decision_ref": plan.decision_ref, **extra_after})


def _move_grants(plan: _Planner, actor) -> list[RoleGrant]:
    """With ``move_grants``: each grant at a closed unit (or at a facility left serving nothing)
    ends on the effective date and, where the preview proposed one, the same role is granted at
    the proposal from that day, until the old grant's end."""
    made = []
    for g in plan.grants:
        grant = g.grant
        if g.change == "follows" or grant.valid_from >= plan.on:
            continue
        until = grant.valid_to
        auth_services.end_grant(grant, on=plan.on, actor=actor)
        if g.unit_target is not None or g.facility_target is not None:
            made.append(auth_services.grant_role(
                grant.user, Role(grant.role), valid_from=plan.on, valid_to=until,
                unit=g.unit_target.unit if g.unit_target is not None else None, facility=g.facility_target,
                actor=actor))
    return made


# --- the preview as a document (XLSX) -----------------------------------------------------------------


def impact_document(impact: Impact):
    """The preview as an ``exports.document.Document`` (one sheet per part of the impact), for
    ``exports.xlsx.write_xlsx``: every cell then goes through the formula-safe writer."""
    from ..exports.document import Column, Document, Kind, Sheet

    on = impact.effective_on
    actions = {"close": _("Đóng"), "open": _("Mở mới")}
    units = Sheet(_("Đơn vị"), [
        Column(_("Thay đổi"), Kind.TEXT, 10), Column(_("Cấp"), Kind.TEXT, 18), Column(_("Mã"), Kind.TEXT, 9),
        Column(_("Tên đơn vị"), Kind.TEXT, 40), Column(_("Thuộc"), Kind.TEXT, 30),
        Column(_("Hiệu lực từ"), Kind.DATE, 12), Column(_("Hết hiệu lực từ"), Kind.DATE, 12),
        Column(_("Ghi chú"), Kind.TEXT, 40)],
        [(actions[u.action], u.level, u.code, u.full_name, u.parent, u.valid_from, u.valid_to, u.note)
         for u in impact.units], empty_text=_("Không có đơn vị nào thay đổi."))
    assignments = Sheet(_("Phân công CTV"), [
        Column(_("Cộng tác viên"), Kind.TEXT, 28), Column(_("Loại phân công"), Kind.TEXT, 14),
        Column(_("Từ thôn/tổ dân phố"), Kind.TEXT, 36), Column(_("Sang thôn/tổ dân phố"), Kind.TEXT, 36),
        Column(_("Phụ trách từ"), Kind.DATE, 12), Column(_("Lý do kết thúc phân công cũ"), Kind.TEXT, 24),
        Column(_("Ghi chú"), Kind.TEXT, 30)],
        [(a.collaborator, a.kind, a.from_hamlet, a.to_hamlet or _("Không tiếp tục"), a.started_on, a.end_reason,
          a.note) for a in impact.assignments], empty_text=_("Không có phân công nào phải chuyển."))
    quotas = Sheet(_("Định mức CTV"), [
        Column(_("Thôn/tổ dân phố sau sắp xếp"), Kind.TEXT, 36), Column(_("Hình thành từ"), Kind.TEXT, 40),
        Column(_("Số hộ trước"), Kind.INT, 11), Column(_("Số hộ sau"), Kind.INT, 11),
        Column(_("Định mức trước"), Kind.INT, 11), Column(_("Định mức sau"), Kind.INT, 11),
        Column(_("CTV hoạt động"), Kind.INT, 11), Column(_("Tạm đình chỉ"), Kind.INT, 11),
        Column(_("Tình trạng"), Kind.TEXT, 22)],
        [(q.hamlet, q.sources, q.households_before, q.households_after, q.quota_before, q.quota_after, q.active,
          q.suspended, str(FLAG_LABELS[q.flag])) for q in impact.quotas],
        empty_text=_("Không có thôn/tổ dân phố nào được tạo."), totals_label=None)
    applications = Sheet(_("Hồ sơ tuyển chọn"), [
        Column(_("Ứng viên"), Kind.TEXT, 28), Column(_("Trạng thái"), Kind.TEXT, 20),
        Column(_("Thôn/tổ dân phố hiện tại"), Kind.TEXT, 36), Column(_("Chuyển sang"), Kind.TEXT, 36)],
        [(a.candidate, a.state, a.from_hamlet, a.to_hamlet or _("Cần xử lý")) for a in impact.applications],
        empty_text=_("Không có hồ sơ đang xử lý."))
    grants = Sheet(_("Quyền tài khoản"), [
        Column(_("Tài khoản"), Kind.TEXT, 16), Column(_("Họ tên"), Kind.TEXT, 24), Column(_("Vai trò"), Kind.TEXT, 26),
        Column(_("Cấp tại"), Kind.TEXT, 32), Column(_("Thay đổi"), Kind.TEXT, 40), Column(_("Đề xuất"), Kind.TEXT, 32)],
        [(g.username, g.full_name, g.role, g.place, str(GRANT_CHANGE_LABELS[g.change]), g.proposal or "")
         for g in impact.grants], empty_text=_("Không có quyền nào thay đổi."))
    areas = Sheet(_("Vùng phục vụ"), [
        Column(_("Cơ sở y tế"), Kind.TEXT, 32), Column(_("Loại"), Kind.TEXT, 20),
        Column(_("Phục vụ trước"), Kind.TEXT, 50), Column(_("Phục vụ sau"), Kind.TEXT, 50)],
        [(a.facility, a.kind, "; ".join(a.before), "; ".join(a.after) or _("Không còn đơn vị nào"))
         for a in impact.service_areas], empty_text=_("Không có vùng phục vụ nào thay đổi."))
    attention = Sheet(_("Cần lưu ý"), [Column(_("Mức"), Kind.TEXT, 12), Column(_("Mục"), Kind.TEXT, 32),
                                       Column(_("Nội dung"), Kind.TEXT, 90)],
                      [*((_("Không thực hiện được"), p.item, p.message) for p in impact.problems),
                       *((_("Lưu ý"), "", w) for w in impact.warnings)], empty_text=_("Không có."))
    lines = [impact.summary,
             _("Hiệu lực từ ngày %(d)s — %(r)s", d=_d(on), r=impact.decision_ref) if on else impact.decision_ref,
             _("%(u)d đơn vị thay đổi, %(c)d cộng tác viên chuyển phân công, %(q)d thôn/tổ dân phố lệch định mức, "
               "%(a)d hồ sơ đang xử lý, %(g)d quyền tài khoản thay đổi.", u=len(impact.units), c=impact.collaborators,
               q=len(impact.off_quota), a=len(impact.applications), g=len(impact.grants))]
    if impact.problems:
        lines.append(_("Chưa thực hiện được: %(n)d vấn đề (trang “Cần lưu ý”).", n=len(impact.problems)))
    slug = re.sub(r"[^a-z0-9]+", "-", fold(impact.summary)).strip("-")[:50] or "sap-xep"
    return Document(title=_("Tác động của việc sắp xếp đơn vị hành chính"), lines=lines,
                    sheets=[units, assignments, quotas, applications, grants, areas, attention],
                    filename=f"tac-dong-sap-xep-{slug}-{on.isoformat() if on else today().isoformat()}",
                    made_on=today())

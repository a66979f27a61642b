"""The collaborators of a province brought in from its own spreadsheet, and the roster export
read back (issue #12 item 3): ``danso roster import FILE`` and the import page.

**The file.** One row per collaborator and hamlet served — the layout of the roster export
(``exports.services.roster_columns``: same headers, its title block above the header row, its
notes under the table, a second sheet) and of the template (``roster_template``), or any sheet
whose headers name the columns of :data:`FIELDS` (matched without case or diacritics;
``imports.reading``). Columns the export computes — STT, year of birth, tenure, status, notes,
reason for leaving (:data:`READ_ONLY`) — are read by nothing.

**The person is the CCCD** (12 digits, ``recruitment.services.check_national_id``): a CCCD not in
the database is a new collaborator; one of a collaborator in the user's area is that person
(an update, never a duplicate). Refused: the same CCCD twice in the file (except the rows of one
person's additional hamlets, as the export writes them), a CCCD recorded for someone of another
name, for someone outside the user's area, for a candidate still in selection, or for someone who
has left. A CCCD hidden as "(ẩn)" (an export made by someone who may not see it) names nobody:
the row is refused with the reason. Excel's number for a CCCD (its leading 0 dropped) is read back
with its zeros — every CCCD begins with 0 (province codes 001–096).

**The hamlet** by "Mã thôn" (``<commune code>-<hamlet code>`` as the template lists it, or the
hamlet's own code with "Mã xã/phường"), else by its name within the commune named by code or name
("Ấp 3" = "ấp 3" = "AP 3" = "3" when that is unique, ``textnorm.fold``). It must be in force today
and lie in the user's assignment scope (``permissions.ASSIGNMENT_ROLES``: station head, centre
officer, province admin; the CLI without ``--user`` is the administrator, everywhere).

**A new collaborator** — someone appointed before the app, on paper — needs the name, date of
birth, sex, education, the hamlet and the day they began serving it; they are written "from
paper" as the demo writes its pre-app people (``services.record_from_paper``). No recruitment
criteria are checked: they were recognised by a decision, and the criteria in force today may
postdate it. Only what a record must be is checked: the start not before the hamlet exists in the
application (its ``valid_from``), not after today; a birth date before today, an age of at most
100 today and at least :data:`MIN_AGE_AT_START` on the start date (the Labour Code's minimum
working age, Bộ luật Lao động 2019 Điều 3: a plausibility check, TT 02/2021 sets no age); a
contract not signed after the start (as activation requires); an additional hamlet only where the
province's network policy allows one on its start date (``add_hamlet``'s rule), not before the
primary one. A hamlet the import takes over its quota is a warning shown with the dry run, not a
refusal: the paper network is what it is (the quota list then flags the hamlet "over").

**An existing collaborator** is updated where the file says something else: date of birth, sex,
phone, ethnicity, education, "kiêm y tế thôn bản" (the candidate); the decision number of an
assignment and the contract's number and date when none was recorded, or when the record came
from paper (a correction of what was typed); a new additional hamlet (``add_hamlet``); "kiêm
công tác gia đình và trẻ em" started or ended today (``start_duty`` / ``end_duty``: the file
says who holds it now, not since when). An empty cell keeps what is stored (a file never erases
by omission), except the yes/no columns, where empty is "no" as the export writes it. History is
not rewritten: a different start date, a primary hamlet elsewhere (a transfer: the transfer page
asks for the decision and the residence) or someone who left are refused with what to do instead.
Rows of the export of people who left ("Nghỉ từ") are unchanged when they match the record and
refused otherwise: leaving is recorded on the profile page.

**Validate everything, then write all or nothing** (``imports.problems``): the plan reads every
row and the database (set-based: the hamlets of the communes the file names, the people by CCCD,
a few hundred per query; never a query per row) and writes nothing; the apply refuses a plan with
problems and writes in the caller's transaction, which commits once. Every change is audited with
the file's name (``collaborator.from_paper`` for a person created, ``collaborator.import`` for an
update, beside the events of the services it calls). Re-importing the same file, or an exported
roster, changes nothing.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..audit.services import record
from ..auth.permissions import scope_of
from ..auth.personal_data import HIDDEN_TEXT
from ..common.clock import today
from ..errors import DomainError
from ..exports.writer import FORMULA_TRIGGERS
from ..extensions import db
from ..imports import cells
from ..imports.cells import CellError
from ..imports.problems import ImportRefused, Problem, Problems, Summary
from ..imports.reading import Field, Row, Table
from ..recruitment import rules
from ..recruitment.labels import EDUCATION_LABELS, SEX_LABELS
from ..recruitment.models import Application, Candidate, Education, Sex
from ..recruitment.services import bands_in_force, check_national_id
from ..textnorm import fold, is_ascii_digits
from ..units.labels import TYPE_LABELS
from ..units.models import LEVEL_TYPES, AdminUnit, UnitLevel
from ..units.services import valid_on
from . import services
from .labels import KIND_LABELS
from .models import Assignment, AssignmentKind, Collaborator, CollaboratorDuty, DutyKind, Suspension
from .permissions import ASSIGNMENT_ROLES
from .policy import policies_for, province_id_of

MIN_AGE_AT_START = 15  # Bộ luật Lao động 2019, Điều 3: a plausibility floor, not a criterion
MAX_AGE = 100  # as recruitment.services.create_application
CHUNK = 500  # values per IN (…) list
PROGRESS_EVERY = 500  # rows between two progress reports
PAPER_ACTION = "collaborator.from_paper"
UPDATE_ACTION = "collaborator.import"
# For the audit screen's labels (the integrator merges them into audit.labels.ACTION_LABELS).
AUDIT_ACTION_LABELS = {
    PAPER_ACTION: _l("Nhập CTV từ sổ sách giấy (tệp danh sách)"),
    UPDATE_ACTION: _l("Cập nhật CTV từ tệp danh sách"),
}

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


def _field(key: str, label, *aliases: str, required: bool = False) -> Field:
    """A column: its header (``label``, a lazy Vietnamese string, shown in the reader's language),
    also matched as its Vietnamese original whatever the language (an export made in English
    reads in Vietnamese and back), and other names offices use."""
    original = getattr(label, "_args", (str(label),))[0]  # the msgid of a flask_babel LazyString
    return Field(key, label, aliases=(original, *aliases), required=required)


# The headers are the roster export's (exports.services.roster_columns) and the template's.
FIELDS = [
    _field("full_name", _l("Họ và tên"), "Họ tên", "Tên CTV", "Họ và tên CTV", required=True),
    _field("date_of_birth", _l("Ngày sinh"), "Ngày tháng năm sinh", "Ngày, tháng, năm sinh"),
    _field("sex", _l("Giới tính"), "Nam/Nữ", "Giới"),
    _field("national_id", _l("Số CCCD"), "CCCD", "Số căn cước", "Số căn cước công dân", "Số định danh cá nhân",
           "Số CMND/CCCD", "Mã định danh", required=True),
    _field("phone", _l("Điện thoại"), "Số điện thoại", "SĐT", "Điện thoại liên hệ"),
    _field("ethnicity", _l("Dân tộc")),
    _field("education", _l("Trình độ học vấn"), "Học vấn", "Trình độ văn hoá", "Trình độ văn hóa"),
    _field("hamlet_code", _l("Mã thôn"), "Mã thôn/tổ dân phố", "Mã ấp"),
    _field("commune_code", _l("Mã xã/phường"), "Mã xã", "Mã phường"),
    _field("hamlet", _l("Thôn/tổ dân phố"), "Thôn", "Ấp", "Thôn/ấp", "Tổ dân phố", "Khu phố", "Thôn, ấp, tổ dân phố",
           "Thôn/ấp/tổ dân phố"),
    _field("commune", _l("Xã/phường"), "Xã", "Phường", "Xã/phường/đặc khu"),
    _field("kind", _l("Loại phân công")),
    _field("started_on", _l("Phụ trách từ"), "Ngày bắt đầu", "Ngày bắt đầu hoạt động", "Ngày bắt đầu phụ trách"),
    _field("decision_ref", _l("Số quyết định"), "Số quyết định công nhận", "Quyết định công nhận", "Số QĐ"),
    _field("contract_number", _l("Số hợp đồng"), "Hợp đồng", "Số HĐ"),
    _field("contract_date", _l("Ngày ký hợp đồng"), "Ngày hợp đồng"),
    _field("vhw", _l("Kiêm YTTB"), "Kiêm nhân viên y tế thôn bản", "Kiêm NVYT thôn bản", "NVYT thôn bản", "YTTB"),
    _field("family_children", _l("Kiêm GĐ&TE"), "Kiêm công tác gia đình và trẻ em", "GĐ&TE"),
    _field("ended_on", _l("Nghỉ từ")),
]
FIELD_BY_KEY = {f.key: f for f in FIELDS}
# What the export computes and the import never reads (the template greys them out).
READ_ONLY = ("STT", "Năm sinh", "Thâm niên (năm)", "Tình trạng", "Ghi chú", "Lý do nghỉ")


def _read_only() -> set[str]:
    """The read-only headers folded, as written in Vietnamese and in the reader's language (the
    export's own headers)."""
    return {fold(r) for r in READ_ONLY} | {fold(_(r)) for r in READ_ONLY}


# Yes/no columns: an empty cell is "no" (the export writes nothing for no).
FLAGS = ("vhw", "family_children")
PERSONAL = ("date_of_birth", "sex", "phone", "ethnicity", "education", "vhw")


_fold = functools.lru_cache(maxsize=200_000)(fold)  # names and codes repeat over thousands of rows


class _Choice:
    """``imports.cells.choice`` with its options folded once (not once per cell); an unknown
    value gets the shared message."""

    def __init__(self, options: dict[str, str]):
        self.options = options
        self.by_fold = {fold(str(k)): v for k, v in options.items()}

    def __call__(self, value: Any) -> str | None:
        if value is None:
            return None
        found = self.by_fold.get(_fold(str(value)))
        return found if found is not None else cells.choice(value, self.options)


class _Hidden:
    """A personal value the export hid ("(ẩn)")."""

    def __repr__(self) -> str:
        return "HIDDEN"


HIDDEN = _Hidden()


def sex_options() -> dict[str, str]:
    return {**{str(label): sex.value for sex, label in SEX_LABELS.items()}, "Nữ": "female", "Nam": "male",
            "female": "female", "male": "male", "F": "female", "M": "male"}


def education_options() -> dict[str, str]:
    """The labels of the profile, the short names offices write, and the codes."""
    short = {"Chưa hết tiểu học": "none", "Tiểu học": "primary", "THCS": "lower_secondary", "Cấp 2": "lower_secondary",
             "Trung học cơ sở": "lower_secondary", "THPT": "upper_secondary", "Cấp 3": "upper_secondary",
             "Trung học phổ thông": "upper_secondary", "12/12": "upper_secondary", "9/12": "lower_secondary",
             "Trung cấp": "vocational", "Cao đẳng": "college", "Đại học": "college"}
    return {**{str(label): e.value for e, label in EDUCATION_LABELS.items()}, **short, **{e.value: e.value for e in Education}}


def kind_options() -> dict[str, str]:
    return {**{str(label): kind.value for kind, label in KIND_LABELS.items()}, "Thôn chính": "primary",
            "Chính": "primary", "Kiêm nhiệm thêm": "additional", "Kiêm nhiệm": "additional",
            "Kiêm nhiệm thêm thôn": "additional", "primary": "primary", "additional": "additional"}


# --- what the plan holds -------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A hamlet in force today, with its commune."""

    id: int
    name: str
    full_name: str
    path: str
    local_id: str | None
    valid_from: date
    households: int | None
    commune_id: int
    commune_code: str | None
    commune_name: str

    @property
    def code(self) -> str:
        return f"{self.commune_code}-{self.local_id}"

    @property
    def label(self) -> str:
        return f"{self.name}, {self.commune_name}"

    def paper(self) -> services.PaperHamlet:
        return services.PaperHamlet(self.id, self.path, self.name)


@dataclass
class Line:
    """One row as read (None: empty or unreadable, HIDDEN: "(ẩn)")."""

    number: int
    values: dict[str, Any]
    bad: set[str] = field(default_factory=set)  # the columns with a problem
    place: Place | None = None
    ok: bool = True  # no problem in this row

    def get(self, key: str) -> Any:
        return self.values.get(key)


@dataclass(frozen=True)
class KnownAssignment:
    id: int
    hamlet_id: int
    hamlet_path: str
    kind: str
    started_on: date
    ended_on: date | None
    decision_ref: str | None
    hamlet_name: str  # the hamlet's full name


@dataclass
class Known:
    """A person already in the database, by CCCD, with what the import compares."""

    candidate_id: int
    full_name: str
    date_of_birth: date
    sex: str
    phone: str | None
    ethnicity: str
    education: str
    vhw: bool
    collaborator_id: int | None = None
    activated_on: date | None = None
    application_id: int | None = None
    contract_number: str | None = None
    contract_date: date | None = None
    from_paper: bool = False
    assignments: list[KnownAssignment] = field(default_factory=list)
    suspended: bool = False
    duty_since: date | None = None  # "kiêm GĐ&TE" held since (open period)

    def open(self) -> list[KnownAssignment]:
        return [a for a in self.assignments if a.ended_on is None]

    def home(self) -> KnownAssignment | None:
        """As ``permissions.home_assignment``: the open primary, else any open, else the latest."""
        current = self.open()
        primary = [a for a in current if a.kind == AssignmentKind.PRIMARY]
        if primary:
            return primary[0]
        if current:
            return current[0]
        return max(self.assignments, key=lambda a: (a.started_on, a.id)) if self.assignments else None


@dataclass
class Item:
    """One row of the dry run: what it does to the database."""

    row: int
    action: str  # CREATE | UPDATE | UNCHANGED
    full_name: str
    national_id: str
    hamlet: str
    changes: list[str] = field(default_factory=list)


@dataclass
class PersonUpdate:
    """What the import changes on one existing collaborator."""

    known: Known
    rows: list[int]
    candidate: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (before, after)
    refs: dict[int, tuple[str | None, str]] = field(default_factory=dict)  # assignment id → decision ref
    application: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    add: list[tuple[Place, date, str | None]] = field(default_factory=list)
    duty: str | None = None  # "start" | "end"

    def __bool__(self) -> bool:
        return bool(self.candidate or self.refs or self.application or self.add or self.duty)


@dataclass
class RosterPlan:
    """What an import would do (``plan_roster_import``), for the dry run and for the apply."""

    filename: str
    sheet: str | None
    on: date
    summary: Summary
    read: int = 0  # data rows in the file (those with a problem have no item)
    items: list[Item] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # headers read by nothing (read-only columns left out)
    new: list[services.PaperCollaborator] = field(default_factory=list)
    updates: list[PersonUpdate] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.read

    @property
    def problems(self) -> list[Problem]:
        return self.summary.problems


Progress = Callable[[int, int], None]


# --- reading the cells -----------------------------------------------------------------------------


def _hidden_words() -> set[str]:
    return {fold(str(HIDDEN_TEXT)), fold("(ẩn)"), "(hidden)"}


def _personal(problems: Problems, row: Row, key: str, convert, hidden: set[str], **kwargs) -> Any:
    value = row.get(key)
    if isinstance(value, str) and value[:1] == "(" and _fold(value) in hidden:
        return HIDDEN
    return problems.cell(row, key, convert, **kwargs)


def _plain(value: Any) -> Any:
    """Text as it was before our formula-safe writer wrote it (``exports.writer.safe_text``: an
    apostrophe before a leading ``=``, ``+``, ``-`` or ``@``), so a name the export neutralised
    reads back as the name stored. It stays text: nothing is ever evaluated."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def _national_id(value: Any) -> str | None:
    """A CCCD as text: spaces, dots and dashes dropped; a number, or 10–11 digits (Excel made a
    number of it and dropped its leading zeros; every CCCD begins with 0), padded to 12."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12:
        return f"{value:012d}"
    out = cells.text(value, max_length=40)
    if out is None:
        return None
    out = re.sub(r"[\s.\-]", "", out)
    if is_ascii_digits(out) and len(out) in (10, 11):  # written from a number: the leading zeros lost
        out = out.zfill(12)
    if not (is_ascii_digits(out) and len(out) == 12):
        raise CellError(_l("Số CCCD phải gồm đúng 12 chữ số (ô có “%(v)s”).", v=out[:20]))
    return out


def _name(value: Any) -> str | None:
    out = cells.text(value, max_length=200, required=True)
    out = " ".join((out or "").split())
    if len(out) < 3:
        raise CellError(_l("Vui lòng ghi đầy đủ họ và tên."))
    return out


def _ref(value: Any, max_length: int = 200) -> str | None:
    out = cells.text(value, max_length=max_length)
    return " ".join(out.split()) if out else None


def _parse(table: Table, problems: Problems) -> list[Line]:
    hidden = _hidden_words()
    sexes, educations, kinds = _Choice(sex_options()), _Choice(education_options()), _Choice(kind_options())
    present = set(table.columns)
    readers: list[tuple[str, Callable[[Row], Any]]] = [
        ("full_name", lambda row: problems.cell(row, "full_name", _name)),
        ("national_id", lambda row: _personal(problems, row, "national_id", _national_id, hidden)),
        ("date_of_birth", lambda row: _personal(problems, row, "date_of_birth", cells.day, hidden)),
        ("sex", lambda row: problems.cell(row, "sex", sexes)),
        ("phone", lambda row: _personal(problems, row, "phone", cells.phone, hidden)),
        ("ethnicity", lambda row: problems.cell(row, "ethnicity", cells.text, max_length=60)),
        ("education", lambda row: problems.cell(row, "education", educations)),
        ("hamlet_code", lambda row: problems.cell(row, "hamlet_code", cells.code, max_length=40)),
        ("commune_code", lambda row: problems.cell(row, "commune_code", cells.code, max_length=10)),
        ("hamlet", lambda row: problems.cell(row, "hamlet", cells.text, max_length=200)),
        ("commune", lambda row: problems.cell(row, "commune", cells.text, max_length=200)),
        ("kind", lambda row: problems.cell(row, "kind", kinds) or AssignmentKind.PRIMARY.value),
        ("started_on", lambda row: problems.cell(row, "started_on", cells.day)),
        ("decision_ref", lambda row: problems.cell(row, "decision_ref", _ref)),
        ("contract_number", lambda row: problems.cell(row, "contract_number", _ref, max_length=60)),
        ("contract_date", lambda row: problems.cell(row, "contract_date", cells.day)),
        ("ended_on", lambda row: problems.cell(row, "ended_on", cells.day)),
    ]
    for key in FLAGS:  # empty here: None; the person's value is "no" when no row says yes (_same_values)
        if key in present:
            readers.append((key, lambda row, key=key: None if row.get(key) is None
                            else problems.cell(row, key, cells.flag)))
    lines = []
    needed = {"full_name", "national_id", "kind"}  # what an empty cell still has to go through
    for row in table.rows:
        row = Row(row.number, {key: _plain(value) for key, value in row.values.items()})
        values: dict[str, Any] = dict.fromkeys(FLAGS)
        bad = set()
        for key, read in readers:
            if row.values.get(key) is None and key not in needed:
                values[key] = None
                continue
            before = len(problems)
            values[key] = read(row)
            if len(problems) != before:
                bad.add(key)
        lines.append(Line(row.number, values, bad, ok=not bad))
    return lines


# --- the hamlets -------------------------------------------------------------------------------------

_HAMLET_WORDS = sorted({fold(str(TYPE_LABELS[t])) for t in LEVEL_TYPES[UnitLevel.HAMLET]} | {"to"}, key=len,
                       reverse=True)
_COMMUNE_WORDS = ("xa", "phuong", "thi tran", "dac khu")


def _bare(name: str, words: Iterable[str]) -> str:
    """A folded name without its type word ("ap 3" → "3", "xa dong xoai" → "dong xoai")."""
    folded = _fold(name)
    for word in words:
        if folded.startswith(word + " ") and len(folded) > len(word) + 1:
            return folded[len(word) + 1:]
    return folded


def _number_key(code: str) -> str:
    """A hamlet code compared as a number when it is one ("003" = "3")."""
    return str(int(code)) if is_ascii_digits(code) and len(code) < 18 else code


class Places:
    """The communes and hamlets the file names, loaded once per import: the communes of the
    user's assignment scope (by name) and those named by code anywhere (to tell "outside your
    area" from "unknown"), then the hamlets in force today of the communes used."""

    def __init__(self, lines: list[Line], areas: tuple[str, ...] | None, on: date):
        self.areas = areas
        self.on = on
        communes = [AdminUnit.id, AdminUnit.code, AdminUnit.name, AdminUnit.full_name, AdminUnit.path]
        current = (AdminUnit.level == UnitLevel.COMMUNE.value, valid_on(AdminUnit, on))
        codes = set()
        for line in lines:
            code = line.get("commune_code")
            if code:
                codes.add(code)
            head, sep, _tail = (line.get("hamlet_code") or "").partition("-")
            if sep and is_ascii_digits(head):
                codes.add(head)
        self.by_code: dict[str, tuple] = {}
        for chunk in _chunks(sorted(codes)):
            for row in db.session.execute(select(*communes).where(*current, AdminUnit.code.in_(chunk))):
                self.by_code[row.code] = row
        self.by_name: dict[str, list] = defaultdict(list)
        if any(line.get("commune") for line in lines) or not codes:
            stmt = select(*communes).where(*current)
            if areas is not None:
                stmt = stmt.where(or_(*(AdminUnit.path.startswith(p) for p in areas)) if areas else False)
            for row in db.session.execute(stmt):
                for key in {fold(row.name), fold(row.full_name), _bare(row.full_name, _COMMUNE_WORDS)}:
                    self.by_name[key].append(row)
        self.communes = {row.id: row for row in self.by_code.values()}
        self.communes.update({row.id: row for rows in self.by_name.values() for row in rows})
        self._hamlets: dict[int, list[Place]] = {}
        self._codes: dict[int, dict[str, list[Place]]] = {}
        self._names: dict[int, tuple[dict, dict]] = {}

    def in_scope(self, path: str) -> bool:
        return self.areas is None or path.startswith(self.areas)

    def hamlets(self, commune_ids: Iterable[int]) -> None:
        """Load the hamlets in force today of these communes (those not loaded yet)."""
        wanted = sorted(set(commune_ids) - set(self._hamlets))
        for cid in wanted:
            self._hamlets[cid] = []
        for chunk in _chunks(wanted):
            rows = db.session.execute(
                select(AdminUnit.id, AdminUnit.name, AdminUnit.full_name, AdminUnit.path, AdminUnit.local_id,
                       AdminUnit.valid_from, AdminUnit.households, AdminUnit.parent_id)
                .where(AdminUnit.parent_id.in_(chunk), AdminUnit.level == UnitLevel.HAMLET.value,
                       valid_on(AdminUnit, self.on)))
            for r in rows:
                commune = self.communes[r.parent_id]
                self._hamlets[r.parent_id].append(Place(r.id, r.name, r.full_name, r.path, r.local_id, r.valid_from,
                                                        r.households, commune.id, commune.code, commune.full_name))

    def of(self, commune_id: int) -> list[Place]:
        return self._hamlets.get(commune_id, [])

    def hamlets_coded(self, commune_id: int, code: str) -> list[Place]:
        """The commune's hamlets with this code ("3" finds "003")."""
        index = self._codes.get(commune_id)
        if index is None:
            index = self._codes[commune_id] = defaultdict(list)
            for place in self.of(commune_id):
                if place.local_id is not None:
                    index[_number_key(place.local_id)].append(place)
        return index.get(_number_key(code), [])

    def hamlet_named(self, commune_id: int, name: str) -> Place | None:
        """The commune's hamlet of this name (folded; without its type word when that is unique)."""
        index = self._names.get(commune_id)
        if index is None:
            exact, bare = defaultdict(list), defaultdict(list)
            for place in self.of(commune_id):
                exact[_fold(place.name)].append(place)
                bare[_bare(place.name, _HAMLET_WORDS)].append(place)
            index = self._names[commune_id] = (exact, bare)
        exact, bare = index
        found = exact.get(_fold(name), [])
        if len(found) == 1:
            return found[0]
        loose = bare.get(_bare(name, _HAMLET_WORDS), [])
        return loose[0] if len(loose) == 1 else None


def _chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _commune_of(line: Line, places: Places, problems: Problems):
    """The commune a row names (by code, in the hamlet code or its own column, else by name),
    or None with the problem recorded."""
    code = line.get("commune_code")
    key = "commune_code"
    head, sep, _tail = (line.get("hamlet_code") or "").partition("-")
    if sep and is_ascii_digits(head):
        if code and code != head:
            problems.add(line.number, "hamlet_code", _l("Mã thôn “%(h)s” thuộc xã/phường mã %(a)s, khác với mã "
                                                          "xã/phường “%(c)s” ghi trong dòng.",
                                                          h=line.get("hamlet_code"), a=head, c=code))
            return None
        code, key = head, "hamlet_code"
    if code:
        commune = places.by_code.get(code)
        if commune is None:
            problems.add(line.number, key, _l("Không có xã/phường nào mang mã “%(c)s” đang có hiệu lực.", c=code))
            return None
        if not places.in_scope(commune.path):
            problems.add(line.number, key, _l("%(n)s (mã %(c)s) nằm ngoài địa bàn bạn được phân quyền phân công "
                                             "cộng tác viên.", n=commune.full_name, c=code))
            return None
        name = line.get("commune")
        if name and fold(name) not in {fold(commune.name), fold(commune.full_name)} \
                and _bare(name, _COMMUNE_WORDS) != _bare(commune.full_name, _COMMUNE_WORDS):
            problems.add(line.number, "commune", _l("Mã %(c)s là của %(n)s, không phải “%(w)s”.", c=code,
                                                   n=commune.full_name, w=name))
            return None
        return commune
    name = line.get("commune")
    if not name:
        problems.add(line.number, "hamlet_code" if "hamlet_code" in problems.table.columns else "commune",
                     _l("Chưa ghi xã/phường: ghi “Mã thôn” theo danh sách thôn của mẫu, hoặc tên xã/phường."))
        return None
    found = {r.id: r for r in places.by_name.get(fold(name), []) or places.by_name.get(_bare(name, _COMMUNE_WORDS), [])}
    if len(found) > 1 and line.get("hamlet"):  # the hamlet's name may tell which
        places.hamlets(found)
        wanted = line.get("hamlet")
        with_hamlet = {cid: c for cid, c in found.items() if places.hamlet_named(cid, wanted)}
        found = with_hamlet or found
    if not found:
        problems.add(line.number, "commune", _l("Không tìm thấy xã/phường “%(n)s” trong địa bàn bạn được phân quyền "
                                               "phân công cộng tác viên.", n=name))
        return None
    if len(found) > 1:
        problems.add(line.number, "commune", _l("Có %(k)d xã/phường tên “%(n)s” trong địa bàn của bạn (%(l)s): ghi "
                                               "thêm cột “Mã xã/phường”.", k=len(found), n=name,
                                               l=", ".join(sorted(c.code or "" for c in found.values()))))
        return None
    return next(iter(found.values()))


def _resolve_places(lines: list[Line], places: Places, problems: Problems) -> None:
    communes = {}
    for line in lines:
        if line.get("full_name") is None and line.get("national_id") is None:
            continue
        commune = _commune_of(line, places, problems)
        if commune is None:
            line.ok = False
        communes[line.number] = commune
    places.hamlets({c.id for c in communes.values() if c is not None})
    for line in lines:
        commune = communes.get(line.number)
        if commune is None:
            continue
        code = line.get("hamlet_code")
        name = line.get("hamlet")
        place = None
        if code:
            _head, sep, tail = code.partition("-")
            local = tail if sep and is_ascii_digits(_head) else code
            matches = places.hamlets_coded(commune.id, local)
            if len(matches) != 1:
                problems.add(line.number, "hamlet_code", _l("%(c)s không có thôn/tổ dân phố mã “%(h)s” đang có hiệu "
                                                            "lực (xem trang “Thôn” của mẫu).",
                                                            c=commune.full_name, h=code))
                line.ok = False
                continue
            place = matches[0]
            if name and _fold(name) != _fold(place.name) and \
                    _bare(name, _HAMLET_WORDS) != _bare(place.name, _HAMLET_WORDS):
                problems.add(line.number, "hamlet", _l("Mã thôn %(c)s là %(h)s, không phải “%(w)s”.", c=code,
                                                      h=place.name, w=name))
                line.ok = False
                continue
        elif name:
            place = places.hamlet_named(commune.id, name)
            if place is None:
                problems.add(line.number, "hamlet", _l("%(c)s không có thôn/tổ dân phố “%(h)s” đang có hiệu lực.",
                                                      c=commune.full_name, h=name))
                line.ok = False
                continue
        else:
            problems.add(line.number, "hamlet", _l("Chưa ghi thôn/tổ dân phố (tên hoặc mã thôn)."))
            line.ok = False
            continue
        line.place = place


# --- the people already recorded -------------------------------------------------------------------


def _known_people(national_ids: Sequence[str]) -> dict[str, Known]:
    """The people recorded under these CCCD numbers, with their collaborator record, a few
    hundred numbers per query."""
    known: dict[str, Known] = {}
    by_collaborator: dict[int, Known] = {}
    for chunk in _chunks(sorted(national_ids)):
        rows = db.session.execute(
            select(Candidate.national_id, Candidate.id, Candidate.full_name, Candidate.date_of_birth, Candidate.sex,
                   Candidate.phone, Candidate.ethnicity, Candidate.education, Candidate.is_village_health_worker,
                   Collaborator.id, Collaborator.activated_on, Application.id, Application.contract_number,
                   Application.contract_date, Application.nominated_by)
            .outerjoin(Collaborator, Collaborator.candidate_id == Candidate.id)
            .outerjoin(Application, Application.id == Collaborator.application_id)
            .where(Candidate.national_id.in_(chunk)))
        for (cccd, cid, name, born, sex, phone, ethnicity, education, vhw, collaborator_id, activated, app_id,
             contract_number, contract_date, nominated_by) in rows:
            person = Known(cid, name, born, sex, phone, ethnicity, education, bool(vhw), collaborator_id, activated,
                           app_id, contract_number, contract_date, nominated_by == services.FROM_PAPER)
            known[cccd] = person
            if collaborator_id is not None:
                by_collaborator[collaborator_id] = person
    ids = sorted(by_collaborator)
    day = today()
    for chunk in _chunks(ids):
        for a in db.session.execute(
                select(Assignment.id, Assignment.collaborator_id, Assignment.hamlet_id, Assignment.hamlet_path,
                       Assignment.kind, Assignment.started_on, Assignment.ended_on, Assignment.decision_ref,
                       AdminUnit.full_name)
                .join(AdminUnit, AdminUnit.id == Assignment.hamlet_id)
                .where(Assignment.collaborator_id.in_(chunk)).order_by(Assignment.started_on, Assignment.id)):
            by_collaborator[a.collaborator_id].assignments.append(KnownAssignment(a[0], *a[2:]))
        for (cid,) in db.session.execute(select(Suspension.collaborator_id).where(
                Suspension.collaborator_id.in_(chunk), Suspension.ended_on.is_(None))):
            by_collaborator[cid].suspended = True
        for cid, since in db.session.execute(select(CollaboratorDuty.collaborator_id, CollaboratorDuty.started_on).where(
                CollaboratorDuty.collaborator_id.in_(chunk), CollaboratorDuty.duty == DutyKind.FAMILY_CHILDREN.value,
                CollaboratorDuty.ended_on.is_(None), CollaboratorDuty.started_on <= day)):
            by_collaborator[cid].duty_since = since
    return known


# --- the plan ----------------------------------------------------------------------------------------


def _d(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


def _ref_key(ref: str | None) -> str:
    """A decision number compared without its wording: "QĐ số 12/QĐ-TTYT" = "12/QĐ-TTYT"."""
    folded = _fold(ref or "")
    folded = re.sub(r"^(quyet dinh|qd)( so)?[:\s]*", "", folded)
    folded = re.sub(r"^so[:\s]+", "", folded)
    return folded.replace(" ", "")


class _Planner:
    def __init__(self, table: Table, user, on: date, progress: Progress | None):
        self.table = table
        self.user = user
        self.on = on
        self.progress = progress
        self.problems = Problems(table)
        self.warnings: list[Problem] = []
        self.items: dict[int, Item] = {}
        self.new: list[services.PaperCollaborator] = []
        self.updates: list[PersonUpdate] = []
        self.areas: tuple[str, ...] | None = None
        if user is not None:
            self.areas = tuple(scope_of(user).prefixes_for(ASSIGNMENT_ROLES))
        self._policies: dict[int, bool] = {}
        self._gains: dict[int, int] = defaultdict(int)  # hamlet id → assignments the import adds
        # Said of thousands of rows: translated once, filled in per row.
        self._said_new = _("Thêm mới (từ sổ sách giấy), phụ trách từ %(d)s")
        self._said_extra = _("Kiêm nhiệm thêm từ %(d)s")

    def add(self, line: Line | int, key: str | None, message) -> None:
        number = line.number if isinstance(line, Line) else line
        self.problems.add(number, key, message)
        if isinstance(line, Line):
            line.ok = False

    def tick(self, done: int, total: int) -> None:
        if self.progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            self.progress(done, total)

    # the whole file
    def run(self) -> RosterPlan:
        table = self.table
        plan = RosterPlan(table.filename, table.sheet, self.on, Summary(), len(table.rows),
                          ignored=[h for h in table.ignored if fold(h) not in _read_only()])
        if self.areas is not None and not self.areas:
            self.add(None, None, _l("Tài khoản của bạn không có quyền phân công cộng tác viên ở địa bàn nào, nên "
                                    "không nhập được danh sách."))
            return self._finish(plan)
        if "hamlet_code" not in table.columns and "hamlet" not in table.columns:
            self.add(None, None, _l("Thiếu cột “Mã thôn” hoặc “Thôn/tổ dân phố”: mỗi dòng phải cho biết thôn/tổ dân "
                                    "phố mà cộng tác viên phụ trách."))
            return self._finish(plan)
        if not table.rows:
            self.add(None, None, _l("Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."))
            return self._finish(plan)
        lines = _parse(table, self.problems)
        self.tick(0, len(lines))
        places = Places(lines, self.areas, self.on)
        _resolve_places(lines, places, self.problems)
        groups: dict[str, list[Line]] = defaultdict(list)
        for line in lines:
            cccd = line.get("national_id")
            if cccd is HIDDEN:
                self.add(line, "national_id", _l("Số CCCD bị ẩn “(ẩn)” trong tệp xuất, nên không biết dòng này là "
                                                 "ai. Hãy xuất lại danh sách bằng tài khoản được xem số CCCD của địa "
                                                 "bàn (trạm trưởng, trung tâm y tế hoặc Sở Y tế), hoặc ghi số CCCD."))
            elif cccd is not None:
                groups[cccd].append(line)
            elif "national_id" not in line.bad:
                self.add(line, "national_id", _l("Ô này không được để trống."))
        known = _known_people(list(groups))
        self._load_policies(lines)
        done = 0
        for cccd, rows in groups.items():
            person = known.get(cccd)
            if person is None:
                self._plan_new(cccd, rows)
            else:
                self._plan_known(cccd, rows, person)
            done += len(rows)
            self.tick(done, len(lines))
        self._quota_warnings()
        plan.items = [self.items[n] for n in sorted(self.items)]
        plan.new, plan.updates = self.new, self.updates
        return self._finish(plan)

    def _finish(self, plan: RosterPlan) -> RosterPlan:
        problems = sorted(self.problems.items, key=lambda p: (p.row or 0, p.column or ""))
        counts = defaultdict(int)
        for item in plan.items:
            counts[item.action] += 1
        plan.summary = Summary(counts[CREATE], counts[UPDATE], counts[UNCHANGED], problems)
        plan.warnings = self.warnings
        return plan

    def _load_policies(self, lines: list[Line]) -> None:
        provinces = {province_id_of(line.place.path) for line in lines
                     if line.place is not None and line.get("kind") == AssignmentKind.ADDITIONAL}
        for province_id, policy in policies_for(provinces, self.on).items():
            self._policies[province_id] = policy.allow_additional_hamlet

    def _allows_additional(self, place: Place, on: date) -> bool:
        province_id = province_id_of(place.path)
        if on == self.on:
            return self._policies.get(province_id, False)
        return policies_for([province_id], on)[province_id].allow_additional_hamlet

    # dates and people
    def _check_start(self, line: Line, place: Place, started: date | None, born: date | None) -> bool:
        if started is None:
            self.add(line, "started_on", _l("Chưa ghi ngày bắt đầu phụ trách thôn (ngày/tháng/năm)."))
            return False
        if started > self.on:
            self.add(line, "started_on", _l("Ngày %(d)s chưa đến: chỉ ghi nhận người đã bắt đầu phụ trách, không ghi "
                                            "ngày trong tương lai.", d=_d(started)))
            return False
        if started < place.valid_from:
            self.add(line, "started_on", _l("%(h)s có hiệu lực trong hệ thống từ ngày %(v)s; ngày bắt đầu phụ trách "
                                            "(%(d)s) không được trước ngày đó. Nếu thôn đã có từ trước, hãy sửa ngày "
                                            "hiệu lực của thôn trước khi nhập.", h=place.label, v=_d(place.valid_from),
                                            d=_d(started)))
            return False
        if born is not None and rules.age_on(born, started) < MIN_AGE_AT_START:
            self.add(line, "started_on", _l("Ngày bắt đầu %(d)s: người sinh ngày %(b)s khi đó chưa đủ %(n)d tuổi; hãy "
                                            "kiểm tra lại ngày sinh và ngày bắt đầu.", d=_d(started), b=_d(born),
                                            n=MIN_AGE_AT_START))
            return False
        return True

    def _check_birth(self, line: Line, born: date) -> bool:
        if born >= self.on:
            self.add(line, "date_of_birth", _l("Ngày sinh %(d)s không thể ở tương lai.", d=_d(born)))
            return False
        if rules.age_on(born, self.on) > MAX_AGE:
            self.add(line, "date_of_birth", _l("Ngày sinh %(d)s không hợp lệ (trên %(n)d tuổi).", d=_d(born), n=MAX_AGE))
            return False
        return True

    def _check_cccd(self, line: Line, cccd: str, born: date, sex: str) -> bool:
        try:
            check_national_id(cccd, born=born, sex=Sex(sex))
        except DomainError as e:
            self.add(line, "national_id", e.message)
            return False
        return True

    def _same_values(self, rows: list[Line]) -> dict[str, Any]:
        """The person's values, from the first row that gives each; another row giving a different
        one is a problem (the same person is written alike on every row)."""
        values: dict[str, Any] = {}
        first: dict[str, int] = {}
        for line in rows:
            for key in ("full_name", *PERSONAL, "family_children"):
                value = line.get(key)
                if value is None or value is HIDDEN:
                    continue
                if key not in values:
                    values[key], first[key] = value, line.number
                elif (_fold(value) if key == "full_name" else value) != (
                        _fold(values[key]) if key == "full_name" else values[key]):
                    self.add(line, key, _l("Khác với dòng %(r)d của cùng số CCCD (“%(a)s”): một người ghi giống "
                                           "nhau ở mọi dòng.", r=first[key], a=_shown(values[key])))
        for key in FLAGS:  # a yes/no column left out: keep what is stored; present and empty: "no"
            if key in self.table.columns:
                values.setdefault(key, False)
        return values

    def _split(self, cccd: str, rows: list[Line]) -> tuple[Line | None, list[Line]]:
        """The row of the primary hamlet (at most one) and the additional ones; the same hamlet
        twice is refused."""
        primary, additional, seen = None, [], {}
        for line in rows:
            if line.place is not None:
                if line.place.id in seen:
                    self.add(line, "national_id", _l("Số CCCD %(c)s đã có ở dòng %(r)d cho cùng %(h)s: mỗi người một "
                                                     "dòng cho mỗi thôn.", c=cccd, r=seen[line.place.id],
                                                     h=line.place.label))
                    continue
                seen[line.place.id] = line.number
            if line.get("kind") == AssignmentKind.PRIMARY:
                if primary is not None:
                    self.add(line, "national_id", _l("Số CCCD %(c)s đã có ở dòng %(r)d: một người chỉ có một thôn "
                                                     "chính (các thôn khác ghi “Kiêm nhiệm thêm” ở cột “Loại phân "
                                                     "công”).", c=cccd, r=primary.number))
                    continue
                primary = line
            else:
                additional.append(line)
        return primary, additional

    def _item(self, line: Line, action: str, name: str, cccd: str, changes: list[str] | None = None) -> None:
        self.items[line.number] = Item(line.number, action, name, cccd, line.place.label if line.place else "",
                                       changes or [])

    # a new person
    def _plan_new(self, cccd: str, rows: list[Line]) -> None:
        values = self._same_values(rows)
        primary, additional = self._split(cccd, rows)
        name = values.get("full_name") or ""
        for line in rows:
            if line.get("ended_on") is not None:
                self.add(line, "ended_on", _l("Người này chưa có trong hệ thống: chỉ nhập người đang phụ trách thôn "
                                              "(bỏ trống cột “Nghỉ từ”)."))
        if primary is None:
            if not any(not line.ok for line in rows):
                self.add(rows[0], "kind", _l("Số CCCD %(c)s chưa có trong hệ thống: người mới cần một dòng “Thôn "
                                             "chính” (thôn nơi họ sinh sống và phụ trách).", c=cccd))
            return
        ok = primary.ok and all(line.ok for line in additional)
        born, sex, education = values.get("date_of_birth"), values.get("sex"), values.get("education")
        for key, value, message in (
                ("date_of_birth", born, _l("Người mới: cần ghi ngày sinh (ngày/tháng/năm).")),
                ("sex", sex, _l("Người mới: cần ghi giới tính (Nam hoặc Nữ).")),
                ("education", education, _l("Người mới: cần ghi trình độ học vấn (vd. “Tốt nghiệp THCS”)."))):
            if value is None and key not in primary.bad and not any(key in line.bad for line in rows):
                self.add(primary, key, message)
                ok = False
        if born is not None and not self._check_birth(primary, born):
            ok = False
        if ok and born is not None and sex is not None and not self._check_cccd(primary, cccd, born, sex):
            ok = False
        place = primary.place
        started = primary.get("started_on")
        if place is not None and not self._check_start(primary, place, started, born if ok else None):
            ok = False
        contract_date = primary.get("contract_date")
        if contract_date is not None and started is not None and contract_date > started:
            self.add(primary, "contract_date", _l("Ngày ký hợp đồng (%(c)s) sau ngày bắt đầu phụ trách (%(d)s): hợp "
                                                  "đồng ký trước khi hoạt động.", c=_d(contract_date), d=_d(started)))
            ok = False
        extra = []
        for line in additional:
            since = line.get("started_on")
            if line.place is None or not self._check_start(line, line.place, since, None):
                ok = False
                continue
            if started is not None and since < started:
                self.add(line, "started_on", _l("Ngày bắt đầu kiêm nhiệm (%(d)s) không được trước ngày cộng tác viên bắt "
                                                "đầu hoạt động (%(s)s, dòng %(r)d).", d=_d(since), s=_d(started),
                                                r=primary.number))
                ok = False
                continue
            if not self._allows_additional(line.place, since):
                self.add(line, "kind", _l("Tỉnh chưa cho phép cộng tác viên kiêm nhiệm thêm thôn vào ngày %(d)s "
                                          "(thiết lập của tỉnh).", d=_d(since)))
                ok = False
                continue
            extra.append((line.place.paper(), since, line.get("decision_ref")))
        if not ok or place is None:
            return
        self.new.append(services.PaperCollaborator(
            full_name=name, date_of_birth=born, sex=sex, national_id=cccd, education=education, hamlet=place.paper(),
            started_on=started, ethnicity=values.get("ethnicity") or "", phone=values.get("phone"),
            is_village_health_worker=bool(values.get("vhw")), decision_ref=primary.get("decision_ref"),
            contract_number=primary.get("contract_number"), contract_date=contract_date,
            family_children=bool(values.get("family_children")), additional=tuple(extra), row=primary.number))
        self._gains[place.id] += 1
        for hamlet, _since, _ref in extra:
            self._gains[hamlet.id] += 1
        self._item(primary, CREATE, name, cccd, [self._said_new % {"d": _d(started)}])
        for line in additional:
            self._item(line, CREATE, name, cccd, [self._said_extra % {"d": _d(line.get("started_on"))}])

    # an existing person
    def _plan_known(self, cccd: str, rows: list[Line], person: Known) -> None:
        values = self._same_values(rows)
        name = values.get("full_name") or person.full_name
        first = rows[0]
        if _fold(name) != _fold(person.full_name):
            if self._sees(person):
                self.add(first, "national_id", _l("Số CCCD %(c)s đã được ghi cho %(n)s, không phải “%(w)s”: kiểm tra "
                                                  "lại số CCCD hoặc họ tên.", c=cccd, n=person.full_name, w=name))
            else:
                self.add(first, "national_id", _l("Số CCCD %(c)s đã được ghi trong hệ thống cho một người khác.",
                                                  c=cccd))
            return
        if person.collaborator_id is None:
            self.add(first, "national_id", _l("Số CCCD %(c)s đã có trong hệ thống (hồ sơ tuyển chọn chưa hoạt động), "
                                              "chưa là cộng tác viên: không nhập trùng người; hãy hoàn tất hoặc đóng hồ "
                                              "sơ đó ở mục Tuyển chọn.", c=cccd))
            return
        home = person.home()
        if home is None or not self._in_scope(home.hamlet_path):
            self.add(first, "national_id", _l("Số CCCD %(c)s là của một cộng tác viên ngoài địa bàn bạn được phân "
                                              "quyền phân công: không nhập được dòng này.", c=cccd))
            return
        self._split(cccd, rows)  # the same hamlet twice, two primary rows
        update = PersonUpdate(person, [line.number for line in rows])
        changes: dict[int, list[str]] = defaultdict(list)
        ok = all(line.ok for line in rows)
        if ok:
            ok = self._personal_changes(first, cccd, values, person, update, changes)
        open_ = person.open()
        ended_rows = [line for line in rows if line.get("ended_on") is not None]
        for line in ended_rows:
            match = [a for a in person.assignments if line.place is not None and a.hamlet_id == line.place.id
                     and a.ended_on == line.get("ended_on")]
            if not match:
                self.add(line, "ended_on", _l("Hệ thống không ghi %(n)s nghỉ ở %(h)s từ ngày %(d)s. Việc nghỉ việc ghi "
                                              "trên trang hồ sơ cộng tác viên, không qua nhập tệp.", n=person.full_name,
                                              h=line.place.label if line.place else "—", d=_d(line.get("ended_on"))))
                ok = False
        serving = [line for line in rows if line.get("ended_on") is None]
        if serving and not open_:
            end = max((a.ended_on for a in person.assignments if a.ended_on), default=None)
            self.add(serving[0], "national_id", _l("%(n)s đã nghỉ việc từ ngày %(d)s; công nhận lại phải qua tuyển "
                                                   "chọn, không qua nhập tệp.", n=person.full_name, d=_d(end)))
            return
        for line in serving:
            if line.place is None:
                continue
            ok = self._assignment_changes(line, person, update, changes) and ok
        if ok and values.get("family_children") is not None and serving:
            holds = person.duty_since is not None
            if values["family_children"] and not holds:
                update.duty = "start"
                changes[first.number].append(str(_l("Kiêm công tác gia đình và trẻ em: từ hôm nay (%(d)s)",
                                                    d=_d(self.on))))
            elif not values["family_children"] and holds:
                update.duty = "end"
                changes[first.number].append(str(_l("Thôi kiêm công tác gia đình và trẻ em: từ hôm nay (%(d)s)",
                                                    d=_d(self.on))))
        if not ok:
            return
        if update:
            self.updates.append(update)
        for line in rows:
            said = changes.get(line.number)
            self._item(line, UPDATE if said else UNCHANGED, person.full_name, cccd, said)

    def _sees(self, person: Known) -> bool:
        return any(self._in_scope(a.hamlet_path) for a in person.assignments)

    def _in_scope(self, path: str) -> bool:
        return self.areas is None or path.startswith(self.areas)

    def _personal_changes(self, line: Line, cccd: str, values: dict, person: Known, update: PersonUpdate,
                          changes: dict[int, list[str]]) -> bool:
        born = values.get("date_of_birth", person.date_of_birth)
        sex = values.get("sex", person.sex)
        if "date_of_birth" in values and not self._check_birth(line, born):
            return False
        if (born, sex) != (person.date_of_birth, person.sex) and not self._check_cccd(line, cccd, born, sex):
            return False
        stored = {"date_of_birth": person.date_of_birth, "sex": person.sex, "phone": person.phone,
                  "ethnicity": person.ethnicity, "education": person.education, "vhw": person.vhw}
        columns = {"vhw": "is_village_health_worker"}
        for key, before in stored.items():
            after = values.get(key)
            if after is None:
                continue  # not in the file, hidden or empty: what is stored stays
            if key == "ethnicity":
                same = fold(after) == fold(before or "")
            elif key == "vhw":
                same = bool(after) == bool(before)
            else:
                same = after == before
            if same:
                continue
            update.candidate[columns.get(key, key)] = (before, after)
            changes[line.number].append(str(_l("%(f)s: %(a)s → %(b)s", f=_column_name(key), a=_shown(before, key),
                                               b=_shown(after, key))))
        return True

    def _assignment_changes(self, line: Line, person: Known, update: PersonUpdate,
                            changes: dict[int, list[str]]) -> bool:
        place = line.place
        kind = line.get("kind")
        current = next((a for a in person.open() if a.hamlet_id == place.id), None)
        said = changes[line.number]
        if current is not None:
            if current.kind != kind:
                self.add(line, "kind", _l("%(n)s đang phụ trách %(h)s là “%(k)s”; không đổi loại phân công qua nhập "
                                          "tệp.", n=person.full_name, h=place.label, k=_kind(current.kind)))
                return False
            started = line.get("started_on")
            if started is not None and started != current.started_on:
                self.add(line, "started_on", _l("%(n)s phụ trách %(h)s từ ngày %(s)s theo hồ sơ; không sửa lịch sử phân "
                                                "công qua nhập tệp (tệp ghi %(d)s).", n=person.full_name,
                                                h=place.label, s=_d(current.started_on), d=_d(started)))
                return False
            ref = line.get("decision_ref")
            if ref and _ref_key(ref) != _ref_key(current.decision_ref):
                if current.decision_ref and not person.from_paper:
                    self.add(line, "decision_ref", _l("Phân công này đã ghi quyết định “%(q)s”; không sửa qua nhập tệp.",
                                                      q=current.decision_ref))
                    return False
                update.refs[current.id] = (current.decision_ref, ref)
                said.append(str(_l("Số quyết định: %(a)s → %(b)s", a=current.decision_ref or "—", b=ref)))
            if kind == AssignmentKind.PRIMARY:
                return self._contract_changes(line, person, update, said)
            return True
        if kind == AssignmentKind.PRIMARY:
            home = next((a for a in person.open() if a.kind == AssignmentKind.PRIMARY), None)
            where = home.hamlet_name if home else "—"
            self.add(line, "hamlet", _l("%(n)s đang phụ trách chính %(w)s từ ngày %(d)s. Điều chuyển sang %(h)s hãy làm "
                                        "trên trang hồ sơ cộng tác viên (cần quyết định và nơi cư trú), không qua nhập "
                                        "tệp.", n=person.full_name, w=where, d=_d(home.started_on if home else None),
                                        h=place.label))
            return False
        since = line.get("started_on")
        if not self._in_scope(place.path):
            self.add(line, "hamlet", _l("%(h)s nằm ngoài địa bàn bạn được phân quyền phân công cộng tác viên.",
                                        h=place.label))
            return False
        if not self._check_start(line, place, since, None):
            return False
        first = min(a.started_on for a in person.assignments)
        if since < first:
            self.add(line, "started_on", _l("Ngày bắt đầu kiêm nhiệm (%(d)s) không được trước ngày cộng tác viên bắt đầu "
                                            "hoạt động (%(s)s).", d=_d(since), s=_d(first)))
            return False
        if person.suspended:
            self.add(line, "kind", _l("%(n)s đang bị tạm đình chỉ; hãy cho hoạt động trở lại trước khi giao kiêm "
                                      "nhiệm thêm thôn.", n=person.full_name))
            return False
        if not self._allows_additional(place, since):
            self.add(line, "kind", _l("Tỉnh chưa cho phép cộng tác viên kiêm nhiệm thêm thôn vào ngày %(d)s (thiết lập "
                                      "của tỉnh).", d=_d(since)))
            return False
        update.add.append((place, since, line.get("decision_ref")))
        self._gains[place.id] += 1
        said.append(str(_l("Kiêm nhiệm thêm %(h)s từ %(d)s", h=place.label, d=_d(since))))
        return True

    def _contract_changes(self, line: Line, person: Known, update: PersonUpdate, said: list[str]) -> bool:
        for key, before in (("contract_number", person.contract_number), ("contract_date", person.contract_date)):
            after = line.get(key)
            if after is None or after == before:
                continue
            if before is not None and not person.from_paper:
                self.add(line, key, _l("Hồ sơ đã ghi %(f)s “%(v)s”; không sửa qua nhập tệp.", f=_column_name(key),
                                       v=_shown(before)))
                return False
            if key == "contract_date" and person.activated_on is not None and after > person.activated_on:
                self.add(line, key, _l("Ngày ký hợp đồng (%(c)s) sau ngày bắt đầu hoạt động (%(d)s): hợp đồng ký trước "
                                       "khi hoạt động.", c=_d(after), d=_d(person.activated_on)))
                return False
            update.application[key] = (before, after)
            said.append(str(_l("%(f)s: %(a)s → %(b)s", f=_column_name(key), a=_shown(before), b=_shown(after))))
        return True

    # quotas
    def _quota_warnings(self) -> None:
        """Hamlets the import takes over their quota (the province's criteria in force today):
        a warning, the import goes on (the paper network is what it is)."""
        gains = {k: v for k, v in self._gains.items() if v}
        if not gains:
            return
        info: dict[int, tuple] = {}
        active: dict[int, int] = defaultdict(int)
        for chunk in _chunks(sorted(gains)):
            for row in db.session.execute(select(AdminUnit.id, AdminUnit.name, AdminUnit.path, AdminUnit.households)
                                          .where(AdminUnit.id.in_(chunk))):
                info[row.id] = row
            suspended = select(Suspension.collaborator_id).where(services.open_on(Suspension, self.on))
            for hamlet_id, n in db.session.execute(
                    select(Assignment.hamlet_id, func.count()).where(
                        Assignment.hamlet_id.in_(chunk), services.open_on(Assignment, self.on),
                        Assignment.collaborator_id.not_in(suspended)).group_by(Assignment.hamlet_id)):
                active[hamlet_id] = n
        bands = bands_in_force({province_id_of(row.path) for row in info.values()}, self.on)
        over = _("%(h)s sẽ có %(t)d cộng tác viên (%(a)d đang hoạt động, thêm %(g)d), vượt định mức %(q)d theo tiêu "
                 "chuẩn của tỉnh: vẫn nhập, danh sách định mức sẽ đánh dấu “Vượt định mức”.")
        for hamlet_id in sorted(gains, key=lambda h: info[h].path):
            row = info[hamlet_id]
            province_bands = bands.get(province_id_of(row.path))
            if not province_bands:
                continue
            quota = rules.quota_for(row.households or 0, province_bands)
            total = active[hamlet_id] + gains[hamlet_id]
            if total > quota:
                self.warnings.append(Problem(None, None, over % {"h": row.name, "t": total, "a": active[hamlet_id],
                                                                "g": gains[hamlet_id], "q": quota}, self.table.sheet))


def _kind(kind: str) -> str:
    try:
        return str(KIND_LABELS[AssignmentKind(kind)])
    except ValueError:
        return kind


def _column_name(key: str) -> str:
    found = FIELD_BY_KEY.get(key)
    return str(found.label) if found is not None else key


def _shown(value: Any, key: str | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("Có")) if value else str(_l("Không"))
    if isinstance(value, date):
        return _d(value)
    if key == "sex":
        try:
            return str(SEX_LABELS[Sex(value)])
        except ValueError:
            return str(value)
    if key == "education":
        try:
            return str(EDUCATION_LABELS[Education(value)])
        except ValueError:
            return str(value)
    return str(value)


def plan_roster_import(table: Table, *, user, on: date | None = None, progress: Progress | None = None) -> RosterPlan:
    """What importing ``table`` would do, as ``user`` (None: the CLI's administrator, no scope
    limit): every row read and checked against the rules of this module's docstring, every
    problem with its row and column, the rows created / updated / unchanged, the warnings (a
    hamlet over its quota). Reads the database, writes nothing. ``progress(done, total)`` is
    called every few hundred rows."""
    return _Planner(table, user, on or today(), progress).run()


def apply_roster_import(plan: RosterPlan, *, actor, filename: str | None = None,
                        progress: Progress | None = None) -> Summary:
    """Write ``plan`` in the caller's transaction (flushed, never committed; the caller commits
    once): the new people "from paper" (``services.record_from_paper``), then each update
    through the candidate, the assignment or application it concerns and the services
    ``add_hamlet``, ``start_duty`` and ``end_duty``, each person's changes audited
    (``collaborator.import``) with the file's name. A plan with problems is refused
    (:class:`~danso_network.imports.problems.ImportRefused`) and nothing is written."""
    if plan.problems:
        raise ImportRefused(plan.problems)
    name = filename or plan.filename
    source = f"tệp “{name}”"
    total = len(plan.new) + len(plan.updates)
    for start in range(0, len(plan.new), 1000):
        services.record_from_paper(plan.new[start:start + 1000], actor=actor, source=source,
                                   audit_after={"file": name})
        if progress is not None:
            progress(min(start + 1000, len(plan.new)), total)
    _preload(plan.updates)
    for n, update in enumerate(plan.updates, len(plan.new) + 1):
        _apply_update(update, actor, name, plan.on)
        if progress is not None and (n % PROGRESS_EVERY == 0 or n == total):
            progress(n, total)
    db.session.flush()
    return Summary(plan.summary.created, plan.summary.updated, plan.summary.unchanged, [])


def _preload(updates: list[PersonUpdate]) -> None:
    """The rows the updates change, loaded a few hundred per query into the session."""
    candidates = sorted({u.known.candidate_id for u in updates if u.candidate})
    applications = sorted({u.known.application_id for u in updates if u.application})
    assignments = sorted({a for u in updates for a in u.refs})
    for ids, model in ((candidates, Candidate), (applications, Application), (assignments, Assignment)):
        for chunk in _chunks(ids):
            list(db.session.scalars(select(model).where(model.id.in_(chunk))))


def _apply_update(update: PersonUpdate, actor, filename: str, on: date) -> None:
    person = update.known
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if update.candidate:
        candidate = db.session.get(Candidate, person.candidate_id)
        for column, (old, new) in update.candidate.items():
            setattr(candidate, column, new)
            before[column], after[column] = old, new
    if update.application:
        application = db.session.get(Application, person.application_id)
        for column, (old, new) in update.application.items():
            setattr(application, column, new)
            before[column], after[column] = old, new
    for assignment_id, (old, new) in update.refs.items():
        db.session.get(Assignment, assignment_id).decision_ref = new
        before.setdefault("decision_ref", {})[str(assignment_id)] = old
        after.setdefault("decision_ref", {})[str(assignment_id)] = new
    collaborator = db.session.get(Collaborator, person.collaborator_id) if update.add or update.duty else None
    for place, since, ref in update.add:
        hamlet = db.session.get(AdminUnit, place.id)
        assignment = services.add_hamlet(collaborator, hamlet, on=since, actor=actor, decision_ref=ref)
        after.setdefault("additional", []).append({"assignment_id": assignment.id, "hamlet": place.name, "on": since})
    if update.duty == "start":
        services.start_duty(collaborator, DutyKind.FAMILY_CHILDREN, on=on, actor=actor)
        after["family_children"] = True
    elif update.duty == "end":
        services.end_duty(collaborator, DutyKind.FAMILY_CHILDREN, on=on, actor=actor)
        after["family_children"] = False
    home = person.home()
    record(UPDATE_ACTION, object_type="Collaborator", object_id=person.collaborator_id, label=person.full_name,
           unit_path=home.hamlet_path if home else None, before=before,
           after={**after, "file": filename, "rows": update.rows}, actor=actor)




# --- the report the pages show, and the background job for long files ---------------------------

STAGED_KIND = "collaborators"  # imports.staging: the import a staged file is for
JOB_KIND = "roster_import"
INLINE_ROWS = 5000  # default of the setting IMPORT_INLINE_ROWS: longer files go to a background job
PREVIEW_ROWS = 300  # rows of the dry run listed on the page (the changes first)
PREVIEW_PROBLEMS = 1000  # problems listed on the page (the CLI prints them all)


def inline_rows() -> int:
    from flask import current_app

    return int(current_app.config.get("IMPORT_INLINE_ROWS", INLINE_ROWS))


def report(plan: RosterPlan, *, committed: bool = False, token: str | None = None) -> dict:
    """What the dry-run and result pages show, as JSON-ready data (a background job stores it as
    its file): the counts, every problem and warning as one line (the page lists the first
    :data:`PREVIEW_PROBLEMS`), and the first :data:`PREVIEW_ROWS` rows, the changes first."""
    changed = [i for i in plan.items if i.action != UNCHANGED]
    shown = (changed + [i for i in plan.items if i.action == UNCHANGED])[:PREVIEW_ROWS]
    return {
        "filename": plan.filename, "sheet": plan.sheet, "rows": plan.rows, "created": plan.summary.created,
        "updated": plan.summary.updated, "unchanged": plan.summary.unchanged,
        "problems": [str(p) for p in plan.problems], "warnings": [str(w) for w in plan.warnings],
        "ignored": plan.ignored, "items": [{"row": i.row, "action": i.action, "full_name": i.full_name,
                                            "national_id": i.national_id, "hamlet": i.hamlet, "changes": i.changes}
                                           for i in shown],
        "more": max(0, len(plan.items) - len(shown)), "committed": committed, "token": token,
    }


def read_staged(item):
    """The staged upload read as a table (``imports.reading.read_table``; FileRefused as is)."""
    from ..imports.reading import read_table

    return read_table(item.path, FIELDS, filename=item.filename)


def check_job(params: dict, user) -> dict:
    """Before an import is queued: the user may appoint somewhere, and the staged file is theirs
    (404 otherwise, as for the pages)."""
    from ..errors import PermissionDenied
    from ..imports import staging

    if not isinstance(params, dict):
        params = {}
    if not scope_of(user).prefixes_for(ASSIGNMENT_ROLES):
        raise PermissionDenied(_l("Tài khoản của bạn không có quyền phân công cộng tác viên ở địa bàn nào, nên "
                                  "không nhập được danh sách."))
    token = str(params.get("token") or "")
    staging.staged(token, kind=STAGED_KIND, owner_id=user.id)
    return {"token": token, "commit": bool(params.get("commit"))}


def run_job(params: dict, progress):
    """A long file, dry run (``commit`` false) or import, with the rights of the user who asked
    (checked again now). The result is the :func:`report` as a JSON file, which the import page
    shows. An import with problems writes nothing; an import done discards the staged file."""
    import json

    from ..imports import staging
    from ..jobs.services import JobFile

    user = progress.owner
    params = check_job(params, user)
    item = staging.staged(params["token"], kind=STAGED_KIND, owner_id=user.id)
    progress.update(0, None, _l("Đang đọc tệp %(f)s…", f=item.filename))
    table = read_staged(item)
    total = len(table.rows)
    progress.update(0, total, _l("Đang kiểm tra %(n)d dòng…", n=total))
    plan = plan_roster_import(table, user=user, progress=lambda done, _t: progress.update(done, total))
    committed = False
    if params["commit"] and not plan.problems:
        progress.update(0, total, _l("Đang ghi vào cơ sở dữ liệu…"))
        apply_roster_import(plan, actor=user, filename=item.filename)
        committed = True
    if committed or plan.problems:
        staging.discard(item)
    result = report(plan, committed=committed, token=None if committed or plan.problems else item.token)
    data = json.dumps(result, ensure_ascii=False).encode("utf-8")
    stem = "ket-qua-nhap-ctv" if committed else "kiem-tra-nhap-ctv"
    return JobFile(f"{stem}-{today().isoformat()}.json", "application/json", write=lambda target: target.write(data))


def _register() -> None:
    from ..jobs.services import register

    register(JOB_KIND, run_job, check=check_job, label=_l("Nhập danh sách CTV từ tệp"))


_register()

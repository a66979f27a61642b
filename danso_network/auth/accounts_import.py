"""Accounts in bulk from a spreadsheet (issue #12 item 4): ``danso users import FILE`` and the
page "Nhập tài khoản từ tệp" of the user administration.

**The file.** XLSX, XLS, ODS or CSV (``imports.reading``), one row per account, with the columns
of :data:`FIELDS` (headers matched without case or diacritics, under any title block): the
username, the full name, the role (its label as the application shows it, a short form such as
"Trưởng trạm", or its code such as ``station_head``), **either** the code of the administrative
unit (``75``, ``25195``) **or** the code of the health facility (``TYT-25195``) where the role is
granted, optional e-mail and phone, and the day the role takes effect (empty: today). The
template (:func:`template_document`) lists the roles and the places of the admin's province.

**Refused** (with the row and column; nothing is written): a username that breaks the rule of
``services.check_username`` or that appears twice in the file, a username already taken in the
database (by another person, or with another role or place), an unknown role, a row with neither
or both of a unit and a facility, an unknown or closed unit or facility, a role held at the wrong
kind of place (``services.check_grant``: station roles at a station, the centre role at an area
health centre), a start day before the place existed, an invalid e-mail or phone, a place outside
the province the importing admin administers — **fail-closed**: a user who administers no
province can import nothing (the CLI without ``--user`` acts as the system administrator, for
any place). An account already recorded with the same name, role and place is "không đổi"
(re-importing the same file changes nothing, and issues no new password).

**One-time passwords.** Each new account gets a random first password
(``services.one_time_password``, drawn with ``secrets`` and passing the password policy), made
only when the accounts are written (:func:`apply_accounts`), stored hashed, and given back once
to the caller — the page shows them with the hand-out sheet (:func:`handout_document`) in the
same response, the CLI prints them — never stored in clear: not in the audit log, not in the
staged upload (which holds only the admin's file). The audit events (``user.create``,
``role.grant``) name the file. The model has no "must change the password" flag yet: the
hand-out tells each person to change it at first login.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..common.clock import today
from ..errors import DomainError
from ..exports.document import Column, Document, Kind, Sheet
from ..extensions import db
from ..imports import cells
from ..imports.cells import CellError
from ..imports.problems import ImportRefused, Problem, Problems, Summary
from ..imports.reading import Field, Row, Table
from ..textnorm import fold
from ..units.labels import FACILITY_KIND_LABELS
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import path_filter, valid_on
from . import services
from .labels import ROLE_LABELS, role_label
from .models import Role, User
from .permissions import can_manage_user, scope_of

KIND = "auth_accounts"  # the staged uploads' kind (imports.staging)
PAGE_MAX_ROWS = 300  # accounts per file on the page (each password hash takes a good part of a second)
CHUNK = 500  # values per IN (…) list
HASH_BATCH = 20  # passwords hashed between two progress reports
CREATE, UNCHANGED = "create", "unchanged"

# Short forms offices write for each role, beside its label and its code.
ROLE_ALIASES: dict[Role, tuple[str, ...]] = {
    Role.PROVINCE_ADMIN: ("Quản trị cấp tỉnh", "Quản trị tỉnh", "Quản trị", "Sở Y tế"),
    Role.CENTRE_OFFICER: ("Cán bộ trung tâm", "Cán bộ Trung tâm Y tế", "Trung tâm Y tế"),
    Role.STATION_HEAD: ("Trưởng trạm", "Trạm trưởng", "Giám đốc trạm", "Giám đốc Trạm Y tế"),
    Role.STATION_OFFICER: ("Viên chức dân số", "Viên chức"),
    Role.VIEWER: ("Xem",),
    Role.COMMUNE_COMMITTEE: ("UBND xã", "Uỷ ban nhân dân xã", "UBND"),
}


# Each header is also matched as written in Vietnamese (its first alias), whatever the reader's language.
FIELDS = [
    Field("username", _l("Tên đăng nhập"), aliases=("Tên đăng nhập", "Tài khoản", "Username"), required=True),
    Field("full_name", _l("Họ và tên"), aliases=("Họ và tên", "Họ tên", "Full name"), required=True),
    Field("role", _l("Vai trò"), aliases=("Vai trò", "Role"), required=True),
    Field("unit", _l("Mã đơn vị"), aliases=("Mã đơn vị", "Mã đơn vị hành chính", "Mã ĐVHC", "Mã xã/phường", "Mã xã",
                                           "Mã tỉnh", "Unit code")),
    Field("facility", _l("Mã cơ sở y tế"), aliases=("Mã cơ sở y tế", "Mã cơ sở", "Mã trạm", "Mã trạm y tế",
                                                   "Facility code")),
    Field("email", _l("Thư điện tử"), aliases=("Thư điện tử", "Email", "E-mail")),
    Field("phone", _l("Điện thoại"), aliases=("Điện thoại", "Số điện thoại", "SĐT", "Phone")),
    Field("valid_from", _l("Ngày hiệu lực"), aliases=("Ngày hiệu lực", "Có hiệu lực từ ngày", "Hiệu lực từ", "Từ ngày")),
]


# --- the plan -----------------------------------------------------------------------------------


@dataclass
class NewAccount:
    """One account the import would create."""

    row: int
    username: str
    full_name: str
    role: Role
    unit: AdminUnit | None
    facility: Facility | None
    valid_from: date
    email: str | None = None
    phone: str | None = None

    @property
    def place(self) -> AdminUnit | Facility:
        return self.unit if self.unit is not None else self.facility

    @property
    def place_name(self) -> str:
        return self.unit.full_name if self.unit is not None else self.facility.name

    @property
    def where(self) -> AdminUnit:
        """The unit an account's events are filed under (the audit log's area)."""
        return self.unit if self.unit is not None else self.facility.unit


@dataclass
class Item:
    """One row of the dry run."""

    row: int
    action: str  # CREATE | UNCHANGED
    username: str
    full_name: str
    role: str  # the role's label
    place: str  # the unit's or the facility's name
    place_code: str
    valid_from: date


@dataclass
class AccountsPlan:
    """What an import would do (:func:`plan_accounts`), for the dry run and for the apply."""

    filename: str
    sheet: str | None
    on: date
    summary: Summary
    items: list[Item] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # headers read by nothing
    new: list[NewAccount] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return self.summary.problems

    @property
    def rows(self) -> int:
        return len(self.items)


@dataclass
class IssuedAccount:
    """An account created by the import, with its one-time password (never stored)."""

    username: str
    password: str
    full_name: str
    role: str  # the role's label
    place: str
    valid_from: date


@dataclass
class ImportedAccounts(Summary):
    """What :func:`apply_accounts` did: the counts, and each account created with its password."""

    accounts: list[IssuedAccount] = field(default_factory=list)


Progress = Callable[[int, int], None]


# --- reading the cells --------------------------------------------------------------------------------


def role_options() -> dict[str, Role]:
    """Every way a role may be written (folded): its code, its label (in Vietnamese and in the
    reader's language), its short forms."""
    with force_locale("vi"):
        vietnamese = {role: str(ROLE_LABELS[role]) for role in Role}
    options: dict[str, Role] = {}
    for role in Role:
        for name in (role.value, vietnamese[role], str(ROLE_LABELS[role]), *ROLE_ALIASES.get(role, ())):
            options.setdefault(fold(name), role)
    return options


def _role(value: Any, options: dict[str, Role]) -> Role | None:
    text = cells.text(value, max_length=100, required=True)
    found = options.get(fold(text))
    if found is None:
        shown = "; ".join(f"“{ROLE_LABELS[r]}” ({r.value})" for r in Role)
        raise CellError(_l("“%(v)s” không phải vai trò; ghi một trong: %(o)s.", v=text[:40], o=shown))
    return found


def _username(value: Any) -> str | None:
    text = cells.text(value, max_length=120, required=True)
    try:
        return services.check_username(text)
    except DomainError as e:
        raise CellError(_l("“%(v)s”: %(m)s", v=text[:40], m=e.message)) from None


def _name(value: Any) -> str | None:
    out = " ".join((cells.text(value, max_length=200, required=True) or "").split())
    if len(out) < 2:
        raise CellError(_l("Vui lòng ghi đầy đủ họ và tên."))
    return out


def _unit_code(value: Any) -> str | tuple[str, ...] | None:
    """A unit's code. A number Excel made of it lost its leading zeros: it may be a province's
    (2 digits) or a commune's (5 digits) code, both tried (:func:`_place` keeps the one that exists)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100_000:
        return (f"{value:02d}", f"{value:05d}") if value < 100 else (f"{value:05d}",)
    return cells.code(value, max_length=10)


def _email(value: Any) -> str | None:
    text = cells.text(value, max_length=200)
    if text is None:
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise CellError(_l("Địa chỉ thư điện tử “%(v)s” không hợp lệ.", v=text[:60])) from None


@dataclass
class _Line:
    row: Row
    username: str | None
    full_name: str | None
    role: Role | None
    unit_code: str | tuple[str, ...] | None
    facility_code: str | None
    email: str | None
    phone: str | None
    valid_from: date | None


def _parse(table: Table, problems: Problems, on: date) -> list[_Line]:
    options = role_options()
    lines = []
    for row in table.rows:
        lines.append(_Line(
            row=row,
            username=problems.cell(row, "username", _username),
            full_name=problems.cell(row, "full_name", _name),
            role=problems.cell(row, "role", _role, options),
            unit_code=problems.cell(row, "unit", _unit_code),
            facility_code=problems.cell(row, "facility", cells.code, max_length=40),
            email=problems.cell(row, "email", _email),
            phone=problems.cell(row, "phone", cells.phone),
            valid_from=problems.cell(row, "valid_from", cells.day) or on,
        ))
    return lines


# --- what the database holds ------------------------------------------------------------------------


def _chunks(values: Sequence, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _users(usernames: Sequence[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for part in _chunks(sorted(set(usernames))):
        for user in db.session.scalars(select(User).where(func.lower(User.username).in_(part))):
            found[user.username.lower()] = user
    return found


def _units(codes: Sequence[str], on: date) -> dict[str, AdminUnit]:
    found: dict[str, AdminUnit] = {}
    for part in _chunks(sorted(set(codes))):
        for unit in db.session.scalars(select(AdminUnit).where(AdminUnit.code.in_(part), valid_on(AdminUnit, on))):
            found[unit.code] = unit
    return found


def _facilities(codes: Sequence[str]) -> dict[str, Facility]:
    found: dict[str, Facility] = {}
    for part in _chunks(sorted(set(codes))):
        for facility in db.session.scalars(select(Facility).where(func.upper(Facility.code).in_(part))):
            found[facility.code.upper()] = facility
    return found


def _same_account(user: User, line: _Line, unit: AdminUnit | None, facility: Facility | None, on: date) -> bool:
    """The account the row describes is already there: same name, and a grant of the same role at
    the same place, current or to come."""
    if fold(user.full_name) != fold(line.full_name or ""):
        return False
    return any(g.role == line.role.value and g.unit_id == getattr(unit, "id", None)
               and g.facility_id == getattr(facility, "id", None) and (g.valid_to is None or g.valid_to > on)
               for g in user.grants)


# --- planning -------------------------------------------------------------------------------------------


def _admin_prefixes(actor: User | None) -> list[str] | None:
    """Where ``actor`` may create accounts: the areas they administer as province admin today
    (None: the CLI's system administrator, everywhere)."""
    if actor is None:
        return None
    return scope_of(actor).prefixes_for({Role.PROVINCE_ADMIN})


def plan_accounts(table: Table, *, actor: User | None, on: date | None = None,
                  max_rows: int | None = None) -> AccountsPlan:
    """What importing ``table`` would do, as ``actor`` (None: the CLI's administrator, no scope
    limit): every row read and checked against the rules of this module's docstring, each
    problem with its row and column. Reads the database, writes nothing. ``max_rows``: a file
    with more rows is refused as a whole (the page's limit)."""
    day = on or today()
    problems = Problems(table)
    plan = AccountsPlan(table.filename, table.sheet, day, Summary(problems=problems.items),
                        ignored=list(table.ignored))
    prefixes = _admin_prefixes(actor)
    if prefixes is not None and not prefixes:
        problems.add(None, None, _l("Chỉ quản trị cấp tỉnh mới nhập được tài khoản, và chỉ trong tỉnh của mình."))
        return plan
    if "unit" not in table.columns and "facility" not in table.columns:
        problems.add(None, None, _l("Thiếu cột “%(u)s” hoặc “%(f)s”: mỗi tài khoản cần nơi được cấp quyền.",
                                    u=FIELDS[3].label, f=FIELDS[4].label))
        return plan
    if max_rows is not None and len(table.rows) > max_rows:
        problems.add(None, None, _l("Tệp có %(n)d tài khoản; mỗi lần nhập trên trang tối đa %(m)d. Hãy chia thành "
                                    "nhiều tệp, hoặc dùng lệnh danso users import.", n=len(table.rows), m=max_rows))
        return plan
    if not table.rows:
        problems.add(None, None, _l("Tệp không có dòng tài khoản nào dưới dòng tiêu đề."))
        return plan

    lines = _parse(table, problems, day)
    users = _users([line.username for line in lines if line.username])
    units = _units([code for line in lines if line.unit_code for code in
                    ((line.unit_code,) if isinstance(line.unit_code, str) else line.unit_code)], day)
    facilities = _facilities([line.facility_code.upper() for line in lines if line.facility_code])
    first_row: dict[str, int] = {}
    for line in lines:
        number = line.row.number
        if line.username:
            if line.username in first_row:
                problems.add(number, "username", _l("Tên đăng nhập “%(u)s” trùng với dòng %(r)d.",
                                                    u=line.username, r=first_row[line.username]))
                continue
            first_row[line.username] = number
        unit, facility = _place(line, units, facilities, prefixes, problems, day)
        if None in (line.username, line.full_name, line.role) or (unit is None and facility is None):
            continue
        try:
            services.check_grant(line.role, unit=unit, facility=facility, valid_from=line.valid_from)
        except DomainError as e:
            expected = services.ROLE_FACILITY_KIND.get(line.role)
            message = (_l("Vai trò “%(r)s” được cấp tại một cơ sở y tế loại “%(k)s”: ghi mã của cơ sở đó ở cột "
                          "“%(c)s”.", r=role_label(line.role), k=FACILITY_KIND_LABELS[expected],
                          c=table.header("facility") if "facility" in table.columns else FIELDS[4].label)
                       if expected is not None else e.message)
            problems.add(number, "role", message)
            continue
        place = unit if unit is not None else facility
        if line.valid_from < place.valid_from or (place.valid_to is not None and line.valid_from >= place.valid_to):
            problems.add(number, "valid_from", _l(
                "Ngày hiệu lực %(d)s nằm ngoài thời gian hoạt động của “%(p)s” (từ %(f)s).",
                d=line.valid_from.strftime("%d/%m/%Y"), p=_place_name(unit, facility),
                f=place.valid_from.strftime("%d/%m/%Y")))
            continue
        existing = users.get(line.username)
        item = Item(number, CREATE, line.username, line.full_name, role_label(line.role),
                    _place_name(unit, facility), unit.code if unit is not None else facility.code, line.valid_from)
        if existing is not None:
            if _same_account(existing, line, unit, facility, day) and (actor is None or can_manage_user(actor, existing)):
                item.action = UNCHANGED
                plan.items.append(item)
                continue
            problems.add(number, "username", _l("Tên đăng nhập “%(u)s” đã có người dùng; chọn tên khác.",
                                                u=line.username))
            continue
        plan.items.append(item)
        plan.new.append(NewAccount(number, line.username, line.full_name, line.role, unit, facility,
                                   line.valid_from, line.email, line.phone))
    plan.summary.created = sum(1 for i in plan.items if i.action == CREATE)
    plan.summary.unchanged = sum(1 for i in plan.items if i.action == UNCHANGED)
    return plan


def _place_name(unit: AdminUnit | None, facility: Facility | None) -> str:
    return unit.full_name if unit is not None else facility.name


def _place(line: _Line, units: dict[str, AdminUnit], facilities: dict[str, Facility], prefixes: list[str] | None,
           problems: Problems, on: date) -> tuple[AdminUnit | None, Facility | None]:
    """The unit or facility a row names, checked: exactly one, known, open, of a level a role is
    granted at, inside the importing admin's province."""
    number = line.row.number
    if line.unit_code and line.facility_code:
        problems.add(number, "facility", _l("Chỉ ghi một trong hai: mã đơn vị hoặc mã cơ sở y tế."))
        return None, None
    if not line.unit_code and not line.facility_code:
        if line.row.get("unit") is None and line.row.get("facility") is None:  # else the cell's own problem
            problems.add(number, "unit" if "unit" in problems.table.columns else "facility",
                         _l("Cần mã đơn vị hoặc mã cơ sở y tế nơi được cấp quyền."))
        return None, None
    unit = facility = None
    if line.unit_code:
        codes = (line.unit_code,) if isinstance(line.unit_code, str) else line.unit_code
        found = [units[c] for c in codes if c in units]
        if len(found) > 1:
            problems.add(number, "unit", _l("Mã %(v)s có thể là %(a)s hoặc %(b)s: ghi mã đủ các chữ số 0 ở đầu, dạng "
                                            "chữ (ví dụ “%(c)s”).", v=line.row.get("unit"), a=found[0].full_name,
                                            b=found[1].full_name, c=found[1].code))
            return None, None
        if not found:
            problems.add(number, "unit", _l("Không có đơn vị hành chính đang hiệu lực mang mã “%(c)s”.",
                                            c=codes[-1] if len(codes) == 1 else line.row.get("unit")))
            return None, None
        unit = found[0]
        if unit.level not in (UnitLevel.PROVINCE.value, UnitLevel.COMMUNE.value):
            problems.add(number, "unit", _l("Quyền chỉ được cấp tại một tỉnh/thành phố hoặc một xã/phường "
                                            "(mã “%(c)s” là đơn vị cấp khác).", c=line.unit_code))
            return None, None
        path, key = unit.path, "unit"
    else:
        facility = facilities.get(line.facility_code.upper())
        if facility is None:
            problems.add(number, "facility", _l("Không có cơ sở y tế mang mã “%(c)s”.", c=line.facility_code))
            return None, None
        if facility.valid_to is not None and facility.valid_to <= on:
            problems.add(number, "facility", _l("Cơ sở y tế “%(n)s” đã ngừng hoạt động từ %(d)s.", n=facility.name,
                                                d=facility.valid_to.strftime("%d/%m/%Y")))
            return None, None
        path, key = facility.unit.path, "facility"
    if prefixes is not None and not any(path.startswith(p) for p in prefixes):
        problems.add(number, key, _l("“%(p)s” nằm ngoài tỉnh bạn quản lý: chỉ tạo được tài khoản trong phạm vi "
                                     "của mình.", p=_place_name(unit, facility)))
        return None, None
    return unit, facility


# --- writing ---------------------------------------------------------------------------------------------


def apply_accounts(plan: AccountsPlan, *, actor: User | None, filename: str | None = None,
                   progress: Progress | None = None) -> ImportedAccounts:
    """Create the plan's accounts in the caller's transaction (flushed, never committed; the
    caller commits once), each with a one-time password made now and hashed
    (``services.one_time_password``, ``services.hash_passwords``), through
    ``services.create_user`` and ``services.grant_role`` — their audit events name the file, and
    hold no password. The passwords are returned, once, in the result. A plan with problems is
    refused (:class:`~danso_network.imports.problems.ImportRefused`) and nothing is written."""
    if plan.problems:
        raise ImportRefused(plan.problems)
    name = filename or plan.filename
    passwords = [services.one_time_password(n.username) for n in plan.new]
    hashes: list[str] = []
    total = len(plan.new)
    for start in range(0, total, HASH_BATCH):
        hashes.extend(services.hash_passwords(passwords[start:start + HASH_BATCH]))
        if progress is not None:
            progress(len(hashes), total)
    issued = []
    for new, password, hashed in zip(plan.new, passwords, hashes, strict=True):
        user = services.create_user(username=new.username, full_name=new.full_name, password=password,
                                    password_hash=hashed, email=new.email, phone=new.phone,
                                    unit_path=new.where.path, actor=actor, source_file=name, must_change=True)
        services.grant_role(user, new.role, unit=new.unit, facility=new.facility, valid_from=new.valid_from,
                            actor=actor, source_file=name)
        issued.append(IssuedAccount(user.username, password, user.full_name, role_label(new.role),
                                    new.place_name, new.valid_from))
    db.session.flush()
    return ImportedAccounts(created=len(issued), unchanged=plan.summary.unchanged, accounts=issued)


# --- the files -------------------------------------------------------------------------------------------


def handout_document(accounts: Sequence[IssuedAccount], *, source: str | None = None, on: date | None = None,
                     login_url: str | None = None) -> Document:
    """The hand-out sheet ("phiếu giao tài khoản"): one row per account — who, the username, the
    one-time password, the role and the place, what to do first, and room to sign for it. Made in
    the response that creates the accounts, and kept nowhere."""
    day = on or today()
    where = login_url or _("trang đăng nhập của hệ thống")
    first = _("Đăng nhập tại %(u)s, rồi đổi mật khẩu ngay (menu tài khoản → “Đổi mật khẩu”).", u=where)
    columns = [Column(_("STT"), Kind.ORDINAL, 4), Column(_("Họ và tên"), Kind.TEXT, 22),
               Column(_("Tên đăng nhập"), Kind.TEXT, 21), Column(_("Mật khẩu lần đầu"), Kind.TEXT, 16),
               Column(_("Vai trò"), Kind.TEXT, 20), Column(_("Nơi được cấp quyền"), Kind.TEXT, 26),
               Column(_("Có hiệu lực từ ngày"), Kind.DATE, 12), Column(_("Việc cần làm"), Kind.TEXT, 34),
               Column(_("Ký nhận"), Kind.TEXT, 14)]
    rows = [(n, a.full_name, a.username, a.password, a.role, a.place, a.valid_from, first, None)
            for n, a in enumerate(accounts, 1)]
    lines = [_("Ngày %(d)s", d=day.strftime("%d/%m/%Y"))]
    if source:
        lines.append(_("Tạo từ tệp “%(f)s”", f=source))
    return Document(
        title=_("Phiếu giao tài khoản"),
        lines=lines,
        sheets=[Sheet(_("Tài khoản"), columns, rows, totals_label=None)],
        notes=[
            _("Mỗi người chỉ nhận dòng của mình. Mật khẩu lần đầu chỉ được in một lần: hệ thống không lưu mật khẩu "
              "này; nếu làm mất, quản trị cấp tỉnh đặt lại mật khẩu mới."),
            _("Mật khẩu mới cần ít nhất %(n)d ký tự, không chứa tên đăng nhập và không phải mật khẩu phổ biến.",
              n=services.MIN_PASSWORD_LENGTH),
            _("Huỷ phiếu này sau khi đã giao và người nhận đã đổi mật khẩu."),
        ],
        filename=f"phieu-giao-tai-khoan-{day.isoformat()}",
        made_on=day,
    )


def template_document(actor: User | None, on: date | None = None) -> Document:
    """The file to fill in: the columns of :data:`FIELDS` (no rows), the roles with where each is
    held, the places of ``actor``'s province (facilities and units with their codes), and a
    sheet of instructions."""
    day = on or today()
    prefixes = _admin_prefixes(actor)
    widths = [18, 28, 28, 12, 16, 26, 14, 14]
    kinds = [Kind.TEXT] * 7 + [Kind.DATE]
    columns = [Column(str(f.label), kind, width) for f, kind, width in zip(FIELDS, kinds, widths, strict=True)]
    roles = []
    for role in Role:
        expected = services.ROLE_FACILITY_KIND.get(role)
        where = (_("Mã cơ sở y tế: %(k)s", k=FACILITY_KIND_LABELS[expected]) if expected is not None
                 else _("Mã đơn vị (tỉnh hoặc xã/phường) hoặc mã cơ sở y tế"))
        roles.append((str(ROLE_LABELS[role]), role.value, where))
    facility_query = (select(Facility).join(AdminUnit, Facility.unit_id == AdminUnit.id)
                      .where(valid_on(Facility, day)).order_by(Facility.kind, Facility.code))
    unit_query = (select(AdminUnit).where(valid_on(AdminUnit, day),
                                          AdminUnit.level.in_([UnitLevel.PROVINCE.value, UnitLevel.COMMUNE.value]))
                  .order_by(AdminUnit.level.desc(), AdminUnit.code))
    if prefixes is not None:
        facility_query = facility_query.where(path_filter(prefixes))
        unit_query = unit_query.where(path_filter(prefixes))
    places = [(f.code, f.name, str(FACILITY_KIND_LABELS.get(FacilityKind(f.kind), f.kind)), None)
              for f in db.session.scalars(facility_query)]
    places += [(None, u.full_name, _("Đơn vị hành chính"), u.code) for u in db.session.scalars(unit_query)]
    guide = [
        _("Mỗi dòng của trang “Tài khoản” là một tài khoản cần tạo; không sửa dòng tiêu đề."),
        str(services.USERNAME_RULE) + " " + _("Mỗi tên một dòng; tên đã có người dùng sẽ bị từ chối."),
        _("Vai trò: ghi tên vai trò hoặc mã vai trò (xem trang “Vai trò”)."),
        _("Nơi được cấp quyền: ghi Mã cơ sở y tế (trạm trưởng, viên chức dân số: mã trạm y tế; cán bộ trung tâm: mã "
          "trung tâm y tế) hoặc Mã đơn vị (tỉnh, xã/phường), không ghi cả hai. Xem trang “Nơi cấp quyền”."),
        _("Ngày hiệu lực: ngày/tháng/năm; để trống là từ hôm nay."),
        _("Sau khi nhập, hệ thống tạo cho mỗi tài khoản một mật khẩu lần đầu và in phiếu giao tài khoản một lần "
          "duy nhất: hãy tải hoặc in phiếu ngay."),
        _("Nhập tệp: trang Tài khoản → “Nhập từ tệp”, hoặc lệnh danso users import TỆP --dry-run."),
    ]
    return Document(
        title=_("Mẫu nhập tài khoản"),
        lines=[_("Ngày %(d)s", d=day.strftime("%d/%m/%Y"))],
        sheets=[Sheet(_("Tài khoản"), columns, [], empty_text=""),
                Sheet(_("Vai trò"), [Column(_("Vai trò"), Kind.TEXT, 44), Column(_("Mã vai trò"), Kind.TEXT, 20),
                                     Column(_("Nơi được cấp quyền"), Kind.TEXT, 50)], roles),
                Sheet(_("Nơi cấp quyền"), [Column(str(FIELDS[4].label), Kind.TEXT, 18), Column(_("Tên"), Kind.TEXT, 44),
                                           Column(_("Loại"), Kind.TEXT, 24), Column(str(FIELDS[3].label), Kind.TEXT, 14)],
                      places),
                Sheet(_("Hướng dẫn"), [Column(_("Hướng dẫn"), Kind.TEXT, 110)], [(line,) for line in guide])],
        filename=f"mau-nhap-tai-khoan-{day.isoformat()}", made_on=day)


"""The area health centres of a province and the communes they serve, from the office's own
spreadsheet (issue #12, item 1): XLSX, XLS, ODS or CSV, one row per centre.

Columns (:data:`FIELDS`; headers matched without case or diacritics, under any title block):
centre code, name, address, phone, the codes of the communes it serves (separated by commas,
semicolons or spaces), the day that row takes effect, and the decision. The template
(:func:`template_document`) lists the province's current centres and communes.

The rule every import follows (``imports.problems``): :func:`plan_centres` reads every row and
checks every rule without writing; :func:`apply_centres` writes all of it or nothing, through the
facility services (each change audited with the file's name), and the caller commits once.

What a row does:

- a code not yet used → a new centre reporting to the province's Department, serving the
  communes from the row's date (a province without a Department gets one, ``SYT-<code>``, and
  the dry run says so);
- the code of a centre of the province → its name, address, phone, decision corrected (an empty
  cell keeps what is recorded), and its communes changed **from the row's date** when they
  differ (the days before keep what was served then: ``services.set_service_area``); a commune
  moving to another centre takes its station along (the station reports to its new centre);
- the same as recorded → nothing ("không đổi"): re-importing a file changes nothing.

Refused, with the row and column (nothing is written): a missing or malformed cell, a code
twice in the file, a code of something other than a centre of this province (or of a closed
centre), an unknown commune, a commune not in force on the row's date, a commune of another
province, a commune given to two centres in the file, a commune that another centre not in the
file serves, a date before the Department or before the centre's last change of communes.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..audit.services import record
from ..common.clock import today
from ..errors import DomainError
from ..exports.document import Column, Document, Kind, Sheet
from ..extensions import db
from ..imports import cells
from ..imports.problems import ImportRefused, Problem, Problems, Summary
from ..imports.reading import Field, Table
from ..units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel
from ..units.services import province_id_of
from . import services

FIELDS = [
    Field("code", _l("Mã trung tâm"), aliases=("Mã", "Mã cơ sở", "Mã TTYT", "Mã trung tâm y tế"), required=True),
    Field("name", _l("Tên trung tâm"), aliases=("Tên", "Tên cơ sở", "Tên TTYT", "Tên trung tâm y tế"), required=True),
    Field("address", _l("Địa chỉ")),
    Field("phone", _l("Điện thoại"), aliases=("Số điện thoại", "SĐT")),
    Field("communes", _l("Mã xã/phường phục vụ"),
          aliases=("Xã phục vụ", "Các xã phục vụ", "Mã xã phục vụ", "Địa bàn phục vụ", "Mã xã/phường"), required=True),
    Field("valid_from", _l("Hiệu lực từ"), aliases=("Ngày hiệu lực", "Từ ngày", "Hiệu lực từ ngày"), required=True),
    Field("decision_ref", _l("Quyết định"), aliases=("Số quyết định", "Văn bản")),
]
KIND = "facilities_centres"  # the staged uploads' kind (imports.staging)
COMMUNE_CODE_DIGITS = 5  # DOMAIN.md §5: commune codes have 5 digits
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass
class CentreItem:
    """One row of the file, as it would be written."""

    row: int
    code: str
    name: str
    valid_from: date
    communes: list[AdminUnit]
    address: str | None = None
    phone: str | None = None
    decision_ref: str | None = None
    facility_id: int | None = None  # an existing centre
    action: str = "create"  # create | update | unchanged
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field → (recorded, in the file)
    added: list[AdminUnit] = field(default_factory=list)
    removed: list[AdminUnit] = field(default_factory=list)
    moved_stations: list[Facility] = field(default_factory=list)  # stations that follow their commune here

    @property
    def area_changed(self) -> bool:
        return bool(self.added or self.removed)

    def change_words(self) -> list[str]:
        """What changes, in words, for the dry run."""
        labels = {"name": _("Tên"), "address": _("Địa chỉ"), "phone": _("Điện thoại"), "decision_ref": _("Quyết định")}
        words = [f"{labels[k]}: “{old or '—'}” → “{new}”" for k, (old, new) in self.changes.items()]
        if self.added:
            words.append(_("Thêm từ %(d)s: %(u)s", d=self.valid_from.strftime("%d/%m/%Y"),
                           u=", ".join(u.name for u in self.added)))
        if self.removed:
            words.append(_("Thôi phụ trách từ %(d)s: %(u)s", d=self.valid_from.strftime("%d/%m/%Y"),
                           u=", ".join(u.name for u in self.removed)))
        if self.moved_stations:
            words.append(_("Trạm chuyển về trung tâm này: %(s)s", s=", ".join(s.name for s in self.moved_stations)))
        return words


@dataclass
class DepartmentToCreate:
    code: str
    name: str
    valid_from: date


@dataclass
class CentresPlan:
    filename: str
    province: AdminUnit | None
    problems: Problems
    items: list[CentreItem] = field(default_factory=list)
    department: DepartmentToCreate | None = None  # the province has none: created first
    ignored: list[str] = field(default_factory=list)  # columns the import does not read

    @property
    def summary(self) -> Summary:
        count = Counter(item.action for item in self.items)
        return Summary(count["create"], count["update"], count["unchanged"], list(self.problems))

    @property
    def changes(self) -> list[CentreItem]:
        return [item for item in self.items if item.action != "unchanged"]


def _commune_tokens(value: Any) -> list[str]:
    """The commune codes of a cell: "25195, 25210; 25222" → three codes. A number cell is one
    code whose leading zeros Excel dropped (4 → "00004")."""
    if value is None:
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value).zfill(COMMUNE_CODE_DIGITS)]
    return [t for t in _SEPARATORS.split(str(value)) if t]


@dataclass
class _Row:
    number: int
    code: str | None
    name: str | None
    address: str | None
    phone: str | None
    decision_ref: str | None
    valid_from: date | None
    tokens: list[str]
    communes: list[AdminUnit] = field(default_factory=list)
    ok: bool = True


def _read_rows(table: Table, problems: Problems) -> list[_Row]:
    rows = []
    for row in table.rows:
        before = len(problems)
        values = _Row(
            row.number,
            problems.cell(row, "code", cells.code, max_length=services.CODE_MAX, required=True),
            problems.cell(row, "name", cells.text, max_length=services.NAME_MAX, required=True),
            problems.cell(row, "address", cells.text, max_length=services.ADDRESS_MAX),
            problems.cell(row, "phone", cells.text, max_length=services.PHONE_MAX),
            problems.cell(row, "decision_ref", cells.text, max_length=services.DECISION_MAX),
            problems.cell(row, "valid_from", cells.day, required=True),
            _commune_tokens(row.get("communes")))
        if not values.tokens:
            problems.add(row.number, "communes", _l("Ghi mã các xã/phường trung tâm phụ trách, cách nhau bởi dấu phẩy."))
        values.ok = len(problems) == before
        rows.append(values)
    return rows


def _check_duplicate_codes(rows: list[_Row], problems: Problems) -> None:
    first: dict[str, int] = {}
    for r in rows:
        if r.code is None:
            continue
        if r.code in first:
            problems.add(r.number, "code", _l("Mã %(c)s trùng với dòng %(r)d: mỗi trung tâm một dòng.", c=r.code,
                                              r=first[r.code]))
            r.ok = False
        else:
            first[r.code] = r.number


def _guess_province(rows: list[_Row], units: dict[str, list[AdminUnit]]) -> AdminUnit | None:
    """The province most of the file's communes lie in (when the caller names none)."""
    votes = Counter(province_id_of(u.path) for r in rows for t in r.tokens for u in units.get(t, [])
                    if u.level == UnitLevel.COMMUNE)
    if not votes:
        return None
    return db.session.get(AdminUnit, votes.most_common(1)[0][0])


def _resolve_communes(rows: list[_Row], units: dict[str, list[AdminUnit]], province: AdminUnit,
                      problems: Problems) -> None:
    for r in rows:
        for token in dict.fromkeys(r.tokens):  # a code written twice in a cell counts once
            found = units.get(token, [])
            communes = [u for u in found if u.level == UnitLevel.COMMUNE]
            if not found:
                problems.add(r.number, "communes", _l("Không có xã/phường nào mang mã %(c)s.", c=token[:20]))
            elif not communes:
                problems.add(r.number, "communes", _l("Mã %(c)s là mã của %(u)s, không phải xã/phường.",
                                                      c=token, u=found[0].full_name))
            elif r.valid_from is None:
                continue
            else:
                valid = [u for u in communes if u.valid_on(r.valid_from)]
                if not valid:
                    problems.add(r.number, "communes", _l(
                        "%(u)s (mã %(c)s) không có hiệu lực vào ngày %(d)s.", u=communes[-1].full_name, c=token,
                        d=r.valid_from.strftime("%d/%m/%Y")))
                elif not valid[0].path.startswith(province.path):
                    other = services.province_of(valid[0])
                    problems.add(r.number, "communes", _l(
                        "%(u)s (mã %(c)s) thuộc %(o)s, không thuộc %(p)s: trung tâm y tế chỉ phụ trách xã/phường "
                        "trong tỉnh của mình.", u=valid[0].full_name, c=token, o=other.full_name, p=province.full_name))
                else:
                    r.communes.append(valid[0])
                    continue
            r.ok = False


def _check_communes_once(rows: list[_Row], problems: Problems) -> None:
    first: dict[int, _Row] = {}
    for r in rows:
        for commune in r.communes:
            if commune.id in first:
                problems.add(r.number, "communes", _l(
                    "%(u)s đã được ghi cho trung tâm %(c)s ở dòng %(r)d: mỗi xã/phường do một trung tâm phụ trách.",
                    u=commune.full_name, c=first[commune.id].code, r=first[commune.id].number))
                r.ok = False
            else:
                first[commune.id] = r


def plan_centres(table: Table, *, province: AdminUnit | None = None, actor=None) -> CentresPlan:
    """Read and check every row of a centres file (no writes). ``province``: the province the
    file is for (the page's; the CLI's ``--province``), else the one most of its communes lie
    in. ``actor``: when given, the import is refused unless they manage that province."""
    problems = Problems(table)
    rows = _read_rows(table, problems)
    _check_duplicate_codes(rows, problems)
    tokens = {t for r in rows for t in r.tokens}
    units: dict[str, list[AdminUnit]] = {}
    for unit in db.session.scalars(select(AdminUnit).where(AdminUnit.code.in_(sorted(tokens)))
                                   .order_by(AdminUnit.valid_from)) if tokens else []:
        units.setdefault(unit.code, []).append(unit)
    province = province or _guess_province(rows, units)
    plan = CentresPlan(table.filename, province, problems, ignored=list(table.ignored))
    if province is None:
        problems.add(None, None, _l("Không xác định được tỉnh của tệp: không có mã xã/phường nào trong tệp có trong cơ "
                                    "sở dữ liệu. Hãy nhập xã/phường của tỉnh trước (danso units import)."))
        return plan
    if actor is not None:
        from .permissions import can_manage_facilities

        if not can_manage_facilities(actor, province):
            problems.add(None, None, _l("Tài khoản %(u)s không quản lý cơ sở y tế của %(p)s.",
                                        u=getattr(actor, "username", ""), p=province.full_name))
            return plan
    _resolve_communes(rows, units, province, problems)
    _check_communes_once(rows, problems)
    existing = {f.code: f for f in db.session.scalars(
        select(Facility).where(Facility.code.in_(sorted({r.code for r in rows if r.code})))
    )} if rows else {}
    _check_existing(rows, existing, province, problems)
    plan.department = _department(rows, province, problems)
    _check_other_centres(rows, existing, problems)
    plan.items = [_item(r, existing.get(r.code), problems) for r in rows if r.ok]
    if problems:
        plan.items = []
    else:
        _stations_that_move(plan.items)
    return plan


def _check_existing(rows: list[_Row], existing: dict[str, Facility], province: AdminUnit, problems: Problems) -> None:
    from ..units.labels import facility_kind_label

    for r in rows:
        facility = existing.get(r.code) if r.code else None
        if facility is None:
            continue
        message = None
        if facility.kind != FacilityKind.HEALTH_CENTRE.value:
            message = _l("Mã %(c)s là mã của %(k)s “%(f)s”, không phải trung tâm y tế.", c=r.code,
                         k=facility_kind_label(facility.kind).lower(), f=facility.name)
        elif not facility.unit.path.startswith(province.path):
            message = _l("Mã %(c)s là mã của “%(f)s” thuộc tỉnh khác.", c=r.code, f=facility.name)
        elif facility.valid_to is not None:
            message = _l("“%(f)s” (mã %(c)s) đã đóng từ %(d)s; mã của cơ sở đã đóng không dùng lại được.", c=r.code,
                         f=facility.name, d=facility.valid_to.strftime("%d/%m/%Y"))
        if message is not None:
            problems.add(r.number, "code", message)
            r.ok = False


def _department(rows: list[_Row], province: AdminUnit, problems: Problems) -> DepartmentToCreate | None:
    """The province's Department must be open from the day each new centre opens; a province
    without one gets it, from the earliest day of the file."""
    department = services.department_of(province)
    days = [r.valid_from for r in rows if r.valid_from is not None]
    if department is not None:
        for r in rows:
            if r.ok and r.valid_from is not None and r.valid_from < department.valid_from:
                problems.add(r.number, "valid_from", _l(
                    "Ngày %(d)s trước ngày %(f)s bắt đầu hoạt động (%(s)s).", d=r.valid_from.strftime("%d/%m/%Y"),
                    f=department.name, s=department.valid_from.strftime("%d/%m/%Y")))
                r.ok = False
        return None
    if not days:
        return None
    code = services.department_code(province)
    holder = services.find_facility(code)
    if holder is not None:
        problems.add(None, None, _l("%(p)s chưa có Sở Y tế đang hoạt động, và mã %(c)s đã là mã của “%(f)s”: hãy tạo Sở Y "
                                    "tế trên trang Cơ sở y tế trước.", p=province.full_name, c=code, f=holder.name))
        return None
    return DepartmentToCreate(code, services.department_name(province), max(min(days), province.valid_from))


def _check_other_centres(rows: list[_Row], existing: dict[str, Facility], problems: Problems) -> None:
    """A commune served by a centre outside the file must be left to it; one served by a centre
    of the file that drops it moves on the day the other row takes effect, not later."""
    wanted = [(r, c) for r in rows if r.ok for c in r.communes]
    if not wanted:
        return
    start = min(r.valid_from for r, _c in wanted)
    areas = db.session.execute(
        select(ServiceArea, Facility).join(Facility, Facility.id == ServiceArea.facility_id)
        .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value,
               ServiceArea.unit_id.in_(sorted({c.id for _r, c in wanted})),
               or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to > start))).all()
    by_unit: dict[int, list[tuple[ServiceArea, Facility]]] = {}
    for area, facility in areas:
        by_unit.setdefault(area.unit_id, []).append((area, facility))
    in_file = {r.code: r for r in rows if r.code}
    for r, commune in wanted:
        own = existing.get(r.code)
        for area, other in by_unit.get(commune.id, []):
            if (own is not None and other.id == own.id) or not (area.valid_to is None or area.valid_to > r.valid_from):
                continue
            other_row = in_file.get(other.code)
            if other_row is None:
                problems.add(r.number, "communes", _l(
                    "%(u)s đang do %(f)s (mã %(c)s) phụ trách: thêm dòng của %(f)s (không có xã này) vào tệp, hoặc bỏ "
                    "xã này khỏi %(f)s trước.", u=commune.full_name, f=other.name, c=other.code))
                r.ok = False
            elif other_row.valid_from is not None and other_row.valid_from > r.valid_from:
                problems.add(r.number, "valid_from", _l(
                    "%(u)s chuyển từ %(f)s (dòng %(o)d, từ %(a)s) sang trung tâm này từ %(d)s: ngày nhận không được "
                    "trước ngày %(f)s thôi phụ trách.", u=commune.full_name, f=other.name, o=other_row.number,
                    a=other_row.valid_from.strftime("%d/%m/%Y"), d=r.valid_from.strftime("%d/%m/%Y")))
                r.ok = False


def _item(r: _Row, facility: Facility | None, problems: Problems) -> CentreItem:
    item = CentreItem(r.number, r.code, r.name, r.valid_from, r.communes, r.address, r.phone, r.decision_ref)
    if facility is None:
        return item
    item.facility_id = facility.id
    for key in ("name", "address", "phone", "decision_ref"):
        new = getattr(r, key)
        if new is not None and new != getattr(facility, key):
            item.changes[key] = (getattr(facility, key), new)
    current = {a.unit_id: a.unit for a in services.open_areas(facility)}
    wanted = {c.id: c for c in r.communes}
    item.added = [c for i, c in wanted.items() if i not in current]
    item.removed = sorted((u for i, u in current.items() if i not in wanted), key=lambda u: u.code or "")
    if item.area_changed:
        latest = services.last_change(facility)
        if r.valid_from < latest:
            problems.add(r.number, "valid_from", _l(
                "Xã/phường phụ trách của %(f)s đã thay đổi ngày %(l)s; thay đổi mới phải có hiệu lực từ ngày đó trở đi "
                "(tệp ghi %(d)s).", f=facility.name, l=latest.strftime("%d/%m/%Y"),
                d=r.valid_from.strftime("%d/%m/%Y")))
    item.action = "update" if (item.changes or item.area_changed) else "unchanged"
    return item


def _stations_that_move(items: list[CentreItem]) -> None:
    for item in items:
        incoming = item.communes if item.facility_id is None else item.added
        for commune in incoming:
            item.moved_stations += [s for s in services.stations_of_commune(commune, item.valid_from)
                                    if s.valid_to is None and s.parent_id != item.facility_id
                                    and s.parent is not None]


def apply_centres(plan: CentresPlan, *, actor=None, filename: str | None = None) -> Summary:
    """Write the plan: the Department if the province had none, the centres' corrections and
    changes of communes, then the new centres — each through the facility services (audited with
    the file's name), and one ``facilities.import`` event for the file. All or nothing: a plan
    with problems raises :class:`ImportRefused` before writing; a refusal met while writing rolls
    every change of the file back. Flushes, never commits."""
    if plan.problems or plan.province is None:
        raise ImportRefused(list(plan.problems) or [Problem(None, None, str(_l("Không xác định được tỉnh của tệp.")))])
    source = os.path.basename(filename or plan.filename)
    province = plan.province
    created, updated = [], []
    item = None
    try:
        with db.session.begin_nested():
            if plan.department is not None:
                services.create_facility(province, kind=FacilityKind.DEPARTMENT, valid_from=plan.department.valid_from,
                                         code=plan.department.code, name=plan.department.name, actor=actor,
                                         source=source)
            for item in (i for i in plan.items if i.action == "update"):
                facility = services.get_facility(item.facility_id)
                services.update_facility(
                    facility, name=item.name, address=item.address or facility.address,
                    phone=item.phone or facility.phone, decision_ref=item.decision_ref or facility.decision_ref,
                    actor=actor, source=source)
                if item.area_changed:
                    services.set_service_area(facility, item.communes, on=item.valid_from, actor=actor, source=source,
                                              others_checked=True)
                updated.append(item.code)
            for item in (i for i in plan.items if i.action == "create"):
                services.create_facility(province, kind=FacilityKind.HEALTH_CENTRE, valid_from=item.valid_from,
                                         code=item.code, name=item.name, communes=item.communes, address=item.address,
                                         phone=item.phone, decision_ref=item.decision_ref, actor=actor, source=source,
                                         others_checked=True)
                created.append(item.code)
            item = None
            if created or updated or plan.department is not None:
                record("facilities.import", object_type="import", object_id=source[:60],
                       label=str(_l("Nhập tệp trung tâm y tế %(f)s", f=source)), unit_path=province.path,
                       after={"source": source, "created": created, "updated": updated,
                              "department": plan.department.code if plan.department else None,
                              "unchanged": plan.summary.unchanged}, actor=actor)
                db.session.flush()
    except DomainError as e:
        row = item.row if item is not None else None
        raise ImportRefused([Problem(row, None, str(e), plan.problems.table.sheet if plan.problems.table else None)]) \
            from e
    return plan.summary


# --- the template -----------------------------------------------------------------------------


def template_document(province: AdminUnit, on: date | None = None) -> Document:
    """The centres file of ``province`` as it stands on ``on``: one row per open centre (so the
    file re-imports unchanged, and is edited rather than typed), a sheet of the province's
    communes with their codes and current centre, and a sheet of instructions."""
    day = on or today()
    centres = services.open_facilities(province, FacilityKind.HEALTH_CENTRE)
    served = services.served_on(centres, day)
    rows = [(c.code, c.name, c.address, c.phone, ", ".join(u.code for u in served[c.id]),
             max([c.valid_from, *(a.valid_from for a in services.open_areas(c))]), c.decision_ref) for c in centres]
    centre_of = {u.id: c for c in centres for u in served[c.id]}
    communes = [(u.code, u.full_name, centre_of[u.id].code if u.id in centre_of else None,
                 centre_of[u.id].name if u.id in centre_of else None) for u in services.communes_of(province, day)]
    widths = [14, 40, 40, 14, 40, 12, 24]
    kinds = [Kind.TEXT] * 5 + [Kind.DATE, Kind.TEXT]
    columns = [Column(str(f.label), kind, width) for f, kind, width in zip(FIELDS, kinds, widths, strict=True)]
    guide = [
        _("Mỗi dòng của trang “Trung tâm y tế” là một trung tâm y tế khu vực của %(p)s.", p=province.full_name),
        _("Mã trung tâm: mã do tỉnh đặt (ví dụ TTYT-689), không có khoảng trắng; mỗi mã một dòng."),
        _("Mã xã/phường phục vụ: mã 5 chữ số của các xã/phường trung tâm phụ trách, cách nhau bởi dấu phẩy (xem "
          "trang “Xã phường”). Mỗi xã/phường chỉ do một trung tâm phụ trách."),
        _("Hiệu lực từ: ngày/tháng/năm trung tâm bắt đầu phụ trách các xã/phường đã ghi. Đổi xã/phường của một "
          "trung tâm đã có: ghi ngày thay đổi; các ngày trước đó vẫn giữ như cũ."),
        _("Ô Địa chỉ, Điện thoại, Quyết định để trống thì giữ nguyên thông tin đã có."),
        _("Nhập tệp: trang Cơ sở y tế → “Nhập trung tâm từ tệp”, hoặc lệnh danso facilities import TỆP --dry-run."),
    ]
    return Document(
        title=_("Danh sách trung tâm y tế khu vực"),
        lines=[province.full_name, _("Ngày %(d)s", d=day.strftime("%d/%m/%Y"))],
        sheets=[Sheet(_("Trung tâm y tế"), columns, rows, empty_text=""),
                Sheet(_("Xã phường"), [Column(_("Mã xã/phường"), Kind.TEXT, 14), Column(_("Tên xã/phường"), Kind.TEXT, 36),
                                       Column(_("Mã trung tâm phụ trách"), Kind.TEXT, 18),
                                       Column(_("Trung tâm phụ trách"), Kind.TEXT, 40)], communes),
                Sheet(_("Hướng dẫn"), [Column(_("Hướng dẫn"), Kind.TEXT, 110)], [(line,) for line in guide])],
        filename=f"mau-trung-tam-y-te-{province.code}-{day.isoformat()}", made_on=day)

"""Health facilities of a province and the communes they serve, over time (issue #12, item 1).

The supervision chain (DOMAIN.md §6; DESIGN.md §5): one Department of Health (Sở Y tế / Chi cục
Dân số) per province → area health centres (Trung tâm Y tế khu vực), each serving several
communes → one commune health station (Trạm Y tế) per commune, reporting to the centre serving
its commune.

Rules kept here (each action is one function: guard → change → audit → flush, never commit):

- **Effective-dated, never deleted.** A facility is open over ``[valid_from, valid_to)``; closing
  it sets ``valid_to`` and ends its service areas that day. What a facility serves is a list of
  :class:`~danso_network.units.models.ServiceArea` rows, each dated; a change of the communes served
  ends the rows that stop and opens rows that start on the day of the change, so the service
  area on any past day is still known (:func:`service_history`). A change is dated on or after
  the facility's last recorded change; a change dated the same day as the last one corrects it
  (a row that would last no day at all is removed — the audit keeps it).
- **Codes** are unique for ever (a closed facility's code is not given to another one): the
  Department ``SYT-<province code>``, a station ``TYT-<commune code>`` (the demo's conventions,
  ``demo/loader.py``), a centre the code the province uses (the demo: ``TTYT-<former district
  code>``).
- **One station per commune, one centre per commune, one Department per province**, all inside
  the province: a centre serves communes of its own province only; a station reports to a centre
  of its province (by default the one serving its commune on the day it opens), and follows its
  commune when the commune moves to another centre.
- **Audited**: every change writes an audit event (``facility.create``, ``facility.update``,
  ``facility.service_area``, ``facility.close``); a change made from an imported file names the
  file (``source``).

Creation itself goes through :func:`danso_network.units.services.create_facility` (the rules of
the chain's shape live there, shared with the demo loader); this module adds the province's
rules and the defaults around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from ..audit.models import AuditEvent
from ..audit.services import record, snapshot
from ..auth.models import RoleGrant
from ..common.clock import today
from ..common.paging import Page, paginate
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..textnorm import clean_text, fold, has_meaning
from ..units import services as unit_services
from ..units.labels import facility_kind_label
from ..units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel
from ..units.services import province_of, valid_on

CODE_MAX, NAME_MAX, ADDRESS_MAX, PHONE_MAX, DECISION_MAX = 40, 250, 300, 30, 200
FACILITY_AUDIT_FIELDS = ["code", "name", "address", "phone", "parent_id", "unit_id", "decision_ref",
                         "valid_from", "valid_to"]
KIND_ORDER = {FacilityKind.DEPARTMENT.value: 0, FacilityKind.HEALTH_CENTRE.value: 1, FacilityKind.STATION.value: 2}
STATUSES = ("open", "closed", "all")


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- conventions ------------------------------------------------------------------------------


def department_code(province: AdminUnit) -> str:
    return f"SYT-{province.code}"


def department_name(province: AdminUnit) -> str:
    return f"Sở Y tế {province.full_name}"


def station_code(commune: AdminUnit) -> str:
    """``TYT-<commune code>`` (the demo's convention): the code follows the commune's official code."""
    return f"TYT-{commune.code}"


def station_name(commune: AdminUnit) -> str:
    """"Trạm Y tế <commune>" with the commune's full name ("Trạm Y tế Xã Bom Bo")."""
    return f"Trạm Y tế {commune.full_name}"


# --- reading ----------------------------------------------------------------------------------


def get_facility(facility_id: int) -> Facility:
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(_l("Không tìm thấy cơ sở y tế."))
    return facility


def find_facility(code: str) -> Facility | None:
    return db.session.scalar(select(Facility).where(Facility.code == code))


def facility_province(facility: Facility) -> AdminUnit:
    """The province a facility belongs to (the root of its unit's path)."""
    return province_of(facility.unit)


def in_province(province: AdminUnit):
    """SQL condition on :class:`Facility`: it sits in the province (the Department and centres at
    the province itself, stations at one of its communes)."""
    return Facility.unit_id.in_(select(AdminUnit.id).where(AdminUnit.path.startswith(province.path, autoescape=True)))


def department_of(province: AdminUnit, on: date | None = None) -> Facility | None:
    """The province's open Department (on ``on`` when given, else the one not closed)."""
    stmt = select(Facility).where(Facility.kind == FacilityKind.DEPARTMENT.value, Facility.unit_id == province.id)
    stmt = stmt.where(valid_on(Facility, on)) if on is not None else stmt.where(Facility.valid_to.is_(None))
    return db.session.scalars(stmt.order_by(Facility.valid_from.desc())).first()


def open_facilities(province: AdminUnit, kind: FacilityKind, on: date | None = None) -> list[Facility]:
    """The province's facilities of ``kind`` open on ``on`` (or not closed), by code."""
    stmt = select(Facility).where(Facility.kind == kind.value, in_province(province))
    stmt = stmt.where(valid_on(Facility, on)) if on is not None else stmt.where(Facility.valid_to.is_(None))
    return list(db.session.scalars(stmt.order_by(Facility.code)))


def communes_of(province: AdminUnit, on: date | None = None) -> list[AdminUnit]:
    return unit_services.descendants(province, as_of=on or today(), level=UnitLevel.COMMUNE)


def service_history(facility: Facility) -> list[ServiceArea]:
    """Every service-area row of the facility, the current ones first, then by start date."""
    return sorted(db.session.scalars(select(ServiceArea).where(ServiceArea.facility_id == facility.id)
                                     .options(selectinload(ServiceArea.unit))),
                  key=lambda a: (a.valid_to is not None, -a.valid_from.toordinal(), a.unit.code or ""))


def open_areas(facility: Facility) -> list[ServiceArea]:
    return list(db.session.scalars(select(ServiceArea).where(ServiceArea.facility_id == facility.id,
                                                             ServiceArea.valid_to.is_(None))))


def last_change(facility: Facility) -> date:
    """The day of the facility's last recorded change of service area (its opening at least)."""
    days = [facility.valid_from]
    for area in db.session.scalars(select(ServiceArea).where(ServiceArea.facility_id == facility.id)):
        days.append(area.valid_from)
        if area.valid_to is not None:
            days.append(area.valid_to)
    return max(days)


def served_on(facilities: Sequence[Facility], on: date) -> dict[int, list[AdminUnit]]:
    """For each facility, the units it serves on ``on`` (one query)."""
    ids = [f.id for f in facilities]
    result: dict[int, list[AdminUnit]] = {i: [] for i in ids}
    if not ids:
        return result
    rows = db.session.execute(select(ServiceArea.facility_id, AdminUnit).join(AdminUnit, AdminUnit.id == ServiceArea.unit_id)
                              .where(ServiceArea.facility_id.in_(ids), valid_on(ServiceArea, on))
                              .order_by(AdminUnit.code))
    for facility_id, unit in rows:
        result[facility_id].append(unit)
    return result


def centre_serving(commune: AdminUnit, on: date, *, exclude: int | None = None) -> Facility | None:
    """The open centre whose service area holds the commune on ``on``."""
    stmt = (select(Facility).join(ServiceArea, ServiceArea.facility_id == Facility.id)
            .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, ServiceArea.unit_id == commune.id,
                   valid_on(ServiceArea, on), valid_on(Facility, on)))
    if exclude is not None:
        stmt = stmt.where(Facility.id != exclude)
    return db.session.scalars(stmt.order_by(Facility.code)).first()


def stations_of_commune(commune: AdminUnit, on: date) -> list[Facility]:
    """The stations open on or after ``on`` that sit at the commune or serve it from ``on`` on."""
    serving = select(ServiceArea.facility_id).where(
        ServiceArea.unit_id == commune.id, or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to > on))
    return list(db.session.scalars(select(Facility).where(
        Facility.kind == FacilityKind.STATION.value, or_(Facility.valid_to.is_(None), Facility.valid_to > on),
        or_(Facility.unit_id == commune.id, Facility.id.in_(serving))).order_by(Facility.code)))


def other_centres_serving(commune: AdminUnit, on: date, *, exclude: int | None = None) -> list[Facility]:
    """The centres other than ``exclude`` whose service area holds the commune on or after ``on``."""
    stmt = (select(Facility).join(ServiceArea, ServiceArea.facility_id == Facility.id)
            .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, ServiceArea.unit_id == commune.id,
                   or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to > on)))
    if exclude is not None:
        stmt = stmt.where(Facility.id != exclude)
    return list(db.session.scalars(stmt.distinct().order_by(Facility.code)))


# --- the list page ----------------------------------------------------------------------------


def facility_page(province: AdminUnit, *, q: str = "", kind: str | None = None, status: str = "open",
                  on: date | None = None, page: int = 1, per_page: int = 50) -> Page:
    """One page of the province's facilities: the Department, then centres, then stations, each
    by code; ``q`` matches the code or the name without case or diacritics ("tram y te bom bo"),
    ``kind`` one kind, ``status`` open on ``on`` / closed by then / all. Counted and paged in SQL.

    The search folds Vietnamese, which SQLite cannot (it folds ASCII only): the codes and names of
    the filtered facilities — a few hundred at most in a province, one station per commune, 168 in
    the largest — are read in one light query and matched folded, and the page is then a query on
    the matching ids."""
    day = on or today()
    conditions = [in_province(province)]
    if kind in KIND_ORDER:
        conditions.append(Facility.kind == kind)
    if status == "open":
        conditions.append(valid_on(Facility, day))
    elif status == "closed":
        conditions.extend([Facility.valid_to.is_not(None), Facility.valid_to <= day])
    words = fold(q).split() if q else []
    if words:
        names = db.session.execute(select(Facility.id, Facility.code, Facility.name).where(*conditions))
        conditions.append(Facility.id.in_([r.id for r in names
                                           if all(w in f"{fold(r.code)} {fold(r.name)}" for w in words)]))
    stmt = (select(Facility).where(*conditions)
            .order_by(case(KIND_ORDER, value=Facility.kind, else_=9), Facility.code, Facility.id)
            .options(selectinload(Facility.parent), selectinload(Facility.unit)))
    return paginate(stmt, page, per_page)


# --- shared checks ----------------------------------------------------------------------------


def _clean(value: str | None, max_length: int, label, *, field_name: str) -> str | None:
    text = clean_text(value or "")
    if len(text) > max_length:
        raise ValidationFailed(_l("%(f)s quá dài: tối đa %(n)d ký tự.", f=label, n=max_length), field=field_name)
    return text or None


def _check_code(code: str | None) -> str:
    code = clean_text(code or "")
    if not code:
        raise ValidationFailed(_l("Vui lòng nhập mã cơ sở."), field="code")
    if any(ch.isspace() for ch in code) or len(code) > CODE_MAX:
        raise ValidationFailed(_l("Mã cơ sở không chứa khoảng trắng, tối đa %(n)d ký tự.", n=CODE_MAX), field="code")
    holder = find_facility(code)
    if holder is not None:
        raise Conflict(_l("Mã %(code)s đã là mã của “%(name)s”. Mỗi mã chỉ dùng cho một cơ sở, kể cả khi cơ sở đó "
                          "đã đóng.", code=code, name=holder.name), field="code")
    return code


def _check_name(name: str | None) -> str:
    name = _clean(name, NAME_MAX, _l("Tên cơ sở"), field_name="name")
    if not has_meaning(name):
        raise ValidationFailed(_l("Vui lòng nhập tên cơ sở."), field="name")
    return name


def check_communes(province: AdminUnit, communes: Iterable[AdminUnit], on: date, *,
                   field_name: str = "communes") -> list[AdminUnit]:
    """The communes, each a commune of the province in force on ``on`` (duplicates dropped)."""
    result: dict[int, AdminUnit] = {}
    for unit in communes:
        if unit.level != UnitLevel.COMMUNE:
            raise ValidationFailed(_l("“%(u)s” không phải xã/phường/đặc khu.", u=unit.full_name), field=field_name)
        if not unit.path.startswith(province.path):
            raise ValidationFailed(_l("%(u)s không thuộc %(p)s: cơ sở y tế chỉ phục vụ xã/phường trong tỉnh của mình.",
                                      u=unit.full_name, p=province.full_name), field=field_name)
        if not unit.valid_on(on):
            raise ValidationFailed(_l("%(u)s không có hiệu lực vào ngày %(d)s.", u=unit.full_name, d=_d(on)),
                                   field=field_name)
        result[unit.id] = unit
    return list(result.values())


def _check_parent(parent: Facility | None, kind: FacilityKind, province: AdminUnit, on: date) -> None:
    expected = {FacilityKind.HEALTH_CENTRE: FacilityKind.DEPARTMENT, FacilityKind.STATION: FacilityKind.HEALTH_CENTRE}[kind]
    if parent is None or parent.kind != expected.value:
        raise ValidationFailed(_l("Cơ sở cấp trên phải là %(k)s.", k=facility_kind_label(expected)), field="parent")
    if not parent.unit.path.startswith(province.path):
        raise ValidationFailed(_l("%(f)s không thuộc %(p)s.", f=parent.name, p=province.full_name), field="parent")
    if not (parent.valid_from <= on and (parent.valid_to is None or on < parent.valid_to)):
        raise ValidationFailed(_l("%(f)s không hoạt động vào ngày %(d)s (hiệu lực từ %(a)s).", f=parent.name, d=_d(on),
                                  a=_d(parent.valid_from)), field="parent")


def _centre_conflicts(communes: Iterable[AdminUnit], on: date, exclude: int | None) -> None:
    for commune in communes:
        others = other_centres_serving(commune, on, exclude=exclude)
        if others:
            raise Conflict(_l("%(u)s đang do %(f)s phụ trách: mỗi xã/phường do một trung tâm y tế phụ trách. Hãy bỏ xã "
                              "này khỏi vùng phục vụ của %(f)s trước.", u=commune.full_name, f=others[0].name),
                           field="communes")


def _tag_source(facility: Facility, source: str | None) -> None:
    """Name the imported file in the ``facility.create`` event that ``units.services.create_facility``
    just added to the session (pending until the caller commits)."""
    if not source:
        return
    for obj in db.session.new:
        if (isinstance(obj, AuditEvent) and obj.action == "facility.create" and obj.object_type == "Facility"
                and obj.object_id == str(facility.id)):
            obj.after = {**(obj.after or {}), "source": source}
            obj.object_label = f"{obj.object_label} ({source})"[:300]


def _adopt_stations(centre: Facility, communes: Iterable[AdminUnit], on: date, *, actor=None,
                    source: str | None = None) -> list[Facility]:
    """The open stations of the communes coming to ``centre`` report to it from now on: a station
    reports to the centre serving its commune. ``Facility.parent_id`` is not dated; the audit
    keeps the centre it reported to before."""
    moved = []
    for commune in communes:
        for station in stations_of_commune(commune, on):
            if station.valid_to is not None or station.parent_id == centre.id:
                continue
            before = {"parent_id": station.parent_id}
            station.parent = centre
            after = {"parent_id": centre.id, **({"source": source} if source else {})}
            record("facility.update", station, label=station.name, unit_path=station.unit.path, before=before,
                   after=after, actor=actor)
            moved.append(station)
    db.session.flush()
    return moved


def _codes(units: Iterable[AdminUnit]) -> list[str]:
    return sorted(u.code or str(u.id) for u in units)


# --- actions ----------------------------------------------------------------------------------


def create_facility(province: AdminUnit, *, kind: FacilityKind | str, valid_from: date, code: str | None = None,
                    name: str | None = None, communes: Iterable[AdminUnit] = (), parent: Facility | None = None,
                    address: str | None = None, phone: str | None = None, decision_ref: str | None = None,
                    actor=None, source: str | None = None, others_checked: bool = False) -> Facility:
    """Open a facility of ``province`` from ``valid_from``.

    - Department: one open Department per province; serves the province; code and name default
      to ``SYT-<code>`` and "Sở Y tế <province>".
    - Area health centre: reports to the province's Department (open on ``valid_from``); serves
      one or more communes of the province, none of them already served by another centre on or
      after that day (``others_checked``: an import has checked the whole new map itself).
    - Station: serves exactly one commune, which has no open station; reports to ``parent`` or, by
      default, the centre serving the commune on ``valid_from``; code and name default to
      ``TYT-<commune code>`` and "Trạm Y tế <commune>".
    """
    kind = FacilityKind(kind)
    if province.level != UnitLevel.PROVINCE:
        raise ValidationFailed(_l("Cơ sở y tế được tạo trong một tỉnh/thành phố."))
    if not province.valid_on(valid_from):
        raise ValidationFailed(_l("%(p)s không có hiệu lực vào ngày %(d)s.", p=province.full_name, d=_d(valid_from)),
                               field="valid_from")
    address = _clean(address, ADDRESS_MAX, _l("Địa chỉ"), field_name="address")
    phone = _clean(phone, PHONE_MAX, _l("Điện thoại"), field_name="phone")
    decision_ref = _clean(decision_ref, DECISION_MAX, _l("Quyết định"), field_name="decision_ref")
    if kind == FacilityKind.DEPARTMENT:
        existing = department_of(province)
        if existing is not None:
            raise Conflict(_l("%(p)s đã có %(f)s; mỗi tỉnh một Sở Y tế.", p=province.full_name, f=existing.name))
        unit, parent, serves = province, None, [province]
        code, name = code or department_code(province), name or department_name(province)
    elif kind == FacilityKind.HEALTH_CENTRE:
        parent = parent or department_of(province, valid_from)
        if parent is None:
            raise ValidationFailed(_l("%(p)s chưa có Sở Y tế hoạt động vào ngày %(d)s: hãy tạo Sở Y tế trước.",
                                      p=province.full_name, d=_d(valid_from)), field="valid_from")
        _check_parent(parent, kind, province, valid_from)
        serves = check_communes(province, communes, valid_from)
        if not serves:
            raise ValidationFailed(_l("Trung tâm y tế phải phụ trách ít nhất một xã/phường."), field="communes")
        if not others_checked:
            _centre_conflicts(serves, valid_from, exclude=None)
        unit = province
        if not code:
            raise ValidationFailed(_l("Vui lòng nhập mã cơ sở."), field="code")
    else:
        serves = check_communes(province, communes, valid_from)
        if len(serves) != 1:
            raise ValidationFailed(_l("Trạm y tế phục vụ đúng một xã/phường/đặc khu."), field="communes")
        commune = serves[0]
        existing = stations_of_commune(commune, valid_from)
        if existing:
            raise Conflict(_l("%(u)s đã có %(f)s (mã %(c)s): mỗi xã/phường một trạm y tế.", u=commune.full_name,
                              f=existing[0].name, c=existing[0].code), field="communes")
        if parent is None:
            parent = centre_serving(commune, valid_from)
            if parent is None:
                raise ValidationFailed(_l("Chưa có trung tâm y tế nào phụ trách %(u)s vào ngày %(d)s: chọn trung tâm "
                                          "cấp trên, hoặc ghi xã này vào vùng phục vụ của một trung tâm trước.",
                                          u=commune.full_name, d=_d(valid_from)), field="parent")
        _check_parent(parent, kind, province, valid_from)
        unit = commune
        code, name = code or station_code(commune), name or station_name(commune)
    code, name = _check_code(code), _check_name(name)
    facility = unit_services.create_facility(
        code=code, kind=kind, name=name, unit=unit, valid_from=valid_from, parent=parent, serves=serves,
        actor=actor, address=address, phone=phone, decision_ref=decision_ref)
    _tag_source(facility, source)
    if kind == FacilityKind.HEALTH_CENTRE:
        _adopt_stations(facility, serves, valid_from, actor=actor, source=source)
    return facility


def update_facility(facility: Facility, *, name: str, address: str | None = None, phone: str | None = None,
                    decision_ref: str | None = None, parent: Facility | None = None, actor=None,
                    source: str | None = None) -> bool:
    """Correct an open facility's name, address, phone and decision, and a station's centre
    (``parent``: another open centre of the province). Whether anything changed; an unchanged
    record writes no audit event."""
    if facility.valid_to is not None:
        raise Conflict(_l("%(f)s đã đóng từ %(d)s; không sửa được nữa.", f=facility.name, d=_d(facility.valid_to)))
    changes = {"name": _check_name(name),
               "address": _clean(address, ADDRESS_MAX, _l("Địa chỉ"), field_name="address"),
               "phone": _clean(phone, PHONE_MAX, _l("Điện thoại"), field_name="phone"),
               "decision_ref": _clean(decision_ref, DECISION_MAX, _l("Quyết định"), field_name="decision_ref")}
    if parent is not None and parent.id != facility.parent_id:
        if facility.kind != FacilityKind.STATION.value:
            raise ValidationFailed(_l("Chỉ đổi được trung tâm cấp trên của trạm y tế."), field="parent")
        province = facility_province(facility)
        _check_parent(parent, FacilityKind.STATION, province, max(today(), facility.valid_from))
        changes["parent_id"] = parent.id
    before = snapshot(facility, list(changes))
    changed = {k: v for k, v in changes.items() if before[k] != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(facility, key, value)
    if "parent_id" in changed:
        facility.parent = parent
    after = {k: v for k, v in changed.items()}
    if source:
        after["source"] = source
    record("facility.update", facility, label=facility.name, unit_path=facility.unit.path,
           before={k: before[k] for k in changed}, after=after, actor=actor)
    db.session.flush()
    return True


def set_service_area(facility: Facility, communes: Iterable[AdminUnit], *, on: date, actor=None,
                     source: str | None = None, others_checked: bool = False) -> bool:
    """From ``on``, the facility serves exactly ``communes``: the areas that stop end on ``on``,
    the new ones start on ``on``; earlier days keep what was served then. A centre serves one or
    more communes of its province, none served by another centre from ``on`` (unless
    ``others_checked``), and the stations of the communes it gains report to it; a station exactly
    one commune, and sits at it. ``on`` is not before the facility's last change
    (:func:`last_change`). Whether anything changed."""
    kind = FacilityKind(facility.kind)
    if kind == FacilityKind.DEPARTMENT:
        raise ValidationFailed(_l("Sở Y tế phụ trách toàn tỉnh; không đổi vùng phục vụ."))
    if facility.valid_to is not None:
        raise Conflict(_l("%(f)s đã đóng từ %(d)s.", f=facility.name, d=_d(facility.valid_to)))
    if on < facility.valid_from:
        raise ValidationFailed(_l("Ngày thay đổi phải từ ngày cơ sở bắt đầu hoạt động (%(d)s).",
                                  d=_d(facility.valid_from)), field="on")
    latest = last_change(facility)
    if on < latest:
        raise ValidationFailed(_l("Vùng phục vụ của %(f)s đã có thay đổi ngày %(d)s: ngày của thay đổi mới phải từ ngày "
                                  "đó trở đi.", f=facility.name, d=_d(latest)), field="on")
    province = facility_province(facility)
    wanted = {u.id: u for u in check_communes(province, communes, on)}
    if kind == FacilityKind.STATION and len(wanted) != 1:
        raise ValidationFailed(_l("Trạm y tế phục vụ đúng một xã/phường/đặc khu."), field="communes")
    if kind == FacilityKind.HEALTH_CENTRE and not wanted:
        raise ValidationFailed(_l("Trung tâm y tế phải phụ trách ít nhất một xã/phường."), field="communes")
    current = {a.unit_id: a for a in open_areas(facility)}
    if set(current) == set(wanted):
        return False
    if not others_checked:
        added = [u for i, u in wanted.items() if i not in current]
        if kind == FacilityKind.HEALTH_CENTRE:
            _centre_conflicts(added, on, exclude=facility.id)
        else:
            for commune in added:
                others = [s for s in stations_of_commune(commune, on) if s.id != facility.id]
                if others:
                    raise Conflict(_l("%(u)s đã có %(f)s (mã %(c)s): mỗi xã/phường một trạm y tế.",
                                      u=commune.full_name, f=others[0].name, c=others[0].code), field="communes")
    before = _codes(a.unit for a in current.values())
    for unit_id, area in current.items():
        if unit_id in wanted:
            continue
        if area.valid_from < on:
            area.valid_to = on
        else:  # started the same day: a correction of that day's change, which never took effect
            db.session.delete(area)
    db.session.flush()
    ended_on_day = {a.unit_id: a for a in db.session.scalars(select(ServiceArea).where(
        ServiceArea.facility_id == facility.id, ServiceArea.valid_to == on))}
    for unit_id, unit in wanted.items():
        if unit_id in current:
            continue
        if unit_id in ended_on_day:  # served until this very day: it simply goes on
            ended_on_day[unit_id].valid_to = None
        else:
            db.session.add(ServiceArea(facility=facility, unit=unit, valid_from=on))
    extra_before, extra_after = {}, {}
    if kind == FacilityKind.HEALTH_CENTRE:
        _adopt_stations(facility, [u for i, u in wanted.items() if i not in current], on, actor=actor, source=source)
    if kind == FacilityKind.STATION:
        commune = next(iter(wanted.values()))
        if facility.unit_id != commune.id:
            extra_before, extra_after = {"unit_id": facility.unit_id}, {"unit_id": commune.id}
            facility.unit = commune
    after = {"serves": _codes(wanted.values()), "on": on, **extra_after}
    if source:
        after["source"] = source
    record("facility.service_area", facility, label=facility.name, unit_path=facility.unit.path,
           before={"serves": before, **extra_before}, after=after, actor=actor)
    db.session.flush()
    return True


def close_facility(facility: Facility, *, on: date, decision_ref: str | None = None, actor=None) -> Facility:
    """Close a facility from ``on`` (its last day is the day before): its service areas end that
    day. Refused while a facility under it or an account granted at it stays open after ``on``
    (close or move them first), and before its last change of service area. Facilities are never
    deleted: past rosters, sheets and decisions keep them."""
    if facility.valid_to is not None:
        raise Conflict(_l("%(f)s đã đóng từ %(d)s.", f=facility.name, d=_d(facility.valid_to)))
    if on <= facility.valid_from:
        raise ValidationFailed(_l("Ngày đóng phải sau ngày cơ sở bắt đầu hoạt động (%(d)s).",
                                  d=_d(facility.valid_from)), field="valid_to")
    areas = list(db.session.scalars(select(ServiceArea).where(ServiceArea.facility_id == facility.id)))
    later = [a.valid_from for a in areas if a.valid_to is None and a.valid_from >= on]
    later += [a.valid_to for a in areas if a.valid_to is not None and a.valid_to > on]
    if later:
        raise ValidationFailed(_l("Vùng phục vụ của %(f)s có thay đổi ngày %(d)s: ngày đóng phải sau ngày đó.",
                                  f=facility.name, d=_d(max(later))), field="valid_to")
    children = list(db.session.scalars(select(Facility).where(
        Facility.parent_id == facility.id, or_(Facility.valid_to.is_(None), Facility.valid_to > on))
        .order_by(Facility.code)))
    if children:
        names = ", ".join(c.name for c in children[:5]) + ("…" if len(children) > 5 else "")
        raise Conflict(_l("Còn %(n)d cơ sở trực thuộc hoạt động sau ngày đóng (%(names)s): hãy đóng hoặc chuyển "
                          "chúng sang cơ sở khác trước.", n=len(children), names=names))
    grants = db.session.scalar(select(func.count()).select_from(RoleGrant).where(
        RoleGrant.facility_id == facility.id, or_(RoleGrant.valid_to.is_(None), RoleGrant.valid_to > on))) or 0
    if grants:
        raise Conflict(_l("Còn %(n)d quyền tài khoản cấp tại %(f)s còn hiệu lực sau ngày đóng: hãy kết thúc các quyền "
                          "đó (trang Tài khoản) trước.", n=grants, f=facility.name))
    before = snapshot(facility, ["valid_to", "decision_ref"])
    served = [a for a in areas if a.valid_to is None]
    for area in served:
        area.valid_to = on
    facility.valid_to = on
    if decision_ref:
        facility.decision_ref = _clean(decision_ref, DECISION_MAX, _l("Quyết định"), field_name="decision_ref")
    record("facility.close", facility, label=facility.name, unit_path=facility.unit.path, before=before,
           after={**snapshot(facility, ["valid_to", "decision_ref"]), "serves": _codes(a.unit for a in served)},
           actor=actor)
    db.session.flush()
    return facility


# --- a station for every commune --------------------------------------------------------------


@dataclass
class StationToCreate:
    commune: AdminUnit
    centre: Facility
    code: str
    name: str


@dataclass
class SkippedCommune:
    commune: AdminUnit
    reason: str  # "has_station", "code_taken" or "no_centre"
    detail: str  # why, in Vietnamese


@dataclass
class StationsPlan:
    """What "a station for every commune" would do on ``on``: the stations to create, and every
    commune left out with its reason (none is left out silently)."""

    province: AdminUnit
    on: date
    to_create: list[StationToCreate] = field(default_factory=list)
    skipped: list[SkippedCommune] = field(default_factory=list)
    created: list[Facility] = field(default_factory=list)


def plan_stations(province: AdminUnit, on: date) -> StationsPlan:
    """One station per commune of the province in force on ``on`` that has none: named "Trạm Y
    tế <commune>", coded ``TYT-<commune code>``, reporting to the centre serving the commune on
    ``on``. Left out, each with its reason: a commune that already has a station open on or after
    ``on``, a commune whose station code is already used (by a closed station), a commune no
    centre serves on ``on`` (record the centres' service areas first). Reads only."""
    plan = StationsPlan(province, on)
    communes = sorted(communes_of(province, on), key=lambda c: c.code or "")
    if not communes:
        return plan
    ids = [c.id for c in communes]
    stations = db.session.execute(
        select(Facility, ServiceArea.unit_id).outerjoin(
            ServiceArea, (ServiceArea.facility_id == Facility.id)
            & or_(ServiceArea.valid_to.is_(None), ServiceArea.valid_to > on))
        .where(Facility.kind == FacilityKind.STATION.value, or_(Facility.valid_to.is_(None), Facility.valid_to > on),
               or_(Facility.unit_id.in_(ids), ServiceArea.unit_id.in_(ids))))
    station_at: dict[int, Facility] = {}
    for station, served_id in stations:
        for unit_id in (station.unit_id, served_id):
            if unit_id is not None:
                station_at.setdefault(unit_id, station)
    codes = {station_code(c): c for c in communes}
    taken = {f.code: f for f in db.session.scalars(select(Facility).where(Facility.code.in_(list(codes))))}
    centres = dict(db.session.execute(
        select(ServiceArea.unit_id, Facility).join(Facility, Facility.id == ServiceArea.facility_id)
        .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, ServiceArea.unit_id.in_(ids),
               valid_on(ServiceArea, on), valid_on(Facility, on)).order_by(Facility.code.desc())).all())
    for commune in communes:
        code = station_code(commune)
        if commune.id in station_at:
            found = station_at[commune.id]
            plan.skipped.append(SkippedCommune(commune, "has_station",
                                               str(_l("đã có %(f)s (mã %(c)s)", f=found.name, c=found.code))))
        elif code in taken:
            plan.skipped.append(SkippedCommune(commune, "code_taken", str(_l(
                "mã %(c)s đã là mã của “%(f)s”; tạo trạm trên trang “Thêm trạm y tế” với mã khác",
                c=code, f=taken[code].name))))
        elif commune.id not in centres:
            plan.skipped.append(SkippedCommune(commune, "no_centre", str(_l(
                "chưa có trung tâm y tế nào phụ trách xã này vào ngày %(d)s; ghi xã vào vùng phục vụ của một trung tâm "
                "rồi làm lại", d=_d(on)))))
        else:
            plan.to_create.append(StationToCreate(commune, centres[commune.id], code, station_name(commune)))
    return plan


def create_stations_for_communes(province: AdminUnit, on: date, *, actor=None) -> StationsPlan:
    """Create every station :func:`plan_stations` plans (each through :func:`create_facility`,
    audited), and return the plan with the stations created; the communes left out are in
    ``plan.skipped`` with their reasons. Flushes, never commits."""
    plan = plan_stations(province, on)
    for item in plan.to_create:
        plan.created.append(create_facility(province, kind=FacilityKind.STATION, valid_from=on, code=item.code,
                                            name=item.name, communes=[item.commune], parent=item.centre,
                                            actor=actor))
    return plan

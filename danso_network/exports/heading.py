"""Who issues an export: the official heading and the signer of a printed document (issue #11).

The issuing office is the health facility responsible for what the document covers, in the
supervision chain Department → area health centre → commune health station (DOMAIN.md §6;
heading and signature per Nghị định 30/2020/NĐ-CP, Phụ lục I):

- a commune (or a hamlet: its commune) → the commune's health station (the ``station`` facility
  whose unit is the commune, open on the day); superior body: the station's parent, the area
  health centre; signed by the "Trạm trưởng";
- a health centre → the centre; superior body: its parent, the Department; signed by the
  "Giám đốc";
- a province → the provincial Department of Health (Sở Y tế: the ``department`` facility whose
  unit is the province); superior body: "Ủy ban nhân dân <the province's full name>"; signed by
  the "Giám đốc";
- a station or a department given as the facility → itself, as above;
- a unit with no such facility on the day (or a historical district) → the unit's own full name
  as the issuer, no superior body, signed by the "Thủ trưởng đơn vị" (the head of the office).

The place in "<place>, ngày … tháng … năm …" is the province's short name (``AdminUnit.name``,
e.g. "Đồng Nai"). The signer's name is printed only for a station, when exactly one active user
holds the station-head role there on the day (nobody else's role names a person who signs).
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import Role, RoleGrant, User
from ..extensions import db
from ..units import services as unit_services
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import valid_on
from .document import Heading


def heading_for(*, unit: AdminUnit | None = None, facility: Facility | None = None, on: date) -> Heading:
    """The heading of a document about ``unit`` or issued by ``facility`` on the day ``on``.

    ``facility``, when given, is the issuer (an export "for a centre" is the centre's even when
    a unit narrows it); otherwise the issuer is found from ``unit`` as the module docstring says.
    One of the two is required."""
    if facility is not None:
        return _facility_heading(facility, on)
    if unit is None:
        raise ValueError("heading_for needs a unit or a facility")
    if unit.level == UnitLevel.HAMLET and unit.parent is not None:
        unit = unit.parent
    found = None
    if unit.level == UnitLevel.COMMUNE:
        found = _facility_at(unit, FacilityKind.STATION, on)
    elif unit.level == UnitLevel.PROVINCE:
        found = _facility_at(unit, FacilityKind.DEPARTMENT, on)
    if found is not None:
        return _facility_heading(found, on)
    return Heading(issuer=unit.full_name, superior=None, place=unit_services.province_of(unit).name,
                   signer_title=_("Thủ trưởng đơn vị"))


def _facility_at(unit: AdminUnit, kind: FacilityKind, on: date) -> Facility | None:
    """The facility of ``kind`` located at ``unit`` and open on ``on`` (the first by code if,
    against the rules, there were several)."""
    return db.session.scalars(
        select(Facility).where(Facility.unit_id == unit.id, Facility.kind == kind.value, valid_on(Facility, on))
        .order_by(Facility.code).limit(1)).first()


def _facility_heading(facility: Facility, on: date) -> Heading:
    place = unit_services.province_of(facility.unit).name
    kind = FacilityKind(facility.kind)
    if kind == FacilityKind.DEPARTMENT:
        province = unit_services.province_of(facility.unit)
        return Heading(issuer=facility.name, superior=_("Ủy ban nhân dân %(unit)s", unit=province.full_name),
                       place=place, signer_title=_("Giám đốc"))
    superior = facility.parent.name if facility.parent is not None else None
    if kind == FacilityKind.HEALTH_CENTRE:
        return Heading(issuer=facility.name, superior=superior, place=place, signer_title=_("Giám đốc"))
    return Heading(issuer=facility.name, superior=superior, place=place, signer_title=_("Trạm trưởng"),
                   signer_name=station_head_name(facility, on))


def station_head_name(station: Facility, on: date) -> str | None:
    """The full name of the station's head on ``on``: the one active user with a station-head
    grant at the station valid that day; None when there is none or more than one."""
    names = db.session.execute(
        select(User.id, User.full_name).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.facility_id == station.id, RoleGrant.role == Role.STATION_HEAD.value,
               valid_on(RoleGrant, on), User.active.is_(True))
        .distinct()).all()
    return names[0].full_name if len(names) == 1 else None

"""The steps that take a province from an empty database to station heads at work (issue #12,
item 6), each with its state read from the database — never stored, so the list is always true.

In order, as the README's "Triển khai cho một tỉnh mới" takes them:

1. **units** — the province and its communes (``danso units import``): done when the province
   has at least one commune in force;
2. **facilities** — the Department of Health, the area health centres with the communes they
   serve, one station per commune (``danso facilities …``, the facilities pages): done when the
   Department exists, every commune has an open station and is served by a centre;
3. **hamlets** — the hamlets of every commune (``danso units import-hamlets``): done when every
   commune has at least one hamlet in force;
4. **criteria** — the recruitment criteria (TT 02/2021/TT-BYT, Art. 2; the province's own
   version): done when a version has started (versions replace each other, none ends);
5. **allowances** — the allowance rules of the province's resolution in force today;
6. **collaborators** — the people already serving (``danso roster import``): done when at least
   one hamlet has an active collaborator; the figures say how many hamlets have none;
7. **accounts** — a station head for every station, an officer for every centre (``danso users
   import``): done when every open station has an active station head.

A step is ``done``, ``partial`` (begun, something still missing) or ``missing``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from ..allowances.models import AllowanceRule
from ..auth.models import Role, RoleGrant, User
from ..collaborators.models import Assignment
from ..extensions import db
from ..recruitment.models import CriteriaSet
from ..units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel
from ..units.services import valid_on

DONE, PARTIAL, MISSING = "done", "partial", "missing"
STATE_LABELS = {DONE: _l("Đã xong"), PARTIAL: _l("Còn thiếu"), MISSING: _l("Chưa làm")}


@dataclass
class Step:
    key: str
    title: str
    state: str
    figures: list[str] = field(default_factory=list)  # what is there and what is missing, in words
    command: str | None = None  # the CLI command that does it

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])


def _state(done: int, total: int) -> str:
    """``done`` of ``total`` things in place: all (and at least one) → done, none → missing."""
    if total and done >= total:
        return DONE
    return PARTIAL if done else MISSING


def _under(model_path, province: AdminUnit):
    return model_path.startswith(province.path)


def _communes(province: AdminUnit, on: date):
    return select(AdminUnit.id).where(AdminUnit.level == UnitLevel.COMMUNE.value, AdminUnit.parent_id == province.id,
                                      valid_on(AdminUnit, on))


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _open_facilities(province: AdminUnit, kind: FacilityKind, on: date):
    return (select(Facility.id).join(AdminUnit, AdminUnit.id == Facility.unit_id)
            .where(Facility.kind == kind.value, _under(AdminUnit.path, province), valid_on(Facility, on)))


def province_steps(province: AdminUnit, on: date) -> list[Step]:
    """The steps of ``province`` as of ``on`` (Vietnam's today on the page), in order."""
    communes = _count(_communes(province, on))
    code = province.code
    steps = [Step("units", str(_l("Tỉnh và các xã/phường")), DONE if communes else MISSING,
                  [str(_l("%(n)d xã/phường đang hiệu lực.", n=communes))],
                  f"danso units import data/vn_provinces_2026.geojson --province {code} && "
                  f"danso units import data/vn_wards_2026.geojson.gz --province {code}")]

    department = _count(_open_facilities(province, FacilityKind.DEPARTMENT, on))
    centres = _count(_open_facilities(province, FacilityKind.HEALTH_CENTRE, on))
    station_at = (select(Facility.unit_id).where(Facility.kind == FacilityKind.STATION.value, valid_on(Facility, on)))
    with_station = _count(_communes(province, on).where(AdminUnit.id.in_(station_at)))
    centre_served = (select(ServiceArea.unit_id).join(Facility, Facility.id == ServiceArea.facility_id)
                     .where(Facility.kind == FacilityKind.HEALTH_CENTRE.value, valid_on(Facility, on),
                            valid_on(ServiceArea, on)))
    served = _count(_communes(province, on).where(AdminUnit.id.in_(centre_served)))
    parts = [bool(department), communes and with_station >= communes, communes and served >= communes]
    steps.append(Step("facilities", str(_l("Cơ sở y tế: Sở Y tế, trung tâm y tế, trạm y tế")),
                      DONE if all(parts) else (PARTIAL if department or centres or with_station else MISSING),
                      [str(_l("Sở Y tế: %(s)s.", s=_l("có") if department else _l("chưa có"))),
                       str(_l("%(n)d trung tâm y tế; %(s)d/%(c)d xã/phường được một trung tâm phụ trách.",
                              n=centres, s=served, c=communes)),
                       str(_l("%(s)d/%(c)d xã/phường có trạm y tế.", s=with_station, c=communes))],
                      f"danso facilities import <tệp trung tâm y tế> && danso facilities create-stations --province {code}"))

    hamlet_parent = select(AdminUnit.parent_id).where(AdminUnit.level == UnitLevel.HAMLET.value, valid_on(AdminUnit, on))
    with_hamlets = _count(_communes(province, on).where(AdminUnit.id.in_(hamlet_parent)))
    hamlets = _count(select(AdminUnit.id).where(AdminUnit.level == UnitLevel.HAMLET.value,
                                                _under(AdminUnit.path, province), valid_on(AdminUnit, on)))
    steps.append(Step("hamlets", str(_l("Thôn/tổ dân phố")), _state(with_hamlets, communes),
                      [str(_l("%(h)d thôn/tổ dân phố; %(s)d/%(c)d xã/phường đã có thôn/tổ dân phố.",
                              h=hamlets, s=with_hamlets, c=communes))],
                      "danso units import-hamlets <tệp thôn/tổ dân phố>"))

    criteria = _count(select(CriteriaSet.id).where(CriteriaSet.province_id == province.id, CriteriaSet.valid_from <= on))
    steps.append(Step("criteria", str(_l("Tiêu chuẩn tuyển chọn cộng tác viên")), DONE if criteria else MISSING,
                      [str(_l("Có bộ tiêu chuẩn đang áp dụng.")) if criteria else
                       str(_l("Chưa có bộ tiêu chuẩn đang áp dụng: chưa tuyển chọn được."))]))

    rules = _count(select(AllowanceRule.id).where(AllowanceRule.province_id == province.id,
                                                  valid_on(AllowanceRule, on)))
    steps.append(Step("allowances", str(_l("Mức bồi dưỡng cộng tác viên")), DONE if rules else MISSING,
                      [str(_l("%(n)d mức bồi dưỡng đang áp dụng.", n=rules))]))

    active = and_(Assignment.started_on <= on, or_(Assignment.ended_on.is_(None), Assignment.ended_on > on))
    covered = _count(select(Assignment.hamlet_id).where(_under(Assignment.hamlet_path, province), active).distinct())
    people = _count(select(Assignment.collaborator_id).where(_under(Assignment.hamlet_path, province), active)
                    .distinct())
    steps.append(Step("collaborators", str(_l("Cộng tác viên đang làm việc")),
                      MISSING if not covered else (DONE if covered >= hamlets else PARTIAL),
                      [str(_l("%(p)d cộng tác viên; %(c)d/%(h)d thôn/tổ dân phố có cộng tác viên.",
                              p=people, c=covered, h=hamlets))],
                      "danso roster import <tệp danh sách CTV> --dry-run"))

    heads = (select(RoleGrant.facility_id).join(User, User.id == RoleGrant.user_id)
             .where(RoleGrant.role == Role.STATION_HEAD.value, valid_on(RoleGrant, on), User.active.is_(True)))
    stations = _count(_open_facilities(province, FacilityKind.STATION, on))
    headed = _count(_open_facilities(province, FacilityKind.STATION, on).where(Facility.id.in_(heads)))
    officers = (select(RoleGrant.facility_id).join(User, User.id == RoleGrant.user_id)
                .where(RoleGrant.role == Role.CENTRE_OFFICER.value, valid_on(RoleGrant, on), User.active.is_(True)))
    staffed = _count(_open_facilities(province, FacilityKind.HEALTH_CENTRE, on).where(Facility.id.in_(officers)))
    steps.append(Step("accounts", str(_l("Tài khoản người dùng")),
                      _state(headed + staffed, stations + centres) if stations + centres else MISSING,
                      [str(_l("%(h)d/%(s)d trạm y tế có trạm trưởng có tài khoản.", h=headed, s=stations)),
                       str(_l("%(o)d/%(c)d trung tâm y tế có cán bộ có tài khoản.", o=staffed, c=centres))],
                      "danso users import <tệp tài khoản> --passwords-out phieu-tai-khoan.xlsx"))
    return steps


def next_step(steps: list[Step]) -> Step | None:
    """The first step not done: where the page sends the administrator."""
    return next((s for s in steps if s.state != DONE), None)


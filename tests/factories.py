"""Test data builders. Units are made through the services (which maintain paths and audit),
users through factory_boy."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import factory
from shapely.geometry import box
from werkzeug.security import generate_password_hash

from danso_network.auth import services as auth_services
from danso_network.auth.models import Role, User
from danso_network.extensions import db
from danso_network.textnorm import fold
from danso_network.units import services as unit_services
from danso_network.units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from danso_network.units.spatial import geometry_columns

PASSWORD = "matkhau-demo-1"
REFORM_DAY = date(2025, 7, 1)


class UserFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        model = User
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="vi_VN")
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))
    active = True
    session_version = 1
    # Hashing (scrypt) is deliberately slow; hash the shared test password once per run.
    password_hash = factory.LazyFunction(lambda: _default_hash())

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        if extracted:
            self.set_password(extracted)


@functools.cache
def _default_hash() -> str:
    return generate_password_hash(PASSWORD)


def province(code="75", name="Đồng Nai", full_name="Thành phố Đồng Nai", type="thanh_pho_tw",
             valid_from=REFORM_DAY, **kw) -> AdminUnit:
    return unit_services.create_unit(level=UnitLevel.PROVINCE, code=code, name=name, full_name=full_name,
                                     type=type, valid_from=valid_from, **kw)


def commune(parent: AdminUnit, code: str, name: str, type="xa", valid_from=REFORM_DAY, geom=None, **kw) -> AdminUnit:
    prefix = {"xa": "Xã", "phuong": "Phường", "dac_khu": "Đặc khu", "thi_tran": "Thị trấn"}[type]
    extra = geometry_columns(geom) if geom is not None else {}
    return unit_services.create_unit(level=UnitLevel.COMMUNE, code=code, name=name, full_name=f"{prefix} {name}",
                                     type=type, parent=parent, valid_from=valid_from, **extra, **kw)


def hamlet(parent: AdminUnit, name: str, type="ap", households=250, valid_from=REFORM_DAY, **kw) -> AdminUnit:
    return unit_services.create_hamlet(parent, name=name, type=type, households=households,
                                       population=households * 4, valid_from=valid_from, **kw)


def user(role: Role, *, unit: AdminUnit | None = None, facility: Facility | None = None,
         username: str | None = None, valid_from=date(2025, 1, 1), valid_to=None) -> User:
    u = UserFactory(username=username) if username else UserFactory()
    auth_services.grant_role(u, role, unit=unit, facility=facility, valid_from=valid_from, valid_to=valid_to)
    return u


@dataclass
class World:
    dong_nai: AdminUnit
    commune_a: AdminUnit
    commune_b: AdminUnit
    hanoi: AdminUnit
    commune_c: AdminUnit
    hamlets_a: list[AdminUnit]
    hamlets_b: list[AdminUnit]
    hamlets_c: list[AdminUnit]
    department: Facility
    centre: Facility
    station_a: Facility
    station_b: Facility
    users: dict[str, User] = field(default_factory=dict)


def build_world() -> World:
    """Đồng Nai (75) with communes A (phường 25195) and B (xã 25210) served by one centre, and
    Hà Nội (01) with commune C; hamlets under each; one user per role plus one without a grant."""
    dn = province(geom_wkb=None)
    a = commune(dn, "25195", "Bình Phước", type="phuong", geom=box(106.85, 11.50, 106.95, 11.60))
    b = commune(dn, "25210", "Đồng Xoài", type="xa", geom=box(106.95, 11.50, 107.05, 11.60))
    hn = province(code="01", name="Hà Nội", full_name="Thành phố Hà Nội")
    c = commune(hn, "00004", "Ba Đình", type="phuong")
    hamlets_a = [hamlet(a, "Khu phố 1", type="khu_pho", households=180),
                 hamlet(a, "Khu phố 2", type="khu_pho", households=420)]
    hamlets_b = [hamlet(b, "Ấp Tân Lập", households=300, is_difficult=True, is_ethnic_minority=True),
                 hamlet(b, "Ấp 2", households=90)]
    hamlets_c = [hamlet(c, "Tổ dân phố 5", type="to_dan_pho", households=500)]
    dept = unit_services.create_facility(code="SYT-75", kind=FacilityKind.DEPARTMENT, name="Sở Y tế Thành phố Đồng Nai",
                                         unit=dn, valid_from=REFORM_DAY, serves=[dn])
    centre = unit_services.create_facility(code="TTYT-689", kind=FacilityKind.HEALTH_CENTRE,
                                           name="Trung tâm Y tế khu vực Đồng Xoài", unit=dn, parent=dept,
                                           valid_from=REFORM_DAY, serves=[a, b])
    st_a = unit_services.create_facility(code="TYT-25195", kind=FacilityKind.STATION, name="Trạm Y tế Phường Bình Phước",
                                         unit=a, parent=centre, valid_from=REFORM_DAY, serves=[a])
    st_b = unit_services.create_facility(code="TYT-25210", kind=FacilityKind.STATION, name="Trạm Y tế Xã Đồng Xoài",
                                         unit=b, parent=centre, valid_from=REFORM_DAY, serves=[b])
    w = World(dn, a, b, hn, c, hamlets_a, hamlets_b, hamlets_c, dept, centre, st_a, st_b)
    w.users = {
        "admin": user(Role.PROVINCE_ADMIN, unit=dn, username="admin75"),
        "centre": user(Role.CENTRE_OFFICER, facility=centre, username="ttyt689"),
        "head_a": user(Role.STATION_HEAD, facility=st_a, username="truongtram_a"),
        "officer_a": user(Role.STATION_OFFICER, facility=st_a, username="vienchuc_a"),
        "head_b": user(Role.STATION_HEAD, facility=st_b, username="truongtram_b"),
        "viewer_b": user(Role.VIEWER, unit=b, username="xem_b"),
        "hanoi_admin": user(Role.PROVINCE_ADMIN, unit=hn, username="admin01"),
        "nogrant": UserFactory(username="chuacapquyen"),
    }
    db.session.flush()
    return w


# --- recruitment ------------------------------------------------------------------------------


def national_id(born: date, sex: str = "female", serial: int = 1, province: str = "070") -> str:
    """A CCCD consistent with the birth year and sex (Thông tư 59/2021/TT-BCA)."""
    century = born.year // 100 - 19
    return f"{province}{century * 2 + (1 if sex == 'female' else 0)}{born.year % 100:02d}{serial:06d}"


def criteria(province: AdminUnit, **overrides):
    from danso_network.recruitment import services as rs
    from danso_network.recruitment.rules import QUOTA_PRESETS
    from danso_network.recruitment.workflow import Approver

    values = dict(valid_from=date(2025, 7, 1), quota_bands=QUOTA_PRESETS["gia_lai"], quota_preset="gia_lai",
                  approver=Approver.HEALTH_CENTRE)
    values.update(overrides)
    return rs.create_criteria_version(province, **values)


def candidate_fields(hamlet: AdminUnit, serial: int = 1, **overrides) -> dict:
    born = overrides.pop("date_of_birth", date(1990, 5, 17))
    sex = overrides.pop("sex", "female")
    fields = dict(hamlet=hamlet, full_name=f"Nguyễn Thị Ứng Viên {serial}", date_of_birth=born, sex=sex,
                  ethnicity="Kinh", national_id=national_id(born, sex, serial), residence_hamlet=hamlet,
                  education="lower_secondary", phone="0912345678")
    fields.update(overrides)
    return fields


def complete_dossier(application, actor):
    from danso_network.recruitment import services as rs
    from danso_network.recruitment.models import DOSSIER_ITEMS

    rs.update_dossier(application, items={k: True for k in DOSSIER_ITEMS}, application_signed_on=date(2025, 9, 1),
                      actor=actor)


# --- collaborator network ---------------------------------------------------------------------


def appoint(hamlet: AdminUnit, serial: int, started_on: date = date(2025, 9, 1), *, vhw: bool = False,
            education: str = "lower_secondary", **overrides):
    """An active collaborator in ``hamlet`` from ``started_on``, written directly (the selection
    workflow is tested in tests/recruitment): candidate, activated application, collaborator and
    the first assignment. ``serial`` keeps names and CCCD numbers unique within a test."""
    from danso_network.collaborators.models import Assignment, Collaborator
    from danso_network.recruitment.models import Application, Candidate

    now = datetime.now(UTC)
    fields = candidate_fields(hamlet, serial, education=education, **overrides)
    fields.pop("hamlet")
    residence = fields.pop("residence_hamlet")
    name = fields["full_name"]
    candidate = Candidate(**fields, residence_hamlet=residence, is_village_health_worker=vhw,
                          search_text=fold(name), created_at=now)
    application = Application(candidate=candidate, hamlet_id=hamlet.id, hamlet_path=hamlet.path, state="active",
                              dossier={}, contract_date=started_on, activated_on=started_on, created_at=now,
                              updated_at=now)
    collaborator = Collaborator(candidate=candidate, application=application, activated_on=started_on, created_at=now)
    db.session.add_all([candidate, application, collaborator,
                        Assignment(collaborator=collaborator, hamlet_id=hamlet.id, hamlet_path=hamlet.path,
                                   kind="primary", started_on=started_on, created_at=now)])
    db.session.flush()
    return collaborator

"""The Đồng Nai demo: real province and 95 communes with boundaries, synthetic hamlets, the
health facilities grouped as the area health centres were (by pre-2025 district), and one user
per role.

Loading is idempotent: every record is matched by its natural key (unit code, hamlet local id,
facility code, username), so loading twice creates nothing new, and the same seed always gives
the same hamlets.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from ..auth import services as auth_services
from ..auth.models import Role, User
from ..extensions import db
from ..units import importer
from ..units import services as unit_services
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel, UnitType
from ..units.spatial import from_wkb, geometry_columns
from .cli import DEFAULT_PASSWORD, DEFAULT_SEED
from .hamlets import generate_hamlets
from .network import NetworkReport, load_network
from .pipeline import PipelineReport, load_pipeline

PROVINCE_CODE = "75"
REFORM_DAY = date(2025, 7, 1)  # two-tier local government (QĐ 19/2025/QĐ-TTg, in force 1/7/2025)
REFORM_REF = "QĐ 19/2025/QĐ-TTg"
HISTORY_FROM = date(2020, 1, 1)  # the demo records the pre-reform districts from here only
DEMO_COMMUNE = "25405"  # Xã Bom Bo (pre-2025 Bù Đăng district), with S'tiêng communities
DEMO_CENTRE_DISTRICT = "696"

DISTRICT_TYPES = {
    "Huyện": UnitType.HUYEN, "Quận": UnitType.QUAN, "Thị xã": UnitType.THI_XA,
    "Thành phố": UnitType.THANH_PHO_THUOC_TINH,
}
OLD_PROVINCES = {
    "70": ("Bình Phước", "Tỉnh Bình Phước"),
    "75": ("Đồng Nai", "Tỉnh Đồng Nai"),
}


@dataclass
class DemoUser:
    username: str
    full_name: str
    role: Role
    where: str  # facility code, or unit code prefixed with "unit:"


DEMO_USERS = [
    DemoUser("soyte", "Nguyễn Thị Lan (Chi cục Dân số – Sở Y tế)", Role.PROVINCE_ADMIN, f"unit:{PROVINCE_CODE}"),
    DemoUser("ttyt_budang", "Trần Văn Hùng (TTYT khu vực Bù Đăng)", Role.CENTRE_OFFICER, f"TTYT-{DEMO_CENTRE_DISTRICT}"),
    DemoUser("tram_bombo", "Điểu Thị Mai (Trạm trưởng TYT xã Bom Bo)", Role.STATION_HEAD, f"TYT-{DEMO_COMMUNE}"),
    DemoUser("dsxa_bombo", "Lê Thị Hoa (Viên chức dân số xã Bom Bo)", Role.STATION_OFFICER, f"TYT-{DEMO_COMMUNE}"),
    DemoUser("ubnd_bombo", "Phạm Văn Nam (UBND xã Bom Bo)", Role.COMMUNE_COMMITTEE, f"unit:{DEMO_COMMUNE}"),
    DemoUser("xem_budang", "Vũ Thị Thu (TTYT khu vực Bù Đăng, chỉ xem)", Role.VIEWER, f"TTYT-{DEMO_CENTRE_DISTRICT}"),
]


@dataclass
class DemoReport:
    communes: int = 0
    hamlets_created: int = 0
    hamlets_total: int = 0
    districts: int = 0
    facilities_created: int = 0
    users_created: list[str] = field(default_factory=list)
    pipeline: PipelineReport | None = None  # the recruitment pipeline (demo/pipeline.py)
    network: NetworkReport | None = None  # the network's three years (demo/network.py)


def _district_name_type(name: str) -> tuple[str, UnitType]:
    for prefix, unit_type in DISTRICT_TYPES.items():
        if name.startswith(prefix + " "):
            return name[len(prefix) + 1:], unit_type
    return name, UnitType.HUYEN


def read_lineage(csv_path: Path) -> dict[str, dict]:
    """Per current commune code: its primary pre-2025 district (the district of the old commune
    whose code it kept — the seat, QĐ 124/2004 — else the most common one) and old districts."""
    lineage = {}
    with open(csv_path, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            units = json.loads(row["pre2025_units"] or "[]")
            seat = [u for u in units if u["ward_code"] == row["code"]]
            if seat:
                primary = seat[0]["district_code"]
            else:
                primary = Counter(u["district_code"] for u in units).most_common(1)[0][0]
            districts = {u["district_code"]: (u["district"], u["province_code"]) for u in units}
            lineage[row["code"]] = {"district": primary, "districts": districts}
    return lineage


def _import(path: Path, source: str, actor=None) -> None:
    gdf = importer.read_units_file(path)
    plan = importer.plan_import(gdf, valid_from=REFORM_DAY, decision_ref=REFORM_REF, source_name=source)
    importer.apply_plan(plan, actor=actor)


def _historical_units(lineage: dict[str, dict], report: DemoReport) -> None:
    """Pre-reform provinces and districts, closed on 1/7/2025, so as-of views before the reform
    show the three-tier tree. Only the period from 2020 is recorded (demo history)."""
    provinces = {}
    for code, (name, full_name) in OLD_PROVINCES.items():
        unit = db.session.scalar(select(AdminUnit).where(
            AdminUnit.code == code, AdminUnit.level == UnitLevel.PROVINCE.value, AdminUnit.valid_to == REFORM_DAY))
        if unit is None:
            # The merged province kept the code of its seat (QĐ 124/2004/QĐ-TTg): the old one
            # shares it, before the reform.
            successor = unit_services.find_unit_by_code(code, as_of=REFORM_DAY)
            unit = unit_services.create_unit(
                level=UnitLevel.PROVINCE, code=code, name=name, full_name=full_name, type=UnitType.TINH,
                valid_from=HISTORY_FROM, valid_to=REFORM_DAY, decision_ref="NQ 202/2025/QH15", keeps_code_of=successor,
                note="Trước sắp xếp 01/7/2025; dữ liệu lịch sử minh hoạ từ 2020.")
        provinces[code] = unit
    districts = {}
    for entry in lineage.values():
        districts.update(entry["districts"])
    for code, (full_name, province_code) in sorted(districts.items()):
        unit = db.session.scalar(select(AdminUnit).where(
            AdminUnit.code == code, AdminUnit.level == UnitLevel.DISTRICT.value))
        if unit is None:
            name, unit_type = _district_name_type(full_name)
            unit = unit_services.create_unit(
                level=UnitLevel.DISTRICT, code=code, name=name, full_name=full_name, type=unit_type,
                parent=provinces[province_code], valid_from=HISTORY_FROM, valid_to=REFORM_DAY,
                decision_ref=REFORM_REF, note="Cấp huyện chấm dứt hoạt động từ 01/7/2025.")
        report.districts += 1


def _hamlets(commune: AdminUnit, district_code: str, seed: int, report: DemoReport) -> None:
    existing = {h.local_id: h for h in db.session.scalars(select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.valid_to.is_(None)))}
    specs = generate_hamlets(from_wkb(commune.geom_wkb), commune_code=commune.code, commune_type=commune.type,
                             district_code=district_code, seed=seed)
    for spec in specs:
        fields = dict(households=spec.households, population=spec.population, is_difficult=spec.is_difficult,
                      is_ethnic_minority=spec.is_ethnic_minority, **geometry_columns(spec.geometry))
        hamlet = existing.get(spec.local_id)
        if hamlet is None:
            unit_services.create_hamlet(commune, name=spec.name, type=spec.type, valid_from=REFORM_DAY,
                                        local_id=spec.local_id, is_synthetic=True, **fields)
            report.hamlets_created += 1
        elif hamlet.is_synthetic:
            changed = {k: v for k, v in fields.items() if getattr(hamlet, k) != v}
            if changed:
                unit_services.update_unit(hamlet, **changed)
    report.hamlets_total += len(specs)


def _facility(code: str, **kwargs) -> tuple[Facility, bool]:
    found = db.session.scalar(select(Facility).where(Facility.code == code))
    if found is not None:
        return found, False
    return unit_services.create_facility(code=code, valid_from=REFORM_DAY, **kwargs), True


def _facilities(province: AdminUnit, communes: list[AdminUnit], lineage: dict[str, dict],
                report: DemoReport) -> None:
    """Sở Y tế → area health centres, one per pre-2025 district (the centres were the old
    district centres, e.g. QĐ 198/QĐ-UBND 01/7/2025 for Phước Long) → one station per commune."""
    department, created = _facility(f"SYT-{province.code}", kind=FacilityKind.DEPARTMENT,
                                    name=f"Sở Y tế {province.full_name}", unit=province, serves=[province])
    report.facilities_created += created
    by_district: dict[str, list[AdminUnit]] = {}
    for commune in communes:
        by_district.setdefault(lineage[commune.code]["district"], []).append(commune)
    district_names = {}
    for entry in lineage.values():
        district_names.update(entry["districts"])
    for district_code, members in sorted(by_district.items()):
        short, _ = _district_name_type(district_names[district_code][0])
        centre, created = _facility(
            f"TTYT-{district_code}", kind=FacilityKind.HEALTH_CENTRE, name=f"Trung tâm Y tế khu vực {short}",
            unit=province, parent=department, serves=members)
        report.facilities_created += created
        for commune in members:
            _, created = _facility(f"TYT-{commune.code}", kind=FacilityKind.STATION,
                                   name=f"Trạm Y tế {commune.full_name}", unit=commune, parent=centre,
                                   serves=[commune])
            report.facilities_created += created


def _users(password: str, report: DemoReport) -> None:
    for spec in DEMO_USERS:
        if auth_services.get_user_by_username(spec.username) is not None:
            continue
        user = auth_services.create_user(username=spec.username, full_name=spec.full_name, password=password)
        if spec.where.startswith("unit:"):
            target = {"unit": unit_services.find_unit_by_code(spec.where[5:])}
        else:
            target = {"facility": db.session.scalar(select(Facility).where(Facility.code == spec.where))}
        auth_services.grant_role(user, spec.role, valid_from=REFORM_DAY, **target)
        report.users_created.append(spec.username)


def load_demo(data_dir: Path, *, seed: int = DEFAULT_SEED, password: str = DEFAULT_PASSWORD,
              network: bool = True) -> DemoReport:
    """Load (or complete) the Đồng Nai demo. Flushes; the caller commits. ``network=False`` stops
    after the recruitment pipeline, without the three years of network history (tests of the
    units and the pipeline use it: the history takes most of the loading time)."""
    auth_services.check_password_strength(password)
    report = DemoReport()
    lineage = read_lineage(data_dir / "dong_nai_wards_2026.csv")
    _import(data_dir / "dong_nai_province_2026.geojson", "dong_nai_province_2026.geojson")
    _import(data_dir / "dong_nai_wards_2026.geojson", "dong_nai_wards_2026.geojson")
    _historical_units(lineage, report)
    province = unit_services.find_unit_by_code(PROVINCE_CODE)
    communes = unit_services.descendants(province, level=UnitLevel.COMMUNE)
    report.communes = len(communes)
    for commune in communes:
        _hamlets(commune, lineage.get(commune.code, {}).get("district"), seed, report)
    _facilities(province, communes, lineage, report)
    _users(password, report)
    load_pipeline(seed=seed, password=password, report=report)
    if network:
        load_network(seed=seed, password=password, report=report)
    db.session.flush()
    return report


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(AdminUnit)) and \
        not db.session.scalar(select(func.count()).select_from(User))

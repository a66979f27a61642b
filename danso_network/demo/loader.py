"""The Đồng Nai demo: real province and 95 communes with boundaries, synthetic hamlets, the
health facilities grouped as the area health centres were (by pre-2025 district), and one user
per role — and the real reform of 1 July 2025 that made them (issue #13 item 3).

Before 1/7/2025 the demo holds the old tree: the provinces of Bình Phước (70) and Đồng Nai (75),
their 22 districts and 270 communes (``data/dong_nai_pre2025_communes.csv``, from the lineage of
``data/dong_nai_wards_2026.csv``; no boundaries), each with its hamlets. On 1/7/2025 the reform is
applied as a user would, by the reform import (``units.reform_import`` over
``data/dong_nai_reform_2025.csv``, NQ 1662/NQ-UBTVQH15): the old communes close, the 95 new ones
open under the merged province with every hamlet re-versioned, and ``UnitChange`` rows say who
succeeds whom; the provinces' merger (NQ 202/2025/QH15) and the end of the districts are recorded
as changes too. The new communes then get their real boundaries (GIS import).

**The hamlets.** They are generated for the new communes (``demo.hamlets``: cells of the real
boundary, numbered from north-west to south-east) and each one existed before the reform in one
of the commune's predecessors: the numbered hamlets are dealt out in runs, in that order, to the
predecessors in the order the lineage lists them (sizes as even as possible, the first ones one
larger), so each old commune holds a compact strip of its successor. A hamlet keeps its number and
its synthetic boundary through the reform; its type and name follow its commune ("Ấp 7" of an old
xã is "Khu phố 7" of the phường it joined, Thông tư 04/2012/TT-BNV) — so a reader follows each
hamlet, and its collaborators, across the date. A commune divided between two new ones (Xuân Tâm)
gets a run in each, its hamlets going with the part they lie in. The old communes' boundaries are
not published; they are left empty.

Loading is idempotent: every record is matched by its natural key (unit code, hamlet local id,
facility code, username), so loading twice creates nothing new, and the same seed always gives
the same hamlets. A database loaded before the old communes were part of the demo (its new
communes already open) is completed without them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from ..audit.services import record
from ..auth import services as auth_services
from ..auth.models import Role, User
from ..errors import ValidationFailed
from ..extensions import db
from ..units import importer, reform_import
from ..units import services as unit_services
from ..units.labels import TYPE_FROM_SOURCE
from ..units.models import AdminUnit, Facility, FacilityKind, UnitChange, UnitChangeKind, UnitLevel, UnitType
from ..units.spatial import geometry_columns
from .cli import DEFAULT_PASSWORD, DEFAULT_SEED
from .hamlets import HamletSpec, generate_hamlets, hamlet_type_for
from .network import NetworkReport, load_network
from .pipeline import V1_SETTINGS, PipelineReport, load_pipeline

PROVINCE_CODE = "75"
REFORM_DAY = date(2025, 7, 1)  # two-tier local government (QĐ 19/2025/QĐ-TTg, in force 1/7/2025)
REFORM_REF = "QĐ 19/2025/QĐ-TTg"
PROVINCE_REFORM_REF = "NQ 202/2025/QH15"  # the provinces' arrangement (12/6/2025), DOMAIN.md §4
# The demo records the pre-reform tree from here (its first collaborators start in 2016); earlier
# changes of those units are not recorded.
HISTORY_FROM = date(2016, 1, 1)
PRE2025_FILE = "dong_nai_pre2025_communes.csv"
REFORM_FILE = "dong_nai_reform_2025.csv"
OLD_NOTE = "Trước sắp xếp 01/7/2025; dữ liệu lịch sử minh hoạ từ 2016."
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
    old_communes: int = 0  # pre-2025 communes (valid until 1/7/2025)
    reform: reform_import.ReformSummary | None = None  # the reform of 1/7/2025, when this load applied it
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


def _reform_applied(province: AdminUnit) -> bool:
    """The new communes exist (this load or an earlier one opened them)."""
    return db.session.scalar(select(AdminUnit.id).where(
        AdminUnit.parent_id == province.id, AdminUnit.level == UnitLevel.COMMUNE.value).limit(1)) is not None


def _historical_units(lineage: dict[str, dict], report: DemoReport) -> dict[str, AdminUnit]:
    """Pre-reform provinces and districts, closed on 1/7/2025, so as-of views before the reform
    show the three-tier tree (recorded from 2016, the demo's history). Returns the districts by code."""
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
                valid_from=HISTORY_FROM, valid_to=REFORM_DAY, decision_ref=PROVINCE_REFORM_REF,
                keeps_code_of=successor, note=OLD_NOTE)
        provinces[code] = unit
    found = {}
    for entry in lineage.values():
        found.update(entry["districts"])
    districts = {}
    for code, (full_name, province_code) in sorted(found.items()):
        unit = db.session.scalar(select(AdminUnit).where(
            AdminUnit.code == code, AdminUnit.level == UnitLevel.DISTRICT.value))
        if unit is None:
            name, unit_type = _district_name_type(full_name)
            unit = unit_services.create_unit(
                level=UnitLevel.DISTRICT, code=code, name=name, full_name=full_name, type=unit_type,
                parent=provinces[province_code], valid_from=HISTORY_FROM, valid_to=REFORM_DAY,
                decision_ref=REFORM_REF, note="Cấp huyện chấm dứt hoạt động từ 01/7/2025.")
        districts[code] = unit
        report.districts += 1
    return districts


def read_old_communes(csv_path: Path) -> list[dict]:
    """The rows of ``data/dong_nai_pre2025_communes.csv`` (scripts/build_pre2025_units.py)."""
    with open(csv_path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _old_communes(rows: list[dict], districts: dict[str, AdminUnit], report: DemoReport) -> dict[str, AdminUnit]:
    """The 270 communes before the reform, in force from 2016 until the reform closes them."""
    found = {u.code: u for u in db.session.scalars(select(AdminUnit).where(
        AdminUnit.level == UnitLevel.COMMUNE.value, AdminUnit.valid_from < REFORM_DAY))}
    communes = {}
    for row in rows:
        unit = found.get(row["code"])
        if unit is None:
            unit = unit_services.create_unit(
                level=UnitLevel.COMMUNE, code=row["code"], name=row["name"], full_name=row["full_name"],
                type=TYPE_FROM_SOURCE[row["type"]], parent=districts[row["district_code"]],
                valid_from=HISTORY_FROM, note=OLD_NOTE)
        communes[row["code"]] = unit
        report.old_communes += 1
    return communes


def read_reform_rows(csv_path: Path) -> dict[str, list[tuple[str, bool]]]:
    """New commune code → its predecessors (old code, part), in the file's order."""
    lineage: dict[str, list[tuple[str, bool]]] = {}
    with open(csv_path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            lineage.setdefault(row["new_code"], []).append((row["old_code"], row["part"].strip().lower() == "true"))
    return lineage


def deal_hamlets(specs: list[HamletSpec], predecessors: list[str]) -> dict[str, list[HamletSpec]]:
    """The new commune's hamlets (numbered north-west to south-east) dealt out in runs to its
    predecessors in order, the runs as even as possible (the first ones one larger)."""
    runs: dict[str, list[HamletSpec]] = {}
    size, extra = divmod(len(specs), len(predecessors))
    start = 0
    for i, code in enumerate(predecessors):
        n = size + (1 if i < extra else 0)
        runs[code] = specs[start:start + n]
        start += n
    return runs


def _demo_hamlets(wards, lineage: dict[str, dict], seed: int) -> dict[str, list[HamletSpec]]:
    """The synthetic hamlets of each new commune (``demo.hamlets``, from its real boundary)."""
    specs = {}
    for code, (geom, commune_type) in wards.items():
        specs[code] = generate_hamlets(geom, commune_code=code, commune_type=commune_type,
                                       district_code=lineage.get(code, {}).get("district"), seed=seed)
    return specs


def _ward_shapes(path: Path) -> dict[str, tuple]:
    gdf = importer.read_units_file(path)
    return {str(row["code"]): (row.geometry, TYPE_FROM_SOURCE.get(str(row["type"]).lower(), UnitType.XA))
            for _, row in gdf.iterrows()}


def plan_old_hamlets(specs: dict[str, list[HamletSpec]],
                     predecessors: dict[str, list[tuple[str, bool]]]) -> dict[str, list[tuple[str, HamletSpec]]]:
    """Old commune code → the hamlets it held before the reform, each with the new commune it
    went into (see the module docstring). A divided commune's run comes last in each new commune
    it went into; a number it would hold twice (two runs overlapping) goes to the predecessor
    before it instead, since a commune's hamlets have distinct numbers."""
    held: dict[str, list[tuple[str, HamletSpec]]] = {}
    for new_code, preds in predecessors.items():
        order = [c for c, part in preds if not part] + [c for c, part in preds if part]
        for old_code, run in deal_hamlets(specs[new_code], order).items():
            taken = {h.local_id for _, h in held.get(old_code, [])}
            clash = [h for h in run if h.local_id in taken]
            if clash:
                previous = order[max(order.index(old_code) - 1, 0)]
                held.setdefault(previous, []).extend((new_code, h) for h in clash)
                run = [h for h in run if h.local_id not in taken]
            held.setdefault(old_code, []).extend((new_code, h) for h in run)
    return held


def _old_hamlets(old: dict[str, AdminUnit], held: dict[str, list[tuple[str, HamletSpec]]],
                 report: DemoReport) -> None:
    """Each old commune's hamlets, in force from 2016: its type's word and the number the hamlet
    keeps ("Ấp 7" in a xã, "Khu phố 7" in a phường or thị trấn), its households, flags and
    synthetic boundary."""
    for code, specs in held.items():
        commune = old[code]
        existing = set(db.session.scalars(select(AdminUnit.local_id).where(AdminUnit.parent_id == commune.id)))
        hamlet_type, word = hamlet_type_for(commune.type)
        for _new_code, spec in sorted(specs, key=lambda item: item[1].local_id):
            if spec.local_id in existing:
                continue
            unit_services.create_hamlet(
                commune, name=f"{word} {int(spec.local_id)}", type=hamlet_type, valid_from=HISTORY_FROM,
                local_id=spec.local_id, is_synthetic=True, households=spec.households, population=spec.population,
                is_difficult=spec.is_difficult, is_ethnic_minority=spec.is_ethnic_minority,
                **geometry_columns(spec.geometry))
            report.hamlets_created += 1


def _old_criteria(provinces: list[AdminUnit]) -> None:
    """The old provinces' quotas, so coverage and the quota page answer before 1/7/2025 too: the
    bands the demo uses after it (illustrative, like them), from when Thông tư 02/2021/TT-BYT
    took effect (the earliest a version may start, ``common.dates``)."""
    from ..common.dates import TT_02_2021_IN_FORCE
    from ..recruitment import services as rs
    from ..recruitment.models import CriteriaSet

    for province in provinces:
        if db.session.scalar(select(CriteriaSet.id).where(CriteriaSet.province_id == province.id).limit(1)):
            continue
        settings = {**V1_SETTINGS, "valid_from": TT_02_2021_IN_FORCE}
        settings["note"] = (settings["note"].split("Từ khi")[0] + f"Áp dụng cho {province.full_name} trước sắp xếp "
                            "01/7/2025 để tính định mức CTV của dữ liệu lịch sử.")
        rs.create_criteria_version(province, **settings)


def apply_reform(data_dir: Path, province: AdminUnit,
                 held: dict[str, list[tuple[str, HamletSpec]]]) -> reform_import.ReformSummary:
    """The commune reform of 1/7/2025 through the reform import, as ``danso units reform`` would
    apply ``data/dong_nai_reform_2025.csv`` — with the hamlets of each divided commune named for
    its parts (the file leaves them empty: the demo's hamlets are its own) — then the provinces'
    merger and the end of the districts, recorded as changes (:mod:`units.reforms` reforms
    communes and hamlets only)."""
    table = reform_import.read_reform(data_dir / REFORM_FILE)
    for row in table.rows:
        if str(row.get("part") or "").strip().lower() == "true":
            new_code, old_code = str(row.get("new_code")), str(row.get("old_code"))
            row.values["hamlets"] = ";".join(h.local_id for n, h in held.get(old_code, []) if n == new_code)
    plan = reform_import.plan_reform(table)
    if plan.problems:
        problems = [str(p) for p in plan.problems]
        raise ValidationFailed(problems[0], problems=problems)
    summary = reform_import.run_reform(plan, actor=None)
    _record_higher_levels(province)
    return summary


def _record_higher_levels(province: AdminUnit) -> None:
    """The provinces' merger (Bình Phước into Đồng Nai, which kept its code) and the end of the
    22 districts, as ``UnitChange`` rows of 1/7/2025 with their legal acts."""
    old = list(db.session.scalars(select(AdminUnit).where(
        AdminUnit.level == UnitLevel.PROVINCE.value, AdminUnit.code.in_(list(OLD_PROVINCES)),
        AdminUnit.valid_to == REFORM_DAY).order_by(AdminUnit.code)))
    merger = UnitChange(kind=UnitChangeKind.MERGE.value, effective_on=REFORM_DAY, decision_ref=PROVINCE_REFORM_REF,
                        note="Hợp nhất tỉnh Bình Phước và tỉnh Đồng Nai; giữ mã 75.", sources=old, targets=[province])
    db.session.add(merger)
    districts = list(db.session.scalars(select(AdminUnit).where(
        AdminUnit.level == UnitLevel.DISTRICT.value, AdminUnit.valid_to == REFORM_DAY).order_by(AdminUnit.code)))
    closes = [UnitChange(kind=UnitChangeKind.CLOSE.value, effective_on=REFORM_DAY, decision_ref=REFORM_REF,
                         note="Kết thúc hoạt động của đơn vị hành chính cấp huyện.", sources=[d], targets=[])
              for d in districts]
    db.session.add_all(closes)
    db.session.flush()
    record("unit.change", merger, label=f"Sáp nhập: {', '.join(u.full_name for u in old)} → {province.full_name}",
           unit_path=province.path, after={"kind": merger.kind, "effective_on": REFORM_DAY,
                                           "decision_ref": PROVINCE_REFORM_REF, "sources": [u.id for u in old],
                                           "targets": [province.id]})
    for change, district in zip(closes, districts, strict=True):
        record("unit.change", change, label=f"Giải thể: {district.full_name}", unit_path=district.path,
               after={"kind": change.kind, "effective_on": REFORM_DAY, "decision_ref": REFORM_REF,
                      "sources": [district.id], "targets": []})


def _hamlets(commune: AdminUnit, specs: list[HamletSpec], report: DemoReport) -> None:
    """The new commune's hamlets as generated: the reform opened them from the old ones; a demo
    loaded without the old communes creates them here (from 1/7/2025)."""
    existing = {h.local_id: h for h in db.session.scalars(select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.valid_to.is_(None)))}
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
    units and the pipeline use it: the history takes most of the loading time).

    Order: the merged province; the old provinces, districts and communes with their hamlets; the
    reform of 1/7/2025 (which opens the 95 communes and their hamlets); the new communes'
    boundaries; facilities, users, the pipeline, the network (whose history before 1/7/2025 is
    written in the old hamlets, demo/network.py)."""
    auth_services.check_password_strength(password)
    report = DemoReport()
    lineage = read_lineage(data_dir / "dong_nai_wards_2026.csv")
    wards = data_dir / "dong_nai_wards_2026.geojson"
    _import(data_dir / "dong_nai_province_2026.geojson", "dong_nai_province_2026.geojson")
    province = unit_services.find_unit_by_code(PROVINCE_CODE)
    districts = _historical_units(lineage, report)
    specs = _demo_hamlets(_ward_shapes(wards), lineage, seed)
    if not _reform_applied(province):
        old = _old_communes(read_old_communes(data_dir / PRE2025_FILE), districts, report)
        held = plan_old_hamlets(specs, read_reform_rows(data_dir / REFORM_FILE))
        _old_hamlets(old, held, report)
        _old_criteria(list(db.session.scalars(select(AdminUnit).where(
            AdminUnit.level == UnitLevel.PROVINCE.value, AdminUnit.valid_to == REFORM_DAY))))
        report.reform = apply_reform(data_dir, province, held)
    else:
        report.old_communes = db.session.scalar(select(func.count()).select_from(AdminUnit).where(
            AdminUnit.level == UnitLevel.COMMUNE.value, AdminUnit.valid_to == REFORM_DAY)) or 0
    _import(wards, wards.name)
    communes = unit_services.descendants(province, level=UnitLevel.COMMUNE)
    report.communes = len(communes)
    for commune in communes:
        _hamlets(commune, specs.get(commune.code, []), report)
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

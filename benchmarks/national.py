"""A national-scale synthetic dataset for benchmarks (issue #4, "Targets"), reusable by later issues.

What it writes, deterministic for a seed and a scale (``--scale 0.1`` keeps a tenth of the
communes of every province, for quick runs):

- the 34 provinces and all 3,321 real communes of 2026 from ``data/vn_wards_2026.geojson.gz``
  (codes, names, types; valid from 1/7/2025, QĐ 19/2025/QĐ-TTg). **Geometry is not loaded**: the
  geometry, bounding-box and centroid columns stay NULL (the benchmarks draw no maps; the map
  benchmarks fill the communes' afterwards, once: :func:`fill_commune_geometry`);
- ≈ 19 synthetic hamlets per commune (≈ 63,000), typed per Thông tư 04/2012/TT-BNV: thôn / ấp under a
  xã (bản, buôn, plei, bon, sóc for minority hamlets in some provinces), tổ dân phố / khu phố under a
  phường; 80–600 households; ≈ 15 % difficult / ethnic-minority (more in the mountains);
- the facilities of the supervision chain: a Department (Sở Y tế) per province, 3 area health centres
  per province each serving a contiguous share of its communes, a station per commune; a criteria
  set per province (Gia Lai quota bands, QĐ 34/2023/QĐ-UBND);
- ≈ 150,000 collaborators (candidate + activated application + collaborator + assignments) staffing
  each hamlet to its quota (≤ 200 households → 1, ≤ 400 → 2, else 3; ≈ 3 % of places vacant), with
  three years of history (1/7/2023 → 31/10/2026): ≈ 12 % ended with a reason and replaced after a
  gap, ≈ 3 % transferred to another hamlet of the same commune (closed ``transferred`` + a new open
  assignment the same day) and replaced, ≈ 1 % suspended now, ≈ 2 % suspended for a while in the past;
- what the network's lists read (issue #8), from a random stream of its own per commune (so the
  people and history above are those of generator version 1, ids apart): supervision visits from 1/3/2026, every
  60–140 days per collaborator (≈ 5 % never visited), ≈ 12 % with a follow-up, most closed; the
  monthly meetings of the last three months with an attendance sheet (≈ 4 % of months not
  recorded, ≈ 2 % of collaborators who habitually miss); applications in progress for ≈ half of the
  vacant places and rejected / withdrawn ones before some replacements; training courses (commune,
  centre, province) with attendance; a register hand-over request whenever a hamlet is left with
  nobody (most recorded); the province's network policy and allowance rules, the base salary;
  audit events for recent actions;
- users: ``bench_admin_<province code>`` (province admin of one province) and ``bench_national``
  (province admin in all 34), a station officer per commune (``bench_station_<commune code>``) and
  a centre officer per area health centre (``bench_centre_<province code>_<n>``), password
  ``matkhau-bench-1``; an API token ``dso_bench_<username>`` for each province admin and the
  national user (see :func:`api_token_of`).

Rows are written with SQLAlchemy Core bulk inserts in chunks, ids assigned here (so materialised
paths ``/1/35/4000/`` are known up front). The schema comes from the app's metadata
(``db.create_all()`` on an empty database): this is a throwaway benchmark database, never the app's.
A ``bench_meta`` table records the seed, scale, generator version and schema fingerprint, so a
complete dataset of the same parameters is reused instead of rebuilt.

    python -m benchmarks.national --url sqlite:////tmp/bench.db [--seed 1] [--scale 1.0] [--replace]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from werkzeug.security import generate_password_hash

from danso_network import create_app
from danso_network.allowances.models import AllowanceBasis, AllowanceRule, BaseSalary, CommuneCategory, Zone
from danso_network.api.auth import hash_token
from danso_network.api.models import ApiToken
from danso_network.audit.models import AuditEvent
from danso_network.auth.models import Role, RoleGrant, User
from danso_network.collaborators.models import (
    Assignment,
    Collaborator,
    EndReason,
    NetworkPolicy,
    RegisterHandover,
    Suspension,
)
from danso_network.config import DATA_DIR
from danso_network.extensions import db
from danso_network.recruitment.models import Application, Candidate, CriteriaSet
from danso_network.recruitment.rules import DEFAULT_ENABLED, QUOTA_PRESETS
from danso_network.recruitment.workflow import State
from danso_network.supervision.models import (
    ChecklistItem,
    MeetingAttendance,
    MonthlyMeeting,
    SupervisionVisit,
)
from danso_network.textnorm import fold
from danso_network.training.models import TrainingAttendance, TrainingCourse
from danso_network.units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel, UnitType
from danso_network.units.services import search_text_for

from .names import DEFAULT_GROUPS, PLACE_WORDS, PROVINCE_GROUPS, person_name

GENERATOR_VERSION = "2"  # 2: visits, meetings, applications, training, hand-overs, audit… (issue #8)
WARDS_FILE = Path(DATA_DIR) / "vn_wards_2026.geojson.gz"
REFORM_DAY = date(2025, 7, 1)  # two-tier local government, QĐ 19/2025/QĐ-TTg
REFORM_REF = "QĐ 19/2025/QĐ-TTg"
FIRST_APPOINTED = date(2012, 1, 1)  # the network predates the recorded history
HISTORY_FROM = date(2023, 7, 1)  # three years of recorded events…
HISTORY_TO = date(2026, 10, 31)  # …nothing is dated after this day
BENCH_PASSWORD = "matkhau-bench-1"
NATIONAL_USERNAME = "bench_national"
CHUNK = 2000  # rows per INSERT batch
FLUSH_ROWS = 12000  # buffered rows before writing

QUOTA_BANDS = QUOTA_PRESETS["gia_lai"]
VACANT_SHARE = 0.03
ENDED_SHARE = 0.12
TRANSFER_SHARE = 0.03
OPEN_SUSPENSION_SHARE = 0.01
PAST_SUSPENSION_SHARE = 0.02
VHW_SHARE = 0.20
FEMALE_SHARE = 0.82
CENTRES_PER_PROVINCE = 3
HAMLETS_PER_COMMUNE = (9, 29)  # uniform: 19 on average

# The network's activity (issue #8), drawn from a random stream of its own.
VISITS_FROM = date(2026, 3, 1)
VISIT_GAP_DAYS = (60, 140)  # between two visits of a collaborator (≈ quarterly, DOMAIN.md §7.3)
NEVER_VISITED_SHARE = 0.05
FOLLOW_UP_SHARE = 0.12
FOLLOW_UP_CLOSED_SHARE = 0.85
CHECKLIST_PASSED, CHECKLIST_FAILED = 0.85, 0.10  # the rest not checked
MEETING_MONTHS = (date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1))
MEETING_UNRECORDED_SHARE = 0.04
HABITUAL_ABSENTEE_SHARE = 0.02
ATTENDED_SHARE = 0.93
P0_SHARE = 0.95  # of those who attended
PENDING_APPLICATION_SHARE = 0.5  # of the places vacant at the end of history
FAILED_APPLICATION_SHARE = 0.25  # of the replacements: a rejected or withdrawn candidate first
PENDING_STATES = ((State.NOMINATED, 25), (State.DOSSIER_COMPLETE, 20), (State.SCREENED, 20),
                  (State.STATION_REVIEWED, 10), (State.SUBMITTED, 12), (State.RETURNED, 5),
                  (State.APPROVED, 5), (State.CONTRACTED, 3))
COMMUNE_COURSE_SHARE = 0.6
CENTRE_COURSES = (date(2025, 10, 13), date(2026, 5, 11))  # first day of each centre course
CENTRE_COURSE_SEATS = 60
PROVINCE_COURSE = date(2026, 9, 14)
PROVINCE_COURSE_SEATS = 40
HANDOVER_UNRECORDED_SHARE = 0.08
AUDIT_VISITS_FROM = date(2026, 10, 1)  # visits are audited from here (the others predate the audit log)
BASE_SALARIES = ((date(2023, 7, 1), 1_800_000, "NĐ 24/2023/NĐ-CP"), (date(2024, 7, 1), 2_340_000, "NĐ 73/2024/NĐ-CP"))
TOKEN_EXPIRES = datetime(2100, 1, 1, tzinfo=UTC)
REJECTIONS = ["Không đủ thời gian cư trú tại thôn", "Chưa tốt nghiệp trung học cơ sở",
              "Không đủ sức khoẻ theo giấy khám", "Họp thôn không thống nhất đề cử"]
FOLLOW_UPS = ["Cập nhật Sổ A0 các hộ mới chuyển đến", "Nộp bổ sung phiếu P0 tháng trước",
              "Bổ sung sổ theo dõi cấp phát phương tiện tránh thai", "Rà soát lại danh sách phụ nữ 15–49 tuổi",
              "Hoàn thiện biên bản chuyển tuyến"]
FINDINGS = ["Sổ A0 chưa cập nhật các biến động trong quý", "Thiếu phiếu P0 của tháng trước",
            "Ghi chép đầy đủ, đúng quy định", "Chưa có sổ theo dõi cấp phát phương tiện tránh thai", None, None]

# Hamlets in the south are "ấp" / "khu phố", elsewhere "thôn" / "tổ dân phố" (TT 04/2012/TT-BNV).
SOUTH = frozenset({"75", "79", "80", "82", "86", "91", "92", "96"})
# Minority hamlets under a xã keep their own word in some provinces.
MINORITY_HAMLET = {
    "11": (UnitType.BAN, "Bản"), "12": (UnitType.BAN, "Bản"), "14": (UnitType.BAN, "Bản"),
    "15": (UnitType.BAN, "Bản"), "52": (UnitType.PLEI, "Plei"), "66": (UnitType.BUON, "Buôn"),
    "68": (UnitType.BON, "Bon"), "92": (UnitType.SOC, "Sóc"), "96": (UnitType.PHUM, "Phum"),
}
# Share of hamlets marked difficult / ethnic-minority, by province (≈ 15 % nationally).
FLAGGED_SHARE = {
    **dict.fromkeys(["04", "08", "11", "12", "14", "15", "19", "20"], 0.40),
    **dict.fromkeys(["52", "66", "68"], 0.30),
    **dict.fromkeys(["22", "25", "38", "40", "44", "51", "56", "75"], 0.12),
    **dict.fromkeys(["80", "86", "91", "92", "96"], 0.10),
}
OTHER_FLAGGED_SHARE = 0.03

COMMUNE_TYPES = {"xã": UnitType.XA, "phường": UnitType.PHUONG, "đặc khu": UnitType.DAC_KHU}
END_REASONS = [  # (reason, weight) for ended assignments (DOMAIN.md §7.2 proposes the list)
    (EndReason.RESIGNED, 38), (EndReason.MOVED_OUT, 20), (EndReason.HEALTH, 14),
    (EndReason.NON_PERFORMANCE, 10), (EndReason.CONTRACT_ENDED, 14), (EndReason.DECEASED, 4),
]
EDUCATION = [("lower_secondary", 36), ("upper_secondary", 44), ("vocational", 11), ("college", 9)]
SUSPENSION_REASONS = [
    "Tạm nghỉ để điều trị bệnh dài ngày", "Tạm vắng khỏi địa phương (đi làm ăn xa)",
    "Chờ xem xét phản ánh của người dân", "Nghỉ chăm sóc con nhỏ",
]
NOMINATORS = ["Trưởng thôn đề cử", "Họp thôn giới thiệu", "Tự ứng cử", "Hội Liên hiệp Phụ nữ giới thiệu"]

CHECKLIST_KEYS = tuple(item.value for item in ChecklistItem)

meta_table = Table(  # not in the app's metadata: benchmark bookkeeping only
    "bench_meta", MetaData(),
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

TABLE_ORDER = [AdminUnit, CriteriaSet, Facility, ServiceArea, User, RoleGrant, ApiToken, NetworkPolicy, BaseSalary,
               AllowanceRule, Candidate, Application, Collaborator, Assignment, Suspension, RegisterHandover,
               SupervisionVisit, MonthlyMeeting, MeetingAttendance, TrainingCourse, TrainingAttendance, AuditEvent]


@dataclass
class Counts:
    provinces: int = 0
    communes: int = 0
    hamlets: int = 0
    hamlets_flagged: int = 0
    facilities: int = 0
    service_areas: int = 0
    collaborators: int = 0
    assignments: int = 0
    open_assignments: int = 0
    ended: int = 0
    transfers: int = 0
    vacant_places: int = 0
    suspensions: int = 0
    open_suspensions: int = 0
    users: int = 0
    grants: int = 0
    tokens: int = 0
    visits: int = 0
    follow_ups: int = 0
    open_follow_ups: int = 0
    meetings: int = 0
    meeting_rows: int = 0
    pending_applications: int = 0
    failed_applications: int = 0
    courses: int = 0
    course_rows: int = 0
    handovers: int = 0
    open_handovers: int = 0
    allowance_rules: int = 0
    audit_events: int = 0


def api_token_of(username: str) -> str:
    """The API token the dataset gives a province admin or the national user (benchmark only)."""
    return f"dso_bench_{username}"


def make_bench_app(url: str):
    """The real app on the benchmark database (plain HTTP cookies so the test client keeps the session)."""
    return create_app({
        "DATABASE_URL": url, "SECRET_KEY": "benchmark-only-not-secret", "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False, "RATELIMIT_ENABLED": False,
    })


def read_communes(path: Path = WARDS_FILE) -> list[dict]:
    """The communes' properties (code, name, full_name, type, province_code, province_name)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    keys = ("code", "name", "full_name", "type", "province_code", "province_name")
    rows = [{k: feat["properties"][k] for k in keys} for feat in features]
    return sorted(rows, key=lambda p: (p["province_code"], p["code"]))


def select_communes(communes: list[dict], scale: float) -> dict[str, list[dict]]:
    """Per province code, the communes kept at ``scale``: evenly spread over the codes (so a small
    scale still mixes xã and phường), at least one per province."""
    by_province: dict[str, list[dict]] = defaultdict(list)
    for c in communes:
        by_province[c["province_code"]].append(c)
    kept = {}
    for pc, rows in sorted(by_province.items()):
        n = max(1, round(len(rows) * scale))
        kept[pc] = [rows[i * len(rows) // n] for i in range(n)]
    return kept


def schema_fingerprint() -> str:
    """Changes when a model gains or loses a table, column or index: an old dataset is then rebuilt."""
    parts = []
    for table in sorted(db.metadata.tables.values(), key=lambda t: t.name):
        parts.append([table.name, [f"{c.name}:{c.type!r}" for c in table.columns], sorted(i.name for i in table.indexes)])
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:12]


# --- writing ------------------------------------------------------------------------------------


class _Writer:
    """Buffers rows per table and writes them parents-first (SQLite checks foreign keys per row)."""

    def __init__(self):
        self.rows: dict[type, list[dict]] = defaultdict(list)
        self.pending = 0

    def add(self, model, row: dict) -> None:
        self.rows[model].append(row)
        self.pending += 1

    def maybe_flush(self) -> None:
        if self.pending >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        for model in TABLE_ORDER:
            rows = self.rows.pop(model, None)
            keys = {k for row in rows or () for k in row}
            if rows and any(len(row) != len(keys) for row in rows):  # one INSERT needs the same columns
                rows = [{k: row.get(k) for k in keys} for row in rows]
            for i in range(0, len(rows or ()), CHUNK):
                db.session.execute(insert(model.__table__), rows[i:i + CHUNK])
        self.pending = 0


class _Ids:
    def __init__(self):
        self.last: dict[str, int] = defaultdict(int)

    def next(self, kind: str) -> int:
        self.last[kind] += 1
        return self.last[kind]


def _at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, dtime(hour, 0), tzinfo=UTC)


def _day_between(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _weighted(rng: random.Random, pairs):
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _answer(r: float) -> bool | None:
    """A checklist answer from a uniform draw: Đạt, Chưa đạt or not checked."""
    return True if r < CHECKLIST_PASSED else False if r < CHECKLIST_PASSED + CHECKLIST_FAILED else None


def _unit(uid: int, path: str, *, level: UnitLevel, type: str, name: str, full_name: str, parent_id=None,
          code=None, local_id=None, households=None, population=None, difficult=False, ethnic=False,
          synthetic=False) -> dict:
    probe = SimpleNamespace(level=level, name=name, full_name=full_name, code=code)
    return {
        "id": uid, "code": code, "local_id": local_id, "name": name, "full_name": full_name,
        "search_text": search_text_for(probe), "level": level.value, "type": str(type), "parent_id": parent_id,
        "path": path, "valid_from": REFORM_DAY, "valid_to": None, "decision_ref": REFORM_REF,
        "households": households, "population": population, "is_difficult": difficult,
        "is_ethnic_minority": ethnic, "is_synthetic": synthetic,
    }


class _Generator:
    def __init__(self, seed: int, writer: _Writer, counts: Counts):
        self.seed = seed
        self.w = writer
        self.counts = counts
        self.ids = _Ids()
        self.national_ids: set[str] = set()
        self.now = _at(HISTORY_TO, 17)
        self.password_hash = generate_password_hash(BENCH_PASSWORD)  # once: hashing is slow by design
        self.criteria: dict[str, int] = {}  # province code → its criteria set id
        self.places: dict[int, dict] = {}  # commune id → its station, station officer, centre officer
        # The commune being generated: its activity stream, assignments, suspensions and names.
        self.act = random.Random()
        self.place: dict = {}
        self.served: list[tuple] = []  # (assignment id, person, hamlet, start, end, end reason)
        self.paused: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
        self.names: dict[int, str] = {}

    # -- units, facilities, province settings --

    def province(self, code: str, full_name: str) -> dict:
        if full_name.startswith("Thành phố "):
            unit_type, name = UnitType.THANH_PHO_TW, full_name[len("Thành phố "):]
        else:
            unit_type, name = UnitType.TINH, full_name.removeprefix("Tỉnh ")
        uid = self.ids.next("unit")
        row = _unit(uid, f"/{uid}/", level=UnitLevel.PROVINCE, type=unit_type, name=name, full_name=full_name,
                    code=code)
        self.w.add(AdminUnit, row)
        self.criteria[code] = self.ids.next("criteria")
        self.w.add(CriteriaSet, {
            "id": self.criteria[code], "province_id": uid, "version": 1, "valid_from": REFORM_DAY,
            "name": "Bộ tiêu chí chuẩn (dữ liệu đo hiệu năng)", "legal_basis": "TT 02/2021/TT-BYT, Điều 2",
            "quota_bands": QUOTA_BANDS, "quota_preset": "gia_lai", "approver": "health_centre", "min_age": 18,
            "enabled_rules": list(DEFAULT_ENABLED), "created_at": _at(REFORM_DAY),
        })
        self.counts.provinces += 1
        self.settings(row)
        return row

    def settings(self, province: dict) -> None:
        """The province's network policy and allowance resolution (three lines: the general rate, a
        higher one for difficult hamlets, a lower one for phường), by coefficient or fixed amount."""
        rng = random.Random(f"{self.seed}:settings:{province['code']}")
        allow = rng.random() < 0.3
        self.w.add(NetworkPolicy, {
            "id": self.ids.next("policy"), "province_id": province["id"], "valid_from": REFORM_DAY,
            "allow_additional_hamlet": allow, "pay_additional_hamlet": allow and rng.random() < 0.5,
            "visit_interval_days": _weighted(rng, ((92, 26), (60, 4), (120, 4))),
            "missed_meetings_for_review": _weighted(rng, ((2, 28), (3, 6))),
            "legal_basis": f"QĐ {rng.randint(10, 99)}/2025/QĐ-UBND (dữ liệu đo hiệu năng)",
            "created_at": _at(REFORM_DAY),
        })
        by_coefficient = rng.random() < 0.5
        resolution = f"NQ {rng.randint(10, 60)}/2025/NQ-HĐND (dữ liệu đo hiệu năng)"
        for category, zone, coefficient, amount in ((None, None, "0.3000", 500_000),
                                                    (None, Zone.DIFFICULT.value, "0.5000", 700_000),
                                                    (CommuneCategory.PHUONG.value, None, "0.2500", 450_000)):
            self.w.add(AllowanceRule, {
                "id": self.ids.next("allowance_rule"), "province_id": province["id"], "valid_from": REFORM_DAY,
                "valid_to": None, "commune_category": category, "zone": zone, "vhw_concurrent": None,
                "basis": (AllowanceBasis.COEFFICIENT if by_coefficient else AllowanceBasis.FIXED).value,
                "amount": None if by_coefficient else amount,
                "coefficient": Decimal(coefficient) if by_coefficient else None,
                "legal_basis": resolution, "note": None, "created_at": _at(REFORM_DAY), "created_by_id": None,
            })
            self.counts.allowance_rules += 1

    def base_salaries(self) -> None:
        for valid_from, amount, basis in BASE_SALARIES:
            self.w.add(BaseSalary, {"id": self.ids.next("base_salary"), "valid_from": valid_from, "amount": amount,
                                    "legal_basis": basis, "created_at": _at(valid_from), "created_by_id": None})

    def facility(self, *, code: str, kind: FacilityKind, name: str, unit_id: int, parent_id: int | None,
                 serves: list[int]) -> int:
        fid = self.ids.next("facility")
        self.w.add(Facility, {"id": fid, "code": code, "kind": kind.value, "name": name, "unit_id": unit_id,
                              "parent_id": parent_id, "valid_from": REFORM_DAY, "decision_ref": REFORM_REF})
        for unit_id in serves:
            self.w.add(ServiceArea, {"id": self.ids.next("area"), "facility_id": fid, "unit_id": unit_id,
                                     "valid_from": REFORM_DAY})
            self.counts.service_areas += 1
        self.counts.facilities += 1
        return fid

    def province_tree(self, province: dict, communes: list[dict]) -> None:
        pcode = province["code"]
        commune_rows = []
        for c in communes:
            uid = self.ids.next("unit")
            row = _unit(uid, f"{province['path']}{uid}/", level=UnitLevel.COMMUNE, type=COMMUNE_TYPES[c["type"]],
                        name=c["name"], full_name=c["full_name"], parent_id=province["id"], code=c["code"])
            self.w.add(AdminUnit, row)
            commune_rows.append(row)
            self.counts.communes += 1
        department = self.facility(code=f"SYT-{pcode}", kind=FacilityKind.DEPARTMENT,
                                   name=f"Sở Y tế {province['full_name']}", unit_id=province["id"], parent_id=None,
                                   serves=[province["id"]])
        n_centres = min(CENTRES_PER_PROVINCE, len(commune_rows))
        centres = []
        for k in range(n_centres):
            share = commune_rows[k * len(commune_rows) // n_centres:(k + 1) * len(commune_rows) // n_centres]
            name = f"Trung tâm Y tế khu vực {share[0]['name']}"
            centre = self.facility(code=f"TTYT-{pcode}-{k + 1}", kind=FacilityKind.HEALTH_CENTRE, name=name,
                                   unit_id=province["id"], parent_id=department, serves=[c["id"] for c in share])
            officer = self.staff(f"bench_centre_{pcode}_{k + 1}", f"Viên chức dân số, {name}", Role.CENTRE_OFFICER,
                                 centre)
            centres.append((centre, name, officer, share))
            for commune in share:
                station_name = f"Trạm Y tế {commune['full_name']}"
                station = self.facility(code=f"TYT-{commune['code']}", kind=FacilityKind.STATION, name=station_name,
                                        unit_id=commune["id"], parent_id=centre, serves=[commune["id"]])
                self.places[commune["id"]] = {
                    "station": station_name, "centre_user": officer,
                    "station_user": self.staff(f"bench_station_{commune['code']}", f"Viên chức dân số, {station_name}",
                                               Role.STATION_OFFICER, station)}
        people = {}
        for commune in commune_rows:
            people[commune["id"]] = self.commune(province, commune)
            self.w.maybe_flush()
        self.area_courses(province, centres, people)

    def staff(self, username: str, full_name: str, role: Role, facility_id: int) -> tuple[int, str]:
        """A user holding ``role`` at a facility from the reform on; (id, username) for audit rows."""
        uid = self.user(username, full_name)
        self.w.add(RoleGrant, {"id": self.ids.next("grant"), "user_id": uid, "role": role.value,
                               "facility_id": facility_id, "valid_from": REFORM_DAY})
        self.counts.grants += 1
        return uid, username

    def hamlets(self, rng: random.Random, pcode: str, commune: dict) -> list[dict]:
        urban = commune["type"] == UnitType.PHUONG
        south = pcode in SOUTH
        places = list(PLACE_WORDS)
        rows = []
        for i in range(1, rng.randint(*HAMLETS_PER_COMMUNE) + 1):
            flagged = rng.random() < FLAGGED_SHARE.get(pcode, OTHER_FLAGGED_SHARE)
            ethnic = flagged and rng.random() < 0.7
            if urban:
                unit_type, word = (UnitType.KHU_PHO, "Khu phố") if south else (UnitType.TO_DAN_PHO, "Tổ dân phố")
            elif ethnic and pcode in MINORITY_HAMLET:
                unit_type, word = MINORITY_HAMLET[pcode]
            else:
                unit_type, word = (UnitType.AP, "Ấp") if south else (UnitType.THON, "Thôn")
            named = rng.random() < 0.3
            name = f"{word} {places.pop(rng.randrange(len(places)))}" if named else f"{word} {i}"
            households = rng.randint(80, 600)
            uid = self.ids.next("unit")
            row = _unit(uid, f"{commune['path']}{uid}/", level=UnitLevel.HAMLET, type=unit_type, name=name,
                        full_name=f"{name}, {commune['full_name']}", parent_id=commune["id"], local_id=f"{i:03d}",
                        households=households, population=round(households * rng.uniform(3.2, 4.3)),
                        difficult=flagged, ethnic=ethnic, synthetic=True)
            self.w.add(AdminUnit, row)
            rows.append(row)
            self.counts.hamlets += 1
            self.counts.hamlets_flagged += flagged
        return rows

    # -- people and their history --

    def commune(self, province: dict, commune: dict) -> tuple[list, dict]:
        """The commune's hamlets, people and history (stream ``rng``, as in generator version 1), then
        its activity (stream ``self.act``). Returns its assignments and suspensions (for the courses
        of the centre and province)."""
        rng = random.Random(f"{self.seed}:{commune['code']}")
        self.act = random.Random(f"{self.seed}:activity:{commune['code']}")
        self.place, self.served, self.paused, self.names = self.places[commune["id"]], [], defaultdict(list), {}
        pcode = province["code"]
        hamlets = self.hamlets(rng, pcode, commune)
        for hamlet in hamlets:
            quota = next(n for upper, n in QUOTA_BANDS if upper is None or hamlet["households"] <= upper)
            for _ in range(quota):
                if rng.random() < VACANT_SHARE:
                    self.counts.vacant_places += 1
                    self.vacant(pcode, hamlet)
                    continue
                start = _day_between(rng, FIRST_APPOINTED, HISTORY_FROM - timedelta(days=1))
                person = self.person(rng, pcode, hamlet, start)
                r = rng.random()
                if r < ENDED_SHARE:
                    end = _day_between(rng, HISTORY_FROM, HISTORY_TO - timedelta(days=30))
                    self.assignment(person, hamlet, start, end, _weighted(rng, END_REASONS).value)
                    self.counts.ended += 1
                    self.replace(rng, pcode, hamlet, end)
                elif r < ENDED_SHARE + TRANSFER_SHARE and len(hamlets) > 1:
                    moved = _day_between(rng, HISTORY_FROM, HISTORY_TO - timedelta(days=30))
                    self.assignment(person, hamlet, start, moved, EndReason.TRANSFERRED.value)
                    target = rng.choice([h for h in hamlets if h is not hamlet])
                    self.assignment(person, target, moved, None, decision_ref=f"{rng.randint(1, 300)}/QĐ-TYT")
                    self.suspensions(rng, person, moved)
                    self.counts.transfers += 1
                    self.replace(rng, pcode, hamlet, moved)
                else:
                    self.assignment(person, hamlet, start, None)
                    self.suspensions(rng, person, start)
        self.changes(commune)
        self.visits()
        self.meetings(commune)
        self.commune_course(commune)
        return self.served, self.paused

    def replace(self, rng: random.Random, pcode: str, hamlet: dict, left_on: date) -> None:
        """A successor after a recruitment gap; none yet if the gap runs past the end of history."""
        start = left_on + timedelta(days=rng.randint(15, 150))
        if start > HISTORY_TO:
            self.counts.vacant_places += 1
            self.vacant(pcode, hamlet)
            return
        if self.act.random() < FAILED_APPLICATION_SHARE:
            self.failed_application(pcode, hamlet, left_on, start)
        person = self.person(rng, pcode, hamlet, start)
        self.assignment(person, hamlet, start, None)
        self.suspensions(rng, person, start)

    def candidate(self, rng: random.Random, pid: int, pcode: str, hamlet: dict, start: date) -> dict:
        """A candidate row living in ``hamlet``, of an age to start on ``start``."""
        sex = "female" if rng.random() < FEMALE_SHARE else "male"
        minority = hamlet["is_ethnic_minority"] and rng.random() < 0.85
        ethnicity = rng.choice(PROVINCE_GROUPS.get(pcode, DEFAULT_GROUPS)) if minority else "Kinh"
        full_name = person_name(rng, sex, ethnicity)
        born = start - timedelta(days=rng.randint(21 * 365, 52 * 365))
        education = _weighted(rng, EDUCATION)
        if hamlet["is_difficult"] and rng.random() < 0.08:
            education = "primary"  # TT 02/2021/TT-BYT Art. 2.1 exception
        return {
            "id": pid, "full_name": full_name, "search_text": fold(full_name), "date_of_birth": born, "sex": sex,
            "ethnicity": ethnicity, "national_id": self.national_id(rng, pcode, sex, born),
            "phone": rng.choice(("09", "03", "08", "07")) + f"{rng.randrange(10**8):08d}",
            "residence_hamlet_id": hamlet["id"], "resident_since": born + timedelta(days=rng.randint(0, 18 * 365)),
            "education": education, "is_village_health_worker": rng.random() < VHW_SHARE,
            "languages": f"{ethnicity}, Việt" if minority else None, "speaks_local_language": minority,
            "prior_experience": None, "created_at": _at(start - timedelta(days=60)),
        }

    def person(self, rng: random.Random, pcode: str, hamlet: dict, start: date) -> int:
        """Candidate, activated application and collaborator (one id for the three)."""
        pid = self.ids.next("person")
        candidate = self.candidate(rng, pid, pcode, hamlet, start)
        self.w.add(Candidate, candidate)
        self.names[pid] = candidate["full_name"]
        self.w.add(Application, {
            "id": pid, "candidate_id": pid, "hamlet_id": hamlet["id"], "hamlet_path": hamlet["path"],
            "state": "active", "version": 1, "nominated_by": rng.choice(NOMINATORS), "dossier": {},
            "application_signed_on": start - timedelta(days=45), "screening_passed": True,
            "screened_on": start - timedelta(days=40), "contract_number": f"{pid}/HĐTN-TYT",
            "contract_date": start, "activated_on": start, "created_at": _at(start - timedelta(days=45)),
            "updated_at": _at(start),
        })
        self.w.add(Collaborator, {"id": pid, "candidate_id": pid, "application_id": pid, "activated_on": start,
                                  "created_at": _at(start)})
        self.counts.collaborators += 1
        if start >= REFORM_DAY:
            self.audit("collaborator.activate", "Collaborator", pid, candidate["full_name"], hamlet["path"], start,
                       self.place["station_user"], {"hamlet_id": hamlet["id"], "activated_on": start.isoformat()})
        return pid

    def national_id(self, rng: random.Random, pcode: str, sex: str, born: date) -> str:
        """CCCD layout: 3-digit province of birth, century/sex digit, 2-digit year, 6 random digits."""
        century = (0 if born.year < 2000 else 2) + (1 if sex == "female" else 0)
        while True:
            number = f"0{pcode}{century}{born.year % 100:02d}{rng.randrange(10**6):06d}"
            if number not in self.national_ids:
                self.national_ids.add(number)
                return number

    def assignment(self, person: int, hamlet: dict, start: date, end: date | None, reason: str | None = None,
                   decision_ref: str | None = None) -> int:
        aid = self.ids.next("assignment")
        self.w.add(Assignment, {
            "id": aid, "collaborator_id": person, "hamlet_id": hamlet["id"],
            "hamlet_path": hamlet["path"], "kind": "primary", "started_on": start, "ended_on": end,
            "end_reason": reason, "decision_ref": decision_ref, "created_at": _at(start),
        })
        self.served.append((aid, person, hamlet, start, end, reason))
        self.counts.assignments += 1
        self.counts.open_assignments += end is None
        return aid

    def suspensions(self, rng: random.Random, person: int, since: date) -> None:
        r = rng.random()
        if r < OPEN_SUSPENSION_SHARE:
            start = _day_between(rng, max(since, HISTORY_TO - timedelta(days=180)), HISTORY_TO)
            end = None
            self.counts.open_suspensions += 1
        elif r < OPEN_SUSPENSION_SHARE + PAST_SUSPENSION_SHARE and since <= HISTORY_TO - timedelta(days=130):
            start = _day_between(rng, max(since, HISTORY_FROM), HISTORY_TO - timedelta(days=130))
            end = start + timedelta(days=rng.randint(14, 120))
        else:
            return
        self.w.add(Suspension, {
            "id": self.ids.next("suspension"), "collaborator_id": person, "started_on": start, "ended_on": end,
            "reason": rng.choice(SUSPENSION_REASONS), "end_note": "Đã trở lại hoạt động" if end else None,
            "created_at": _at(start),
        })
        self.paused[person].append((start, end))
        self.counts.suspensions += 1

    # -- applications in progress and turned down --

    def vacant(self, pcode: str, hamlet: dict) -> None:
        """A place still vacant at the end of history: about half have a candidate in progress."""
        act = self.act
        if act.random() >= PENDING_APPLICATION_SHARE:
            return
        created = HISTORY_TO - timedelta(days=act.randint(5, 150))
        updated = min(HISTORY_TO, created + timedelta(days=act.randint(0, 60)))
        self.application(pcode, hamlet, _weighted(act, PENDING_STATES), created, updated)
        self.counts.pending_applications += 1

    def failed_application(self, pcode: str, hamlet: dict, left_on: date, successor_on: date) -> None:
        """A candidate rejected or withdrawn during the gap before the successor was appointed."""
        act = self.act
        created = left_on + timedelta(days=act.randint(0, max(0, (successor_on - left_on).days - 10)))
        updated = min(successor_on - timedelta(days=1), created + timedelta(days=act.randint(3, 30)))
        state = State.REJECTED if act.random() < 0.6 else State.WITHDRAWN
        self.application(pcode, hamlet, state, created, max(created, updated))
        self.counts.failed_applications += 1

    def application(self, pcode: str, hamlet: dict, state: State, created: date, updated: date) -> None:
        act = self.act
        pid = self.ids.next("person")
        candidate = self.candidate(act, pid, pcode, hamlet, created)
        self.w.add(Candidate, candidate)
        screened = state not in (State.NOMINATED, State.DOSSIER_COMPLETE, State.RETURNED, State.WITHDRAWN)
        self.w.add(Application, {
            "id": pid, "candidate_id": pid, "hamlet_id": hamlet["id"], "hamlet_path": hamlet["path"],
            "state": state.value, "version": 1, "nominated_by": act.choice(NOMINATORS),
            "dossier": {"application_letter": True, "id_card": True} if state != State.NOMINATED else {},
            "application_signed_on": created, "criteria_set_id": self.criteria[pcode] if screened else None,
            "screening_passed": True if screened else None, "screened_on": created if screened else None,
            "rejection_reason": act.choice(REJECTIONS) if state == State.REJECTED else None,
            "created_at": _at(created, 9), "updated_at": _at(updated, 15),
        })
        self.audit("application.create", "Application", pid, f"{candidate['full_name']} – {hamlet['name']}",
                   hamlet["path"], created, self.place["station_user"],
                   {"candidate_id": pid, "hamlet_id": hamlet["id"], "state": State.NOMINATED.value})

    # -- the commune's activity --

    def is_paused(self, person: int, day: date) -> bool:
        return any(s <= day and (e is None or e > day) for s, e in self.paused.get(person, ()))

    def changes(self, commune: dict) -> None:
        """Audit rows of the ends and transfers since the reform, and a register hand-over request for
        every end that leaves its hamlet with nobody (collaborators.services._request_handovers):
        recorded when the successor started (to the successor) or within weeks (to the station),
        except a few never recorded."""
        act, station_user = self.act, self.place["station_user"]
        by_hamlet: dict[int, list[tuple]] = defaultdict(list)
        for row in self.served:
            by_hamlet[row[2]["id"]].append(row)
        for rows in by_hamlet.values():
            for aid, person, hamlet, _start, end, reason in rows:
                if end is None:
                    continue
                if end >= REFORM_DAY:
                    action = "collaborator.transfer" if reason == EndReason.TRANSFERRED else "collaborator.terminate"
                    self.audit(action, "Collaborator", person, self.names[person], hamlet["path"], end, station_user,
                               {"assignment_id": aid, "ended_on": end.isoformat(), "end_reason": reason})
                if any(other[0] != aid and other[3] <= end and (other[4] is None or other[4] > end) for other in rows):
                    continue  # someone still serves the hamlet: no hand-over
                successor = min((o for o in rows if o[3] >= end and o[0] != aid), key=lambda o: o[3], default=None)
                handed = to = received = None
                if act.random() >= HANDOVER_UNRECORDED_SHARE:
                    if successor is not None:
                        handed = successor[3] + timedelta(days=act.randint(0, 20))
                        if successor[4] is not None and handed >= successor[4]:
                            handed = successor[3]
                        to, received = successor[1], f"{self.names[successor[1]]} (CTV kế nhiệm)"
                    else:
                        handed, received = end + timedelta(days=act.randint(5, 45)), self.place["station"]
                    if handed > HISTORY_TO:
                        handed = to = received = None
                hid = self.ids.next("handover")
                self.w.add(RegisterHandover, {
                    "id": hid, "hamlet_id": hamlet["id"], "hamlet_path": hamlet["path"], "from_collaborator_id": person,
                    "assignment_id": aid, "requested_on": end, "handed_on": handed, "received_by": received,
                    "to_collaborator_id": to, "note": None, "recorded_by_id": station_user[0] if handed else None,
                })
                self.counts.handovers += 1
                self.counts.open_handovers += handed is None
                if end >= REFORM_DAY:
                    self.audit("handover.open", "RegisterHandover", hid, hamlet["name"], hamlet["path"], end,
                               station_user, {"hamlet_id": hamlet["id"], "from_collaborator_id": person,
                                              "assignment_id": aid, "requested_on": end.isoformat()})
                if handed is not None and handed >= REFORM_DAY:
                    self.audit("handover.record", "RegisterHandover", hid, hamlet["name"], hamlet["path"], handed,
                               station_user, {"handed_on": handed.isoformat(), "received_by": received,
                                              "to_collaborator_id": to})

    def visits(self) -> None:
        """Supervision visits while each assignment is in force (never on a suspended day), every
        60–140 days from 1/3/2026; a few collaborators never visited."""
        act = self.act
        for _aid, person, hamlet, start, end, _reason in self.served:
            first = max(start, VISITS_FROM)
            last = HISTORY_TO if end is None else min(end - timedelta(days=1), HISTORY_TO)
            if first > last or act.random() < NEVER_VISITED_SHARE:
                continue
            day = first + timedelta(days=act.randint(0, VISIT_GAP_DAYS[1] - 40))
            while day <= last:
                if not self.is_paused(person, day):
                    self.visit(person, hamlet, day)
                day += timedelta(days=act.randint(*VISIT_GAP_DAYS))

    def visit(self, person: int, hamlet: dict, day: date) -> None:
        act = self.act
        checklist = {item: _answer(act.random()) for item in CHECKLIST_KEYS}
        answered = [v for v in checklist.values() if v is not None]
        if not answered:
            checklist[CHECKLIST_KEYS[0]] = True
            answered = [True]
        score = (200 * sum(answered) + len(answered)) // (2 * len(answered))  # supervision.services.checklist_score
        supervisor = self.place["station_user"] if act.random() < 0.85 else self.place["centre_user"]
        follow_up = due = closed = None
        if act.random() < FOLLOW_UP_SHARE:
            follow_up, due = act.choice(FOLLOW_UPS), day + timedelta(days=act.randint(14, 45))
            if act.random() < FOLLOW_UP_CLOSED_SHARE:
                closed = day + timedelta(days=act.randint(3, (due - day).days + 20))
                closed = closed if closed <= HISTORY_TO else None
            self.counts.follow_ups += 1
            self.counts.open_follow_ups += closed is None
        vid = self.ids.next("visit")
        self.w.add(SupervisionVisit, {
            "id": vid, "collaborator_id": person, "hamlet_id": hamlet["id"], "hamlet_path": hamlet["path"],
            "supervisor_id": supervisor[0], "visited_on": day, "checklist": checklist, "score": score,
            "findings": act.choice(FINDINGS), "follow_up": follow_up, "follow_up_due": due,
            "follow_up_closed_on": closed, "follow_up_result": "Đã khắc phục xong" if closed else None,
            "created_at": _at(day, 16),
        })
        self.counts.visits += 1
        if day >= AUDIT_VISITS_FROM:
            self.audit("visit.record", "SupervisionVisit", vid, f"{self.names[person]} – {day:%d/%m/%Y}",
                       hamlet["path"], day, supervisor, {"collaborator_id": person, "visited_on": day.isoformat(),
                                                         "score": score, "follow_up_due": due and due.isoformat()})

    def serving_on(self, day: date, served=None, paused=None) -> list[int]:
        """The people serving on ``day`` (an assignment in force, not suspended), each once."""
        served = self.served if served is None else served
        paused = self.paused if paused is None else paused
        seen: dict[int, None] = {}
        for _aid, person, _hamlet, start, end, _reason in served:
            if start <= day and (end is None or end > day) and person not in seen \
                    and not any(s <= day and (e is None or e > day) for s, e in paused.get(person, ())):
                seen[person] = None
        return list(seen)

    def meetings(self, commune: dict) -> None:
        """The monthly meetings of the last months, each with a row for everyone serving the day it
        was held; a few collaborators habitually miss them (the under-review list)."""
        act, station_user = self.act, self.place["station_user"]
        absentee: dict[int, bool] = {}
        for month in MEETING_MONTHS:
            if act.random() < MEETING_UNRECORDED_SHARE:
                continue
            held = month + timedelta(days=act.randint(2, 12))
            mid = self.ids.next("meeting")
            self.w.add(MonthlyMeeting, {"id": mid, "commune_id": commune["id"], "commune_path": commune["path"],
                                        "month": month, "held_on": held, "note": None, "created_at": _at(held, 15),
                                        "recorded_by_id": station_user[0]})
            self.counts.meetings += 1
            people = self.serving_on(held)
            for person in people:
                if person not in absentee:
                    absentee[person] = act.random() < HABITUAL_ABSENTEE_SHARE
                attended = act.random() < (0.2 if absentee[person] else ATTENDED_SHARE)
                p0 = attended and act.random() < (0.3 if absentee[person] else P0_SHARE)
                self.w.add(MeetingAttendance, {"id": self.ids.next("attendance"), "meeting_id": mid,
                                               "collaborator_id": person, "attended": attended, "p0_submitted": p0,
                                               "note": None})
                self.counts.meeting_rows += 1
            self.audit("meeting.record", "MonthlyMeeting", mid, f"{commune['full_name']} – {month:%m/%Y}",
                       commune["path"], held, station_user, {"held_on": held.isoformat(), "rows": len(people)})

    def commune_course(self, commune: dict) -> None:
        act = self.act
        if act.random() >= COMMUNE_COURSE_SHARE:
            return
        starts = date(2026, 3, 2) + timedelta(days=act.randint(0, 200))
        self.course(unit=commune, title="Tập huấn nghiệp vụ dân số cho cộng tác viên", organiser=self.place["station"],
                    starts=starts, days=2, population_work=True, location=f"Hội trường {commune['full_name']}",
                    creator=self.place["station_user"], people=self.serving_on(starts), rng=act)

    def area_courses(self, province: dict, centres: list, people: dict[int, tuple]) -> None:
        """Two courses per area health centre and one of the province, for a sample of the
        collaborators of their area serving on the first day."""
        for centre, name, officer, share in centres:
            for n, starts in enumerate(CENTRE_COURSES, 1):
                rng = random.Random(f"{self.seed}:course:{centre}:{n}")
                pool = [p for c in share for p in self.serving_on(starts, *people[c["id"]])]
                self.course(unit=province, title=f"Bồi dưỡng kỹ năng truyền thông dân số, đợt {n}", organiser=name,
                            starts=starts, days=3, population_work=False, location=name, creator=officer,
                            people=rng.sample(pool, min(CENTRE_COURSE_SEATS, len(pool))), rng=rng)
        rng = random.Random(f"{self.seed}:course:{province['code']}")
        pool = [p for c in people.values() for p in self.serving_on(PROVINCE_COURSE, *c)]
        creator = centres[0][2] if centres else self.place["station_user"]
        self.course(unit=province, title="Tập huấn giảng viên nguồn công tác dân số",
                    organiser=f"Chi cục Dân số {province['full_name']}", starts=PROVINCE_COURSE, days=5,
                    population_work=True, location=f"Hội trường Sở Y tế {province['full_name']}", creator=creator,
                    people=rng.sample(pool, min(PROVINCE_COURSE_SEATS, len(pool))), rng=rng)

    def course(self, *, unit: dict, title: str, organiser: str, starts: date, days: int, population_work: bool,
               location: str, creator: tuple[int, str], people: list[int], rng: random.Random) -> None:
        cid = self.ids.next("course")
        self.w.add(TrainingCourse, {
            "id": cid, "unit_id": unit["id"], "unit_path": unit["path"], "title": title, "organiser": organiser,
            "starts_on": starts, "ends_on": starts + timedelta(days=days - 1), "hours": Decimal(8 * days),
            "is_population_work": population_work, "location": location, "note": None,
            "created_at": _at(starts - timedelta(days=14)), "created_by_id": creator[0],
        })
        self.counts.courses += 1
        self.audit("training_course.create", "TrainingCourse", cid, title, unit["path"], starts - timedelta(days=14),
                   creator, {"title": title, "starts_on": starts.isoformat(), "days": days})
        for person in people:  # candidate id = collaborator id in this dataset
            self.w.add(TrainingAttendance, {
                "id": self.ids.next("training_attendance"), "course_id": cid, "candidate_id": person,
                "completed": rng.random() < 0.9, "note": None, "recorded_at": _at(starts + timedelta(days=days), 10),
                "recorded_by_id": creator[0],
            })
            self.counts.course_rows += 1

    def audit(self, action: str, object_type: str, object_id: int, label: str, unit_path: str, day: date,
              actor: tuple[int, str], after: dict | None) -> None:
        eid = self.ids.next("audit")
        self.w.add(AuditEvent, {
            "id": eid, "at": _at(day, 7 + eid % 10), "actor_id": actor[0], "actor_name": actor[1], "action": action,
            "object_type": object_type, "object_id": str(object_id), "object_label": label[:300],
            "unit_path": unit_path, "before": None, "after": after, "ip": None,
        })
        self.counts.audit_events += 1

    # -- users --

    def users(self, provinces: list[dict]) -> None:
        national = self.user(NATIONAL_USERNAME, "Tài khoản đo hiệu năng toàn quốc")
        self.token(national, NATIONAL_USERNAME)
        for province in provinces:
            username = f"bench_admin_{province['code']}"
            admin = self.user(username, f"Quản trị {province['full_name']} (đo hiệu năng)")
            self.token(admin, username)
            for user_id in (admin, national):
                self.w.add(RoleGrant, {"id": self.ids.next("grant"), "user_id": user_id,
                                       "role": Role.PROVINCE_ADMIN.value, "unit_id": province["id"],
                                       "valid_from": REFORM_DAY})
                self.counts.grants += 1

    def user(self, username: str, full_name: str) -> int:
        uid = self.ids.next("user")
        self.w.add(User, {"id": uid, "username": username, "full_name": full_name,
                          "password_hash": self.password_hash, "active": True, "created_at": self.now,
                          "session_version": 1})
        self.counts.users += 1
        return uid

    def token(self, user_id: int, username: str) -> None:
        self.w.add(ApiToken, {"id": self.ids.next("token"), "user_id": user_id,
                              "token_hash": hash_token(api_token_of(username)), "name": "Đo hiệu năng",
                              "created_at": self.now, "expires_at": TOKEN_EXPIRES, "session_version": 1})
        self.counts.tokens += 1


def generate(seed: int = 1, scale: float = 1.0, *, log=print) -> Counts:
    """Write the dataset into the (empty, schema-created) database of the current app context."""
    counts = Counts()
    writer = _Writer()
    gen = _Generator(seed, writer, counts)
    selected = select_communes(read_communes(), scale)
    provinces = [gen.province(pcode, rows[0]["province_name"]) for pcode, rows in selected.items()]
    gen.base_salaries()
    writer.flush()
    for province in provinces:
        gen.province_tree(province, selected[province["code"]])
        writer.flush()
        db.session.commit()
        log(f"  {province['code']} {province['full_name']}: {counts.collaborators:,} CTV, {counts.visits:,} visits "
            "so far")
    gen.users(provinces)
    writer.flush()
    db.session.commit()
    _after_load()
    return counts


def _after_load() -> None:
    """PostgreSQL: move the id sequences past the ids written here, gather statistics and set
    the visibility map (``VACUUM ANALYZE``: autovacuum would soon, and index-only scans need it).
    SQLite is left as the app leaves it: no ANALYZE."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.columns:
            continue
        seq = db.session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
        if seq:
            db.session.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, "
                                    "false)"))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# --- reuse --------------------------------------------------------------------------------------


def read_meta() -> dict[str, str]:
    if not inspect(db.engine).has_table(meta_table.name):
        return {}
    return dict(db.session.execute(select(meta_table.c.key, meta_table.c.value)).all())


def wanted_meta(seed: int, scale: float) -> dict[str, str]:
    return {"seed": str(seed), "scale": repr(float(scale)), "generator_version": GENERATOR_VERSION,
            "schema": schema_fingerprint()}


def ensure_dataset(url: str, seed: int = 1, scale: float = 1.0, *, replace: bool = False, log=print):
    """Build the dataset in the database at ``url``, or reuse a complete one with the same seed, scale,
    generator version and schema. Refuses a database holding anything else (it may be someone's data).
    Returns (meta, reused)."""
    app = make_bench_app(url)
    with app.app_context():
        try:
            return _ensure(url, seed, scale, replace, log)
        finally:
            db.session.remove()
            db.engine.dispose()  # the caller may drop the database next


def _ensure(url: str, seed: int, scale: float, replace: bool, log):
    """The body of :func:`ensure_dataset`, inside the benchmark app's context."""
    meta = read_meta()
    wanted = wanted_meta(seed, scale)
    if meta.get("complete") == "1" and all(meta.get(k) == v for k, v in wanted.items()) and not replace:
        log(f"Reusing the dataset already in {db.engine.url.render_as_string(hide_password=True)}.")
        return meta, True
    existing = inspect(db.engine).get_table_names()
    if existing and not meta:
        raise SystemExit(f"{url}: the database already holds tables and is not a benchmark dataset; "
                         "give an empty database.")
    if existing:
        log("Dropping the previous benchmark dataset (other seed/scale/schema, or incomplete).")
        db.session.remove()
        reflected = MetaData()
        reflected.reflect(db.engine)  # the tables as they are, which an older schema may differ from
        if db.engine.dialect.name == "sqlite":
            # SQLite checks foreign keys row by row while dropping: empty the tables without the check.
            # The raw DBAPI connection: no transaction is open, so the PRAGMA takes effect.
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA foreign_keys=OFF")
                for table in reversed(reflected.sorted_tables):
                    cursor.execute(f'DROP TABLE "{table.name}"')
                raw.commit()
            finally:
                raw.close()
        else:
            reflected.drop_all(db.engine)
    db.create_all()
    meta_table.create(db.engine)
    log(f"Generating (seed {seed}, scale {scale}) into {db.engine.url.render_as_string(hide_password=True)}…")
    started = time.perf_counter()
    counts = generate(seed, scale, log=log)
    elapsed = time.perf_counter() - started
    meta = {**wanted, "counts": json.dumps(asdict(counts)), "generation_seconds": f"{elapsed:.1f}",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "complete": "1"}
    db.session.execute(delete(meta_table))
    db.session.execute(insert(meta_table), [{"key": k, "value": v} for k, v in meta.items()])
    db.session.commit()
    log(f"Generated in {elapsed:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in asdict(counts).items()))
    return meta, False


# --- geometry (maps, issue #10) -----------------------------------------------------------------


def fill_commune_geometry(*, log=print) -> float | None:
    """Give the communes of the benchmark dataset of the current app context their real
    boundaries from :data:`WARDS_FILE`, by commune code, as an import would store them
    (``spatial.repair`` + ``geometry_columns``: full and simplified WKB, bounding box, label
    point), in one bulk UPDATE. The generator leaves them NULL (the other benchmarks draw no map);
    the map benchmarks fill them once, and a ``bench_meta`` row says so. Returns the seconds it
    took, or None when already done. Benchmark databases only (refuses one without ``bench_meta``)."""
    from shapely.geometry import shape

    from danso_network.units.spatial import geometry_columns, repair

    meta = read_meta()
    if not meta:
        raise SystemExit(f"{db.engine.url.render_as_string(hide_password=True)} is not a benchmark dataset.")
    if "commune_geometry_seconds" in meta:
        return None
    started = time.perf_counter()
    ids = dict(db.session.execute(select(AdminUnit.code, AdminUnit.id).where(
        AdminUnit.level == UnitLevel.COMMUNE.value, AdminUnit.geom_wkb.is_(None))).all())
    with gzip.open(WARDS_FILE, "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    rows = []
    for feature in features:
        unit_id = ids.get(feature["properties"]["code"])
        if unit_id is None or not feature.get("geometry"):
            continue
        columns = geometry_columns(repair(shape(feature["geometry"])))
        if columns["geom_wkb"] is not None:
            rows.append({"b_id": unit_id, **{f"b_{k}": v for k, v in columns.items()}})
    if rows:
        table = AdminUnit.__table__
        names = [k[2:] for k in rows[0] if k != "b_id"]
        db.session.execute(update(table).where(table.c.id == bindparam("b_id"))
                           .values({name: bindparam(f"b_{name}") for name in names}), rows)
    elapsed = time.perf_counter() - started
    db.session.execute(insert(meta_table), [{"key": "commune_geometry_seconds", "value": f"{elapsed:.1f}"},
                                            {"key": "commune_geometry_rows", "value": str(len(rows))}])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # the rows were rewritten: statistics and visibility map
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE admin_unit")
    log(f"Filled the geometry of {len(rows):,} of {len(ids):,} communes in {elapsed:.1f} s.")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="database URL (an empty database, or an earlier dataset)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=1.0, help="share of each province's communes (0 < s ≤ 1)")
    parser.add_argument("--replace", action="store_true", help="rebuild even if the same dataset is there")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    ensure_dataset(args.url, args.seed, args.scale, replace=args.replace)
    return 0


if __name__ == "__main__":
    sys.exit(main())

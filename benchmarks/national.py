"""A national-scale synthetic dataset for benchmarks (issue #4, "Targets"), reusable by later issues.

What it writes, deterministic for a seed and a scale (``--scale 0.1`` keeps a tenth of the
communes of every province, for quick runs):

- the 34 provinces and all 3,321 real communes of 2026 from ``data/vn_wards_2026.geojson.gz``
  (codes, names, types; valid from 1/7/2025, QĐ 19/2025/QĐ-TTg). **Geometry is not loaded**: the
  geometry, bounding-box and centroid columns stay NULL (the benchmarks draw no maps);
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
- users: ``bench_admin_<province code>`` (province admin of one province) and ``bench_national``
  (province admin in all 34), password ``matkhau-bench-1``.

Rows are written with SQLAlchemy Core bulk inserts in chunks, ids assigned here (so materialised
paths ``/1/35/4000/`` are known up front), no audit rows. The schema comes from the app's metadata
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
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import Column, MetaData, String, Table, Text, delete, insert, inspect, select, text
from werkzeug.security import generate_password_hash

from danso_network import create_app
from danso_network.auth.models import Role, RoleGrant, User
from danso_network.collaborators.models import Assignment, Collaborator, EndReason, Suspension
from danso_network.config import DATA_DIR
from danso_network.extensions import db
from danso_network.recruitment.models import Application, Candidate, CriteriaSet
from danso_network.recruitment.rules import DEFAULT_ENABLED, QUOTA_PRESETS
from danso_network.textnorm import fold
from danso_network.units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel, UnitType
from danso_network.units.services import search_text_for

from .names import DEFAULT_GROUPS, PLACE_WORDS, PROVINCE_GROUPS, person_name

GENERATOR_VERSION = "1"
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

meta_table = Table(  # not in the app's metadata: benchmark bookkeeping only
    "bench_meta", MetaData(),
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)

TABLE_ORDER = [AdminUnit, CriteriaSet, Facility, ServiceArea, Candidate, Application, Collaborator, Assignment,
               Suspension, User, RoleGrant]


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

    # -- units and facilities --

    def province(self, code: str, full_name: str) -> dict:
        if full_name.startswith("Thành phố "):
            unit_type, name = UnitType.THANH_PHO_TW, full_name[len("Thành phố "):]
        else:
            unit_type, name = UnitType.TINH, full_name.removeprefix("Tỉnh ")
        uid = self.ids.next("unit")
        row = _unit(uid, f"/{uid}/", level=UnitLevel.PROVINCE, type=unit_type, name=name, full_name=full_name,
                    code=code)
        self.w.add(AdminUnit, row)
        self.w.add(CriteriaSet, {
            "id": self.ids.next("criteria"), "province_id": uid, "version": 1, "valid_from": REFORM_DAY,
            "name": "Bộ tiêu chí chuẩn (dữ liệu đo hiệu năng)", "legal_basis": "TT 02/2021/TT-BYT, Điều 2",
            "quota_bands": QUOTA_BANDS, "quota_preset": "gia_lai", "approver": "health_centre", "min_age": 18,
            "enabled_rules": list(DEFAULT_ENABLED), "created_at": _at(REFORM_DAY),
        })
        self.counts.provinces += 1
        return row

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
        for k in range(n_centres):
            share = commune_rows[k * len(commune_rows) // n_centres:(k + 1) * len(commune_rows) // n_centres]
            centre = self.facility(code=f"TTYT-{pcode}-{k + 1}", kind=FacilityKind.HEALTH_CENTRE,
                                   name=f"Trung tâm Y tế khu vực {share[0]['name']}", unit_id=province["id"],
                                   parent_id=department, serves=[c["id"] for c in share])
            for commune in share:
                self.facility(code=f"TYT-{commune['code']}", kind=FacilityKind.STATION,
                              name=f"Trạm Y tế {commune['full_name']}", unit_id=commune["id"], parent_id=centre,
                              serves=[commune["id"]])
        for commune in commune_rows:
            self.commune(province, commune)
            self.w.maybe_flush()

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

    def commune(self, province: dict, commune: dict) -> None:
        rng = random.Random(f"{self.seed}:{commune['code']}")
        pcode = province["code"]
        hamlets = self.hamlets(rng, pcode, commune)
        for hamlet in hamlets:
            quota = next(n for upper, n in QUOTA_BANDS if upper is None or hamlet["households"] <= upper)
            for _ in range(quota):
                if rng.random() < VACANT_SHARE:
                    self.counts.vacant_places += 1
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

    def replace(self, rng: random.Random, pcode: str, hamlet: dict, left_on: date) -> None:
        """A successor after a recruitment gap; none yet if the gap runs past the end of history."""
        start = left_on + timedelta(days=rng.randint(15, 150))
        if start > HISTORY_TO:
            self.counts.vacant_places += 1
            return
        person = self.person(rng, pcode, hamlet, start)
        self.assignment(person, hamlet, start, None)
        self.suspensions(rng, person, start)

    def person(self, rng: random.Random, pcode: str, hamlet: dict, start: date) -> int:
        """Candidate, activated application and collaborator (one id for the three)."""
        pid = self.ids.next("person")
        sex = "female" if rng.random() < FEMALE_SHARE else "male"
        minority = hamlet["is_ethnic_minority"] and rng.random() < 0.85
        ethnicity = rng.choice(PROVINCE_GROUPS.get(pcode, DEFAULT_GROUPS)) if minority else "Kinh"
        full_name = person_name(rng, sex, ethnicity)
        born = start - timedelta(days=rng.randint(21 * 365, 52 * 365))
        education = _weighted(rng, EDUCATION)
        if hamlet["is_difficult"] and rng.random() < 0.08:
            education = "primary"  # TT 02/2021/TT-BYT Art. 2.1 exception
        self.w.add(Candidate, {
            "id": pid, "full_name": full_name, "search_text": fold(full_name), "date_of_birth": born, "sex": sex,
            "ethnicity": ethnicity, "national_id": self.national_id(rng, pcode, sex, born),
            "phone": rng.choice(("09", "03", "08", "07")) + f"{rng.randrange(10**8):08d}",
            "residence_hamlet_id": hamlet["id"], "resident_since": born + timedelta(days=rng.randint(0, 18 * 365)),
            "education": education, "is_village_health_worker": rng.random() < VHW_SHARE,
            "languages": f"{ethnicity}, Việt" if minority else None, "speaks_local_language": minority,
            "prior_experience": None, "created_at": _at(start - timedelta(days=60)),
        })
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
                   decision_ref: str | None = None) -> None:
        self.w.add(Assignment, {
            "id": self.ids.next("assignment"), "collaborator_id": person, "hamlet_id": hamlet["id"],
            "hamlet_path": hamlet["path"], "kind": "primary", "started_on": start, "ended_on": end,
            "end_reason": reason, "decision_ref": decision_ref, "created_at": _at(start),
        })
        self.counts.assignments += 1
        self.counts.open_assignments += end is None

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
        self.counts.suspensions += 1

    # -- users --

    def users(self, provinces: list[dict]) -> None:
        password_hash = generate_password_hash(BENCH_PASSWORD)  # once: hashing is slow by design
        national = self.user(NATIONAL_USERNAME, "Tài khoản đo hiệu năng toàn quốc", password_hash)
        for province in provinces:
            admin = self.user(f"bench_admin_{province['code']}", f"Quản trị {province['full_name']} (đo hiệu năng)",
                              password_hash)
            for user_id in (admin, national):
                self.w.add(RoleGrant, {"id": self.ids.next("grant"), "user_id": user_id,
                                       "role": Role.PROVINCE_ADMIN.value, "unit_id": province["id"],
                                       "valid_from": REFORM_DAY})
                self.counts.grants += 1

    def user(self, username: str, full_name: str, password_hash: str) -> int:
        uid = self.ids.next("user")
        self.w.add(User, {"id": uid, "username": username, "full_name": full_name, "password_hash": password_hash,
                          "active": True, "created_at": self.now, "session_version": 1})
        self.counts.users += 1
        return uid


def generate(seed: int = 1, scale: float = 1.0, *, log=print) -> Counts:
    """Write the dataset into the (empty, schema-created) database of the current app context."""
    counts = Counts()
    writer = _Writer()
    gen = _Generator(seed, writer, counts)
    selected = select_communes(read_communes(), scale)
    provinces = [gen.province(pcode, rows[0]["province_name"]) for pcode, rows in selected.items()]
    writer.flush()
    for province in provinces:
        gen.province_tree(province, selected[province["code"]])
        writer.flush()
        db.session.commit()
        log(f"  {province['code']} {province['full_name']}: {counts.collaborators:,} CTV so far")
    gen.users(provinces)
    writer.flush()
    db.session.commit()
    _after_load()
    return counts


def _after_load() -> None:
    """PostgreSQL: move the id sequences past the ids written here, and gather statistics
    (autovacuum would soon). SQLite is left as the app leaves it: no ANALYZE."""
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
        conn.exec_driver_sql("ANALYZE")


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

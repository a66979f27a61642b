"""The demo collaborator network of Đồng Nai over three years, 23/11/2023 → 23/11/2026 (issue #4
item 10): an established network in every commune outside the recruitment pipeline, its turnover
(endings with their reasons, transfers, suspensions, replacements, covers of an empty hamlet, the
hand-over of the household register), the province's settings (base salary, an allowance
resolution, the network policy), and, in the area of the Bù Đăng health centre, the life of the
network: monthly meetings with the P0 slip, supervision visits with follow-ups, professional-
direction links and training courses.

How it is built, and why:

* **A plan first, in memory.** :class:`Planner` draws, in date order and with no database access,
  who served where from 2016 on and what happened to them: each hamlet starts at its quota (the
  province's bands, ``recruitment.rules.quota_for``) or one short on 23/11/2023; about 10 % of the
  collaborators leave each year (resigned, moved out, health, contract ended, non-performance,
  deceased); most vacancies are filled again one to five months later, some by a transfer from
  another hamlet of the commune; a few collaborators are suspended and reinstated. Knowing every
  outcome in advance, the replay can call the services with consistent dates.
* **The people are written as rows.** Candidate + Application ("active", one timeline entry) +
  Collaborator + primary Assignment + the recognition decision that appointed them, inserted in
  bulk (the full workflow is demonstrated by the pipeline in Bom Bo, demo/pipeline.py; replaying
  it for ~3,400 people would take minutes). Each replacement's rows carry its own dates, so every
  service sees the network as it was on the day it is called (the services count only what is in
  force on their date).
* **Two eras.** The app starts on 1/7/2025 with the two-tier communes (the hamlets of the demo
  exist from that day). What happened before was kept on paper and is entered as it ended up:
  endings on the assignment rows, suspensions, register hand-overs, and in the Bù Đăng area the
  meeting sheets, supervision checklists and courses — rows with no audit trail, their
  applications' timeline entry dated when the record was typed in (July 2025, "chuyển từ sổ sách
  giấy"); the paper sheets are entered under today's demo users (their grants start on 1/7/2025,
  so the supervision chain of a 2024 date shows no one). From 1/7/2025 **everything goes through the real services, in date order, acting as the
  demo users**: ``terminate_collaborator``, ``record_handover``, ``transfer_collaborator``,
  ``add_hamlet`` / ``end_additional_hamlet``, ``suspend_collaborator`` /
  ``reinstate_collaborator``, ``record_meeting``, ``record_visit`` / ``close_follow_up``,
  ``set_professional_link``, ``create_course`` / ``record_attendance``, the allowance settings.
  In the Bù Đăng area the centre officer ``ttyt_budang`` decides until 31/12/2025 and the station
  heads from 1/1/2026 (TT 43/2025/TT-BYT, as in the pipeline); elsewhere the province admin
  ``soyte`` records what the centres report. The split also keeps the load fast (a few seconds
  of service calls instead of a minute).
* **Across the reform of 1/7/2025** (demo/loader.py applies it before the network is written):
  what happened before it is recorded where it happened — in the old communes and hamlets. A
  collaborator appointed in 2018 serves in the ấp as it was then (its version under the old
  commune, the hamlet the reform re-versioned into today's); their application and recognition
  decision name that hamlet; the paper-era visits, register hand-overs and meetings (one sheet
  per old commune) sit there too, and the paper-era courses under the old district and province.
  Whoever served on 1/7/2025 goes on in the successor hamlet that day, exactly as
  ``units.reforms.apply`` continues an assignment: the old one ends with the reason "sắp xếp lại
  đơn vị hành chính" and the reform's decision, the next opens the same day with the same
  recognition decision and allowance tier (service continuous, ``activated_on`` untouched), the
  person is recorded as living in the successor hamlet, and a ``collaborator.reform`` audit
  event says so — the reform is recorded before the paper records are typed in (July 2025), so
  they continue it as records entered late. A register hand-over still outstanding that day
  concerns the successor hamlet (the same households), where it is recorded.
  As of 30/06/2025 the province's network is that of Bình Phước and Đồng Nai; as of 01/07/2025
  the same collaborators, regrouped under the 95 communes.
* **The pipeline's communes are left alone** (Bom Bo 25405, Bù Đăng 25396, Đak Nhau 25399): their
  hamlets were empty when the pipeline recruited from July 2025, and its vacancies must stay as it
  planned them. Their collaborators get meetings, visits and training, not endings.
* **The Bù Đăng area** (the six communes of TTYT-696) has the fullest history: a meeting every
  month in each commune that had collaborators (~93 % attend, ~87 % hand in the P0 slip; three
  collaborators miss the last two, so the "under review" list is not empty), a visit roughly each
  quarter (some collaborators are overdue today), follow-ups (most closed, a few open or
  overdue), the LĐTBXH and VHTT officers of each commune (Đồng Nai KH 14676/KH-UBND, 2021) with a
  change of person in 2025, two or three courses a year, hamlets covered by a colleague meanwhile
  and a register still to hand over. The rest of the province has its network and turnover but no
  recorded visits or meetings: the other centres have not started using those pages, so the
  province's overdue-visit list is long.
* **Most collaborators also hold "kiêm công tác gia đình và trẻ em"** (about 85 %, from their first
  day, the recognition decision as its reference; Đồng Nai builds the network that way, KH
  14676/KH-UBND, 2021). It ends when they leave. The illustrative resolution below does not pay
  it differently: the real amounts are not verified (DOMAIN.md §8.7).
* The allowance resolution is **illustrative data** (DOMAIN.md §3.3: the real Đồng Nai amounts are
  not verified), labelled so in its legal basis and note and flagged ``is_illustrative`` (pages show
  "Minh hoạ — chưa có văn bản"), as is the network policy (DOMAIN.md §7.2–7.3 proposals, no
  Đồng Nai text): coefficients × the base salary from 1/7/2023 (after the Bình Phước draft of
  2022), fixed amounts by commune type from 1/1/2026.

Deterministic for the seed (one ``random.Random`` per concern; nothing depends on database ids or
on the order rows come back in). Idempotent: nothing is added when the province already has a
collaborator outside the pipeline's communes. Names, CCCD numbers and phone numbers are synthetic,
unique across the demo.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from ..allowances.models import BaseSalary
from ..auth import services as auth_services
from ..auth.models import Role, User
from ..collaborators.models import (
    Assignment,
    Collaborator,
    CollaboratorDuty,
    DutyKind,
    EndReason,
    RegisterHandover,
    Suspension,
)
from ..extensions import db
from ..recruitment import rules
from ..recruitment import services as rs
from ..recruitment.models import DOSSIER_ITEMS, Application, ApplicationEvent, Candidate, RecognitionDecision
from ..textnorm import fold
from ..training.models import TrainingAttendance, TrainingCourse
from ..units import services as unit_services
from ..units.models import AdminUnit, Facility, FacilityKind, ServiceArea, UnitLevel
from ..units.reforms import REORGANISED
from .pipeline import BOM_BO, NEIGHBOURS, V1_SETTINGS, national_id

PROVINCE_CODE = "75"
START = date(2023, 11, 23)  # three years of history up to the demo's "today"
END = date(2026, 11, 23)
IMPORT_DAY = date(2025, 7, 1)  # two-tier communes; paper records entered into the app
V2_FROM = date(2026, 1, 1)  # the station director decides from here (TT 43/2025/TT-BYT)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

PIPELINE_COMMUNES = (BOM_BO, *NEIGHBOURS)
CENTRE_CODE = "TTYT-696"  # the demo area: the pipeline's communes and these three established ones
FOCUS_COMMUNES = ("25402", "25417", "25420")  # Xã Thọ Sơn, Xã Nghĩa Trung, Xã Phước Sơn
BINH_PHUOC_DISTRICTS = frozenset({"688", "689", "690", "691", "692", "693", "694", "695", "696", "697", "698"})
STIENG_DISTRICTS = frozenset({"691", "692", "693", "696"})  # S'tiêng communities of former Bình Phước

# Station heads of the established communes of the area (the pipeline adds Bù Đăng, Đak Nhau).
NETWORK_HEADS = [
    ("tram_thoson", "Hoàng Văn Lực (Giám đốc TYT xã Thọ Sơn)", "TYT-25402"),
    ("tram_nghiatrung", "Đỗ Thị Ngọc Ánh (Giám đốc TYT xã Nghĩa Trung)", "TYT-25417"),
    ("tram_phuocson", "Nguyễn Thị Kim Oanh (Giám đốc TYT xã Phước Sơn)", "TYT-25420"),
]

FILL = 0.90  # share of hamlets at full quota on 23/11/2023; the others one short
TURNOVER = 0.10  # endings per collaborator and year (~8–12 %)
REPLACED = 0.88  # share of vacancies filled again
TRANSFER_SHARE = 0.12  # vacancies filled by a transfer from another hamlet of the commune
SUSPENSIONS = 14  # planned; those who leave before are not suspended

# --- names ---------------------------------------------------------------------------------------

FAMILY = ["Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ",
          "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm", "Mai", "Tô", "Tạ", "Lương", "Cao",
          "Lưu", "Thái", "Quách", "Trịnh", "Hà", "Đoàn", "Châu", "Tăng", "Kiều", "Triệu", "La", "Từ", "Văn", "Phùng"]
MIDDLE = {"female": ["Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Bích", "Minh",
                     "Phương", "Diệu", "Tuyết", "Hoài"],
          "male": ["Văn", "Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thanh", "Ngọc", "Xuân", "Trọng",
                   "Đình", "Hoàng"]}
GIVEN = {"female": ["Lan", "Hoa", "Hương", "Mai", "Hạnh", "Nga", "Thảo", "Trang", "Yến", "Linh", "Nhung", "Phượng",
                    "Loan", "Tuyết", "Hiền", "Dung", "Oanh", "Vân", "Thủy", "Hằng", "Ánh", "Châu", "Diễm", "Giang",
                    "Hà", "Hậu", "Huyền", "Khánh", "Liên", "Ly", "My", "Ngân", "Nhàn", "Nhi", "Như", "Quyên",
                    "Sương", "Tâm", "Thơ", "Thúy", "Trinh", "Uyên", "Vy", "Xuân", "Lệ", "Duyên", "Đào", "Gấm"],
         "male": ["Hùng", "Dũng", "Nam", "Tuấn", "Sơn", "Hải", "Long", "Phúc", "Tâm", "Thắng", "Toàn", "Bình", "An",
                  "Bảo", "Cường", "Định", "Đông", "Hiếu", "Hòa", "Khải", "Khoa", "Lộc", "Lợi", "Nghĩa", "Nhân",
                  "Phong", "Quang", "Tài", "Thành", "Thịnh", "Trung", "Vinh", "Hưng", "Kiên"]}
# S'tiêng naming in former Bình Phước: men "Điểu" + name, women "Thị" or "Điểu Thị" + name; many
# given names are Vietnamese.
STIENG_GIVEN = {"female": ["Bích", "Huệ", "Mơ", "Sa", "Sên", "Nhanh", "Đơn", "Ngư", "Rinh", "Hiên", "Bé", "Ruộng",
                           "K'Lan", "Mlênh", "Lan", "Ngoan", "Lý", "Hương", "Thu", "Sang", "Loan", "Kim Thúy",
                           "Bích Ngọc", "Mỹ Linh", "Hồng", "Tha", "Nhung", "Xuyên", "Thơm", "Lài"],
                "male": ["Xiêm", "Lương", "Brôl", "Chon", "Dớt", "Khai", "Ponh", "Srai", "Tưng", "Bum", "K'Lang",
                         "K'Brăm", "Rông", "Lê Tiến", "Ngoan", "Hậu", "K'Ré", "Xiêng", "Thanh Sơn", "Văn Lâm",
                         "Minh Tuấn", "Bình", "Đức", "Lực", "Hoàng Long"]}
NORTHERN = [("Tày", ["Hoàng", "Nông", "Lường", "Hà"], "Tiếng Tày, Tiếng Việt", "004"),
            ("Nùng", ["Lý", "Vi", "Nông", "Hoàng"], "Tiếng Nùng, Tiếng Việt", "020")]
ORIGINS = {"70": "070", "75": "075"}
MIGRANT_ORIGINS = ["036", "038", "040", "034", "051", "052", "042"]  # CCCD codes of Nam Định, Thanh Hoá, …
EXPERIENCE = ["Chi hội trưởng Chi hội Phụ nữ ấp", "Tình nguyện viên tiêm chủng mở rộng của xã",
              "Từng làm tổ trưởng tổ tự quản", "Cộng tác viên dinh dưỡng của ấp", "Nhân viên y tế ấp"]


@dataclass
class Person:
    full_name: str
    sex: str
    born: date
    ethnicity: str
    national_id: str
    phone: str
    languages: str
    speaks_local_language: bool
    education: str
    vhw: bool
    experience: str | None
    resident_since: date


# --- the plan (pure Python) ---------------------------------------------------------------------


@dataclass(eq=False)
class Hamlet:
    id: int
    path: str
    name: str
    local_id: str
    commune: Commune
    households: int
    difficult: bool
    ethnic: bool
    quota: int
    members: list[Member] = field(default_factory=list)  # serving now, in the simulation
    before: Predecessor | None = None  # its version before the reform (the demo's old tree)

    def placed(self, day: date) -> tuple[int, str]:
        """The hamlet's (id, path) on ``day``: its old version before the reform."""
        if day < IMPORT_DAY and self.before is not None:
            return self.before.id, self.before.path
        return self.id, self.path


@dataclass(frozen=True)
class Predecessor:
    """A hamlet's version before the reform, in its old commune, and the change that ended it."""

    id: int
    path: str
    name: str
    commune_id: int
    commune_path: str
    decision_ref: str
    merged: bool  # a hamlet merger (reason "hamlet_merged"), else a reorganisation


@dataclass(eq=False)
class Commune:
    id: int
    code: str
    path: str
    name: str
    full_name: str
    type: str
    district: str  # pre-2025 district (the centre's code)
    centre: Facility
    station: Facility | None
    hamlets: list[Hamlet] = field(default_factory=list)

    @property
    def old_province(self) -> str:
        return "70" if self.district in BINH_PHUOC_DISTRICTS else "75"


@dataclass(eq=False)
class Decision:
    number: str
    issued_on: date
    issuer_name: str
    issuer_facility_id: int | None
    signer_name: str
    signer_title: str
    created_by: User | None
    members: list[Member] = field(default_factory=list)
    id: int | None = None


@dataclass(eq=False)
class Member:
    key: int
    person: Person
    hamlet: Hamlet  # the first hamlet
    appointed: date
    contract_number: str = ""
    decision: Decision | None = None
    current: Hamlet | None = None
    ended: date | None = None
    end_reason: str | None = None
    end_note: str | None = None
    emptied: bool = False  # the hamlet was left with nobody when they left
    successor: Member | None = None  # who took over the hamlet (a replacement or a transferred colleague)
    suspended: bool = False
    suspension_planned: bool = False
    suspensions: list[list] = field(default_factory=list)  # [begins, ends or None] as they happened
    places: list[tuple[date, Hamlet]] = field(default_factory=list)  # (from, hamlet), transfers included
    candidate_id: int | None = None
    collaborator_id: int | None = None

    def hamlet_on(self, day: date) -> Hamlet | None:
        """The primary hamlet on ``day`` (None before the start or from the end)."""
        if day < self.appointed or (self.ended is not None and day >= self.ended):
            return None
        return [h for since, h in self.places if since <= day][-1]

    def serving_on(self, day: date) -> bool:
        return self.hamlet_on(day) is not None and not any(
            s <= day and (e is None or day < e) for s, e in self.suspensions)

    @property
    def imported(self) -> bool:
        return self.appointed < IMPORT_DAY


@dataclass(order=True)
class Step:
    day: date
    rank: int
    seq: int
    kind: str = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


# Ranks order the steps of one day: people start before meetings, meetings before visits…
RANK = {"setting": 0, "appoint": 1, "link": 2, "course": 3, "transfer": 4, "cover": 4, "uncover": 4,
        "suspend": 5, "reinstate": 5,
        "terminate": 6, "handover": 7, "meeting": 8, "visit": 9, "close": 10, "attend": 11}

END_REASONS = [  # (reason, weight, notes)
    ("resigned", 42, ["Xin nghỉ để đi làm công nhân tại khu công nghiệp", "Xin nghỉ để chăm sóc con nhỏ",
                      "Xin nghỉ do tuổi cao", "Trúng tuyển viên chức trường mầm non xã, có đơn xin nghỉ",
                      "Xin nghỉ vì bận buôn bán, không bảo đảm thời gian thăm hộ",
                      "Xin nghỉ để theo học trung cấp y sĩ"]),
    ("moved_out", 18, ["Theo gia đình chuyển lên Bình Dương sinh sống", "Chuyển nơi ở sang xã khác",
                       "Chuyển về quê chồng ở Thanh Hoá", "Đi lao động tại Hàn Quốc theo hợp đồng"]),
    ("health", 12, ["Sức khỏe yếu sau phẫu thuật, không tiếp tục đi thăm hộ được",
                    "Bệnh mạn tính, có đơn xin thôi nhiệm vụ kèm giấy xác nhận của trạm y tế"]),
    ("contract_ended", 14, ["Hết hạn hợp đồng trách nhiệm, không ký tiếp theo nguyện vọng",
                            "Hết hạn hợp đồng; trạm không đề nghị ký tiếp"]),
    ("non_performance", 10, ["Nhiều tháng không nộp phiếu P0/CTV, không dự giao ban; trạm đề nghị chấm dứt",
                             "Sổ A0 không được cập nhật, kiểm tra thực tế hộ gia đình không khớp"]),
    ("deceased", 4, ["Từ trần (tai nạn giao thông)", "Từ trần do bệnh"]),
]
SUSPEND_REASONS = [
    ("Đi làm ăn xa 3 tháng (có đơn); trạm phân công người theo dõi địa bàn trong thời gian vắng",
     "Đã trở về địa phương, tiếp tục nhiệm vụ"),
    ("Nghỉ sinh con, tạm ngừng nhiệm vụ theo đơn đề nghị", "Hết thời gian nghỉ sinh, nhận lại địa bàn"),
    ("Không dự giao ban và không nộp phiếu P0 ba tháng liền; tạm đình chỉ chờ kiểm điểm",
     "Đã kiểm điểm, cam kết thực hiện đầy đủ nhiệm vụ"),
    ("Điều trị bệnh dài ngày tại bệnh viện tuyến trên", "Sức khỏe đã ổn định, tiếp tục nhiệm vụ"),
]
TRANSFER_NOTES = ["Chuyển nhà sang {to} (cùng xã); điều chuyển theo nơi ở mới, {to} đang thiếu CTV",
                  "Điều chuyển sang {to} đang thiếu CTV, theo đề nghị của trạm và nguyện vọng cá nhân"]
# The first note's transfers move house (the residence is recorded); the second's keep living in
# their old hamlet, a written residence exception (TT 02/2021/TT-BYT Art. 2.2), flagged on the roster.
RESIDENCE_EXCEPTION = ("Vẫn ở nhà cũ, sát ranh {to} (cùng xã), đi lại thuận tiện; {to} chưa có người đủ tiêu "
                       "chuẩn nhận nhiệm vụ")


def _stamp(day: date, rng: random.Random, hour: int = 8) -> datetime:
    minutes = hour * 60 + rng.randint(0, 180)
    return datetime.combine(day, time(minutes // 60, minutes % 60), TZ).astimezone(UTC)


def _weekday(day: date) -> date:
    """The nearest working day on or before ``day`` (offices do not meet at weekends)."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


class Names:
    """Synthetic people, each name and CCCD used once in the whole demo (lists read unambiguously)."""

    def __init__(self, rng: random.Random, used_names: set[str], used_ids: set[str]):
        self.rng, self.used_names, self.used_ids = rng, used_names, used_ids

    def _name(self, sex: str, commune: Commune, hamlet: Hamlet) -> tuple[str, str, str, bool, str]:
        rng = self.rng
        origin = ORIGINS[commune.old_province]
        roll = rng.random()
        stieng_area = commune.district in STIENG_DISTRICTS
        if hamlet.ethnic and stieng_area and roll < 0.6:
            given = rng.choice(STIENG_GIVEN[sex])
            prefix = rng.choice(["Thị", "Điểu Thị"]) if sex == "female" else "Điểu"
            return f"{prefix} {given}", "S'tiêng", "Tiếng S'tiêng, Tiếng Việt", True, origin
        if (hamlet.ethnic and roll < (0.75 if stieng_area else 0.5)) or roll > 0.98:  # Tày, Nùng settlers
            ethnicity, families, languages, north = rng.choice(NORTHERN)
            name = f"{rng.choice(families)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
            return name, ethnicity, languages, hamlet.ethnic, rng.choice([north, origin])
        middle, given = rng.choice(MIDDLE[sex]), rng.choice(GIVEN[sex])
        if middle == given:
            middle = "Thị" if sex == "female" else "Văn"
        origin = origin if rng.random() < 0.7 else rng.choice(MIGRANT_ORIGINS)
        return f"{rng.choice(FAMILY)} {middle} {given}", "Kinh", "Tiếng Việt", False, origin

    def person(self, commune: Commune, hamlet: Hamlet, appointed: date) -> Person:
        rng = self.rng
        sex = "female" if rng.random() < 0.8 else "male"
        for _ in range(50):
            name, ethnicity, languages, local, origin = self._name(sex, commune, hamlet)
            if name not in self.used_names:
                break
        else:  # the small pools are used up: a Kinh name with a rarer middle name
            while name in self.used_names:
                name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
            ethnicity, languages, local = "Kinh", "Tiếng Việt", False
        self.used_names.add(name)
        born = date(rng.randint(max(1962, appointed.year - 55), appointed.year - 22), rng.randint(1, 12),
                    rng.randint(1, 28))
        while True:
            cccd = national_id(born, sex, rng.randint(1, 999999), origin)
            if cccd not in self.used_ids:
                self.used_ids.add(cccd)
                break
        education = rng.choice(["lower_secondary"] * 5 + ["upper_secondary"] * 4 + ["vocational", "college"])
        moved = rng.random() < 0.35 and born.year + 18 < appointed.year
        resident_since = (date(rng.randint(born.year + 18, appointed.year - 1), rng.randint(1, 12), 1) if moved
                          else born)
        return Person(full_name=name, sex=sex, born=born, ethnicity=ethnicity, national_id=cccd,
                      phone=rng.choice(["09", "03", "08", "07"]) + f"{rng.randint(0, 99999999):08d}",
                      languages=languages, speaks_local_language=local, education=education,
                      vhw=rng.random() < 0.15, experience=rng.choice(EXPERIENCE) if rng.random() < 0.3 else None,
                      resident_since=resident_since)


# --- the places -----------------------------------------------------------------------------------


def _communes(province: AdminUnit, bands) -> list[Commune]:
    """Every commune of the province with its hamlets, its centre (hence its pre-2025 district)
    and its station, read in three queries."""
    communes = {c.id: c for c in unit_services.descendants(province, level=UnitLevel.COMMUNE)}
    facilities = db.session.execute(
        select(ServiceArea.unit_id, Facility).join(Facility, Facility.id == ServiceArea.facility_id)
        .where(ServiceArea.unit_id.in_(list(communes)), ServiceArea.valid_to.is_(None),
               Facility.kind.in_([FacilityKind.HEALTH_CENTRE.value, FacilityKind.STATION.value]))).all()
    centre, station = {}, {}
    for unit_id, facility in facilities:
        (centre if facility.kind == FacilityKind.HEALTH_CENTRE else station)[unit_id] = facility
    result = {}
    for cid, c in communes.items():
        if cid not in centre:
            continue
        result[cid] = Commune(c.id, c.code, c.path, c.name, c.full_name, c.type, centre[cid].code.split("-")[-1],
                              centre[cid], station.get(cid))
    hamlets = db.session.scalars(select(AdminUnit).where(AdminUnit.parent_id.in_(list(result)),
                                                         AdminUnit.level == UnitLevel.HAMLET.value,
                                                         AdminUnit.valid_to.is_(None)))
    for h in hamlets:
        commune = result[h.parent_id]
        commune.hamlets.append(Hamlet(h.id, h.path, h.name, h.local_id or "", commune, h.households or 0,
                                      bool(h.is_difficult), bool(h.is_ethnic_minority),
                                      rules.quota_for(h.households or 0, bands)))
    before = _predecessors([h.id for c in result.values() for h in c.hamlets])
    for commune in result.values():
        commune.hamlets.sort(key=lambda h: (h.local_id, h.name))
        for h in commune.hamlets:
            h.before = before.get(h.id)
    return sorted(result.values(), key=lambda c: c.code)


def _predecessors(hamlet_ids: list[int]) -> dict[int, Predecessor]:
    """hamlet id → its one predecessor hamlet through the reform of 1/7/2025 (the ``UnitChange``
    of that day naming the hamlet as its only target and one hamlet as its only source)."""
    from sqlalchemy.orm import aliased

    from ..units.models import UnitChange, unit_change_source, unit_change_target

    if not hamlet_ids:
        return {}
    old, commune = aliased(AdminUnit), aliased(AdminUnit)
    rows = db.session.execute(
        select(unit_change_target.c.unit_id, UnitChange.id, UnitChange.kind, UnitChange.decision_ref, old.id, old.path,
               old.name, commune.id, commune.path)
        .join(UnitChange, UnitChange.id == unit_change_target.c.change_id)
        .join(unit_change_source, unit_change_source.c.change_id == UnitChange.id)
        .join(old, old.id == unit_change_source.c.unit_id).join(commune, commune.id == old.parent_id)
        .where(UnitChange.effective_on == IMPORT_DAY, unit_change_target.c.unit_id.in_(hamlet_ids),
               old.level == UnitLevel.HAMLET.value)).all()
    per_change = {}
    for target_id, change_id, *_rest in rows:
        per_change.setdefault(change_id, set()).add(target_id)
    found: dict[int, list] = {}
    for target_id, change_id, kind, decision_ref, old_id, old_path, old_name, commune_id, commune_path in rows:
        if len(per_change[change_id]) == 1:
            found.setdefault(target_id, []).append(Predecessor(old_id, old_path, old_name, commune_id, commune_path,
                                                               decision_ref or "", kind == "merge"))
    return {target_id: olds[0] for target_id, olds in found.items() if len(olds) == 1}


def _district_names() -> dict[str, str]:
    """Pre-2025 district code → full name ("Huyện Bù Đăng"), from the loader's history."""
    rows = db.session.execute(select(AdminUnit.code, AdminUnit.full_name)
                              .where(AdminUnit.level == UnitLevel.DISTRICT.value)).all()
    return {code: name for code, name in rows}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- the plan: who served where, and what happened to them ----------------------------------------


class Planner:
    """Draws the network and its turnover in date order, in memory (no database access), so
    the replay can then call the services knowing every outcome."""

    def __init__(self, rng: random.Random, communes: list[Commune], names: Names, users: dict[str, User],
                 districts: dict[str, str], used_numbers: set[tuple[int, str]]):
        self.rng, self.communes, self.names, self.users = rng, communes, names, users
        self.districts, self.used_numbers = districts, used_numbers
        self.members: list[Member] = []
        self.decisions: dict[tuple, Decision] = {}
        self.steps: list[Step] = []
        self.numbers: dict[int, int] = {}
        self.contracts: dict[tuple[str, int], int] = {}
        self.signers: dict[str, str] = {}
        self.queue: list = []
        self.seq = 0
        self.suspension_plan: dict[int, tuple[date, date | None, int]] = {}

    # documents
    def _number(self, year: int, suffix: str) -> str:
        n = self.numbers.get(year)
        n = self.rng.randint(12, 40) if n is None else n + self.rng.randint(1, 7)
        while (year, f"{n}/{suffix}") in self.used_numbers:
            n += 1
        self.numbers[year] = n
        self.used_numbers.add((year, f"{n}/{suffix}"))
        return f"{n}/{suffix}"

    def _signer(self, key: str) -> str:
        if key not in self.signers:
            sex = self.rng.choice(["male", "female"])
            self.signers[key] = (f"{self.rng.choice(FAMILY)} {self.rng.choice(MIDDLE[sex])} "
                                 f"{self.rng.choice(GIVEN[sex])}")
        return self.signers[key]

    def _issuer(self, commune: Commune, day: date) -> tuple[tuple, str, str, str, int | None, User | None]:
        """Who recognised collaborators on ``day``: the district health centre before the reform,
        the area health centre until 2025, the commune station from 2026 (TT 43/2025/TT-BYT)."""
        if day >= V2_FROM and commune.station is not None:
            head = self.users.get(_head_of(commune.code))
            signer = head.full_name.split(" (")[0] if head is not None else self._signer(commune.code)
            return (("TYT", commune.code), commune.station.name, "QĐ-TYT", signer, commune.station.id,
                    head or self.users["soyte"])
        if day >= IMPORT_DAY:
            actor = self.users["ttyt_budang"] if commune.centre.code == CENTRE_CODE else self.users["soyte"]
            return (("TTYT", commune.district), commune.centre.name, "QĐ-TTYT", self._signer(commune.district),
                    commune.centre.id, actor)
        name = f"Trung tâm Y tế {_lower_first(self.districts.get(commune.district, commune.centre.name))}"
        return (("TTYTH", commune.district), name, "QĐ-TTYT", self._signer(commune.district), commune.centre.id,
                self.users["soyte"])

    def _decision(self, commune: Commune, target: date, batch: int | None = None) -> Decision:
        """The decision that appoints someone starting about ``target``: one per issuer and
        month (in-window replacements) or per district, year and half-year (before the window)."""
        if batch is None:
            first = (target - timedelta(days=12)).replace(day=1)
        else:
            first = date(target.year, 3 if batch == 0 else 8, 1)
        key, issuer, suffix, signer, facility_id, actor = self._issuer(commune, first)  # issued in that month
        key = (*key, first)
        decision = self.decisions.get(key)
        if decision is None:
            issued = _weekday(first + timedelta(days=self.rng.randint(3, 20)))
            decision = Decision(self._number(issued.year, suffix), issued, issuer, facility_id, signer,
                                f"Giám đốc {issuer}", actor)
            self.decisions[key] = decision
        return decision

    def _contract(self, decision: Decision, day: date) -> str:
        kind = "TYT" if decision.number.endswith("QĐ-TYT") else "TTYT"
        key = (decision.issuer_name, day.year)
        self.contracts[key] = n = self.contracts.get(key, 0) + 1
        return f"{n:02d}/{day.year}/HĐTN-{kind}"

    def _member(self, hamlet: Hamlet, appointed: date, decision: Decision) -> Member:
        person = self.names.person(hamlet.commune, hamlet, appointed)
        member = Member(len(self.members), person, hamlet, appointed, current=hamlet, decision=decision)
        member.places.append((appointed, hamlet))
        member.contract_number = self._contract(decision, appointed)
        decision.members.append(member)
        hamlet.members.append(member)
        self.members.append(member)
        return member

    # the simulation
    def push(self, day: date, kind: str, **data) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (day, self.seq, kind, data))

    def step(self, day: date, kind: str, **data) -> None:
        self.seq += 1
        self.steps.append(Step(day, RANK[kind], self.seq, kind, data))

    def _draw_end(self, member: Member, since: date) -> None:
        days = int(self.rng.expovariate(TURNOVER / 365.0))
        day = _weekday(since + timedelta(days=days))
        if START < day < END - timedelta(days=2):
            self.push(day, "end", member=member)

    def plan(self, established: list[Commune]) -> None:
        rng = self.rng
        years = list(range(2016, 2024))
        for commune in established:
            for hamlet in commune.hamlets:
                n = hamlet.quota if rng.random() < FILL else hamlet.quota - 1
                for _ in range(n):
                    year = rng.choices(years, weights=[1, 1, 2, 2, 3, 3, 4, 4])[0]
                    batch = rng.randint(0, 1)
                    decision = self._decision(commune, date(year, 6, 1), batch=batch)
                    appointed = min(decision.issued_on + timedelta(days=rng.randint(5, 25)), START - timedelta(days=1))
                    self._member(hamlet, appointed, decision)
                for _ in range(hamlet.quota - n):  # the slot left open in 2023 is filled some day, or not
                    if rng.random() < 0.5:
                        self.push(_between(rng, START + timedelta(days=30), END - timedelta(days=40)), "appoint",
                                  hamlet=hamlet, prev=None)
        for member in list(self.members):
            self._draw_end(member, START)
        # A few endings in single-collaborator hamlets of the demo area, so its lists show a hamlet
        # covered by a colleague meanwhile and a register still to hand over.
        alone = [m for m in self.members if m.hamlet.quota == 1 and m.hamlet.commune.centre.code == CENTRE_CODE
                 and m.hamlet.commune.code in FOCUS_COMMUNES]
        windows = [(date(2025, 9, 1), date(2025, 12, 15)), (date(2026, 3, 1), date(2026, 6, 30)),
                   (date(2026, 10, 26), date(2026, 11, 10))]
        for member, (first, last) in zip(rng.sample(alone, min(len(alone), len(windows))), windows, strict=False):
            self.push(_weekday(_between(rng, first, last)), "end", member=member)
        for i, member in enumerate(rng.sample(self.members, SUSPENSIONS)):
            begins = _weekday(_between(rng, START + timedelta(days=60), END - timedelta(days=45)))
            ends = None if i == 0 else _weekday(begins + timedelta(days=rng.randint(40, 120)))
            if ends is not None and ends >= END:
                ends = None
            member.suspension_planned = True
            self.suspension_plan[member.key] = (begins, ends, rng.randrange(len(SUSPEND_REASONS)))
            self.push(begins, "suspend", member=member)
            if ends is not None:
                self.push(ends, "reinstate", member=member)
        while self.queue:
            day, _, kind, data = heapq.heappop(self.queue)
            getattr(self, f"_on_{kind}")(day, **data)

    def _on_suspend(self, day: date, member: Member) -> None:
        if member.ended is not None or member.appointed >= day:
            return
        member.suspended = True
        member.suspensions.append([day, None])
        _, _, reason = self.suspension_plan[member.key]
        self.step(day, "suspend", member=member, reason=SUSPEND_REASONS[reason][0])

    def _on_reinstate(self, day: date, member: Member) -> None:
        if not member.suspended or member.ended is not None:
            return
        member.suspended = False
        member.suspension_planned = False
        member.suspensions[-1][1] = day
        _, _, reason = self.suspension_plan[member.key]
        self.step(day, "reinstate", member=member, note=SUSPEND_REASONS[reason][1])

    def _on_end(self, day: date, member: Member) -> None:
        rng = self.rng
        if member.ended is not None:
            return
        if member.suspended:  # decided after the suspension, if at all
            ends = self.suspension_plan[member.key][1]
            if ends is not None:
                later = _weekday(ends + timedelta(days=rng.randint(30, 90)))
                if later < END - timedelta(days=2):
                    self.push(later, "end", member=member)
            return
        reason, _, notes = rng.choices(END_REASONS, weights=[w for _, w, _ in END_REASONS])[0]
        member.ended, member.end_reason, member.end_note = day, reason, rng.choice(notes)
        hamlet = member.current
        hamlet.members.remove(member)
        member.emptied = not hamlet.members
        self.step(day, "terminate", member=member, reason=reason, note=member.end_note)
        donors = [m for h in hamlet.commune.hamlets if h is not hamlet and len(h.members) >= 2 for m in h.members
                  if not m.suspended and not m.suspension_planned]
        if day >= IMPORT_DAY and donors and rng.random() < TRANSFER_SHARE:
            when = _weekday(day + timedelta(days=rng.randint(10, 40)))
            if when < END - timedelta(days=2):
                self.push(when, "transfer", member=rng.choice(donors), to=hamlet, vacated_by=member)
                return
        if rng.random() < REPLACED:
            self._replace(hamlet, day, member)

    def _replace(self, hamlet: Hamlet, after: date, prev: Member | None) -> None:
        self.push(after + timedelta(days=self.rng.randint(30, 150)), "appoint", hamlet=hamlet, prev=prev)

    def _on_appoint(self, day: date, hamlet: Hamlet, prev: Member | None) -> None:
        rng = self.rng
        if len(hamlet.members) >= hamlet.quota:
            return
        decision = self._decision(hamlet.commune, day)
        day = max(day, decision.issued_on + timedelta(days=rng.randint(3, 10)))
        if day.day > 20:  # late in the month: starts on the 1st, after the month's meeting
            day = (day + timedelta(days=15)).replace(day=1)
        if day >= END - timedelta(days=3):
            decision_is_new = not decision.members
            if decision_is_new:
                self.decisions = {k: d for k, d in self.decisions.items() if d is not decision}
            return
        member = self._member(hamlet, day, decision)
        if prev is not None and prev.successor is None:
            prev.successor = member
        self.step(day, "appoint", member=member)
        self._draw_end(member, day + timedelta(days=180))

    def _on_transfer(self, day: date, member: Member, to: Hamlet, vacated_by: Member) -> None:
        source = member.current
        if (member.ended is not None or member.suspended or len(to.members) >= to.quota
                or len(source.members) < 2 or source.commune is not to.commune):
            self._replace(to, day, vacated_by)
            return
        source.members.remove(member)
        to.members.append(member)
        member.current = to
        member.places.append((day, to))
        if vacated_by.successor is None:
            vacated_by.successor = member
        template = self.rng.choice(TRANSFER_NOTES)
        self.step(day, "transfer", member=member, to=to, note=template.format(to=to.name),
                  moves=template == TRANSFER_NOTES[0])
        if self.rng.random() < 0.8:
            self._replace(source, day, None)


def _head_of(commune_code: str) -> str | None:
    heads = {BOM_BO: "tram_bombo", NEIGHBOURS[0]: "tram_budang", NEIGHBOURS[1]: "tram_daknhau"}
    heads.update({fc[4:]: username for username, _, fc in NETWORK_HEADS})
    return heads.get(commune_code)


# --- writing the people ---------------------------------------------------------------------------


def _common_path(paths: list[str]) -> str:
    common = paths[0]
    for p in paths[1:]:
        while not p.startswith(common):
            common = common[: common.rstrip("/").rfind("/") + 1]
    return common or "/"


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


NOMINATED_BY = ["Trưởng ấp giới thiệu", "Chi hội Phụ nữ ấp giới thiệu", "Tự nguyện đăng ký tại Trạm Y tế",
                "Họp dân ấp đề cử"]


def _continues(m: Member) -> bool:
    """Someone appointed before the reform still serving on its day (their assignment goes on in
    the successor hamlet)."""
    return m.imported and m.hamlet.before is not None and not (m.ended is not None and m.ended < IMPORT_DAY)


def _write_people(members: list[Member], province: AdminUnit, rng: random.Random) -> dict[int, int]:
    """Decisions, candidates, applications (one timeline entry each), collaborators and their
    first assignments, in bulk (a handful of multi-row INSERTs, the same on SQLite and PostgreSQL).
    Each record names the hamlet as it was on the day (its old version before the reform); the
    assignments of those serving on 1/7/2025 go on in the successor hamlet (module docstring).
    Returns each member's first assignment."""
    decisions: dict[int, Decision] = {}
    for m in members:
        decisions.setdefault(id(m.decision), m.decision)
    ordered = sorted(decisions.values(), key=lambda d: (d.issued_on, d.number))
    rows = []
    for d in ordered:
        places = [m.hamlet.placed(m.appointed)[1] for m in d.members]
        rows.append(dict(province_id=unit_services.province_id_of(places[0]), issuer_facility_id=d.issuer_facility_id,
                         issuer_name=d.issuer_name, number=d.number, year=d.issued_on.year, issued_on=d.issued_on,
                         signer_name=d.signer_name, signer_title=d.signer_title, scope_path=_common_path(places),
                         created_at=_stamp(max(d.issued_on, IMPORT_DAY), rng),
                         created_by_id=getattr(d.created_by, "id", None)))
    ids = _insert(RecognitionDecision, rows)
    for d, new_id in zip(ordered, ids, strict=True):
        d.id = new_id
    entered = {}  # when each record was written into the app
    for m in members:
        day = _weekday(IMPORT_DAY + timedelta(days=rng.randint(0, 24))) if m.imported else m.appointed
        entered[m.key] = _stamp(max(day, IMPORT_DAY), rng)
    ids = _insert(Candidate, [dict(
        full_name=m.person.full_name, search_text=fold(m.person.full_name), date_of_birth=m.person.born,
        sex=m.person.sex, ethnicity=m.person.ethnicity, national_id=m.person.national_id, phone=m.person.phone,
        residence_hamlet_id=m.hamlet.id if _continues(m) else m.hamlet.placed(m.appointed)[0],
        resident_since=m.person.resident_since, education=m.person.education,
        is_village_health_worker=m.person.vhw, languages=m.person.languages,
        speaks_local_language=m.person.speaks_local_language, prior_experience=m.person.experience,
        created_at=entered[m.key]) for m in members])
    for m, new_id in zip(members, ids, strict=True):
        m.candidate_id = new_id
    app_rows = []
    for m in members:
        tier = "Mức thôn/ấp đặc biệt khó khăn" if m.hamlet.difficult else "Mức chung"
        signed = m.decision.issued_on - timedelta(days=rng.randint(20, 45))
        hamlet_id, hamlet_path = m.hamlet.placed(m.appointed)
        app_rows.append(dict(
            candidate_id=m.candidate_id, hamlet_id=hamlet_id, hamlet_path=hamlet_path, state="active", version=1,
            nominated_by=("Chuyển từ sổ sách giấy" if m.imported else
                          f"{rng.choice(NOMINATED_BY)} ({m.hamlet.name})"),
            dossier={k: True for k in DOSSIER_ITEMS}, application_signed_on=signed, decision_id=m.decision.id,
            contract_number=m.contract_number, contract_date=m.appointed - timedelta(days=rng.randint(0, 3)),
            allowance_tier=tier, activated_on=m.appointed, created_at=entered[m.key], updated_at=entered[m.key]))
    app_ids = _insert(Application, app_rows)
    event_rows = []
    for m, app_id in zip(members, app_ids, strict=True):
        d = m.decision
        source = f"QĐ số {d.number} ngày {_vn(d.issued_on)} của {d.issuer_name}"
        comment = (f"Chuyển từ sổ sách giấy: công nhận theo {source}; hoạt động từ {_vn(m.appointed)}."
                   if m.imported else f"Bổ sung CTV theo {source}; nhận Sổ A0 của {m.hamlet.name}.")
        actor = d.created_by
        event_rows.append(dict(application_id=app_id, action="activate", from_state="contracted", to_state="active",
                               actor_id=getattr(actor, "id", None), actor_name=getattr(actor, "username", "system"),
                               at=entered[m.key], comment=comment))
    _insert(ApplicationEvent, event_rows, returning=False)
    ids = _insert(Collaborator, [dict(candidate_id=m.candidate_id, application_id=app_id, activated_on=m.appointed,
                                      created_at=entered[m.key]) for m, app_id in zip(members, app_ids, strict=True)])
    for m, new_id in zip(members, ids, strict=True):
        m.collaborator_id = new_id
    paper_end = {m.key: (m.ended, m.end_reason, m.end_note) if m.ended is not None and m.ended < IMPORT_DAY
                 else (None, None, None) for m in members}
    rows = []
    for m, app in zip(members, app_rows, strict=True):
        end = paper_end[m.key]
        if _continues(m):  # ended by the reform, as units.reforms.apply ends it
            before = m.hamlet.before
            end = (IMPORT_DAY, (EndReason.HAMLET_MERGED if before.merged else REORGANISED).value, before.decision_ref)
        rows.append(dict(
            collaborator_id=m.collaborator_id, hamlet_id=app["hamlet_id"], hamlet_path=app["hamlet_path"],
            kind="primary", started_on=m.appointed, ended_on=end[0], end_reason=end[1], end_note=end[2],
            decision_id=m.decision.id, decision_ref=f"QĐ số {m.decision.number}", allowance_tier=app["allowance_tier"],
            created_at=entered[m.key], created_by_id=getattr(m.decision.created_by, "id", None)))
    ids = _insert(Assignment, rows)
    _continue_across_reform([(m, row, first) for m, row, first in zip(members, rows, ids, strict=True)
                             if _continues(m)], entered)
    return {m.key: new_id for m, new_id in zip(members, ids, strict=True)}


def _continue_across_reform(ended: list[tuple[Member, dict, int]], entered: dict[int, datetime]) -> None:
    """The assignment of each collaborator serving on 1/7/2025 goes on in the successor hamlet
    from that day, as ``units.reforms.apply`` continues it: same person, kind, recognition
    decision and allowance tier, the reform's decision as its reference; one
    ``collaborator.reform`` audit event each (the reform's own audit, written in bulk)."""
    from ..audit.models import AuditEvent
    from ..audit.services import SYSTEM_ACTOR
    from ..common.clock import now

    if not ended:
        return
    ids = _insert(Assignment, [dict(
        collaborator_id=m.collaborator_id, hamlet_id=m.hamlet.id, hamlet_path=m.hamlet.path, kind=row["kind"],
        started_on=IMPORT_DAY, decision_id=row["decision_id"], decision_ref=m.hamlet.before.decision_ref,
        allowance_tier=row["allowance_tier"], created_at=entered[m.key], created_by_id=None)
        for m, row, _first in ended])
    at = now()
    _insert(AuditEvent, [dict(
        at=at, actor_id=None, actor_name=SYSTEM_ACTOR, action="collaborator.reform", object_type="Collaborator",
        object_id=str(m.collaborator_id), object_label=m.person.full_name[:300], unit_path=m.hamlet.path,
        before={"assignments": [{"id": first, "hamlet_id": row["hamlet_id"], "hamlet": m.hamlet.before.name}]},
        after={"on": IMPORT_DAY.isoformat(), "decision_ref": m.hamlet.before.decision_ref, "reason": row["end_reason"],
               "assignments": [{"id": new_id, "hamlet_id": m.hamlet.id, "hamlet": m.hamlet.name}]}, ip=None)
        for (m, row, first), new_id in zip(ended, ids, strict=True)], returning=False)


def _officer_name(planner: Planner, commune: Commune) -> str:
    """The station's population officer who receives a register (the demo user in Bom Bo)."""
    officer = planner.users.get("dsxa_bombo") if commune.code == BOM_BO else None
    name = officer.full_name.split(" (")[0] if officer is not None else planner._signer(f"officer:{commune.code}")
    station = commune.station.name if commune.station else f"Trạm Y tế {commune.full_name}"
    return f"{name} – viên chức dân số, {station}"


def _successor_start(member: Member) -> date | None:
    successor = member.successor
    if successor is None:
        return None
    return next((since for since, h in successor.places if h is member.current), None)


def _write_paper_lifecycle(planner: Planner, assignment_ids: dict[int, int], rng: random.Random) -> list[tuple]:
    """What happened before the app started (1/7/2025) was kept on paper and is entered as it
    ended up: the endings are on the assignment rows already; here the suspensions and the
    hand-overs of the registers. A hand-over still outstanding on 1/7/2025 is recorded in the app
    on its day (returned as ``(day, handover id, successor, receiver)``)."""
    rows = []
    for m in planner.members:
        for begins, ends in m.suspensions:
            if begins >= IMPORT_DAY:
                continue
            reason, note = SUSPEND_REASONS[planner.suspension_plan[m.key][2]]
            closed = ends is not None and ends < IMPORT_DAY
            rows.append(dict(collaborator_id=m.collaborator_id, started_on=begins, ended_on=ends if closed else None,
                             reason=reason, end_note=note if closed else None,
                             created_at=_stamp(IMPORT_DAY, rng), created_by_id=None))
    _insert(Suspension, rows, returning=False)
    later, rows, keys = [], [], []
    for m in planner.members:
        if m.ended is None or m.ended >= IMPORT_DAY or not m.emptied:
            continue
        start = _successor_start(m)
        if start is not None and (start - m.ended).days <= 60:
            handed, to, receiver = start, m.successor, None
        else:
            handed, to, receiver = m.ended + timedelta(days=rng.randint(2, 12)), None, None
            receiver = _officer_name(planner, m.current.commune)
        # The register of a hamlet the reform re-versioned is handed over in the old hamlet before
        # 1/7/2025; one still outstanding then concerns the successor (the same households).
        hamlet_id, hamlet_path = m.current.placed(handed)
        row = dict(hamlet_id=hamlet_id, hamlet_path=hamlet_path, from_collaborator_id=m.collaborator_id,
                   assignment_id=assignment_ids[m.key], requested_on=m.ended, handed_on=None, received_by=None,
                   to_collaborator_id=None, note=None, recorded_by_id=None)
        if handed < IMPORT_DAY:
            row.update(handed_on=handed, received_by=(receiver or to.person.full_name)[:200],
                       to_collaborator_id=getattr(to, "collaborator_id", None), note="Bàn giao trên sổ sách giấy")
        rows.append(row)
        keys.append((handed, to, receiver, handed < IMPORT_DAY))
    ids = _insert(RegisterHandover, rows)
    for handover_id, (handed, to, receiver, done) in zip(ids, keys, strict=True):
        if not done:
            later.append((handed, handover_id, to, receiver))
    return later


# Đồng Nai builds its network as "cộng tác viên dân số kiêm công tác gia đình và trẻ em" (KH
# 14676/KH-UBND, 2021, as cited by issue #9 item 15; DOMAIN.md §0.4): most collaborators hold the
# duty from the day their recognition takes effect; the rest do population work only.
DUTY_SHARE = 0.85


def _write_duties(members: list[Member], rng: random.Random) -> int:
    """The combined duty of each planned collaborator who holds it: from their first day (the
    recognition decision names it; its number is the duty's ``decision_ref``), in bulk like the
    people. A paper-era ending closes it the same day; a later one is closed by
    ``terminate_collaborator`` in the replay, as the app does. Returns how many hold it."""
    rows = []
    for m in members:
        if rng.random() >= DUTY_SHARE:
            continue
        d = m.decision
        ended = m.ended if m.ended is not None and m.ended < IMPORT_DAY else None
        rows.append(dict(collaborator_id=m.collaborator_id, duty=DutyKind.FAMILY_CHILDREN.value,
                         started_on=m.appointed, ended_on=ended,
                         decision_ref=f"QĐ số {d.number} ngày {_vn(d.issued_on)} (CTV dân số kiêm công tác gia đình "
                                      "và trẻ em)",
                         created_at=_stamp(max(m.appointed, IMPORT_DAY), rng),
                         created_by_id=getattr(d.created_by, "id", None)))
    _insert(CollaboratorDuty, rows, returning=False)
    return len(rows)


def _insert(model, rows: list[dict], returning: bool = True) -> list[int]:
    if not rows:
        return []
    if not returning:
        db.session.execute(insert(model), rows)
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, rows))


# --- the replay through the services ---------------------------------------------------------------

MEETING_NOTES = [None, None, "Triển khai chiến dịch tăng cường tuyên truyền, vận động lồng ghép dịch vụ dân số",
                 "Rà soát, cập nhật biến động dân cư vào Sổ A0", "Hướng dẫn ghi phiếu P0/CTV theo TT 01/2022/TT-BYT",
                 "Tuyên truyền tầm soát, chẩn đoán, điều trị trước sinh và sơ sinh",
                 "Vận động chăm sóc sức khoẻ người cao tuổi tại cộng đồng", "Chuẩn bị số liệu báo cáo năm"]
ABSENT_NOTES = ["Vắng có báo (việc gia đình)", "Vắng có báo (ốm)", "Vắng không báo", "Đi đám cưới người thân"]
FINDINGS = {
    "register_up_to_date": ("Sổ A0 chưa cập nhật hộ mới chuyển đến và trẻ mới sinh trong tháng",
                            "Cập nhật đầy đủ biến động dân cư vào Sổ A0; trạm kiểm tra lại",
                            "Đã cập nhật Sổ A0; viên chức dân số xã đã kiểm tra"),
    "p0_submitted": ("Chưa nộp phiếu P0/CTV tại buổi giao ban tháng trước",
                     "Nộp bổ sung phiếu P0/CTV cho viên chức dân số xã", "Đã nộp bổ sung phiếu P0/CTV"),
    "meeting_attended": ("Vắng giao ban tháng trước không báo", "Dự giao ban đầy đủ, báo cáo bổ sung kết quả tháng",
                         "Đã dự giao ban và báo cáo bổ sung"),
    "contraceptive_stock": ("Sổ theo dõi cấp phát bao cao su, viên uống tránh thai ghi chưa đầy đủ",
                            "Ghi đầy đủ sổ cấp phát; đối chiếu số tồn với trạm",
                            "Đã ghi đầy đủ, số tồn khớp với trạm"),
    "household_sample": ("Kiểm tra ngẫu nhiên 10 hộ: 2 hộ không khớp Sổ A0 (nhân khẩu đã chuyển đi)",
                         "Rà soát toàn bộ hộ của địa bàn, điều chỉnh Sổ A0", "Đã rà soát, điều chỉnh Sổ A0"),
    "training_attended": ("Chưa dự lớp tập huấn ghi chép ban đầu", "Đăng ký dự lớp tập huấn gần nhất",
                          "Đã dự lớp tập huấn"),
    "referrals_made": ("Chưa giới thiệu phụ nữ mang thai chưa khám thai đến trạm",
                       "Vận động, giới thiệu thai phụ đến trạm y tế khám thai", "Thai phụ đã đến trạm khám"),
}
OPTIONAL_ITEMS = ("contraceptive_stock", "household_sample", "referrals_made", "training_attended")
NOT_COMPLETED = ["Vắng buổi thứ hai (việc gia đình)", "Chỉ dự một buổi, chưa làm bài kiểm tra cuối khoá"]

# (key, starts, ends, hours, population work, organiser, title, location, who comes, organising commune)
COURSES = [
    ("pop2024", date(2024, 4, 9), date(2024, 4, 11), 24, True, "Chi cục Dân số – Sở Y tế",
     "Bồi dưỡng kiến thức, kỹ năng công tác dân số cho cộng tác viên mới (khoá 2024)",
     "Hội trường Trung tâm Y tế huyện Bù Đăng", "new", None),
    ("a0_2024", date(2024, 8, 20), date(2024, 8, 21), 16, False, "Trung tâm Y tế huyện Bù Đăng",
     "Tập huấn ghi chép ban đầu và báo cáo thống kê chuyên ngành dân số (TT 01/2022/TT-BYT)",
     "Hội trường Trung tâm Y tế huyện Bù Đăng", "all", None),
    ("area2025", date(2025, 8, 5), date(2025, 8, 6), 12, False, "Trung tâm Y tế khu vực Bù Đăng",
     "Cập nhật địa bàn, Sổ A0 và phiếu P0 sau sắp xếp đơn vị hành chính cấp xã",
     "Hội trường Trung tâm Y tế khu vực Bù Đăng", "all", None),
    ("pop2025", date(2025, 9, 16), date(2025, 9, 18), 24, True, "Chi cục Dân số – Sở Y tế",
     "Bồi dưỡng kiến thức, kỹ năng công tác dân số cho cộng tác viên mới (khoá 2025)",
     "Hội trường Trung tâm Y tế khu vực Bù Đăng", "new", None),
    ("mcs2025", date(2025, 11, 20), date(2025, 11, 20), 4, False, "Trạm Y tế xã Thọ Sơn",
     "Sinh hoạt chuyên đề: truyền thông về mất cân bằng giới tính khi sinh", "Trạm Y tế xã Thọ Sơn", "all",
     "25402"),
    ("pop2026", date(2026, 4, 14), date(2026, 4, 16), 24, True, "Sở Y tế Thành phố Đồng Nai",
     "Bồi dưỡng kiến thức, kỹ năng công tác dân số cho cộng tác viên mới (khoá 2026)",
     "Hội trường Trung tâm Y tế khu vực Bù Đăng", "new", None),
    ("care2026", date(2026, 6, 23), date(2026, 6, 24), 16, False, "Trung tâm Y tế khu vực Bù Đăng",
     "Kỹ năng tư vấn tầm soát trước sinh, sơ sinh và chăm sóc sức khoẻ người cao tuổi",
     "Hội trường Trung tâm Y tế khu vực Bù Đăng", "all", None),
]
LINK_POSITIONS = {"labour_social": "Công chức Văn hoá – Xã hội (lĩnh vực lao động, người có công và xã hội)",
                  "culture_sports": "Công chức Văn hoá – Xã hội (lĩnh vực văn hoá, thể thao)"}
LINK_BASIS = "KH 14676/KH-UBND (2021) của UBND tỉnh Đồng Nai"
ALLOWANCE_NOTE = ("Dữ liệu minh hoạ: mức bồi dưỡng thật của Đồng Nai sau hợp nhất chưa được xác minh "
                  "(DOMAIN.md §3.3); thay bằng nghị quyết HĐND khi có.")
BASE_SALARIES = [(date(2023, 7, 1), 1_800_000, "Nghị định 24/2023/NĐ-CP"),
                 (date(2024, 7, 1), 2_340_000, "Nghị định 73/2024/NĐ-CP")]
RULES_2023 = dict(valid_from=date(2023, 7, 1), basis="coefficient", is_illustrative=True,
                  legal_basis="Dữ liệu minh hoạ – theo mức của dự thảo nghị quyết tỉnh Bình Phước (2022)")
RULES_2026 = dict(valid_from=V2_FROM, basis="fixed", is_illustrative=True,
                  legal_basis="Dữ liệu minh hoạ – nghị quyết HĐND Thành phố Đồng Nai về mức bồi dưỡng CTV dân số")


@dataclass
class NetworkReport:
    users_created: list[str] = field(default_factory=list)
    collaborators_created: int = 0
    endings_on_paper: int = 0  # before 1/7/2025, entered as rows
    terminations: dict[str, int] = field(default_factory=dict)  # through the service, by reason
    transfers: int = 0
    covers: int = 0
    suspensions: int = 0
    handovers_recorded: int = 0
    handovers_pending: int = 0
    meetings: int = 0
    visits: int = 0
    follow_ups_closed: int = 0
    links: int = 0
    courses: int = 0
    attendances: int = 0
    allowance_rules: int = 0
    duties: int = 0  # collaborators holding "kiêm công tác gia đình và trẻ em"
    targets: int = 0  # versions of the communes' annual targets (illustrative)
    skipped: bool = False


class Replay:
    """Runs the history in date order: from 1/7/2025 through the services, acting as the demo
    users; before that day (the paper era) the area's meetings, visits and courses are gathered
    and written as rows at the end, as entered from the paper sheets."""

    def __init__(self, province: AdminUnit, communes: list[Commune], planner: Planner, users: dict[str, User],
                 entries: list[Member], rng: random.Random, report: NetworkReport):
        from ..allowances import services as allowances
        from ..collaborators import services as cs
        from ..supervision import services as sv
        from ..training import services as training

        self.cs, self.sv, self.training, self.allowances = cs, sv, training, allowances
        self.province, self.planner, self.users, self.rng, self.report = province, planner, users, rng, report
        self.communes = {c.code: c for c in communes}
        self.area = [c for c in communes if c.centre.code == CENTRE_CODE]
        self.entries = entries  # everyone who served in the area, planned or recruited by the pipeline
        self.queue: list[Step] = []
        self.seq = 0
        self.numbers: dict[int, int] = {}
        self.officers: dict[str, str] = {}
        self.courses: dict[str, tuple] = {}
        self.trained: set[int] = set()  # collaborators who completed a population-work course
        self.struggling: set[int] = set()
        self.paper_visits: list[dict] = []
        self.paper_meetings: list[tuple[dict, list[dict]]] = []
        self.paper_courses: list[tuple[dict, list[dict]]] = []
        # The units of the area before the reform (the centre was the district's): courses of then.
        self.old_district = db.session.scalar(select(AdminUnit).where(
            AdminUnit.code == CENTRE_CODE.split("-")[-1], AdminUnit.level == UnitLevel.DISTRICT.value)) or province
        self.old_province = self.old_district.parent if self.old_district is not province else province

    # plumbing
    def push(self, day: date, step_kind: str, /, **data) -> None:
        self.seq += 1
        heapq.heappush(self.queue, Step(day, RANK[step_kind], self.seq, step_kind, data))

    def run(self, paper_handovers: list[tuple]) -> None:
        self.seq = max((s.seq for s in self.planner.steps), default=0)
        for step in self.planner.steps:
            if step.day >= IMPORT_DAY:
                heapq.heappush(self.queue, step)
        for day, handover_id, to, receiver in paper_handovers:
            self.push(day, "handover", handover=db.session.get(RegisterHandover, handover_id), to=to,
                      receiver=receiver)
        self._plan_settings()
        self._plan_links()
        self._plan_meetings()
        self._plan_visits()
        self._plan_courses()
        while self.queue:
            step = heapq.heappop(self.queue)
            getattr(self, f"_{step.kind}")(step.day, **step.data)
        self._write_paper()

    def collaborator(self, member: Member) -> Collaborator:
        return db.session.get(Collaborator, member.collaborator_id)

    def unit(self, unit_id: int) -> AdminUnit:
        return db.session.get(AdminUnit, unit_id)

    def at(self, day: date) -> datetime:
        return _stamp(day, self.rng)

    def entered(self) -> datetime:
        """When a paper record was typed in: the first weeks of the app."""
        return _stamp(_weekday(IMPORT_DAY + timedelta(days=self.rng.randint(0, 30))), self.rng)

    @staticmethod
    def in_area(commune: Commune) -> bool:
        return commune.centre.code == CENTRE_CODE

    def decider(self, commune: Commune, day: date) -> User:
        """Who decides on collaborators: the area health centre until 2025, then the station head
        (TT 43/2025/TT-BYT); outside the demo area the province admin records the centres' reports."""
        if not self.in_area(commune):
            return self.users["soyte"]
        head = self.users.get(_head_of(commune.code))
        return head if day >= V2_FROM and head is not None else self.users["ttyt_budang"]

    def recorder(self, commune: Commune) -> User:
        """Who keeps the station's records (meetings, hand-overs)."""
        if not self.in_area(commune):
            return self.users["soyte"]
        if commune.code == BOM_BO and "dsxa_bombo" in self.users:
            return self.users["dsxa_bombo"]
        return self.users.get(_head_of(commune.code)) or self.users["ttyt_budang"]

    def officer_name(self, commune: Commune) -> str:
        if commune.code not in self.officers:
            self.officers[commune.code] = _officer_name(self.planner, commune)
        return self.officers[commune.code]

    def ref(self, day: date) -> str:
        n = self.numbers.get(day.year, 300) + self.rng.randint(1, 9)
        self.numbers[day.year] = n
        return f"QĐ số {n}/QĐ-{'TYT' if day >= V2_FROM else 'TTYT'}"

    def serving(self, commune: Commune, day: date) -> list[Member]:
        """The area's collaborators serving in the commune on the day (primary hamlet)."""
        return [m for m in self.entries if m.serving_on(day) and m.hamlet_on(day).commune is commune]

    # --- the network's history ------------------------------------------------------------------

    def _appoint(self, day: date, member: Member) -> None:
        """Written with everyone else before the replay; nothing to call."""

    def _suspend(self, day: date, member: Member, reason: str) -> None:
        suspension = self.cs.suspend_collaborator(self.collaborator(member), on=day, reason=reason,
                                                  actor=self.decider(member.hamlet.commune, day))
        suspension.created_at = self.at(day)
        self.report.suspensions += 1

    def _reinstate(self, day: date, member: Member, note: str) -> None:
        self.cs.reinstate_collaborator(self.collaborator(member), on=day, note=note,
                                       actor=self.decider(member.hamlet.commune, day))

    def _terminate(self, day: date, member: Member, reason: str, note: str) -> None:
        commune = member.hamlet.commune
        handovers = self.cs.terminate_collaborator(self.collaborator(member), on=day, reason=reason, note=note,
                                                   actor=self.decider(commune, day))
        self.report.terminations[reason] = self.report.terminations.get(reason, 0) + 1
        for handover in handovers:
            self._after_handover_request(day, member, handover, commune)

    def _transfer(self, day: date, member: Member, to: Hamlet, note: str, moves: bool) -> None:
        residence = {"residence": "moves"} if moves else {
            "residence": "elsewhere", "residence_exception": RESIDENCE_EXCEPTION.format(to=to.name)}
        assignment = self.cs.transfer_collaborator(self.collaborator(member), self.unit(to.id), on=day, note=note,
                                                   decision_ref=self.ref(day), actor=self.decider(to.commune, day),
                                                   **residence)
        assignment.created_at = self.at(day)
        self.report.transfers += 1

    def _after_handover_request(self, day: date, member: Member, handover, commune: Commune) -> None:
        """Most registers are handed over within days (to the successor when one starts soon,
        else to the station's population officer); the latest, and a few older ones, are pending.
        In the demo area a colleague covers a hamlet left empty for long (kiêm nhiệm), and takes
        the register."""
        rng = self.rng
        start = _successor_start(member)
        if (self.in_area(commune) and (start is None or (start - day).days > 40) and self.report.covers < 4
                and day < END - timedelta(days=20)):
            cover = self._colleague(member, day, start or END)
            if cover is not None:
                begins = _weekday(day + timedelta(days=rng.randint(5, 12)))
                if begins < day:
                    begins = day
                self.report.covers += 1
                self.push(begins, "cover", member=cover, hamlet=member.current, until=start, handover=handover)
                return
        if day > END - timedelta(days=40) or rng.random() < 0.05:
            self.report.handovers_pending += 1
            return
        if start is not None and (start - day).days <= 60:
            self.push(start, "handover", handover=handover, to=member.successor, receiver=None)
        else:
            self.push(max(day, _weekday(day + timedelta(days=rng.randint(2, 12)))), "handover", handover=handover,
                      to=None, receiver=self.officer_name(commune))

    def _colleague(self, member: Member, begins: date, until: date) -> Member | None:
        """A colleague of another hamlet of the commune serving without a break meanwhile."""
        hamlet = member.current
        for other in self.entries:
            h = other.hamlet_on(begins)
            if (h is None or h is hamlet or h.commune is not hamlet.commune or other.suspensions
                    or other.suspension_planned or other.key < 0):
                continue
            if (other.ended is not None and other.ended <= until) or any(begins < since <= until
                                                                         for since, _ in other.places):
                continue
            return other
        return None

    def _cover(self, day: date, member: Member, hamlet: Hamlet, until: date | None, handover) -> None:
        assignment = self.cs.add_hamlet(self.collaborator(member), self.unit(hamlet.id), on=day,
                                        decision_ref=self.ref(day), actor=self.decider(hamlet.commune, day))
        assignment.created_at = self.at(day)
        self.push(day, "handover", handover=handover, to=member, receiver=None,
                  note=f"{member.person.full_name} kiêm nhiệm {hamlet.name} trong thời gian chờ CTV mới")
        if until is not None:
            self.push(until, "uncover", member=member, assignment=assignment)

    def _uncover(self, day: date, member: Member, assignment) -> None:
        self.cs.end_additional_hamlet(assignment, on=day, actor=self.decider(member.hamlet.commune, day),
                                      note="Đã có CTV mới phụ trách ấp")

    def _handover(self, day: date, handover, to: Member | None, receiver: str | None, note: str | None = None) -> None:
        hamlet = self.unit(handover.hamlet_id)
        commune = self.communes[hamlet.parent.code]
        self.cs.record_handover(handover, handed_on=day, received_by=receiver,
                                to_collaborator=self.collaborator(to) if to is not None else None,
                                note=note, actor=self.recorder(commune))
        self.report.handovers_recorded += 1

    # --- the province's settings ----------------------------------------------------------------

    def _plan_settings(self) -> None:
        self.push(IMPORT_DAY, "setting", what="policy")
        self.push(IMPORT_DAY, "setting", what="rules_2023")
        self.push(date(2025, 12, 15), "setting", what="rules_2026")

    def _setting(self, day: date, what: str) -> None:
        """The network policy and the allowance resolution, entered by the province admin: the
        rules in force since 1/7/2023 are coefficients × the base salary (0.2; 0.25 in difficult
        or ethnic-minority hamlets; 0.125 for a village health worker), replaced from 1/1/2026 by
        fixed amounts by commune type. Illustrative data, labelled as such (DOMAIN.md §3.3)."""
        a, actor, province = self.allowances, self.users["soyte"], self.province
        made = []
        if what == "policy":
            policy = a.set_network_policy(
                province, valid_from=IMPORT_DAY, allow_additional_hamlet=True, pay_additional_hamlet=False,
                visit_interval_days=92, missed_meetings_for_review=2, is_illustrative=True,
                legal_basis="Dữ liệu minh hoạ – theo đề xuất DOMAIN.md §7.2–7.3 (giám sát mỗi quý; vắng giao ban "
                            "2 tháng liền thì rà soát; cho kiêm nhiệm thêm ấp, không chi thêm)", actor=actor)
            policy.created_at = self.at(day)
            return
        if what == "rules_2023":
            for zone, vhw, coefficient in (("normal", False, "0.2"), ("difficult", False, "0.25"), (None, True, "0.125")):
                made.append(a.create_allowance_rule(province, zone=zone, vhw_concurrent=vhw, coefficient=coefficient,
                                                    note=ALLOWANCE_NOTE, actor=actor, **RULES_2023))
        else:
            for rule in a.allowance_rules(province):
                if rule.valid_to is None:
                    a.end_allowance_rule(rule, valid_to=V2_FROM, actor=actor)
            amounts = [("xa", "normal", 700_000), ("xa", "difficult", 800_000), ("phuong", "normal", 600_000),
                       ("phuong", "difficult", 700_000)]
            for category, zone, amount in amounts:
                made.append(a.create_allowance_rule(province, commune_category=category, zone=zone,
                                                    vhw_concurrent=False, amount=amount, note=ALLOWANCE_NOTE,
                                                    actor=actor, **RULES_2026))
            made.append(a.create_allowance_rule(province, vhw_concurrent=True, amount=350_000, note=ALLOWANCE_NOTE,
                                                actor=actor, **RULES_2026))
        for rule in made:
            rule.created_at = self.at(day)
        self.report.allowance_rules += len(made)

    # --- professional direction -----------------------------------------------------------------

    def _plan_links(self) -> None:
        """Each commune of the area names its LĐTBXH and VHTT officers when it starts (1/7/2025);
        Bom Bo's culture officer changes in October 2025, Nghĩa Trung's labour officer in 2026."""
        for commune in self.area:
            for kind in LINK_POSITIONS:
                self.push(IMPORT_DAY + timedelta(days=self.rng.randint(7, 30)), "link", commune=commune, kind=kind)
        if BOM_BO in self.communes:
            self.push(date(2025, 10, 15), "link", commune=self.communes[BOM_BO], kind="culture_sports")
        if "25417" in self.communes:
            self.push(date(2026, 3, 2), "link", commune=self.communes["25417"], kind="labour_social")

    def _link(self, day: date, commune: Commune, kind: str) -> None:
        rng = self.rng
        sex = rng.choice(["male", "female"])
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"
        link = self.sv.set_professional_link(
            self.unit(commune.id), kind=kind, person_name=name, position=LINK_POSITIONS[kind],
            phone=rng.choice(["09", "03", "08"]) + f"{rng.randint(0, 99999999):08d}", valid_from=day,
            legal_basis=LINK_BASIS, actor=self.users["ttyt_budang"])
        link.created_at = self.at(day)
        self.report.links += 1

    # --- monthly meetings -----------------------------------------------------------------------

    def _plan_meetings(self) -> None:
        """A meeting every month in each commune of the area that had collaborators, held in the
        last week of the month; three collaborators serving today miss the last two."""
        rng = self.rng
        for commune in self.area:
            members = [m for m in self.entries if m.hamlet.commune is commune]
            if not members:
                continue
            month = max(START, min(m.appointed for m in members)).replace(day=1)
            while True:
                held = _weekday(date(month.year, month.month, rng.randint(24, 28)))
                if held >= END:
                    break
                if held >= START:
                    self.push(held, "meeting", commune=commune, month=month)
                month = (month + timedelta(days=32)).replace(day=1)
        for code in (BOM_BO, "25402", "25417"):
            pool = [m for m in self.entries if m.hamlet.commune.code == code and m.appointed < date(2026, 8, 1)
                    and m.serving_on(END - timedelta(days=1)) and m.serving_on(date(2026, 9, 1))]
            if pool:
                self.struggling.add(rng.choice(pool).collaborator_id)

    def _meeting(self, day: date, commune: Commune, month: date) -> None:
        """The sheet lists those serving on the day (TT 02/2021/TT-BYT Art. 3.7: each attends and
        hands in the P0/CTV slip, TT 01/2022/TT-BYT)."""
        rng = self.rng
        sheet = {}
        for member in sorted(self.serving(commune, day), key=lambda m: m.key):
            cid = member.collaborator_id
            attended = rng.random() < 0.93
            p0 = rng.random() < (0.93 if attended else 0.3)
            if cid in self.struggling and month >= date(2026, 9, 1):
                attended, p0 = rng.choice([(False, False), (True, False)])
            note = None
            if not attended:
                note = rng.choice(ABSENT_NOTES) + ("; gửi phiếu P0 qua trưởng ấp" if p0 else "")
            elif not p0:
                note = "Chưa hoàn thành phiếu P0/CTV, hẹn nộp bổ sung"
            sheet[cid] = (attended, p0, note)
        if not sheet:
            return
        topic = rng.choice(MEETING_NOTES)
        recorder = self.recorder(commune)
        if day < IMPORT_DAY:
            # Before the reform each old commune held its own meeting: one sheet per old commune.
            entered = self.entered()
            communes: dict[tuple[int, str], list] = {}
            members = {m.collaborator_id: m for m in self.serving(commune, day)}
            for cid, marks in sheet.items():
                hamlet = members[cid].hamlet_on(day)
                where = ((hamlet.before.commune_id, hamlet.before.commune_path) if hamlet.before is not None
                         else (commune.id, commune.path))
                communes.setdefault(where, []).append((cid, marks))
            for (commune_id, commune_path), marks in sorted(communes.items()):
                meeting = dict(commune_id=commune_id, commune_path=commune_path, month=month, held_on=day,
                               note="Nhập từ sổ giao ban giấy" + (f". {topic}" if topic else ""),
                               created_at=entered, recorded_by_id=recorder.id)
                rows = [dict(collaborator_id=cid, attended=a, p0_submitted=p, note=n) for cid, (a, p, n) in marks]
                self.paper_meetings.append((meeting, rows))
            self.report.meetings += len(communes) - 1
        else:
            meeting = self.sv.record_meeting(self.unit(commune.id), month=month, held_on=day, attendance=sheet,
                                             note=topic, actor=recorder)
            meeting.created_at = self.at(day)
        self.report.meetings += 1

    # --- supervision visits ---------------------------------------------------------------------

    def _plan_visits(self) -> None:
        """About one visit a quarter for each collaborator of the area (60–96 days apart, so a few
        fall overdue naturally); about one in eight was last visited long ago."""
        rng = self.rng
        last_day = END - timedelta(days=1)
        for member in self.entries:
            first = max(START, member.appointed)
            day = first + timedelta(days=rng.randint(20, 75))
            stop = END - timedelta(days=rng.randint(100, 220)) if rng.random() < 0.12 else last_day
            while day <= stop and (member.ended is None or day < member.ended):
                visit_day = _weekday(day)
                if visit_day >= first and member.serving_on(visit_day):
                    self.push(visit_day, "visit", member=member)
                day += timedelta(days=rng.randint(60, 96))

    def _supervisor(self, commune: Commune) -> User:
        rng = self.rng
        if commune.code == BOM_BO:
            pool = ["dsxa_bombo", "dsxa_bombo", "dsxa_bombo", "tram_bombo", "tram_bombo", "ttyt_budang"]
        else:
            head = _head_of(commune.code) or "ttyt_budang"
            pool = [head, head, head, "ttyt_budang"]
        return self.users.get(rng.choice(pool)) or self.users["ttyt_budang"]

    def _visit(self, day: date, member: Member) -> None:
        """A checklist from the collaborator's duties (DOMAIN.md §7.3): most items pass; what
        fails is written as findings, most with a follow-up due in two to six weeks, closed in
        time for older visits, often still open for recent ones."""
        rng = self.rng
        checklist = {}
        for item in FINDINGS:
            checklist[item] = None if item in OPTIONAL_ITEMS and rng.random() < 0.2 else rng.random() < 0.93
        failed = [k for k, v in checklist.items() if v is False]
        findings = "; ".join(FINDINGS[k][0] for k in failed) or None
        follow_up = due = closed = None
        if failed and rng.random() < 0.7:
            follow_up = "; ".join(FINDINGS[k][1] for k in failed)
            due = day + timedelta(days=rng.randint(14, 45))
            recent = day > END - timedelta(days=150)
            if rng.random() < (0.6 if recent else 0.95):
                closed = _between(rng, day + timedelta(days=7), due + timedelta(days=10))
                closed = closed if closed < END else None
        result = "; ".join(FINDINGS[k][2] for k in failed)
        supervisor = self._supervisor(member.hamlet.commune)
        if day < IMPORT_DAY:
            hamlet_id, hamlet_path = member.hamlet_on(day).placed(day)
            self.paper_visits.append(dict(
                collaborator_id=member.collaborator_id, hamlet_id=hamlet_id, hamlet_path=hamlet_path,
                supervisor_id=supervisor.id, visited_on=day, checklist=checklist,
                score=self.sv.checklist_score(checklist), findings=findings, follow_up=follow_up, follow_up_due=due,
                follow_up_closed_on=closed, follow_up_result=result if closed else None, created_at=self.entered()))
        else:
            visit = self.sv.record_visit(self.collaborator(member), supervisor=supervisor, visited_on=day,
                                         checklist=checklist, findings=findings, follow_up=follow_up,
                                         follow_up_due=due, actor=supervisor)
            visit.created_at = self.at(day)
            if closed is not None:
                self.push(closed, "close", visit=visit, result=result, actor=supervisor)
        self.report.visits += 1

    def _close(self, day: date, visit, result: str, actor: User) -> None:
        self.sv.close_follow_up(visit, closed_on=day, result=result, actor=actor)
        self.report.follow_ups_closed += 1

    # --- training -------------------------------------------------------------------------------

    def _plan_courses(self) -> None:
        for spec in COURSES:
            key, starts, ends, commune_code = spec[0], spec[1], spec[2], spec[9]
            if commune_code is not None and commune_code not in self.communes:
                continue
            self.push(starts - timedelta(days=self.rng.randint(15, 25)), "course", spec=spec)
            self.push(min(ends + timedelta(days=self.rng.randint(1, 3)), END - timedelta(days=1)), "attend", key=key)

    def _course(self, day: date, spec) -> None:
        key, starts, ends, hours, population, organiser, title, location, _, commune_code = spec
        if commune_code is None:
            unit, actor = self.province, self.users["soyte"]
            if starts < IMPORT_DAY:  # organised before the reform: by the old district or province
                unit = self.old_district if "huyện" in organiser else self.old_province
        else:
            unit = self.unit(self.communes[commune_code].id)
            actor = self.users.get(_head_of(commune_code)) or self.users["ttyt_budang"]
        if starts < IMPORT_DAY:
            course = dict(unit_id=unit.id, unit_path=unit.path, title=title, organiser=organiser, starts_on=starts,
                          ends_on=ends, hours=hours, is_population_work=population, location=location,
                          note="Nhập từ hồ sơ lớp học (trước khi dùng phần mềm)", created_at=self.entered(),
                          created_by_id=actor.id)
            self.courses[key] = (course, spec, [])
        else:
            course = self.training.create_course(unit, title=title, organiser=organiser, starts_on=starts,
                                                 ends_on=ends, hours=hours, is_population_work=population,
                                                 location=location, actor=actor)
            course.created_at = self.at(day)
            self.courses[key] = (course, spec, None)
        self.report.courses += 1

    def _attend(self, day: date, key: str) -> None:
        """New collaborators of the area (and those about to start) go on the population-work
        course of the year; most of those serving go on the others, most completing them."""
        rng = self.rng
        course, spec, paper = self.courses[key]
        starts, population, who, commune_code = spec[1], spec[4], spec[8], spec[9]
        if who == "new":
            people = [m for m in self.entries if m.collaborator_id not in self.trained
                      and starts - timedelta(days=400) <= m.appointed <= starts + timedelta(days=45)
                      and (m.ended is None or m.ended > starts)]
        else:
            people = [m for m in self.entries if m.serving_on(starts)
                      and (commune_code is None or m.hamlet_on(starts).commune.code == commune_code)]
            people = [m for m in people if rng.random() < 0.93]
        actor = self.users.get(_head_of(commune_code)) if commune_code else None
        actor = actor or self.users["ttyt_budang"]
        for member in sorted(people, key=lambda m: m.key):
            completed = rng.random() < 0.9
            note = None if completed else rng.choice(NOT_COMPLETED)
            if paper is not None:
                paper.append(dict(candidate_id=member.candidate_id, completed=completed, note=note,
                                  recorded_at=course["created_at"], recorded_by_id=actor.id))
            else:
                candidate = db.session.get(Candidate, member.candidate_id)
                attendance = self.training.record_attendance(course, candidate=candidate, completed=completed,
                                                             note=note, actor=actor, on=day)
                attendance.recorded_at = self.at(day)
            if completed and population:
                self.trained.add(member.collaborator_id)
            self.report.attendances += 1
        if paper is not None:
            self.paper_courses.append((course, paper))

    def _write_paper(self) -> None:
        """The paper era's meetings, visits and courses of the area, in bulk."""
        from ..supervision.models import MeetingAttendance, MonthlyMeeting, SupervisionVisit

        _insert(SupervisionVisit, self.paper_visits, returning=False)
        ids = _insert(MonthlyMeeting, [m for m, _ in self.paper_meetings])
        _insert(MeetingAttendance, [dict(meeting_id=i, **row) for i, (_, rows) in zip(ids, self.paper_meetings,
                                                                                       strict=True) for row in rows],
                returning=False)
        ids = _insert(TrainingCourse, [c for c, _ in self.paper_courses])
        _insert(TrainingAttendance, [dict(course_id=i, **row) for i, (_, rows) in zip(ids, self.paper_courses,
                                                                                       strict=True) for row in rows],
                returning=False)


# --- annual targets (illustrative) ----------------------------------------------------------------

# ILLUSTRATIVE DATA: no plan of the Bù Đăng centre was seen. The demo's plan gives every commune of
# the area the same rates, turned into counts from its network on 1 January (how a district plan
# implementing Resolution 21-NQ/TW states them): 80 % of hamlets with collaborators at the quota,
# 80 % of the collaborators trained, three supervision visits per collaborator, 90 % attendance at
# the monthly meetings. Bom Bo's plan is revised on 1 July, after its recruitment round, so its
# history shows two versions. With the demo's figures Bom Bo meets some targets and not others.
TARGETS_YEAR = END.year
TARGETS_SOURCE = "Dữ liệu minh hoạ – Kế hoạch công tác dân số năm 2026 của TTYT khu vực Bù Đăng"
TARGETS_NOTE = ("Chỉ tiêu minh hoạ: 80 % thôn/ấp đủ CTV, 80 % CTV được tập huấn, 3 lượt giám sát mỗi CTV, "
                "90 % CTV dự giao ban (tính theo số CTV ngày 01/01); chưa có kế hoạch thật của Đồng Nai.")
BOM_BO_REVISION = (date(TARGETS_YEAR, 7, 1), "60",
                   "Dữ liệu minh hoạ – điều chỉnh sau đợt tuyển chọn CTV tháng 6 (nhiều ấp còn trống).")


def _set_targets(communes: list[Commune], users: dict[str, User], report: NetworkReport) -> None:
    """The area's targets for the demo's year, set by the centre officer through the service
    (``targets.services.set_targets``), flagged illustrative (see above)."""
    import math

    from sqlalchemy.orm import aliased

    from ..targets import services as targets

    actor = users["ttyt_budang"]
    area = [c for c in communes if c.centre.code == CENTRE_CODE]
    first = date(TARGETS_YEAR, 1, 1)
    hamlet = aliased(AdminUnit, name="demo_target_hamlet")
    serving = dict(db.session.execute(
        select(hamlet.parent_id, func.count(func.distinct(Assignment.collaborator_id)))
        .join(hamlet, hamlet.id == Assignment.hamlet_id)
        .where(hamlet.parent_id.in_([c.id for c in area]), Assignment.started_on <= first,
               (Assignment.ended_on.is_(None)) | (Assignment.ended_on > first))
        .group_by(hamlet.parent_id)).all())
    for commune in sorted(area, key=lambda c: c.code):
        people = serving.get(commune.id, 0)
        values = {"hamlets_covered_pct": "80", "collaborators_trained": math.ceil(people * 0.8),
                  "supervision_visits": people * 3, "meeting_attendance_pct": "90"}
        unit = db.session.get(AdminUnit, commune.id)
        version = targets.set_targets(unit, TARGETS_YEAR, values, actor=actor, valid_from=max(first, unit.valid_from),
                                      source=TARGETS_SOURCE, note=TARGETS_NOTE, is_illustrative=True)
        version.created_at = _stamp(date(TARGETS_YEAR - 1, 12, 22), random.Random(commune.code))  # nosec B311 # seeded, reproducible synthetic demo data; no secret is drawn from it
        report.targets += 1
        if commune.code == BOM_BO:
            day, covered, note = BOM_BO_REVISION
            revised = targets.set_targets(unit, TARGETS_YEAR, {**values, "hamlets_covered_pct": covered}, actor=actor,
                                          valid_from=day, source=TARGETS_SOURCE, note=note, is_illustrative=True)
            revised.created_at = _stamp(day - timedelta(days=5), random.Random(commune.code))  # nosec B311 # seeded, reproducible synthetic demo data; no secret is drawn from it
            report.targets += 1


# --- loading ----------------------------------------------------------------------------------------


def _ensure_users(password: str, report: NetworkReport) -> None:
    for username, full_name, facility_code in NETWORK_HEADS:
        if auth_services.get_user_by_username(username) is not None:
            continue
        facility = db.session.scalar(select(Facility).where(Facility.code == facility_code))
        if facility is None:
            continue
        user = auth_services.create_user(username=username, full_name=full_name, password=password)
        auth_services.grant_role(user, Role.STATION_HEAD, facility=facility, valid_from=IMPORT_DAY)
        report.users_created.append(username)


def _already_loaded(province: AdminUnit, pipeline_paths: list[str]) -> bool:
    """The marker: a collaborator outside the pipeline's communes (the pipeline places none)."""
    stmt = select(Assignment.id).where(Assignment.hamlet_path.startswith(province.path, autoescape=True))
    for path in pipeline_paths:
        stmt = stmt.where(~Assignment.hamlet_path.startswith(path, autoescape=True))
    return db.session.scalar(stmt.limit(1)) is not None


def _pipeline_members(communes: list[Commune]) -> list[Member]:
    """The pipeline's collaborators (Bom Bo and its neighbours) as plan entries, so the area's
    meetings, visits and courses include them. The pipeline ends nobody."""
    hamlets = {h.id: h for c in communes if c.code in PIPELINE_COMMUNES for h in c.hamlets}
    if not hamlets:
        return []
    rows = db.session.execute(
        select(Assignment.collaborator_id, Assignment.hamlet_id, Assignment.started_on, Collaborator.candidate_id,
               Candidate.full_name)
        .join(Collaborator, Collaborator.id == Assignment.collaborator_id)
        .join(Candidate, Candidate.id == Collaborator.candidate_id)
        .where(Assignment.hamlet_id.in_(list(hamlets)), Assignment.kind == "primary")
        .order_by(Assignment.started_on, Candidate.search_text)).all()
    members = []
    for cid, hamlet_id, started, candidate_id, name in rows:
        hamlet = hamlets[hamlet_id]
        person = Person(name, "", started, "", "", "", "", False, "", False, None, started)
        member = Member(-1 - len(members), person, hamlet, started, current=hamlet, candidate_id=candidate_id,
                        collaborator_id=cid)
        member.places.append((started, hamlet))
        members.append(member)
    return members


def _ensure_base_salaries(actor: User) -> None:
    """The migration seeds these two rows; a schema built by ``create_all`` (tests) has none."""
    from ..allowances import services as allowances

    for valid_from, amount, basis in BASE_SALARIES:
        if db.session.scalar(select(func.count()).select_from(BaseSalary).where(BaseSalary.valid_from == valid_from)):
            continue
        allowances.set_base_salary(valid_from=valid_from, amount=amount, legal_basis=basis, actor=actor)


def load_network(*, seed: int, password: str, report=None) -> NetworkReport:
    """Create the demo network and its three years (see the module docstring), after the
    pipeline. Flushes; the caller commits. ``report`` (the loader's ``DemoReport``) receives the
    counts when given."""
    result = NetworkReport()
    province = unit_services.find_unit_by_code(PROVINCE_CODE)
    if province is None or province.level != UnitLevel.PROVINCE:
        return _into(report, result)
    _ensure_users(password, result)
    names = ["soyte", "ttyt_budang", "tram_bombo", "dsxa_bombo", *(u for u, _, _ in NETWORK_HEADS),
             "tram_budang", "tram_daknhau"]
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
    if "soyte" not in users or "ttyt_budang" not in users:
        return _into(report, result)
    _ensure_base_salaries(users["soyte"])
    criteria = rs.criteria_for(province) or rs.criteria_for(province, IMPORT_DAY)
    bands = (criteria.quota_bands if criteria  # the pipeline, loaded first, issues the demo's criteria
             else V1_SETTINGS["quota_bands"])
    communes = _communes(province, bands)
    pipeline_paths = [c.path for c in communes if c.code in PIPELINE_COMMUNES]
    if _already_loaded(province, pipeline_paths):
        result.skipped = True
        return _into(report, result)
    used_names = set(db.session.scalars(select(Candidate.full_name)))
    used_ids = set(db.session.scalars(select(Candidate.national_id)))
    used_numbers = {(y, n) for y, n in db.session.execute(select(RecognitionDecision.year, RecognitionDecision.number))}
    # Bandit B311 on the next lines (random): seeded, reproducible synthetic demo data; no secret is drawn from it.
    planner = Planner(random.Random(f"{seed}:network:plan"), communes,  # nosec B311
                      Names(random.Random(f"{seed}:network:names"), used_names, used_ids), users, _district_names(),  # nosec B311
                      used_numbers)
    planner.plan([c for c in communes if c.code not in PIPELINE_COMMUNES])
    assignment_ids = _write_people(planner.members, province, random.Random(f"{seed}:network:write"))  # nosec B311
    paper_handovers = _write_paper_lifecycle(planner, assignment_ids, random.Random(f"{seed}:network:paper"))  # nosec B311
    result.duties = _write_duties(planner.members, random.Random(f"{seed}:network:duties"))  # nosec B311
    result.collaborators_created = len(planner.members)
    result.endings_on_paper = sum(1 for m in planner.members if m.ended is not None and m.ended < IMPORT_DAY)
    result.suspensions = sum(1 for m in planner.members for begins, _ in m.suspensions if begins < IMPORT_DAY)
    area_codes = {c.code for c in communes if c.centre.code == CENTRE_CODE}
    entries = [m for m in planner.members if m.hamlet.commune.code in area_codes] + _pipeline_members(communes)
    replay = Replay(province, communes, planner, users, entries, random.Random(f"{seed}:network:replay"), result)  # nosec B311 # seeded, reproducible synthetic demo data; no secret is drawn from it
    trained = set(db.session.scalars(
        select(Collaborator.id).join(TrainingAttendance, TrainingAttendance.candidate_id == Collaborator.candidate_id)
        .join(TrainingCourse, TrainingCourse.id == TrainingAttendance.course_id)
        .where(TrainingCourse.is_population_work.is_(True), TrainingAttendance.completed.is_(True))))
    replay.trained |= trained
    replay.run(paper_handovers)
    db.session.flush()
    _set_targets(communes, users, result)
    return _into(report, result)


def _into(report, result: NetworkReport) -> NetworkReport:
    if report is not None:
        report.network = result
    return result

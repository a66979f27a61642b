"""The demo recruitment pipeline in Đồng Nai (issue #3 §9): about forty applications in the area of
the Bù Đăng health centre, mostly in Xã Bom Bo, spread over every state the province's settings can
reach, with recognition decisions, rejections with their reasons, and active collaborators.

Everything goes through the real services (``create_application``, ``update_dossier``, ``perform``,
``issue_decision``) acting as the demo users, in date order, so each record is what the application
itself would have produced. Two things make the history read as it happened:

* the criteria: version 1 (from 1/7/2025, the area health centre approves) exists alone while the
  2025 steps run, and version 2 (from 1/1/2026, the station director approves — TT 43/2025/TT-BYT)
  is issued when the simulation reaches 2026. ``perform`` asks for the approver in force *today*,
  so this ordering is what lets 2025 approvals be made by the centre and later ones by the station.
  Both versions are **illustrative** (``is_illustrative``; pages show "Minh hoạ — chưa có văn
  bản"): no Đồng Nai text on quotas or on who approves after 2025 was found (DOMAIN.md §2, §8.3).
  The bands are Gia Lai's preset (QĐ 34/2023/QĐ-UBND), said so in the notes: for the demo's
  synthetic hamlets (80–600 households) they give 1–3 collaborators, in line with the ~251
  households per collaborator reported for Đồng Nai (DOMAIN.md §3.1; its real ấp are larger,
  hence ~4 per ấp there);
* the timestamps: each step's timeline entries (and the application's created/updated times) are
  set to the simulated date and office hour. Audit events keep the real time of loading.

Deterministic for the seed; idempotent (nothing is added when the province already has
applications); fast (a few seconds). Names are synthetic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..auth import services as auth_services
from ..auth.models import Role, User
from ..collaborators.models import Collaborator
from ..extensions import db
from ..recruitment import rules
from ..recruitment import services as rs
from ..recruitment.models import DOSSIER_ITEMS, Application, CriteriaSet
from ..recruitment.workflow import FINAL_STATES, Action, Approver, State
from ..training import services as training
from ..training.models import TrainingCourse
from ..units import services as unit_services
from ..units.models import AdminUnit, Facility, UnitLevel

PROVINCE_CODE = "75"
BOM_BO = "25405"  # Xã Bom Bo, S'tiêng communities (TTYT khu vực Bù Đăng, pre-2025 district 696)
NEIGHBOURS = ("25396", "25399")  # Xã Bù Đăng, Xã Đak Nhau: same area health centre
CENTRE_CODE = "TTYT-696"
REFORM_DAY = date(2025, 7, 1)
V2_FROM = date(2026, 1, 1)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

ILLUSTRATIVE_NOTE = ("Dữ liệu minh hoạ, chưa có văn bản của Đồng Nai: định mức theo mẫu Gia Lai "
                     "(QĐ 34/2023/QĐ-UBND), không phải định mức của Đồng Nai; cấp phê duyệt là giả định. ")
V1_SETTINGS = dict(
    valid_from=REFORM_DAY, quota_bands=rules.QUOTA_PRESETS["gia_lai"], quota_preset="gia_lai",
    approver=Approver.HEALTH_CENTRE, is_illustrative=True,
    note=ILLUSTRATIVE_NOTE + "Từ khi tổ chức chính quyền địa phương hai cấp (01/7/2025): Trạm Y tế xã lựa "
         "chọn, Trung tâm Y tế khu vực thẩm định, phê duyệt và ra quyết định công nhận CTV (như TTYT huyện "
         "trước đây).")
V2_SETTINGS = dict(
    valid_from=V2_FROM, quota_bands=rules.QUOTA_PRESETS["gia_lai"], quota_preset="gia_lai",
    approver=Approver.STATION_DIRECTOR, is_illustrative=True,
    note=ILLUSTRATIVE_NOTE + "Từ 01/01/2026 Trạm Y tế xã là đơn vị sự nghiệp thuộc UBND xã (Thông tư "
         "43/2025/TT-BYT); giả định Giám đốc Trạm Y tế xã phê duyệt và ra quyết định công nhận CTV.")

# Station heads of the neighbouring communes (the loader's users cover Bom Bo only).
EXTRA_HEADS = [
    ("tram_budang", "Nguyễn Văn Phong (Giám đốc TYT xã Bù Đăng)", "TYT-25396"),
    ("tram_daknhau", "Điểu Xiêm (Giám đốc TYT xã Đak Nhau)", "TYT-25399"),
]


@dataclass(frozen=True)
class Batch:
    """A list the station submits and the approver decides together, then one decision."""

    key: str
    submit: date
    decide: date
    decision: date
    contract: date
    activate: date
    number: int


BATCHES = {
    "B1": Batch("B1", date(2025, 8, 25), date(2025, 9, 12), date(2025, 9, 15), date(2025, 9, 22), date(2025, 10, 1), 125),
    "B2": Batch("B2", date(2025, 11, 10), date(2025, 11, 28), date(2025, 12, 2), date(2025, 12, 8), date(2025, 12, 15),
                187),
    "B3": Batch("B3", date(2026, 10, 19), date(2026, 10, 30), date(2026, 11, 4), date(2026, 11, 9), date(2026, 11, 16),
                32),
}

# Where each story ends. "fail_age"/"fail_edu" end screened but failed; "returned_*" end returned.
PERMANENT = {"active", "contracted", "decided", "approved"}


@dataclass(frozen=True)
class Story:
    key: str
    commune: str
    end: str
    start: tuple[date, date]  # window for the nomination date
    batch: str | None = None
    detour: bool = False  # returned once by the approver, corrected, resubmitted
    exception: bool = False  # primary school in a difficult/ethnic hamlet, with justification


BOM_BO_ACTIVE = 9  # collaborators the stories below make active in Bom Bo
BOM_BO_TARGET = 15  # up to this many when Bom Bo has the hamlets for them (~60 % of its quota)


def _stories(extra_bom_bo: int = 0) -> list[Story]:
    """The applications to tell: recognised in batches B1 (2025, centre), B2 (end of 2025, centre)
    and B3 (2026, station director), and open or closed applications of 2026. ``extra_bom_bo``
    more collaborators recognised in 2025 where Bom Bo has room for them."""
    w1 = (date(2025, 7, 7), date(2025, 7, 31))  # nomination windows of the three batches
    w2 = (date(2025, 9, 29), date(2025, 10, 20))
    w3 = (date(2026, 8, 17), date(2026, 9, 15))
    s = [Story(f"X-{i}", BOM_BO, "active", w1 if i % 2 else w2, "B1" if i % 2 else "B2")
         for i in range(1, extra_bom_bo + 1)]
    s += [Story("B1-1", BOM_BO, "active", w1, "B1", exception=True)]
    s += [Story(f"B1-{i}", BOM_BO, "active", w1, "B1") for i in range(2, 6)]
    s += [Story(f"B1-{i}", NEIGHBOURS[0], "active", w1, "B1") for i in range(6, 8)]
    s += [Story("B1-8", BOM_BO, "rejected", w1, "B1"), Story("W25", BOM_BO, "withdrawn_screened", w1)]
    s += [Story("B2-1", BOM_BO, "active", w2, "B2", detour=True), Story("B2-2", BOM_BO, "active", w2, "B2"),
          Story("B2-3", NEIGHBOURS[1], "active", w2, "B2"), Story("B2-4", NEIGHBOURS[0], "rejected", w2, "B2")]
    s += [Story("B3-1", BOM_BO, "active", w3, "B3"), Story("B3-2", BOM_BO, "active", w3, "B3"),
          Story("B3-3", BOM_BO, "contracted", w3, "B3"), Story("B3-4", BOM_BO, "decided", w3, "B3"),
          Story("B3-5", BOM_BO, "rejected", w3, "B3"), Story("B3-6", BOM_BO, "returned_approver", w3, "B3"),
          Story("B3-7", BOM_BO, "withdrawn_submitted", w3, "B3")]
    s += [Story("A26", BOM_BO, "approved", (date(2026, 9, 28), date(2026, 10, 8)))]
    inflight = [  # 2026, under version 2, not decided yet
        ("submitted", (date(2026, 9, 21), date(2026, 10, 12)), [BOM_BO, BOM_BO, NEIGHBOURS[0]]),
        ("reviewed", (date(2026, 10, 1), date(2026, 10, 20)), [BOM_BO, NEIGHBOURS[0]]),
        ("screened", (date(2026, 10, 12), date(2026, 11, 1)), [BOM_BO, NEIGHBOURS[0]]),
        ("fail_age", (date(2026, 10, 12), date(2026, 11, 1)), [BOM_BO]),
        ("fail_edu", (date(2026, 10, 12), date(2026, 11, 1)), [BOM_BO]),
        ("returned_station", (date(2026, 9, 25), date(2026, 10, 20)), [BOM_BO]),
        ("dossier_complete", (date(2026, 10, 26), date(2026, 11, 8)), [BOM_BO, NEIGHBOURS[1]]),
        ("nominated", (date(2026, 11, 5), date(2026, 11, 18)), [BOM_BO, BOM_BO, NEIGHBOURS[0], NEIGHBOURS[1]]),
    ]
    for end, window, communes in inflight:
        s += [Story(f"{end}-{i}", c, end, window) for i, c in enumerate(communes, start=1)]
    return s


# --- names ---------------------------------------------------------------------------------------

KINH_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
               "Ngô", "Dương", "Lý", "Đinh", "Trương"]
KINH_MIDDLE = {"female": ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng"],
               "male": ["Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thanh"]}
KINH_GIVEN = {"female": ["Lan", "Hoa", "Hương", "Mai", "Hạnh", "Nga", "Thảo", "Trang", "Yến", "Linh", "Nhung",
                         "Phượng", "Loan", "Tuyết", "Hiền", "Dung", "Oanh", "Vân", "Thủy", "Hằng"],
              "male": ["Hùng", "Dũng", "Nam", "Tuấn", "Sơn", "Hải", "Long", "Phúc", "Tâm", "Thắng", "Toàn", "Bình"]}
# S'tiêng naming in Bình Phước: men "Điểu" + name, women "Thị" + name (often "Điểu Thị"); some K'
# names are borrowed from neighbouring M'nông/K'ho usage.
STIENG_GIVEN = {"female": ["Bích", "Huệ", "Mơ", "Sa", "Sên", "Nhanh", "Đơn", "Ngư", "Rinh", "Hiên", "Bé", "Ruộng",
                           "K'Lan", "Mlênh"],
                "male": ["Xiêm", "Lương", "Brôl", "Chon", "Dớt", "Khai", "Ponh", "Srai", "Tưng", "Bum", "K'Lang",
                         "K'Brăm", "Rông"]}
NORTHERN = [("Tày", "Hoàng", "Tiếng Tày, Tiếng Việt", "004"), ("Nùng", "Lý", "Tiếng Nùng, Tiếng Việt", "020")]
NOMINATED_BY = ["Trưởng ấp giới thiệu", "Chi hội Phụ nữ ấp giới thiệu", "Tự nguyện đăng ký tại Trạm Y tế",
                "Họp dân ấp đề cử"]
EXPERIENCE = ["Là CTV dân số của ấp giai đoạn 2019–2025", "Chi hội trưởng Chi hội Phụ nữ ấp",
              "Tình nguyện viên tiêm chủng mở rộng của xã", "Từng làm tổ trưởng tổ tự quản"]

MANUAL_NOTES = {
    "RESPONSIBLE": ["Nhiệt tình tham gia các hoạt động của ấp", "Được UBND xã khen thưởng công tác phong trào"],
    "MOBILISES": ["Từng vận động tiêm chủng, khám sàng lọc trong ấp", "Tham gia tuyên truyền phòng chống sốt xuất huyết"],
    "TRUSTED": ["Biên bản họp ấp: đa số hộ dự họp đồng ý", "Trưởng ấp có văn bản giới thiệu"],
    "STABLE_WORK": ["Làm nông, sinh sống ổn định tại ấp", "Buôn bán nhỏ tại nhà, không đi làm xa"],
}
REJECTIONS = {
    "B1": "Ứng viên đang là công nhân cạo mủ cao su làm theo ca ở nông trường, không bảo đảm thời gian giao ban "
          "và thăm hộ; đề nghị trạm giới thiệu người khác.",
    "B2": "Biên bản họp ấp cho thấy chưa được đa số hộ tín nhiệm (12/35 hộ dự họp đồng ý); chưa đủ điều kiện "
          "công nhận.",
    "B3": "Ấp đã đủ số CTV theo định mức sau đợt công nhận này; hồ sơ được lưu để xét khi có vị trí trống.",
}
RETURNS = {
    "detour": "Bản sao CCCD bị mờ, không đọc được số; đề nghị trạm chụp lại bản rõ nét và trình lại.",
    "returned_approver": "Giấy khám sức khỏe đã quá 6 tháng; đề nghị bổ sung giấy khám mới rồi trình lại.",
    "returned_station": "Bổ sung biên bản họp ấp có chữ ký của trưởng ấp; giấy giới thiệu hiện chưa ghi ngày.",
}
WITHDRAWALS = {
    "withdrawn_screened": "Ứng viên xin rút hồ sơ vì chuyển lên Bình Dương làm công nhân.",
    "withdrawn_submitted": "Ứng viên trúng tuyển viên chức Trường Mầm non xã, có đơn xin rút hồ sơ.",
}


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
    nominated_by: str


def national_id(born: date, sex: str, serial: int, province: str = "070") -> str:
    """A CCCD consistent with the birth year and sex (Thông tư 59/2021/TT-BCA, Điều 7)."""
    century = born.year // 100 - 19
    return f"{province}{century * 2 + (1 if sex == 'female' else 0)}{born.year % 100:02d}{serial:06d}"


def _person(rng: random.Random, story: Story, hamlet: AdminUnit, used_ids: set[str], used_names: set[str]) -> Person:
    while True:  # one name per person in the demo, so lists read unambiguously
        person = _draw(rng, story, hamlet, used_ids)
        if person.full_name not in used_names:
            used_names.add(person.full_name)
            return person


def _draw(rng: random.Random, story: Story, hamlet: AdminUnit, used_ids: set[str]) -> Person:
    sex = "female" if rng.random() < 0.78 else "male"
    ethnic_hamlet = hamlet.is_ethnic_minority
    roll = rng.random()
    if ethnic_hamlet and (roll < 0.7 or story.exception):
        given = rng.choice(STIENG_GIVEN[sex])
        name = (rng.choice(["Thị", "Điểu Thị"]) if sex == "female" else "Điểu") + " " + given
        ethnicity, languages, local, origin = "S'tiêng", "Tiếng S'tiêng, Tiếng Việt", True, "070"
    elif roll > 0.9:
        ethnicity, family, languages, origin = rng.choice(NORTHERN)
        name = f"{family} {rng.choice(KINH_MIDDLE[sex])} {rng.choice(KINH_GIVEN[sex])}"
        local = False
    else:
        name = f"{rng.choice(KINH_FAMILY)} {rng.choice(KINH_MIDDLE[sex])} {rng.choice(KINH_GIVEN[sex])}"
        ethnicity, languages, local = "Kinh", "Tiếng Việt", False
        origin = rng.choice(["070", "070", "075", "036", "038", "040"])
    if story.end == "fail_age":
        born = date(2009, rng.randint(1, 12), rng.randint(1, 28))  # 17 at the screening in late 2026
    else:
        born = date(rng.randint(1974, 2004), rng.randint(1, 12), rng.randint(1, 28))
    while True:
        cccd = national_id(born, sex, rng.randint(1, 999999), origin)
        if cccd not in used_ids:
            used_ids.add(cccd)
            break
    if story.exception or story.end == "fail_edu":
        education = "primary"
    else:
        education = rng.choice(["lower_secondary"] * 5 + ["upper_secondary"] * 4 + ["vocational", "college"])
    moved = rng.random() < 0.3 and born.year + 18 <= 2022
    resident_since = (date(rng.randint(max(born.year + 18, 2005), 2022), rng.randint(1, 12), 1) if moved
                      else born)
    return Person(
        full_name=name, sex=sex, born=born, ethnicity=ethnicity, national_id=cccd,
        phone=rng.choice(["09", "03", "08"]) + f"{rng.randint(0, 99999999):08d}", languages=languages,
        speaks_local_language=local, education=education, vhw=rng.random() < 0.2,
        experience=rng.choice(EXPERIENCE) if rng.random() < 0.35 else None, resident_since=resident_since,
        nominated_by=rng.choice(NOMINATED_BY))


# --- placing stories in hamlets -------------------------------------------------------------------


def _place(stories: list[Story], hamlets: dict[str, list[AdminUnit]], bands) -> dict[str, AdminUnit]:
    """Choose a hamlet for each story so every screening that should pass finds a vacancy, and
    Bom Bo ends with a mix: hamlets fully staffed, one partly, one with no collaborator.

    Collaborator-to-be stories (active, contracted, approved) fill hamlets in order up to their
    quota — the last hamlet of each commune is kept without one, the biggest other hamlet one
    short — overflowing to the neighbouring communes. Open applications then go to hamlets that
    will still have a vacancy; failing screenings may go anywhere."""
    order = [BOM_BO, *NEIGHBOURS]
    quota = {h.id: rules.quota_for(h.households or 0, bands) for c in order for h in hamlets[c]}
    room: dict[int, int] = {}
    for code in order:
        hs = hamlets[code]
        for h in hs[:-1]:
            room[h.id] = quota[h.id]
        room[hs[-1].id] = 0
        biggest = max(hs[:-1], key=lambda h: (quota[h.id], -hs.index(h)), default=None)
        if biggest is not None and quota[biggest.id] > 1:
            room[biggest.id] -= 1
    placed: dict[str, AdminUnit] = {}

    def take(story: Story, candidates_of) -> None:
        preferred = [story.commune] + [c for c in order if c != story.commune]
        pools = [h for code in preferred for h in candidates_of(code)]
        if story.exception:  # a difficult/ethnic hamlet if there is one with room
            pools = [h for h in pools if _difficult(h)] + pools
        placed[story.key] = (pools or hamlets[story.commune])[0]

    permanent = sorted((s for s in stories if s.end in PERMANENT), key=lambda s: (s.batch != "B3", not s.exception))
    for story in permanent:
        take(story, lambda code: [h for h in hamlets[code] if room[h.id] > 0])
        room[placed[story.key].id] -= 1
    vacancy = {h.id: quota[h.id] - sum(1 for s in permanent if placed[s.key].id == h.id)
               for c in order for h in hamlets[c]}
    turn = 0
    for story in stories:
        if story.key in placed:
            continue
        if story.end.startswith("fail_"):
            pool = hamlets[story.commune]
            placed[story.key] = pool[turn % len(pool)]
        else:
            def open_hamlets(code, turn=turn):
                pool = [h for h in hamlets[code] if vacancy[h.id] > 0]
                return pool[turn % len(pool):] + pool[:turn % len(pool)] if pool else []
            take(story, open_hamlets)
        turn += 1
    return placed


def _difficult(hamlet: AdminUnit) -> bool:
    return bool(hamlet.is_difficult or hamlet.is_ethnic_minority)


# --- the simulation -------------------------------------------------------------------------------

RANK = {"nominate": 0, "dossier": 1, "complete": 2, "screen": 3, "review": 4, "submit": 5, "decide": 6,
        "decision": 7, "contract": 8, "training": 8, "activate": 9, "withdraw": 10}


@dataclass(order=True)
class Step:
    day: date
    rank: int
    seq: int
    story: str = field(compare=False)
    kind: str = field(compare=False)
    data: dict = field(compare=False, default_factory=dict)


def _plan_steps(rng: random.Random, story: Story, seq: list[int]) -> list[Step]:
    """The dated steps of one story, from nomination to where it ends."""
    steps: list[Step] = []

    def add(day: date, kind: str, **data) -> date:
        seq[0] += 1
        steps.append(Step(day, RANK[kind], seq[0], story.key, kind, data))
        return day

    span = (story.start[1] - story.start[0]).days
    day = add(story.start[0] + timedelta(days=rng.randint(0, span)), "nominate")
    if story.end == "nominated":
        if rng.random() < 0.6:
            add(day + timedelta(days=rng.randint(1, 3)), "dossier", partial=True)
        return steps
    signed = day + timedelta(days=rng.randint(1, 3))
    day = add(signed + timedelta(days=rng.randint(1, 5)), "dossier", signed=signed)
    day = add(day + timedelta(days=rng.randint(0, 1)), "complete")
    if story.end == "dossier_complete":
        return steps
    day = add(day + timedelta(days=rng.randint(1, 3)), "screen")
    if story.end in ("screened", "fail_age", "fail_edu"):
        return steps
    if story.end == "withdrawn_screened":
        add(day + timedelta(days=rng.randint(3, 8)), "withdraw", comment=WITHDRAWALS[story.end])
        return steps
    if story.end == "returned_station":
        add(day + timedelta(days=rng.randint(2, 6)), "decide", action="return", by="head",
            comment=RETURNS["returned_station"])
        return steps
    day = add(day + timedelta(days=rng.randint(2, 6)), "review", ranking=rng.randint(1, 2))
    if story.end == "reviewed":
        return steps
    batch = BATCHES.get(story.batch)
    day = add(batch.submit if batch else day + timedelta(days=rng.randint(1, 5)), "submit")
    if story.end == "submitted":
        return steps
    if story.end == "withdrawn_submitted":
        add(day + timedelta(days=4), "withdraw", comment=WITHDRAWALS[story.end])
        return steps
    if story.detour:  # returned by the approver a few days after the list, corrected, resubmitted
        day = add(day + timedelta(days=4), "decide", action="return", comment=RETURNS["detour"])
        day = add(day + timedelta(days=3), "complete", comment="Đã bổ sung bản sao CCCD rõ nét.")
        day = add(day + timedelta(days=1), "screen")
        day = add(day + timedelta(days=1), "review", ranking=1)
        day = add(day + timedelta(days=1), "submit")
    decide_day = batch.decide if batch else day + timedelta(days=rng.randint(4, 8))
    if story.end == "rejected":
        add(decide_day, "decide", action="reject", comment=REJECTIONS[story.batch])
        return steps
    if story.end == "returned_approver":
        add(decide_day, "decide", action="return", comment=RETURNS["returned_approver"])
        return steps
    add(decide_day, "decide", action="approve")
    if story.end == "approved":
        return steps
    # "decision" steps are shared per batch (planned in load_pipeline); the rest is per story.
    if story.end == "decided":
        return steps
    contract = batch.contract + timedelta(days=rng.randint(0, 2))
    if story.end == "contracted":
        contract = max(contract, date(2026, 11, 18))
    if story.exception:
        add(contract - timedelta(days=2), "training", on=contract - timedelta(days=2))
    add(contract, "contract", on=contract)
    if story.end == "active":
        add(max(batch.activate, contract) + timedelta(days=rng.randint(0, 2)), "activate")
    return steps


def _stamp(rng: random.Random, step: Step) -> datetime:
    """An office hour on the step's day (Vietnam time), later for later steps of the same day."""
    minutes = 7 * 60 + 30 + step.rank * 45 + rng.randint(0, 30)
    return datetime.combine(step.day, time(minutes // 60, minutes % 60), TZ).astimezone(UTC)


@dataclass
class PipelineReport:
    criteria_created: int = 0
    users_created: list[str] = field(default_factory=list)
    applications_created: int = 0
    decisions_created: int = 0
    collaborators_activated: int = 0
    skipped: bool = False


def ensure_criteria(province: AdminUnit, *, upto: date | None = None) -> int:
    """Version 1 (centre approves) and, unless ``upto`` is before 2026, version 2 (station
    director approves). Idempotent: only what is missing is issued."""
    created = 0
    latest = db.session.scalar(select(CriteriaSet).where(CriteriaSet.province_id == province.id)
                               .order_by(CriteriaSet.version.desc()).limit(1))
    if latest is None:
        latest = rs.create_criteria_version(province, **V1_SETTINGS)
        created += 1
    if (upto is None or upto >= V2_FROM) and latest.valid_from < V2_FROM:
        rs.create_criteria_version(province, **V2_SETTINGS)
        created += 1
    return created


def _ensure_users(password: str, report: PipelineReport) -> None:
    for username, full_name, facility_code in EXTRA_HEADS:
        if auth_services.get_user_by_username(username) is not None:
            continue
        facility = db.session.scalar(select(Facility).where(Facility.code == facility_code))
        if facility is None:
            continue
        user = auth_services.create_user(username=username, full_name=full_name, password=password)
        auth_services.grant_role(user, Role.STATION_HEAD, facility=facility, valid_from=REFORM_DAY)
        report.users_created.append(username)


def _user(username: str) -> User:
    return auth_services.get_user_by_username(username)


def load_pipeline(*, seed: int, password: str, report=None) -> PipelineReport:
    """Create the demo pipeline (see the module docstring). Flushes; the caller commits. ``report``
    (the loader's ``DemoReport``) receives the counts when given."""
    result = PipelineReport()
    province = unit_services.find_unit_by_code(PROVINCE_CODE)
    if province is None or province.level != UnitLevel.PROVINCE:
        return result
    _ensure_users(password, result)
    existing = db.session.scalar(select(func.count()).select_from(Application)
                                 .where(Application.hamlet_path.startswith(province.path)))
    if existing:
        result.criteria_created = ensure_criteria(province)
        result.skipped = True
        return _into(report, result)
    result.criteria_created = ensure_criteria(province, upto=REFORM_DAY)
    Simulation(province, seed, result).run()
    result.criteria_created += ensure_criteria(province)
    db.session.flush()
    return _into(report, result)


def _into(report, result: PipelineReport) -> PipelineReport:
    if report is not None:
        report.pipeline = result
    return result


class Simulation:
    """Runs every story's steps in date order through the services."""

    def __init__(self, province: AdminUnit, seed: int, report: PipelineReport):
        self.province, self.report = province, report
        self.rng = random.Random(seed * 7919 + 2026)  # nosec B311 # seeded, reproducible synthetic demo data; no secret is drawn from it
        criteria = rs.criteria_for(province, REFORM_DAY) or rs.criteria_for(province)
        communes = {c: unit_services.find_unit_by_code(c) for c in (BOM_BO, *NEIGHBOURS)}
        self.hamlets = {c: sorted(unit_services.children(u), key=lambda h: (h.local_id or "", h.id))
                        for c, u in communes.items()}
        quota_sum = sum(rules.quota_for(h.households or 0, criteria.quota_bands) for h in self.hamlets[BOM_BO])
        extra = max(0, min(BOM_BO_TARGET, quota_sum * 6 // 10) - BOM_BO_ACTIVE)
        self.stories = {s.key: s for s in _stories(extra)}
        self.place = _place(list(self.stories.values()), self.hamlets, criteria.quota_bands)
        # The primary-school exception holds only in a difficult or ethnic-minority hamlet.
        self.stories = {k: replace(s, exception=s.exception and _difficult(self.place[k]))
                        for k, s in self.stories.items()}
        self.contracts: dict[tuple[str, int], int] = {}
        self.commune_of = {h.id: code for code, hs in self.hamlets.items() for h in hs}
        self.centre = db.session.scalar(select(Facility).where(Facility.code == CENTRE_CODE))
        self.heads = {BOM_BO: _user("tram_bombo"), **{f"{fc[4:]}": _user(u) for u, _, fc in EXTRA_HEADS}}
        self.officer = _user("dsxa_bombo")
        self.centre_officer = _user("ttyt_budang")
        self.apps: dict[str, Application] = {}
        self.people: dict[str, Person] = {}
        used_ids: set[str] = set()
        used_names: set[str] = set()
        for key, story in self.stories.items():
            self.people[key] = _person(self.rng, story, self.place[key], used_ids, used_names)

    # who acts
    def station(self, app: Application) -> User:
        code = self.commune_of[app.hamlet_id]
        return self.officer if code == BOM_BO and self.officer is not None else self.heads[code]

    def head(self, app: Application) -> User:
        return self.heads[self.commune_of[app.hamlet_id]]

    def approver(self, app: Application) -> User:
        if rs.approver_for(app) == Approver.HEALTH_CENTRE:
            return self.centre_officer
        return self.head(app)

    def run(self) -> None:
        seq = [0]
        steps = [st for story in self.stories.values() for st in _plan_steps(self.rng, story, seq)]
        for batch in BATCHES.values():
            seq[0] += 1
            steps.append(Step(batch.decision, RANK["decision"], seq[0], batch.key, "decision"))
        v2_done = False
        for step in sorted(steps):
            if not v2_done and step.day >= V2_FROM:
                self.report.criteria_created += ensure_criteria(self.province)
                v2_done = True
            getattr(self, f"_{step.kind}")(step)

    def _backdate(self, app: Application, step: Step, known: int) -> None:
        at = _stamp(self.rng, step)
        for event in app.events[known:]:
            event.at = at
        app.updated_at = at

    def _do(self, step: Step, action: Action, actor: User, **payload) -> None:
        app = self.apps[step.story]
        known = len(app.events)
        rs.perform(app, action, actor=actor, on=step.day, **payload)
        self._backdate(app, step, known)

    # the steps
    def _nominate(self, step: Step) -> None:
        story, person, hamlet = self.stories[step.story], self.people[step.story], self.place[step.story]
        head = self.heads[self.commune_of[hamlet.id]]
        app = rs.create_application(
            hamlet=hamlet, full_name=person.full_name, date_of_birth=person.born, sex=person.sex,
            ethnicity=person.ethnicity, national_id=person.national_id, residence_hamlet=hamlet,
            education=person.education, phone=person.phone, is_village_health_worker=person.vhw,
            languages=person.languages, speaks_local_language=person.speaks_local_language,
            prior_experience=person.experience, resident_since=person.resident_since,
            nominated_by=f"{person.nominated_by} ({hamlet.name})", actor=head)
        at = _stamp(self.rng, step)
        app.created_at = app.updated_at = app.candidate.created_at = at
        for event in app.events:
            event.at = at
        self.apps[story.key] = app
        self.report.applications_created += 1

    def _dossier(self, step: Step) -> None:
        app, story = self.apps[step.story], self.stories[step.story]
        partial = step.data.get("partial")
        items = {k: (not partial or k in ("application_letter", "id_card")) for k in DOSSIER_ITEMS}
        justification = None
        if story.exception:
            justification = ("Ấp đồng bào S'tiêng, họp ấp không có người tốt nghiệp THCS nhận nhiệm vụ; ứng viên "
                             "biết tiếng S'tiêng, được người dân tín nhiệm. Cam kết tham gia tập huấn trước khi "
                             "hoạt động.")
        known = len(app.events)
        rs.update_dossier(app, items=items, application_signed_on=step.data.get("signed", step.day),
                          exception_justification=justification, actor=self.station(app))
        self._backdate(app, step, known)

    def _training(self, step: Step) -> None:
        """The population-work course a primary-school exception must complete before activation
        (TT 02/2021 Art. 2.1): one two-day course per commune and end day, recorded completed."""
        app = self.apps[step.story]
        commune, ends, actor = app.hamlet.parent, step.data["on"], self.station(app)
        at = _stamp(self.rng, step)
        course = db.session.scalar(select(TrainingCourse).where(
            TrainingCourse.unit_id == commune.id, TrainingCourse.ends_on == ends,
            TrainingCourse.is_population_work.is_(True)))
        if course is None:
            course = training.create_course(
                commune, title="Tập huấn kiến thức, kỹ năng công tác dân số cho CTV mới", organiser=self.centre.name,
                starts_on=ends - timedelta(days=1), ends_on=ends, hours=16, is_population_work=True,
                location=f"Trạm Y tế {commune.full_name}", actor=actor)
            course.created_at = at
        attendance = training.record_attendance(course, candidate=app.candidate, completed=True, actor=actor, on=ends)
        attendance.recorded_at = at

    def _complete(self, step: Step) -> None:
        app = self.apps[step.story]
        self._do(step, Action.COMPLETE_DOSSIER, self.station(app), comment=step.data.get("comment"))

    def _screen(self, step: Step) -> None:
        app = self.apps[step.story]
        self._do(step, Action.SCREEN, self.station(app))

    def _review(self, step: Step) -> None:
        app = self.apps[step.story]
        codes = [c for c in rules.MANUAL_CODES if c in app.criteria_set.enabled_rules]
        checks = {c: {"ok": True, "note": self.rng.choice(MANUAL_NOTES[c])} for c in codes}
        self._do(step, Action.REVIEW, self.head(app), manual_checks=checks,
                 ranking=self._free_ranking(app, step.data.get("ranking")),
                 comment="Đủ tiêu chuẩn, đề nghị trình phê duyệt.")

    @staticmethod
    def _free_ranking(app: Application, wanted: int | None) -> int | None:
        """The station's priority for the candidate, or the next one free in the hamlet: two
        candidates still in the running never share a priority (recruitment.services._review)."""
        if wanted is None:
            return None
        taken = set(db.session.scalars(select(Application.ranking).where(
            Application.hamlet_id == app.hamlet_id, Application.id != app.id, Application.ranking.is_not(None),
            Application.state.not_in([s.value for s in FINAL_STATES]))))
        ranking = wanted
        while ranking in taken:
            ranking += 1
        return ranking

    def _submit(self, step: Step) -> None:
        app = self.apps[step.story]
        self._do(step, Action.SUBMIT, self.head(app), comment="Trình danh sách CTV đề nghị công nhận.")

    def _decide(self, step: Step) -> None:
        app = self.apps[step.story]
        action = step.data["action"]
        actor = self.head(app) if step.data.get("by") == "head" else self.approver(app)
        self._do(step, Action(action), actor, comment=step.data.get("comment"))

    def _withdraw(self, step: Step) -> None:
        app = self.apps[step.story]
        self._do(step, Action.WITHDRAW, self.head(app), comment=step.data["comment"])

    def _decision(self, step: Step) -> None:
        """One recognition decision per approver for the batch's approved applications."""
        batch = BATCHES[step.story]
        groups: dict[int, list[Application]] = {}
        approvers: dict[int, User] = {}
        for key, story in self.stories.items():
            app = self.apps.get(key)
            if story.batch == batch.key and app is not None and app.state == State.APPROVED and app.decision_id is None:
                actor = self.approver(app)
                groups.setdefault(actor.id, []).append(app)
                approvers[actor.id] = actor
        for i, (actor_id, apps) in enumerate(sorted(groups.items())):
            actor = approvers[actor_id]
            if rs.approver_for(apps[0]) == Approver.HEALTH_CENTRE:
                issuer, facility, suffix = self.centre.name, self.centre, "QĐ-TTYT"
                signer, title = "Nguyễn Hữu Phước", f"Giám đốc {self.centre.name}"
            else:
                commune = db.session.get(AdminUnit, apps[0].hamlet.parent_id)
                facility = db.session.scalar(select(Facility).where(Facility.code == f"TYT-{commune.code}"))
                issuer, suffix = facility.name, "QĐ-TYT"
                signer, title = actor.full_name.split(" (")[0], f"Giám đốc {facility.name}"
            known = {a.id: len(a.events) for a in apps}
            decision = rs.issue_decision(apps, number=f"{batch.number + i}/{suffix}", issued_on=batch.decision,
                                         signer_name=signer, signer_title=title, issuer_name=issuer,
                                         issuer_facility=facility, actor=actor)
            decision.created_at = _stamp(self.rng, step)
            for a in apps:
                self._backdate(a, step, known[a.id])
            self.report.decisions_created += 1

    def _contract(self, step: Step) -> None:
        app = self.apps[step.story]
        hamlet = self.place[step.story]
        tier = "Mức thôn/ấp đặc biệt khó khăn" if hamlet.is_difficult else "Mức chung"
        actor = self.approver(app)
        signer = "TTYT" if actor is self.centre_officer else f"TYT-{self.commune_of[hamlet.id]}"
        self.contracts[(signer, step.day.year)] = n = self.contracts.get((signer, step.day.year), 0) + 1
        number = f"{n:02d}/{step.day.year}/HĐTN-{signer.split('-')[0]}"
        self._do(step, Action.CONTRACT, actor, contract_date=step.data["on"], allowance_tier=tier,
                 contract_number=number, comment="Ký hợp đồng trách nhiệm.")

    def _activate(self, step: Step) -> None:
        app = self.apps[step.story]
        self._do(step, Action.ACTIVATE, self.head(app), comment="Bắt đầu hoạt động, nhận sổ A0 của ấp.")
        collaborator = db.session.scalar(select(Collaborator).where(Collaborator.application_id == app.id))
        if collaborator is not None:
            collaborator.created_at = _stamp(self.rng, step)
        self.report.collaborators_activated += 1


"""Eligibility rules for population collaborators: pure functions over plain values.

Each rule cites its source. The national standard is Thông tư 02/2021/TT-BYT (in force
10/03/2021) Art. 2; quotas are provincial (Gia Lai QĐ 34/2023/QĐ-UBND, Hải Dương NQ 2022); rules
marked [PROP] are our proposals, made province settings because no text requires them
(DOMAIN.md §7.1). Nothing here touches the database, so every rule is tested with plain values.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from .models import Education


class RuleKind(enum.StrEnum):
    AUTOMATIC = "automatic"  # checked by the app; a failure blocks approval
    MANUAL = "manual"  # confirmed by the station head with a note
    PRIORITY = "priority"  # shown to reviewers, never blocking
    EXTENSION = "extension"  # optional per province, off by default


@dataclass(frozen=True)
class Rule:
    code: str
    kind: RuleKind
    label: object  # lazy Vietnamese string
    source: str
    default_on: bool = True


RULES: dict[str, Rule] = {r.code: r for r in [
    Rule("EDU_MIN", RuleKind.AUTOMATIC, _l("Tốt nghiệp THCS trở lên (hoặc hoàn thành tiểu học ở thôn khó khăn/DTTS, "
                                           "có giải trình và phải được tập huấn trước khi hoạt động)"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 1"),
    Rule("RESIDES_IN_HAMLET", RuleKind.AUTOMATIC, _l("Đang sinh sống tại thôn/tổ dân phố đảm nhận"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 2"),
    Rule("VOLUNTARY", RuleKind.AUTOMATIC, _l("Có đơn tình nguyện đã ký"), "TT 02/2021/TT-BYT, Điều 2"),
    Rule("HEALTH_OK", RuleKind.AUTOMATIC, _l("Có giấy tờ chứng minh đủ sức khỏe"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 4"),
    Rule("ADULT", RuleKind.AUTOMATIC, _l("Đủ tuổi tối thiểu để ký hợp đồng trách nhiệm"),
         "Đề xuất (cấu hình của tỉnh); TT 02/2021 không quy định tuổi"),
    Rule("QUOTA", RuleKind.AUTOMATIC, _l("Thôn/tổ dân phố chưa đủ số CTV theo định mức số hộ"),
         "Quy định của tỉnh (vd. Gia Lai QĐ 34/2023/QĐ-UBND)"),
    Rule("SINGLE_ACTIVE", RuleKind.AUTOMATIC, _l("Không đang là CTV hoạt động ở thôn khác"),
         "Đề xuất (cấu hình của tỉnh)"),
    Rule("RESPONSIBLE", RuleKind.MANUAL, _l("Có tinh thần trách nhiệm, nhiệt tình với công tác xã hội"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 2"),
    Rule("MOBILISES", RuleKind.MANUAL, _l("Có khả năng vận động quần chúng"), "TT 02/2021/TT-BYT, Điều 2 khoản 2"),
    Rule("TRUSTED", RuleKind.MANUAL, _l("Được cộng đồng tín nhiệm (trưởng thôn giới thiệu hoặc biên bản họp thôn)"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 2"),
    Rule("STABLE_WORK", RuleKind.MANUAL, _l("Làm việc ổn định tại thôn, không thường xuyên đi làm xa"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 2"),
    Rule("VHW", RuleKind.PRIORITY, _l("Là nhân viên y tế thôn bản (ưu tiên kiêm nhiệm)"),
         "TT 02/2021/TT-BYT, Điều 2 khoản 3"),
    Rule("LOCAL_LANGUAGE", RuleKind.PRIORITY, _l("Biết tiếng dân tộc tại địa phương"), "Đề xuất, theo thực tiễn"),
    Rule("EXPERIENCE", RuleKind.PRIORITY, _l("Đã có kinh nghiệm làm CTV hoặc công tác cộng đồng"),
         "Đề xuất, theo thực tiễn (Minh Long, Quảng Ngãi)"),
    Rule("MAX_AGE", RuleKind.EXTENSION, _l("Không quá tuổi tối đa do tỉnh quy định"),
         "Mở rộng tuỳ chọn của tỉnh", default_on=False),
    Rule("MIN_RESIDENCE", RuleKind.EXTENSION, _l("Cư trú tại thôn đủ số tháng tối thiểu do tỉnh quy định"),
         "Mở rộng tuỳ chọn của tỉnh", default_on=False),
]}

DEFAULT_ENABLED = [code for code, rule in RULES.items() if rule.default_on and rule.kind != RuleKind.PRIORITY]
MANUAL_CODES = [code for code, rule in RULES.items() if rule.kind == RuleKind.MANUAL]

# Quota presets: [[upper bound of households or None, collaborators], ...].
QUOTA_PRESETS: dict[str, list[list[int | None]]] = {
    "gia_lai": [[200, 1], [400, 2], [None, 3]],  # QĐ 34/2023/QĐ-UBND Gia Lai
    "hai_duong": [[499, 1], [None, 2]],  # NQ 2022 HĐND Hải Dương: <500 → 1, ≥500 → 2
}

# Candidates for one hamlet are ranked 1, 2, 3… by the station (Art. 2.3 priority); more is a typo.
MAX_RANKING = 99


@dataclass(frozen=True)
class Result:
    code: str
    passed: bool | None  # None: not applicable / shown only
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Facts:
    """Everything screening needs, as plain values (gathered by the service)."""

    education: Education
    date_of_birth: date
    residence_hamlet_id: int
    hamlet_id: int
    hamlet_difficult_or_ethnic: bool
    hamlet_households: int
    active_in_hamlet: int
    active_elsewhere: int
    application_signed: bool
    health_evidence: bool
    exception_justification: str
    is_village_health_worker: bool
    speaks_local_language: bool
    prior_experience: bool
    resident_months: int | None
    on: date


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def quota_for(households: int, bands: Sequence[Sequence[int | None]]) -> int:
    """Collaborators a hamlet may have for its households (province bands, ascending). At least
    one per hamlet (TT 02/2021/TT-BYT)."""
    for upper, count in bands:
        if upper is None or households <= upper:
            return max(1, int(count))
    return max(1, int(bands[-1][1])) if bands else 1


def validate_bands(bands: Sequence[Sequence[int | None]]) -> list[str]:
    """Problems with a band table: ascending bounds, positive counts, the last open-ended."""
    problems = []
    if not bands:
        return [str(_l("Cần ít nhất một bậc định mức."))]
    last = 0
    for i, (upper, count) in enumerate(bands):
        if not isinstance(count, int) or count < 1:
            problems.append(str(_l("Bậc %(n)d: số CTV phải là số nguyên ≥ 1.", n=i + 1)))
        if upper is None and i != len(bands) - 1:
            problems.append(str(_l("Chỉ bậc cuối cùng được để trống giới hạn số hộ.")))
        if upper is not None and (not isinstance(upper, int) or upper <= last):
            problems.append(str(_l("Bậc %(n)d: giới hạn số hộ phải tăng dần.", n=i + 1)))
        last = upper or last
    if bands[-1][0] is not None:
        problems.append(str(_l("Bậc cuối cùng phải không giới hạn số hộ.")))
    return problems


def check_education(education: Education, difficult_or_ethnic: bool, justification: str) -> Result:
    """TT 02/2021 Art. 2.1: THCS or higher; primary school only in a difficult or ethnic-minority
    hamlet where no one with THCS is available (written justification), and such a collaborator
    must be trained in population work before starting (checked again at activation)."""
    if education.rank >= Education.LOWER_SECONDARY.rank:
        return Result("EDU_MIN", True, str(_l("Đạt trình độ THCS trở lên.")))
    if education == Education.PRIMARY and difficult_or_ethnic and justification.strip():
        return Result("EDU_MIN", True, str(_l("Ngoại lệ tiểu học ở thôn khó khăn/DTTS; bắt buộc tập huấn "
                                              "công tác dân số trước khi hoạt động.")))
    if education == Education.PRIMARY and difficult_or_ethnic:
        return Result("EDU_MIN", False, str(_l("Trình độ tiểu học: cần giải trình không có người đạt THCS.")))
    return Result("EDU_MIN", False, str(_l("Chưa đạt trình độ THCS.")))


def check_residence(residence_hamlet_id: int, hamlet_id: int) -> Result:
    """TT 02/2021 Art. 2.2: lives and works stably in the hamlet served."""
    ok = residence_hamlet_id == hamlet_id
    return Result("RESIDES_IN_HAMLET", ok, str(_l("Cư trú tại thôn.") if ok else _l("Không cư trú tại thôn này.")))


def check_age(born: date, on: date, min_age: int, max_age: int | None) -> list[Result]:
    age = age_on(born, on)
    results = [Result("ADULT", age >= min_age, str(_l("%(a)d tuổi (tối thiểu %(m)d).", a=age, m=min_age)))]
    if max_age is not None:
        results.append(Result("MAX_AGE", age <= max_age, str(_l("%(a)d tuổi (tối đa %(m)d).", a=age, m=max_age))))
    return results


def check_quota(active_in_hamlet: int, households: int, bands) -> Result:
    quota = quota_for(households, bands)
    ok = active_in_hamlet < quota
    return Result("QUOTA", ok, str(_l("%(n)d/%(q)d CTV đang hoạt động (%(h)d hộ).", n=active_in_hamlet,
                                      q=quota, h=households)))


def screen(facts: Facts, *, enabled: Sequence[str], bands, min_age: int, max_age: int | None,
           min_residence_months: int | None) -> list[Result]:
    """Run every enabled automatic rule and list the priority flags. The order is the order of
    :data:`RULES`, so screens read the same everywhere."""
    on = set(enabled)
    results: list[Result] = []
    if "EDU_MIN" in on:
        results.append(check_education(facts.education, facts.hamlet_difficult_or_ethnic, facts.exception_justification))
    if "RESIDES_IN_HAMLET" in on:
        results.append(check_residence(facts.residence_hamlet_id, facts.hamlet_id))
    if "VOLUNTARY" in on:
        results.append(Result("VOLUNTARY", facts.application_signed, str(
            _l("Đơn tình nguyện đã ký.") if facts.application_signed else _l("Chưa có đơn tình nguyện đã ký."))))
    if "HEALTH_OK" in on:
        results.append(Result("HEALTH_OK", facts.health_evidence, str(
            _l("Có giấy tờ sức khỏe.") if facts.health_evidence else _l("Chưa có giấy tờ sức khỏe."))))
    if "ADULT" in on:
        results.extend(check_age(facts.date_of_birth, facts.on, min_age, max_age if "MAX_AGE" in on else None))
    if "QUOTA" in on:
        results.append(check_quota(facts.active_in_hamlet, facts.hamlet_households, bands))
    if "SINGLE_ACTIVE" in on:
        ok = facts.active_elsewhere == 0
        results.append(Result("SINGLE_ACTIVE", ok, str(
            _l("Không đang là CTV ở nơi khác.") if ok else _l("Đang là CTV hoạt động ở thôn khác."))))
    if "MIN_RESIDENCE" in on and min_residence_months:
        months = facts.resident_months
        ok = months is not None and months >= min_residence_months
        results.append(Result("MIN_RESIDENCE", ok, str(_l("Cư trú %(n)s tháng (tối thiểu %(m)d).",
                                                            n=months if months is not None else "?",
                                                            m=min_residence_months))))
    results.append(Result("VHW", None, str(_l("Có") if facts.is_village_health_worker else _l("Không"))))
    results.append(Result("LOCAL_LANGUAGE", None, str(_l("Có") if facts.speaks_local_language else _l("Không"))))
    results.append(Result("EXPERIENCE", None, str(_l("Có") if facts.prior_experience else _l("Không"))))
    return results


def passed(results: Sequence[Result | dict]) -> bool:
    """Screening passes when no blocking rule failed (priority flags never block)."""
    for r in results:
        value = r["passed"] if isinstance(r, dict) else r.passed
        if value is False:
            return False
    return True


def needs_training_before_activation(education: Education) -> bool:
    """The primary-school exception requires population-work training first (TT 02/2021 Art. 2.1)."""
    return education.rank < Education.LOWER_SECONDARY.rank

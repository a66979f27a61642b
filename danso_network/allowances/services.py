"""Allowances (chi bồi dưỡng) of collaborators: the national base salary, the province's allowance
rules, the province's network policy, and the monthly allowance sheet (issue #4 item 5).

Rules and their sources:
- The monthly allowance is set by each provincial HĐND (DOMAIN.md §3.3): a fixed amount (e.g.
  450,000 đ, Quảng Ngãi NQ 35/2021/NQ-HĐND; 600,000 đ in a phường and 700,000 đ in a xã or đặc khu,
  TP HCM NQ 33/2025/NQ-HĐND) or a coefficient × the base salary (e.g. 0.25 × in ethnic-minority and
  mountain zones, 0.2 × elsewhere, 0.125 × for a village health worker who is also a collaborator,
  Bình Phước draft NQ 2022), varying by commune type, difficult/ethnic zone and village-health-worker
  concurrency (Lạng Sơn NQ 25/2021/NQ-HĐND: 450,000 đ, or 250,000 đ where the hamlet has one).
- The base salary (lương cơ sở) is national and effective-dated: 1,800,000 đ from 1/7/2023
  (NĐ 24/2023/NĐ-CP), 2,340,000 đ from 1/7/2024 (NĐ 73/2024/NĐ-CP).
- Pro rata (a proposal of this project, DOMAIN.md §7.2 spirit: a collaborator is paid for the days
  of the month they serve): amount = full monthly amount × active days ÷ days in the month, rounded
  half-up to the đồng. Active days are the days the assignment is in force (started_on ≤ d <
  ended_on) minus the days suspended (started_on ≤ d < ended_on of the suspension).
- When the rule or the base salary changes within the month, the days are split by what is in force
  on each day and the parts summed before rounding once per line.
- An additional (kiêm nhiệm) hamlet is paid only when the province's network policy in force on the
  last day of the month says so (``pay_additional_hamlet``).
- A rule may be restricted to collaborators holding (or not) "kiêm công tác gia đình và trẻ em"
  (``AllowanceRule.family_children_duty``; Đồng Nai's title, DOMAIN.md §0.4, amounts unverified
  §8.7). A sheet line counts as holding it when the duty was in force on **at least one day of
  the month** (our choice: the month's allowance is one amount per case, and a duty given with
  the recognition decision mid-month, or ended mid-month, was still carried out that month;
  the profile, which shows one day, uses that day).

A sheet page never computes every line: its totals come from one SQL aggregation over what decides
an amount, its lines from LIMIT/OFFSET (:func:`sheet_page`); files and prints stream every line
(:func:`iter_sheet`). The predicates on who may read these live in :mod:`.permissions`.

Services follow DESIGN.md §4: guard → mutate → audit record → flush; they never commit.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, distinct, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, defer

from ..audit.services import record, snapshot
from ..auth.models import User
from ..collaborators.models import (
    Assignment,
    AssignmentKind,
    Collaborator,
    CollaboratorDuty,
    DutyKind,
    NetworkPolicy,
    Suspension,
)
from ..collaborators.policy import policy_for, province_id_of
from ..common import clock
from ..common.dates import check_effective_date
from ..common.paging import PER_PAGE, Page, clamp
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..recruitment.models import Candidate
from ..units.models import AdminUnit, UnitLevel, UnitType
from ..units.services import bytewise, in_areas
from .models import AllowanceBasis, AllowanceRule, BaseSalary, CommuneCategory, Zone
from .permissions import can_view_sheet

MAX_AMOUNT = 100_000_000  # đồng per month: far above any resolution, catches a typo of extra zeros
MAX_BASE_SALARY = 1_000_000_000
MAX_COEFFICIENT = Decimal("99.9999")  # the column is Numeric(6, 4)
COEFFICIENT_STEP = Decimal("0.0001")
MAX_VISIT_INTERVAL_DAYS = 366
MAX_MISSED_MEETINGS = 12
# The base salary (mức lương cơ sở) exists since 1/7/2013 (Nghị định 66/2013/NĐ-CP); no rule or
# salary of this app can start before it.
BASE_SALARY_SINCE = date(2013, 7, 1)

RULE_AUDIT_FIELDS = ["province_id", "valid_from", "valid_to", "commune_category", "zone", "vhw_concurrent",
                     "family_children_duty", "basis", "amount", "coefficient", "legal_basis", "note",
                     "is_illustrative"]
POLICY_AUDIT_FIELDS = ["province_id", "valid_from", "allow_additional_hamlet", "pay_additional_hamlet",
                       "visit_interval_days", "missed_meetings_for_review", "legal_basis", "is_illustrative"]

# Commune types as allowance resolutions group them: a former thị trấn counts as a xã
# (TP HCM NQ 33/2025 pays xã and đặc khu alike; resolutions before 2025 paid thị trấn like xã).
COMMUNE_CATEGORY_OF_TYPE = {
    UnitType.XA.value: CommuneCategory.XA,
    UnitType.THI_TRAN.value: CommuneCategory.XA,
    UnitType.PHUONG.value: CommuneCategory.PHUONG,
    UnitType.DAC_KHU.value: CommuneCategory.DAC_KHU,
}


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    """The last day of the month of ``month``."""
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def round_half_up(value) -> int:
    """Round to the đồng, halves up (248,387.096… → 248,387; 0.5 → 1), on exact decimals."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(amount: int | None) -> str:
    """1234567 → "1.234.567 đ" (Vietnamese thousands separator), for notes and messages."""
    if amount is None:
        return "—"
    return f"{amount:,} đ".replace(",", ".")


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def commune_category_of(commune: AdminUnit | None) -> CommuneCategory | None:
    return COMMUNE_CATEGORY_OF_TYPE.get(commune.type) if commune is not None else None


def zone_of(hamlet: AdminUnit) -> Zone:
    """The hamlet's zone: difficult when it is marked especially difficult or ethnic-minority
    (the rule looks at the hamlet, not the commune: Bình Phước draft 2022, zones I–III)."""
    return Zone.DIFFICULT if hamlet.is_difficult or hamlet.is_ethnic_minority else Zone.NORMAL


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


# --- base salary --------------------------------------------------------------------------------


def base_salaries() -> list[BaseSalary]:
    """Every base salary row, latest first."""
    return list(db.session.scalars(select(BaseSalary).order_by(BaseSalary.valid_from.desc())))


def base_salary_on(day: date) -> BaseSalary | None:
    """The base salary in force on ``day``: the latest row whose ``valid_from`` is on or before it."""
    return db.session.scalar(select(BaseSalary).where(BaseSalary.valid_from <= day)
                             .order_by(BaseSalary.valid_from.desc()).limit(1))


def set_base_salary(*, valid_from: date, amount: int, legal_basis: str, actor) -> BaseSalary:
    """Record a new base salary (lương cơ sở) from ``valid_from``, e.g. 2,340,000 đ from 1/7/2024
    (NĐ 73/2024/NĐ-CP). One row per date; a row is never changed (a later decree adds a row). The
    date is bounded (``common.dates``): from :data:`BASE_SALARY_SINCE` to two years ahead."""
    legal_basis = _clean(legal_basis)
    check_effective_date(valid_from, earliest=BASE_SALARY_SINCE)
    if amount is None or amount <= 0:
        raise ValidationFailed(_l("Mức lương cơ sở phải lớn hơn 0."), field="amount")
    if amount > MAX_BASE_SALARY:
        raise ValidationFailed(_l("Mức lương cơ sở quá lớn; vui lòng kiểm tra lại số tiền."), field="amount")
    if not legal_basis:
        raise ValidationFailed(_l("Vui lòng nhập căn cứ (số nghị định)."), field="legal_basis")
    existing = db.session.scalar(select(BaseSalary).where(BaseSalary.valid_from == valid_from))
    if existing is not None:
        raise ValidationFailed(
            _l("Đã có mức lương cơ sở %(a)s áp dụng từ ngày %(d)s (%(b)s). Mỗi ngày chỉ có một mức.",
               a=money(existing.amount), d=_vn(valid_from), b=existing.legal_basis), field="valid_from")
    row = BaseSalary(valid_from=valid_from, amount=amount, legal_basis=legal_basis, created_at=clock.now(),
                     created_by_id=getattr(actor, "id", None))
    db.session.add(row)
    record("base_salary.set", row, label=f"{money(amount)} – {_vn(valid_from)}",
           after=snapshot(row, ["valid_from", "amount", "legal_basis"]), actor=actor)
    try:
        db.session.flush()
    except IntegrityError as e:
        raise Conflict(_l("Mức lương cơ sở cho ngày này vừa được người khác ghi. Vui lòng tải lại trang.")) from e
    return row


# --- allowance rules ----------------------------------------------------------------------------


def allowance_rules(province: AdminUnit | int) -> list[AllowanceRule]:
    """Every rule of the province (current, ended and future), latest first."""
    province_id = province if isinstance(province, int) else province.id
    return list(db.session.scalars(
        select(AllowanceRule).where(AllowanceRule.province_id == province_id)
        .order_by(AllowanceRule.valid_from.desc(), AllowanceRule.commune_category, AllowanceRule.zone,
                  AllowanceRule.vhw_concurrent, AllowanceRule.family_children_duty, AllowanceRule.id)))


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _overlaps(valid_from: date, valid_to: date | None):
    """SQL: the rule's period [valid_from, valid_to) overlaps the given one (None = open)."""
    conds = [or_(AllowanceRule.valid_to.is_(None), AllowanceRule.valid_to > valid_from)]
    if valid_to is not None:
        conds.append(AllowanceRule.valid_from < valid_to)
    return and_(*conds)


def _coefficient(value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as e:
        raise ValidationFailed(_l("Hệ số không hợp lệ."), field="coefficient") from e


def create_allowance_rule(province: AdminUnit, *, valid_from: date, valid_to: date | None = None,
                          commune_category: str | None = None, zone: str | None = None,
                          vhw_concurrent: bool | None = None, basis: str, amount: int | None = None,
                          coefficient=None, legal_basis: str, note: str | None = None, actor,
                          family_children_duty: bool | None = None,
                          is_illustrative: bool = False) -> AllowanceRule:
    """Add one line of the province's allowance resolution (DOMAIN.md §3.3). A condition left
    None matches every case (``family_children_duty``: holding "kiêm công tác gia đình và trẻ em"
    during the month, or not). Refused (nothing written): another rule of the province for the same
    case (same four conditions) whose period overlaps; an end on or before the start; a fixed rule
    without an amount or a coefficient rule without a coefficient (or with both); negative values;
    a coefficient rule starting on a day with no base salary recorded (the amount could not be
    computed); a start or an end outside the bounds of ``common.dates`` (from
    :data:`BASE_SALARY_SINCE` to two years ahead): an end cannot be moved and rules of one case
    never overlap, so a year-9999 date would block every later rule for the case.
    ``is_illustrative``: no resolution was seen for it (demo data), labelled so on every page."""
    legal_basis, note = _clean(legal_basis), _clean(note)
    check_effective_date(valid_from, earliest=BASE_SALARY_SINCE)
    if valid_to is not None:
        check_effective_date(valid_to, field="valid_to", earliest=BASE_SALARY_SINCE)
    coefficient = _coefficient(coefficient)
    if province.level != UnitLevel.PROVINCE:
        raise ValidationFailed(_l("Mức bồi dưỡng chỉ được ban hành cho tỉnh/thành phố."))
    if basis not in {b.value for b in AllowanceBasis}:
        raise ValidationFailed(_l("Cách tính không hợp lệ."), field="basis")
    if commune_category is not None and commune_category not in {c.value for c in CommuneCategory}:
        raise ValidationFailed(_l("Loại xã/phường không hợp lệ."), field="commune_category")
    if zone is not None and zone not in {z.value for z in Zone}:
        raise ValidationFailed(_l("Vùng không hợp lệ."), field="zone")
    if valid_to is not None and valid_to <= valid_from:
        raise ValidationFailed(_l("Ngày hết hiệu lực phải sau ngày có hiệu lực."), field="valid_to")
    if not legal_basis:
        raise ValidationFailed(_l("Vui lòng nhập căn cứ (số nghị quyết HĐND)."), field="legal_basis")
    if basis == AllowanceBasis.FIXED:
        if amount is None:
            raise ValidationFailed(_l("Mức cố định: vui lòng nhập số tiền mỗi tháng."), field="amount")
        if coefficient is not None:
            raise ValidationFailed(_l("Mức cố định không dùng hệ số; chỉ nhập số tiền."), field="coefficient")
        if amount < 0:
            raise ValidationFailed(_l("Số tiền không được âm."), field="amount")
        if amount > MAX_AMOUNT:
            raise ValidationFailed(_l("Số tiền quá lớn; vui lòng kiểm tra lại."), field="amount")
    else:
        if coefficient is None:
            raise ValidationFailed(_l("Theo hệ số: vui lòng nhập hệ số so với lương cơ sở."), field="coefficient")
        if amount is not None:
            raise ValidationFailed(_l("Mức theo hệ số không nhập số tiền; chỉ nhập hệ số."), field="amount")
        if coefficient < 0:
            raise ValidationFailed(_l("Hệ số không được âm."), field="coefficient")
        if coefficient > MAX_COEFFICIENT or coefficient != coefficient.quantize(COEFFICIENT_STEP):
            raise ValidationFailed(_l("Hệ số tối đa 99,9999 và tối đa 4 chữ số thập phân."), field="coefficient")
        if base_salary_on(valid_from) is None:
            raise ValidationFailed(
                _l("Chưa có mức lương cơ sở áp dụng ngày %(d)s: hãy nhập lương cơ sở trước khi ban hành mức "
                   "theo hệ số.", d=_vn(valid_from)), field="valid_from")
    clash = db.session.scalar(
        select(AllowanceRule).where(
            AllowanceRule.province_id == province.id, _same(AllowanceRule.commune_category, commune_category),
            _same(AllowanceRule.zone, zone), _same(AllowanceRule.vhw_concurrent, vhw_concurrent),
            _same(AllowanceRule.family_children_duty, family_children_duty), _overlaps(valid_from, valid_to))
        .order_by(AllowanceRule.valid_from).limit(1))
    if clash is not None:
        until = _l("không thời hạn") if clash.valid_to is None else _vn(clash.valid_to)
        raise ValidationFailed(
            _l("Trùng thời gian với mức đã có cho cùng trường hợp (từ %(f)s đến %(t)s, %(b)s). Hãy kết thúc "
               "mức cũ trước (ngày hết hiệu lực = ngày mức mới có hiệu lực).",
               f=_vn(clash.valid_from), t=until, b=clash.legal_basis), field="valid_from")
    rule = AllowanceRule(province_id=province.id, valid_from=valid_from, valid_to=valid_to,
                         commune_category=commune_category, zone=zone, vhw_concurrent=vhw_concurrent,
                         family_children_duty=family_children_duty, basis=basis,
                         amount=amount if basis == AllowanceBasis.FIXED else None,
                         coefficient=coefficient if basis == AllowanceBasis.COEFFICIENT else None,
                         legal_basis=legal_basis, note=note, is_illustrative=bool(is_illustrative),
                         created_at=clock.now(), created_by_id=getattr(actor, "id", None))
    db.session.add(rule)
    record("allowance_rule.create", rule, label=f"{province.name}: {legal_basis}", unit_path=province.path,
           after=snapshot(rule, RULE_AUDIT_FIELDS), actor=actor)
    db.session.flush()
    return rule


def end_allowance_rule(rule: AllowanceRule, *, valid_to: date, actor) -> AllowanceRule:
    """Set the end of an open rule (valid until the day before ``valid_to``), e.g. when a new
    resolution replaces it. The only change ever made to a rule: its amounts stay as issued."""
    if rule.valid_to is not None:
        raise ValidationFailed(_l("Mức này đã hết hiệu lực từ %(d)s; không thể kết thúc lại.", d=_vn(rule.valid_to)),
                               field="valid_to")
    if valid_to is None or valid_to <= rule.valid_from:
        raise ValidationFailed(_l("Ngày hết hiệu lực phải sau ngày có hiệu lực (%(d)s).", d=_vn(rule.valid_from)),
                               field="valid_to")
    check_effective_date(valid_to, field="valid_to", earliest=BASE_SALARY_SINCE)
    before = snapshot(rule, RULE_AUDIT_FIELDS)
    rule.valid_to = valid_to
    record("allowance_rule.end", rule, label=f"{rule.province.name}: {rule.legal_basis}", unit_path=rule.province.path,
           before=before, after=snapshot(rule, RULE_AUDIT_FIELDS), actor=actor)
    db.session.flush()
    return rule


def _specificity(rule: AllowanceRule) -> tuple:
    """Most conditions first; between rules with as many conditions, the condition on "kiêm
    công tác gia đình và trẻ em" ranks first (it names the job being paid for), then the VHW
    condition, then the zone, then the commune type. So in the Bình Phước draft (0.25× in
    ethnic zones, 0.125× for a VHW) a VHW in an ethnic zone gets the VHW rate, as the draft
    intends; a province wanting otherwise adds the combined rule (zone + VHW), which wins by
    having more conditions. Two matching rules never tie: with the same conditions set they
    would be the same case, which may not overlap in time."""
    flags = (rule.family_children_duty is not None, rule.vhw_concurrent is not None, rule.zone is not None,
             rule.commune_category is not None)
    return (sum(flags), *flags)


def _matches(rule: AllowanceRule, on: date, category, zone, vhw: bool, family_children: bool) -> bool:
    return (rule.valid_from <= on and (rule.valid_to is None or on < rule.valid_to)
            and (rule.commune_category is None or rule.commune_category == category)
            and (rule.zone is None or rule.zone == zone)
            and (rule.vhw_concurrent is None or rule.vhw_concurrent == vhw)
            and (rule.family_children_duty is None or rule.family_children_duty == family_children))


def pick_rule(rules: Iterable[AllowanceRule], *, on: date, commune_category, zone, vhw: bool,
              family_children: bool = False) -> AllowanceRule | None:
    """The rule for a case among ``rules`` (already loaded): valid on the day, every non-null
    condition matching, the most specific winning (see :func:`_specificity`). ``family_children``:
    the collaborator holds "kiêm công tác gia đình và trẻ em" (for a sheet: during the month)."""
    category = commune_category.value if isinstance(commune_category, CommuneCategory) else commune_category
    zone = zone.value if isinstance(zone, Zone) else zone
    matching = [r for r in rules if _matches(r, on, category, zone, bool(vhw), bool(family_children))]
    return max(matching, key=_specificity) if matching else None


def rule_for(province_id: int, *, on: date, commune_category, zone, vhw: bool,
             family_children: bool = False) -> AllowanceRule | None:
    """The province's rule for a case on a date (the most specific rule valid that day)."""
    rules = db.session.scalars(select(AllowanceRule).where(
        AllowanceRule.province_id == province_id, AllowanceRule.valid_from <= on,
        or_(AllowanceRule.valid_to.is_(None), AllowanceRule.valid_to > on)))
    return pick_rule(rules, on=on, commune_category=commune_category, zone=zone, vhw=vhw,
                     family_children=family_children)


def _amount_with(rule: AllowanceRule, base: BaseSalary | None) -> int | None:
    if rule.basis == AllowanceBasis.FIXED:
        return rule.amount
    if base is None:
        return None
    return round_half_up(Decimal(rule.coefficient) * base.amount)


def monthly_amount(rule: AllowanceRule, on: date) -> int | None:
    """The full monthly amount of a rule on a date, in đồng: the fixed amount, or coefficient ×
    the base salary in force that day, rounded half-up (0.25 × 2,340,000 = 585,000). None when a
    coefficient rule has no base salary on that date: callers show it as a problem, not 0."""
    if rule.basis == AllowanceBasis.FIXED:
        return rule.amount
    return _amount_with(rule, base_salary_on(on))


# --- network policy ------------------------------------------------------------------------------


def network_policies(province: AdminUnit | int) -> list[NetworkPolicy]:
    """Every version of the province's network policy, latest first (``policy_for`` reads the one
    in force on a date)."""
    province_id = province if isinstance(province, int) else province.id
    return list(db.session.scalars(select(NetworkPolicy).where(NetworkPolicy.province_id == province_id)
                                   .order_by(NetworkPolicy.valid_from.desc())))


def set_network_policy(province: AdminUnit, *, valid_from: date, allow_additional_hamlet: bool,
                       pay_additional_hamlet: bool, visit_interval_days: int, missed_meetings_for_review: int,
                       legal_basis: str | None, actor, is_illustrative: bool = False) -> NetworkPolicy:
    """Issue a new version of the province's network policy from ``valid_from`` (older versions
    stay for the past; ``policy.policy_for`` reads the one in force). Whether a collaborator may
    cover an additional hamlet and whether that is paid, how often each collaborator must be
    visited (default a quarter, DOMAIN.md §7.3 proposal) and how many missed monthly meetings in a
    row put them under review (default 2, DOMAIN.md §7.2 proposal) are province decisions. The date
    is bounded (``common.dates``: from TT 02/2021/TT-BYT coming into force to two years ahead).
    ``is_illustrative``: no decision of the province was seen for it (demo data), labelled so."""
    legal_basis = _clean(legal_basis)
    check_effective_date(valid_from)
    if province.level != UnitLevel.PROVINCE:
        raise ValidationFailed(_l("Quy định mạng lưới chỉ được ban hành cho tỉnh/thành phố."))
    if visit_interval_days is None or not 0 < visit_interval_days <= MAX_VISIT_INTERVAL_DAYS:
        raise ValidationFailed(_l("Chu kỳ giám sát phải từ 1 đến %(n)d ngày.", n=MAX_VISIT_INTERVAL_DAYS),
                               field="visit_interval_days")
    if missed_meetings_for_review is None or not 0 < missed_meetings_for_review <= MAX_MISSED_MEETINGS:
        raise ValidationFailed(_l("Số tháng vắng giao ban phải từ 1 đến %(n)d.", n=MAX_MISSED_MEETINGS),
                               field="missed_meetings_for_review")
    if pay_additional_hamlet and not allow_additional_hamlet:
        raise ValidationFailed(_l("Chỉ chi bồi dưỡng thôn kiêm nhiệm khi có cho phép kiêm nhiệm thêm thôn."),
                               field="pay_additional_hamlet")
    existing = db.session.scalar(select(NetworkPolicy).where(NetworkPolicy.province_id == province.id,
                                                             NetworkPolicy.valid_from == valid_from))
    if existing is not None:
        raise ValidationFailed(_l("Đã có phiên bản quy định có hiệu lực từ ngày %(d)s; hãy chọn ngày khác.",
                                  d=_vn(valid_from)), field="valid_from")
    policy = NetworkPolicy(province_id=province.id, valid_from=valid_from,
                           allow_additional_hamlet=bool(allow_additional_hamlet),
                           pay_additional_hamlet=bool(pay_additional_hamlet), visit_interval_days=visit_interval_days,
                           missed_meetings_for_review=missed_meetings_for_review, legal_basis=legal_basis,
                           is_illustrative=bool(is_illustrative), created_at=clock.now(),
                           created_by_id=getattr(actor, "id", None))
    db.session.add(policy)
    record("network_policy.create", policy, label=f"{province.name}: {_vn(valid_from)}", unit_path=province.path,
           after=snapshot(policy, POLICY_AUDIT_FIELDS), actor=actor)
    try:
        db.session.flush()
    except IntegrityError as e:
        raise Conflict(_l("Phiên bản quy định cho ngày này vừa được người khác ghi. Vui lòng tải lại trang.")) from e
    return policy


# --- the monthly sheet ---------------------------------------------------------------------------
#
# A province's sheet has thousands of lines (≈ 7,000 in Hồ Chí Minh City), so a page never builds
# them all: the page's lines are chosen by LIMIT/OFFSET over the sheet's order, and the totals come
# from one GROUP BY over what decides an amount (commune, zone, VHW, kind, first and end day in the
# month, suspended or not). Each group's amount is computed once by the same function that computes
# a line (:meth:`SheetContext.pay`), so the totals are exactly the sum of the lines.


@dataclass
class Segment:
    """Successive active days of a line paid at one monthly amount (``first``..``last``, possibly
    with suspended days in between; ``days`` counts only the active ones)."""

    first: date
    last: date
    days: int
    rule: AllowanceRule | None
    base_salary: BaseSalary | None
    full_amount: int | None  # None: no rule, or a coefficient rule without a base salary


@dataclass
class SheetLine:
    assignment: Assignment
    collaborator_id: int
    full_name: str
    national_id: str
    hamlet: AdminUnit
    commune: AdminUnit | None
    commune_category: CommuneCategory | None
    zone: Zone
    vhw: bool
    kind: str
    days_in_force: int
    days_suspended: int
    days_in_month: int
    segments: list[Segment] = field(default_factory=list)
    amount: int = 0
    notes: list = field(default_factory=list)
    problem: bool = False  # something the person preparing the sheet must look at
    number: int = 0  # STT: the line's number within its commune (1-based)
    family_children: bool = False  # held "kiêm công tác gia đình và trẻ em" on a day of the month

    @property
    def group_id(self) -> int:
        """The unit the line is listed under: its commune (the hamlet itself if it has none)."""
        return self.commune.id if self.commune is not None else self.hamlet.id

    @property
    def days_active(self) -> int:
        return self.days_in_force - self.days_suspended

    @property
    def last_segment(self) -> Segment | None:
        return self.segments[-1] if self.segments else None

    @property
    def rule(self) -> AllowanceRule | None:
        """The rule of the last paid days (the one in force at the end of the month for this line)."""
        return self.last_segment.rule if self.segments else None

    @property
    def full_amount(self) -> int | None:
        return self.last_segment.full_amount if self.segments else None

    @property
    def split(self) -> bool:
        return len(self.segments) > 1


@dataclass
class CommuneGroup:
    commune: AdminUnit
    lines: list[SheetLine] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def problems(self) -> int:
        return sum(1 for line in self.lines if line.problem)


class _OfMonth:
    """The month a sheet covers (``month``: its first day), its last day and its length."""

    month: date

    @property
    def first_day(self) -> date:
        return self.month

    @property
    def last_day(self) -> date:
        return month_end(self.month)

    @property
    def days_in_month(self) -> int:
        return self.last_day.day


@dataclass
class Sheet(_OfMonth):
    """A whole sheet in memory (every line): for the services and tests. Pages use
    :func:`sheet_page`, files and prints :func:`iter_sheet`."""

    month: date
    groups: list[CommuneGroup]

    @property
    def lines(self) -> list[SheetLine]:
        return [line for g in self.groups for line in g.lines]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)

    @property
    def problems(self) -> int:
        return sum(g.problems for g in self.groups)


@dataclass
class CommuneTotal:
    """A commune's row of the sheet's summary, aggregated in SQL: its lines, active days, amount
    and lines to check. ``start`` is the position (0-based) of its first line in the sheet."""

    commune: AdminUnit
    start: int = 0
    lines: int = 0
    days: int = 0
    amount: int = 0
    problems: int = 0

    @property
    def end(self) -> int:
        return self.start + self.lines


@dataclass
class SheetSummary(_OfMonth):
    """The whole sheet's figures without its lines: every commune of the area in the sheet's
    order (with those without collaborators), the number of distinct collaborators, and the
    totals of lines, active days, amount and lines to check."""

    month: date
    communes: list[CommuneTotal]
    collaborators: int = 0

    @property
    def lines(self) -> int:
        return sum(c.lines for c in self.communes)

    @property
    def days(self) -> int:
        return sum(c.days for c in self.communes)

    @property
    def total(self) -> int:
        return sum(c.amount for c in self.communes)

    @property
    def problems(self) -> int:
        return sum(c.problems for c in self.communes)


@dataclass
class SheetGroup:
    """The lines of one commune shown together (on a page, or in the whole printed sheet).
    ``complete``: the commune's last line is here, so its subtotal is shown after it."""

    commune: AdminUnit
    summary: CommuneTotal
    lines: list[SheetLine]
    complete: bool = True

    @property
    def continued(self) -> bool:
        """The commune began on an earlier page."""
        return bool(self.lines) and self.lines[0].number > 1


@dataclass
class SheetPage:
    """One page of a sheet: the page's lines (``page.items``) grouped by commune, and the
    summary of the whole sheet."""

    summary: SheetSummary
    page: Page
    groups: list[SheetGroup]


@dataclass(frozen=True)
class _Pay:
    """What a line is paid for its dates: days in force and suspended, segments, amount."""

    days_in_force: int
    days_suspended: int
    segments: tuple[Segment, ...]
    amount: int

    @property
    def problem(self) -> bool:
        return any(s.rule is None or s.full_amount is None for s in self.segments)


def _collapse(prefixes: Iterable[str]) -> list[str]:
    kept: list[str] = []
    for p in sorted(set(prefixes), key=len):
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return kept


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class _Rates:
    """The full monthly amount for each case on each day of one month, computed once per case
    from rules and base salaries loaded up front (no query per line)."""

    def __init__(self, rules: list[AllowanceRule], salaries: list[BaseSalary], days: list[date]):
        self.rules_by_province: dict[int, list[AllowanceRule]] = defaultdict(list)
        for r in rules:
            self.rules_by_province[r.province_id].append(r)
        self.salaries = sorted(salaries, key=lambda s: s.valid_from)
        self.days = days
        # No rule of the month distinguishes village health workers: the amount never depends on it.
        self.depends_on_vhw = any(r.vhw_concurrent is not None for r in rules)
        self.depends_on_duty = any(r.family_children_duty is not None for r in rules)
        self.cache: dict[tuple, list[tuple[AllowanceRule | None, BaseSalary | None, int | None]]] = {}

    def _salary(self, day: date) -> BaseSalary | None:
        found = None
        for s in self.salaries:
            if s.valid_from <= day:
                found = s
        return found

    def per_day(self, province_id: int, category, zone, vhw: bool, family_children: bool = False):
        key = (province_id, category, zone, vhw, family_children)
        if key not in self.cache:
            rules = self.rules_by_province.get(province_id, [])
            out = []
            for day in self.days:
                rule = pick_rule(rules, on=day, commune_category=category, zone=zone, vhw=vhw,
                                 family_children=family_children)
                base = self._salary(day) if rule is not None and rule.basis == AllowanceBasis.COEFFICIENT else None
                out.append((rule, base, _amount_with(rule, base) if rule is not None else None))
            self.cache[key] = out
        return self.cache[key]


def _pay(days: list[date], start: date, end: date, suspensions: tuple[tuple[date, date | None], ...],
         per_day) -> _Pay:
    """The pay of a line in force ``start`` ≤ d < ``end`` within the month: each active day (not
    suspended) at the monthly amount in force that day; amount = round_half_up(Σ full × days ÷
    days in month). A suspension leaves a gap inside a segment: the rate, not the calendar,
    makes a segment."""
    segments: list[Segment] = []
    in_force = suspended = 0
    for i, d in enumerate(days):
        if d < start or d >= end:
            continue
        in_force += 1
        if any(s <= d and (e is None or d < e) for s, e in suspensions):
            suspended += 1
            continue
        rule, base, full = per_day[i]
        seg = segments[-1] if segments else None
        if seg is not None and seg.rule is rule and seg.base_salary is base:
            seg.last, seg.days = d, seg.days + 1
        else:
            segments.append(Segment(d, d, 1, rule, base, full))
    total = sum((Decimal(s.full_amount) * s.days for s in segments if s.full_amount is not None), Decimal(0))
    amount = round_half_up(total / len(days)) if segments else 0
    return _Pay(in_force, suspended, tuple(segments), amount)


_HAMLET = aliased(AdminUnit, name="sheet_hamlet")
_COMMUNE = aliased(AdminUnit, name="sheet_commune")  # the hamlet's commune (the hamlet itself if it has none)


def _unit_order(unit) -> list:
    """The order of communes on a sheet: by code, then name (the same SQL order for the summary
    and the lines, so positions agree)."""
    return [bytewise(func.coalesce(unit.code, "")), bytewise(unit.name), unit.id]


def _lines_from(stmt: Select, *, person: bool = True) -> Select:
    """``stmt`` over the sheet's lines: the assignment with its hamlet, the hamlet's commune, and
    (``person``) the collaborator and the person."""
    stmt = (stmt.select_from(Assignment).join(_HAMLET, Assignment.hamlet_id == _HAMLET.id)
            .join(_COMMUNE, _COMMUNE.id == func.coalesce(_HAMLET.parent_id, _HAMLET.id)))
    if person:
        stmt = (stmt.join(Collaborator, Assignment.collaborator_id == Collaborator.id)
                .join(Candidate, Collaborator.candidate_id == Candidate.id))
    return stmt


def _without_geometry(*units) -> list:
    """Loader options: a sheet never reads a unit's polygons (large blobs), so they stay unloaded."""
    return [defer(u.geom_wkb) for u in units] + [defer(u.geom_simplified_wkb) for u in units]


def _line_order() -> list:
    return [*_unit_order(_COMMUNE), bytewise(_HAMLET.local_id), bytewise(_HAMLET.name), bytewise(Candidate.search_text),
            Assignment.started_on, Assignment.id]


class SheetContext:
    """One sheet (an area and a month) and what each of its lines needs, loaded once: the rules
    and base salaries in force during the month, the monthly amount per case and day, the network
    policy per province, and each pay computed once per (case, dates, suspensions)."""

    def __init__(self, units: Sequence[AdminUnit], month: date):
        self.first = month_start(month)
        self.last = month_end(self.first)
        self.end = self.last + timedelta(days=1)
        self.days = _days(self.first, self.last)
        self.units = list(units)
        self.prefixes = _collapse(u.path for u in self.units)
        self.province_ids = sorted({province_id_of(p) for p in self.prefixes})
        rules = list(db.session.scalars(select(AllowanceRule).where(
            AllowanceRule.province_id.in_(self.province_ids), AllowanceRule.valid_from <= self.last,
            or_(AllowanceRule.valid_to.is_(None), AllowanceRule.valid_to > self.first)))) if self.province_ids else []
        salaries = list(db.session.scalars(select(BaseSalary).where(BaseSalary.valid_from <= self.last)))
        self.rates = _Rates(rules, salaries, self.days)
        self._policies: dict[int, bool] = {}
        self._memo: dict[tuple, _Pay] = {}
        # Assignments in force on at least one day of the month (one that ends on the day it
        # starts is never in force).
        self.in_month = and_(in_areas(self.prefixes, Assignment.hamlet_path), Assignment.started_on <= self.last,
                             or_(Assignment.ended_on.is_(None),
                                 and_(Assignment.ended_on > self.first, Assignment.ended_on > Assignment.started_on)))
        # The line's collaborator held "kiêm công tác gia đình và trẻ em" on at least one day of
        # the month (see the module docstring for why any day counts).
        self.family_children = exists().where(
            CollaboratorDuty.collaborator_id == Assignment.collaborator_id,
            CollaboratorDuty.duty == DutyKind.FAMILY_CHILDREN.value, CollaboratorDuty.started_on <= self.last,
            or_(CollaboratorDuty.ended_on.is_(None),
                and_(CollaboratorDuty.ended_on > self.first, CollaboratorDuty.ended_on > CollaboratorDuty.started_on)))

    # --- computing ----------------------------------------------------------------------------

    def pays_additional(self, province_id: int) -> bool:
        """Whether the province pays an additional hamlet: its policy on the month's last day."""
        if province_id not in self._policies:
            self._policies[province_id] = bool(policy_for(province_id, self.last).pay_additional_hamlet)
        return self._policies[province_id]

    def pay(self, province_id: int, category: CommuneCategory | None, zone: Zone, vhw: bool, start: date,
            end: date, suspensions: tuple = (), family_children: bool = False) -> _Pay:
        """The pay for a case in force ``start`` ≤ d < ``end`` (clipped to the month)."""
        start, end = max(start, self.first), min(end or self.end, self.end)
        key = (province_id, category.value if category else None, zone.value, bool(vhw), bool(family_children),
               start, end, suspensions)
        found = self._memo.get(key)
        if found is None:
            per_day = self.rates.per_day(province_id, key[1], key[2], key[3], key[4])
            found = self._memo[key] = _pay(self.days, start, end, suspensions, per_day)
        return found

    def suspensions_of(self, collaborator_ids) -> dict[int, tuple]:
        """The suspensions overlapping the month, as ``(started_on, ended_on)`` per collaborator."""
        ids = sorted(set(collaborator_ids))
        if not ids:
            return {}
        found: dict[int, list] = defaultdict(list)
        for cid, started, ended in db.session.execute(
                select(Suspension.collaborator_id, Suspension.started_on, Suspension.ended_on).where(
                    Suspension.collaborator_id.in_(ids), Suspension.started_on <= self.last,
                    or_(Suspension.ended_on.is_(None), Suspension.ended_on > self.first))):
            found[cid].append((started, ended))
        return {cid: tuple(sorted(rows, key=lambda r: r[0])) for cid, rows in found.items()}

    # --- the summary --------------------------------------------------------------------------

    def summary(self) -> SheetSummary:
        """Every commune's lines, days, amount and problems, and the sheet's number of
        collaborators, by SQL aggregation: one GROUP BY over what decides an amount, each group's
        pay computed once (:meth:`pay`) and multiplied by its number of lines."""
        if not self.prefixes:
            return SheetSummary(self.first, [])
        suspended = (select(Suspension.collaborator_id).where(
            Suspension.started_on <= self.last,
            or_(Suspension.ended_on.is_(None), Suspension.ended_on > self.first)).distinct().subquery())
        # Whether the person is a village health worker matters only when a rule of the month
        # says so; otherwise the person is not read at all (two joins fewer on every line).
        columns = {
            "unit_id": _COMMUNE.id, "unit_path": _COMMUNE.path, "unit_type": _COMMUNE.type,
            "own": _COMMUNE.id == _HAMLET.id, "difficult": or_(_HAMLET.is_difficult, _HAMLET.is_ethnic_minority),
            "vhw": Candidate.is_village_health_worker if self.rates.depends_on_vhw else None,
            "family_children": self.family_children if self.rates.depends_on_duty else None,
            "kind": Assignment.kind,
            "start": case((Assignment.started_on < self.first, self.first), else_=Assignment.started_on),
            "end": case((or_(Assignment.ended_on.is_(None), Assignment.ended_on > self.end), self.end),
                        else_=Assignment.ended_on),
            "suspended_id": suspended.c.collaborator_id}
        columns = {name: column for name, column in columns.items() if column is not None}
        per_line = (_lines_from(select(*(column.label(name) for name, column in columns.items())),
                                person=self.rates.depends_on_vhw)
                    .outerjoin(suspended, suspended.c.collaborator_id == Assignment.collaborator_id)
                    .where(self.in_month).subquery())
        keys = [per_line.c[name] for name in columns]
        groups = [dict(zip([*columns, "n"], row, strict=True))
                  for row in db.session.execute(select(*keys, func.count()).group_by(*keys))]
        suspensions = self.suspensions_of(g["suspended_id"] for g in groups if g["suspended_id"] is not None)

        totals: dict[int, CommuneTotal] = {}
        for g in groups:
            province_id, n = province_id_of(g["unit_path"]), g["n"]
            category = None if g["own"] else COMMUNE_CATEGORY_OF_TYPE.get(g["unit_type"])
            pay = self.pay(province_id, category, Zone.DIFFICULT if g["difficult"] else Zone.NORMAL,
                           bool(g.get("vhw")), g["start"], g["end"], suspensions.get(g["suspended_id"], ()),
                           bool(g.get("family_children")))
            paid = g["kind"] != AssignmentKind.ADDITIONAL or self.pays_additional(province_id)
            total = totals.setdefault(g["unit_id"], CommuneTotal(None))  # the commune is set below
            total.lines += n
            total.days += (pay.days_in_force - pay.days_suspended) * n
            total.amount += (pay.amount if paid else 0) * n
            total.problems += n if pay.problem else 0

        communes = db.session.scalars(select(AdminUnit).where(or_(
            and_(AdminUnit.level == UnitLevel.COMMUNE.value, in_areas(self.prefixes),
                 AdminUnit.valid_from <= self.last, or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > self.first)),
            AdminUnit.id.in_(sorted(totals)))).order_by(*_unit_order(AdminUnit)).options(*_without_geometry(AdminUnit)))
        ordered, position = [], 0
        for commune in communes:
            total = totals.get(commune.id) or CommuneTotal(None)
            total.commune, total.start = commune, position
            position += total.lines
            ordered.append(total)
        collaborators = db.session.scalar(select(func.count(distinct(Assignment.collaborator_id)))
                                          .where(self.in_month)) or 0
        return SheetSummary(self.first, ordered, collaborators)

    # --- the lines ----------------------------------------------------------------------------

    def ordered_ids(self) -> Select:
        """The ids of the sheet's lines in the sheet's order (by commune, hamlet, name)."""
        return _lines_from(select(Assignment.id)).where(self.in_month).order_by(*_line_order())

    def lines(self, ids: Sequence[int]) -> list[SheetLine]:
        """The lines of these assignments, in the order of ``ids``, in one query."""
        if not ids:
            return []
        rows = db.session.execute(_lines_from(select(
            Assignment, _HAMLET, _COMMUNE, Candidate.full_name, Candidate.national_id,
            Candidate.is_village_health_worker, self.family_children)).where(Assignment.id.in_(list(ids)))
            .options(*_without_geometry(_HAMLET, _COMMUNE))).all()
        order = {aid: i for i, aid in enumerate(ids)}
        rows.sort(key=lambda r: order[r[0].id])
        suspensions = self.suspensions_of(r[0].collaborator_id for r in rows)
        return [self._line(*row, suspensions.get(row[0].collaborator_id, ())) for row in rows]

    def _line(self, assignment, hamlet, commune, full_name, national_id, vhw, family_children,
              suspensions) -> SheetLine:
        commune = commune if commune.id != hamlet.id else None
        province_id = province_id_of(hamlet.path)
        category, zone = commune_category_of(commune), zone_of(hamlet)
        pay = self.pay(province_id, category, zone, bool(vhw), assignment.started_on, assignment.ended_on,
                       suspensions, bool(family_children))
        line = SheetLine(assignment=assignment, collaborator_id=assignment.collaborator_id, full_name=full_name,
                         national_id=national_id, hamlet=hamlet, commune=commune, commune_category=category,
                         zone=zone, vhw=bool(vhw), kind=assignment.kind, days_in_force=pay.days_in_force,
                         days_suspended=pay.days_suspended, days_in_month=len(self.days),
                         segments=list(pay.segments), amount=pay.amount, problem=pay.problem,
                         family_children=bool(family_children))
        if line.days_suspended:
            line.notes.append(_l("Tạm đình chỉ %(n)d ngày, không tính bồi dưỡng.", n=line.days_suspended))
        if not line.days_active:
            line.notes.append(_l("Không có ngày hoạt động trong tháng."))
        for seg in line.segments:
            span = f"{seg.first.strftime('%d/%m')}–{seg.last.strftime('%d/%m')}"
            if seg.rule is None:
                line.notes.append(_l("%(s)s: không có mức bồi dưỡng nào áp dụng cho trường hợp này; cần ban hành "
                                     "mức.", s=span))
            elif seg.full_amount is None:
                line.notes.append(_l("%(s)s: chưa có mức lương cơ sở để tính mức theo hệ số.", s=span))
            elif line.split:
                line.notes.append(_l("%(s)s: %(n)d ngày × %(a)s/tháng (%(b)s).", s=span, n=seg.days,
                                     a=money(seg.full_amount), b=_basis_text(seg)))
        if line.split:
            line.notes.insert(0, _l("Mức bồi dưỡng thay đổi trong tháng: tính theo từng ngày."))
        if assignment.kind == AssignmentKind.ADDITIONAL and not self.pays_additional(province_id):
            line.amount = 0
            line.notes.append(_l("Thôn kiêm nhiệm: tỉnh không chi bồi dưỡng cho thôn kiêm nhiệm."))
        return line


SHEET_CHUNK = 1000  # lines loaded per query when a whole sheet is written out


def communes_for(units: Sequence[AdminUnit], first: date, last: date) -> list[AdminUnit]:
    """The communes under (or equal to) the units that exist on at least one day of the period."""
    prefixes = _collapse(u.path for u in units)
    return list(db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == UnitLevel.COMMUNE.value, in_areas(prefixes),
                                AdminUnit.valid_from <= last,
                                or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > first))
        .order_by(*_unit_order(AdminUnit))))


def sheet_summary(units: Sequence[AdminUnit], month: date) -> SheetSummary:
    """The allowance sheet's figures for a month (see :meth:`SheetContext.summary`)."""
    return SheetContext(units, month).summary()


def sheet_page(units: Sequence[AdminUnit], month: date, page: int = 1, per_page: int = PER_PAGE) -> SheetPage:
    """One page of the month's allowance sheet for the hamlets under ``units`` (communes, a
    province, a centre's served units): the whole sheet's totals by SQL aggregation
    (:meth:`SheetContext.summary`), then the page's lines by LIMIT/OFFSET in the sheet's order (by
    commune, hamlet, name), computed in full. The summary places every commune in that order, so
    the page's query reads only the communes the page overlaps. A commune without collaborators
    is shown on the page where its position falls. Queries do not grow with the number of lines."""
    ctx = SheetContext(units, month)
    summary = ctx.summary()
    page, per_page = clamp(page, per_page)
    total = summary.lines
    page = min(page, max(1, math.ceil(total / per_page)))
    low, high = (page - 1) * per_page, min(page * per_page, total)
    overlapping = [c for c in summary.communes if c.lines and c.start < high and c.end > low]
    ids = list(db.session.scalars(
        ctx.ordered_ids().where(in_areas([c.commune.path for c in overlapping], Assignment.hamlet_path))
        .offset(low - overlapping[0].start).limit(per_page))) if overlapping else []
    lines = ctx.lines(ids)
    result = Page(lines, total, page, per_page)
    high = low + len(lines)
    by_commune: dict[int, list[SheetLine]] = defaultdict(list)
    for line in lines:
        by_commune[line.group_id].append(line)
    groups = []
    for commune in summary.communes:
        if commune.lines and commune.start < high and commune.end > low:
            mine = by_commune.get(commune.commune.id, [])
            first = max(commune.start, low) - commune.start + 1
            for k, line in enumerate(mine):
                line.number = first + k
            groups.append(SheetGroup(commune.commune, commune, mine, complete=commune.end <= high))
        elif not commune.lines and min(commune.start // per_page + 1, result.pages) == page:
            groups.append(SheetGroup(commune.commune, commune, []))
    return SheetPage(summary, result, groups)


def iter_sheet(units: Sequence[AdminUnit], month: date, summary: SheetSummary | None = None,
               *, chunk: int = SHEET_CHUNK) -> Iterator[SheetGroup]:
    """Every commune of the sheet in order with all its lines, loaded ``chunk`` lines per query
    (for the CSV file and the printed sheet, which are streamed)."""
    ctx = SheetContext(units, month)
    summary = summary or ctx.summary()
    ids = list(db.session.scalars(ctx.ordered_ids()))

    def all_lines() -> Iterator[SheetLine]:
        for i in range(0, len(ids), chunk):
            yield from ctx.lines(ids[i:i + chunk])

    pending = all_lines()
    ahead = next(pending, None)
    for total in summary.communes:
        mine = []
        while ahead is not None and ahead.group_id == total.commune.id:
            ahead.number = len(mine) + 1
            mine.append(ahead)
            ahead = next(pending, None)
        yield SheetGroup(total.commune, total, mine)
    while ahead is not None:  # a line written between the summary and the lines: still listed
        extra = CommuneTotal(ahead.commune or ahead.hamlet)
        mine = []
        while ahead is not None and ahead.group_id == extra.commune.id:
            ahead.number = len(mine) + 1
            mine.append(ahead)
            ahead = next(pending, None)
        yield SheetGroup(extra.commune, extra, mine)


def monthly_sheet(units: Sequence[AdminUnit], month: date) -> Sheet:
    """The whole allowance sheet of a month in memory, for every assignment in force on at least
    one day of the month in the hamlets under ``units`` (communes, a province, a centre's served
    units).

    For each line: active days = days in force − days suspended; each active day is paid at the
    monthly amount of the rule (and base salary) in force that day; amount = round_half_up(Σ
    full_amount × days ÷ days in month). No rule → 0 and a warning; an additional hamlet not paid
    by the province's policy on the last day of the month → 0 and a note. Grouped by commune,
    with every commune of the area listed even without collaborators. Queries do not grow with
    the number of lines."""
    first = month_start(month)
    return Sheet(first, [CommuneGroup(g.commune, g.lines) for g in iter_sheet(units, first)])


def _basis_text(seg: Segment) -> str:
    rule = seg.rule
    if rule.basis == AllowanceBasis.COEFFICIENT and seg.base_salary is not None:
        return f"{_coef(rule.coefficient)} × {money(seg.base_salary.amount)}"
    return rule.legal_basis


def _coef(value: Decimal) -> str:
    """0.2500 → "0,25" (Vietnamese decimal comma)."""
    text = f"{Decimal(value).normalize():f}"
    return text.replace(".", ",")


def coefficient_text(value) -> str:
    return _coef(value) if value is not None else "—"


# --- the profile ---------------------------------------------------------------------------------


@dataclass
class ProfileAllowance:
    assignment: Assignment
    hamlet: AdminUnit
    commune: AdminUnit | None
    commune_category: CommuneCategory | None
    zone: Zone
    vhw: bool
    rule: AllowanceRule | None
    full_amount: int | None
    paid: bool
    suspended: bool
    notes: list = field(default_factory=list)
    family_children: bool = False  # holds "kiêm công tác gia đình và trẻ em" on the day


def allowance_for(collaborator: Collaborator, on: date | None = None) -> list[ProfileAllowance]:
    """For each assignment open on ``on`` (default today): the rule in force for its case and the
    full monthly amount (before pro rata), with why it may not be paid (additional hamlet not paid
    by the province, suspension, no rule, no base salary)."""
    on = on or clock.today()
    vhw = bool(collaborator.candidate.is_village_health_worker)
    family_children = any(d.duty == DutyKind.FAMILY_CHILDREN and d.open_on(on) for d in collaborator.duties)
    suspended = any(s.open_on(on) for s in collaborator.suspensions)
    out = []
    for a in collaborator.assignments:
        if not a.open_on(on):
            continue
        hamlet, commune = a.hamlet, a.hamlet.parent
        category, zone = commune_category_of(commune), zone_of(hamlet)
        province_id = province_id_of(hamlet.path)
        rule = rule_for(province_id, on=on, commune_category=category, zone=zone, vhw=vhw,
                        family_children=family_children)
        full = monthly_amount(rule, on) if rule is not None else None
        item = ProfileAllowance(a, hamlet, commune, category, zone, vhw, rule, full, paid=True, suspended=suspended,
                                family_children=family_children)
        if rule is None:
            item.notes.append(_l("Chưa có mức bồi dưỡng áp dụng cho trường hợp này."))
        elif full is None:
            item.notes.append(_l("Chưa có mức lương cơ sở để tính mức theo hệ số."))
        if a.kind == AssignmentKind.ADDITIONAL and not policy_for(province_id, on).pay_additional_hamlet:
            item.paid = False
            item.notes.append(_l("Thôn kiêm nhiệm: tỉnh không chi bồi dưỡng cho thôn kiêm nhiệm."))
        if suspended:
            item.notes.append(_l("Đang tạm đình chỉ: không tính bồi dưỡng những ngày này."))
        out.append(item)
    return out


@dataclass
class AllowanceSection:
    """The allowance part of a collaborator's profile: the current allowance per open assignment
    and the communes whose monthly sheet the viewer may open (for the links)."""

    items: list[ProfileAllowance]
    sheet_communes: frozenset[int]


def profile_section(collaborator: Collaborator, viewer: User, on: date | None = None) -> AllowanceSection:
    """What ``allowances/_profile_section.html`` shows, for the profile view to pass."""
    items = allowance_for(collaborator, on)
    communes = frozenset(i.commune.id for i in items if i.commune is not None and can_view_sheet(viewer, i.commune))
    return AllowanceSection(items, communes)

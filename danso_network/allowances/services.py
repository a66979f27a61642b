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

Services follow DESIGN.md §4: guard → mutate → audit record → flush; they never commit.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..allowances.models import AllowanceBasis, AllowanceRule, BaseSalary, CommuneCategory, Zone
from ..audit.services import record, snapshot
from ..auth.models import User
from ..auth.permissions import scope_of
from ..collaborators.models import Assignment, AssignmentKind, Collaborator, NetworkPolicy, Suspension
from ..collaborators.policy import policy_for, province_id_of
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..recruitment.models import Candidate
from ..units.models import AdminUnit, Facility, UnitLevel, UnitType
from ..units.services import path_filter, served_units

MAX_AMOUNT = 100_000_000  # đồng per month: far above any resolution, catches a typo of extra zeros
MAX_BASE_SALARY = 1_000_000_000
MAX_COEFFICIENT = Decimal("99.9999")  # the column is Numeric(6, 4)
COEFFICIENT_STEP = Decimal("0.0001")
MAX_VISIT_INTERVAL_DAYS = 366
MAX_MISSED_MEETINGS = 12

RULE_AUDIT_FIELDS = ["province_id", "valid_from", "valid_to", "commune_category", "zone", "vhw_concurrent",
                     "basis", "amount", "coefficient", "legal_basis", "note"]
POLICY_AUDIT_FIELDS = ["province_id", "valid_from", "allow_additional_hamlet", "pay_additional_hamlet",
                       "visit_interval_days", "missed_meetings_for_review", "legal_basis"]

# Commune types as allowance resolutions group them: a former thị trấn counts as a xã
# (TP HCM NQ 33/2025 pays xã and đặc khu alike; resolutions before 2025 paid thị trấn like xã).
COMMUNE_CATEGORY_OF_TYPE = {
    UnitType.XA.value: CommuneCategory.XA,
    UnitType.THI_TRAN.value: CommuneCategory.XA,
    UnitType.PHUONG.value: CommuneCategory.PHUONG,
    UnitType.DAC_KHU.value: CommuneCategory.DAC_KHU,
}


def today() -> date:
    return date.today()


def now() -> datetime:
    return datetime.now(UTC)


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


# --- who may read (the changes use collaborators.permissions) ----------------------------------


def can_view_settings(user: User, province: AdminUnit) -> bool:
    """Everyone working in the province reads its allowance rules and network policy; only its
    province admins change them (``can_manage_network_settings``)."""
    return any(p.startswith(province.path) or province.path.startswith(p) for p in scope_of(user).prefixes)


def can_view_base_salary(user: User) -> bool:
    """The base salary is public national law: anyone with a grant reads it."""
    return not scope_of(user).empty


def can_view_sheet(user: User, unit: AdminUnit) -> bool:
    """A sheet covers a unit's whole area: the user's grant must cover the unit."""
    return bool(scope_of(user).roles_at(unit.path))


def can_view_centre_sheet(user: User, facility: Facility, on: date | None = None) -> bool:
    """A centre's sheet covers every unit it serves: the user must reach all of them."""
    units = served_units(facility, on)
    return bool(units) and all(can_view_sheet(user, u) for u in units)


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
    (NĐ 73/2024/NĐ-CP). One row per date; a row is never changed (a later decree adds a row)."""
    legal_basis = _clean(legal_basis)
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
    row = BaseSalary(valid_from=valid_from, amount=amount, legal_basis=legal_basis, created_at=now(),
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
                  AllowanceRule.vhw_concurrent, AllowanceRule.id)))


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
                          coefficient=None, legal_basis: str, note: str | None = None, actor) -> AllowanceRule:
    """Add one line of the province's allowance resolution (DOMAIN.md §3.3). A condition left
    None matches every case. Refused (nothing written): another rule of the province for the same
    case (same three conditions) whose period overlaps; an end on or before the start; a fixed rule
    without an amount or a coefficient rule without a coefficient (or with both); negative values;
    a coefficient rule starting on a day with no base salary recorded (the amount could not be
    computed)."""
    legal_basis, note = _clean(legal_basis), _clean(note)
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
            _overlaps(valid_from, valid_to))
        .order_by(AllowanceRule.valid_from).limit(1))
    if clash is not None:
        until = _l("không thời hạn") if clash.valid_to is None else _vn(clash.valid_to)
        raise ValidationFailed(
            _l("Trùng thời gian với mức đã có cho cùng trường hợp (từ %(f)s đến %(t)s, %(b)s). Hãy kết thúc "
               "mức cũ trước (ngày hết hiệu lực = ngày mức mới có hiệu lực).",
               f=_vn(clash.valid_from), t=until, b=clash.legal_basis), field="valid_from")
    rule = AllowanceRule(province_id=province.id, valid_from=valid_from, valid_to=valid_to,
                         commune_category=commune_category, zone=zone, vhw_concurrent=vhw_concurrent, basis=basis,
                         amount=amount if basis == AllowanceBasis.FIXED else None,
                         coefficient=coefficient if basis == AllowanceBasis.COEFFICIENT else None,
                         legal_basis=legal_basis, note=note, created_at=now(), created_by_id=getattr(actor, "id", None))
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
    before = snapshot(rule, RULE_AUDIT_FIELDS)
    rule.valid_to = valid_to
    record("allowance_rule.end", rule, label=f"{rule.province.name}: {rule.legal_basis}", unit_path=rule.province.path,
           before=before, after=snapshot(rule, RULE_AUDIT_FIELDS), actor=actor)
    db.session.flush()
    return rule


def _specificity(rule: AllowanceRule) -> tuple:
    """Most conditions first; between rules with as many conditions, the VHW condition ranks
    before the zone, and the zone before the commune type. So in the Bình Phước draft (0.25× in
    ethnic zones, 0.125× for a VHW) a VHW in an ethnic zone gets the VHW rate, as the draft
    intends; a province wanting otherwise adds the combined rule (zone + VHW), which wins by
    having more conditions. Two matching rules never tie: with the same conditions set they
    would be the same case, which may not overlap in time."""
    flags = (rule.vhw_concurrent is not None, rule.zone is not None, rule.commune_category is not None)
    return (sum(flags), *flags)


def _matches(rule: AllowanceRule, on: date, category, zone, vhw: bool) -> bool:
    return (rule.valid_from <= on and (rule.valid_to is None or on < rule.valid_to)
            and (rule.commune_category is None or rule.commune_category == category)
            and (rule.zone is None or rule.zone == zone)
            and (rule.vhw_concurrent is None or rule.vhw_concurrent == vhw))


def pick_rule(rules: Iterable[AllowanceRule], *, on: date, commune_category, zone, vhw: bool) -> AllowanceRule | None:
    """The rule for a case among ``rules`` (already loaded): valid on the day, every non-null
    condition matching, the most specific winning (see :func:`_specificity`)."""
    category = commune_category.value if isinstance(commune_category, CommuneCategory) else commune_category
    zone = zone.value if isinstance(zone, Zone) else zone
    matching = [r for r in rules if _matches(r, on, category, zone, bool(vhw))]
    return max(matching, key=_specificity) if matching else None


def rule_for(province_id: int, *, on: date, commune_category, zone, vhw: bool) -> AllowanceRule | None:
    """The province's rule for a case on a date (the most specific rule valid that day)."""
    rules = db.session.scalars(select(AllowanceRule).where(
        AllowanceRule.province_id == province_id, AllowanceRule.valid_from <= on,
        or_(AllowanceRule.valid_to.is_(None), AllowanceRule.valid_to > on)))
    return pick_rule(rules, on=on, commune_category=commune_category, zone=zone, vhw=vhw)


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
                       legal_basis: str | None, actor) -> NetworkPolicy:
    """Issue a new version of the province's network policy from ``valid_from`` (older versions
    stay for the past; ``policy.policy_for`` reads the one in force). Whether a collaborator may
    cover an additional hamlet and whether that is paid, how often each collaborator must be
    visited (default a quarter, DOMAIN.md §7.3 proposal) and how many missed monthly meetings in a
    row put them under review (default 2, DOMAIN.md §7.2 proposal) are province decisions."""
    legal_basis = _clean(legal_basis)
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
                           created_at=now(), created_by_id=getattr(actor, "id", None))
    db.session.add(policy)
    record("network_policy.create", policy, label=f"{province.name}: {_vn(valid_from)}", unit_path=province.path,
           after=snapshot(policy, POLICY_AUDIT_FIELDS), actor=actor)
    try:
        db.session.flush()
    except IntegrityError as e:
        raise Conflict(_l("Phiên bản quy định cho ngày này vừa được người khác ghi. Vui lòng tải lại trang.")) from e
    return policy


# --- the monthly sheet ---------------------------------------------------------------------------


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


@dataclass
class Sheet:
    month: date
    groups: list[CommuneGroup]

    @property
    def first_day(self) -> date:
        return self.month

    @property
    def last_day(self) -> date:
        return month_end(self.month)

    @property
    def days_in_month(self) -> int:
        return self.last_day.day

    @property
    def lines(self) -> list[SheetLine]:
        return [line for g in self.groups for line in g.lines]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)

    @property
    def problems(self) -> int:
        return sum(g.problems for g in self.groups)


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
        self.cache: dict[tuple, list[tuple[AllowanceRule | None, BaseSalary | None, int | None]]] = {}

    def _salary(self, day: date) -> BaseSalary | None:
        found = None
        for s in self.salaries:
            if s.valid_from <= day:
                found = s
        return found

    def per_day(self, province_id: int, category, zone, vhw: bool):
        key = (province_id, category, zone, vhw)
        if key not in self.cache:
            rules = self.rules_by_province.get(province_id, [])
            out = []
            for day in self.days:
                rule = pick_rule(rules, on=day, commune_category=category, zone=zone, vhw=vhw)
                base = self._salary(day) if rule is not None and rule.basis == AllowanceBasis.COEFFICIENT else None
                out.append((rule, base, _amount_with(rule, base) if rule is not None else None))
            self.cache[key] = out
        return self.cache[key]


def communes_for(units: Sequence[AdminUnit], first: date, last: date) -> list[AdminUnit]:
    """The communes under (or equal to) the units that exist on at least one day of the period."""
    prefixes = _collapse(u.path for u in units)
    return list(db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == UnitLevel.COMMUNE.value, path_filter(prefixes),
                                AdminUnit.valid_from <= last,
                                or_(AdminUnit.valid_to.is_(None), AdminUnit.valid_to > first))
        .order_by(AdminUnit.code, AdminUnit.name)))


def monthly_sheet(units: Sequence[AdminUnit], month: date) -> Sheet:
    """The allowance sheet of a month for every assignment in force on at least one day of the
    month in the hamlets under ``units`` (communes, a province, a centre's served units).

    For each line: active days = days in force − days suspended; each active day is paid at the
    monthly amount of the rule (and base salary) in force that day; amount = round_half_up(Σ
    full_amount × days ÷ days in month). No rule → 0 and a warning; an additional hamlet not paid
    by the province's policy on the last day of the month → 0 and a note. Grouped by commune,
    with every commune of the area listed even without collaborators. Queries: the communes, the
    lines (one query), the suspensions, the rules and the base salaries, and the policy per
    province, whatever the number of lines."""
    first = month_start(month)
    last = month_end(first)
    days = _days(first, last)
    prefixes = _collapse(u.path for u in units)
    groups: dict[int, CommuneGroup] = {c.id: CommuneGroup(c) for c in communes_for(units, first, last)}
    if not prefixes:
        return Sheet(first, [])

    hamlet, commune = aliased(AdminUnit), aliased(AdminUnit)
    in_month = and_(path_filter(prefixes, Assignment.hamlet_path), Assignment.started_on <= last,
                    or_(Assignment.ended_on.is_(None), Assignment.ended_on > first))
    rows = db.session.execute(
        select(Assignment, hamlet, commune, Candidate.full_name, Candidate.national_id,
               Candidate.is_village_health_worker)
        .join(hamlet, Assignment.hamlet_id == hamlet.id)
        .outerjoin(commune, hamlet.parent_id == commune.id)
        .join(Collaborator, Assignment.collaborator_id == Collaborator.id)
        .join(Candidate, Collaborator.candidate_id == Candidate.id)
        .where(in_month)
        .order_by(commune.code, commune.name, hamlet.local_id, hamlet.name, Candidate.search_text,
                  Assignment.started_on, Assignment.id)).all()

    suspended: dict[int, list[Suspension]] = defaultdict(list)
    collaborator_ids = select(Assignment.collaborator_id).where(in_month)
    for s in db.session.scalars(select(Suspension).where(
            Suspension.collaborator_id.in_(collaborator_ids), Suspension.started_on <= last,
            or_(Suspension.ended_on.is_(None), Suspension.ended_on > first))):
        suspended[s.collaborator_id].append(s)

    province_ids = {province_id_of(r[1].path) for r in rows}
    rules = list(db.session.scalars(select(AllowanceRule).where(
        AllowanceRule.province_id.in_(sorted(province_ids)), AllowanceRule.valid_from <= last,
        or_(AllowanceRule.valid_to.is_(None), AllowanceRule.valid_to > first)))) if province_ids else []
    salaries = list(db.session.scalars(select(BaseSalary).where(BaseSalary.valid_from <= last)))
    rates = _Rates(rules, salaries, days)
    policies = {pid: policy_for(pid, last) for pid in province_ids}

    for assignment, hamlet_row, commune_row, full_name, national_id, vhw in rows:
        line = _sheet_line(assignment, hamlet_row, commune_row, full_name, national_id, bool(vhw), days,
                           suspended.get(assignment.collaborator_id, []), rates, policies)
        if line is None:
            continue
        key = commune_row.id if commune_row is not None else -hamlet_row.id
        if key not in groups:
            groups[key] = CommuneGroup(commune_row if commune_row is not None else hamlet_row)
        groups[key].lines.append(line)
    ordered = sorted(groups.values(), key=lambda g: (g.commune.code or "", g.commune.name))
    return Sheet(first, ordered)


def _sheet_line(assignment, hamlet, commune, full_name, national_id, vhw, days, suspensions, rates, policies):
    in_force = [d for d in days if assignment.open_on(d)]
    if not in_force:
        return None  # an assignment ended on the day it started: never in force
    active = [d for d in in_force if not any(s.open_on(d) for s in suspensions)]
    province_id = province_id_of(hamlet.path)
    category = commune_category_of(commune)
    zone = zone_of(hamlet)
    line = SheetLine(assignment=assignment, collaborator_id=assignment.collaborator_id, full_name=full_name,
                     national_id=national_id, hamlet=hamlet, commune=commune, commune_category=category, zone=zone,
                     vhw=vhw, kind=assignment.kind, days_in_force=len(in_force),
                     days_suspended=len(in_force) - len(active), days_in_month=len(days))
    per_day = rates.per_day(province_id, category.value if category else None, zone.value, vhw)
    index = {d: i for i, d in enumerate(days)}
    for d in active:
        rule, base, full = per_day[index[d]]
        seg = line.segments[-1] if line.segments else None
        # A suspension leaves a gap inside a segment: the rate, not the calendar, makes a segment.
        if seg is not None and seg.rule is rule and seg.base_salary is base:
            seg.last, seg.days = d, seg.days + 1
        else:
            line.segments.append(Segment(d, d, 1, rule, base, full))
    total = sum((Decimal(s.full_amount) * s.days for s in line.segments if s.full_amount is not None), Decimal(0))
    line.amount = round_half_up(total / len(days)) if line.segments else 0

    if line.days_suspended:
        line.notes.append(_l("Tạm đình chỉ %(n)d ngày, không tính bồi dưỡng.", n=line.days_suspended))
    if not active:
        line.notes.append(_l("Không có ngày hoạt động trong tháng."))
    for seg in line.segments:
        span = f"{seg.first.strftime('%d/%m')}–{seg.last.strftime('%d/%m')}"
        if seg.rule is None:
            line.problem = True
            line.notes.append(_l("%(s)s: không có mức bồi dưỡng nào áp dụng cho trường hợp này; cần ban hành mức.",
                                 s=span))
        elif seg.full_amount is None:
            line.problem = True
            line.notes.append(_l("%(s)s: chưa có mức lương cơ sở để tính mức theo hệ số.", s=span))
        elif line.split:
            line.notes.append(_l("%(s)s: %(n)d ngày × %(a)s/tháng (%(b)s).", s=span, n=seg.days,
                                 a=money(seg.full_amount), b=_basis_text(seg)))
    if line.split:
        line.notes.insert(0, _l("Mức bồi dưỡng thay đổi trong tháng: tính theo từng ngày."))
    if assignment.kind == AssignmentKind.ADDITIONAL:
        policy = policies.get(province_id)
        if policy is None or not policy.pay_additional_hamlet:
            line.amount = 0
            line.notes.append(_l("Thôn kiêm nhiệm: tỉnh không chi bồi dưỡng cho thôn kiêm nhiệm."))
    return line


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


def allowance_for(collaborator: Collaborator, on: date | None = None) -> list[ProfileAllowance]:
    """For each assignment open on ``on`` (default today): the rule in force for its case and the
    full monthly amount (before pro rata), with why it may not be paid (additional hamlet not paid
    by the province, suspension, no rule, no base salary)."""
    on = on or today()
    vhw = bool(collaborator.candidate.is_village_health_worker)
    suspended = any(s.open_on(on) for s in collaborator.suspensions)
    out = []
    for a in collaborator.assignments:
        if not a.open_on(on):
            continue
        hamlet, commune = a.hamlet, a.hamlet.parent
        category, zone = commune_category_of(commune), zone_of(hamlet)
        province_id = province_id_of(hamlet.path)
        rule = rule_for(province_id, on=on, commune_category=category, zone=zone, vhw=vhw)
        full = monthly_amount(rule, on) if rule is not None else None
        item = ProfileAllowance(a, hamlet, commune, category, zone, vhw, rule, full, paid=True, suspended=suspended)
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

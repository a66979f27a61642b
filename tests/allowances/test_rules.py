"""Base salary, allowance rules and the network policy: what is accepted, what is refused with a
message and nothing written, and which rule applies to a case (DOMAIN.md §3.3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule, CommuneCategory, Zone
from danso_network.collaborators.policy import policy_for
from danso_network.common import clock
from danso_network.errors import ValidationFailed
from danso_network.extensions import db

from .conftest import counts


def rule(world, **kw):
    values = dict(valid_from=date(2025, 9, 1), basis="fixed", amount=700_000, legal_basis="NQ 33/2025/NQ-HĐND",
                  actor=world.users["admin"])
    values.update(kw)
    return allowances.create_allowance_rule(world.dong_nai, **values)


# --- base salary -------------------------------------------------------------------------------


def test_base_salary_in_force_on_a_date(world, salaries):
    assert allowances.base_salary_on(date(2023, 6, 30)) is None
    assert allowances.base_salary_on(date(2023, 7, 1)).amount == 1_800_000
    assert allowances.base_salary_on(date(2024, 6, 30)).amount == 1_800_000
    assert allowances.base_salary_on(date(2024, 7, 1)).amount == 2_340_000
    assert [r.amount for r in allowances.base_salaries()] == [2_340_000, 1_800_000]


def test_base_salary_refuses_a_second_row_for_the_same_date(world, salaries):
    before = counts()
    with pytest.raises(ValidationFailed, match="Đã có mức lương cơ sở 2.340.000 đ") as e:
        allowances.set_base_salary(valid_from=date(2024, 7, 1), amount=2_500_000, legal_basis="NĐ ?",
                                   actor=world.users["admin"])
    assert e.value.field == "valid_from"
    db.session.rollback()
    assert counts() == before


@pytest.mark.parametrize("amount", [0, -1])
def test_base_salary_must_be_positive(world, amount):
    with pytest.raises(ValidationFailed, match="lớn hơn 0"):
        allowances.set_base_salary(valid_from=date(2026, 7, 1), amount=amount, legal_basis="NĐ x",
                                   actor=world.users["admin"])


# --- creating and ending rules -------------------------------------------------------------------


def test_a_rule_is_created_with_an_audit_event(world):
    before = counts()
    r = rule(world, commune_category="xa")
    assert (r.basis, r.amount, r.coefficient, r.commune_category, r.valid_to) == ("fixed", 700_000, None, "xa", None)
    after = counts()
    assert after["AllowanceRule"] == before["AllowanceRule"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1


def test_overlapping_rule_for_the_same_case_is_refused_and_nothing_written(world):
    rule(world, commune_category="xa")
    db.session.commit()
    before = counts()
    with pytest.raises(ValidationFailed, match="Trùng thời gian với mức đã có cho cùng trường hợp") as e:
        rule(world, commune_category="xa", valid_from=date(2026, 1, 1), amount=800_000)
    assert e.value.field == "valid_from"
    db.session.rollback()
    assert counts() == before


def test_rules_without_conditions_are_the_same_case(world):
    rule(world, amount=450_000, valid_to=date(2026, 1, 1))
    with pytest.raises(ValidationFailed, match="Trùng thời gian"):
        rule(world, amount=500_000, valid_from=date(2025, 12, 1))


def test_a_rule_may_start_the_day_the_previous_one_ends(world):
    old = rule(world, commune_category="xa", valid_to=date(2026, 1, 1))
    new = rule(world, commune_category="xa", valid_from=date(2026, 1, 1), amount=800_000)
    assert old.valid_to == new.valid_from


def test_a_rule_ending_before_an_open_rule_starts_does_not_overlap(world):
    rule(world, commune_category="xa", valid_from=date(2026, 1, 1))
    earlier = rule(world, commune_category="xa", valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1), amount=1)
    assert earlier.id


def test_overlap_in_time_for_different_cases_is_allowed(world):
    rule(world, commune_category="xa")
    rule(world, commune_category="phuong", amount=600_000)
    rule(world, commune_category="xa", zone="difficult", amount=900_000)
    rule(world, commune_category="xa", vhw_concurrent=False, amount=650_000)
    assert len(allowances.allowance_rules(world.dong_nai)) == 4


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"valid_to": date(2025, 9, 1)}, "valid_to", "Ngày hết hiệu lực phải sau ngày có hiệu lực"),
    ({"valid_to": date(2025, 8, 1)}, "valid_to", "Ngày hết hiệu lực phải sau ngày có hiệu lực"),
    ({"amount": None}, "amount", "vui lòng nhập số tiền"),
    ({"amount": -5}, "amount", "không được âm"),
    ({"basis": "coefficient", "amount": None}, "coefficient", "vui lòng nhập hệ số"),
    ({"basis": "coefficient", "amount": None, "coefficient": Decimal("-0.1")}, "coefficient", "không được âm"),
    ({"basis": "coefficient", "coefficient": Decimal("0.25")}, "amount", "chỉ nhập hệ số"),
    ({"coefficient": Decimal("0.25")}, "coefficient", "chỉ nhập số tiền"),
    ({"basis": "coefficient", "amount": None, "coefficient": Decimal("0.123456")}, "coefficient", "4 chữ số"),
    ({"basis": "monthly"}, "basis", "Cách tính không hợp lệ"),
    ({"zone": "mountain"}, "zone", "Vùng không hợp lệ"),
    ({"commune_category": "thi_tran"}, "commune_category", "Loại xã/phường không hợp lệ"),
    ({"legal_basis": "  "}, "legal_basis", "căn cứ"),
])
def test_bad_rules_are_refused_with_a_message(world, salaries, overrides, field, message):
    before = counts()
    with pytest.raises(ValidationFailed, match=message) as e:
        rule(world, **overrides)
    assert e.value.field == field
    db.session.rollback()
    assert counts() == before


def test_coefficient_rule_needs_a_base_salary_on_its_first_day(world, salaries):
    before = counts()
    with pytest.raises(ValidationFailed, match="Chưa có mức lương cơ sở áp dụng ngày 01/01/2022"):
        rule(world, valid_from=date(2022, 1, 1), basis="coefficient", amount=None, coefficient=Decimal("0.25"))
    db.session.rollback()
    assert counts() == before


def test_only_a_province_has_rules(world):
    with pytest.raises(ValidationFailed, match="tỉnh/thành phố"):
        allowances.create_allowance_rule(world.commune_a, valid_from=date(2025, 9, 1), basis="fixed", amount=1,
                                         legal_basis="x", actor=world.users["admin"])


def test_ending_an_open_rule(world):
    r = rule(world, commune_category="xa")
    allowances.end_allowance_rule(r, valid_to=date(2026, 1, 1), actor=world.users["admin"])
    assert r.valid_to == date(2026, 1, 1)
    assert allowances.rule_for(world.dong_nai.id, on=date(2025, 12, 31), commune_category="xa", zone="normal",
                               vhw=False) == r
    assert allowances.rule_for(world.dong_nai.id, on=date(2026, 1, 1), commune_category="xa", zone="normal",
                               vhw=False) is None


def test_ending_a_rule_twice_or_before_its_start_is_refused(world):
    r = rule(world, commune_category="xa")
    with pytest.raises(ValidationFailed, match="phải sau ngày có hiệu lực"):
        allowances.end_allowance_rule(r, valid_to=date(2025, 9, 1), actor=world.users["admin"])
    assert r.valid_to is None
    allowances.end_allowance_rule(r, valid_to=date(2026, 1, 1), actor=world.users["admin"])
    with pytest.raises(ValidationFailed, match="đã hết hiệu lực từ 01/01/2026"):
        allowances.end_allowance_rule(r, valid_to=date(2026, 6, 1), actor=world.users["admin"])
    assert r.valid_to == date(2026, 1, 1)


# --- which rule applies ------------------------------------------------------------------------


def find(world, on=date(2026, 3, 1), category="xa", zone="normal", vhw=False):
    return allowances.rule_for(world.dong_nai.id, on=on, commune_category=category, zone=zone, vhw=vhw)


def test_the_most_specific_rule_wins(world):
    anyone = rule(world, amount=500_000)
    xa = rule(world, commune_category="xa", amount=700_000)
    xa_difficult = rule(world, commune_category="xa", zone="difficult", amount=900_000)
    assert find(world, category="phuong") == anyone
    assert find(world, category="xa") == xa
    assert find(world, category="xa", zone="difficult") == xa_difficult
    assert find(world, category="xa", zone="difficult", vhw=True) == xa_difficult
    assert find(world, category="dac_khu", zone="difficult") == anyone
    assert find(world, on=date(2025, 8, 31)) is None


def test_equal_specificity_prefers_vhw_then_zone_then_commune_type(world, salaries):
    """Bình Phước draft 2022: 0.25× in ethnic zones, 0.2× elsewhere, 0.125× for a VHW who is also
    a collaborator; a VHW in an ethnic zone gets 0.125× (VHW ranks before zone)."""
    coef = dict(basis="coefficient", amount=None, legal_basis="Dự thảo NQ Bình Phước 2022")
    elsewhere = rule(world, coefficient=Decimal("0.2"), **coef)
    ethnic = rule(world, zone="difficult", coefficient=Decimal("0.25"), **coef)
    vhw = rule(world, vhw_concurrent=True, coefficient=Decimal("0.125"), **coef)
    phuong = rule(world, commune_category="phuong", coefficient=Decimal("0.3"), **coef)
    assert find(world, zone="normal") == elsewhere
    assert find(world, zone="difficult") == ethnic
    assert find(world, zone="difficult", vhw=True) == vhw
    assert find(world, category="phuong", zone="difficult") == ethnic  # zone ranks before commune type
    assert find(world, category="phuong", zone="normal") == phuong
    combined = rule(world, zone="difficult", vhw_concurrent=True, coefficient=Decimal("0.15"), **coef)
    assert find(world, zone="difficult", vhw=True) == combined  # more conditions win
    on = date(2026, 3, 1)
    assert allowances.monthly_amount(ethnic, on) == 585_000
    assert allowances.monthly_amount(vhw, on) == 292_500
    assert allowances.monthly_amount(elsewhere, on) == 468_000
    assert allowances.monthly_amount(combined, on) == 351_000


def test_rule_for_accepts_enums(world):
    xa = rule(world, commune_category="xa", zone="difficult")
    assert allowances.rule_for(world.dong_nai.id, on=date(2026, 3, 1), commune_category=CommuneCategory.XA,
                               zone=Zone.DIFFICULT, vhw=False) == xa


def test_rules_of_another_province_never_apply(world):
    allowances.create_allowance_rule(world.hanoi, valid_from=date(2025, 9, 1), basis="fixed", amount=1_000_000,
                                     legal_basis="NQ Hà Nội", actor=world.users["hanoi_admin"])
    assert find(world) is None


# --- amounts -----------------------------------------------------------------------------------


def test_monthly_amount_uses_the_base_salary_of_the_day(world, salaries):
    r = rule(world, valid_from=date(2024, 1, 1), basis="coefficient", amount=None, coefficient=Decimal("0.25"))
    assert allowances.monthly_amount(r, date(2024, 6, 30)) == 450_000  # 0.25 × 1,800,000
    assert allowances.monthly_amount(r, date(2024, 7, 1)) == 585_000  # 0.25 × 2,340,000


def test_monthly_amount_rounds_half_up(world, salaries):
    r = rule(world, valid_from=date(2024, 7, 1), basis="coefficient", amount=None, coefficient=Decimal("0.0001"))
    assert allowances.monthly_amount(r, date(2024, 7, 1)) == 234  # 234.0
    r2 = rule(world, valid_from=date(2024, 7, 1), commune_category="xa", basis="coefficient", amount=None,
              coefficient=Decimal("0.0002"))  # 0.0002 × 2,340,000 = 468
    assert allowances.monthly_amount(r2, date(2024, 7, 1)) == 468
    assert allowances.round_half_up(Decimal("248387.5")) == 248388
    assert allowances.round_half_up(Decimal("248387.4999")) == 248387


def test_monthly_amount_without_base_salary_is_a_problem_not_a_crash(world):
    """A coefficient rule written without a base salary (e.g. imported data): no amount, flagged."""
    r = AllowanceRule(province_id=world.dong_nai.id, valid_from=date(2025, 1, 1), basis="coefficient",
                      coefficient=Decimal("0.25"), legal_basis="x", created_at=datetime.now(UTC))
    db.session.add(r)
    db.session.flush()
    assert allowances.monthly_amount(r, date(2025, 3, 1)) is None


# --- network policy ----------------------------------------------------------------------------


def policy(world, **kw):
    values = dict(valid_from=date(2026, 1, 1), allow_additional_hamlet=True, pay_additional_hamlet=True,
                  visit_interval_days=92, missed_meetings_for_review=2, legal_basis="QĐ 1/2026",
                  actor=world.users["admin"])
    values.update(kw)
    return allowances.set_network_policy(world.dong_nai, **values)


def test_a_new_policy_version_applies_from_its_date(world):
    assert policy_for(world.dong_nai, date(2026, 1, 1)).pay_additional_hamlet is False  # default
    policy(world)
    policy(world, valid_from=date(2026, 6, 1), pay_additional_hamlet=False, visit_interval_days=60)
    assert policy_for(world.dong_nai, date(2025, 12, 31)).valid_from is None
    assert policy_for(world.dong_nai, date(2026, 1, 1)).pay_additional_hamlet is True
    later = policy_for(world.dong_nai, date(2026, 6, 1))
    assert (later.pay_additional_hamlet, later.visit_interval_days) == (False, 60)
    assert [p.valid_from for p in allowances.network_policies(world.dong_nai)] == [date(2026, 6, 1), date(2026, 1, 1)]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"visit_interval_days": 0}, "visit_interval_days", "Chu kỳ giám sát"),
    ({"visit_interval_days": -3}, "visit_interval_days", "Chu kỳ giám sát"),
    ({"missed_meetings_for_review": 0}, "missed_meetings_for_review", "Số tháng vắng giao ban"),
    ({"allow_additional_hamlet": False}, "pay_additional_hamlet", "kiêm nhiệm"),
])
def test_bad_policy_is_refused(world, overrides, field, message):
    before = counts()
    with pytest.raises(ValidationFailed, match=message) as e:
        policy(world, **overrides)
    assert e.value.field == field
    db.session.rollback()
    assert counts() == before


def test_two_policy_versions_on_the_same_day_are_refused(world):
    policy(world)
    db.session.commit()
    before = counts()
    with pytest.raises(ValidationFailed, match="Đã có phiên bản quy định có hiệu lực từ ngày 01/01/2026"):
        policy(world, visit_interval_days=30)
    db.session.rollback()
    assert counts() == before


def test_future_dates_are_allowed_for_settings(world):
    """A resolution is often issued before it takes effect."""
    r = rule(world, valid_from=clock.today() + timedelta(days=30))
    assert r.valid_from > clock.today()

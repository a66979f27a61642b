"""The monthly allowance sheet, with hand-computed examples (issue #4 item 5: "the allowance sheet
for a month adds up"). March 2026 has 31 days. Pro rata: full × active days ÷ 31, half-up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule
from danso_network.extensions import db
from tests.factories import appoint

from .conftest import MARCH, cover, suspend, transfer


def by_name(sheet):
    return {line.full_name: line for line in sheet.lines}


def name(serial: int) -> str:
    return f"Nguyễn Thị Ứng Viên {serial}"


@pytest.fixture
def march(world, hcm_rules):
    """Five collaborators in March 2026, with the 700,000 đ xã / 600,000 đ phường rules."""
    xa_hamlet, phuong_hamlet = world.hamlets_b[1], world.hamlets_a[0]
    appoint(xa_hamlet, 1)  # the whole month
    appoint(xa_hamlet, 2, started_on=date(2026, 3, 21))  # 21–31 March: 11 days
    suspended = appoint(xa_hamlet, 3)
    suspend(suspended, date(2026, 3, 10), date(2026, 3, 20))  # 10–19 March excluded: 10 days
    moved = appoint(phuong_hamlet, 4)
    transfer(moved, xa_hamlet, date(2026, 3, 16))  # phường 1–15, xã 16–31
    appoint(xa_hamlet, 5, started_on=date(2026, 4, 1))  # not yet: no line
    db.session.commit()
    return allowances.monthly_sheet([world.commune_a, world.commune_b], MARCH)


def test_whole_month(march):
    line = by_name(march)[name(1)]
    assert (line.days_active, line.days_in_month, line.full_amount, line.amount) == (31, 31, 700_000, 700_000)
    assert line.rule.legal_basis == "NQ 33/2025/NQ-HĐND"
    assert line.notes == [] and not line.problem


def test_started_on_the_21st(march):
    line = by_name(march)[name(2)]
    assert line.days_active == 11
    assert line.amount == 248_387  # 700,000 × 11 / 31 = 248,387.096…


def test_suspended_ten_days(march):
    line = by_name(march)[name(3)]
    assert (line.days_in_force, line.days_suspended, line.days_active) == (31, 10, 21)
    assert line.amount == 474_194  # 700,000 × 21 / 31 = 474,193.548…
    assert "Tạm đình chỉ 10 ngày" in str(line.notes[0])


def test_transfer_from_a_phuong_to_a_xa_gives_two_lines(march, world):
    lines = [line for line in march.lines if line.full_name == name(4)]
    assert [(line.commune.id, line.days_active, line.full_amount, line.amount) for line in lines] == [
        (world.commune_a.id, 15, 600_000, 290_323),  # 600,000 × 15 / 31 = 290,322.58…
        (world.commune_b.id, 16, 700_000, 361_290),  # 700,000 × 16 / 31 = 361,290.32…
    ]
    assert sum(line.amount for line in lines) == 651_613


def test_no_line_before_the_assignment_starts(march):
    assert name(5) not in by_name(march)


def test_totals_add_up(march, world):
    groups = {g.commune.id: g for g in march.groups}
    assert [g.commune.id for g in march.groups] == [world.commune_a.id, world.commune_b.id]
    assert groups[world.commune_a.id].total == 290_323
    assert groups[world.commune_b.id].total == 700_000 + 248_387 + 474_194 + 361_290 == 1_783_871
    assert march.total == 2_074_194 == sum(line.amount for line in march.lines)
    assert all(g.total == sum(line.amount for line in g.lines) for g in march.groups)


def test_one_commune_sheet_keeps_to_that_commune(march, world):
    sheet = allowances.monthly_sheet([world.commune_a], MARCH)
    assert [g.commune.id for g in sheet.groups] == [world.commune_a.id]
    assert [(line.full_name, line.amount) for line in sheet.lines] == [(name(4), 290_323)]


def test_province_sheet_equals_the_communes(march, world):
    sheet = allowances.monthly_sheet([world.dong_nai], MARCH)
    assert sheet.total == march.total
    assert [g.total for g in sheet.groups] == [g.total for g in march.groups]


def test_an_ended_assignment_is_paid_up_to_the_day_before_its_end(world, hcm_rules):
    c = appoint(world.hamlets_b[1], 11)
    a = c.assignments[0]
    a.ended_on, a.end_reason = date(2026, 3, 11), "resigned"  # last day served: 10 March
    db.session.flush()
    line = allowances.monthly_sheet([world.commune_b], MARCH).lines[0]
    assert (line.days_active, line.amount) == (10, 225_806)  # 700,000 × 10 / 31 = 225,806.45…
    assert allowances.monthly_sheet([world.commune_b], date(2026, 4, 1)).lines == []


def test_suspended_the_whole_month_is_a_line_at_zero(world, hcm_rules):
    c = appoint(world.hamlets_b[1], 12)
    suspend(c, date(2026, 2, 15), None)
    line = allowances.monthly_sheet([world.commune_b], MARCH).lines[0]
    assert (line.days_active, line.amount) == (0, 0)
    assert any("Không có ngày hoạt động" in str(n) for n in line.notes)


def test_suspension_half_open_and_outside_the_month(world, hcm_rules):
    c = appoint(world.hamlets_b[1], 13)
    suspend(c, date(2026, 2, 1), date(2026, 3, 3))  # 1–2 March excluded
    suspend(c, date(2026, 3, 31), date(2026, 4, 5))  # 31 March excluded
    line = allowances.monthly_sheet([world.commune_b], MARCH).lines[0]
    assert (line.days_suspended, line.days_active) == (3, 28)
    assert line.amount == 632_258  # 700,000 × 28 / 31 = 632,258.06…


# --- coefficients and changes within the month ----------------------------------------------------


@pytest.fixture
def coefficient_rules(world, salaries):
    """Bình Phước draft 2022 (0.25× ethnic/mountain zones, 0.2× elsewhere, 0.125× VHW)."""
    admin = world.users["admin"]
    coef = dict(basis="coefficient", legal_basis="Dự thảo NQ Bình Phước 2022", actor=admin)
    rules = {"elsewhere": allowances.create_allowance_rule(world.dong_nai, valid_from=date(2024, 7, 1),
                                                           coefficient=Decimal("0.2"), **coef),
             "ethnic": allowances.create_allowance_rule(world.dong_nai, valid_from=date(2024, 7, 1), zone="difficult",
                                                        coefficient=Decimal("0.25"), **coef),
             "vhw": allowances.create_allowance_rule(world.dong_nai, valid_from=date(2024, 7, 1),
                                                     vhw_concurrent=True, coefficient=Decimal("0.125"), **coef)}
    db.session.commit()
    return rules


def test_coefficient_times_base_salary(world, coefficient_rules):
    appoint(world.hamlets_b[0], 21)  # Ấp Tân Lập: difficult and ethnic-minority
    appoint(world.hamlets_b[0], 22, vhw=True)
    appoint(world.hamlets_b[1], 23)
    lines = by_name(allowances.monthly_sheet([world.commune_b], MARCH))
    assert lines[name(21)].amount == 585_000  # 0.25 × 2,340,000
    assert lines[name(22)].amount == 292_500  # 0.125 × 2,340,000: VHW ranks before zone
    assert lines[name(23)].amount == 468_000  # 0.2 × 2,340,000
    assert lines[name(21)].rule == coefficient_rules["ethnic"]
    assert (lines[name(22)].vhw, lines[name(21)].zone) == (True, allowances.Zone.DIFFICULT)


def test_base_salary_change_in_the_middle_of_the_month_splits_the_days(world, coefficient_rules):
    """A hypothetical new base salary from 16 March 2026: 15 days at 0.25 × 2,340,000 and 16 days at
    0.25 × 2,600,000: (585,000 × 15 + 650,000 × 16) / 31 = 19,175,000 / 31 = 618,548.39 → 618,548."""
    allowances.set_base_salary(valid_from=date(2026, 3, 16), amount=2_600_000, legal_basis="Giả định",
                               actor=world.users["admin"])
    appoint(world.hamlets_b[0], 24)
    line = allowances.monthly_sheet([world.commune_b], MARCH).lines[0]
    assert [(s.first.day, s.last.day, s.days, s.full_amount) for s in line.segments] == [
        (1, 15, 15, 585_000), (16, 31, 16, 650_000)]
    assert line.amount == 618_548
    assert line.full_amount == 650_000  # the rate at the end of the month
    assert "thay đổi trong tháng" in str(line.notes[0])


def test_rule_change_in_the_middle_of_the_month_splits_the_days(world, hcm_rules):
    """The xã rule replaced on 16 March by 800,000 đ: (700,000 × 15 + 800,000 × 16) / 31 = 751,612.9 → 751,613."""
    admin = world.users["admin"]
    allowances.end_allowance_rule(hcm_rules["xa"], valid_to=date(2026, 3, 16), actor=admin)
    new = allowances.create_allowance_rule(world.dong_nai, valid_from=date(2026, 3, 16), commune_category="xa",
                                           basis="fixed", amount=800_000, legal_basis="NQ mới", actor=admin)
    appoint(world.hamlets_b[1], 25)
    line = allowances.monthly_sheet([world.commune_b], MARCH).lines[0]
    assert [(s.days, s.full_amount) for s in line.segments] == [(15, 700_000), (16, 800_000)]
    assert line.amount == 751_613
    assert line.rule == new


# --- problems and additional hamlets ------------------------------------------------------------------


def test_no_rule_gives_zero_and_a_warning(world, hcm_rules):
    allowances.end_allowance_rule(hcm_rules["phuong"], valid_to=date(2026, 1, 1), actor=world.users["admin"])
    appoint(world.hamlets_a[1], 31)
    appoint(world.hamlets_b[1], 32)
    sheet = allowances.monthly_sheet([world.commune_a, world.commune_b], MARCH)
    line = by_name(sheet)[name(31)]
    assert (line.amount, line.rule, line.problem) == (0, None, True)
    assert "không có mức bồi dưỡng nào áp dụng" in str(line.notes[0])
    assert sheet.problems == 1
    assert sheet.total == 700_000


def test_coefficient_rule_without_base_salary_is_flagged(world):
    db.session.add(AllowanceRule(province_id=world.dong_nai.id, valid_from=date(2025, 1, 1), basis="coefficient",
                                 coefficient=Decimal("0.25"), legal_basis="x", created_at=datetime.now(UTC)))
    appoint(world.hamlets_b[1], 33)
    line = allowances.monthly_sheet([world.commune_b], MARCH).lines[0]
    assert (line.amount, line.full_amount, line.problem) == (0, None, True)
    assert "chưa có mức lương cơ sở" in str(line.notes[0])


def test_additional_hamlet_is_not_paid_unless_the_province_says_so(world, hcm_rules):
    c = appoint(world.hamlets_b[1], 41)
    cover(c, world.hamlets_b[0], date(2025, 10, 1))
    lines = allowances.monthly_sheet([world.commune_b], MARCH).lines
    extra = next(line for line in lines if line.kind == "additional")
    assert (extra.full_amount, extra.amount) == (700_000, 0)
    assert any("Thôn kiêm nhiệm" in str(n) for n in extra.notes)
    assert sum(line.amount for line in lines) == 700_000

    allowances.set_network_policy(world.dong_nai, valid_from=date(2026, 3, 31), allow_additional_hamlet=True,
                                  pay_additional_hamlet=True, visit_interval_days=92, missed_meetings_for_review=2,
                                  legal_basis="QĐ cho phép kiêm nhiệm", actor=world.users["admin"])
    lines = allowances.monthly_sheet([world.commune_b], MARCH).lines  # policy on the month's last day
    extra = next(line for line in lines if line.kind == "additional")
    assert extra.amount == 700_000 and extra.notes == []
    assert sum(line.amount for line in lines) == 1_400_000
    assert allowances.monthly_sheet([world.commune_b], date(2026, 2, 1)).total == 700_000


def test_empty_commune_is_listed_with_zero(world, hcm_rules):
    sheet = allowances.monthly_sheet([world.dong_nai], MARCH)
    assert [(g.commune.id, g.lines, g.total) for g in sheet.groups] == [
        (world.commune_a.id, [], 0), (world.commune_b.id, [], 0)]
    assert allowances.monthly_sheet([], MARCH).groups == []


def test_the_number_of_queries_does_not_grow_with_the_lines(world, hcm_rules):
    def queries(n: int) -> int:
        for i in range(n):
            appoint(world.hamlets_b[i % 2], 100 + n * 10 + i)
        db.session.commit()
        db.session.expire_all()
        seen = []
        engine = db.session.get_bind()
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            sheet = allowances.monthly_sheet([world.commune_a, world.commune_b], MARCH)
            read = [(line.hamlet.name, line.commune.full_name, line.rule.legal_basis)  # what the page reads
                    for line in sheet.lines]
            assert len(read) >= n
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = queries(2)
    many = queries(6)
    assert many == few > 0


# --- profile ------------------------------------------------------------------------------------


def test_allowance_for_the_profile(world, hcm_rules):
    c = appoint(world.hamlets_b[1], 51, vhw=True)
    cover(c, world.hamlets_b[0], date(2025, 10, 1))
    items = allowances.allowance_for(c, date(2026, 3, 1))
    assert [(i.hamlet.id, i.full_amount, i.paid) for i in items] == [
        (world.hamlets_b[1].id, 700_000, True), (world.hamlets_b[0].id, 700_000, False)]
    assert items[0].rule == hcm_rules["xa"] and items[0].vhw is True
    assert allowances.allowance_for(c, date(2025, 8, 1)) == []


# --- pages and totals (issue #8: the sheet is paginated in SQL, its totals aggregated in SQL) ------


@pytest.fixture
def mixed(world, coefficient_rules, hcm_rules):
    """Lines of every kind in March 2026 on top of both rule sets (the fixed ones win for a xã or
    phường, being more specific; a coefficient applies where only it matches): whole months,
    late starts, early ends, suspensions, transfers, an unpaid additional hamlet, VHWs, and a
    coefficient rule changed on 16 March."""
    admin = world.users["admin"]
    allowances.end_allowance_rule(coefficient_rules["ethnic"], valid_to=date(2026, 3, 16), actor=admin)
    allowances.create_allowance_rule(world.dong_nai, valid_from=date(2026, 3, 16), zone="difficult",
                                     commune_category="xa", basis="coefficient", coefficient=Decimal("0.3"),
                                     legal_basis="NQ giả định", actor=admin)
    hamlets = [*world.hamlets_a, *world.hamlets_b]
    for i in range(14):
        c = appoint(hamlets[i % len(hamlets)], 200 + i, started_on=date(2026, 3, 1 + i) if i % 3 == 1 else
                    date(2025, 9, 1), vhw=i % 4 == 0)
        if i % 5 == 2:
            suspend(c, date(2026, 3, 5 + i), date(2026, 3, 12 + i) if i % 2 else None)
        if i % 6 == 3:
            transfer(c, hamlets[(i + 1) % len(hamlets)], date(2026, 3, 10 + i))
        if i % 7 == 4:
            cover(c, world.hamlets_b[0], date(2026, 2, 1))
        if i == 13:
            a = c.assignments[0]
            a.ended_on, a.end_reason = date(2026, 3, 20), "resigned"
    db.session.commit()
    return [world.commune_a, world.commune_b]


def test_summary_equals_the_sum_of_the_lines(march, world):
    summary = allowances.sheet_summary([world.commune_a, world.commune_b], MARCH)
    assert (summary.lines, summary.collaborators) == (5, 4)  # the transferred collaborator has two lines
    assert summary.total == march.total == 2_074_194
    assert summary.days == sum(line.days_active for line in march.lines) == 31 + 11 + 21 + 15 + 16
    assert [(c.commune.id, c.start, c.lines, c.amount) for c in summary.communes] == [
        (g.commune.id, start, len(g.lines), g.total)
        for g, start in zip(march.groups, [0, len(march.groups[0].lines)], strict=True)]


def test_summary_of_every_kind_of_line_equals_the_lines(mixed, world):
    sheet = allowances.monthly_sheet(mixed, MARCH)
    summary = allowances.sheet_summary(mixed, MARCH)
    assert len(sheet.lines) > 14 and any(line.split for line in sheet.lines)
    assert any(line.days_suspended for line in sheet.lines) and any(line.kind == "additional" for line in sheet.lines)
    assert summary.total == sheet.total == sum(line.amount for line in sheet.lines)
    assert summary.lines == len(sheet.lines)
    assert summary.days == sum(line.days_active for line in sheet.lines)
    assert summary.problems == sheet.problems
    assert [(c.commune.id, c.lines, c.amount, c.problems) for c in summary.communes] == [
        (g.commune.id, len(g.lines), g.total, g.problems) for g in sheet.groups]
    province = allowances.sheet_summary([world.dong_nai], MARCH)
    assert (province.total, province.lines) == (summary.total, summary.lines)


@pytest.mark.parametrize("per_page", [1, 2, 3, 7, 50])
def test_pages_add_up_to_the_whole_sheet(mixed, world, per_page):
    sheet = allowances.monthly_sheet([world.dong_nai], MARCH)
    first = allowances.sheet_page([world.dong_nai], MARCH, 1, per_page)
    seen, communes_shown = [], []
    for number in range(1, first.page.pages + 1):
        page = allowances.sheet_page([world.dong_nai], MARCH, number, per_page)
        assert page.page.page == number and page.page.total == len(sheet.lines)
        assert len(page.page.items) == min(per_page, len(sheet.lines) - (number - 1) * per_page)
        # The totals shown on every page are the whole sheet's.
        assert (page.summary.total, page.summary.lines) == (sheet.total, len(sheet.lines))
        assert [line for g in page.groups for line in g.lines] == page.page.items
        seen += page.page.items
        communes_shown += [g.commune.id for g in page.groups if not g.continued]
    assert [(line.assignment.id, line.amount, line.days_active) for line in seen] == [
        (line.assignment.id, line.amount, line.days_active) for line in sheet.lines]
    assert sum(line.amount for line in seen) == first.summary.total
    # Each commune starts once, numbered from 1 and on without a gap across pages.
    assert communes_shown == [g.commune.id for g in sheet.groups]
    for group in sheet.groups:
        assert [line.number for line in seen if line.group_id == group.commune.id] == list(
            range(1, len(group.lines) + 1))


def test_a_page_past_the_end_shows_the_last_page(mixed, world):
    page = allowances.sheet_page([world.dong_nai], MARCH, 999, 4)
    assert page.page.page == page.page.pages and page.page.items
    assert page.groups[-1].complete


def test_a_commune_without_lines_is_on_the_page_of_its_position(world, hcm_rules):
    appoint(world.hamlets_b[1], 301)
    appoint(world.hamlets_b[1], 302)
    db.session.commit()
    summary = allowances.sheet_summary([world.dong_nai], MARCH)
    assert [(c.commune.id, c.lines) for c in summary.communes] == [(world.commune_a.id, 0), (world.commune_b.id, 2)]
    one = allowances.sheet_page([world.dong_nai], MARCH, 1, 1)
    assert [(g.commune.id, len(g.lines), g.complete) for g in one.groups] == [
        (world.commune_a.id, 0, True), (world.commune_b.id, 1, False)]
    two = allowances.sheet_page([world.dong_nai], MARCH, 2, 1)
    assert [(g.commune.id, len(g.lines), g.complete, g.continued) for g in two.groups] == [
        (world.commune_b.id, 1, True, True)]


def test_an_empty_sheet_has_one_page(world, hcm_rules):
    page = allowances.sheet_page([world.commune_a], MARCH)
    assert (page.page.total, page.page.pages, page.summary.total) == (0, 1, 0)
    assert [(g.commune.id, g.lines) for g in page.groups] == [(world.commune_a.id, [])]
    assert allowances.sheet_page([], MARCH).groups == []


def test_a_page_runs_as_many_queries_whatever_the_number_of_lines(world, hcm_rules):
    def queries(n: int) -> int:
        for i in range(n):
            c = appoint(world.hamlets_b[i % 2], 400 + n * 10 + i)
            if i % 2:
                suspend(c, date(2026, 3, 3 + i), None)
        db.session.commit()
        db.session.expire_all()
        seen = []
        engine = db.session.get_bind()
        listener = lambda *a, **k: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            page = allowances.sheet_page([world.dong_nai], MARCH, 1, 3)
            [(line.hamlet.name, line.commune.full_name, line.rule.legal_basis) for g in page.groups for line in g.lines]
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    assert queries(4) == queries(12)

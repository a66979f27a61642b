"""Allowance rules that tell apart collaborators holding "kiêm công tác gia đình và trẻ em"
(issue #9 item 15): a rule may be restricted to those with (or without) the duty; a sheet line
has the duty when it was held on at least one day of the month; the sheet page, its print and its
CSV show a "Kiêm GĐ&TE" column; the province's settings page sets the restriction."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule
from danso_network.collaborators import services as cs
from danso_network.collaborators.models import DutyKind
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from tests.factories import appoint

from .conftest import MARCH, counts

FC = DutyKind.FAMILY_CHILDREN
START = date(2025, 9, 1)


def name(serial: int) -> str:
    return f"Nguyễn Thị Ứng Viên {serial}"


def held(collaborator, started_on=START, ended_on=None):
    cs.start_duty(collaborator, FC, on=started_on, actor=None, decision_ref="QĐ 5/QĐ-TTYT")
    if ended_on is not None:
        cs.end_duty(collaborator, FC, on=ended_on, actor=None)


@pytest.fixture
def duty_rule(world, hcm_rules):
    """On top of 700,000 đ (xã) / 600,000 đ (phường): 800,000 đ in a xã for those holding the duty."""
    rule = allowances.create_allowance_rule(world.dong_nai, valid_from=START, commune_category="xa",
                                            family_children_duty=True, basis="fixed", amount=800_000,
                                            legal_basis="NQ giả định về CTV kiêm GĐ&TE", actor=world.users["admin"])
    db.session.commit()
    return rule


@pytest.fixture
def march(world, duty_rule):
    xa, phuong = world.hamlets_b[1], world.hamlets_a[0]
    held(appoint(xa, 1))  # the whole month with the duty
    appoint(xa, 2)  # never
    held(appoint(xa, 3), started_on=date(2026, 3, 20))  # from 20 March: held on a day of the month
    held(appoint(xa, 4), ended_on=date(2026, 3, 1))  # ended the day March began: not held in March
    held(appoint(xa, 5), ended_on=date(2026, 3, 2))  # held on 1 March only
    held(appoint(phuong, 6))  # a phường: the xã rule does not apply
    db.session.commit()
    return [world.commune_a, world.commune_b]


def test_a_rule_for_the_duty_applies_to_those_holding_it_in_the_month(march, duty_rule, hcm_rules):
    sheet = allowances.monthly_sheet(march, MARCH)
    lines = {line.full_name: line for line in sheet.lines}
    assert {n: (lines[name(n)].family_children, lines[name(n)].full_amount, lines[name(n)].amount)
            for n in range(1, 7)} == {
        1: (True, 800_000, 800_000), 2: (False, 700_000, 700_000), 3: (True, 800_000, 800_000),
        4: (False, 700_000, 700_000), 5: (True, 800_000, 800_000), 6: (True, 600_000, 600_000)}
    assert lines[name(1)].rule == duty_rule and lines[name(2)].rule == hcm_rules["xa"]
    summary = allowances.sheet_summary(march, MARCH)
    assert summary.total == sheet.total == 800_000 * 3 + 700_000 * 2 + 600_000
    assert [(c.commune.id, c.lines, c.amount) for c in summary.communes] == [
        (g.commune.id, len(g.lines), g.total) for g in sheet.groups]


def test_a_rule_for_those_without_the_duty(world, hcm_rules):
    allowances.create_allowance_rule(world.dong_nai, valid_from=START, family_children_duty=False, basis="fixed",
                                     amount=500_000, legal_basis="NQ giả định", actor=world.users["admin"])
    held(appoint(world.hamlets_b[1], 1))
    appoint(world.hamlets_b[1], 2)
    db.session.commit()
    lines = {line.full_name: line for line in allowances.monthly_sheet([world.commune_b], MARCH).lines}
    # Both conditions count one: the duty condition ranks first, so "without the duty" beats "xã".
    assert (lines[name(1)].full_amount, lines[name(2)].full_amount) == (700_000, 500_000)


def test_the_duty_outranks_the_vhw_condition_between_equally_specific_rules(world):
    admin = world.users["admin"]
    vhw = allowances.create_allowance_rule(world.dong_nai, valid_from=START, vhw_concurrent=True, basis="fixed",
                                           amount=300_000, legal_basis="A", actor=admin)
    duty = allowances.create_allowance_rule(world.dong_nai, valid_from=START, family_children_duty=True,
                                            basis="fixed", amount=900_000, legal_basis="B", actor=admin)
    find = lambda **kw: allowances.rule_for(world.dong_nai.id, on=MARCH, commune_category="xa",  # noqa: E731
                                            zone="normal", **kw)
    assert find(vhw=True, family_children=True) == duty
    assert find(vhw=True, family_children=False) == vhw
    assert find(vhw=False) is None  # family_children defaults to False


def test_rules_differing_by_the_duty_are_different_cases(world, duty_rule, hcm_rules):
    before = counts()
    with pytest.raises(ValidationFailed, match="Trùng thời gian"):
        allowances.create_allowance_rule(world.dong_nai, valid_from=date(2026, 1, 1), commune_category="xa",
                                         family_children_duty=True, basis="fixed", amount=1, legal_basis="C",
                                         actor=world.users["admin"])
    db.session.rollback()
    assert counts() == before


def test_the_profile_allowance_follows_the_duty_held_that_day(world, duty_rule, browser):
    c = appoint(world.hamlets_b[1], 1)
    held(c, started_on=date(2026, 1, 1))
    db.session.commit()
    [before] = allowances.allowance_for(c, date(2025, 12, 31))
    [after] = allowances.allowance_for(c, date(2026, 1, 1))
    assert (before.family_children, before.full_amount) == (False, 700_000)
    assert (after.family_children, after.full_amount, after.rule) == (True, 800_000, duty_rule)
    html = browser("truongtram_b").get(f"/collaborators/{c.id}").get_data(as_text=True)
    assert re.search(r"Thường · kiêm công tác GĐ&(amp;)?TE", html) and "800.000 đ" in html


# --- pages ----------------------------------------------------------------------------------------


def test_the_sheet_page_print_and_csv_show_the_duty(world, march, browser):
    head = browser("truongtram_b")
    url = f"/allowances/sheet/{world.commune_b.id}?month=2026-03"
    for html in (head.get(url).get_data(as_text=True),
                 head.get(url + "&all=1", buffered=True).get_data(as_text=True)):
        assert re.search(r"Kiêm GĐ&(amp;)?TE", html)
        assert html.count('data-family-children="1"') == 3 and html.count('data-family-children="0"') == 2
    body = head.get(url + "&format=csv", buffered=True).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header = rows[0]  # one header row (issue #11): the title block is in the XLSX and PDF only
    column = header.index("Kiêm GĐ&TE")
    assert header[column - 1] == "Kiêm NVYT thôn bản"
    by_name = {r[header.index("Họ và tên")]: r for r in rows[1:] if len(r) == len(header) and r[0]}
    assert by_name[name(1)][column] == "Có" and by_name[name(2)][column] == "Không"
    assert by_name[name(1)][header.index("Thành tiền (đồng)")] == "800000"
    assert all(len(r) == len(header) for r in rows[1:])  # the subtotal and total rows keep the columns
    assert rows[-1][header.index("Thành tiền (đồng)")] == str(800_000 * 2 + 700_000 * 2 + 800_000)


RULE = {"rule-commune_category": "xa", "rule-zone": "", "rule-vhw_concurrent": "", "rule-basis": "fixed",
        "rule-amount": "800.000", "rule-coefficient": "", "rule-valid_from": "01/09/2025", "rule-valid_to": "",
        "rule-legal_basis": "NQ giả định", "rule-note": "", "rule-submit": "1"}


def test_the_admin_restricts_a_rule_to_the_duty_on_the_settings_page(world, browser):
    admin = browser("admin75")
    url = f"/allowances/settings/{world.dong_nai.id}"
    assert 'name="rule-family_children_duty"' in admin.get(url).get_data(as_text=True)
    response = admin.post(url, {**RULE, "rule-family_children_duty": "yes"}, prefix="rule")
    assert response.status_code == 302
    rule = db.session.scalars(db.select(AllowanceRule)).one()
    assert (rule.commune_category, rule.family_children_duty, rule.amount) == ("xa", True, 800_000)
    html = admin.get(url).get_data(as_text=True)
    assert "Xã · kiêm công tác GĐ&amp;TE" in html
    before = counts()
    response = admin.post(url, {**RULE, "rule-family_children_duty": "maybe"}, prefix="rule")
    assert response.status_code == 422 and counts() == before

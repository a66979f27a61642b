"""Allowance pages: scope (anonymous → login, out of area → 403, readers cannot POST), the
printable sheet and its CSV, the settings page (add, end with confirmation, new policy version)
and the base salary page. Refused input shows a Vietnamese message and changes nothing."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import render_template
from flask_login import login_user

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule
from danso_network.auth import services as auth_services
from danso_network.auth.models import Role
from danso_network.collaborators.policy import policy_for
from danso_network.common import clock
from danso_network.extensions import db
from tests.factories import appoint

from ..conftest import csrf_token
from .conftest import counts


@pytest.fixture
def people(world, hcm_rules):
    appoint(world.hamlets_a[0], 1)  # phường: 600,000
    appoint(world.hamlets_b[1], 2, started_on=date(2026, 3, 21))  # xã, 11 days: 248,387
    db.session.commit()


def test_anonymous_users_are_sent_to_login(client, world):
    for url in ["/allowances/", f"/allowances/sheet/{world.commune_a.id}", f"/allowances/sheet/centre/{world.centre.id}",
                "/allowances/settings", f"/allowances/settings/{world.dong_nai.id}", "/allowances/base-salary"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_index_redirects_to_the_users_area(world, browser):
    assert browser("truongtram_a").get("/allowances/?month=2026-03").headers["Location"].endswith(
        f"/allowances/sheet/{world.commune_a.id}?month=2026-03")
    assert browser("ttyt689").get("/allowances/").headers["Location"].endswith(
        f"/allowances/sheet/centre/{world.centre.id}")
    assert browser("admin75").get("/allowances/").headers["Location"].endswith(f"/allowances/sheet/{world.dong_nai.id}")
    page = browser("chuacapquyen").get("/allowances/")
    assert page.status_code == 200 and "chưa được phân quyền" in page.get_data(as_text=True)


def test_commune_sheet_is_printable_with_the_amounts(world, people, browser):
    page = browser("truongtram_a").get(f"/allowances/sheet/{world.commune_a.id}?month=2026-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "BẢNG TỔNG HỢP CHI BỒI DƯỠNG CỘNG TÁC VIÊN DÂN SỐ – Tháng 03/2026" in html
    assert "Nguyễn Thị Ứng Viên 1" in html and "Nguyễn Thị Ứng Viên 2" not in html
    assert 'data-subtotal="600000"' in html
    for text in ["Người lập biểu", "Kế toán", "Trưởng trạm y tế", "data-print", "A4 landscape",
                 "Trạm Y tế Phường Bình Phước"]:
        assert text in html


def test_station_head_cannot_open_another_communes_or_the_provinces_sheet(world, people, browser):
    head_a = browser("truongtram_a")
    assert head_a.get(f"/allowances/sheet/{world.commune_b.id}").status_code == 403
    assert head_a.get(f"/allowances/sheet/{world.dong_nai.id}").status_code == 403
    assert head_a.get(f"/allowances/sheet/centre/{world.centre.id}").status_code == 403
    assert head_a.get("/allowances/sheet/999999").status_code == 404
    assert head_a.get("/allowances/sheet/centre/999999").status_code == 404


def test_centre_sheet_groups_its_communes_with_subtotals(world, people, browser):
    page = browser("ttyt689").get(f"/allowances/sheet/centre/{world.centre.id}?month=2026-03")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Trung tâm Y tế khu vực Đồng Xoài" in html
    assert 'data-subtotal="600000"' in html and 'data-subtotal="248387"' in html
    assert 'data-total="848387"' in html
    assert "Tổng hợp theo xã/phường" in html


def test_province_sheet_for_the_admin(world, people, browser):
    html = browser("admin75").get(f"/allowances/sheet/{world.dong_nai.id}?month=2026-03").get_data(as_text=True)
    assert 'data-total="848387"' in html
    assert browser("admin01").get(f"/allowances/sheet/{world.dong_nai.id}").status_code == 403


def test_bad_month_falls_back_to_the_current_month_with_a_message(world, people, browser):
    page = browser("truongtram_a").get(f"/allowances/sheet/{world.commune_a.id}?month=2026-13")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tháng “2026-13” không hợp lệ" in html
    assert f"Tháng {clock.today():%m/%Y}" in html


def test_csv_has_the_same_lines_for_excel(world, people, browser):
    response = browser("ttyt689").get(f"/allowances/sheet/centre/{world.centre.id}?month=2026-03&format=csv",
                                     buffered=True)  # streamed: read inside the request
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff")
    assert "Nguyễn Thị Ứng Viên 1" in body and ",248387," in body
    assert body.strip().splitlines()[-1].endswith(",848387,")


def test_province_sheet_pages_keep_the_whole_sheets_totals(world, people, browser, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 1)
    for i in range(3):
        appoint(world.hamlets_b[1], 10 + i)  # xã: 700,000 each
    db.session.commit()
    admin = browser("admin75")
    url = f"/allowances/sheet/{world.dong_nai.id}?month=2026-03"
    pages = [admin.get(f"{url}&page={n}").get_data(as_text=True) for n in range(1, 6)]
    total = 848_387 + 3 * 700_000
    for html in pages:  # every page shows the whole sheet's totals
        assert f'data-total="{total}"' in html and 'data-lines="5"' in html and 'data-collaborators="5"' in html
    names = [re.findall(r"Nguyễn Thị Ứng Viên \d+", html) for html in pages]
    assert all(len(found) == 1 for found in names)  # one line per page
    assert len({found[0] for found in names}) == 5  # page 2 shows the next line, and so on
    assert sum(int(a) for html in pages for a in re.findall(r'data-amount="(\d+)"', html)) == total
    assert "Còn tiếp ở trang sau" in pages[1] and "Hiện toàn bộ để in" in pages[0]
    printed = admin.get(f"{url}&all=1", buffered=True).get_data(as_text=True)  # streamed
    assert len(re.findall(r"Nguyễn Thị Ứng Viên \d+", printed)) == 5 and "Hiện toàn bộ để in" not in printed
    assert sum(int(a) for a in re.findall(r'data-amount="(\d+)"', printed)) == total
    assert 'data-subtotal="600000"' in printed and f'data-subtotal="{248_387 + 3 * 700_000}"' in printed
    body = admin.get(f"{url}&format=csv", buffered=True).get_data().decode("utf-8")
    assert body.count("Nguyễn Thị Ứng Viên") == 5 and body.strip().splitlines()[-1].endswith(f",{total},")


# --- settings -------------------------------------------------------------------------------------

RULE = {"rule-commune_category": "xa", "rule-zone": "", "rule-vhw_concurrent": "", "rule-basis": "fixed",
        "rule-amount": "700.000", "rule-coefficient": "", "rule-valid_from": "2025-09-01", "rule-valid_to": "",
        "rule-legal_basis": "NQ 33/2025/NQ-HĐND", "rule-note": "", "rule-submit": "1"}


def test_everyone_in_the_province_reads_the_settings_without_forms(world, hcm_rules, browser):
    page = browser("xem_b").get(f"/allowances/settings/{world.dong_nai.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "700.000 đ" in html and "NQ 33/2025/NQ-HĐND" in html and "Đang áp dụng" in html
    assert "Thêm mức bồi dưỡng" not in html
    assert browser("truongtram_a").get("/allowances/settings").headers["Location"].endswith(
        f"/allowances/settings/{world.dong_nai.id}")


def test_non_admin_post_is_refused(world, browser):
    before = counts()
    for user in ["truongtram_a", "ttyt689", "xem_b"]:
        assert browser(user).post(f"/allowances/settings/{world.dong_nai.id}", RULE, prefix="rule").status_code == 403
    assert counts() == before


def test_admin_of_another_province_can_neither_read_nor_edit(world, browser):
    hanoi = browser("admin01")
    before = counts()
    assert hanoi.get(f"/allowances/settings/{world.dong_nai.id}").status_code == 403
    assert hanoi.post(f"/allowances/settings/{world.dong_nai.id}", RULE, prefix="rule").status_code == 403
    assert counts() == before
    assert hanoi.get(f"/allowances/settings/{world.hanoi.id}").status_code == 200
    assert hanoi.get(f"/allowances/settings/{world.commune_c.id}").status_code == 404


def test_admin_adds_a_rule(world, browser):
    admin = browser("admin75")
    response = admin.post(f"/allowances/settings/{world.dong_nai.id}", RULE, prefix="rule")
    assert response.status_code == 302
    rule = db.session.scalars(db.select(AllowanceRule)).one()
    assert (rule.commune_category, rule.amount, rule.coefficient, rule.zone, rule.vhw_concurrent) == (
        "xa", 700_000, None, None, None)
    assert "Đã thêm mức bồi dưỡng 700.000 đ" in admin.get(response.headers["Location"]).get_data(as_text=True)


def test_admin_adds_a_coefficient_rule_typed_with_a_comma(world, salaries, browser):
    data = {**RULE, "rule-basis": "coefficient", "rule-coefficient": "0,25", "rule-zone": "difficult",
            "rule-vhw_concurrent": "no", "rule-amount": "999"}  # the stale amount is ignored
    assert browser("admin75").post(f"/allowances/settings/{world.dong_nai.id}", data, prefix="rule").status_code == 302
    rule = db.session.scalars(db.select(AllowanceRule)).one()
    assert (rule.basis, str(rule.coefficient.normalize()), rule.amount, rule.zone, rule.vhw_concurrent) == (
        "coefficient", "0.25", None, "difficult", False)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"rule-valid_from": "2026-01-01", "rule-amount": "800000"}, "Trùng thời gian với mức đã có"),
    ({"rule-commune_category": "phuong", "rule-valid_to": "2025-08-01"}, "Ngày hết hiệu lực phải sau ngày có hiệu lực"),
    ({"rule-commune_category": "phuong", "rule-amount": ""}, "vui lòng nhập số tiền"),
    ({"rule-commune_category": "phuong", "rule-amount": "-5"}, "Số tiền phải từ 0"),
    ({"rule-commune_category": "phuong", "rule-basis": "coefficient", "rule-coefficient": "abc"}, "Hệ số phải là số"),
    ({"rule-commune_category": "phuong", "rule-basis": "coefficient", "rule-coefficient": "0,25",
      "rule-valid_from": "2020-01-01"}, "Chưa có mức lương cơ sở áp dụng ngày 01/01/2020"),
    ({"rule-commune_category": "phuong", "rule-valid_from": "31/02/2026"}, "Ngày không hợp lệ"),
])
def test_bad_rule_is_shown_with_the_input_kept_and_nothing_saved(world, hcm_rules, salaries, browser, overrides,
                                                                  message):
    before = counts()
    response = browser("admin75").post(f"/allowances/settings/{world.dong_nai.id}", {**RULE, **overrides},
                                       prefix="rule")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'value="NQ 33/2025/NQ-HĐND"' in html
    assert counts() == before


def test_ending_a_rule_needs_confirmation(world, hcm_rules, browser):
    admin = browser("admin75")
    url = f"/allowances/settings/{world.dong_nai.id}"
    rule = hcm_rules["xa"]
    data = {"end-rule_id": str(rule.id), "end-valid_to": "2026-07-01", "end-submit": "1"}
    before = counts()
    response = admin.post(url, data, prefix="end")
    assert response.status_code == 422 and "Vui lòng đánh dấu xác nhận" in response.get_data(as_text=True)
    assert counts() == before
    response = admin.post(url, {**data, "end-confirm": "y"}, prefix="end")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AllowanceRule, rule.id).valid_to == date(2026, 7, 1)
    # An ended rule is no longer offered, and cannot be ended again.
    response = admin.post(url, {**data, "end-valid_to": "2026-08-01", "end-confirm": "y"}, prefix="end")
    assert response.status_code == 422 and "Vui lòng chọn một mức đang áp dụng" in response.get_data(as_text=True)
    assert db.session.get(AllowanceRule, rule.id).valid_to == date(2026, 7, 1)


def test_ending_a_rule_of_another_province_is_not_possible(world, hcm_rules, browser):
    other = allowances.create_allowance_rule(world.hanoi, valid_from=date(2025, 9, 1), basis="fixed", amount=1,
                                             legal_basis="NQ HN", actor=world.users["hanoi_admin"])
    db.session.commit()
    response = browser("admin75").post(f"/allowances/settings/{world.dong_nai.id}",
                                       {"end-rule_id": str(other.id), "end-valid_to": "2026-07-01",
                                        "end-confirm": "y", "end-submit": "1"}, prefix="end")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(AllowanceRule, other.id).valid_to is None


POLICY = {"policy-valid_from": "2026-01-01", "policy-allow_additional_hamlet": "y", "policy-pay_additional_hamlet": "y",
          "policy-visit_interval_days": "92", "policy-missed_meetings_for_review": "2",
          "policy-legal_basis": "QĐ 12/2026/QĐ-UBND", "policy-submit": "1"}


def test_admin_issues_a_policy_version(world, browser):
    admin = browser("admin75")
    url = f"/allowances/settings/{world.dong_nai.id}"
    assert admin.post(url, POLICY, prefix="policy").status_code == 302
    assert policy_for(world.dong_nai, date(2026, 2, 1)).pay_additional_hamlet is True
    before = counts()
    response = admin.post(url, {**POLICY, "policy-visit_interval_days": "30"}, prefix="policy")
    assert response.status_code == 422
    assert "Đã có phiên bản quy định có hiệu lực từ ngày 01/01/2026" in response.get_data(as_text=True)
    response = admin.post(url, {**POLICY, "policy-valid_from": "2026-02-01", "policy-visit_interval_days": "0"},
                          prefix="policy")
    assert response.status_code == 422 and "Chu kỳ giám sát phải từ 1 đến 366 ngày" in response.get_data(as_text=True)
    assert counts() == before
    assert "QĐ 12/2026/QĐ-UBND" in admin.get(url).get_data(as_text=True)


def test_post_without_a_known_form_changes_nothing(world, browser):
    before = counts()
    response = browser("admin75").post(f"/allowances/settings/{world.dong_nai.id}", {"x": "1"})
    assert response.status_code == 302
    assert counts() == before


# --- base salary --------------------------------------------------------------------------------


def test_base_salary_page(world, salaries, browser):
    page = browser("xem_b").get("/allowances/base-salary")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nghị định 73/2024/NĐ-CP" in html and "Ghi mức lương cơ sở mới" not in html
    assert browser("chuacapquyen").get("/allowances/base-salary").status_code == 403


def test_only_an_admin_of_every_province_records_the_base_salary(world, salaries, browser):
    """The base salary is national: it changes every province's sheets, so a province admin of
    Đồng Nai alone (the world also has Hà Nội) is refused, and sees no form."""
    data = {"valid_from": "2026-07-01", "amount": "2.530.000", "legal_basis": "Nghị định mới"}
    before = counts()
    for username in ("truongtram_a", "admin75", "admin01"):
        assert browser(username).post("/allowances/base-salary", data).status_code == 403, username
    page = browser("admin75").get("/allowances/base-salary").get_data(as_text=True)
    assert "Ghi mức lương cơ sở mới" not in page and "quản trị của mọi tỉnh, thành phố" in page
    assert counts() == before
    auth_services.grant_role(world.users["admin"], Role.PROVINCE_ADMIN, unit=world.hanoi,
                             valid_from=date(2025, 1, 1))
    db.session.commit()
    admin = browser("admin75")
    assert "Ghi mức lương cơ sở mới" in admin.get("/allowances/base-salary").get_data(as_text=True)
    assert admin.post("/allowances/base-salary", data).status_code == 302
    assert allowances.base_salary_on(date(2026, 7, 1)).amount == 2_530_000
    before = counts()
    response = admin.post("/allowances/base-salary", {**data, "amount": "2600000"})
    assert response.status_code == 422 and "Mỗi ngày chỉ có một mức" in response.get_data(as_text=True)
    response = admin.post("/allowances/base-salary", {**data, "valid_from": "2026-08-01", "amount": "0"})
    assert response.status_code == 422 and "Mức lương cơ sở phải lớn hơn 0" in response.get_data(as_text=True)
    assert counts() == before


# --- profile partial ----------------------------------------------------------------------------


def test_profile_section_shows_the_current_allowance(app, world, hcm_rules):
    c = appoint(world.hamlets_b[1], 61)
    with app.test_request_context("/"):
        login_user(world.users["head_b"])
        section = allowances.profile_section(c, world.users["head_b"])
        html = render_template("allowances/_profile_section.html", allowance_section=section)
    assert "Bồi dưỡng hằng tháng" in html and "700.000" in html and "NQ 33/2025/NQ-HĐND" in html
    assert f"/allowances/sheet/{world.commune_b.id}" in html


# --- every allowance route, walked as tests/test_access.py does --------------------------------

OUTSIDE_HEAD_A = {"unit_id": lambda w: w.commune_b.id, "facility_id": lambda w: w.station_b.id,
                  "province_id": lambda w: w.hanoi.id}
INSIDE_HEAD_A = {"unit_id": lambda w: w.commune_a.id, "facility_id": lambda w: w.station_a.id,
                 "province_id": lambda w: w.dong_nai.id}


def _allowance_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("allowances.")]


def _url(rule, world, objects) -> str:
    return rule.build({arg: objects[arg](world) for arg in rule.arguments}, append_unknown=False)[1]


def test_every_allowance_route_is_scoped(app, client, world, browser):
    rules = _allowance_rules(app)
    assert len(rules) == 6
    head_a, nogrant = browser("truongtram_a"), browser("chuacapquyen")
    token = csrf_token(client)  # a valid token, so it is the login check that refuses
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = _url(rule, world, OUTSIDE_HEAD_A)
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
            if rule.arguments:
                data = {"csrf_token": head_a.token} if method == "POST" else None
                assert head_a.client.open(url, method=method, data=data).status_code == 403, (method, url)
                inside = _url(rule, world, INSIDE_HEAD_A)
                if method == "GET":
                    assert head_a.get(inside).status_code == 200, inside
                    assert nogrant.get(inside).status_code == 403, inside


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1)"])
def test_csv_never_carries_a_live_formula(world, people, browser, name):
    """Issue #9 item 1 (OWASP CSV injection): a hamlet renamed to a formula is written as text."""
    from danso_network.units import services as unit_services

    for i, hamlet in enumerate([*world.hamlets_a, *world.hamlets_b]):
        unit_services.update_hamlet(hamlet, name=f"{name}{i}", type=hamlet.type, households=hamlet.households)
    db.session.commit()
    body = browser("ttyt689").get(f"/allowances/sheet/centre/{world.centre.id}?month=2026-03&format=csv",
                                  buffered=True).get_data().decode("utf-8")
    cells = [cell for row in csv.reader(io.StringIO(body.lstrip("\ufeff"))) for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) or (cell.startswith("-") and not cell[1:].isdigit())
                   for cell in cells), [c for c in cells if c[:1] in "=+-@"]
    assert any(cell.startswith("'" + name) for cell in cells)
    assert body.strip().splitlines()[-1].endswith(",848387,")


@pytest.mark.parametrize(("user", "path", "signer"), [
    ("truongtram_a", "/allowances/sheet/{commune_a}", "Trưởng trạm y tế"),
    ("ttyt689", "/allowances/sheet/centre/{centre}", "Giám đốc trung tâm y tế"),
    ("admin75", "/allowances/sheet/{province}", "Giám đốc Sở Y tế"),
])
def test_the_sheet_is_signed_by_the_head_of_its_level(world, people, browser, user, path, signer):
    """Issue #9 item 21: the province sheet was signed "Trưởng trạm"."""
    url = path.format(commune_a=world.commune_a.id, centre=world.centre.id, province=world.dong_nai.id)
    html = browser(user).get(url + "?month=2026-03").get_data(as_text=True)
    assert signer in html
    assert all(other not in html for other in {"Trưởng trạm y tế", "Giám đốc trung tâm y tế", "Giám đốc Sở Y tế"}
               - {signer})

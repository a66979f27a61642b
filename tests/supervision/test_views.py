"""Supervision through its web pages: the "done when" (a centre officer records a visit and the
overdue list shrinks), the chain page on past dates, follow-ups, links, meetings, the lists and
the dashboard, and the bad paths (bad input changes nothing; anonymous, out-of-scope and
read-only users are refused)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import func, select

from danso_network.auth import services as auth_services
from danso_network.auth.models import Role
from danso_network.common import clock
from danso_network.extensions import db
from danso_network.supervision import services
from danso_network.supervision.models import MonthlyMeeting, ProfessionalLink, SupervisionVisit

from ..factories import UserFactory, appoint
from .conftest import counts

VISIT_DAY = date(2026, 3, 2)


def visit_form(**overrides) -> dict:
    data = {"visited_on": VISIT_DAY.isoformat(), "item_register_up_to_date": "yes", "item_p0_submitted": "yes",
            "item_meeting_attended": "no", "item_contraceptive_stock": "na", "findings": "Sổ A0 đầy đủ",
            "follow_up": "Dự giao ban tháng tới", "follow_up_due": "2026-04-01"}
    data.update(overrides)
    return data


def listed(html: str, attribute: str = "data-collaborator") -> set[int]:
    return {int(x) for x in re.findall(rf'{attribute}="(\d+)"', html)}


def test_centre_officer_records_a_visit_and_the_overdue_list_shrinks(world, browser):
    a1 = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    a2 = appoint(world.hamlets_a[1], 2, started_on=date(2025, 9, 1))
    b1 = appoint(world.hamlets_b[0], 3, started_on=date(2025, 9, 1))
    db.session.commit()
    centre = browser("ttyt689")
    overdue_url = "/supervision/overdue?as_of=2026-03-15"
    page = centre.get(overdue_url).get_data(as_text=True)
    assert listed(page) == {a1.id, a2.id, b1.id}
    assert "Nguyễn Thị Ứng Viên 1" in page and "Chưa giám sát (bắt đầu 01/09/2025)" in page

    form = centre.get(f"/supervision/visits/new/{a1.id}").get_data(as_text=True)
    assert "Sổ A0 được lưu giữ và cập nhật" in form and "Thông tư 02/2021/TT-BYT Điều 3 khoản 7" in form
    response = centre.post(f"/supervision/visits/new/{a1.id}", visit_form())
    assert response.status_code == 302
    visit = db.session.scalar(select(SupervisionVisit).where(SupervisionVisit.collaborator_id == a1.id))
    assert visit.supervisor == world.users["centre"] and visit.score == 67
    assert visit.checklist["meeting_attended"] is False and visit.checklist["contraceptive_stock"] is None
    assert visit.follow_up_due == date(2026, 4, 1)
    assert response.headers["Location"].endswith(f"/supervision/visits/{visit.id}")

    page = centre.get(overdue_url).get_data(as_text=True)
    assert listed(page) == {a2.id, b1.id}
    shown = centre.get(f"/supervision/visits/{visit.id}").get_data(as_text=True)
    assert "Phiếu giám sát cộng tác viên dân số" in shown and "text-uppercase" in shown
    assert "67%" in shown and "Dự giao ban tháng tới" in shown and "data-print" in shown


def test_station_head_sees_only_own_commune_in_the_lists(world, browser):
    a1, b1 = appoint(world.hamlets_a[0], 1), appoint(world.hamlets_b[0], 2)
    services.record_visit(b1, supervisor=world.users["head_b"], visited_on=date(2026, 1, 5),
                          checklist={"register_up_to_date": False}, follow_up="Cập nhật sổ",
                          follow_up_due=date(2026, 1, 20))
    db.session.commit()
    head_a = browser("truongtram_a")
    assert listed(head_a.get("/supervision/overdue?as_of=2026-03-15").get_data(as_text=True)) == {a1.id}
    assert listed(head_a.get("/supervision/follow-ups?as_of=2026-03-15").get_data(as_text=True), "data-visit") == set()
    assert "Cập nhật sổ" not in head_a.get("/supervision/visits").get_data(as_text=True)
    # Narrowing to a commune outside the scope is ignored, never widened.
    assert listed(head_a.get(f"/supervision/overdue?as_of=2026-03-15&commune={world.commune_b.id}")
                  .get_data(as_text=True)) == {a1.id}
    nobody = browser("chuacapquyen")
    assert listed(nobody.get("/supervision/overdue?as_of=2026-03-15").get_data(as_text=True)) == set()


def test_visit_in_the_future_is_refused_and_keeps_the_input(world, browser):
    a1 = appoint(world.hamlets_a[0], 1)
    db.session.commit()
    centre = browser("ttyt689")
    before = counts()
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = centre.post(f"/supervision/visits/new/{a1.id}",
                                       visit_form(visited_on=tomorrow, findings="Ghi chú giữ lại"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ngày giám sát không được ở tương lai" in html and "Ghi chú giữ lại" in html
    assert counts() == before


def test_visit_with_nothing_checked_is_refused(world, browser):
    a1 = appoint(world.hamlets_a[0], 1)
    db.session.commit()
    centre = browser("ttyt689")
    before = counts()
    response = centre.post(f"/supervision/visits/new/{a1.id}", {"visited_on": VISIT_DAY.isoformat()})
    assert response.status_code == 422
    assert "ít nhất một nội dung" in response.get_data(as_text=True)
    assert counts() == before


def test_unknown_and_out_of_scope_collaborators(world, browser):
    b1 = appoint(world.hamlets_b[0], 1)
    db.session.commit()
    head_a = browser("truongtram_a")
    before = counts()
    assert head_a.get("/supervision/visits/new/999999").status_code == 404
    assert head_a.get("/supervision/chain/999999").status_code == 404
    assert head_a.get(f"/supervision/visits/new/{b1.id}").status_code == 403
    assert head_a.post(f"/supervision/visits/new/{b1.id}", visit_form()).status_code == 403
    assert head_a.get(f"/supervision/chain/{b1.id}").status_code == 403
    assert counts() == before


def test_viewer_reads_but_cannot_record(world, browser):
    b1 = appoint(world.hamlets_b[0], 1)
    visit = services.record_visit(b1, supervisor=world.users["head_b"], visited_on=date(2026, 1, 5),
                                  checklist={"register_up_to_date": False}, follow_up="Cập nhật sổ",
                                  follow_up_due=date(2026, 1, 20))
    db.session.commit()
    viewer = browser("xem_b")
    before = counts()
    assert viewer.get(f"/supervision/chain/{b1.id}").status_code == 200
    assert viewer.get(f"/supervision/visits/{visit.id}").status_code == 200
    assert viewer.get(f"/supervision/meetings/{world.commune_b.id}").status_code == 200
    assert viewer.get(f"/supervision/links/{world.commune_b.id}").status_code == 200
    assert "Xác nhận đã khắc phục" not in viewer.get(f"/supervision/visits/{visit.id}").get_data(as_text=True)
    assert viewer.post(f"/supervision/visits/new/{b1.id}", visit_form()).status_code == 403
    assert viewer.post(f"/supervision/visits/{visit.id}/close-follow-up",
                       {"closed_on": "2026-01-10", "result": "x"}).status_code == 403
    assert viewer.post(f"/supervision/links/{world.commune_b.id}",
                       {"kind": "labour_social", "person_name": "X", "valid_from": "2026-01-01"}).status_code == 403
    assert viewer.post(f"/supervision/meetings/{world.commune_b.id}/record?month=2026-03",
                       {"held_on": "2026-03-25", "row": str(b1.id), f"attended-{b1.id}": "y"}).status_code == 403
    assert counts() == before


@pytest.mark.parametrize("url", [
    "/supervision/", "/supervision/visits", "/supervision/overdue", "/supervision/follow-ups",
    "/supervision/under-review",
])
def test_anonymous_users_are_sent_to_login(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_close_follow_up_through_the_page_once(world, browser):
    a1 = appoint(world.hamlets_a[0], 1)
    visit = services.record_visit(a1, supervisor=world.users["centre"], visited_on=date(2026, 1, 5),
                                  checklist={"register_up_to_date": False}, follow_up="Cập nhật Sổ A0",
                                  follow_up_due=date(2026, 1, 20))
    db.session.commit()
    officer = browser("vienchuc_a")
    assert listed(officer.get("/supervision/follow-ups?as_of=2026-02-01").get_data(as_text=True),
                  "data-visit") == {visit.id}
    bad = officer.post(f"/supervision/visits/{visit.id}/close-follow-up", {"closed_on": "2026-01-04", "result": "Xong"})
    assert bad.status_code == 422 and "không được trước ngày giám sát" in bad.get_data(as_text=True)
    ok = officer.post(f"/supervision/visits/{visit.id}/close-follow-up",
                      {"closed_on": "2026-01-18", "result": "Đã cập nhật đủ 180 hộ"})
    assert ok.status_code == 302
    db.session.refresh(visit)
    assert visit.follow_up_closed_on == date(2026, 1, 18)
    before = counts()
    again = officer.post(f"/supervision/visits/{visit.id}/close-follow-up",
                         {"closed_on": "2026-01-19", "result": "Lần hai"})
    assert again.status_code == 422 and "đã được xác nhận hoàn thành ngày 18/01/2026" in again.get_data(as_text=True)
    assert counts() == before
    assert listed(officer.get("/supervision/follow-ups?as_of=2026-02-01").get_data(as_text=True), "data-visit") == set()


def test_chain_page_on_a_past_date(world, browser):
    a1 = appoint(world.hamlets_a[0], 1)
    old = world.users["head_a"]
    auth_services.end_grant(old.grants[0], on=date(2026, 2, 1))
    successor = UserFactory(username="truongtram_moi", full_name="Võ Thị Trạm Trưởng Mới")
    auth_services.grant_role(successor, Role.STATION_HEAD, facility=world.station_a, valid_from=date(2026, 2, 1))
    services.set_professional_link(world.commune_a, kind="labour_social", person_name="Trần Văn Lao Động",
                                   valid_from=date(2025, 9, 1))
    services.set_professional_link(world.commune_a, kind="culture_sports", person_name="Phạm Thị Văn Hoá",
                                   valid_from=date(2026, 1, 1))
    db.session.commit()
    centre = browser("ttyt689")
    past = centre.get(f"/supervision/chain/{a1.id}?on=2025-12-01").get_data(as_text=True)
    now = centre.get(f"/supervision/chain/{a1.id}?on=2026-03-01").get_data(as_text=True)
    assert old.full_name in past and successor.full_name not in past
    assert "Trần Văn Lao Động" in past and "Phạm Thị Văn Hoá" not in past
    assert successor.full_name in now and old.full_name not in now
    assert "Trần Văn Lao Động" in now and "Phạm Thị Văn Hoá" in now
    for name in (world.users["officer_a"].full_name, world.users["centre"].full_name, world.users["admin"].full_name,
                 "Trung tâm Y tế khu vực Đồng Xoài", "Sở Y tế Thành phố Đồng Nai"):
        assert name in now


def test_links_page_add_and_end_with_confirmation(world, browser):
    head = browser("truongtram_a")
    url = f"/supervision/links/{world.commune_a.id}"
    response = head.post(url, {"kind": "labour_social", "person_name": "Trần Văn Lao", "position": "Công chức LĐTBXH",
                               "valid_from": "2025-09-01", "legal_basis": "KH 14676/KH-UBND"})
    assert response.status_code == 302
    link = db.session.scalar(select(ProfessionalLink).where(ProfessionalLink.commune_id == world.commune_a.id))
    assert (link.person_name, link.valid_from, link.created_by_id) == ("Trần Văn Lao", date(2025, 9, 1),
                                                                       world.users["head_a"].id)
    before = counts()
    bad = head.post(url, {"kind": "labour_social", "person_name": "Người mới", "valid_from": "2025-08-01"})
    assert bad.status_code == 422 and "phải sau ngày bắt đầu của người đang phụ trách" in bad.get_data(as_text=True)
    assert counts() == before
    end_url = f"/supervision/links/{world.commune_a.id}/end?link_id={link.id}"
    assert "Kết thúc phụ trách" in head.get(end_url).get_data(as_text=True)
    unconfirmed = head.post(end_url, {"link_id": link.id, "valid_to": "2026-02-01"})
    assert unconfirmed.status_code == 422 and "xác nhận" in unconfirmed.get_data(as_text=True)
    db.session.refresh(link)
    assert link.valid_to is None
    assert head.post(end_url, {"link_id": link.id, "valid_to": "2026-02-01", "confirm": "y"}).status_code == 302
    db.session.refresh(link)
    assert link.valid_to == date(2026, 2, 1)
    # Another commune's links and a link of another commune through this URL are refused.
    assert head.post(f"/supervision/links/{world.commune_b.id}",
                     {"kind": "labour_social", "person_name": "X", "valid_from": "2026-01-01"}).status_code == 403
    assert head.get(f"/supervision/links/{world.commune_a.id}/end?link_id=999999").status_code == 404
    assert head.get(f"/supervision/links/{world.hamlets_a[0].id}").status_code == 404


def test_record_a_meeting_through_the_page(world, browser):
    a1, a2 = appoint(world.hamlets_a[0], 1), appoint(world.hamlets_a[1], 2)
    b1 = appoint(world.hamlets_b[0], 3)
    db.session.commit()
    officer = browser("vienchuc_a")
    url = f"/supervision/meetings/{world.commune_a.id}/record?month=2026-03"
    page = officer.get(url).get_data(as_text=True)
    assert "Nguyễn Thị Ứng Viên 1" in page and "Nguyễn Thị Ứng Viên 2" in page and "Nguyễn Thị Ứng Viên 3" not in page
    before = counts()
    outsider = officer.post(url, {"held_on": "2026-03-25", "row": [str(a1.id), str(b1.id)], f"attended-{a1.id}": "y"})
    assert outsider.status_code == 422 and "Không thuộc danh sách CTV" in outsider.get_data(as_text=True)
    assert counts() == before
    early = officer.post(url, {"held_on": "2026-02-27", "row": [str(a1.id), str(a2.id)]})
    assert early.status_code == 422 and "không được trước tháng giao ban" in early.get_data(as_text=True)
    assert counts() == before
    ok = officer.post(url, {"held_on": "2026-03-25", "note": "Họp tại trạm", "row": [str(a1.id), str(a2.id)],
                            f"attended-{a1.id}": "y", f"p0-{a1.id}": "y", f"note-{a2.id}": "Ốm"})
    assert ok.status_code == 302
    meeting = db.session.scalar(select(MonthlyMeeting).where(MonthlyMeeting.commune_id == world.commune_a.id))
    assert {a.collaborator_id: (a.attended, a.p0_submitted, a.note) for a in meeting.attendances} == {
        a1.id: (True, True, None), a2.id: (False, False, "Ốm")}
    # Re-recording the month updates it rather than failing.
    again = officer.post(url, {"held_on": "2026-03-26", "row": [str(a1.id), str(a2.id)], f"attended-{a2.id}": "y",
                               f"p0-{a2.id}": "y", f"attended-{a1.id}": "y", f"p0-{a1.id}": "y"})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(MonthlyMeeting)) == 1
    listing = officer.get(f"/supervision/meetings/{world.commune_a.id}").get_data(as_text=True)
    assert "03/2026" in listing and "26/03/2026" in listing and "100%" in listing
    sheet = officer.get(f"/supervision/meetings/{world.commune_a.id}/sheet?month=2026-03").get_data(as_text=True)
    assert "Bảng điểm danh giao ban cộng tác viên dân số" in sheet and "data-print" in sheet
    assert "Trạm Y tế Phường Bình Phước" in sheet
    # Station head A cannot record for commune B.
    assert officer.post(f"/supervision/meetings/{world.commune_b.id}/record?month=2026-03",
                        {"held_on": "2026-03-25", "row": str(b1.id)}).status_code == 403


def test_meeting_in_the_future_is_refused(world, browser):
    a1 = appoint(world.hamlets_a[0], 1)
    db.session.commit()
    officer = browser("vienchuc_a")
    before = counts()
    this_month = clock.today().replace(day=1)
    tomorrow = clock.today() + timedelta(days=1)
    response = officer.post(
        f"/supervision/meetings/{world.commune_a.id}/record?month={this_month:%Y-%m}",
        {"held_on": tomorrow.isoformat(), "row": str(a1.id), f"attended-{a1.id}": "y"})
    assert response.status_code == 422 and "không được ở tương lai" in response.get_data(as_text=True)
    assert counts() == before


def test_under_review_page_and_dashboard(world, browser):
    x, y = appoint(world.hamlets_a[0], 1), appoint(world.hamlets_a[0], 2)
    for month in (date(2026, 2, 1), date(2026, 3, 1)):
        services.record_meeting(world.commune_a, month=month, held_on=month + timedelta(days=20),
                                attendance={x.id: (False, False), y.id: (True, True)})
    services.record_visit(y, supervisor=world.users["centre"], visited_on=clock.today() - timedelta(days=1),
                          checklist={"register_up_to_date": True}, follow_up="Bổ sung sổ",
                          follow_up_due=clock.today() - timedelta(days=1))
    db.session.commit()
    head = browser("truongtram_a")
    page = head.get("/supervision/under-review?as_of=2026-04-01").get_data(as_text=True)
    assert listed(page) == {x.id} and "Vắng họp" in page and "Tháng 03/2026" in page
    dashboard = head.get("/supervision/").get_data(as_text=True)
    found = dict(re.findall(r'data-count="(\w+)">([\d.,]+)<', dashboard))
    # Today: x and y serve; x was never visited (overdue), y was visited yesterday.
    assert found == {"overdue": "1", "follow_ups": "1", "under_review": "1"}  # Feb–Mar are still the last two
    assert world.commune_a.full_name in dashboard and world.commune_b.full_name not in dashboard


def test_visits_list_filters(world, browser):
    a1 = appoint(world.hamlets_a[0], 1, full_name="Đặng Thị Hồng")
    a2 = appoint(world.hamlets_a[1], 2, full_name="Lý Văn Nam")
    services.record_visit(a1, supervisor=world.users["centre"], visited_on=date(2026, 1, 5),
                          checklist={"register_up_to_date": True})
    services.record_visit(a2, supervisor=world.users["officer_a"], visited_on=date(2026, 2, 5),
                          checklist={"register_up_to_date": True})
    db.session.commit()
    head = browser("truongtram_a")
    assert "Đặng Thị Hồng" in head.get("/supervision/visits?q=dang+thi").get_data(as_text=True)
    assert "Lý Văn Nam" not in head.get("/supervision/visits?q=dang+thi").get_data(as_text=True)
    ranged = head.get("/supervision/visits?from=2026-02-01&to=2026-02-28").get_data(as_text=True)
    assert "Lý Văn Nam" in ranged and "Đặng Thị Hồng" not in ranged
    by_user = head.get(f"/supervision/visits?supervisor={world.users['centre'].id}").get_data(as_text=True)
    assert "Đặng Thị Hồng" in by_user and "Lý Văn Nam" not in by_user


def test_profile_section_renders_for_the_collaborator(app, world):
    a1 = appoint(world.hamlets_a[0], 1)
    services.record_visit(a1, supervisor=world.users["centre"], visited_on=date(2026, 1, 5),
                          checklist={"register_up_to_date": True, "p0_submitted": False}, follow_up="Nộp phiếu P0",
                          follow_up_due=date(2026, 1, 20))
    services.record_meeting(world.commune_a, month=date(2026, 2, 1), held_on=date(2026, 2, 25),
                            attendance={a1.id: (True, False)})
    with app.test_request_context("/"):
        login_user(world.users["officer_a"])
        section = services.profile_section(a1, clock.today(), world.users["officer_a"])
        html = render_template("supervision/_profile_section.html", collaborator=a1, supervision_section=section)
    assert "Tuyến giám sát hôm nay" in html and world.users["officer_a"].full_name in html
    assert "05/01/2026" in html and "50%" in html
    assert "Nộp phiếu P0" in html and "quá hạn" in html
    assert "02/2026" in html and "Ghi phiếu giám sát" in html


def test_the_checklist_starts_with_communication_and_counselling(world, browser):
    """TT 02/2021/TT-BYT Art. 3 lists communication (clause 1) and counselling (clause 2) first;
    the visit checklist checks them too (issue #9 item 14, DOMAIN.md §7.3)."""
    a1 = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    db.session.commit()
    form = browser("ttyt689").get(f"/supervision/visits/new/{a1.id}").get_data(as_text=True)
    first, second, register = (form.index(text) for text in (
        "Điều 3 khoản 1)", "Điều 3 khoản 2)", "Sổ A0 được lưu giữ và cập nhật"))
    assert first < second < register
    assert "tư vấn trực tiếp cho người dân" in form

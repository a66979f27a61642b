"""Collaborator pages through the web: scope, forms, refusals, and the station head's "done
when" (transfer, suspend, terminate, and the hamlet shows as vacant)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators import services
from danso_network.collaborators.models import Assignment, RegisterHandover, Suspension
from danso_network.common.clock import today
from danso_network.extensions import db
from tests.collaborators.test_services import allow_cover
from tests.conftest import csrf_token, login
from tests.factories import appoint, criteria, hamlet, user


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def state():
    rows = db.session.execute(select(Assignment.id, Assignment.ended_on, Assignment.end_reason)).all()
    return sorted(rows), count(Suspension), count(RegisterHandover)


@pytest.fixture
def crew(world):
    """Two collaborators in commune A, one in B; committed, as a page would find them."""
    people = {"lan": appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan"),
              "hoa": appoint(world.hamlets_a[1], 2, full_name="Lê Thị Hoa"),
              "dung": appoint(world.hamlets_b[0], 3, full_name="Đặng Thị Dung")}
    db.session.commit()
    return people


def other_client(app, user):
    """A second browser, logged in as another user."""
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def post(client, url, data):
    token = csrf_token(client, url if client.get(url).status_code == 200 else "/")
    return client.post(url, data={"csrf_token": token, **data})


# --- access -------------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, world, crew):
    for url in ["/collaborators/", f"/collaborators/roster/{world.commune_a.id}", f"/collaborators/{crew['lan'].id}",
                f"/collaborators/quota/{world.commune_a.id}", "/collaborators/handovers"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_station_head_sees_own_commune_only(login_as, world, crew):
    client = login_as(world.users["head_a"])
    page = client.get(f"/collaborators/roster/{world.commune_a.id}").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in page and "Lê Thị Hoa" in page and "Đặng Thị Dung" not in page
    assert client.get(f"/collaborators/roster/{world.commune_b.id}").status_code == 403
    assert client.get(f"/collaborators/roster/{world.dong_nai.id}").status_code == 403
    assert client.get(f"/collaborators/{crew['dung'].id}").status_code == 403
    assert client.get(f"/collaborators/quota/{world.commune_b.id}").status_code == 403
    assert client.get(f"/collaborators/roster/centre/{world.centre.id}").status_code == 403
    assert client.get("/collaborators/999999").status_code == 404
    index = client.get("/collaborators/")
    assert index.status_code == 302 and index.headers["Location"].endswith(f"/collaborators/roster/{world.commune_a.id}")


def test_user_without_grant_sees_nothing(login_as, world, crew):
    client = login_as(world.users["nogrant"])
    assert "chưa được phân quyền" in client.get("/collaborators/").get_data(as_text=True)
    assert client.get(f"/collaborators/{crew['lan'].id}").status_code == 403
    assert client.get(f"/collaborators/roster/{world.commune_a.id}").status_code == 403


def test_viewer_reads_but_cannot_change(login_as, world, crew):
    client = login_as(world.users["viewer_b"])
    dung = crew["dung"]
    profile = client.get(f"/collaborators/{dung.id}")
    assert profile.status_code == 200
    html = profile.get_data(as_text=True)
    assert "Đặng Thị Dung" in html and "Cho nghỉ việc" not in html and "Điều chuyển thôn" not in html
    assert "Nhật ký thay đổi" not in html  # the audit trail is for editing roles
    before = state()
    token = csrf_token(client, f"/collaborators/{dung.id}")
    for action, data in [("suspend", {"on": "2026-01-05", "reason": "x", "confirm": "y"}),
                         ("terminate", {"on": "2026-01-05", "reason": "resigned", "confirm": "y"}),
                         ("transfer", {"on": "2026-01-05", "hamlet": world.hamlets_b[1].id}),
                         ("reinstate", {"on": "2026-01-05"}), ("add-hamlet", {"on": "2026-01-05"})]:
        response = client.post(f"/collaborators/{dung.id}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 403, action
        assert client.get(f"/collaborators/{dung.id}/{action}").status_code == 403
    assert state() == before


def test_centre_officer_sees_the_centre_roster(login_as, world, crew):
    client = login_as(world.users["centre"])
    index = client.get("/collaborators/")  # the one centre whose area holds the whole scope
    assert index.status_code == 302 and index.headers["Location"].endswith(f"/roster/centre/{world.centre.id}")
    index = client.get("/collaborators/", follow_redirects=True).get_data(as_text=True)
    assert "Trung tâm Y tế khu vực Đồng Xoài" in index and "Bình Phước" in index and "Đồng Xoài" in index
    html = client.get(f"/collaborators/roster/centre/{world.centre.id}").get_data(as_text=True)
    assert all(name in html for name in ["Nguyễn Thị Lan", "Lê Thị Hoa", "Đặng Thị Dung"])
    assert "3 kết quả" in html


# --- roster and quota pages ---------------------------------------------------------------------------


def test_roster_page_filters_search_sort_and_pages(login_as, world, crew):
    client = login_as(world.users["admin"])
    url = f"/collaborators/roster/{world.dong_nai.id}"
    html = client.get(url, query_string={"q": "nguyen thi"}).get_data(as_text=True)
    assert "Nguyễn Thị Lan" in html and "Lê Thị Hoa" not in html
    html = client.get(url, query_string={"difficult": "1", "sort": "hamlet"}).get_data(as_text=True)
    assert "Đặng Thị Dung" in html and "Nguyễn Thị Lan" not in html
    assert "sort=started" in html and "difficult=1" in html  # sort links keep the filters
    for n in range(4, 56):
        appoint(world.hamlets_a[0], n, full_name=f"Phạm Văn Số {n:02d}")
    db.session.commit()
    first = client.get(url).get_data(as_text=True)
    assert "55 kết quả" in first and "page=2" in first
    second = client.get(url, query_string={"page": 2}).get_data(as_text=True)
    assert "Phạm Văn Số 50" not in second and "Phạm Văn Số 53" in second and "Nguyễn Thị Lan" not in second
    past = client.get(url, query_string={"as_of": "2025-08-31"}).get_data(as_text=True)
    assert "Không có cộng tác viên nào" in past
    bad = client.get(url, query_string={"as_of": "31/02/2026"})
    assert bad.status_code == 200 and "không hợp lệ" in bad.get_data(as_text=True)


def test_quota_page_shows_the_flags_and_totals(login_as, world, crew):
    client = login_as(world.users["head_a"])
    appoint(world.hamlets_a[0], 9)
    criteria(world.dong_nai)  # Gia Lai's bands, chosen by the province (none: no quota at all)
    db.session.commit()
    html = client.get(f"/collaborators/quota/{world.commune_a.id}").get_data(as_text=True)
    assert "Khu phố 1" in html and "Vượt định mức" in html and "Thiếu" in html
    assert "data-print" in html
    past = client.get(f"/collaborators/quota/{world.commune_a.id}", query_string={"as_of": "2025-08-01"})
    assert past.get_data(as_text=True).count("Thiếu") >= 2
    only_under = client.get(f"/collaborators/quota/{world.commune_a.id}", query_string={"flag": "under"})
    assert "Khu phố 2" in only_under.get_data(as_text=True)


def test_a_province_user_searches_the_whole_scope_on_one_page(login_as, world, crew):
    client = login_as(world.users["admin"])
    assert client.get("/collaborators/").headers["Location"].endswith(f"/collaborators/roster/{world.dong_nai.id}")
    html = client.get("/collaborators/roster", query_string={"q": "dang dung"}).get_data(as_text=True)
    assert "Đặng Thị Dung" in html and "Nguyễn Thị Lan" not in html and "1 kết quả" in html
    everyone = client.get("/collaborators/roster", query_string={"sort": "hamlet"}).get_data(as_text=True)
    assert all(n in everyone for n in ["Nguyễn Thị Lan", "Lê Thị Hoa", "Đặng Thị Dung"]) and "3 kết quả" in everyone


def test_a_user_with_several_areas_lands_on_the_roster_of_them_all(app, login_as, world, crew):
    from danso_network.auth.models import Role
    from danso_network.auth.services import grant_role

    two = user(Role.VIEWER, unit=world.commune_a, username="xem_hai_noi")
    grant_role(two, Role.VIEWER, unit=world.commune_c, valid_from=date(2025, 1, 1))
    appoint(world.hamlets_c[0], 4, full_name="Hoàng Văn Nam")
    db.session.commit()
    client = login_as(two)
    index = client.get("/collaborators/")
    assert index.status_code == 302 and index.headers["Location"].endswith("/collaborators/roster")
    html = client.get("/collaborators/roster").get_data(as_text=True)
    assert "Hoàng Văn Nam" in html and "Nguyễn Thị Lan" in html and "Đặng Thị Dung" not in html
    assert "3 kết quả" in html and "Toàn bộ địa bàn của bạn" in html
    assert f"/collaborators/quota/{world.commune_c.id}" in html  # each area still has its own pages
    found = client.get("/collaborators/roster", query_string={"q": "hoang nam"}).get_data(as_text=True)
    assert "Hoàng Văn Nam" in found and "Nguyễn Thị Lan" not in found
    printed = client.get("/collaborators/roster", query_string={"vhw": "0", "all": "1"}).get_data(as_text=True)
    assert "3 kết quả" in printed and "data-print" in printed


def test_the_whole_scope_roster_of_a_station_head_is_their_commune(app, login_as, world, crew):
    client = login_as(world.users["head_a"])
    html = client.get("/collaborators/roster").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in html and "Lê Thị Hoa" in html and "Đặng Thị Dung" not in html
    assert "Đặng Thị Dung" not in client.get("/collaborators/roster", query_string={"q": "dung"}).get_data(as_text=True)
    nobody = other_client(app, world.users["nogrant"]).get("/collaborators/roster")
    assert nobody.status_code == 200 and "Không có cộng tác viên nào" in nobody.get_data(as_text=True)


@pytest.fixture
def many_hamlets(world, crew):
    """52 more hamlets in commune B, one collaborator each, who all left on 1/1/2026: 52
    hand-overs to record and 52 hamlets under quota."""
    made = []
    for n in range(52):
        place = hamlet(world.commune_b, f"Tổ {n:02d}", households=100)
        leaver = appoint(place, 100 + n)
        made.extend(services.terminate_collaborator(leaver, on=date(2026, 1, 1), reason="resigned", actor=None))
    db.session.commit()
    return made


def test_quota_page_pages_and_filters_with_the_totals_of_the_whole_unit(login_as, world, crew, many_hamlets):
    criteria(world.dong_nai)  # Gia Lai's bands, chosen by the province (none: no quota at all)
    db.session.commit()
    client = login_as(world.users["admin"])
    url = f"/collaborators/quota/{world.dong_nai.id}"
    first = client.get(url).get_data(as_text=True)
    assert "Tổng cộng (56 thôn/tổ dân phố)" in first and "page=2" in first
    assert "Khu phố 1" in first and "Tổ 51" not in first
    second = client.get(url, query_string={"page": 2}).get_data(as_text=True)
    assert "Tổng cộng (56 thôn/tổ dân phố)" in second and "Tổ 51" in second and "Khu phố 1" not in second
    under = client.get(url, query_string={"flag": "under", "page": 2}).get_data(as_text=True)
    assert "Tổng cộng (56 thôn/tổ dân phố)" in under and "Khu phố 1" not in under  # 1 of quota 1: not under
    assert under.count("table-danger") == 55 - 50
    printed = client.get(url, query_string={"all": "1"}).get_data(as_text=True)
    assert "Khu phố 1" in printed and "Tổ 51" in printed and "Xem tất cả để in" not in printed


def test_handovers_are_paged_by_the_database(app, login_as, world, many_hamlets):
    client = login_as(world.users["admin"])
    first = client.get("/collaborators/handovers").get_data(as_text=True)
    assert "52 sổ chưa ghi nhận bàn giao" in first and "page=2" in first
    second = client.get("/collaborators/handovers", query_string={"page": 2}).get_data(as_text=True)
    assert "52 sổ chưa ghi nhận bàn giao" in second and second.count("Ghi nhận bàn giao</a>") == 2
    assert other_client(app, world.users["head_a"]).get("/collaborators/handovers").get_data(as_text=True).count(
        "sổ chưa ghi nhận") == 0  # none in commune A


# --- actions ------------------------------------------------------------------------------------------


def test_station_head_transfers_suspends_terminates_and_sees_the_hamlet_vacant(login_as, world, crew):
    """The issue's "done when" for the station head of commune A."""
    client = login_as(world.users["head_a"])
    lan, hoa = crew["lan"], crew["hoa"]
    kp1, kp2 = world.hamlets_a
    profile = client.get(f"/collaborators/{lan.id}").get_data(as_text=True)
    assert "Điều chuyển thôn" in profile and "Cho nghỉ việc" in profile and "Tạm đình chỉ" in profile

    form = client.get(f"/collaborators/{lan.id}/transfer").get_data(as_text=True)
    assert "Khu phố 2" in form and "Ấp Tân Lập" not in form  # only hamlets in the head's scope
    response = post(client, f"/collaborators/{lan.id}/transfer",
                    {"hamlet": kp2.id, "on": "2026-03-01", "decision_ref": "QĐ 3/TYT", "note": "Chuyển nơi ở",
                     "residence": "moves"})
    assert response.status_code == 302
    assert "Đã điều chuyển" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [a.hamlet_id for a in services.current_assignments(db.session.get(type(lan), lan.id), date(2026, 3, 1))] \
        == [kp2.id]
    # Khu phố 1 is now without a collaborator: vacant, with a register hand-over to record.
    vacancies = client.get("/recruitment/vacancies").get_data(as_text=True)
    assert "Khu phố 1" in vacancies

    response = post(client, f"/collaborators/{hoa.id}/suspend",
                    {"on": "2026-03-05", "reason": "Vắng mặt 2 tháng", "confirm": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(Suspension.reason).where(Suspension.collaborator_id == hoa.id)) \
        == "Vắng mặt 2 tháng"

    response = post(client, f"/collaborators/{hoa.id}/terminate",
                    {"reason": "resigned", "on": "2026-03-10", "note": "Đơn xin nghỉ", "confirm": "y"})
    assert response.status_code == 302
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "nghỉ việc từ ngày 10/03/2026" in flashed and "Đã nghỉ việc" in flashed
    # Lan still serves Khu phố 2 (transferred there): only Khu phố 1 is vacant.
    assert count(RegisterHandover) == 1
    response = post(client, f"/collaborators/{lan.id}/terminate",
                    {"reason": "moved_out", "on": "2026-03-20", "confirm": "y"})
    assert response.status_code == 302
    vacancies = client.get("/recruitment/vacancies").get_data(as_text=True)
    assert "Khu phố 1" in vacancies and "Khu phố 2" in vacancies
    handovers = client.get("/collaborators/handovers").get_data(as_text=True)
    assert "Khu phố 1" in handovers and "Khu phố 2" in handovers
    timeline = client.get(f"/collaborators/{lan.id}").get_data(as_text=True)
    assert "Điều chuyển CTV sang thôn khác" in timeline and "Từ Khu phố 1 sang Khu phố 2" in timeline
    assert "CTV nghỉ việc" in timeline


def test_transfer_out_of_scope_is_refused_with_a_message(login_as, world, crew):
    client = login_as(world.users["head_a"])
    lan = crew["lan"]
    before = state()
    response = post(client, f"/collaborators/{lan.id}/transfer", {"hamlet": world.hamlets_b[0].id, "on": "2026-03-01"})
    assert response.status_code == 403
    assert "nằm ngoài địa bàn" in response.get_data(as_text=True)
    assert state() == before


def test_bad_input_keeps_everything_unchanged(login_as, world, crew):
    client = login_as(world.users["head_a"])
    lan = crew["lan"]
    before = state()
    audit = count(AuditEvent)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    cases = [
        ("terminate", {"reason": "resigned", "on": "2026-03-10"}, 422, "đánh dấu ô xác nhận"),
        ("terminate", {"reason": "", "on": "2026-03-10", "confirm": "y"}, 422, "chọn lý do"),
        ("terminate", {"reason": "resigned", "on": "2025-08-01", "confirm": "y"}, 422, "trước ngày bắt đầu"),
        ("terminate", {"reason": "resigned", "on": tomorrow, "confirm": "y"}, 422, "tương lai"),
        ("suspend", {"on": "2026-03-10", "reason": "x"}, 422, "đánh dấu ô xác nhận"),
        ("suspend", {"on": "2026-03-10", "reason": "", "confirm": "y"}, 422, "lý do"),
        ("transfer", {"hamlet": world.hamlets_a[0].id, "on": "2026-03-01"}, 422, "đang phụ trách chính"),
        ("transfer", {"hamlet": "", "on": "2026-03-01"}, 422, "chọn thôn"),
        ("transfer", {"hamlet": world.hamlets_a[1].id, "on": "01/13/2026"}, 422, "Ngày không hợp lệ"),
        ("reinstate", {"on": "2026-03-01"}, 409, "không bị tạm đình chỉ"),
        ("add-hamlet", {"hamlet": world.hamlets_a[1].id, "on": "2026-03-01"}, 409, "chưa cho phép"),
    ]
    for action, data, status, message in cases:
        response = post(client, f"/collaborators/{lan.id}/{action}", data)
        html = response.get_data(as_text=True)
        assert response.status_code == status, (action, data, html[:300])
        assert message in html, (action, data)
    assert state() == before and count(AuditEvent) == audit


def test_terminated_collaborator_cannot_be_suspended_through_the_page(login_as, world, crew):
    client = login_as(world.users["head_a"])
    lan = crew["lan"]
    services.terminate_collaborator(lan, on=date(2026, 1, 1), reason="resigned", actor=world.users["head_a"])
    db.session.commit()
    profile = client.get(f"/collaborators/{lan.id}").get_data(as_text=True)
    assert "Tạm đình chỉ</a>" not in profile and "Cho nghỉ việc" not in profile
    before = state()
    response = post(client, f"/collaborators/{lan.id}/suspend", {"on": "2026-02-01", "reason": "x", "confirm": "y"})
    assert response.status_code == 409 and "đã nghỉ việc" in response.get_data(as_text=True)
    assert state() == before


def test_reinstate_and_cover_through_the_pages(app, login_as, world, crew):
    allow_cover(world)
    db.session.commit()
    client = login_as(world.users["head_a"])
    lan = crew["lan"]
    assert post(client, f"/collaborators/{lan.id}/add-hamlet",
                {"hamlet": world.hamlets_a[1].id, "on": "2026-01-01"}).status_code == 302
    cover = db.session.scalar(select(Assignment).where(Assignment.kind == "additional"))
    profile = client.get(f"/collaborators/{lan.id}").get_data(as_text=True)
    assert "Kiêm nhiệm thêm" in profile and f"/assignments/{cover.id}/end-cover" in profile
    response = post(client, f"/collaborators/assignments/{cover.id}/end-cover", {"on": "2025-12-01"})
    assert "trước ngày bắt đầu" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.get(Assignment, cover.id).ended_on is None
    response = post(client, f"/collaborators/assignments/{cover.id}/end-cover", {"on": "2026-02-01"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, cover.id).end_reason == "cover_ended"
    assert post(client, f"/collaborators/{lan.id}/suspend",
                {"on": "2026-03-01", "reason": "Ốm", "confirm": "y"}).status_code == 302
    assert post(client, f"/collaborators/{lan.id}/reinstate", {"on": "2026-04-01"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(Suspension.ended_on)) == date(2026, 4, 1)
    # Another station's head may not end a cover in commune A.
    client = other_client(app, world.users["head_b"])
    assert post(client, f"/collaborators/assignments/{cover.id}/end-cover", {"on": "2026-02-01"}).status_code == 403


def test_handover_is_recorded_through_the_page(app, login_as, world, crew):
    [handover] = services.terminate_collaborator(crew["lan"], on=date(2026, 2, 1), reason="resigned",
                                                 actor=world.users["head_a"])
    successor = appoint(world.hamlets_a[0], 7, full_name="Vũ Thị Mai", started_on=date(2026, 2, 15))
    db.session.commit()
    viewer = other_client(app, world.users["viewer_b"])
    assert viewer.get(f"/collaborators/handovers/{handover.id}").status_code == 403
    client = login_as(world.users["officer_a"])
    url = f"/collaborators/handovers/{handover.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Vũ Thị Mai" in page and "Nguyễn Thị Lan" in page
    response = post(client, url, {"handed_on": "2026-01-20", "received_by": "Trạm"})
    assert response.status_code == 422 and "trước ngày phát sinh" in response.get_data(as_text=True)
    response = post(client, url, {"handed_on": "2026-02-20", "to_collaborator": successor.id, "received_by": ""})
    assert response.status_code == 302
    db.session.expire_all()
    recorded = db.session.get(RegisterHandover, handover.id)
    assert (recorded.handed_on, recorded.received_by, recorded.to_collaborator_id) == (
        date(2026, 2, 20), "Vũ Thị Mai", successor.id)
    assert "Không có Sổ A0 nào" in client.get("/collaborators/handovers").get_data(as_text=True)
    response = post(client, url, {"handed_on": "2026-02-21", "received_by": "Trạm"})
    assert "đã được ghi nhận" in response.get_data(as_text=True)


def test_profile_shows_person_history_contract_and_timeline(login_as, world, crew):
    head = world.users["head_a"]
    lan = crew["lan"]
    services.transfer_collaborator(lan, world.hamlets_a[1], on=date(2026, 1, 10), actor=head, decision_ref="QĐ 9",
                                   residence="moves")
    services.suspend_collaborator(lan, on=date(2026, 2, 1), reason="Nghỉ ốm", actor=head)
    db.session.commit()
    html = login_as(head).get(f"/collaborators/{lan.id}").get_data(as_text=True)
    for text in ["Nguyễn Thị Lan", lan.candidate.national_id, "Khu phố 1", "Khu phố 2", "Điều chuyển sang thôn khác",
                 "QĐ 9", "Nghỉ ốm", "Tạm đình chỉ", "Cho hoạt động trở lại", "Hợp đồng trách nhiệm",
                 "Yêu cầu bàn giao Sổ A0", "Nhật ký thay đổi", "10/01/2026"]:
        assert text in html, text

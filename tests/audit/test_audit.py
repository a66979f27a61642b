"""The audit screen: who sees which events, filters, labels, diffs, pagination."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from danso_network.audit.services import record
from danso_network.extensions import db
from danso_network.units import services

from ..conftest import csrf_token, login


def text(response) -> str:
    return response.get_data(as_text=True)


def local_today():
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def test_station_head_sees_events_of_own_commune_only(world, login_as):
    account_event(world)
    client = login_as(world.users["head_a"])
    response = client.get("/audit/")
    assert response.status_code == 200
    page = text(response)
    assert "Khu phố 1, Phường Bình Phước" in page
    assert "Tạo đơn vị" in page
    assert "Ấp Tân Lập" not in page and "Xã Đồng Xoài" not in page
    assert "Tổ dân phố 5" not in page
    assert "chuacapquyen" not in page  # account events have no unit: province admins only


def account_event(world):
    user = world.users["nogrant"]
    record("user.create", user, label=user.username, after={"username": user.username})


def test_province_admin_sees_the_province_and_account_events(world, login_as):
    account_event(world)
    client = login_as(world.users["admin"])
    page = text(client.get("/audit/"))
    assert "Khu phố 1, Phường Bình Phước" in page and "Ấp Tân Lập, Xã Đồng Xoài" in page
    assert "Tạo tài khoản" in page and "chuacapquyen" in page
    assert "Tổ dân phố 5" not in page  # Hà Nội


def test_other_province_admin_does_not_see_dong_nai_units(world, login_as):
    page = text(login_as(world.users["hanoi_admin"]).get("/audit/"))
    assert "Tổ dân phố 5, Phường Ba Đình" in page
    assert "Khu phố 1" not in page and "Ấp Tân Lập" not in page


def test_viewer_and_users_without_grant_are_refused(world, login_as, app):
    assert login_as(world.users["viewer_b"]).get("/audit/").status_code == 403
    other = app.test_client()
    token = csrf_token(other)
    other.post("/login", data={"username": "chuacapquyen", "password": "matkhau-demo-1", "csrf_token": token})
    assert other.get("/audit/").status_code == 403


def test_anonymous_is_sent_to_login(world, client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_update_shows_a_compact_diff(world, login_as):
    services.update_hamlet(world.hamlets_a[0], name="Khu phố 1", type="khu_pho", households=222,
                           population=720, is_difficult=True)
    page = text(login_as(world.users["head_a"]).get("/audit/?action=unit.update"))
    assert "Sửa đơn vị" in page
    assert "Số hộ:" in page and "180</span> → 222" in page
    assert "Đặc biệt khó khăn:" in page and "Không</span> → Có" in page
    assert "Tạo đơn vị" not in page.split("<tbody>", 1)[1]  # the filter kept updates only


def test_unknown_actions_are_shown_as_recorded(world, login_as):
    record("collaborator.transfer", world.hamlets_a[1], label="Khu phố 2 (chuyển CTV)",
           unit_path=world.hamlets_a[1].path, after={"from": 1, "to": 2})
    page = text(login_as(world.users["head_a"]).get("/audit/"))
    assert "collaborator.transfer" in page and "Khu phố 2 (chuyển CTV)" in page


def test_filters_by_object_type_label_and_dates(world, login_as):
    client = login_as(world.users["admin"])
    page = text(client.get("/audit/", query_string={"object_type": "Facility"}))
    assert "Trạm Y tế Xã Đồng Xoài" in page and "Khu phố 1, Phường" not in page
    page = text(client.get("/audit/", query_string={"q": "khu phố 2"}))
    assert "Khu phố 2, Phường Bình Phước" in page and "Khu phố 1, Phường" not in page
    today = local_today()
    page = text(client.get("/audit/", query_string={"from": today.isoformat(), "to": today.isoformat()}))
    assert "Khu phố 1, Phường Bình Phước" in page
    page = text(client.get("/audit/", query_string={"to": (today - timedelta(days=1)).isoformat()}))
    assert "Khu phố 1, Phường" not in page and "Không có thay đổi nào khớp bộ lọc." in page
    page = text(client.get("/audit/", query_string={"from": (today + timedelta(days=1)).isoformat()}))
    assert "Khu phố 1, Phường" not in page


def test_bad_filter_date_gives_a_message(world, login_as):
    response = login_as(world.users["admin"]).get("/audit/?from=hom-nay&page=x")
    assert response.status_code == 200
    assert "không hợp lệ" in text(response)


def test_paginates_fifty_per_page_newest_first(world, login_as):
    for i in range(55):
        record("unit.update", world.hamlets_a[0], label=f"evt-{i:03d}", unit_path=world.hamlets_a[0].path)
    db.session.commit()
    client = login_as(world.users["head_a"])
    first = text(client.get("/audit/", query_string={"q": "evt-"}))
    assert "55 sự kiện" in first
    assert "evt-054" in first and "evt-005" in first and "evt-004" not in first
    second = text(client.get("/audit/", query_string={"q": "evt-", "page": 2}))
    assert "evt-004" in second and "evt-000" in second and "evt-005" not in second


def test_hamlet_change_through_the_form_appears_in_the_log(world, login_as):
    client = login_as(world.users["head_a"])
    url = f"/units/{world.hamlets_a[1].id}/edit"
    response = client.post(url, data={"name": "Khu phố Hai", "type": "khu_pho", "households": "430",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    page = text(client.get("/audit/?action=unit.update"))
    assert "Khu phố Hai, Phường Bình Phước" in page
    assert "Khu phố 2</span> → Khu phố Hai" in page
    assert "truongtram_a" in page


def test_a_scope_over_every_province_sees_all_their_events_and_account_events_only_as_admin(world, login_as, app):
    """Every province there is: nothing to test on the path, but events tied to no unit stay for
    province administrators only."""
    from danso_network.auth import services as auth_services
    from danso_network.auth.models import Role
    from danso_network.units.models import FacilityKind

    from .. import factories
    account_event(world)
    both = factories.user(Role.PROVINCE_ADMIN, unit=world.dong_nai, username="admin_hai_tinh")
    auth_services.grant_role(both, Role.PROVINCE_ADMIN, unit=world.hanoi, valid_from=both.grants[0].valid_from)
    hanoi_department = services.create_facility(code="SYT-01", kind=FacilityKind.DEPARTMENT, name="Sở Y tế Hà Nội",
                                                unit=world.hanoi, valid_from=factories.REFORM_DAY, serves=[world.hanoi])
    centres = [services.create_facility(code=f"TTYT-{p.code}", kind=FacilityKind.HEALTH_CENTRE, name=f"TTYT {p.name}",
                                        unit=p, parent=parent, valid_from=factories.REFORM_DAY, serves=[p])
               for p, parent in ((world.dong_nai, world.department), (world.hanoi, hanoi_department))]
    officer = factories.user(Role.CENTRE_OFFICER, facility=centres[0], username="ttyt_hai_tinh")
    auth_services.grant_role(officer, Role.CENTRE_OFFICER, facility=centres[1], valid_from=officer.grants[0].valid_from)
    db.session.commit()
    page = text(login_as(both).get("/audit/"))
    assert "Khu phố 1, Phường Bình Phước" in page and "Tổ dân phố 5, Phường Ba Đình" in page
    assert "chuacapquyen" in page
    other = app.test_client()
    assert login(other, officer.username).status_code == 302
    page = text(other.get("/audit/"))
    assert "Khu phố 1, Phường Bình Phước" in page and "Tổ dân phố 5, Phường Ba Đình" in page
    assert "chuacapquyen" not in page


def test_the_log_shows_labels_not_raw_fields_and_values():
    """Issue #9 item 21: the log showed ``state: contracted → active`` and ``sex: female``."""
    from types import SimpleNamespace

    from danso_network.audit.labels import changes

    event = SimpleNamespace(before={"state": "contracted"}, after={"state": "active", "sex": "female",
                                                                   "education": "lower_secondary"})
    shown = {label: (before, after) for label, before, after in changes(event)}
    assert shown["Trạng thái"][1] != "active" and "contracted" not in str(shown["Trạng thái"])
    assert shown["Giới tính"][1] == "Nữ"
    assert "lower_secondary" not in str(shown)

"""User administration by the province admin: create, grant, end a grant, lock, reset password."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.auth.models import RoleGrant, User
from danso_network.common import clock
from danso_network.extensions import db

from ..conftest import csrf_token, login


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _new_user_form(world, **overrides):
    data = {"username": "tram_moi", "full_name": "Nguyễn Văn Mới", "email": "", "password": "matkhau-moi-1",
            "role": "station_head", "place": f"f:{world.station_b.id}", "valid_from": "2026-01-01"}
    data.update(overrides)
    return data


def test_admin_creates_a_station_head_who_then_sees_the_commune(app, client, world):
    login(client, "admin75")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={**_new_user_form(world), "csrf_token": token})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "tram_moi"))
    assert [g.role for g in user.grants] == ["station_head"]
    other = app.test_client()
    login(other, "tram_moi", "matkhau-moi-1")
    assert other.get(f"/units/{world.commune_b.id}").status_code == 200
    assert other.get(f"/units/{world.commune_a.id}").status_code == 403


def test_bad_new_user_keeps_input_and_changes_nothing(client, world):
    login(client, "admin75")
    users, events = _count(User), _count(AuditEvent)
    cases = [
        ({"username": "truongtram_a"}, "đã tồn tại"),
        ({"username": "Có Dấu"}, "chữ thường không dấu"),
        ({"password": "ngan"}, "ít nhất 10 ký tự"),
        ({"role": "station_head", "place": f"u:{world.commune_b.id}"}, "cơ sở y tế đúng loại"),
        ({"valid_from": "31/02/2026"}, "ngày/tháng/năm"),
        ({"email": "khong-phai-email"}, "không hợp lệ"),
    ]
    for overrides, message in cases:
        token = csrf_token(client, "/admin/users/new")
        response = client.post("/admin/users/new", data={**_new_user_form(world, **overrides), "csrf_token": token})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in page, (overrides, message)
        assert 'value="Nguyễn Văn Mới"' in page
    assert (_count(User), _count(AuditEvent)) == (users, events)


def test_admin_cannot_grant_outside_the_province(client, world):
    login(client, "admin75")
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        **_new_user_form(world, role="viewer", place=f"u:{world.hanoi.id}"), "csrf_token": token})
    assert response.status_code in (200, 403)
    assert db.session.scalar(select(User).where(User.username == "tram_moi")) is None


def test_admin_lists_only_accounts_of_the_province(client, world):
    login(client, "admin75")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "truongtram_a" in page and "ttyt689" in page
    assert "admin01" not in page  # Hà Nội's admin
    assert "chuacapquyen" not in page  # no grant: belongs to no area
    assert client.get(f"/admin/users/{world.users['hanoi_admin'].id}").status_code == 403
    assert "truongtram_a" in client.get("/admin/users?q=truongtram").get_data(as_text=True)


def test_accounts_with_a_grant_outside_the_area_are_not_listed(app, client, world):
    """An account is listed when every grant (at a unit or at a facility) lies in the admin's
    area: over every province there is, every account with a grant."""
    from danso_network.auth import services as auth_services
    from danso_network.auth.models import Role

    from .. import factories
    head = world.users["head_a"]
    both = factories.user(Role.PROVINCE_ADMIN, unit=world.dong_nai, username="admin_hai_tinh")
    auth_services.grant_role(both, Role.PROVINCE_ADMIN, unit=world.hanoi, valid_from=both.grants[0].valid_from)
    auth_services.grant_role(head, Role.VIEWER, unit=world.commune_c, valid_from=head.grants[0].valid_from)
    db.session.commit()
    login(client, "admin75")
    page = client.get("/admin/users").get_data(as_text=True)
    assert ">truongtram_b</a>" in page and ">truongtram_a</a>" not in page  # also a viewer in Hà Nội
    wide = app.test_client()
    login(wide, "admin_hai_tinh")
    page = wide.get("/admin/users").get_data(as_text=True)
    for name in ("admin01", "admin75", "truongtram_a", "truongtram_b", "ttyt689"):
        assert f">{name}</a>" in page, name
    assert "chuacapquyen" not in page


def test_account_list_pages_show_the_next_accounts(client, world, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 2)
    login(client, "admin75")
    pages = [client.get(f"/admin/users?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    names = ["truongtram_a", "truongtram_b", "ttyt689", "vienchuc_a", "xem_b"]  # after admin75 (the menu names it)
    assert [[n for n in names if f">{n}</a>" in page] for page in pages] == [names[0:1], names[1:3], names[3:5]]
    searched = client.get("/admin/users?q=truongtram&page=2").get_data(as_text=True)  # one page: shown
    assert ">truongtram_a</a>" in searched and ">truongtram_b</a>" in searched and ">xem_b</a>" not in searched


def test_station_head_cannot_administer_users(client, world):
    login(client, "truongtram_a")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403


def test_ending_a_grant_removes_access_from_that_day(app, client, world):
    login(client, "admin75")
    grant = world.users["head_a"].grants[0]
    token = csrf_token(client, f"/admin/users/{world.users['head_a'].id}")
    tomorrow = clock.today() + timedelta(days=1)
    response = client.post(f"/admin/users/{world.users['head_a'].id}/grants/{grant.id}/end",
                           data={"on": tomorrow.isoformat(), "csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(RoleGrant, grant.id).valid_to == tomorrow
    # Ending today means no access now.
    response = client.post(f"/admin/users/{world.users['head_a'].id}/grants/{grant.id}/end",
                           data={"on": clock.today().isoformat(), "csrf_token": token})
    other = app.test_client()
    login(other, "truongtram_a")
    assert other.get(f"/units/{world.commune_a.id}").status_code == 403


def test_locking_an_account_ends_its_sessions(app, client, world):
    head = app.test_client()
    login(head, "truongtram_a")
    assert head.get("/").status_code == 200
    login(client, "admin75")
    token = csrf_token(client, f"/admin/users/{world.users['head_a'].id}")
    client.post(f"/admin/users/{world.users['head_a'].id}/active", data={"csrf_token": token})
    assert head.get("/").status_code == 302
    assert login(app.test_client(), "truongtram_a").status_code == 200  # refused, form again


def test_admin_cannot_lock_themselves(client, world):
    login(client, "admin75")
    token = csrf_token(client, f"/admin/users/{world.users['admin'].id}")
    response = client.post(f"/admin/users/{world.users['admin'].id}/active", data={"csrf_token": token},
                           follow_redirects=True)
    assert "không thể tự khoá" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.users["admin"].id).active


def test_reset_password(app, client, world):
    login(client, "admin75")
    token = csrf_token(client, f"/admin/users/{world.users['head_a'].id}")
    response = client.post(f"/admin/users/{world.users['head_a'].id}/password",
                           data={"new_password": "doimatkhau-99", "confirm": "doimatkhau-99", "csrf_token": token})
    assert response.status_code == 302
    assert login(app.test_client(), "truongtram_a", "doimatkhau-99").status_code == 302

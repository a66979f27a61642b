from danso_network.auth.models import Role

from ..conftest import csrf_token, login


def test_login_with_right_password_lands_on_home_with_scope(client, world):
    response = login(client, "truongtram_a")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Phường Bình Phước" in page
    assert "Xã Đồng Xoài" not in page


def test_wrong_password_gets_vietnamese_message_and_no_session(client, world):
    response = login(client, "truongtram_a", "sai-mat-khau")
    assert response.status_code == 200
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_is_throttled_after_five_attempts(client, world):
    for _ in range(5):
        login(client, "truongtram_a", "sai-mat-khau")
    response = login(client, "truongtram_a", "sai-mat-khau")
    assert response.status_code == 429
    assert "quá nhiều lần" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "truongtram_a", "password": "matkhau-demo-1"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not logged in


def test_next_redirect_only_to_local_paths(client, world):
    token = csrf_token(client)
    data = {"username": "truongtram_a", "password": "matkhau-demo-1", "csrf_token": token}
    response = client.post("/login?next=https://evil.example/x", data=data)
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    token = csrf_token(client)
    response = client.post("/login?next=/account/password", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/account/password"


def test_user_without_grant_sees_nothing(client, world):
    login(client, "chuacapquyen")
    page = client.get("/").get_data(as_text=True)
    assert "chưa được cấp quyền" in page
    assert "Bình Phước" not in page


def test_expired_grant_gives_no_access(client, world):
    from datetime import date

    from .. import factories

    expired = factories.user(Role.STATION_HEAD, facility=world.station_a, username="dahetquyen",
                             valid_from=date(2024, 1, 1), valid_to=date(2025, 1, 1))
    login(client, expired.username)
    assert "chưa được cấp quyền" in client.get("/").get_data(as_text=True)


def test_changing_password_ends_other_sessions(app, world):
    first, second = app.test_client(), app.test_client()
    login(first, "truongtram_a")
    login(second, "truongtram_a")
    token = csrf_token(first, "/account/password")
    response = first.post("/account/password", data={
        "current_password": "matkhau-demo-1", "new_password": "matkhau-moi-22", "confirm": "matkhau-moi-22",
        "csrf_token": token})
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302  # logged out


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = login(client, "truongtram_a")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_failed_login_to_an_account_is_audited_with_its_address(client, world):
    """The account's administrators see the wrong passwords tried on it, and from where; a name
    that is nobody's is not written (anyone could fill the log with made-up names)."""
    from sqlalchemy import func, select

    from danso_network.audit.models import AuditEvent
    from danso_network.extensions import db

    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert login(client, "truongtram_a", "sai-mat-khau").status_code == 200
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.action == "user.login_failed" and event.object_id == str(world.users["head_a"].id)
    assert event.object_label == "truongtram_a" and event.ip == "127.0.0.1" and event.actor_id is None
    assert event.actor_name == "khách chưa đăng nhập"
    assert event.unit_path == world.commune_a.path
    assert login(client, "khong-co-ai", "sai-mat-khau").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 1

"""The password policy (issue #9 item 9): at least 10 characters, not the username, not the
current password, not a well-known password. One check in the services, so the account pages,
the administrator's reset, the command line and the demo all refuse the same passwords; existing
passwords keep working (nobody is forced to change)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from danso_network.auth import services
from danso_network.auth.models import User
from danso_network.demo.cli import DEFAULT_PASSWORD
from danso_network.demo.loader import DEMO_USERS
from danso_network.demo.network import NETWORK_HEADS
from danso_network.demo.pipeline import EXTRA_HEADS
from danso_network.errors import ValidationFailed
from danso_network.extensions import db

from . import factories
from .conftest import DEMO_PASSWORD, csrf_token, login

WEAK = [
    ("ngan-12", "ít nhất 10 ký tự"),
    ("abc-def-g", "ít nhất 10 ký tự"),
    ("matkhau123", "quá phổ biến"),
    ("123456789a", "quá phổ biến"),
    ("danso12345", "quá phổ biến"),
    ("Password123", "quá phổ biến"),
    ("QWERTYUIOP", "quá phổ biến"),
    ("aaaaaaaaaaaa", "quá phổ biến"),
    ("Tram_Moi-2026", "tên đăng nhập"),
    ("xx-tram_moi-xx", "tên đăng nhập"),
]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_a_new_account_refuses_weak_passwords(world, password, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        services.create_user(username="tram_moi", full_name="Nguyễn Văn Mới", password=password)
    assert refused.value.field == "password"


def test_a_ten_character_password_unlike_the_name_is_accepted(world):
    user = services.create_user(username="tram_moi", full_name="Nguyễn Văn Mới", password="ca-phe-sua")
    assert user.check_password("ca-phe-sua")


def test_a_new_password_must_differ_from_the_current_one(world):
    head = world.users["head_a"]
    with pytest.raises(ValidationFailed, match="khác mật khẩu hiện tại"):
        services.set_password(head, factories.PASSWORD)
    with pytest.raises(ValidationFailed, match="tên đăng nhập"):
        services.set_password(head, "TruongTram_A-2026")
    services.set_password(head, "mua-xuan-tren-cao")
    assert head.check_password("mua-xuan-tren-cao")


def test_change_password_page_shows_the_refusal_and_keeps_the_password(app, client, world):
    login(client, "truongtram_a")
    for new, message in [(factories.PASSWORD, "khác mật khẩu hiện tại"), ("matkhau123", "quá phổ biến"),
                         ("ngan-12", "ít nhất 10 ký tự")]:
        token = csrf_token(client, "/account/password")
        response = client.post("/account/password", data={
            "current_password": factories.PASSWORD, "new_password": new, "confirm": new, "csrf_token": token})
        assert response.status_code == 200, new
        assert message in response.get_data(as_text=True), new
    assert login(app.test_client(), "truongtram_a").status_code == 302  # the old password still works


def test_the_form_says_what_a_good_password_is(client, world):
    login(client, "truongtram_a")
    assert "Ít nhất 10 ký tự" in client.get("/account/password").get_data(as_text=True)


def test_admin_cannot_create_an_account_with_a_common_password(client, world):
    login(client, "admin75")
    users = _count(User)
    token = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data={
        "username": "tram_moi", "full_name": "Nguyễn Văn Mới", "email": "", "password": "danso12345",
        "role": "station_head", "place": f"f:{world.station_b.id}", "valid_from": "01/01/2026", "csrf_token": token})
    assert response.status_code == 200
    assert "quá phổ biến" in response.get_data(as_text=True)
    assert _count(User) == users


def test_admin_reset_refuses_a_password_containing_the_username(app, client, world):
    login(client, "admin75")
    head = world.users["head_a"]
    token = csrf_token(client, f"/admin/users/{head.id}")
    response = client.post(f"/admin/users/{head.id}/password", follow_redirects=True, data={
        "new_password": "truongtram_a2026", "confirm": "truongtram_a2026", "csrf_token": token})
    assert "tên đăng nhập" in response.get_data(as_text=True)
    assert login(app.test_client(), "truongtram_a", "truongtram_a2026").status_code == 200  # refused
    assert login(app.test_client(), "truongtram_a").status_code == 302


def test_command_line_refuses_a_common_password(app, world):
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--username", "tram_cli", "--password", "matkhau123", "--role", "station_head",
        "--facility", world.station_b.code])
    assert result.exit_code != 0
    assert "quá phổ biến" in result.output
    assert services.get_user_by_username("tram_cli") is None


def test_existing_short_passwords_still_log_in(app, world):
    factories.UserFactory(username="nguoicu", password="cu-8-kt!")
    db.session.commit()
    assert login(app.test_client(), "nguoicu", "cu-8-kt!").status_code == 302


@pytest.mark.parametrize("password", [DEFAULT_PASSWORD, DEMO_PASSWORD, factories.PASSWORD])
def test_demo_and_test_passwords_satisfy_the_policy(password):
    usernames = [u.username for u in DEMO_USERS] + [h[0] for h in EXTRA_HEADS] + [h[0] for h in NETWORK_HEADS]
    for username in usernames:
        services.check_password_strength(password, username=username)

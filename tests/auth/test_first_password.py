"""A password somebody else chose is replaced at first login (issue #12 item 4: "one-time
passwords"): an account from the accounts import, or whose password an administrator reset, is
sent to the password form from every page until the user sets their own; then the app opens as
usual. Logging out still works; the JSON API is not redirected."""

from __future__ import annotations

from sqlalchemy import select

from danso_network.auth.models import User
from danso_network.extensions import db
from tests.conftest import csrf_token, login

NEW_PASSWORD = "mat-khau-rieng-cua-toi-2026"
FORCED = "Vui lòng đổi mật khẩu trước khi tiếp tục."


def change_password(client, current: str):
    return client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": current,
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})


def test_an_administrators_reset_must_be_replaced_before_anything_else(world, client):
    head = world.users["head_a"]
    login(client, "admin75")
    reset = client.post(f"/admin/users/{head.id}/password", data={
        "csrf_token": csrf_token(client, f"/admin/users/{head.id}"), "new_password": "dat-lai-boi-quan-tri-75",
        "confirm": "dat-lai-boi-quan-tri-75"})
    assert reset.status_code == 302
    db.session.refresh(head)
    assert head.password_must_change
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})

    assert login(client, "truongtram_a", "dat-lai-boi-quan-tri-75").status_code == 302
    for page in ("/", "/collaborators/", f"/units/{world.commune_a.id}", "/admin/users"):
        answer = client.get(page)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/account/password"), page
    form = client.get("/account/password", follow_redirects=True).get_data(as_text=True)
    assert "Đổi mật khẩu" in form
    assert client.get("/static/app.css").status_code == 200  # the page can still be drawn

    assert change_password(client, "dat-lai-boi-quan-tri-75").status_code == 302
    db.session.refresh(head)
    assert not head.password_must_change
    home = client.get("/")
    assert home.status_code == 200 and FORCED not in home.get_data(as_text=True)


def test_a_user_changing_their_own_password_is_not_asked_again(world, client):
    login(client, "truongtram_a")
    assert client.get("/").status_code == 200
    assert change_password(client, "matkhau-demo-1").status_code == 302
    assert client.get("/").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "truongtram_a"))
    assert not user.password_must_change


def test_logging_out_is_allowed_before_the_change(world, client):
    user = world.users["head_a"]
    user.password_must_change = True
    db.session.commit()
    login(client, "truongtram_a")
    out = client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    assert out.status_code == 302 and "/login" in out.headers["Location"]

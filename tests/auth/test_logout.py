"""Logging out ends the session on the server (issue #9, item 4): a session cookie or a
remember-me cookie copied before logout no longer opens the app, from any browser."""

from __future__ import annotations

from danso_network.api.auth import issue_token
from danso_network.auth.models import User
from danso_network.extensions import db

from ..conftest import csrf_token


def _login(client, username: str, remember: bool = False):
    data = {"username": username, "password": "matkhau-demo-1", "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302
    return response


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def _logout(client):
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_session_cookie_replayed_after_logout_is_refused(app, world):
    browser = app.test_client()
    _login(browser, "truongtram_a")
    stolen = _cookie(browser, "session")
    _logout(browser)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302  # to the login page


def test_a_remember_cookie_replayed_alone_after_logout_is_refused(app, world):
    browser = app.test_client()
    _login(browser, "truongtram_a", remember=True)
    remember = _cookie(browser, "remember_token")
    assert remember
    before = app.test_client()
    before.set_cookie("remember_token", remember)
    assert before.get("/").status_code == 200  # the cookie works while the user is logged in
    _logout(browser)
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/").status_code == 302


def test_logout_leaves_api_tokens_working(app, world, client):
    user = db.session.scalar(db.select(User).where(User.username == "truongtram_a"))
    _token, raw = issue_token(user)
    db.session.commit()
    browser = app.test_client()
    _login(browser, "truongtram_a")
    _logout(browser)
    assert client.get("/api/v1/applications", headers={"Authorization": f"Bearer {raw}"}).status_code == 200

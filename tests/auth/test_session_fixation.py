"""Logging in starts a fresh session (auth/views.py ``login``: ``session.clear()``): nothing an
attacker planted in the browser's session before the login — here the CSRF secret of the login
page — carries over into the signed-in session."""

from __future__ import annotations

from tests.conftest import csrf_token


def test_a_token_from_before_the_login_does_not_work_after_it(client, world):
    before = csrf_token(client)
    response = client.post("/login", data={"username": "truongtram_a", "password": "matkhau-demo-1",
                                           "csrf_token": before})
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": before})
    assert client.get("/").status_code == 200  # still signed in: the old token was refused
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302  # the session's own token works

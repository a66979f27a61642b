"""PostgreSQL unreachable (restarting, down, the connection cut): every request is answered with
the app's own 503 page or JSON error — a Vietnamese message saying the database is temporarily
unavailable and to try again, with ``Retry-After`` — never a bare "Internal Server Error"
(issue #14, faults: "no 500 page without a message").

No mock: the app under test is pointed at a PostgreSQL port nothing listens on, so every
connection attempt really fails as it does while the server restarts. A session made by the
working app (same secret key) is replayed on it, so the page must be drawn for a signed-in user
whose account cannot even be read.
"""

from __future__ import annotations

import socket

import pytest

from danso_network.auth.models import User
from danso_network.extensions import db

from .conftest import csrf_token, make_app
from .factories import PASSWORD

UNAVAILABLE = "Cơ sở dữ liệu tạm thời không sẵn sàng"


def _dead_port() -> int:
    """A local port nothing listens on (bound, read, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def unreachable_app():
    """The real app, with the tests' secret key, on a PostgreSQL server that is not there."""
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{_dead_port()}/danso_gone")
    yield app
    with app.app_context():
        db.engine.dispose()


def _same_cookies(source, app):
    """A client of ``app`` carrying ``source``'s cookies (the session among them)."""
    client = app.test_client()
    for cookie in source._cookies.values():
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return client


def _signed_in_client(app, login_as, username: str):
    """A client of ``app`` carrying the session cookie a real sign-in gave on the working app."""
    return _same_cookies(login_as(username), app)


@pytest.mark.parametrize("path", ["/", "/collaborators/", "/supervision/visits"])
def test_a_signed_in_user_gets_the_503_page_with_a_message_while_the_database_is_unreachable(
        world, login_as, unreachable_app, path):
    """The user's account cannot be read, nor anything else: the answer is the app's error page
    (503, "Cơ sở dữ liệu tạm thời không sẵn sàng…", Retry-After), drawn without the database."""
    client = _signed_in_client(unreachable_app, login_as, "admin75")
    response = client.get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert UNAVAILABLE in body and "thử lại" in body
    assert "503" in body and "<html" in body.lower()
    assert "Traceback" not in body and "Internal Server Error" not in body
    assert int(response.headers["Retry-After"]) >= 1


def test_a_form_posted_while_the_database_is_unreachable_gets_the_503_page(world, login_as, unreachable_app):
    """A write (here a visit) posted while the database is down: the 503 page with its message."""
    signed_in = login_as("admin75")
    token = csrf_token(signed_in, "/supervision/visits")  # the session's token, as the form carries it
    client = _same_cookies(signed_in, unreachable_app)
    response = client.post("/supervision/visits/new/1", data={"visited_on": "01/12/2026", "csrf_token": token})
    assert response.status_code == 503
    assert UNAVAILABLE in response.get_data(as_text=True)


def test_the_api_answers_503_json_with_the_message_while_the_database_is_unreachable(unreachable_app):
    """A token request and a bearer request: JSON ``{"error": …, "status": 503}`` with Retry-After."""
    client = unreachable_app.test_client()
    for response in (client.post("/api/v1/auth/token", json={"username": "admin75", "password": PASSWORD}),
                     client.get("/api/v1/units/tree", headers={"Authorization": "Bearer dso_not_checked"})):
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
        assert response.json["status"] == 503
        assert UNAVAILABLE in response.json["error"]
        assert int(response.headers["Retry-After"]) >= 1


def test_the_same_session_works_again_once_the_database_is_back(world, login_as, unreachable_app, app):
    """The failure kept nothing: the session that met the outage opens pages on the working app."""
    client = _signed_in_client(unreachable_app, login_as, "admin75")
    assert client.get("/collaborators/").status_code == 503
    back = _same_cookies(client, app)
    response = back.get("/collaborators/", follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path.startswith("/collaborators/")  # not sent back to the login page
    assert db.session.scalar(db.select(User.username).where(User.username == "admin75")) == "admin75"

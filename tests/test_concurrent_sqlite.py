"""The embedded SQLite database under simultaneous requests (issue #9, item 3): logins and writes
from several browsers at once never answer 500. SQLite runs in WAL mode with a busy timeout and
takes its write lock when a transaction begins, so requests wait their turn instead of failing;
a lock that still wins is a Vietnamese "try again" (503), and the session is rolled back.

The app here has its own SQLite file with committed data (threads cannot share the rolled-back
transaction of the other tests), so it runs the same way in the PostgreSQL run of the suite."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from danso_network.api.models import ApiToken
from danso_network.extensions import db
from danso_network.units.models import AdminUnit, UnitLevel

from .conftest import csrf_token, make_app
from .factories import PASSWORD, build_world


def _served_app(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/concurrent.db", LOGIN_RATE_LIMIT="1000 per minute")
    with app.app_context():
        db.create_all()
        world = build_world()
        db.session.commit()
        commune_id = world.commune_a.id
        db.session.remove()
    return app, commune_id


def _logged_in(app):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "admin75", "password": PASSWORD, "csrf_token": token})
    return client, response.status_code


def test_simultaneous_logins_and_writes_never_fail(tmp_path):
    app, commune_id = _served_app(tmp_path)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        db.session.remove()
    start = threading.Barrier(10)

    def login_and_write(i: int) -> tuple[int, int]:
        start.wait()
        client, login_status = _logged_in(app)
        token = csrf_token(client, f"/units/{commune_id}/hamlets/new")
        created = client.post(f"/units/{commune_id}/hamlets/new", data={
            "name": f"Ấp đồng thời {i}", "type": "khu_pho", "households": "120", "population": "480",
            "valid_from": "01/07/2025", "csrf_token": token})
        return login_status, created.status_code

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(login_and_write, range(10)))
    assert results == [(302, 302)] * 10
    with app.app_context():
        names = db.session.scalars(select(AdminUnit.name).where(
            AdminUnit.level == UnitLevel.HAMLET.value, AdminUnit.name.like("Ấp đồng thời %"))).all()
        assert sorted(names) == sorted(f"Ấp đồng thời {i}" for i in range(10))
        db.session.remove()


def test_a_lock_that_still_wins_is_a_clear_503_and_nothing_is_kept(tmp_path):
    app, commune_id = _served_app(tmp_path)

    @app.get("/_test/locked")
    def locked():
        db.session.add(AdminUnit(level="hamlet", name="x", full_name="x", type="ap", path="/x/",
                                 search_text="x", valid_from=db.func.current_date()))
        raise OperationalError("INSERT …", {}, Exception("database is locked"))

    client, _status = _logged_in(app)
    response = client.get("/_test/locked")
    assert response.status_code == 503
    assert "thử lại" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AdminUnit.name == "x")) == 0
        db.session.remove()


def test_a_token_request_meeting_a_held_lock_is_told_to_retry_not_that_a_record_was_processed(
        tmp_path, monkeypatch):
    """Another writer holds the database past the busy timeout while someone asks for an API
    token: no record is involved, so the answer is "busy, try again" (503 + Retry-After), like
    the pages, not "someone just processed this record" (409)."""
    from danso_network import extensions

    monkeypatch.setattr(extensions, "SQLITE_BUSY_TIMEOUT_MS", 50)  # fail fast instead of waiting 15 s
    app, _commune_id = _served_app(tmp_path)
    holder = sqlite3.connect(tmp_path / "concurrent.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held by "another writer"
    try:
        response = app.test_client().post("/api/v1/auth/token", json={"username": "admin75", "password": PASSWORD})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.get_json()
    assert int(response.headers["Retry-After"]) >= 2  # the throttle's headers may push it later
    assert response.json["status"] == 503
    assert "thử lại" in response.json["error"]
    assert "người khác xử lý" not in response.json["error"]
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
        db.session.remove()
    assert app.test_client().post("/api/v1/auth/token", json={"username": "admin75",
                                                               "password": PASSWORD}).status_code == 201

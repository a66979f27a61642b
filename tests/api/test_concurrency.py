"""Issue #3 item 7: two approvers acting on the same application at the same moment produce
exactly one transition, and the loser gets a clear message.

These tests need REAL commits from two sessions on two connections, so they cannot use the
rolled-back test transaction: they build an app on a database of their own (a fresh PostgreSQL
database next to ``DANSO_TEST_DATABASE_URL`` when it is set, else a temporary SQLite file). Both
sides read the application (version N), meet at a :class:`threading.Barrier`, then act.

What the loser sees depends on the database, and each outcome is correct:
- PostgreSQL: its UPDATE waits for the winner's row lock, then matches no row (the version moved
  on), so the services raise :class:`Conflict` ("vừa được người khác xử lý").
- SQLite allows one writer. Outside a request both sides read at once and the loser, holding a
  read lock, is refused ("database is locked"). Through the web or the API a request that changes
  data takes the write lock when it begins (``BEGIN IMMEDIATE``, extensions.py), so the second
  request waits for the first to commit, then reads the new state and gets the same 409 ("ở
  trạng thái …"): the two cannot both hold version N, and the barrier is never reached by both.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from danso_network.api.auth import issue_token
from danso_network.auth.models import Role, User
from danso_network.errors import Conflict
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import Application, ApplicationEvent
from danso_network.recruitment.workflow import Action
from danso_network.units.models import AdminUnit

from .. import factories
from ..conftest import make_app

DECISIONS = ("approve", "reject")
CONCURRENT_MESSAGES = ("vừa được người khác xử lý", "ở trạng thái")


def _admin_conninfo(url) -> str:
    return url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A database of its own: a fresh PostgreSQL database, or a SQLite file."""
    base = os.environ.get("DANSO_TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("concurrency") / "conc.db")
        return
    import psycopg
    from psycopg import sql

    url = make_url(base)
    name = f"{url.database}_conc{os.environ.get('PYTEST_XDIST_WORKER', '')}"
    with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def shared(database):
    """An app on that database with the test world, criteria and a second centre officer, all
    committed for real."""
    app = make_app(database)
    with app.app_context():
        db.create_all()
        world = factories.build_world()
        factories.criteria(world.dong_nai)
        factories.user(Role.CENTRE_OFFICER, facility=world.centre, username="ttyt689_b")
        db.session.commit()
        hamlet_ids = [h.id for h in world.hamlets_b]
        db.session.remove()
    app.hamlet_ids = hamlet_ids
    app.serials = iter(range(1, 10_000))
    yield app
    with app.app_context():  # the database itself is dropped (PostgreSQL) or left in a temp dir
        db.session.remove()
        db.engine.dispose()


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def submitted_application(app) -> int:
    """A new application driven to ``submitted`` by station head B, committed."""
    with app.app_context():
        head = _user("truongtram_b")
        hamlet = db.session.get(AdminUnit, app.hamlet_ids[0])
        application = rs.create_application(**factories.candidate_fields(hamlet, next(app.serials)), actor=head)
        factories.complete_dossier(application, head)
        for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                              (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in
                                                                 ["RESPONSIBLE", "MOBILISES", "TRUSTED",
                                                                  "STABLE_WORK"]}}),
                              (Action.SUBMIT, {})]:
            rs.perform(application, action, actor=head, **extra)
        db.session.commit()
        app_id = application.id
        db.session.remove()
    return app_id


def decisions_on(app, application_id: int) -> tuple[str, list[ApplicationEvent]]:
    with app.app_context():
        application = db.session.get(Application, application_id)
        events = list(db.session.scalars(select(ApplicationEvent).where(
            ApplicationEvent.application_id == application_id, ApplicationEvent.action.in_(DECISIONS))))
        state = application.state
        db.session.expunge_all()
        db.session.remove()
    return state, events


def race(app, application_id: int, moves: list[tuple[str, str, dict]]) -> list:
    """Each move (action, username, payload) in its own thread, app context and session. Both
    read the application, wait at the barrier, then perform and commit. Returns, per move,
    ``"ok"`` or the exception it ended with."""
    barrier = threading.Barrier(len(moves), timeout=30)
    outcomes: list = [None] * len(moves)

    def run(i: int, action: str, username: str, payload: dict):
        with app.app_context():
            try:
                actor = _user(username)
                application = db.session.get(Application, application_id)  # reads version N
                assert application.state == "submitted"
                barrier.wait()
                rs.perform(application, action, actor=actor, **payload)
                db.session.commit()
                outcomes[i] = "ok"
            except Exception as e:  # noqa: BLE001 - the outcome under test
                db.session.rollback()
                outcomes[i] = e
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, *move)) for i, move in enumerate(moves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a session is still waiting: deadlock"
    return outcomes


def assert_one_winner(app, outcomes: list, *, sqlite_lock_allowed: bool) -> int:
    """Exactly one side committed; the other got a clear refusal. Returns the winner's index."""
    winners = [i for i, o in enumerate(outcomes) if o == "ok"]
    assert len(winners) == 1, outcomes
    loser = outcomes[1 - winners[0]]
    if isinstance(loser, Conflict):
        assert any(m in str(loser) for m in CONCURRENT_MESSAGES), str(loser)
    else:
        is_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        assert sqlite_lock_allowed and is_sqlite and isinstance(loser, OperationalError), repr(loser)
        assert "database is locked" in str(loser)
    return winners[0]


@pytest.mark.parametrize("second", [("approve", "ttyt689_b", {}),
                                    ("reject", "ttyt689_b", {"comment": "Không đủ tiêu chuẩn sức khỏe."})])
def test_two_approvers_at_once_make_exactly_one_transition(shared, second):
    application_id = submitted_application(shared)
    outcomes = race(shared, application_id, [("approve", "ttyt689", {}), second])
    winner = assert_one_winner(shared, outcomes, sqlite_lock_allowed=True)
    state, events = decisions_on(shared, application_id)
    assert len(events) == 1
    expected = ("approve", "approved") if winner == 0 else (second[0], "approved" if second[0] == "approve"
                                                            else "rejected")
    assert (events[0].action, state) == expected
    assert events[0].actor_name == ("ttyt689" if winner == 0 else "ttyt689_b")


def test_the_loser_through_the_api_gets_409_with_a_clear_message(shared, monkeypatch):
    application_id = submitted_application(shared)
    headers = []
    with shared.app_context():
        for username in ("ttyt689", "ttyt689_b"):
            token, raw = issue_token(_user(username))
            token.last_used_at = datetime.now(UTC)  # no bookkeeping write during the race
            headers.append({"Authorization": f"Bearer {raw}"})
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(2, timeout=30)
    perform = rs.perform

    serialised = shared.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")

    def perform_together(application, action, **kwargs):
        # The view has loaded the application (version N) in both requests — except on SQLite,
        # where the second request is still waiting for the write lock: don't wait for it there.
        try:
            barrier.wait(timeout=2 if serialised else None)
        except threading.BrokenBarrierError:
            assert serialised
        return perform(application, action, **kwargs)

    monkeypatch.setattr(rs, "perform", perform_together)
    responses: list = [None, None]
    bodies = [{"action": "approve"}, {"action": "reject", "comment": "Hồ sơ khám sức khỏe không hợp lệ."}]

    def call(i: int):
        client = shared.test_client()
        responses[i] = client.post(f"/api/v1/applications/{application_id}/transitions", json=bodies[i],
                                   headers=headers[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.get_json() for r in responses]
    winner = next(r for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json["status"] == 409
    assert any(m in loser.json["error"] for m in CONCURRENT_MESSAGES), loser.json
    state, events = decisions_on(shared, application_id)
    assert len(events) == 1 and state == winner.json["application"]["state"]
    assert events[0].action == winner.json["event"]["action"]


def test_one_after_the_other_the_second_sees_the_new_state(shared):
    """No race: the second approver reads after the first committed and is told why."""
    application_id = submitted_application(shared)
    with shared.app_context():
        rs.perform(db.session.get(Application, application_id), "approve", actor=_user("ttyt689"))
        db.session.commit()
        db.session.remove()
    with shared.app_context():
        with pytest.raises(Conflict, match="Không thể “Phê duyệt” hồ sơ đang ở trạng thái “Đã phê duyệt”"):
            rs.perform(db.session.get(Application, application_id), "approve", actor=_user("ttyt689_b"))
        db.session.rollback()
        count = db.session.scalar(select(func.count()).select_from(ApplicationEvent).where(
            ApplicationEvent.application_id == application_id, ApplicationEvent.action == "approve"))
        db.session.remove()
    assert count == 1

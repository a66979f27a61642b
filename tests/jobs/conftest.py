"""Apps whose jobs really run elsewhere: a thread of the app, or an RQ worker (in this process or
another one).

A thread or a worker has its own database connection and cannot see the rolled-back transaction
every other test runs in (tests/conftest.py), so these apps use a database of their own — a
SQLite file, or with DANSO_TEST_DATABASE_URL a PostgreSQL database ``<name>_<worker>_jobs`` — where
the world is committed for real once, and each test deletes the jobs it made. RQ uses the Redis at
127.0.0.1:6379 (DANSO_TEST_REDIS_URL to change it) with a queue named for the test alone, deleted
afterwards, so parallel workers and other runs never share one. Without Redis the RQ tests are
skipped — except under CI=true, where that is a failure."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, select

from danso_network.audit.models import AuditEvent
from danso_network.auth.models import User
from danso_network.extensions import db
from danso_network.jobs.models import Job
from tests.conftest import IsolatedClient, _own_database, _worker_suffix, login, make_app
from tests.factories import build_world

from . import kinds  # noqa: F401  (registers the test kinds)

REDIS_URL = os.environ.get("DANSO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class JobsWorld:
    url: str
    users: dict[str, int]  # username -> id
    commune_a_code: str


@pytest.fixture(scope="session")
def jobs_world(tmp_path_factory) -> JobsWorld:
    with _own_database(tmp_path_factory, _worker_suffix("jobs")) as url:
        app = make_app(url)
        with app.app_context():
            db.drop_all()
            db.create_all()
            world = build_world()
            db.session.commit()
            users = {u.username: u.id for u in db.session.scalars(select(User))}
            code = world.commune_a.code
            db.session.remove()
            db.engine.dispose()
        yield JobsWorld(url, users, code)  # the database goes with its file, or is dropped


@pytest.fixture
def jobs_dir(tmp_path):
    path = tmp_path / "job-files"
    path.mkdir()
    return path


@pytest.fixture
def make_jobs_app(jobs_world, jobs_dir):
    """``make_jobs_app(engine, **settings)``: an app on the jobs database, its files in this
    test's folder; the jobs it leaves (and their audit events) are deleted at the end."""
    made = []

    def build(engine: str, **settings):
        app = make_app(jobs_world.url, JOB_ENGINE=engine, JOB_DIR=str(jobs_dir), LOGIN_RATE_LIMIT="1000 per minute",
                       **settings)
        app.test_client_class = IsolatedClient
        made.append(app)
        return app

    yield build
    if made:
        with made[0].app_context():
            # Ids come again once rows are gone (SQLite): their audit events go too (the
            # append-only guard is on the ORM; this is the test's own clean-up).
            db.session.execute(delete(AuditEvent).where(AuditEvent.object_type == "Job"))
            db.session.execute(delete(Job))
            db.session.commit()
            db.session.remove()
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is needed under CI: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture
def rq_queue_name(redis_url):
    """A queue for this test alone; it and every RQ key naming it are deleted afterwards."""
    import redis
    from rq import Queue

    name = f"danso-test-{os.getpid()}-{uuid.uuid4().hex[:10]}"
    yield name
    connection = redis.Redis.from_url(redis_url)
    Queue(name, connection=connection).delete(delete_jobs=True)
    for key in connection.scan_iter(match=f"*{name}*"):
        connection.delete(key)


def signed_in(app, username: str):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def job_row(app, job_id: int) -> Job:
    """The job as the database has it now (read in a fresh session, detached)."""
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge_all()
        db.session.remove()
        return job


def submit_as(app, username: str, kind: str, params: dict) -> int:
    """What a page does: submit for the signed-in user, then commit once (the job starts then)."""
    from danso_network.jobs import services

    with app.test_request_context(method="POST"):  # a POST: on SQLite it holds the write lock from the start
        owner = db.session.scalar(select(User).where(User.username == username))
        job = services.submit(kind, params, owner)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    return job_id

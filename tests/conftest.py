"""Test set-up: one database per run (SQLite file, or PostgreSQL when DANSO_TEST_DATABASE_URL is
set), each test inside a transaction that is rolled back, CSRF on as in production."""

from __future__ import annotations

import contextvars
import os
import re

import pytest
from flask.testing import FlaskClient

from danso_network import create_app
from danso_network.config import TestConfig
from danso_network.extensions import db, limiter

from .factories import World, build_world


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("DANSO_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def make_app(url: str, **overrides):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    config.update(DATABASE_URL=url, **overrides)
    return create_app(config)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context (own ``g``, own database session), as in
    production, even though the test itself holds an app context to read the database."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = make_app(database_url, UPLOAD_DIR=str(tmp_path_factory.mktemp("uploads")))
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
        # Every session joins the test's outer transaction through a SAVEPOINT, so code that
        # commits still leaves nothing behind.
        db.session.configure(join_transaction_mode="create_savepoint")
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(app):
    """Run each test in a transaction rolled back at the end (DESIGN.md §4 rule 11)."""
    with app.app_context():
        engines = db.engines
        engine = engines[None]
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        limiter.reset()
        try:
            yield
        finally:
            db.session.remove()
            outer.rollback()
            connection.close()
            engines[None] = engine


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(app) -> World:
    """A small, fully known tree: two provinces, communes, hamlets, facilities and one user per role.

    Committed (into the test's SAVEPOINT), so a rollback inside the code under test undoes only
    what the test did after this point, as it would in production."""
    world = build_world()
    db.session.commit()
    return world


_CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = _CSRF_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, username: str, password: str = "matkhau-demo-1"):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(client):
    def _login(user_or_name, password: str = "matkhau-demo-1"):
        name = getattr(user_or_name, "username", user_or_name)
        response = login(client, name, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return _login

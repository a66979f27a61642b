"""Test set-up: one database per worker (a SQLite file, or with DANSO_TEST_DATABASE_URL a
PostgreSQL database of its own, ``<name>_<worker>`` under pytest-xdist), each test inside a
transaction that is rolled back, CSRF on as in production.

Guarantees every test can rely on:
- it starts on an empty schema (or on a prepared database, below) and nothing it writes, commits
  included, is seen by any other test;
- each request runs in its own app context, as in production.

Prepared databases: data that takes long to build (the Đồng Nai demo) is built once per worker in
a database of its own (:func:`prepare_database`); a test that uses it runs inside a rolled-back
transaction on that database, exactly as other tests do on the empty one. Tests that use one
prepared database are sent to the same xdist worker (``--dist loadgroup``, see
:func:`pytest_collection_modifyitems`), so each is built once per run."""

from __future__ import annotations

import contextlib
import contextvars
import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

from danso_network import create_app
from danso_network.config import DATA_DIR, TestConfig
from danso_network.extensions import db, limiter

from .factories import World, build_world

DEMO_PASSWORD = "demo-test-123"
DEMO_SEED = 7
# Fixture -> xdist group: the tests using one prepared database (or the live server) run on one worker.
GROUPS = {"demo_network_db": "demo_network", "demo_db": "demo", "live_server": "e2e"}


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark each test with the xdist group of the prepared database it uses, then make sure the
    scheduler sees the group.

    ``--dist loadgroup`` tells the scheduler a test's group by renaming the test ``<id>@<group>``.
    pytest-xdist 3.8 does it through ``item._nodeid``, which pytest 9.2's structured node ids no
    longer read, so groups are silently ignored (pytest-dev/pytest-xdist#1386). Rename the test the
    way this pytest reads it; a no-op once xdist does it itself."""
    for item in items:
        for fixture, group in GROUPS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))
                break
    result = yield
    if getattr(config.option, "loadgroup", False):
        for item in items:
            names = {str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                     for m in item.iter_markers("xdist_group")}
            suffix = "@" + "_".join(sorted(names))
            if not names or item.nodeid.endswith(suffix):
                continue
            if hasattr(item, "_id"):
                from _pytest.nodeid import NodeId

                item._id = NodeId.parse(item.nodeid + suffix)
            else:
                item._nodeid = item.nodeid + suffix
    return result


def _normalised(url: str) -> str:
    return "postgresql+psycopg://" + url[len("postgresql://"):] if url.startswith("postgresql://") else url


def _admin(url: str, statement: str, name: str) -> None:
    """Run CREATE/DROP DATABASE for ``name`` on the ``postgres`` database of the same server."""
    import psycopg
    from psycopg import sql

    admin = make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


@contextlib.contextmanager
def _own_database(tmp_path_factory, name: str):
    """A database for this worker: a SQLite file in its temporary directory, or a PostgreSQL
    database ``<DANSO_TEST_DATABASE_URL's database>_<name>`` created now and dropped at the end
    (``name`` empty: the configured database itself, as when running without xdist)."""
    base = os.environ.get("DANSO_TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / f"{name or 'test'}.db")
        return
    base = _normalised(base)
    if not name:
        yield base
        return
    url = make_url(base)
    database = f"{url.database}_{name}"
    _admin(base, "DROP DATABASE IF EXISTS {} WITH (FORCE)", database)
    _admin(base, "CREATE DATABASE {}", database)
    try:
        yield url.set(database=database).render_as_string(hide_password=False)
    finally:
        _admin(base, "DROP DATABASE IF EXISTS {} WITH (FORCE)", database)


def _worker_suffix(name: str = "") -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return "_".join(part for part in (worker, name) if part)


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
def database_url(tmp_path_factory):
    with _own_database(tmp_path_factory, _worker_suffix()) as url:
        yield url


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


@contextlib.contextmanager
def _rolled_back(engine: Engine):
    """Point the app's sessions at one connection of ``engine`` inside a transaction that is
    rolled back at the end (DESIGN.md §4 rule 11). Needs an app context."""
    engines = db.engines
    previous = engines[None]
    db.session.remove()
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    try:
        yield connection
    finally:
        db.session.remove()
        outer.rollback()
        connection.close()
        engines[None] = previous


@dataclass
class PreparedDatabase:
    """A database filled once per worker; ``value`` is what building it returned."""

    engine: Engine
    value: Any

    @contextlib.contextmanager
    def use(self):
        """Run the enclosed code on this database, inside a transaction rolled back at the end:
        what it changes is seen by nothing else. Needs an app context (every test has one)."""
        with _rolled_back(self.engine):
            yield copy.deepcopy(self.value)


@pytest.fixture(scope="session")
def prepare_database(app, tmp_path_factory):
    """``prepare_database(name, build)``: the database ``name``, built once per worker by
    ``build()`` (which writes through ``db.session``; it is then committed for real)."""
    prepared: dict[str, PreparedDatabase] = {}
    with contextlib.ExitStack() as stack:

        def prepare(name: str, build) -> PreparedDatabase:
            if name not in prepared:
                url = stack.enter_context(_own_database(tmp_path_factory, _worker_suffix(name)))
                engine = create_engine(_normalised(url), **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
                if engine.dialect.name == "sqlite":  # a throwaway file: no need to wait for the disk
                    event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA synchronous=OFF"))
                stack.callback(engine.dispose)
                with app.app_context():
                    engines = db.engines
                    previous = engines[None]
                    engines[None] = engine
                    try:
                        db.metadata.create_all(engine)
                        value = build()
                        db.session.commit()
                    finally:
                        db.session.remove()
                        engines[None] = previous
                prepared[name] = PreparedDatabase(engine, value)
            return prepared[name]

        yield prepare


@pytest.fixture(scope="session")
def demo_db(prepare_database) -> PreparedDatabase:
    """The Đồng Nai demo up to the recruitment pipeline (``network=False``), seed 7; its value is
    the loader's report."""

    def build():
        from danso_network.demo.loader import load_demo

        return load_demo(Path(DATA_DIR), seed=DEMO_SEED, password=DEMO_PASSWORD, network=False)

    return prepare_database("demo", build)


@dataclass
class CliLoad:
    exit_code: int
    output: str
    report: Any  # the DemoReport of the load


@pytest.fixture(scope="session")
def demo_network_db(app, prepare_database) -> PreparedDatabase:
    """The whole Đồng Nai demo with the network's three years, seed 7, loaded into an empty
    database by ``danso demo load`` as a user would; its value is a :class:`CliLoad`."""

    def build():
        from danso_network.demo import loader

        reports = []
        real = loader.load_demo

        def recording(*args, **kwargs):
            reports.append(real(*args, **kwargs))
            return reports[-1]

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(loader, "load_demo", recording)
            result = app.test_cli_runner().invoke(
                args=["demo", "load", "--password", DEMO_PASSWORD, "--seed", str(DEMO_SEED)])
        assert result.exit_code == 0, result.output
        assert len(reports) == 1
        return CliLoad(result.exit_code, result.output, reports[0])

    return prepare_database("demo_network", build)


@pytest.fixture(autouse=True)
def _transaction(app):
    """Run each test in a transaction rolled back at the end (DESIGN.md §4 rule 11)."""
    with app.app_context():
        limiter.reset()
        with _rolled_back(db.engines[None]):
            yield


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

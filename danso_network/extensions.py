"""Flask extensions, created unbound and initialised in :func:`danso_network.create_app`.

Models import ``db`` from here and nothing else from the app, so the dependency arrow stays
``views/api/cli -> services -> models -> extensions``.
"""

import sqlite3

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints make Alembic migrations reproducible on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys; write-ahead logging so readers never wait for a writer;
    a busy timeout so a writer waits for the other instead of failing; and let SQLAlchemy (not the
    driver) open transactions so SAVEPOINTs work (SQLAlchemy docs, "Serializable isolation /
    Savepoints / Transactional DDL")."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file; "memory" for :memory:
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    """A request that changes data (POST, PUT, PATCH, DELETE) begins with ``BEGIN IMMEDIATE``:
    it takes the write lock at once, waiting (busy timeout) for another writer to finish. A
    deferred ``BEGIN`` that reads and then writes can meet another writer mid-way, and SQLite then
    fails at once ("database is locked") rather than wait, since waiting could deadlock
    (sqlite.org/lang_transaction.html). Reading requests stay deferred so they never queue."""
    if conn.dialect.name == "sqlite":
        from flask import has_request_context, request

        writing = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

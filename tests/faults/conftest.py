"""Shared pieces of the fault tests (issue #14 item 3): databases of their own, the ``danso``
command run as a real process that can be killed, signs that a process is really writing, and
storage that really fails.

A process killed by a test commits on its own connection, so it cannot share the rolled-back
transaction the other tests run in (tests/conftest.py): each test that kills one gets a database
of its own — a SQLite file, or with DANSO_TEST_DATABASE_URL a PostgreSQL database
``<name>_<worker>_<random>`` — with the small world committed for real, dropped at the end.

Storage: tests run as root, for whom ``chmod`` makes nothing read-only. A full disk is a tmpfs of
64 KB mounted for the test and filled up; a read-only one a tmpfs mounted ``ro``; and a folder
that cannot exist is a path under a regular file (ENOTDIR), which needs no privilege. Where
``mount`` is not permitted, the disk-full and read-only cases make the operating system's
``open`` fail for that folder with the same error instead (ENOSPC, EROFS) — the database is
always real."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from danso_network.auth.models import User
from danso_network.extensions import db
from tests.conftest import IsolatedClient, _own_database, _worker_suffix, make_app
from tests.factories import build_world, national_id

ROOT = Path(__file__).resolve().parents[2]
ROSTER_HEAD = ["STT", "Mã thôn", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại", "Dân tộc",
               "Trình độ học vấn", "Loại phân công", "Phụ trách từ", "Số quyết định", "Số hợp đồng", "Kiêm YTTB",
               "Kiêm GĐ&TE"]
WAIT = 90.0  # seconds: generous, for a loaded 2-CPU machine; the tests end long before when all is well


@dataclass
class OwnDatabase:
    """A database with the small world committed, and the app to read it with."""

    url: str
    app: object
    hamlet_codes: list[str]  # "<commune code>-<local id>" of the Đồng Nai hamlets
    users: dict[str, int] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return make_url(self.url).get_backend_name()

    def url_for_process(self, name: str) -> str:
        """The URL a subprocess uses; on PostgreSQL it names its connections ``name`` (so
        ``pg_stat_activity`` tells them apart)."""
        if self.dialect != "postgresql":
            return self.url
        return make_url(self.url).update_query_dict({"application_name": name}).render_as_string(
            hide_password=False)


def build_own_database(tmp_path_factory, **settings):
    """A context manager giving an :class:`OwnDatabase` (the world committed); dropped after."""

    @contextlib.contextmanager
    def made():
        with _own_database(tmp_path_factory, _worker_suffix("f" + uuid.uuid4().hex[:8])) as url:
            app = make_app(url, LOGIN_RATE_LIMIT="1000 per minute", **settings)
            app.test_client_class = IsolatedClient
            with app.app_context():
                db.drop_all()
                db.create_all()
                world = build_world()
                db.session.commit()
                codes = [f"{h.parent.code}-{h.local_id}" for h in (*world.hamlets_a, *world.hamlets_b)]
                users = {u.username: u.id for u in db.session.scalars(select(User))}
                db.session.remove()
            try:
                yield OwnDatabase(url, app, codes, users)
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()

    return made()


def roster_csv(path: Path, codes: list[str], rows: int, *, first_serial: int = 1000) -> Path:
    """A roster file of ``rows`` people new to the database, as an office fills the template:
    one primary hamlet each (spread over ``codes``), dates as dd/mm/yyyy."""
    import csv
    from datetime import date

    born = date(1990, 5, 17)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_HEAD)
        for i in range(rows):
            writer.writerow([i + 1, codes[i % len(codes)], f"Nguyễn Thị Nhập {i}", "17/05/1990", "Nữ",
                             national_id(born, "female", first_serial + i), f"09{i:08d}", "Kinh",
                             "Tốt nghiệp THCS", "Thôn chính", "01/09/2025", f"{i}/QĐ-TTYT", "", "", "Có"])
    return path


# --- a real process ------------------------------------------------------------------------------------


class Running:
    """A process of the application whose output is collected as it comes (so a full pipe never
    blocks it)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path = ROOT):
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
            self._chunks.append(chunk)

    @property
    def output(self) -> str:
        return b"".join(self._chunks).decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler, no clean-up, no final commit."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=WAIT)
        self._reader.join(timeout=5)

    def finish(self, timeout: float = WAIT) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"process still running after {timeout} s:\n{self.output[-2000:]}") from None
        self._reader.join(timeout=5)
        return code

    def stop(self) -> None:
        if self.alive():
            self.kill()


@pytest.fixture
def processes():
    """Start processes with ``processes(args, env)``; any still running at the end is killed."""
    started: list[Running] = []

    def start(args: list[str], env: dict[str, str]) -> Running:
        started.append(Running(args, env))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def danso(*args: str) -> list[str]:
    """The ``danso`` command, run by this virtualenv's Python."""
    return [sys.executable, "-m", "danso_network.cli", *args]


def danso_env(url: str, **settings: str) -> dict[str, str]:
    """The environment of a ``danso`` process: this database, a fixed key, ``settings`` as
    ``DANSO_<KEY>``; nothing of the test run's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANSO_")}
    env.update(DANSO_DATABASE_URL=url, DANSO_SECRET_KEY="faults-test-key", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(ROOT))
    env.update({f"DANSO_{key}": value for key, value in settings.items()})
    return env


def wait_until(predicate, *, what: str, timeout: float = WAIT, interval: float = 0.02, running: Running | None = None):
    """Poll ``predicate`` until it returns something true; fail with ``what`` (and the process's
    output) after ``timeout`` seconds or when ``running`` ended first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if running is not None and not running.alive():
            raise AssertionError(f"the process ended before {what} (exit {running.proc.returncode}):\n"
                                 f"{running.output[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def writing(database: OwnDatabase, name: str) -> bool:
    """True while a process holds an open write transaction that has written something and not
    committed: on SQLite, the write lock is taken (another ``BEGIN IMMEDIATE`` fails at once);
    on PostgreSQL, a connection named ``name`` has a transaction id (given at its first write)."""
    if database.dialect == "sqlite":
        import sqlite3

        connection = sqlite3.connect(make_url(database.url).database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            return "locked" in str(error)
        else:
            connection.execute("ROLLBACK")
            return False
        finally:
            connection.close()
    import psycopg

    admin = make_url(database.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        return bool(connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND backend_xid IS NOT NULL",
            (name,)).fetchone()[0])


# --- storage that fails ---------------------------------------------------------------------------------


def _mount(target: Path, options: str) -> bool:
    """Mount a tmpfs on ``target``; False where that is not permitted (or FAULTS_WITHOUT_MOUNT=1,
    to run the fallback on purpose)."""
    if os.environ.get("FAULTS_WITHOUT_MOUNT") == "1" or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True)
    return done.returncode == 0


def _umount(target: Path) -> None:
    if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _fill(folder: Path) -> None:
    """Write into ``folder`` until the disk says it is full."""
    chunk = b"\0" * 4096
    for name in ("filler", "filler-small"):
        with contextlib.suppress(OSError), open(folder / name, "wb", buffering=0) as handle:
            while True:
                handle.write(chunk)
    with contextlib.suppress(OSError), open(folder / "filler-last", "wb", buffering=0) as handle:
        handle.write(b"\0")  # not even one byte more


@contextlib.contextmanager
def _failing_open(folder: Path, code: int):
    """The fallback without ``mount``: opening any file under ``folder`` for writing fails with
    ``code`` (as the kernel would), everything else is untouched."""
    import builtins

    real_open, real_os_open = builtins.open, os.open
    root = str(folder)

    def refused(path) -> bool:
        return isinstance(path, str | os.PathLike) and os.path.abspath(os.fspath(path)).startswith(root)

    def check(path, mode="r"):
        if refused(path) and any(c in mode for c in "wax+"):
            raise OSError(code, os.strerror(code), os.fspath(path))

    def fake_open(file, mode="r", *args, **kwargs):
        check(file, mode)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if refused(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real_os_open(path, flags, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "open", fake_open)
        patch.setattr(io, "open", fake_open)
        patch.setattr(os, "open", fake_os_open)
        yield


@contextlib.contextmanager
def broken_storage(how: str, base: Path):
    """A folder path where writing fails the way ``how`` says:

    - ``full``: a 64 KB tmpfs filled up (ENOSPC on the first write);
    - ``read-only``: a tmpfs mounted read-only (EROFS on the first file made);
    - ``not-a-folder``: a path under a regular file (ENOTDIR on the first folder made).
    """
    if how == "not-a-folder":
        blocker = base / "a-regular-file"
        blocker.write_text("not a folder\n")
        yield blocker / "uploads"
        return
    target = base / f"mnt-{how}"
    target.mkdir()
    options = "size=64k,mode=0755" + (",ro" if how == "read-only" else "")
    if _mount(target, options):
        try:
            if how == "full":
                _fill(target)
            yield target
        finally:
            _umount(target)
        return
    with _failing_open(target, errno.ENOSPC if how == "full" else errno.EROFS):
        yield target


STORAGE_FAULTS = ("full", "read-only", "not-a-folder")


def files_under(folder: Path) -> set[str]:
    """The files below ``folder`` (none when it cannot be read), ignoring what the test put there
    to fill the disk."""
    if not folder.is_dir():
        return set()
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.name.startswith("filler")}

"""Backups and restores (issue #14 item 5): one archive holds the database and the files the app
keeps beside it, and a restore puts both back, after checking everything it can first.

**What a backup holds.** One ``tar.gz`` file:

- ``database/danso.sqlite3`` — a SQLite database copied by SQLite's online backup API
  (``sqlite3.Connection.backup``): a consistent snapshot taken while the app keeps serving (with
  write-ahead logging readers and writers do not wait for it); or ``database/danso.pgdump`` — a
  ``pg_dump --format=custom`` of a PostgreSQL database (also a consistent snapshot, taken without
  blocking the app);
- ``uploads/…`` — every file under ``UPLOAD_DIR`` (dossier attachments, import files kept between
  the dry run and the import);
- ``jobs/…`` — every file under ``JOB_DIR`` (results of background exports and reports, which
  job rows of the database point to); files still being written (``*.part``) are left out;
- ``manifest.json`` (last) — format, app version, Alembic revision, database kind, the time of the
  backup in Vietnam's time zone, the number of files, and the size and SHA-256 of every other
  member.

The database is copied before the files: an attachment's file is written before its row is
committed, so every row of the copy finds its file (a file deleted meanwhile is the only gap).
The archive is written to a hidden temporary file beside ``FILE`` (mode 0600: it holds personal
data) and renamed to ``FILE`` only once complete, so a backup that fails or is killed never
leaves a half file under the final name (and an older ``FILE`` stays as it was).

**PostgreSQL tools.** ``pg_dump``, ``pg_restore`` and ``psql`` (Debian/Ubuntu package
``postgresql-client``) are found on ``PATH``, or named by the settings ``PG_DUMP``,
``PG_RESTORE``, ``PSQL`` (``DANSO_PG_DUMP=/usr/lib/postgresql/16/bin/pg_dump``…). A missing tool
is one clear message before anything is done. The connection is given to them as a libpq URL
without its password (``postgresql+psycopg://`` loses its driver); the password goes through the
``PGPASSWORD`` environment variable, never the command line (which every user of the machine can
read). They never prompt (``--no-password``): a cron job fails instead of hanging.

**What a restore does**, in this order; the first refusal stops it with the target untouched:

1. the tools the target needs are there (PostgreSQL: ``pg_restore`` and ``psql``);
2. the archive is read in full into temporary folders beside the target's folders: it must be
   a readable archive, hold a manifest of this format, and every member must be listed there
   with the same size and SHA-256, with no other member (a corrupt or truncated file is refused);
   the database copy must be readable (SQLite ``PRAGMA quick_check``; ``pg_restore --list``);
3. the backup's database kind is the target's (a SQLite backup is not restored into PostgreSQL,
   nor the reverse);
4. the backup's Alembic revision is known to this code: a revision the code does not know comes
   from a newer version of the app and is refused; an older one is restored and the user is told
   to run ``danso db upgrade`` (not run here: the restored data stay exactly the backup's until
   the administrator upgrades, after taking another backup if they wish);
5. a target database that holds data (a row in any table but the reference data a migration
   writes, :data:`REFERENCE_TABLES`) is replaced only after a confirmation or with ``--force``
   (the command line asks; see ``cli.py``);
6. the database is replaced as a whole: SQLite through the backup API into the target file;
   PostgreSQL in **one transaction** (every table, view, sequence and type of the target's schema
   dropped, then ``pg_restore``'s script run by ``psql``, committed only if ``pg_restore``
   finished), then ``ANALYZE``;
7. the files: ``UPLOAD_DIR`` and ``JOB_DIR`` become the backup's folders; a folder that held
   files is kept aside as ``<folder>.truoc-khoi-phuc-<date-time>`` (never deleted).

Stop the web app and workers while restoring: a restore replaces what they are using.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # the PostgreSQL client tools run from argument lists, never a shell
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path, PurePosixPath

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

from ..common import clock
from ..errors import DomainError
from ..extensions import SQLITE_BUSY_TIMEOUT_MS, db

FORMAT = "danso-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/danso.sqlite3", "postgresql": "database/danso.pgdump"}
KIND_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Archive folder -> the setting naming the folder on disk.
FOLDERS = {"uploads": "UPLOAD_DIR", "jobs": "JOB_DIR"}
# Program -> the setting that may name it (else found on PATH).
TOOLS = {"pg_dump": "PG_DUMP", "pg_restore": "PG_RESTORE", "psql": "PSQL"}
PARTIAL_SUFFIX = ".part"  # files still being written (job results): left out of a backup
ASIDE = "truoc-khoi-phuc"  # "<folder>.truoc-khoi-phuc-<time>": a folder a restore replaced
CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# Rows a migration writes into every new database (the national base salary series): a database
# holding only these holds nothing anybody entered, so a restore needs no confirmation.
REFERENCE_TABLES = ("alembic_version", "base_salary")
LOCK_TIMEOUT = "30s"  # a PostgreSQL restore waits this long for tables the app is using, then gives up


class BackupError(DomainError):
    """A backup or restore refused or failed; the message says why and what to do."""


class ArchiveInvalid(BackupError):
    """The file is not a complete, intact backup of this app."""


class ToolMissing(BackupError):
    """A PostgreSQL client program is not installed (or the setting naming it is wrong)."""


# --- the database and the tools ---------------------------------------------------------------------


def database_url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def database_kind(url: str) -> str:
    """``sqlite`` or ``postgresql`` (whatever the driver); any other database is refused."""
    backend = make_url(url).get_backend_name()
    if backend not in DATABASE_MEMBERS:
        raise BackupError(_l("Sao lưu chỉ hỗ trợ SQLite và PostgreSQL (cơ sở dữ liệu đang dùng: %(b)s).", b=backend))
    return backend


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; an in-memory database has none and is refused."""
    parsed = make_url(url)
    name = parsed.database or ""
    if not name or name == ":memory:" or parsed.query.get("mode") == "memory":
        raise BackupError(_l("Cơ sở dữ liệu SQLite trong bộ nhớ không sao lưu hay khôi phục được."))
    if name.startswith("file:"):
        name = name[len("file:"):].split("?", 1)[0]
    return Path(name)


def find_tool(name: str) -> str:
    """The path of a PostgreSQL client program: the setting ``PG_DUMP``/``PG_RESTORE``/``PSQL``
    (a name or a path), else ``name`` on ``PATH``; missing is a clear refusal."""
    setting = TOOLS[name]
    wanted = str(current_app.config.get(setting) or name)
    found = shutil.which(wanted)
    if found is None:
        raise ToolMissing(_l(
            "Không tìm thấy chương trình %(p)s (công cụ dòng lệnh của PostgreSQL) nên không làm được. Cài gói "
            "postgresql-client (Debian/Ubuntu: apt-get install postgresql-client, cùng phiên bản chính với máy "
            "chủ PostgreSQL trở lên), hoặc đặt DANSO_%(s)s là đường dẫn đầy đủ của chương trình.",
            p=wanted, s=setting))
    return found


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """What the PostgreSQL tools connect with: a libpq URL without the password (the SQLAlchemy
    driver, ``+psycopg``, removed) for the command line, and the environment for the process,
    with ``PGPASSWORD`` when the URL has a password (a command line is visible to every user of
    the machine; a process's environment is not)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    password = parsed.password or query.pop("password", None)
    if isinstance(password, tuple):
        password = password[-1]
    plain = URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                       database=parsed.database, query=query)  # URL.set(password=None) would keep it
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return plain.render_as_string(hide_password=False), env


def _last_lines(stream, limit: int = 3) -> str:
    """The end of a tool's error output, for the message (libpq never prints the password)."""
    stream.seek(0)
    lines = [line.strip() for line in stream.read().decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "LỖI" in line or "FATAL" in line or "error" in line]
    return " ".join((errors or lines)[-limit:])[:600] or "?"


# --- revisions and versions -------------------------------------------------------------------------


def app_version() -> str:
    try:
        return package_version("danso_network")
    except PackageNotFoundError:  # pragma: no cover - the package is always installed (pip install -e .)
        return "0"


def _script_directory():
    from alembic.script import ScriptDirectory

    migrate = current_app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def code_heads() -> tuple[str, ...]:
    """The Alembic head revision(s) of this code's migrations."""
    return tuple(sorted(_script_directory().get_heads()))


SAME, OLDER, NEWER, UNKNOWN = "same", "older", "newer", "unknown"


@dataclass(frozen=True)
class RevisionCheck:
    """How a backup's Alembic revision stands against this code: ``same``; ``older`` (restore, then
    ``danso db upgrade``); ``newer`` (a revision this code does not know: refused); ``unknown``
    (the database was not made by migrations: restored with a warning)."""

    backup: tuple[str, ...]
    code: tuple[str, ...]
    status: str


def check_revision(backup_revision: str | None) -> RevisionCheck:
    script = _script_directory()
    heads = tuple(sorted(script.get_heads()))
    revisions = tuple(sorted((backup_revision or "").split()))
    if not revisions:
        return RevisionCheck(revisions, heads, UNKNOWN)
    known = {script_revision.revision for script_revision in script.walk_revisions()}
    if not set(revisions) <= known:
        return RevisionCheck(revisions, heads, NEWER)
    return RevisionCheck(revisions, heads, SAME if revisions == heads else OLDER)


def _revision_of(connection) -> str | None:
    """The Alembic revision(s) recorded in a database (space-separated), None without the table."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return " ".join(sorted(rows)) or None


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone() is None:
        return None
    return " ".join(sorted(row[0] for row in conn.execute("SELECT version_num FROM alembic_version"))) or None


# --- the folders of files ---------------------------------------------------------------------------


def folders() -> dict[str, Path]:
    """Archive folder -> the folder on disk (``UPLOAD_DIR``, ``JOB_DIR``), after refusing a layout
    where one holds the other or holds the SQLite database (a restore replaces these folders
    whole)."""
    found = {prefix: Path(current_app.config[setting]).resolve() for prefix, setting in FOLDERS.items()}
    places = list(found.values())
    if database_kind(database_url()) == "sqlite":
        with contextlib.suppress(BackupError):
            database = sqlite_path(database_url()).resolve()
            for place in places:
                if database.is_relative_to(place):
                    raise BackupError(_l("Tệp cơ sở dữ liệu “%(d)s” nằm trong thư mục tệp “%(f)s”: đặt DANSO_UPLOAD_DIR "
                                         "và DANSO_JOB_DIR ở thư mục riêng rồi thử lại.", d=database, f=place))
    for place in places:
        for other in places:
            if place != other and place.is_relative_to(other):
                raise BackupError(_l("Thư mục “%(a)s” nằm trong thư mục “%(b)s”: đặt DANSO_UPLOAD_DIR và DANSO_JOB_DIR "
                                     "ở hai thư mục riêng rồi thử lại.", a=place, b=other))
    return found


def _files_under(root: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix name, path)`` of every regular file under ``root``, in a stable order;
    links and files still being written are left out."""
    if not root.is_dir():
        return
    for folder, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(folder) / name
            if name.endswith(PARTIAL_SUFFIX) or path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


class _Hashing:
    """A reader that keeps the SHA-256 of what went through it."""

    def __init__(self, raw):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> dict | None:
    """Add one file; its manifest entry, or None when it vanished before it could be opened (a
    job's files deleted meanwhile). An open file is read whole even if deleted meanwhile."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - opened first: a file gone before is skipped, not an error
    except FileNotFoundError:
        return None
    with handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _Hashing(handle)
        archive.addfile(info, reader)
    return {"name": name, "size": info.size, "sha256": reader.sha.hexdigest()}


# --- backup -----------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    size: int


def _snapshot_sqlite(url: str, into: Path) -> str | None:
    """Copy the SQLite database into ``into`` with the online backup API, in one step (one
    consistent snapshot; a writer of the app meanwhile is neither seen nor blocked, thanks to
    write-ahead logging); the copy is made self-contained (no ``-wal`` file). Its revision."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(_l("Không có tệp cơ sở dữ liệu SQLite “%(p)s”.", p=source_path))
    try:
        source = sqlite3.connect(source_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        copy = sqlite3.connect(into)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            return _sqlite_revision(copy)
        finally:
            copy.close()
            source.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(_l("Không đọc được cơ sở dữ liệu SQLite “%(p)s”: %(e)s.", p=source_path, e=error)) from None


def _dump_postgresql(url: str, into: Path, pg_dump: str) -> str | None:
    """``pg_dump --format=custom`` of the database into ``into``; its revision, read just before."""
    try:
        with db.engine.connect() as connection:
            revision = _revision_of(connection)
    except Exception as error:  # connection refused, unknown database, bad password…
        raise BackupError(_l("Không kết nối được cơ sở dữ liệu PostgreSQL: %(e)s",
                             e=str(getattr(error, "orig", error)).strip().splitlines()[0][:300])) from None
    finally:
        db.engine.dispose()
    dsn, env = libpq_target(url)
    with tempfile.TemporaryFile() as errors:
        # Bandit B603: an argument list, no shell; the tool comes from PATH or a DANSO_PG_* setting and the password goes by PGPASSWORD.
        done = subprocess.run([pg_dump, "--format=custom", "--no-password", f"--file={into}", f"--dbname={dsn}"],  # nosec B603
                              env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors,
                              check=False)
        if done.returncode != 0:
            raise BackupError(_l("pg_dump không sao lưu được cơ sở dữ liệu: %(e)s", e=_last_lines(errors)))
    return revision


def create_backup(output: Path) -> BackupResult:
    """Write the backup archive of the database and its files to ``output`` (see the module
    docstring): all or nothing under that name."""
    output = Path(output)
    if not output.parent.is_dir():
        raise BackupError(_l("Không có thư mục “%(d)s” để ghi tệp sao lưu.", d=output.parent))
    if output.is_dir():
        raise BackupError(_l("“%(p)s” là một thư mục; hãy ghi rõ tên tệp sao lưu, vd. %(p)s/danso.tar.gz.", p=output))
    url = database_url()
    kind = database_kind(url)
    pg_dump = find_tool("pg_dump") if kind == "postgresql" else None
    places = folders()
    created = datetime.now(clock.zone())
    fd, partial_name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=PARTIAL_SUFFIX)
    partial = Path(partial_name)
    raw = os.fdopen(fd, "wb")
    try:
        with tempfile.TemporaryDirectory(dir=output.parent, prefix=".danso-backup-") as work:
            database_file = Path(work) / PurePosixPath(DATABASE_MEMBERS[kind]).name
            if kind == "sqlite":
                revision = _snapshot_sqlite(url, database_file)
            else:
                revision = _dump_postgresql(url, database_file, pg_dump)
            members: list[dict] = []
            counts = {prefix: 0 for prefix in places}
            with raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as archive:
                    members.append(_add_file(archive, DATABASE_MEMBERS[kind], database_file))
                    database_file.unlink()
                    for prefix, root in places.items():
                        for relative, path in _files_under(root):
                            entry = _add_file(archive, f"{prefix}/{relative}", path)
                            if entry is not None:
                                members.append(entry)
                                counts[prefix] += 1
                    manifest = {
                        "format": FORMAT,
                        "format_version": FORMAT_VERSION,
                        "app_version": app_version(),
                        "alembic_revision": revision,
                        "database": {"kind": kind, "member": DATABASE_MEMBERS[kind]},
                        "created_at": created.isoformat(timespec="seconds"),
                        "timezone": str(clock.zone()),
                        "counts": counts,
                        "bytes": sum(m["size"] for m in members),
                        "members": members,
                    }
                    body = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                    info = tarfile.TarInfo(MANIFEST)
                    info.size, info.mtime, info.mode = len(body), int(created.timestamp()), 0o600
                    archive.addfile(info, io.BytesIO(body))
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(partial, output)
    except BaseException:
        raw.close()
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(output, manifest, output.stat().st_size)


# --- restore: reading and checking the archive ------------------------------------------------------


@dataclass
class PreparedRestore:
    """A backup read, checked and unpacked into temporary folders; nothing of the target touched."""

    archive: Path
    manifest: dict
    kind: str
    database_file: Path
    staged: dict[str, Path]  # archive folder -> its files, unpacked beside the target folder
    revision: RevisionCheck
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def created_at(self) -> datetime:
        return clock.local(datetime.fromisoformat(self.manifest["created_at"]))


def _invalid(archive: Path, reason) -> ArchiveInvalid:
    return ArchiveInvalid(_l("Tệp “%(f)s” không phải bản sao lưu hợp lệ hoặc đã hỏng/không đầy đủ (%(r)s). Chưa có "
                             "gì bị thay đổi: cơ sở dữ liệu và các tệp hiện có vẫn nguyên.", f=archive.name, r=reason))


def _member_target(name: str, work: Path, staged: dict[str, Path]) -> Path | None:
    """Where a member is unpacked; None for a name a backup never holds (refused)."""
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\\" in name:
        return None
    if path.parts[0] == "database" and len(path.parts) == 2 and name in DATABASE_MEMBERS.values():
        return work / path.name
    if path.parts[0] in staged and len(path.parts) >= 2:
        return staged[path.parts[0]].joinpath(*path.parts[1:])
    return None


def _unpack(archive_path: Path, work: Path, staged: dict[str, Path]) -> tuple[dict, dict[str, tuple[int, str]]]:
    """Read every member once: unpack it, keep its size and SHA-256; the manifest parsed."""
    seen: dict[str, tuple[int, str]] = {}
    manifest_body = None
    with tarfile.open(archive_path, mode="r:*") as archive:
        for member in archive:
            name = member.name
            if name in seen or (name == MANIFEST and manifest_body is not None):
                raise _invalid(archive_path, _l("tệp “%(n)s” xuất hiện hai lần", n=name))
            if not member.isfile():
                raise _invalid(archive_path, _l("có mục lạ “%(n)s”", n=name))
            if name == MANIFEST:
                if member.size > MAX_MANIFEST_BYTES:
                    raise _invalid(archive_path, _l("bản kê quá lớn"))
                manifest_body = archive.extractfile(member).read()
                continue
            target = _member_target(name, work, staged)
            if target is None:
                raise _invalid(archive_path, _l("có tệp lạ “%(n)s”", n=name))
            target.parent.mkdir(parents=True, exist_ok=True)
            source = _Hashing(archive.extractfile(member))
            with open(target, "wb") as handle:
                while chunk := source.read(CHUNK):
                    handle.write(chunk)
            os.utime(target, (member.mtime, member.mtime))
            seen[name] = (source.size, source.sha.hexdigest())
    if manifest_body is None:
        raise _invalid(archive_path, _l("không có bản kê %(m)s", m=MANIFEST))
    try:
        manifest = json.loads(manifest_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _invalid(archive_path, _l("bản kê %(m)s không đọc được", m=MANIFEST)) from None
    return manifest, seen


def _check_manifest(archive: Path, manifest, seen: dict[str, tuple[int, str]]) -> str:
    """The manifest is ours and lists exactly the members read, each with its size and SHA-256;
    the database kind."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _invalid(archive, _l("không phải bản sao lưu của danso_network"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _invalid(archive, _l("định dạng sao lưu phiên bản %(v)s, chương trình này đọc phiên bản %(w)s",
                                   v=manifest.get("format_version"), w=FORMAT_VERSION))
    try:
        kind = manifest["database"]["kind"]
        listed = {m["name"]: (int(m["size"]), str(m["sha256"])) for m in manifest["members"]}
        datetime.fromisoformat(manifest["created_at"])
    except (KeyError, TypeError, ValueError):
        raise _invalid(archive, _l("bản kê thiếu thông tin")) from None
    if kind not in DATABASE_MEMBERS or DATABASE_MEMBERS[kind] not in listed:
        raise _invalid(archive, _l("bản kê không ghi cơ sở dữ liệu"))
    missing = sorted(set(listed) - set(seen))
    if missing:
        raise _invalid(archive, _l("thiếu %(n)d tệp, vd. “%(f)s”", n=len(missing), f=missing[0]))
    extra = sorted(set(seen) - set(listed))
    if extra:
        raise _invalid(archive, _l("có tệp không ghi trong bản kê: “%(f)s”", f=extra[0]))
    for name, (size, digest) in sorted(seen.items()):
        if listed[name] != (size, digest):
            raise _invalid(archive, _l("tệp “%(f)s” không khớp mã kiểm tra SHA-256 của bản kê", f=name))
    return kind


def _check_database_copy(archive: Path, kind: str, database_file: Path, pg_restore: str | None) -> None:
    """The database copy itself is readable: SQLite's quick check; pg_restore reads the dump's
    table of contents."""
    if kind == "sqlite":
        try:
            conn = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
            try:
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            verdict = str(error)
        if verdict != "ok":
            raise _invalid(archive, _l("cơ sở dữ liệu SQLite trong bản sao lưu hỏng: %(e)s", e=verdict))
    elif pg_restore is not None:
        with tempfile.TemporaryFile() as errors:
            # Bandit B603: an argument list, no shell; the tool comes from PATH or a DANSO_PG_* setting and the password goes by PGPASSWORD.
            done = subprocess.run([pg_restore, "--list", str(database_file)], stdin=subprocess.DEVNULL,  # nosec B603
                                  stdout=subprocess.DEVNULL, stderr=errors, check=False)
            if done.returncode != 0:
                raise _invalid(archive, _l("pg_restore không đọc được bản sao PostgreSQL: %(e)s", e=_last_lines(errors)))


@contextlib.contextmanager
def prepared_restore(archive: Path) -> Iterator[PreparedRestore]:
    """Check a backup before touching anything (steps 1–4 of the module docstring) and unpack it
    into temporary folders beside the target folders; they are removed on leaving."""
    archive = Path(archive)
    target_kind = database_kind(database_url())
    pg_restore = None
    if target_kind == "postgresql":
        pg_restore = find_tool("pg_restore")
        find_tool("psql")
    if not archive.is_file():
        raise BackupError(_l("Không có tệp sao lưu “%(f)s”.", f=archive))
    places = folders()
    made: list[Path] = []
    try:
        staged = {}
        for prefix, place in places.items():
            place.parent.mkdir(parents=True, exist_ok=True)
            made.append(Path(tempfile.mkdtemp(prefix=f".danso-restore-{prefix}-", dir=place.parent)))
            staged[prefix] = made[-1]
        work = Path(tempfile.mkdtemp(prefix=".danso-restore-db-", dir=places["uploads"].parent))
        made.append(work)
        try:
            manifest, seen = _unpack(archive, work, staged)
        except (tarfile.TarError, EOFError, zlib.error) as error:
            raise _invalid(archive, str(error) or type(error).__name__) from None
        except OSError as error:
            raise _invalid(archive, error.strerror or error) from None
        kind = _check_manifest(archive, manifest, seen)
        database_file = work / PurePosixPath(DATABASE_MEMBERS[kind]).name
        if kind != target_kind:
            raise BackupError(_l(
                "Bản sao lưu là của cơ sở dữ liệu %(b)s, không khôi phục được vào %(t)s. Khôi phục vào một cơ sở dữ liệu "
                "%(b)s (đặt DANSO_DATABASE_URL cho phù hợp). Chưa có gì bị thay đổi.",
                b=KIND_LABELS[kind], t=KIND_LABELS[target_kind]))
        _check_database_copy(archive, kind, database_file, pg_restore)
        revision = check_revision(manifest.get("alembic_revision"))
        if revision.status == NEWER:
            raise BackupError(_l(
                "Bản sao lưu được tạo bởi phiên bản mới hơn của ứng dụng (%(v)s, lược đồ cơ sở dữ liệu %(r)s) mà mã "
                "hiện tại (lược đồ %(c)s) không biết. Cập nhật ứng dụng lên phiên bản đó rồi khôi phục lại. Chưa có "
                "gì bị thay đổi.", v=manifest.get("app_version", "?"), r=", ".join(revision.backup),
                c=", ".join(revision.code)))
        umask = os.umask(0)
        os.umask(umask)
        for root in staged.values():  # the permissions of a folder the app makes (mkdtemp's are 0700)
            os.chmod(root, 0o777 & ~umask)
        yield PreparedRestore(archive, manifest, kind, database_file, staged, revision,
                              counts={prefix: sum(1 for n in seen if n.startswith(prefix + "/")) for prefix in staged})
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


# --- restore: the target ----------------------------------------------------------------------------


def _table_names(connection) -> list[str]:
    return sorted(name for name in inspect(connection).get_table_names() if name != "alembic_version")


def tables_with_data() -> list[str]:
    """The target's tables holding at least one row, but for :data:`REFERENCE_TABLES` (what
    ``danso db upgrade`` writes into a new database): a non-empty list means a restore would
    replace what people entered, which needs a confirmation or ``--force``."""
    kind = database_kind(database_url())
    if kind == "sqlite" and not sqlite_path(database_url()).exists():
        return []
    db.session.remove()
    try:
        with db.engine.connect() as connection:
            return [name for name in _table_names(connection) if name not in REFERENCE_TABLES
                    and connection.execute(select(text("1")).select_from(table(name)).limit(1)).first()]
    except Exception as error:
        raise BackupError(_l("Không đọc được cơ sở dữ liệu đích: %(e)s",
                             e=str(getattr(error, "orig", error)).strip().splitlines()[0][:300])) from None
    finally:
        db.engine.dispose()


def _restore_sqlite(prepared: PreparedRestore) -> None:
    """Replace the target SQLite database, page by page, by the backup's (backup API)."""
    target = sqlite_path(database_url())
    try:
        source = sqlite3.connect(f"file:{prepared.database_file}?mode=ro", uri=True)
        destination = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
    except sqlite3.Error as error:
        raise BackupError(_l("Không ghi được cơ sở dữ liệu SQLite “%(p)s”: %(e)s. Dừng ứng dụng rồi thử lại.",
                             p=target, e=error)) from None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _drop_statements() -> str:
    """SQL dropping every table, view, sequence, enum and domain of the target's schema (not those
    of extensions): what the restore recreates, with nothing of a newer schema left behind."""
    kinds = {"v": "VIEW", "m": "MATERIALIZED VIEW", "r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    order = "vmrpfS"
    with db.engine.connect() as connection:
        relations = connection.execute(text(
            "SELECT c.relkind, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r','p','v','m','S','f') AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')")).all()
        types = connection.execute(text(
            "SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typtype IN ('e','d') AND NOT EXISTS "
            "(SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')")).all()
    lines = [f"DROP {kinds[kind]} IF EXISTS {_quoted(schema)}.{_quoted(name)} CASCADE;"
             for kind, schema, name in sorted(relations, key=lambda r: (order.index(r[0]), r[2]))]
    lines += [f"DROP TYPE IF EXISTS {_quoted(schema)}.{_quoted(name)} CASCADE;" for schema, name in sorted(types)]
    return "\n".join(lines)


def _restore_postgresql(prepared: PreparedRestore) -> None:
    """Replace the target PostgreSQL schema in one transaction: drop what is there, run
    ``pg_restore``'s script through ``psql``, commit only if ``pg_restore`` finished."""
    pg_restore, psql = find_tool("pg_restore"), find_tool("psql")
    drops = _drop_statements()
    db.engine.dispose()  # our own connections hold no lock the drops would wait for
    dsn, env = libpq_target(database_url())
    prologue = (f"SET client_min_messages = warning;\nBEGIN;\nSET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n"
                f"{drops}\n").encode()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        # Bandit B603: an argument list, no shell; the tool comes from PATH or a DANSO_PG_* setting and the password goes by PGPASSWORD.
        reader = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-",  # nosec B603
                                   str(prepared.database_file)],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=restore_errors)
        # Bandit B603: an argument list, no shell; the tool comes from PATH or a DANSO_PG_* setting and the password goes by PGPASSWORD.
        writer = subprocess.Popen([psql, "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", "-"],  # nosec B603
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors)
        restored = None
        try:
            writer.stdin.write(prologue)
            shutil.copyfileobj(reader.stdout, writer.stdin, CHUNK)
            restored = reader.wait()
            if restored == 0:
                writer.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error: its message says which
        finally:
            with contextlib.suppress(BrokenPipeError):
                writer.stdin.close()
            applied = writer.wait()
            if reader.poll() is None:
                reader.kill()
            reader.wait()
            reader.stdout.close()
        if applied != 0:
            raise BackupError(_l("Không khôi phục được cơ sở dữ liệu PostgreSQL (đã huỷ, cơ sở dữ liệu đích giữ nguyên): "
                                 "%(e)s", e=_last_lines(psql_errors)))
        if restored != 0:
            raise BackupError(_l("pg_restore không đọc hết bản sao lưu (đã huỷ, cơ sở dữ liệu đích giữ nguyên): %(e)s",
                                 e=_last_lines(restore_errors)))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    db.engine.dispose()


def _put_in_place(staged: Path, final: Path, stamp: str) -> Path | None:
    """Make ``staged`` the folder ``final``; a ``final`` holding anything is kept aside (its new
    name returned), an empty one removed."""
    aside = None
    if final.is_symlink() or final.is_file():
        raise BackupError(_l("“%(p)s” không phải thư mục.", p=final))
    if final.is_dir():
        if any(final.iterdir()):
            aside = final.with_name(f"{final.name}.{ASIDE}-{stamp}")
            n = 1
            while aside.exists():
                n += 1
                aside = final.with_name(f"{final.name}.{ASIDE}-{stamp}-{n}")
            os.rename(final, aside)
        else:
            final.rmdir()
    os.rename(staged, final)
    return aside


@dataclass
class RestoreResult:
    tables: int
    rows: int
    table_rows: dict[str, int]
    files: dict[str, int]
    aside: dict[str, Path]


def apply_restore(prepared: PreparedRestore) -> RestoreResult:
    """Replace the target's database and folders by the backup's (steps 6–7 of the module
    docstring); the figures of what is now there."""
    db.session.remove()
    db.engine.dispose()
    if prepared.kind == "sqlite":
        _restore_sqlite(prepared)
    else:
        _restore_postgresql(prepared)
    stamp = datetime.now(clock.zone()).strftime("%Y%m%d-%H%M%S")
    aside = {}
    for prefix, final in folders().items():
        moved = _put_in_place(prepared.staged[prefix], final, stamp)
        if moved is not None:
            aside[prefix] = moved
    with db.engine.connect() as connection:
        table_rows = {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
                      for name in _table_names(connection)}
    db.engine.dispose()
    return RestoreResult(len(table_rows), sum(table_rows.values()), table_rows, dict(prepared.counts), aside)

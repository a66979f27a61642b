"""Background jobs: the one interface features use (issue #11 item 5; issue #11 brief "The
background job interface").

A feature registers a *kind* once, at import of the module that owns it::

    register("roster_export", run_roster_export, check=check_roster_export, label=_l("Danh sách CTV"))

``check(params, user)`` refuses bad or out-of-scope params before anything is queued, by raising
``errors.ValidationFailed`` / ``PermissionDenied`` (it may return a normalised copy of ``params``,
JSON types only, which is then stored instead). ``run(params, progress)`` does the work and returns a
:class:`JobFile`; it calls ``progress.update(done, total, message)`` now and then and reads the
owner as ``progress.owner`` (never a user id taken from params: params come from the caller).

``submit(kind, params, owner)`` checks, records the job (audited) and starts it on the configured
engine **once the caller's transaction commits** (views commit once, as always; a rollback starts
nothing). :func:`run_job` is what every engine runs: it claims the job, calls the kind, stores the
file under ``JOB_DIR/<id>/`` and marks the job done or failed. A failure shows the owner a
Vietnamese message; the traceback goes to the log only. Files are kept ``JOB_KEEP_HOURS`` (a day),
then :func:`purge_expired` deletes them (on each submit, and ``danso jobs purge``); only the owner
may download (``permissions.can_view_job``).

While a job runs, its row is written by short transactions of their own (:func:`_write`), never
through ``db.session``: progress is visible to every other process at once, and the kind's own
reading (a streamed query, a server-side cursor) is never committed under its feet. The ``inline``
engine is for tests (one connection); on SQLite inside a request it would wait for its own lock.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, select, update
from sqlalchemy.orm import Session

from ..audit.services import record
from ..auth.models import User
from ..auth.services import user_area_path
from ..common import clock, storage
from ..errors import Conflict, DomainError, ValidationFailed
from ..extensions import db
from .models import ACTIVE_STATES, Job, JobState

# --- errors -----------------------------------------------------------------------------------------


class UnknownKind(DomainError):
    """No feature registered this kind of job (a typo in the API, or a kind since removed)."""

    status = 400


class Gone(DomainError):
    """The job's file was deleted (kept a day) or is missing from the disk."""

    status = 410


class NotReady(Conflict):
    """The job has not finished, or failed: there is no file (yet)."""


STALLED = _l("Việc bị dừng giữa chừng (máy chủ đã khởi động lại hoặc ngừng xử lý). Vui lòng thử lại.")
INTERRUPTED = _l("Việc bị dừng giữa chừng vì máy chủ đang tắt. Vui lòng thử lại.")
NOT_STARTED = _l("Không gửi được việc vào hàng đợi xử lý. Vui lòng thử lại sau ít phút; nếu vẫn lỗi, báo quản "
                 "trị viên.")

PARAMS_MAX_BYTES = 10_000  # filters and ids, never data
PROGRESS_INTERVAL = 0.5  # seconds between two progress writes of one job


# --- kinds ------------------------------------------------------------------------------------------


Check = Callable[[dict, User], "dict | None"]


@dataclass(frozen=True)
class JobFile:
    """What a run returns: the download's name and type, and either ``write`` (called with a
    binary file opened for writing: stream into it, constant memory) or ``path`` (a file already
    written, e.g. a GeoPackage, which is moved into the job's folder)."""

    filename: str
    mimetype: str
    write: Callable[[BinaryIO], None] | None = None
    path: str | os.PathLike | None = None

    def __post_init__(self):
        if (self.write is None) == (self.path is None):
            raise TypeError("JobFile needs exactly one of write= or path=")


Run = Callable[[dict, "Progress"], JobFile]


@dataclass(frozen=True)
class Kind:
    name: str
    run: Run
    check: Check
    label: Any = None  # a (lazy) Vietnamese name for the pages


_KINDS: dict[str, Kind] = {}


def register(kind: str, run: Run, *, check: Check, label=None) -> None:
    """Make ``kind`` available to :func:`submit` (done at import of the owning feature module;
    registering the same name again replaces it)."""
    if not kind or len(kind) > 60:
        raise ValueError("a job kind is a name of 1-60 characters")
    _KINDS[kind] = Kind(kind, run, check, label)


def kind_spec(kind: str) -> Kind | None:
    """The registered kind, importing the modules of ``JOB_MODULES`` first if it is not known
    yet (a worker process that registered nothing else)."""
    if kind not in _KINDS:
        for module in current_app.config.get("JOB_MODULES") or ():
            __import__(module)
    return _KINDS.get(kind)


def kinds() -> dict[str, Kind]:
    return dict(_KINDS)


def kind_label(kind: str) -> str:
    spec = _KINDS.get(kind)
    return str(spec.label) if spec is not None and spec.label else kind


# --- progress ---------------------------------------------------------------------------------------


class Progress:
    """What a run reports as it goes. ``update(done, total=None, message=None)``: ``total`` or
    ``message`` left out keep their last value. Writes are spaced ``interval`` seconds apart (the
    first, the last (done == total) and a new message are always written), so calling it for every
    row costs nothing. ``owner`` is the user the job runs for; ``job_id`` is None outside a job (the CLI)."""

    def __init__(self, sink: Callable[[int, int | None, str | None], None], *, owner: User | None = None,
                 job_id: int | None = None, interval: float = PROGRESS_INTERVAL):
        self._sink = sink
        self._interval = interval
        self._written_at: float | None = None
        self.owner = owner
        self.job_id = job_id
        self.done = 0
        self.total: int | None = None
        self.message: str | None = None

    def update(self, done: int, total: int | None = None, message: str | None = None) -> None:
        self.done = max(0, int(done))
        if total is not None:
            self.total = max(0, int(total))
        news = message is not None and str(message)[:300] != self.message
        if news:
            self.message = str(message)[:300]
        moment = time.monotonic()
        finished = self.total is not None and self.done >= self.total
        if self._written_at is None or news or finished or moment - self._written_at >= self._interval:
            self._written_at = moment
            self._sink(self.done, self.total, self.message)


# --- where things are -------------------------------------------------------------------------------


def job_root() -> Path:
    """The folder of job files (``JOB_DIR``, default ``<instance>/jobs``); it belongs to one database."""
    return Path(current_app.config["JOB_DIR"])


def _folder(job_id: int) -> Path:
    return job_root() / str(int(job_id))


def runner_id() -> str:
    """This process, as ``<host>:<pid>``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for ``DateTime(timezone=True)``; they are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def keep_for() -> timedelta:
    return timedelta(hours=float(current_app.config.get("JOB_KEEP_HOURS", 24)))


def _timeout() -> int:
    return int(current_app.config.get("JOB_TIMEOUT_SECONDS", 3600))


def is_expired(job: Job, now: datetime | None = None) -> bool:
    """The file is gone or due to go: expired, or past ``expires_at`` before the purge ran."""
    if job.state == JobState.EXPIRED:
        return True
    return job.state == JobState.DONE and _aware(job.expires_at) <= (now or clock.now())


def _write(job_id: int, *, only: tuple[str, ...] | None = None, **values) -> bool:
    """Change the job's row in a transaction of its own (committed at once); with ``only``, only
    while the job is in one of those states. True if the row changed."""
    stmt = update(Job).where(Job.id == job_id).values(**values)
    if only:
        stmt = stmt.where(Job.state.in_(only))
    with Session(bind=db.engine) as session:
        changed = session.execute(stmt).rowcount
        session.commit()
    return bool(changed)


# --- submitting ---------------------------------------------------------------------------------------


def _checked(kind: str, params, user: User) -> tuple[Kind, dict]:
    spec = kind_spec(kind) if isinstance(kind, str) else None
    if spec is None:
        raise UnknownKind(_l("Loại việc “%(k)s” không tồn tại.", k=str(kind)[:60]), field="kind")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed(_l("Tham số của việc phải là một đối tượng JSON {…}."), field="params")
    normalised = spec.check(dict(params), user)
    if normalised is not None:
        params = normalised
    try:
        size = len(json.dumps(params, allow_nan=False, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Tham số của việc phải là dữ liệu JSON (chuỗi, số, đúng/sai, danh sách)."),
                               field="params") from None
    if size > PARAMS_MAX_BYTES:
        raise ValidationFailed(_l("Tham số của việc quá dài."), field="params")
    return spec, params


def submit(kind: str, params: dict, owner: User) -> Job:
    """Check ``params`` with the kind's ``check`` (its refusal is raised as is: nothing is
    queued), record the job, audit it, and start it on the configured engine once the caller
    commits. A user may have at most ``JOB_MAX_ACTIVE`` jobs waiting or running (409 beyond).
    Expired files are purged on the way. The ``inline`` engine runs the job at once instead:
    it commits the caller's transaction first, and the job comes back finished."""
    from . import engines

    spec, params = _checked(kind, params, owner)
    now = clock.now()
    limit = int(current_app.config.get("JOB_MAX_ACTIVE", 5))
    active = db.session.scalars(select(Job).where(Job.owner_id == owner.id, Job.state.in_(ACTIVE_STATES))).all()
    if sum(not fail_if_dead(j, now) for j in active) >= limit:
        raise Conflict(_l("Bạn đang có %(n)d việc chưa xong; vui lòng đợi các việc đó xong rồi thử lại.", n=limit))
    engine = engines.engine_name(current_app.config)
    job = Job(owner_id=owner.id, kind=spec.name, params=params, state=JobState.QUEUED.value, engine=engine,
              runner=runner_id() if engine == "thread" else None, done=0, created_at=now, heartbeat_at=now,
              expires_at=now + keep_for())
    db.session.add(job)
    db.session.flush()
    record("job.submit", job, label=kind_label(spec.name), unit_path=user_area_path(owner),
           after={"kind": spec.name, "params": params}, actor=owner)
    purge_expired(now=now)
    if engine == "inline":
        db.session.commit()
        run_job(job.id)
        db.session.refresh(job)
    else:
        db.session.info.setdefault(_PENDING, []).append((current_app._get_current_object(), job.id))
    return job


_PENDING = "danso_jobs_to_start"


@event.listens_for(Session, "after_commit")
def _start_committed_jobs(session) -> None:
    """The jobs submitted in the transaction that just committed go to their engine now: a
    thread or a worker can see their rows. A job that cannot be started (Redis unreachable)
    is marked failed with a message; the commit itself stands."""
    from . import engines

    for app, job_id in session.info.pop(_PENDING, ()):
        try:
            engines.start(app, job_id)
        except Exception:  # noqa: BLE001 — the queue is down: the job fails, the request does not
            app.logger.exception("job %s: could not be started", job_id)
            with app.app_context():
                now = clock.now()
                _write(job_id, only=ACTIVE_STATES, state=JobState.FAILED.value, error=str(NOT_STARTED),
                       finished_at=now, expires_at=now + keep_for())


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_jobs(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_PENDING, None)


# --- running --------------------------------------------------------------------------------------------


def _record_progress(job_id: int, done: int, total: int | None, message: str | None) -> None:
    _write(job_id, only=(JobState.RUNNING.value,), done=done, total=total, message=message,
           heartbeat_at=clock.now())


def _safe_filename(name: str) -> str:
    name = os.path.basename(str(name).replace("\\", "/")).strip().lstrip(".")
    return name[:255] or "tep"


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if 1 < len(suffix) <= 10 and suffix[1:].isascii() and suffix[1:].isalnum() else ""


def _store(job_id: int, result: JobFile) -> tuple[str, int]:
    """Put the result in ``JOB_DIR/<id>/result<ext>`` (written as ``.part``, renamed when whole);
    the relative path and the size. A disk that refuses it (full, read-only, no folder) is a
    refusal with a clear message (``common.storage``); the caller removes the folder."""
    folder = _folder(job_id)
    shutil.rmtree(folder, ignore_errors=True)  # a leftover of a database since reset
    name = "result" + _suffix(result.filename)
    partial = folder / (name + ".part")
    try:
        folder.mkdir(parents=True)
        if result.write is not None:
            with open(partial, "wb") as handle:
                result.write(handle)
        else:
            shutil.move(os.fspath(result.path), partial)
        os.replace(partial, folder / name)
        return f"{int(job_id)}/{name}", (folder / name).stat().st_size
    except OSError as error:
        raise storage.refusal(error, field=None) from error


def _failure_message(job_id: int, error: BaseException) -> str:
    from rq.timeouts import BaseTimeoutException

    if isinstance(error, DomainError):
        return str(error)
    if isinstance(error, BaseTimeoutException):
        return str(_l("Việc chạy quá thời gian cho phép (%(m)d phút) nên đã dừng. Vui lòng thu hẹp phạm vi rồi "
                      "thử lại.", m=max(1, _timeout() // 60)))
    if not isinstance(error, Exception):
        return str(INTERRUPTED)
    return str(_l("Không tạo được tệp do lỗi hệ thống. Vui lòng thử lại; nếu vẫn lỗi, báo quản trị viên "
                  "(mã việc %(id)d).", id=job_id))


def run_job(job_id: int) -> str | None:
    """Run one job: claim it (queued → running; a job already claimed, finished or unknown is
    left alone, so a job delivered twice runs once), call its kind, store the file, mark it done
    — or failed, with a Vietnamese message for the owner (a refusal of the kind's own, or a
    general one) and the traceback in the log. Needs an app context of its own (the engines give
    one). Returns the final state, or None when there was nothing to run."""
    log = current_app.logger
    now = clock.now()
    if not _write(job_id, only=(JobState.QUEUED.value,), state=JobState.RUNNING.value, started_at=now,
                  heartbeat_at=now, runner=runner_id()):
        log.info("job %s: not waiting to run (unknown, already claimed or finished); skipped", job_id)
        return None
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    kind = job.kind
    progress = Progress(lambda done, total, message: _record_progress(job_id, done, total, message),
                        owner=job.owner, job_id=job_id)
    try:
        spec = kind_spec(kind)
        if spec is None:
            raise DomainError(_l("Loại việc “%(k)s” không còn được hỗ trợ.", k=kind))
        result = spec.run(dict(job.params or {}), progress)
        if not isinstance(result, JobFile):
            raise TypeError(f"job kind {kind!r} returned {type(result).__name__}, not a JobFile")
        stored, size = _store(job_id, result)
        db.session.commit()
    except BaseException as error:
        try:
            db.session.rollback()
        finally:
            shutil.rmtree(_folder(job_id), ignore_errors=True)
            if isinstance(error, DomainError):
                log.info("job %s (%s) refused: %s", job_id, kind, error)
            else:
                log.exception("job %s (%s) failed", job_id, kind)
            finished = clock.now()
            _write(job_id, state=JobState.FAILED.value, error=_failure_message(job_id, error), finished_at=finished,
                   heartbeat_at=finished, expires_at=finished + keep_for())
        if not isinstance(error, Exception):
            raise  # the process is stopping: let it
        return JobState.FAILED.value
    finished = clock.now()
    total = progress.total if progress.total is not None else progress.done
    _write(job_id, state=JobState.DONE.value, done=max(progress.done, total), total=total, message=None,
           result_filename=_safe_filename(result.filename), result_mimetype=result.mimetype[:120],
           result_path=stored, result_bytes=size, finished_at=finished, heartbeat_at=finished,
           expires_at=finished + keep_for())
    log.info("job %s (%s) done: %s bytes", job_id, kind, size)
    return JobState.DONE.value


def run_now(kind: str, params: dict, user: User, target: str | os.PathLike | BinaryIO, *,
            on_progress: Callable[[int, int | None, str | None], None] | None = None,
            interval: float = 0.1) -> JobFile:
    """Run a kind at once, in this thread, without a job row (the CLI, with a progress bar):
    the same check, the same run, the file written to ``target`` (a path or a binary file).
    Refusals are raised as they are."""
    spec, params = _checked(kind, params, user)
    progress = Progress(on_progress or (lambda *_: None), owner=user, interval=interval)
    result = spec.run(params, progress)
    if hasattr(target, "write"):
        _copy_result(result, target)
    else:
        with open(target, "wb") as handle:
            _copy_result(result, handle)
    return result


def _copy_result(result: JobFile, handle: BinaryIO) -> None:
    if result.write is not None:
        result.write(handle)
    else:
        with open(result.path, "rb") as source:
            shutil.copyfileobj(source, handle)
        os.unlink(result.path)


# --- reading, downloading, dead runners ---------------------------------------------------------------


def jobs_of(user: User) -> Select:
    """The user's jobs, newest first (for ``common.paging.paginate``)."""
    return select(Job).where(Job.owner_id == user.id).order_by(Job.created_at.desc(), Job.id.desc())


def _process_gone(runner: str | None) -> bool:
    """True when ``runner`` ("<host>:<pid>") is a process of this machine that no longer exists."""
    host, _, pid = (runner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def _runner_dead(job: Job, now: datetime) -> bool:
    silent = now - (_aware(job.heartbeat_at) or _aware(job.created_at))
    if silent > timedelta(seconds=_timeout() + 60):
        return True
    # A thread's process is known from the start; a worker's only once it took the job.
    known = job.engine != "rq" or job.state == JobState.RUNNING
    return known and _process_gone(job.runner)


def fail_if_dead(job: Job, now: datetime | None = None, *, at_once: bool = False) -> bool:
    """A job waiting or running whose runner is gone — its process on this machine ended, or no
    sign of life for ``JOB_TIMEOUT_SECONDS`` (no worker took it, or one died) — is marked failed
    (``STALLED``), in the caller's transaction; ``at_once`` (a page or the API reading the job):
    in a transaction of its own, committed now, after which the caller's session starts afresh
    (on SQLite a read transaction cannot turn into a write once a job wrote meanwhile). True if
    the job is now failed."""
    if not job.active:
        return False
    now = now or clock.now()
    if not _runner_dead(job, now):
        return False
    values = dict(state=JobState.FAILED.value, error=str(STALLED), finished_at=now, expires_at=now + keep_for())
    if at_once:
        changed = _write(job.id, only=ACTIVE_STATES, **values)
        db.session.rollback()  # nothing was written here; the job is read again as it is now
    else:
        changed = db.session.execute(update(Job).where(Job.id == job.id, Job.state.in_(ACTIVE_STATES)).values(**values),
                                     execution_options={"synchronize_session": False}).rowcount
        db.session.refresh(job)
    if changed:
        current_app.logger.warning("job %s: runner %s gone; marked failed", job.id, job.runner)
    return job.state == JobState.FAILED


@dataclass(frozen=True)
class Download:
    job_id: int
    path: Path
    filename: str
    mimetype: str
    label: str


def open_result(job: Job) -> Download:
    """The job's file (the caller checked ``can_view_job``). ``Gone`` (410) once expired or
    missing from the disk; ``NotReady`` (409) while it runs or when it failed."""
    if is_expired(job):
        raise Gone(_l("Tệp này đã hết hạn và đã được xoá (tệp chỉ được giữ %(h)d giờ). Vui lòng tạo lại tệp.",
                      h=round(keep_for().total_seconds() / 3600)))
    if job.state != JobState.DONE or not job.result_path:
        raise NotReady(_l("Tệp chưa sẵn sàng: việc đang chờ hoặc đang chạy.") if job.active
                       else _l("Việc này không tạo được tệp; xem thông báo lỗi."))
    root = job_root().resolve()
    path = (root / job.result_path).resolve()
    if root not in path.parents or not path.is_file():
        raise Gone(_l("Tệp của việc này không còn trên máy chủ. Vui lòng tạo lại tệp."))
    return Download(job.id, path, job.result_filename or path.name, job.result_mimetype or "application/octet-stream",
                    f"{kind_label(job.kind)}: {job.result_filename}")


def record_download(download: Download, user: User) -> None:
    """Audit a download (the caller commits). A download is a GET: its transaction only read so
    far, and on SQLite a read cannot turn into a write once a running job wrote meanwhile; so that
    transaction is ended first (nothing was written in it) and the event starts a new one."""
    actor = SimpleNamespace(id=user.id, username=user.username)
    unit_path = user_area_path(user)
    db.session.rollback()
    record("job.download", object_type="Job", object_id=download.job_id, label=download.label,
           unit_path=unit_path, actor=actor)


# --- keeping a day -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    expired: int
    stalled: int
    orphans: int


def purge_expired(*, now: datetime | None = None, limit: int = 1000) -> Purged:
    """Mark expired the jobs past ``expires_at`` (``JOB_KEEP_HOURS`` after they finished, or
    after they were made for jobs that never ran) and delete their files; mark failed the jobs
    whose runner is gone (:func:`fail_if_dead`); delete folders of ``JOB_DIR`` that belong to no
    live job. Changes go into the caller's transaction (the caller commits). The first statement
    writes, so on SQLite the transaction holds the write lock from the start (a read first could
    not turn into a write once a job had written meanwhile)."""
    now = now or clock.now()
    live_states = (*ACTIVE_STATES, JobState.DONE.value, JobState.FAILED.value)
    due = db.session.scalars(update(Job).where(Job.state.in_(live_states), Job.expires_at <= now)
                             .values(state=JobState.EXPIRED.value, message=None).returning(Job.id),
                             execution_options={"synchronize_session": False}).all()
    if due:
        db.session.expire_all()
    for job_id in due:
        shutil.rmtree(_folder(job_id), ignore_errors=True)
    stalled = 0
    cutoff = now - timedelta(seconds=_timeout() + 60)
    for job in db.session.scalars(select(Job).where(Job.state.in_(ACTIVE_STATES), Job.heartbeat_at < cutoff)
                                  .order_by(Job.id).limit(limit)):
        stalled += fail_if_dead(job, now)
    orphans = 0
    root = job_root()
    if root.is_dir():
        folders = {int(p.name): p for p in root.iterdir() if p.is_dir() and p.name.isascii() and p.name.isdigit()}
        if folders:
            keep = set(db.session.scalars(select(Job.id).where(
                Job.id.in_(list(folders)), Job.state.in_((*ACTIVE_STATES, JobState.DONE.value)))))
            for job_id, folder in folders.items():
                if job_id not in keep:
                    shutil.rmtree(folder, ignore_errors=True)
                    orphans += 1
    return Purged(len(due), stalled, orphans)

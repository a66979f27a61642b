"""Where jobs run (issue #11 item 5). Every engine ends in :func:`services.run_job`, in an app
context of its own; the job's state lives in the database, so any web process can show it.

- ``thread`` (default without a Redis URL): a few daemon threads in the web process
  (``JOB_THREADS``), so ``make run`` needs no other server. A job dies with its process; the
  pages then see its runner gone and mark it failed (``services.fail_if_dead``).
- ``rq`` (default with ``REDIS_URL``): the job is put on the RQ queue ``JOB_QUEUE`` and run by
  ``danso worker`` on any machine sharing the database and ``JOB_DIR``; it outlives the web
  worker that queued it. The queued call is :func:`perform` with the job's id only.
- ``inline``: at once, in the caller's thread (``services.submit`` runs it): tests of the
  features that submit jobs, on the test's one connection.
"""

from __future__ import annotations

import os
import queue
import threading

from flask import Flask, current_app, has_app_context

from ..extensions import db

PERFORM = "danso_network.jobs.engines.perform"  # what RQ calls, by name
_EXTENSION = "danso_jobs_engine"
WORKER_PID = "danso_jobs_worker_pid"  # set by `danso worker`: a different pid is a forked work horse


def engine_name(config) -> str:
    """``JOB_ENGINE`` if set, else ``rq`` when a Redis URL is configured, else ``thread``."""
    chosen = str(config.get("JOB_ENGINE") or "").strip().lower()
    if chosen:
        return chosen
    return "rq" if config.get("REDIS_URL") else "thread"


def start(app: Flask, job_id: int) -> None:
    """Hand a committed job to the app's engine."""
    name = engine_name(app.config)
    if name == "rq":
        enqueue(app, job_id)
    elif name == "thread":
        _thread_engine(app).start(job_id)
    else:  # inline jobs ran in submit
        return


def run_in_app(app: Flask, job_id: int) -> str | None:
    """``run_job`` in a new app context (its own database session), which is then cleaned up."""
    from . import services

    with app.app_context():
        try:
            return services.run_job(job_id)
        finally:
            db.session.remove()


# --- thread ---------------------------------------------------------------------------------------


class ThreadEngine:
    """A small pool of daemon threads of one process, fed by a queue of job ids."""

    def __init__(self, app: Flask, workers: int):
        self.app = app
        self.pid = os.getpid()
        self.workers = max(1, workers)
        self.jobs: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def start(self, job_id: int) -> None:
        with self.lock:
            self.threads = [t for t in self.threads if t.is_alive()]
            while len(self.threads) < self.workers:
                thread = threading.Thread(target=self._loop, name=f"danso-job-{len(self.threads) + 1}", daemon=True)
                thread.start()
                self.threads.append(thread)
        self.jobs.put(job_id)

    def _loop(self) -> None:
        while True:
            job_id = self.jobs.get()
            try:
                run_in_app(self.app, job_id)
            except Exception:  # noqa: BLE001 — run_job records its own failures; keep the thread alive
                self.app.logger.exception("job %s: the thread engine could not run it", job_id)


def _thread_engine(app: Flask) -> ThreadEngine:
    """The app's pool in this process (a new one after a fork: threads do not survive it)."""
    engine = app.extensions.get(_EXTENSION)
    if engine is None or engine.pid != os.getpid():
        engine = app.extensions[_EXTENSION] = ThreadEngine(app, int(app.config.get("JOB_THREADS", 2)))
    return engine


# --- RQ -------------------------------------------------------------------------------------------


def redis_connection(app: Flask):
    from redis import Redis

    return Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30)


def rq_queue(app: Flask, connection=None):
    from rq import Queue

    return Queue(app.config.get("JOB_QUEUE") or "danso", connection=connection or redis_connection(app))


def enqueue(app: Flask, job_id: int):
    """Put the job on the queue. RQ keeps no result (the database has the state) and drops its
    own record of a failure after ``JOB_KEEP_HOURS``."""
    keep_seconds = int(float(app.config.get("JOB_KEEP_HOURS", 24)) * 3600)
    return rq_queue(app).enqueue_call(PERFORM, args=(int(job_id),), timeout=int(app.config.get("JOB_TIMEOUT_SECONDS",
                                                                                                 3600)),
                                      result_ttl=0, failure_ttl=keep_seconds, description=f"danso job {int(job_id)}")


_standalone: Flask | None = None


def _app() -> Flask:
    """The app to run a job with: the worker's (``danso worker`` runs inside its app context),
    else one built from the environment (``DANSO_*``), once per process."""
    global _standalone
    if has_app_context():
        return current_app._get_current_object()
    if _standalone is None:
        from .. import create_app

        _standalone = create_app({"CLI": True})
    return _standalone


def perform(job_id: int) -> str | None:
    """What an RQ worker runs for a job. In a forked work horse the database connections
    inherited from the worker are dropped (never closed: they are the parent's) for new ones."""
    app = _app()
    parent = app.extensions.get(WORKER_PID)
    if parent is not None and parent != os.getpid():
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
    return run_in_app(app, job_id)


def worker_class(*, simple: bool = False):
    """RQ's worker (forking one process per job, or ``simple``: in the worker's own process) whose
    listener for RQ's commands wakes every second instead of every minute. redis-py 8's
    ``PubSubWorkerThread.stop()`` joins that thread, so with RQ's 60 s a worker that stops — the
    end of ``--burst``, Ctrl+C, a deploy — sat idle for up to a minute first."""
    from rq import SimpleWorker, Worker

    class QuickStop(SimpleWorker if simple else Worker):
        def subscribe(self):
            self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                           exception_handler=self._pubsub_exception_handler)

    return QuickStop

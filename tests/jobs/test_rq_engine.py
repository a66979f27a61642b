"""The RQ engine, for real, on the Redis of the machine (issue #11 item 5): a job queued by one
web worker is run by ``danso worker`` — another process, with an app of its own built from the
environment — after the web worker that queued it is gone, and its progress and file are served
by another web worker; a failure is a Vietnamese message; a queue that cannot be reached fails the
job, not the request.

How the worker runs: the restart test starts the real command, ``python -m danso_network.cli
worker --burst``, as a subprocess (a forking RQ worker, as in production; ``--burst`` makes it stop
once the queue is empty), pointed by ``DANSO_*`` variables at this test's database, queue and file
folder, with ``DANSO_JOB_MODULES`` naming the test kinds. Other tests run an RQ ``SimpleWorker`` in
burst mode in the test process itself: quicker, and the same code path from the queue on."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import redis
from rq import Queue
from sqlalchemy import select

from danso_network.extensions import db
from danso_network.jobs import engines
from danso_network.jobs.models import Job
from tests.conftest import make_app

from . import kinds
from .conftest import job_row, signed_in, submit_as, wait_until

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _rq_app(make_jobs_app, redis_url, queue_name, **settings):
    return make_jobs_app("rq", REDIS_URL=redis_url, JOB_QUEUE=queue_name, **settings)


def _work_here(app, redis_url, queue_name) -> None:
    """Run every queued job with an RQ SimpleWorker in this process, then stop (burst). The
    worker's signal handlers are put back as they were afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    connection = redis.Redis.from_url(redis_url)
    try:
        with app.app_context():
            engines.worker_class(simple=True)([Queue(queue_name, connection=connection)], connection=connection).work(
                burst=True)
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def test_a_queued_job_outlives_the_web_worker_that_queued_it(jobs_world, make_jobs_app, redis_url, rq_queue_name,
                                                              jobs_dir, tmp_path):
    gate = tmp_path / "gate"
    # Web worker 1 queues the job, then goes away (a restart): nothing of it is used again.
    first = make_app(jobs_world.url, JOB_ENGINE=None, REDIS_URL=redis_url, JOB_QUEUE=rq_queue_name,
                     JOB_DIR=str(jobs_dir))
    job_id = submit_as(first, "truongtram_a", "test_count", {"lines": 6, "gate": str(gate), "pause_at": 2})
    with first.app_context():
        db.engine.dispose()
    del first
    job = job_row(make_jobs_app("thread"), job_id)
    assert (job.state, job.engine, job.runner) == ("queued", "rq", None)  # rq: chosen for the Redis URL
    assert Queue(rq_queue_name, connection=redis.Redis.from_url(redis_url)).count == 1

    # Web worker 2 serves the pages; `danso worker` (another process) runs the job.
    web = _rq_app(make_jobs_app, redis_url, rq_queue_name)
    owner = signed_in(web, "truongtram_a")
    assert "Đang chờ xử lý" in owner.get(f"/jobs/{job_id}").get_data(as_text=True)
    env = {**os.environ, "DANSO_DATABASE_URL": jobs_world.url, "DANSO_REDIS_URL": redis_url,
           "DANSO_JOB_QUEUE": rq_queue_name, "DANSO_JOB_DIR": str(jobs_dir), "DANSO_SECRET_KEY": "worker-test",
           "DANSO_JOB_MODULES": '["tests.jobs.kinds"]', "DANSO_JOB_ENGINE": "",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    log = open(tmp_path / "worker.log", "w+b")  # noqa: SIM115 — read back at the end
    worker = subprocess.Popen([sys.executable, "-m", "danso_network.cli", "worker", "--burst"], cwd=PROJECT_ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: job_row(web, job_id).message == kinds.WAITING or worker.poll() is not None,
                   timeout=120, what="the worker to start the job")
        running = job_row(web, job_id)
        assert running.state == "running", (tmp_path / "worker.log").read_text()
        host, _, pid = running.runner.rpartition(":")
        assert int(pid) not in (os.getpid(), worker.pid)  # a work horse forked by the worker
        html = owner.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert '<meta http-equiv="refresh" content="2">' in html and "2/6" in html
        assert re.search(r'<progress[^>]*max="6" value="2"', html)
        gate.touch()
        assert worker.wait(timeout=20) == 0  # a burst worker stops at once (engines.worker_class)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
        log.close()
    job = job_row(web, job_id)
    assert job.state == "done", output
    assert "Đang chờ việc trong hàng đợi" in output
    download = owner.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    assert download.data.decode().splitlines() == ["người yêu cầu: truongtram_a", *[f"dòng {i}" for i in range(1, 7)]]
    assert signed_in(web, "truongtram_b").get(f"/jobs/{job_id}/download").status_code == 403
    assert Queue(rq_queue_name, connection=redis.Redis.from_url(redis_url)).count == 0


def test_a_failing_job_on_the_queue_shows_a_vietnamese_message(make_jobs_app, redis_url, rq_queue_name, caplog):
    app = _rq_app(make_jobs_app, redis_url, rq_queue_name)
    failing = submit_as(app, "truongtram_a", "test_fail", {})
    fine = submit_as(app, "truongtram_a", "test_count", {"lines": 3})
    assert job_row(app, failing).state == "queued"
    _work_here(app, redis_url, rq_queue_name)
    job = job_row(app, failing)
    assert job.state == "failed" and job.error.startswith("Không tạo được tệp do lỗi hệ thống")
    html = signed_in(app, "truongtram_a").get(f"/jobs/{failing}").get_data(as_text=True)
    assert job.error in html and kinds.SECRET not in html and "Traceback" not in html
    assert any(r.exc_info and kinds.SECRET in str(r.exc_info[1]) for r in caplog.records)
    assert job_row(app, fine).state == "done"  # the worker went on with the next job


def test_a_job_delivered_twice_runs_once(make_jobs_app, redis_url, rq_queue_name):
    app = _rq_app(make_jobs_app, redis_url, rq_queue_name)
    job_id = submit_as(app, "truongtram_a", "test_count", {"lines": 2})
    engines.enqueue(app, job_id)  # the same job again (a retried enqueue)
    _work_here(app, redis_url, rq_queue_name)
    job = job_row(app, job_id)
    assert job.state == "done" and job.done == 2


def test_a_queue_out_of_reach_fails_the_job_not_the_request(make_jobs_app):
    app = make_jobs_app("rq", REDIS_URL="redis://127.0.0.1:1/0", JOB_QUEUE="danso-test-unreachable")
    job_id = submit_as(app, "truongtram_a", "test_count", {"lines": 1})
    job = job_row(app, job_id)
    assert job.state == "failed" and job.error.startswith("Không gửi được việc vào hàng đợi xử lý")


def test_danso_worker_refuses_bad_settings_in_one_line(make_jobs_app):
    cases = [
        (make_jobs_app("thread"), "DANSO_REDIS_URL chưa được đặt"),
        (make_jobs_app("thread", REDIS_URL="redis://127.0.0.1:6379/0"), "DANSO_JOB_ENGINE là “thread”"),
        (make_jobs_app("rq", REDIS_URL="redis://127.0.0.1:1/0"), "Không kết nối được Redis tại redis://127.0.0.1:1/0"),
    ]
    for app, message in cases:
        with app.app_context():  # the command runs in the current app's context
            result = app.test_cli_runner().invoke(args=["worker", "--burst"])
        assert result.exit_code == 2, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_the_engine_follows_the_settings(make_jobs_app, redis_url):
    assert engines.engine_name({}) == "thread"
    assert engines.engine_name({"REDIS_URL": redis_url}) == "rq"
    assert engines.engine_name({"REDIS_URL": redis_url, "JOB_ENGINE": "thread"}) == "thread"
    app = make_jobs_app(None, REDIS_URL=redis_url)
    with app.app_context():
        assert db.session.scalars(select(Job)).all() == []
        db.session.remove()
    assert engines.engine_name(app.config) == "rq"

"""The job interface as the features' own tests meet it: the test configuration runs jobs
``inline`` (at once, on the test's one connection), so a page that submits a job can be followed
to the file in one test. Also: the CLI's progress bar, ``danso jobs purge``, the settings, and the
pieces of the interface (Progress, JobFile)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from danso_network import create_app
from danso_network.common import clock
from danso_network.config import ConfigurationError, TestConfig
from danso_network.extensions import db
from danso_network.jobs import services
from danso_network.jobs.cli import ProgressBar, run_with_bar
from danso_network.jobs.models import Job

from . import kinds  # noqa: F401  (registers the test kinds)


def test_an_inline_job_is_done_when_submit_returns(app, world, login_as):
    assert app.config["JOB_ENGINE"] == "inline"
    job = services.submit("test_count", {"lines": 4}, world.users["head_a"])
    db.session.commit()
    assert (job.state, job.done, job.total, job.engine) == ("done", 4, 4, "inline")
    client = login_as("truongtram_a")
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Tải tệp xuống" in html and 'http-equiv="refresh"' not in html
    response = client.get(f"/jobs/{job.id}/download")
    assert response.status_code == 200 and response.data.decode().count("dòng") == 4


def test_a_failed_inline_job_is_failed_when_submit_returns(world):
    job = services.submit("test_refuse", {}, world.users["head_a"])
    assert (job.state, job.error) == ("failed", kinds.REFUSAL)


def test_the_cli_runs_a_kind_with_a_progress_bar(world, tmp_path):
    stream = io.StringIO()
    target = tmp_path / "out.txt"
    result = run_with_bar("test_count", {"lines": 20}, world.users["head_a"], target, label="Xuất", stream=stream)
    assert result.filename == "đếm dòng.txt"
    assert target.read_text().splitlines()[0] == "người yêu cầu: truongtram_a"
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("Xuất [------------------------------]   0% 0/20")
    assert lines[-1].startswith("Xuất [##############################] 100% 20/20")
    assert db.session.scalars(select(Job)).all() == []  # no job row: it ran here
    with pytest.raises(services.UnknownKind):
        run_with_bar("no_such_kind", {}, world.users["head_a"], tmp_path / "x", stream=stream)
    buffer = io.BytesIO()
    services.run_now("test_path", {}, world.users["head_a"], buffer)
    assert buffer.getvalue() == b"a,b\n1,2\n"


def test_the_bar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    bar = ProgressBar("Xuất", screen)
    bar(5, 10, "Đang ghi")
    bar(12_345, None)
    bar.close()
    assert screen.getvalue().startswith("\rXuất [###############---------------]  50% 5/10 · Đang ghi\x1b[K")
    assert "\rXuất: 12.345 dòng\x1b[K" in screen.getvalue() and screen.getvalue().endswith("\n")


def test_danso_jobs_purge(app, world):
    now = clock.now()
    old = Job(owner_id=world.users["head_a"].id, kind="test_count", params={}, state="done", engine="inline",
              done=1, total=1, created_at=now - timedelta(days=2), finished_at=now - timedelta(days=2),
              expires_at=now - timedelta(days=1))
    db.session.add(old)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Đã xoá tệp của 1 việc hết hạn")
    db.session.refresh(old)
    assert old.state == "expired"


def test_progress_writes_are_spaced_but_never_lose_the_last_or_a_new_message():
    written = []
    progress = services.Progress(lambda *a: written.append(a), interval=60)
    progress.update(0, 1000, "Bắt đầu")
    for i in range(1, 1000):
        progress.update(i)
    progress.update(500, message="Đang ghi")
    progress.update(1000)
    assert written == [(0, 1000, "Bắt đầu"), (500, 1000, "Đang ghi"), (1000, 1000, "Đang ghi")]


def test_a_job_file_is_written_or_handed_over_never_both():
    with pytest.raises(TypeError):
        services.JobFile("a.csv", "text/csv")
    with pytest.raises(TypeError):
        services.JobFile("a.csv", "text/csv", write=lambda out: None, path="/tmp/a.csv")


@pytest.mark.parametrize(("settings", "message"), [
    ({"JOB_ENGINE": "celery"}, "DANSO_JOB_ENGINE “celery” không hợp lệ"),
    ({"JOB_ENGINE": "rq"}, "DANSO_JOB_ENGINE=rq cần DANSO_REDIS_URL"),
])
def test_bad_job_settings_are_one_clear_line(settings, message):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    with pytest.raises(ConfigurationError, match=message):
        create_app({**config, "DATABASE_URL": "sqlite://", **settings})

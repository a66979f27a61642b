"""The thread engine, for real (issue #11 item 5): a job submitted from a page runs in a thread
of the web process after the commit, its progress is on its page while it runs (the page reloads
itself, no script), and its file goes to its owner only; a failure shows a Vietnamese message and
never a traceback; a file past its day is 410."""

from __future__ import annotations

import os
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from danso_network.audit.models import AuditEvent
from danso_network.auth.models import User
from danso_network.common import clock
from danso_network.errors import Conflict, PermissionDenied, ValidationFailed
from danso_network.extensions import db
from danso_network.jobs import services
from danso_network.jobs.models import Job

from . import kinds
from .conftest import job_row, signed_in, submit_as, wait_until


def _finished(app, job_id):
    return wait_until(lambda: (j := job_row(app, job_id)).state in ("done", "failed") and j, what=f"job {job_id}")


def test_progress_is_on_the_page_while_it_runs_then_only_the_owner_downloads(make_jobs_app, tmp_path):
    app = make_jobs_app("thread")
    gate = tmp_path / "gate"
    job_id = submit_as(app, "truongtram_a", "test_count", {"lines": 10, "gate": str(gate), "pause_at": 4})
    owner = signed_in(app, "truongtram_a")

    # Running, paused at 4 of 10: the page shows it, and reloads itself every 2 s without script.
    wait_until(lambda: job_row(app, job_id).message == kinds.WAITING, what="the job to pause")
    page = owner.get(f"/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'data-job-state="running"' in html and "Đang xử lý" in html
    assert re.search(r'<progress[^>]*max="10" value="4"', html)
    assert "4/10" in html and "(40%)" in html and kinds.WAITING in html
    assert "<script>" not in html  # the strict CSP: nothing inline
    assert "data-job-download" not in html
    assert owner.get(f"/jobs/{job_id}/download").status_code == 302  # not ready: back to its page

    gate.touch()
    job = _finished(app, job_id)
    assert (job.state, job.done, job.total, job.engine, job.error) == ("done", 10, 10, "thread", None)
    assert job.runner == f"{socket.gethostname()}:{os.getpid()}"  # a thread of this process ran it
    html = owner.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in html  # finished: no more reloading
    assert "data-job-download" in html and "Tệp đã sẵn sàng" in html and "đếm dòng.txt" in html

    download = owner.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    assert download.data.decode() == "người yêu cầu: truongtram_a\n" + "".join(f"dòng {i}\n" for i in range(1, 11))
    assert download.mimetype == "text/plain"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "filename*=UTF-8''%C4%91%E1%BA%BFm%20d%C3%B2ng.txt" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"

    other = signed_in(app, "truongtram_b")
    assert other.get(f"/jobs/{job_id}").status_code == 403
    assert other.get(f"/jobs/{job_id}/download").status_code == 403
    admin = signed_in(app, "admin75")  # not even the province administrator
    assert admin.get(f"/jobs/{job_id}/download").status_code == 403
    anonymous = app.test_client()
    for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/download", "/jobs/"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert owner.get("/jobs/2147483647").status_code == 404

    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "Job", AuditEvent.object_id == str(job_id)).order_by(AuditEvent.id)).all()
        db.session.remove()
    assert actions == ["job.submit", "job.download"]


def test_the_list_shows_my_jobs_newest_first_and_no_one_elses(make_jobs_app):
    app = make_jobs_app("thread")
    first = submit_as(app, "truongtram_a", "test_count", {"lines": 1})
    second = submit_as(app, "truongtram_a", "test_path", {})
    theirs = submit_as(app, "truongtram_b", "test_count", {"lines": 1})
    for job_id in (first, second, theirs):
        _finished(app, job_id)
    html = signed_in(app, "truongtram_a").get("/jobs/").get_data(as_text=True)
    assert html.index(f"/jobs/{second}") < html.index(f"/jobs/{first}")
    assert f"/jobs/{theirs}" not in html
    assert "bảng.csv" in html and "Tệp có sẵn (thử nghiệm)" in html
    assert "Bạn chưa xuất tệp nào" in signed_in(app, "xem_b").get("/jobs/").get_data(as_text=True)


def test_a_file_handed_over_by_path_is_moved_in(make_jobs_app, jobs_dir):
    app = make_jobs_app("thread")
    job_id = submit_as(app, "truongtram_a", "test_path", {})
    job = _finished(app, job_id)
    assert job.state == "done" and job.result_path == f"{job_id}/result.csv" and job.result_bytes == 8
    assert (jobs_dir / str(job_id) / "result.csv").read_bytes() == b"a,b\n1,2\n"
    response = signed_in(app, "truongtram_a").get(f"/jobs/{job_id}/download")
    assert response.data == b"a,b\n1,2\n" and response.mimetype == "text/csv"


def test_a_failing_job_shows_a_vietnamese_message_and_no_traceback(make_jobs_app, caplog, jobs_dir):
    app = make_jobs_app("thread")
    job_id = submit_as(app, "truongtram_a", "test_fail", {})
    job = _finished(app, job_id)
    assert job.state == "failed"
    assert job.error == (f"Không tạo được tệp do lỗi hệ thống. Vui lòng thử lại; nếu vẫn lỗi, báo quản trị viên "
                         f"(mã việc {job_id}).")
    page = signed_in(app, "truongtram_a").get(f"/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Không thành công" in html and job.error in html
    assert "Traceback" not in html and kinds.SECRET not in html and "RuntimeError" not in html
    assert not (jobs_dir / str(job_id)).exists()
    # The traceback is in the log, for the administrator.
    logged = [r for r in caplog.records if r.getMessage() == f"job {job_id} (test_fail) failed"]
    assert logged and logged[0].exc_info and kinds.SECRET in str(logged[0].exc_info[1])
    download = signed_in(app, "truongtram_a").get(f"/jobs/{job_id}/download")
    assert download.status_code == 302


def test_a_refusal_of_the_kind_is_shown_as_it_is(make_jobs_app):
    app = make_jobs_app("thread")
    job_id = submit_as(app, "truongtram_a", "test_refuse", {})
    assert _finished(app, job_id).error == kinds.REFUSAL
    assert kinds.REFUSAL in signed_in(app, "truongtram_a").get(f"/jobs/{job_id}").get_data(as_text=True)


def test_a_file_past_its_day_is_gone_410_then_purged(make_jobs_app, jobs_dir):
    app = make_jobs_app("thread")
    job_id = submit_as(app, "truongtram_a", "test_count", {"lines": 2})
    assert _finished(app, job_id).state == "done"
    job = job_row(app, job_id)
    assert timedelta(hours=23, minutes=59) < job.expires_at - job.finished_at <= timedelta(hours=24)
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job_id).values(expires_at=clock.now() - timedelta(minutes=1)))
        db.session.commit()
        db.session.remove()
    owner = signed_in(app, "truongtram_a")
    gone = owner.get(f"/jobs/{job_id}/download")
    assert gone.status_code == 410
    assert "Tệp này đã hết hạn và đã được xoá (tệp chỉ được giữ 24 giờ)" in gone.get_data(as_text=True)
    assert "Tải tệp xuống" not in owner.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert signed_in(app, "truongtram_b").get(f"/jobs/{job_id}/download").status_code == 403  # still not theirs

    (jobs_dir / "999999").mkdir()  # a folder of no job (a database since reset)
    with app.app_context():
        purged = services.purge_expired()
        db.session.commit()
        db.session.remove()
    assert (purged.expired, purged.orphans) == (1, 1)
    assert job_row(app, job_id).state == "expired"
    assert not (jobs_dir / str(job_id)).exists() and not (jobs_dir / "999999").exists()
    html = owner.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Đã hết hạn" in html and "đã được xoá" in html
    assert owner.get(f"/jobs/{job_id}/download").status_code == 410


def test_a_job_whose_process_died_is_marked_failed_when_looked_at(make_jobs_app):
    app = make_jobs_app("thread")
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "truongtram_a"))
        now = clock.now()
        dead = Job(owner_id=owner.id, kind="test_count", params={"lines": 1}, state="running", engine="thread",
                   runner=f"{socket.gethostname()}:{2**22 + 12345}", done=3, total=10, created_at=now,
                   heartbeat_at=now, expires_at=now + timedelta(days=1))
        silent = Job(owner_id=owner.id, kind="test_count", params={"lines": 1}, state="queued", engine="rq",
                     done=0, created_at=now - timedelta(hours=3), heartbeat_at=now - timedelta(hours=3),
                     expires_at=now + timedelta(hours=21))
        db.session.add_all([dead, silent])
        db.session.commit()
        dead_id, silent_id = dead.id, silent.id
        db.session.remove()
    html = signed_in(app, "truongtram_a").get(f"/jobs/{dead_id}").get_data(as_text=True)
    assert "Việc bị dừng giữa chừng" in html and 'http-equiv="refresh"' not in html
    assert job_row(app, dead_id).state == "failed"
    with app.app_context():  # a queued job no worker took for longer than the timeout: by the purge
        assert services.purge_expired().stalled == 1
        db.session.commit()
        db.session.remove()
    assert job_row(app, silent_id).error.startswith("Việc bị dừng giữa chừng")


def test_check_refuses_before_anything_is_queued(make_jobs_app):
    app = make_jobs_app("thread")
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "truongtram_a"))
        with pytest.raises(ValidationFailed, match="Số dòng"):
            services.submit("test_count", {"lines": -1}, owner)
        with pytest.raises(PermissionDenied):
            services.submit("test_count", {"forbidden": True}, owner)
        with pytest.raises(services.UnknownKind, match="không tồn tại") as unknown:
            services.submit("no_such_kind", {}, owner)
        assert unknown.value.status == 400
        with pytest.raises(ValidationFailed, match="đối tượng JSON"):
            services.submit("test_count", ["not", "a", "dict"], owner)
        db.session.rollback()
        assert db.session.scalars(select(Job)).all() == []
        db.session.remove()


def test_a_rolled_back_submission_starts_nothing_and_a_user_has_few_jobs_at_once(make_jobs_app, tmp_path):
    app = make_jobs_app("thread", JOB_MAX_ACTIVE=2)
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "truongtram_a"))
        services.submit("test_count", {"lines": 1}, owner)
        db.session.rollback()
        assert db.session.scalars(select(Job)).all() == []
        assert db.session.info.get("danso_jobs_to_start") is None
        db.session.remove()
    gate = tmp_path / "gate"
    waiting = [submit_as(app, "truongtram_a", "test_count", {"lines": 1, "gate": str(gate)}) for _ in range(2)]
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "truongtram_a"))
        with pytest.raises(Conflict, match="2 việc chưa xong"):
            services.submit("test_count", {"lines": 1}, owner)
        db.session.rollback()
        db.session.remove()
    theirs = submit_as(app, "truongtram_b", "test_count", {"lines": 1})  # others are not held up
    gate.touch()
    assert [_finished(app, j).state for j in [*waiting, theirs]] == ["done", "done", "done"]

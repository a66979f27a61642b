"""An export killed mid-way (issue #14 item 3): a half-written file is never offered.

- ``danso roster export -o FILE`` writes ``FILE.part`` and renames it when whole: killed with
  SIGKILL after it wrote the first rows, ``FILE`` does not exist; run again, it is complete.
- A background export killed while it writes its file (the process running the job dies): the
  job is not shown as finished nor offers a download. Its page (and the list of jobs) finds the
  runner gone and shows it failed, "stopped mid-way, please try again"; the download answers with
  that page, never a file; submitted again, the export finishes and its file is complete.

Each runs on a database of its own holding :data:`PEOPLE` collaborators (SQLite, or PostgreSQL
with DANSO_TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import io
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from danso_network.collaborators.roster_import import FIELDS, apply_roster_import, plan_roster_import
from danso_network.extensions import db
from danso_network.imports.reading import read_table
from danso_network.jobs.models import Job
from tests.conftest import login

from .conftest import build_own_database, danso, danso_env, roster_csv, wait_until

PEOPLE = 3000  # a CSV of a few hundred KB, written 1,000 lines at a time: the kill lands after the first
NAME = "Nguyễn Thị Nhập"


@pytest.fixture(scope="module")
def roster_database(tmp_path_factory):
    """A database of its own with the world and :data:`PEOPLE` collaborators in Đồng Nai."""
    jobs = tmp_path_factory.mktemp("job-files")
    with build_own_database(tmp_path_factory, JOB_DIR=str(jobs)) as database:
        path = roster_csv(tmp_path_factory.mktemp("roster") / "ctv.csv", database.hamlet_codes, PEOPLE)
        with database.app.app_context():
            plan = plan_roster_import(read_table(path, FIELDS), user=None)
            assert not plan.problems, [str(p) for p in plan.problems[:5]]
            apply_roster_import(plan, actor=None, filename=path.name)
            db.session.commit()
            db.session.remove()
        database.job_dir = jobs
        yield database


def people_in(data: bytes) -> int:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return sum(1 for row in rows if any(cell.startswith(NAME) for cell in row))


def test_a_cli_export_killed_mid_way_leaves_no_file_then_a_rerun_writes_it_whole(
        roster_database, tmp_path, processes):
    output = tmp_path / "dong-nai.csv"
    partial = tmp_path / "dong-nai.csv.part"
    args = danso("roster", "export", "--unit", "75", "--format", "csv", "-o", str(output))
    env = danso_env(roster_database.url)

    run = processes(args, env)
    wait_until(lambda: partial.is_file() and partial.stat().st_size > 0, what="the first rows written", running=run)
    run.kill()
    assert not output.exists()  # nothing is offered under the name asked for
    assert partial.stat().st_size > 0  # it was killed with rows written (the name says "part")

    # The same command again (in this process: it saves starting another), to its end.
    with roster_database.app.app_context():  # (the command runs in the app context it finds)
        again = roster_database.app.test_cli_runner().invoke(args=args[3:])
        db.session.remove()
    assert again.exit_code == 0, again.output
    assert "Đã ghi" in again.output
    assert people_in(output.read_bytes()) == PEOPLE
    assert not partial.exists()


SUBMIT = textwrap.dedent("""
    from sqlalchemy import select

    from danso_network import create_app
    from danso_network.auth.models import User
    from danso_network.exports import services as exports
    from danso_network.extensions import db
    from danso_network.jobs import services as jobs

    app = create_app({"CLI": True})
    with app.app_context():  # not a POST request: on SQLite its write lock would block the job's own progress
        user = db.session.scalar(select(User).where(User.username == "admin75"))
        params = exports.spec_from_params({"list": "roster", "format": "csv", "area": {"unit_id": %d},
                                           "filters": {}}, user).params()
        job = jobs.submit(exports.JOB_KINDS["roster"], params, user)  # inline: runs here, now
        print("job", job.id, job.state)
""")


def _submit_here(database, unit_id: int) -> int:
    """The same export submitted in the test's own process (inline engine): it runs to its end."""
    from danso_network.auth.models import User
    from danso_network.exports import services as exports
    from danso_network.jobs import services as jobs

    with database.app.app_context():
        user = db.session.scalar(select(User).where(User.username == "admin75"))
        params = exports.spec_from_params({"list": "roster", "format": "csv", "area": {"unit_id": unit_id},
                                           "filters": {}}, user).params()
        job = jobs.submit(exports.JOB_KINDS["roster"], params, user)
        job_id = job.id
        db.session.remove()
    return job_id


def test_a_background_export_killed_mid_way_is_shown_failed_never_offered_then_succeeds_again(
        roster_database, processes):
    database = roster_database
    app = database.app
    with app.app_context():
        from danso_network.units.models import AdminUnit

        unit_id = db.session.scalar(select(AdminUnit.id).where(AdminUnit.code == "75"))
        known = set(db.session.scalars(select(Job.id)))
        db.session.remove()
    env = danso_env(database.url, JOB_ENGINE="inline", JOB_DIR=str(database.job_dir))
    import sys

    run = processes([sys.executable, "-c", SUBMIT % unit_id], env)

    def the_job():
        with app.app_context():
            job = db.session.scalar(select(Job).where(Job.id.not_in(known or {0})).order_by(Job.id.desc()))
            db.session.remove()
        return job

    def writing_its_file():
        job = the_job()
        if job is None or job.state != "running":
            return None
        part = Path(database.job_dir) / str(job.id) / "result.csv.part"
        return job if part.is_file() and part.stat().st_size > 0 else None

    job = wait_until(writing_its_file, what="the job to write the first rows of its file", running=run)
    run.kill()
    assert the_job().state == "running"  # what the row says: its runner cannot say anything else now
    assert not (Path(database.job_dir) / str(job.id) / "result.csv").exists()

    client = app.test_client()
    assert login(client, "admin75").status_code == 302
    # The list of jobs, read first, already tells the runner is gone.
    listing = client.get("/jobs/").get_data(as_text=True)
    assert "Không thành công" in listing and "Đang xử lý" not in listing
    page = client.get(f"/jobs/{job.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Không thành công" in html
    assert "Việc bị dừng giữa chừng" in html and "Vui lòng thử lại" in html
    assert f"/jobs/{job.id}/download" not in html
    assert "http-equiv=\"refresh\"" not in html  # no longer waiting for anything
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 302 and download.headers["Location"].endswith(f"/jobs/{job.id}")
    stored = the_job()
    assert (stored.state, stored.result_path) == ("failed", None)

    again = _submit_here(database, unit_id)
    with app.app_context():
        assert db.session.get(Job, again).state == "done"
        db.session.remove()
    response = client.get(f"/jobs/{again}/download")
    assert response.status_code == 200
    assert people_in(response.get_data()) == PEOPLE

"""An import killed mid-way (issue #14 item 3): ``danso roster import FILE`` is a real process,
killed with SIGKILL while its one transaction has written rows and not committed. The database
then holds none of the file's people or all of them — never a part — and is sound (SQLite's
integrity check); the same command run again imports the whole file. On SQLite and PostgreSQL
(DANSO_TEST_DATABASE_URL): each test has a database of its own (tests/faults/conftest.py)."""

from __future__ import annotations

from sqlalchemy import func, select, text

from danso_network.audit.models import AuditEvent
from danso_network.collaborators.models import Assignment, Collaborator
from danso_network.extensions import db
from danso_network.recruitment.models import Application, Candidate

from .conftest import build_own_database, danso, danso_env, roster_csv, wait_until, writing

ROWS = 2000  # a write phase of about a second (more on a loaded machine): the kill lands inside it
MODELS = (Candidate, Application, Collaborator, Assignment)


def counts(app) -> dict[str, int]:
    with app.app_context():
        found = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}
        found["audit"] = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "collaborator.from_paper"))
        if db.engine.dialect.name == "sqlite":
            found["integrity"] = db.session.scalar(text("PRAGMA integrity_check"))
        db.session.remove()
    return found


def test_a_roster_import_killed_while_writing_leaves_nothing_then_a_rerun_imports_everything(
        tmp_path_factory, tmp_path, processes):
    with build_own_database(tmp_path_factory) as database:
        before = counts(database.app)
        assert before["Collaborator"] == 0
        path = roster_csv(tmp_path / "danh-sach-ctv.csv", database.hamlet_codes, ROWS)
        name = "faults-roster-import"
        env = danso_env(database.url_for_process(name))

        run = processes(danso("roster", "import", str(path)), env)
        # Real progress: the plan is done and the transaction holds rows it has not committed.
        wait_until(lambda: writing(database, name), what="the import to write rows", running=run)
        assert run.alive(), run.output
        run.kill()
        assert "Đã nhập" not in run.output  # it never said it was done

        after = counts(database.app)
        whole = {"Candidate": ROWS, "Application": ROWS, "Collaborator": ROWS, "Assignment": ROWS, "audit": ROWS}
        got = {k: after[k] for k in whole}
        # None or all, never a part: killed before its commit, it must be none.
        assert got in ({k: before[k] for k in whole}, whole), got
        assert got == {k: before[k] for k in whole}, "the kill came after the commit: nothing was tested"
        if "integrity" in after:
            assert after["integrity"] == "ok"

        # The same command again (in this process: it saves starting another), to its end.
        with database.app.app_context():  # (the command runs in the app context it finds)
            again = database.app.test_cli_runner().invoke(args=["roster", "import", str(path)])
            db.session.remove()
        assert again.exit_code == 0, again.output
        assert f"Đã nhập: tạo mới {ROWS}, cập nhật 0, không đổi 0." in again.output
        final = counts(database.app)
        assert {k: final[k] for k in whole} == whole
        if "integrity" in final:
            assert final["integrity"] == "ok"

"""The ``danso`` command for a newcomer (issue #8): after ``make run`` every command that serves
no requests runs without exporting anything, ``danso --help`` lists every command, and a missing
or wrong setting is one clear line, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from danso_network import config
from danso_network.cli import cli


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """A shell where nothing was exported, on a database of its own."""
    for name in ("DANSO_SECRET_KEY", "DANSO_TIMEZONE", "FLASK_APP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DANSO_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setattr(config, "_secret_key_file", lambda instance_path: None)
    return tmp_path


def test_help_lists_every_command_without_a_key(bare_env):
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    for command in ("db", "demo", "units", "users", "run"):
        assert f"\n  {command} " in result.output
    assert "Traceback" not in result.output


def test_a_data_command_runs_without_a_key(bare_env):
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["units", "import", str(bare_env / "missing.geojson"), "--dry-run"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_migrating_in_process_keeps_the_applications_logs(bare_env):
    """A failed background job is logged with its traceback for the administrator; Alembic's
    logging set-up used to disable every logger already created (``fileConfig``'s default), so
    after ``db upgrade`` in the same process those logs vanished."""
    import logging

    job_log = logging.getLogger("danso_network")  # the app.logger jobs log to
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert not job_log.disabled


def test_the_web_server_refuses_a_throwaway_key(bare_env):
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "DANSO_SECRET_KEY" in result.output


def test_the_key_of_make_run_is_read_from_the_instance_folder(tmp_path):
    (tmp_path / "secret_key").write_text("0123456789abcdef\n")
    assert config._secret_key_file(str(tmp_path)) == "0123456789abcdef"
    assert config._secret_key_file(str(tmp_path / "nowhere")) is None


def test_a_wrong_setting_is_one_line(bare_env, monkeypatch):
    monkeypatch.setenv("DANSO_TIMEZONE", "Mars/Olympus")
    result = CliRunner().invoke(cli, ["units", "--help"])
    assert result.exit_code != 0
    assert "DANSO_TIMEZONE" in result.output
    assert "Traceback" not in result.output

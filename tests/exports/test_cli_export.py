"""``danso roster export`` (issue #11, item 1): the files, the user's scope and rights, the
administrator's line, the progress bar, and bad input as one line with exit status 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from danso_network import config
from danso_network.cli import cli
from danso_network.exports import cli as export_cli

from .roster_data import csv_rows, table, xlsx_sheets

HIDDEN = "(ẩn)"


@pytest.fixture
def run(app):
    def invoke(*args):
        return app.test_cli_runner().invoke(args=["roster", "export", *args])
    return invoke


def test_administrator_exports_the_province_in_xlsx(run, world, people, tmp_path):
    out = tmp_path / "dong-nai.xlsx"
    result = run("--unit", "75", "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Chạy với quyền quản trị" in result.output
    assert "Đã ghi" in result.output
    sheets = xlsx_sheets(out.read_bytes())
    _header, rows = table(sheets["Danh sách CTV"])
    assert {r[1] for r in rows} >= {"Nguyễn Thị Lan", "Trần Thị Hoa"}
    assert all(r[5] != HIDDEN for r in rows)
    assert not (tmp_path / "dong-nai.xlsx.part").exists()


def test_format_from_the_extension_status_and_date(run, world, people, tmp_path):
    out = tmp_path / "suspended.csv"
    result = run("--unit", "25195", "--status", "suspended", "--as-of", "07/12/2026", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = csv_rows(out.read_bytes())
    assert len(rows) == 2 and rows[1][1].startswith("'=HYPERLINK")


def test_a_user_exports_with_their_scope_and_rights(run, world, people, tmp_path):
    out = tmp_path / "b.csv"
    result = run("--unit", "25210", "--format", "csv", "--user", "xem_b", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "quyền quản trị" not in result.output
    rows = csv_rows(out.read_bytes())
    assert rows[1][1] == "Trần Thị Hoa" and rows[1][5] == HIDDEN and rows[1][6] == HIDDEN
    out = tmp_path / "scope.csv"
    assert run("--format", "csv", "--user", "truongtram_a", "-o", str(out)).exit_code == 0
    assert {r[1] for r in csv_rows(out.read_bytes())[1:]} == {"Nguyễn Thị Lan", '\'=HYPERLINK("http://x","Bấm")'}


def test_centre_and_gis_formats(run, world, people, tmp_path):
    out = tmp_path / "centre.pdf"
    result = run("--centre", "TTYT-689", "--format", "pdf", "--user", "ttyt689", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    out = tmp_path / "dn.gpkg"
    result = run("--unit", "75", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "1 thôn/tổ dân phố chưa có ranh giới" in result.output
    assert out.read_bytes().startswith(b"SQLite format 3")


@pytest.mark.parametrize("args, message", [
    (["--unit", "75", "--format", "docx"], "không được hỗ trợ"),
    (["--unit", "75"], "không được hỗ trợ"),  # -o without a known extension, no --format
    (["--unit", "99999", "--format", "csv"], "không có đơn vị hành chính mang mã 99999"),
    (["--centre", "TTYT-000", "--format", "csv"], "không có cơ sở y tế mang mã TTYT-000"),
    (["--unit", "75", "--format", "csv", "--user", "nobody"], "không có tài khoản"),
    (["--unit", "75", "--format", "csv", "--as-of", "32/01/2026"], "không hợp lệ"),
    (["--unit", "75", "--format", "csv", "--status", "gone"], "tình trạng “gone”"),
    (["--unit", "25210", "--format", "csv", "--user", "truongtram_a"], "ngoài địa bàn"),
    (["--unit", "25195", "--format", "csv", "--as-of", "01/01/2025"], "chỉ có dữ liệu từ ngày 01/07/2025"),
    (["--unit", "75", "--centre", "TTYT-689", "--format", "csv"], "chỉ chọn một"),
])
def test_bad_input_is_one_line_and_exit_2(run, world, people, tmp_path, args, message):
    out = tmp_path / "out.bin"
    result = run(*args, "-o", str(out))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Lỗi:") and message in lines[0], result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_progress_bar_on_a_large_export(run, world, people, tmp_path, monkeypatch):
    monkeypatch.setattr(export_cli, "PROGRESS_FROM", 1)
    result = run("--unit", "75", "--format", "csv", "-o", str(tmp_path / "all.csv"))
    assert result.exit_code == 0, result.output
    assert "Đang ghi" in result.output


def test_runs_without_a_secret_key_after_make_run(monkeypatch, tmp_path):
    """Issue #8: a command that serves no requests needs nothing exported (a database of its own)."""
    for name in ("DANSO_SECRET_KEY", "DANSO_TIMEZONE", "FLASK_APP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DANSO_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setattr(config, "_secret_key_file", lambda instance_path: None)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    out = tmp_path / "empty.csv"
    result = CliRunner().invoke(cli, ["roster", "export", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert csv_rows(out.read_bytes())[0][0] == "STT"
    result = CliRunner().invoke(cli, ["roster", "export", "--unit", "75", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output

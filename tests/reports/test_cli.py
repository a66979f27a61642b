"""``danso report network``: files for a unit, a centre or everything; bad input is one line and
exit status 2, and nothing is written."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook


@pytest.fixture
def run(app):
    """The command's result; its output holds standard output and error (click ≥ 8.2)."""
    def invoke(*args):
        return app.test_cli_runner().invoke(args=["report", "network", *args])
    return invoke


def _rows(path, sheet="Theo xã, phường"):
    return CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())).get_sheet_by_name(sheet).to_python()


def test_unit_as_administrator(network, run, tmp_path):
    out = tmp_path / "dong-nai.xlsx"
    result = run("--year", "2026", "--quarter", "1", "--unit", "75", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "quyền quản trị" in result.output and "Đã ghi" in result.output
    rows = _rows(out)
    header = next(r for r in rows if r and r[0] == "Mã")
    total = next(r for r in rows if len(r) > 1 and r[1] == "Tổng cộng")
    assert total[header.index("CTV cuối kỳ")] == 6
    assert not (tmp_path / "dong-nai.xlsx.part").exists()


def test_centre_pdf_for_a_user(network, run, tmp_path):
    out = tmp_path / "centre.pdf"
    result = run("--year", "2026", "--month", "3", "--centre", "TTYT-689", "--format", "pdf", "--user", "ttyt689",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "quyền quản trị" not in result.output


def test_whole_country_as_administrator(network, run, tmp_path):
    out = tmp_path / "all.xlsx"
    result = run("--year", "2026", "--quarter", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Toàn quốc" in result.output
    assert any(len(r) > 1 and r[1] == "Phường Ba Đình" for r in _rows(out))


@pytest.mark.parametrize("args, message", [
    (["--unit", "75", "--format", "docx"], "định dạng “docx” không được hỗ trợ"),
    (["--unit", "75"], "định dạng “(không có)”"),  # -o without an extension, no --format
    (["--unit", "99999", "--format", "xlsx"], "không có đơn vị hành chính mang mã 99999"),
    (["--centre", "TTYT-000", "--format", "xlsx"], "không có trung tâm y tế mang mã TTYT-000"),
    (["--centre", "TYT-25195", "--format", "xlsx"], "không có trung tâm y tế mang mã TYT-25195"),
    (["--unit", "75", "--centre", "TTYT-689", "--format", "xlsx"], "chỉ chọn một trong hai"),
    (["--unit", "25210", "--user", "truongtram_a", "--format", "xlsx"], "không được xem báo cáo"),
    (["--unit", "75", "--user", "khongco", "--format", "xlsx"], "không có tài khoản đang hoạt động"),
    (["--unit", "75", "--year", "2024", "--format", "xlsx"], "chỉ có dữ liệu từ ngày 01/07/2025"),
    (["--unit", "75", "--year", "2026", "--quarter", "5", "--format", "xlsx"], "Quý phải từ 1 đến 4"),
    (["--unit", "75", "--year", "x", "--format", "xlsx"], "không phải là một số"),
])
def test_bad_input(network, run, tmp_path, args, message):
    out = tmp_path / "report"
    result = run(*args, "-o", str(out))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("Lỗi:")]
    assert len(lines) == 1 and message in lines[0], result.output
    assert not out.exists() and not list(tmp_path.iterdir())

"""The XLSX template of the collaborators' import (issue #12 item 3): the hamlets of the user's
area listed with the codes to write, drop-down lists for the coded columns, instructions in
Vietnamese, the read-only column marked; filled in, it imports."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from danso_network.collaborators import roster_template
from danso_network.collaborators.roster_import import FIELDS, apply_roster_import, plan_roster_import
from danso_network.errors import PermissionDenied
from danso_network.extensions import db
from danso_network.imports.reading import read_table

from .. import factories
from ..conftest import login


def template(user=None, unit=None) -> bytes:
    buffer = io.BytesIO()
    roster_template.write_template(buffer, user=user, unit=unit)
    return buffer.getvalue()


def sheets(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def xml(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name).decode("utf-8")


def test_the_template_lists_the_hamlets_of_the_users_area_only(world):
    data = template(world.users["head_a"])
    found = sheets(data)
    assert list(found) == ["Danh sách CTV", "Thôn", "Hướng dẫn"]
    hamlets = found["Thôn"]
    assert hamlets[0][:4] == ["Mã thôn", "Thôn/tổ dân phố", "Loại", "Xã/phường"]
    assert [row[:2] for row in hamlets[1:]] == [["25195-001", "Khu phố 1"], ["25195-002", "Khu phố 2"]]
    assert hamlets[1][3] == "Phường Bình Phước" and hamlets[1][5] == date(2025, 7, 1)
    centre = sheets(template(world.users["centre"]))["Thôn"]
    assert [row[0] for row in centre[1:]] == ["25195-001", "25195-002", "25210-001", "25210-002"]


def test_the_header_is_the_imports_and_the_coded_columns_have_drop_down_lists(world):
    data = template(world.users["head_a"])
    table = read_table(io.BytesIO(data), FIELDS, filename="mau.xlsx")
    assert table.sheet == "Danh sách CTV" and table.header_row == 5 and table.rows == []
    assert table.ignored == ["STT"]  # the read-only column
    assert {"hamlet_code", "full_name", "national_id", "date_of_birth", "sex", "education", "started_on", "kind",
            "decision_ref", "contract_number", "vhw", "family_children"} <= set(table.columns)
    sheet = xml(data, "xl/worksheets/sheet1.xml")
    validations = re.findall(r"<dataValidation [^>]*>.*?</dataValidation>", sheet)
    lists = [v for v in validations if 'type="list"' in v]
    assert any("'Thôn'!$A$2:$A$3" in v for v in lists)
    assert any('"Nữ,Nam"' in v for v in lists)
    assert any('"Thôn chính,Kiêm nhiệm thêm"' in v for v in lists)
    assert any('"Có,Không"' in v for v in lists)
    assert any("Tốt nghiệp THCS" in v for v in lists)
    assert sum('type="date"' in v for v in validations) == 3
    assert "<sheetProtection" in sheet  # STT and the header locked, every other cell free
    assert "<sheetProtection" in xml(data, "xl/worksheets/sheet2.xml")  # the hamlet list is read-only
    comments = xml(data, "xl/comments1.xml")
    assert "Số thứ tự, chỉ để đọc" in comments and "Bắt buộc: số CCCD 12 chữ số" in comments


def test_the_instructions_are_in_vietnamese(world):
    lines = [row[0] for row in sheets(template(world.users["head_a"]))["Hướng dẫn"] if row and row[0]]
    assert lines[0] == "Mẫu nhập danh sách cộng tác viên dân số"
    assert any("Chuyển từ sổ sách giấy" in line for line in lines)
    assert any(line.startswith("• Số CCCD (bắt buộc)") for line in lines)
    assert any(line.startswith("• STT (chỉ để đọc)") for line in lines)


def filled(data: bytes, rows: list[dict]) -> bytes:
    """The template as a user fills it: every cell of its data sheet kept where it was, the rows
    written under the header (the other sheets left out: the import reads the first)."""
    grid = sheets(data)["Danh sách CTV"]
    head = next(i for i, row in enumerate(grid) if row and row[0] == "STT")
    headers = grid[head]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet("Danh sách CTV")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    for r, row in enumerate(grid[:head + 1]):
        for c, value in enumerate(row):
            if value not in ("", None):
                ws.write(r, c, value)
    for n, values in enumerate(rows, 1):
        ws.write(head + n, 0, n)
        for c, header in enumerate(headers):
            value = values.get(header)
            if isinstance(value, date):
                ws.write_datetime(head + n, c, value, dates)
            elif value is not None:
                ws.write_string(head + n, c, str(value))
    book.close()
    return buffer.getvalue()


def test_a_filled_template_imports(world):
    head = world.users["head_a"]
    born = date(1988, 3, 2)
    rows = [{"Mã thôn": "25195-002", "Họ và tên": "Đỗ Thị Mẫu", "Ngày sinh": born, "Giới tính": "Nữ",
             "Số CCCD": factories.national_id(born, "female", 77), "Trình độ học vấn": "Tốt nghiệp THPT",
             "Loại phân công": "Thôn chính", "Phụ trách từ": date(2025, 8, 1), "Kiêm GĐ&TE": "Có"}]
    data = filled(template(head), rows)
    plan = plan_roster_import(read_table(io.BytesIO(data), FIELDS, filename="mau-da-dien.xlsx"), user=head)
    assert not plan.problems, [str(p) for p in plan.problems]
    assert plan.summary.created == 1 and plan.items[0].row == 6
    apply_roster_import(plan, actor=head, filename="mau-da-dien.xlsx")
    db.session.commit()
    person = plan.new[0]
    assert (person.hamlet.name, person.education, person.family_children) == ("Khu phố 2", "upper_secondary", True)


def test_a_template_for_a_unit_outside_the_users_area_is_refused(world):
    with pytest.raises(PermissionDenied):
        template(world.users["head_a"], world.commune_b)
    admin = sheets(template(world.users["admin"], world.commune_b))["Thôn"]
    assert [row[0] for row in admin[1:]] == ["25210-001", "25210-002"]


def test_the_template_is_downloaded_from_the_import_page(app, world):
    client = app.test_client()
    login(client, "truongtram_a")
    page = client.get(f"/collaborators/import?unit_id={world.commune_a.id}").get_data(as_text=True)
    assert f"/collaborators/import/template/{world.commune_a.id}" in page
    response = client.get("/collaborators/import/template")
    assert response.status_code == 200 and response.mimetype == roster_template.MIMETYPE
    assert "mau-nhap-ctv-" in response.headers["Content-Disposition"]
    assert sheets(response.data)["Thôn"][1][0] == "25195-001"
    response = client.get(f"/collaborators/import/template/{world.commune_a.id}")
    assert response.status_code == 200 and len(sheets(response.data)["Thôn"]) == 3


def test_the_cli_writes_the_template_of_a_unit(app, world, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "mau.xlsx"
    result = runner.invoke(args=["roster", "template", "--unit", "25210", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 thôn/tổ dân phố" in result.output
    assert [row[0] for row in sheets(out.read_bytes())["Thôn"][1:]] == ["25210-001", "25210-002"]
    result = runner.invoke(args=["roster", "template", "--unit", "25210", "--user", "truongtram_a", "-o", str(out)])
    assert result.exit_code == 2 and "nằm ngoài địa bàn" in result.output
    result = runner.invoke(args=["roster", "template", "--unit", "99999", "-o", str(out)])
    assert result.exit_code == 2 and "99999" in result.output

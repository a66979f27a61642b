"""The centres file (issue #12, item 1): checked whole before anything is written, every problem
placed by row and column in Vietnamese, all or nothing, re-importing changes nothing, each change
audited with the file's name — on every bad input the database is left as it was."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.extensions import db
from danso_network.facilities import facilities_import, services
from danso_network.imports.problems import ImportRefused
from danso_network.imports.reading import FileRefused, read_table
from danso_network.units import services as unit_services

from .files import counts, csv_file, xlsx_file

DATA = Path(__file__).resolve().parent.parent / "data"
JAN = date(2026, 1, 1)


def plan_of(stream, name="trung-tam.csv", **kwargs):
    return facilities_import.plan_centres(read_table(stream, facilities_import.FIELDS, filename=name), **kwargs)


def messages(plan) -> list[str]:
    return [str(p) for p in plan.problems]


def test_a_new_provinces_centres_come_in_with_their_department_and_communes(world, hanoi_communes):
    rows = [["TTYT-001", "Trung tâm Y tế khu vực Ba Đình", "1 Đội Cấn", "024 3823 0000", "00004; 00007", "01/01/2026", ""],
            ["TTYT-002", "Trung tâm Y tế khu vực Trúc Bạch", "", "", "00008", "01/01/2026", "QĐ 5/QĐ-SYT"]]
    before = counts()
    plan = plan_of(csv_file(rows), "ttyt-ha-noi.csv")
    assert plan.province == world.hanoi and not plan.problems
    assert (plan.department.code, plan.department.valid_from) == ("SYT-01", JAN)
    assert [(i.code, i.action, [c.code for c in i.communes]) for i in plan.items] == [
        ("TTYT-001", "create", ["00004", "00007"]), ("TTYT-002", "create", ["00008"])]
    assert counts() == before  # the dry run writes nothing

    summary = facilities_import.apply_centres(plan, actor=world.users["hanoi_admin"], filename="ttyt-ha-noi.csv")
    db.session.commit()
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    centre = services.find_facility("TTYT-001")
    assert (centre.parent.code, centre.address, centre.phone) == ("SYT-01", "1 Đội Cấn", "024 3823 0000")
    assert [u.code for u in unit_services.served_units(centre, JAN)] == ["00004", "00007"]
    assert unit_services.served_units(centre, date(2025, 12, 31)) == []
    assert services.find_facility("TTYT-002").decision_ref == "QĐ 5/QĐ-SYT"

    audited = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["facility.create", "facilities.import"])).order_by(AuditEvent.id)))[-4:]
    assert [e.action for e in audited] == ["facility.create"] * 3 + ["facilities.import"]
    assert all(e.after["source"] == "ttyt-ha-noi.csv" and e.actor_name == "admin01" for e in audited)
    assert audited[-1].after["created"] == ["TTYT-001", "TTYT-002"]

    after_first = counts()
    again = plan_of(csv_file(rows), "ttyt-ha-noi.csv")
    assert [i.action for i in again.items] == ["unchanged", "unchanged"] and again.department is None
    assert facilities_import.apply_centres(again, filename="ttyt-ha-noi.csv").unchanged == 2
    assert counts() == after_first  # re-importing the same file changes nothing, not even the audit log


def test_an_xlsx_under_a_title_block_with_date_cells_and_a_number_for_a_code(world, hanoi_communes):
    book = xlsx_file([["TTYT-001", "TTYT Ba Đình", None, None, 4, date(2026, 1, 1), None]],
                     title=["DANH SÁCH TRUNG TÂM Y TẾ KHU VỰC", "Thành phố Hà Nội"])
    plan = plan_of(book, "ttyt.xlsx")
    assert not plan.problems and [c.code for c in plan.items[0].communes] == ["00004"]  # Excel dropped the zeros


def test_formulas_in_cells_are_text_never_evaluated(world, hanoi_communes):
    plan = plan_of(csv_file([["TTYT-001", "=1+1", "@SUM(A1)", "", "00004", "01/01/2026", ""]]))
    facilities_import.apply_centres(plan, filename="a.csv")
    centre = services.find_facility("TTYT-001")
    assert (centre.name, centre.address) == ("=1+1", "@SUM(A1)")


def test_an_existing_centre_is_corrected_and_its_communes_change_from_the_rows_date(world):
    rows = [["TTYT-689", "Trung tâm Y tế khu vực Đồng Xoài", "12 Hùng Vương", "", "25195", "01/01/2026", ""],
            ["TTYT-690", "Trung tâm Y tế khu vực Chơn Thành", "", "", "25210", "01/01/2026", ""]]
    plan = plan_of(csv_file(rows), province=world.dong_nai)
    assert not plan.problems, messages(plan)
    update, create = plan.items
    assert (update.action, update.changes, [u.code for u in update.removed]) == (
        "update", {"address": (None, "12 Hùng Vương")}, ["25210"])
    assert create.action == "create" and [s.code for s in create.moved_stations] == ["TYT-25210"]
    facilities_import.apply_centres(plan, filename="ttyt.csv")
    assert [f.code for f in unit_services.facilities_serving(world.commune_b, date(2025, 12, 31))][:2] == [
        "TYT-25210", "TTYT-689"]
    assert [f.code for f in unit_services.facilities_serving(world.commune_b, JAN)][:2] == ["TYT-25210", "TTYT-690"]
    assert world.station_b.parent.code == "TTYT-690"
    assert [i.action for i in plan_of(csv_file(rows), province=world.dong_nai).items] == ["unchanged", "unchanged"]


def _refused(stream, name="ttyt.csv", **kwargs):
    """The file's problems, after checking that applying it is refused and writes nothing."""
    before = counts()
    plan = plan_of(stream, name, **kwargs)
    with pytest.raises(ImportRefused):
        facilities_import.apply_centres(plan, filename=name)
    assert counts() == before
    return messages(plan)


ROW = ["TTYT-690", "Trung tâm Y tế khu vực Chơn Thành", "", "", "25210", "01/01/2026", ""]


@pytest.mark.parametrize(("rows", "expected"), [
    ([[*ROW[:4], "99999", *ROW[5:]]], "Dòng 2, cột “Mã xã/phường phục vụ”: Không có xã/phường nào mang mã 99999."),
    ([[*ROW[:4], "00004", *ROW[5:]]], "Phường Ba Đình (mã 00004) thuộc Thành phố Hà Nội, không thuộc Thành phố Đồng Nai"),
    ([[*ROW[:4], "75", *ROW[5:]]], "Mã 75 là mã của Thành phố Đồng Nai, không phải xã/phường."),
    ([ROW, ["TTYT-691", "TTYT 3", "", "", "25210", "01/01/2026", ""]],
     "Dòng 3, cột “Mã xã/phường phục vụ”: Xã Đồng Xoài đã được ghi cho trung tâm TTYT-690 ở dòng 2"),
    ([ROW, [*ROW[:4], "25195", *ROW[5:]]], "Dòng 3, cột “Mã trung tâm”: Mã TTYT-690 trùng với dòng 2"),
    ([ROW], "Xã Đồng Xoài đang do Trung tâm Y tế khu vực Đồng Xoài (mã TTYT-689) phụ trách"),
    ([["TYT-25195", "Trạm", "", "", "25210", "01/01/2026", ""]], "Mã TYT-25195 là mã của trạm y tế"),
    ([[*ROW[:5], "01/01/2020", ""]], "Xã Đồng Xoài (mã 25210) không có hiệu lực vào ngày 01/01/2020."),
    ([[*ROW[:5], "31/02/2026", ""]], "cột “Hiệu lực từ”: “31/02/2026” không phải ngày hợp lệ"),
    ([[*ROW[:4], "", *ROW[5:]]], "Ghi mã các xã/phường trung tâm phụ trách"),
    ([[ROW[0], "", *ROW[2:]]], "cột “Tên trung tâm”: Ô này không được để trống."),
    ([["TTYT 690", *ROW[1:]]], "không được chứa khoảng trắng"),
])
def test_every_bad_row_is_named_and_nothing_is_written(world, rows, expected):
    problems = _refused(csv_file(rows), province=world.dong_nai)
    assert any(expected in p for p in problems), problems


def test_a_commune_moving_between_two_centres_of_the_file_must_leave_before_it_arrives(world):
    rows = [["TTYT-689", "Trung tâm Y tế khu vực Đồng Xoài", "", "", "25195", "01/03/2026", ""],
            ["TTYT-690", "TTYT Chơn Thành", "", "", "25210", "01/01/2026", ""]]
    problems = _refused(csv_file(rows), province=world.dong_nai)
    assert any("ngày nhận không được trước ngày Trung tâm Y tế khu vực Đồng Xoài thôi phụ trách" in p
               for p in problems), problems


def test_a_change_dated_before_the_centres_last_change_is_refused(world):
    services.set_service_area(world.centre, [world.commune_a], on=JAN)
    rows = [["TTYT-689", "Trung tâm Y tế khu vực Đồng Xoài", "", "", "25195, 25210", "01/12/2025", ""]]
    problems = _refused(csv_file(rows), province=world.dong_nai)
    assert any("đã thay đổi ngày 01/01/2026" in p for p in problems), problems


def test_the_user_must_manage_the_province(world):
    problems = _refused(csv_file([ROW]), actor=world.users["centre"])
    assert problems == ["Tài khoản ttyt689 không quản lý cơ sở y tế của Thành phố Đồng Nai."]


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"%PDF-1.7 not a table", "ttyt.pdf", "không phải bảng tính"),
    (b"PK\x03\x04 broken zip", "ttyt.xlsx", "Không đọc được tệp Excel"),
    ((DATA / "table_bad_password.xlsx").read_bytes(), "ttyt.xlsx", "đặt mật khẩu"),
    ("Mã trung tâm,Tên trung tâm\nTTYT-1,A\n".encode(), "ttyt.csv", "Thiếu cột bắt buộc"),
])
def test_files_that_are_not_a_readable_table_are_refused_before_any_row(world, data, name, words):
    before = counts()
    with pytest.raises(FileRefused) as refused:
        read_table(io.BytesIO(data), facilities_import.FIELDS, filename=name)
    assert words in str(refused.value)
    assert counts() == before


def test_the_template_lists_the_current_centres_and_reimports_unchanged(world, tmp_path):
    from danso_network.exports.xlsx import write_xlsx

    path = tmp_path / "mau.xlsx"
    write_xlsx(facilities_import.template_document(world.dong_nai), path)
    table = read_table(path, facilities_import.FIELDS)
    assert [(r.get("code"), r.get("communes")) for r in table.rows] == [("TTYT-689", "25195, 25210")]
    plan = facilities_import.plan_centres(table)
    assert plan.province == world.dong_nai and [i.action for i in plan.items] == ["unchanged"]


def test_the_cli_checks_then_imports_and_exits_2_with_every_problem(app, world, hanoi_communes, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "ttyt.csv"
    good.write_bytes(csv_file([["TTYT-001", "TTYT Ba Đình", "", "", "00004,00007,00008", "01/01/2026", ""]]).getvalue())
    before = counts()
    result = runner.invoke(args=["facilities", "import", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "sẽ tạo mới 1, cập nhật 0, không đổi 0" in result.output and "SYT-01" in result.output
    assert counts() == before

    bad = tmp_path / "loi.csv"
    bad.write_bytes(csv_file([["TTYT-001", "TTYT Ba Đình", "", "", "00004,99999", "01/01/2026", ""],
                              ["TTYT-002", "", "", "", "00007", "01/01/2026", ""]]).getvalue())
    result = runner.invoke(args=["facilities", "import", str(bad), "--province", "01"])
    assert result.exit_code == 2
    assert "Dòng 2, cột “Mã xã/phường phục vụ”: Không có xã/phường nào mang mã 99999." in result.output
    assert "Dòng 3, cột “Tên trung tâm”" in result.output and "2 lỗi" in result.output
    assert counts() == before

    result = runner.invoke(args=["facilities", "import", str(good), "--user", "admin75"])
    assert result.exit_code == 2 and "không quản lý" in result.output
    result = runner.invoke(args=["facilities", "import", str(good), "--user", "admin01"])
    assert result.exit_code == 0, result.output
    assert services.find_facility("TTYT-001").parent.code == "SYT-01"
    assert runner.invoke(args=["facilities", "import", str(tmp_path / "none.csv")]).exit_code == 2
    pdf = tmp_path / "ttyt.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    result = runner.invoke(args=["facilities", "import", str(pdf)])
    assert result.exit_code == 2 and "không phải bảng tính" in result.output


def test_the_cli_creates_a_station_for_every_commune_and_lists_them(app, world, hanoi_communes, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "ttyt.csv"
    good.write_bytes(csv_file([["TTYT-001", "TTYT Ba Đình", "", "", "00004,00007", "01/01/2026", ""]]).getvalue())
    assert runner.invoke(args=["facilities", "import", str(good)]).exit_code == 0
    before = counts()
    result = runner.invoke(args=["facilities", "create-stations", "--province", "01", "--on", "01/02/2026", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "+ TYT-00004 Trạm Y tế Phường Ba Đình (trực thuộc TTYT-001)" in result.output
    assert "- 00008 Phường Trúc Bạch: chưa có trung tâm y tế nào phụ trách" in result.output
    assert counts() == before
    result = runner.invoke(args=["facilities", "create-stations", "--province", "01", "--on", "2026-02-01"])
    assert result.exit_code == 0 and "Đã tạo 2 trạm y tế từ 01/02/2026; không tạo cho 1 xã/phường." in result.output
    result = runner.invoke(args=["facilities", "create-stations", "--province", "01", "--on", "2026-02-01"])
    assert "Đã tạo 0 trạm" in result.output and "đã có Trạm Y tế Phường Ba Đình (mã TYT-00004)" in result.output
    result = runner.invoke(args=["facilities", "list", "--province", "01", "--on", "01/02/2026"])
    assert result.exit_code == 0 and "TYT-00007\tTrạm Y tế Phường Phúc Xá ← TTYT-001" in result.output
    assert "4 cơ sở y tế của Thành phố Hà Nội" in result.output
    assert runner.invoke(args=["facilities", "list", "--province", "99"]).exit_code == 2
    result = runner.invoke(args=["facilities", "create-stations", "--province", "01", "--user", "ttyt689"])
    assert result.exit_code == 2 and "không quản lý" in result.output

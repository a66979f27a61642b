"""Reading offices' spreadsheets (issue #12): the header under a title block, headers matched
without case or diacritics, values never formulas, and a Vietnamese refusal for every file that
cannot be read — not a spreadsheet, protected, corrupt, too big, missing columns."""

from __future__ import annotations

import io
import unicodedata
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter

from danso_network.imports import cells
from danso_network.imports.cells import CellError
from danso_network.imports.problems import Problems
from danso_network.imports.reading import Field, FileRefused, read_table

DATA = Path(__file__).resolve().parent.parent / "data"
FIELDS = [Field("name", "Họ và tên", aliases=("Tên CTV",), required=True),
          Field("national_id", "Số CCCD", required=True), Field("start", "Ngày bắt đầu"),
          Field("households", "Số hộ")]


def workbook(rows: list[list], *, sheet: str = "CTV") -> io.BytesIO:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, date):
                ws.write_datetime(r, c, value, book.add_format({"num_format": "dd/mm/yyyy"}))
            elif isinstance(value, str) and value.startswith("="):
                ws.write_formula(r, c, value, None, 42)
            else:
                ws.write(r, c, value)
    book.close()
    buffer.seek(0)
    return buffer


def test_the_header_is_found_under_a_title_block_and_rows_keep_their_spreadsheet_numbers():
    book = workbook([["DANH SÁCH CỘNG TÁC VIÊN"], ["Xã Bom Bo"], [],
                     ["STT", "HỌ VÀ TÊN", "so cccd", "Ngày bắt đầu", "Ghi chú"],
                     [1, "Nguyễn Thị Lan", "079190000001", date(2024, 3, 1), "x"],
                     [],
                     [2, "Trần Văn Bình", "079190000002", "15/04/2025", None]])
    table = read_table(book, FIELDS, filename="ctv.xlsx")
    assert table.sheet == "CTV" and table.header_row == 4
    assert table.columns == {"name": "HỌ VÀ TÊN", "national_id": "so cccd", "start": "Ngày bắt đầu"}
    assert set(table.ignored) == {"STT", "Ghi chú"}
    assert [(r.number, r.get("name"), r.get("national_id")) for r in table.rows] == [
        (5, "Nguyễn Thị Lan", "079190000001"), (7, "Trần Văn Bình", "079190000002")]
    assert table.rows[0].get("start") == date(2024, 3, 1)
    assert cells.day(table.rows[1].get("start")) == date(2025, 4, 15)


def test_a_formula_cell_is_read_as_the_value_excel_stored_never_evaluated():
    table = read_table(workbook([["Họ và tên", "Số CCCD", "Số hộ"], ["=HYPERLINK(\"http://x\")", "1", "=40+2"]]),
                       FIELDS, filename="a.xlsx")
    assert table.rows[0].get("households") == 42  # the cached value xlsxwriter wrote
    csv_table = read_table(io.BytesIO("Họ và tên,Số CCCD\n=1+1,@SUM(A1)\n".encode()), FIELDS, filename="a.csv")
    assert (csv_table.rows[0].get("name"), csv_table.rows[0].get("national_id")) == ("=1+1", "@SUM(A1)")


def cp1258(text: str) -> bytes:
    """Text as Windows writes it in code page 1258: a letter with its vowel mark precomposed
    where the code page has one (ê, ơ…), the tone mark as a combining character."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        try:
            out += unicodedata.normalize("NFC", base + marks[0]).encode("cp1258")
            marks = marks[1:]
        except UnicodeEncodeError:
            out += base.encode("cp1258")
        out += "".join(marks).encode("cp1258")
    return out


def test_csv_in_windows_1258_with_semicolons_reads_in_vietnamese():
    data = cp1258("Họ và tên;Số CCCD\nNguyễn Thị Lan;079190000001\n")
    table = read_table(io.BytesIO(data), FIELDS, filename="ctv.csv")
    assert table.rows[0].values["name"] == "Nguyễn Thị Lan"
    assert table.rows[0].values["national_id"] == "079190000001"


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"%PDF-1.7 not a table", "ctv.pdf", "không phải bảng tính"),
    (b"PK\x03\x04 broken zip", "ctv.xlsx", "Không đọc được tệp Excel"),
    (b"just text renamed", "ctv.xlsx", "không phải bảng tính Excel hợp lệ"),
    ((DATA / "table_bad_password.xlsx").read_bytes(), "ctv.xlsx", "đặt mật khẩu"),
    (b"\x00\x01\x02binary", "ctv.csv", "ký tự nhị phân"),
    ("Tên\nAn\n".encode(), "ctv.csv", "Không tìm thấy dòng tiêu đề"),
    ("Họ và tên,Ngày bắt đầu\nAn,01/01/2020\n".encode(), "ctv.csv", "Thiếu cột bắt buộc (dòng 1): “Số CCCD”"),
])
def test_files_that_cannot_be_read_are_refused_with_a_reason(data, name, words):
    with pytest.raises(FileRefused) as refused:
        read_table(io.BytesIO(data), FIELDS, filename=name)
    assert words in str(refused.value.message)


def test_a_file_over_the_limit_is_refused_before_it_is_read(app):
    app.config["IMPORT_MAX_BYTES"] = 1000
    try:
        with pytest.raises(FileRefused, match="lớn hơn"):
            read_table(io.BytesIO(b"a," * 600), FIELDS, filename="big.csv")
    finally:
        app.config.pop("IMPORT_MAX_BYTES")


def test_cells_have_bounds_real_dates_and_the_yes_no_offices_write():
    assert cells.integer("1.234") == 1234 and cells.integer(12.0) == 12
    for bad in ("12a", 1.5, -1, 10**7, True):
        with pytest.raises(CellError):
            cells.integer(bad)
    assert cells.day("7/3/2024") == date(2024, 3, 7) and cells.day("2024-03-07") == date(2024, 3, 7)
    for bad in ("31/02/2024", "07/12/26", "hôm qua", date(1800, 1, 1)):
        with pytest.raises(CellError):
            cells.day(bad)
    assert [cells.flag(v) for v in ("Có", "x", "1", 1, None, "Không", "k", 0)] == [True] * 4 + [False] * 4
    with pytest.raises(CellError, match="không rõ"):
        cells.flag("có lẽ")
    assert cells.code(79.0) == "79" and cells.code("00123") == "00123"
    assert cells.choice("ap", {"Ấp": "ap", "Thôn": "thon"}) == "ap"


def test_problems_are_placed_by_row_and_the_files_own_header():
    table = read_table(io.BytesIO("ho va ten,Số CCCD,Số hộ\nAn,1,nhiều\n".encode()), FIELDS, filename="a.csv")
    problems = Problems(table)
    assert problems.cell(table.rows[0], "households", cells.integer) is None
    assert str(problems.items[0]) == "Dòng 2, cột “Số hộ”: “nhiều” không phải số nguyên."


def test_a_vietnamese_header_is_recognised_on_an_english_page(app):
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    field = Field("name", _l("Họ và tên"), required=True)
    with app.test_request_context(), force_locale("en"):
        assert str(field.label) == "Full name"
        table = read_table(io.BytesIO("Họ và tên\nAn\n".encode()), [field], filename="a.csv")
        english = read_table(io.BytesIO("Full name\nBình\n".encode()), [field], filename="a.csv")
    assert table.rows[0].get("name") == "An" and english.rows[0].get("name") == "Bình"


def test_a_problem_in_a_column_the_file_lacks_names_the_columns_label():
    """A hamlet file without a "Loại" column: a problem with the type the import inferred from a
    name names the column "Loại", not the internal key "type"."""
    table = read_table(workbook([["Họ và tên", "Số CCCD"], ["Nguyễn Thị Lan", "079190000001"]]),
                       [*FIELDS, Field("type", "Loại")], filename="thon.xlsx")
    problems = Problems(table)
    problems.add(2, "type", "không hợp lệ")
    problems.add(2, "name", "trống")
    assert [p.column for p in problems.items] == ["Loại", "Họ và tên"]

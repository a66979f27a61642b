"""Hamlets in bulk from a spreadsheet (issue #12 item 2): ``units.hamlets_import``, its pages and
``danso units import-hamlets``.

The world holds Phường Bình Phước (25195: Khu phố 1, Khu phố 2), Xã Đồng Xoài (25210: Ấp Tân
Lập, Ấp 2) in Đồng Nai and Phường Ba Đình (00004: Tổ dân phố 5) in Hà Nội. Every bad file must
say what is wrong (sheet, row, column) and leave the database exactly as it was; a good file
creates and corrects hamlets, and the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.extensions import db
from danso_network.imports.problems import ImportRefused
from danso_network.imports.reading import FileRefused, read_table
from danso_network.jobs.models import Job
from danso_network.units import hamlets_import, services
from danso_network.units.hamlets_import import FIELDS, apply_hamlets, plan_hamlets
from danso_network.units.models import AdminUnit, UnitLevel

from .. import factories
from ..conftest import csrf_token
from ..factories import REFORM_DAY

HEADER = ["Mã xã/phường", "Tên xã/phường", "Tên thôn/tổ dân phố", "Loại", "Số hộ", "Dân số", "Thôn khó khăn",
          "Thôn dân tộc thiểu số", "Mã thôn", "Ngày hiệu lực"]


def csv_file(rows: list[list], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_file(rows: list[list], header: list[str] = HEADER, *, title: bool = True) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("Thôn")
    start = 0
    if title:
        sheet.write(0, 0, "DANH SÁCH THÔN, TỔ DÂN PHỐ")
        start = 2
    sheet.write_row(start, 0, header)
    for r, row in enumerate(rows, start + 1):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("="):
                sheet.write_formula(r, c, value, None, 42)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, book.add_format({"num_format": "dd/mm/yyyy"}))
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


def table_of(rows: list[list], name: str = "thon.csv", header: list[str] = HEADER):
    data = csv_file(rows, header) if name.endswith(".csv") else xlsx_file(rows, header)
    return read_table(io.BytesIO(data), FIELDS, filename=name)


def plan_of(rows: list[list], **kwargs):
    return plan_hamlets(table_of(rows), **kwargs)


def import_rows(rows: list[list], name: str = "thon.csv", **kwargs):
    plan = plan_hamlets(table_of(rows, name), **kwargs)
    return plan, apply_hamlets(plan, actor=kwargs.get("actor"), filename=name)


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(AdminUnit)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def problems_of(rows: list[list], **kwargs) -> list[str]:
    """A file that must be refused: its problems, after checking that applying writes nothing."""
    before = counts()
    plan = plan_of(rows, **kwargs)
    assert plan.problems, "no problem found"
    with pytest.raises(ImportRefused):
        apply_hamlets(plan, filename="thon.csv")
    assert counts() == before
    return [str(p) for p in plan.problems]


def current_hamlets(commune: AdminUnit) -> dict[str, AdminUnit]:
    return {h.name: h for h in db.session.scalars(select(AdminUnit).where(
        AdminUnit.parent_id == commune.id, AdminUnit.valid_to.is_(None)))}


def row(code="25210", name="Ấp 7", type_="Ấp", households=120, population=480, difficult=None, minority=None,
        local=None, start=None, commune_name=None) -> list:
    return [code, commune_name, name, type_, households, population, difficult, minority, local, start]


# --- the good path ----------------------------------------------------------------------------------


def test_a_file_creates_new_hamlets_and_corrects_existing_ones(world):
    rows = [row(name="Ấp 7", difficult="x"), row(name="Ấp 8", type_=None, households=None, population=None),
            row(name="Ấp 2", type_=None, households=95, population=None),
            row("25195", "Khu phố 3", "Khu phố", 200, 800, commune_name="Phường Bình Phước")]
    plan, summary = import_rows(rows, "thon-dong-nai.csv")
    assert (summary.created, summary.updated, summary.unchanged) == (3, 1, 0)
    b = current_hamlets(world.commune_b)
    assert set(b) == {"Ấp Tân Lập", "Ấp 2", "Ấp 7", "Ấp 8"}
    new = b["Ấp 7"]
    assert (new.level, new.type, new.households, new.population, new.is_difficult, new.is_ethnic_minority) == (
        "hamlet", "ap", 120, 480, True, False)
    assert new.full_name == "Ấp 7, Xã Đồng Xoài" and new.search_text == "ap 7"
    assert new.path == f"{world.commune_b.path}{new.id}/" and new.valid_from == world.commune_b.valid_from
    assert b["Ấp 8"].type == "ap"  # read from the name: "Ấp …"
    existing = {h.local_id for h in world.hamlets_b}
    assert {b["Ấp 7"].local_id, b["Ấp 8"].local_id} == {f"{n:03d}" for n in range(3, 5)} and not existing & {
        b["Ấp 7"].local_id}
    assert b["Ấp 2"].households == 95 and b["Ấp 2"].population == 90 * 4  # an empty cell keeps what is recorded
    assert current_hamlets(world.commune_a)["Khu phố 3"].type == "khu_pho"
    # the hamlets are found like any other: the unit page, search
    assert services.search_units("ap 7", [world.dong_nai.path])[0].id == new.id


def test_every_change_is_audited_with_the_files_name(world, login_as):
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    import_rows([row(name="Ấp 7"), row(name="Ấp 2", type_=None, households=91, population=None)], "ds-thon-2026.xlsx",
                actor=world.users["admin"])
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))[before:]
    by_action = {e.action: e for e in events}
    assert set(by_action) == {"unit.create", "unit.update", "unit.import"}
    created = by_action["unit.create"]
    assert created.after["source"] == "ds-thon-2026.xlsx" and created.after["name"] == "Ấp 7"
    assert created.object_label == "Ấp 7, Xã Đồng Xoài" and created.actor_name == "admin75"
    assert created.unit_path.startswith(world.commune_b.path)
    updated = by_action["unit.update"]
    assert updated.before == {"households": 90} and updated.after == {"households": 91, "source": "ds-thon-2026.xlsx"}
    assert "ds-thon-2026.xlsx" in by_action["unit.import"].object_label
    assert by_action["unit.import"].after["created"] == 1 and by_action["unit.import"].unit_path == world.commune_b.path


def test_re_importing_the_same_file_changes_nothing(world):
    rows = [row(name="Ấp 7", difficult="Có", local="A7"), row(name="Ấp 8"), row(name="Ấp 2", households=90),
            row("00004", "Tổ dân phố 6", "Tổ dân phố", 10, 40)]
    import_rows(rows)
    before = counts()
    plan, summary = import_rows(rows)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 4)
    assert counts() == before  # no audit event either
    assert not plan.changes()


@pytest.mark.parametrize("written", ["Ấp 2", "ấp 2", "AP 2", "Ap 2", "Ấp 02", "  Ấp   2 ", "ẤP 2",
                                     "A\u0302\u0301p 2"])  # decomposed accents (NFD) too
def test_names_match_without_case_diacritics_spacing_or_leading_zeros(world, written):
    plan, summary = import_rows([row(name=written, type_=None, households=None, population=None)])
    assert (summary.created, summary.unchanged) == (0, 1)
    assert "Ấp 2" in current_hamlets(world.commune_b)  # matched by name: the stored spelling is kept


def test_a_name_without_accents_matches_and_keeps_the_accents(world):
    import_rows([row(name="ap tan lap", type_=None, households=310, population=None)])
    hamlets = current_hamlets(world.commune_b)
    assert hamlets["Ấp Tân Lập"].households == 310 and len(hamlets) == 2


def test_the_local_code_renames_a_hamlet_or_corrects_its_spelling(world):
    ap2 = world.hamlets_b[1]
    plan, summary = import_rows([row(name="Ấp Hai", type_=None, households=None, population=None,
                                     local=str(int(ap2.local_id)))])  # "2" = "002": a code Excel made a number
    assert summary.updated == 1 and plan.items[0].change_lines() == ["Tên: Ấp 2 → Ấp Hai"]
    db.session.refresh(ap2)
    assert (ap2.name, ap2.full_name, ap2.search_text) == ("Ấp Hai", "Ấp Hai, Xã Đồng Xoài", "ap hai")


def test_a_code_given_to_a_hamlet_found_by_name_becomes_its_local_code(world):
    import_rows([row(name="Ấp 2", type_=None, households=None, population=None, local="AP-02")])
    assert current_hamlets(world.commune_b)["Ấp 2"].local_id == "AP-02"


def test_explicit_and_automatic_local_codes_do_not_collide(world):
    taken = max(int(h.local_id) for h in world.hamlets_b)
    next_code = f"{taken + 1:03d}"
    import_rows([row(name="Ấp 9"), row(name="Ấp 10", local=next_code)])
    hamlets = current_hamlets(world.commune_b)
    assert hamlets["Ấp 10"].local_id == next_code
    assert hamlets["Ấp 9"].local_id == f"{taken + 2:03d}"


def test_an_xlsx_under_a_title_block_with_number_codes_and_dates_is_read(world):
    data = xlsx_file([[25210, None, "Ấp 7", "ap", 150, 600, 1, 0, None, date(2025, 9, 1)],
                      [4, "Ba Đình", "Tổ dân phố 6", "TDP", 10, 30, None, None, None, None]])
    plan = plan_hamlets(read_table(io.BytesIO(data), FIELDS, filename="thon.xlsx"))
    assert not plan.problems, [str(p) for p in plan.problems]
    apply_hamlets(plan, filename="thon.xlsx")
    new = current_hamlets(world.commune_b)["Ấp 7"]
    assert (new.valid_from, new.is_difficult, new.households) == (date(2025, 9, 1), True, 150)
    assert current_hamlets(world.commune_c)["Tổ dân phố 6"].type == "to_dan_pho"  # 4 → commune 00004


def test_formulas_are_read_as_text_never_evaluated(world):
    import_rows([row(name="=HYPERLINK(\"http://x\",\"Ấp 7\")", type_="Ấp"), row(name="@SUM(A1)", type_="Ấp")])
    names = set(current_hamlets(world.commune_b))
    assert {"=HYPERLINK(\"http://x\",\"Ấp 7\")", "@SUM(A1)"} <= names
    # an XLSX formula cell gives the value Excel stored, not a recomputation
    plan = plan_hamlets(read_table(io.BytesIO(xlsx_file([row(name="Ấp 9", households="=40+2", population=None)])),
                                   FIELDS, filename="thon.xlsx"))
    assert plan.items[0].new.households == 42


def test_a_start_date_of_an_existing_hamlet_is_kept_and_said(world):
    plan, _ = import_rows([row(name="Ấp 2", type_=None, households=None, population=None, start="01/01/2026")])
    assert world.hamlets_b[1].valid_from == REFORM_DAY
    assert any("giữ nguyên" in n for n in plan.notes)


# --- problems: each placed, nothing written -----------------------------------------------------------


def test_unknown_and_closed_communes_are_problems(world):
    closed = factories.commune(world.dong_nai, "25999", "Cũ")
    services.close_unit(closed, on=date(2026, 1, 1))
    db.session.flush()
    lines = problems_of([row("99999"), row("25999"), row("2521A"), row(None)])
    assert lines[0] == "Dòng 2, cột “Mã xã/phường”: Không có xã/phường nào mang mã 99999."
    assert "đã hết hiệu lực từ 01/01/2026" in lines[1] and lines[1].startswith("Dòng 3,")
    assert "5 chữ số" in lines[2] and lines[3] == "Dòng 5, cột “Mã xã/phường”: Ô này không được để trống."


def test_a_commune_name_that_is_not_the_codes_is_a_problem(world):
    lines = problems_of([row("25210", commune_name="Bình Phước")])
    assert lines == ["Dòng 2, cột “Tên xã/phường”: Mã 25210 là mã của Xã Đồng Xoài, không phải “Bình Phước”."]
    assert not plan_of([row("25210", commune_name="xa dong xoai")]).problems


@pytest.mark.parametrize(("rows", "words"), [
    ([row(name="Ấp 7"), row(name="ap 07")], "Dòng 3, cột “Tên thôn/tổ dân phố”: “ap 07” của Xã Đồng Xoài đã có ở dòng 2"),
    ([row(name="Ấp 7", local="X1"), row(name="Ấp 8", local="x1")], "Dòng 3, cột “Mã thôn”: Mã thôn “x1”"),
    ([row(name="Ấp Hai", local="002"), row(name="Ấp 2")], "Dòng 3, cột “Tên thôn/tổ dân phố”: Dòng này và dòng 2"),
    ([row(name="Ấp Tân Lập", local="002")], "Mã thôn “002” là của “Ấp 2”, còn tên “Ấp Tân Lập”"),
    ([row("25195", "Thôn Mới", "Thôn")], "không được tổ chức dưới Phường Bình Phước"),
    ([row(type_="Làng xóm")], "“Làng xóm” không phải loại thôn/tổ dân phố"),
    ([row(name="Tân Hoà", type_=None)], "cột “Loại” trống và tên không cho biết loại"),
    ([row(households=30_000)], "Dòng 2, cột “Số hộ”: Số 30000 nằm ngoài khoảng cho phép (0–20000)."),
    ([row(households="nhiều")], "“nhiều” không phải số nguyên"),
    ([row(households=100, population=50)], "Dân số (50) ít hơn số hộ (100)"),
    ([row(difficult="có lẽ")], "cột “Thôn khó khăn”: “có lẽ” không rõ"),
    ([row(start="31/02/2026")], "cột “Ngày hiệu lực”: “31/02/2026” không phải ngày hợp lệ"),
    ([row(start="01/01/2024")], "Ngày hiệu lực 01/01/2024 trước ngày Xã Đồng Xoài có hiệu lực (01/07/2025)."),
    ([row(name="...")], "Tên thôn/tổ dân phố phải có chữ hoặc số."),
    ([row(name="x" * 151)], "Quá dài: tối đa 150 ký tự"),
])
def test_each_bad_row_is_a_problem_of_its_row_and_column(world, rows, words):
    lines = problems_of(rows)
    assert any(words in line for line in lines), lines


def test_a_name_two_current_hamlets_share_is_a_problem_unless_the_code_chooses(world):
    factories.hamlet(world.commune_b, "Ấp 02")  # "Ấp 02" and "Ấp 2" differ for the form, not for the import
    db.session.flush()
    lines = problems_of([row(name="ap 2", type_=None, households=None, population=None)])
    assert "có 2 thôn/tổ dân phố cùng tên “ap 2”" in lines[0] and "ghi cột “Mã thôn”" in lines[0]
    chosen = plan_of([row(name="ap 2", type_=None, households=99, population=None, local=world.hamlets_b[1].local_id)])
    assert not chosen.problems and chosen.items[0].hamlet_id == world.hamlets_b[1].id


def test_the_code_of_a_closed_hamlet_is_not_given_again(world):
    old = factories.hamlet(world.commune_b, "Ấp Cũ", local_id="050")
    services.close_unit(old, on=date(2026, 1, 1))
    db.session.flush()
    lines = problems_of([row(name="Ấp Mới", local="50")])
    assert "là mã của “Ấp Cũ” đã đóng" in lines[0]
    lines = problems_of([row(name="Ấp 2", type_=None, local="050")])  # nor to a hamlet found by name
    assert "là mã của “Ấp Cũ” đã đóng" in lines[0]
    plan = plan_of([row(name="Ấp Mới")])
    assert plan.items[0].new.local_id == "051"  # numbering continues after the closed hamlet's code


def test_all_problems_are_listed_at_once_and_nothing_is_written(world):
    lines = problems_of([row(name="Ấp 7"), row("99999"), row(households=-1), row(name="Ấp 8")])
    assert [line.split(",")[0] for line in lines] == ["Dòng 3", "Dòng 4"]  # good rows are not written either
    assert "Ấp 7" not in current_hamlets(world.commune_b)


def test_a_rows_problems_follow_its_columns(world):
    lines = problems_of([row("99999", households=-1, difficult="?")])
    assert [line.split(":")[0] for line in lines] == ["Dòng 2, cột “Mã xã/phường”", "Dòng 2, cột “Số hộ”",
                                                      "Dòng 2, cột “Thôn khó khăn”"]


def test_an_empty_file_is_a_problem(world):
    plan = plan_hamlets(read_table(io.BytesIO(csv_file([])), FIELDS, filename="rong.csv"))
    assert [str(p) for p in plan.problems] == ["Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."]


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"\x89PNG\r\n\x1a\n not a table", "thon.png", "không phải bảng tính"),
    (b"PK\x03\x04 broken zip", "thon.xlsx", "Không đọc được tệp Excel"),
    (b"just text renamed", "thon.xlsx", "không phải bảng tính Excel hợp lệ"),
    ("Tên thôn/tổ dân phố,Số hộ\nẤp 1,100\n".encode(), "thon.csv", "Thiếu cột bắt buộc (dòng 1): “Mã xã/phường”"),
    ("Xã,Thôn\n25210,Ấp 1\n".encode(), "thon.csv", "Không tìm thấy dòng tiêu đề"),
])
def test_files_that_are_not_hamlet_tables_are_refused(world, data, name, words):
    with pytest.raises(FileRefused) as refused:
        read_table(io.BytesIO(data), FIELDS, filename=name)
    assert words in str(refused.value)


def test_a_password_protected_workbook_is_refused(world):
    from pathlib import Path

    data = (Path(__file__).resolve().parent.parent / "data" / "table_bad_password.xlsx").read_bytes()
    with pytest.raises(FileRefused, match="mật khẩu"):
        read_table(io.BytesIO(data), FIELDS, filename="thon.xlsx")


# --- scope ---------------------------------------------------------------------------------------------


def test_a_station_head_imports_only_in_their_commune(world):
    head = world.users["head_a"]
    lines = problems_of([row("25195", "Khu phố 9", "Khu phố"), row("25210"), row("00004", "Tổ dân phố 9", "TDP")],
                        actor=head)
    assert lines == [
        "Dòng 3, cột “Mã xã/phường”: Xã/phường mã 25210 (Xã Đồng Xoài) nằm ngoài địa bàn bạn được quản lý.",
        "Dòng 4, cột “Mã xã/phường”: Xã/phường mã 00004 (Phường Ba Đình) nằm ngoài địa bàn bạn được quản lý."]
    assert not plan_of([row("25195", "Khu phố 9", "Khu phố")], actor=head).problems


@pytest.mark.parametrize("who", ["viewer_b", "nogrant", "hanoi_admin"])
def test_users_without_an_editing_role_there_import_nothing(world, who):
    lines = problems_of([row()], actor=world.users[who])
    assert "nằm ngoài địa bàn bạn được quản lý" in lines[0]


def test_an_import_on_a_communes_page_stays_in_that_commune(world):
    lines = problems_of([row("25195", "Khu phố 9", "Khu phố"), row("25210")], actor=world.users["admin"],
                        within=world.commune_a)
    assert lines == ["Dòng 3, cột “Mã xã/phường”: Xã/phường mã 25210 (Xã Đồng Xoài) không thuộc Phường Bình Phước; "
                     "hãy nhập tại trang của đơn vị chứa nó."]


# --- pages -------------------------------------------------------------------------------------------


def upload(client, url: str, data: bytes, name: str = "thon.csv"):
    return client.post(url, data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm(client, page_url: str, response) -> object:
    import re

    html = response.get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html)
    assert token, html[:2000]
    return client.post(page_url + "/confirm", data={"csrf_token": csrf_token(client, page_url), "token": token.group(1)})


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_page_shows_a_dry_run_then_imports_on_confirmation(world, login_as):
    client = login_as(world.users["head_b"])
    url = f"/units/{world.commune_b.id}/hamlets/import"
    page = text(client.get(url))
    assert "Nhập thôn/tổ dân phố từ tệp" in page and "Tải tệp mẫu" in page
    assert "Nhập thôn/tổ dân phố từ tệp" in text(client.get(f"/units/{world.commune_b.id}"))
    before = counts()
    data = csv_file([row(name="Ấp 7"), row(name="Ấp 2", type_=None, households=99, population=None)])
    dry = upload(client, url, data, "ds-thon.csv")
    assert dry.status_code == 200
    html = text(dry)
    assert "Kết quả chạy thử: ds-thon.csv" in html and "Nhập 2 dòng" in html
    assert "Số hộ: 90 → 99" in html and "Tạo mới" in html
    assert counts() == before  # a dry run writes nothing
    done = confirm(client, url, dry)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/units/{world.commune_b.id}")
    db.session.expire_all()
    assert "Ấp 7" in current_hamlets(world.commune_b)
    assert "Đã nhập tệp “ds-thon.csv”: tạo mới 1, cập nhật 1, không đổi 0" in text(client.get(f"/units/{world.commune_b.id}"))
    again = upload(client, url, data, "ds-thon.csv")
    assert "Không có thay đổi nào" in text(again) and "Nhập 2 dòng" not in text(again)


def test_a_file_with_problems_shows_them_and_offers_no_confirmation(world, login_as):
    client = login_as(world.users["admin"])
    url = f"/units/{world.dong_nai.id}/hamlets/import"
    before = counts()
    response = upload(client, url, csv_file([row(name="Ấp 7"), row("00004", "Tổ 9", "TDP")]))
    html = text(response)
    assert "Tệp có 1 lỗi; không ghi gì vào cơ sở dữ liệu" in html, html[html.find("<main"):][:3000]
    assert "Dòng 3, cột “Mã xã/phường”: Xã/phường mã 00004 (Phường Ba Đình) không thuộc Thành phố Đồng Nai" in html
    assert "data-import-confirm" not in html
    assert counts() == before


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"\x89PNG\r\n\x1a\n", "thon.png", "không đúng loại"),
    (b"%PDF-1.7", "thon.xlsx", "không phải bảng tính Excel hợp lệ"),
    (b"PK\x03\x04 broken", "thon.xlsx", "Không đọc được tệp Excel"),
    ("Số hộ\n1\n".encode(), "thon.csv", "Thiếu cột bắt buộc (dòng 1): “Mã xã/phường”, “Tên thôn/tổ dân phố”"),
    (b"", "thon.csv", "rỗng"),
])
def test_the_page_refuses_files_it_cannot_read_and_writes_nothing(world, login_as, data, name, words):
    client = login_as(world.users["admin"])
    before = counts()
    response = upload(client, f"/units/{world.dong_nai.id}/hamlets/import", data, name)
    assert response.status_code == 422 and words in text(response)
    assert counts() == before


def test_an_upload_over_the_import_limit_is_refused_with_a_clear_message(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 1024 * 1024)
    client = login_as(world.users["admin"])
    before = counts()
    response = upload(client, f"/units/{world.dong_nai.id}/hamlets/import", csv_file([row()]) + b"\n" * (1024 * 1024))
    assert response.status_code == 422
    assert "Tệp lớn hơn 1 MB, không nhập được. Hãy chia thành nhiều tệp nhỏ hơn." in text(response)
    assert counts() == before


def test_a_50_mb_upload_is_refused_by_the_server_in_vietnamese(app, world, login_as):
    client = login_as(world.users["admin"])
    url = f"/units/{world.dong_nai.id}/hamlets/import"
    token = csrf_token(client, url)
    big = io.BytesIO(b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    response = client.post(url, data={"csrf_token": token, "file": (big, "thon.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and "Tệp tải lên vượt quá dung lượng cho phép." in text(response)


def test_pages_refuse_out_of_scope_units_and_unknown_ones(world, login_as):
    client = login_as(world.users["head_a"])
    for page in ("import", "import/template", "boundaries"):
        assert client.get(f"/units/{world.commune_b.id}/hamlets/{page}").status_code == 403
        assert client.get(f"/units/{world.commune_a.id}/hamlets/{page}").status_code == 200
    assert client.get(f"/units/{world.hamlets_a[0].id}/hamlets/import").status_code == 404
    assert client.get("/units/999999/hamlets/import").status_code == 404
    token = csrf_token(client, f"/units/{world.commune_a.id}/hamlets/import")
    assert client.post(f"/units/{world.commune_b.id}/hamlets/import/confirm",
                       data={"csrf_token": token, "token": "x"}).status_code == 403


def test_a_viewer_and_a_user_without_grants_get_403(world, login_as, client):
    login_as(world.users["viewer_b"])
    assert client.get(f"/units/{world.commune_b.id}/hamlets/import").status_code == 403
    assert client.get("/units/hamlets/import").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(world.users["nogrant"])
    assert client.get("/units/hamlets/import").status_code == 403
    assert client.get("/units/hamlets/import/template").status_code == 403


def test_another_users_staged_file_is_404_and_nothing_is_written(world, login_as, client):
    from danso_network.imports import staging

    staged = staging.stage(io.BytesIO(csv_file([row(name="Ấp 7")])), "thon.csv", kind=hamlets_import.KIND,
                           owner_id=world.users["admin"].id)
    login_as(world.users["head_b"])
    url = f"/units/{world.commune_b.id}/hamlets/import"
    before = counts()
    response = client.post(url + "/confirm", data={"csrf_token": csrf_token(client, url), "token": staged.token})
    assert response.status_code == 404 and counts() == before


def test_the_template_lists_the_hamlets_and_re_imports_unchanged(world, login_as):
    client = login_as(world.users["admin"])
    response = client.get(f"/units/{world.dong_nai.id}/hamlets/import/template")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "mau-nhap-thon" in response.headers["Content-Disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.sheet_names == ["Thôn, tổ dân phố", "Hướng dẫn", "Xã, phường"]
    rows = book.get_sheet_by_name("Thôn, tổ dân phố").to_python()
    header = next(r for r in rows if r and r[0] == "Mã xã/phường")
    assert header[:3] == HEADER[:3] and set(header) == set(HEADER)
    names = {r[2] for r in rows[rows.index(header) + 1:]}
    assert names == {"Khu phố 1", "Khu phố 2", "Ấp Tân Lập", "Ấp 2"}  # Đồng Nai only
    guide = book.get_sheet_by_name("Hướng dẫn").to_python()
    assert any("Thông tư 04/2012/TT-BNV" in str(cell) for r in guide for cell in r)
    before = counts()
    dry = upload(client, f"/units/{world.dong_nai.id}/hamlets/import", response.data, "mau.xlsx")
    assert "Không có thay đổi nào" in text(dry), text(dry)[:3000]
    assert counts() == before


def test_a_station_heads_template_holds_their_commune_only(world, login_as):
    client = login_as(world.users["head_a"])
    response = client.get("/units/hamlets/import/template")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_name("Thôn, tổ dân phố").to_python()
    assert {r[2] for r in rows if r and r[0] == "25195"} == {"Khu phố 1", "Khu phố 2"}
    assert not [r for r in rows if r and r[0] in ("25210", "00004")]


def test_a_long_file_is_imported_by_a_background_job(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", 2)
    client = login_as(world.users["admin"])
    url = f"/units/{world.dong_nai.id}/hamlets/import"
    dry = upload(client, url, csv_file([row(name=f"Ấp {n}") for n in range(10, 13)]), "dai.csv")
    assert "chạy trong nền" in text(dry)
    response = confirm(client, url, dry)
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert (job.kind, job.state, job.done, job.total) == ("hamlets_import", "done", 3, 3)
    db.session.expire_all()
    assert {"Ấp 10", "Ấp 11", "Ấp 12"} <= set(current_hamlets(world.commune_b))
    result = client.get(f"/jobs/{job.id}/download")
    assert result.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(result.data)).get_sheet_by_name("Kết quả").to_python()
    result.close()
    assert sum(1 for r in rows if "Tạo mới" in r) == 3
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.create",
                                                         AuditEvent.actor_name == "admin75")).all()
    assert len(events) == 3 and all(e.after["source"] == "dai.csv" for e in events)


def test_the_whole_area_page_of_a_centre_officer(world, login_as):
    client = login_as(world.users["centre"])
    assert "Nhập thôn/tổ dân phố từ tệp" in text(client.get("/units/"))
    url = "/units/hamlets/import"
    dry = upload(client, url, csv_file([row(name="Ấp 7"), row("25195", "Khu phố 9", "Khu phố")]))
    assert "Nhập 2 dòng" in text(dry)
    assert confirm(client, url, dry).headers["Location"].endswith("/units/")


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_the_cli_dry_run_writes_nothing_then_imports(world, runner, tmp_path):
    path = tmp_path / "thon.csv"
    path.write_bytes(csv_file([row(name="Ấp 7"), row(name="Ấp 2", type_=None, households=99, population=None)]))
    before = counts()
    result = runner.invoke(args=["units", "import-hamlets", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "sẽ tạo mới 1, cập nhật 1, không đổi 0" in result.output and "Số hộ: 90 → 99" in result.output
    assert counts() == before
    result = runner.invoke(args=["units", "import-hamlets", str(path)])
    assert result.exit_code == 0 and "Đã nhập “thon.csv”: tạo mới 1, cập nhật 1, không đổi 0" in result.output
    assert "Ấp 7" in current_hamlets(world.commune_b)
    again = runner.invoke(args=["units", "import-hamlets", str(path)])
    assert "tạo mới 0, cập nhật 0, không đổi 2" in again.output


def test_the_cli_lists_every_problem_and_exits_2(world, runner, tmp_path):
    path = tmp_path / "thon.csv"
    path.write_bytes(csv_file([row("99999"), row(households=-5)]))
    before = counts()
    result = runner.invoke(args=["units", "import-hamlets", str(path)])
    assert result.exit_code == 2
    assert "Dòng 2, cột “Mã xã/phường”: Không có xã/phường nào mang mã 99999." in result.output
    assert "Dòng 3, cột “Số hộ”" in result.output and "Không nhập tệp “thon.csv”: 2 lỗi." in result.output
    assert counts() == before


def test_the_cli_with_a_user_keeps_to_their_scope(world, runner, tmp_path):
    path = tmp_path / "thon.csv"
    path.write_bytes(csv_file([row()]))
    result = runner.invoke(args=["units", "import-hamlets", str(path), "--user", "truongtram_a"])
    assert result.exit_code == 2 and "nằm ngoài địa bàn bạn được quản lý" in result.output
    assert runner.invoke(args=["units", "import-hamlets", str(path), "--user", "khongco"]).exit_code == 2
    not_a_table = tmp_path / "anh.png"
    not_a_table.write_bytes(b"\x89PNG\r\n\x1a\n")
    result = runner.invoke(args=["units", "import-hamlets", str(not_a_table)])
    assert result.exit_code == 2 and "không phải bảng tính" in result.output
    ok = runner.invoke(args=["units", "import-hamlets", str(path), "--user", "truongtram_b"])
    assert ok.exit_code == 0, ok.output
    created = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.create").order_by(AuditEvent.id.desc()))
    assert created.actor_name == "truongtram_b" and created.after["source"] == "thon.csv"


def test_levels_other_than_communes_are_not_communes(world):
    lines = problems_of([row("75")])  # a province's code, padded: 00075 holds nothing
    assert "Không có xã/phường nào mang mã 00075." in lines[0]
    assert UnitLevel.COMMUNE.value == "commune"

"""Accounts in bulk (issue #12 item 4): a file of accounts with role and unit or facility, checked
whole before anything is written, each new account with a one-time password shown once (page,
hand-out sheet, CLI) and stored only hashed; duplicates, unknown places and places outside the
admin's province refused with the row and column, the database unchanged."""

from __future__ import annotations

import base64
import csv
import html as html_lib
import io
import re
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.auth import accounts_import, services
from danso_network.auth.models import RoleGrant, User
from danso_network.common.clock import today
from danso_network.extensions import db
from danso_network.imports.problems import ImportRefused
from danso_network.imports.reading import FileRefused, read_table

from ..conftest import csrf_token, login

DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = ["Tên đăng nhập", "Họ và tên", "Vai trò", "Mã đơn vị", "Mã cơ sở y tế", "Thư điện tử", "Điện thoại",
          "Ngày hiệu lực"]
GOOD = [
    ["tram_binhphuoc_2", "Lê Thị Hoa", "Viên chức dân số", "", "TYT-25195", "hoa@example.vn", "0912 345 678", ""],
    ["TTYT689.Nam", "Phạm Văn Nam", "centre_officer", "", "TTYT-689", "", "", "01/01/2026"],
    ["xem_dongxoai", "Đỗ Minh Tú", "Chỉ xem", "25210", "", "", "", date(2026, 2, 1)],
    ["ubnd_25210", "Hồ Văn Sơn", "UBND xã", 25210, None, None, None, None],
]
PASSWORD_RE = re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$")


def csv_file(rows: list[list], header: list[str] = HEADER) -> io.BytesIO:
    text = io.StringIO()
    csv.writer(text).writerows([header, *([("" if v is None else v.strftime("%d/%m/%Y") if isinstance(v, date)
                                            else v) for v in row] for row in rows)])
    return io.BytesIO(text.getvalue().encode("utf-8"))


def xlsx_file(rows: list[list], header: list[str] = HEADER, *, title: tuple[str, ...] = ()) -> io.BytesIO:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet("Tài khoản")
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    r = 0
    for line in title:
        ws.write(r, 0, line)
        r += 1
    for row in [header, *rows]:
        for c, value in enumerate(row):
            if isinstance(value, date):
                ws.write_datetime(r, c, value, dates)
            elif isinstance(value, str) and value.startswith("="):
                ws.write_formula(r, c, value, None, 42)
            elif value not in (None, ""):
                ws.write(r, c, value)
        r += 1
    book.close()
    buffer.seek(0)
    return buffer


def counts() -> tuple[int, int, int]:
    """Accounts, grants and audit events: what an import may write."""
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, RoleGrant, AuditEvent))


def plan_of(stream, name="tai-khoan.csv", actor=None, **kwargs):
    return accounts_import.plan_accounts(read_table(stream, accounts_import.FIELDS, filename=name),
                                         actor=actor, **kwargs)


def messages(plan) -> list[str]:
    return [str(p) for p in plan.problems]


def user_named(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def test_a_file_of_accounts_creates_each_with_its_grant_and_a_password_that_logs_in(app, world):
    admin = world.users["admin"]
    plan = plan_of(xlsx_file(GOOD, title=("DANH SÁCH TÀI KHOẢN", "")), "tai khoan.xlsx", actor=admin)
    assert messages(plan) == []
    assert [(i.row, i.action, i.username) for i in plan.items] == [
        (4, "create", "tram_binhphuoc_2"), (5, "create", "ttyt689.nam"), (6, "create", "xem_dongxoai"),
        (7, "create", "ubnd_25210")]
    before = counts()
    result = accounts_import.apply_accounts(plan, actor=admin, filename="tai khoan.xlsx")
    db.session.commit()
    assert (result.created, result.unchanged) == (4, 0)
    assert all(PASSWORD_RE.match(a.password) for a in result.accounts)
    assert len({a.password for a in result.accounts}) == 4
    users, grants, events = counts()
    assert (users - before[0], grants - before[1]) == (4, 4)
    assert events - before[2] == 8  # user.create and role.grant per account

    hoa = user_named("tram_binhphuoc_2")
    assert (hoa.full_name, hoa.email, hoa.phone) == ("Lê Thị Hoa", "hoa@example.vn", "0912345678")
    assert [(g.role, g.facility_id, g.unit_id) for g in hoa.grants] == [("station_officer", world.station_a.id, None)]
    nam = user_named("ttyt689.nam")
    assert [(g.role, g.facility_id, g.valid_from) for g in nam.grants] == [
        ("centre_officer", world.centre.id, date(2026, 1, 1))]
    assert [(g.role, g.unit_id, g.valid_from) for g in user_named("xem_dongxoai").grants] == [
        ("viewer", world.commune_b.id, date(2026, 2, 1))]
    assert [(g.role, g.unit_id) for g in user_named("ubnd_25210").grants] == [("commune_committee", world.commune_b.id)]

    issued = {a.username: a.password for a in result.accounts}
    for username, password in issued.items():  # each one-time password is the account's password
        client = app.test_client()
        assert login(client, username, password).status_code == 302, username
    other = app.test_client()
    login(other, "tram_binhphuoc_2", issued["tram_binhphuoc_2"])
    # A one-time password: replaced before anything else, then the account's scope applies.
    assert other.get(f"/units/{world.commune_a.id}").headers["Location"].endswith("/account/password")
    assert all(u.password_must_change for u in db.session.scalars(select(User).where(User.username.in_(issued))))
    own = "mat-khau-rieng-tram-2026"
    other.post("/account/password", data={"csrf_token": csrf_token(other, "/account/password"),
                                          "current_password": issued["tram_binhphuoc_2"], "new_password": own,
                                          "confirm": own})
    assert other.get(f"/units/{world.commune_a.id}").status_code == 200
    assert other.get(f"/units/{world.commune_b.id}").status_code == 403

    created = select(AuditEvent).where(AuditEvent.action.in_(["user.create", "role.grant"]),
                                       AuditEvent.actor_name == "admin75")
    audited = db.session.scalars(created).all()
    assert len(audited) == 8 and all(e.after["file"] == "tai khoan.xlsx" for e in audited)


def test_passwords_are_stored_only_hashed_and_never_in_the_audit_log(app, world):
    result = accounts_import.apply_accounts(plan_of(csv_file(GOOD[:2])), actor=None, filename="tk.csv")
    db.session.commit()
    assert len(result.accounts) == 2
    for account in result.accounts:
        user = user_named(account.username)
        assert account.password not in user.password_hash and user.check_password(account.password)
    dump = repr([(e.object_label, e.before, e.after) for e in db.session.scalars(select(AuditEvent))])
    dump += repr(db.session.execute(select(User.username, User.full_name, User.email, User.phone,
                                           User.password_hash)).all())
    assert not any(a.password in dump for a in result.accounts)


def test_re_importing_the_same_file_changes_nothing_and_issues_no_password(world):
    accounts_import.apply_accounts(plan_of(csv_file(GOOD)), actor=None, filename="tk.csv")
    db.session.commit()
    before = counts()
    plan = plan_of(csv_file(GOOD), actor=world.users["admin"])
    assert messages(plan) == [] and [i.action for i in plan.items] == ["unchanged"] * 4 and plan.new == []
    result = accounts_import.apply_accounts(plan, actor=world.users["admin"], filename="tk.csv")
    assert (result.created, result.unchanged, result.accounts) == (0, 4, [])
    assert counts() == before


BAD_ROWS = [
    # (rows, expected problem) — every other row of the file is good
    ([["truongtram_a", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "", ""]],
     "Dòng 2, cột “Tên đăng nhập”: Tên đăng nhập “truongtram_a” đã có người dùng; chọn tên khác."),
    ([["Có Dấu", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "", ""]],
     "Dòng 2, cột “Tên đăng nhập”: “Có Dấu”: Tên đăng nhập gồm 3–80 ký tự"),
    ([["ab", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "", ""]], "“ab”: Tên đăng nhập gồm 3–80 ký tự"),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "", ""],
      ["MOI_1", "Trần Văn B", "Viên chức dân số", "", "TYT-25195", "", "", ""]],
     "Dòng 3, cột “Tên đăng nhập”: Tên đăng nhập “moi_1” trùng với dòng 2."),
    ([["moi_1", "Nguyễn Văn A", "Giám đốc sở", "", "TYT-25195", "", "", ""]],
     "Dòng 2, cột “Vai trò”: “Giám đốc sở” không phải vai trò"),
    ([["moi_1", "Nguyễn Văn A", "", "", "TYT-25195", "", "", ""]], "Dòng 2, cột “Vai trò”: Ô này không được để trống."),
    ([["moi_1", "", "Trưởng trạm", "", "TYT-25195", "", "", ""]], "Dòng 2, cột “Họ và tên”: Ô này không được để trống."),
    ([["moi_1", "Nguyễn Văn A", "Chỉ xem", "25210", "TYT-25210", "", "", ""]],
     "Dòng 2, cột “Mã cơ sở y tế”: Chỉ ghi một trong hai: mã đơn vị hoặc mã cơ sở y tế."),
    ([["moi_1", "Nguyễn Văn A", "Chỉ xem", "", "", "", "", ""]],
     "Dòng 2, cột “Mã đơn vị”: Cần mã đơn vị hoặc mã cơ sở y tế nơi được cấp quyền."),
    ([["moi_1", "Nguyễn Văn A", "Chỉ xem", "99999", "", "", "", ""]],
     "Dòng 2, cột “Mã đơn vị”: Không có đơn vị hành chính đang hiệu lực mang mã “99999”."),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-99999", "", "", ""]],
     "Dòng 2, cột “Mã cơ sở y tế”: Không có cơ sở y tế mang mã “TYT-99999”."),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "25195", "", "", "", ""]],
     "Dòng 2, cột “Vai trò”: Vai trò “Trưởng trạm / Giám đốc Trạm Y tế” được cấp tại một cơ sở y tế loại “Trạm Y tế”"),
    ([["moi_1", "Nguyễn Văn A", "station_officer", "", "TTYT-689", "", "", ""]],
     "Dòng 2, cột “Vai trò”: Vai trò “Viên chức dân số tại trạm” được cấp tại một cơ sở y tế loại “Trạm Y tế”"),
    ([["moi_1", "Nguyễn Văn A", "Cán bộ trung tâm", "", "TYT-25210", "", "", ""]],
     "loại “Trung tâm Y tế khu vực”: ghi mã của cơ sở đó ở cột “Mã cơ sở y tế”."),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "", "01/01/2025"]],
     "Dòng 2, cột “Ngày hiệu lực”: Ngày hiệu lực 01/01/2025 nằm ngoài thời gian hoạt động của "
     "“Trạm Y tế Phường Bình Phước” (từ 01/07/2025)."),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "", "31/02/2026"]],
     "Dòng 2, cột “Ngày hiệu lực”: “31/02/2026” không phải ngày hợp lệ"),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "khong-phai-email", "", ""]],
     "Dòng 2, cột “Thư điện tử”: Địa chỉ thư điện tử “khong-phai-email” không hợp lệ."),
    ([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25195", "", "12345", ""]],
     "Dòng 2, cột “Điện thoại”: Số điện thoại không hợp lệ"),
    ([["moi_1", "Nguyễn Văn A", "Chỉ xem", "00004", "", "", "", ""]],
     "Dòng 2, cột “Mã đơn vị”: “Phường Ba Đình” nằm ngoài tỉnh bạn quản lý"),
    ([["moi_1", "Nguyễn Văn A", "Quản trị cấp tỉnh", "01", "", "", "", ""]],
     "Dòng 2, cột “Mã đơn vị”: “Thành phố Hà Nội” nằm ngoài tỉnh bạn quản lý"),
]


@pytest.mark.parametrize(("rows", "expected"), BAD_ROWS)
def test_every_bad_row_is_named_with_its_column_and_nothing_is_written(world, rows, expected):
    before = counts()
    plan = plan_of(csv_file([*rows, GOOD[0]]), actor=world.users["admin"])
    assert any(p.startswith(expected) or expected in p for p in messages(plan)), messages(plan)
    with pytest.raises(ImportRefused):
        accounts_import.apply_accounts(plan, actor=world.users["admin"], filename="tk.csv")
    db.session.rollback()
    assert counts() == before
    assert user_named("tram_binhphuoc_2") is None  # the good row is not written either


def test_a_closed_facility_and_a_username_taken_by_an_account_of_another_province_are_refused(world):
    world.station_b.valid_to = date(2026, 1, 1)
    db.session.commit()
    before = counts()
    plan = plan_of(csv_file([["moi_1", "Nguyễn Văn A", "Trưởng trạm", "", "TYT-25210", "", "", "01/12/2025"],
                             ["admin01", "Trần Văn B", "Chỉ xem", "25195", "", "", "", ""]]),
                   actor=world.users["admin"])
    assert messages(plan) == [
        "Dòng 2, cột “Mã cơ sở y tế”: Cơ sở y tế “Trạm Y tế Xã Đồng Xoài” đã ngừng hoạt động từ 01/01/2026.",
        "Dòng 3, cột “Tên đăng nhập”: Tên đăng nhập “admin01” đã có người dùng; chọn tên khác."]
    assert counts() == before


def test_only_a_province_admin_imports_and_only_within_the_province(world):
    for who in ("centre", "head_a", "viewer_b", "nogrant"):
        plan = plan_of(csv_file(GOOD), actor=world.users[who])
        assert messages(plan) == ["Chỉ quản trị cấp tỉnh mới nhập được tài khoản, và chỉ trong tỉnh của mình."], who
    plan = plan_of(csv_file(GOOD), actor=world.users["hanoi_admin"])
    assert len(plan.problems) == 4 and all("nằm ngoài tỉnh bạn quản lý" in p for p in messages(plan))
    ok = plan_of(csv_file([["hn_xem", "Vũ Thị Hà", "Chỉ xem", "00004", "", "", "", ""]]), actor=world.users["hanoi_admin"])
    assert messages(ok) == [] and ok.summary.created == 1


def test_an_existing_account_of_another_province_with_the_same_grant_is_not_unchanged_for_this_admin(world):
    """"Không đổi" only for accounts the admin manages: Hà Nội's admin described exactly is still refused."""
    plan = plan_of(csv_file([["admin01", world.users["hanoi_admin"].full_name, "province_admin", "01", "", "", "", ""]]),
                   actor=world.users["admin"])
    assert len(plan.problems) == 1 and "nằm ngoài tỉnh" in messages(plan)[0]


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"%PDF-1.7 not a table", "tk.pdf", "không phải bảng tính"),
    (b"PK\x03\x04 broken zip", "tk.xlsx", "Không đọc được tệp Excel"),
    ((DATA / "table_bad_password.xlsx").read_bytes(), "tk.xlsx", "đặt mật khẩu"),
    ("Tên đăng nhập,Họ và tên\nmoi_1,A\n".encode(), "tk.csv", "Thiếu cột bắt buộc"),
])
def test_files_that_are_not_a_readable_table_are_refused_before_any_row(world, data, name, words):
    before = counts()
    with pytest.raises(FileRefused) as refused:
        read_table(io.BytesIO(data), accounts_import.FIELDS, filename=name)
    assert words in str(refused.value)
    assert counts() == before


def test_a_file_without_a_place_column_or_without_rows_is_refused_as_a_whole(world):
    plan = plan_of(csv_file([["moi_1", "Nguyễn Văn A", "Chỉ xem"]], header=HEADER[:3]))
    assert messages(plan) == ["Thiếu cột “Mã đơn vị” hoặc “Mã cơ sở y tế”: mỗi tài khoản cần nơi được cấp quyền."]
    assert messages(plan_of(csv_file([]))) == ["Tệp không có dòng tài khoản nào dưới dòng tiêu đề."]


def test_formulas_are_text_and_a_unit_code_excel_made_a_number_keeps_its_zeros(world):
    plan = plan_of(xlsx_file([["=1+1", "Nguyễn Văn A", "Chỉ xem", 4, "", "", "", ""]]), "tk.xlsx")
    assert any("“42”" in p or "“=1+1”" in p for p in messages(plan)), messages(plan)  # the stored value, never run
    plan = plan_of(xlsx_file([["moi_hn", "Nguyễn Văn A", "Chỉ xem", 4, "", "", "", ""]]), "tk.xlsx")
    assert messages(plan) == [] and plan.items[0].place_code == "00004"


def test_the_page_limits_the_rows_of_a_file(world):
    plan = plan_of(csv_file(GOOD), actor=world.users["admin"], max_rows=3)
    assert messages(plan) == ["Tệp có 4 tài khoản; mỗi lần nhập trên trang tối đa 3. Hãy chia thành nhiều tệp, "
                              "hoặc dùng lệnh danso users import."]


def test_one_time_passwords_follow_the_policy_and_are_new_each_time():
    seen = set()
    for _ in range(50):
        password = services.one_time_password("abcd")
        services.check_password_strength(password, username="abcd")
        assert PASSWORD_RE.match(password) and "abcd" not in password
        seen.add(password)
    assert len(seen) == 50


# --- the pages -----------------------------------------------------------------------------------------------


def upload(client, data: bytes, name: str = "tai-khoan.csv"):
    return client.post("/admin/users/import", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(client, "/admin/users/import"), "file": (io.BytesIO(data), name)})


def token_of(page: str) -> str:
    match = re.search(r'name="token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="token"', page)
    assert match, "no confirm form"
    return match.group(1)


def staged_files(app) -> list:
    folder = Path(app.config["UPLOAD_DIR"]) / "imports"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_upload_dry_run_then_confirm_shows_the_passwords_once_with_the_hand_out(app, login_as, world):
    client = login_as("admin75")
    assert "Nhập từ tệp" in client.get("/admin/users").get_data(as_text=True)
    assert client.get("/admin/users/import").status_code == 200
    before, already = counts(), staged_files(app)  # other tests of this worker may have left theirs
    response = upload(client, csv_file(GOOD).getvalue(), "tài khoản đợt 1.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert "tram_binhphuoc_2" in page and "Tạo 4 tài khoản" in page and "Trạm Y tế Phường Bình Phước" in page
    assert counts() == before  # the dry run writes nothing
    staged = [path for path in staged_files(app) if path not in already]
    assert staged

    token = token_of(page)
    response = client.post("/admin/users/import/confirm",
                           data={"csrf_token": csrf_token(client, "/admin/users"), "token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:2000]
    assert response.headers["Cache-Control"] == "no-store"
    assert "Đã nhập “tài khoản đợt 1.csv”: tạo mới 4, không đổi 0 tài khoản." in page
    passwords = dict(re.findall(r'font-monospace">([a-z0-9_.]+)</td>\s*<td[^>]*>([a-z2-9-]{14})</td>', page))
    assert set(passwords) == {"tram_binhphuoc_2", "ttyt689.nam", "xem_dongxoai", "ubnd_25210"}
    assert counts()[0] == before[0] + 4
    assert not any(p.exists() for p in staged)  # the staged upload is gone

    links = {name: base64.b64decode(data) for _mime, data, name in
             re.findall(r'href="data:([^;"]+);base64,([^"]+)" download="([^"]+)"', page)}
    assert sorted(links) == [f"phieu-giao-tai-khoan-{today().isoformat()}.{ext}" for ext in ("pdf", "xlsx")]
    xlsx = links[f"phieu-giao-tai-khoan-{today().isoformat()}.xlsx"]
    assert links[f"phieu-giao-tai-khoan-{today().isoformat()}.pdf"].startswith(b"%PDF")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_index(0).to_python()
    flat = [str(c) for row in rows for c in row]
    assert "Phiếu giao tài khoản".upper() in flat[0].upper()
    for username, password in passwords.items():
        assert username in flat and password in flat

    other = app.test_client()
    assert login(other, "xem_dongxoai", passwords["xem_dongxoai"]).status_code == 302
    # the confirmation cannot be replayed: the staged file is gone
    replay = client.post("/admin/users/import/confirm",
                         data={"csrf_token": csrf_token(client, "/admin/users"), "token": token})
    assert replay.status_code == 404 and counts()[0] == before[0] + 4


def test_a_file_with_problems_shows_every_problem_and_offers_no_confirmation(app, login_as, world):
    client = login_as("admin75")
    before, already = counts(), staged_files(app)
    response = upload(client, csv_file([GOOD[0], ["truongtram_a", "An Văn A", "Chỉ xem", "25210"],
                                        ["moi_3", "Ngô Văn C", "Trưởng trạm", "00004"]]).getvalue())
    page = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Tệp có 2 lỗi" in page and "“truongtram_a” đã có người dùng" in page and "nằm ngoài tỉnh" in page
    assert 'name="token"' not in page
    assert counts() == before and staged_files(app) == already


def test_an_unreadable_upload_is_refused_with_its_reason(login_as, world):
    client = login_as("admin75")
    before = counts()
    response = upload(client, b"%PDF-1.7 not a table", "tk.csv")
    assert response.status_code == 422
    response = upload(client, b"%PDF-1.7", "tk.pdf")
    assert response.status_code == 422 and "không đúng loại" in html_lib.unescape(response.get_data(as_text=True))
    assert counts() == before


def test_only_province_admins_reach_the_import_pages(login_as, world):
    client = login_as("truongtram_a")
    assert client.get("/admin/users/import").status_code == 403
    assert client.get("/admin/users/import/template").status_code == 403
    token = csrf_token(client, "/")
    assert client.post("/admin/users/import", data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/users/import/confirm", data={"csrf_token": token, "token": "x"}).status_code == 403


def test_the_template_lists_roles_and_the_places_of_the_province_only(login_as, world):
    response = login_as("admin75").get("/admin/users/import/template")
    assert response.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.sheet_names[:3] == ["Tài khoản", "Vai trò", "Nơi cấp quyền"]
    places = [str(c) for row in book.get_sheet_by_name("Nơi cấp quyền").to_python() for c in row]
    assert "TYT-25195" in places and "25210" in places and "75" in places
    assert "00004" not in places and "Phường Ba Đình" not in places
    roles = [str(c) for row in book.get_sheet_by_name("Vai trò").to_python() for c in row]
    assert "station_head" in roles
    # the filled template reads back with its own headers
    table = read_table(io.BytesIO(response.data), accounts_import.FIELDS, filename="mau.xlsx")
    assert set(table.columns) == {f.key for f in accounts_import.FIELDS} and table.rows == []


# --- the command line ---------------------------------------------------------------------------------------


def test_the_cli_checks_then_creates_prints_the_passwords_once_and_writes_the_hand_out(app, world, tmp_path):
    runner = app.test_cli_runner()
    good = tmp_path / "tk.csv"
    good.write_bytes(csv_file(GOOD).getvalue())
    before = counts()
    result = runner.invoke(args=["users", "import", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "sẽ tạo mới 4, không đổi 0" in result.output and "+ xem_dongxoai (Đỗ Minh Tú)" in result.output
    assert counts() == before

    bad = tmp_path / "loi.csv"
    bad.write_bytes(csv_file([GOOD[0], ["truongtram_a", "An Văn A", "Chỉ xem", "25210"]]).getvalue())
    result = runner.invoke(args=["users", "import", str(bad)])
    assert result.exit_code == 2
    assert "Dòng 3, cột “Tên đăng nhập”: Tên đăng nhập “truongtram_a” đã có người dùng" in result.output
    assert "1 lỗi" in result.output and counts() == before

    result = runner.invoke(args=["users", "import", str(good), "--user", "admin01"])
    assert result.exit_code == 2 and "nằm ngoài tỉnh bạn quản lý" in result.output and counts() == before
    result = runner.invoke(args=["users", "import", str(good), "--passwords-out", str(tmp_path / "none" / "x.xlsx")])
    assert result.exit_code == 2 and counts() == before

    out = tmp_path / "phieu.xlsx"
    result = runner.invoke(args=["users", "import", str(good), "--user", "admin75", "--passwords-out", str(out),
                                 "--login-url", "https://danso.example.vn/login"])
    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"^([a-z0-9_.]+)\t([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\t", result.output, re.M))
    assert set(printed) == {"tram_binhphuoc_2", "ttyt689.nam", "xem_dongxoai", "ubnd_25210"}
    for username, password in printed.items():
        assert user_named(username).check_password(password)
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    flat = [str(c) for row in rows for c in row]
    assert all(u in flat and p in flat for u, p in printed.items())
    assert any("https://danso.example.vn/login" in c for c in flat)

    result = runner.invoke(args=["users", "import", str(good)])
    assert result.exit_code == 0 and "tạo mới 0, không đổi 4" in result.output and "Mật khẩu lần đầu" not in result.output
    assert runner.invoke(args=["users", "import", str(tmp_path / "none.csv")]).exit_code == 2

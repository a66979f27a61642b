"""A new province brought in from files in a real browser (issue #14 item 1 e): Tỉnh Tây Ninh and
its communes are in the register (as `danso units import` leaves them) with no hamlet yet. Its
province admin opens the province page, uploads the hamlets spreadsheet with one bad cell, sees
the dry run name the sheet, row and column in Vietnamese with nothing written and no way to
confirm; fixes the cell, uploads again, sees the four hamlets to be created, imports them, and
finds them on the communes' pages. Then the area health centre: the centres file imported from
the province's facilities page creates the centre (and the province's Department of Health, which
it did not have yet), and the commune's page names the centre serving it. No console error, no CSP violation, no request leaving
127.0.0.1 on any page."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from danso_network.auth.models import Role

from .. import factories
from .conftest import assert_clean, serve

pytestmark = pytest.mark.e2e

HEADER = ["Mã xã/phường", "Tên xã/phường", "Tên thôn/tổ dân phố", "Loại", "Số hộ", "Dân số", "Thôn khó khăn"]
ROWS = [  # spreadsheet rows 2-5
    ["27001", "Phường Tân Ninh", "Khu phố 1", "Khu phố", 320, 1300, "Không"],
    ["27001", "Phường Tân Ninh", "Khu phố 2", "Khu phố", 280, 1150, "Không"],
    ["27010", "Xã Châu Thành", "Ấp Bình Hòa", "Ấp", "khoảng 200", None, "Có"],  # the bad cell: row 4
    ["27010", "Xã Châu Thành", "Ấp Thành Long", "Ấp", 150, 610, "Không"],
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


CENTRES_HEADER = ["Mã trung tâm", "Tên trung tâm", "Mã xã/phường phục vụ", "Hiệu lực từ", "Quyết định"]
CENTRES = [["TTYT-80A", "Trung tâm Y tế khu vực Châu Thành", "27001, 27010", "01/07/2025", "QĐ 12/QĐ-UBND"]]


def spreadsheet(sheet_name: str, header: list[str], rows: list[list]) -> bytes:
    """An office's spreadsheet: one sheet, the template's headers, then ``rows``."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name)
    sheet.write_row(0, 0, header)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is not None:
                sheet.write(number, column, value)
    book.close()
    return buffer.getvalue()


def hamlets_file(rows: list[list]) -> bytes:
    return spreadsheet("Thôn", HEADER, rows)


def _build() -> dict[str, int]:
    """Tỉnh Tây Ninh (80) with a ward and a commune and no hamlet, and its province admin."""
    province = factories.province(code="80", name="Tây Ninh", full_name="Tỉnh Tây Ninh", type="tinh")
    ward = factories.commune(province, "27001", "Tân Ninh", type="phuong")
    commune = factories.commune(province, "27010", "Châu Thành", type="xa")
    factories.user(Role.PROVINCE_ADMIN, unit=province, username="admin80")
    return {"province": province.id, "ward": ward.id, "commune": commune.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory, "journey_new_province", _build, LOGIN_RATE_LIMIT="100 per minute",
               UPLOAD_DIR=str(tmp_path_factory.mktemp("journey_uploads"))) as served:
        yield served


def upload(page, data: bytes, name: str = "thon-tay-ninh.xlsx", *, label: str = "Tệp cần nhập",
           button: str = "Kiểm tra tệp") -> None:
    page.get_by_label(label).set_input_files(files=[{"name": name, "mimeType": XLSX, "buffer": data}])
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_the_province_admin_imports_the_hamlets_after_fixing_one_cell(visitor, site, shoot):
    base_url, ids = site
    page = visitor(base_url, "admin80", viewport={"width": 1280, "height": 900}, outside=True)
    page.goto(f"/units/{ids['province']}")
    assert "Tỉnh Tây Ninh" in page.locator("h1").inner_text()
    page.get_by_role("link", name="Nhập thôn/tổ dân phố từ tệp").click()
    page.wait_for_url(f"**/units/{ids['province']}/hamlets/import")
    shoot(page, "journey-e-upload")

    # One bad cell: the dry run names it, nothing is written, nothing can be confirmed.
    upload(page, hamlets_file(ROWS))
    problems = page.locator("[data-import-problems]")
    assert "Tệp có 1 lỗi; không ghi gì vào cơ sở dữ liệu." in problems.inner_text()
    assert problems.locator("li").all_inner_texts() == [
        "Trang “Thôn”, dòng 4, cột “Số hộ”: “khoảng 200” không phải số nguyên."]
    assert page.locator("[data-import-confirm]").count() == 0
    shoot(page, "journey-e-problems")
    assert_clean(page)
    page.goto(f"/units/{ids['commune']}")
    assert "Ấp Thành Long" not in page.inner_text("main")  # the good rows were not written either

    # Fixed: the four hamlets to create, then imported.
    page.goto(f"/units/{ids['province']}/hamlets/import")
    fixed = [row[:4] + [210] + row[5:] if row[2] == "Ấp Bình Hòa" else row for row in ROWS]
    upload(page, hamlets_file(fixed))
    assert page.locator("[data-import-problems]").count() == 0
    assert page.locator("[data-import-counts]").inner_text().split()[:2] == ["4", "tạo"]
    changes = page.locator("[data-import-changes] tbody tr")
    assert changes.count() == 4
    assert "Ấp Bình Hòa" in changes.nth(2).inner_text() and "Tạo mới" in changes.nth(2).inner_text()
    shoot(page, "journey-e-dry-run")
    page.get_by_role("button", name="Nhập 4 dòng").click()
    page.wait_for_url(f"**/units/{ids['province']}")
    assert "Đã nhập tệp “thon-tay-ninh.xlsx”: tạo mới 4, cập nhật 0, không đổi 0 thôn/tổ dân phố." in \
        page.inner_text("main")
    assert_clean(page)

    # The province counts each commune's hamlets and households; the communes' pages list them.
    commune_row = page.locator("tbody tr", has=page.get_by_role("link", name="Châu Thành", exact=True))
    assert commune_row.locator("td").all_inner_texts()[3:5] == ["2", "360"]  # Thôn/TDP, Hộ gia đình
    commune_row.get_by_role("link", name="Châu Thành", exact=True).click()
    page.wait_for_url(f"**/units/{ids['commune']}")
    listing = page.inner_text("main")
    assert "Ấp Bình Hòa" in listing and "Ấp Thành Long" in listing and "Khu phố 1" not in listing
    row = page.locator("tr", has_text="Ấp Bình Hòa")
    assert "210" in row.inner_text()
    shoot(page, "journey-e-commune")
    page.goto(f"/units/{ids['ward']}")
    listing = page.inner_text("main")
    assert "Khu phố 1" in listing and "Khu phố 2" in listing
    assert_clean(page)

    # The area health centre, from the province's facilities page.
    page.goto(f"/facilities/province/{ids['province']}")
    page.get_by_role("link", name="Nhập trung tâm từ tệp").click()
    upload(page, spreadsheet("Trung tâm", CENTRES_HEADER, CENTRES), "trung-tam-tay-ninh.xlsx",
           label="Tệp trung tâm y tế (.xlsx, .xls, .ods, .csv)", button="Tải lên và kiểm tra")
    main = page.inner_text("main")
    assert "Tỉnh Tây Ninh chưa có Sở Y tế: sẽ tạo" in main
    assert "Trung tâm Y tế khu vực Châu Thành" in main and "Tân Ninh, Châu Thành" in main
    page.get_by_role("button", name="Nhập 1 dòng").click()
    page.wait_for_url(f"**/facilities/province/{ids['province']}**")
    assert "Đã nhập “trung-tam-tay-ninh.xlsx”: tạo mới 1, cập nhật 0, không đổi 0 trung tâm." in \
        page.inner_text("main")
    assert page.get_by_role("link", name="Trung tâm Y tế khu vực Châu Thành").count() == 1
    page.goto(f"/units/{ids['commune']}")
    assert "Trung tâm Y tế khu vực: Trung tâm Y tế khu vực Châu Thành" in page.inner_text("main").replace("\n", " ")
    assert_clean(page)

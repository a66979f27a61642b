"""The supervision lists as files (issue #11, item 2): the monthly meeting's sign-in sheet and the
overdue-supervision list as PDF and XLSX, answered on the pages' own routes with ``?format=``.

What a user would notice: the official heading of the right office, the national motto, the
signer; the same rows as the page, every row of the overdue list even past the page's 50; the
pages' refusals (404, 403) kept; a bad format, month or date is a 400 in Vietnamese; an empty
list is a valid file saying so. PDF text is read from WeasyPrint's laid-out pages
(tests/exports/test_pdf.py), XLSX with calamine (tests/exports/roster_data.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import unquote

import pytest

from danso_network.exports import pdf
from danso_network.extensions import db
from danso_network.supervision import documents, services

from ..exports.roster_data import table, xlsx_sheets
from ..exports.test_pdf import page_texts
from ..factories import appoint

MARCH = date(2026, 3, 1)
AS_OF = date(2026, 6, 1)
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pdf_pages(printed: documents.Printed) -> list[str]:
    return page_texts(pdf.render(printed.document))


def only_sheet(data: bytes) -> list[list]:
    sheets = xlsx_sheets(data)
    assert len(sheets) == 1
    return next(iter(sheets.values()))


def ids_listed(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-collaborator="(\d+)"', html)]


def download_name(response) -> str:
    return unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])


# --- the monthly meeting sheet --------------------------------------------------------------------


@pytest.fixture
def meeting_people(world):
    """Three collaborators of commune A (two hamlets) and one of commune B."""
    k1, k2 = world.hamlets_a
    people = {"lan": appoint(k2, 1, full_name="Nguyễn Thị Lan"), "binh": appoint(k1, 2, full_name="Trần Văn Bình"),
              "an": appoint(k1, 3, full_name="Lê Thị An"), "other": appoint(world.hamlets_b[0], 4, full_name="Phạm Thị B")}
    db.session.commit()
    return people


def test_meeting_sheet_pdf_has_the_station_heading_rows_and_the_signer(world, meeting_people):
    printed = documents.meeting_document(world.commune_a, MARCH)
    pages = pdf_pages(printed)
    first, last = pages[0], pages[-1]
    for text in ("TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI", "TRẠM Y TẾ PHƯỜNG BÌNH PHƯỚC", *MOTTO, "Đồng Nai, ngày",
                 "BẢNG ĐIỂM DANH GIAO BAN CỘNG TÁC VIÊN DÂN SỐ", "Tháng 03/2026 · Phường Bình Phước",
                 "STT | Thôn/tổ dân phố | Họ và tên | Dự họp | Nộp phiếu P0/CTV | Ghi chú | Ký tên"):
        assert text in first, text
    # One row per collaborator of the commune, by hamlet then name; nobody from commune B.
    assert first.index("1 | Khu phố 1 | Lê Thị An") < first.index("2 | Khu phố 1 | Trần Văn Bình") \
        < first.index("3 | Khu phố 2 | Nguyễn Thị Lan")
    assert "Phạm Thị B" not in "".join(pages)
    signature = last[last.index("TRẠM TRƯỞNG"):]
    assert signature.startswith(f"TRẠM TRƯỞNG | (Ký, ghi rõ họ tên, đóng dấu) | {world.users['head_a'].full_name}")
    assert "Chưa ghi điểm danh buổi giao ban tháng này" in last


def test_meeting_sheet_xlsx_lists_the_page_rows_with_the_recorded_attendance(world, meeting_people, browser):
    p = meeting_people
    services.record_meeting(world.commune_a, month=MARCH, held_on=date(2026, 3, 25),
                            attendance={p["lan"].id: (True, True), p["binh"].id: (True, False, "Quên phiếu"),
                                        p["an"].id: (False, False)}, note="Giao ban tại trạm")
    db.session.commit()
    head = browser("truongtram_a")
    page = head.get(f"/supervision/meetings/{world.commune_a.id}/sheet?month=2026-03").get_data(as_text=True)
    response = head.get(f"/supervision/meetings/{world.commune_a.id}/sheet?month=2026-03&format=xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert download_name(response) == ("Bảng điểm danh giao ban cộng tác viên dân số - Phường Bình Phước - "
                                       "03-2026.xlsx")
    rows = only_sheet(response.data)
    assert rows[0][0] == "Bảng điểm danh giao ban cộng tác viên dân số"
    assert rows[1][0] == "Tháng 03/2026 · Phường Bình Phước · họp ngày 25/03/2026"
    header, data = table(rows)
    assert header == ["STT", "Thôn/tổ dân phố", "Họ và tên", "Dự họp", "Nộp phiếu P0/CTV", "Ghi chú", "Ký tên"]
    assert [row[1:] for row in data] == [
        ["Khu phố 1", "Lê Thị An", "Không", "Không", "", ""],
        ["Khu phố 1", "Trần Văn Bình", "Có", "Không", "Quên phiếu", ""],
        ["Khu phố 2", "Nguyễn Thị Lan", "Có", "Có", "", ""]]
    # The page lists the same people in the same order.
    positions = [page.index(name) for name in ("Lê Thị An", "Trần Văn Bình", "Nguyễn Thị Lan")]
    assert positions == sorted(positions)
    text = [str(cell) for row in rows for cell in row]
    assert "Dự họp: 2/3 CTV; nộp phiếu P0/CTV: 1/3 CTV." in text and "Ghi chú: Giao ban tại trạm" in text


def test_meeting_sheet_pdf_download_and_buttons(world, meeting_people, browser):
    head = browser("truongtram_a")
    url = f"/supervision/meetings/{world.commune_a.id}/sheet?month=2026-03"
    page = head.get(url).get_data(as_text=True)
    buttons = page[page.index("data-exports"):]
    assert "format=pdf" in buttons and "format=xlsx" in buttons and "month=2026-03" in buttons
    assert 'class="btn-group btn-group-sm flex-wrap d-print-none"' in page  # hidden when printing
    response = head.get(url + "&format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert 'filename="diem-danh-giao-ban-phuong-binh-phuoc-2026-03.pdf"' in response.headers["Content-Disposition"]


def test_meeting_sheet_of_a_commune_without_collaborators_is_a_valid_file(world, browser):
    printed = documents.meeting_document(world.commune_b, MARCH)
    assert "Không có dòng nào." in pdf_pages(printed)[0]
    response = browser("truongtram_b").get(f"/supervision/meetings/{world.commune_b.id}/sheet?format=xlsx")
    assert response.status_code == 200
    rows = only_sheet(response.data)
    start = next(i for i, row in enumerate(rows) if row and row[0] == "STT")
    assert rows[start + 1][0] == "Không có dòng nào."


def test_meeting_sheet_refuses_what_the_page_refuses(world, meeting_people, browser, client):
    head_b = browser("truongtram_b")
    for fmt in ("pdf", "xlsx", "doc"):
        # Out of scope first: 403 as the page, whatever the format.
        assert head_b.get(f"/supervision/meetings/{world.commune_a.id}/sheet?format={fmt}").status_code == 403
    assert head_b.get(f"/supervision/meetings/{world.commune_a.id}/sheet").status_code == 403
    assert head_b.get("/supervision/meetings/999999/sheet?format=pdf").status_code == 404
    hamlet = world.hamlets_b[0]
    assert head_b.get(f"/supervision/meetings/{hamlet.id}/sheet?format=pdf").status_code == 404
    assert client.get(f"/supervision/meetings/{world.commune_a.id}/sheet?format=pdf").status_code == 302  # log in


def test_meeting_sheet_bad_format_or_month_is_a_400_in_vietnamese(world, browser):
    head = browser("truongtram_a")
    base = f"/supervision/meetings/{world.commune_a.id}/sheet"
    for query in ("format=csv", "format=docx", "format=", "format=pdf&month=13/2026", "format=xlsx&month=tháng-ba"):
        response = head.get(f"{base}?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "text/html"
        body = response.get_data(as_text=True)
        assert "không được hỗ trợ" in body or "không hợp lệ" in body, query


# --- the overdue-supervision list ------------------------------------------------------------------


def staff(world, n: int) -> list:
    """``n`` collaborators over communes A and B, started on different days: all overdue on AS_OF."""
    hamlets = world.hamlets_a + world.hamlets_b
    people = [appoint(hamlets[i % len(hamlets)], i + 1, started_on=date(2025, 9, 1) + timedelta(days=i))
              for i in range(n)]
    db.session.commit()
    return people


def test_overdue_xlsx_holds_every_row_of_every_page_in_the_page_order(world, browser):
    people = staff(world, 55)
    names = {c.id: c.full_name for c in people}
    centre = browser("ttyt689")
    url = f"/supervision/overdue?as_of={AS_OF.isoformat()}"
    first = centre.get(url).get_data(as_text=True)
    second = centre.get(url + "&page=2").get_data(as_text=True)
    shown = ids_listed(first) + ids_listed(second)
    assert len(ids_listed(first)) == 50 and len(shown) == 55
    buttons = first[first.index("data-exports"):]
    assert "format=xlsx" in buttons and "format=pdf" in buttons and f"as_of={AS_OF.isoformat()}" in buttons

    response = centre.get(url + "&format=xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    rows = only_sheet(response.data)
    assert rows[0][0] == "Danh sách cộng tác viên quá hạn giám sát"
    assert rows[1][0] == "Trung tâm Y tế khu vực Đồng Xoài" and rows[2][0] == "Tính đến ngày 01/06/2026"
    assert rows[3][0] == "55 cộng tác viên quá hạn giám sát."
    header, data = table(rows)
    assert header == ["STT", "Cộng tác viên", "Thôn/tổ dân phố", "Xã/phường", "Giám sát gần nhất", "Đến hạn",
                      "Số ngày quá hạn"]
    assert [row[1] for row in data] == [names[i] for i in shown]
    assert [int(row[0]) for row in data] == list(range(1, 56))
    whole = services.overdue_visits([world.commune_a.path, world.commune_b.path], AS_OF)
    oldest = whole[0]
    assert data[0][2:] == [oldest.hamlet_name, oldest.commune_name, "Chưa giám sát (bắt đầu 01/09/2025)",
                           oldest.due_on, oldest.days_overdue]


def test_overdue_pdf_has_every_row_the_centre_heading_and_signer(world, browser):
    people = staff(world, 55)
    centre_user = world.users["centre"]
    prefixes = [world.commune_a.path, world.commune_b.path]
    pages = pdf_pages(documents.overdue_document(centre_user, prefixes, AS_OF))
    assert len(pages) >= 2
    first, last, text = pages[0], pages[-1], " | ".join(pages)
    for piece in ("SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI", "TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI", *MOTTO,
                  "DANH SÁCH CỘNG TÁC VIÊN QUÁ HẠN GIÁM SÁT", "Tính đến ngày 01/06/2026"):
        assert piece in first, piece
    assert first.index("TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI") < first.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    for c in people:
        assert f"| {c.full_name} |" in text, c.full_name
    assert pages[1].startswith("STT | Cộng tác viên | Thôn/tổ dân phố")  # the header on every page
    assert f"Trang {len(pages)}/{len(pages)}" in last
    assert last[last.index("GIÁM ĐỐC"):].startswith("GIÁM ĐỐC | (Ký, ghi rõ họ tên, đóng dấu)")

    response = browser("ttyt689").get(f"/supervision/overdue?as_of={AS_OF.isoformat()}&format=pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert download_name(response) == ("Danh sách cộng tác viên quá hạn giám sát - Trung tâm Y tế khu vực Đồng Xoài - "
                                       "01-06-2026.pdf")


def test_overdue_is_issued_by_the_users_own_office(world):
    staff(world, 4)
    cases = {"head_a": ("TRẠM Y TẾ PHƯỜNG BÌNH PHƯỚC", "TRẠM TRƯỞNG"), "admin": ("SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI", "GIÁM ĐỐC")}
    for key, (issuer, signer) in cases.items():
        user = world.users[key]
        area = documents.issuing_area(user, AS_OF)
        printed = documents.overdue_document(user, list(area.prefixes), AS_OF)
        heading = printed.document.heading
        assert heading.issuer.upper() == issuer and heading.signer_title.upper() == signer, key
        first = pdf_pages(printed)[0]
        assert issuer in first and MOTTO[0] in first
    admin = documents.overdue_document(world.users["admin"], [world.dong_nai.path], AS_OF).document
    assert admin.heading.superior == "Ủy ban nhân dân Thành phố Đồng Nai"
    assert admin.lines[0] == "Thành phố Đồng Nai"


def test_overdue_file_stays_in_the_users_scope_as_the_page(world, browser):
    people = staff(world, 4)
    in_b = {c.full_name for c in people if c.assignments[0].hamlet_path.startswith(world.commune_b.path)}
    head_b = browser("truongtram_b")
    # Naming another commune changes nothing: the page and its file keep to commune B.
    url = f"/supervision/overdue?as_of={AS_OF.isoformat()}&commune={world.commune_a.id}"
    page = head_b.get(url).get_data(as_text=True)
    response = head_b.get(url + "&format=xlsx")
    assert response.status_code == 200
    rows = only_sheet(response.data)
    _header, data = table(rows)
    assert {row[1] for row in data} == in_b and len(ids_listed(page)) == len(data) == 2
    assert rows[1][0] == "Xã Đồng Xoài"
    # The commune filter of a centre officer narrows the file as it narrows the page.
    centre = browser("ttyt689")
    narrowed = centre.get(f"/supervision/overdue?as_of={AS_OF.isoformat()}&commune={world.commune_b.id}&format=xlsx")
    rows = only_sheet(narrowed.data)
    assert {row[1] for row in table(rows)[1]} == in_b and rows[1][0] == "Xã Đồng Xoài"


def test_overdue_empty_list_is_a_valid_file(world, browser):
    staff(world, 2)
    response = browser("truongtram_a").get("/supervision/overdue?as_of=2025-10-01&format=xlsx")
    assert response.status_code == 200
    rows = only_sheet(response.data)
    start = next(i for i, row in enumerate(rows) if row and row[0] == "STT")
    assert rows[start + 1][0] == "Không có dòng nào."
    printed = documents.overdue_document(world.users["head_a"], [world.commune_a.path], date(2025, 10, 1))
    assert "Không có dòng nào." in pdf_pages(printed)[0]
    # A user without any grant sees an empty page, and gets an empty file without a heading.
    nobody = browser("chuacapquyen")
    assert nobody.get("/supervision/overdue").status_code == 200
    response = nobody.get("/supervision/overdue?format=xlsx")
    assert response.status_code == 200 and table(only_sheet(response.data))[1] == []


def test_overdue_bad_format_or_date_is_a_400_and_a_big_pdf_is_refused(world, browser, app, monkeypatch):
    staff(world, 4)
    head = browser("truongtram_a")
    for query in ("format=csv", "format=geojson", "format=", "format=pdf&as_of=31/02/2026"):
        response = head.get(f"/supervision/overdue?{query}")
        assert response.status_code == 400, query
        body = response.get_data(as_text=True)
        assert "không được hỗ trợ" in body or "không hợp lệ" in body, query
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 1)
    centre = browser("ttyt689")
    refused = centre.get(f"/supervision/overdue?as_of={AS_OF.isoformat()}&format=pdf")
    assert refused.status_code == 400 and "quá nhiều cho một tệp PDF" in refused.get_data(as_text=True)
    assert centre.get(f"/supervision/overdue?as_of={AS_OF.isoformat()}&format=xlsx").status_code == 200

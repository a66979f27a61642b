"""The allowance sheet as files (issue #11, item 2): XLSX and PDF beside its CSV, all three from
one document (``allowances.documents``), answered on the sheet's own routes with ``?format=``.

What a user would notice: the official heading of the office that signs (station, centre,
Department), the national motto, the title and the month; the page's lines with numbers as
numbers, a subtotal per commune and a total equal to the page's; the CCCD only where the page
shows it; the page's refusals kept for every format (404, 403); a bad format or month is a 400 in
Vietnamese; an empty month is a valid file saying so; a large sheet is made in the background.
PDF text is read from WeasyPrint's laid-out pages (tests/exports/test_pdf.py), XLSX with calamine
(tests/exports/roster_data.py)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from danso_network.allowances import documents
from danso_network.allowances import services as allowances
from danso_network.errors import DomainError
from danso_network.exports import pdf
from danso_network.extensions import db
from tests.factories import appoint, national_id

from ..exports.roster_data import csv_rows, xlsx_sheets
from ..exports.test_pdf import page_texts
from ..exports.test_roster_export import wait_for_job
from .conftest import MARCH

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
TITLE = "Bảng tổng hợp chi bồi dưỡng cộng tác viên dân số"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["STT", "Xã/phường", "Loại xã", "Thôn/tổ dân phố", "Vùng", "Họ và tên", "Số CCCD", "Kiêm NVYT thôn bản",
          "Kiêm GĐ&TE", "Loại phân công", "Số ngày hưởng", "Số ngày tạm đình chỉ", "Số ngày trong tháng",
          "Mức tháng (đồng)", "Căn cứ", "Thành tiền (đồng)", "Ghi chú"]
AMOUNT = HEADER.index("Thành tiền (đồng)")


@pytest.fixture
def people(world, hcm_rules):
    """Commune A (phường, 600,000 đ): one collaborator the whole month; commune B (xã, 700,000 đ):
    one from 21/03 (11 of 31 days: 248,387 đ). The page's total for the centre: 848,387 đ."""
    appoint(world.hamlets_a[0], 1)
    appoint(world.hamlets_b[1], 2, started_on=date(2026, 3, 21))
    db.session.commit()


def only_sheet(data: bytes) -> list[list]:
    sheets = xlsx_sheets(data)
    assert list(sheets) == ["Bồi dưỡng CTV"]
    return sheets["Bồi dưỡng CTV"]


def table(rows: list[list]) -> list[list]:
    """The rows under the header, up to the end of the table (the first blank row)."""
    start = rows.index(HEADER)
    body = []
    for row in rows[start + 1:]:
        if all(v in ("", None) for v in row):
            break
        body.append(row)
    return body


def download_name(response) -> str:
    return unquote(response.headers["Content-Disposition"].split("filename*=UTF-8''")[1])


def page_total(html: str) -> int:
    return int(re.search(r'data-total="(\d+)"', html).group(1))


def sheet_pages(app, world, units, *, user, title, unit=None, facility=None, month=MARCH) -> list[str]:
    with app.test_request_context("/"):
        document = documents.sheet_document(units, month, user=user, title=title, unit=unit, facility=facility,
                                            printed=True)
        return page_texts(pdf.render(document))


# --- XLSX -------------------------------------------------------------------------------------------


def test_centre_xlsx_has_the_title_the_lines_subtotals_and_the_pages_total(world, people, browser):
    centre = browser("ttyt689")
    url = f"/allowances/sheet/centre/{world.centre.id}?month=2026-03"
    total = page_total(centre.get(url).get_data(as_text=True))
    response = centre.get(url + "&format=xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert download_name(response) == "Bảng chi bồi dưỡng CTV - Trung tâm Y tế khu vực Đồng Xoài - 03-2026.xlsx"
    assert 'filename="bang-boi-duong-ctv-trung-tam-y-te-khu-vuc-dong-xoai-2026-03.xlsx"' in \
        response.headers["Content-Disposition"]
    rows = only_sheet(response.data)
    assert rows[0][0] == TITLE
    assert rows[1][0] == "Trung tâm Y tế khu vực Đồng Xoài" and rows[2][0] == "Tháng 03/2026"
    assert rows[3][0] == "2 cộng tác viên · 2 dòng chi · 42 ngày hưởng · tổng 848.387 đồng"
    body = table(rows)
    assert [row[:7] for row in body] == [
        [1, "Phường Bình Phước", "Phường", "Khu phố 1", "Thường", "Nguyễn Thị Ứng Viên 1",
         national_id(date(1990, 5, 17), "female", 1)],
        ["", "Cộng Phường Bình Phước", "", "", "", "", ""],
        [2, "Xã Đồng Xoài", "Xã", "Ấp 2", "Thường", "Nguyễn Thị Ứng Viên 2", national_id(date(1990, 5, 17), "female", 2)],
        ["", "Cộng Xã Đồng Xoài", "", "", "", "", ""],
        ["", "Tổng cộng", "", "", "", "", ""]]
    # Numbers are numbers: days, the monthly rate and the amounts (a reader can add them up).
    assert body[2][7:16] == ["Không", "Không", "Thôn chính", 11, 0, 31, 700_000, "NQ 33/2025/NQ-HĐND", 248_387]
    assert [row[AMOUNT] for row in body] == [600_000, 600_000, 248_387, 248_387, 848_387]
    assert body[-1][AMOUNT] == total == 848_387


def test_csv_comes_from_the_same_document_one_header_row(world, people, browser):
    centre = browser("ttyt689")
    url = f"/allowances/sheet/centre/{world.centre.id}?month=2026-03"
    response = centre.get(url + "&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = csv_rows(response.data)  # UTF-8 with a BOM
    assert rows[0] == HEADER  # the same columns as the XLSX, first line
    assert [row[AMOUNT] for row in rows[1:]] == ["600000", "600000", "248387", "248387", "848387"]
    assert rows[-1][1] == "Tổng cộng"
    assert download_name(response).endswith("- 03-2026.csv")


def test_a_viewer_gets_the_cccd_hidden_as_on_the_page(world, hcm_rules, browser):
    appoint(world.hamlets_b[1], 3)
    db.session.commit()
    response = browser("xem_b").get(f"/allowances/sheet/{world.commune_b.id}?month=2026-03&format=xlsx")
    assert response.status_code == 200
    rows = only_sheet(response.data)
    body = table(rows)
    assert body[0][HEADER.index("Số CCCD")] == "(ẩn)"
    assert national_id(date(1990, 5, 17), "female", 3) not in str(rows)
    assert any("số CCCD được ẩn theo quy định bảo vệ dữ liệu cá nhân" in str(cell) for row in rows for cell in row)
    # The station head of the commune sees it, as on the page.
    rows = only_sheet(browser("truongtram_b").get(
        f"/allowances/sheet/{world.commune_b.id}?month=2026-03&format=xlsx").data)
    assert table(rows)[0][HEADER.index("Số CCCD")] == national_id(date(1990, 5, 17), "female", 3)


# --- PDF --------------------------------------------------------------------------------------------


def test_commune_pdf_has_the_station_heading_the_lines_and_the_signer_on_the_last_page(app, world, people, browser):
    pages = sheet_pages(app, world, [world.commune_a], user=world.users["head_a"], title=world.commune_a.full_name,
                        unit=world.commune_a)
    first, last = pages[0], pages[-1]
    for text in ("TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI", "TRẠM Y TẾ PHƯỜNG BÌNH PHƯỚC", *MOTTO, "Đồng Nai, ngày",
                 TITLE.upper(), "Phường Bình Phước", "Tháng 03/2026", "1 cộng tác viên · 1 dòng chi",
                 "STT | Xã/phường", "Họ và tên | Số CCCD | Vùng", "Khu phố 1 | Nguyễn Thị Ứng Viên 1 | 070190000001 | "
                 "Thường | 31 | 600.000 | NQ 33/2025/NQ-", "Tổng cộng | 600.000"):
        assert text in first, text
    assert "Nguyễn Thị Ứng Viên 2" not in "".join(pages)  # commune B's
    signature = last[last.index("TRẠM TRƯỞNG"):]
    assert signature.startswith(f"TRẠM TRƯỞNG | (Ký, ghi rõ họ tên, đóng dấu) | {world.users['head_a'].full_name}")

    response = browser("truongtram_a").get(f"/allowances/sheet/{world.commune_a.id}?month=2026-03&format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert download_name(response) == "Bảng chi bồi dưỡng CTV - Phường Bình Phước - 03-2026.pdf"


def test_province_and_centre_pdfs_are_issued_and_signed_by_their_head(app, world, people):
    pages = sheet_pages(app, world, [world.dong_nai], user=world.users["admin"], title=world.dong_nai.full_name,
                        unit=world.dong_nai)
    assert "SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI" in pages[0] and MOTTO[0] in pages[0]
    assert "Tổng cộng | 848.387" in pages[-1] and "GIÁM ĐỐC | (Ký, ghi rõ họ tên, đóng dấu)" in pages[-1]
    pages = sheet_pages(app, world, [world.commune_a, world.commune_b], user=world.users["centre"],
                        title=world.centre.name, facility=world.centre)
    assert "SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI" in pages[0] and "TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI" in pages[0]
    assert "GIÁM ĐỐC | (Ký, ghi rõ họ tên, đóng dấu)" in pages[-1]


def test_the_printed_rows_carry_the_pages_facts_in_fewer_columns(app, world, hcm_rules):
    """The PDF's columns (``printed``): the kind of assignment after the hamlet, both duties in
    one column, suspended days in the notes; the totals the same as the XLSX's."""
    from danso_network.collaborators import services as collaborator_services
    from danso_network.collaborators.models import DutyKind

    from .conftest import cover, suspend

    lan = appoint(world.hamlets_b[0], 1, vhw=True)
    collaborator_services.start_duty(lan, DutyKind.FAMILY_CHILDREN, on=date(2026, 1, 1), actor=None,
                                     decision_ref="QĐ 5/QĐ-TTYT")
    cover(lan, world.hamlets_b[1], date(2026, 1, 1))
    suspend(appoint(world.hamlets_a[0], 2), date(2026, 3, 1), date(2026, 3, 11))
    db.session.commit()
    with app.test_request_context("/"):
        head = [c.label for c in documents.columns(printed=True)]
        rows = list(documents.sheet_rows([world.dong_nai], MARCH, allowances.sheet_summary([world.dong_nai], MARCH),
                                         user=world.users["admin"], printed=True))
        full = list(documents.sheet_rows([world.dong_nai], MARCH, allowances.sheet_summary([world.dong_nai], MARCH),
                                         user=world.users["admin"]))
    assert head == ["STT", "Xã/phường", "Thôn/tổ dân phố", "Họ và tên", "Số CCCD", "Vùng", "Kiêm nhiệm",
                    "Số ngày hưởng", "Mức tháng (đồng)", "Căn cứ", "Thành tiền (đồng)", "Ghi chú"]
    assert all(len(row) == len(head) for row in rows) and all(len(row) == len(HEADER) for row in full)
    by_hamlet = {row[2]: row for row in rows if row[0]}
    assert by_hamlet["Khu phố 1"][7] == 21 and "Tạm đình chỉ 10 ngày" in by_hamlet["Khu phố 1"][11]
    assert by_hamlet["Ấp Tân Lập"][5:7] == ["Khó khăn/DTTS", "YTTB, GĐ&TE"]
    assert by_hamlet["Ấp 2 (Kiêm nhiệm thêm)"][6] == "YTTB, GĐ&TE"
    assert rows[-1][1] == full[-1][1] == "Tổng cộng"
    assert rows[-1][10] == full[-1][AMOUNT] == sum(row[AMOUNT] for row in full if row[0])


# --- empty month, refusals, bad input ------------------------------------------------------------------


def test_an_empty_month_is_a_valid_file_saying_so(app, world, people, browser):
    head = browser("truongtram_a")
    url = f"/allowances/sheet/{world.commune_a.id}?month=2025-08"  # before anyone started
    rows = only_sheet(head.get(url + "&format=xlsx").data)
    start = rows.index(HEADER)
    assert rows[start + 1][0] == "Không có dòng nào."
    assert csv_rows(head.get(url + "&format=csv").data) == [HEADER]
    response = head.get(url + "&format=pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pages = sheet_pages(app, world, [world.commune_a], user=world.users["head_a"], title=world.commune_a.full_name,
                        unit=world.commune_a, month=date(2025, 8, 1))
    assert "Không có dòng nào." in pages[0] and "Tháng 08/2025" in pages[0] and "TRẠM TRƯỞNG" in pages[-1]


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "csv", "docx", ""])
def test_every_format_refuses_what_the_page_refuses(world, people, browser, client, fmt):
    head_a = browser("truongtram_a")
    for path in (f"/allowances/sheet/{world.commune_b.id}", f"/allowances/sheet/{world.dong_nai.id}",
                 f"/allowances/sheet/centre/{world.centre.id}"):
        assert head_a.get(f"{path}?month=2026-03&format={fmt}").status_code == 403, path
    assert browser("admin01").get(f"/allowances/sheet/{world.dong_nai.id}?format={fmt}").status_code == 403
    assert head_a.get(f"/allowances/sheet/999999?format={fmt}").status_code == 404
    assert head_a.get(f"/allowances/sheet/centre/999999?format={fmt}").status_code == 404
    response = client.get(f"/allowances/sheet/{world.commune_a.id}?format={fmt}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_bad_format_or_month_is_a_400_in_vietnamese(world, people, browser):
    head = browser("truongtram_a")
    base = f"/allowances/sheet/{world.commune_a.id}"
    for query, message in [("format=docx", "Định dạng “docx” không được hỗ trợ. Hãy chọn một trong: xlsx, csv, pdf."),
                           ("format=", "không được hỗ trợ"), ("format=geojson", "không được hỗ trợ"),
                           ("format=xlsx&month=2026-13", "Tháng “2026-13” không hợp lệ"),
                           ("format=pdf&month=tháng-ba", "không hợp lệ")]:
        response = head.get(f"{base}?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "text/html"
        assert message in response.get_data(as_text=True), query
    # The page itself still falls back to this month with a message (unchanged).
    assert head.get(f"{base}?month=2026-13").status_code == 200


# --- the page's buttons -------------------------------------------------------------------------------


def test_the_page_offers_the_three_files_for_its_month(world, people, browser):
    head = browser("truongtram_a")
    html = head.get(f"/allowances/sheet/{world.commune_a.id}?month=2026-03&page=1").get_data(as_text=True)
    group = html[html.index("data-exports"):]
    group = group[:group.index("</div>")]
    links = {}
    for href in re.findall(r'href="([^"]+)"', group):
        url = urlparse(href.replace("&amp;", "&"))
        args = {k: v[0] for k, v in parse_qs(url.query).items()}
        links[args["format"]] = (url.path, args)
    assert list(links) == ["xlsx", "pdf", "csv"]
    for fmt, (path, args) in links.items():
        assert path == f"/allowances/sheet/{world.commune_a.id}" and args == {"month": "2026-03", "format": fmt}
    assert 'class="btn-group btn-group-sm flex-wrap d-print-none"' in html  # hidden when printing
    assert "Tải tệp CSV" not in html  # the former lone button
    # The month the page fell back to is the one the buttons carry.
    html = head.get(f"/allowances/sheet/{world.commune_a.id}?month=2026-13").get_data(as_text=True)
    assert "month=2026-13" not in html[html.index("data-exports"):]


# --- a large sheet ---------------------------------------------------------------------------------------


def test_a_large_sheet_is_made_by_a_job_with_the_same_rows(app, world, people, browser, monkeypatch):
    admin = browser("admin75")
    url = f"/allowances/sheet/{world.dong_nai.id}?month=2026-03&format=xlsx"
    inline = only_sheet(admin.get(url).data)
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 1)
    response = admin.get(url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.search(r"/jobs/\d+$", location), location
    job = wait_for_job(int(location.rsplit("/", 1)[1]))
    assert job.kind == documents.JOB_KIND and job.state == "done", job.error
    assert job.params == {"unit_id": world.dong_nai.id, "month": "2026-03", "format": "xlsx"}
    download = admin.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    assert table(only_sheet(download.data)) == table(inline)
    assert browser("truongtram_a").get(f"/jobs/{job.id}/download").status_code == 403  # only the owner


def test_a_pdf_goes_to_a_job_sooner(app, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 5000)
    assert not documents.made_by_job(5000, "xlsx") and documents.made_by_job(5001, "csv")
    assert not documents.made_by_job(1000, "pdf") and documents.made_by_job(1001, "pdf")


def test_the_job_rechecks_scope_and_params(world, people):
    head_a = world.users["head_a"]
    params = {"unit_id": world.commune_a.id, "month": "2026-03", "format": "pdf"}
    assert documents.check_job(params, head_a) == params
    centre = {"facility_id": world.centre.id, "month": "2026-03", "format": "csv"}
    assert documents.check_job(centre, world.users["centre"]) == centre
    for bad, user, status in [({**params, "unit_id": world.commune_b.id}, head_a, 403),
                              (params, world.users["head_b"], 403),
                              (centre, head_a, 403),
                              ({**params, "format": "docx"}, head_a, 400),
                              ({**params, "month": "tháng ba"}, head_a, 400),
                              ({**params, "unit_id": 999999}, head_a, 404),
                              ({"month": "2026-03", "format": "pdf"}, head_a, 404)]:
        with pytest.raises(DomainError) as refused:
            documents.check_job(bad, user)
        assert refused.value.status == status, bad

"""The PDF writer (issue #11). The text of each page is read from WeasyPrint's own laid-out
document (the one :func:`write_pdf` writes): this machine has no pdftotext, and no PDF reader is
a dependency."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from danso_network.exports import pdf
from danso_network.exports.document import Column, Document, Heading, Kind, Sheet

HEADING = Heading(issuer="Trạm Y tế Phường Bình Phước", superior="Trung tâm Y tế khu vực Đồng Xoài",
                  place="Đồng Nai", signer_title="Trạm trưởng", signer_name="Nguyễn Thị Trưởng Trạm")
COLUMNS = [
    Column("STT", Kind.INT, width=5),
    Column("Họ và tên", width=24),
    Column("Ngày sinh", Kind.DATE, width=11),
    Column("Ấp", width=16),
    Column("Số hộ", Kind.INT, total=True, width=8),
    Column("Tỷ lệ", Kind.PCT, width=8),
    Column("Phụ cấp", Kind.MONEY, total=True, width=12),
    Column("Diện tích", Kind.NUMBER, width=10),
]


def rows(count: int):
    for i in range(1, count + 1):
        yield (i, f"Nguyễn Thị Ánh Tuyết {i}", date(1990, 1, 1 + i % 28), f"Khu phố {i % 7}", 1000 + i,
               45.3, 450_000, 1234.56)


def document(count: int = 3, *, heading=HEADING, sheets=None, **overrides) -> Document:
    values = dict(
        title="Danh sách cộng tác viên dân số",
        lines=["Phường Bình Phước, Thành phố Đồng Nai", "Tại ngày 07/12/2026"],
        sheets=sheets if sheets is not None else [Sheet("CTV", COLUMNS, rows(count))],
        filename="danh-sach-ctv", made_on=date(2026, 12, 7), heading=heading,
        notes=["Nguồn: phần mềm quản lý CTV dân số."])
    values.update(overrides)
    return Document(**values)


def _texts(box):
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        yield box.text
    for child in getattr(box, "children", None) or ():
        yield from _texts(child)


def page_texts(rendered) -> list[str]:
    """Each page's text, its pieces joined by " | " (cells, lines, margin boxes)."""
    return [" | ".join(_texts(page._page_box)) for page in rendered.pages]


@pytest.fixture(scope="module")
def long_roster(app):
    """A 120-row roster over several pages, laid out once for the module's tests."""
    with app.app_context():
        rendered = pdf.render(document(120))
        return page_texts(rendered)


def test_first_page_has_the_official_heading_title_and_lines(long_roster):
    first = long_roster[0]
    for text in ("TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI", "TRẠM Y TẾ PHƯỜNG BÌNH PHƯỚC",
                 "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "Đồng Nai, ngày 07 tháng 12 năm 2026", "DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ",
                 "Phường Bình Phước, Thành phố Đồng Nai", "Tại ngày 07/12/2026"):
        assert text in first, text
    assert first.index("TRẠM Y TẾ PHƯỜNG BÌNH PHƯỚC") < first.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")


def test_cells_are_written_the_vietnamese_way(long_roster):
    first = long_roster[0]
    assert "Nguyễn Thị Ánh Tuyết 1" in first  # Vietnamese intact
    assert "02/01/1990" in first  # dd/mm/yyyy
    assert "1.001" in first and "450.000" in first  # thousands with "."
    assert "45,3%" in first and "1.234,6" in first  # one decimal after ","


def test_header_repeats_and_pages_are_numbered(long_roster):
    pages = len(long_roster)
    assert pages >= 3
    for number, text in enumerate(long_roster, start=1):
        assert f"Trang {number}/{pages}" in text
    second = long_roster[1]
    assert second.startswith("STT | Họ và tên | Ngày sinh | Ấp | Số hộ | Tỷ lệ | Phụ cấp | Diện tích")
    assert "CỘNG HÒA" not in second  # the heading is on the first page only


def test_totals_notes_and_signature_close_the_last_page(long_roster):
    last = long_roster[-1]
    total_households = sum(1000 + i for i in range(1, 121))
    assert f"Tổng cộng | {pdf.vn_int(total_households)} | " in last
    assert pdf.vn_int(120 * 450_000) in last
    assert last.index("Nguồn: phần mềm quản lý CTV dân số.") < last.index("TRẠM TRƯỞNG")
    signature = last[last.index("TRẠM TRƯỞNG"):]
    assert signature.startswith("TRẠM TRƯỞNG | (Ký, ghi rõ họ tên, đóng dấu) | Nguyễn Thị Trưởng Trạm")
    assert all("TRẠM TRƯỞNG" not in page for page in long_roster[:-1])


def test_cells_are_escaped():
    doc = document(sheets=[Sheet("CTV", [Column("Tên")], [("<b>Ấp</b> & <script>x</script>",)])])
    html = pdf.render_html(doc)
    assert "&lt;b&gt;Ấp&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "<script>" not in html
    assert "<b>Ấp</b> & <script>x</script>" in page_texts(pdf.render(doc))[0]


def test_the_page_loads_nothing_from_outside():
    html = pdf.render_html(document())
    assert "http" not in html.replace('"http://www.w3.org', "") and "url(" not in html
    assert "DejaVu Sans" in html


def test_empty_sheet_second_sheet_and_no_heading():
    sheets = [Sheet("CTV", COLUMNS, [], empty_text="Chưa có cộng tác viên."),
              Sheet("Ấp", [Column("Ấp"), Column("Số hộ", Kind.INT)], [("Ấp 2", 90)], title="Ấp chưa có cộng tác viên")]
    text = " | ".join(page_texts(pdf.render(document(heading=None, sheets=sheets))))
    assert "Chưa có cộng tác viên." in text
    assert "Tổng cộng | 0 | " in text
    assert "Ấp chưa có cộng tác viên | Ấp | Số hộ | Ấp 2 | 90" in text
    assert "CỘNG HÒA" not in text and "Ký, ghi rõ họ tên" not in text
    assert "Trang 1/1" in text


def test_unknown_signer_leaves_the_name_blank():
    heading = Heading(issuer="Sở Y tế Thành phố Đồng Nai", superior="Ủy ban nhân dân Thành phố Đồng Nai",
                      place="Đồng Nai", signer_title="Giám đốc")
    text = page_texts(pdf.render(document(heading=heading)))[-1]
    assert "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐỒNG NAI | SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI" in text
    assert text.endswith("GIÁM ĐỐC | (Ký, ghi rõ họ tên, đóng dấu) | Trang 1/1")


def test_write_pdf_to_a_path_and_to_a_file_object(tmp_path):
    path = tmp_path / "roster.pdf"
    pdf.write_pdf(document(), path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    buffer = io.BytesIO()
    pdf.write_pdf(document(), buffer)
    assert buffer.getvalue().startswith(b"%PDF-")


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 12, 7), "Đồng Nai, ngày 07 tháng 12 năm 2026"),
    (date(2026, 2, 15), "Đồng Nai, ngày 15 tháng 02 năm 2026"),
    (date(2026, 3, 1), "Đồng Nai, ngày 01 tháng 3 năm 2026"),
])
def test_date_line_follows_decree_30(day, expected):
    assert pdf.date_line("Đồng Nai", day) == expected


def test_format_cell_by_kind():
    assert pdf.format_cell(1234567, Kind.INT) == "1.234.567"
    assert pdf.format_cell(-2500.4, Kind.MONEY) == "-2.500"
    assert pdf.format_cell(1234.56, Kind.NUMBER) == "1.234,6"
    assert pdf.format_cell(45.26, Kind.PCT) == "45,3%"
    assert pdf.format_cell(date(2026, 1, 5), Kind.DATE) == "05/01/2026"
    assert pdf.format_cell(None, Kind.INT) == ""
    assert pdf.format_cell("(ẩn)", Kind.DATE) == "(ẩn)"


def test_the_url_fetcher_refuses_everything(tmp_path):
    from weasyprint import HTML

    image = tmp_path / "x.svg"
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    page = f'<img src="{image.as_uri()}"><img src="http://127.0.0.1:9/x.png">'
    rendered = HTML(string=page, url_fetcher=pdf.refusing_fetcher()).render()
    assert not any(box.element_tag == "img" and box.__class__.__name__.endswith("ReplacedBox")
                   for box in _all_boxes(rendered.pages[0]._page_box))


def _all_boxes(box):
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _all_boxes(child)


# --- a long document, printed in parts (PART_ROWS) ----------------------------------------------


def pypdf_pages(data: bytes) -> list[str]:
    """Each page's text as a PDF reader extracts it from the file (pypdf), lines joined by " | "."""
    from pypdf import PdfReader

    return [" | ".join(page.extract_text().splitlines()) for page in PdfReader(io.BytesIO(data)).pages]


def two_sheets(count: int) -> list[Sheet]:
    return [Sheet("CTV", COLUMNS, rows(count)),
            Sheet("Ấp", [Column("Ấp"), Column("Số hộ", Kind.INT, total=True)], [("Ấp 2", 90), ("Ấp 5", 10)],
                  title="Ấp chưa có cộng tác viên")]


def printed(app, monkeypatch, processes: int, count: int = 100) -> bytes:
    monkeypatch.setattr(pdf, "PART_ROWS", 40)
    monkeypatch.setitem(app.config, "PDF_PROCESSES", processes)
    buffer = io.BytesIO()
    pdf.write_pdf(document(sheets=two_sheets(count)), buffer)
    return buffer.getvalue()


def test_parts_cut_long_sheets_and_share_small_ones():
    views = [pdf.sheet_view(sheet) for sheet in two_sheets(100)]
    parts = pdf.parts_of(views, 40)
    assert [[len(piece.rows) for piece in part.sheets] for part in parts] == [[40], [40], [20, 2]]
    assert [(part.first, part.last) for part in parts] == [(True, False), (False, False), (False, True)]
    pieces = [piece for part in parts for piece in part.sheets]
    assert [(p.opens, p.closes) for p in pieces] == [(True, False), (False, False), (False, True), (True, True)]
    assert [row[0] for p in pieces[:3] for row in p.rows] == [str(i) for i in range(1, 101)]
    only = pdf.parts_of([pdf.sheet_view(Sheet("CTV", COLUMNS, []))], 40)
    assert len(only) == 1 and only[0].sheets[0].rows == [] and only[0].sheets[0].closes


def test_a_long_document_printed_in_parts_reads_as_one(app, monkeypatch):
    """Three parts laid out by two processes, joined: one heading, the table's header on every page,
    every row once and in order, "Trang X/Y" over the whole, the totals, notes and signature at the end."""
    pages = pypdf_pages(printed(app, monkeypatch, processes=2))
    count = len(pages)
    assert count >= 4
    for number, text in enumerate(pages, start=1):
        assert text.endswith(f"Trang {number}/{count}"), (number, text[-60:])
        assert ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text) == (number == 1)
        assert ("TRẠM TRƯỞNG" in text) == (number == count)
    whole = " | ".join(pages)
    assert "DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ" in pages[0] and whole.count("DANH SÁCH CỘNG TÁC VIÊN") == 1
    assert all(text.startswith("STT Họ và tên") for text in pages[1:] if "Nguyễn Thị Ánh Tuyết" in text)
    found = [int(n) for n in re.findall(r"Nguyễn Thị Ánh Tuyết (\d+) ", whole)]
    assert found == list(range(1, 101))
    assert whole.count("Tổng cộng") == 2  # the roster's, then the second sheet's (100 = 90 + 10)
    assert f"Tổng cộng {pdf.vn_int(sum(1000 + i for i in range(1, 101)))} " in whole
    assert whole.count("Ấp chưa có cộng tác viên") == 1 and "Tổng cộng 100" in whole
    assert whole.index("Tổng cộng 100") < whole.index("Nguồn: phần mềm quản lý CTV dân số.") < whole.index("TRẠM TRƯỞNG")
    assert "TRẠM TRƯỞNG | (Ký, ghi rõ họ tên, đóng dấu) | Nguyễn Thị Trưởng Trạm | Trang" in pages[-1]


def test_one_process_prints_the_same_pages(app, monkeypatch):
    assert pypdf_pages(printed(app, monkeypatch, processes=1)) == pypdf_pages(printed(app, monkeypatch, processes=2))


def test_a_part_that_fails_leaves_no_file(app, monkeypatch, tmp_path):
    """A part's process that dies (here: no Python to run it) stops the export with the reason;
    no half-written file is left for the user to download."""
    monkeypatch.setattr(pdf, "PART_ROWS", 40)
    monkeypatch.setitem(app.config, "PDF_PROCESSES", 2)
    monkeypatch.setattr(pdf.sys, "executable", "/bin/false")
    target = tmp_path / "roster.pdf"
    with pytest.raises(RuntimeError, match="printing a part of the PDF failed"):
        pdf.write_pdf(document(100), target)
    assert not target.exists()


@pytest.mark.parametrize("value", ["hai", 0, -1, 65, True, 2.5])
def test_a_pdf_processes_setting_that_is_not_a_count_is_refused(database_url, value):
    from danso_network.config import ConfigurationError

    from ..conftest import make_app

    with pytest.raises(ConfigurationError, match="DANSO_PDF_PROCESSES"):
        make_app(database_url, PDF_PROCESSES=value)

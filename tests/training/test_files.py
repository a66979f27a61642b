"""A course's attendance list as a file (issue #11, item 2): ``/training/<id>?format=xlsx|pdf``.

The PDF is the printed sign-in list under the organiser's official heading with a "Ký tên"
column and the signature block; the XLSX is the course page's list. Each reader gets the rows
and the personal data the page shows them; the download refuses what the page refuses (404
unknown, 403 out of scope) and an unknown format is a 400 with a message, not the page."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.exports import pdf
from danso_network.extensions import db
from danso_network.training import documents
from danso_network.training import services as training

from ..exports.roster_data import table, xlsx_sheets
from ..exports.test_pdf import page_texts
from ..factories import appoint
from .conftest import make_course

LAN_BORN = date(1990, 5, 17)


@pytest.fixture
def course_a(world):
    """A finished course of commune A organised by the area health centre, with two people of
    commune A (one has completed it)."""
    head = world.users["head_a"]
    course = make_course(world.commune_a, head, title="Kỹ năng truyền thông dân số", location="Hội trường trạm")
    lan = appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan", date_of_birth=LAN_BORN).candidate
    binh = appoint(world.hamlets_a[1], 2, full_name="Trần Văn Bình", date_of_birth=date(1985, 3, 9)).candidate
    training.record_attendance(course, candidate=lan, completed=True, note="Đạt loại giỏi", actor=head,
                               on=date(2025, 10, 20))
    training.record_attendance(course, candidate=binh, completed=False, actor=head, on=date(2025, 10, 20))
    db.session.commit()
    return course


@pytest.fixture
def province_course(world):
    """A province course with one person of commune A and one of commune B."""
    course = make_course(world.dong_nai, world.users["admin"], title="Lớp của tỉnh")
    training.record_attendance(course, candidate=appoint(world.hamlets_a[0], 3, full_name="Người Phường A").candidate,
                               completed=False, actor=world.users["head_a"], on=date(2025, 10, 1))
    training.record_attendance(course, candidate=appoint(world.hamlets_b[0], 4, full_name="Người Xã B").candidate,
                               completed=False, actor=world.users["head_b"], on=date(2025, 10, 1))
    db.session.commit()
    return course


def pdf_text(app, course, user) -> str:
    """The PDF's text as ``user`` would download it (the document the view writes, laid out)."""
    with app.test_request_context("/"):
        return " | ".join(page_texts(pdf.render(documents.attendance_document(course, user, printed=True))))


def download(client, course, fmt: str):
    return client.get(f"/training/{course.id}", query_string={"format": fmt})


def test_pdf_is_the_sign_in_list_under_the_organisers_heading(app, world, course_a):
    text = pdf_text(app, course_a, world.users["head_a"])
    # The organiser typed on the course is the area health centre serving commune A: its heading.
    for expected in ("SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI", "TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Đồng Nai, ngày",
                     "DANH SÁCH HỌC VIÊN LỚP TẬP HUẤN", "Lớp: Kỹ năng truyền thông dân số",
                     "Từ ngày 13/10/2025 đến ngày 14/10/2025 · 16 giờ · Địa điểm: Hội trường trạm",
                     "Tổng số: 2 học viên, 1 đã hoàn thành", "Ký tên", "GIÁM ĐỐC", "(Ký, ghi rõ họ tên, đóng dấu)",
                     "Nguyễn Thị Lan", "Trần Văn Bình", "Khu phố 1", "Phường Bình Phước", "Đạt loại giỏi", "Trang 1/1"):
        assert expected in text, expected
    assert text.index("Nguyễn Thị Lan") < text.index("Trần Văn Bình")  # by name, as on the page
    # The printed list gives the year of birth only, to everyone (it goes round the class).
    assert "1990" in text and "17/05/1990" not in text


def test_downloads_from_the_course_page(app, world, course_a, login_as):
    client = login_as("truongtram_a")
    page = client.get(f"/training/{course_a.id}").get_data(as_text=True)
    assert f'href="/training/{course_a.id}?format=xlsx"' in page and f'href="/training/{course_a.id}?format=pdf"' in page
    assert "data-exports" in page and "d-print-none" in page

    response = download(client, course_a, "pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="danh-sach-hoc-vien-lop-{course_a.id}-ky-nang-truyen-thong')
    assert "filename*=UTF-8''" in disposition and disposition.endswith(".pdf")

    response = download(client, course_a, "xlsx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith(".xlsx")
    (rows,) = xlsx_sheets(response.data).values()
    assert rows[0][0] == "Danh sách học viên lớp tập huấn"
    header, data = table(rows)
    assert header == ["STT", "Họ và tên", "Năm sinh", "Ngày sinh", "Thôn/tổ dân phố", "Xã/phường", "Đối tượng",
                      "Hoàn thành", "Ghi chú"]
    assert [r[:2] for r in data] == [[1, "Nguyễn Thị Lan"], [2, "Trần Văn Bình"]]
    lan = data[0]
    # The station of the person's area sees the full date of birth, as on the course page.
    assert lan[2:] == [1990, LAN_BORN, "Khu phố 1", "Phường Bình Phước", "CTV", "Hoàn thành", "Đạt loại giỏi"]
    assert data[1][7] == "Chưa"


def test_a_reader_without_personal_data_rights_gets_the_year_only(app, world, login_as):
    course = make_course(world.commune_b, world.users["head_b"], title="Lớp xã B")
    training.record_attendance(course, candidate=appoint(world.hamlets_b[0], 5, full_name="Điểu Thị Hằng",
                                                         date_of_birth=date(1992, 8, 9)).candidate,
                               completed=False, actor=world.users["head_b"], on=date(2025, 10, 1))
    db.session.commit()
    response = download(login_as("xem_b"), course, "xlsx")  # a viewer of commune B
    assert response.status_code == 200
    (rows,) = xlsx_sheets(response.data).values()
    _, data = table(rows)
    assert data[0][1:4] == ["Điểu Thị Hằng", 1992, "(ẩn)"]
    flat = [str(v) for row in rows for v in row]
    assert "1992-08-09" not in " ".join(flat) and "09/08/1992" not in " ".join(flat)
    assert any("ngày sinh đầy đủ được ẩn" in v for v in flat)


def test_a_station_gets_its_own_people_of_a_province_course_under_its_own_heading(app, world, province_course,
                                                                                  login_as):
    response = download(login_as("truongtram_a"), province_course, "xlsx")
    (rows,) = xlsx_sheets(response.data).values()
    _, data = table(rows)
    assert [r[1] for r in data] == ["Người Phường A"]  # as on the page: not commune B's person
    assert "Chỉ gồm học viên thuộc địa bàn: Phường Bình Phước" in [r[0] for r in rows]

    text = pdf_text(app, province_course, world.users["head_a"])
    assert "Người Phường A" in text and "Người Xã B" not in text
    assert "TRẠM Y TẾ PHƯỜNG BÌNH PHƯỚC" in text and "TRẠM TRƯỞNG" in text
    assert world.users["head_a"].full_name in text  # the one station head signs

    # The organising province sees the whole list; the organiser typed is not a facility serving
    # the province, so the province's Department of Health issues it.
    text = pdf_text(app, province_course, world.users["admin"])
    assert "Người Phường A" in text and "Người Xã B" in text
    assert "SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI" in text and "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐỒNG NAI" in text
    assert "Chỉ gồm học viên" not in text


def test_an_empty_course_gives_a_valid_file_with_its_header(app, world, login_as):
    course = make_course(world.commune_a, world.users["head_a"], title="Lớp chưa có ai")
    db.session.commit()
    client = login_as("truongtram_a")
    (rows,) = xlsx_sheets(download(client, course, "xlsx").data).values()
    start = next(i for i, row in enumerate(rows) if row[0] == "STT")
    assert rows[start + 1][0] == "Chưa có học viên nào."
    response = download(client, course, "pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "Chưa có học viên nào." in pdf_text(app, course, world.users["head_a"])


def test_downloads_refuse_what_the_page_refuses(app, world, course_a, province_course, login_as):
    course_b = make_course(world.commune_b, world.users["head_b"], title="Lớp xã B")
    db.session.commit()
    client = login_as("truongtram_a")
    for fmt in ("pdf", "xlsx"):
        assert download(client, course_b, fmt).status_code == 403
        assert client.get("/training/999999", query_string={"format": fmt}).status_code == 404
    # Out of scope is refused before the format is even read.
    assert download(client, course_b, "docx").status_code == 403
    for bad in ("docx", "csv", ""):
        response = download(client, course_a, bad)
        assert response.status_code == 400, bad
        text = response.get_data(as_text=True)
        assert "không được hỗ trợ" in text and "xlsx, pdf" in text
        assert "Thêm học viên" not in text and "Nguyễn Thị Lan" not in text  # not the course page
    anonymous = app.test_client().get(f"/training/{course_a.id}?format=pdf")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

"""The annex of a recognition decision as a file (issue #11, item 2):
``/recruitment/decisions/<id>?format=pdf|xlsx``.

The annex carries the decision's own heading and signer, the line "(Kèm theo Quyết định số …
ngày … của …)", and the people listed by name for every reader of the decision, with the CCCD
number and the full date of birth only where the page shows them to that reader (its issuer:
everyone; a station: its own commune's people). The download refuses what the page refuses."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.exports import pdf
from danso_network.extensions import db
from danso_network.recruitment import documents
from danso_network.recruitment import services as rs
from danso_network.recruitment.rules import MANUAL_CODES
from danso_network.recruitment.workflow import Action

from .. import factories
from ..conftest import login
from ..exports.roster_data import table, xlsx_sheets
from ..exports.test_pdf import page_texts

BORN_A, BORN_B = date(1991, 3, 2), date(1992, 8, 9)


def approved(world, hamlet, serial: int, born: date, full_name: str):
    """An application for ``hamlet`` taken by its station to the centre, and approved there."""
    head = world.users["head_b"] if hamlet.parent_id == world.commune_b.id else world.users["head_a"]
    application = rs.create_application(**factories.candidate_fields(hamlet, serial, date_of_birth=born,
                                                                     full_name=full_name), actor=head)
    factories.complete_dossier(application, head)
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in MANUAL_CODES}}),
                          (Action.SUBMIT, {})]:
        rs.perform(application, action, actor=head, **extra)
    rs.perform(application, Action.APPROVE, actor=world.users["centre"])
    return application


@pytest.fixture
def decision(world):
    """Decision 15/QĐ-TTYT of the area health centre, 01/10/2025, for a person of commune A and
    one of commune B."""
    factories.criteria(world.dong_nai)
    in_a = approved(world, world.hamlets_a[1], 5, BORN_A, "Nguyễn Thị Phường A")
    in_b = approved(world, world.hamlets_b[1], 6, BORN_B, "Điểu Thị Xã B")
    centre = world.users["centre"]
    issuer, facility = rs.decision_issuer(centre, [in_a, in_b])
    made = rs.issue_decision([in_a, in_b], number="15/QĐ-TTYT", issued_on=date(2025, 10, 1), signer_name="Lê Văn An",
                             signer_title="Giám đốc", issuer_name=issuer, issuer_facility=facility, actor=centre)
    db.session.commit()
    return made


def annex_text(app, decision, user) -> str:
    """The PDF's text as ``user`` would download it (the document the view writes, laid out)."""
    with app.test_request_context("/"):
        return " | ".join(page_texts(pdf.render(documents.annex_document(decision, user, printed=True))))


def browser(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def download(client, decision, fmt: str):
    return client.get(f"/recruitment/decisions/{decision.id}", query_string={"format": fmt})


def people(decision):
    a, b = (application.candidate for application in decision.applications)
    return a, b


def test_the_issuer_gets_the_annex_with_the_decisions_heading_and_signer(app, world, decision):
    in_a, in_b = people(decision)
    text = annex_text(app, decision, world.users["centre"])
    for expected in ("SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI", "TRUNG TÂM Y TẾ KHU VỰC ĐỒNG XOÀI",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Đồng Nai, ngày 01 tháng 10 năm 2025",  # the decision's day, not today
                     "DANH SÁCH CỘNG TÁC VIÊN DÂN SỐ ĐƯỢC CÔNG NHẬN",
                     "(Kèm theo Quyết định số 15/QĐ-TTYT ngày 01/10/2025 của Trung tâm Y tế khu vực Đồng Xoài)",
                     "GIÁM ĐỐC", "Lê Văn An", "Danh sách này có 2 người.",
                     "Khu phố 2", "Phường Bình Phước", "Ấp 2", "Xã Đồng Xoài", "Kinh", "Nữ", "Trang 1/1"):
        assert expected in text, expected
    assert text.index(in_a.full_name) < text.index(in_b.full_name)  # the page's order
    # The issuer sees everyone's personal data, as on the page.
    for person in (in_a, in_b):
        assert person.national_id in text and person.date_of_birth.strftime("%d/%m/%Y") in text
    assert "(ẩn)" not in text


def test_a_station_sees_everyone_by_name_and_its_own_peoples_data_only(app, world, decision, login_as):
    in_a, in_b = people(decision)
    text = annex_text(app, decision, world.users["head_a"])
    assert in_a.full_name in text and in_b.full_name in text
    assert in_a.national_id in text and "02/03/1991" in text
    assert in_b.national_id not in text and "09/08/1992" not in text
    assert "1992" in text and "(ẩn)" in text and "theo quy định bảo vệ dữ liệu cá nhân" in text

    response = download(login_as("truongtram_a"), decision, "xlsx")
    assert response.status_code == 200 and response.headers["Content-Disposition"].endswith(".xlsx")
    (rows,) = xlsx_sheets(response.data).values()
    assert rows[0][0] == "Danh sách cộng tác viên dân số được công nhận"
    assert rows[1][0] == ("(Kèm theo Quyết định số 15/QĐ-TTYT ngày 01/10/2025 của "
                          "Trung tâm Y tế khu vực Đồng Xoài)")
    header, data = table(rows)
    assert header[:7] == ["STT", "Họ và tên", "Năm sinh", "Ngày sinh", "Giới tính", "Dân tộc", "Số CCCD"]
    assert data[0][:7] == [1, in_a.full_name, 1991, BORN_A, "Nữ", "Kinh", in_a.national_id]
    assert data[1][:7] == [2, in_b.full_name, 1992, "(ẩn)", "Nữ", "Kinh", "(ẩn)"]
    flat = " ".join(str(v) for row in rows for v in row)
    assert in_b.national_id not in flat and "1992-08-09" not in flat


def test_a_viewer_sees_names_only(app, world, decision):
    in_a, in_b = people(decision)
    text = annex_text(app, decision, world.users["viewer_b"])
    assert in_a.full_name in text and in_b.full_name in text
    assert in_a.national_id not in text and in_b.national_id not in text
    assert "02/03/1991" not in text and "09/08/1992" not in text


def test_a_decision_without_an_issuing_facility_has_no_superior_body(app, world):
    factories.criteria(world.dong_nai)
    application = approved(world, world.hamlets_b[1], 7, BORN_B, "Điểu Thị Bảy")
    made = rs.issue_decision([application], number="7/QĐ-SYT", issued_on=date(2025, 2, 3), signer_name="Trần Thị C",
                             signer_title="Phó Giám đốc", issuer_name="Sở Y tế Thành phố Đồng Nai",
                             actor=world.users["centre"])
    db.session.commit()
    text = annex_text(app, made, world.users["centre"])
    assert "Đồng Nai, ngày 03 tháng 02 năm 2025" in text
    assert "(Kèm theo Quyết định số 7/QĐ-SYT ngày 03/02/2025 của Sở Y tế Thành phố Đồng Nai)" in text
    assert "PHÓ GIÁM ĐỐC" in text and "Trần Thị C" in text
    heading = text[:text.index("CỘNG HÒA")]
    assert heading.strip(" |") == "SỞ Y TẾ THÀNH PHỐ ĐỒNG NAI"  # the issuer alone: no superior body known


def test_the_decision_page_offers_the_downloads(world, decision, login_as):
    client = login_as("ttyt689")
    page = client.get(f"/recruitment/decisions/{decision.id}").get_data(as_text=True)
    url = f"/recruitment/decisions/{decision.id}"
    assert f'href="{url}?format=pdf"' in page and f'href="{url}?format=xlsx"' in page
    assert "data-exports" in page and "In danh sách kèm theo" in page
    response = download(client, decision, "pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="danh-sach-kem-theo-qd-15-qd-ttyt-2025-10-01.pdf"')
    assert "filename*=UTF-8''" in disposition


def test_downloads_refuse_what_the_page_refuses(app, world, decision):
    client = browser(app, "admin01")  # Hà Nội's administrator: not a reader of this decision
    for fmt in ("pdf", "xlsx", "docx"):
        assert download(client, decision, fmt).status_code == 403
        assert client.get("/recruitment/decisions/999999", query_string={"format": fmt}).status_code == 404
    client = browser(app, "truongtram_b")
    for bad in ("docx", "csv", ""):
        response = download(client, decision, bad)
        assert response.status_code == 400, bad
        text = response.get_data(as_text=True)
        assert "không được hỗ trợ" in text and "xlsx, pdf" in text
        assert "Kèm theo Quyết định" not in text  # not the decision page
    anonymous = app.test_client().get(f"/recruitment/decisions/{decision.id}?format=pdf")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

"""The facility pages (issue #12, item 1): what a province admin does on them, and what everyone
else is refused (403) — a centre officer or a station head reads, never creates or imports."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.extensions import db
from danso_network.facilities import services
from danso_network.imports import staging
from danso_network.units import services as unit_services

from .. import factories
from ..conftest import csrf_token
from .files import counts, csv_file


def token_of(html: str) -> str:
    match = re.search(r'<input[^>]*name="token"[^>]*>', html)
    assert match, "no confirmation token on the page"
    return re.search(r'value="([^"]+)"', match.group(0)).group(1)


def upload(client, province_id: int, data: bytes, name: str = "ttyt.csv"):
    return client.post(f"/facilities/province/{province_id}/import",
                       data={"csrf_token": csrf_token(client, "/"), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_admin_lists_searches_and_opens_a_facility_with_its_history(login_as, world):
    client = login_as("admin75")
    assert client.get("/facilities/").headers["Location"].endswith(f"/facilities/province/{world.dong_nai.id}")
    html = client.get(f"/facilities/province/{world.dong_nai.id}").get_data(as_text=True)
    for text in ("Sở Y tế Thành phố Đồng Nai", "TTYT-689", "Trạm Y tế Xã Đồng Xoài", "Tạo trạm y tế cho mọi xã/phường",
                 "Nhập trung tâm từ tệp"):
        assert text in html
    html = client.get(f"/facilities/province/{world.dong_nai.id}?q=dong+xoai&kind=station").get_data(as_text=True)
    assert "TYT-25210" in html and "TYT-25195" not in html
    services.set_service_area(world.centre, [world.commune_a], on=date(2026, 1, 1))
    db.session.commit()
    html = client.get(f"/facilities/{world.centre.id}").get_data(as_text=True)
    assert "Xã/phường phụ trách theo thời gian" in html and "01/07/2025" in html and "01/01/2026" in html
    assert "Đổi xã/phường phụ trách" in html and "Đóng cơ sở" in html


def test_a_station_head_reads_but_changes_nothing(login_as, world):
    client = login_as("truongtram_a")
    dn = world.dong_nai.id
    html = client.get(f"/facilities/province/{dn}").get_data(as_text=True)
    assert "TYT-25210" in html and "Thêm trung tâm y tế" not in html and "Nhập trung tâm từ tệp" not in html
    assert f'href="/facilities/{world.station_b.id}"' not in html  # listed, not opened
    assert client.get(f"/facilities/{world.station_a.id}").status_code == 200
    assert client.get(f"/facilities/{world.station_b.id}").status_code == 403
    assert client.get(f"/facilities/province/{world.hanoi.id}").status_code == 403


@pytest.mark.parametrize("username", ["truongtram_a", "ttyt689", "vienchuc_a", "xem_b", "admin01"])
def test_only_the_provinces_admin_creates_imports_or_closes(login_as, world, username):
    client = login_as(username)
    dn, token = world.dong_nai.id, csrf_token(client, "/")
    before = counts()
    for url in (f"/facilities/province/{dn}/new?kind=health_centre", f"/facilities/province/{dn}/import",
                f"/facilities/province/{dn}/stations", f"/facilities/province/{dn}/import/template",
                f"/facilities/{world.station_a.id}/edit", f"/facilities/{world.station_a.id}/close"):
        assert client.get(url).status_code == 403, url
    response = client.post(f"/facilities/province/{dn}/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (csv_file([["TTYT-9", "X", "", "", "25210",
                                                                          "01/01/2026", ""]]), "a.csv")})
    assert response.status_code == 403
    assert client.post(f"/facilities/province/{dn}/stations", data={"csrf_token": token, "on": "2026-01-01"}).status_code == 403
    assert client.post(f"/facilities/{world.station_b.id}/close", data={"csrf_token": token,
                                                                       "valid_to": "01/01/2026"}).status_code == 403
    assert counts() == before


def test_the_admin_creates_a_centre_and_a_station_through_the_forms(login_as, world):
    client = login_as("admin75")
    dn = world.dong_nai
    new_commune = factories.commune(dn, "25216", "Tân Thành")
    db.session.commit()
    token = csrf_token(client, "/")
    response = client.post(f"/facilities/province/{dn.id}/new?kind=health_centre", data={
        "csrf_token": token, "code": "TTYT-690", "name": "Trung tâm Y tế khu vực Chơn Thành", "address": "",
        "phone": "", "decision_ref": "", "valid_from": "01/01/2026", "communes": [str(new_commune.id)]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    centre = services.find_facility("TTYT-690")
    response = client.post(f"/facilities/province/{dn.id}/new?kind=station", data={
        "csrf_token": token, "commune": str(new_commune.id), "parent": "", "code": "", "name": "",
        "valid_from": "01/01/2026"})
    assert response.status_code == 302
    station = services.find_facility("TYT-25216")
    assert (station.name, station.parent) == ("Trạm Y tế Xã Tân Thành", centre)
    # a second station for the same commune: shown on the form, nothing written
    before = counts()
    response = client.post(f"/facilities/province/{dn.id}/new?kind=station", data={
        "csrf_token": token, "commune": str(new_commune.id), "code": "TYT-X", "valid_from": "01/01/2026"})
    assert response.status_code == 200 and "mỗi xã/phường một trạm y tế" in response.get_data(as_text=True)
    assert counts() == before


def test_editing_changing_communes_and_closing_through_the_pages(login_as, world):
    client = login_as("admin75")
    token = csrf_token(client, "/")
    response = client.post(f"/facilities/{world.centre.id}/edit", data={
        "csrf_token": token, "name": "Trung tâm Y tế khu vực Đồng Xoài", "address": "12 Hùng Vương", "phone": "",
        "decision_ref": "", "parent": ""})
    db.session.expire_all()
    assert response.status_code == 302 and world.centre.address == "12 Hùng Vương"
    response = client.post(f"/facilities/{world.centre.id}/area", data={
        "csrf_token": token, "on": "01/01/2026", "communes": [str(world.commune_a.id)]})
    assert response.status_code == 302
    assert [u.code for u in unit_services.served_units(world.centre, date(2026, 1, 1))] == ["25195"]
    html = client.get(f"/facilities/{world.station_b.id}/close").get_data(as_text=True)
    assert "Khi xác nhận" in html and "Xã Đồng Xoài" in html  # what closing will do, before it is done
    response = client.post(f"/facilities/{world.station_b.id}/close", data={"csrf_token": token,
                                                                           "valid_to": "01/02/2026"})
    assert response.status_code == 200 and "quyền tài khoản" in response.get_data(as_text=True)
    assert world.station_b.valid_to is None


def test_a_station_for_every_commune_is_previewed_then_confirmed(login_as, world):
    client = login_as("admin75")
    dn = world.dong_nai
    commune = factories.commune(dn, "25216", "Tân Thành")
    services.set_service_area(world.centre, [world.commune_a, world.commune_b, commune], on=date(2026, 1, 1))
    db.session.commit()
    before = counts()
    html = client.get(f"/facilities/province/{dn.id}/stations?on=01/02/2026").get_data(as_text=True)
    assert "Sẽ tạo 1 trạm" in html and "TYT-25216" in html and "Không tạo cho 2 xã/phường" in html
    assert counts() == before
    response = client.post(f"/facilities/province/{dn.id}/stations",
                           data={"csrf_token": csrf_token(client, "/"), "on": "2026-02-01"})
    assert response.status_code == 200 and "Đã tạo 1 trạm y tế" in response.get_data(as_text=True)
    station = services.find_facility("TYT-25216")
    assert station.valid_from == date(2026, 2, 1) and station.parent == world.centre


def test_upload_dry_run_then_confirm_writes_the_file_once_and_audits_its_name(login_as, world, hanoi_communes):
    client = login_as("admin01")
    hn = world.hanoi.id
    assert "Tải tệp mẫu" in client.get(f"/facilities/province/{hn}/import").get_data(as_text=True)
    data = csv_file([["TTYT-001", "TTYT Ba Đình", "", "", "00004, 00007", "01/01/2026", ""],
                     ["TTYT-002", "TTYT Trúc Bạch", "", "", "00008", "01/01/2026", ""]]).getvalue()
    before = counts()
    response = upload(client, hn, data, "trung tâm Hà Nội.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert "tạo mới" in html and "SYT-01" in html and "Nhập 2 dòng" in html
    assert counts() == before
    response = client.post(f"/facilities/province/{hn}/import/confirm",
                           data={"csrf_token": csrf_token(client, "/"), "token": token_of(html)})
    assert response.status_code == 302
    assert services.find_facility("TTYT-002").parent.code == "SYT-01"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "facilities.import")).one()
    assert event.after["source"] == "trung tâm Hà Nội.csv" and event.actor_name == "admin01"
    # the same file again: every row unchanged, nothing to confirm
    html = upload(client, hn, data).get_data(as_text=True)
    assert "Mọi dòng đều không đổi" in html and "Nhập 2 dòng" not in html


def test_a_file_with_problems_shows_them_all_and_offers_no_confirmation(login_as, world):
    client = login_as("admin75")
    before = counts()
    response = upload(client, world.dong_nai.id, csv_file([
        ["TTYT-690", "TTYT 2", "", "", "00004", "01/01/2026", ""],
        ["TTYT-690", "TTYT 3", "", "", "99999", "01/01/2026", ""]]).getvalue())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "thuộc Thành phố Hà Nội, không thuộc Thành phố Đồng Nai" in html
    assert "Dòng 3, cột “Mã trung tâm”: Mã TTYT-690 trùng với dòng 2" in html
    assert "Không có xã/phường nào mang mã 99999" in html and 'name="token"' not in html
    assert counts() == before


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"%PDF-1.7", "ttyt.pdf", "không đúng loại"),
    (b"just text renamed", "ttyt.xlsx", "không phải bảng tính Excel hợp lệ"),
    (b"PK\x03\x04 broken", "ttyt.xlsx", "Không đọc được tệp Excel"),
    ("Ghi chú\nA\n".encode(), "ttyt.csv", "Không tìm thấy dòng tiêu đề"),
    ("Mã trung tâm,Tên trung tâm\nTTYT-1,A\n".encode(), "ttyt.csv", "Thiếu cột bắt buộc"),
])
def test_files_that_cannot_be_read_are_refused_on_the_page(login_as, world, data, name, words):
    client = login_as("admin75")
    before = counts()
    response = upload(client, world.dong_nai.id, data, name)
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert counts() == before


def test_a_50_mb_upload_is_refused_with_a_clear_message(login_as, world):
    client = login_as("admin75")
    response = upload(client, world.dong_nai.id, b"a" * (50 * 1024 * 1024 + 1), "big.csv")
    assert response.status_code == 413
    assert "vượt quá dung lượng cho phép" in response.get_data(as_text=True)


def test_a_staged_file_belongs_to_its_uploader(app, login_as, world, client):
    with app.test_request_context():
        item = staging.stage(io.BytesIO(b"x"), "a.csv", kind="facilities_centres", owner_id=world.users["hanoi_admin"].id)
    login_as("admin75")
    response = client.post(f"/facilities/province/{world.dong_nai.id}/import/confirm",
                           data={"csrf_token": csrf_token(client, "/"), "token": item.token})
    assert response.status_code == 404


def test_the_template_downloads_as_xlsx(login_as, world):
    client = login_as("admin75")
    response = client.get(f"/facilities/province/{world.dong_nai.id}/import/template")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]


def test_every_facility_page_renders_without_inline_code(login_as, world):
    from ..test_security_headers import InlineCode, nonce_of

    client = login_as("admin75")
    dn, centre = world.dong_nai.id, world.centre.id
    for url in ("/facilities/", f"/facilities/province/{dn}", f"/facilities/{centre}",
                f"/facilities/province/{dn}/new?kind=department", f"/facilities/province/{dn}/new?kind=health_centre",
                f"/facilities/province/{dn}/new?kind=station", f"/facilities/{centre}/edit", f"/facilities/{centre}/area",
                f"/facilities/{centre}/close", f"/facilities/province/{dn}/stations", f"/facilities/province/{dn}/import"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        scanner = InlineCode(nonce_of(response))
        scanner.feed(response.get_data(as_text=True))
        assert scanner.problems == [], (url, scanner.problems)

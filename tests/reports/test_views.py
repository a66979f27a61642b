"""The report page: what it shows, its downloads, its refusals (404 unknown, 403 out of scope,
422 bad period, 400 unknown format), and the background job over several provinces."""

from __future__ import annotations

import io
from datetime import date

import pytest
from python_calamine import CalamineWorkbook

from danso_network.auth import services as auth_services
from danso_network.auth.models import Role
from danso_network.extensions import db
from danso_network.jobs.models import Job

Q1 = {"year": "2026", "quarter": "1"}


def url(**args) -> str:
    from urllib.parse import urlencode

    return "/reports/network?" + urlencode(args)


def test_needs_login(client, world):
    response = client.get("/reports/network")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_no_grant_is_refused(world, login_as):
    assert login_as("chuacapquyen").get("/reports/network").status_code == 403


def test_station_head_lands_on_their_commune(network, login_as):
    w = network.world
    html = login_as("truongtram_a").get(url(**Q1)).get_data(as_text=True)
    assert w.commune_a.full_name in html and w.commune_b.full_name not in html
    assert f'value="unit-{w.commune_a.id}" selected' in html
    assert "quý I năm 2026" in html and "Tải XLSX" in html and "Tải PDF" in html
    assert "31/12/2025" in html  # the roster of the day before is "at the start"


def test_centre_officer_lands_on_the_centre(network, login_as):
    w = network.world
    html = login_as("ttyt689").get(url(**Q1)).get_data(as_text=True)
    assert f'value="centre-{w.centre.id}" selected' in html
    assert w.commune_a.full_name in html and w.commune_b.full_name in html
    assert "7.660.714" in html or "7,660,714" in html  # the allowance of the quarter


def test_province_admin_chooses_among_centres_and_communes(network, login_as):
    w = network.world
    html = login_as("admin75").get(url(**Q1)).get_data(as_text=True)
    for key in (f"unit-{w.dong_nai.id}", f"centre-{w.centre.id}", f"unit-{w.commune_a.id}", f"unit-{w.commune_b.id}"):
        assert f'value="{key}"' in html
    assert f'value="unit-{w.hanoi.id}"' not in html


@pytest.mark.parametrize("area, status", [
    ("unit-{b}", 403),  # another commune
    ("centre-{centre}", 403),  # a centre serving more than commune A
    ("unit-{hanoi}", 403),
    ("unit-{hamlet}", 404),  # a hamlet has no report of its own
    ("unit-99999999", 404),
    ("centre-{station}", 404),  # a station is not a health centre
    ("nonsense", 404),
])
def test_areas_out_of_scope_or_unknown(network, login_as, area, status):
    w = network.world
    key = area.format(b=w.commune_b.id, centre=w.centre.id, hanoi=w.hanoi.id, hamlet=w.hamlets_a[0].id,
                      station=w.station_a.id)
    client = login_as("truongtram_a")
    assert client.get(url(area=key, **Q1)).status_code == status
    assert client.get(url(area=key, format="xlsx", **Q1)).status_code == status


@pytest.mark.parametrize("args, message", [
    ({"year": "2026", "quarter": "1", "month": "2"}, "không chọn cả hai"),
    ({"year": "2026", "quarter": "9"}, "Quý phải từ 1 đến 4"),
    ({"year": "abc"}, "không phải là một số"),
    ({"year": "2024"}, "chỉ có dữ liệu từ ngày 01/07/2025"),
    ({"year": "2099"}, "chưa bắt đầu"),
])
def test_bad_periods_are_explained(network, login_as, args, message):
    client = login_as("truongtram_a")
    response = client.get(url(**args))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get(url(format="pdf", **args)).status_code == 422


def test_unknown_format(network, login_as):
    response = login_as("truongtram_a").get(url(format="docx", **Q1))
    assert response.status_code == 400
    assert "Định dạng “docx” không được hỗ trợ" in response.get_data(as_text=True)


def test_xlsx_download(network, login_as):
    w = network.world
    response = login_as("admin75").get(url(area=f"unit-{w.dong_nai.id}", format="xlsx", **Q1))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "bao-cao-mang-luoi-ctv-quy-i-nam-2026-thanh-pho-dong-nai.xlsx" in response.headers["Content-Disposition"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    assert book.sheet_names[:2] == ["Theo xã, phường", "Theo trung tâm y tế"]
    rows = book.get_sheet_by_name("Theo xã, phường").to_python()
    header = next(r for r in rows if r and r[0] == "Mã")
    total = next(r for r in rows if len(r) > 1 and r[1] == "Tổng cộng")
    assert total[header.index("CTV cuối kỳ")] == 6
    assert total[header.index("Bồi dưỡng đã chi (đồng)")] == 7_660_714
    centres = book.get_sheet_by_name("Theo trung tâm y tế").to_python()
    assert any(r and r[0] == w.centre.name for r in centres)


def test_pdf_download(network, login_as):
    w = network.world
    response = login_as("ttyt689").get(url(area=f"centre-{w.centre.id}", format="pdf", **Q1))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "bao-cao-mang-luoi-ctv-quy-i-nam-2026-trung-tam-y-te-khu-vuc-dong-xoai.pdf" in \
        response.headers["Content-Disposition"]


def test_empty_area_downloads(world, login_as):
    """An area without a collaborator is a valid report of zeros."""
    response = login_as("admin01").get(url(format="xlsx", **Q1))
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.data)).get_sheet_by_name("Theo xã, phường").to_python()
    header = next(r for r in rows if r and r[0] == "Mã")
    [ba_dinh] = [r for r in rows if len(r) > 1 and r[1] == "Phường Ba Đình"]
    assert ba_dinh[header.index("CTV cuối kỳ")] == 0 and ba_dinh[header.index("Số thôn/tổ dân phố")] == 1


def test_several_provinces_download_in_the_background(network, login_as):
    w = network.world
    both = w.users["admin"]
    auth_services.grant_role(both, Role.PROVINCE_ADMIN, unit=w.hanoi, valid_from=date(2025, 1, 1))
    db.session.commit()
    client = login_as("admin75")
    page = client.get(url(area="scope", **Q1)).get_data(as_text=True)
    assert "Tỉnh/thành phố" in page and "chế độ nền" in page
    response = client.get(url(area="scope", format="xlsx", **Q1))
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    job = db.session.query(Job).order_by(Job.id.desc()).first()
    assert job.kind == "network_report" and job.state == "done", job.error
    assert job.params == {"area": "scope", "format": "xlsx", "year": 2026, "quarter": 1}
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200 and download.data.startswith(b"PK")


def test_navbar_links_the_page(network, login_as):
    assert 'href="/reports/network"' in login_as("truongtram_a").get("/").get_data(as_text=True)


def test_the_year_shows_the_targets(network, login_as):
    from danso_network.targets.services import set_targets

    w = network.world
    set_targets(w.commune_a, 2026, {"supervision_visits": 1}, actor=w.users["admin"], valid_from=date(2026, 1, 1))
    db.session.commit()
    html = login_as("truongtram_a").get(url(year="2026")).get_data(as_text=True)
    assert "Chỉ tiêu năm 2026" in html and 'data-verdict="met"' in html


@pytest.mark.parametrize("params, error", [
    ({"format": "docx", "year": 2026}, "ValidationFailed"),
    ({"format": "xlsx", "year": 2026, "quarter": 7}, "ValidationFailed"),
    ({"format": "xlsx", "year": 2024, "area": "unit-{a}"}, "ValidationFailed"),
    ({"format": "xlsx", "year": 2026, "area": "unit-{b}"}, "PermissionDenied"),
    ({"format": "xlsx", "year": 2026, "area": "unit-99999999"}, "NotFound"),
])
def test_the_job_checks_its_params(network, params, error):
    from danso_network.jobs import services as jobs

    w = network.world
    params = {k: v.format(a=w.commune_a.id, b=w.commune_b.id) if isinstance(v, str) else v
              for k, v in params.items()}
    with pytest.raises(Exception) as refused:
        jobs.submit("network_report", params, w.users["head_a"])
    assert type(refused.value).__name__ == error


def test_the_job_makes_the_file(network):
    from danso_network.jobs import services as jobs

    w = network.world
    job = jobs.submit("network_report", {"format": "pdf", "year": 2026, "quarter": 1}, w.users["head_a"])
    assert job.state == "done", job.error
    assert job.params == {"area": f"unit-{w.commune_a.id}", "format": "pdf", "year": 2026, "quarter": 1}
    assert job.result_filename == "bao-cao-mang-luoi-ctv-quy-i-nam-2026-phuong-binh-phuoc.pdf"

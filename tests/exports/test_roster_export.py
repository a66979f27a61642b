"""Roster, quota and coverage downloads (issue #11, item 1): each format's content for each role,
the page's filters carried, personal data per policy, empty results, bad input, the job path."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from danso_network.collaborators.services import RosterFilters
from danso_network.common.clock import today
from danso_network.exports import services
from danso_network.exports.writer import UTF8_BOM

from ..conftest import login
from .roster_data import FORMULA_NAME, csv_rows, table, xlsx_sheets

HIDDEN = "(ẩn)"


def _get(client, url: str, **args):
    return client.get(url, query_string=args)


def _roster_xlsx(client, unit_id: int, **args):
    response = _get(client, f"/exports/roster/{unit_id}", format="xlsx", **args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return xlsx_sheets(response.data)


# --- the province officer: all five formats -------------------------------------------------------


def test_province_officer_downloads_the_dong_nai_roster_in_every_format(login_as, world, people):
    client = login_as("admin75")
    for fmt, mimetype, magic in [("xlsx", "spreadsheetml", b"PK"), ("csv", "text/csv", UTF8_BOM.encode()),
                                 ("pdf", "application/pdf", b"%PDF"), ("geojson", "geo+json", b"{"),
                                 ("gpkg", "geopackage", b"SQLite format 3")]:
        response = _get(client, f"/exports/roster/{world.dong_nai.id}", format=fmt)
        assert response.status_code == 200, (fmt, response.get_data(as_text=True)[:300])
        assert mimetype in response.mimetype
        assert response.content_type.count("charset") <= 1, response.content_type
        assert response.data.startswith(magic), fmt
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment; filename=\"")
        ascii_name = re.search(r'filename="([^"]+)"', disposition).group(1)
        assert ascii_name.isascii() and ascii_name.endswith("." + fmt)
        assert "thanh-pho-dong-nai" in ascii_name and today().isoformat() in ascii_name
        vietnamese = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
        assert "Thành phố Đồng Nai" in vietnamese


def test_xlsx_has_the_title_block_the_roster_and_the_vacant_hamlets(login_as, world, people):
    sheets = _roster_xlsx(login_as("admin75"), world.dong_nai.id)
    names = list(sheets)
    assert names == ["Danh sách CTV", "Thôn chưa có CTV"]
    roster = sheets["Danh sách CTV"]
    block = [row[0] for row in roster[:6]]
    assert block[0] == "Danh sách cộng tác viên dân số"
    assert "Thành phố Đồng Nai" in block
    assert f"Tính đến ngày {today():%d/%m/%Y}" in block
    assert any(str(line).startswith("Bộ lọc: Tình trạng: Đang phụ trách") for line in block)
    assert "Tổng số: 3 cộng tác viên" in block
    header, rows = table(roster)
    assert header[:8] == ["STT", "Họ và tên", "Năm sinh", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại",
                          "Thôn/tổ dân phố"]
    by_name = {r[1]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(by_name) == {"Nguyễn Thị Lan", "Trần Thị Hoa", "'" + FORMULA_NAME}  # formula neutralised
    lan = by_name["Nguyễn Thị Lan"]
    assert lan["Năm sinh"] == 1990 and isinstance(lan["Năm sinh"], int | float)
    assert str(lan["Ngày sinh"]).startswith("1990-05-17")  # a real date
    assert lan["Số CCCD"] == people.lan.candidate.national_id and lan["Điện thoại"] == "0911000001"
    assert lan["Xã/phường"] == "Bình Phước" and lan["Kiêm YTTB"] == "Có"
    assert str(lan["Phụ trách từ"]).startswith("2025-09-01")
    assert lan["Thâm niên (năm)"] == 1
    assert by_name["'" + FORMULA_NAME]["Tình trạng"] == "Tạm đình chỉ"
    assert [r[0] for r in rows] == [1, 2, 3]
    vacant_header, vacant = table(sheets["Thôn chưa có CTV"])
    assert vacant_header[:4] == ["STT", "Thôn/tổ dân phố", "Xã/phường", "Số hộ"]
    # Nobody active: Ấp 2 (nobody ever), Khu phố 2 (its collaborator suspended); longest first.
    assert [(r[1], r[2], r[3]) for r in vacant] == [("Ấp 2", "Xã Đồng Xoài", 90),
                                                    ("Khu phố 2", "Phường Bình Phước", 420)]
    assert vacant[0][5] > vacant[1][5] == (today() - date(2026, 11, 1)).days  # days without, a number


def test_csv_is_one_header_row_then_the_rows(login_as, world, people):
    response = _get(login_as("admin75"), f"/exports/roster/{world.dong_nai.id}", format="csv")
    rows = csv_rows(response.data)
    assert rows[0][:3] == ["STT", "Họ và tên", "Năm sinh"]
    assert len(rows) == 4
    assert {r[1] for r in rows[1:]} == {"Nguyễn Thị Lan", "Trần Thị Hoa", "'" + FORMULA_NAME}
    lan = next(r for r in rows if r[1] == "Nguyễn Thị Lan")
    assert lan[5] == people.lan.candidate.national_id


def test_pdf_document_has_the_official_heading_and_signature(app, world, people):
    from danso_network.exports.pdf import render_html

    filters = RosterFilters(as_of=today())
    document = services.roster_document([world.dong_nai.path], filters, user=world.users["admin"],
                                        title=world.dong_nai.full_name, unit=world.dong_nai)
    assert document.heading is not None
    html = render_html(document)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in html
    assert "Độc lập - Tự do - Hạnh phúc" in html
    assert document.heading.signer_title.upper() in html or document.heading.signer_title in html
    assert "Nguyễn Thị Lan" in html and "Ấp 2" in html


# --- roles and personal data ------------------------------------------------------------------------


def test_viewer_gets_no_identity_number_phone_or_birth_date(login_as, world, people):
    client = login_as("xem_b")
    header, rows = table(_roster_xlsx(client, world.commune_b.id)["Danh sách CTV"])
    (hoa,) = [dict(zip(header, r, strict=True)) for r in rows]
    assert hoa["Họ và tên"] == "Trần Thị Hoa"
    assert hoa["Số CCCD"] == HIDDEN and hoa["Điện thoại"] == HIDDEN and hoa["Ngày sinh"] == HIDDEN
    assert hoa["Năm sinh"] == 1990
    csv_data = _get(client, f"/exports/roster/{world.commune_b.id}", format="csv").data
    assert people.hoa.candidate.national_id.encode() not in csv_data
    assert b"0911000003" not in csv_data
    assert HIDDEN.encode() in csv_data
    for fmt in ("pdf", "geojson", "gpkg"):
        data = _get(client, f"/exports/roster/{world.commune_b.id}", format=fmt).data
        assert people.hoa.candidate.national_id.encode() not in data


def test_station_head_exports_own_commune_only(login_as, world, people):
    client = login_as("truongtram_a")
    header, rows = table(_roster_xlsx(client, world.commune_a.id)["Danh sách CTV"])
    assert {r[1] for r in rows} == {"Nguyễn Thị Lan", "'" + FORMULA_NAME}
    assert all(r[5] not in (HIDDEN, "") for r in rows)  # their own commune: CCCD shown
    for fmt in services.FORMATS:
        assert _get(client, f"/exports/roster/{world.commune_b.id}", format=fmt).status_code == 403
        assert _get(client, f"/exports/roster/{world.dong_nai.id}", format=fmt).status_code == 403
    assert _get(client, f"/exports/roster/centre/{world.centre.id}", format="csv").status_code == 403
    assert _get(client, f"/exports/quota/{world.commune_b.id}", format="csv").status_code == 403
    assert _get(client, f"/exports/coverage/{world.commune_b.id}", format="csv").status_code == 403


def test_scope_export_of_a_station_head_is_their_commune(login_as, world, people):
    response = _get(login_as("truongtram_a"), "/exports/roster", format="csv")
    assert response.status_code == 200
    rows = csv_rows(response.data)
    assert {r[1] for r in rows[1:]} == {"Nguyễn Thị Lan", "'" + FORMULA_NAME}
    assert "phuong-binh-phuoc" in response.headers["Content-Disposition"]


def test_centre_officer_exports_the_centre_roster(login_as, world, people):
    client = login_as("ttyt689")
    response = _get(client, f"/exports/roster/centre/{world.centre.id}", format="xlsx")
    assert response.status_code == 200
    sheets = xlsx_sheets(response.data)
    roster = sheets["Danh sách CTV"]
    assert "Trung tâm Y tế khu vực Đồng Xoài" in [row[0] for row in roster[:5]]
    _header, rows = table(roster)
    assert {r[1] for r in rows} == {"Nguyễn Thị Lan", "Trần Thị Hoa", "'" + FORMULA_NAME}
    assert _get(client, f"/exports/roster/{world.hanoi.id}", format="csv").status_code == 403
    assert _get(client, f"/exports/roster/{world.dong_nai.id}", format="csv").status_code == 403


def test_unknown_unit_or_centre_is_404(login_as, world, people):
    client = login_as("admin75")
    assert _get(client, "/exports/roster/999999", format="csv").status_code == 404
    assert _get(client, "/exports/roster/centre/999999", format="csv").status_code == 404


def test_user_without_grant_is_refused(login_as, world, people):
    client = login_as("chuacapquyen")
    assert _get(client, "/exports/roster", format="csv").status_code == 403
    assert _get(client, "/exports/coverage", format="csv").status_code == 403


# --- filters, dates, empty results ------------------------------------------------------------------


def test_filters_are_applied_and_written_in_words(login_as, world, people):
    client = login_as("admin75")
    sheets = _roster_xlsx(client, world.dong_nai.id, status="suspended", sort="hamlet")
    block = [row[0] for row in sheets["Danh sách CTV"][:6]]
    assert any("Tình trạng: Tạm đình chỉ" in str(line) and "Sắp xếp theo: Thôn/tổ dân phố" in str(line)
               for line in block)
    _header, rows = table(sheets["Danh sách CTV"])
    assert [r[1] for r in rows] == ["'" + FORMULA_NAME]
    rows = csv_rows(_get(client, f"/exports/roster/{world.dong_nai.id}", format="csv", vhw="1").data)
    assert [r[1] for r in rows[1:]] == ["Nguyễn Thị Lan"]
    rows = csv_rows(_get(client, f"/exports/roster/{world.dong_nai.id}", format="csv", difficult="1").data)
    assert [r[1] for r in rows[1:]] == ["Trần Thị Hoa"]


def test_ended_roster_has_when_and_why(login_as, world, people):
    from danso_network.collaborators import services as roster_services
    from danso_network.extensions import db

    roster_services.terminate_collaborator(people.hoa, on=date(2026, 10, 1), reason="resigned", actor=None)
    db.session.commit()
    rows = csv_rows(_get(login_as("admin75"), f"/exports/roster/{world.dong_nai.id}", format="csv",
                         status="ended").data)
    assert "Nghỉ từ" in rows[0] and "Lý do nghỉ" in rows[0]
    hoa = dict(zip(rows[0], rows[1], strict=True))
    assert hoa["Họ và tên"] == "Trần Thị Hoa" and hoa["Nghỉ từ"] == "2026-10-01" and hoa["Lý do nghỉ"] == "Xin nghỉ"


def test_a_past_date_gives_the_roster_of_that_day(login_as, world, people):
    rows = csv_rows(_get(login_as("admin75"), f"/exports/roster/{world.dong_nai.id}", format="csv",
                         as_of="01/08/2025").data)
    assert rows[1:] == []  # appointed 01/09/2025: nobody yet


def test_empty_result_is_a_valid_file_with_headers_and_no_rows(login_as, world, people):
    client = login_as("admin75")
    sheets = _roster_xlsx(client, world.dong_nai.id, q="khong co ai ten nay")
    roster = sheets["Danh sách CTV"]
    start = next(i for i, row in enumerate(roster) if row[0] == "STT")
    assert roster[start + 1][0] == f"Không có cộng tác viên nào phù hợp với bộ lọc vào ngày {today():%d/%m/%Y}."
    rows = csv_rows(_get(client, f"/exports/roster/{world.dong_nai.id}", format="csv", q="zzz").data)
    assert len(rows) == 1 and rows[0][0] == "STT"
    pdf = _get(client, f"/exports/roster/{world.dong_nai.id}", format="pdf", q="zzz")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    gpkg = _get(client, f"/exports/roster/{world.hanoi.id}", format="gpkg", hamlet_type="ap")
    assert gpkg.status_code == 403  # admin75 is not Hà Nội's
    gpkg = _get(client, f"/exports/roster/{world.dong_nai.id}", format="gpkg", hamlet_type="ban")
    assert gpkg.status_code == 200 and gpkg.headers["X-Hamlets-Without-Geometry"] == "0"


def test_unknown_format_is_400_with_a_message_not_the_page(login_as, world, people):
    client = login_as("admin75")
    for bad in ("docx", ""):
        response = _get(client, f"/exports/roster/{world.dong_nai.id}", format=bad)
        assert response.status_code == 400
        text = response.get_data(as_text=True)
        assert "không được hỗ trợ" in text and "xlsx, csv, pdf, geojson, gpkg" in text
        assert "Bộ lọc" not in text  # not the roster page
    response = _get(client, f"/exports/roster/{world.dong_nai.id}", format="xlsx", as_of="31/02/2026")
    assert response.status_code == 400 and "không hợp lệ" in response.get_data(as_text=True)
    response = _get(client, f"/exports/roster/{world.dong_nai.id}", format="xlsx", status="nobody")
    assert response.status_code == 400


def test_a_date_before_any_data_is_refused_with_the_day_data_begin(login_as, world, people):
    response = _get(login_as("admin75"), f"/exports/roster/{world.commune_a.id}", format="xlsx",
                    as_of="01/01/2024")
    assert response.status_code == 422
    assert "01/07/2025" in response.get_data(as_text=True)


# --- quota and coverage -------------------------------------------------------------------------------


def test_quota_export_has_the_quota_rows_and_totals(login_as, world, people):
    client = login_as("admin75")
    sheets = xlsx_sheets(_get(client, f"/exports/quota/{world.commune_a.id}", format="xlsx").data)
    (rows,) = sheets.values()
    header, data = table(rows)
    assert header[:5] == ["STT", "Xã/phường", "Thôn/tổ dân phố", "Số hộ", "Định mức"]
    assert [r[2] for r in data] == ["Khu phố 1", "Khu phố 2"]
    totals = rows[header_rows_end(rows)]
    assert totals[0] == "Tổng cộng" and totals[3] == 600
    under = csv_rows(_get(client, f"/exports/quota/{world.commune_a.id}", format="csv", flag="under").data)
    assert [r[2] for r in under[1:]] == ["Khu phố 2"]  # its only collaborator is suspended


def header_rows_end(rows):
    start = next(i for i, row in enumerate(rows) if row[0] == "STT")
    end = start + 1
    while isinstance(rows[end][0], int | float):
        end += 1
    return end


def test_coverage_export_lists_the_hamlets_with_their_figures(login_as, world, people):
    client = login_as("ttyt689")
    rows = csv_rows(_get(client, f"/exports/coverage/centre/{world.centre.id}", format="csv").data)
    header = rows[0]
    assert header[:4] == ["STT", "Xã/phường", "Thôn/tổ dân phố", "Số hộ"]
    figures = {r[2]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(figures) == {"Khu phố 1", "Khu phố 2", "Ấp Tân Lập", "Ấp 2"}
    assert figures["Ấp 2"]["Tình trạng"] == "Chưa có CTV" and figures["Ấp 2"]["CTV đang hoạt động"] == "0"
    assert figures["Khu phố 2"]["Tạm đình chỉ"] == "1"
    sheets = xlsx_sheets(_get(client, f"/exports/coverage/centre/{world.centre.id}", format="xlsx").data)
    block = [row[0] for row in sheets["Bao phủ CTV"][:5]]
    assert "Thôn/tổ dân phố đủ định mức CTV: 1/4 (25,0%)" in block
    # The province map, of which the centre officer reaches a part: that part.
    response = _get(client, f"/exports/coverage/{world.dong_nai.id}", format="csv", flag="difficult")
    assert response.status_code == 200
    assert [r[2] for r in csv_rows(response.data)[1:]] == ["Ấp Tân Lập"]


# --- the buttons on the pages ---------------------------------------------------------------------------


def _links(html: str) -> dict[str, dict]:
    found = {}
    for href in re.findall(r'href="(/exports/[^"]+)"', html):
        url = urlparse(href.replace("&amp;", "&"))
        args = {k: v[0] for k, v in parse_qs(url.query).items()}
        found[args["format"]] = {"path": url.path, **args}
    return found


def test_roster_page_buttons_carry_the_date_and_filters(login_as, world, people):
    client = login_as("admin75")
    html = _get(client, f"/collaborators/roster/{world.dong_nai.id}", status="active", vhw="1",
                as_of="01/12/2026", sort="hamlet", page="2").get_data(as_text=True)
    links = _links(html)
    assert set(links) == set(services.FORMATS)
    xlsx = links["xlsx"]
    assert xlsx["path"] == f"/exports/roster/{world.dong_nai.id}"
    assert xlsx["as_of"] == "2026-12-01" and xlsx["status"] == "active" and xlsx["vhw"] == "1"
    assert xlsx["sort"] == "hamlet" and "page" not in xlsx
    assert client.get(html_unescape(re.search(r'href="(/exports/roster/[^"]+format=xlsx[^"]*)"', html).group(1))
                      ).status_code == 200
    html = _get(client, f"/collaborators/roster/centre/{world.centre.id}").get_data(as_text=True)
    assert _links(html)["csv"]["path"] == f"/exports/roster/centre/{world.centre.id}"
    html = _get(client, "/collaborators/roster").get_data(as_text=True)
    assert _links(html)["pdf"]["path"] == "/exports/roster"


def html_unescape(text: str) -> str:
    return text.replace("&amp;", "&")


def test_quota_and_map_pages_have_download_buttons(login_as, world, people):
    client = login_as("admin75")
    links = _links(_get(client, f"/collaborators/quota/{world.commune_a.id}", flag="under",
                        as_of="2026-12-01").get_data(as_text=True))
    assert links["xlsx"] == {"path": f"/exports/quota/{world.commune_a.id}", "as_of": "2026-12-01",
                             "flag": "under", "format": "xlsx"}
    links = _links(_get(client, f"/maps/unit/{world.commune_b.id}", flag="difficult").get_data(as_text=True))
    assert links["gpkg"]["path"] == f"/exports/coverage/{world.commune_b.id}"
    assert links["gpkg"]["flag"] == "difficult"
    links = _links(_get(client, f"/maps/centre/{world.centre.id}").get_data(as_text=True))
    assert links["geojson"]["path"] == f"/exports/coverage/centre/{world.centre.id}"


# --- the background job ---------------------------------------------------------------------------------


@pytest.fixture
def small_inline_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", 2)


def test_a_large_export_becomes_a_job_and_its_file_is_the_same(app, login_as, world, people, small_inline_limit):
    client = login_as("admin75")
    response = _get(client, f"/exports/roster/{world.dong_nai.id}", format="csv", status="")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert re.search(r"/jobs/\d+$", location), location
    from danso_network.jobs.models import Job

    job_id = int(location.rsplit("/", 1)[1])
    job = wait_for_job(job_id)
    assert job.kind == services.JOB_KIND and job.state == "done", job.error
    assert job.params["area"] == {"unit_id": world.dong_nai.id} and job.params["format"] == "csv"
    download = client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200
    rows = csv_rows(download.data)
    assert len(rows) == 4 and rows[0][0] == "STT"
    other = app.test_client()
    login(other, "truongtram_a")
    assert other.get(f"/jobs/{job_id}/download").status_code == 403  # only the owner downloads
    assert Job is not None


def wait_for_job(job_id: int, seconds: float = 30):
    """The job once finished (the in-process engine runs it in a thread)."""
    import time

    from danso_network.extensions import db
    from danso_network.jobs.models import Job

    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.state not in ("queued", "running") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_the_job_rechecks_scope_and_params(app, world, people):
    from danso_network.errors import DomainError

    head_a, head_b = world.users["head_a"], world.users["head_b"]
    check = services._checker("roster")
    params = {"format": "csv", "area": {"unit_id": world.commune_a.id}, "filters": {"as_of": today().isoformat()}}
    assert check(params, head_a)["list"] == "roster"
    for bad, user, status in [({**params, "area": {"unit_id": world.commune_b.id}}, head_a, 403),
                              (params, head_b, 403),  # somebody else's commune
                              ({**params, "format": "docx"}, head_a, 400),
                              ({**params, "filters": {"as_of": "hôm qua"}}, head_a, 400),
                              ({**params, "area": {"unit_id": 999999}}, head_a, 404)]:
        with pytest.raises(DomainError) as refused:
            check(bad, user)
        assert refused.value.status == status, bad


@pytest.mark.parametrize("status", [None, "active", "suspended", "ended"])
def test_the_fast_rows_are_roster_rows(app, world, people, status):
    """``roster_records`` reads ``roster_rows``' statement through Core: the same rows, same order."""
    from dataclasses import astuple, fields

    from danso_network.collaborators import services as roster_services
    from danso_network.collaborators.services import RosterRow
    from danso_network.extensions import db

    roster_services.terminate_collaborator(people.mai, on=date(2026, 10, 1), reason="resigned", actor=None)
    roster_services.start_duty(people.lan, "family_children", on=date(2026, 1, 5), actor=None)
    db.session.commit()
    filters = RosterFilters(as_of=today(), status=status)
    prefixes = [world.dong_nai.path, world.hanoi.path]
    expected = list(roster_services.roster_rows(prefixes, filters))
    assert expected  # every status has somebody
    found = list(services.roster_records(prefixes, filters))
    assert len(found) == len(expected)
    for record, row in zip(found, expected, strict=True):
        assert tuple(record[:17]) == astuple(row)[:17]
        assert record[services._PATH] == row.hamlet_path
        assert record[services._EXCEPTION] == row.residence_exception
        assert bool(record[services._FAMILY]) == row.family_children
        assert ("suspended" if record[services._SUSPENDED] else "active") == row.status or status == "ended"
    assert [f.name for f in fields(RosterRow)][17:] == [
        "status", "hamlet_path", "residence_exception", "family_children"]


def test_the_printed_roster_is_narrower_and_hides_what_the_viewer_may_not_see(app, world, people):
    viewer = world.users["viewer_b"]
    spec = services.spec_from_params({"format": "pdf", "area": {"unit_id": world.commune_b.id},
                                      "filters": {"as_of": today().isoformat()}}, viewer)
    document = services.build_document(spec, viewer)
    sheet = document.sheets[0]
    labels = [c.label for c in sheet.columns]
    assert labels == ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Điện thoại", "Thôn/tổ dân phố",
                      "Xã/phường", "Phụ trách từ", "Thâm niên (năm)", "Kiêm nhiệm", "Tình trạng"]
    (hoa,) = list(sheet.rows)
    assert hoa[1] == "Trần Thị Hoa" and hoa[2] == "1990" and hoa[4] == HIDDEN and hoa[5] == HIDDEN
    admin = world.users["admin"]
    spec = services.spec_from_params({"format": "pdf", "area": {"unit_id": world.commune_a.id},
                                      "filters": {"as_of": today().isoformat()}}, admin)
    rows = {r[1]: r for r in services.build_document(spec, admin).sheets[0].rows}
    lan = rows["Nguyễn Thị Lan"]
    assert lan[2] == date(1990, 5, 17) and lan[4] == people.lan.candidate.national_id and lan[10] == "YTTB"
    assert document.notes and "Nghị định 13/2023/NĐ-CP" in document.notes[-1]


def test_the_issuing_office_follows_the_area(app, world, people):
    def heading(area_params, user):
        spec = services.spec_from_params({"format": "pdf", "area": area_params,
                                          "filters": {"as_of": today().isoformat()}}, user)
        return services.build_document(spec, user).heading

    station = heading({"unit_id": world.commune_a.id}, world.users["head_a"])
    assert station.issuer == "Trạm Y tế Phường Bình Phước" and station.signer_title == "Trạm trưởng"
    assert station.superior == "Trung tâm Y tế khu vực Đồng Xoài" and station.place == "Đồng Nai"
    centre = heading({"facility_id": world.centre.id}, world.users["centre"])
    assert centre.issuer == "Trung tâm Y tế khu vực Đồng Xoài" and centre.signer_title == "Giám đốc"
    department = heading({"unit_id": world.dong_nai.id}, world.users["admin"])
    assert department.issuer == "Sở Y tế Thành phố Đồng Nai"
    assert heading({}, world.users["centre"]).issuer == "Sở Y tế Thành phố Đồng Nai"  # two communes of one province
    assert heading({}, None) is None  # the whole country: no office of the network issues it

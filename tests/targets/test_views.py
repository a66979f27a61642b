"""The annual-target pages: fail-closed access (403 out of scope, 404 unknown), the edit form
(re-displayed with the user's input and a Vietnamese message on bad input, CSRF, confirmation
before replacing a version), the area list (met / not met, printable, paginated), and the targets
shown on the commune page and the home dashboard."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.common import clock
from danso_network.extensions import db
from danso_network.targets import services
from danso_network.targets.models import CommuneTarget

from .conftest import YEAR

JAN = date(YEAR, 1, 1)
FORM = {"hamlets_covered_pct": "50", "collaborators_trained": "3", "supervision_visits": "4",
        "meeting_attendance_pct": "", "valid_from": "01/01/2026", "source": "KH 123/KH-TTYT", "note": ""}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(CommuneTarget))


def _edit(commune, year=YEAR) -> str:
    return f"/targets/communes/{commune.id}/edit?year={year}"


def _set(world, commune, values, *, who="centre", year=YEAR):
    services.set_targets(commune, year, values, actor=world.users[who], valid_from=date(year, 1, 1))
    db.session.commit()


# --- access -----------------------------------------------------------------------------------------


def test_a_station_head_reads_its_commune_and_nothing_else(world, browser):
    head = browser("truongtram_a")
    assert head.get(f"/targets/communes/{world.commune_a.id}?year={YEAR}").status_code == 200
    assert head.get(f"/targets/units/{world.commune_a.id}?year={YEAR}").status_code == 200
    for url in (f"/targets/communes/{world.commune_b.id}", f"/targets/communes/{world.commune_c.id}",
                f"/targets/units/{world.dong_nai.id}", f"/targets/units/{world.hanoi.id}",
                f"/targets/centres/{world.centre.id}"):
        assert head.get(url).status_code == 403, url


@pytest.mark.parametrize("url", [
    "/targets/communes/999999", "/targets/communes/{hamlet}", "/targets/communes/{province}",
    "/targets/units/{hamlet}", "/targets/centres/{station}", "/targets/centres/999999",
    "/targets/communes/999999/edit",
])
def test_unknown_or_wrong_kind_of_object_is_404(world, browser, url):
    url = url.format(hamlet=world.hamlets_a[0].id, province=world.dong_nai.id, station=world.station_a.id)
    assert browser("admin75").get(url).status_code == 404


@pytest.mark.parametrize("username", ["truongtram_a", "vienchuc_a", "xem_b", "admin01", "chuacapquyen"])
def test_only_the_province_and_the_centre_open_the_form(world, browser, username):
    user = browser(username)
    commune = world.commune_b if username == "xem_b" else world.commune_a
    assert user.get(_edit(commune)).status_code == 403
    assert user.post(_edit(commune), FORM).status_code == 403
    assert _count() == 0


def test_the_landing_goes_to_the_users_area(world, browser):
    assert browser("truongtram_a").get("/targets/").headers["Location"].endswith(
        f"/targets/units/{world.commune_a.id}?year={clock.today().year}")
    assert f"/targets/centres/{world.centre.id}" in browser("ttyt689").get("/targets/?year=2026").headers["Location"]
    assert f"/targets/units/{world.dong_nai.id}?year=2026" in browser("admin75").get(
        "/targets/?year=2026").headers["Location"]


def test_an_unreadable_year_falls_back_to_this_year_with_a_warning(world, browser):
    html = browser("admin75").get(f"/targets/communes/{world.commune_a.id}?year=1999").get_data(as_text=True)
    assert "Năm “1999” không hợp lệ" in html
    assert f"Chỉ tiêu năm {clock.today().year} của" in html
    for raw in ("abc", "20260", "9" * 5000):
        assert browser("admin75").get(f"/targets/units/{world.dong_nai.id}?year={raw}").status_code == 200


# --- the form ---------------------------------------------------------------------------------------


def test_the_centre_sets_targets_through_the_form(world, browser):
    centre = browser("ttyt689")
    page = centre.get(_edit(world.commune_a)).get_data(as_text=True)
    assert 'value="01/01/2026"' in page  # a first version is proposed from the start of the year
    response = centre.post(_edit(world.commune_a), FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/targets/communes/{world.commune_a.id}?year={YEAR}")
    version = db.session.scalar(select(CommuneTarget))
    assert (version.hamlets_covered_pct, version.collaborators_trained, version.meeting_attendance_pct) == (50, 3, None)
    assert version.source == "KH 123/KH-TTYT" and version.valid_from == JAN
    html = centre.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu chỉ tiêu năm 2026 của Phường Bình Phước, áp dụng từ ngày 01/01/2026." in html
    assert 'id="target-history"' in html and "KH 123/KH-TTYT" in html


def test_out_of_range_numbers_are_shown_beside_their_fields_with_the_input_kept(world, browser):
    response = browser("ttyt689").post(_edit(world.commune_a), {**FORM, "hamlets_covered_pct": "120",
                                                                 "collaborators_trained": "ba",
                                                                 "supervision_visits": "10000"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tỉ lệ phải là một số từ 0 đến 100 (ví dụ 92,5)." in html
    assert html.count("Phải là số nguyên từ 0 đến 9.999.") == 2
    assert 'value="120"' in html and 'value="ba"' in html and "KH 123/KH-TTYT" in html
    assert _count() == 0


def test_a_first_day_before_the_year_is_refused_by_the_service_beside_the_date(world, browser):
    response = browser("ttyt689").post(_edit(world.commune_a), {**FORM, "valid_from": "31/12/2025"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ngày áp dụng phải trong năm 2026 (từ 01/01/2026 đến 31/12/2026)." in html
    assert 'value="31/12/2025"' in html and 'value="50"' in html
    assert _count() == 0


def test_a_decimal_comma_is_read(world, browser):
    assert browser("ttyt689").post(_edit(world.commune_a), {**FORM, "meeting_attendance_pct": "92,5"}).status_code == 302
    assert str(db.session.scalar(select(CommuneTarget.meeting_attendance_pct))) == "92.5"


def test_a_post_without_the_csrf_token_changes_nothing(world, browser):
    assert browser("ttyt689").post(_edit(world.commune_a), FORM, csrf=False).status_code == 400
    assert _count() == 0


def test_replacing_a_version_asks_for_confirmation_first(world, browser):
    centre = browser("ttyt689")
    assert centre.post(_edit(world.commune_a), FORM).status_code == 302
    first = db.session.scalar(select(CommuneTarget))
    page = centre.get(_edit(world.commune_a)).get_data(as_text=True)
    assert 'id="replace-notice"' in page and f'name="current_id" type="hidden" value="{first.id}"' in page
    assert re.search(r'name="hamlets_covered_pct"[^>]*value="50"', page)  # prefilled, the Vietnamese way
    assert "KH 123/KH-TTYT" in page
    june = {**FORM, "supervision_visits": "6", "valid_from": "01/06/2026", "current_id": str(first.id)}
    asked = centre.post(_edit(world.commune_a), june)
    assert asked.status_code == 422
    assert "Vui lòng đánh dấu xác nhận để thay chỉ tiêu đang áp dụng từ ngày 01/01/2026." in asked.get_data(as_text=True)
    assert _count() == 1
    # Confirmed, but for a version that is no longer the latest (a stale page): asked again.
    assert centre.post(_edit(world.commune_a), {**june, "confirm": "y", "current_id": "0"}).status_code == 422
    assert _count() == 1
    assert centre.post(_edit(world.commune_a), {**june, "confirm": "y"}).status_code == 302
    db.session.expire_all()  # the request changed the first version in its own session
    versions = services.versions(world.commune_a, YEAR)
    assert [(v.valid_from, v.valid_to, v.supervision_visits) for v in versions] == [
        (date(YEAR, 6, 1), None, 6), (JAN, date(YEAR, 6, 1), 4)]


def test_a_same_day_version_is_announced_as_a_correction(world, browser):
    centre = browser("ttyt689")
    centre.post(_edit(world.commune_a), FORM)
    first = db.session.scalar(select(CommuneTarget))
    html = centre.post(_edit(world.commune_a), {**FORM, "current_id": str(first.id)}).get_data(as_text=True)
    assert "phiên bản sẽ được sửa lại" in html


def test_the_centre_is_sent_back_from_a_version_the_province_set(world, browser):
    _set(world, world.commune_a, {"supervision_visits": 4}, who="admin")
    response = browser("ttyt689").get(_edit(world.commune_a))
    assert response.status_code == 302 and f"/targets/communes/{world.commune_a.id}" in response.headers["Location"]
    html = browser("ttyt689").get(f"/targets/communes/{world.commune_a.id}?year={YEAR}").get_data(as_text=True)
    assert "chỉ quản trị viên cấp tỉnh được điều chỉnh" in html and _edit(world.commune_a) not in html


# --- the lists and pages ----------------------------------------------------------------------------


def _verdicts(html: str, commune_id: int) -> list[str]:
    row = re.search(rf'<tr data-commune="{commune_id}">.*?</tr>', html, re.S).group(0)
    return re.findall(r'data-verdict="([a-z_]+)"', row)


def test_the_area_list_shows_met_and_not_met_per_commune(world, year_world, browser):
    # Commune A in 2026: 4 visits, 60.0 % attendance; commune B: 1 trained (conftest).
    _set(world, world.commune_a, {"supervision_visits": 4, "meeting_attendance_pct": 60})
    _set(world, world.commune_b, {"collaborators_trained": 2})
    for user, url in (("ttyt689", f"/targets/centres/{world.centre.id}?year={YEAR}"),
                      ("admin75", f"/targets/units/{world.dong_nai.id}?year={YEAR}")):
        html = browser(user).get(url).get_data(as_text=True)
        assert "1/2 xã đạt chỉ tiêu" in html
        assert _verdicts(html, world.commune_a.id) == ["met", "met", "met"]  # two targets, then overall
        assert _verdicts(html, world.commune_b.id) == ["not_met", "not_met"]
        assert "data-print" in html and _edit(world.commune_a).replace("?", "?") in html.replace("&amp;", "&")
    head = browser("truongtram_a").get(f"/targets/units/{world.commune_a.id}?year={YEAR}").get_data(as_text=True)
    assert "1/1 xã đạt chỉ tiêu" in head and "/edit" not in head  # a station head only reads


def test_the_area_list_pages_in_sql_and_prints_everything(world, browser, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 1)
    admin = browser("admin75")
    first = admin.get(f"/targets/units/{world.dong_nai.id}?year={YEAR}").get_data(as_text=True)
    assert first.count('<tr data-commune="') == 1 and "Hiện tất cả để in" in first
    every = admin.get(f"/targets/units/{world.dong_nai.id}?year={YEAR}&all=1").get_data(as_text=True)
    assert every.count('<tr data-commune="') == 2


def test_the_commune_page_shows_the_years_targets_against_the_figures(world, year_world, browser):
    year = clock.today().year
    # Whatever the year: no target of 9,999 trained is reached, a target of 0 visits always is.
    _set(world, world.commune_a, {"collaborators_trained": 9999, "supervision_visits": 0}, year=year)
    html = browser("truongtram_a").get(f"/units/{world.commune_a.id}").get_data(as_text=True)
    section = re.search(r'<section class="card mt-3" id="commune-targets-section".*?</section>', html, re.S).group(0)
    assert f"Chỉ tiêu năm {year}" in section
    lines = dict(re.findall(r'<tr data-kind="([a-z_]+)">.*?data-verdict="([a-z_]+)"', section, re.S))
    assert lines == {"hamlets_covered_pct": "not_set", "collaborators_trained": "not_met",
                     "supervision_visits": "met", "meeting_attendance_pct": "not_set"}
    assert "/edit" not in section  # a station head does not set targets
    centre = browser("ttyt689").get(f"/units/{world.commune_a.id}").get_data(as_text=True)
    assert _edit(world.commune_a, year) in centre.replace("&amp;", "&")
    other = browser("truongtram_b").get(f"/units/{world.commune_b.id}").get_data(as_text=True)
    assert f"Chưa được giao chỉ tiêu năm {year}." in other


def test_the_dashboard_shows_a_communes_lines_and_an_areas_count(world, year_world, browser):
    year = clock.today().year
    _set(world, world.commune_a, {"collaborators_trained": 9999, "supervision_visits": 0}, year=year)
    head = browser("truongtram_a").get("/").get_data(as_text=True)
    block = re.search(r'<div class="border-top mt-3 pt-2" id="coverage-targets">.*?</ul>', head, re.S).group(0)
    assert f"Chỉ tiêu năm {year}" in block
    assert dict(re.findall(r'<li data-kind="([a-z_]+)">.*?data-verdict="([a-z_]+)"', block, re.S)) == {
        "collaborators_trained": "not_met", "supervision_visits": "met"}
    centre = browser("ttyt689").get("/").get_data(as_text=True)
    assert re.search(r'id="targets-met">0/1 xã đạt chỉ tiêu<', centre)
    other = browser("truongtram_b").get("/").get_data(as_text=True)
    assert f"Xã chưa được giao chỉ tiêu năm {year}." in other

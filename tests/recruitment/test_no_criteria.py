"""A province without recruitment criteria in force has no quota (issue #9 item 12): its hamlets'
quota is unknown on every page and in the API, no vacancy is invented beyond the national floor of
one collaborator per hamlet (TT 02/2021/TT-BYT), and what needs criteria (nominating, screening)
is refused with one message naming the province and sending its admin to the criteria page. The
presets (Gia Lai, Hải Dương) stay offered as presets the admin chooses."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.api.auth import issue_token
from danso_network.auth.models import User
from danso_network.collaborators import services as network
from danso_network.errors import Conflict
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import Application, ApplicationEvent, Candidate
from danso_network.recruitment.rules import QUOTA_PRESETS

from .. import factories
from ..conftest import csrf_token, login

DAY = date(2026, 2, 1)
REFUSAL = "chưa ban hành bộ tiêu chuẩn tuyển chọn CTV đang có hiệu lực"
UNKNOWN = "Chưa có tiêu chuẩn"


@pytest.fixture
def staffed(world):
    """Đồng Nai without criteria: Khu phố 1 (180 hộ) 1 CTV, Khu phố 2 (420 hộ) 1 CTV — below
    Gia Lai's 3 —, Ấp Tân Lập (300 hộ) and Ấp 2 (90 hộ) nobody. Hà Nội has Hải Dương's bands:
    Tổ dân phố 5 (500 hộ) → 2, nobody."""
    factories.appoint(world.hamlets_a[0], 1)
    factories.appoint(world.hamlets_a[1], 2)
    factories.criteria(world.hanoi, quota_bands=QUOTA_PRESETS["hai_duong"], quota_preset="hai_duong")
    db.session.commit()
    return world


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Candidate, Application,
                                                                                  ApplicationEvent))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _as(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def _criteria_link(province) -> str:
    return f'href="/criteria/{province.id}"'


# --- quota -----------------------------------------------------------------------------------------


def test_the_quota_of_a_province_without_criteria_is_unknown_not_gia_lais(staffed):
    w = staffed
    rows = {r.hamlet.name: r for r in network.quota_status(w.dong_nai, as_of=DAY)}
    assert {name: (r.quota, r.active, r.flag) for name, r in rows.items()} == {
        "Khu phố 1": (None, 1, "unknown"), "Khu phố 2": (None, 1, "unknown"),
        # Nobody at all is below the national floor of one per hamlet, whatever the bands.
        "Ấp Tân Lập": (None, 0, "under"), "Ấp 2": (None, 0, "under")}
    both = network.quota_summary([w.dong_nai.path, w.hanoi.path], as_of=DAY)
    # Only Hà Nội's quota (2) is summed; the four hamlets of Đồng Nai are counted apart.
    assert (both.hamlets, both.quota, both.active, both.without_quota) == (5, 2, 2, 4)
    assert (both.under, both.over, both.unknown, both.empty) == (3, 0, 2, 3)
    flagged = network.quota_page([w.dong_nai.path], as_of=DAY, flag="unknown")
    assert (flagged.total, [r.hamlet.name for r in flagged.rows]) == (2, ["Khu phố 1", "Khu phố 2"])
    assert network.quota_page([w.dong_nai.path], as_of=DAY, flag="ok").total == 0


def test_the_quota_follows_the_criteria_from_the_day_they_apply(staffed):
    w = staffed
    factories.criteria(w.dong_nai, valid_from=date(2026, 3, 1))
    assert network.quota_status(w.hamlets_a[1], as_of=DAY)[0].quota is None
    assert network.quota_status(w.hamlets_a[1], as_of=date(2026, 3, 1))[0].quota == 3


def test_quota_page_says_no_criteria_with_a_link_for_the_province_admin_only(app, staffed):
    w = staffed
    html = _text(_as(app, "admin75").get(f"/collaborators/quota/{w.dong_nai.id}?as_of=2026-02-01"))
    assert UNKNOWN in html and "Gia Lai" not in html
    assert "Thành phố Đồng Nai chưa có bộ tiêu chuẩn tuyển chọn CTV có hiệu lực ngày 01/02/2026" in html
    assert _criteria_link(w.dong_nai) in html
    html = _text(_as(app, "truongtram_a").get(f"/collaborators/quota/{w.commune_a.id}?as_of=2026-02-01"))
    assert UNKNOWN in html and _criteria_link(w.dong_nai) not in html
    assert "quản trị viên cấp tỉnh cần thiết lập" in html.lower()


# --- vacancies ---------------------------------------------------------------------------------------


def test_vacancies_invent_nothing_beyond_one_per_hamlet(staffed):
    w = staffed
    found = {v.hamlet.name: v for v in rs.vacancies([w.dong_nai.path, w.hanoi.path], DAY)}
    # Khu phố 2 (420 hộ, one in post) would lack two on Gia Lai's bands: not listed.
    assert sorted(found) == ["Tổ dân phố 5", "Ấp 2", "Ấp Tân Lập"]
    assert (found["Ấp Tân Lập"].quota, found["Ấp Tân Lập"].active, found["Ấp Tân Lập"].missing) == (None, 0, None)
    assert (found["Tổ dân phố 5"].quota, found["Tổ dân phố 5"].missing) == (2, 2)
    totals = rs.vacancy_totals([w.dong_nai.path, w.hanoi.path], rs.VacancyFilters(DAY))
    assert totals == rs.VacancyTotals(hamlets=3, empty=3, missing=2, unknown=2)
    page, paged = rs.vacancy_page([w.dong_nai.path, w.hanoi.path], rs.VacancyFilters(DAY), per_page=1)
    assert paged == totals and page.total == 3


def test_vacancy_page_and_api_say_which_quotas_are_unknown(app, client, staffed, login_as):
    w = staffed
    login_as("admin75")
    html = _text(client.get("/recruitment/vacancies"))
    assert UNKNOWN in html and _criteria_link(w.dong_nai) in html
    assert "Chưa tính 2 thôn/tổ dân phố" in html
    assert f"/recruitment/hamlets/{w.hamlets_b[0].id}/applications/new" not in html  # nominating is refused
    _, raw = issue_token(db.session.scalar(select(User).where(User.username == "ttyt689")))
    db.session.commit()
    body = app.test_client().get("/api/v1/vacancies", headers={"Authorization": f"Bearer {raw}"}).json
    rows = {r["hamlet"]["name"]: r for r in body["items"]}
    assert sorted(rows) == ["Ấp 2", "Ấp Tân Lập"]
    assert (rows["Ấp 2"]["quota"], rows["Ấp 2"]["missing"]) == (None, None)
    assert (body["empty"], body["missing"], body["unknown"]) == (2, 0, 2)
    assert body["no_criteria"] == [{"id": w.dong_nai.id, "code": "75", "name": "Đồng Nai",
                                    "full_name": "Thành phố Đồng Nai"}]


def test_api_quota_list_has_no_number_for_an_unknown_quota(app, staffed):
    w = staffed
    _, raw = issue_token(db.session.scalar(select(User).where(User.username == "ttyt689")))
    db.session.commit()
    body = app.test_client().get(f"/api/v1/units/{w.commune_a.id}/quota?as_of=2026-02-01",
                                 headers={"Authorization": f"Bearer {raw}"}).json
    assert [(r["quota"], r["flag"]) for r in body["items"]] == [(None, "unknown"), (None, "unknown")]
    assert (body["totals"]["quota"], body["totals"]["without_quota"], body["totals"]["unknown"]) == (0, 2, 2)
    assert [p["id"] for p in body["no_criteria"]] == [w.dong_nai.id]


# --- actions that need criteria ------------------------------------------------------------------


def test_nominating_is_refused_naming_the_province_and_nothing_is_written(world):
    before = _counts()
    with pytest.raises(Conflict) as refused:
        rs.create_application(**factories.candidate_fields(world.hamlets_b[0], 3), actor=world.users["head_b"])
    assert str(refused.value) == ("Thành phố Đồng Nai chưa ban hành bộ tiêu chuẩn tuyển chọn CTV đang có hiệu lực; "
                                  "quản trị viên cấp tỉnh cần thiết lập tại trang Tiêu chuẩn trước khi tiếp tục.")
    assert _counts() == before


def test_the_nomination_page_explains_instead_of_offering_a_form(client, world, login_as):
    login_as("truongtram_b")
    url = f"/recruitment/hamlets/{world.hamlets_b[0].id}/applications/new"
    html = _text(client.get(url))
    assert REFUSAL in html and 'name="full_name"' not in html
    before = _counts()
    data = {"csrf_token": csrf_token(client, "/"), "full_name": "Nguyễn Thị Ứng Viên 3", "date_of_birth": "1990-05-17",
            "sex": "female", "ethnicity": "Kinh", "national_id": factories.national_id(date(1990, 5, 17), "female", 3),
            "residence_hamlet": str(world.hamlets_b[0].id), "education": "lower_secondary"}
    response = client.post(url, data=data)
    assert response.status_code == 200 and REFUSAL in _text(response)
    assert _counts() == before


def test_the_api_refuses_a_nomination_with_409_and_the_reason(app, world):
    _, raw = issue_token(world.users["head_b"])
    db.session.commit()
    fields = factories.candidate_fields(world.hamlets_b[0], 4)
    body = {"hamlet_id": world.hamlets_b[0].id, "full_name": fields["full_name"],
            "date_of_birth": fields["date_of_birth"].isoformat(), "sex": "female", "ethnicity": "Kinh",
            "national_id": fields["national_id"], "residence_hamlet_id": world.hamlets_b[0].id,
            "education": "lower_secondary"}
    before = _counts()
    response = app.test_client().post("/api/v1/applications", json=body, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 409
    assert REFUSAL in response.json["error"] and "Thành phố Đồng Nai" in response.json["error"]
    assert _counts() == before


def test_screening_on_a_day_without_criteria_in_force_is_refused_with_the_same_message(world):
    factories.criteria(world.dong_nai)
    application = rs.create_application(**factories.candidate_fields(world.hamlets_b[0], 5), actor=world.users["head_b"])
    factories.complete_dossier(application, world.users["head_b"])
    rs.perform(application, "complete_dossier", actor=world.users["head_b"])
    with pytest.raises(Conflict, match=REFUSAL):
        rs.perform(application, "screen", actor=world.users["head_b"], on=date(2025, 6, 30))
    assert application.screening is None


# --- the criteria page -------------------------------------------------------------------------------


def test_criteria_page_of_a_province_without_criteria_explains_what_is_blocked(app, world):
    html = _text(_as(app, "admin75").get(f"/criteria/{world.dong_nai.id}"))
    notice = re.search(r'<section id="no-criteria"[^>]*>(.*?)</section>', html, re.S)
    assert notice, html[:3000]
    text = notice.group(1)
    assert "chưa ban hành bộ tiêu chuẩn" in text
    for blocked in ("giới thiệu được ứng viên mới", "sàng lọc", "định mức CTV"):
        assert blocked in text
    assert f'href="/criteria/{world.dong_nai.id}/versions/new"' in text and "Thiết lập bộ tiêu chuẩn" in text
    html = _text(_as(app, "xem_b").get(f"/criteria/{world.dong_nai.id}"))
    assert "chưa ban hành bộ tiêu chuẩn" in html and "/versions/new" not in html
    assert "quản trị viên cấp tỉnh cần thiết lập" in html.lower()


def test_a_first_version_offers_the_presets_without_choosing_one(client, world, login_as):
    login_as("admin75")
    html = _text(client.get(f"/criteria/{world.dong_nai.id}/versions/new"))
    assert "Gia Lai (QĐ 34/2023)" in html and "Hải Dương (NQ 2022)" in html
    assert '<option selected value="custom">' in html  # nothing borrowed from another province unasked
    assert re.search(r'name="bands-0-upper"[^>]*value="\d', html) is None

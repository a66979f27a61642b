"""Journeys (a) and (b) of issue #14 item 1, in a real browser.

(a) A station head opens a vacancy, registers a candidate with primary-school education in a
    difficult, ethnic-minority hamlet, meets the screening failure (TT 02/2021/TT-BYT Art. 2.1:
    such a candidate needs a written justification), writes the justification, screens again,
    reviews and submits the application for approval.
(b) Where the province's criteria say the area health centre approves, its officer approves a
    submitted application and issues the recognition decision, records the contract; the station
    head activates the collaborator, who appears on the commune's roster, and the hamlet turns
    from "pending" to "covered" on the commune's coverage map.

Each test builds its own application (the site's build holds both) and passes alone or in any
order. Every page: no console error, no CSP violation, no request leaving 127.0.0.1.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from shapely.geometry import box

from danso_network.common.clock import today
from danso_network.recruitment import services as rs
from danso_network.recruitment.workflow import Action
from danso_network.units.spatial import geometry_columns

from .. import factories
from .conftest import PHONE, assert_clean, serve, submit

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
CANDIDATE_A = "Điểu Thị Hoa"  # journey (a), registered through the form
CANDIDATE_B = "Võ Thị Phê Duyệt"  # journey (b), submitted by the build
MANUAL_CHECKS = ["RESPONSIBLE", "MOBILISES", "TRUSTED", "STABLE_WORK"]


def _build() -> dict:
    """The test world with the province's criteria (the health centre approves; Gia Lai quota
    bands), commune B's two hamlets drawn on the map, and one application for Ấp 2 (90
    households: quota 1) submitted by the station for journey (b)."""
    w = factories.build_world()
    factories.criteria(w.dong_nai)
    tan_lap, ap2 = w.hamlets_b
    for hamlet, shape in ((tan_lap, box(106.95, 11.50, 107.00, 11.60)), (ap2, box(107.00, 11.50, 107.05, 11.60))):
        for key, value in geometry_columns(shape).items():
            setattr(hamlet, key, value)
    head = w.users["head_b"]
    application = rs.create_application(**factories.candidate_fields(ap2, 51, full_name=CANDIDATE_B), actor=head)
    factories.complete_dossier(application, head)
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in MANUAL_CHECKS}}),
                          (Action.SUBMIT, {})]:
        rs.perform(application, action, actor=head, **extra)
    return {"commune_b": w.commune_b.id, "tan_lap": tan_lap.id, "ap2": ap2.id, "application_b": application.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory, "journey_recruitment", _build, LOGIN_RATE_LIMIT="100 per minute") as served:
        yield served


def on_screen(page, link) -> None:
    """At phone width the link is shown within the screen, not beyond a scrolled table's edge."""
    page.set_viewport_size(PHONE)
    try:
        place = link.bounding_box()
        assert link.is_visible() and place["x"] >= 0 and place["x"] + place["width"] <= PHONE["width"], place
    finally:
        page.set_viewport_size(DESKTOP)


def vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def state_badge(page) -> str:
    return page.locator("h1 .badge").first.inner_text()


def flash(page) -> str:
    return page.locator("main .alert-success").inner_text()


def test_a_station_head_registers_a_candidate_fixes_the_screening_and_submits(visitor, site, shoot):
    base_url, ids = site
    page = visitor(base_url, "truongtram_b", viewport=DESKTOP, outside=True)

    # The vacancy: Ấp Tân Lập (300 households, quota 2 in Gia Lai bands) has nobody yet.
    page.goto("/recruitment/vacancies")
    assert page.locator("h1").inner_text() == "Thôn/tổ dân phố còn thiếu cộng tác viên"
    vacancy = page.locator("tbody tr", has_text="Ấp Tân Lập")
    cells = vacancy.locator("td").all_inner_texts()
    assert cells[0] == "Xã Đồng Xoài" and cells[2:6] == ["300", "2", "0", "2"]
    assert_clean(page)
    shoot(page, "journey-a-vacancies")
    on_screen(page, vacancy.get_by_role("link", name="Giới thiệu ứng viên"))
    vacancy.get_by_role("link", name="Giới thiệu ứng viên").click()
    page.wait_for_url(f"**/recruitment/hamlets/{ids['tan_lap']}/applications/new")

    # The candidate: primary school only, in a difficult, ethnic-minority hamlet.
    born = date(1995, 3, 8)
    assert page.get_by_label("Ngày sinh", exact=True).get_attribute("type") == "text"  # typed day-first
    page.get_by_label("Họ và tên").fill(CANDIDATE_A)
    page.get_by_label("Ngày sinh", exact=True).fill(vn(born))
    page.get_by_label("Giới tính").select_option(label="Nữ")
    page.get_by_label("Dân tộc", exact=True).fill("S'tiêng")
    page.get_by_label("Số CCCD (12 chữ số)").fill(factories.national_id(born, "female", 41))
    assert page.get_by_label("Nơi cư trú (thôn/tổ dân phố)").input_value() == str(ids["tan_lap"])
    page.get_by_label("Trình độ học vấn").select_option(label="Hoàn thành tiểu học")
    page.get_by_label("Người/tổ chức giới thiệu").fill("Trưởng ấp Tân Lập")
    submit(page, page.get_by_role("button", name="Lưu hồ sơ ứng viên"))
    page.wait_for_url(re.compile(r".*/recruitment/applications/\d+$"))
    application_id = int(page.url.rsplit("/", 1)[1])
    assert flash(page).startswith(f"Đã lập hồ sơ ứng viên {CANDIDATE_A} cho Ấp Tân Lập.")
    assert state_badge(page) == "Được giới thiệu"
    assert "Người phê duyệt theo quy định của tỉnh: Trung tâm Y tế khu vực phê duyệt" in page.inner_text("main")

    # The dossier, then "complete" and the automatic screening.
    dossier = page.locator("#dossier")
    for label in ("Đơn tình nguyện", "Bản sao CCCD", "Bằng cấp / giấy chứng nhận trình độ học vấn",
                  "Giấy khám sức khỏe hoặc tự khai sức khỏe có xác nhận",
                  "Giới thiệu của trưởng thôn hoặc biên bản họp thôn"):
        dossier.get_by_label(label, exact=True).check()
    dossier.get_by_label("Ngày ký đơn tình nguyện").fill(vn(today()))
    submit(page, dossier.get_by_role("button", name="Lưu hồ sơ"))
    assert flash(page) == f"Đã lưu hồ sơ của {CANDIDATE_A}."
    submit(page, page.locator("#action-complete_dossier").get_by_role("button", name="Xác nhận đủ hồ sơ"))
    assert state_badge(page) == "Đủ hồ sơ"
    submit(page, page.locator("#action-screen").get_by_role("button", name="Sàng lọc tự động"))
    assert state_badge(page) == "Đã sàng lọc"

    # Screening failed on education: primary school needs the written justification.
    screening = page.locator(".card", has=page.locator(".card-header", has_text="Sàng lọc tự động")).first
    assert screening.locator(".badge").first.inner_text() == "Không đạt"
    education = screening.locator("tbody tr", has_text="Tốt nghiệp THCS trở lên")
    assert education.locator("td").nth(2).inner_text() == "Không đạt"
    assert "Trình độ tiểu học: cần giải trình không có người đạt THCS." in education.inner_text()
    assert_clean(page)
    shoot(page, "journey-a-screening-failed")

    # The fix: the justification, then screening again.
    page.locator("#dossier").get_by_label("Giải trình ngoại lệ trình độ").fill(
        "Ấp đồng bào S'tiêng; họp ấp ngày 02/11/2026 không có người tốt nghiệp THCS nhận nhiệm vụ.")
    submit(page, page.locator("#dossier").get_by_role("button", name="Lưu hồ sơ"))
    assert flash(page) == f"Đã lưu hồ sơ của {CANDIDATE_A}."
    submit(page, page.locator("#action-screen").get_by_role("button", name="Sàng lọc tự động"))
    screening = page.locator(".card", has=page.locator(".card-header", has_text="Sàng lọc tự động")).first
    assert screening.locator(".badge").first.inner_text() == "Đạt"
    education = screening.locator("tbody tr", has_text="Tốt nghiệp THCS trở lên")
    assert education.locator("td").nth(2).inner_text() == "Đạt"
    assert "Ngoại lệ tiểu học ở thôn khó khăn/DTTS" in education.inner_text()
    assert "Không đạt" not in screening.inner_text()

    # The station's review of the criteria it judges, then the submission list.
    review = page.locator("#action-review")
    boxes = review.locator("input[type=checkbox]")
    assert boxes.count() == len(MANUAL_CHECKS)
    for i in range(boxes.count()):
        boxes.nth(i).check()
    review.get_by_label("Thứ tự ưu tiên").fill("1")
    submit(page, review.get_by_role("button", name="Thẩm định tại trạm"))
    assert state_badge(page) == "Trạm đã thẩm định"
    assert_clean(page)

    page.goto("/recruitment/applications")
    assert page.locator("tbody tr", has_text=CANDIDATE_A).locator(".badge").inner_text() == "Trạm đã thẩm định"
    page.locator(".nav-tabs").get_by_role("link", name="Trình phê duyệt", exact=True).click()
    page.wait_for_url("**/recruitment/submit")
    row = page.locator("tbody tr", has_text=CANDIDATE_A)
    assert row.locator("td").nth(5).inner_text() == "Đạt"
    page.locator(f"#app-{application_id}").check()
    submit(page, page.get_by_role("button", name="Trình các hồ sơ đã chọn"))
    page.wait_for_url("**/recruitment/applications?state=submitted")
    assert flash(page) == "Đã trình phê duyệt 1 hồ sơ."
    submitted = page.locator("tbody tr", has_text=CANDIDATE_A)
    assert submitted.locator(".badge", has_text="Đã trình phê duyệt").count() == 1
    assert_clean(page)
    shoot(page, "journey-a-submitted")

    page.goto(f"/recruitment/applications/{application_id}")
    assert state_badge(page) == "Đã trình phê duyệt"
    assert "Bước tiếp theo do người có thẩm quyền khác thực hiện: Phê duyệt" in page.inner_text("main")
    assert_clean(page)


def hamlet_status(page, hamlet_id: int) -> str:
    """The status a hamlet is drawn with on the coverage map, read from the Leaflet layer."""
    page.wait_for_selector("#coverage-map[data-state=ready]", timeout=15000)
    return page.evaluate("""(id) => {
      const box = document.getElementById('coverage-map');
      let found = null;
      window[JSON.parse(box.dataset.groups).area].eachLayer(geo => geo.eachLayer(l => {
        if (l.feature.properties.id === id) found = l.feature.properties.status; }));
      return found;
    }""", hamlet_id)


def figure(page, term: str) -> str:
    return page.locator(".map-figures dt", has_text=term).locator("xpath=following-sibling::dd[1]").first.inner_text()


def test_the_centre_approves_and_the_collaborator_covers_the_hamlet(visitor, site, shoot):
    base_url, ids = site
    centre = visitor(base_url, "ttyt689", viewport=DESKTOP, outside=True)
    centre.on("dialog", lambda dialog: dialog.accept())  # "Áp dụng các lựa chọn…?"

    # The approver of Đồng Nai's criteria is the area health centre: its officer decides.
    centre.goto("/recruitment/approvals")
    assert centre.locator("h1").inner_text() == "Phê duyệt danh sách ứng viên"
    row = centre.locator("tbody tr", has_text=CANDIDATE_B)
    assert row.locator("td").nth(1).inner_text() == "Ấp 2"
    assert row.locator("td").nth(3).inner_text() == "Đạt"
    assert row.locator(".badge").inner_text() == "Đã trình phê duyệt"
    row.get_by_label("Phê duyệt", exact=True).check()
    assert_clean(centre)
    shoot(centre, "journey-b-approvals")
    submit(centre, centre.get_by_role("button", name="Áp dụng các lựa chọn"))
    centre.wait_for_url("**/recruitment/decisions/new")
    assert flash(centre) == "Đã phê duyệt 1 và từ chối 0 hồ sơ."

    # The recognition decision, with the approved application ticked.
    assert centre.locator("tbody tr", has_text=CANDIDATE_B).locator("input[type=checkbox]").is_checked()
    assert centre.get_by_label("Ngày quyết định").input_value() == vn(today())
    centre.get_by_label("Số quyết định").fill("15/QĐ-TTYT")
    centre.get_by_label("Người ký", exact=True).fill("Lê Văn An")
    centre.get_by_label("Chức vụ người ký").fill("Giám đốc")
    submit(centre, centre.get_by_role("button", name="Ban hành quyết định"))
    centre.wait_for_url(re.compile(r".*/recruitment/decisions/\d+$"))
    assert flash(centre) == "Đã ban hành Quyết định số 15/QĐ-TTYT công nhận 1 cộng tác viên."
    assert centre.locator("h1").inner_text() == "Quyết định công nhận số 15/QĐ-TTYT"
    annexed = centre.locator(".annex tbody tr", has_text=CANDIDATE_B)
    assert "Ấp 2" in annexed.inner_text() and "Xã Đồng Xoài" in annexed.inner_text()
    assert_clean(centre)
    shoot(centre, "journey-b-decision")

    # The responsibility contract.
    centre.goto(f"/recruitment/applications/{ids['application_b']}")
    assert state_badge(centre) == "Đã phê duyệt"
    contract = centre.locator("#action-contract")
    assert contract.get_by_label("Ngày ký hợp đồng").input_value() == vn(today())
    contract.get_by_label("Số hợp đồng").fill("07/2026/HĐTN")
    contract.get_by_label("Mức bồi dưỡng").fill("Mức chung")
    submit(centre, contract.get_by_role("button", name="Ký hợp đồng trách nhiệm"))
    assert state_badge(centre) == "Đã ký hợp đồng"
    assert f"ký ngày {vn(today())} · số 07/2026/HĐTN" in centre.inner_text("main")
    assert "Số 15/QĐ-TTYT ngày " + vn(today()) in centre.inner_text("main")
    assert_clean(centre)

    # Before activation the station's map shows the hamlet as pending (an application in progress).
    station = visitor(base_url, "truongtram_b", viewport=DESKTOP, outside=True)
    station.goto(f"/maps/unit/{ids['commune_b']}")
    assert hamlet_status(station, ids["ap2"]) == "pending"
    covered_before = int(figure(station, "Thôn/tổ dân phố đủ CTV").split("/")[0])

    # Activation by the station.
    station.goto(f"/recruitment/applications/{ids['application_b']}")
    activate = station.locator("#action-activate")
    assert activate.get_by_label("Ngày bắt đầu hoạt động").input_value() == vn(today())
    submit(station, activate.get_by_role("button", name="Bắt đầu hoạt động"))
    assert state_badge(station) == "Đang hoạt động"
    assert flash(station) == f"Đã thực hiện “Bắt đầu hoạt động” cho hồ sơ của {CANDIDATE_B}."
    assert_clean(station)

    # The roster of the commune lists the new collaborator, active in Ấp 2.
    station.goto(f"/collaborators/roster/{ids['commune_b']}")
    listed = station.locator("tbody tr", has_text=CANDIDATE_B)
    assert listed.count() == 1
    assert "Ấp 2" in listed.inner_text() and vn(today()) in listed.inner_text()
    assert listed.locator(".badge:visible", has_text="Đang hoạt động").count() == 1
    assert_clean(station)
    shoot(station, "journey-b-roster")

    # The map: Ấp 2 (quota 1) is now covered.
    station.goto(f"/maps/unit/{ids['commune_b']}")
    assert hamlet_status(station, ids["ap2"]) == "covered"
    assert int(figure(station, "Thôn/tổ dân phố đủ CTV").split("/")[0]) == covered_before + 1
    legend = station.locator("#map-legend li[data-status=covered]")
    assert legend.locator(".count").inner_text() == str(covered_before + 1)
    assert_clean(station)
    shoot(station, "journey-b-map")

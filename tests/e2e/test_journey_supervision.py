"""Journey (c) of issue #14 item 1, in a real browser: a centre officer opens the list of
collaborators overdue for supervision (not visited within the province's period, 92 days by
default), records a visit from that list, and the collaborator leaves it while the others stay.
No console error, no CSP violation, no request leaving 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from danso_network.common.clock import today
from danso_network.supervision import services as supervision
from danso_network.supervision.models import ChecklistItem

from .. import factories
from .conftest import PHONE, assert_clean, serve, submit

pytestmark = pytest.mark.e2e


def _build() -> dict:
    """Commune B's three collaborators, all started 200 days ago: two never visited (overdue),
    one visited 30 days ago (within the period, so not listed)."""
    w = factories.build_world()
    factories.criteria(w.dong_nai)
    started = today() - timedelta(days=200)
    late = factories.appoint(w.hamlets_b[0], 31, started_on=started, full_name="Trần Thị Quá Hạn")
    other = factories.appoint(w.hamlets_b[0], 32, started_on=started, full_name="Lê Văn Chờ Giám Sát")
    seen = factories.appoint(w.hamlets_b[1], 33, started_on=started, full_name="Phạm Thị Đã Giám Sát")
    supervision.record_visit(seen, supervisor=w.users["centre"], visited_on=today() - timedelta(days=30),
                             checklist={item.value: True for item in ChecklistItem})
    return {"late": late.id, "other": other.id, "seen": seen.id, "started": started}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory, "journey_supervision", _build, LOGIN_RATE_LIMIT="100 per minute") as served:
        yield served


def test_a_centre_officer_records_a_visit_from_the_overdue_list(visitor, site, shoot):
    base_url, ids = site
    page = visitor(base_url, "ttyt689", viewport={"width": 1280, "height": 900}, outside=True)
    page.goto("/supervision/overdue")
    assert page.locator("h1").inner_text() == "Cộng tác viên quá hạn giám sát"
    assert "2 cộng tác viên quá hạn giám sát." in page.inner_text("main")
    rows = page.locator("tbody tr[data-collaborator]")
    assert sorted(int(rows.nth(i).get_attribute("data-collaborator")) for i in range(rows.count())) == sorted(
        [ids["late"], ids["other"]])  # visited 30 days ago: not overdue
    row = page.locator(f"tr[data-collaborator='{ids['late']}']")
    started = ids["started"].strftime("%d/%m/%Y")
    assert "Trần Thị Quá Hạn" in row.inner_text() and "Ấp Tân Lập" in row.inner_text()
    assert f"Chưa giám sát (bắt đầu {started})" in row.inner_text()
    assert row.locator("td").nth(6).inner_text() == "108"  # 200 days since the start, due after 92
    assert_clean(page)
    shoot(page, "journey-c-overdue")
    # On a phone the action of each row is on screen, not beyond the scrolled table's edge.
    page.set_viewport_size(PHONE)
    action = row.get_by_role("link", name="Ghi phiếu giám sát")
    place = action.bounding_box()
    assert action.is_visible() and place["x"] >= 0 and place["x"] + place["width"] <= PHONE["width"], place
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("link", name="Ghi phiếu giám sát").click()
    page.wait_for_url(f"**/supervision/visits/new/{ids['late']}")
    assert "Phiếu giám sát cộng tác viên dân số: Trần Thị Quá Hạn" in page.locator("h1").inner_text()
    # Today, written day-first and already filled in (a native date input could hold neither).
    assert page.get_by_label("Ngày giám sát").input_value() == today().strftime("%d/%m/%Y")
    assert page.get_by_label("Ngày giám sát").get_attribute("type") == "text"
    radios = page.locator("tbody input[type=radio][value=yes]")
    assert radios.count() == len(ChecklistItem)
    for i in range(radios.count() - 1):
        radios.nth(i).check()
    page.locator("tbody input[type=radio][value=no]").last.check()
    page.get_by_label("Nhận xét, phát hiện").fill("Sổ ghi chép đầy đủ; chưa cập nhật biến động dân số tháng này.")
    shoot(page, "journey-c-visit-form")
    submit(page, page.get_by_role("button", name="Lưu phiếu giám sát"))
    page.wait_for_url("**/supervision/visits/*")
    # 8 of the 9 items passed: 89 points.
    assert (f"Đã lưu phiếu giám sát Trần Thị Quá Hạn ngày {today().strftime('%d/%m/%Y')}: 89 điểm."
            in page.inner_text("body"))
    assert_clean(page)
    shoot(page, "journey-c-visit")

    page.goto("/supervision/overdue")
    assert "1 cộng tác viên quá hạn giám sát." in page.inner_text("main")
    assert [int(x) for x in page.locator("tbody tr[data-collaborator]").evaluate_all(
        "rows => rows.map(r => r.dataset.collaborator)")] == [ids["other"]]
    assert "Trần Thị Quá Hạn" not in page.inner_text("main")
    assert_clean(page)

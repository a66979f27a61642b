"""A hamlet merger in a real browser (issue #13 "Done when", issue #14 item 1 f): the province admin
opens the commune, ticks two hamlets, previews the impact, confirms, and lands on the merged
hamlet's page, which names the hamlets it was formed from; the commune's page as of the day before
still lists the two, today's lists the merged hamlet only. The preview and the merged hamlet's page
are saved at desktop and phone widths (``shoot``). No console error, no CSP violation, no request
leaving the app on any page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .. import factories
from .conftest import assert_clean, serve

pytestmark = pytest.mark.e2e


def _build() -> dict[str, int]:
    world = factories.build_world()
    factories.criteria(world.dong_nai)
    factories.appoint(world.hamlets_a[0], 21)
    factories.appoint(world.hamlets_a[1], 22)
    return {"commune_a": world.commune_a.id}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(tmp_path_factory, "reform", _build, LOGIN_RATE_LIMIT="100 per minute") as served:
        yield served


def hamlets_listed(page) -> list[str]:
    """The names in the commune page's table of hamlets."""
    return sorted(page.locator("main table tbody tr td:first-child a").all_inner_texts())


def test_the_province_admin_merges_two_hamlets(visitor, site, shoot):
    from danso_network.common.clock import today

    base_url, ids = site
    page = visitor(base_url, "admin75", viewport={"width": 1280, "height": 900}, outside=True)
    page.goto(f"/units/{ids['commune_a']}")
    page.get_by_role("link", name="Sáp nhập thôn/tổ dân phố").click()
    page.get_by_label("Khu phố 1", exact=True).check()
    page.get_by_label("Khu phố 2", exact=True).check()
    page.get_by_label("Tên thôn/tổ dân phố sau sáp nhập").fill("Khu phố 1-2")
    page.get_by_label("Số, ngày nghị quyết/quyết định").fill("NQ 25/NQ-HĐND ngày 20/11/2026")
    page.get_by_role("button", name="Xem trước tác động").click()
    impact = page.locator("[data-impact]")
    assert "Khu phố 1-2, Phường Bình Phước" in impact.inner_text()
    assert impact.locator("[data-impact-assignments] tbody tr").count() == 2
    shoot(page, "journey-f-preview")
    assert_clean(page)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Thực hiện sáp nhập").click()
    page.wait_for_selector("[data-unit-history]")
    assert "Đã sáp nhập 2 thôn/tổ dân phố thành Khu phố 1-2" in page.inner_text("body")
    history = page.inner_text("[data-unit-history]")
    assert "Hình thành từ" in history
    assert "Khu phố 1, Phường Bình Phước" in history and "Khu phố 2, Phường Bình Phước" in history
    assert "600" in page.get_by_text("hộ gia đình").locator("..").inner_text()  # 180 + 420 households
    shoot(page, "journey-f-merged")
    assert_clean(page)

    # The commune the day before still lists the two hamlets.
    day_before = (today() - timedelta(days=1)).isoformat()
    page.goto(f"/units/{ids['commune_a']}?as_of={day_before}")
    assert hamlets_listed(page) == ["Khu phố 1", "Khu phố 2"]
    page.goto(f"/units/{ids['commune_a']}")
    assert hamlets_listed(page) == ["Khu phố 1-2"]
    assert_clean(page)

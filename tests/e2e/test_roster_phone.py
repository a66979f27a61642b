"""On a phone the roster still says each collaborator's status (issue #9 item 20): at 390 px the
status column lay beyond the right edge of the scrolled table; now it shows next to the name."""

from __future__ import annotations

import pytest

from ..factories import build_world
from ..test_home_todo import build_waiting
from .conftest import log_in, serve

pytestmark = pytest.mark.e2e

ACTIVE = "Đang hoạt động"


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    """The small world with work waiting and collaborators in post (tests/test_home_todo.py),
    served from a database of its own; yields (base URL, commune A's id)."""
    with serve(tmp_path_factory, "e2e_roster", lambda: build_waiting(build_world()).commune_a.id) as served:
        yield served


@pytest.mark.parametrize("width", [390, 1280])
def test_the_status_of_each_row_is_on_screen(browser, busy_server, width):
    base, commune_id = busy_server
    context = browser.new_context(base_url=base, locale="vi-VN", viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        log_in(page, "truongtram_a")
        page.goto(f"/collaborators/roster/{commune_id}")
        rows = page.locator("table tbody tr")
        assert rows.count() == 2
        for i in range(rows.count()):
            shown = rows.nth(i).locator(".badge:visible", has_text=ACTIVE)
            assert shown.count() == 1, f"row {i}: the status is shown once"
            box = shown.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (i, box)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()

"""On a phone the roster still says each collaborator's status (issue #9 item 20): at 390 px the
status column lay beyond the right edge of the scrolled table; now it shows next to the name."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from danso_network.extensions import db

from ..conftest import make_app
from ..factories import PASSWORD, build_world
from ..test_home_todo import build_waiting

pytestmark = pytest.mark.e2e

ACTIVE = "Đang hoạt động"


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory, live_server):
    """The small world with work waiting and collaborators in post (tests/test_home_todo.py),
    served like ``live_server`` from a database of its own; yields (base URL, commune A's id)."""
    path = tmp_path_factory.mktemp("e2e_roster") / "roster.db"
    app = make_app(f"sqlite:///{path}", MAP_TILES="none")
    with app.app_context():
        db.create_all()
        world = build_waiting(build_world())
        db.session.commit()
        commune_id = world.commune_a.id
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", commune_id
    server.shutdown()
    thread.join(timeout=5)


def _login(page, username: str):
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("width", [390, 1280])
def test_the_status_of_each_row_is_on_screen(browser, busy_server, width):
    base, commune_id = busy_server
    context = browser.new_context(base_url=base, locale="vi-VN", viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        _login(page, "truongtram_a")
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

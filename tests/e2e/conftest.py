"""Browser tests: the app served on a loopback port, driven by Playwright in Debian's chromium
(never a downloaded browser). Missing chromium skips them locally and fails them under CI=true.

The served app uses its own SQLite file with committed data (a live server cannot share the
rolled-back transaction of the other tests)."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from danso_network.extensions import db

from ..conftest import make_app
from ..factories import build_world

CHROMIUM = os.environ.get("DANSO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _require_chromium():
    if os.path.exists(CHROMIUM) or shutil.which(CHROMIUM):
        return
    message = f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    _require_chromium()
    path = tmp_path_factory.mktemp("e2e") / "e2e.db"
    app = make_app(f"sqlite:///{path}", MAP_TILES="none")
    with app.app_context():
        db.create_all()
        build_world()
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()

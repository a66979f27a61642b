"""Browser tests: the app served on a loopback port, driven by Playwright in Debian's chromium
(never a downloaded browser). Missing chromium skips them locally and fails them under CI=true.

The served app uses its own SQLite file with committed data (a live server cannot share the
rolled-back transaction of the other tests)."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from danso_network.extensions import db

from ..conftest import make_app
from ..factories import PASSWORD, build_world

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


@contextlib.contextmanager
def serve(tmp_path_factory, name: str, build: Callable[[], Any], **config):
    """The app on a loopback port with its own SQLite file holding what ``build()`` writes
    (committed); yields ``(base URL, build()'s value)``."""
    _require_chromium()
    path = tmp_path_factory.mktemp(name) / f"{name}.db"
    app = make_app(f"sqlite:///{path}", **{"MAP_TILES": "none", **config})
    with app.app_context():
        db.create_all()
        facts = build()
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", facts
    finally:
        server.shutdown()
        thread.join(timeout=5)


RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.fixture
def visitor(browser):
    """``visitor(base_url, username, *, viewport=None, outside=False)``: a page logged in as the
    user that records console errors (``page.console_errors``), Content-Security-Policy violations
    (``window.__csp``) and, with ``outside``, blocks and records every request leaving the app
    (``page.outside``). The contexts are closed after the test."""
    contexts = []

    def open_as(base_url: str, username: str, *, viewport: dict | None = None, outside: bool = False):
        context = browser.new_context(base_url=base_url, locale="vi-VN", **({"viewport": viewport} if viewport else {}))
        contexts.append(context)
        context.add_init_script(RECORD_VIOLATIONS)
        page = context.new_page()
        page.console_errors, page.outside = [], []
        page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
        if outside:
            def record(route):
                url = route.request.url
                if url.startswith(base_url) or url.startswith("data:"):
                    route.continue_()
                else:
                    page.outside.append(url)
                    route.abort()

            context.route("**/*", record)
        log_in(page, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def assert_clean(page) -> None:
    """What every journey checks on every key page: no console error, no Content-Security-Policy
    violation, no request that left the app (``visitor(..., outside=True)``)."""
    assert page.console_errors == []
    assert page.evaluate("window.__csp") == []
    assert page.outside == []


def submit(page, button) -> None:
    """Click a button that sends its form and wait for the page it leads to: a click alone does
    not wait for the navigation it starts, and the next page may have the same address. The
    page left had no CSP violation."""
    assert page.evaluate("window.__csp") == []
    with page.expect_navigation():
        button.click()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form and wait for the home page."""
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    with serve(tmp_path_factory, "e2e", build_world) as (base_url, _):
        yield base_url


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, one per test process. It needs no served app of its own: the tests that
    use the shared ``live_server`` are kept on one xdist worker (tests/conftest.py GROUPS), those
    that ``serve`` their own site run on any."""
    from playwright.sync_api import sync_playwright

    _require_chromium()

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


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shoot(tmp_path):
    """``shoot(page, name)``: full-page screenshots of what the page shows now, at desktop and phone
    widths (``<name>-desktop.png``, ``<name>-phone.png``), in ``$DANSO_SCREENSHOTS`` (the CI artifact
    folder ``.ci/run`` sets) or the test's temporary folder. The page keeps its own viewport after."""
    folder = Path(os.environ.get("DANSO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        own = page.viewport_size
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.wait_for_timeout(150)  # Bootstrap's breakpoints re-lay the page out
            page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
        if own:
            page.set_viewport_size(own)

    return take

"""Issue #9 item 8: a strict Content-Security-Policy on every response (scripts only from the app
itself, no inline script or event handler left in any page), the usual hardening headers, and HSTS
with secure cookies when a setting says the app is served over HTTPS."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from danso_network import create_app
from danso_network.config import PROJECT_ROOT, ConfigurationError
from danso_network.extensions import db

from . import factories
from .conftest import login, make_app

TEMPLATES = PROJECT_ROOT / "templates"


def policy(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def nonce_of(response) -> str:
    nonces = [s for s in policy(response)["script-src"] if s.startswith("'nonce-")]
    assert len(nonces) == 1
    return nonces[0][len("'nonce-"):-1]


def assert_strict(directives: dict[str, list[str]]) -> None:
    assert directives["default-src"] == ["'self'"]
    assert "'self'" in directives["script-src"]
    for directive in ("script-src", "style-src"):
        assert not {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"} & set(directives[directive]), directive
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["font-src"] == ["'self'"]


class InlineCode(HTMLParser):
    """Collects what a strict policy would refuse in a rendered page: event handler attributes,
    style attributes, javascript: links, and <script>/<style> elements without the page's nonce."""

    def __init__(self, nonce: str):
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "action", "formaction", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not values.get("src") and values.get("type") != "application/json" \
                and values.get("nonce") != self.nonce:
            self.problems.append("inline <script> without the page's nonce")
        if tag == "style" and values.get("nonce") != self.nonce:
            self.problems.append("<style> without the page's nonce")


@pytest.fixture
def pages(world):
    """Pages of every kind a province admin opens: lists, a commune, prints, forms with page scripts."""
    factories.criteria(world.dong_nai)
    collaborator = factories.appoint(world.hamlets_a[0], 1)
    db.session.commit()
    a, dn = world.commune_a.id, world.dong_nai.id
    return ["/", "/units/", f"/units/{a}", f"/units/{world.commune_b.id}", "/admin/users",
            f"/admin/users/{world.users['head_a'].id}", "/audit/", f"/criteria/{dn}", f"/criteria/{dn}/versions/new",
            "/recruitment/vacancies", "/recruitment/applications", "/collaborators/",
            f"/collaborators/roster/{a}", f"/collaborators/quota/{a}", f"/collaborators/{collaborator.id}",
            "/collaborators/handovers", f"/allowances/sheet/{a}", f"/allowances/settings/{dn}", "/allowances/",
            "/training/", "/supervision/visits", f"/supervision/chain/{collaborator.id}",
            f"/supervision/meetings/{a}/sheet", "/units/search?q=binh"]


def test_every_page_sends_a_strict_policy_and_has_no_inline_code(client, pages):
    login(client, "admin75")
    for url in pages:
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert_strict(policy(response))
        scanner = InlineCode(nonce_of(response))
        scanner.feed(response.get_data(as_text=True))
        assert scanner.problems == [], (url, scanner.problems)


@pytest.mark.parametrize("url", ["/login", "/health", "/static/app.css", "/khong-co-trang-nay",
                                 "/api/v1/openapi.json"])
def test_every_response_carries_the_policy_and_hardening_headers(client, url):
    response = client.get(url)
    assert_strict(policy(response))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"]
    assert "Strict-Transport-Security" not in response.headers  # plain http by default


def test_the_nonce_is_new_for_each_request_and_is_the_one_the_page_uses(client, world):
    login(client, "admin75")
    first = client.get(f"/units/{world.commune_a.id}")
    second = client.get(f"/units/{world.commune_a.id}")
    assert nonce_of(first) != nonce_of(second)
    assert len(nonce_of(first)) >= 22  # at least 128 bits
    assert f'<style nonce="{nonce_of(first)}">' in first.get_data(as_text=True)


@pytest.mark.parametrize(("tiles", "hosts"), [
    ("osm", ["https://tile.openstreetmap.org"]),
    ("none", []),
    ("https://tiles.example.vn/{z}/{x}/{y}.png", ["https://tiles.example.vn"]),
])
def test_map_tiles_setting_decides_which_image_hosts_are_allowed(database_url, tiles, hosts):
    app = make_app(database_url, MAP_TILES=tiles)
    directives = policy(app.test_client().get("/login"))
    assert directives["img-src"] == ["'self'", "data:", *hosts]


def test_a_map_tiles_setting_that_is_not_a_tile_address_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="DANSO_MAP_TILES"):
        make_app(database_url, MAP_TILES="tile.openstreetmap.org")


def test_https_setting_sends_hsts_and_makes_cookies_secure(database_url):
    app = make_app(database_url, HTTPS=True)  # TestConfig turns secure cookies off; HTTPS turns them on
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in response.headers.get("Set-Cookie", "")


def test_https_is_off_by_default_and_set_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DANSO_SECRET_KEY", "a-long-random-secret")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["HTTPS"] is False
    monkeypatch.setenv("DANSO_HTTPS", "true")
    monkeypatch.setenv("DANSO_SESSION_COOKIE_SECURE", "false")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["HTTPS"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


# --- the templates themselves -------------------------------------------------------------------

HANDLER = re.compile(r"(?:\s|%\}|\}\})on[a-z]+\s*=\s*[\"'{]")
SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)
STYLE_TAG = re.compile(r"<style\b([^>]*)>", re.I)
STYLE_ATTRIBUTE = re.compile(r"[\s(,]style\s*=", re.I)


def _templates() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_no_template_has_an_inline_event_handler_or_script():
    """Behaviour lives in static/app.js, bound by data attributes (data-print, data-confirm,
    data-select-all, ...); a page that needs an inline script gives it ``nonce="{{ csp_nonce() }}"``."""
    problems = []
    for path in _templates():
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES)
        problems += [f"{name}: {m.group(0)[-40:]!r}" for m in HANDLER.finditer(source)]
        problems += [f"{name}: <script{m.group(1)}>" for m in SCRIPT.finditer(source)
                     if not re.search(r"\b(src|nonce)=|type=\"application/json\"", m.group(1))]
        problems += [f"{name}: javascript: link" for _ in re.finditer(r"javascript:", source, re.I)]
    assert problems == []


# Rendered by WeasyPrint into a PDF file (exports/pdf.py), never served to a browser: no policy applies.
PDF_ONLY = {Path("exports/document.html"), Path("exports/_page_head.html"), Path("exports/page_numbers.html")}


def test_no_template_has_a_style_attribute_or_a_style_block_without_the_nonce():
    problems = []
    for path in _templates():
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES)
        if name in PDF_ONLY:
            continue
        problems += [f"{name}: <style{m.group(1)}>" for m in STYLE_TAG.finditer(source)
                     if 'nonce="{{ csp_nonce() }}"' not in m.group(1)]
        problems += [f"{name}: {source[max(m.start() - 30, 0):m.end() + 20]!r}"
                     for m in STYLE_ATTRIBUTE.finditer(source)]
    assert problems == []

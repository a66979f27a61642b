"""Security headers sent with every response (issue #9 item 8).

A strict Content-Security-Policy: scripts, styles, fonts and requests come from the app itself
(no CDN; DESIGN.md §7), images also from ``data:`` (Bootstrap's icons) and the map tile server of
``DANSO_MAP_TILES``. No inline script or event handler is allowed: behaviour lives in
``static/app.js``, bound by data attributes. A page that needs an inline ``<script>`` or ``<style>``
(a folium map, a print page's layout) marks it with ``nonce="{{ csp_nonce() }}"``, a random value
new for each request.

With ``DANSO_HTTPS=true`` the browser is also told to use HTTPS only from now on (HSTS, RFC 6797);
config.finalise marks the cookies Secure.

Behind a reverse proxy, ``DANSO_TRUSTED_PROXIES`` (:func:`trust_proxies`) says how many proxies
stand in front of the app, so that each client is counted under its own address.
"""

from __future__ import annotations

import secrets

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """This request's nonce (128 random bits), the same for every call within the request."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str, tiles_origin: str | None = None) -> str:
    images = " ".join(["'self'", "data:", *([tiles_origin] if tiles_origin else [])])
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        f"img-src {images}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def register_security_headers(app: Flask) -> None:
    """``csp_nonce()`` in every template, and the headers on every response (a view that sends
    its own Content-Security-Policy keeps it)."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    tiles_origin = app.config.get("MAP_TILES_ORIGIN")
    https = bool(app.config.get("HTTPS"))

    @app.after_request
    def send_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce(), tiles_origin))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors 'none' for older browsers
        headers.setdefault("Referrer-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def trust_proxies(app: Flask) -> None:
    """With ``TRUSTED_PROXIES`` = N > 0, read the client's address and the scheme from the
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` entries the N nearest proxies added (Werkzeug's
    ProxyFix): the login throttle then counts each client apart, and the audit log records the
    client's address, not the proxy's. With 0 (no proxy) the headers are ignored, since any client
    can send them."""
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

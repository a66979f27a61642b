"""Behind a TLS-terminating reverse proxy (docs/security.md, "Production settings").

Every request then comes from the proxy's address, so the login throttle (counted per client
address) would count every user's guesses together: five failed logins anywhere would lock
everyone out for a minute. ``DANSO_TRUSTED_PROXIES=N`` tells the app that N proxies stand in front
of it: the client's address is read from the ``X-Forwarded-For`` entry the nearest of them added,
and the scheme from ``X-Forwarded-Proto``. Without the setting those headers are ignored, so a
client cannot choose the address it is counted under."""

from __future__ import annotations

import pytest

from danso_network.config import ConfigurationError

from .conftest import csrf_token, make_app

PER_MINUTE = 5  # TestConfig.LOGIN_RATE_LIMIT: "5 per minute;30 per hour"


def _guess(client, forwarded_for: str):
    """A wrong password from a client the proxy reports as ``forwarded_for``, over HTTPS (so the
    CSRF check also wants the page's own address as the Referer, as a browser sends it)."""
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}
    token = csrf_token(client)
    return client.post("/login", data={"username": "khong-co-ai", "password": "sai-mat-khau", "csrf_token": token},
                       headers=headers)


def test_behind_a_trusted_proxy_each_client_address_has_its_own_allowance(database_url):
    app = make_app(database_url, TRUSTED_PROXIES=1)
    first, second = app.test_client(), app.test_client()
    for _ in range(PER_MINUTE):
        assert _guess(first, "203.0.113.7").status_code == 200
    assert _guess(first, "203.0.113.7").status_code == 429
    # Another user behind the same proxy can still log in.
    assert _guess(second, "198.51.100.20").status_code == 200


def test_the_client_address_is_the_one_the_nearest_proxy_added(database_url):
    """nginx appends the address it saw ($proxy_add_x_forwarded_for); what the client wrote before
    it is not trusted, so prepending made-up addresses does not give a fresh allowance."""
    app = make_app(database_url, TRUSTED_PROXIES=1)
    client = app.test_client()
    for n in range(PER_MINUTE):
        assert _guess(client, f"10.0.0.{n}, 203.0.113.7").status_code == 200
    assert _guess(client, "10.0.0.99, 203.0.113.7").status_code == 429


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(database_url):
    app = make_app(database_url)
    assert app.config["TRUSTED_PROXIES"] == 0
    client = app.test_client()
    for n in range(PER_MINUTE):
        assert _guess(client, f"203.0.113.{n}").status_code == 200
    assert _guess(client, "203.0.113.99").status_code == 429


@pytest.mark.parametrize("value", ["two", -1, True])
def test_a_trusted_proxies_setting_that_is_not_a_count_is_refused(database_url, value):
    with pytest.raises(ConfigurationError, match="DANSO_TRUSTED_PROXIES"):
        make_app(database_url, TRUSTED_PROXIES=value)

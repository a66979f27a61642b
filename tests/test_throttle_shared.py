"""One throttle for password guesses (issue #9 item 9): the login page and the API's token request
count against the same limit per address, so splitting guesses between them gains nothing."""

from __future__ import annotations

import pytest

from . import factories
from .conftest import csrf_token, login

PER_MINUTE = 5  # TestConfig.LOGIN_RATE_LIMIT: "5 per minute;30 per hour"


def _token_request(client, password: str = "sai-mat-khau"):
    return client.post("/api/v1/auth/token", json={"username": "truongtram_a", "password": password})


def test_the_limit_is_the_one_configured(app):
    assert app.config["LOGIN_RATE_LIMIT"].startswith(f"{PER_MINUTE} per minute")


@pytest.mark.parametrize("on_the_page", range(PER_MINUTE + 1))
def test_guesses_split_between_page_and_api_share_one_limit(client, world, on_the_page):
    for _ in range(on_the_page):
        assert login(client, "truongtram_a", "sai-mat-khau").status_code == 200
    for _ in range(PER_MINUTE - on_the_page):
        assert _token_request(client).status_code == 401
    # The next guess is refused wherever it is made, even with the right password.
    assert login(client, "truongtram_a", factories.PASSWORD).status_code == 429
    response = _token_request(client, factories.PASSWORD)
    assert response.status_code == 429
    assert response.is_json and "quá nhiều lần" in response.json["error"]


def test_reading_the_login_page_is_not_a_guess(client, world):
    for _ in range(PER_MINUTE + 2):
        assert client.get("/login").status_code == 200
    csrf_token(client)
    assert login(client, "truongtram_a").status_code == 302
    assert _token_request(client, factories.PASSWORD).status_code == 201


def _from(client, address: str, username: str, password: str = "sai-mat-khau"):
    """A login from ``address`` (the client's own, no proxy in between)."""
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_an_office_behind_one_address_all_signs_in(app, world):
    """Only guesses count: a whole office behind one NAT address signs in every morning, more
    people than the per-address limit, and nobody is turned away."""
    for n in range(PER_MINUTE * 2):
        office = app.test_client()
        assert _from(office, "203.0.113.50", "truongtram_a", factories.PASSWORD).status_code == 302, n
    office = app.test_client()
    for _ in range(PER_MINUTE):
        assert _from(office, "203.0.113.50", "truongtram_a").status_code == 200
    assert _from(office, "203.0.113.50", "truongtram_a", factories.PASSWORD).status_code == 429


def test_guesses_at_one_account_from_many_addresses_are_stopped(app, world):
    """Ten wrong passwords for one account within 15 minutes, each from another address, and the
    account takes no more guesses from anywhere, the right password included; other accounts
    and the API's token request are stopped the same way for that account only."""
    per_account = int(app.config["LOGIN_ACCOUNT_RATE_LIMIT"].split()[0])
    for n in range(per_account):
        assert _from(app.test_client(), f"198.51.100.{n}", "truongtram_a").status_code == 200, n
    refused = _from(app.test_client(), "192.0.2.200", "TruongTram_A ", factories.PASSWORD)
    assert refused.status_code == 429 and "quá nhiều lần" in refused.get_data(as_text=True)
    api = app.test_client().post("/api/v1/auth/token", json={"username": "truongtram_a", "password": factories.PASSWORD},
                                 environ_base={"REMOTE_ADDR": "192.0.2.201"})
    assert api.status_code == 429
    assert _from(app.test_client(), "192.0.2.200", "truongtram_b", factories.PASSWORD).status_code == 302

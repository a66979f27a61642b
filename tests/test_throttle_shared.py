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

"""The throttle on password guesses, shared by every place that takes a password.

The login page and the API's token request (``POST /api/v1/auth/token``) both check a password,
so they count against ONE limit per address (Flask-Limiter's ``shared_limit``, scope ``"login"``):
guesses split between the two add up, instead of each endpoint granting its own allowance. The
limit is the setting ``LOGIN_RATE_LIMIT`` (default "5 per minute;30 per hour"). Only POSTs count:
reading the login page is not a guess.
"""

from __future__ import annotations

from flask import current_app

from ..extensions import limiter

SCOPE = "login"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


password_guesses = limiter.shared_limit(_login_limit, scope=SCOPE, methods=["POST"])

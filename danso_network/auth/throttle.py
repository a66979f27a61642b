"""The throttles on password guesses, shared by every place that takes a password.

The login page and the API's token request (``POST /api/v1/auth/token``) both check a password,
so they count against the same limits (Flask-Limiter's ``shared_limit``): guesses split between
the two add up, instead of each endpoint granting its own allowance. Two limits, both on POSTs
only (reading the login page is not a guess), and both counting only the requests that sign
nobody in (``deduct_when``: a whole office behind one NAT address signs in every morning):

- per client address, scope ``"login"``: the setting ``LOGIN_RATE_LIMIT`` (default "5 per
  minute;30 per hour");
- per account, scope ``"login-account"``, keyed by the name typed (case and spaces folded, as
  the login reads it): ``LOGIN_ACCOUNT_RATE_LIMIT`` (default "10 per 15 minutes"), so guesses at
  one account from many addresses are stopped too. Any name is counted, known or not, so the
  refusal tells nothing about which names exist. The price: someone who knows a name can keep
  its owner out for 15 minutes at a time, which an administrator sees in the audit log
  (``user.login_failed``, :func:`danso_network.auth.services.note_failed_login`).

A view that signs someone in calls :func:`signed_in`; every other answer to a POST is a guess.
"""

from __future__ import annotations

from flask import current_app, g, request

from ..extensions import limiter

SCOPE = "login"
ACCOUNT_SCOPE = "login-account"
MAX_NAME = 150  # characters of a typed name kept as the account's key


def signed_in() -> None:
    """This request signed someone in: it is not counted as a guess."""
    g.signed_in = True


def _guess(response) -> bool:
    return not g.get("signed_in", False)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _account_key() -> str:
    """The account a guess is aimed at: the name typed on the page or sent to the API, folded."""
    name = request.form.get("username")
    if name is None:
        body = request.get_json(silent=True)
        name = body.get("username") if isinstance(body, dict) else None
    return str(name or "").strip().lower()[:MAX_NAME]


_per_address = limiter.shared_limit(_login_limit, scope=SCOPE, methods=["POST"], deduct_when=_guess)
_per_account = limiter.shared_limit(_account_limit, scope=ACCOUNT_SCOPE, key_func=_account_key, methods=["POST"],
                                    deduct_when=_guess)


def password_guesses(view):
    """Both limits on a view that checks a password."""
    return _per_address(_per_account(view))

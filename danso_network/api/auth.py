"""Bearer tokens for the JSON API.

``POST /api/v1/auth/token`` exchanges a username and password for a random token, valid 30
days; only its SHA-256 is stored (:class:`~danso_network.api.models.ApiToken`). Every other
endpoint reads ``Authorization: Bearer <token>``; a missing, unknown, expired or revoked token, a
locked account, or a token older than the user's last password change is refused with 401. The token's user is then the actor for the services, with
exactly the scope and roles they have in the web interface.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..audit.services import record
from ..auth.models import User
from ..auth.services import user_area_path
from ..common.clock import now
from ..errors import DomainError
from ..extensions import db
from .models import ApiToken

TOKEN_LIFETIME = timedelta(days=30)
TOKEN_PREFIX = "dso_"  # nosec B105 # a public prefix, recognisable in logs and secret scanners
# Recording every use would write on every read; a few minutes' precision is enough.
LAST_USED_PRECISION = timedelta(minutes=5)


class Unauthorized(DomainError):
    status = 401


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for ``DateTime(timezone=True)``; they are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(user: User, *, name: str | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the token itself (shown once, never stored)."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    stamp = now()
    token = ApiToken(user_id=user.id, token_hash=hash_token(raw), name=(name or "").strip()[:100] or "API",
                     created_at=stamp, expires_at=stamp + TOKEN_LIFETIME, session_version=user.session_version)
    db.session.add(token)
    db.session.flush()
    record("api_token.issue", token, label=f"{user.username}: {token.name}", unit_path=user_area_path(user),
           after={"name": token.name, "expires_at": token.expires_at}, actor=user)
    db.session.flush()
    return token, raw


def revoke_token(token: ApiToken, *, actor: User) -> ApiToken:
    """End a token now. Revocation is final: a revoked token never works again."""
    if token.revoked_at is None:
        token.revoked_at = now()
        record("api_token.revoke", token, label=f"{token.user.username}: {token.name}",
               unit_path=user_area_path(token.user), actor=actor)
        db.session.flush()
    return token


def token_from_header() -> ApiToken:
    """The valid token presented with this request, or :class:`Unauthorized`."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise Unauthorized(_l("Thiếu mã truy cập. Hãy gửi tiêu đề “Authorization: Bearer <mã>” "
                              "(lấy mã tại POST /api/v1/auth/token)."))
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None:
        raise Unauthorized(_l("Mã truy cập không hợp lệ."))
    if token.revoked_at is not None:
        raise Unauthorized(_l("Mã truy cập đã bị thu hồi; hãy xin mã mới."))
    if aware(token.expires_at) <= now():
        raise Unauthorized(_l("Mã truy cập đã hết hạn; hãy xin mã mới."))
    if not token.user.active:
        raise Unauthorized(_l("Tài khoản đã bị khoá."))
    if token.session_version != token.user.session_version:
        raise Unauthorized(_l("Mật khẩu đã được đổi nên mã truy cập này hết hiệu lực; hãy xin mã mới."))
    return token


def _note_use(token: ApiToken) -> None:
    """Record when the token was last used. Best effort: a busy database must not refuse the
    request itself, so this bookkeeping is committed on its own and skipped if it cannot be."""
    last = aware(token.last_used_at)
    if last is not None and now() - last < LAST_USED_PRECISION:
        return
    token.last_used_at = now()
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def token_required(view):
    """Refuse the request with 401 unless it carries a valid token; then ``g.api_user`` is the
    actor and ``g.api_token`` the token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = token_from_header()
        _note_use(token)
        g.api_token, g.api_user = token, token.user
        return view(*args, **kwargs)

    return wrapper

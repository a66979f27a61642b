"""Domain errors and HTTP error handlers.

Services raise a :class:`DomainError` subclass when a rule refuses an action. A view turns it into
a flash message (nothing is committed); the JSON API turns it into a 4xx with ``{"error": ...}``.
Messages are user-facing Vietnamese strings wrapped in ``lazy_gettext`` by the raiser.
"""

from __future__ import annotations

import sqlite3

from flask import g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .extensions import db, login_manager


class DomainError(Exception):
    """A business rule refused the action. ``status`` is the HTTP status for the API."""

    status = 422

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    status = 404


class PermissionDenied(DomainError):
    status = 403


class Conflict(DomainError):
    """The object changed under us (e.g. a concurrent transition) or a unique key is taken."""

    status = 409


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; may carry several problems."""

    status = 422

    def __init__(self, message, *, problems: list[str] | None = None, field: str | None = None):
        super().__init__(message, field=field)
        self.problems = problems or []


DATABASE_BUSY = _l("Hệ thống đang bận xử lý yêu cầu khác. Dữ liệu của bạn chưa bị thay đổi; "
                   "vui lòng thử lại sau ít giây.")
DATABASE_UNAVAILABLE = _l("Cơ sở dữ liệu tạm thời không sẵn sàng, vui lòng thử lại sau ít giây.")
RETRY_AFTER_SECONDS = 2


def database_message(e: OperationalError):
    """What to tell the user: SQLite's write lock held past the busy timeout is "busy, nothing was
    changed"; anything else (PostgreSQL unreachable, restarting, the connection cut — perhaps
    during a commit, whose outcome the app cannot know) is "the database is temporarily
    unavailable, try again"."""
    return DATABASE_BUSY if isinstance(e.orig, sqlite3.OperationalError) else DATABASE_UNAVAILABLE


def without_database(draw):
    """``draw()`` an error answer; if that needs the database and the database fails again (the
    signed-in user cannot even be loaded: PostgreSQL is down), draw it once more for an anonymous
    visitor, which reads nothing — so the answer is still the app's page with its message, never a
    bare 500."""
    try:
        return draw()
    except OperationalError:
        rollback_quietly()
        g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request user
        return draw()


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


_TITLES = {
    400: _l("Yêu cầu không hợp lệ"),
    403: _l("Không có quyền truy cập"),
    404: _l("Không tìm thấy trang"),
    405: _l("Phương thức không được phép"),
    413: _l("Tệp quá lớn"),
    422: _l("Dữ liệu không hợp lệ"),
    409: _l("Xung đột dữ liệu"),
    429: _l("Quá nhiều lần thử"),
    500: _l("Lỗi hệ thống"),
    503: _l("Hệ thống đang bận"),
}


# Database ids are 32-bit integers on PostgreSQL (and at most 64-bit on SQLite).
MAX_ID = 2**31 - 1


def _numbers_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 0 … ``limit`` (leading zeros allowed in the
    shorter ones): "2147483647" gives ``\\d{1,9}|1\\d{9}|20\\d{8}|…|214748364[0-7]``."""
    digits = str(limit)
    parts = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, d in enumerate(digits):
        low, high = (1 if i == 0 else 0), int(d) - (0 if i == len(digits) - 1 else 1)
        if low <= high:
            rest = len(digits) - i - 1
            parts.append(digits[:i] + (f"[{low}-{high}]" if low < high else str(low)) + (rf"\d{{{rest}}}" if rest else ""))
    return "(?:" + "|".join(parts) + ")"


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in routes: a number no row can have does not match the route (404), instead of
    reaching the database and failing there. The bound is in the pattern itself, not only checked
    after matching: otherwise ``POST /api/v1/collaborators/<huge>/visits`` would match the path of
    the GET route beside it and answer 405 instead of 404 (found by fuzzing, issue #14)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
        if not kwargs.get("signed") and kwargs["max"] == MAX_ID:
            self.regex = _numbers_up_to(MAX_ID)


def register_error_handlers(app) -> None:
    def render(code: int, message):
        """The error page (or JSON for the API) with ``message``, a string or a lazy one, turned
        into text only while drawing, so that :func:`without_database` covers the translation too
        (the language may come from the signed-in user's account)."""
        def draw():
            if _wants_json():
                return jsonify(error=str(message), status=code), code
            return render_template("errors/error.html", code=code, title=_TITLES.get(code, _("Lỗi")),
                                   message=str(message)), code
        return without_database(draw)

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render(400, _l("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. "
                              "Vui lòng tải lại trang và thử lại."))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        messages = {
            403: _l("Bạn không có quyền xem hoặc thay đổi nội dung này."),
            404: _l("Không tìm thấy nội dung bạn yêu cầu."),
            429: _l("Bạn đã thử quá nhiều lần. Vui lòng đợi một lát rồi thử lại."),
            413: _l("Tệp tải lên vượt quá dung lượng cho phép."),
            405: _l("Thao tác này không được hỗ trợ tại địa chỉ này."),
        }
        return render(e.code or 500, messages.get(e.code, e.description or ""))

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        return render(e.status, e)  # str(e) while drawing

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(e):
        """A number typed in an address beyond what the database holds (a page, a filter id)."""
        db.session.rollback()
        return render(400, _l("Có giá trị quá lớn hoặc không hợp lệ (ví dụ một số trong địa chỉ trang). "
                              "Dữ liệu chưa bị thay đổi; vui lòng kiểm tra lại."))

    @app.errorhandler(OperationalError)
    def database_unavailable(e: OperationalError):
        """The database is busy (SQLite: another writer held the lock past the busy timeout) or
        unreachable (PostgreSQL restarting or down): a 503 with the message of
        :func:`database_message` and ``Retry-After``, drawn without the database if need be.
        Not "someone else changed this record": the request may concern no record at all."""
        rollback_quietly()
        app.logger.warning("database unavailable: %s", e.orig)
        body, code = render(503, database_message(e))
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    @app.errorhandler(500)
    def server_error(e):
        rollback_quietly()
        return render(500, _l("Đã có lỗi xảy ra. Dữ liệu của bạn chưa bị thay đổi; vui lòng thử lại."))


def rollback_quietly() -> None:
    """Roll back the request's session before rendering an error page, so the page itself (which
    reads the user and their scope) does not fail on a broken transaction."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — the connection itself may be gone; the page must still render
        db.session.remove()

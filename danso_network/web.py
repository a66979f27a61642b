"""Wiring of extensions, blueprints and template helpers (kept out of ``create_app`` for reading)."""

from __future__ import annotations

from flask import Flask, flash, g, has_request_context, redirect, request, session, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .common.clock import today
from .config import PROJECT_ROOT
from .extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

# What a user who must replace their password may still open (web.py ``password_first``).
PASSWORD_FIRST_OPEN = frozenset({"auth.change_password", "auth.logout", "auth.login", "main.health"})


def select_locale() -> str:
    """The language chosen in this session, else the user's, else Vietnamese."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI and services outside a request speak Vietnamese
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table in the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PROJECT_ROOT / "danso_network" / "translations"))
    bootstrap.init_app(app)
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "strong"

    from .auth.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        # The id carries the session and login versions: changing a password ends every other
        # session, and logging out ends the sessions and remember-me cookies of that login.
        parts = user_id.split(":")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) < 10 for p in parts):
            return None
        uid, version, login_version = (int(p) for p in parts)
        user = db.session.get(User, uid)
        if (user is None or not user.active or user.session_version != version
                or (user.login_version or 1) != login_version):
            return None
        return user

    @app.before_request
    def fresh_request_cache():
        g.pop("_scopes", None)  # scopes are computed per request (see auth.permissions.scope_of)

    @app.before_request
    def password_first():
        """A password somebody else chose — a one-time password from the accounts import, a reset
        by an administrator (``User.password_must_change``) — is replaced before anything else:
        every page but the password form, logout and the assets leads to the password form. The
        JSON API is left to its tokens (made by the user, after the change)."""
        endpoint = request.endpoint or ""
        if (not current_user.is_authenticated or not current_user.password_must_change
                or endpoint in PASSWORD_FIRST_OPEN or endpoint == "static" or endpoint.endswith(".static")
                or endpoint.startswith("api.")):
            return None
        flash(_("Mật khẩu hiện tại của bạn do người khác đặt (mật khẩu lần đầu hoặc do quản trị viên đặt lại). "
                "Vui lòng đổi mật khẩu trước khi tiếp tục."), "warning")
        return redirect(url_for("auth.change_password"))

    @app.after_request
    def private_pages_not_cached(response):
        # The security headers themselves are sent by security.py.
        if request.endpoint and request.endpoint != "static" and current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_blueprints(app: Flask) -> None:
    from .allowances.views import bp as allowances_bp
    from .api.views import bp as api_bp
    from .audit.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .collaborators.views import bp as collaborators_bp
    from .exports.views import bp as exports_bp
    from .facilities.views import bp as facilities_bp
    from .jobs.views import bp as jobs_bp
    from .main.views import bp as main_bp
    from .maps.views import bp as maps_bp
    from .recruitment.attachment_views import bp as attachments_bp
    from .recruitment.criteria_views import bp as criteria_bp
    from .recruitment.views import bp as recruitment_bp
    from .reports.views import bp as reports_bp
    from .setup.views import bp as setup_bp
    from .supervision.views import bp as supervision_bp
    from .targets.views import bp as targets_bp
    from .training.views import bp as training_bp
    from .units.views import bp as units_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(recruitment_bp)
    app.register_blueprint(criteria_bp)
    app.register_blueprint(attachments_bp)
    app.register_blueprint(collaborators_bp)
    app.register_blueprint(allowances_bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(supervision_bp)
    app.register_blueprint(targets_bp)
    app.register_blueprint(maps_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(facilities_bp)
    app.register_blueprint(setup_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens, never cookies: no cross-site request can carry them


def register_template_helpers(app: Flask) -> None:
    from .auth import permissions, personal_data
    from .auth.labels import role_label
    from .units.labels import facility_kind_label, level_label, type_label

    @app.context_processor
    def inject():
        return {
            "perm": permissions,
            "personal": personal_data,  # who sees CCCD, phone, date of birth, and how hidden ones look
            "level_label": level_label,
            "type_label": type_label,
            "role_label": role_label,
            "facility_kind_label": facility_kind_label,
            "languages": app.config["LANGUAGES"],
            "current_locale": select_locale(),
            "today": today(),
        }

    @app.template_filter("vndate")
    def vndate(value):
        if value is None:
            return "—"
        return value.strftime("%d/%m/%Y")

    @app.template_filter("vndatetime")
    def vndatetime(value):
        if value is None:
            return "—"
        from flask_babel import format_datetime

        return format_datetime(value, "dd/MM/yyyy HH:mm")

    @app.template_filter("num")
    def num(value):
        if value is None:
            return "—"
        return format_decimal(value)

"""Login (throttled), logout (POST with CSRF), change password."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..extensions import db, limiter
from ..safe_redirect import safe_next
from . import services
from .forms import ChangePasswordForm, LoginForm, LogoutForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(default=url_for("main.home")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "danger")
            return render_template("auth/login.html", form=form), 200
        session.clear()  # a fresh session on login (no fixation)
        login_user(user, remember=form.remember.data)
        services.note_login(user)
        db.session.commit()
        flash(_("Xin chào %(name)s!", name=user.full_name), "success")
        return redirect(safe_next(default=url_for("main.home")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        logout_user()
        session.clear()
        flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Mật khẩu hiện tại không đúng."))
        else:
            try:
                services.set_password(current_user, form.new_password.data)
            except DomainError as e:
                db.session.rollback()
                form.new_password.errors.append(str(e))
            else:
                db.session.commit()
                login_user(current_user, fresh=True)  # keep this session, end the others
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)

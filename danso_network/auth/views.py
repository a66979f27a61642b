"""Login (throttled), logout (POST with CSRF), own password, and user administration."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import DomainError
from ..extensions import db, limiter
from ..safe_redirect import safe_next
from . import queries, services
from .forms import (
    ChangePasswordForm,
    EndGrantForm,
    GrantForm,
    LoginForm,
    LogoutForm,
    ResetPasswordForm,
    ToggleActiveForm,
    UserCreateForm,
)
from .models import Role, RoleGrant, User
from .permissions import can_grant_at, can_manage_user, can_manage_users, require, scope_of

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
                login_user(current_user._get_current_object(), fresh=True)  # keep this session only
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


# --- user administration (province admins) ---------------------------------------------------


def get_user_or_404(user_id: int) -> User:
    """404 for an unknown account, 403 for one outside the actor's province."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    require(can_manage_user(current_user, user))
    return user


def _places():
    return services.grantable_places(scope_of(current_user).prefixes_for({Role.PROVINCE_ADMIN}), date.today())


def _place_or_403(value: str):
    unit, facility = services.resolve_place(value)
    target = unit if unit is not None else (facility.unit if facility is not None else None)
    require(target is not None and can_grant_at(current_user, target))
    return unit, facility


@bp.get("/admin/users")
@login_required
def users():
    require(can_manage_users(current_user))
    q = request.args.get("q", "").strip()
    page = db.paginate(queries.users_in_area(current_user, q), page=request.args.get("page", 1, type=int),
                       per_page=current_app.config["PAGE_SIZE"], error_out=False)
    return render_template("auth/users.html", page=page, q=q)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    require(can_manage_users(current_user))
    form = UserCreateForm().fill(_places())
    if form.validate_on_submit():
        unit, facility = _place_or_403(form.place.data)
        try:
            user = services.create_user_with_role(
                username=form.username.data, full_name=form.full_name.data, password=form.password.data,
                email=form.email.data or None, role=Role(form.role.data), unit=unit, facility=facility,
                valid_from=form.valid_from.data)
        except DomainError as e:
            db.session.rollback()
            _form_error(form, e)
        else:
            db.session.commit()
            flash(_("Đã tạo tài khoản %(u)s.", u=user.username), "success")
            return redirect(url_for("auth.user_show", user_id=user.id))
    return render_template("auth/user_new.html", form=form)


@bp.get("/admin/users/<int:user_id>")
@login_required
def user_show(user_id: int):
    user = get_user_or_404(user_id)
    return render_template("auth/user_show.html", user=user, grant_form=GrantForm().fill(_places()),
                           end_form=EndGrantForm(), password_form=ResetPasswordForm(),
                           active_form=ToggleActiveForm())


@bp.post("/admin/users/<int:user_id>/grants")
@login_required
def user_grant(user_id: int):
    user = get_user_or_404(user_id)
    form = GrantForm().fill(_places())
    if form.validate_on_submit():
        unit, facility = _place_or_403(form.place.data)
        _commit_or_flash(lambda: services.grant_role(user, Role(form.role.data), unit=unit, facility=facility,
                                                     valid_from=form.valid_from.data),
                         _("Đã cấp quyền cho %(u)s.", u=user.username))
    else:
        _flash_form_errors(form)
    return redirect(url_for("auth.user_show", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/grants/<int:grant_id>/end")
@login_required
def grant_end(user_id: int, grant_id: int):
    user = get_user_or_404(user_id)
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != user.id:
        abort(404)
    form = EndGrantForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: services.end_grant(grant, on=form.on.data), _("Đã kết thúc quyền."))
    else:
        _flash_form_errors(form)
    return redirect(url_for("auth.user_show", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/active")
@login_required
def user_active(user_id: int):
    user = get_user_or_404(user_id)
    if ToggleActiveForm().validate_on_submit():
        message = _("Đã khoá tài khoản.") if user.active else _("Đã mở khoá tài khoản.")
        _commit_or_flash(lambda: services.set_active(user, not user.active, actor=current_user), message)
    return redirect(url_for("auth.user_show", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/password")
@login_required
def user_password(user_id: int):
    user = get_user_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: services.set_password(user, form.new_password.data),
                         _("Đã đặt lại mật khẩu cho %(u)s; các phiên đăng nhập cũ đã kết thúc.", u=user.username))
    else:
        _flash_form_errors(form)
    return redirect(url_for("auth.user_show", user_id=user.id))


def _commit_or_flash(action, success: str) -> bool:
    """Run one service call; commit and flash ``success``, or roll back and flash the refusal."""
    try:
        action()
    except DomainError as e:
        db.session.rollback()
        flash(str(e), "danger")
        return False
    db.session.commit()
    flash(success, "success")
    return True


def _form_error(form, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        flash(str(error), "danger")


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")

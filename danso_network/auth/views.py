"""Login (throttled), logout (POST with CSRF), own password, and user administration (with the
accounts import: upload → dry run → confirm, the one-time passwords shown once)."""

from __future__ import annotations

import base64
import io

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..common import clock
from ..common.paging import paginate
from ..common.params import page_arg
from ..common.views import actor, load_or_404, run_service
from ..errors import DomainError
from ..exports.services import MIMETYPES, write_document
from ..exports.views import send_document
from ..extensions import db
from ..imports import staging
from ..imports.problems import ImportRefused
from ..imports.reading import read_table
from ..safe_redirect import safe_next
from . import accounts_import, grant_flags, queries, services
from .forms import (
    AccountsConfirmForm,
    AccountsImportForm,
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
from .permissions import admin_areas, can_grant_at, can_manage_user, can_manage_users, require, scope_of
from .throttle import password_guesses, signed_in

bp = Blueprint("auth", __name__)


class ShowOn:
    """Where :func:`run_service` shows a refusal on these plain forms: under the field the error
    names (else under ``default``), or flashed when the form has no such field."""

    def __init__(self, form, default: str | None = None):
        self.form, self.default = form, default

    def show_domain_error(self, error) -> None:
        field = getattr(self.form, error.field, None) if error.field else None
        if field is None and self.default:
            field = getattr(self.form, self.default)
        if field is None:
            flash(str(error), "danger")
        else:
            field.errors = [*field.errors, str(error)]


@bp.route("/login", methods=["GET", "POST"])
@password_guesses
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(default=url_for("main.home")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            services.note_failed_login(form.username.data)
            db.session.commit()
            flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "danger")
            return render_template("auth/login.html", form=form), 200
        session.clear()  # a fresh session on login (no fixation)
        login_user(user, remember=form.remember.data)
        services.note_login(user)
        db.session.commit()
        signed_in()
        flash(_("Xin chào %(name)s!", name=user.full_name), "success")
        return redirect(safe_next(default=url_for("main.home")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    if LogoutForm().validate_on_submit():
        services.end_web_sessions(current_user._get_current_object())
        db.session.commit()
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
        elif run_service(services.set_password, actor(), form.new_password.data,
                         form=ShowOn(form, "new_password")).ok:
            db.session.commit()
            login_user(actor(), fresh=True)  # keep this session only
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


# --- user administration (province admins) ---------------------------------------------------


def _places():
    return services.grantable_places(scope_of(current_user).prefixes_for({Role.PROVINCE_ADMIN}), clock.today())


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
    page = paginate(queries.users_in_area(current_user, q), *page_arg())
    # Grants a reform left reaching nothing (issue #13 item 5): listed, never moved silently.
    flagged = grant_flags.flagged_grants(clock.today(), admin_areas(current_user))
    manageable = {f.grant.user_id for f in flagged if can_manage_user(current_user, f.grant.user)}
    return render_template("auth/users.html", page=page, q=q, flagged=flagged, manageable=manageable,
                           flagged_ids={f.grant.id for f in flagged})


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    require(can_manage_users(current_user))
    form = UserCreateForm().fill(_places())
    if form.validate_on_submit():
        unit, facility = _place_or_403(form.place.data)
        done = run_service(services.create_user_with_role, username=form.username.data,
                           full_name=form.full_name.data, password=form.password.data,
                           email=form.email.data or None, role=Role(form.role.data), unit=unit, facility=facility,
                           valid_from=form.valid_from.data, form=ShowOn(form))
        if done.ok:
            db.session.commit()
            flash(_("Đã tạo tài khoản %(u)s.", u=done.value.username), "success")
            return redirect(url_for("auth.user_show", user_id=done.value.id))
    return render_template("auth/user_new.html", form=form)


@bp.get("/admin/users/<int:user_id>")
@login_required
def user_show(user_id: int):
    user = load_or_404(User, user_id, need=can_manage_user)  # 404 unknown, 403 outside the province
    return render_template("auth/user_show.html", user=user, grant_form=GrantForm().fill(_places()),
                           end_form=EndGrantForm(), password_form=ResetPasswordForm(),
                           active_form=ToggleActiveForm())


@bp.post("/admin/users/<int:user_id>/grants")
@login_required
def user_grant(user_id: int):
    user = load_or_404(User, user_id, need=can_manage_user)  # 404 unknown, 403 outside the province
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
    user = load_or_404(User, user_id, need=can_manage_user)  # 404 unknown, 403 outside the province
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
    user = load_or_404(User, user_id, need=can_manage_user)  # 404 unknown, 403 outside the province
    if ToggleActiveForm().validate_on_submit():
        message = _("Đã khoá tài khoản.") if user.active else _("Đã mở khoá tài khoản.")
        _commit_or_flash(lambda: services.set_active(user, not user.active, actor=actor()), message)
    return redirect(url_for("auth.user_show", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/password")
@login_required
def user_password(user_id: int):
    user = load_or_404(User, user_id, need=can_manage_user)  # 404 unknown, 403 outside the province
    form = ResetPasswordForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: services.set_password(user, form.new_password.data, actor=actor(), must_change=True),
                         _("Đã đặt lại mật khẩu cho %(u)s; các phiên đăng nhập cũ đã kết thúc.", u=user.username))
    else:
        _flash_form_errors(form)
    return redirect(url_for("auth.user_show", user_id=user.id))


def _commit_or_flash(action, success: str) -> bool:
    """Run one service call; commit and flash ``success``, or roll back and flash the refusal."""
    if not run_service(action).ok:
        return False
    db.session.commit()
    flash(success, "success")
    return True


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for message in errors:
            flash(message, "danger")


# --- accounts in bulk (issue #12 item 4) -------------------------------------------------------------

PREVIEW_ROWS = 300  # rows of a dry run shown on the page ("… và N dòng nữa" beyond)


def _import_plan(item: staging.Staged):
    with open(item.path, "rb") as stream:
        table = read_table(stream, accounts_import.FIELDS, filename=item.filename)
    return accounts_import.plan_accounts(table, actor=actor(), max_rows=accounts_import.PAGE_MAX_ROWS)


def _import_preview(item: staging.Staged | None, plan=None, *, refused: str | None = None,
                    problems: list | None = None):
    return render_template(
        "auth/import_preview.html", staged=item, plan=plan, refused=refused,
        problems=problems if problems is not None else (list(plan.problems) if plan else []),
        form=AccountsConfirmForm(token=item.token) if item else None, limit=PREVIEW_ROWS)


@bp.route("/admin/users/import", methods=["GET", "POST"])
@login_required
def users_import():
    """Upload (GET the form, POST the file) → the dry run: counts, the accounts, every problem."""
    require(can_manage_users(current_user))
    form = AccountsImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        done = run_service(staging.stage, upload.stream, upload.filename, kind=accounts_import.KIND,
                           owner_id=current_user.id, form=form)
        if done.ok:
            try:
                plan = _import_plan(done.value)
            except DomainError as e:
                db.session.rollback()
                staging.discard(done.value)
                return _import_preview(None, refused=str(e), problems=getattr(e, "problems", [])), 422
            if plan.problems or not plan.new:
                staging.discard(done.value)  # nothing to confirm: the file is not kept
                return _import_preview(None, plan), 422 if plan.problems else 200
            return _import_preview(done.value, plan)
    return render_template("auth/import.html", form=form, fields=accounts_import.FIELDS,
                           max_rows=accounts_import.PAGE_MAX_ROWS), 422 if form.file.errors else 200


@bp.post("/admin/users/import/confirm")
@login_required
def users_import_confirm():
    """The confirmation: the staged file read and checked again (the database may have changed),
    the accounts created in one transaction, and their one-time passwords shown in this response
    only — with the hand-out sheet as files carried by the page itself — never stored."""
    require(can_manage_users(current_user))
    form = AccountsConfirmForm()
    if not form.validate_on_submit():
        return redirect(url_for(".users_import"))
    item = staging.staged(form.token.data, kind=accounts_import.KIND, owner_id=current_user.id)
    try:
        plan = _import_plan(item)
        result = accounts_import.apply_accounts(plan, actor=actor(), filename=item.filename)
    except ImportRefused as e:
        db.session.rollback()
        staging.discard(item)
        return _import_preview(None, plan, problems=e.items), 422
    except DomainError as e:  # the staged file no longer reads, or a name was taken meanwhile
        db.session.rollback()
        staging.discard(item)
        return _import_preview(None, refused=str(e), problems=getattr(e, "problems", [])), 422
    db.session.commit()
    staging.discard(item)
    document = accounts_import.handout_document(result.accounts, source=item.filename,
                                                login_url=url_for("auth.login", _external=True))
    response = make_response(render_template(
        "auth/import_done.html", result=result, filename=item.filename,
        downloads=[_data_file(document, fmt) for fmt in ("pdf", "xlsx")]))
    response.headers["Cache-Control"] = "no-store"  # the passwords: shown once, kept by no cache
    return response


def _data_file(document, fmt: str) -> tuple[str, str, str]:
    """(format, file name, ``data:`` address) of ``document`` written as ``fmt``: the hand-out
    travels inside the page that shows the passwords, so nothing holds them afterwards."""
    buffer = io.BytesIO()
    write_document(document, fmt, buffer)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return fmt, f"{document.filename}.{fmt}", f"data:{MIMETYPES[fmt]};base64,{encoded}"


@bp.get("/admin/users/import/template")
@login_required
def users_import_template():
    """The file to fill in, with the roles and the places of the admin's province (XLSX)."""
    require(can_manage_users(current_user))
    return send_document(accounts_import.template_document(actor()), "xlsx", _("Mẫu nhập tài khoản"))

"""``danso users create``: an account with one role grant. ``danso users import FILE``: accounts
in bulk from a spreadsheet, each with a one-time password printed once (``accounts_import``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..common.cli import active_user, fail, output_checks
from ..common.clock import today
from ..errors import DomainError
from ..exports.services import write_document
from ..extensions import db
from ..imports.reading import read_table
from ..units.models import Facility
from ..units.services import find_unit_by_code
from . import accounts_import, services
from .models import Role

users_cli = AppGroup("users", help="Tài khoản người dùng.")


@users_cli.command("create")
@click.option("--username", required=True, help="Tên đăng nhập (chữ thường không dấu).")
@click.option("--full-name", default="", help="Họ và tên.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="Mật khẩu (≥ 10 ký tự, không chứa tên đăng nhập, không phải mật khẩu phổ biến).")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True, help="Vai trò.")
@click.option("--unit", "unit_code", help="Mã đơn vị hành chính (vd. 75 hoặc 25195) nơi cấp quyền.")
@click.option("--facility", "facility_code", help="Mã cơ sở y tế (vd. TYT-25195) nơi cấp quyền.")
def create_user_command(username, full_name, password, role, unit_code, facility_code):
    """Tạo tài khoản và cấp một vai trò tại một đơn vị hoặc cơ sở y tế."""
    unit = facility = None
    if bool(unit_code) == bool(facility_code):
        raise click.UsageError("Cần đúng một trong hai: --unit hoặc --facility.")
    if unit_code:
        unit = find_unit_by_code(unit_code)
        if unit is None:
            raise click.ClickException(f"Không có đơn vị hiện hành mang mã {unit_code}.")
    else:
        facility = db.session.scalar(select(Facility).where(Facility.code == facility_code))
        if facility is None:
            raise click.ClickException(f"Không có cơ sở y tế mang mã {facility_code}.")
    try:
        user = services.create_user(username=username, full_name=full_name or username, password=password)
        services.grant_role(user, Role(role), unit=unit, facility=facility, valid_from=today())
    except DomainError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(f"Đã tạo tài khoản {user.username} ({role}).")


@users_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra: không tạo tài khoản nào.")
@click.option("--user", "username", help="Nhập với quyền của tài khoản này (quản trị cấp tỉnh: chỉ trong tỉnh của mình).")
@click.option("--passwords-out", "passwords_out", type=click.Path(path_type=Path),
              help="Ghi thêm phiếu giao tài khoản (kèm mật khẩu lần đầu) vào tệp .xlsx hoặc .pdf.")
@click.option("--login-url", help="Địa chỉ trang đăng nhập in trên phiếu giao tài khoản.")
def import_command(file: Path, dry_run: bool, username: str | None, passwords_out: Path | None,
                   login_url: str | None):
    """Tạo nhiều tài khoản từ tệp Excel/CSV, mỗi tài khoản một mật khẩu lần đầu (in ra một lần).

    Tệp có các cột: Tên đăng nhập, Họ và tên, Vai trò, Mã đơn vị hoặc Mã cơ sở y tế, Thư điện tử,
    Điện thoại, Ngày hiệu lực. Có lỗi thì in mọi lỗi, không tạo gì và thoát với mã 2. Mật khẩu lần
    đầu chỉ in ra ở đây (và vào --passwords-out): hệ thống không lưu chúng."""
    user = active_user(username)
    if not file.is_file():
        fail(f"không có tệp “{file}”.")
    fmt = None
    if passwords_out is not None:
        fmt = output_checks(None, passwords_out, ("xlsx", "pdf"), unit_code=None, centre_code=None)
    try:
        table = read_table(file, accounts_import.FIELDS, filename=file.name)
        plan = accounts_import.plan_accounts(table, actor=user)
    except DomainError as e:
        db.session.rollback()
        for problem in getattr(e, "problems", []):
            click.echo(problem, err=True)
        fail(f"không đọc được tệp “{file.name}”: {e}")
    if plan.problems:
        db.session.rollback()
        for problem in plan.problems:
            click.echo(str(problem), err=True)
        fail(f"không nhập tệp “{file.name}”: {len(plan.problems)} lỗi. Cơ sở dữ liệu không thay đổi.")
    for item in plan.items:
        mark = "+" if item.action == accounts_import.CREATE else "="
        click.echo(f"  {mark} {item.username} ({item.full_name}): {item.role}, {item.place} "
                   f"từ {item.valid_from:%d/%m/%Y}")
    counts = f"tạo mới {plan.summary.created}, không đổi {plan.summary.unchanged}"
    if dry_run:
        db.session.rollback()
        click.echo(f"Chạy thử “{file.name}” (không ghi gì): sẽ {counts}.")
        return
    try:
        with click.progressbar(length=len(plan.new), label="Tạo mật khẩu", file=sys.stderr) as bar:
            done = [0]

            def progress(n: int, total: int) -> None:
                bar.update(n - done[0])
                done[0] = n

            result = accounts_import.apply_accounts(plan, actor=user, filename=file.name, progress=progress)
        if passwords_out is not None and result.accounts:
            document = accounts_import.handout_document(result.accounts, source=file.name, login_url=login_url)
            # Readable by its owner only: it holds the passwords.
            with os.fdopen(os.open(passwords_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as target:
                write_document(document, fmt, target)
    except DomainError as e:
        db.session.rollback()
        for problem in getattr(e, "problems", []):
            click.echo(problem, err=True)
        fail(f"không nhập tệp “{file.name}”: {e} Cơ sở dữ liệu không thay đổi.")
    except OSError as e:
        db.session.rollback()
        fail(f"không ghi được “{passwords_out}”: {e.strerror or e}. Cơ sở dữ liệu không thay đổi.")
    db.session.commit()
    click.echo(f"Đã nhập “{file.name}”: {counts}.")
    if result.accounts:
        click.echo("Mật khẩu lần đầu (chỉ in một lần; hệ thống không lưu):")
        click.echo("Tên đăng nhập\tMật khẩu\tHọ và tên\tVai trò\tNơi được cấp quyền")
        for account in result.accounts:
            click.echo(f"{account.username}\t{account.password}\t{account.full_name}\t{account.role}\t{account.place}")
        if passwords_out is not None:
            click.echo(f"Phiếu giao tài khoản: {passwords_out}")

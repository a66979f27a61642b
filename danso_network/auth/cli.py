"""``danso users create``: an account with one role grant."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..common.clock import today
from ..errors import DomainError
from ..extensions import db
from ..units.models import Facility
from ..units.services import find_unit_by_code
from . import services
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

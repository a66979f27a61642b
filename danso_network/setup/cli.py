"""``danso setup --province CODE``: the guided start of a province in the terminal (issue #12,
item 6): each step with its state, its figures and the command that does it."""

from __future__ import annotations

import click
from sqlalchemy import select

from ..common.cli import fail
from ..common.clock import today
from ..extensions import db
from ..units.models import AdminUnit, UnitLevel
from ..units.services import valid_on
from . import services

MARKS = {services.DONE: "[x]", services.PARTIAL: "[~]", services.MISSING: "[ ]"}


@click.command("setup")
@click.option("--province", "province_code", required=True, metavar="CODE", help="Mã tỉnh/thành phố, vd. 75.")
def setup_command(province_code: str):
    """Các bước triển khai cho một tỉnh/thành phố và tình hình từng bước."""
    on = today()
    province = db.session.scalar(select(AdminUnit).where(AdminUnit.level == UnitLevel.PROVINCE.value,
                                                         AdminUnit.code == province_code, valid_on(AdminUnit, on)))
    if province is None:
        fail(f"không có tỉnh/thành phố mã “{province_code}” đang hiệu lực. Nhập ranh giới trước: "
             "danso units import data/<tệp ranh giới>.")
    click.echo(f"Triển khai cho {province.full_name} — tình hình ngày {on:%d/%m/%Y}:")
    steps = services.province_steps(province, on)
    for n, step in enumerate(steps, 1):
        click.echo(f"{MARKS[step.state]} {n}. {step.title} — {step.state_label}")
        for line in step.figures:
            click.echo(f"      {line}")
        if step.command and step.state != services.DONE:
            click.echo(f"      Lệnh: {step.command}")
    following = services.next_step(steps)
    click.echo(f"Bước tiếp theo: {following.title}." if following else "Đã xong mọi bước.")

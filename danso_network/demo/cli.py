"""``danso demo load``: the Đồng Nai demonstration data set."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..errors import DomainError
from ..extensions import db

demo_cli = AppGroup("demo", help="Dữ liệu minh hoạ (Đồng Nai).")

# The loader pulls in geopandas; it is imported inside the command so that starting the web app
# (every gunicorn worker) does not pay for it.
DEFAULT_PASSWORD = "demo-danso-2026"  # nosec B105 # the demo's published password (README); never load the demo in production
DEFAULT_SEED = 2026


@demo_cli.command("load")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True, help="Mật khẩu cho các tài khoản minh hoạ.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int, help="Hạt giống sinh dữ liệu thôn/ấp.")
@click.option("--if-empty", is_flag=True, help="Chỉ nạp khi cơ sở dữ liệu còn trống.")
def load_command(password: str, seed: int, if_empty: bool):
    """Nạp dữ liệu minh hoạ: 95 xã/phường thật của Đồng Nai, thôn/ấp sinh tự động, cơ sở y tế, tài khoản."""
    from .loader import DEMO_USERS, database_is_empty, load_demo

    if if_empty and not database_is_empty():
        click.echo("Cơ sở dữ liệu đã có dữ liệu; bỏ qua nạp dữ liệu minh hoạ.")
        _print_logins(DEMO_USERS, None)
        return
    try:
        report = load_demo(Path(current_app.config["DATA_DIR"]), seed=seed, password=password)
    except DomainError as e:
        db.session.rollback()
        problems = getattr(e, "problems", None) or []
        for p in problems:
            click.echo(str(p), err=True)
        raise click.ClickException(str(e)) from None
    db.session.commit()
    click.echo(
        f"Đã nạp dữ liệu minh hoạ: {report.communes} xã/phường, {report.hamlets_total} thôn/ấp "
        f"({report.hamlets_created} mới), {report.districts} huyện cũ (lịch sử), "
        f"{report.facilities_created} cơ sở y tế mới."
    )
    if report.reform is not None:
        r = report.reform
        click.echo(f"Sắp xếp đơn vị hành chính từ 01/7/2025 (NQ 1662/NQ-UBTVQH15, qua nhập bảng sắp xếp): "
                   f"{r.communes_closed} xã/phường/thị trấn cũ của Bình Phước và Đồng Nai → {r.communes_opened} "
                   f"xã/phường; {r.hamlets_opened} thôn/ấp sang xã/phường mới.")
    if report.pipeline is not None and not report.pipeline.skipped:
        p = report.pipeline
        click.echo(f"Tuyển chọn CTV: {p.applications_created} hồ sơ, {p.decisions_created} quyết định công nhận, "
                   f"{p.collaborators_activated} CTV đang hoạt động (thôn/ấp và ứng viên là dữ liệu minh hoạ).")
    if report.network is not None and not report.network.skipped:
        n = report.network
        click.echo(f"Mạng lưới CTV 23/11/2023 – 23/11/2026: {n.collaborators_created} CTV, "
                   f"{n.endings_on_paper + sum(n.terminations.values())} lượt nghỉ việc, {n.transfers} điều chuyển, "
                   f"{n.suspensions} tạm đình chỉ; khu vực Bù Đăng: {n.meetings} buổi giao ban, {n.visits} lượt giám sát, "
                   f"{n.courses} lớp tập huấn (dữ liệu minh hoạ).")
    _print_logins(DEMO_USERS, password if report.users_created else None)


def _print_logins(users, password: str | None) -> None:
    if password is None:
        note = f"mật khẩu đặt khi nạp lần đầu; mặc định {DEFAULT_PASSWORD}"
    elif password == DEFAULT_PASSWORD:
        note = f"mật khẩu: {password}"
    else:
        note = "mật khẩu: như đã nhập"
    click.echo(f"Tài khoản minh hoạ ({note}):")
    for user in users:
        click.echo(f"  {user.username:<14} {user.role.value:<18} {user.full_name}")

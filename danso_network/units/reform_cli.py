"""``danso units reform FILE [--dry-run] [--user USERNAME] [--move-grants]`` (issue #13 item 3;
DESIGN.md §6): a whole administrative reform from a table of old code → new code
(:mod:`units.reform_import`).

Every problem is printed on standard error with its row, and the command exits with status 2,
nothing written; progress goes to standard error. ``--dry-run`` carries out the reform and rolls it
back, printing what it would do. Without ``--user`` the command acts as the system (the operator
who runs it); with it, as that account, which must be the province admin of every unit it changes
(``units.reforms.can_reform``). Grants at closed units end on the effective date unless
``--move-grants`` grants the proposals of the preview (listed either way).

Registered on the ``units`` group by ``units_cli.add_command(reform_command)``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import with_appcontext

from ..common.cli import active_user, fail
from ..errors import DomainError
from ..extensions import db
from .reform_import import plan_reform, read_reform, run_reform

PREVIEW_LINES = 200  # operations listed
WARNING_LINES = 50


def _refuse(file: Path, problems: list[str]) -> NoReturn:
    db.session.rollback()
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Không áp dụng tệp “{file.name}”: {len(problems)} lỗi. Cơ sở dữ liệu không thay đổi.", err=True)
    raise click.exceptions.Exit(2)


def _progress(done: int, total: int, what: str) -> None:
    if total and (done == total or done % 10 == 0 or total <= 20):
        click.echo(f"  [{done}/{total}] {what}"[:160], err=True)


@click.command("reform")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết sẽ thay đổi gì; không ghi gì.")
@click.option("--user", "username", default=None, metavar="USERNAME",
              help="Áp dụng với quyền của tài khoản này (quản trị cấp tỉnh của mọi đơn vị thay đổi).")
@click.option("--move-grants", is_flag=True,
              help="Cấp lại quyền tài khoản tại đơn vị kế thừa theo đề xuất (mặc định: quyền tại đơn vị đóng kết thúc).")
def reform_command(file: Path, dry_run: bool, username: str | None, move_grants: bool):
    """Sắp xếp đơn vị hành chính theo bảng mã cũ → mã mới (sáp nhập, chia tách, đổi tên, chuyển cấp trên)."""
    user = active_user(username)
    if not file.is_file():
        fail(f"không tìm thấy tệp “{file}”.")
    try:
        plan = plan_reform(read_reform(file))
    except DomainError as e:
        _refuse(file, list(getattr(e, "problems", None) or []) or [str(e)])
    if plan.problems:
        _refuse(file, [str(p) for p in plan.problems])
    click.echo(f"Kiểm tra “{file.name}”: {len(plan.rows)} dòng, {len(plan.steps)} thao tác, hiệu lực từ "
               f"{plan.effective_on:%d/%m/%Y}.", err=True)
    try:
        summary = run_reform(plan, actor=user, dry_run=dry_run, move_grants=move_grants, progress=_progress)
    except DomainError as e:
        _refuse(file, list(getattr(e, "problems", None) or []) or [str(e)])
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in summary.lines[:PREVIEW_LINES]:
        click.echo(f"  ~ {line}")
    if len(summary.lines) > PREVIEW_LINES:
        click.echo(f"  … và {len(summary.lines) - PREVIEW_LINES} thao tác nữa.")
    for grant in summary.grants:
        proposal = f" → {grant.proposal}" if grant.proposal else ""
        click.echo(f"  ! Quyền {grant.username} ({grant.role}) tại {grant.place}: {grant.change}{proposal}")
    for warning in summary.warnings[:WARNING_LINES]:
        click.echo(f"  · {warning}")
    if len(summary.warnings) > WARNING_LINES:
        click.echo(f"  … và {len(summary.warnings) - WARNING_LINES} lưu ý nữa.")
    verb = "Chạy thử (không ghi gì): sẽ" if dry_run else "Đã"
    click.echo(
        f"{verb} áp dụng “{file.name}”: {summary.operations} thao tác, đóng {summary.communes_closed} xã/phường và "
        f"{summary.hamlets_closed} thôn/tổ dân phố, mở {summary.communes_opened} xã/phường và {summary.hamlets_opened} "
        f"thôn/tổ dân phố; {summary.collaborators} cộng tác viên chuyển phân công, {summary.applications} hồ sơ "
        f"chuyển theo thôn, {len(summary.grants)} quyền tài khoản thay đổi"
        f"{f' ({summary.grants_made} quyền được cấp lại)' if summary.grants_made else ''}; "
        f"{summary.unchanged} dòng không thay đổi.")
    sys.stdout.flush()

"""``danso roster export``: a roster file from the command line (issue #11, item 1); ``danso roster
import`` and ``danso roster template``: the roster brought in from a file, and its template (issue
#12, item 3).

    danso roster export --unit 75 --format xlsx -o dong-nai.xlsx
    danso roster export --centre TTYT-689 --format pdf --as-of 31/12/2026 --status active -o ttyt.pdf
    danso roster export --unit 25195 --format gpkg --user truongtram_a -o binh-phuoc.gpkg

``--unit CODE`` (a province's or commune's official code) or ``--centre CODE`` (a facility's code);
neither: the whole scope. ``--user USERNAME`` makes the file with that user's scope and personal
data rights (what their roster page would show); without it the command runs as an administrator
over everything, and says so. The format defaults to the output file's extension. A large export
shows a progress bar on the terminal. Bad input (an unknown format, unit, centre or user, an
unreadable date, a unit outside the user's scope, a date before the unit's data) is one line on
standard error and exit status 2; nothing is written.

    danso roster template --unit 25195 -o mau-ctv.xlsx
    danso roster import danh-sach-ctv.xlsx --dry-run --user truongtram_a
    danso roster import danh-sach-ctv.xlsx

``import`` reads the file (XLSX, XLS, ODS or CSV; ``collaborators.roster_import``), prints what it
would create, update and leave unchanged and every problem (one line each, with its sheet, row and
column); with problems it writes nothing and exits with status 2; ``--dry-run`` stops after the
check; otherwise everything is written in one transaction. Without ``--user`` it runs as an
administrator over every area, and says so.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..common.cli import active_user, fail, output_checks
from ..errors import DomainError
from ..extensions import db
from ..units.models import Facility
from ..units.services import find_unit_by_code
from . import services

roster_cli = AppGroup("roster", help="Danh sách cộng tác viên dân số.")

PROGRESS_FROM = 5000  # rows: smaller exports are quick enough without a bar


@roster_cli.command("export")
@click.option("--unit", "unit_code", metavar="CODE", help="Mã đơn vị hành chính (tỉnh hoặc xã/phường), vd. 75, 25195.")
@click.option("--centre", "centre_code", metavar="CODE", help="Mã cơ sở y tế (trung tâm y tế), vd. TTYT-689.")
@click.option("--format", "fmt", metavar="|".join(services.FORMATS),
              help="Định dạng tệp; mặc định theo đuôi tệp của -o.")
@click.option("--as-of", "as_of", metavar="DATE", help="Tính đến ngày (dd/mm/yyyy hoặc YYYY-MM-DD); mặc định hôm nay.")
@click.option("--status", metavar="|".join(services.roster_services.ROSTER_STATUSES),
              help="Tình trạng: active (đang hoạt động), suspended (tạm đình chỉ), ended (đã nghỉ việc); "
                   "mặc định: đang phụ trách (hoạt động và tạm đình chỉ).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp ghi ra.")
@click.option("--user", "username", metavar="USERNAME",
              help="Xuất với phạm vi và quyền xem dữ liệu cá nhân của tài khoản này.")
def export_command(unit_code, centre_code, fmt, as_of, status, output: Path, username):
    """Xuất danh sách CTV (xlsx, csv, pdf) hoặc lớp bản đồ thôn (geojson, gpkg)."""
    fmt = output_checks(fmt, output, services.FORMATS, unit_code=unit_code, centre_code=centre_code)
    if status and status not in services.roster_services.ROSTER_STATUSES:
        fail(f"tình trạng “{status}” không hợp lệ; chọn một trong: "
              f"{', '.join(services.roster_services.ROSTER_STATUSES)}.")
    try:
        on = services.check_date(as_of)
        user = active_user(username)
        area_params: dict = {}
        if unit_code:
            # The unit holding the code on the date, else today's (then refused with the day its data begin).
            unit = find_unit_by_code(unit_code, on) or find_unit_by_code(unit_code)
            if unit is None:
                fail(f"không có đơn vị hành chính mang mã {unit_code} vào ngày {on:%d/%m/%Y}.")
            area_params = {"unit_id": unit.id}
        elif centre_code:
            facility = db.session.scalar(select(Facility).where(Facility.code == centre_code))
            if facility is None:
                fail(f"không có cơ sở y tế mang mã {centre_code}.")
            area_params = {"facility_id": facility.id}
        params = {"list": "roster", "format": fmt, "area": area_params,
                  "filters": {"as_of": on.isoformat(), "status": status}}
        spec = services.spec_from_params(params, user)
        if user is None:
            click.echo("Chạy với quyền quản trị: toàn bộ dữ liệu, kể cả số CCCD và điện thoại "
                       "(dùng --user để xuất theo phạm vi của một tài khoản).", err=True)
        made = _write(spec, user, output)
    except DomainError as error:
        db.session.rollback()
        fail(str(error))
        return
    for note in made.notes:
        click.echo(note)
    click.echo(f"Đã ghi “{output}” ({services.FORMAT_LABELS[fmt]}, {spec.area.title}, "
               f"tính đến ngày {spec.as_of:%d/%m/%Y}).")


def _write(spec: services.ExportSpec, user, output: Path) -> services.Made:
    """Make the file into a temporary name beside ``output`` and move it in place when whole,
    with a progress bar over the rows of a large export."""
    total = services.size_of(spec)
    partial = output.with_name(output.name + ".part")
    bar = None
    if total >= PROGRESS_FROM and spec.fmt not in services.GIS_FORMATS:
        bar = click.progressbar(length=total, label="Đang ghi", file=sys.stderr)
        bar.__enter__()
        last = [0]

        def progress(done: int, _total: int | None) -> None:
            bar.update(done - last[0])
            last[0] = done
    else:
        progress = None
    try:
        made = services.make(spec, user, progress)
        with partial.open("wb") as target:
            made.write(target)
        partial.replace(output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return made


@roster_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết kết quả, không ghi gì.")
@click.option("--user", "username", metavar="USERNAME",
              help="Nhập với phạm vi phân công của tài khoản này (mặc định: quyền quản trị, mọi địa bàn).")
def import_command(file: Path, dry_run: bool, username):
    """Nhập danh sách CTV từ tệp (xlsx, xls, ods, csv): kiểm tra toàn bộ trước, chỉ ghi khi không có lỗi."""
    from ..collaborators import roster_import
    from ..imports.reading import read_table

    user = active_user(username)
    if user is None:
        click.echo("Chạy với quyền quản trị: mọi địa bàn (dùng --user để nhập theo phạm vi của một tài khoản).",
                   err=True)
    try:
        table = read_table(file, roster_import.FIELDS)
    except DomainError as error:
        for line in getattr(error, "problems", []):
            click.echo(line)
        fail(str(error))
        return
    total = len(table.rows)
    with _bar(total, "Đang kiểm tra", total >= PROGRESS_FROM) as progress:
        plan = roster_import.plan_roster_import(table, user=user, progress=progress)
    click.echo(f"Tệp “{file.name}”{f', trang “{table.sheet}”' if table.sheet else ''}: {plan.rows} dòng — "
               f"tạo mới {plan.summary.created}, cập nhật {plan.summary.updated}, "
               f"không đổi {plan.summary.unchanged}, lỗi {len(plan.problems)}.")
    for warning in plan.warnings:
        click.echo(f"Lưu ý: {warning}")
    if plan.ignored:
        click.echo(f"Các cột không dùng: {', '.join(plan.ignored)}.")
    for problem in plan.problems:
        click.echo(str(problem))
    if plan.problems:
        db.session.rollback()
        fail(f"tệp có {len(plan.problems)} lỗi; không ghi gì vào cơ sở dữ liệu. Hãy sửa rồi nhập lại.")
    if dry_run:
        db.session.rollback()
        click.echo("Chạy thử: chưa ghi gì vào cơ sở dữ liệu.")
        return
    try:
        with _bar(len(plan.new) + len(plan.updates), "Đang ghi", total >= PROGRESS_FROM) as progress:
            summary = roster_import.apply_roster_import(plan, actor=user, filename=file.name, progress=progress)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        fail(f"{error} Không ghi gì vào cơ sở dữ liệu.")
        return
    click.echo(f"Đã nhập: tạo mới {summary.created}, cập nhật {summary.updated}, không đổi {summary.unchanged}.")


@contextlib.contextmanager
def _bar(length: int, label: str, shown: bool):
    """A progress bar on standard error (a long file only), as a ``progress(done, total)``."""
    if not shown:
        yield None
        return
    with click.progressbar(length=max(length, 1), label=label, file=sys.stderr) as bar:
        last = [0]

        def progress(done: int, _total: int) -> None:
            bar.update(max(0, done - last[0]))
            last[0] = max(last[0], done)
        yield progress


@roster_cli.command("template")
@click.option("--unit", "unit_code", metavar="CODE",
              help="Mã đơn vị hành chính (tỉnh hoặc xã/phường) có các thôn liệt kê trong mẫu; mặc định: mọi thôn "
                   "trong phạm vi.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Tệp ghi ra (.xlsx).")
@click.option("--user", "username", metavar="USERNAME", help="Mẫu theo phạm vi phân công của tài khoản này.")
def template_command(unit_code, output: Path, username):
    """Tải mẫu Excel nhập danh sách CTV (danh sách thôn, danh sách chọn, hướng dẫn)."""
    from ..collaborators import roster_template

    output_checks("xlsx", output, ("xlsx",), unit_code=unit_code, centre_code=None)
    user = active_user(username)
    unit = None
    if unit_code:
        unit = find_unit_by_code(unit_code)
        if unit is None:
            fail(f"không có đơn vị hành chính đang có hiệu lực mang mã {unit_code}.")
    partial = output.with_name(output.name + ".part")
    try:
        info = roster_template.write_template(partial, user=user, unit=unit)
        partial.replace(output)
    except DomainError as error:
        partial.unlink(missing_ok=True)
        fail(str(error))
        return
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"Đã ghi “{output}” (mẫu nhập CTV, {info.title}: {info.hamlets} thôn/tổ dân phố).")

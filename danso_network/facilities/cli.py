"""``danso facilities …``: health facilities from the command line (issue #12, item 1).

- ``danso facilities import FILE [--dry-run] [--province CODE] [--user USERNAME]``: the area health
  centres and the communes they serve from an XLSX/CSV file (``facilities_import``); prints the
  counts and every problem (one line each). Exit 0 when done (or checked, with ``--dry-run``);
  exit 2 with nothing written when the file has problems.
- ``danso facilities create-stations --province CODE [--on DATE] [--dry-run] [--user USERNAME]``:
  a station for every commune that has none, each commune left out named with its reason.
- ``danso facilities list --province CODE [--on DATE]``: the province's facilities.

``--user`` runs as that account (its scope is checked: a province admin of the province);
without it the command runs as the system administrator. Dates are dd/mm/yyyy or yyyy-mm-dd.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from ..common.cli import active_user, fail
from ..common.clock import today
from ..common.params import parse_date
from ..errors import DomainError
from ..extensions import db
from ..imports.reading import read_table
from ..units.labels import facility_kind_label
from ..units.models import AdminUnit, FacilityKind, UnitLevel
from ..units.services import find_unit_by_code
from . import facilities_import, services
from .permissions import can_manage_facilities

facilities_cli = AppGroup("facilities", help="Cơ sở y tế: Sở Y tế, trung tâm y tế, trạm y tế.")


def _province(code: str | None) -> AdminUnit | None:
    if not code:
        return None
    unit = find_unit_by_code(code)
    if unit is None or unit.level != UnitLevel.PROVINCE:
        fail(f"không có tỉnh/thành phố đang hiệu lực mang mã “{code}”.")
    return unit


def _day(text: str | None) -> date:
    if not text:
        return today()
    try:
        return parse_date(text)
    except ValueError:
        fail(f"ngày “{text}” không hợp lệ (ngày/tháng/năm hoặc yyyy-mm-dd).")


def _may_manage(user, province: AdminUnit) -> None:
    if user is not None and not can_manage_facilities(user, province):
        fail(f"tài khoản {user.username} không quản lý cơ sở y tế của {province.full_name}.")


@facilities_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết sẽ tạo/cập nhật gì; không ghi gì.")
@click.option("--province", "province_code", default=None, metavar="CODE",
              help="Mã tỉnh của tệp (mặc định: tỉnh của các xã/phường trong tệp).")
@click.option("--user", "username", default=None, help="Nhập với quyền của tài khoản này (mặc định: quản trị hệ thống).")
def import_command(file: Path, dry_run: bool, province_code: str | None, username: str | None):
    """Nhập trung tâm y tế khu vực và các xã/phường phụ trách từ tệp XLSX/CSV."""
    if not file.is_file():
        fail(f"không có tệp “{file}”.")
    user = active_user(username)
    province = _province(province_code)
    try:
        table = read_table(file, facilities_import.FIELDS, filename=file.name)
        plan = facilities_import.plan_centres(table, province=province, actor=user)
    except DomainError as e:
        db.session.rollback()
        for problem in getattr(e, "problems", None) or []:
            click.echo(problem, err=True)
        fail(f"không đọc được tệp “{file.name}”: {e}")
    if plan.province is not None:
        click.echo(f"Tỉnh: {plan.province.full_name} (mã {plan.province.code})")
    if plan.problems:
        db.session.rollback()
        for problem in plan.problems:
            click.echo(str(problem), err=True)
        fail(f"không nhập tệp “{file.name}”: {len(plan.problems)} lỗi. Cơ sở dữ liệu không thay đổi.")
    if plan.department is not None:
        d = plan.department
        click.echo(f"  + {d.code} {d.name} (tỉnh chưa có Sở Y tế; hoạt động từ {d.valid_from:%d/%m/%Y})")
    for item in plan.items:
        if item.action == "create":
            click.echo(f"  + {item.code} {item.name}: {len(item.communes)} xã/phường từ {item.valid_from:%d/%m/%Y}")
        elif item.action == "update":
            click.echo(f"  ~ {item.code} {item.name}: {'; '.join(item.change_words())}")
    summary = plan.summary
    counts = f"tạo mới {summary.created}, cập nhật {summary.updated}, không đổi {summary.unchanged}"
    if dry_run:
        db.session.rollback()
        click.echo(f"Chạy thử “{file.name}” (không ghi gì): sẽ {counts}.")
        return
    try:
        facilities_import.apply_centres(plan, actor=user, filename=file.name)
    except DomainError as e:
        db.session.rollback()
        for problem in getattr(e, "problems", None) or []:
            click.echo(problem, err=True)
        fail(f"không nhập tệp “{file.name}”: {e} Cơ sở dữ liệu không thay đổi.")
    db.session.commit()
    click.echo(f"Đã nhập “{file.name}”: {counts}.")


@facilities_cli.command("create-stations")
@click.option("--province", "province_code", required=True, metavar="CODE", help="Mã tỉnh/thành phố.")
@click.option("--on", "on_text", default=None, metavar="DATE",
              help="Ngày các trạm bắt đầu hoạt động (mặc định: hôm nay).")
@click.option("--dry-run", is_flag=True, help="Chỉ cho biết sẽ tạo trạm nào; không ghi gì.")
@click.option("--user", "username", default=None, help="Tạo với quyền của tài khoản này.")
def create_stations_command(province_code: str, on_text: str | None, dry_run: bool, username: str | None):
    """Tạo trạm y tế cho mọi xã/phường chưa có trạm (Trạm Y tế <xã>, mã TYT-<mã xã>)."""
    user = active_user(username)
    province = _province(province_code)
    _may_manage(user, province)
    on = _day(on_text)
    if dry_run:
        plan = services.plan_stations(province, on)
        stations = plan.to_create
    else:
        try:
            plan = services.create_stations_for_communes(province, on, actor=user)
        except DomainError as e:
            db.session.rollback()
            fail(str(e))
        db.session.commit()
        stations = plan.to_create
    for item in stations:
        click.echo(f"  + {item.code} {item.name} (trực thuộc {item.centre.code})")
    for skipped in plan.skipped:
        click.echo(f"  - {skipped.commune.code} {skipped.commune.full_name}: {skipped.detail}")
    verb = "Chạy thử (không ghi gì): sẽ tạo" if dry_run else "Đã tạo"
    click.echo(f"{verb} {len(stations)} trạm y tế từ {on:%d/%m/%Y}; không tạo cho {len(plan.skipped)} xã/phường.")
    if dry_run:
        db.session.rollback()


@facilities_cli.command("list")
@click.option("--province", "province_code", required=True, metavar="CODE", help="Mã tỉnh/thành phố.")
@click.option("--on", "on_text", default=None, metavar="DATE", help="Tại ngày (mặc định: hôm nay).")
@click.option("--all", "show_all", is_flag=True, help="Cả các cơ sở đã đóng.")
def list_command(province_code: str, on_text: str | None, show_all: bool):
    """Liệt kê cơ sở y tế của một tỉnh: loại, mã, tên, cấp trên, xã/phường phụ trách."""
    province = _province(province_code)
    on = _day(on_text)
    page = services.facility_page(province, status="all" if show_all else "open", on=on, per_page=10_000)
    served = services.served_on(page.items, on)
    for f in page.items:
        units = served[f.id]
        where = (f"{len(units)} xã/phường" if f.kind == FacilityKind.HEALTH_CENTRE.value
                 else ", ".join(u.full_name for u in units) or "—")
        closed = f" [đóng từ {f.valid_to:%d/%m/%Y}]" if f.valid_to else ""
        parent = f" ← {f.parent.code}" if f.parent else ""
        click.echo(f"{facility_kind_label(f.kind)}\t{f.code}\t{f.name}{parent}\t{where}{closed}")
    click.echo(f"{page.total} cơ sở y tế của {province.full_name} tại ngày {on:%d/%m/%Y}.")

"""``danso units …``: administrative units from the command line.

``danso units import FILE [--dry-run]`` reads a GIS file (GeoJSON, GeoPackage, zipped shapefile),
checks every feature and creates or corrects units by code (see :mod:`units.importer` and
docs/gis-import.md). Exit status 0 on success; 1 with one line per problem on bad input, and then
nothing is written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from ..errors import DomainError
from ..extensions import db
from .importer import DEFAULT_DECISION_REF, REFORM_DAY, ImportFailed, apply_plan, plan_import, read_units_file

units_cli = AppGroup("units", help="Đơn vị hành chính.")


def _fail(file: Path, problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Không nhập tệp “{file.name}”: {len(problems)} lỗi. Cơ sở dữ liệu không thay đổi.", err=True)
    raise click.exceptions.Exit(1)


@units_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết sẽ tạo/cập nhật gì; không ghi gì.")
@click.option("--valid-from", "valid_from_text", default=REFORM_DAY.isoformat(), show_default=True,
              metavar="YYYY-MM-DD", help="Ngày hiệu lực của các đơn vị tạo mới.")
@click.option("--decision-ref", default=DEFAULT_DECISION_REF, show_default=True,
              help="Văn bản quyết định ghi cho các đơn vị tạo mới.")
@click.option("--layer", default=None, help="Tên lớp, khi tệp GeoPackage/zip có nhiều lớp.")
def import_command(file: Path, dry_run: bool, valid_from_text: str, decision_ref: str, layer: str | None):
    """Nhập ranh giới và thuộc tính xã/phường, tỉnh từ tệp GIS, khớp theo mã đơn vị."""
    try:
        valid_from = date.fromisoformat(valid_from_text)
    except ValueError:
        click.echo(f"Ngày hiệu lực “{valid_from_text}” không đúng dạng YYYY-MM-DD.", err=True)
        raise click.exceptions.Exit(2) from None
    try:
        frame = read_units_file(file, layer=layer)
        plan = plan_import(frame, valid_from=valid_from, decision_ref=decision_ref or None,
                           source_name=file.name)
        if plan.problems:
            raise ImportFailed(plan.problems)
        if dry_run:
            db.session.rollback()
            for note in plan.notes:
                click.echo(note)
            for item in plan.to_create:
                click.echo(f"  + {item.code} {item.full_name}")
            for item in plan.to_update:
                click.echo(f"  ~ {item.code} {item.full_name}: {', '.join(item.changed_labels())}")
            click.echo(f"Chạy thử “{file.name}” (không ghi gì): sẽ tạo mới {len(plan.to_create)}, "
                       f"cập nhật {len(plan.to_update)}, không đổi {len(plan.unchanged)}.")
            return
        report = apply_plan(plan)
    except DomainError as e:
        db.session.rollback()
        _fail(file, list(getattr(e, "problems", None) or [str(e)]))
        return
    db.session.commit()
    for note in report.notes:
        click.echo(note)
    click.echo(f"Đã nhập “{file.name}”: tạo mới {report.created}, cập nhật {report.updated}, "
               f"không đổi {report.unchanged}.")

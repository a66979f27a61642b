"""``danso units …``: administrative units from the command line.

``danso units import FILE [--dry-run]`` reads a GIS file (GeoJSON, GeoPackage, zipped shapefile),
checks every feature and creates or corrects units by code (see :mod:`units.importer` and
docs/gis-import.md). Exit status 0 on success; 1 with one line per problem on bad input, and then
nothing is written.

``danso units import-hamlets FILE [--dry-run] [--user USERNAME]`` imports hamlets from an XLSX/CSV
file and ``danso units import-hamlet-boundaries FILE [--dry-run] [--layer L] [--user USERNAME]``
their boundaries from a GIS file (issue #12 item 2, :mod:`units.hamlets_import`): every problem on
one line with its row and column, exit status 2 with nothing written; a progress bar on standard
error for long files. Without ``--user`` the command acts as the administrator (every commune).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import AppGroup

from ..common.cli import active_user, fail
from ..errors import DomainError
from ..extensions import db
from ..imports.reading import read_table
from .hamlets_import import (
    FIELDS,
    PROGRESS_EVERY,
    apply_hamlet_boundaries,
    apply_hamlets,
    plan_hamlet_boundaries,
    plan_hamlets,
    read_boundaries,
)
from .importer import DEFAULT_DECISION_REF, REFORM_DAY, ImportFailed, apply_plan, plan_import, read_units_file

units_cli = AppGroup("units", help="Đơn vị hành chính.")


def _fail(file: Path, problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Không nhập tệp “{file.name}”: {len(problems)} lỗi. Cơ sở dữ liệu không thay đổi.", err=True)
    raise click.exceptions.Exit(1)


def only_province(frame, code: str):
    """The rows of ``frame`` that are the province ``code`` or its communes."""
    codes = frame["code"].astype(str) if "code" in frame else None
    parents = frame["province_code"].astype(str) if "province_code" in frame else None
    if codes is None:
        raise ImportFailed([f"Tệp không có cột “code” để chọn tỉnh/thành phố mã {code}."])
    keep = (codes == code) | (parents == code) if parents is not None else (codes == code)
    if not keep.any():
        raise ImportFailed([f"Tệp không có tỉnh/thành phố mã {code} hay xã/phường nào của nó."])
    return frame[keep]


@units_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết sẽ tạo/cập nhật gì; không ghi gì.")
@click.option("--valid-from", "valid_from_text", default=REFORM_DAY.isoformat(), show_default=True,
              metavar="YYYY-MM-DD", help="Ngày hiệu lực của các đơn vị tạo mới.")
@click.option("--decision-ref", default=DEFAULT_DECISION_REF, show_default=True,
              help="Văn bản quyết định ghi cho các đơn vị tạo mới.")
@click.option("--layer", default=None, help="Tên lớp, khi tệp GeoPackage/zip có nhiều lớp.")
@click.option("--province", "province_code", default=None, metavar="CODE",
              help="Chỉ nhập tỉnh/thành phố mã CODE và các xã/phường của nó (từ tệp cả nước trong data/).")
def import_command(file: Path, dry_run: bool, valid_from_text: str, decision_ref: str, layer: str | None,
                   province_code: str | None):
    """Nhập ranh giới và thuộc tính xã/phường, tỉnh từ tệp GIS, khớp theo mã đơn vị.

    ``--province 80`` keeps the features of one province from a national file
    (``data/vn_provinces_2026.geojson``, ``data/vn_wards_2026.geojson.gz``): the province whose code
    it is and the communes whose ``province_code`` it is; a file with none of them is refused."""
    try:
        valid_from = date.fromisoformat(valid_from_text)
    except ValueError:
        click.echo(f"Ngày hiệu lực “{valid_from_text}” không đúng dạng YYYY-MM-DD.", err=True)
        raise click.exceptions.Exit(2) from None
    try:
        frame = read_units_file(file, layer=layer)
        if province_code:
            frame = only_province(frame, province_code)
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


# --- hamlets in bulk (issue #12 item 2) ----------------------------------------------------------------

PREVIEW_LINES = 100  # changes listed by a dry run


def _refuse(file: Path, problems: list[str]) -> NoReturn:
    """One line per problem, then the verdict; exit 2 (bad input), nothing written."""
    db.session.rollback()
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"Không nhập tệp “{file.name}”: {len(problems)} lỗi. Cơ sở dữ liệu không thay đổi.", err=True)
    raise click.exceptions.Exit(2)


@contextmanager
def _bar(total: int, label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback ``(done, total)`` drawing a click progress bar on standard error
    (for files of more than a thousand rows; nothing for short ones)."""
    if total <= PROGRESS_EVERY:
        yield lambda done, total: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
        yield lambda done, _total: bar.update(done - bar.pos)


def _counts(summary, *, creates: bool = True) -> str:
    parts = ([f"tạo mới {summary.created}"] if creates else []) + [f"cập nhật {summary.updated}",
                                                                  f"không đổi {summary.unchanged}"]
    return ", ".join(parts)


@units_cli.command("import-hamlets")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết sẽ tạo/cập nhật gì; không ghi gì.")
@click.option("--user", "username", default=None, metavar="USERNAME",
              help="Nhập với quyền của tài khoản này (chỉ các xã/phường tài khoản được quản lý).")
def import_hamlets_command(file: Path, dry_run: bool, username: str | None):
    """Nhập thôn/tổ dân phố từ tệp Excel/CSV, khớp theo mã xã/phường và tên thôn."""
    user = active_user(username)
    if not file.is_file():
        fail(f"không tìm thấy tệp “{file}”.")
    try:
        table = read_table(file, FIELDS)
    except DomainError as e:
        _refuse(file, list(getattr(e, "problems", None) or []) or [str(e)])
    with _bar(len(table.rows), "Đang kiểm tra") as progress:
        plan = plan_hamlets(table, actor=user, progress=progress)
    del table
    if plan.problems:
        _refuse(file, [str(p) for p in plan.problems])
    for note in plan.notes:
        click.echo(note)
    if dry_run:
        db.session.rollback()
        changes = plan.changes()
        for item in changes[:PREVIEW_LINES]:
            what = ("+ " if item.action == "create" else "~ ") + f"dòng {item.row}: {item.name}, {item.commune_name}"
            lines = item.change_lines()
            click.echo(f"  {what}{': ' + '; '.join(lines) if lines else ''}")
        if len(changes) > PREVIEW_LINES:
            click.echo(f"  … và {len(changes) - PREVIEW_LINES} dòng thay đổi nữa.")
        click.echo(f"Chạy thử “{file.name}” (không ghi gì): sẽ {_counts(plan.summary)}.")
        return
    try:
        with _bar(plan.rows, "Đang ghi") as progress:
            summary = apply_hamlets(plan, actor=user, filename=file.name, progress=progress)
    except DomainError as e:
        _refuse(file, list(getattr(e, "problems", None) or []) or [str(e)])
    db.session.commit()
    click.echo(f"Đã nhập “{file.name}”: {_counts(summary)} thôn/tổ dân phố.")


@units_cli.command("import-hamlet-boundaries")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Chỉ kiểm tra và cho biết sẽ cập nhật gì; không ghi gì.")
@click.option("--layer", default=None, help="Tên lớp, khi tệp GeoPackage/zip có nhiều lớp.")
@click.option("--user", "username", default=None, metavar="USERNAME",
              help="Nhập với quyền của tài khoản này (chỉ các xã/phường tài khoản được quản lý).")
def import_hamlet_boundaries_command(file: Path, dry_run: bool, layer: str | None, username: str | None):
    """Nhập ranh giới thôn/tổ dân phố từ tệp GIS (GeoJSON, GeoPackage, shapefile nén), khớp theo mã
    xã/phường và tên (hoặc mã) thôn."""
    user = active_user(username)
    try:
        frame = read_boundaries(file, layer=layer)
        plan = plan_hamlet_boundaries(frame, filename=file.name, actor=user)
    except DomainError as e:
        _refuse(file, list(getattr(e, "problems", None) or []) or [str(e)])
    if plan.problems:
        _refuse(file, [str(p) for p in plan.problems])
    for note in plan.notes:
        click.echo(note)
    if dry_run:
        db.session.rollback()
        for item in plan.changes(PREVIEW_LINES):
            click.echo(f"  ~ dòng {item.row}: {item.name}, {item.commune_name}")
        click.echo(f"Chạy thử “{file.name}” (không ghi gì): sẽ {_counts(plan.summary, creates=False)} ranh giới.")
        return
    summary = apply_hamlet_boundaries(plan, actor=user, filename=file.name)
    db.session.commit()
    click.echo(f"Đã nhập ranh giới từ “{file.name}”: {_counts(summary, creates=False)} thôn/tổ dân phố.")


# ``danso units reform FILE``: a whole administrative reform from a table (units.reform_cli).
from .reform_cli import reform_command  # noqa: E402

units_cli.add_command(reform_command)

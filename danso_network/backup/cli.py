"""``danso backup FILE`` and ``danso restore FILE [--force]`` (issue #14 item 5).

    danso backup /var/backups/danso/danso-$(date +%F).tar.gz
    danso restore /var/backups/danso/danso-2026-12-07.tar.gz

The rules are those of :mod:`danso_network.backup.services`. A restore into a database that holds
data asks for a confirmation (type “có”); without one — no answer, or no terminal, as under cron —
it is refused, unless ``--force``. Every refusal or failure is one line “Lỗi: …” on standard error
and exit status 2, with nothing changed (a backup leaves no file under ``FILE``).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..common import clock
from ..common.cli import fail
from ..errors import DomainError
from . import services

YES = {"có", "co", "c", "yes", "y"}
KEY_TABLES = (("user_account", "tài khoản"), ("admin_unit", "đơn vị hành chính"), ("collaborator", "CTV"),
              ("attachment", "tệp đính kèm"))


def _size(n: int) -> str:
    """A size as Vietnamese write it (decimal comma)."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f}".replace(".", ",") + f" {unit}"
    return f"{n} byte"


def _revision(manifest: dict) -> str:
    return manifest.get("alembic_revision") or "không rõ"


def _files(counts: dict) -> str:
    return f"{counts.get('uploads', 0)} tệp tải lên, {counts.get('jobs', 0)} tệp kết quả việc nền"


@click.command("backup", short_help="Sao lưu cơ sở dữ liệu và các tệp vào một tệp.")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@with_appcontext
def backup_command(file: Path):
    """Sao lưu cơ sở dữ liệu và các tệp (đính kèm, tệp nhập, kết quả việc nền) vào một tệp."""
    try:
        result = services.create_backup(file)
    except DomainError as error:
        fail(str(error))
        return
    manifest = result.manifest
    created = clock.local(datetime.fromisoformat(manifest["created_at"]))
    click.echo(f"Đã sao lưu vào “{result.path}” ({_size(result.size)}), lúc {created:%H:%M ngày %d/%m/%Y} (giờ Việt "
               f"Nam): cơ sở dữ liệu {services.KIND_LABELS[manifest['database']['kind']]} (lược đồ "
               f"{_revision(manifest)}), {_files(manifest['counts'])}.")


def _confirmed(busy: list[str]) -> bool:
    shown = ", ".join(busy[:4]) + (", …" if len(busy) > 4 else "")
    click.echo(f"Cơ sở dữ liệu đích đang có dữ liệu ({len(busy)} bảng có dữ liệu: {shown}). Khôi phục sẽ XOÁ toàn bộ "
               "dữ liệu này và thay bằng dữ liệu của bản sao lưu.", err=True)
    try:
        answer = click.prompt("Gõ “có” để tiếp tục (Enter để huỷ)", default="", show_default=False, err=True)
    except click.Abort:
        return False
    return unicodedata.normalize("NFC", answer.strip().casefold()) in YES


@click.command("restore", short_help="Khôi phục cơ sở dữ liệu và các tệp từ bản sao lưu.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Không hỏi lại khi cơ sở dữ liệu đích đang có dữ liệu: thay toàn bộ bằng bản sao lưu.")
@with_appcontext
def restore_command(file: Path, force: bool):
    """Khôi phục cơ sở dữ liệu và các tệp từ một bản sao lưu (kiểm tra bản sao lưu trước)."""
    try:
        with services.prepared_restore(file) as prepared:
            manifest = prepared.manifest
            click.echo(f"Bản sao lưu hợp lệ: tạo lúc {prepared.created_at:%H:%M ngày %d/%m/%Y} (giờ Việt Nam) bởi phiên "
                       f"bản {manifest.get('app_version', '?')}, cơ sở dữ liệu {services.KIND_LABELS[prepared.kind]} "
                       f"(lược đồ {_revision(manifest)}), {_files(prepared.counts)}.")
            busy = services.tables_with_data()
            if busy and not force and not _confirmed(busy):
                fail("đã huỷ, chưa có gì bị thay đổi: cơ sở dữ liệu đích đang có dữ liệu. Xác nhận bằng cách gõ “có”, "
                     "hoặc chạy lại với --force để thay toàn bộ.")
            result = services.apply_restore(prepared)
    except DomainError as error:
        fail(str(error))
        return
    keys = ", ".join(f"{label}: {result.table_rows[name]}" for name, label in KEY_TABLES if name in result.table_rows)
    click.echo(f"Đã khôi phục cơ sở dữ liệu: {result.tables} bảng, {result.rows} dòng ({keys}).")
    click.echo(f"Đã khôi phục {_files(result.files)}.")
    for prefix, moved in result.aside.items():
        click.echo(f"Thư mục {services.FOLDERS[prefix]} cũ được giữ lại ở “{moved}” (xoá khi không cần nữa).")
    revision = prepared.revision
    if revision.status == services.OLDER:
        click.echo(f"Bản sao lưu có lược đồ cơ sở dữ liệu cũ hơn mã hiện tại ({', '.join(revision.backup)} → "
                   f"{', '.join(revision.code)}): chạy `danso db upgrade` trước khi mở lại ứng dụng.")
    elif revision.status == services.UNKNOWN:
        click.echo("Bản sao lưu không ghi phiên bản lược đồ (cơ sở dữ liệu không tạo bằng `danso db upgrade`): kiểm "
                   "tra ứng dụng trước khi dùng.", err=True)

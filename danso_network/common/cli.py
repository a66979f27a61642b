"""What every ``danso`` command that writes a file checks the same way (``danso roster export``,
``danso report network``): one line "Lỗi: …" and exit status 2 for bad input, the file format
from ``--format`` or the output's extension, one of ``--unit``/``--centre``, an existing folder,
and the account named by ``--user``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy import select

from ..auth.models import User
from ..extensions import db


def fail(message: str) -> NoReturn:
    """Stop the command: one line on standard error, exit status 2 (bad input)."""
    click.echo(f"Lỗi: {message}", err=True)
    raise click.exceptions.Exit(2)


def output_checks(fmt: str | None, output: Path, formats: Sequence[str], *, unit_code: str | None,
                  centre_code: str | None) -> str:
    """The format to write (``--format``, else the extension of ``-o``), after refusing an
    unknown format, both ``--unit`` and ``--centre``, and a folder that does not exist."""
    fmt = (fmt or output.suffix.lstrip(".")).lower()
    if fmt not in formats:
        fail(f"định dạng “{fmt or '(không có)'}” không được hỗ trợ; chọn một trong: {', '.join(formats)} "
             "(--format hoặc đuôi tệp của -o).")
    if unit_code and centre_code:
        fail("chỉ chọn một trong hai: --unit hoặc --centre.")
    if not output.parent.is_dir():
        fail(f"không có thư mục “{output.parent}” để ghi tệp.")
    return fmt


def active_user(username: str | None) -> User | None:
    """The active account ``--user`` names (None without the option); an unknown or disabled
    one stops the command."""
    if not username:
        return None
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        fail(f"không có tài khoản đang hoạt động “{username}”.")
    return user

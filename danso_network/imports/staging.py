"""An uploaded file kept between the dry run and the import (issue #12: "dry run first").

The upload page reads the file and shows what it would do; the user then confirms, and the
import reads the *same* file again — it is kept under ``UPLOAD_DIR/imports`` with a random token
for name, beside a small JSON note of its owner, its original name and the import it is for.
Only its owner may use it (another user's token answers 404, as if it did not exist), and a file
is kept at most :data:`KEEP_FOR` (purged on the way whenever a file is staged). The plan is made
again at confirmation: the database may have changed since the dry run, and nothing the user
saw is trusted.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..common import storage
from ..errors import NotFound, ValidationFailed
from .reading import TABLE_SUFFIXES, max_bytes, megabytes

KEEP_FOR = 24 * 3600  # seconds
_TOKEN_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True)
class Staged:
    token: str
    path: Path
    filename: str  # as the user named it
    kind: str  # the import it is for ("collaborators", "hamlets"…)
    owner_id: int


def folder() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "imports"


def clean_filename(name: str | None) -> str:
    from ..recruitment.attachments import clean_name

    return clean_name(name)


def stage(stream: BinaryIO, filename: str | None, *, kind: str, owner_id: int,
          suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> Staged:
    """Keep an upload for ``kind``: refused when no file was chosen, its name's extension is not
    one of ``suffixes`` or it is larger than ``IMPORT_MAX_BYTES`` (nothing is kept then), or when
    the disk refuses it (full, read-only, no folder: ``common.storage``; what was half-written is
    removed). The content is checked when it is read (``reading.read_table``)."""
    name = clean_filename(filename)
    if not name:
        raise ValidationFailed(_l("Vui lòng chọn tệp cần nhập."), field="file")
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise ValidationFailed(_l("Tệp “%(f)s” không đúng loại: chọn tệp %(s)s.", f=name[:80], s=", ".join(suffixes)),
                               field="file")
    limit = max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(_l("Tệp lớn hơn %(m)s, không nhập được. Hãy chia thành nhiều tệp nhỏ hơn.",
                                  m=megabytes(limit)), field="file")
    if not data:
        raise ValidationFailed(_l("Tệp “%(f)s” rỗng.", f=name[:80]), field="file")
    where = folder()
    token = secrets.token_urlsafe(18)
    path = where / f"{token}{suffix}"
    note = where / f"{token}.json"
    try:
        purge()
        where.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        note.write_text(json.dumps({"filename": name, "kind": kind, "owner_id": owner_id, "suffix": suffix}),
                        encoding="utf-8")
    except OSError as error:  # the disk is full or read-only, or no folder: nothing half-kept
        for written in (path, note):
            with contextlib.suppress(OSError):
                written.unlink(missing_ok=True)
        raise storage.refusal(error) from None
    return Staged(token, path, name, kind, owner_id)


def staged(token: str | None, *, kind: str, owner_id: int) -> Staged:
    """The file staged under ``token`` for ``kind`` by ``owner_id``; 404 for anything else (a
    token made up, expired, of another import or of another user)."""
    gone = NotFound(_l("Tệp đã tải lên không còn (quá một ngày hoặc đã nhập xong). Hãy tải lên lại."))
    if not token or len(token) > 64 or not set(token) <= _TOKEN_CHARS:
        raise gone
    note = folder() / f"{token}.json"
    try:
        meta = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise gone from None
    path = folder() / f"{token}{meta.get('suffix', '')}"
    if meta.get("kind") != kind or meta.get("owner_id") != owner_id or not path.is_file() or _expired(note):
        raise gone
    return Staged(token, path, meta["filename"], kind, owner_id)


def discard(item: Staged) -> None:
    """Remove a staged file once it is imported (or abandoned)."""
    item.path.unlink(missing_ok=True)
    (item.path.parent / f"{item.token}.json").unlink(missing_ok=True)


def _expired(path: Path, now: float | None = None) -> bool:
    try:
        return (now or time.time()) - path.stat().st_mtime > KEEP_FOR
    except OSError:
        return True


def purge() -> int:
    """Remove the staged files older than :data:`KEEP_FOR`; how many were removed."""
    where = folder()
    if not where.is_dir():
        return 0
    now, removed = time.time(), 0
    for entry in os.scandir(where):
        path = Path(entry.path)
        if _expired(path, now):
            path.unlink(missing_ok=True)
            removed += 1
    return removed

"""Dossier attachments: scanned documents of an application (issue #3 §3).

Files are kept outside the web root, under ``UPLOAD_DIR``, with a random name; the original name
stays in the database and is given back only on download. A file is accepted when its extension
*and* its first bytes say PDF, JPEG or PNG, and it is at most ``MAX_UPLOAD_BYTES``.

The disk follows the database: a file written for an upload is removed again if the transaction
rolls back, and a deleted attachment's file is removed only once the deletion is committed
(session hooks at the end of this module). Services flush, never commit (DESIGN.md §4).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..audit.services import record
from ..common import clock, storage
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from .models import DOSSIER_ITEMS, Application, Attachment
from .services import DOSSIER_EDITABLE, dossier_label
from .workflow import State


@dataclass(frozen=True)
class FileType:
    content_type: str
    magic: tuple[bytes, ...]
    label: str


PDF = FileType("application/pdf", (b"%PDF-",), "PDF")
JPEG = FileType("image/jpeg", (b"\xff\xd8\xff",), "JPEG")
PNG = FileType("image/png", (b"\x89PNG\r\n\x1a\n",), "PNG")
ALLOWED = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG}
ACCEPT = ",".join([*ALLOWED, *sorted({t.content_type for t in ALLOWED.values()})])  # for <input accept>


def max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_BYTES"])


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def clean_name(filename: str | None) -> str:
    """The name as the user knows it: without any folder a browser may send, NFC, ≤ 255 chars."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    name = "".join(c for c in name if c.isprintable())
    if len(name) > 255:
        stem, ext = os.path.splitext(name)
        name = stem[: 255 - len(ext)] + ext
    return name


def sniff(data: bytes) -> FileType | None:
    """The type the content itself declares (magic bytes), whatever the file is called."""
    for kind in (PDF, JPEG, PNG):
        if data.startswith(kind.magic):
            return kind
    return None


def check_upload(filename: str | None, data: bytes) -> tuple[str, FileType]:
    """Refuse a file that is empty, too big, not named .pdf/.jpg/.jpeg/.png, or whose content is
    not what its name says (e.g. a program renamed ``.pdf``)."""
    name = clean_name(filename)
    if not name:
        raise ValidationFailed(_l("Vui lòng chọn tệp cần tải lên."), field="file")
    declared = ALLOWED.get(os.path.splitext(name)[1].lower())
    if declared is None:
        raise ValidationFailed(_l("Chỉ nhận tệp PDF, JPEG hoặc PNG (đuôi .pdf, .jpg, .jpeg, .png)."), field="file")
    if not data:
        raise ValidationFailed(_l("Tệp rỗng."), field="file")
    if len(data) > max_bytes():
        raise ValidationFailed(_l("Tệp vượt quá %(n)s MB.", n=max_bytes() // (1024 * 1024)), field="file")
    actual = sniff(data)
    if actual is None or actual.content_type != declared.content_type:
        raise ValidationFailed(_l("Nội dung tệp “%(name)s” không phải %(t)s như tên tệp; hãy quét/lưu lại tệp "
                                  "đúng định dạng PDF, JPEG hoặc PNG.", name=name, t=declared.label), field="file")
    return name, declared


def _check_editable(application: Application) -> None:
    if State(application.state) not in DOSSIER_EDITABLE:
        raise Conflict(_l("Hồ sơ đã qua bước thẩm định tại trạm; không thể thêm hoặc xoá tệp đính kèm."))


def save_attachment(application: Application, *, kind: str, stream: BinaryIO, filename: str | None,
                    actor=None) -> Attachment:
    """Store one uploaded document for a dossier that can still be edited. Guard → write → row →
    audit → flush; nothing is written when a check refuses. A disk that refuses the file (full,
    read-only, no folder) is a refusal too (``common.storage``): what was half-written is
    removed and no row points at it."""
    if kind not in DOSSIER_ITEMS:
        raise ValidationFailed(_l("Loại giấy tờ không hợp lệ."), field="kind")
    _check_editable(application)
    data = stream.read(max_bytes() + 1)
    name, file_type = check_upload(filename, data)
    folder = upload_dir()
    stored_name = secrets.token_hex(16)
    path = folder / stored_name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as f:  # "x": never overwrite an existing file
            f.write(data)
    except OSError as error:  # the disk is full or read-only, or no folder: no half file, no row
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        raise storage.refusal(error) from None
    _pending(db.session)["written"].append(path)
    attachment = Attachment(application=application, kind=kind, original_name=name, stored_name=stored_name,
                            content_type=file_type.content_type, size_bytes=len(data),
                            uploaded_at=clock.now(), uploaded_by_id=getattr(actor, "id", None))
    db.session.add(attachment)
    db.session.flush()
    record("attachment.upload", attachment, label=f"{name} – {application.candidate.full_name}",
           unit_path=application.hamlet_path,
           after={"application_id": application.id, "kind": kind, "original_name": name,
                  "size_bytes": len(data), "content_type": file_type.content_type}, actor=actor)
    db.session.flush()
    return attachment


def delete_attachment(attachment: Attachment, *, actor=None) -> None:
    """Remove a document while the dossier is still editable. The file goes once the deletion is
    committed; the audit event keeps what it was."""
    application = attachment.application
    _check_editable(application)
    record("attachment.delete", attachment, label=f"{attachment.original_name} – {application.candidate.full_name}",
           unit_path=application.hamlet_path,
           before={"application_id": application.id, "kind": attachment.kind,
                   "original_name": attachment.original_name, "size_bytes": attachment.size_bytes}, actor=actor)
    _pending(db.session)["to_delete"].append(upload_dir() / attachment.stored_name)
    application.attachments.remove(attachment)
    db.session.delete(attachment)
    db.session.flush()


def file_path(attachment: Attachment) -> Path:
    """Where the stored file is; :class:`NotFound` if it has gone missing from the disk."""
    path = upload_dir() / attachment.stored_name
    if not path.is_file():
        raise NotFound(_l("Không tìm thấy tệp trên máy chủ; vui lòng tải lên lại."))
    return path


def kind_label(kind: str) -> str:
    return dossier_label(kind)


# --- keep the disk in step with the transaction ----------------------------------------------

_KEY = "danso_attachment_files"


def _pending(session) -> dict:
    return session.info.setdefault(_KEY, {"written": [], "to_delete": []})


def _unlink(paths) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    files = session.info.pop(_KEY, None)
    if files:
        _unlink(files["to_delete"])


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint inside the transaction: keep going
        return
    files = session.info.pop(_KEY, None)
    if files:
        _unlink(files["written"])

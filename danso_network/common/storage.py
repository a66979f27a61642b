"""The server's disk refusing a file (issue #14 item 3): the folder of uploads or of job files is
full, read-only, or not a folder at all. The user gets one clear Vietnamese message saying that
nothing was kept and to tell the administrator; the administrator gets the path and the system's
error in the log. Callers remove what they had half-written and record nothing pointing at it."""

from __future__ import annotations

import errno

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..errors import ValidationFailed

FULL = (errno.ENOSPC, errno.EDQUOT)
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def reason(error: OSError):
    """Why the disk refused, in Vietnamese, from the system's error number."""
    if error.errno in FULL:
        return _l("ổ đĩa lưu tệp của máy chủ đã đầy")
    if error.errno in READ_ONLY:
        return _l("thư mục lưu tệp của máy chủ không cho ghi")
    return _l("thư mục lưu tệp của máy chủ không dùng được")


def refusal(error: OSError, *, field: str | None = "file") -> ValidationFailed:
    """The refusal to raise when storing a file failed with ``error`` (logged for the
    administrator, with its path)."""
    current_app.logger.error("storing a file failed: %s", error)
    return ValidationFailed(_l("Không lưu được tệp trên máy chủ: %(r)s. Tệp chưa được lưu và chưa có gì thay đổi; "
                               "vui lòng báo quản trị hệ thống rồi thử lại sau.", r=reason(error)), field=field)

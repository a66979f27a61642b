"""Job kinds for the tests only (the app ships none of its own here): registered on import, by
the tests and, through ``DANSO_JOB_MODULES=["tests.jobs.kinds"]``, by a worker process.

- ``test_count``: writes ``lines`` numbered lines, reporting progress per line; with ``gate`` (a
  file path) it stops after ``pause_at`` lines, says so, and waits for that file to exist — so a
  test can look at a job while it runs, from another process too.
- ``test_fail``: reports some progress, then fails with an internal error whose text must never
  reach the user.
- ``test_refuse``: refuses at run time with a Vietnamese message meant for the user.
- ``test_path``: hands over a file it wrote itself (``JobFile(path=...)``).
"""

from __future__ import annotations

import os
import tempfile
import time

from danso_network.errors import PermissionDenied, ValidationFailed
from danso_network.jobs.services import JobFile, register

SECRET = "bí-mật-nội-bộ /srv/danso/không-được-lộ"
REFUSAL = "Không có dữ liệu trong khoảng thời gian đã chọn."
WAITING = "Đang chờ tín hiệu"


def check(params: dict, user) -> dict:
    lines = params.get("lines", 3)
    if isinstance(lines, bool) or not isinstance(lines, int) or not 0 <= lines <= 100_000:
        raise ValidationFailed("Số dòng phải từ 0 đến 100000.", field="lines")
    if params.get("forbidden"):
        raise PermissionDenied("Đơn vị này nằm ngoài phạm vi của bạn.")
    gate = params.get("gate")
    return {"lines": lines, "gate": str(gate) if gate else None, "pause_at": int(params.get("pause_at", 0))}


def _wait_for(path: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError(f"gate {path} never opened")
        time.sleep(0.05)


def count(params: dict, progress) -> JobFile:
    lines = params["lines"]
    progress.update(0, lines, "Bắt đầu")

    def write(out) -> None:
        out.write(f"người yêu cầu: {progress.owner.username}\n".encode())
        for i in range(lines):
            if params.get("gate") and i == params["pause_at"]:
                progress.update(i, lines, WAITING)
                _wait_for(params["gate"])
            out.write(f"dòng {i + 1}\n".encode())
            progress.update(i + 1, lines, "Đang ghi")

    return JobFile("đếm dòng.txt", "text/plain; charset=utf-8", write=write)


def fail(params: dict, progress) -> JobFile:
    progress.update(2, 10, "Đang tính")
    raise RuntimeError(SECRET)


def refuse(params: dict, progress) -> JobFile:
    raise ValidationFailed(REFUSAL)


def by_path(params: dict, progress) -> JobFile:
    handle, path = tempfile.mkstemp(suffix=".csv")
    with os.fdopen(handle, "wb") as out:
        out.write(b"a,b\n1,2\n")
    progress.update(1, 1)
    return JobFile("bảng.csv", "text/csv", path=path)


register("test_count", count, check=check, label="Đếm dòng (thử nghiệm)")
register("test_fail", fail, check=check, label="Việc lỗi (thử nghiệm)")
register("test_refuse", refuse, check=check, label="Việc bị từ chối (thử nghiệm)")
register("test_path", by_path, check=check, label="Tệp có sẵn (thử nghiệm)")

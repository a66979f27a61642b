"""``danso worker`` (runs queued jobs from Redis) and ``danso jobs purge`` (deletes files past
their day); :func:`run_with_bar`, for commands that produce a file, runs a job kind at once with a
progress bar (``danso roster export``, ``danso report network``).

``danso worker [--burst] [--simple]`` needs ``DANSO_REDIS_URL`` and the same database and
``DANSO_JOB_DIR`` as the web processes; run as many as the machines allow. Each job runs in a
forked process (``--simple``: in the worker's own), so a job that leaks memory or crashes does not
take the worker with it. Bad settings: one line, exit 2.
"""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..extensions import db
from . import engines, services

jobs_cli = AppGroup("jobs", help="Việc chạy nền (xuất danh sách, báo cáo lớn).")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise click.exceptions.Exit(2)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Xử lý hết các việc đang chờ rồi dừng.")
@click.option("--simple", is_flag=True, help="Chạy từng việc ngay trong tiến trình này (không tách tiến trình con).")
@with_appcontext
def worker_command(burst: bool, simple: bool):
    """Chạy tiến trình xử lý việc nền từ hàng đợi Redis (RQ)."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        _fail("DANSO_REDIS_URL chưa được đặt: `danso worker` cần Redis (ví dụ redis://127.0.0.1:6379/0). "
              "Không có Redis thì việc nền chạy ngay trong tiến trình web.")
    if engines.engine_name(app.config) != "rq":
        _fail(f"DANSO_JOB_ENGINE là “{app.config.get('JOB_ENGINE')}”: các tiến trình web không gửi việc vào hàng "
              "đợi Redis. Bỏ thiết lập này hoặc đặt DANSO_JOB_ENGINE=rq.")
    from redis.exceptions import RedisError

    connection = engines.redis_connection(app)
    try:
        connection.ping()
    except RedisError as error:
        _fail(f"Không kết nối được Redis tại {app.config['REDIS_URL']}: {error}")
    for module in app.config.get("JOB_MODULES") or ():
        __import__(module)
    app.extensions[engines.WORKER_PID] = os.getpid()
    queue = engines.rq_queue(app, connection)
    db.session.remove()  # nothing of this process's session goes into a forked job
    worker = engines.worker_class(simple=simple)([queue], connection=connection)
    click.echo(f"Đang chờ việc trong hàng đợi “{queue.name}” (Ctrl+C để dừng).", err=True)
    worker.work(burst=burst, logging_level="INFO")


@jobs_cli.command("purge")
def purge_command():
    """Xoá các tệp đã quá hạn giữ (JOB_KEEP_HOURS) và đánh dấu việc bị dừng giữa chừng."""
    done = services.purge_expired()
    db.session.commit()
    click.echo(f"Đã xoá tệp của {done.expired} việc hết hạn và {done.orphans} thư mục không còn dùng; "
               f"{done.stalled} việc bị dừng giữa chừng được đánh dấu không thành công.")


class ProgressBar:
    """A text progress bar on standard error: redrawn in place on a terminal, one line per
    tenth otherwise (logs, CI)."""

    WIDTH = 30

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.shown_tenth = -1
        self.drawn = False

    def __call__(self, done: int, total: int | None, message: str | None = None) -> None:
        if total:
            share = min(1.0, done / total)
            filled = int(share * self.WIDTH)
            line = (f"{self.label} [{'#' * filled}{'-' * (self.WIDTH - filled)}] {int(share * 100):3d}% "
                    f"{done:,}/{total:,}".replace(",", "."))
            tenth = int(share * 10)
        else:
            line, tenth = f"{self.label}: {done:,} dòng".replace(",", "."), self.shown_tenth
        if message:
            line += f" · {message}"
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            self.drawn = True
        elif tenth > self.shown_tenth:
            self.shown_tenth = tenth
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def run_with_bar(kind: str, params: dict, user, output, *, label: str = "Đang tạo tệp", stream=None) -> services.JobFile:
    """Run ``kind`` at once for ``user`` (its ``check`` applies: scope and all) and write its file
    to ``output`` (a path or a binary file), showing a progress bar on standard error. Refusals
    are raised as they are (the command turns them into one line and exit 2)."""
    bar = ProgressBar(label, stream)
    try:
        return services.run_now(kind, params, user, output, on_progress=bar)
    finally:
        bar.close()

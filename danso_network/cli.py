"""The ``danso`` console script: Flask's own commands (run, db, shell…) plus ours.

Commands that serve no requests (``db``, ``demo``, ``units``, ``users``…) run without any
exported setting after ``make run``: the session key is read from ``instance/secret_key`` (as
``make run`` does), and where there is none yet they need none — they sign no cookie, so they get
a throwaway key. Only ``danso run`` serves requests, and it refuses to start without a real key
(DESIGN.md §6). A setting that is missing or wrong is one line, never a traceback.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, NoAppException, pass_script_info
from flask.cli import run_command as flask_run

from . import create_app
from .config import ConfigurationError


def _create_app_for_cli():
    try:
        return create_app({"CLI": True})
    except ConfigurationError as error:
        raise NoAppException(str(error)) from None


@click.command("run", params=flask_run.params, help=flask_run.help, short_help=flask_run.short_help)
@pass_script_info
@click.pass_context
def run_command(ctx, info, **kwargs):
    """``flask run``, refused while the session key is only a throwaway one."""
    app = info.load_app()
    if app.config.get("SECRET_KEY_EPHEMERAL") and not (app.debug or kwargs.get("debug")):
        raise click.UsageError(
            "DANSO_SECRET_KEY chưa được đặt (và không có instance/secret_key): máy chủ web cần một khoá "
            "phiên cố định. Dùng `make run`, hoặc đặt DANSO_SECRET_KEY.")
    ctx.invoke(flask_run, **kwargs)


class DansoGroup(FlaskGroup):
    def __init__(self, **extra):
        super().__init__(create_app=_create_app_for_cli, add_default_commands=False, **extra)
        from flask.cli import routes_command, shell_command

        self.add_command(run_command)
        self.add_command(shell_command)
        self.add_command(routes_command)


cli = DansoGroup(help="Quản lý mạng lưới cộng tác viên dân số (danso_network).")

if __name__ == "__main__":  # pragma: no cover
    cli()

"""Registers each feature's CLI group on the app (``danso units …``, ``danso users …``, ``danso demo …``)."""

from __future__ import annotations


def register_commands(app) -> None:
    from .auth.cli import users_cli
    from .backup.cli import backup_command, restore_command
    from .demo.cli import demo_cli
    from .exports.cli import roster_cli
    from .facilities.cli import facilities_cli
    from .jobs.cli import jobs_cli, worker_command
    from .reports.cli import report_cli
    from .setup.cli import setup_command
    from .units.cli import units_cli

    app.cli.add_command(units_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(roster_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(facilities_cli)
    app.cli.add_command(setup_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

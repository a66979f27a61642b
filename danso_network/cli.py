"""The ``danso`` console script: Flask's own commands (run, db, shell…) plus ours."""

from __future__ import annotations

from flask.cli import FlaskGroup

from . import create_app

cli = FlaskGroup(create_app=create_app, help="Quản lý mạng lưới cộng tác viên dân số (danso_network).")

if __name__ == "__main__":  # pragma: no cover
    cli()

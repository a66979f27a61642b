"""``danso facilities …``: health facilities from the command line (issue #12, item 1)."""

from __future__ import annotations

from flask.cli import AppGroup

facilities_cli = AppGroup("facilities", help="Cơ sở y tế: Sở Y tế, trung tâm y tế, trạm y tế.")

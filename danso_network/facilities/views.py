"""Pages of the health facilities (issue #12, item 1)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("facilities", __name__, url_prefix="/facilities")

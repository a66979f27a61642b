"""Supervision pages: chain, visits, overdue list, follow-ups, professional-direction links,
monthly meetings and the under-review list."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

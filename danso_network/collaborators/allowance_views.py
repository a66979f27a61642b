"""Allowance pages: base salary, the province's allowance rules and network policy, monthly sheets."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("allowances", __name__, url_prefix="/allowances")

"""Collaborator pages: profile, roster, assignment actions, quota status, hand-overs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("collaborators", __name__, url_prefix="/collaborators")

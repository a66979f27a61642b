"""Safe ``next`` redirects: only paths on this site, never another host (open-redirect guard)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def is_safe_path(target: str | None) -> bool:
    if not target:
        return False
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")


def safe_next(default: str) -> str:
    """The ``next`` parameter (form or query) if it is a local path, else ``default``."""
    target = request.form.get("next") or request.args.get("next")
    return target if is_safe_path(target) else default

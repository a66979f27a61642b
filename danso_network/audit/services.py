"""Writing audit events. Every service that changes data calls :func:`record` before it flushes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from ..common import clock
from ..extensions import db
from .models import AuditEvent

SYSTEM_ACTOR = "hệ thống"


class _Visitor:
    """The actor of what someone not signed in did (a wrong password on the login page)."""

    id = None
    username = "khách chưa đăng nhập"


VISITOR = _Visitor()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj, fields: list[str]) -> dict:
    """The named attributes of ``obj`` as a JSON-ready dict, for ``before``/``after``."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def _resolve_actor(actor):
    if actor is not None:
        return actor
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def record(action: str, obj=None, *, object_type: str | None = None, object_id: Any = None,
           label: str = "", unit_path: str | None = None, before: dict | None = None,
           after: dict | None = None, actor=None) -> AuditEvent:
    """Append one audit event to the session (the caller's transaction commits it).

    ``obj`` gives the object type and id when it is a model instance. ``actor`` defaults to the
    logged-in user; the CLI passes none and is recorded as the system."""
    actor = _resolve_actor(actor)
    if obj is not None:
        if obj.id is None:
            db.session.flush()
        object_type = object_type or type(obj).__name__
        object_id = obj.id if object_id is None else object_id
    event = AuditEvent(
        at=clock.now(),
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or SYSTEM_ACTOR,
        action=action,
        object_type=object_type or "",
        object_id=str(object_id if object_id is not None else ""),
        object_label=label[:300],
        unit_path=unit_path,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event

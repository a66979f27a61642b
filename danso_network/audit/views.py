"""The audit screen: the append-only change log, scoped, filtered, counted and paginated by the
database (``common.paging``). Days are Vietnam's calendar days (``common.clock``)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..auth.permissions import can_view_audit, require, scope_of
from ..common import clock
from ..common.paging import paginate
from ..common.params import date_arg, page_arg
from . import queries
from .labels import action_label, changes, object_type_label

bp = Blueprint("audit", __name__, url_prefix="/audit")

@bp.get("/")
@login_required
def index():
    require(can_view_audit(current_user))
    scope = scope_of(current_user)
    filters = {
        "action": request.args.get("action", "").strip()[:60] or None,
        "object_type": request.args.get("object_type", "").strip()[:60] or None,
        "date_from": date_arg("from", fallback_today=False), "date_to": date_arg("to", fallback_today=False),
        "label": request.args.get("q", "").strip()[:100] or None,
    }
    page = paginate(queries.events_query(scope, tz=clock.zone(), **filters), *page_arg())
    return render_template(
        "audit/index.html", page=page, filters=filters, actions=queries.actions_seen(scope),
        object_types=queries.object_types_seen(scope), action_label=action_label,
        object_type_label=object_type_label, changes=changes)

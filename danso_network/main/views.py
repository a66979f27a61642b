"""Home page per role, health check, language switch, favicon."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import text

from ..auth.permissions import scope_of
from ..common.cache import wide_scope
from ..common.clock import today
from ..extensions import db
from ..safe_redirect import safe_next
from . import services

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    scope, day = scope_of(current_user), today()
    # The to-do counts depend on the user's roles, not only their area: the key holds the user.
    todo, computed_at = wide_scope("todo", scope.prefixes, (current_user.id, day),
                                   lambda: services.todo_for(scope, day))
    dashboard, _ = wide_scope("coverage_home", scope.prefixes, (day,),
                              lambda: services.coverage_dashboard(scope, day))
    return render_template("main/home.html", overview=services.home_overview(current_user, scope),
                           todo=todo, computed_at=computed_at, dashboard=dashboard, today=day)


@bp.get("/health")
def health():
    try:
        db.session.execute(text("SELECT 1"))
        db_state = "ok"
    except Exception:  # the point of a health check is to answer even when the DB does not
        db.session.rollback()
        return jsonify(status="error", db="unreachable"), 503
    return jsonify(status="ok", db=db_state)


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(default=url_for("main.home")))


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml")

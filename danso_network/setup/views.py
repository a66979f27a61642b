"""The guided start of a province (issue #12, item 6): ``/setup/`` (the admin's provinces) and
``/setup/<province_id>`` (its steps, each with its state, figures, the page that does it and the
command)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from ..auth.permissions import scope_of
from ..common.clock import today
from ..common.views import load_or_404
from ..units.models import AdminUnit, UnitLevel
from ..units.services import provinces_of
from . import services
from .permissions import can_set_up

bp = Blueprint("setup", __name__, url_prefix="/setup")

# The page that does each step: (endpoint, whether it takes the province's id as ``province_id``,
# ``unit_id`` or nothing).
STEP_PAGES = {
    "units": ("units.show", "unit_id"),
    "facilities": ("facilities.index", None),
    "hamlets": ("units.show", "unit_id"),
    "criteria": ("criteria.show", "province_id"),
    "allowances": ("allowances.settings", "province_id"),
    "collaborators": ("collaborators.index", None),
    "accounts": ("auth.users", None),
}


def step_url(key: str, province: AdminUnit) -> str | None:
    endpoint, arg = STEP_PAGES[key]
    try:
        return url_for(endpoint, **({arg: province.id} if arg else {}))
    except BuildError:  # a page this installation does not have: the command is shown instead
        return None


@bp.get("/")
@login_required
def index():
    provinces = [p for p in provinces_of(scope_of(current_user).prefixes) if can_set_up(current_user, p)]
    if len(provinces) == 1:
        return redirect(url_for(".province", province_id=provinces[0].id))
    return render_template("setup/index.html", provinces=provinces)


@bp.get("/<int:province_id>")
@login_required
def province(province_id: int):
    unit = load_or_404(AdminUnit, province_id, can_set_up, where=lambda u: u.level == UnitLevel.PROVINCE)
    steps = services.province_steps(unit, today())
    return render_template("setup/province.html", province=unit, steps=steps, next_step=services.next_step(steps),
                           urls={s.key: step_url(s.key, unit) for s in steps}, on=today())


"""Unit browser (the tree as of a date, search) and hamlet maintenance (create, edit, close).

Every page loads its unit through :func:`get_unit_or_404` (404 unknown, 403 out of scope). Hamlet
actions make one service call and commit once; a :class:`DomainError` is shown on the form and
nothing is committed (DESIGN.md §4).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.permissions import can_edit_unit, can_view_unit, scope_of
from ..common.clock import today
from ..common.paging import paginate
from ..common.params import date_arg, page_arg
from ..common.views import load_or_404, run_service
from ..extensions import db
from ..main.services import stations_without_officer
from ..targets.services import commune_section
from . import services
from .forms import CloseHamletForm, HamletForm, NewHamletForm, hamlet_type_choices
from .models import AdminUnit, UnitLevel

bp = Blueprint("units", __name__, url_prefix="/units")

SEARCH_LIMIT = 50


def get_unit_or_404(unit_id: int, need=can_view_unit, level: UnitLevel | None = None) -> AdminUnit:
    """The unit, or 404 if unknown (or not of ``level``); 403 unless ``need(user, unit)``."""
    return load_or_404(AdminUnit, unit_id, need, where=None if level is None else lambda u: u.level == level)


@bp.get("/")
@login_required
def index():
    units = services.units_at_paths(scope_of(current_user).prefixes)
    if len(units) == 1:
        return redirect(url_for(".show", unit_id=units[0].id))
    return render_template("units/index.html", units=units, stats=services.unit_stats(units))


@bp.get("/<int:unit_id>")
@login_required
def show(unit_id: int):
    unit = get_unit_or_404(unit_id)
    as_of = date_arg("as_of")
    sort = request.args.get("sort") if request.args.get("sort") in services.CHILD_SORTS else "code"
    descending = request.args.get("dir") == "desc"
    flag = request.args.get("flag") if request.args.get("flag") in services.CHILD_FLAGS else None
    page = paginate(services.children_query(unit, as_of, sort=sort, descending=descending, flag=flag),
                    *page_arg())
    facilities = services.facilities_serving(unit, as_of)
    return render_template(
        "units/show.html", unit=unit, as_of=as_of, is_today=as_of == today(),
        ancestors=services.ancestors(unit), counts=services.subtree_counts(unit, as_of),
        page=page, stats=services.child_stats(unit, as_of), sort=sort, descending=descending, flag=flag,
        facilities=facilities, chain=services.supervision_chain(facilities[0]) if facilities else [],
        without_officer=stations_without_officer([unit.path], as_of) if unit.level == UnitLevel.COMMUNE else [],
        targets=commune_section(unit, as_of, current_user) if unit.level == UnitLevel.COMMUNE else None)


@bp.get("/search")
@login_required
def search():
    q = request.args.get("q", "").strip()[:100]
    results = services.search_units(q, scope_of(current_user).prefixes, limit=SEARCH_LIMIT + 1) if q else []
    capped, results = len(results) > SEARCH_LIMIT, results[:SEARCH_LIMIT]
    return render_template("units/search.html", q=q, results=results, capped=capped,
                           parents=services.parents_of(results), limit=SEARCH_LIMIT)


@bp.route("/<int:commune_id>/hamlets/new", methods=["GET", "POST"])
@login_required
def new_hamlet(commune_id: int):
    commune = get_unit_or_404(commune_id, need=can_edit_unit, level=UnitLevel.COMMUNE)
    form = NewHamletForm()
    form.type.choices = hamlet_type_choices(commune)
    if form.validate_on_submit():
        done = run_service(services.create_hamlet, commune, valid_from=form.valid_from.data, form=form,
                           **form.hamlet_fields())
        if done.ok:
            db.session.commit()
            flash(_("Đã thêm %(name)s.", name=done.value.name), "success")
            return redirect(url_for(".show", unit_id=commune.id))
    return render_template("units/hamlet_form.html", form=form, commune=commune, hamlet=None)


@bp.route("/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
def edit_hamlet(unit_id: int):
    hamlet = get_unit_or_404(unit_id, need=can_edit_unit, level=UnitLevel.HAMLET)
    form = HamletForm(obj=hamlet)
    form.type.choices = hamlet_type_choices(hamlet.parent, current=hamlet.type)
    if form.validate_on_submit() and run_service(services.update_hamlet, hamlet, form=form,
                                                 **form.hamlet_fields()).ok:
        db.session.commit()
        flash(_("Đã lưu thay đổi của %(name)s.", name=hamlet.name), "success")
        return redirect(url_for(".show", unit_id=hamlet.id))
    return render_template("units/hamlet_form.html", form=form, commune=hamlet.parent, hamlet=hamlet)


@bp.route("/<int:unit_id>/close", methods=["GET", "POST"])
@login_required
def close_hamlet(unit_id: int):
    hamlet = get_unit_or_404(unit_id, need=can_edit_unit, level=UnitLevel.HAMLET)
    form = CloseHamletForm()
    if form.validate_on_submit() and run_service(services.close_unit, hamlet, on=form.valid_to.data,
                                                 decision_ref=form.decision_ref.data or None, form=form).ok:
        db.session.commit()
        flash(_("Đã đóng %(name)s từ ngày %(d)s.", name=hamlet.name,
                d=form.valid_to.data.strftime("%d/%m/%Y")), "success")
        return redirect(url_for(".show", unit_id=hamlet.parent_id))
    return render_template("units/close_hamlet.html", form=form, hamlet=hamlet, commune=hamlet.parent)


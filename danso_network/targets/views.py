"""Annual targets pages: an area's communes with their targets against the year's figures (met /
not met, printable), a commune's targets with the history of versions, and the form that sets them
(issue #11 item 4).

Every page loads its object with ``common.views.load_or_404`` and a predicate of
:mod:`.permissions` (404 unknown, 403 out of scope). The year is ``?year=`` (default this year). A
POST makes one service call through ``run_service`` and commits once; a refusal is shown beside
its field with the user's input kept (DESIGN.md §4). Replacing the version in force is confirmed
first: the form carries the version the user saw and a confirmation box.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.permissions import landing_of
from ..common import clock
from ..common.params import page_arg
from ..common.views import actor, load_or_404, run_service
from ..extensions import db
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from . import services
from .forms import TargetsForm
from .labels import SETTER_ROLE_LABELS, TARGET_DEFINITIONS, TARGET_LABELS, verdict_colour, verdict_label
from .models import MIN_YEAR, TARGET_KINDS
from .permissions import can_replace_targets, can_set_targets, can_view_centre_targets, can_view_targets

bp = Blueprint("targets", __name__, url_prefix="/targets")


@bp.app_context_processor
def target_helpers():
    """Labels and pure helpers for the target tables (also on the commune page and the home
    dashboard, whose views pass the data); no query runs from here."""
    return {"TARGET_KINDS": TARGET_KINDS, "TARGET_LABELS": TARGET_LABELS, "TARGET_DEFINITIONS": TARGET_DEFINITIONS,
            "target_verdict_label": verdict_label, "target_verdict_colour": verdict_colour,
            "SETTER_ROLE_LABELS": SETTER_ROLE_LABELS}


def _year() -> int:
    """``?year=``: a year from :data:`MIN_YEAR` to two years ahead; this year when absent, or
    (with a warning) when unreadable."""
    this_year, last = clock.today().year, services.latest_year()
    raw = request.args.get("year", "").strip()
    if not raw:
        return this_year
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and MIN_YEAR <= int(raw) <= last:
        return int(raw)
    flash(_("Năm “%(v)s” không hợp lệ (từ %(a)d đến %(b)d); đang xem năm %(y)d.", v=raw[:10], a=MIN_YEAR, b=last,
            y=this_year), "warning")
    return this_year


def _years() -> list[int]:
    """The years offered in the year switcher, latest first."""
    return list(range(services.latest_year(), MIN_YEAR - 1, -1))


def _commune(commune_id: int, need=can_view_targets) -> AdminUnit:
    return load_or_404(AdminUnit, commune_id, need, where=lambda u: u.level == UnitLevel.COMMUNE)


@bp.get("/")
@login_required
def index():
    """Straight to the user's area (their centre, or their only unit), else a list to choose."""
    year = _year()
    landing = landing_of(current_user)
    if landing.only_unit is not None:
        return redirect(url_for(".unit", unit_id=landing.only_unit.id, year=year))
    if landing.only_centre is not None and can_view_centre_targets(current_user, landing.only_centre):
        return redirect(url_for(".centre", facility_id=landing.only_centre.id, year=year))
    centres = [f for f in landing.centres if can_view_centre_targets(current_user, f)]
    return render_template("targets/index.html", units=landing.units, centres=centres, year=year)


def _render_area(prefixes: list[str], *, title: str, year: int, unit: AdminUnit | None = None,
                 facility: Facility | None = None):
    day = clock.today()
    page = services.area_page(prefixes, year, day, *page_arg())
    settable = {row.commune_id for row in page.items if can_set_targets(current_user, row.commune)}
    return render_template("targets/area.html", title=title, unit=unit, facility=facility, year=year,
                           years=_years(), page=page, summary=services.area_summary(prefixes, year, day),
                           show_all=request.args.get("all") == "1", today=day, settable=settable)


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    """The communes of a province (or the one commune) with their targets for the year."""
    area = load_or_404(AdminUnit, unit_id, can_view_targets,
                       where=lambda u: u.level in (UnitLevel.PROVINCE, UnitLevel.DISTRICT, UnitLevel.COMMUNE))
    return _render_area([area.path], title=area.full_name, year=_year(), unit=area)


@bp.get("/centres/<int:facility_id>")
@login_required
def centre(facility_id: int):
    """The communes an area health centre serves, with their targets for the year."""
    facility = load_or_404(Facility, facility_id, can_view_centre_targets,
                           where=lambda f: f.kind == FacilityKind.HEALTH_CENTRE)
    return _render_area(services.prefixes_of_centre(facility, clock.today()), title=facility.name, year=_year(),
                        facility=facility)


@bp.get("/communes/<int:commune_id>")
@login_required
def commune(commune_id: int):
    """A commune's targets for the year against its figures, and every version of them."""
    commune = _commune(commune_id)
    year, day = _year(), clock.today()
    card = services.scorecards([commune.id], year, day)[commune.id]
    history = services.versions(commune, year)
    latest = history[0] if history else None
    may_set = can_set_targets(current_user, commune)
    return render_template("targets/commune.html", commune=commune, year=year, years=_years(), card=card,
                           history=history, today=day, may_set=may_set,
                           may_replace=may_set and (latest is None or can_replace_targets(current_user, latest)),
                           other_years=services.years_with_targets(commune))


@bp.route("/communes/<int:commune_id>/edit", methods=["GET", "POST"])
@login_required
def edit(commune_id: int):
    """Set the commune's targets for the year (a new version, or a correction of the latest one
    when it starts the same day). Replacing a version is confirmed first."""
    commune = _commune(commune_id, need=can_set_targets)
    year = _year()
    latest = services.latest_version(commune, year)
    if latest is not None and not can_replace_targets(current_user, latest):
        flash(_("Chỉ tiêu năm %(y)d của %(c)s do Sở Y tế giao; chỉ quản trị viên cấp tỉnh được thay đổi.", y=year,
                c=commune.full_name), "warning")
        return redirect(url_for(".commune", commune_id=commune.id, year=year))
    form = TargetsForm()
    if not form.is_submitted():
        form.prefill(latest, services.suggested_valid_from(commune, year, latest))
    if form.validate_on_submit():
        if latest is not None and (not form.confirm.data or form.current_id.data != str(latest.id)):
            form.current_id.data, form.confirm.data = str(latest.id), False
            form.confirm.errors = [_("Vui lòng đánh dấu xác nhận để thay chỉ tiêu đang áp dụng từ ngày %(d)s.",
                                     d=latest.valid_from.strftime("%d/%m/%Y"))]
        else:
            done = run_service(services.set_targets, commune, year, form.values(), actor=actor(),
                               valid_from=form.valid_from.data, source=form.source.data, note=form.note.data,
                               form=form)
            if done.ok:
                db.session.commit()
                flash(_("Đã lưu chỉ tiêu năm %(y)d của %(c)s, áp dụng từ ngày %(d)s.", y=year, c=commune.full_name,
                        d=done.value.valid_from.strftime("%d/%m/%Y")), "success")
                return redirect(url_for(".commune", commune_id=commune.id, year=year))
            latest = services.latest_version(commune, year)  # the refusal rolled the session back
    status = 422 if request.method == "POST" else 200
    return render_template("targets/edit.html", commune=commune, year=year, form=form, latest=latest,
                           same_day=_same_day(latest, form.valid_from.data)), status


def _same_day(latest, valid_from: date | None) -> bool:
    return latest is not None and valid_from is not None and valid_from == latest.valid_from

"""Unit browser (the tree as of a date, search), hamlet maintenance (create, edit, close) and
hamlets in bulk from files (issue #12 item 2).

Every page loads its unit through :func:`get_unit_or_404` (404 unknown, 403 out of scope). Hamlet
actions make one service call and commit once; a :class:`DomainError` is shown on the form and
nothing is committed (DESIGN.md §4).

Imports (``units.hamlets_import``) follow the flow every import of issue #12 shares: the upload
page of a province or commune (or of the user's whole area) → the file is staged, read and planned
and the dry run shown (counts, what changes, every problem; nothing written) → "Nhập" posts the
staged file's token → the file is read and planned again, applied and committed once; a hamlet
file of more than ``IMPORT_INLINE_ROWS`` rows goes to a background job (its page shows the rows
processed). The template download refuses what the upload page refuses.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.models import EDITING_ROLES, Role
from ..auth.permissions import can_edit_unit, can_view_unit, require, scope_of
from ..common.clock import today
from ..common.paging import paginate
from ..common.params import date_arg, page_arg
from ..common.views import actor, load_or_404, run_service
from ..errors import DomainError
from ..extensions import db
from ..imports import staging
from ..imports.reading import read_table
from ..jobs import services as jobs
from ..main.services import stations_without_officer
from ..targets.services import commune_section
from . import hamlets_import, lineage, reforms, services
from .forms import (
    CloseHamletForm,
    ConfirmImportForm,
    HamletForm,
    ImportFileForm,
    MergeHamletsForm,
    NewHamletForm,
    hamlet_type_choices,
)
from .models import AdminUnit, UnitLevel

bp = Blueprint("units", __name__, url_prefix="/units")

SEARCH_LIMIT = 50


def get_unit_or_404(unit_id: int, need=can_view_unit, level: UnitLevel | None = None) -> AdminUnit:
    """The unit, or 404 if unknown (or not of ``level``); 403 unless ``need(user, unit)``."""
    return load_or_404(AdminUnit, unit_id, need, where=None if level is None else lambda u: u.level == level)


@bp.get("/")
@login_required
def index():
    """The tops of the user's area as of a date (issue #13 item 4): today, the units they are
    granted; on an earlier day, those of them then in force and the units they were formed from
    (their history, read-only: ``auth.permissions``), so the tree before a reform is the old one."""
    scope = scope_of(current_user)
    as_of = date_arg("as_of")
    is_today = as_of == today()
    paths = scope.prefixes if is_today else scope.read_prefixes
    units = [u for u in services.units_at_paths(paths) if u.valid_on(as_of)]
    if len(units) == 1:
        return redirect(url_for(".show", unit_id=units[0].id, **({} if is_today else {"as_of": as_of.isoformat()})))
    return render_template("units/index.html", units=units, stats=services.unit_stats(units, as_of), as_of=as_of,
                           is_today=is_today, can_import=bool(scope.all_roles & EDITING_ROLES))


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
        targets=commune_section(unit, as_of, current_user) if unit.level == UnitLevel.COMMUNE else None,
        predecessors=lineage.predecessors(unit), successors=lineage.successors(unit),
        may_reform=unit.level == UnitLevel.COMMUNE and unit.is_current
        and Role.PROVINCE_ADMIN in scope_of(current_user).roles_at(unit.path),
        change_labels=reforms.CHANGE_KIND_LABELS, last_day=_last_day)


def _last_day(unit: AdminUnit) -> str | None:
    """The last day a closed unit was in force (its page as of that day), ISO; None while in force."""
    return (unit.valid_to - timedelta(days=1)).isoformat() if unit.valid_to else None


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



# --- hamlets in bulk (issue #12 item 2) ------------------------------------------------------------

PREVIEW_ROWS = 300  # changes listed on a dry run; the rest counted
PROBLEMS_SHOWN = 500


def _import_unit(unit_id: int | None) -> AdminUnit | None:
    """The province or commune whose hamlets are imported (404 unknown, closed or of another
    level; 403 unless the user may edit hamlets there), or None for the user's whole area —
    which needs an editing role somewhere (403 otherwise)."""
    if unit_id is None:
        require(bool(scope_of(current_user).all_roles & EDITING_ROLES))
        return None
    return load_or_404(AdminUnit, unit_id, can_edit_unit,
                       where=lambda u: u.level in (UnitLevel.PROVINCE, UnitLevel.COMMUNE) and u.is_current)


def _back(unit: AdminUnit | None) -> str:
    return url_for(".show", unit_id=unit.id) if unit is not None else url_for(".index")


def import_url(endpoint: str, unit: AdminUnit | None) -> str:
    """The address of an import page for a unit, or its ``…_area`` twin for the user's whole
    area (a route of its own: it takes no unit, and is checked as a page without an object)."""
    return url_for(f"units.{endpoint}", unit_id=unit.id) if unit is not None else url_for(f"units.{endpoint}_area")


def _import_page(template: str, unit: AdminUnit | None, form: ImportFileForm, *, plan=None, staged=None,
                 refusal: DomainError | None = None, status: int = 200):
    confirm = ConfirmImportForm(token=staged.token) if staged is not None else None
    return render_template(template, unit=unit, form=form, plan=plan, staged=staged, confirm=confirm,
                           refusal=refusal, preview_rows=PREVIEW_ROWS, problems_shown=PROBLEMS_SHOWN,
                           inline_rows=hamlets_import.inline_rows(), back=_back(unit),
                           link=lambda endpoint: import_url(endpoint, unit)), status


def _staged_plan(form: ImportFileForm, kind: str, plan_file, **stage_args):
    """Stage the upload and plan it: (staged, plan) — or (None, refusal) when the file cannot be
    read. The staged file is kept only when the dry run can be confirmed."""
    upload = form.file.data
    try:
        staged = staging.stage(upload.stream, upload.filename, kind=kind, owner_id=current_user.id, **stage_args)
    except DomainError as refusal:
        return None, refusal
    try:
        plan = plan_file(staged)
    except DomainError as refusal:
        staging.discard(staged)
        db.session.rollback()
        return None, refusal
    db.session.rollback()  # a dry run writes nothing
    if plan.problems or not plan.changes(1):
        staging.discard(staged)
        return None, plan
    return staged, plan


@bp.route("/<int:unit_id>/hamlets/import", methods=["GET", "POST"])
@bp.route("/hamlets/import", methods=["GET", "POST"], endpoint="import_hamlets_area")
@login_required
def import_hamlets(unit_id: int | None = None):
    """Upload a hamlet file and see its dry run."""
    unit = _import_unit(unit_id)
    form = ImportFileForm()
    if not form.validate_on_submit():
        return _import_page("units/import_hamlets.html", unit, form)
    user = actor()

    def plan_file(staged):
        table = read_table(staged.path, hamlets_import.FIELDS, filename=staged.filename)
        return hamlets_import.plan_hamlets(table, actor=user, within=unit)

    staged, outcome = _staged_plan(form, hamlets_import.KIND, plan_file)
    if isinstance(outcome, DomainError):
        return _import_page("units/import_hamlets.html", unit, form, refusal=outcome, status=422)
    return _import_page("units/import_hamlets.html", unit, form, plan=outcome, staged=staged)


@bp.post("/<int:unit_id>/hamlets/import/confirm")
@bp.post("/hamlets/import/confirm", endpoint="confirm_hamlets_area")
@login_required
def confirm_hamlets(unit_id: int | None = None):
    """Import the staged file: planned again, applied, committed once — or, for a long file,
    queued as a background job whose page shows the rows processed."""
    unit = _import_unit(unit_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    user = actor()
    staged = staging.staged(form.token.data, kind=hamlets_import.KIND, owner_id=user.id)
    table = read_table(staged.path, hamlets_import.FIELDS, filename=staged.filename)
    if len(table.rows) > hamlets_import.inline_rows():
        job = jobs.submit(hamlets_import.JOB_KIND, {"token": staged.token, "unit_id": unit_id}, user)
        db.session.commit()  # the job starts once its row is committed
        flash(_("Tệp “%(f)s” có %(n)s dòng: đang nhập trong nền; trang này cho biết số dòng đã xử lý.",
                f=staged.filename, n=format(len(table.rows), ",").replace(",", ".")), "info")
        return redirect(url_for("jobs.show", job_id=job.id))
    plan = hamlets_import.plan_hamlets(table, actor=user, within=unit)
    if plan.problems:  # the database changed since the dry run
        db.session.rollback()
        staging.discard(staged)
        return _import_page("units/import_hamlets.html", unit, ImportFileForm(), plan=plan, status=409)
    summary = hamlets_import.apply_hamlets(plan, actor=user, filename=staged.filename)
    db.session.commit()
    staging.discard(staged)
    flash(_("Đã nhập tệp “%(f)s”: tạo mới %(c)d, cập nhật %(u)d, không đổi %(n)d thôn/tổ dân phố.",
            f=staged.filename, c=summary.created, u=summary.updated, n=summary.unchanged), "success")
    return redirect(_back(unit))


@bp.get("/<int:unit_id>/hamlets/import/template")
@bp.get("/hamlets/import/template", endpoint="hamlet_template_area")
@login_required
def hamlet_template(unit_id: int | None = None):
    """The import's XLSX template: the current hamlets the user may edit there, to correct or
    complete and upload again (the upload page's own permission)."""
    from ..exports.views import send_document

    unit = _import_unit(unit_id)
    document = hamlets_import.template_document(unit, actor=actor())
    where = unit.full_name if unit is not None else _("Địa bàn được quản lý")
    return send_document(document, "xlsx", _("Mẫu nhập thôn, tổ dân phố - %(u)s", u=where))


@bp.route("/<int:unit_id>/hamlets/boundaries", methods=["GET", "POST"])
@bp.route("/hamlets/boundaries", methods=["GET", "POST"], endpoint="import_boundaries_area")
@login_required
def import_boundaries(unit_id: int | None = None):
    """Upload a GIS file of hamlet boundaries and see its dry run."""
    unit = _import_unit(unit_id)
    form = ImportFileForm()
    if not form.validate_on_submit():
        return _import_page("units/import_boundaries.html", unit, form)
    user = actor()

    def plan_file(staged):
        frame = hamlets_import.read_boundaries(staged.path)
        return hamlets_import.plan_hamlet_boundaries(frame, filename=staged.filename, actor=user, within=unit)

    staged, outcome = _staged_plan(form, hamlets_import.BOUNDARY_KIND, plan_file,
                                   suffixes=hamlets_import.BOUNDARY_SUFFIXES)
    if isinstance(outcome, DomainError):
        return _import_page("units/import_boundaries.html", unit, form, refusal=outcome, status=422)
    return _import_page("units/import_boundaries.html", unit, form, plan=outcome, staged=staged)


@bp.post("/<int:unit_id>/hamlets/boundaries/confirm")
@bp.post("/hamlets/boundaries/confirm", endpoint="confirm_boundaries_area")
@login_required
def confirm_boundaries(unit_id: int | None = None):
    """Store the staged file's boundaries: planned again, applied, committed once."""
    unit = _import_unit(unit_id)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    user = actor()
    staged = staging.staged(form.token.data, kind=hamlets_import.BOUNDARY_KIND, owner_id=user.id)
    plan = hamlets_import.plan_hamlet_boundaries(hamlets_import.read_boundaries(staged.path),
                                                 filename=staged.filename, actor=user, within=unit)
    if plan.problems:
        db.session.rollback()
        staging.discard(staged)
        return _import_page("units/import_boundaries.html", unit, ImportFileForm(), plan=plan, status=409)
    summary = hamlets_import.apply_hamlet_boundaries(plan, actor=user, filename=staged.filename)
    db.session.commit()
    staging.discard(staged)
    flash(_("Đã nhập ranh giới từ tệp “%(f)s”: cập nhật %(u)d, không đổi %(n)d thôn/tổ dân phố.",
            f=staged.filename, u=summary.updated, n=summary.unchanged), "success")
    return redirect(_back(unit))


# --- reforms: a hamlet merger with its impact previewed (issue #13 items 1-2) ---------------------


def _reform_commune(commune_id: int) -> AdminUnit:
    """A commune in force whose hamlets the user may reorganise: 404 unknown, closed or not a
    commune; 403 unless a province admin covers it (``reforms.can_reform``: reforms are decided
    by the province)."""
    commune = get_unit_or_404(commune_id, level=UnitLevel.COMMUNE)
    if not commune.is_current:
        abort(404)
    require(Role.PROVINCE_ADMIN in scope_of(current_user).roles_at(commune.path))
    return commune


def _merger(form: MergeHamletsForm, hamlets: dict[int, AdminUnit]) -> reforms.MergeUnits:
    chosen = [hamlets[i] for i in dict.fromkeys(form.hamlets.data) if i in hamlets]
    seat = hamlets.get(form.seat.data) if form.seat.data in form.hamlets.data else None
    return reforms.MergeUnits(sources=chosen, target_name=form.name.data, effective_on=form.effective_on.data,
                              decision_ref=form.decision_ref.data, seat_source=seat or chosen[0],
                              households=form.households.data)


@bp.route("/<int:commune_id>/reform/merge-hamlets", methods=["GET", "POST"])
@login_required
def merge_hamlets(commune_id: int):
    """Merge hamlets of a commune: the form, then "Xem trước" shows everything the merger would
    change (nothing written), the same as an XLSX, and "Thực hiện" applies it — previewed again
    first, refused with every problem — and commits once."""
    commune = _reform_commune(commune_id)
    hamlets = {h.id: h for h in services.children(commune, today()) if h.level == UnitLevel.HAMLET}
    form = MergeHamletsForm()
    choices = [(h.id, h.name) for h in sorted(hamlets.values(), key=lambda h: h.name)]
    form.hamlets.choices = choices
    form.seat.choices = [(0, _("— Thôn đầu tiên được chọn —")), *choices]
    impact = None
    if form.validate_on_submit():
        unknown = [i for i in form.hamlets.data if i not in hamlets]
        if unknown:
            form.hamlets.errors = [_("Có thôn/tổ dân phố không còn hiệu lực trong %(c)s; vui lòng chọn lại.",
                                     c=commune.full_name)]
        else:
            merger = _merger(form, hamlets)
            impact = reforms.preview(merger)
            if form.download.data:
                from ..exports.views import send_document

                return send_document(reforms.impact_document(impact), "xlsx")
            if form.apply.data and impact.ok:
                done = run_service(reforms.apply, merger, actor=actor(), move_grants=form.move_grants.data,
                                   form=form)
                if done.ok:
                    db.session.commit()
                    merged = done.value.opened[0]
                    flash(_("Đã sáp nhập %(n)d thôn/tổ dân phố thành %(h)s từ ngày %(d)s.", n=len(merger.sources),
                            h=merged.name, d=merger.effective_on.strftime("%d/%m/%Y")), "success")
                    return redirect(url_for(".show", unit_id=merged.id))
                impact = None
            db.session.rollback()  # a preview writes nothing
    elif request.method == "GET":
        form.effective_on.data = today()
    return render_template("units/merge_hamlets.html", commune=commune, form=form, impact=impact,
                           has_hamlets=len(hamlets) >= 2, flag_labels=reforms.FLAG_LABELS,
                           grant_labels=reforms.GRANT_CHANGE_LABELS)

"""Pages of the health facilities (issue #12, item 1): a province's list (search, kind, open or
closed, pages), one facility with the history of the communes it served, and — for the
province's admins — create, edit, change of communes, close (after a confirmation page), "a
station for every commune" (preview, then confirm) and the centres file (upload → dry run →
confirm, and its template).

Every page loads its province or facility through :func:`get_province_or_404` /
:func:`get_facility_or_404` (404 unknown, 403 out of scope, ``permissions``), makes at most one
service call and commits once; a refusal is shown on the form and nothing is committed.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.permissions import scope_of
from ..common.clock import today
from ..common.params import choice_arg, date_arg, page_arg, parse_date
from ..common.views import actor, load_or_404, run_service
from ..errors import DomainError, ValidationFailed
from ..exports.views import send_document
from ..extensions import db
from ..imports import staging
from ..imports.problems import ImportRefused
from ..imports.reading import read_table
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import provinces_of
from . import facilities_import, services
from .forms import (
    CloseFacilityForm,
    ConfirmImportForm,
    EditFacilityForm,
    FacilityForm,
    ImportForm,
    ServiceAreaForm,
    StationsForm,
    commune_choices,
    facility_choices,
)
from .permissions import (
    can_manage_facilities,
    can_manage_facility,
    can_view_facilities,
    can_view_facility,
    viewable_ids,
)

bp = Blueprint("facilities", __name__, url_prefix="/facilities")

PREVIEW_ROWS = 300  # rows of a dry run shown on the page ("… và N dòng nữa" beyond)


def get_province_or_404(province_id: int, need=can_view_facilities) -> AdminUnit:
    return load_or_404(AdminUnit, province_id, need, where=lambda u: u.level == UnitLevel.PROVINCE)


def get_facility_or_404(facility_id: int, need=can_view_facility) -> Facility:
    return load_or_404(Facility, facility_id, need)


@bp.get("/")
@login_required
def index():
    provinces = [p for p in provinces_of(scope_of(current_user).prefixes) if can_view_facilities(current_user, p)]
    if len(provinces) == 1:
        return redirect(url_for(".province", province_id=provinces[0].id))
    return render_template("facilities/index.html", provinces=provinces)


@bp.get("/province/<int:province_id>")
@login_required
def province(province_id: int):
    province = get_province_or_404(province_id)
    on = date_arg("as_of")
    q = request.args.get("q", "").strip()[:100]
    kind = choice_arg("kind", services.KIND_ORDER)
    status = choice_arg("status", services.STATUSES, "open")
    page = services.facility_page(province, q=q, kind=kind, status=status, on=on, page=page_arg()[0])
    return render_template(
        "facilities/list.html", province=province, page=page, q=q, kind=kind, status=status, as_of=on,
        served=services.served_on(page.items, on), viewable=viewable_ids(current_user, list(page.items)),
        department=services.department_of(province), can_manage=can_manage_facilities(current_user, province))


@bp.get("/<int:facility_id>")
@login_required
def show(facility_id: int):
    facility = get_facility_or_404(facility_id)
    children = sorted(facility.children, key=lambda f: (f.valid_to is not None, f.code))
    return render_template(
        "facilities/show.html", facility=facility, province=services.facility_province(facility),
        history=services.service_history(facility), children=children,
        viewable=viewable_ids(current_user, [*children, *([facility.parent] if facility.parent else [])]),
        can_manage=can_manage_facility(current_user, facility))


def _new_form(province: AdminUnit, kind: FacilityKind) -> FacilityForm:
    form = FacilityForm().for_kind(kind)
    communes = services.communes_of(province)
    form.communes.choices = commune_choices(communes)
    form.commune.choices = [("", _("— Chọn xã/phường —")), *commune_choices(communes)]
    form.parent.choices = facility_choices(services.open_facilities(province, FacilityKind.HEALTH_CENTRE),
                                           blank=_("— Trung tâm đang phụ trách xã/phường —"))
    return form


def _units(ids) -> list[AdminUnit]:
    wanted = [int(i) for i in ids or [] if str(i).isascii() and str(i).isdigit()]
    return [u for u in (db.session.get(AdminUnit, i) for i in wanted) if u is not None]


def _facility(raw) -> Facility | None:
    return db.session.get(Facility, int(raw)) if raw and str(raw).isascii() and str(raw).isdigit() else None


@bp.route("/province/<int:province_id>/new", methods=["GET", "POST"])
@login_required
def new(province_id: int):
    province = get_province_or_404(province_id, need=can_manage_facilities)
    kind = FacilityKind(choice_arg("kind", services.KIND_ORDER, FacilityKind.HEALTH_CENTRE.value))
    form = _new_form(province, kind)
    if form.validate_on_submit():
        communes = _units(form.communes.data if kind == FacilityKind.HEALTH_CENTRE else [form.commune.data])
        done = run_service(
            services.create_facility, province, kind=kind, valid_from=form.valid_from.data, code=form.code.data or None,
            name=form.name.data or None, communes=communes,
            parent=_facility(form.parent.data) if kind == FacilityKind.STATION else None, address=form.address.data,
            phone=form.phone.data, decision_ref=form.decision_ref.data, actor=actor(), form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã tạo %(name)s (mã %(code)s).", name=done.value.name, code=done.value.code), "success")
            return redirect(url_for(".show", facility_id=done.value.id))
    return render_template("facilities/form.html", form=form, province=province, kind=kind, facility=None,
                           department=services.department_of(province))


@bp.route("/<int:facility_id>/edit", methods=["GET", "POST"])
@login_required
def edit(facility_id: int):
    facility = get_facility_or_404(facility_id, need=can_manage_facility)
    province = services.facility_province(facility)
    form = EditFacilityForm(obj=facility)
    form.parent.choices = facility_choices(services.open_facilities(province, FacilityKind.HEALTH_CENTRE))
    if request.method == "GET" and facility.parent_id:
        form.parent.data = str(facility.parent_id)
    if form.validate_on_submit():
        parent = _facility(form.parent.data) if facility.kind == FacilityKind.STATION.value else None
        done = run_service(services.update_facility, facility, name=form.name.data, address=form.address.data,
                           phone=form.phone.data, decision_ref=form.decision_ref.data, parent=parent, actor=actor(),
                           form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã lưu %(name)s.", name=facility.name) if done.value else _("Không có gì thay đổi."), "success")
            return redirect(url_for(".show", facility_id=facility.id))
    return render_template("facilities/edit.html", form=form, facility=facility, province=province)


@bp.route("/<int:facility_id>/area", methods=["GET", "POST"])
@login_required
def area(facility_id: int):
    facility = get_facility_or_404(facility_id, need=can_manage_facility)
    province = services.facility_province(facility)
    form = ServiceAreaForm()
    form.communes.choices = commune_choices(services.communes_of(province))
    if request.method == "GET":
        form.communes.data = [str(a.unit_id) for a in services.open_areas(facility)]
    if facility.kind != FacilityKind.DEPARTMENT.value and form.validate_on_submit():
        done = run_service(services.set_service_area, facility, _units(form.communes.data), on=form.on.data,
                           actor=actor(), form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã ghi xã/phường phụ trách của %(name)s từ ngày %(d)s.", name=facility.name,
                    d=form.on.data.strftime("%d/%m/%Y")) if done.value else _("Không có gì thay đổi."), "success")
            return redirect(url_for(".show", facility_id=facility.id))
    return render_template("facilities/area.html", form=form, facility=facility, province=province,
                           latest=services.last_change(facility))


@bp.route("/<int:facility_id>/close", methods=["GET", "POST"])
@login_required
def close(facility_id: int):
    facility = get_facility_or_404(facility_id, need=can_manage_facility)
    form = CloseFacilityForm()
    if form.validate_on_submit():
        done = run_service(services.close_facility, facility, on=form.valid_to.data,
                           decision_ref=form.decision_ref.data or None, actor=actor(), form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã đóng %(name)s từ ngày %(d)s.", name=facility.name, d=form.valid_to.data.strftime("%d/%m/%Y")),
                  "success")
            return redirect(url_for(".show", facility_id=facility.id))
    return render_template("facilities/close.html", form=form, facility=facility,
                           province=services.facility_province(facility),
                           served=services.served_on([facility], today())[facility.id],
                           children=[c for c in facility.children if c.valid_to is None])


def _posted_date(raw: str | None) -> date:
    try:
        return parse_date(raw or "")
    except ValueError:
        raise ValidationFailed(_("Ngày không hợp lệ (ngày/tháng/năm).")) from None


@bp.route("/province/<int:province_id>/stations", methods=["GET", "POST"])
@login_required
def stations(province_id: int):
    """A station for every commune: the preview for a day (GET), then the confirmation (POST)."""
    province = get_province_or_404(province_id, need=can_manage_facilities)
    form = StationsForm()
    if form.validate_on_submit():
        done = run_service(lambda: services.create_stations_for_communes(
            province, _posted_date(form.on.data), actor=actor()))
        if done.ok:
            db.session.commit()
            plan = done.value
            flash(_("Đã tạo %(n)d trạm y tế; %(m)d xã/phường không tạo (đã có trạm hoặc còn thiếu thông tin, xem danh sách "
                    "bên dưới).", n=len(plan.created), m=len(plan.skipped)) if plan.skipped else
                  _("Đã tạo %(n)d trạm y tế.", n=len(plan.created)), "success")
            return render_template("facilities/stations.html", province=province, plan=plan, form=None, done=True)
    on = date_arg("on")
    form.on.data = on.isoformat()
    return render_template("facilities/stations.html", province=province, plan=services.plan_stations(province, on),
                           form=form, done=False)


# --- the centres file ---------------------------------------------------------------------------


def _plan(province: AdminUnit, item: staging.Staged):
    with open(item.path, "rb") as stream:
        table = read_table(stream, facilities_import.FIELDS, filename=item.filename)
    return facilities_import.plan_centres(table, province=province, actor=actor())


def _preview(province: AdminUnit, item: staging.Staged | None, plan=None, *, refused: str | None = None,
             problems: list | None = None, filename: str | None = None):
    return render_template(
        "facilities/import_preview.html", province=province, plan=plan, refused=refused,
        filename=filename or (item.filename if item else plan.filename if plan else ""),
        problems=problems if problems is not None else (list(plan.problems) if plan else []),
        form=ConfirmImportForm(token=item.token) if item else None, limit=PREVIEW_ROWS)


@bp.route("/province/<int:province_id>/import", methods=["GET", "POST"])
@login_required
def import_upload(province_id: int):
    """Upload (GET the form, POST the file) → the dry run: counts, the changes, every problem."""
    province = get_province_or_404(province_id, need=can_manage_facilities)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        done = run_service(staging.stage, upload.stream, upload.filename, kind=facilities_import.KIND,
                           owner_id=current_user.id, form=form)
        if done.ok:
            try:
                plan = _plan(province, done.value)
            except DomainError as e:
                db.session.rollback()
                staging.discard(done.value)
                return _preview(province, None, refused=str(e), problems=getattr(e, "problems", []),
                                filename=done.value.filename), 422
            return _preview(province, done.value, plan), 200 if plan.summary.ok else 422
    return render_template("facilities/import.html", form=form, province=province,
                           fields=facilities_import.FIELDS), 422 if form.file.errors else 200


@bp.post("/province/<int:province_id>/import/confirm")
@login_required
def import_confirm(province_id: int):
    """The confirmation: the staged file read and checked again (the database may have changed),
    then written in one transaction, or shown again with its problems."""
    province = get_province_or_404(province_id, need=can_manage_facilities)
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        return redirect(url_for(".import_upload", province_id=province.id))
    item = staging.staged(form.token.data, kind=facilities_import.KIND, owner_id=current_user.id)
    try:
        plan = _plan(province, item)
    except DomainError as e:  # the staged file no longer reads (it was checked at upload)
        db.session.rollback()
        staging.discard(item)
        return _preview(province, None, refused=str(e), problems=getattr(e, "problems", []),
                        filename=item.filename), 422
    try:
        summary = facilities_import.apply_centres(plan, actor=actor(), filename=item.filename)
    except ImportRefused as e:
        db.session.rollback()
        return _preview(province, item, plan, problems=e.items), 422
    db.session.commit()
    staging.discard(item)
    flash(_("Đã nhập “%(f)s”: tạo mới %(c)d, cập nhật %(u)d, không đổi %(n)d trung tâm.", f=item.filename,
            c=summary.created, u=summary.updated, n=summary.unchanged), "success")
    return redirect(url_for(".province", province_id=province.id, kind=FacilityKind.HEALTH_CENTRE.value))


@bp.get("/province/<int:province_id>/import/template")
@login_required
def import_template(province_id: int):
    """The centres file of the province as it stands (XLSX): the page's own check first."""
    province = get_province_or_404(province_id, need=can_manage_facilities)
    document = facilities_import.template_document(province)
    return send_document(document, "xlsx", _("Mẫu trung tâm y tế - %(p)s", p=province.full_name))

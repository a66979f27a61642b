"""Recruitment criteria pages: read a province's versions (everyone working in the province) and
issue a new version (province admins). A new version never rewrites an old one: applications keep
the version they were screened with (issue #3)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..auth.permissions import scope_of
from ..common import clock
from ..common.views import actor, load_or_404, run_service
from ..extensions import db
from ..units.models import AdminUnit, UnitLevel
from ..units.services import province_id_of, provinces_of
from . import rules, services
from .criteria_forms import RULE_CHOICES, CriteriaVersionForm
from .labels import APPROVER_LABELS, QUOTA_PRESET_LABELS
from .permissions import can_manage_criteria, can_view_criteria
from .workflow import Approver

bp = Blueprint("criteria", __name__, url_prefix="/criteria")

KIND_LABELS = {
    rules.RuleKind.AUTOMATIC: _l("Tiêu chí kiểm tra tự động (không đạt thì không được phê duyệt)"),
    rules.RuleKind.MANUAL: _l("Tiêu chí do trạm y tế đánh giá, xác nhận kèm ghi chú"),
    rules.RuleKind.PRIORITY: _l("Ưu tiên (chỉ hiển thị cho người thẩm định, không loại ứng viên)"),
    rules.RuleKind.EXTENSION: _l("Tiêu chí mở rộng của tỉnh (mặc định tắt)"),
}
RULE_GROUPS = [(kind, [r for r in rules.RULES.values() if r.kind == kind]) for kind in rules.RuleKind]


@bp.app_context_processor
def criteria_helpers():
    """For templates/recruitment/_no_criteria.html, on any page showing a quota: who may set a
    province's criteria (their admin gets a link to the criteria page, others plain text)."""
    return {"can_manage_criteria": can_manage_criteria, "province_id_of": province_id_of}


def get_province_or_404(province_id: int, need=can_view_criteria) -> AdminUnit:
    """The province, or 404 if unknown or not a province; 403 unless ``need(user, province)``."""
    return load_or_404(AdminUnit, province_id, need, where=lambda u: u.level == UnitLevel.PROVINCE)


def _visible_provinces() -> list[AdminUnit]:
    return [p for p in provinces_of(scope_of(current_user).prefixes) if can_view_criteria(current_user, p)]


@bp.get("/")
@login_required
def index():
    provinces = _visible_provinces()
    if len(provinces) == 1:
        return redirect(url_for(".show", province_id=provinces[0].id))
    current = {p.id: services.criteria_for(p) for p in provinces}
    return render_template("recruitment/criteria_index.html", provinces=provinces, current=current,
                           approver_label=_approver_label)


@bp.get("/<int:province_id>")
@login_required
def show(province_id: int):
    province = get_province_or_404(province_id)
    return render_template(
        "recruitment/criteria_show.html", province=province, current=services.criteria_for(province),
        versions=services.criteria_versions(province), groups=RULE_GROUPS, kind_labels=KIND_LABELS,
        approver_label=_approver_label, preset_labels=QUOTA_PRESET_LABELS, band_label=band_label,
        can_manage=can_manage_criteria(current_user, province))


@bp.route("/<int:province_id>/versions/new", methods=["GET", "POST"])
@login_required
def new_version(province_id: int):
    province = get_province_or_404(province_id, need=can_manage_criteria)
    versions = services.criteria_versions(province)
    latest = versions[0] if versions else None
    form = CriteriaVersionForm()
    if not form.is_submitted():
        form.prefill(latest, clock.today())
    if form.validate_on_submit():
        bands, problems = form.band_rows()
        if problems:
            form.form_errors.extend(problems)
        else:
            done = run_service(services.create_criteria_version, province, **form.criteria_fields(bands),
                               actor=actor(), form=form)
            if done.ok:
                db.session.commit()
                flash(_("Đã ban hành phiên bản %(v)d, có hiệu lực từ %(d)s.", v=done.value.version,
                        d=done.value.valid_from.strftime("%d/%m/%Y")), "success")
                return redirect(url_for(".show", province_id=province.id))
    return render_template("recruitment/criteria_form.html", form=form, province=province, latest=latest,
                           rule_choices=[rules.RULES[c] for c in RULE_CHOICES], kind_labels=KIND_LABELS,
                           presets=rules.QUOTA_PRESETS)


def _approver_label(value) -> str:
    try:
        return str(APPROVER_LABELS[Approver(value)])
    except ValueError:
        return str(value)


def band_label(bands, i: int) -> str:
    """"≤200 hộ", "201–400 hộ", "> 400 hộ" for row ``i`` of a band table."""
    upper = bands[i][0]
    lower = (bands[i - 1][0] + 1) if i > 0 and bands[i - 1][0] is not None else None
    if upper is None:
        return _("Trên %(n)s hộ", n=bands[i - 1][0]) if i > 0 else _("Mọi số hộ")
    if lower is None:
        return _("Đến %(n)s hộ", n=upper)
    return _("%(a)s–%(b)s hộ", a=lower, b=upper)

"""Allowance pages: base salary, the province's allowance rules and network policy, monthly sheets.

Every page checks scope: a sheet needs a grant covering the unit (or every unit a centre serves),
the settings page is read by everyone working in the province and changed by its province admins,
the base salary is read by anyone with a grant and recorded by a province admin
(:mod:`.permissions`). A sheet page shows one page of lines with the whole sheet's totals; its
"print all" version streams every line; its files (``?format=xlsx|pdf|csv``, issue #11 item 2)
are written from one document (:mod:`.documents`) after the page's own scope check (404 unknown,
403 outside), an unknown format or an unreadable month answered 400, a large sheet made by a
background job. A POST makes one service call and commits once; a :class:`DomainError` rolls
back and is shown on the form with the input kept, so nothing changes (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from babel.numbers import get_group_symbol
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    stream_template,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from ..auth.models import Role
from ..auth.permissions import landing_of, require, scope_of
from ..collaborators.policy import policy_for
from ..common import clock
from ..common.params import month_arg, page_arg
from ..common.views import actor, load_or_404, run_service
from ..exports.services import check_format, check_month
from ..exports.views import send_document
from ..extensions import db
from ..jobs import services as jobs
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import facilities_serving, provinces_of, served_units
from . import documents
from . import services as allowances
from .forms import (
    ASSIGNMENT_KIND_LABELS,
    BASIS_LABELS,
    COMMUNE_CATEGORY_LABELS,
    COMMUNE_CATEGORY_SHORT,
    VHW_LABELS,
    ZONE_LABELS,
    ZONE_SHORT,
    BaseSalaryForm,
    EndRuleForm,
    PolicyForm,
    RuleForm,
)
from .models import AllowanceRule
from .permissions import (
    can_manage_base_salary,
    can_manage_network_settings,
    can_view_base_salary,
    can_view_centre_sheet,
    can_view_settings,
    can_view_sheet,
)

bp = Blueprint("allowances", __name__, url_prefix="/allowances")

PROFILE_ENDPOINT = "collaborators.show"


def _labels() -> dict:
    return {"COMMUNE_CATEGORY_LABELS": COMMUNE_CATEGORY_LABELS, "COMMUNE_CATEGORY_SHORT": COMMUNE_CATEGORY_SHORT,
            "ZONE_LABELS": ZONE_LABELS, "ZONE_SHORT": ZONE_SHORT, "VHW_LABELS": VHW_LABELS,
            "BASIS_LABELS": BASIS_LABELS, "ASSIGNMENT_KIND_LABELS": ASSIGNMENT_KIND_LABELS}


@bp.app_context_processor
def _profile_helpers():
    """Labels and a pure formatter for ``allowances/_profile_section.html`` (included in the
    collaborator's profile). Its data (``allowance_section``) comes from the profile view
    through :func:`.services.profile_section`: no query runs from here."""
    return {"allowance_labels": _labels(), "allowance_rule_text": rule_text}


@bp.context_processor
def _page_helpers():
    return {**_labels(), "rule_case": rule_case, "rule_value": rule_value, "rule_text": rule_text,
            "money": allowances.money, "collaborator_url": collaborator_url, "thousands": _thousands()}


def _thousands():
    """Whole numbers with the locale's thousands separator (as the ``num`` filter writes them),
    the separator looked up once per page: Babel looks it up again on every call (~50 µs), and a
    province sheet shows some 600 numbers."""
    symbol = get_group_symbol(get_locale() or "vi")

    def thousands(value) -> str:
        return "—" if value is None else f"{value:,}".replace(",", symbol)

    return thousands


def rule_case(rule: AllowanceRule) -> str:
    """"Xã · Khó khăn/DTTS · kiêm NVYT thôn bản", or "Mọi trường hợp"."""
    parts = []
    if rule.commune_category:
        parts.append(str(COMMUNE_CATEGORY_SHORT[allowances.CommuneCategory(rule.commune_category)]))
    if rule.zone:
        parts.append(str(ZONE_SHORT[allowances.Zone(rule.zone)]))
    if rule.vhw_concurrent is not None:
        parts.append(_("kiêm NVYT thôn bản") if rule.vhw_concurrent else _("không kiêm NVYT thôn bản"))
    if rule.family_children_duty is not None:
        parts.append(_("kiêm công tác GĐ&TE") if rule.family_children_duty else _("không kiêm công tác GĐ&TE"))
    return " · ".join(parts) if parts else _("Mọi trường hợp")


def rule_value(rule: AllowanceRule) -> str:
    if rule.basis == allowances.AllowanceBasis.FIXED:
        return allowances.money(rule.amount)
    return _("%(c)s × lương cơ sở", c=allowances.coefficient_text(rule.coefficient))


def rule_text(rule: AllowanceRule | None) -> str:
    if rule is None:
        return "—"
    return f"{rule_value(rule)} ({rule.legal_basis})"


def collaborator_url(collaborator_id: int) -> str | None:
    if PROFILE_ENDPOINT not in current_app.view_functions:
        return None
    try:
        return url_for(PROFILE_ENDPOINT, collaborator_id=collaborator_id)
    except BuildError:
        return None


def _may_view_centre_sheet(user, facility: Facility) -> bool:
    return can_view_centre_sheet(user, facility, clock.today())


# --- sheets ------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """Straight to the sheet of the user's area (their centre, or their only unit), else a list."""
    month = {"month": request.args["month"]} if request.args.get("month") else {}
    today = clock.today()
    landing = landing_of(current_user, today)
    if landing.only_unit is not None:
        return redirect(url_for(".sheet", unit_id=landing.only_unit.id, **month))
    if landing.only_centre is not None and can_view_centre_sheet(current_user, landing.only_centre, today):
        return redirect(url_for(".centre_sheet", facility_id=landing.only_centre.id, **month))
    centres = [f for f in landing.centres if can_view_centre_sheet(current_user, f, today)]
    return render_template("allowances/index.html", units=landing.units, centres=centres, month=month.get("month"))


# Who signs a sheet as head of the issuing body, by its level (the station, the area health
# centre, the Department of Health).
SIGNER_TITLES = {
    FacilityKind.STATION.value: _l("Trưởng trạm y tế"),
    FacilityKind.HEALTH_CENTRE.value: _l("Giám đốc trung tâm y tế"),
    FacilityKind.DEPARTMENT.value: _l("Giám đốc Sở Y tế"),
}


def _issuer(unit: AdminUnit | None, facility: Facility | None) -> Facility | None:
    """The body issuing the sheet: the centre's own, else the nearest facility serving the unit
    (a commune's station, a province's Department)."""
    if facility is not None:
        return facility
    serving = facilities_serving(unit) if unit is not None else []
    return serving[0] if serving else None


def _render_sheet(units: Sequence[AdminUnit], month: date, *, title: str, unit: AdminUnit | None = None,
                  facility: Facility | None = None):
    """One page of the sheet (``?page=N``), every line streamed for printing (``?all=1``), or
    the sheet's file (``?format=xlsx|pdf|csv``, :func:`_sheet_file`)."""
    if "format" in request.args:
        return _sheet_file(units, month, title=title, unit=unit, facility=facility)
    issuer = _issuer(unit, facility)
    context = {"title": title, "unit": unit, "facility": facility,
               "header_name": issuer.name if issuer else (unit.full_name if unit is not None else ""),
               "signer_title": SIGNER_TITLES.get(issuer.kind) if issuer else None,
               "month": month, "month_value": month.strftime("%Y-%m")}
    if request.args.get("all") == "1":
        summary = allowances.sheet_summary(units, month)
        # The flashed messages are read now: once the body streams, the session cookie is sent.
        get_flashed_messages(with_categories=True)
        return stream_template("allowances/sheet.html", summary=summary, page=None, show_all=True,
                               groups=allowances.iter_sheet(units, month, summary), **context)
    page, per_page = page_arg()
    sheet = allowances.sheet_page(units, month, page, per_page)
    return render_template("allowances/sheet.html", summary=sheet.summary, page=sheet.page, groups=sheet.groups,
                           show_all=False, **context)


def _sheet_month() -> date:
    """The sheet's month. A page given an unreadable month shows this month and says so; a file
    is refused (400, the format checked first): a file must hold the month it was asked for."""
    if "format" not in request.args:
        return month_arg()
    check_format(request.args.get("format"), documents.FORMATS)
    return check_month(request.args.get("month"))


def _sheet_file(units: Sequence[AdminUnit], month: date, *, title: str, unit: AdminUnit | None,
                facility: Facility | None) -> Response:
    """The sheet's file, from its one document (:func:`.documents.sheet_document`): answered at
    once, or, for a large sheet (:func:`.documents.made_by_job`), made by a background job whose
    page the browser is sent to. The caller has checked the scope (the page's own rule)."""
    fmt = check_format(request.args.get("format"), documents.FORMATS)
    user = actor()
    summary = allowances.sheet_summary(units, month)
    if documents.made_by_job(summary.lines, fmt):
        job = jobs.submit(documents.JOB_KIND,
                          documents.job_params(fmt=fmt, month=month, unit=unit, facility=facility), user)
        db.session.commit()  # the job starts once its row is committed
        return redirect(url_for("jobs.show", job_id=job.id))
    document = documents.sheet_document(units, month, user=user, title=title, unit=unit, facility=facility,
                                        printed=fmt == "pdf", summary=summary)
    return send_document(document, fmt, documents.display_name(title, month))


@bp.get("/sheet/<int:unit_id>")
@login_required
def sheet(unit_id: int):
    """The sheet of a commune, or of every commune under a province (or any unit), by commune."""
    unit = load_or_404(AdminUnit, unit_id, need=can_view_sheet)
    return _render_sheet([unit], _sheet_month(), title=unit.full_name, unit=unit)


@bp.get("/sheet/centre/<int:facility_id>")
@login_required
def centre_sheet(facility_id: int):
    """The sheet of the communes a facility (an area health centre) serves: the user must reach
    every unit it serves today; the month's served units outside the user's area are left out."""
    facility = load_or_404(Facility, facility_id, need=_may_view_centre_sheet)
    month = _sheet_month()
    served = [u for u in served_units(facility, allowances.month_end(month)) if can_view_sheet(current_user, u)]
    return _render_sheet(served, month, title=facility.name, facility=facility)


# --- province settings ------------------------------------------------------------------------


@bp.get("/settings")
@login_required
def settings_index():
    provinces = provinces_of(scope_of(current_user).prefixes)
    if len(provinces) == 1:
        return redirect(url_for(".settings", province_id=provinces[0].id))
    return render_template("allowances/settings_index.html", provinces=provinces)


SETTINGS_FORMS = {"rule": RuleForm, "end": EndRuleForm, "policy": PolicyForm}


def _rule_choice(rule: AllowanceRule) -> SelectChoice:
    return SelectChoice(rule.id, f"{rule.valid_from.strftime('%d/%m/%Y')} · {rule_case(rule)} · {rule_value(rule)} "
                                 f"({rule.legal_basis})")


@bp.route("/settings/<int:province_id>", methods=["GET", "POST"])
@login_required
def settings(province_id: int):
    """The province's allowance rules (current and ended) and network-policy versions; province
    admins add a rule, end an open rule (with confirmation) or issue a new policy version."""
    province = load_or_404(AdminUnit, province_id, can_view_settings, where=lambda u: u.level == UnitLevel.PROVINCE)
    can_manage = can_manage_network_settings(current_user, province)
    submitted = None
    if request.method == "POST":
        require(can_manage)
        submitted = next((name for name in SETTINGS_FORMS if f"{name}-submit" in request.form), None)
        if submitted is None:
            flash(_("Không rõ thao tác cần thực hiện; vui lòng thử lại."), "warning")
            return redirect(url_for(".settings", province_id=province.id))
    forms = {name: cls(prefix=name) if name == submitted else cls(formdata=None, prefix=name)
             for name, cls in SETTINGS_FORMS.items()}
    rules = allowances.allowance_rules(province)
    forms["end"].rule_id.choices = [_rule_choice(r) for r in rules if r.valid_to is None]
    today = clock.today()
    current_policy = policy_for(province, today)
    if submitted != "policy":
        _prefill_policy(forms["policy"], current_policy, today)
    if submitted != "rule":
        forms["rule"].valid_from.data = today
    if submitted and forms[submitted].validate_on_submit():
        outcome = run_service(_apply_settings, submitted, province, forms[submitted], form=forms[submitted])
        if outcome.ok:
            db.session.commit()
            flash(outcome.value, "success")
            return redirect(url_for(".settings", province_id=province.id, _anchor=submitted))
    status = 422 if submitted else 200
    return render_template("allowances/settings.html", province=province, rules=rules, forms=forms,
                           policies=allowances.network_policies(province), current_policy=current_policy,
                           can_manage=can_manage, submitted=submitted, today=today,
                           current_salary=allowances.base_salary_on(today)), status


def _prefill_policy(form: PolicyForm, policy, today: date) -> None:
    form.valid_from.data = today
    form.allow_additional_hamlet.data = policy.allow_additional_hamlet
    form.pay_additional_hamlet.data = policy.pay_additional_hamlet
    form.visit_interval_days.data = policy.visit_interval_days
    form.missed_meetings_for_review.data = policy.missed_meetings_for_review
    form.legal_basis.data = policy.legal_basis


def _apply_settings(submitted: str, province: AdminUnit, form) -> str:
    """The one service call of a settings POST; returns the success message."""
    if submitted == "rule":
        rule = allowances.create_allowance_rule(province, **form.fields(), actor=actor())
        return _("Đã thêm mức bồi dưỡng %(v)s cho %(c)s, có hiệu lực từ %(d)s.", v=rule_value(rule),
                 c=rule_case(rule), d=rule.valid_from.strftime("%d/%m/%Y"))
    if submitted == "end":
        rule = db.session.get(AllowanceRule, form.rule_id.data)
        if rule is None or rule.province_id != province.id:
            abort(404)
        allowances.end_allowance_rule(rule, valid_to=form.valid_to.data, actor=actor())
        return _("Đã kết thúc mức bồi dưỡng %(v)s (%(c)s), hết hiệu lực từ %(d)s.", v=rule_value(rule),
                 c=rule_case(rule), d=rule.valid_to.strftime("%d/%m/%Y"))
    policy = allowances.set_network_policy(province, **form.fields(), actor=actor())
    return _("Đã ban hành quy định mạng lưới có hiệu lực từ %(d)s.", d=policy.valid_from.strftime("%d/%m/%Y"))


# --- base salary ---------------------------------------------------------------------------------


@bp.route("/base-salary", methods=["GET", "POST"])
@login_required
def base_salary():
    """The national base salary (lương cơ sở) by date; a province admin of every province records a
    new decree (:func:`can_manage_base_salary`), and another province admin is told why not."""
    require(can_view_base_salary(current_user))
    can_manage = can_manage_base_salary(current_user)
    if request.method == "POST":
        require(can_manage)
    form = BaseSalaryForm()
    if form.validate_on_submit():
        outcome = run_service(allowances.set_base_salary, **form.fields(), actor=actor(), form=form)
        if outcome.ok:
            db.session.commit()
            row = outcome.value
            flash(_("Đã ghi mức lương cơ sở %(a)s từ ngày %(d)s.", a=allowances.money(row.amount),
                    d=row.valid_from.strftime("%d/%m/%Y")), "success")
            return redirect(url_for(".base_salary"))
    status = 422 if form.is_submitted() else 200
    return render_template("allowances/base_salary.html", form=form, rows=allowances.base_salaries(),
                           current=allowances.base_salary_on(clock.today()), can_manage=can_manage,
                           province_admin=Role.PROVINCE_ADMIN in scope_of(current_user).all_roles), status

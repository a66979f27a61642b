"""Supervision pages: chain, visits, overdue list, follow-ups, professional-direction links,
monthly meetings and the under-review list.

The meeting sheet and the overdue list answer ``?format=xlsx|pdf`` with their file
(``documents``) on their own routes, after the page's own checks: the same 404 and 403, the same
rows (the whole list, not one page); an unknown format or an unreadable month or date is a 400.

Every page loads its object with ``common.views.load_or_404`` and a permission predicate (404
unknown, 403 out of scope); lists show only what lies in the user's scope (fail-closed) and are
counted and cut into pages by the database. A POST makes one service call through
``run_service`` and commits once; a :class:`DomainError` rolls back and is shown on the form with
the input kept, so nothing changes (DESIGN.md §4). The supervisor of a visit is the logged-in user.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from ..auth.permissions import require, scope_of
from ..collaborators.models import Collaborator
from ..collaborators.permissions import (
    RECORDING_ROLES,
    can_manage_links,
    can_record_at,
    can_record_for_collaborator,
    can_view_collaborator,
    can_view_path,
)
from ..common.cache import wide_scope
from ..common.clock import today
from ..common.paging import paginate
from ..common.params import date_arg, int_arg, month_arg, page_arg
from ..common.views import actor, load_or_404, run_service
from ..exports.services import check_date, check_format, check_month
from ..exports.views import send_document
from ..extensions import db
from ..units.models import AdminUnit, FacilityKind, UnitLevel
from . import documents, services
from .forms import ANSWERS, CloseFollowUpForm, EndLinkForm, LinkForm, MeetingForm, VisitForm
from .labels import (
    ANSWER_LABELS,
    CHAIN_LEVEL_LABELS,
    CHECKLIST_DUTIES,
    CHECKLIST_LABELS,
    LINK_KIND_LABELS,
    LINK_KIND_SHORT,
    MISS_LABELS,
    score_colour,
)
from .models import ChecklistItem, ProfessionalLink, SupervisionVisit
from .permissions import can_close_follow_up, can_view_visit

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

# Where a collaborator's name links to, first match wins (the profile belongs to another package).
PROFILE_ENDPOINTS = ("collaborators.profile", "collaborators.show")


@bp.context_processor
def labels():
    return {"CHECKLIST_LABELS": CHECKLIST_LABELS, "CHECKLIST_DUTIES": CHECKLIST_DUTIES,
            "ChecklistItem": ChecklistItem, "ANSWER_LABELS": ANSWER_LABELS, "LINK_KIND_LABELS": LINK_KIND_LABELS,
            "LINK_KIND_SHORT": LINK_KIND_SHORT, "CHAIN_LEVEL_LABELS": CHAIN_LEVEL_LABELS, "MISS_LABELS": MISS_LABELS,
            "score_colour": score_colour}


def collaborator_url(collaborator_id: int) -> str:
    """The collaborator's profile page if the app has one, else their supervision chain."""
    for endpoint in PROFILE_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, collaborator_id=collaborator_id)
            except BuildError:
                continue
    return url_for("supervision.chain", collaborator_id=collaborator_id)


@bp.app_context_processor
def _profile_helpers():
    """Labels and pure helpers for ``supervision/_profile_section.html`` (included by the
    collaborator's profile, whose view passes ``supervision_section`` =
    :func:`services.profile_section`); no query runs from here."""
    return {"supervision_collaborator_url": collaborator_url, "CHECKLIST_LABELS": CHECKLIST_LABELS,
            "LINK_KIND_LABELS": LINK_KIND_LABELS, "CHAIN_LEVEL_LABELS": CHAIN_LEVEL_LABELS,
            "supervision_score_colour": score_colour}


# --- loading and the area of a list ---------------------------------------------------------------


def _in_scope(user, unit: AdminUnit) -> bool:
    return can_view_path(user, unit.path)


def _commune(commune_id: int, need=_in_scope) -> AdminUnit:
    """The commune, or 404 (unknown, or not a commune); 403 unless ``need`` (default: in scope)."""
    commune = load_or_404(AdminUnit, commune_id, need=need)
    if commune.level != UnitLevel.COMMUNE:
        abort(404)
    return commune


def _scope_prefixes() -> tuple[list[str], AdminUnit | None]:
    """The user's prefixes — their area and its history (the units it was formed from, read-only)
    — narrowed to one commune of theirs when ``?commune=`` names one."""
    prefixes = scope_of(current_user).read_prefixes
    commune_id = int_arg("commune")
    commune = db.session.get(AdminUnit, commune_id) if commune_id else None
    if commune is not None and commune.level == UnitLevel.COMMUNE and can_view_path(current_user, commune.path):
        return [commune.path], commune
    return prefixes, None


def _render_list(template: str, page, as_of, commune, **context):
    """A list page of the user's area: its page of rows, the date and the commune filter."""
    return render_template(template, page=page, total=page.total, as_of=as_of, commune=commune,
                           communes=services.commune_choices(scope_of(current_user).read_prefixes, as_of), **context)


# --- dashboard and chain -------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    prefixes = scope_of(current_user).prefixes
    day = today()
    counts, computed_at = wide_scope("dashboard", prefixes, (day,), lambda: services.dashboard_counts(prefixes, day))
    page = services.communes_page(prefixes, day, *page_arg())
    return render_template("supervision/index.html", counts=counts, computed_at=computed_at, page=page, today=day,
                           can_record_at=can_record_at, can_manage_links=can_manage_links)


@bp.get("/chain/<int:collaborator_id>")
@login_required
def chain(collaborator_id: int):
    collaborator = load_or_404(Collaborator, collaborator_id, need=can_view_collaborator)
    on = date_arg("on")
    return render_template("supervision/chain.html", collaborator=collaborator,
                           chain=services.supervision_chain_for(collaborator, on), on=on,
                           profile_url=collaborator_url(collaborator.id))


# --- visits -------------------------------------------------------------------------------------


@bp.get("/visits")
@login_required
def visits():
    prefixes, commune = _scope_prefixes()
    date_from, date_to = date_arg("from", fallback_today=False), date_arg("to", fallback_today=False)
    supervisor_id = int_arg("supervisor")
    q = request.args.get("q", "").strip()[:100]
    stmt = services.visits_query(prefixes, date_from=date_from, date_to=date_to, supervisor_id=supervisor_id, q=q)
    return render_template("supervision/visits.html", page=paginate(stmt, *page_arg()), date_from=date_from,
                           date_to=date_to, supervisor_id=supervisor_id, q=q,
                           supervisors=services.supervisors_in(prefixes), commune=commune)


@bp.route("/visits/new/<int:collaborator_id>", methods=["GET", "POST"])
@login_required
def new_visit(collaborator_id: int):
    collaborator = load_or_404(Collaborator, collaborator_id, need=can_record_for_collaborator)
    form = VisitForm()
    if form.validate_on_submit():
        done = run_service(services.record_visit, collaborator, supervisor=actor(), visited_on=form.visited_on.data,
                           checklist=form.checklist(), findings=form.findings.data, follow_up=form.follow_up.data,
                           follow_up_due=form.follow_up_due.data, actor=actor(), form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã lưu phiếu giám sát %(n)s ngày %(d)s: %(s)d điểm.", n=collaborator.full_name,
                    d=done.value.visited_on.strftime("%d/%m/%Y"), s=done.value.score), "success")
            return redirect(url_for(".visit", visit_id=done.value.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/visit_form.html", form=form, collaborator=collaborator,
                           chain=services.supervision_chain_for(collaborator, today()),
                           last=services.recent_visits(collaborator, limit=3)), status


@bp.get("/visits/<int:visit_id>")
@login_required
def visit(visit_id: int):
    visit = load_or_404(SupervisionVisit, visit_id, need=can_view_visit)
    return render_template("supervision/visit.html", visit=visit, answers=ANSWERS,
                           chain=services.supervision_chain_for(visit.collaborator, visit.visited_on),
                           can_close=visit.follow_up is not None and visit.follow_up_closed_on is None
                           and can_close_follow_up(current_user, visit),
                           profile_url=collaborator_url(visit.collaborator_id))


@bp.route("/visits/<int:visit_id>/close-follow-up", methods=["GET", "POST"])
@login_required
def close_follow_up(visit_id: int):
    visit = load_or_404(SupervisionVisit, visit_id, need=can_close_follow_up)
    form = CloseFollowUpForm()
    if form.validate_on_submit() and run_service(services.close_follow_up, visit, closed_on=form.closed_on.data,
                                                 result=form.result.data, actor=actor(), form=form).ok:
        db.session.commit()
        flash(_("Đã xác nhận hoàn thành khắc phục sau lần giám sát ngày %(d)s.",
                d=visit.visited_on.strftime("%d/%m/%Y")), "success")
        return redirect(url_for(".visit", visit_id=visit.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/close_follow_up.html", form=form, visit=visit), status


# --- lists ----------------------------------------------------------------------------------------


@bp.get("/overdue")
@login_required
def overdue():
    prefixes, commune = _scope_prefixes()
    if "format" in request.args:
        fmt = check_format(request.args["format"], documents.OVERDUE_FORMATS)
        on = check_date(request.args.get("as_of"))
        documents.check_overdue_size(prefixes, on, fmt)
        printed = documents.overdue_document(actor(), prefixes, on, commune=commune)
        return send_document(printed.document, fmt, printed.display)
    as_of, pages = date_arg("as_of"), page_arg()
    scope = scope_of(current_user)
    page, computed_at = wide_scope("overdue", prefixes, (as_of, *pages),
                                   lambda: services.overdue_page(prefixes, as_of, *pages))
    return _render_list("supervision/overdue.html", page, as_of, commune, computed_at=computed_at,
                        can_record=lambda row: bool(scope.roles_at(row.hamlet_path) & RECORDING_ROLES))


@bp.get("/follow-ups")
@login_required
def follow_ups():
    prefixes, commune = _scope_prefixes()
    as_of = date_arg("as_of")
    _open, late = services.follow_up_counts(prefixes, as_of)
    return _render_list("supervision/follow_ups.html", services.open_follow_ups_page(prefixes, as_of, *page_arg()),
                        as_of, commune, late=late, can_close=lambda v: can_close_follow_up(current_user, v))


@bp.get("/under-review")
@login_required
def under_review():
    prefixes, commune = _scope_prefixes()
    as_of, pages = date_arg("as_of"), page_arg()
    page, computed_at = wide_scope("under_review", prefixes, (as_of, *pages),
                                   lambda: services.under_review_page(prefixes, as_of, *pages))
    return _render_list("supervision/under_review.html", page, as_of, commune, computed_at=computed_at)


# --- professional-direction links ------------------------------------------------------------------


@bp.route("/links/<int:commune_id>", methods=["GET", "POST"])
@login_required
def links(commune_id: int):
    commune = _commune(commune_id)
    may_manage = can_manage_links(current_user, commune)
    form = LinkForm()
    if request.method == "POST":
        require(may_manage)
        if form.validate_on_submit():
            done = run_service(services.set_professional_link, commune, actor=actor(), form=form,
                               **form.link_fields())
            if done.ok:
                db.session.commit()
                link = done.value
                flash(_("Đã ghi %(p)s phụ trách chuyên môn CTV tại %(c)s từ %(d)s.", p=link.person_name,
                        c=commune.full_name, d=link.valid_from.strftime("%d/%m/%Y")), "success")
                return redirect(url_for(".links", commune_id=commune.id))
    day = today()
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/links.html", commune=commune, form=form, may_manage=may_manage,
                           current=services.links_on(commune, day), history=services.link_history(commune),
                           today=day), status


@bp.route("/links/<int:commune_id>/end", methods=["GET", "POST"])
@login_required
def end_link(commune_id: int):
    commune = _commune(commune_id, need=can_manage_links)
    link_id = request.values.get("link_id", "")
    link = db.session.get(ProfessionalLink, int(link_id)) if link_id.isascii() and link_id.isdigit() \
        and int(link_id) < 2**31 else None
    if link is None or link.commune_id != commune.id:
        abort(404)
    form = EndLinkForm(link_id=str(link.id))
    if form.validate_on_submit() and run_service(services.end_professional_link, link, valid_to=form.valid_to.data,
                                                 actor=actor(), form=form).ok:
        db.session.commit()
        flash(_("Đã kết thúc việc phụ trách của %(p)s từ %(d)s.", p=link.person_name,
                d=link.valid_to.strftime("%d/%m/%Y")), "success")
        return redirect(url_for(".links", commune_id=commune.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/end_link.html", commune=commune, link=link, form=form), status


# --- monthly meetings -----------------------------------------------------------------------------


@bp.get("/meetings/<int:commune_id>")
@login_required
def meetings(commune_id: int):
    commune = _commune(commune_id)
    page = services.meetings_page(commune, *page_arg())
    this_month = services.month_start(today())
    return render_template("supervision/meetings.html", commune=commune, page=page, summaries=page.items,
                           this_month=this_month, may_record=can_record_at(current_user, commune),
                           roster_now=services.meeting_roster_count(commune, this_month))


def _attendance_from_request() -> dict[int, tuple]:
    """One row per posted ``row`` id: attended / P0 checkboxes and a note."""
    sheet = {}
    for cid in dict.fromkeys(request.form.getlist("row", type=int)):
        sheet[cid] = (request.form.get(f"attended-{cid}") == "y", request.form.get(f"p0-{cid}") == "y",
                      (request.form.get(f"note-{cid}") or "").strip()[:300] or None)
    return sheet


@bp.route("/meetings/<int:commune_id>/record", methods=["GET", "POST"])
@login_required
def record_meeting(commune_id: int):
    commune = _commune(commune_id, need=can_record_at)
    month = month_arg()
    roster = services.meeting_roster(commune, month)
    meeting = services.get_meeting(commune, month)
    form = MeetingForm(obj=meeting)
    posted = _attendance_from_request() if request.method == "POST" else None
    if form.validate_on_submit() and run_service(services.record_meeting, commune, month=month,
                                                 held_on=form.held_on.data, attendance=posted, note=form.note.data,
                                                 actor=actor(), form=form).ok:
        db.session.commit()
        flash(_("Đã lưu điểm danh giao ban tháng %(m)s của %(c)s.", m=month.strftime("%m/%Y"),
                c=commune.full_name), "success")
        return redirect(url_for(".meetings", commune_id=commune.id))
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/meeting_form.html", commune=commune, month=month, roster=roster,
                           meeting=meeting, form=form, posted=posted,
                           previous=services.previous_month(month), following=services.next_month(month),
                           this_month=services.month_start(today())), status


@bp.get("/meetings/<int:commune_id>/sheet")
@login_required
def meeting_sheet(commune_id: int):
    commune = _commune(commune_id)
    if "format" in request.args:
        fmt = check_format(request.args["format"], documents.MEETING_FORMATS)
        printed = documents.meeting_document(commune, check_month(request.args.get("month")))
        return send_document(printed.document, fmt, printed.display)
    month = month_arg()
    return render_template("supervision/meeting_sheet.html", commune=commune, month=month,
                           roster=services.meeting_roster(commune, month), meeting=services.get_meeting(commune, month),
                           station=next((f for f in services.facilities_serving(commune, month)
                                         if f.kind == FacilityKind.STATION), None))

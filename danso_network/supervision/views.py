"""Supervision pages: chain, visits, overdue list, follow-ups, professional-direction links,
monthly meetings and the under-review list.

Every page loads its object through a ``get_*_or_404`` helper (404 unknown, 403 out of scope);
lists show only what lies in the user's scope (fail-closed). A POST makes one service call and
commits once; a :class:`DomainError` rolls back and is shown on the form with the input kept, so
nothing changes (DESIGN.md §4). The supervisor of a visit is the logged-in user.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_sqlalchemy.pagination import Pagination
from werkzeug.routing import BuildError

from ..auth.models import User
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
from ..errors import DomainError
from ..extensions import db
from ..units.models import AdminUnit, FacilityKind, UnitLevel
from ..units.views import _parse_vn_date
from . import services
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

PER_PAGE = 50
PRINT_LIMIT = 10_000  # "show all for printing" still has a ceiling
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


def profile_data(collaborator: Collaborator) -> dict:
    """What the profile's supervision section shows: the chain today, the last visits with their
    scores, open follow-ups, the last meetings (attended, P0 slip)."""
    today = services.today()
    return {
        "chain": services.supervision_chain_for(collaborator, today),
        "visits": services.recent_visits(collaborator),
        "follow_ups": services.open_follow_ups(scope_of(current_user).prefixes, today,
                                               collaborator_id=collaborator.id),
        "meetings": services.recent_attendance(collaborator),
        "can_record": can_record_for_collaborator(current_user, collaborator),
    }


@bp.app_context_processor
def _profile_helpers():
    return {"supervision_profile": profile_data, "supervision_collaborator_url": collaborator_url,
            "CHECKLIST_LABELS": CHECKLIST_LABELS, "LINK_KIND_LABELS": LINK_KIND_LABELS,
            "CHAIN_LEVEL_LABELS": CHAIN_LEVEL_LABELS, "supervision_score_colour": score_colour}


# --- loading, dates, pagination ------------------------------------------------------------------


def get_collaborator_or_404(collaborator_id: int, need=can_view_collaborator) -> Collaborator:
    collaborator = db.session.get(Collaborator, collaborator_id)
    if collaborator is None:
        abort(404)
    require(need(current_user, collaborator))
    return collaborator


def get_visit_or_404(visit_id: int, need=can_view_visit) -> SupervisionVisit:
    visit = db.session.get(SupervisionVisit, visit_id)
    if visit is None:
        abort(404)
    require(need(current_user, visit))
    return visit


def get_commune_or_404(commune_id: int, need=None) -> AdminUnit:
    """The commune, or 404 (unknown, or not a commune); 403 unless ``need`` (default: in scope)."""
    commune = db.session.get(AdminUnit, commune_id)
    if commune is None:
        abort(404)
    require(need(current_user, commune) if need else can_view_path(current_user, commune.path))
    if commune.level != UnitLevel.COMMUNE:
        abort(404)
    return commune


def _actor() -> User:
    return current_user._get_current_object()


def _date_arg(name: str, default: date | None = None) -> date | None:
    """A date query parameter (YYYY-MM-DD or dd/mm/yyyy); a bad value is flashed and ignored."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    for parse in (date.fromisoformat, _parse_vn_date):
        try:
            return parse(raw)
        except ValueError:
            pass
    flash(_("Ngày “%(v)s” không hợp lệ; đã bỏ qua.", v=raw[:30]), "warning")
    return default


def _month_arg() -> date:
    raw = request.args.get("month", "").strip()
    if raw:
        try:
            year, month = (int(x) for x in raw.split("-")[:2])
            if not 1900 <= year <= 2100:  # the months around it must exist too
                raise ValueError(raw)
            return date(year, month, 1)
        except ValueError:
            flash(_("Tháng “%(v)s” không hợp lệ; đang dùng tháng hiện tại.", v=raw[:30]), "warning")
    return services.month_start(services.today())


class ListPagination(Pagination):
    """Pagination over a computed Python list."""

    def _query_items(self):
        start = self._query_offset
        return self._query_args["items"][start:start + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["items"])


def _paginate(rows: list):
    show_all = request.args.get("all") == "1"
    return ListPagination(items=rows, page=1 if show_all else request.args.get("page", 1, type=int),
                          per_page=PRINT_LIMIT if show_all else PER_PAGE, error_out=False)


def _scope_prefixes() -> tuple[list[str], AdminUnit | None]:
    """The user's prefixes, narrowed to one commune of theirs when ``?commune=`` names one."""
    prefixes = scope_of(current_user).prefixes
    commune_id = request.args.get("commune", type=int)
    commune = db.session.get(AdminUnit, commune_id) if commune_id else None
    if commune is not None and commune.level == UnitLevel.COMMUNE and can_view_path(current_user, commune.path):
        return [commune.path], commune
    return prefixes, None


# --- dashboard and chain -------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    prefixes = scope_of(current_user).prefixes
    today = services.today()
    counts = {"overdue": len(services.overdue_visits(prefixes, today)),
              "follow_ups": services.open_follow_ups(prefixes, today),
              "under_review": len(services.under_review(prefixes, today))}
    counts["follow_ups_late"] = sum(1 for r in counts["follow_ups"] if r.overdue)
    counts["follow_ups"] = len(counts["follow_ups"])
    communes = services.communes_in(prefixes, today)
    page = _paginate(communes)
    return render_template("supervision/index.html", counts=counts, page=page, today=today,
                           can_record_at=can_record_at, can_manage_links=can_manage_links)


@bp.get("/chain/<int:collaborator_id>")
@login_required
def chain(collaborator_id: int):
    collaborator = get_collaborator_or_404(collaborator_id)
    on = _date_arg("on", services.today())
    return render_template("supervision/chain.html", collaborator=collaborator,
                           chain=services.supervision_chain_for(collaborator, on), on=on,
                           profile_url=collaborator_url(collaborator.id))


# --- visits -------------------------------------------------------------------------------------


@bp.get("/visits")
@login_required
def visits():
    prefixes, commune = _scope_prefixes()
    date_from, date_to = _date_arg("from"), _date_arg("to")
    supervisor_id = request.args.get("supervisor", type=int)
    q = request.args.get("q", "").strip()[:100]
    stmt = services.visits_query(prefixes, date_from=date_from, date_to=date_to, supervisor_id=supervisor_id, q=q)
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("supervision/visits.html", page=page, date_from=date_from, date_to=date_to,
                           supervisor_id=supervisor_id, q=q, supervisors=services.supervisors_in(prefixes),
                           commune=commune)


@bp.route("/visits/new/<int:collaborator_id>", methods=["GET", "POST"])
@login_required
def new_visit(collaborator_id: int):
    collaborator = get_collaborator_or_404(collaborator_id, need=can_record_for_collaborator)
    form = VisitForm()
    if form.validate_on_submit():
        try:
            visit = services.record_visit(
                collaborator, supervisor=_actor(), visited_on=form.visited_on.data, checklist=form.checklist(),
                findings=form.findings.data, follow_up=form.follow_up.data, follow_up_due=form.follow_up_due.data,
                actor=_actor())
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
        else:
            db.session.commit()
            flash(_("Đã lưu phiếu giám sát %(n)s ngày %(d)s: %(s)d điểm.", n=collaborator.full_name,
                    d=visit.visited_on.strftime("%d/%m/%Y"), s=visit.score), "success")
            return redirect(url_for(".visit", visit_id=visit.id))
    status = 422 if request.method == "POST" else 200
    today = services.today()
    return render_template("supervision/visit_form.html", form=form, collaborator=collaborator,
                           chain=services.supervision_chain_for(collaborator, today),
                           last=services.recent_visits(collaborator, limit=3)), status


@bp.get("/visits/<int:visit_id>")
@login_required
def visit(visit_id: int):
    visit = get_visit_or_404(visit_id)
    return render_template("supervision/visit.html", visit=visit, answers=ANSWERS,
                           chain=services.supervision_chain_for(visit.collaborator, visit.visited_on),
                           can_close=visit.follow_up is not None and visit.follow_up_closed_on is None
                           and can_close_follow_up(current_user, visit),
                           profile_url=collaborator_url(visit.collaborator_id))


@bp.route("/visits/<int:visit_id>/close-follow-up", methods=["GET", "POST"])
@login_required
def close_follow_up(visit_id: int):
    visit = get_visit_or_404(visit_id, need=can_close_follow_up)
    form = CloseFollowUpForm()
    if form.validate_on_submit():
        try:
            services.close_follow_up(visit, closed_on=form.closed_on.data, result=form.result.data, actor=_actor())
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
        else:
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
    as_of = _date_arg("as_of", services.today())
    rows = services.overdue_visits(prefixes, as_of)
    return render_template("supervision/overdue.html", page=_paginate(rows), total=len(rows), as_of=as_of,
                           commune=commune, communes=services.communes_in(scope_of(current_user).prefixes, as_of),
                           can_record=lambda row: bool(scope_of(current_user).roles_at(row.hamlet_path)
                                                       & RECORDING_ROLES))


@bp.get("/follow-ups")
@login_required
def follow_ups():
    prefixes, commune = _scope_prefixes()
    as_of = _date_arg("as_of", services.today())
    rows = services.open_follow_ups(prefixes, as_of)
    return render_template("supervision/follow_ups.html", page=_paginate(rows), total=len(rows),
                           late=sum(1 for r in rows if r.overdue), as_of=as_of, commune=commune,
                           communes=services.communes_in(scope_of(current_user).prefixes, as_of),
                           can_close=lambda v: can_close_follow_up(current_user, v))


@bp.get("/under-review")
@login_required
def under_review():
    prefixes, commune = _scope_prefixes()
    as_of = _date_arg("as_of", services.today())
    rows = services.under_review(prefixes, as_of)
    return render_template("supervision/under_review.html", page=_paginate(rows), total=len(rows), as_of=as_of,
                           commune=commune, communes=services.communes_in(scope_of(current_user).prefixes, as_of))


# --- professional-direction links ------------------------------------------------------------------


@bp.route("/links/<int:commune_id>", methods=["GET", "POST"])
@login_required
def links(commune_id: int):
    commune = get_commune_or_404(commune_id)
    may_manage = can_manage_links(current_user, commune)
    form = LinkForm()
    if request.method == "POST":
        require(may_manage)
        if form.validate_on_submit():
            try:
                link = services.set_professional_link(commune, actor=_actor(), **form.link_fields())
            except DomainError as e:
                db.session.rollback()
                form.show_domain_error(e)
            else:
                db.session.commit()
                flash(_("Đã ghi %(p)s phụ trách chuyên môn CTV tại %(c)s từ %(d)s.", p=link.person_name,
                        c=commune.full_name, d=link.valid_from.strftime("%d/%m/%Y")), "success")
                return redirect(url_for(".links", commune_id=commune.id))
    today = services.today()
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/links.html", commune=commune, form=form, may_manage=may_manage,
                           current=services.links_on(commune, today), history=services.link_history(commune),
                           today=today), status


@bp.route("/links/<int:commune_id>/end", methods=["GET", "POST"])
@login_required
def end_link(commune_id: int):
    commune = get_commune_or_404(commune_id, need=can_manage_links)
    link_id = request.values.get("link_id", type=int)
    link = db.session.get(ProfessionalLink, link_id) if link_id else None
    if link is None or link.commune_id != commune.id:
        abort(404)
    form = EndLinkForm(link_id=str(link.id))
    if form.validate_on_submit():
        try:
            services.end_professional_link(link, valid_to=form.valid_to.data, actor=_actor())
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
        else:
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
    commune = get_commune_or_404(commune_id)
    page = db.paginate(services.meetings_query(commune), page=request.args.get("page", 1, type=int),
                       per_page=PER_PAGE, error_out=False)
    summaries = services.summarise_meetings(page.items)
    this_month = services.month_start(services.today())
    return render_template("supervision/meetings.html", commune=commune, page=page, summaries=summaries,
                           this_month=this_month, may_record=can_record_at(current_user, commune),
                           roster_now=len(services.meeting_roster(commune, this_month)))


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
    commune = get_commune_or_404(commune_id, need=can_record_at)
    month = _month_arg()
    roster = services.meeting_roster(commune, month)
    meeting = services.get_meeting(commune, month)
    form = MeetingForm(obj=meeting)
    posted = None
    if form.validate_on_submit():
        posted = _attendance_from_request()
        try:
            services.record_meeting(commune, month=month, held_on=form.held_on.data, attendance=posted,
                                    note=form.note.data, actor=_actor())
        except DomainError as e:
            db.session.rollback()
            form.show_domain_error(e)
        else:
            db.session.commit()
            flash(_("Đã lưu điểm danh giao ban tháng %(m)s của %(c)s.", m=month.strftime("%m/%Y"),
                    c=commune.full_name), "success")
            return redirect(url_for(".meetings", commune_id=commune.id))
    elif request.method == "POST":
        posted = _attendance_from_request()
    status = 422 if request.method == "POST" else 200
    return render_template("supervision/meeting_form.html", commune=commune, month=month, roster=roster,
                           meeting=meeting, form=form, posted=posted,
                           previous=services.previous_month(month), following=services.next_month(month),
                           this_month=services.month_start(services.today())), status


@bp.get("/meetings/<int:commune_id>/sheet")
@login_required
def meeting_sheet(commune_id: int):
    commune = get_commune_or_404(commune_id)
    month = _month_arg()
    return render_template("supervision/meeting_sheet.html", commune=commune, month=month,
                           roster=services.meeting_roster(commune, month), meeting=services.get_meeting(commune, month),
                           station=next((f for f in services.facilities_serving(commune, month)
                                         if f.kind == FacilityKind.STATION), None))

"""Selection workflow pages: vacancies, applications and their timeline, one form per allowed
action, the station's submission list, the approver's batch decisions and recognition decisions (whose
page also answers ``?format=pdf|xlsx`` with its annex as a file, :mod:`.documents`).

Every page loads its application through :func:`load_or_404` (404 unknown, 403 out of scope). A
POST checks the user's role for the action (403 if the role may never take it), makes one service
call through :func:`run_service` (or one batch through the services) and commits once; a
:class:`DomainError` rolls back and is shown on the form with the input kept, so nothing changes
(DESIGN.md §4). Lists are counted and paginated by the database (``common.paging``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..auth.models import Role, User
from ..auth.permissions import require, scope_of
from ..auth.personal_data import personal_data_areas, visible_in_decision
from ..common import clock
from ..common.paging import paginate
from ..common.params import choice_arg, int_arg, page_arg
from ..common.views import actor, load_or_404, run_service
from ..errors import PermissionDenied, ValidationFailed
from ..exports.services import check_format
from ..exports.views import send_document
from ..extensions import db
from ..textnorm import fold
from ..training.services import population_training
from ..units.models import AdminUnit, UnitLevel
from ..units.services import in_areas, province_id_of, provinces_of, valid_on
from . import documents, rules, services
from .attachment_views import panel_data
from .forms import ALLOWANCE_TIERS, BatchForm, CandidateForm, DecisionForm, DossierForm, transition_form
from .labels import (
    ACTION_LABELS,
    APPROVER_LABELS,
    DOSSIER_LABELS,
    EDUCATION_LABELS,
    EVENT_LABELS,
    SEX_LABELS,
    STATE_COLOURS,
    STATE_LABELS,
)
from .models import DOSSIER_ITEMS, Application, Candidate, Education, RecognitionDecision
from .permissions import (
    can_edit_dossier,
    can_nominate,
    can_nominate_somewhere,
    can_take,
    can_view_application,
    can_view_decision,
)
from .workflow import Action, Approver, State, actions_from

bp = Blueprint("recruitment", __name__, url_prefix="/recruitment")

APPROVER_ROLES = services.APPROVER_ROLES
DECIDING_ROLES = APPROVER_ROLES | {Role.COMMUNE_COMMITTEE}
STATE_VALUES = frozenset(s.value for s in State)


@bp.context_processor
def labels():
    return {"STATE_LABELS": STATE_LABELS, "STATE_COLOURS": STATE_COLOURS, "ACTION_LABELS": ACTION_LABELS,
            "EVENT_LABELS": EVENT_LABELS, "DOSSIER_LABELS": DOSSIER_LABELS, "DOSSIER_ITEMS": DOSSIER_ITEMS,
            "EDUCATION_LABELS": EDUCATION_LABELS, "SEX_LABELS": SEX_LABELS, "RULES": rules.RULES,
            "APPROVER_LABELS": APPROVER_LABELS, "State": State, "Action": Action,
            "can_nominate_somewhere": can_nominate_somewhere}


# --- loading and permission helpers -----------------------------------------------------------------


def application_or_404(application_id: int) -> Application:
    return load_or_404(Application, application_id, need=can_view_application)


def require_may(application: Application, action: Action) -> None:
    require(can_take(current_user, application, action))


def _in_scope(*states: State):
    return (select(Application).join(Candidate)
            .where(in_areas(scope_of(current_user).prefixes, Application.hamlet_path),
                   Application.state.in_([s.value for s in states]))
            .options(selectinload(Application.candidate), selectinload(Application.hamlet)))


@dataclass(frozen=True)
class AreaChoice:
    """The lists' area filter. A scope within one province offers its communes; a wider one (a
    national user: 34 provinces, thousands of communes) offers its provinces, then the communes
    of the chosen province only, so that no page carries every commune of the country."""

    prefixes: list[str]  # the scope, narrowed to the chosen province
    provinces: list[AdminUnit]  # offered; empty when the scope lies in one province
    province: AdminUnit | None  # the chosen one
    communes: list  # (id, full_name) rows offered
    commune_id: int | None  # as asked (None once another province is chosen)
    commune: AdminUnit | None  # the commune of that id, if it is one

    @property
    def province_id(self) -> int | None:
        return self.province.id if self.province is not None else None

    @property
    def within(self) -> str | None:
        """The path the list is narrowed to: the commune's, else the chosen province's."""
        if self.commune is not None:
            return self.commune.path
        return self.province.path if self.province is not None else None


def _communes_under(prefixes: list[str]) -> list:
    """The communes in force under ``prefixes``, as ``(id, full_name)`` rows by name."""
    if not prefixes:
        return []
    return list(db.session.execute(
        select(AdminUnit.id, AdminUnit.full_name)
        .where(AdminUnit.level == UnitLevel.COMMUNE.value, valid_on(AdminUnit, clock.today()),
               in_areas(prefixes, AdminUnit.path))
        .order_by(AdminUnit.name, AdminUnit.id)))


def _area_choice() -> AreaChoice:
    """The area filter of the query string (``province``, ``commune``) within the user's scope.
    A commune alone (a link from another list) selects its province. A commune outside the scope
    is kept as asked, and the list is empty; a commune of another province than the one chosen is
    dropped (the user changed the province); a province outside the scope is ignored."""
    prefixes = list(scope_of(current_user).prefixes)
    commune_id = int_arg("commune")
    commune = db.session.get(AdminUnit, commune_id) if commune_id else None
    if commune is not None and commune.level != UnitLevel.COMMUNE:
        commune = None
    provinces = provinces_of(prefixes)
    if len(provinces) <= 1:
        return AreaChoice(prefixes, [], None, _communes_under(prefixes), commune_id, commune)
    offered = {p.id: p for p in provinces}
    province_id = int_arg("province")
    if province_id not in offered:
        province_id = province_id_of(commune.path) if commune is not None else None
    if province_id not in offered:
        province_id = None
    if commune is not None and province_id and province_id_of(commune.path) != province_id:
        commune_id, commune = None, None
    if province_id is None:
        return AreaChoice(prefixes, provinces, None, [], commune_id, commune)
    narrowed = [p for p in prefixes if province_id_of(p) == province_id]
    return AreaChoice(narrowed, provinces, offered[province_id], _communes_under(narrowed), commune_id, commune)


# --- vacancies and applications ----------------------------------------------------------------------


@bp.get("/vacancies")
@login_required
def vacancies():
    area = _area_choice()
    filters = services.VacancyFilters(clock.today(), commune_id=area.commune_id,
                                      q=request.args.get("q", "").strip()[:100] or None)
    page, totals = services.vacancy_page(area.prefixes, filters, *page_arg())
    return render_template("recruitment/vacancies.html", page=page, area=area, commune_id=filters.commune_id,
                           q=filters.q or "", totals=totals, can_nominate=can_nominate,
                           no_criteria=services.provinces_without_criteria(area.prefixes, filters.on))


@bp.get("/applications")
@login_required
def applications():
    state = choice_arg("state", STATE_VALUES, "")
    q = request.args.get("q", "").strip()[:100]
    area = _area_choice()
    prefixes = scope_of(current_user).read_prefixes  # with the history of the user's units (read-only)
    counts = services.application_counts(prefixes)
    # Unfiltered but for the state, the total is one of the counts shown above the list.
    total = None if (area.within or q) else (counts.get(state, 0) if state else sum(counts.values()))
    page = paginate(services.applications_query(prefixes, state=state or None, within=area.within, q=q,
                                                cccd_areas=personal_data_areas(current_user)),
                    *page_arg(), total=total)
    return render_template("recruitment/applications.html", page=page, state=state, area=area,
                           commune_id=area.commune_id, q=q, counts=counts)


@bp.route("/hamlets/<int:hamlet_id>/applications/new", methods=["GET", "POST"])
@login_required
def new_application(hamlet_id: int):
    hamlet = db.session.get(AdminUnit, hamlet_id)
    if hamlet is None or hamlet.level != UnitLevel.HAMLET:
        abort(404)
    require(can_nominate(current_user, hamlet))
    province = services.province_of(hamlet)
    criteria = services.criteria_for(province)
    if criteria is None:  # no form to fill in vain: the refusal, and where the criteria are set
        return render_template("recruitment/application_form.html", form=None, hamlet=hamlet, province=province,
                               refusal=services.no_criteria(province))
    form = CandidateForm()
    neighbours = db.session.scalars(
        select(AdminUnit).where(AdminUnit.parent_id == hamlet.parent_id, AdminUnit.level == UnitLevel.HAMLET.value,
                                valid_on(AdminUnit, clock.today())).order_by(AdminUnit.local_id, AdminUnit.name))
    form.residence_hamlet.choices = [SelectChoice(h.id, h.name) for h in neighbours]
    if request.method == "GET":
        form.residence_hamlet.data = hamlet.id
    if form.validate_on_submit():
        done = run_service(services.create_application, hamlet=hamlet,
                           residence_hamlet=db.session.get(AdminUnit, form.residence_hamlet.data),
                           actor=actor(), **form.candidate_fields(), form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã lập hồ sơ ứng viên %(n)s cho %(h)s. Tiếp theo: cập nhật hồ sơ giấy tờ.",
                    n=done.value.candidate.full_name, h=hamlet.name), "success")
            return redirect(url_for(".show", application_id=done.value.id))
    return render_template("recruitment/application_form.html", form=form, hamlet=hamlet, criteria=criteria)


# --- one application ------------------------------------------------------------------------------


def _manual_codes(application: Application) -> list[str]:
    criteria = application.criteria_set
    enabled = criteria.enabled_rules if criteria else rules.MANUAL_CODES
    return [c for c in rules.MANUAL_CODES if c in enabled]


def _action_form(application: Application, action: Action, *, bound: bool = False):
    criteria = application.criteria_set
    override = bool(action == Action.APPROVE and application.screening_passed is False
                    and criteria is not None and criteria.allow_override)
    kw = {} if bound else {"version": application.version}
    return transition_form(action, manual_codes=_manual_codes(application), with_override=override, bound=bound,
                           **kw)


def _dossier_mode(application: Application) -> str | None:
    """``full`` while the dossier is open. The population-work training of the primary-school
    exception is recorded as an attendance on the training pages, not here."""
    if not can_edit_dossier(current_user, application):
        return None
    return "full" if State(application.state) in services.DOSSIER_EDITABLE else None


def _render_show(application: Application, *, failed=None, dossier_form=None):
    actions = services.available_actions(current_user, application)
    waiting = [a for a in actions_from(State(application.state)) if a not in actions and a != Action.WITHDRAW]
    forms = {a: failed if failed is not None and failed.action == a else _action_form(application, a)
             for a in actions}
    if dossier_form is None:
        dossier_form = DossierForm(formdata=None)
        dossier_form.fill(application)
    actor_ids = {e.actor_id for e in application.events if e.actor_id}
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    candidate = application.candidate
    below_thcs = Education(candidate.education).rank < Education.LOWER_SECONDARY.rank
    province = services.province_of(application.hamlet)
    criteria_now = services.criteria_for(province)
    return render_template(
        "recruitment/show.html", application=application, candidate=candidate, hamlet=application.hamlet,
        actions=actions, waiting=waiting, forms=forms, failed=failed, dossier_form=dossier_form,
        dossier_mode=_dossier_mode(application), actors=actors, manual_codes=_manual_codes(application),
        below_thcs=below_thcs, allowance_tiers=ALLOWANCE_TIERS,
        approver=Approver(criteria_now.approver) if criteria_now else None, criteria_now=criteria_now,
        no_criteria=None if criteria_now else services.no_criteria(province),
        population_training=population_training(candidate, current_user) if below_thcs else None,
        panel=panel_data(application))


def _approver_of(application: Application):
    criteria = services.criteria_for(services.province_of(application.hamlet))
    return Approver(criteria.approver) if criteria else None


@bp.get("/applications/<int:application_id>")
@login_required
def show(application_id: int):
    return _render_show(application_or_404(application_id))


def _refused(application: Application, shown: dict, error):
    """After a refused change (``run_service`` has rolled back): invalid input is shown on the
    form that failed (``shown``: the page's form argument, input kept); a refusal of the move
    itself (someone acted first, the move no longer exists) is flashed on the page; a role
    refusal is a 403."""
    if isinstance(error, PermissionDenied):
        abort(403)
    if isinstance(error, ValidationFailed):
        return _render_show(application, **shown)
    flash(str(error), "danger")
    return redirect(url_for(".show", application_id=application.id))


@bp.post("/applications/<int:application_id>/transitions")
@login_required
def transition(application_id: int):
    application = application_or_404(application_id)
    try:
        action = Action(request.form.get("action", ""))
    except ValueError:
        abort(400)
    require_may(application, action)
    form = _action_form(application, action, bound=True)
    if not form.validate_on_submit():
        return _render_show(application, failed=form)
    if form.version.data != str(application.version):
        flash(str(services.CONCURRENT_CHANGE), "warning")
        return redirect(url_for(".show", application_id=application.id))
    done = run_service(services.perform, application, action, actor=actor(), comment=form.comment_text,
                       **form.payload(), form=form)
    if not done.ok:
        return _refused(application, {"failed": form}, done.error)
    db.session.commit()
    flash(_("Đã thực hiện “%(a)s” cho hồ sơ của %(n)s.", a=ACTION_LABELS[action],
            n=application.candidate.full_name), "success")
    return redirect(url_for(".show", application_id=application.id))


@bp.post("/applications/<int:application_id>/dossier")
@login_required
def update_dossier(application_id: int):
    application = application_or_404(application_id)
    require(can_edit_dossier(current_user, application))
    form = DossierForm()
    if not form.validate_on_submit():
        return _render_show(application, dossier_form=form)
    if form.version.data != str(application.version):
        flash(str(services.CONCURRENT_CHANGE), "warning")
        return redirect(url_for(".show", application_id=application.id))
    if _dossier_mode(application) != "full":
        flash(_("Hồ sơ ở trạng thái này không còn sửa được."), "warning")
        return redirect(url_for(".show", application_id=application.id))
    done = run_service(services.update_dossier, application, items=form.items(),
                       application_signed_on=form.application_signed_on.data,
                       exception_justification=form.exception_justification.data, actor=actor(), form=form)
    if not done.ok:
        return _refused(application, {"dossier_form": form}, done.error)
    db.session.commit()
    flash(_("Đã lưu hồ sơ của %(n)s.", n=application.candidate.full_name), "success")
    return redirect(url_for(".show", application_id=application.id))


# --- batches: the station's list, the approver's decisions -----------------------------------------


def _selected_applications(action: Action) -> list[Application]:
    apps = [application_or_404(i) for i in dict.fromkeys(request.form.getlist("application", type=int))]
    for application in apps:
        require_may(application, action)
    return apps


@bp.route("/submit", methods=["GET", "POST"])
@login_required
def submit_batch():
    require(Role.STATION_HEAD in scope_of(current_user).all_roles)
    rows = [a for a in db.session.scalars(_in_scope(State.STATION_REVIEWED))
            if Action.SUBMIT in services.available_actions(current_user, a)]
    rows.sort(key=lambda a: (a.hamlet_path, a.ranking or 10**6, fold(a.candidate.full_name)))
    form = BatchForm()
    selected = set(request.form.getlist("application", type=int))
    if form.validate_on_submit():
        apps = _selected_applications(Action.SUBMIT)
        if _run_batch(services.perform_many, apps, Action.SUBMIT, actor=actor(),
                      comment=form.comment.data or None).ok:
            flash(_("Đã trình phê duyệt %(n)d hồ sơ.", n=len(apps)), "success")
            return redirect(url_for(".applications", state=State.SUBMITTED.value))
    return render_template("recruitment/submit_batch.html", rows=rows, form=form, selected=selected,
                           approvers={a.id: _approver_of(a) for a in rows})


def _pending_decisions() -> list[tuple[Application, list[Action]]]:
    rows = []
    for application in db.session.scalars(_in_scope(State.SUBMITTED, State.DIRECTOR_APPROVED)):
        actions = [a for a in services.available_actions(current_user, application)
                   if a in (Action.APPROVE, Action.CONFIRM, Action.REJECT)]
        if actions:
            rows.append((application, actions))
    rows.sort(key=lambda r: (r[0].hamlet_path, r[0].ranking or 10**6, fold(r[0].candidate.full_name)))
    return rows


def _chosen() -> list[tuple[Application, str, str | None]]:
    """The approver's choices from the form, each checked against the user's roles (403)."""
    choices = []
    for key, choice in request.form.items():
        if not key.startswith("choice-") or choice not in ("approve", "reject"):
            continue
        try:
            application = application_or_404(int(key.removeprefix("choice-")))
        except ValueError:
            abort(400)
        if choice == "reject":
            require_may(application, Action.REJECT)
            choices.append((application, choice, request.form.get(f"reason-{application.id}")))
        else:
            confirm = application.state == State.DIRECTOR_APPROVED
            require_may(application, Action.CONFIRM if confirm else Action.APPROVE)
            choices.append((application, choice, None if confirm else request.form.get(f"override-{application.id}")))
    return choices


def _run_batch(service, *args, **kwargs):
    """Run one batch service call: commit on success; a refusal is rolled back and flashed (a
    role refusal is a 403)."""
    done = run_service(service, *args, **kwargs)
    if done.status == 403:
        abort(403)
    if done.ok:
        db.session.commit()
    return done


@bp.route("/approvals", methods=["GET", "POST"])
@login_required
def approvals():
    require(bool(scope_of(current_user).all_roles & DECIDING_ROLES))
    form = BatchForm()
    if form.validate_on_submit():
        done = _run_batch(services.decide_batch, _chosen(), actor=actor())
        if done.ok:
            approved, rejected = done.value
            flash(_("Đã phê duyệt %(a)d và từ chối %(r)d hồ sơ.", a=approved, r=rejected), "success")
            if approved and _issuable():
                return redirect(url_for(".new_decision"))
            return redirect(url_for(".approvals"))
    groups: dict[int, list] = defaultdict(list)
    for application, actions in _pending_decisions():
        groups[application.hamlet.parent_id].append((application, actions))
    communes = {c.id: c for c in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(groups)))}
    return render_template("recruitment/approvals.html", form=form, groups=groups, communes=communes,
                           chosen=request.form if request.method == "POST" else {})


def _issuable() -> list[Application]:
    """Approved applications without a decision that this user may put in one (their approver)."""
    return [a for a in db.session.scalars(_in_scope(State.APPROVED).where(Application.decision_id.is_(None)))
            if Action.CONTRACT in services.available_actions(current_user, a)]


@bp.route("/decisions/new", methods=["GET", "POST"])
@login_required
def new_decision():
    require(bool(scope_of(current_user).all_roles & APPROVER_ROLES))
    rows = _issuable()
    rows.sort(key=lambda a: (a.hamlet_path, fold(a.candidate.full_name)))
    form = DecisionForm()
    selected = set(request.form.getlist("application", type=int)) if request.method == "POST" else {a.id for a in rows}
    if form.validate_on_submit():
        apps = _selected_applications(Action.CONTRACT)
        issuer_name, facility = services.decision_issuer(actor(), apps)
        done = run_service(services.issue_decision, apps, number=form.number.data, issued_on=form.issued_on.data,
                           signer_name=form.signer_name.data, signer_title=form.signer_title.data,
                           issuer_name=issuer_name, issuer_facility=facility, actor=actor(), form=form)
        if done.status == 403:
            abort(403)
        if done.ok:
            db.session.commit()
            flash(_("Đã ban hành Quyết định số %(n)s công nhận %(c)d cộng tác viên.", n=done.value.number,
                    c=len(apps)), "success")
            return redirect(url_for(".decision", decision_id=done.value.id))
    return render_template("recruitment/decision_form.html", form=form, rows=rows, selected=selected)


@bp.get("/decisions")
@login_required
def decisions():
    page = paginate(services.decisions_query(scope_of(current_user).read_prefixes), *page_arg())
    return render_template("recruitment/decisions.html", page=page,
                           can_issue=bool(scope_of(current_user).all_roles & APPROVER_ROLES))


@bp.get("/decisions/<int:decision_id>")
@login_required
def decision(decision_id: int):
    """The decision and its annex; ``?format=pdf|xlsx``: the annex as a file (:mod:`.documents`),
    after the page's own check (404 unknown, 403 out of scope; another format is a 400)."""
    decision = load_or_404(RecognitionDecision, decision_id, need=can_view_decision)
    if "format" in request.args:
        fmt = check_format(request.args.get("format"), documents.FORMATS)
        annex = documents.annex_document(decision, current_user, printed=fmt == "pdf")
        return send_document(annex, fmt, documents.display_name(decision))
    communes = {a.hamlet.parent_id for a in decision.applications}
    parents = {u.id: u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(communes)))}
    return render_template("recruitment/decision.html", decision=decision, communes=parents,
                           shown=visible_in_decision(current_user, decision))

"""The JSON API, version 1 (DESIGN.md §6; issue #3 item 8).

Every endpoint but the OpenAPI document and the token request needs ``Authorization: Bearer``.
A view: authenticate → load the object and check scope (404 unknown, 403 out of scope) → parse the
body's shape (:mod:`.schemas`) → ONE service call → commit once → serialise. A
:class:`~danso_network.errors.DomainError` rolls everything back and becomes
``{"error": "...", "status": N}`` (plus ``field`` and ``problems`` for invalid input).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ..auth import services as auth_services
from ..auth.permissions import can_view_unit, scope_of
from ..auth.throttle import password_guesses, signed_in
from ..common import clock
from ..common.paging import paginate
from ..common.views import load_or_404
from ..errors import (
    RETRY_AFTER_SECONDS,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    database_message,
    rollback_quietly,
    without_database,
)
from ..extensions import db
from ..recruitment import services
from ..recruitment.models import Application
from ..recruitment.permissions import can_edit_dossier, can_nominate, can_view_application
from ..units.models import AdminUnit, UnitLevel
from ..units.services import find_unit_by_code
from . import auth, queries, schemas
from .openapi import document
from .permissions import can_see_applicant_data, personal_data_areas

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CONCURRENT = _l("Hồ sơ vừa được người khác xử lý cùng lúc; thao tác của bạn chưa được lưu. "
                "Vui lòng đọc lại hồ sơ để xem trạng thái mới.")


# --- errors, commits, loading -------------------------------------------------------------------


@bp.errorhandler(DomainError)
def domain_error(e: DomainError):
    db.session.rollback()
    problems = (e.problems or [str(e)]) if isinstance(e, ValidationFailed) else None
    response = jsonify(schemas.error(e.status, e, problems=problems, field=schemas.api_field(e.field)))
    if isinstance(e, auth.Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="danso"'
    return response, e.status


@bp.errorhandler(StaleDataError)
def stale(e):
    """A version clash the services did not see first (e.g. found at commit)."""
    return domain_error(Conflict(CONCURRENT))


@bp.errorhandler(OperationalError)
def busy(e):
    """The database could not serve the request now (SQLite: another writer held the lock past the
    busy timeout; PostgreSQL: restarting or down). The answer is "busy" or "unavailable, try
    again" (``errors.database_message``) with ``Retry-After`` — 503, as the pages answer
    (errors.py) — and never "someone else processed this record": the request may be about no
    record at all (a token request). A clash on a record is found by the services and is their 409."""
    rollback_quietly()
    current_app.logger.warning("database unavailable: %s", e.orig)
    response = without_database(lambda: jsonify(schemas.error(503, database_message(e))))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503


@bp.errorhandler(IntegrityError)
def clash(e):
    """A database constraint refused a write the services let through (two people recording the
    same thing at the same moment): a 409, never a 500; nothing was saved."""
    return domain_error(Conflict(_l("Dữ liệu vừa được người khác ghi cùng lúc; thao tác của bạn chưa được lưu. "
                                    "Vui lòng tải lại dữ liệu và thử lại.")))


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def actor():
    return g.api_user


def application_or_404(application_id: int, need=can_view_application) -> Application:
    return load_or_404(Application, application_id, need, user=actor(), missing=_l("Không tìm thấy hồ sơ."),
                       denied=_l("Bạn không có quyền xem hoặc thay đổi hồ sơ này."))


def hamlet_or_404(hamlet_id: int) -> AdminUnit:
    return load_or_404(AdminUnit, hamlet_id, missing=_l("Không tìm thấy thôn/tổ dân phố."),
                       where=lambda u: u.level == UnitLevel.HAMLET)


def commune_from_args() -> AdminUnit | None:
    """The ``commune`` query parameter (its 5-digit code), in the caller's scope."""
    code = request.args.get("commune", "").strip()
    if not code:
        return None
    commune = find_unit_by_code(code)
    if commune is None or commune.level != UnitLevel.COMMUNE:
        raise NotFound(_l("Không tìm thấy xã/phường có mã %(c)s.", c=code[:10]))
    if not can_view_unit(actor(), commune):
        raise PermissionDenied(_l("Xã/phường này nằm ngoài phạm vi của bạn."))
    return commune


def detail(application: Application) -> dict:
    return schemas.application_detail(application, services.available_actions(actor(), application),
                                      personal_data=can_see_applicant_data(actor(), application))


# --- tokens and the document --------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.post("/auth/token")
@password_guesses  # the same allowance as the login page: guesses on both add up
def create_token():
    data = schemas.parse(schemas.TOKEN_REQUEST)
    user = auth_services.authenticate(data["username"], data["password"])
    if user is None:
        auth_services.note_failed_login(data["username"])
        db.session.commit()
        raise auth.Unauthorized(_l("Tên đăng nhập hoặc mật khẩu không đúng."))
    token, raw = auth.issue_token(user, name=data.get("name"))
    db.session.commit()
    signed_in()
    return jsonify(token=raw, token_type="Bearer", name=token.name,  # nosec B106 # the scheme's name, no secret
                   expires_at=schemas.timestamp(token.expires_at)), 201


@bp.delete("/auth/token")
@auth.token_required
def revoke_token():
    auth.revoke_token(g.api_token, actor=actor())
    db.session.commit()
    return jsonify(revoked=True, message=str(_l("Đã thu hồi mã truy cập.")))


# --- vacancies and applications -----------------------------------------------------------------


@bp.get("/vacancies")
@auth.token_required
def vacancies():
    """Hamlets below their quota today, a page at a time (``page``, ``per_page``), with the
    totals of the whole list: ``total`` hamlets, ``empty`` (nobody in post), ``missing``,
    ``unknown`` (hamlets listed for having nobody whose quota is null: their province, in
    ``no_criteria``, has no recruitment criteria in force)."""
    commune = commune_from_args()
    prefixes = [commune.path] if commune else scope_of(actor()).prefixes
    filters = services.VacancyFilters(clock.today())
    page, totals = services.vacancy_page(prefixes, filters, *schemas.query_page())
    return jsonify(schemas.page_json(page, schemas.vacancy, as_of=filters.on.isoformat(), empty=totals.empty,
                                     missing=totals.missing, unknown=totals.unknown,
                                     no_criteria=[schemas.unit(p) for p in
                                                  services.provinces_without_criteria(prefixes, filters.on)]))


@bp.get("/applications")
@auth.token_required
def applications():
    state = request.args.get("state", "").strip() or None
    if state is not None and state not in schemas.STATES:
        raise ValidationFailed(_l("Trạng thái “%(s)s” không tồn tại; dùng một trong: %(c)s.", s=state[:40],
                                  c=", ".join(schemas.STATES)), field="state")
    commune = commune_from_args()
    stmt = services.applications_query(scope_of(actor()).read_prefixes, state=state,
                                       within=commune.path if commune else None, q=request.args.get("q"),
                                       cccd_areas=personal_data_areas(actor()))
    return jsonify(schemas.page_json(paginate(stmt, *schemas.query_page()), schemas.application_summary))


@bp.post("/applications")
@auth.token_required
def create_application():
    data = schemas.parse(schemas.APPLICATION_CREATE)
    hamlet = hamlet_or_404(data.pop("hamlet_id"))
    if not can_nominate(actor(), hamlet):
        raise PermissionDenied(_l("Bạn không được giới thiệu ứng viên cho %(h)s.", h=hamlet.full_name))
    residence = db.session.get(AdminUnit, data.pop("residence_hamlet_id"))
    if residence is None or residence.level != UnitLevel.HAMLET:
        raise ValidationFailed(_l("Không tìm thấy thôn/tổ dân phố nơi cư trú."), field="residence_hamlet_id")
    application = services.create_application(hamlet=hamlet, residence_hamlet=residence, actor=actor(), **data)
    db.session.commit()
    return jsonify(detail(application)), 201, {"Location": url_for(".application", application_id=application.id)}


@bp.get("/applications/<int:application_id>")
@auth.token_required
def application(application_id: int):
    return jsonify(detail(application_or_404(application_id)))


@bp.put("/applications/<int:application_id>/dossier")
@auth.token_required
def update_dossier(application_id: int):
    application = application_or_404(application_id, need=can_edit_dossier)
    data = schemas.parse(schemas.DOSSIER_UPDATE)
    services.update_dossier(application, items=data["items"], actor=actor(),
                            application_signed_on=data.get("application_signed_on"),
                            exception_justification=data.get("exception_justification"))
    db.session.commit()
    return jsonify(detail(application))


@bp.post("/applications/<int:application_id>/transitions")
@auth.token_required
def transition(application_id: int):
    application = application_or_404(application_id)
    data = schemas.parse(schemas.TRANSITION)
    services.perform(application, data.pop("action"), actor=actor(), **data)
    db.session.commit()
    return jsonify(application=detail(application), event=schemas.event(application.events[-1]))


@bp.get("/applications/<int:application_id>/timeline")
@auth.token_required
def timeline(application_id: int):
    application = application_or_404(application_id)
    events = application.events
    names = queries.full_names(events)
    return jsonify(application_id=application.id, **schemas.state_fields(application.state),
                   items=[schemas.event(e, names) for e in events])


# --- recognition decisions ----------------------------------------------------------------------


@bp.post("/decisions")
@auth.token_required
def create_decision():
    data = schemas.parse(schemas.DECISION_CREATE)
    chosen = [application_or_404(i) for i in data["application_ids"]]
    issuer_name, facility = services.decision_issuer(actor(), chosen, name=data.get("issuer_name"))
    decision = services.issue_decision(chosen, number=data["number"], issued_on=data["issued_on"],
                                       signer_name=data["signer_name"], signer_title=data.get("signer_title", ""),
                                       issuer_name=issuer_name, issuer_facility=facility, actor=actor())
    db.session.commit()
    return jsonify(schemas.decision(decision)), 201


# Register the collaborator-network endpoints and the coverage-map layers on ``bp``.
from . import coverage_views, jobs_views, maps_views, network_views, units_views  # noqa: E402,F401

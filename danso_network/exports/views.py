"""Download routes of the roster, quota and coverage pages (issue #11, item 1).

One route per list and area, mirroring the pages whose buttons lead here (the buttons carry the
page's date and filters, :func:`export_links`):

- ``/exports/roster``, ``/exports/roster/<unit_id>``, ``/exports/roster/centre/<facility_id>``:
  the rosters (``collaborators.views.scope_roster``, ``roster``, ``centre_roster``);
- ``/exports/quota/<unit_id>``: the quota list (``collaborators.views.quota``);
- ``/exports/coverage``, ``/exports/coverage/<unit_id>``, ``/exports/coverage/centre/<facility_id>``:
  the hamlets of a coverage map with their coverage attributes (``maps.views``).

``?format=xlsx|csv|pdf|geojson|gpkg``. The area is checked first (404 unknown, 403 outside the
user's scope, the page's own rule: ``services.resolve_area``), then the format and date (400
with a Vietnamese message; a date before the area's data, 422). A file of at most
``EXPORT_INLINE_ROWS`` rows is answered at once as an attachment (ASCII name and RFC 5987
``filename*``); a larger one is made by a background job, and the browser is sent to the job's
page.
"""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, Response, redirect, request, url_for
from flask_login import login_required

from ..collaborators.services import RosterFilters
from ..common.clock import today
from ..common.views import actor
from ..extensions import db
from ..jobs import services as jobs
from . import services
from .document import Document
from .services import FORMAT_LABELS, BadExport, ExportSpec

bp = Blueprint("exports", __name__, url_prefix="/exports")

LIST_FORMATS = {"roster": services.FORMATS, "quota": services.FORMATS, "coverage": services.FORMATS}


def _date_or_none() -> date | None:
    try:
        return services.check_date(request.args.get("as_of"))
    except BadExport:
        return None


def _export(list_name: str, area_of):
    """The shared steps: the area (scope first), then format, date and filters, then the file
    or the job."""
    user = actor()
    on = _date_or_none()
    area = area_of(user, on or today())
    fmt = services.check_format(request.args.get("format"))
    on = services.check_date(request.args.get("as_of"))  # unreadable: 400, now that scope is known
    services.check_data_on(area, on)
    filters = services.filters_from(request.args, as_of=on, user=user)
    flag = services.check_flag(list_name, request.args.get("flag"))
    spec = ExportSpec(list_name, fmt, area, filters, flag)
    if services.size_of(spec) > services.inline_limit():
        job = jobs.submit(services.JOB_KINDS[list_name], spec.params(), user)
        db.session.commit()  # the job starts once its row is committed
        return redirect(url_for("jobs.show", job_id=job.id))
    made = services.make(spec, user)
    buffer = io.BytesIO()
    made.write(buffer)
    response = Response(buffer.getvalue(), mimetype=made.mimetype)
    response.headers["Content-Disposition"] = services.content_disposition(made.filename, made.display_name)
    if made.without_geometry is not None:
        response.headers["X-Hamlets-Without-Geometry"] = str(made.without_geometry)
    return response


def _unit(unit_id: int, *, partial: bool = False):
    def area_of(user, on):
        return services.resolve_area({"unit_id": unit_id}, user, on, partial=partial)
    return area_of


def _centre(facility_id: int):
    def area_of(user, on):
        return services.resolve_area({"facility_id": facility_id}, user, on)
    return area_of


def _scope(user, on):
    return services.scope_area(user)


@bp.get("/roster")
@login_required
def scope_roster():
    return _export("roster", _scope)


@bp.get("/roster/<int:unit_id>")
@login_required
def unit_roster(unit_id: int):
    return _export("roster", _unit(unit_id))


@bp.get("/roster/centre/<int:facility_id>")
@login_required
def centre_roster(facility_id: int):
    return _export("roster", _centre(facility_id))


@bp.get("/quota/<int:unit_id>")
@login_required
def quota(unit_id: int):
    return _export("quota", _unit(unit_id))


@bp.get("/coverage")
@login_required
def scope_coverage():
    return _export("coverage", _scope)


@bp.get("/coverage/<int:unit_id>")
@login_required
def unit_coverage(unit_id: int):
    return _export("coverage", _unit(unit_id, partial=True))


@bp.get("/coverage/centre/<int:facility_id>")
@login_required
def centre_coverage(facility_id: int):
    return _export("coverage", _centre(facility_id))


# --- a feature's own document, answered on its page ------------------------------------------------


def send_document(document: Document, fmt: str, display: str | None = None) -> Response:
    """``document`` written as ``fmt`` (xlsx, pdf or csv) and answered as an attachment named
    ``document.filename`` (ASCII) and ``display`` (the Vietnamese name, default the title); for
    the small lists a page offers (a month's sheet, a course, a decision), written at once."""
    buffer = io.BytesIO()
    services.write_document(document, fmt, buffer)
    response = Response(buffer.getvalue(), mimetype=services.MIMETYPES[fmt])
    name = services.file_safe(display or document.title)
    response.headers["Content-Disposition"] = services.content_disposition(f"{document.filename}.{fmt}",
                                                                          f"{name}.{fmt}")
    return response


def format_links(formats: tuple[str, ...] = services.TABLE_FORMATS, **args) -> list[tuple[str, str, str]]:
    """(format, label, url) of each download of the current page: the page's own address and
    query string with ``format`` set (for ``download_buttons``)."""
    query = {**request.args.to_dict(), **{k: v for k, v in args.items() if v is not None}}
    query.pop("page", None)
    return [(fmt, FORMAT_LABELS[fmt], url_for(request.endpoint, **(request.view_args or {}), **{**query, "format": fmt}))
            for fmt in formats]


# --- the buttons ------------------------------------------------------------------------------------


def _filter_args(filters: RosterFilters | None) -> dict:
    """A roster's filters as the query string the page itself would send."""
    if filters is None:
        return {}
    args = {"status": filters.status, "hamlet_type": filters.hamlet_type, "tenure": filters.tenure, "q": filters.q,
            "sort": filters.sort if filters.sort != "name" else None}
    for name in ("difficult", "vhw", "family_children"):
        value = getattr(filters, name)
        args[name] = None if value is None else ("1" if value else "0")
    return {k: v for k, v in args.items() if v}


def export_links(list_name: str, *, unit=None, facility=None, as_of: date | None = None,
                 filters: RosterFilters | None = None, flag: str | None = None) -> list[tuple[str, str, str]]:
    """(format, label, url) of each download of a page, carrying its date and filters."""
    on = filters.as_of if filters is not None else (as_of or today())
    args = {"as_of": on.isoformat(), **_filter_args(filters)}
    if flag:
        args["flag"] = flag
    if list_name == "quota":
        endpoint, ident = "exports.quota", {"unit_id": unit.id}
    elif unit is not None:
        endpoint, ident = f"exports.unit_{list_name}", {"unit_id": unit.id}
    elif facility is not None:
        endpoint, ident = f"exports.centre_{list_name}", {"facility_id": facility.id}
    else:
        endpoint, ident = f"exports.scope_{list_name}", {}
    return [(fmt, FORMAT_LABELS[fmt], url_for(endpoint, **ident, **args, format=fmt))
            for fmt in LIST_FORMATS[list_name]]


@bp.app_context_processor
def download_helpers():
    return {"export_links": export_links, "format_links": format_links}

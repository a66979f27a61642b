"""The network report page (issue #11 item 3): choose a period (a year, a quarter or a month;
the current year by default) and an area (a unit of the user's scope, a health centre, or the
whole scope; by default the user's landing area, ``auth.permissions.landing_of``), see the
per-commune and per-centre tables with their totals first, print it, download it as XLSX or PDF.

``GET /reports/network?year=2026[&quarter=N|&month=N]&area=unit-<id>|centre-<id>|scope
[&format=xlsx|pdf]``. The area is checked by ``services.area_for`` (404 unknown, 403 outside the
user's scope); a bad period or a period before any data shows the page with the reason (422), an
unknown format too (400). A download over several provinces runs as a background job
(``services.runs_in_background``) and redirects to the job's page; other downloads answer at once.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal
from flask_login import current_user, login_required

from ..common import clock
from ..common.views import actor
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..exports.document import Kind
from ..extensions import db
from ..jobs import services as jobs
from ..targets.labels import TARGET_LABELS, verdict_colour, verdict_label
from . import services

bp = Blueprint("reports", __name__, url_prefix="/reports")


def cell(value, kind: Kind) -> str:
    """A figure as the page shows it (the files keep numbers as numbers)."""
    if value is None:
        return "—"
    if kind == Kind.TEXT:
        return str(value)
    if kind == Kind.PCT:
        return format_decimal(value, "#,##0.0") + "%"
    if kind == Kind.NUMBER:
        return format_decimal(value, "#,##0.0")
    return format_decimal(value)


def _area(key: str | None, on):
    try:
        return services.area_for(current_user, key, on)
    except NotFound:
        abort(404)
    except PermissionDenied:
        abort(403)


def _download(area: services.Area, period: services.Period, fmt: str):
    """The file at once, or, over several provinces, a background job and its page."""
    if services.runs_in_background(area):
        job = jobs.submit(services.JOB_KIND, {"area": area.key, "format": fmt, **period.args()}, actor())
        db.session.commit()
        return redirect(url_for("jobs.show", job_id=job.id))
    buffer = io.BytesIO()
    document = services.report_file(area, period, fmt, buffer)
    buffer.seek(0)
    return send_file(buffer, mimetype=services.MIMETYPES[fmt], as_attachment=True,
                     download_name=f"{document.filename}.{fmt}")


@bp.get("/network")
@login_required
def network():
    """The network report of an area over a period, with its download buttons."""
    today = clock.today()
    args = {name: request.args.get(name, "").strip()[:10] for name in ("year", "quarter", "month")}
    fmt = request.args.get("format", "").strip()
    key = request.args.get("area", "").strip()[:40] or None
    error, status, period, report = None, 200, None, None
    try:
        period = services.period_from(args)
    except ValidationFailed as refused:
        error, status = refused, refused.status
    area = _area(key, period.end if period else today)
    if error is None and fmt and fmt not in services.FORMATS:
        error = services.unknown_format(fmt)
        status = 400
    if error is None:
        try:
            services.check_period(area, period)
        except ValidationFailed as refused:
            error, status = refused, refused.status
    if error is None and fmt:
        return _download(area, period, fmt)
    if error is None:
        report = services.network_report(area.prefixes, period)
    choices = services.area_choices(current_user, today)
    if area.key not in {k for k, _label in choices}:
        choices.insert(0, (area.key, area.label))
    return render_template(
        "reports/network.html", area=area, period=period, report=report, error=error, args=args, choices=choices,
        years=list(range(today.year, 2020, -1)), quarters=services.ROMAN, cell=cell, Kind=Kind,
        figure_columns=services.figure_columns, figure_cells=services.figure_cells,
        notes=services.report_notes(report) if report else [],
        background=services.runs_in_background(area),
        target_labels=TARGET_LABELS, verdict_label=verdict_label, verdict_colour=verdict_colour), status

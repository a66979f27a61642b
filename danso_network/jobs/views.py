"""Pages of background jobs: my jobs, one job's progress (refreshed every 2 s while it runs, by
``<meta http-equiv="refresh">``: the Content-Security-Policy allows no inline script), and the
download of its file.

Only the owner sees a job (``permissions.can_view_job``: another user 403, unknown 404); a file
past its day is 410 with a page that says so. A job whose runner died is marked failed when its
page or the list of jobs is read (``services.fail_if_dead``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import format_decimal
from flask_login import current_user, login_required

from ..common.paging import paginate
from ..common.params import page_arg
from ..common.views import actor, load_or_404
from ..extensions import db
from . import services
from .labels import STATE_BADGES, STATE_LABELS
from .models import Job
from .permissions import can_view_job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

REFRESH_SECONDS = 2


def file_size(size: int) -> str:
    """Bytes as B, KB or MB (1024-based, as file managers show them)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{format_decimal(round(size / scale, 1))} {unit}"
    return f"{format_decimal(size)} B"


@bp.context_processor
def labels():
    return {"STATE_LABELS": STATE_LABELS, "STATE_BADGES": STATE_BADGES, "kind_label": services.kind_label,
            "is_expired": services.is_expired, "file_size": file_size}


def _job(job_id: int) -> Job:
    job = load_or_404(Job, job_id, need=can_view_job)
    services.fail_if_dead(job, at_once=True)
    return job


@bp.get("/")
@login_required
def index():
    """The user's jobs, newest first. A job of the page waiting or running whose runner is gone
    (its process was killed, the machine restarted) is shown failed, as on its own page — never
    "running" for ever."""
    page = paginate(services.jobs_of(current_user), *page_arg())
    for job in page.items:
        if job.active:
            services.fail_if_dead(job, at_once=True)
    return render_template("jobs/index.html", page=page)


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int):
    job = _job(job_id)
    return render_template("jobs/show.html", job=job, expired=services.is_expired(job),
                           refresh=REFRESH_SECONDS if job.active else None)


@bp.get("/<int:job_id>/download")
@login_required
def download(job_id: int):
    job = _job(job_id)
    try:
        result = services.open_result(job)
    except services.Gone as gone:
        db.session.rollback()
        return render_template("jobs/gone.html", job=job, message=str(gone)), 410
    except services.NotReady as not_ready:
        db.session.rollback()
        flash(str(not_ready), "warning")
        return redirect(url_for(".show", job_id=job.id))
    services.record_download(result, actor())
    db.session.commit()
    response = send_file(result.path, mimetype=result.mimetype, as_attachment=True, download_name=result.filename,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"  # rosters carry personal data: never kept by a proxy
    return response

"""Background jobs in the JSON API (issue #11 item 6): start an export or report, poll it,
download its file.

``POST /api/v1/jobs`` ``{"kind": "...", "params": {...}}`` answers 202 with the job and its
``Location``; an unknown kind is a 400, params the kind's ``check`` refuses a 422 (or 403 out of
scope), too many unfinished jobs a 409. ``GET /api/v1/jobs/<id>`` gives the state and progress,
and ``download_url`` once the file is ready; ``GET /api/v1/jobs/<id>/download`` the file (409 not
ready or failed, 410 past its day). Only the owner reaches a job: another user's is a 403.
Registered on the API blueprint (tokens, CSRF exemption, JSON errors), like the coverage views.
"""

from __future__ import annotations

from flask import jsonify, send_file, url_for
from flask_babel import lazy_gettext as _l

from ..common.views import load_or_404
from ..errors import ValidationFailed
from ..extensions import db
from ..jobs import services as jobs
from ..jobs.labels import state_label
from ..jobs.models import Job, JobState
from ..jobs.permissions import can_view_job
from . import auth, schemas
from .views import actor, bp

JOB_CREATE = [
    schemas.Field("kind", "str", True, 60, description="Loại việc, ví dụ roster_export"),
]


def job_or_404(job_id: int) -> Job:
    job = load_or_404(Job, job_id, can_view_job, user=actor(), missing=_l("Không tìm thấy việc này."),
                      denied=_l("Việc này không phải của bạn: chỉ người yêu cầu mới xem và tải được tệp."))
    jobs.fail_if_dead(job, at_once=True)
    return job


def job_json(job: Job) -> dict:
    ready = job.state == JobState.DONE and not jobs.is_expired(job)
    return {
        "id": job.id, "kind": job.kind, "kind_label": jobs.kind_label(job.kind),
        "state": job.state, "state_label": state_label(job.state),
        "done": job.done, "total": job.total, "percent": job.percent, "message": job.message,
        "error": job.error if job.state == JobState.FAILED else None,
        "created_at": schemas.timestamp(job.created_at), "started_at": schemas.timestamp(job.started_at),
        "finished_at": schemas.timestamp(job.finished_at), "expires_at": schemas.timestamp(job.expires_at),
        "file": ({"filename": job.result_filename, "mimetype": job.result_mimetype, "bytes": job.result_bytes}
                 if ready else None),
        "status_url": url_for("api.job", job_id=job.id),
        "download_url": url_for("api.download_job", job_id=job.id) if ready else None,
        "page_url": url_for("jobs.show", job_id=job.id),
    }


@bp.post("/jobs")
@auth.token_required
def create_job():
    """Start a job of a registered kind for the caller, checked by the kind as the page would."""
    body = schemas.json_body()
    kind = schemas.parse(JOB_CREATE, body)["kind"]
    params = body.get("params")
    if params is not None and not isinstance(params, dict):
        raise ValidationFailed(_l("Trường “params” phải là một đối tượng JSON {…}."), field="params")
    job = jobs.submit(kind, params or {}, actor())
    db.session.commit()  # the job starts now (services.submit)
    return jsonify(job_json(job)), 202, {"Location": url_for("api.job", job_id=job.id)}


@bp.get("/jobs/<int:job_id>")
@auth.token_required
def job(job_id: int):
    return jsonify(job_json(job_or_404(job_id)))


@bp.get("/jobs/<int:job_id>/download")
@auth.token_required
def download_job(job_id: int):
    result = jobs.open_result(job_or_404(job_id))
    jobs.record_download(result, actor())
    db.session.commit()
    response = send_file(result.path, mimetype=result.mimetype, as_attachment=True, download_name=result.filename,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response

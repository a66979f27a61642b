"""Jobs in the JSON API (issue #11 item 6): start (202), poll, download; an unknown kind 400,
params the kind refuses 422 or 403, another user's job 403, an unknown one 404, a file not ready
409, past its day 410; and the three endpoints in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from danso_network.api.auth import issue_token
from danso_network.auth.models import User
from danso_network.common import clock
from danso_network.extensions import db
from danso_network.jobs.models import Job

from . import kinds
from .conftest import wait_until


def _bearer(app, username: str) -> dict:
    with app.app_context():
        _, raw = issue_token(db.session.scalar(select(User).where(User.username == username)))
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {raw}"}


def test_start_poll_download(make_jobs_app, tmp_path):
    app = make_jobs_app("thread")
    client, head_a, head_b = app.test_client(), _bearer(app, "truongtram_a"), _bearer(app, "truongtram_b")
    gate = tmp_path / "gate"
    started = client.post("/api/v1/jobs", headers=head_a,
                          json={"kind": "test_count", "params": {"lines": 5, "gate": str(gate), "pause_at": 1}})
    assert started.status_code == 202, started.json
    job = started.json
    assert started.headers["Location"] == job["status_url"] == f"/api/v1/jobs/{job['id']}"
    assert job["kind"] == "test_count" and job["kind_label"] == "Đếm dòng (thử nghiệm)"
    assert job["state"] in ("queued", "running") and job["download_url"] is None and job["file"] is None
    assert job["page_url"] == f"/jobs/{job['id']}"
    assert job["created_at"].endswith("+07:00")

    paused = wait_until(lambda: (r := client.get(job["status_url"], headers=head_a).json)["message"] == kinds.WAITING
                        and r, what="the job to pause")
    assert (paused["state"], paused["state_label"], paused["done"], paused["total"], paused["percent"]) == (
        "running", "Đang xử lý", 1, 5, 20)
    early = client.get(f"{job['status_url']}/download", headers=head_a)
    assert early.status_code == 409 and early.json["error"] == "Tệp chưa sẵn sàng: việc đang chờ hoặc đang chạy."

    gate.touch()
    done = wait_until(lambda: (r := client.get(job["status_url"], headers=head_a).json)["state"] == "done" and r,
                      what="the job to finish")
    assert done["percent"] == 100 and done["error"] is None
    assert done["download_url"] == f"/api/v1/jobs/{job['id']}/download"
    assert done["file"]["filename"] == "đếm dòng.txt" and done["file"]["bytes"] > 0
    download = client.get(done["download_url"], headers=head_a)
    assert download.status_code == 200 and download.data.decode().startswith("người yêu cầu: truongtram_a\ndòng 1\n")
    assert len(download.data) == done["file"]["bytes"]

    # Another user's job: 403 everywhere, with a JSON reason; an unknown job 404; no token 401.
    for url in (job["status_url"], done["download_url"]):
        refused = client.get(url, headers=head_b)
        assert refused.status_code == 403 and "không phải của bạn" in refused.json["error"]
        assert client.get(url).status_code == 401
    missing = client.get("/api/v1/jobs/2147483647", headers=head_a)
    assert missing.status_code == 404 and missing.json["error"] == "Không tìm thấy việc này."

    # Past its day: 410.
    with app.app_context():
        db.session.execute(update(Job).where(Job.id == job["id"]).values(expires_at=clock.now() - timedelta(seconds=1)))
        db.session.commit()
        db.session.remove()
    gone = client.get(done["download_url"], headers=head_a)
    assert gone.status_code == 410 and "đã hết hạn" in gone.json["error"]
    assert client.get(job["status_url"], headers=head_a).json["download_url"] is None


def test_bad_requests_say_why(make_jobs_app):
    app = make_jobs_app("thread")
    client, head_a = app.test_client(), _bearer(app, "truongtram_a")
    unknown = client.post("/api/v1/jobs", headers=head_a, json={"kind": "roster_exprot", "params": {}})
    assert unknown.status_code == 400
    assert unknown.json == {"error": "Loại việc “roster_exprot” không tồn tại.", "status": 400, "field": "kind"}
    missing = client.post("/api/v1/jobs", headers=head_a, json={"params": {}})
    assert missing.status_code == 422 and missing.json["field"] == "kind"
    not_object = client.post("/api/v1/jobs", headers=head_a, json={"kind": "test_count", "params": [1]})
    assert not_object.status_code == 422 and not_object.json["field"] == "params"
    refused = client.post("/api/v1/jobs", headers=head_a, json={"kind": "test_count", "params": {"lines": "many"}})
    assert refused.status_code == 422 and refused.json["error"] == "Số dòng phải từ 0 đến 100000."
    out_of_scope = client.post("/api/v1/jobs", headers=head_a, json={"kind": "test_count",
                                                                      "params": {"forbidden": True}})
    assert out_of_scope.status_code == 403 and out_of_scope.json["error"] == "Đơn vị này nằm ngoài phạm vi của bạn."
    assert client.post("/api/v1/jobs", headers=head_a, data="{", content_type="application/json").status_code == 400
    assert client.post("/api/v1/jobs", json={"kind": "test_count"}).status_code == 401
    with app.app_context():
        assert db.session.scalars(select(Job)).all() == []  # nothing was queued
        db.session.remove()


def test_a_failed_job_reads_as_failed_with_its_reason(make_jobs_app):
    app = make_jobs_app("thread")
    client, head_a = app.test_client(), _bearer(app, "truongtram_a")
    url = client.post("/api/v1/jobs", headers=head_a, json={"kind": "test_fail"}).json["status_url"]
    failed = wait_until(lambda: (r := client.get(url, headers=head_a).json)["state"] == "failed" and r,
                        what="the job to fail")
    assert failed["error"].startswith("Không tạo được tệp do lỗi hệ thống") and kinds.SECRET not in failed["error"]
    assert failed["download_url"] is None
    assert client.get(f"{url}/download", headers=head_a).status_code == 409


def test_the_document_describes_the_job_endpoints(client):
    doc = client.get("/api/v1/openapi.json").json
    assert set(doc["paths"]["/api/v1/jobs"]) == {"post"}
    assert "202" in doc["paths"]["/api/v1/jobs"]["post"]["responses"]
    assert "410" in doc["paths"]["/api/v1/jobs/{job_id}/download"]["get"]["responses"]
    assert "test_count" in doc["components"]["schemas"]["JobCreate"]["properties"]["kind"]["description"]
    import openapi_spec_validator

    openapi_spec_validator.validate(doc)

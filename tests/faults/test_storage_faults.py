"""The server's disk refusing files (issue #14 item 3): the uploads folder (``UPLOAD_DIR``) or the
job files' folder (``JOB_DIR``) full, read-only, or a path that cannot be a folder
(tests/faults/conftest.py ``broken_storage``: a real tmpfs when ``mount`` is permitted).

For each, the user gets a clear Vietnamese message on the page — the form shown again with a 4xx,
or the job's page saying it failed — never a 500; nothing half-written is left in the folder; and
nothing is recorded that points at a file that does not exist: no attachment row, no staged
import, no job offering a download. The database is the suite's own (SQLite or PostgreSQL)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators.models import Collaborator
from danso_network.extensions import db
from danso_network.jobs.models import Job
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import Attachment
from tests import factories
from tests.conftest import csrf_token

from .conftest import ROSTER_HEAD, STORAGE_FAULTS, broken_storage, files_under

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"%" * 100_000 + b"\n%%EOF\n"  # over 64 KB
SAYS = "Không lưu được tệp trên máy chủ"
REASONS = {"full": "ổ đĩa lưu tệp của máy chủ đã đầy", "read-only": "thư mục lưu tệp của máy chủ không cho ghi",
           "not-a-folder": "thư mục lưu tệp của máy chủ không dùng được"}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(params=STORAGE_FAULTS)
def broken(request, tmp_path):
    """``(how, folder)``: a folder where writing fails as ``how`` says."""
    with broken_storage(request.param, tmp_path) as folder:
        yield request.param, folder


def test_a_dossier_attachment_on_a_broken_disk_is_refused_clearly_and_nothing_is_recorded(
        app, client, world, login_as, monkeypatch, broken):
    how, folder = broken
    factories.criteria(world.dong_nai)
    application = rs.create_application(**factories.candidate_fields(world.hamlets_b[0], 1),
                                        actor=world.users["head_b"])
    db.session.commit()
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    login_as("truongtram_b")
    url = f"/attachments/applications/{application.id}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "application_letter",
                                      "file": (BytesIO(PDF), "Đơn tình nguyện.pdf")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]  # the form again, not an error page
    assert SAYS in html and REASONS[how] in html, html[:3000]
    assert 'name="file"' in html
    assert count(Attachment) == 0
    assert count(AuditEvent, AuditEvent.action == "attachment.upload") == 0
    assert files_under(folder) == set()  # nothing half-written is left


def roster_file(world) -> bytes:
    hamlet = world.hamlets_a[0]
    row = [1, f"{hamlet.parent.code}-{hamlet.local_id}", "Nguyễn Thị Đĩa Đầy", "17/05/1990", "Nữ",
           factories.national_id(factories.date(1990, 5, 17), "female", 901), "0912000001", "Kinh",
           "Tốt nghiệp THCS", "Thôn chính", "01/09/2025", "1/QĐ-TTYT", "", "", "Có"]
    lines = [",".join(ROSTER_HEAD), ",".join(str(c) for c in row)]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.parametrize("inline_rows", [5000, 0], ids=["on-the-page", "background-job"])
def test_an_import_upload_on_a_broken_disk_is_refused_clearly_and_nothing_is_recorded(
        app, client, world, login_as, monkeypatch, broken, inline_rows):
    """The roster import keeps the upload until it is confirmed (``imports.staging``): a disk
    that refuses it means no dry run, no job reading a file that is not there, no collaborator."""
    how, folder = broken
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", inline_rows)
    login_as("truongtram_a")
    jobs_before = count(Job)
    response = client.post("/collaborators/import", data={
        "csrf_token": csrf_token(client, "/collaborators/import"),
        "file": (BytesIO(roster_file(world)), "danh-sach-ctv.csv")}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, html[:500])
    assert SAYS in html and REASONS[how] in html, html[:3000]
    assert 'name="file"' in html  # the upload form, to try again
    assert count(Job) == jobs_before
    assert count(Collaborator) == 0
    assert files_under(folder) == set()


def test_a_background_export_on_a_broken_disk_fails_clearly_and_offers_no_file(
        app, client, world, login_as, monkeypatch, broken):
    """An export large enough for the background (here: any) writes its file under ``JOB_DIR``:
    a disk that refuses it leaves the job failed with the reason, no download, no half file."""
    how, folder = broken
    monkeypatch.setitem(app.config, "JOB_DIR", str(folder))
    monkeypatch.setitem(app.config, "EXPORT_INLINE_ROWS", -1)
    factories.appoint(world.hamlets_a[0], 1)
    db.session.commit()
    login_as("admin75")
    response = client.get(f"/exports/roster/{world.commune_a.id}?format=csv")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    job_url = response.headers["Location"]
    assert "/jobs/" in job_url
    page = client.get(job_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Không thành công" in html and SAYS in html and REASONS[how] in html, html[:3000]
    assert "/download" not in html
    job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    assert (job.state, job.result_path, job.result_bytes) == ("failed", None, None)
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 302  # back to the job's page, which says why: never a file
    assert files_under(Path(folder)) == set()

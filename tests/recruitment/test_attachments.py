"""Dossier attachments: only PDF/JPEG/PNG by name and by content, size limits, files outside the web
root under a random name, downloads only in scope, deletion only while the dossier is editable, and
nothing left behind when an upload is refused."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.extensions import db
from danso_network.recruitment import attachments
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import Attachment
from danso_network.recruitment.rules import MANUAL_CODES
from danso_network.recruitment.workflow import Action

from .. import factories
from ..conftest import csrf_token

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
NAME = "Đơn tình nguyện – Điểu Thị Mai.pdf"


@pytest.fixture
def application(world):
    factories.criteria(world.dong_nai)  # nominating needs the province's criteria
    app = rs.create_application(**factories.candidate_fields(world.hamlets_b[0], 1), actor=world.users["head_b"])
    db.session.commit()
    return app


@pytest.fixture
def upload_dir(app) -> Path:
    return Path(app.config["UPLOAD_DIR"])


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _url(application) -> str:
    return f"/attachments/applications/{application.id}"


def upload(client, application, content: bytes, filename: str, kind: str = "application_letter", **extra):
    data = {"csrf_token": csrf_token(client, _url(application)), "kind": kind,
            "file": (BytesIO(content), filename), **extra}
    return client.post(_url(application), data=data, content_type="multipart/form-data")


def _to_submitted(world, application):
    head = world.users["head_b"]
    factories.complete_dossier(application, head)
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in MANUAL_CODES}}),
                          (Action.SUBMIT, {})]:
        rs.perform(application, action, actor=head, **extra)
    db.session.commit()


def _saved(application, content=PDF, filename="cccd.pdf", kind="id_card", actor=None) -> Attachment:
    attachment = attachments.save_attachment(application, kind=kind, stream=BytesIO(content), filename=filename,
                                             actor=actor)
    db.session.commit()
    return attachment


# --- upload and download ---------------------------------------------------------------------------


def test_station_uploads_and_the_centre_downloads(app, client, world, application, upload_dir, login_as):
    before = _files(upload_dir)
    login_as("truongtram_b")
    response = upload(client, application, PDF, NAME, next="/somewhere/else")
    assert response.status_code == 302 and response.headers["Location"] == "/somewhere/else"
    attachment = db.session.scalar(select(Attachment).where(Attachment.application_id == application.id))
    assert (attachment.original_name, attachment.kind, attachment.content_type, attachment.size_bytes) == \
        (NAME, "application_letter", "application/pdf", len(PDF))
    assert attachment.uploaded_by_id == world.users["head_b"].id
    # Stored outside the web root, under a random name that says nothing about the person.
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
    assert _files(upload_dir) - before == {attachment.stored_name}
    assert (upload_dir / attachment.stored_name).read_bytes() == PDF
    assert not upload_dir.resolve().is_relative_to(Path(app.static_folder).resolve())
    assert _count(AuditEvent, AuditEvent.action == "attachment.upload", AuditEvent.object_id == str(attachment.id)) == 1

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as("ttyt689")
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and quote(NAME) in disposition


@pytest.mark.parametrize(("content", "filename", "content_type"), [
    (JPEG, "giay-kham-suc-khoe.JPG", "image/jpeg"), (JPEG, "scan.jpeg", "image/jpeg"), (PNG, "bang-thcs.png", "image/png"),
    (PDF, r"C:\Users\tram\Desktop\bien-ban-hop-ap.pdf", "application/pdf")], ids=["JPG", "jpeg", "png", "windows-path"])
def test_jpeg_png_and_pdf_are_accepted(client, application, login_as, content, filename, content_type):
    login_as("truongtram_b")
    assert upload(client, application, content, filename).status_code == 302
    attachment = db.session.scalar(select(Attachment).where(Attachment.application_id == application.id))
    assert attachment.content_type == content_type
    assert "\\" not in attachment.original_name and "/" not in attachment.original_name


def test_panel_lists_files_with_size_uploader_and_date(client, world, application, login_as):
    _saved(application, actor=world.users["head_b"])
    login_as("truongtram_b")
    html = client.get(_url(application)).get_data(as_text=True)
    assert "cccd.pdf" in html and "Bản sao CCCD" in html and "1 KB" in html
    assert world.users["head_b"].full_name in html
    assert 'enctype="multipart/form-data"' in html and "tối đa 5 MB" in html
    assert "/delete" in html


def test_viewer_sees_the_panel_without_upload_delete_or_download(client, world, application, login_as):
    """Scans of a CCCD, a health certificate or a diploma are personal data: a viewer sees that
    they exist, not their content (auth/personal_data.py)."""
    attachment = _saved(application, actor=world.users["head_b"])
    login_as("xem_b")
    html = client.get(_url(application)).get_data(as_text=True)
    assert "cccd.pdf" in html and "Ẩn theo quy định bảo vệ dữ liệu cá nhân" in html
    assert 'enctype="multipart/form-data"' not in html and "/delete" not in html
    assert f"/attachments/{attachment.id}" not in html
    assert client.get(f"/attachments/{attachment.id}").status_code == 403


# --- refusals: nothing written ----------------------------------------------------------------------


@pytest.mark.parametrize(("content", "filename", "message"), [
    (EXE, "don-tinh-nguyen.pdf", "không phải PDF"),  # a program renamed .pdf: refused by its content
    (PNG, "don-tinh-nguyen.pdf", "không phải PDF"),  # a real image, but not what the name says
    (PDF, "don-tinh-nguyen.jpg", "không phải JPEG"),
    (EXE, "setup.exe", "Chỉ nhận tệp PDF, JPEG hoặc PNG"),
    (PDF, "don-tinh-nguyen.docx", "Chỉ nhận tệp PDF, JPEG hoặc PNG"),
    (PDF, "khong-co-duoi", "Chỉ nhận tệp PDF, JPEG hoặc PNG"),
    (b"", "trong.pdf", "Tệp rỗng"),
], ids=["exe-as-pdf", "png-as-pdf", "pdf-as-jpg", "exe", "docx", "no-extension", "empty"])
def test_wrong_files_are_refused_and_nothing_is_written(client, application, upload_dir, login_as, content, filename,
                                                        message):
    login_as("truongtram_b")
    before, audit = _files(upload_dir), _count(AuditEvent)
    response = upload(client, application, content, filename, kind="health_evidence")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and message in html
    assert '<option value="health_evidence" selected>' in html  # the chosen kind is kept
    assert _count(Attachment) == 0 and _count(AuditEvent) == audit
    assert _files(upload_dir) == before


def test_too_big_is_refused_and_nothing_is_written(app, client, application, upload_dir, login_as):
    before = _files(upload_dir)
    login_as("truongtram_b")
    big = PDF + b"0" * (app.config["MAX_UPLOAD_BYTES"] - len(PDF) + 1)
    response = upload(client, application, big, "ho-so-day-du.pdf")
    assert response.status_code == 200 and "Tệp vượt quá 5 MB" in response.get_data(as_text=True)
    assert _count(Attachment) == 0 and _files(upload_dir) == before
    exactly = big[:-1]
    assert upload(client, application, exactly, "vua-du.pdf").status_code == 302


def test_a_request_over_the_server_limit_gets_413_in_vietnamese(app, client, application, upload_dir, login_as,
                                                                monkeypatch):
    login_as("truongtram_b")
    token = csrf_token(client, _url(application))
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    response = client.post(_url(application), data={"csrf_token": token, "kind": "id_card",
                                                    "file": (BytesIO(PDF + b"0" * 4096), "lon.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "vượt quá dung lượng cho phép" in response.get_data(as_text=True)
    assert _count(Attachment) == 0


def test_no_file_chosen(client, application, login_as):
    login_as("truongtram_b")
    response = client.post(_url(application), data={"csrf_token": csrf_token(client, _url(application)),
                                                    "kind": "id_card"}, content_type="multipart/form-data")
    assert response.status_code == 200 and "Vui lòng chọn tệp cần tải lên" in response.get_data(as_text=True)


def test_unknown_kind_is_refused(client, application, upload_dir, login_as):
    before = _files(upload_dir)
    login_as("truongtram_b")
    response = upload(client, application, PDF, "a.pdf", kind="criminal_record")
    assert "Loại giấy tờ không hợp lệ" in response.get_data(as_text=True)
    assert _count(Attachment) == 0 and _files(upload_dir) == before


@pytest.mark.parametrize("username", ["xem_b", "ttyt689", "truongtram_a", "admin01", "chuacapquyen"])
def test_only_station_staff_of_the_commune_upload(client, application, upload_dir, login_as, username):
    before = _files(upload_dir)
    login_as(username)
    data = {"csrf_token": csrf_token(client, "/"), "kind": "id_card", "file": (BytesIO(PDF), "cccd.pdf")}
    assert client.post(_url(application), data=data, content_type="multipart/form-data").status_code == 403
    assert _count(Attachment) == 0 and _files(upload_dir) == before


def test_upload_after_submission_is_refused(client, world, application, upload_dir, login_as):
    _to_submitted(world, application)
    before = _files(upload_dir)
    login_as("truongtram_b")
    response = upload(client, application, PDF, "muon.pdf")
    assert "không thể thêm hoặc xoá tệp" in response.get_data(as_text=True)
    assert _count(Attachment) == 0 and _files(upload_dir) == before


# --- download scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["truongtram_a", "vienchuc_a", "admin01", "chuacapquyen"])
def test_out_of_scope_download_is_refused(client, world, application, login_as, username):
    attachment = _saved(application, actor=world.users["head_b"])
    login_as(username)
    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 403 and response.data != PDF
    assert client.get(_url(application)).status_code == 403


@pytest.mark.parametrize("username", ["truongtram_b", "ttyt689", "admin75"])
def test_every_editing_role_in_scope_downloads(client, world, application, login_as, username):
    attachment = _saved(application, actor=world.users["head_b"])
    login_as(username)
    assert client.get(f"/attachments/{attachment.id}").data == PDF


def test_unknown_attachment_is_404_and_a_lost_file_too(client, world, application, upload_dir, login_as):
    attachment = _saved(application)
    (upload_dir / attachment.stored_name).unlink()
    login_as("truongtram_b")
    assert client.get("/attachments/999999").status_code == 404
    assert client.get(f"/attachments/{attachment.id}").status_code == 404


# --- delete ---------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_then_removes_row_and_file(client, world, application, upload_dir, login_as):
    attachment = _saved(application, actor=world.users["head_b"])
    stored, attachment_id = attachment.stored_name, attachment.id
    login_as("truongtram_b")
    url = f"/attachments/{attachment_id}/delete?next=/back/here"
    page = client.get(url).get_data(as_text=True)
    assert "Xoá tệp đính kèm?" in page and "cccd.pdf" in page and "không khôi phục được" in page
    assert (upload_dir / stored).exists()  # the GET alone deletes nothing
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "next": "/back/here"})
    assert response.status_code == 302 and response.headers["Location"] == "/back/here"
    db.session.expire_all()
    assert db.session.get(Attachment, attachment_id) is None
    assert not (upload_dir / stored).exists()
    assert _count(AuditEvent, AuditEvent.action == "attachment.delete", AuditEvent.object_id == str(attachment_id)) == 1


def test_delete_after_submission_is_refused(client, world, application, upload_dir, login_as):
    attachment = _saved(application, actor=world.users["head_b"])
    _to_submitted(world, application)
    login_as("truongtram_b")
    url = f"/attachments/{attachment.id}/delete"
    page = client.get(url).get_data(as_text=True)
    assert "không thể xoá tệp đính kèm" in page and 'type="submit"' not in page.split("<main")[1]
    response = client.post(url, data={"csrf_token": csrf_token(client, "/")}, follow_redirects=True)
    assert "không thể thêm hoặc xoá tệp" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attachment, attachment.id) is not None
    assert (upload_dir / attachment.stored_name).exists()


@pytest.mark.parametrize("username", ["xem_b", "ttyt689", "truongtram_a"])
def test_only_station_staff_delete(client, world, application, upload_dir, login_as, username):
    attachment = _saved(application)
    login_as(username)
    url = f"/attachments/{attachment.id}/delete"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"csrf_token": csrf_token(client, "/")}).status_code == 403
    assert (upload_dir / attachment.stored_name).exists()


# --- the disk follows the transaction ---------------------------------------------------------------


def test_a_rolled_back_upload_leaves_no_file(world, application, upload_dir):
    before = _files(upload_dir)
    attachment = attachments.save_attachment(application, kind="id_card", stream=BytesIO(PDF), filename="x.pdf")
    assert (upload_dir / attachment.stored_name).exists()
    db.session.rollback()
    assert _files(upload_dir) == before


def test_a_rolled_back_delete_keeps_the_file(world, application, upload_dir):
    attachment = _saved(application)
    attachments.delete_attachment(attachment)
    db.session.rollback()
    assert (upload_dir / attachment.stored_name).exists()
    assert db.session.get(Attachment, attachment.id) is not None


def test_check_upload_is_pure():
    assert attachments.check_upload("a.PDF", PDF)[1] is attachments.PDF
    assert attachments.sniff(EXE) is None
    assert attachments.clean_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert len(attachments.clean_name("a" * 300 + ".pdf")) == 255

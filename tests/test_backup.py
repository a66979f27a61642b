"""``danso backup FILE`` / ``danso restore FILE`` (issue #14 item 5), on the suite's database kind
(SQLite, or PostgreSQL with DANSO_TEST_DATABASE_URL): each installation here is a database of its
own with its own upload and job folders, written for real (not in a rolled-back transaction), and
the commands run as an administrator runs them.

What a user would notice: a restored copy serves the same roster, coverage map layers, yearly
report, attachments and job files as the original; a backup taken while someone is saving sees
none of the unsaved change and does not wait for it; a damaged archive, a newer schema, another
database kind, a target holding data without confirmation are refused with the target untouched;
missing PostgreSQL tools are named; a failed backup leaves no file under its name."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from shapely.geometry import box
from sqlalchemy import create_engine, func, inspect, select, text

from danso_network.auth.models import User
from danso_network.backup import services
from danso_network.extensions import db

from . import factories
from .conftest import IsolatedClient, _normalised, _own_database, _worker_suffix, login, make_app

KIND = "postgresql" if os.environ.get("DANSO_TEST_DATABASE_URL") else "sqlite"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CSV = "Họ và tên,Thôn\nĐiểu Thị Mai,Ấp Tân Lập\n".encode()
UNSAVED = "Tên đang sửa dở, chưa lưu"
REFUSED = "không phải bản sao lưu hợp lệ hoặc đã hỏng/không đầy đủ"


@dataclass
class Site:
    """One installation: an app over its own database, upload folder and job folder."""

    app: object
    url: str
    uploads: Path
    jobs: Path

    def run(self, *args, input: str | None = None):
        """``danso ARGS`` on this installation (in its own app context: the test's is another app's)."""
        with self.app.app_context():
            return self.app.test_cli_runner().invoke(args=[str(a) for a in args], input=input)

    def client(self, username: str):
        client = self.app.test_client()
        response = login(client, username, factories.PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return client


@contextlib.contextmanager
def site(tmp_path_factory, name: str, url: str | None = None):
    with contextlib.ExitStack() as stack:
        if url is None:
            url = stack.enter_context(_own_database(tmp_path_factory, _worker_suffix(name)))
        root = tmp_path_factory.mktemp(name)
        app = make_app(url, UPLOAD_DIR=str(root / "uploads"), JOB_DIR=str(root / "jobs"),
                       LOGIN_RATE_LIMIT="1000 per minute")  # the limiter stays on: it is shared by every app
        app.test_client_class = IsolatedClient
        try:
            yield Site(app, url, root / "uploads", root / "jobs")
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def files(folder: Path) -> dict[str, str]:
    """Every file under ``folder``: relative name -> SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.is_dir() else {}


def fill(s: Site) -> dict:
    """A small network on the migrated database of ``s``: the test world, hamlets drawn on the
    map, criteria, collaborators, a supervision visit, a dossier attachment, an import file kept
    between dry run and import, and a finished report job with its file."""
    from danso_network.imports import staging
    from danso_network.jobs import services as jobs
    from danso_network.recruitment import attachments
    from danso_network.recruitment import services as rs
    from danso_network.supervision.services import record_visit
    from danso_network.units.spatial import geometry_columns

    with s.app.app_context():
        w = factories.build_world()
        for hamlet, shape in ((w.hamlets_a[0], box(106.85, 11.50, 106.90, 11.60)),
                              (w.hamlets_b[0], box(106.95, 11.50, 107.00, 11.60)),
                              (w.hamlets_b[1], box(107.00, 11.50, 107.05, 11.60))):
            for key, value in geometry_columns(shape).items():
                setattr(hamlet, key, value)
        factories.criteria(w.dong_nai)
        first = factories.appoint(w.hamlets_a[0], 1)
        factories.appoint(w.hamlets_b[0], 2, date(2025, 10, 1))
        record_visit(first, supervisor=w.users["centre"], visited_on=date(2026, 2, 15),
                     checklist={"p0_submitted": True}, actor=None)
        application = rs.create_application(**factories.candidate_fields(w.hamlets_b[1], 3), actor=w.users["head_b"])
        attachment = attachments.save_attachment(application, kind="id_card", stream=BytesIO(PDF),
                                                 filename="Căn cước – Điểu Thị Mai.pdf", actor=w.users["head_b"])
        staging.stage(BytesIO(CSV), "ctv-ấp-tân-lập.csv", kind="collaborators", owner_id=w.users["head_b"].id)
        db.session.commit()
        job = jobs.submit("network_report", {"format": "xlsx", "year": 2026}, w.users["head_a"])
        db.session.commit()
        db.session.refresh(job)
        assert job.state == "done", job.error
        ids = {"province": w.dong_nai.id, "commune_a": w.commune_a.id, "commune_b": w.commune_b.id,
               "attachment": attachment.id, "job": job.id}
        db.session.remove()
    return ids


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    with site(tmp_path_factory, "backup_src") as s:
        result = s.run("db", "upgrade")
        assert result.exit_code == 0, result.output
        yield s, fill(s)


@pytest.fixture(scope="module")
def archive(source, tmp_path_factory) -> Path:
    """``danso backup`` of the source, taken while another connection holds an unsaved change."""
    s, _ = source
    path = tmp_path_factory.mktemp("backups") / "danso-2026-12-07.tar.gz"
    engine = create_engine(_normalised(s.url))
    try:
        with engine.connect() as saving:
            saving.execute(text("UPDATE user_account SET full_name = :name WHERE username = 'admin75'"),
                           {"name": UNSAVED})
            result = s.run("backup", path)
            saving.rollback()
    finally:
        engine.dispose()
    assert result.exit_code == 0, result.output
    assert f"Đã sao lưu vào “{path}”" in result.output and "giờ Việt Nam" in result.output
    return path


@pytest.fixture
def target(tmp_path_factory):
    """An empty installation (a database with no table at all, no folders)."""
    with site(tmp_path_factory, "backup_dst") as s:
        yield s


def holding_data(s: Site) -> int:
    """Give ``s`` a schema, the test world and an uploaded file; its number of accounts."""
    with s.app.app_context():
        db.create_all()
        factories.build_world()
        db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
    s.uploads.mkdir(parents=True)
    (s.uploads / "old-file").write_bytes(b"kept")
    return count


def accounts(s: Site) -> list[tuple[str, str]]:
    with s.app.app_context():
        try:
            return sorted(tuple(row) for row in db.session.execute(select(User.username, User.full_name)))
        finally:
            db.session.remove()


def leftovers(*folders: Path) -> list[str]:
    """Temporary files or folders a backup or restore left behind."""
    return sorted(p.name for folder in folders if folder.is_dir() for p in folder.iterdir()
                  if p.name.startswith(".danso-") or p.name.endswith(".part"))


# --- what the restored copy serves --------------------------------------------------------------------

# What differs between two sessions of the same page: CSRF tokens (itsdangerous-signed) and nonces.
_VOLATILE = re.compile(r'nonce="[^"]*"|[\w-]{20,}\.[\w-]{4,8}\.[\w-]{20,}')


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return _VOLATILE.sub("…", response.get_data(as_text=True))


def layer(client, url: str) -> dict:
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, (url, response.status_code)
    body = response.get_data()
    return json.loads(gzip.decompress(body) if response.headers.get("Content-Encoding") == "gzip" else body)


def cells(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.data


def served(s: Site, ids: dict) -> dict:
    """What the app serves over this installation's data: the province's roster (page and CSV),
    the coverage map's layers, the yearly report (page and XLSX), an attachment, a job's file."""
    province, a = ids["province"], ids["commune_a"]
    admin, head_a, head_b = s.client("admin75"), s.client("truongtram_a"), s.client("truongtram_b")
    return {
        "roster": page(admin, f"/collaborators/roster/{province}"),
        "roster.csv": download(admin, f"/exports/roster/{province}?format=csv"),
        "communes.geojson": layer(admin, f"/maps/layers/communes/{province}.geojson"),
        "hamlets.geojson": layer(admin, f"/maps/layers/hamlets/{a}.geojson"),
        "report": page(admin, f"/reports/network?year=2026&area=unit-{province}"),
        "report.xlsx": cells(admin, f"/reports/network?year=2026&area=unit-{province}&format=xlsx"),
        "attachment": download(head_b, f"/attachments/{ids['attachment']}"),
        "job": download(head_a, f"/jobs/{ids['job']}/download"),
    }


def test_a_restored_copy_serves_what_the_original_serves(source, archive, target):
    s, ids = source
    result = target.run("restore", archive)
    assert result.exit_code == 0, result.output
    assert "Bản sao lưu hợp lệ: tạo lúc" in result.output and "(giờ Việt Nam)" in result.output
    assert "Đã khôi phục cơ sở dữ liệu" in result.output and "tài khoản: 8" in result.output
    assert "Đã khôi phục 3 tệp tải lên, 1 tệp kết quả việc nền." in result.output
    assert "Gõ “có”" not in result.output  # an empty target needs no confirmation

    original, restored = served(s, ids), served(target, ids)
    assert "Nguyễn Thị Ứng Viên 1" in original["roster"]
    assert original["hamlets.geojson"]["features"] and original["communes.geojson"]["features"]
    assert any(row and row[0] == "Mã" for row in original["report.xlsx"]["Theo xã, phường"])
    assert original["attachment"] == PDF and original["job"].startswith(b"PK")
    for name in original:
        assert restored[name] == original[name], name
    # Every uploaded file and job file came back byte for byte, and nothing else.
    assert files(target.uploads) == files(s.uploads) and len(files(s.uploads)) == 3
    assert files(target.jobs) == files(s.jobs) and len(files(s.jobs)) == 1
    # The change being saved while the backup ran was neither waited for nor copied.
    assert ("admin75", UNSAVED) not in accounts(target)
    assert accounts(target) == accounts(s)
    assert leftovers(target.uploads.parent, target.jobs.parent) == []


def test_the_archive_lists_and_checks_every_member(source, archive):
    s, _ = source
    assert archive.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names[-1] == "manifest.json"
        manifest = json.loads(tar.extractfile("manifest.json").read())
        digests = {m.name: hashlib.sha256(tar.extractfile(m).read()).hexdigest() for m in tar if m.name != "manifest.json"}
    with s.app.app_context():
        heads = services.code_heads()
    assert manifest["format"] == "danso-backup" and manifest["app_version"]
    assert manifest["database"]["kind"] == KIND and manifest["alembic_revision"] == " ".join(heads)
    assert manifest["created_at"].endswith("+07:00")  # Vietnam's time
    assert manifest["counts"] == {"uploads": 3, "jobs": 1}
    assert {m["name"]: m["sha256"] for m in manifest["members"]} == digests
    assert sorted(n for n in names if n.startswith("uploads/")) == sorted(f"uploads/{n}" for n in files(s.uploads))


# --- refusals -----------------------------------------------------------------------------------------


def _rewrite(source: Path, out: Path, change) -> None:
    """Copy an archive member by member; ``change(name, data)`` returns new bytes or None to drop."""
    with tarfile.open(source) as old, tarfile.open(out, "w:gz") as new:
        for member in old:
            data = change(member.name, old.extractfile(member).read())
            if data is not None:
                member.size = len(data)
                new.addfile(member, io.BytesIO(data))


def _truncated(archive: Path, out: Path) -> None:
    out.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])


def _tampered(archive: Path, out: Path) -> None:
    _rewrite(archive, out, lambda name, data: data.replace(b"EOF", b"EoF") if name.startswith("uploads/") else data)


def _file_missing(archive: Path, out: Path) -> None:
    _rewrite(archive, out, lambda name, data: None if name.startswith("jobs/") else data)


def _no_manifest(archive: Path, out: Path) -> None:
    _rewrite(archive, out, lambda name, data: None if name == "manifest.json" else data)


def _not_an_archive(archive: Path, out: Path) -> None:
    out.write_text("Danh sách CTV\n", encoding="utf-8")


@pytest.mark.parametrize("damage, reason", [
    (_truncated, ""),
    (_tampered, "không khớp mã kiểm tra SHA-256"),
    (_file_missing, "thiếu 1 tệp"),
    (_no_manifest, "không có bản kê manifest.json"),
    (_not_an_archive, ""),
], ids=["truncated", "tampered", "file-missing", "no-manifest", "not-an-archive"])
def test_a_damaged_archive_is_refused_and_the_target_untouched(archive, target, tmp_path, damage, reason):
    count = holding_data(target)
    before, uploads = accounts(target), files(target.uploads)
    damaged = tmp_path / "damaged.tar.gz"
    damage(archive, damaged)
    result = target.run("restore", "--force", damaged)
    assert result.exit_code == 2
    assert REFUSED in result.output and reason in result.output and "Chưa có gì bị thay đổi" in result.output
    assert "Traceback" not in result.output
    assert accounts(target) == before and len(before) == count
    assert files(target.uploads) == uploads
    assert leftovers(target.uploads.parent, target.jobs.parent) == []


def test_a_target_holding_data_is_replaced_only_when_confirmed(source, archive, target):
    s, _ = source
    holding_data(target)
    before = accounts(target)
    refused = target.run("restore", archive, input="không\n")
    assert refused.exit_code == 2
    assert "Cơ sở dữ liệu đích đang có dữ liệu" in refused.output and "--force" in refused.output
    assert accounts(target) == before and files(target.uploads) == {"old-file": hashlib.sha256(b"kept").hexdigest()}

    no_terminal = target.run("restore", archive)  # as under cron: nobody answers
    assert no_terminal.exit_code == 2 and "đã huỷ, chưa có gì bị thay đổi" in no_terminal.output
    assert accounts(target) == before

    confirmed = target.run("restore", archive, input="có\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert accounts(target) == accounts(s)
    assert files(target.uploads) == files(s.uploads)
    [aside] = [p for p in target.uploads.parent.iterdir() if p.name.startswith("uploads.truoc-khoi-phuc-")]
    assert (aside / "old-file").read_bytes() == b"kept"  # the files it replaced are kept, and said so
    assert f"giữ lại ở “{aside}”" in confirmed.output

    forced = target.run("restore", "--force", archive)
    assert forced.exit_code == 0, forced.output
    assert "Gõ “có”" not in forced.output and accounts(target) == accounts(s)


def test_a_backup_from_a_newer_version_is_refused(tmp_path_factory, target, tmp_path):
    with site(tmp_path_factory, "backup_new") as newer:
        with newer.app.app_context():
            db.create_all()
            factories.build_world()
            db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            db.session.execute(text("INSERT INTO alembic_version VALUES ('ffff0000aaaa')"))
            db.session.commit()
            db.session.remove()
        made = newer.run("backup", tmp_path / "newer.tar.gz")
        assert made.exit_code == 0, made.output
    result = target.run("restore", tmp_path / "newer.tar.gz")
    assert result.exit_code == 2
    assert "phiên bản mới hơn của ứng dụng" in result.output and "ffff0000aaaa" in result.output
    with target.app.app_context():
        assert inspect(db.engine).get_table_names() == []  # nothing was created
        db.engine.dispose()


def test_an_older_backup_is_restored_and_the_upgrade_is_asked_for(tmp_path_factory, target, tmp_path):
    with site(tmp_path_factory, "backup_old") as older:
        with older.app.app_context():
            script = services._script_directory()
            [head] = services.code_heads()
            previous = script.get_revision(head).down_revision
        assert older.run("db", "upgrade", previous).exit_code == 0
        made = older.run("backup", tmp_path / "older.tar.gz")
        assert made.exit_code == 0, made.output
        assert f"lược đồ {previous}" in made.output
    result = target.run("restore", tmp_path / "older.tar.gz")
    assert result.exit_code == 0, result.output
    assert f"cũ hơn mã hiện tại ({previous} → {head}): chạy `danso db upgrade`" in result.output
    upgraded = target.run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    with target.app.app_context():
        assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        db.session.remove()


def test_a_backup_is_not_restored_into_another_kind_of_database(archive, tmp_path_factory, tmp_path):
    if KIND == "sqlite":  # never connected to: the kind is read from the backup first
        other_url, other = "postgresql+psycopg://postgres@127.0.0.1:5432/danso_backup_never_created", "PostgreSQL"
    else:
        other_url, other = f"sqlite:///{tmp_path}/other.db", "SQLite"
    mine = services.KIND_LABELS[KIND]
    with site(tmp_path_factory, "backup_other", url=other_url) as s:
        result = s.run("restore", archive)
    assert result.exit_code == 2
    assert f"Bản sao lưu là của cơ sở dữ liệu {mine}, không khôi phục được vào {other}" in result.output
    assert not (tmp_path / "other.db").exists() and not s.uploads.exists()


def test_missing_postgresql_tools_are_named(tmp_path_factory, tmp_path, monkeypatch):
    url = "postgresql+psycopg://postgres:secret@127.0.0.1:5432/danso_backup_never_created"
    with site(tmp_path_factory, "backup_tools", url=url) as s:
        monkeypatch.setenv("PATH", str(tmp_path))  # a machine without the PostgreSQL client
        result = s.run("backup", tmp_path / "danso.tar.gz")
        assert result.exit_code == 2
        assert "Không tìm thấy chương trình pg_dump" in result.output and "postgresql-client" in result.output
        assert "Traceback" not in result.output
        assert list(tmp_path.iterdir()) == []  # no file, not even a partial one
        monkeypatch.undo()
        s.app.config["PG_RESTORE"] = "/opt/khong-co/pg_restore"  # DANSO_PG_RESTORE naming a wrong path
        result = s.run("restore", tmp_path / "danso.tar.gz")
        assert result.exit_code == 2
        assert "Không tìm thấy chương trình /opt/khong-co/pg_restore" in result.output
        assert "DANSO_PG_RESTORE" in result.output


def test_a_failed_backup_leaves_the_previous_file_and_no_partial_one(tmp_path_factory, tmp_path):
    if KIND == "sqlite":
        broken = tmp_path / "broken.db"
        broken.write_bytes(b"this is not a database" * 100)
        url, reason = f"sqlite:///{broken}", "Không đọc được cơ sở dữ liệu SQLite"
    else:
        url = _normalised(os.environ["DANSO_TEST_DATABASE_URL"]).rsplit("/", 1)[0] + "/danso_backup_never_created"
        reason = "Không kết nối được cơ sở dữ liệu PostgreSQL"
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "danso.tar.gz").write_bytes(b"yesterday's backup")
    with site(tmp_path_factory, "backup_failing", url=url) as s:
        result = s.run("backup", backups / "danso.tar.gz")
    assert result.exit_code == 2 and reason in result.output and "Traceback" not in result.output
    assert [p.name for p in backups.iterdir()] == ["danso.tar.gz"]
    assert (backups / "danso.tar.gz").read_bytes() == b"yesterday's backup"


def test_the_postgresql_password_never_reaches_the_command_line():
    dsn, env = services.libpq_target("postgresql+psycopg://danso:m%E1%BA%ADt%40kh%E1%BA%A9u@db.local:5433/danso"
                                     "?sslmode=require")
    assert dsn == "postgresql://danso@db.local:5433/danso?sslmode=require"
    assert env["PGPASSWORD"] == "mật@khẩu"

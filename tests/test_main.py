"""App-wide behaviour: health check, configuration safety, assets served locally, headers."""

from __future__ import annotations

import re

import pytest

from danso_network import create_app

from .conftest import login


def test_health_reports_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_secret_key_is_required_outside_debug_and_test(monkeypatch, tmp_path):
    monkeypatch.delenv("DANSO_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="DANSO_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    monkeypatch.setenv("DANSO_SECRET_KEY", "a-long-random-secret")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECRET_KEY"] == "a-long-random-secret"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_overrides_configuration(monkeypatch, tmp_path):
    monkeypatch.setenv("DANSO_SECRET_KEY", "s3cret-value")
    monkeypatch.setenv("DANSO_DATABASE_URL", "postgresql://u@localhost/x")
    monkeypatch.setenv("DANSO_SESSION_COOKIE_SECURE", "false")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@localhost/x"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_pages_use_only_local_assets(client, world):
    login(client, "admin75")
    html = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:css|js|svg))"', html)
    assert assets, "no assets found"
    for asset in assets:
        assert asset.startswith("/"), asset
        assert client.get(asset).status_code == 200, asset


def test_favicon_is_served(client):
    assert client.get("/favicon.ico").status_code == 200


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_language_switch_is_remembered_and_unknown_language_ignored(client):
    assert 'lang="vi"' in client.get("/login").get_data(as_text=True)
    response = client.get("/lang/en?next=/login")
    assert response.headers["Location"] == "/login"
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    client.get("/lang/xx")
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    assert client.get("/lang/vi?next=https://evil.example").headers["Location"] == "/"


def test_unknown_page_is_a_vietnamese_404(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)


def test_api_style_requests_get_json_errors(client):
    response = client.get("/khong-co", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]

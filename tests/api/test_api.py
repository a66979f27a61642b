"""The JSON API: tokens, scope, each endpoint's good and bad paths, and the whole recruitment path
from a vacant hamlet to an active collaborator through the API only."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.api.auth import issue_token
from danso_network.api.models import ApiToken
from danso_network.auth.models import User
from danso_network.collaborators.models import Assignment, Collaborator
from danso_network.extensions import db
from danso_network.recruitment.models import Application, ApplicationEvent, Candidate, RecognitionDecision

from .. import factories

MANUAL_OK = {c: {"ok": True, "note": "Trưởng ấp xác nhận"} for c in ["RESPONSIBLE", "MOBILISES", "TRUSTED",
                                                                      "STABLE_WORK"]}


class Api:
    """A test client speaking JSON with one user's bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, url, **kw):
        return self.client.get("/api/v1" + url, headers=self.headers, **kw)

    def post(self, url, body=None, **kw):
        return self.client.post("/api/v1" + url, json=body, headers=self.headers, **kw)

    def put(self, url, body=None, **kw):
        return self.client.put("/api/v1" + url, json=body, headers=self.headers, **kw)

    def delete(self, url, **kw):
        return self.client.delete("/api/v1" + url, headers=self.headers, **kw)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def as_user(app, world):
    """``as_user("truongtram_b")`` → an :class:`Api` with a fresh token (issued by the service,
    so the token endpoint's rate limit is left to the tests about it)."""

    def make(username: str) -> Api:
        _, raw = issue_token(user(username))
        db.session.commit()
        return Api(app.test_client(), raw)

    return make


@pytest.fixture
def setup(world):
    factories.criteria(world.dong_nai)
    db.session.commit()
    return world


def candidate_json(hamlet, serial: int = 1, **overrides) -> dict:
    fields = factories.candidate_fields(hamlet, serial)
    body = {"hamlet_id": hamlet.id, "full_name": fields["full_name"],
            "date_of_birth": fields["date_of_birth"].isoformat(), "sex": fields["sex"],
            "ethnicity": fields["ethnicity"], "national_id": fields["national_id"],
            "residence_hamlet_id": hamlet.id, "education": fields["education"], "phone": fields["phone"]}
    body.update(overrides)
    return body


FULL_DOSSIER = {"items": {k: True for k in ["application_letter", "id_card", "education_proof", "health_evidence",
                                            "endorsement"]},
                "application_signed_on": "2025-09-01"}


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(Application)),
            db.session.scalar(select(func.count()).select_from(Candidate)),
            db.session.scalar(select(func.count()).select_from(ApplicationEvent)))


def nominate(api: Api, hamlet, serial: int = 1) -> int:
    response = api.post("/applications", candidate_json(hamlet, serial))
    assert response.status_code == 201, response.json
    return response.json["id"]


def to_submitted(head: Api, hamlet, serial: int = 1) -> int:
    app_id = nominate(head, hamlet, serial)
    assert head.put(f"/applications/{app_id}/dossier", FULL_DOSSIER).status_code == 200
    for body in [{"action": "complete_dossier"}, {"action": "screen"},
                 {"action": "review", "manual_checks": MANUAL_OK, "ranking": 1}, {"action": "submit"}]:
        response = head.post(f"/applications/{app_id}/transitions", body)
        assert response.status_code == 200, response.json
    return app_id


def state_of(app_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Application, app_id).state


# --- tokens -------------------------------------------------------------------------------------


def test_token_is_issued_for_right_password_and_only_its_hash_is_stored(client, world):
    response = client.post("/api/v1/auth/token", json={"username": "truongtram_a", "password": factories.PASSWORD,
                                                        "name": "Máy tính trạm"})
    assert response.status_code == 201
    token = response.json["token"]
    expires = datetime.fromisoformat(response.json["expires_at"])
    assert expires.tzinfo is not None
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.users["head_a"].id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.name == "Máy tính trạm"
    assert token not in (row.token_hash, row.name)
    assert Api(client, token).get("/applications").status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).last_used_at is not None


@pytest.mark.parametrize("username, password", [("truongtram_a", "sai-mat-khau"), ("khongtontai", "matkhau-demo-1")])
def test_wrong_user_or_password_gets_the_same_401(client, world, username, password):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json == {"error": "Tên đăng nhập hoặc mật khẩu không đúng.", "status": 401}
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_locked_account_gets_no_token_and_its_tokens_stop_working(client, world, as_user):
    api = as_user("truongtram_a")
    world.users["head_a"].active = False
    db.session.commit()
    assert client.post("/api/v1/auth/token", json={"username": "truongtram_a",
                                                   "password": factories.PASSWORD}).status_code == 401
    response = api.get("/applications")
    assert response.status_code == 401 and "khoá" in response.json["error"]


def test_changing_the_password_ends_the_tokens_like_the_sessions(world, as_user):
    from danso_network.auth import services as auth_services

    api = as_user("truongtram_a")
    auth_services.set_password(world.users["head_a"], "matkhau-moi-22")
    db.session.commit()
    response = api.get("/applications")
    assert response.status_code == 401 and "Mật khẩu đã được đổi" in response.json["error"]


def test_token_request_is_throttled_like_the_login(client, world):
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"username": "truongtram_a",
                                                       "password": "sai"}).status_code == 401
    response = client.post("/api/v1/auth/token", json={"username": "truongtram_a", "password": factories.PASSWORD})
    assert response.status_code == 429
    assert response.is_json and "quá nhiều lần" in response.json["error"] and response.json["status"] == 429


def test_token_request_needs_username_and_password(client, world):
    response = client.post("/api/v1/auth/token", json={"username": 7})
    assert response.status_code == 422
    assert response.json["field"] == "username"
    assert response.json["problems"] == ["Trường “username” phải là chuỗi ký tự.",
                                         "Thiếu trường bắt buộc “password”."]


def test_revoked_token_stops_working(as_user):
    api = as_user("truongtram_a")
    response = api.delete("/auth/token")
    assert response.status_code == 200 and response.json["revoked"] is True
    response = api.get("/applications")
    assert response.status_code == 401 and "thu hồi" in response.json["error"]


def test_expired_token_is_refused(as_user):
    api = as_user("truongtram_a")
    token = db.session.scalar(select(ApiToken))
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    response = api.get("/vacancies")
    assert response.status_code == 401 and "hết hạn" in response.json["error"]


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer dso_khong-phai-ma-that", "Basic dXNlcjpwYXNz"])
def test_missing_or_unknown_token_is_401_json(client, world, header):
    response = client.get("/api/v1/applications", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.is_json and response.json["status"] == 401 and "mã truy cập" in response.json["error"].lower()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_cookie_does_not_authenticate_the_api(client, world, login_as):
    login_as("truongtram_a")
    assert client.get("/api/v1/applications").status_code == 401


# --- vacancies ----------------------------------------------------------------------------------


def test_vacancies_are_scoped(setup, as_user):
    head_a = as_user("truongtram_a")
    response = head_a.get("/vacancies")
    assert response.status_code == 200
    assert {v["hamlet"]["id"] for v in response.json["items"]} == {h.id for h in setup.hamlets_a}
    assert {v["commune"]["code"] for v in response.json["items"]} == {"25195"}
    vacancy = response.json["items"][0]
    assert {"quota", "active", "missing", "open_applications"} <= set(vacancy)
    assert head_a.get("/vacancies?commune=25210").status_code == 403
    assert head_a.get("/vacancies?commune=99999").status_code == 404
    centre = as_user("ttyt689")
    both = {v["hamlet"]["id"] for v in centre.get("/vacancies").json["items"]}
    assert both == {h.id for h in setup.hamlets_a + setup.hamlets_b}
    only_b = centre.get("/vacancies?commune=25210").json["items"]
    assert {v["hamlet"]["id"] for v in only_b} == {h.id for h in setup.hamlets_b}


def test_vacancies_come_a_page_at_a_time_with_the_totals_of_the_whole_list(setup, as_user):
    centre = as_user("ttyt689")
    whole = centre.get("/vacancies").json
    n = len(setup.hamlets_a + setup.hamlets_b)
    assert (whole["total"], whole["page"], whole["pages"], len(whole["items"])) == (n, 1, 1, n)
    assert whole["empty"] == sum(v["active"] == 0 for v in whole["items"])
    assert whole["missing"] == sum(v["missing"] for v in whole["items"]) > 0
    pages = [centre.get(f"/vacancies?per_page=1&page={i}").json for i in range(1, n + 1)]
    assert [p["items"][0]["hamlet"]["id"] for p in pages] == [v["hamlet"]["id"] for v in whole["items"]]
    assert {(p["total"], p["pages"], p["per_page"], p["empty"], p["missing"]) for p in pages} == {
        (n, n, 1, whole["empty"], whole["missing"])}
    stale = centre.get(f"/vacancies?per_page=1&page={n + 5}").json  # past the end: the last page
    assert stale["page"] == n and stale["items"] == pages[-1]["items"]


def test_user_without_grant_sees_no_vacancy_and_no_application(setup, as_user):
    nobody = as_user("chuacapquyen")
    assert nobody.get("/vacancies").json["items"] == []
    assert nobody.get("/applications").json["total"] == 0


# --- creating applications ----------------------------------------------------------------------


def test_station_head_nominates_a_candidate(setup, as_user):
    head = as_user("truongtram_b")
    hamlet = setup.hamlets_b[0]
    response = head.post("/applications", candidate_json(hamlet, is_village_health_worker=True,
                                                         languages="S'tiêng, Việt", unknown_field="bỏ qua"))
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/applications/{body['id']}")
    assert body["state"] == "nominated" and body["state_label"] == "Được giới thiệu"
    assert body["hamlet"]["id"] == hamlet.id and body["commune"]["code"] == "25210"
    assert body["candidate"]["is_village_health_worker"] is True
    assert body["candidate"]["national_id"] == candidate_json(hamlet)["national_id"]
    assert [a["action"] for a in body["available_actions"]] == ["complete_dossier", "withdraw"]
    assert db.session.get(Application, body["id"]).candidate.languages == "S'tiêng, Việt"


def test_nominating_outside_scope_is_403_and_unknown_hamlet_404(setup, as_user):
    head_a = as_user("truongtram_a")
    before = counts()
    response = head_a.post("/applications", candidate_json(setup.hamlets_b[0]))
    assert response.status_code == 403 and response.json["error"]
    response = head_a.post("/applications", candidate_json(setup.hamlets_a[0], hamlet_id=999999))
    assert response.status_code == 404 and response.json["error"] == "Không tìm thấy thôn/tổ dân phố."
    assert as_user("ttyt689").post("/applications", candidate_json(setup.hamlets_b[0])).status_code == 403
    assert counts() == before


@pytest.mark.parametrize("overrides, field, message", [
    ({"national_id": "12345"}, "national_id", "Số CCCD phải gồm đúng 12 chữ số."),
    ({"national_id": "070090000001"}, "national_id", "giới tính và năm sinh"),
    ({"date_of_birth": "2099-01-01"}, "date_of_birth", "Ngày sinh phải trước ngày hôm nay."),
    ("other_hamlet", "residence_hamlet_id", "phải đang sinh sống tại"),
    ({"residence_hamlet_id": 999999}, "residence_hamlet_id", "Không tìm thấy thôn/tổ dân phố nơi cư trú."),
    ({"date_of_birth": "17/05/1990"}, "date_of_birth", "phải là ngày dạng YYYY-MM-DD"),
    ({"hamlet_id": "một"}, "hamlet_id", "Trường “hamlet_id” phải là số nguyên."),
    ({"is_village_health_worker": "có"}, "is_village_health_worker", "phải là true hoặc false"),
    ({"sex": "nu"}, "sex", "phải là một trong các giá trị: female, male"),
    ({"full_name": None}, "full_name", "Thiếu trường bắt buộc “full_name”."),
    ({"full_name": "A"}, "full_name", "Vui lòng nhập đầy đủ họ và tên."),
])
def test_bad_candidate_input_is_422_with_the_field_and_nothing_changes(setup, as_user, overrides, field, message):
    head = as_user("truongtram_b")
    if overrides == "other_hamlet":
        overrides = {"residence_hamlet_id": setup.hamlets_b[1].id}
    before = counts()
    response = head.post("/applications", candidate_json(setup.hamlets_b[0], **overrides))
    assert response.status_code == 422
    assert response.json["status"] == 422 and response.json["field"] == field
    assert message in response.json["error"] and response.json["problems"]
    assert counts() == before


def test_every_type_problem_is_listed(setup, as_user):
    response = as_user("truongtram_b").post("/applications", {"hamlet_id": True, "date_of_birth": 19900517})
    assert response.status_code == 422
    problems = response.json["problems"]
    assert "Trường “hamlet_id” phải là số nguyên." in problems
    assert any("date_of_birth" in p for p in problems)
    assert "Thiếu trường bắt buộc “national_id”." in problems


@pytest.mark.parametrize("data, content_type, message", [
    (b'{"hamlet_id": 1,', "application/json", "không phải JSON hợp lệ"),
    (b"[1, 2]", "application/json", "phải là một đối tượng JSON"),
    (b"", "application/json", "Thiếu nội dung JSON"),
    (b"hamlet_id=1", "application/x-www-form-urlencoded", "không phải JSON hợp lệ"),
    (b'{"full_name": "\xff"}', "application/json", "UTF-8"),
])
def test_malformed_json_is_400_with_a_reason(setup, as_user, data, content_type, message):
    head = as_user("truongtram_b")
    before = counts()
    response = head.client.post("/api/v1/applications", data=data, content_type=content_type, headers=head.headers)
    assert response.status_code == 400
    assert message in response.json["error"] and response.json["status"] == 400
    assert counts() == before


def test_same_cccd_for_another_person_is_409(setup, as_user):
    head = as_user("truongtram_b")
    nominate(head, setup.hamlets_b[0])
    response = head.post("/applications", candidate_json(setup.hamlets_b[1], full_name="Trần Văn Khác",
                                                         residence_hamlet_id=setup.hamlets_b[1].id))
    assert response.status_code == 409 and response.json["field"] == "national_id"
    assert "đã được ghi cho một người khác" in response.json["error"]


# --- reading applications -----------------------------------------------------------------------


def test_list_is_scoped_filtered_and_paginated(setup, as_user):
    head_a, head_b = as_user("truongtram_a"), as_user("truongtram_b")
    in_a = [nominate(head_a, setup.hamlets_a[0], 1), nominate(head_a, setup.hamlets_a[1], 2)]
    in_b = nominate(head_b, setup.hamlets_b[0], 3)
    head_b.put(f"/applications/{in_b}/dossier", FULL_DOSSIER)
    head_b.post(f"/applications/{in_b}/transitions", {"action": "complete_dossier"})
    listed = head_a.get("/applications").json
    assert {i["id"] for i in listed["items"]} == set(in_a) and listed["total"] == 2
    assert in_b not in {i["id"] for i in head_a.get("/applications?q=Ung+Vien+3").json["items"]}
    assert head_a.get("/applications?commune=25210").status_code == 403
    centre = as_user("ttyt689")
    assert centre.get("/applications").json["total"] == 3
    assert [i["id"] for i in centre.get("/applications?state=dossier_complete").json["items"]] == [in_b]
    assert [i["id"] for i in centre.get("/applications?commune=25210").json["items"]] == [in_b]
    assert [i["id"] for i in centre.get("/applications?q=ung vien 2").json["items"]] == [in_a[1]]
    assert [i["id"] for i in centre.get("/applications?q=Ứng Viên 2").json["items"]] == [in_a[1]]
    page = centre.get("/applications?per_page=2&page=2").json
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (3, 2, 2, 1)


@pytest.mark.parametrize("path, query, field", [
    ("/applications", "state=dang_xu_ly", "state"), ("/applications", "per_page=501", "per_page"),
    ("/applications", "page=0", "page"), ("/applications", "page=abc", "page"),
    ("/vacancies", "per_page=0", "per_page"), ("/vacancies", "page=abc", "page")])
def test_bad_list_parameters_are_422(setup, as_user, path, query, field):
    response = as_user("ttyt689").get(f"{path}?{query}")
    assert response.status_code == 422 and response.json["field"] == field and response.json["error"]


def test_detail_shows_actions_for_the_caller_and_refuses_other_communes(setup, as_user):
    head_b = as_user("truongtram_b")
    app_id = to_submitted(head_b, setup.hamlets_b[0])
    body = head_b.get(f"/applications/{app_id}").json
    assert body["state"] == "submitted" and body["available_actions"] == [
        {"action": "withdraw", "label": "Rút hồ sơ"}]
    assert body["screening"]["passed"] is True and body["screening"]["criteria_version"] == 1
    assert {r["code"] for r in body["screening"]["results"]} >= {"EDU_MIN", "RESIDES_IN_HAMLET", "QUOTA"}
    assert all(r["label"] and r["source"] for r in body["screening"]["results"])
    assert body["dossier"]["items"]["health_evidence"] is True
    assert body["dossier"]["application_signed_on"] == "2025-09-01"
    assert body["manual_checks"]["TRUSTED"] == {"ok": True, "note": "Trưởng ấp xác nhận"}
    centre = as_user("ttyt689").get(f"/applications/{app_id}").json
    assert [a["action"] for a in centre["available_actions"]] == ["approve", "reject", "return"]
    assert as_user("xem_b").get(f"/applications/{app_id}").json["available_actions"] == []
    head_a = as_user("truongtram_a")
    assert head_a.get(f"/applications/{app_id}").status_code == 403
    assert head_a.get(f"/applications/{app_id}/timeline").status_code == 403
    assert head_a.get("/applications/999999").status_code == 404
    assert head_a.get("/applications/99999999999").status_code == 404


# --- dossier ------------------------------------------------------------------------------------


def test_dossier_is_recorded_and_bad_input_changes_nothing(setup, as_user):
    head = as_user("truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    response = head.put(f"/applications/{app_id}/dossier", {"items": {"application_letter": True, "id_card": False},
                                                              "application_signed_on": "2025-09-01"})
    assert response.status_code == 200
    assert response.json["dossier"]["items"] == {"application_letter": True, "id_card": False,
                                                 "education_proof": False, "health_evidence": False,
                                                 "endorsement": False}
    events = counts()[2]
    for body, field in [({"items": {"id_card": "có"}}, "items"),
                        ({"items": {}, "application_signed_on": "2099-01-01"}, "application_signed_on"),
                        ({"application_signed_on": "2025-09-01"}, "items")]:
        response = head.put(f"/applications/{app_id}/dossier", body)
        assert response.status_code == 422 and response.json["field"] == field, response.json
    assert counts()[2] == events
    db.session.expire_all()
    assert db.session.get(Application, app_id).dossier["application_letter"] is True


def test_dossier_needs_a_station_role_in_scope(setup, as_user):
    app_id = nominate(as_user("truongtram_b"), setup.hamlets_b[0])
    for username in ("truongtram_a", "xem_b", "ttyt689"):
        response = as_user(username).put(f"/applications/{app_id}/dossier", FULL_DOSSIER)
        assert response.status_code == 403, username
    assert db.session.get(Application, app_id).dossier == {}


# --- transitions --------------------------------------------------------------------------------


def test_transition_not_allowed_from_the_state_is_409_and_changes_nothing(setup, as_user):
    app_id = nominate(as_user("truongtram_b"), setup.hamlets_b[0])
    before = counts()
    response = as_user("ttyt689").post(f"/applications/{app_id}/transitions", {"action": "approve"})
    assert response.status_code == 409
    assert response.json["error"] == "Không thể “Phê duyệt” hồ sơ đang ở trạng thái “Được giới thiệu”."
    assert counts() == before and state_of(app_id) == "nominated"


def test_transition_by_a_wrong_role_is_403_and_changes_nothing(setup, as_user):
    head_b = as_user("truongtram_b")
    app_id = to_submitted(head_b, setup.hamlets_b[0])
    before = counts()
    response = head_b.post(f"/applications/{app_id}/transitions", {"action": "approve"})
    assert response.status_code == 403 and "Vai trò của bạn không được phép" in response.json["error"]
    assert as_user("xem_b").post(f"/applications/{app_id}/transitions", {"action": "reject",
                                                                         "comment": "x"}).status_code == 403
    assert as_user("truongtram_a").post(f"/applications/{app_id}/transitions",
                                        {"action": "approve"}).status_code == 403
    assert counts() == before and state_of(app_id) == "submitted"


@pytest.mark.parametrize("body, status, field, message", [
    ({"action": "reject"}, 422, "comment", "Từ chối phải ghi rõ lý do."),
    ({"action": "reject", "comment": "   "}, 422, "comment", "Từ chối phải ghi rõ lý do."),
    ({"action": "return"}, 422, "comment", "Trả lại hồ sơ phải ghi rõ"),
    ({"action": "phe_duyet"}, 422, "action", "phải là một trong các giá trị"),
    ({}, 422, "action", "Thiếu trường bắt buộc “action”."),
    ({"action": "approve", "on": "hôm nay"}, 422, "on", "YYYY-MM-DD"),
    ({"action": "contract"}, 409, None, "Không thể “Ký hợp đồng trách nhiệm”"),
])
def test_bad_transition_input(setup, as_user, body, status, field, message):
    app_id = to_submitted(as_user("truongtram_b"), setup.hamlets_b[0])
    before = counts()
    response = as_user("ttyt689").post(f"/applications/{app_id}/transitions", body)
    assert response.status_code == status
    assert response.json.get("field") == field and message in response.json["error"]
    assert counts() == before and state_of(app_id) == "submitted"


def test_review_lists_every_unconfirmed_criterion(setup, as_user):
    head = as_user("truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    head.put(f"/applications/{app_id}/dossier", FULL_DOSSIER)
    head.post(f"/applications/{app_id}/transitions", {"action": "complete_dossier"})
    head.post(f"/applications/{app_id}/transitions", {"action": "screen"})
    response = head.post(f"/applications/{app_id}/transitions",
                         {"action": "review", "manual_checks": {"RESPONSIBLE": {"ok": True}}})
    assert response.status_code == 422 and len(response.json["problems"]) == 3
    assert state_of(app_id) == "screened"
    response = head.post(f"/applications/{app_id}/transitions",
                         {"action": "review", "manual_checks": {"RESPONSIBLE": "ok"}})
    assert response.status_code == 422 and response.json["field"] == "manual_checks"


def test_incomplete_dossier_cannot_be_marked_complete(setup, as_user):
    head = as_user("truongtram_b")
    app_id = nominate(head, setup.hamlets_b[0])
    response = head.post(f"/applications/{app_id}/transitions", {"action": "complete_dossier"})
    assert response.status_code == 422 and "Đơn tình nguyện" in response.json["error"]
    assert len(response.json["problems"]) == 6


def test_rejection_with_reason_and_timeline(setup, as_user):
    app_id = to_submitted(as_user("truongtram_b"), setup.hamlets_b[0])
    centre = as_user("ttyt689")
    response = centre.post(f"/applications/{app_id}/transitions",
                           {"action": "reject", "comment": "Không đủ sức khỏe theo giấy khám."})
    assert response.status_code == 200
    assert response.json["application"]["state"] == "rejected"
    assert response.json["application"]["rejection_reason"] == "Không đủ sức khỏe theo giấy khám."
    assert response.json["event"]["action"] == "reject" and response.json["event"]["actor"] == "ttyt689"
    assert as_user("xem_b").get(f"/applications/{app_id}/timeline").json["items"][-1]["comment"] == \
        "Không đủ sức khỏe theo giấy khám."


# --- decisions ----------------------------------------------------------------------------------


def test_decision_number_reused_in_the_same_year_is_409(setup, as_user):
    head, centre = as_user("truongtram_b"), as_user("ttyt689")
    first, second = to_submitted(head, setup.hamlets_b[0], 1), to_submitted(head, setup.hamlets_b[1], 2)
    for app_id in (first, second):
        assert centre.post(f"/applications/{app_id}/transitions", {"action": "approve"}).status_code == 200
    body = {"application_ids": [first], "number": "7/QĐ-TTYT", "issued_on": "2025-10-01", "signer_name": "Lê Văn A",
            "signer_title": "Giám đốc"}
    assert centre.post("/decisions", body).status_code == 201
    response = centre.post("/decisions", {**body, "application_ids": [second], "issued_on": "2025-11-02"})
    assert response.status_code == 409 and response.json["field"] == "number"
    assert "đã được dùng trong năm 2025" in response.json["error"]
    db.session.expire_all()
    assert db.session.get(Application, second).decision_id is None
    assert db.session.scalar(select(func.count()).select_from(RecognitionDecision)) == 1


def test_decision_needs_the_approver_and_approved_applications(setup, as_user):
    head, centre = as_user("truongtram_b"), as_user("ttyt689")
    app_id = to_submitted(head, setup.hamlets_b[0])
    body = {"application_ids": [app_id], "number": "8/QĐ", "issued_on": "2025-10-01", "signer_name": "Lê Văn A"}
    assert centre.post("/decisions", body).status_code == 409  # still submitted
    centre.post(f"/applications/{app_id}/transitions", {"action": "approve"})
    assert head.post("/decisions", body).status_code == 403
    assert as_user("truongtram_a").post("/decisions", body).status_code == 403
    assert centre.post("/decisions", {**body, "application_ids": [999999]}).status_code == 404
    assert centre.post("/decisions", {**body, "application_ids": []}).json["field"] == "application_ids"
    assert centre.post("/decisions", {**body, "issued_on": "2099-01-01"}).json["field"] == "issued_on"
    assert db.session.scalar(select(func.count()).select_from(RecognitionDecision)) == 0


# --- the whole path -----------------------------------------------------------------------------


def test_vacant_hamlet_to_active_collaborator_through_the_api_only(setup, as_user):
    head, centre = as_user("truongtram_b"), as_user("ttyt689")
    hamlet = setup.hamlets_b[1]  # Ấp 2: 90 households, quota 1, nobody yet
    vacancy = next(v for v in head.get("/vacancies").json["items"] if v["hamlet"]["id"] == hamlet.id)
    assert (vacancy["active"], vacancy["quota"], vacancy["open_applications"]) == (0, 1, 0)
    app_id = to_submitted(head, hamlet)
    approved = centre.post(f"/applications/{app_id}/transitions", {"action": "approve", "comment": "Đồng ý"})
    assert approved.status_code == 200 and approved.json["application"]["state"] == "approved"
    decision = centre.post("/decisions", {"application_ids": [app_id], "number": "15/QĐ-TTYT",
                                          "issued_on": "2025-10-01", "signer_name": "Lê Văn A",
                                          "signer_title": "Giám đốc"})
    assert decision.status_code == 201
    assert decision.json["issuer_name"] == setup.centre.name and decision.json["application_ids"] == [app_id]
    contract = centre.post(f"/applications/{app_id}/transitions",
                           {"action": "contract", "contract_date": "2025-10-05", "contract_number": "HĐ-01",
                            "allowance_tier": "Mức chung"})
    assert contract.status_code == 200 and contract.json["application"]["contract"]["number"] == "HĐ-01"
    active = head.post(f"/applications/{app_id}/transitions", {"action": "activate", "on": "2025-10-06"})
    assert active.status_code == 200
    assert active.json["application"]["state"] == "active"
    assert active.json["application"]["activated_on"] == "2025-10-06"
    assert active.json["event"]["to_state"] == "active"
    collaborator = db.session.scalar(select(Collaborator).join(Candidate).where(
        Candidate.national_id == candidate_json(hamlet)["national_id"]))
    assignment = db.session.scalar(select(Assignment).where(Assignment.collaborator_id == collaborator.id))
    assert (assignment.hamlet_id, assignment.started_on, assignment.ended_on) == (hamlet.id, date(2025, 10, 6), None)
    assert hamlet.id not in {v["hamlet"]["id"] for v in head.get("/vacancies").json["items"]}
    timeline = head.get(f"/applications/{app_id}/timeline").json
    assert timeline["state"] == "active"
    steps = [(e["action"], e["actor"]) for e in timeline["items"]]
    assert steps == [("nominate", "truongtram_b"), ("update_dossier", "truongtram_b"),
                     ("complete_dossier", "truongtram_b"), ("screen", "truongtram_b"), ("review", "truongtram_b"),
                     ("submit", "truongtram_b"), ("approve", "ttyt689"), ("decision", "ttyt689"),
                     ("contract", "ttyt689"), ("activate", "truongtram_b")]
    for event in timeline["items"]:
        at = datetime.fromisoformat(event["at"])
        assert at.tzinfo is not None and abs(datetime.now(UTC) - at) < timedelta(minutes=5)
        assert event["action_label"] and event["to_state_label"] and event["actor_full_name"]
    assert timeline["items"][6]["action_label"] == "Phê duyệt" and timeline["items"][6]["comment"] == "Đồng ý"
    assert timeline["items"][7]["comment"] == "QĐ số 15/QĐ-TTYT ngày 01/10/2025"


# --- the document -------------------------------------------------------------------------------


def _openapi_path(rule) -> str:
    path = str(rule)
    for arg in rule.arguments:
        path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
    return path


def test_openapi_document_describes_exactly_the_api_routes(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.json
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "Mã lấy từ POST /api/v1/auth/token"}
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            routes.setdefault(_openapi_path(rule), set()).update(
                m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    described = {path: set(ops) for path, ops in doc["paths"].items()}
    assert described == routes
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["responses"], f"{method} {path}"
            if path not in ("/api/v1/openapi.json",) and not (path.endswith("/token") and method == "post"):
                assert op["security"] == [{"bearerAuth": []}], f"{method} {path}"
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "status"] and "problems" in error["properties"]
    create = doc["components"]["schemas"]["ApplicationCreate"]
    assert "national_id" in create["required"] and "phone" not in create["required"]


def test_openapi_document_is_valid_openapi_3_1(client):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(client.get("/api/v1/openapi.json").json)

"""The collaborator-network JSON API (issue #4 item 9): roster, profiles, assignment changes,
quota, supervision visits, overdue visits, follow-ups, monthly meetings and the under-review
list; scope, viewers, bad input that changes nothing, and the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.api.auth import issue_token
from danso_network.audit.models import AuditEvent
from danso_network.auth.models import User
from danso_network.collaborators.models import Assignment, NetworkPolicy, RegisterHandover, Suspension
from danso_network.common import clock
from danso_network.extensions import db
from danso_network.supervision.models import MeetingAttendance, MonthlyMeeting, SupervisionVisit
from tests.factories import appoint, criteria


class Api:
    """A test client speaking JSON with one user's bearer token."""

    def __init__(self, client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url):
        return self.client.get("/api/v1" + url, headers=self.headers)

    def post(self, url, body=None):
        return self.client.post("/api/v1" + url, json=body, headers=self.headers)

    def put(self, url, body=None):
        return self.client.put("/api/v1" + url, json=body, headers=self.headers)

    def raw(self, method: str, url: str, data: bytes):
        return self.client.open("/api/v1" + url, method=method, data=data, content_type="application/json",
                                headers=self.headers)


@pytest.fixture
def as_user(app, world):
    def make(key: str) -> Api:
        user = world.users[key]
        _, raw = issue_token(db.session.get(User, user.id))
        db.session.commit()
        return Api(app.test_client(), raw)

    return make


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_count() -> int:
    return count(AuditEvent)


@pytest.fixture
def people(world):
    """Two collaborators in commune A (from 1/9/2025), two in commune B."""
    made = {
        "a1": appoint(world.hamlets_a[0], 1),
        "a2": appoint(world.hamlets_a[1], 2),
        "b1": appoint(world.hamlets_b[0], 3),
        "b2": appoint(world.hamlets_b[1], 4),
    }
    db.session.commit()
    return made


def network_counts() -> tuple[int, ...]:
    return (count(Assignment), db.session.scalar(select(func.count()).select_from(Assignment)
                                                 .where(Assignment.ended_on.is_not(None))),
            count(Suspension), count(RegisterHandover), audit_count())


def future() -> str:
    return (clock.today() + timedelta(days=1)).isoformat()


GOOD_CHECKLIST = {"register_up_to_date": True, "p0_submitted": True, "meeting_attended": False,
                  "contraceptive_stock": None}


# --- roster and profile ------------------------------------------------------------------------


def test_roster_is_scoped_filtered_and_paginated(world, people, as_user):
    head_a = as_user("head_a")
    response = head_a.get(f"/units/{world.commune_a.id}/collaborators?as_of=2026-01-01")
    assert response.status_code == 200
    body = response.json
    assert body["unit"]["id"] == world.commune_a.id and body["as_of"] == "2026-01-01"
    assert [r["collaborator"]["id"] for r in body["items"]] == [people["a1"].id, people["a2"].id]
    first = body["items"][0]
    assert first["national_id"] == people["a1"].candidate.national_id and first["phone"] == "0912345678"
    assert first["hamlet"] == {"id": world.hamlets_a[0].id, "name": "Khu phố 1", "type": "khu_pho"}
    assert first["commune"]["id"] == world.commune_a.id
    assert (first["status"], first["status_label"]) == ("active", "Đang hoạt động")
    assert first["assignment"]["kind"] == "primary" and first["assignment"]["started_on"] == "2025-09-01"
    assert head_a.get(f"/units/{world.commune_b.id}/collaborators").status_code == 403
    assert head_a.get("/units/999999/collaborators").status_code == 404
    # Before anyone started, the past roster is empty.
    assert head_a.get(f"/units/{world.commune_a.id}/collaborators?as_of=2025-08-31").json["total"] == 0

    centre = as_user("centre")
    whole = centre.get(f"/units/{world.dong_nai.id}/collaborators?as_of=2026-01-01&per_page=3").json
    assert (whole["total"], whole["pages"], len(whole["items"])) == (4, 2, 3)
    second = centre.get(f"/units/{world.dong_nai.id}/collaborators?as_of=2026-01-01&per_page=3&page=2").json
    ids = {r["collaborator"]["id"] for r in whole["items"] + second["items"]}
    assert ids == {c.id for c in people.values()}
    assert as_user("hanoi_admin").get(f"/units/{world.dong_nai.id}/collaborators").status_code == 403

    def ids_for(query: str) -> list[int]:
        found = centre.get(f"/units/{world.dong_nai.id}/collaborators?as_of=2026-01-01&{query}")
        assert found.status_code == 200, found.json
        return [r["collaborator"]["id"] for r in found.json["items"]]

    assert ids_for("q=ung vien 3") == [people["b1"].id]
    assert ids_for("q=Ứng Viên 3") == [people["b1"].id]
    assert ids_for(f"q={people['b2'].candidate.national_id}") == [people["b2"].id]
    assert ids_for("difficult=true") == [people["b1"].id]
    assert ids_for("hamlet_type=khu_pho&sort=hamlet") == [people["a1"].id, people["a2"].id]
    assert ids_for("vhw=true") == []
    assert set(ids_for("tenure=lt1&status=active")) == {c.id for c in people.values()}
    assert ids_for("tenure=1to3") == []


@pytest.mark.parametrize("query, field", [
    ("status=dang_lam", "status"), ("difficult=co", "difficult"), ("tenure=10", "tenure"), ("sort=tuoi", "sort"),
    ("hamlet_type=village", "hamlet_type"), ("per_page=501", "per_page"), ("page=0", "page"),
    ("as_of=01/01/2026", "as_of"),
])
def test_bad_roster_parameters_are_422(world, as_user, query, field):
    response = as_user("head_a").get(f"/units/{world.commune_a.id}/collaborators?{query}")
    assert response.status_code == 422 and response.json["field"] == field and response.json["error"]


def test_viewer_reads_the_roster_and_profile_without_cccd_or_phone(world, people, as_user):
    viewer = as_user("viewer_b")
    rows = viewer.get(f"/units/{world.commune_b.id}/collaborators").json["items"]
    assert {r["collaborator"]["id"] for r in rows} == {people["b1"].id, people["b2"].id}
    assert all(r["national_id"] is None and r["phone"] is None for r in rows)
    profile = viewer.get(f"/collaborators/{people['b1'].id}").json
    assert profile["person"]["national_id"] is None and profile["person"]["phone"] is None
    assert profile["person"]["full_name"] == "Nguyễn Thị Ứng Viên 3"
    assert profile["can"] == {"change_assignments": False, "record_visits": False}
    head = as_user("head_b").get(f"/collaborators/{people['b1'].id}").json
    assert head["person"]["national_id"] == people["b1"].candidate.national_id
    assert head["can"] == {"change_assignments": True, "record_visits": True}


def test_profile_shows_history_and_is_scoped(world, people, as_user):
    head = as_user("head_a")
    a1 = people["a1"]
    body = head.get(f"/collaborators/{a1.id}").json
    assert body["id"] == a1.id and body["status"] == "active" and body["activated_on"] == "2025-09-01"
    assert [a["hamlet"]["id"] for a in body["assignments"]] == [world.hamlets_a[0].id]
    assert body["current_assignment_ids"] == [a1.assignments[0].id]
    assert body["person"]["education_label"] and body["person"]["sex_label"] == "Nữ"
    assert head.get(f"/collaborators/{a1.id}?as_of=2025-08-01").json["status"] == "not_started"
    assert head.get(f"/collaborators/{people['b1'].id}").status_code == 403
    assert head.get("/collaborators/999999").status_code == 404
    assert as_user("nogrant").get(f"/collaborators/{a1.id}").status_code == 403


# --- assignment changes -------------------------------------------------------------------------


def test_station_head_transfers_and_the_hamlet_left_empty_becomes_vacant(world, people, as_user):
    head = as_user("head_a")
    a1 = people["a1"]
    old = a1.assignments[0].id
    response = head.post(f"/collaborators/{a1.id}/transfer", {
        "hamlet_id": world.hamlets_a[1].id, "on": "2026-01-15", "decision_ref": "12/QĐ-TYT",
        "note": "Đã chuyển nơi ở sang Khu phố 2.", "residence": "moves"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["assignment"]["hamlet"]["id"] == world.hamlets_a[1].id
    assert body["assignment"]["started_on"] == "2026-01-15" and body["assignment"]["decision_ref"] == "12/QĐ-TYT"
    history = body["collaborator"]["assignments"]
    assert [(a["id"], a["ended_on"], a["end_reason"]) for a in history] == [
        (old, "2026-01-15", "transferred"), (body["assignment"]["id"], None, None)]
    assert history[0]["end_reason_label"] == "Điều chuyển sang thôn khác"
    assert [h["hamlet"]["id"] for h in body["handovers"]] == [world.hamlets_a[0].id]
    assert body["collaborator"]["handovers"][0]["handed_on"] is None

    vacant = {v["hamlet"]["id"]: v for v in head.get("/vacancies").json["items"]}
    assert vacant[world.hamlets_a[0].id]["active"] == 0
    quota = {r["hamlet"]["id"]: r for r in head.get(f"/units/{world.commune_a.id}/quota?as_of=2026-01-20").json["items"]}
    assert (quota[world.hamlets_a[0].id]["active"], quota[world.hamlets_a[0].id]["flag"]) == (0, "under")
    assert quota[world.hamlets_a[1].id]["active"] == 2
    # The day before, the past is unchanged.
    before = head.get(f"/units/{world.commune_a.id}/quota?as_of=2026-01-14").json["items"]
    assert {r["hamlet"]["id"]: r["active"] for r in before} == {world.hamlets_a[0].id: 1, world.hamlets_a[1].id: 1}
    assert head.get(f"/collaborators/{a1.id}?as_of=2026-01-14").json["status"] == "active"


@pytest.mark.parametrize("body, status, field, message", [
    ({"hamlet_id": "OTHER_COMMUNE", "on": "2026-01-15"}, 403, "hamlet_id", "nằm ngoài địa bàn"),
    ({"hamlet_id": 999999, "on": "2026-01-15"}, 404, None, "Không tìm thấy thôn/tổ dân phố."),
    ({"hamlet_id": "SAME", "on": "2026-01-15"}, 422, "hamlet_id", "hãy chọn một thôn khác"),
    ({"hamlet_id": "OTHER", "on": "2025-08-01"}, 422, "on", "không được trước ngày bắt đầu"),
    ({"hamlet_id": "OTHER", "on": "FUTURE"}, 422, "on", "chưa đến"),
    ({"hamlet_id": "OTHER"}, 422, "on", "Thiếu trường bắt buộc “on”."),
    ({"hamlet_id": "OTHER", "on": "15/01/2026"}, 422, "on", "YYYY-MM-DD"),
    ({"hamlet_id": "Khu phố 2", "on": "2026-01-15"}, 422, "hamlet_id", "phải là số nguyên"),
])
def test_bad_transfer_is_refused_and_nothing_changes(world, people, as_user, body, status, field, message):
    hamlets = {"OTHER_COMMUNE": world.hamlets_b[0].id, "SAME": world.hamlets_a[0].id, "OTHER": world.hamlets_a[1].id}
    body = {k: hamlets.get(v, v) if k == "hamlet_id" else (future() if v == "FUTURE" else v) for k, v in body.items()}
    head = as_user("head_a")
    before = network_counts()
    response = head.post(f"/collaborators/{people['a1'].id}/transfer", body)
    assert response.status_code == status, response.json
    assert response.json.get("field") == field and message in response.json["error"]
    assert network_counts() == before


def test_centre_officer_transfers_across_its_communes(world, people, as_user):
    response = as_user("centre").post(f"/collaborators/{people['a1'].id}/transfer",
                                      {"hamlet_id": world.hamlets_b[1].id, "on": "2026-01-15", "residence": "moves"})
    assert response.status_code == 200 and response.json["assignment"]["commune"]["id"] == world.commune_b.id


def test_suspend_and_reinstate(world, people, as_user):
    head = as_user("head_a")
    a2 = people["a2"]
    response = head.post(f"/collaborators/{a2.id}/suspend", {"on": "2026-01-10", "reason": "Vắng mặt dài ngày"})
    assert response.status_code == 200, response.json
    assert response.json["collaborator"]["status"] == "suspended"
    assert response.json["suspension"] == {"id": response.json["suspension"]["id"], "started_on": "2026-01-10",
                                           "ended_on": None, "reason": "Vắng mặt dài ngày", "end_note": None}
    listed = head.get(f"/units/{world.commune_a.id}/collaborators?status=suspended").json["items"]
    assert [r["collaborator"]["id"] for r in listed] == [a2.id] and listed[0]["status_label"] == "Tạm đình chỉ"
    before = network_counts()
    again = head.post(f"/collaborators/{a2.id}/suspend", {"on": "2026-01-20", "reason": "Lần nữa"})
    assert again.status_code == 409 and "đang bị tạm đình chỉ" in again.json["error"]
    early = head.post(f"/collaborators/{a2.id}/reinstate", {"on": "2026-01-01"})
    assert early.status_code == 422 and early.json["field"] == "on"
    assert network_counts() == before
    back = head.post(f"/collaborators/{a2.id}/reinstate", {"on": "2026-02-01", "note": "Đã trở lại"})
    assert back.status_code == 200 and back.json["collaborator"]["status"] == "active"
    assert back.json["suspension"]["ended_on"] == "2026-02-01"
    assert head.get(f"/collaborators/{a2.id}?as_of=2026-01-15").json["status"] == "suspended"
    assert head.post(f"/collaborators/{a2.id}/reinstate", {"on": "2026-02-02"}).status_code == 409


@pytest.mark.parametrize("body, field", [({"on": "2026-01-10"}, "reason"), ({"on": "2026-01-10", "reason": "  "},
                                                                           "reason"),
                                         ({"on": "2025-08-01", "reason": "x"}, "on"),
                                         ({"on": "FUTURE", "reason": "x"}, "on"),
                                         ({"on": "2026-01-10", "reason": 5}, "reason")])
def test_bad_suspension_changes_nothing(people, as_user, body, field):
    body = {k: future() if v == "FUTURE" else v for k, v in body.items()}
    head = as_user("head_a")
    before = network_counts()
    response = head.post(f"/collaborators/{people['a1'].id}/suspend", body)
    assert response.status_code == 422 and response.json["field"] == field, response.json
    assert network_counts() == before


def test_terminating_the_last_collaborator_reopens_the_hamlet_and_asks_for_the_register(world, people, as_user):
    head = as_user("head_b")
    b2 = people["b2"]  # alone in Ấp 2
    assert world.hamlets_b[1].id not in {v["hamlet"]["id"] for v in head.get("/vacancies").json["items"]}
    response = head.post(f"/collaborators/{b2.id}/terminate", {"on": "2026-02-01", "reason": "resigned",
                                                               "note": "Đơn xin nghỉ ngày 20/01/2026"})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["collaborator"]["status"] == "ended" and body["collaborator"]["status_label"] == "Đã nghỉ việc"
    assignment = body["collaborator"]["assignments"][0]
    assert (assignment["ended_on"], assignment["end_reason"], assignment["end_reason_label"]) == (
        "2026-02-01", "resigned", "Xin nghỉ")
    assert [(h["hamlet"]["id"], h["requested_on"], h["handed_on"]) for h in body["handovers"]] == [
        (world.hamlets_b[1].id, "2026-02-01", None)]
    assert world.hamlets_b[1].id in {v["hamlet"]["id"] for v in head.get("/vacancies").json["items"]}
    ended = head.get(f"/units/{world.commune_b.id}/collaborators?status=ended").json["items"]
    assert [r["collaborator"]["id"] for r in ended] == [b2.id]
    assert ended[0]["assignment"]["end_reason"] == "resigned"

    before = network_counts()
    suspend = head.post(f"/collaborators/{b2.id}/suspend", {"on": "2026-02-10", "reason": "Không liên lạc được"})
    assert suspend.status_code == 409 and "đã nghỉ việc từ ngày 01/02/2026" in suspend.json["error"]
    assert head.post(f"/collaborators/{b2.id}/terminate", {"on": "2026-02-10", "reason": "health"}).status_code == 409
    transfer = head.post(f"/collaborators/{b2.id}/transfer", {"hamlet_id": world.hamlets_b[0].id, "on": "2026-02-10"})
    assert transfer.status_code == 409
    assert network_counts() == before


@pytest.mark.parametrize("body, field, message", [
    ({"on": "2026-02-01", "reason": "lazy"}, "reason", "phải là một trong các giá trị"),
    ({"on": "2026-02-01", "reason": "transferred"}, "reason", "phải là một trong các giá trị"),
    ({"on": "2026-02-01"}, "reason", "Thiếu trường bắt buộc"),
    ({"on": "2025-08-31", "reason": "health"}, "on", "không được trước ngày bắt đầu"),
    ({"on": "FUTURE", "reason": "health"}, "on", "chưa đến"),
])
def test_bad_termination_changes_nothing(people, as_user, body, field, message):
    body = {k: future() if v == "FUTURE" else v for k, v in body.items()}
    head = as_user("head_b")
    before = network_counts()
    response = head.post(f"/collaborators/{people['b2'].id}/terminate", body)
    assert response.status_code == 422 and response.json["field"] == field and message in response.json["error"]
    assert network_counts() == before


@pytest.mark.parametrize("action, body", [
    ("transfer", {"hamlet_id": "B0", "on": "2026-01-15"}), ("suspend", {"on": "2026-01-15", "reason": "x"}),
    ("reinstate", {"on": "2026-01-15"}), ("terminate", {"on": "2026-01-15", "reason": "resigned"}),
    ("add-hamlet", {"hamlet_id": "B0", "on": "2026-01-15"}),
])
def test_viewers_and_other_communes_cannot_change_assignments(world, people, as_user, action, body):
    body = {k: world.hamlets_b[0].id if v == "B0" else v for k, v in body.items()}
    viewer, head_a, officer = as_user("viewer_b"), as_user("head_a"), as_user("officer_a")
    before = network_counts()
    response = viewer.post(f"/collaborators/{people['b2'].id}/{action}", body)
    assert response.status_code == 403 and response.json["error"]
    assert head_a.post(f"/collaborators/{people['b2'].id}/{action}", body).status_code == 403
    # The station officer keeps the records but does not decide assignments.
    assert officer.post(f"/collaborators/{people['a1'].id}/{action}", body).status_code == 403
    assert head_a.post(f"/collaborators/999999/{action}", body).status_code == 404
    assert network_counts() == before


def test_malformed_json_on_an_action_is_400_and_changes_nothing(people, as_user):
    head = as_user("head_a")
    before = network_counts()
    for data in (b'{"on": "2026-01-10",', b'"2026-01-10"', b""):
        response = head.raw("POST", f"/collaborators/{people['a1'].id}/suspend", data)
        assert response.status_code == 400 and response.json["status"] == 400 and response.json["error"]
    assert network_counts() == before


def allow_additional_hamlets(world):
    db.session.add(NetworkPolicy(province_id=world.dong_nai.id, valid_from=date(2025, 7, 1),
                                 allow_additional_hamlet=True, legal_basis="Quyết định thử nghiệm",
                                 created_at=datetime.now(UTC)))
    db.session.commit()


def test_additional_hamlet_needs_the_province_setting_and_its_cover_can_end(world, people, as_user):
    head = as_user("head_a")
    a2 = people["a2"]
    body = {"hamlet_id": world.hamlets_a[0].id, "on": "2026-01-05"}
    before = network_counts()
    refused = head.post(f"/collaborators/{a2.id}/add-hamlet", body)
    assert refused.status_code == 409 and "chưa cho phép" in refused.json["error"]
    assert network_counts() == before

    allow_additional_hamlets(world)
    added = head.post(f"/collaborators/{a2.id}/add-hamlet", body)
    assert added.status_code == 200, added.json
    cover = added.json["assignment"]
    assert (cover["kind"], cover["kind_label"], cover["started_on"]) == ("additional", "Kiêm nhiệm thêm", "2026-01-05")
    assert len(added.json["collaborator"]["current_assignment_ids"]) == 2
    assert head.post(f"/collaborators/{a2.id}/add-hamlet", body).status_code == 409  # already covers it

    primary = a2.assignments[0].id
    assert head.post(f"/assignments/{primary}/end-cover", {"on": "2026-02-01"}).status_code == 422
    assert as_user("viewer_b").post(f"/assignments/{cover['id']}/end-cover", {"on": "2026-02-01"}).status_code == 403
    assert as_user("head_b").post(f"/assignments/{cover['id']}/end-cover", {"on": "2026-02-01"}).status_code == 403
    assert head.post("/assignments/999999/end-cover", {"on": "2026-02-01"}).status_code == 404
    early = head.post(f"/assignments/{cover['id']}/end-cover", {"on": "2026-01-01"})
    assert early.status_code == 422 and early.json["field"] == "on"
    ended = head.post(f"/assignments/{cover['id']}/end-cover", {"on": "2026-02-01"})
    assert ended.status_code == 200, ended.json
    assert (ended.json["assignment"]["ended_on"], ended.json["assignment"]["end_reason"]) == (
        "2026-02-01", "cover_ended")
    assert ended.json["handovers"] == []  # a1 still serves Khu phố 1
    again = head.post(f"/assignments/{cover['id']}/end-cover", {"on": "2026-02-02"})
    assert again.status_code == 409


def test_quota_status_adds_up(world, people, as_user):
    criteria(world.dong_nai)  # Gia Lai's bands, chosen by the province: ≤ 200 households → 1, ≤ 400 → 2, more → 3
    db.session.commit()
    centre = as_user("centre")
    body = centre.get(f"/units/{world.dong_nai.id}/quota?as_of=2026-01-01").json
    rows = {r["hamlet"]["name"]: (r["households"], r["quota"], r["active"], r["flag"]) for r in body["items"]}
    assert rows == {"Khu phố 1": (180, 1, 1, "ok"), "Khu phố 2": (420, 3, 1, "under"),
                    "Ấp Tân Lập": (300, 2, 1, "under"), "Ấp 2": (90, 1, 1, "ok")}
    assert body["totals"] == {"hamlets": 4, "households": 990, "quota": 7, "active": 4, "suspended": 0, "under": 2,
                              "over": 0, "empty": 0, "without_quota": 0, "unknown": 0,
                              "households_per_collaborator": 247.5}
    assert body["no_criteria"] == []
    page = centre.get(f"/units/{world.dong_nai.id}/quota?as_of=2026-01-01&per_page=3&page=2").json
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (4, 2, 2, 1)
    assert page["totals"]["hamlets"] == 4
    one = as_user("head_a").get(f"/units/{world.hamlets_a[0].id}/quota").json["items"]
    assert [(r["hamlet"]["id"], r["households_per_collaborator"], r["flag_label"]) for r in one] == [
        (world.hamlets_a[0].id, 180.0, "Đủ")]
    assert as_user("head_a").get(f"/units/{world.commune_b.id}/quota").status_code == 403


# --- supervision visits -------------------------------------------------------------------------


def test_centre_officer_records_a_visit_and_the_overdue_list_shrinks(world, people, as_user):
    centre = as_user("centre")
    a1 = people["a1"]
    before = centre.get(f"/units/{world.dong_nai.id}/overdue-visits?as_of=2026-03-01")
    assert before.status_code == 200
    # The centre reaches communes A and B only: the province's list is theirs.
    assert {r["collaborator"]["id"] for r in before.json["items"]} == {c.id for c in people.values()}
    row = next(r for r in before.json["items"] if r["collaborator"]["id"] == a1.id)
    assert (row["last_visit"], row["since"], row["interval_days"], row["due_on"]) == (
        None, "2025-09-01", 92, "2025-12-02")
    assert row["days_overdue"] == (date(2026, 3, 1) - date(2025, 12, 2)).days
    assert row["hamlet"]["id"] == world.hamlets_a[0].id and row["commune"]["id"] == world.commune_a.id

    response = centre.post(f"/collaborators/{a1.id}/visits", {
        "visited_on": "2026-02-15", "checklist": GOOD_CHECKLIST, "findings": "Sổ A0 ghi đầy đủ.",
        "follow_up": "Dự giao ban tháng 3.", "follow_up_due": "2026-03-31"})
    assert response.status_code == 201, response.json
    visit = response.json
    assert response.headers["Location"].endswith(f"/api/v1/visits/{visit['id']}")
    assert visit["score"] == 67 and visit["supervisor"]["username"] == "ttyt689"
    assert visit["checklist"]["contraceptive_stock"] is None and visit["checklist"]["household_sample"] is None
    assert visit["checklist_labels"]["meeting_attended"] == "Chưa đạt"
    assert visit["hamlet"]["id"] == world.hamlets_a[0].id

    after = centre.get(f"/units/{world.dong_nai.id}/overdue-visits?as_of=2026-03-01").json
    assert a1.id not in {r["collaborator"]["id"] for r in after["items"]}
    assert after["total"] == before.json["total"] - 1
    paged = centre.get(f"/units/{world.dong_nai.id}/overdue-visits?as_of=2026-03-01&per_page=2&page=2").json
    assert (paged["total"], paged["pages"], len(paged["items"])) == (3, 2, 1)
    assert centre.get(f"/units/{world.dong_nai.id}/overdue-visits?per_page=0").json["field"] == "per_page"
    # As of a date before the visit, the past list is unchanged.
    assert centre.get(f"/units/{world.dong_nai.id}/overdue-visits?as_of=2026-02-14").json["total"] == 4

    listed = as_user("head_a").get(f"/collaborators/{a1.id}/visits").json
    assert [v["id"] for v in listed["items"]] == [visit["id"]] and listed["total"] == 1
    assert {i["item"] for i in listed["checklist_items"]} >= {"register_up_to_date", "p0_submitted"}
    assert all(i["label"] and i["duty"] for i in listed["checklist_items"])
    assert as_user("head_a").get(f"/visits/{visit['id']}").json["findings"] == "Sổ A0 ghi đầy đủ."


def test_follow_up_is_listed_until_closed(world, people, as_user):
    head = as_user("head_a")
    visit_id = head.post(f"/collaborators/{people['a2'].id}/visits", {
        "visited_on": "2026-01-10", "checklist": {"household_sample": False},
        "follow_up": "Cập nhật Sổ A0 cho 5 hộ mới.", "follow_up_due": "2026-01-31"}).json["id"]
    open_ = head.get(f"/units/{world.commune_a.id}/follow-ups?as_of=2026-02-05").json
    assert [(r["visit_id"], r["overdue"], r["days_late"]) for r in open_["items"]] == [(visit_id, True, 5)]
    assert open_["overdue"] == 1
    assert as_user("head_b").get(f"/units/{world.commune_b.id}/follow-ups?as_of=2026-02-05").json["items"] == []

    for body, field in [({"closed_on": "2026-01-05", "result": "Đã cập nhật"}, "closed_on"),
                        ({"closed_on": "2026-02-01"}, "result"),
                        ({"closed_on": "2026-02-01", "result": "   "}, "result")]:
        response = head.post(f"/visits/{visit_id}/close-follow-up", body)
        assert response.status_code == 422 and response.json["field"] == field, response.json
    assert as_user("viewer_b").post(f"/visits/{visit_id}/close-follow-up",
                                    {"closed_on": "2026-02-01", "result": "x"}).status_code == 403
    closed = head.post(f"/visits/{visit_id}/close-follow-up", {"closed_on": "2026-02-01", "result": "Đã cập nhật"})
    assert closed.status_code == 200 and closed.json["follow_up_closed_on"] == "2026-02-01"
    assert head.get(f"/units/{world.commune_a.id}/follow-ups?as_of=2026-02-05").json["items"] == []
    again = head.post(f"/visits/{visit_id}/close-follow-up", {"closed_on": "2026-02-02", "result": "Lần nữa"})
    assert again.status_code == 409 and "đã được xác nhận hoàn thành" in again.json["error"]


@pytest.mark.parametrize("body, status, field, message", [
    ({"visited_on": "FUTURE", "checklist": GOOD_CHECKLIST}, 422, "visited_on", "không được ở tương lai"),
    ({"visited_on": "2026-01-10", "checklist": {"so_a0": True}}, 422, "checklist", "không có trong bảng kiểm: so_a0"),
    ({"visited_on": "2026-01-10", "checklist": {"p0_submitted": "có"}}, 422, "checklist", "true (Đạt)"),
    ({"visited_on": "2026-01-10", "checklist": ["p0_submitted"]}, 422, "checklist", "true (Đạt)"),
    ({"visited_on": "2026-01-10", "checklist": {"p0_submitted": None}}, 422, "checklist", "ít nhất một nội dung"),
    ({"visited_on": "10/01/2026", "checklist": GOOD_CHECKLIST}, 422, "visited_on", "YYYY-MM-DD"),
    ({"visited_on": "2026-01-10", "checklist": GOOD_CHECKLIST, "follow_up": "Bổ sung sổ"}, 422, "follow_up_due",
     "hạn khắc phục"),
    ({"visited_on": "2026-01-10", "checklist": GOOD_CHECKLIST, "follow_up": "Bổ sung sổ",
      "follow_up_due": "2026-01-01"}, 422, "follow_up_due", "không được trước ngày giám sát"),
    ({"visited_on": "2025-08-01", "checklist": GOOD_CHECKLIST}, 422, "visited_on", "không làm cộng tác viên"),
    ({"checklist": GOOD_CHECKLIST}, 422, "visited_on", "Thiếu trường bắt buộc “visited_on”."),
])
def test_bad_visit_is_refused_with_a_reason_and_nothing_changes(people, as_user, body, status, field, message):
    if body.get("visited_on") == "FUTURE":
        body = {**body, "visited_on": (clock.today() + timedelta(days=1)).isoformat()}
    head = as_user("head_a")
    before = (count(SupervisionVisit), audit_count())
    response = head.post(f"/collaborators/{people['a1'].id}/visits", body)
    assert response.status_code == status, response.json
    assert response.json["field"] == field and message in response.json["error"] and response.json["problems"]
    assert (count(SupervisionVisit), audit_count()) == before


@pytest.mark.parametrize("data, message", [(b'{"visited_on": ', "không phải JSON hợp lệ"),
                                           (b"[]", "phải là một đối tượng JSON"), (b"", "Thiếu nội dung JSON")])
def test_malformed_visit_body_is_400(people, as_user, data, message):
    response = as_user("head_a").raw("POST", f"/collaborators/{people['a1'].id}/visits", data)
    assert response.status_code == 400 and message in response.json["error"]
    assert count(SupervisionVisit) == 0


def test_visits_are_scoped_and_viewers_only_read(world, people, as_user):
    b1 = people["b1"]
    body = {"visited_on": "2026-01-10", "checklist": GOOD_CHECKLIST}
    assert as_user("head_b").post(f"/collaborators/{b1.id}/visits", body).status_code == 201
    viewer = as_user("viewer_b")
    assert viewer.get(f"/collaborators/{b1.id}/visits").json["total"] == 1
    response = viewer.post(f"/collaborators/{b1.id}/visits", body)
    assert response.status_code == 403 and response.json["error"]
    head_a = as_user("head_a")
    assert head_a.get(f"/collaborators/{b1.id}/visits").status_code == 403
    assert head_a.post(f"/collaborators/{b1.id}/visits", body).status_code == 403
    visit_id = db.session.scalar(select(SupervisionVisit.id))
    assert head_a.get(f"/visits/{visit_id}").status_code == 403
    assert head_a.get("/visits/999999").status_code == 404
    assert head_a.post("/collaborators/999999/visits", body).status_code == 404
    assert head_a.get("/collaborators/99999999999/visits").status_code == 404
    assert head_a.get(f"/units/{world.commune_b.id}/overdue-visits").status_code == 403
    assert head_a.get("/units/999999/overdue-visits").status_code == 404
    assert as_user("nogrant").get(f"/units/{world.commune_a.id}/overdue-visits").status_code == 403
    assert count(SupervisionVisit) == 1


@pytest.mark.parametrize("path", ["overdue-visits", "follow-ups", "under-review", "quota", "collaborators"])
@pytest.mark.parametrize("query, message", [("as_of=2026-13-01", "YYYY-MM-DD"), ("as_of=hôm nay", "YYYY-MM-DD"),
                                            ("as_of=0001-01-01", "1900–2100"), ("as_of=9999-12-31", "1900–2100")])
def test_bad_as_of_is_422(world, people, as_user, path, query, message):
    response = as_user("head_a").get(f"/units/{world.commune_a.id}/{path}?{query}&tenure=ge5")
    assert response.status_code == 422 and response.json["field"] == "as_of" and message in response.json["error"]


# --- monthly meetings and the under-review list -------------------------------------------------


def sheet(people, **rows) -> list[dict]:
    return [{"collaborator_id": people[k].id, "attended": a, "p0_submitted": p} for k, (a, p) in rows.items()]


def test_meetings_are_recorded_and_two_missed_months_put_a_collaborator_under_review(world, people, as_user):
    officer = as_user("officer_a")
    commune = world.commune_a.id
    empty = officer.get(f"/communes/{commune}/meetings/2026-01").json
    assert empty["meeting"] is None and empty["month"] == "2026-01"
    assert [r["collaborator"]["id"] for r in empty["rows"]] == [people["a1"].id, people["a2"].id]
    assert all(r["attendance"] is None for r in empty["rows"])

    first = officer.put(f"/communes/{commune}/meetings/2026-01", {
        "held_on": "2026-01-25", "note": "Giao ban tháng 1",
        "attendance": sheet(people, a1=(True, True), a2=(False, False))})
    assert first.status_code == 201, first.json
    assert first.json["meeting"]["held_on"] == "2026-01-25"
    rows = {r["collaborator"]["id"]: r["attendance"] for r in first.json["rows"]}
    assert rows[people["a2"].id] == {"attended": False, "p0_submitted": False, "note": None}
    officer.put(f"/communes/{commune}/meetings/2026-02", {
        "held_on": "2026-02-26", "attendance": sheet(people, a1=(True, True), a2=(True, False))})
    review = officer.get(f"/units/{commune}/under-review?as_of=2026-03-01").json
    assert [r["collaborator"]["id"] for r in review["items"]] == [people["a2"].id]
    missed = review["items"][0]["missed"]
    assert [(m["month"], m["reason"]) for m in missed] == [("2026-02", "no_p0"), ("2026-01", "absent")]
    assert missed[0]["reason_label"] == "Không nộp phiếu P0"
    assert officer.get(f"/units/{commune}/under-review?as_of=2026-02-01").json["items"] == []

    # Correcting February (same month again) updates the sheet: 200, and a2 leaves the list.
    fixed = officer.put(f"/communes/{commune}/meetings/2026-02", {
        "held_on": "2026-02-26", "attendance": sheet(people, a2=(True, True))})
    assert fixed.status_code == 200
    assert officer.get(f"/units/{commune}/under-review?as_of=2026-03-01").json["items"] == []
    listed = officer.get(f"/communes/{commune}/meetings").json
    assert [(m["month"], m["rows"], m["attended"], m["p0_submitted"]) for m in listed["items"]] == [
        ("2026-02", 2, 2, 2), ("2026-01", 2, 1, 1)]
    assert as_user("viewer_b").get(f"/communes/{world.commune_b.id}/meetings/2026-01").status_code == 200


def test_supervision_lists_are_pages_with_the_whole_list_s_counts(world, people, as_user):
    officer, centre = as_user("officer_a"), as_user("centre")
    commune = world.commune_a.id
    for month in ("2026-01", "2026-02"):
        assert officer.put(f"/communes/{commune}/meetings/{month}", {
            "held_on": f"{month}-25", "attendance": sheet(people, a1=(False, False), a2=(False, True))}).status_code == 201
    officer.post(f"/collaborators/{people['a1'].id}/visits", {
        "visited_on": "2026-02-10", "checklist": GOOD_CHECKLIST, "follow_up": "Sổ A0", "follow_up_due": "2026-02-20"})
    officer.post(f"/collaborators/{people['a2'].id}/visits", {
        "visited_on": "2026-02-11", "checklist": GOOD_CHECKLIST, "follow_up": "Phiếu P0", "follow_up_due": "2026-03-20"})
    shape = {"items", "total", "page", "per_page", "pages", "unit", "as_of"}
    for path, extra in (("overdue-visits", set()), ("follow-ups", {"overdue"}), ("under-review", set())):
        url = f"/units/{world.dong_nai.id}/{path}?as_of=2026-03-01"
        whole = centre.get(url).json
        second = centre.get(f"{url}&per_page=1&page=2").json
        assert set(second) == shape | extra and whole["total"] >= 2, path
        assert (second["items"], second["total"], second["pages"]) == (whole["items"][1:2], whole["total"],
                                                                       whole["total"]), path
    assert centre.get(f"/units/{world.dong_nai.id}/follow-ups?as_of=2026-03-01&per_page=1").json["overdue"] == 1
    meetings = officer.get(f"/communes/{commune}/meetings?per_page=1&page=2").json
    assert [m["month"] for m in meetings["items"]] == ["2026-01"]
    assert (meetings["total"], meetings["pages"], meetings["commune"]["id"]) == (2, 2, commune)


@pytest.mark.parametrize("month, body, field, message", [
    ("2026-13", {"held_on": "2026-01-25"}, "month", "YYYY-MM"),
    ("9999-12", {"held_on": "2026-01-25"}, "month", "YYYY-MM"),
    ("tháng-1", {"held_on": "2026-01-25"}, "month", "YYYY-MM"),
    ("2026-01", {"held_on": "2025-12-30"}, "held_on", "không được trước tháng giao ban"),
    ("2026-01", {"held_on": "FUTURE"}, "held_on", "không được ở tương lai"),
    ("2026-01", {"held_on": "2026-01-25", "attendance": []}, "attendance", "phải là danh sách"),
    ("2026-01", {"held_on": "2026-01-25", "attendance": [{"collaborator_id": 1, "attended": "có",
                                                          "p0_submitted": True}]}, "attendance", "Dòng 1"),
    ("2026-01", {"held_on": "2026-01-25", "attendance": "DUPLICATE"}, "attendance", "có hai dòng"),
    ("2026-01", {"held_on": "2026-01-25", "attendance": "OUTSIDER"}, None, "Không thuộc danh sách CTV"),
    ("2025-08", {"held_on": "2025-08-25"}, None, "Không thuộc danh sách CTV"),  # before they started
])
def test_bad_meeting_is_refused_and_nothing_changes(world, people, as_user, month, body, field, message):
    body = dict(body)
    if body.get("held_on") == "FUTURE":
        body["held_on"] = (clock.today() + timedelta(days=1)).isoformat()
    own = sheet(people, a1=(True, True))
    body.setdefault("attendance", own)
    if body["attendance"] == "DUPLICATE":
        body["attendance"] = own + own
    elif body["attendance"] == "OUTSIDER":
        body["attendance"] = own + sheet(people, b1=(True, True))
    head = as_user("head_a")
    before = (count(MonthlyMeeting), count(MeetingAttendance), audit_count())
    response = head.put(f"/communes/{world.commune_a.id}/meetings/{month}", body)
    assert response.status_code == 422, response.json
    assert response.json.get("field") == field and message in response.json["error"]
    assert (count(MonthlyMeeting), count(MeetingAttendance), audit_count()) == before


def test_meetings_are_scoped_and_viewers_only_read(world, people, as_user):
    body = {"held_on": "2026-01-25", "attendance": sheet(people, b1=(True, True))}
    assert as_user("viewer_b").put(f"/communes/{world.commune_b.id}/meetings/2026-01", body).status_code == 403
    assert as_user("head_a").put(f"/communes/{world.commune_b.id}/meetings/2026-01", body).status_code == 403
    assert as_user("head_a").get(f"/communes/{world.commune_b.id}/meetings").status_code == 403
    assert as_user("head_a").get(f"/communes/{world.hamlets_a[0].id}/meetings").status_code == 404
    assert as_user("head_a").get(f"/units/{world.commune_b.id}/under-review").status_code == 403
    assert count(MonthlyMeeting) == 0
    assert as_user("head_b").put(f"/communes/{world.commune_b.id}/meetings/2026-01", body).status_code == 201


# --- the document -------------------------------------------------------------------------------


def test_openapi_describes_the_network_bodies(client):
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert schemas["TerminateRequest"]["properties"]["reason"]["enum"] == [
        "resigned", "moved_out", "health", "non_performance", "contract_ended", "hamlet_merged", "deceased"]
    assert schemas["TerminateRequest"]["required"] == ["on", "reason"]
    checklist = schemas["VisitCreate"]["properties"]["checklist"]
    assert checklist["properties"]["p0_submitted"] == {"type": ["boolean", "null"]}
    assert schemas["MeetingPut"]["properties"]["attendance"]["items"]["required"] == [
        "collaborator_id", "attended", "p0_submitted"]
    put = doc["paths"]["/api/v1/communes/{commune_id}/meetings/{month}"]["put"]
    assert {"200", "201", "403", "409", "422"} <= set(put["responses"])
    roster = doc["paths"]["/api/v1/units/{unit_id}/collaborators"]["get"]
    assert {p["name"] for p in roster["parameters"]} >= {"as_of", "status", "hamlet_type", "difficult", "vhw",
                                                          "tenure", "q", "sort", "page", "per_page"}

"""``GET /api/v1/coverage/<unit_id>``: a unit's coverage on a date and its parts, scope-checked;
bad input answers a JSON error and says why."""

from __future__ import annotations

import pytest

from danso_network.api.auth import issue_token
from danso_network.auth.models import User
from danso_network.extensions import db

from .conftest import DAY


@pytest.fixture
def api(app, world, staffed):
    def as_user(key: str):
        _, raw = issue_token(db.session.get(User, world.users[key].id))
        db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {raw}"}
        return lambda url: client.get("/api/v1" + url, headers=headers)

    return as_user


def test_a_province_answers_its_summary_and_its_communes(api, world):
    response = api("admin")(f"/coverage/{world.dong_nai.id}?as_of=2026-02-01")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["unit"]["id"], body["unit"]["level"], body["as_of"], body["parts_level"]) == (
        world.dong_nai.id, "province", "2026-02-01", "commune")
    assert body["summary"] == {"hamlets": 4, "covered": 1, "below_quota": 1, "vacant": 1, "pending": 1, "unknown": 0,
                               "pct_covered": 25.0, "households": 990, "households_covered": 180,
                               "collaborators": 2, "vacancies": 2, "vacancies_over_90_days": 2}
    assert [(s["status"], s["hamlets"], s["colour"]) for s in body["statuses"]] == [
        ("covered", 1, "#1a9850"), ("below_quota", 1, "#fdae61"), ("vacant", 1, "#d73027"), ("pending", 1, "#4575b4"),
        ("unknown", 0, "#999999")]
    assert body["statuses"][0]["label"] == "Đủ định mức"
    a, b = body["parts"]
    assert (a["unit"]["code"], a["hamlets"], a["covered"], a["pct_covered"]) == ("25195", 2, 1, 50.0)
    assert (b["unit"]["code"], b["vacancies"], b["pending"], b["pct_covered"]) == ("25210", 2, 1, 0.0)
    assert body["no_criteria"] == []
    # The date may be written day-first, as everywhere in the app.
    assert api("admin")(f"/coverage/{world.dong_nai.id}?as_of=01/02/2026").json == body


def test_a_commune_answers_its_hamlets_with_their_status(api, world):
    body = api("head_b")(f"/coverage/{world.commune_b.id}?as_of=2026-02-01").json
    assert body["parts_level"] == "hamlet"
    hamlets = {h["name"]: h for h in body["parts"]}
    tan_lap, ap2 = hamlets["Ấp Tân Lập"], hamlets["Ấp 2"]
    assert (tan_lap["status"], tan_lap["status_label"], tan_lap["quota"], tan_lap["active"], tan_lap["pending"]) == (
        "pending", "Chưa có CTV, đang tuyển chọn", 2, 0, 1)
    assert (tan_lap["is_difficult"], tan_lap["is_ethnic_minority"], tan_lap["households_per_collaborator"]) == (
        True, True, None)
    assert (ap2["status"], ap2["days_vacant"], ap2["households"], ap2["has_geometry"]) == ("vacant", 215, 90, False)
    one = api("head_b")(f"/coverage/{world.hamlets_b[1].id}?as_of=2026-02-01").json
    assert [h["name"] for h in one["parts"]] == ["Ấp 2"] and one["summary"]["vacant"] == 1


def test_a_province_without_criteria_says_so_and_guesses_no_quota(api, world):
    body = api("hanoi_admin")(f"/coverage/{world.hanoi.id}?as_of=2026-02-01").json
    assert body["summary"]["unknown"] == 1 and body["summary"]["pct_covered"] == 0.0
    assert [u["code"] for u in body["no_criteria"]] == ["01"]
    hamlets = api("hanoi_admin")(f"/coverage/{world.commune_c.id}").json["parts"]
    assert (hamlets[0]["status"], hamlets[0]["quota"]) == ("unknown", None)


def test_a_partial_scope_answers_for_its_part_only(api, world):
    body = api("head_a")(f"/coverage/{world.dong_nai.id}?as_of=2026-02-01").json
    assert [c["unit"]["code"] for c in body["parts"]] == ["25195"]
    assert (body["summary"]["hamlets"], body["summary"]["covered"]) == (2, 1)


@pytest.mark.parametrize("who, unit, status", [
    ("admin", "missing", 404), ("hanoi_admin", "dong_nai", 403), ("head_a", "commune_b", 403),
    ("nogrant", "commune_a", 403)])
def test_unknown_and_out_of_scope_units(api, world, who, unit, status):
    unit_id = 999999 if unit == "missing" else getattr(world, unit).id
    response = api(who)(f"/coverage/{unit_id}")
    assert response.status_code == status
    assert response.is_json and response.json["status"] == status


@pytest.mark.parametrize("raw", ["2026-13-01", "31/02/2026", "hôm qua", "2026-02", "01/02/26", "0001-01-01"])
def test_a_malformed_date_is_a_422_that_says_how_to_write_it(api, world, raw):
    response = api("admin")(f"/coverage/{world.dong_nai.id}?as_of={raw}")
    assert response.status_code == 422
    assert response.json["field"] == "as_of" and "YYYY-MM-DD" in response.json["error"]


def test_a_date_before_any_data_is_a_422_that_says_from_when(api, world):
    response = api("admin")(f"/coverage/{world.commune_a.id}?as_of=2025-06-30")
    assert response.status_code == 422
    assert "01/07/2025" in response.json["error"] and response.json["field"] == "as_of"


def test_without_a_token_nothing_is_answered(client, world, staffed):
    assert client.get(f"/api/v1/coverage/{world.dong_nai.id}").status_code == 401


def test_the_endpoint_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    operation = doc["paths"]["/api/v1/coverage/{unit_id}"]["get"]
    assert operation["operationId"] == "getCoverage"
    assert {"Coverage", "CoverageSummary", "CoverageHamlet", "CoverageCommune"} <= set(doc["components"]["schemas"])
    assert DAY.isoformat() == "2026-02-01"

"""Fail-closed access, proved over every route in ``app.url_map`` (DESIGN.md §4 rule 6).

Each endpoint is either on the explicit public list, or it refuses anonymous users and refuses
a logged-in user for objects outside their scope. A new route with a URL parameter this test
does not know fails the test until someone says which out-of-scope object to try."""

from __future__ import annotations

import pytest

from .conftest import csrf_token, login

PUBLIC_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "main.health",
    "main.favicon",
    "main.set_language",
    "auth.login",
}

# For each URL parameter: (an object outside station head A's scope, an object inside it).
PARAMETERS = {
    "unit_id": (lambda w: w.commune_b.id, lambda w: w.commune_a.id),
    "hamlet_id": (lambda w: w.hamlets_b[0].id, lambda w: w.hamlets_a[0].id),
    "commune_id": (lambda w: w.commune_b.id, lambda w: w.commune_a.id),
    "facility_id": (lambda w: w.station_b.id, lambda w: w.station_a.id),
    "user_id": (lambda w: w.users["hanoi_admin"].id, lambda w: w.users["head_a"].id),
    "grant_id": (lambda w: w.users["hanoi_admin"].grants[0].id, lambda w: w.users["head_a"].grants[0].id),
}

# Units (or their descendants) the station head of commune A must never reach.
OUT_OF_SCOPE = {
    "commune B": lambda w: w.commune_b.id,
    "hamlet of B": lambda w: w.hamlets_b[0].id,
    "province": lambda w: w.dong_nai.id,
    "other province": lambda w: w.hanoi.id,
    "commune in Hà Nội": lambda w: w.commune_c.id,
}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]


def _build(rule, world, pick: int) -> str:
    values = {}
    for arg in rule.arguments:
        assert arg in PARAMETERS, (
            f"{rule.endpoint} takes <{arg}>: add it to PARAMETERS in tests/test_access.py with an "
            "out-of-scope and an in-scope object, so its access check is tested")
        values[arg] = PARAMETERS[arg][pick](world)
    return rule.build(values, append_unknown=False)[1]


def test_public_endpoints_exist(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS


def test_every_private_route_refuses_anonymous_users(app, client, world):
    rules = _rules(app)
    assert len(rules) >= 8
    token = csrf_token(client)  # a valid token, so it is the login check that refuses
    for rule in rules:
        url = _build(rule, world, pick=0)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code in (302, 401), f"{method} {url} answered {response.status_code}"
            if response.status_code == 302:
                assert "/login" in response.headers["Location"], f"{method} {url}"


def test_every_route_with_an_object_refuses_objects_out_of_scope(app, client, world):
    login(client, "truongtram_a")
    token = csrf_token(client, "/")
    checked = 0
    for rule in _rules(app):
        if not rule.arguments:
            continue
        url = _build(rule, world, pick=0)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code in (403, 404), f"{method} {url} answered {response.status_code}"
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("target", sorted(OUT_OF_SCOPE))
def test_station_head_cannot_open_units_outside_the_commune(client, world, target):
    login(client, "truongtram_a")
    response = client.get(f"/units/{OUT_OF_SCOPE[target](world)}")
    assert response.status_code in (403, 404)


def test_station_head_reaches_own_commune_and_hamlets(client, world):
    login(client, "truongtram_a")
    assert client.get(f"/units/{world.commune_a.id}").status_code == 200
    assert client.get(f"/units/{world.hamlets_a[1].id}").status_code == 200


def test_user_without_grant_reaches_no_object(app, client, world):
    login(client, "chuacapquyen")
    for rule in _rules(app):
        if not rule.arguments or "GET" not in rule.methods:
            continue
        url = _build(rule, world, pick=1)  # even objects a station head would see
        response = client.get(url)
        assert response.status_code in (403, 404), f"GET {url} answered {response.status_code}"


def test_centre_officer_sees_served_communes_only(client, world):
    login(client, "ttyt689")
    assert client.get(f"/units/{world.commune_a.id}").status_code == 200
    assert client.get(f"/units/{world.commune_b.id}").status_code == 200
    assert client.get(f"/units/{world.commune_c.id}").status_code in (403, 404)
    assert client.get(f"/units/{world.hanoi.id}").status_code in (403, 404)


def test_unknown_unit_is_404(client, world):
    login(client, "admin75")
    assert client.get("/units/999999").status_code == 404

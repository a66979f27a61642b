"""The coverage-map layers in the JSON API (issue #10 item 6): bearer tokens, scope, bad dates,
ETag, and the OpenAPI document."""

from __future__ import annotations

import gzip
import json

import pytest

from danso_network.api.auth import issue_token
from danso_network.auth.models import User
from danso_network.extensions import db


@pytest.fixture
def api(app, mapped):
    def as_user(username: str):
        user = db.session.scalar(db.select(User).where(User.username == username))
        _, raw = issue_token(user)
        db.session.commit()
        client = app.test_client()
        return lambda url, **headers: client.get("/api/v1" + url, headers={"Authorization": f"Bearer {raw}", **headers})

    return as_user


def test_the_api_serves_the_same_layer_as_the_map_page(api, login_as, client, mapped):
    get = api("truongtram_a")
    response = get(f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Content-Encoding"] == "gzip"
    from_api = json.loads(gzip.decompress(response.get_data()))
    login_as("truongtram_a")
    assert from_api == client.get(f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson").json
    again = get(f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson", **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_every_api_layer_answers_its_user(api, mapped):
    w = mapped
    part = api("truongtram_a")(f"/maps/layers/communes/{w.dong_nai.id}.geojson").json["features"]
    assert [f["properties"]["id"] for f in part if f["properties"]["kind"] == "commune"] == [w.commune_a.id]
    assert api("ttyt689")(f"/maps/layers/centre/{w.centre.id}.geojson").status_code == 200
    assert api("admin75")(f"/maps/layers/communes/{w.dong_nai.id}.geojson").status_code == 200
    features = api("admin75")("/maps/layers/communes.geojson").json["features"]
    assert {f["properties"]["id"] for f in features} == {w.commune_a.id, w.commune_b.id}


def test_without_a_token_the_api_answers_401(client, mapped):
    response = client.get(f"/api/v1/maps/layers/hamlets/{mapped.commune_a.id}.geojson")
    assert response.status_code == 401 and response.json["error"]


@pytest.mark.parametrize("url, status", [
    ("/maps/layers/hamlets/{commune_b}.geojson", 403),
    ("/maps/layers/communes/{hanoi}.geojson", 403),
    ("/maps/layers/centre/{centre}.geojson", 403),
    ("/maps/layers/hamlets/987654.geojson", 404),
    ("/maps/layers/centre/{station}.geojson", 404),
    ("/maps/layers/communes/{commune_a}.geojson", 404),
])
def test_out_of_scope_403_and_unknown_404_in_json(api, mapped, url, status):
    w = mapped
    response = api("truongtram_a")(url.format(commune_b=w.commune_b.id, hanoi=w.hanoi.id, centre=w.centre.id,
                                              station=w.station_a.id, commune_a=w.commune_a.id))
    assert response.status_code == status and response.json["error"]


@pytest.mark.parametrize("query, says", [
    ("as_of=31/12/2025", "YYYY-MM-DD"),
    ("as_of=2024-01-01", "hiệu lực từ 01/07/2025"),
    ("flag=poor", "difficult, ethnic_minority"),
])
def test_bad_parameters_are_422_with_a_message(api, mapped, query, says):
    response = api("truongtram_a")(f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson?{query}")
    assert response.status_code == 422 and says in response.json["error"]


def test_the_openapi_document_describes_the_layers(client):
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/api/v1/maps/layers/hamlets/{commune_id}.geojson", "/api/v1/maps/layers/centre/{facility_id}.geojson",
                 "/api/v1/maps/layers/communes/{province_id}.geojson", "/api/v1/maps/layers/communes.geojson"):
        get = doc["paths"][path]["get"]
        assert "application/geo+json" in get["responses"]["200"]["content"]
        assert {"200", "304", "401", "403", "404", "422"} <= set(get["responses"])
    assert doc["components"]["schemas"]["MapLayer"]["properties"]["type"] == {"const": "FeatureCollection"}

"""The GeoJSON layers of the coverage maps (issue #10 item 3): what they hold, who may fetch them,
bad dates, gzip + ETag + 304, and a new layer as soon as the network changes."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date

import pytest
from shapely.geometry import box
from sqlalchemy import select

from danso_network.collaborators import services as network
from danso_network.collaborators.models import Assignment
from danso_network.common.clock import today
from danso_network.coverage import services as coverage
from danso_network.extensions import db
from danso_network.maps import services as maps
from danso_network.supervision.services import record_visit
from danso_network.units.models import AdminUnit

from .. import factories
from ..conftest import login
from .conftest import give_geometry


def layer(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/geo+json"
    body = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return response, json.loads(body)


def of_kind(collection, kind):
    return [f for f in collection["features"] if f["properties"]["kind"] == kind]


def test_hamlet_layer_draws_the_hamlets_with_geometry_by_status(login_as, client, mapped):
    w = mapped
    login_as("truongtram_a")
    _, fc = layer(client, f"/maps/layers/hamlets/{w.commune_a.id}.geojson")
    assert fc["type"] == "FeatureCollection"
    hamlets = of_kind(fc, "hamlet")
    frame = coverage.hamlet_frame([w.commune_a.path], today())
    drawn = frame[frame["has_geometry"]]
    assert [f["properties"]["id"] for f in hamlets] == [w.hamlets_a[0].id]  # Khu phố 2 has no geometry
    props = hamlets[0]["properties"]
    row = drawn.iloc[0]
    assert props == {"kind": "hamlet", "id": w.hamlets_a[0].id, "name": "Khu phố 1", "status": row["status"],
                     "households": 180, "active": 1, "quota": int(row["quota"])}
    assert hamlets[0]["geometry"]["type"] == "Polygon"
    assert [f["properties"]["id"] for f in of_kind(fc, "boundary")] == [w.commune_a.id]
    stations = of_kind(fc, "station")
    assert [s["properties"]["id"] for s in stations] == [w.station_a.id]
    assert stations[0]["geometry"] == {"type": "Point", "coordinates": [w.commune_a.centroid_lon,
                                                                          w.commune_a.centroid_lat]}


def test_coordinates_are_the_stored_simplified_geometry_with_five_decimals(login_as, client, mapped):
    login_as("truongtram_a")
    response = client.get(f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson")
    text = response.get_data(as_text=True)
    numbers = re.findall(r"-?\d+\.\d+", json.dumps([f["geometry"] for f in json.loads(text)["features"]
                                                    if f["properties"]["kind"] != "station"]))
    assert numbers and all(len(n.split(".")[1]) <= 5 for n in numbers)
    assert "106.90123" in text  # the corner given as 106.9012345678, on the 5-decimal grid


def test_a_synthetic_hamlet_says_so(login_as, client, mapped):
    mapped.hamlets_b[1].is_synthetic = True
    db.session.commit()
    login_as("truongtram_b")
    _, fc = layer(client, f"/maps/layers/hamlets/{mapped.commune_b.id}.geojson")
    flags = {f["properties"]["name"]: f["properties"].get("synthetic", False) for f in of_kind(fc, "hamlet")}
    assert flags == {"Ấp Tân Lập": False, "Ấp 2": True}


def test_province_layer_colours_each_commune_by_its_share_of_covered_hamlets(login_as, client, mapped):
    w = mapped
    login_as("admin75")
    _, fc = layer(client, f"/maps/layers/communes/{w.dong_nai.id}.geojson")
    communes = {f["properties"]["id"]: f["properties"] for f in of_kind(fc, "commune")}
    assert set(communes) == {w.commune_a.id, w.commune_b.id}
    totals = coverage.aggregate(coverage.hamlet_frame([w.dong_nai.path], today()), "commune")
    for row in totals.to_dict("records"):
        props = communes[int(row["unit_id"])]
        assert props["hamlets"] == row["hamlets"] == 2
        assert props["covered"] == row["covered"]
        assert props["pct"] == round(float(row["pct_covered"]), 1)
    assert communes[w.commune_b.id]["pct"] == 0.0 and communes[w.commune_b.id]["status"] == "pct0"
    assert communes[w.commune_b.id]["vacancies"] == 2
    assert len(of_kind(fc, "station")) == 2


def test_scope_layer_holds_the_communes_of_the_users_area_only(login_as, client, mapped):
    login_as("admin75")
    _, fc = layer(client, "/maps/layers/communes.geojson")
    assert {f["properties"]["id"] for f in of_kind(fc, "commune")} == {mapped.commune_a.id, mapped.commune_b.id}
    assert of_kind(fc, "station") == []


def test_centre_layer_holds_the_hamlets_of_the_centres_communes(login_as, client, mapped):
    w = mapped
    login_as("ttyt689")
    _, fc = layer(client, f"/maps/layers/centre/{w.centre.id}.geojson")
    assert {f["properties"]["id"] for f in of_kind(fc, "hamlet")} == {w.hamlets_a[0].id, w.hamlets_b[0].id,
                                                                       w.hamlets_b[1].id}
    assert {f["properties"]["id"] for f in of_kind(fc, "boundary")} == {w.commune_a.id, w.commune_b.id}


def test_the_filter_keeps_difficult_hamlets_only(login_as, client, mapped):
    login_as("ttyt689")
    _, fc = layer(client, f"/maps/layers/centre/{mapped.centre.id}.geojson?flag=difficult")
    assert [f["properties"]["name"] for f in of_kind(fc, "hamlet")] == ["Ấp Tân Lập"]


# --- who may fetch what ---------------------------------------------------------------------------

LAYERS = {
    "hamlets": lambda w, pick: f"/maps/layers/hamlets/{pick(w.commune_a, w.commune_b)}.geojson",
    "centre": lambda w, pick: f"/maps/layers/centre/{pick(w.centre, w.centre)}.geojson",
    "communes": lambda w, pick: f"/maps/layers/communes/{pick(w.dong_nai, w.hanoi)}.geojson",
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_an_unknown_unit_or_centre_is_404(login_as, client, world, name):
    login_as("admin75")
    assert client.get(LAYERS[name](world, lambda mine, other: 987654)).status_code == 404


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_out_of_scope_is_403(login_as, client, world, name):
    login_as("truongtram_a")  # commune A only: commune B, the centre and Hà Nội are refused
    url = LAYERS[name](world, lambda mine, other: other.id)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [
    "/maps/layers/hamlets/{hamlet}.geojson",  # a hamlet is not a commune
    "/maps/layers/communes/{commune}.geojson",  # a commune is not a province
    "/maps/layers/centre/{station}.geojson",  # a station is not a health centre
])
def test_the_wrong_kind_of_unit_is_404(login_as, client, world, url):
    login_as("admin75")
    url = url.format(hamlet=world.hamlets_a[0].id, commune=world.commune_a.id, station=world.station_a.id)
    assert client.get(url).status_code == 404


def test_a_user_without_a_grant_gets_no_layer(login_as, client, world):
    login_as("chuacapquyen")
    assert client.get("/maps/layers/communes.geojson").status_code == 403


@pytest.mark.parametrize("raw, says", [
    ("31/02/2026", "không hợp lệ"),
    ("hôm qua", "không hợp lệ"),
    ("01/01/2020", "chưa có hiệu lực vào ngày 01/01/2020 (có hiệu lực từ 01/07/2025)"),
])
def test_a_bad_date_is_400_with_a_clear_message(login_as, client, world, raw, says):
    login_as("truongtram_a")
    response = client.get(f"/maps/layers/hamlets/{world.commune_a.id}.geojson", query_string={"as_of": raw})
    assert response.status_code == 400
    assert says in response.json["error"]


def test_a_past_date_shows_the_network_as_it_was(login_as, client, mapped):
    login_as("truongtram_a")
    url = f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson"
    _, before = layer(client, url + "?as_of=31/08/2025")  # the day before the collaborator started
    _, after = layer(client, url + "?as_of=2025-09-01")
    assert of_kind(before, "hamlet")[0]["properties"]["active"] == 0
    assert of_kind(after, "hamlet")[0]["properties"]["active"] == 1


# --- compression, ETag, cache -----------------------------------------------------------------------


def test_gzip_etag_and_304(login_as, client, mapped):
    login_as("truongtram_a")
    url = f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson"
    zipped, fc = layer(client, url, **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    etag = zipped.headers["ETag"]
    plain, same = layer(client, url)
    assert "Content-Encoding" not in plain.headers and same == fc
    assert plain.headers["ETag"] == etag
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert "no-cache" in again.headers["Cache-Control"]
    other_day = client.get(url + "?as_of=01/10/2025", headers={"If-None-Match": etag})
    assert other_day.status_code == 200 and other_day.headers["ETag"] != etag


def test_a_new_assignment_makes_a_new_layer(login_as, client, mapped):
    w = mapped
    login_as("truongtram_b")
    url = f"/maps/layers/hamlets/{w.commune_b.id}.geojson"
    first, fc = layer(client, url)
    assert {f["properties"]["active"] for f in of_kind(fc, "hamlet")} == {0}
    collaborator = factories.appoint(w.hamlets_b[1], 502, started_on=date(2025, 10, 1))
    db.session.commit()
    second, fc = layer(client, url, **{"If-None-Match": first.headers["ETag"]})
    assert second.headers["ETag"] != first.headers["ETag"]
    assert {f["properties"]["name"]: f["properties"]["active"] for f in of_kind(fc, "hamlet")} == {
        "Ấp Tân Lập": 0, "Ấp 2": 1}
    # An assignment closed in place (the collaborator leaves) is seen too: the service audits it.
    network.terminate_collaborator(collaborator, on=date(2025, 11, 1), reason="resigned", actor=None)
    db.session.commit()
    third, fc = layer(client, url, **{"If-None-Match": second.headers["ETag"]})
    assert third.headers["ETag"] not in (first.headers["ETag"], second.headers["ETag"])
    assert {f["properties"]["active"] for f in of_kind(fc, "hamlet")} == {0}


def test_a_login_or_a_visit_keeps_the_layer(app, login_as, client, mapped):
    login_as("truongtram_a")
    url = f"/maps/layers/hamlets/{mapped.commune_a.id}.geojson"
    etag = client.get(url).headers["ETag"]
    assert login(app.test_client(), "vienchuc_a").status_code == 302  # an audited login
    held = db.session.scalar(select(Assignment).where(Assignment.hamlet_id == mapped.hamlets_a[0].id))
    record_visit(held.collaborator, supervisor=mapped.users["centre"], visited_on=date(2025, 10, 1),
                 checklist={"p0_submitted": True}, actor=None)  # an audited visit
    db.session.commit()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_without_criteria_the_quota_is_unknown_not_guessed(login_as, client, world):
    give_geometry(world.hamlets_a[0], box(106.85, 11.50, 106.90, 11.60))
    factories.appoint(world.hamlets_a[0], 503, started_on=date(2025, 9, 1))
    db.session.commit()  # Đồng Nai has no criteria in this world
    login_as("truongtram_a")
    _, fc = layer(client, f"/maps/layers/hamlets/{world.commune_a.id}.geojson")
    (props,) = [f["properties"] for f in of_kind(fc, "hamlet")]
    assert props["quota"] is None and props["status"] == "unknown" and props["active"] == 1


# --- the coverage frame kept between a page and its layer, and the stored geometry text ----------


def test_the_layer_reads_the_frame_its_page_computed_and_sees_a_change_made_between(
        login_as, client, mapped, monkeypatch):
    """The map page computes the coverage frame for its figures and keeps it; the layer its script
    fetches a moment later reads it instead of computing it again — unless the network changed in
    between, and then the layer shows the change."""
    w = mapped
    computed = []
    real = coverage.hamlet_frame
    monkeypatch.setattr(maps.coverage, "hamlet_frame", lambda *a, **k: computed.append(a) or real(*a, **k))
    login_as("truongtram_b")
    assert client.get(f"/maps/unit/{w.commune_b.id}").status_code == 200
    url = f"/maps/layers/hamlets/{w.commune_b.id}.geojson"
    _, fc = layer(client, url)
    assert len(computed) == 1
    assert {f["properties"]["active"] for f in of_kind(fc, "hamlet")} == {0}

    factories.appoint(w.hamlets_b[1], 504, started_on=date(2025, 10, 1))
    db.session.commit()
    _, fc = layer(client, url)
    assert len(computed) == 2
    assert {f["properties"]["name"]: f["properties"]["active"] for f in of_kind(fc, "hamlet")} == {
        "Ấp Tân Lập": 0, "Ấp 2": 1}


def test_a_filtered_map_leaves_the_kept_frame_whole(login_as, client, mapped):
    login_as("ttyt689")
    _, only = layer(client, f"/maps/layers/centre/{mapped.centre.id}.geojson?flag=difficult")
    _, every = layer(client, f"/maps/layers/centre/{mapped.centre.id}.geojson")
    assert [f["properties"]["name"] for f in of_kind(only, "hamlet")] == ["Ấp Tân Lập"]
    assert sorted(f["properties"]["name"] for f in of_kind(every, "hamlet")) == ["Khu phố 1", "Ấp 2", "Ấp Tân Lập"]


def test_a_unit_whose_geometry_text_is_missing_is_drawn_from_its_wkb(login_as, client, mapped):
    """The layers serve the GeoJSON text stored with the simplified geometry; a row written
    without it (by hand, not through units/spatial.py) is still drawn, the same."""
    w = mapped
    login_as("truongtram_b")
    url = f"/maps/layers/hamlets/{w.commune_b.id}.geojson"
    _, before = layer(client, url)
    db.session.execute(AdminUnit.__table__.update().where(AdminUnit.id.in_([w.hamlets_b[0].id, w.commune_b.id]))
                       .values(geom_simplified_geojson=None))
    db.session.commit()
    maps.clear_cache()  # the edit above went round the services: no data version moved
    _, after = layer(client, url)
    assert after == before
    assert [f["properties"]["name"] for f in of_kind(after, "hamlet")] == ["Ấp Tân Lập", "Ấp 2"]

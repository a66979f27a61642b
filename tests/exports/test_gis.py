"""GIS layers of hamlets with their coverage (issue #11, item 1): GeoJSON and GeoPackage read back
as QGIS or ``ogrinfo`` would (GDAL, through pyogrio), hamlets without geometry counted."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import warnings

import pyogrio

from danso_network.collaborators.services import RosterFilters
from danso_network.common.clock import today
from danso_network.exports import gis, services

FIELDS = list(gis.FIELDS)


def _read(data: bytes):
    with warnings.catch_warnings():  # an in-memory GeoPackage has no ".gpkg" name: GDAL says so
        warnings.simplefilter("ignore", RuntimeWarning)
        return pyogrio.read_info(io.BytesIO(data)), pyogrio.read_dataframe(io.BytesIO(data))


def test_layer_of_dong_nai_has_coverage_attributes_and_full_geometry(app, world, people):
    area = services.unit_area(world.dong_nai, None)
    layer = gis.hamlet_layer(area, RosterFilters(as_of=today()))
    assert layer.without_geometry == 1  # Ấp 2
    frame = layer.frame
    assert list(frame.columns) == [*FIELDS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    assert frame["hamlet"].tolist() == ["Khu phố 1", "Khu phố 2", "Ấp Tân Lập"]
    kp2 = frame[frame["hamlet"] == "Khu phố 2"].iloc[0]
    assert kp2["active"] == 0 and kp2["suspended"] == 1 and kp2["commune"] == "Phường Bình Phước"
    assert kp2["commune_cd"] == "25195" and kp2["province"] == "Thành phố Đồng Nai"
    assert kp2["status"] == "vacant" and kp2["status_vi"] == "Chưa có CTV"
    tan_lap = frame[frame["hamlet"] == "Ấp Tân Lập"].iloc[0]
    assert tan_lap["difficult"] == 1 and tan_lap["ethnic_min"] == 1 and tan_lap["active"] == 1
    assert tan_lap["households"] == 300 and tan_lap["as_of"] == today().isoformat()


def test_geopackage_and_geojson_read_back(login_as, world, people, tmp_path):
    client = login_as("admin75")
    response = client.get(f"/exports/roster/{world.dong_nai.id}?format=gpkg")
    assert response.status_code == 200
    assert response.headers["X-Hamlets-Without-Geometry"] == "1"
    info, frame = _read(response.data)
    assert info["layer_name"] == gis.LAYER_NAME and info["crs"] == "EPSG:4326"
    assert info["geometry_type"] == "MultiPolygon" and info["features"] == 3
    assert list(info["fields"]) == FIELDS
    assert "1 thôn/tổ dân phố chưa có ranh giới" in info["layer_metadata"]["DESCRIPTION"]
    assert set(frame["hamlet"]) == {"Khu phố 1", "Khu phố 2", "Ấp Tân Lập"}
    path = tmp_path / "dong-nai.gpkg"
    path.write_bytes(response.data)
    assert pyogrio.list_layers(path).tolist() == [[gis.LAYER_NAME, "MultiPolygon"]]
    if shutil.which("ogrinfo"):  # not installed by .ci/run; checked where it is
        out = subprocess.run(["ogrinfo", "-so", "-al", str(path)], capture_output=True, text=True, check=True)
        assert "Feature Count: 3" in out.stdout

    response = client.get(f"/exports/coverage/{world.commune_a.id}?format=geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    data = json.loads(response.data)
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 2
    props = data["features"][0]["properties"]
    assert props["hamlet"] == "Khu phố 1" and props["status_vi"] and props["active"] == 1
    assert data["features"][0]["geometry"]["type"] == "MultiPolygon"
    info, frame = _read(response.data)
    assert info["features"] == 2 and info["crs"] == "EPSG:4326"


def test_an_area_without_hamlets_in_force_gives_a_valid_empty_layer(app, world, people, tmp_path):
    area = services.unit_area(world.commune_a, None)
    layer = gis.hamlet_layer(area, RosterFilters(as_of=today(), hamlet_type="ban"))
    assert len(layer.frame) == 0 and layer.without_geometry == 0
    for fmt in ("gpkg", "geojson"):
        path = tmp_path / f"empty.{fmt}"
        gis.write_layer(layer, fmt, path)
        info = pyogrio.read_info(path)
        assert info["features"] == 0
        if fmt == "gpkg":  # a GeoPackage keeps the fields of an empty layer; GeoJSON has none to keep
            assert list(info["fields"]) == FIELDS


def test_viewer_layers_hold_no_personal_data(login_as, world, people):
    client = login_as("xem_b")
    for fmt in ("geojson", "gpkg"):
        response = client.get(f"/exports/roster/{world.commune_b.id}?format={fmt}")
        assert response.status_code == 200
        assert people.hoa.candidate.national_id.encode() not in response.data
        assert b"Hoa" not in response.data

"""Properties of the hamlet-boundary import from GIS files (docs/gis-import.md,
``units.hamlets_import.read_boundaries`` / ``plan_hamlet_boundaries``): whatever the file —
malformed GeoJSON bytes, a CRS that is wrong or unknown, empty or null geometries, points and
lines, self-intersecting or degenerate polygons, coordinates off the globe, odd property values,
a GeoPackage or a zipped shapefile, a zip holding anything — the outcome is a refusal with a
Vietnamese reason (``ImportFailed``) or a plan whose problems name their feature; a plan without
problems then applies. Never another exception (a 500 on the upload page)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from shapely.geometry import box, mapping, shape

from danso_network.errors import DomainError
from danso_network.extensions import db
from danso_network.imports.problems import ImportRefused, Problem
from danso_network.units.hamlets_import import (
    apply_hamlet_boundaries,
    plan_hamlet_boundaries,
    read_boundaries,
)
from danso_network.units.importer import ImportFailed

from .conftest import FUZZ
from .test_imports_fuzz import ODD_TEXT

coordinate = st.one_of(st.floats(106.8, 107.1), st.floats(11.4, 11.7), st.floats(-1e6, 1e6), st.just(1e308),
                       st.just(-181.0), st.just(0.0))
ring = st.lists(st.tuples(coordinate, coordinate).map(list), min_size=0, max_size=6)
boxes = st.builds(lambda x, y, w, h: mapping(box(x, y, x + w, y + h)), st.floats(106.8, 107.05),
                  st.floats(11.45, 11.65), st.floats(0.0, 0.05), st.floats(0.0, 0.05))
geometry = st.one_of(
    boxes, boxes,
    st.none(),
    st.just({"type": "Polygon", "coordinates": []}),
    st.just({"type": "MultiPolygon", "coordinates": []}),
    st.just({"type": "GeometryCollection", "geometries": []}),
    st.just({"type": "Polygon", "coordinates": [[[106.96, 11.51], [107.0, 11.55], [107.0, 11.51], [106.96, 11.55],
                                                 [106.96, 11.51]]]}),  # a bow tie
    st.just({"type": "Polygon", "coordinates": [[[106.9, 11.5], [106.9, 11.5], [106.9, 11.5], [106.9, 11.5]]]}),
    st.builds(lambda r: {"type": "Polygon", "coordinates": [r + r[:1]] if r else [[]]}, ring),
    st.builds(lambda c: {"type": "Point", "coordinates": c}, st.tuples(coordinate, coordinate).map(list)),
    st.builds(lambda r: {"type": "LineString", "coordinates": r}, ring),
    st.builds(lambda t: {"type": t, "coordinates": [[1, 2]]}, st.sampled_from(["Nonsense", "Polygon", "Point"])),
)
prop_value = st.one_of(st.sampled_from(["25210", "25195", 25210, "00004", "Ấp Tân Lập", "Ấp 2", "AP 02", "Khu phố 1",
                                        "001", "002", None, "", "99999"]), ODD_TEXT, st.integers(), st.floats())
properties = st.fixed_dictionaries({}, optional={
    key: prop_value for key in ("commune_code", "ma_xa", "name", "ten_thon", "local_id", "ma_thon", "khac")})
good_properties = st.sampled_from([{"commune_code": "25210", "name": "Ấp Tân Lập"}, {"ma_xa": 25210, "ten_thon": "AP 02"},
                                   {"commune_code": "25195", "local_id": "001"}])
feature = st.builds(lambda g, p: {"type": "Feature", "properties": p, "geometry": g},
                    geometry, st.one_of(properties, good_properties))
crs = st.one_of(st.none(), st.sampled_from(["urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "EPSG:3405", "EPSG:9210",
                                            "EPSG:99999", "khong-phai-crs"]))


@st.composite
def geojson_bytes(draw) -> bytes:
    collection: dict = {"type": "FeatureCollection", "features": draw(st.lists(feature, max_size=4))}
    name = draw(crs)
    if name is not None:
        collection["crs"] = {"type": "name", "properties": {"name": name}}
    text = json.dumps(collection, ensure_ascii=draw(st.booleans()))
    damage = draw(st.sampled_from(["none", "none", "none", "truncate", "garbage", "not-a-collection"]))
    if damage == "truncate":
        text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
    elif damage == "garbage":
        return draw(st.binary(max_size=300))
    elif damage == "not-a-collection":
        text = json.dumps(draw(st.sampled_from([[], {}, {"type": "Feature"}, "x", 1, {"type": "FeatureCollection"}])))
    return text.encode("utf-8")


@st.composite
def gis_file(draw) -> tuple[str, object]:
    """(file name, bytes or a GeoDataFrame to write in that format)."""
    kind = draw(st.sampled_from(["geojson", "geojson", "geojson", "json.gz?", "gpkg", "shp.zip", "zip-garbage"]))
    if kind in ("gpkg", "shp.zip"):
        features = draw(st.lists(st.tuples(boxes, st.one_of(properties, good_properties)), min_size=1, max_size=3))
        rows = [{k: (None if v is None else str(v)) for k, v in p.items()} for _, p in features]
        columns = sorted({k for r in rows for k in r}) or ["khac"]
        frame = gpd.GeoDataFrame([{c: r.get(c) for c in columns} for r in rows],
                                 geometry=[shape(g) for g, _ in features],
                                 crs=draw(st.sampled_from(["EPSG:4326", "EPSG:3405", None])))
        return ("thon.gpkg" if kind == "gpkg" else "thon.zip"), frame
    if kind == "zip-garbage":
        return "thon.zip", draw(st.binary(max_size=200))
    return draw(st.sampled_from(["thon.geojson", "thon.json"])), draw(geojson_bytes())


def write(folder: Path, name: str, content) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif name.endswith(".gpkg"):
        content.to_file(path, driver="GPKG", engine="pyogrio")
    else:  # a shapefile and its side files, zipped
        shp = folder / "shp"
        shp.mkdir()
        content.to_file(shp / "thon.shp", engine="pyogrio")
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp.iterdir():
                archive.write(part, part.name)
    return path


# Said while writing the generated files (a shapefile's 10-letter column names, no CRS given) or
# reading odd property values: the generator's business, not the importer's.
@pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning",
                            "ignore:Column names longer than 10 characters:UserWarning",
                            "ignore:Normalized/laundered field name:RuntimeWarning",
                            "ignore:'crs' was not provided:UserWarning",
                            "ignore:Value .* has been truncated:RuntimeWarning")
@settings(FUZZ, max_examples=60)
@given(gis_file())
def test_any_gis_file_is_refused_or_planned(world, file):
    name, content = file
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = write(Path(folder), name, content)
        except Exception:  # noqa: BLE001 — the generator made something GDAL cannot write: not a case
            event("could not be written")
            return
        try:
            frame = read_boundaries(path)
        except ImportFailed as e:
            assert e.problems and all(p.strip() for p in e.problems)
            event("file refused")
            return
    savepoint = db.session.begin_nested()
    try:
        try:
            plan = plan_hamlet_boundaries(frame, filename=name, actor=world.users["admin"], within=world.dong_nai)
        except DomainError as e:
            assert str(e.message)
            event("refused as a whole")
            return
        problems = list(plan.problems)
        assert all(isinstance(p, Problem) and p.message.strip() for p in problems)
        if problems:
            event("plan with problems")
            return
        event("plan applied")
        try:
            apply_hamlet_boundaries(plan, actor=world.users["admin"], filename=name)
        except ImportRefused as e:
            assert e.items
    finally:
        savepoint.rollback()

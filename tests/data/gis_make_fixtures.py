"""Build the small GIS fixtures used by tests/units/test_importer.py (run once, by hand).

    .venv/bin/python tests/data/gis_make_fixtures.py SOURCE_FOLDER

(SOURCE_FOLDER: the project's shared reference-data folder, which a clone does not contain.)

The real boundaries are cut from ``dong_nai_wards_2026_fullres.geojson.gz`` and
``dong_nai_province_2026.geojson`` (see data/NOTICE for their provenance and licence) and thinned
so each file stays a few KB; the tests read only the files written here, never the source folder.
Households and population in the GeoPackage are invented test values.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
COMMUNES = ["26017", "26041", "26491"]  # Tam Hiệp, Trấn Biên (phường), Đại Phước (xã)
COLUMNS = ["code", "name", "full_name", "type", "province_code", "area_km2", "geometry"]


def thin(gdf: gpd.GeoDataFrame, tolerance: float) -> gpd.GeoDataFrame:
    gdf = gdf.copy()
    gdf["geometry"] = shapely.set_precision(gdf.geometry.simplify(tolerance).values, 1e-6)
    return gdf


def feature(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def box(x: float, y: float, size: float = 0.01) -> dict:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def write_geojson(name: str, features: list[dict]) -> None:
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)
    (HERE / name).write_text(text + "\n", encoding="utf-8")


def commune(code: str, name: str, geometry: dict | None, type: str = "phường", province: str = "75") -> dict:
    prefix = {"phường": "Phường", "xã": "Xã"}[type]
    return feature({"code": code, "name": name, "full_name": f"{prefix} {name}", "type": type,
                    "province_code": province}, geometry)


def main(source: Path) -> None:
    wards = gpd.read_file(f"/vsigzip/{source / 'dong_nai_wards_2026_fullres.geojson.gz'}", engine="pyogrio")
    wards = wards[wards.code.isin(COMMUNES)][COLUMNS].sort_values("code").reset_index(drop=True)
    province = gpd.read_file(source / "dong_nai_province_2026.geojson", engine="pyogrio")

    # 1. Three real communes, lightly thinned (~2 m) but still much finer than the map copy.
    good = thin(wards, 0.00002)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "gis_dong_nai_3.geojson"
        good.to_file(plain, engine="pyogrio", layer_options={"COORDINATE_PRECISION": 6})
        with open(HERE / "gis_dong_nai_3.geojson.gz", "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
            out.write(plain.read_bytes())

    # 2. A GeoPackage holding the province and two of its communes, with a level column.
    prov = thin(province, 0.02)[["code", "name", "full_name", "type", "geometry"]].assign(
        level="province", province_code=None, households=None, population=None)
    two = thin(wards[wards.code != "26491"], 0.0001)[["code", "name", "full_name", "type", "province_code",
                                                      "geometry"]]
    two = two.assign(level="commune", households=[21000, 18500], population=[78000, 66000])
    gpkg = gpd.GeoDataFrame(
        [*prov.to_dict("records"), *two.to_dict("records")], geometry="geometry", crs="EPSG:4326")
    gpkg["households"] = gpkg["households"].astype("Int64")
    gpkg["population"] = gpkg["population"].astype("Int64")
    target = HERE / "gis_dong_nai_province.gpkg"
    target.unlink(missing_ok=True)
    gpkg.to_file(target, engine="pyogrio", layer="units", layer_options={"SPATIAL_INDEX": "NO"})
    con = sqlite3.connect(target)
    con.execute("PRAGMA page_size=512")
    con.execute("VACUUM")
    con.close()

    # 2b. The same data as two layers (tinh, xa): the importer must ask which one.
    target = HERE / "gis_two_layers.gpkg"
    target.unlink(missing_ok=True)
    gpkg[gpkg.level == "province"].to_file(target, engine="pyogrio", layer="tinh",
                                           layer_options={"SPATIAL_INDEX": "NO"})
    gpkg[gpkg.level == "commune"].to_file(target, engine="pyogrio", layer="xa", append=True,
                                          layer_options={"SPATIAL_INDEX": "NO"})
    con = sqlite3.connect(target)
    con.execute("PRAGMA page_size=512")
    con.execute("VACUUM")
    con.close()

    # 3. A zipped shapefile in VN-2000 / UTM zone 48N (EPSG:3405), as provincial GIS offices
    #    deliver it; no full_name column; the 10-character DBF limit turns province_code into
    #    province_c.
    shp = thin(wards, 0.00005)[["code", "name", "type", "province_code", "geometry"]].to_crs(3405)
    shp = shp.rename(columns={"province_code": "province_c"})
    with tempfile.TemporaryDirectory() as tmp:
        shp.to_file(Path(tmp) / "dong_nai_vn2000.shp", engine="pyogrio", encoding="UTF-8")
        with zipfile.ZipFile(HERE / "gis_dong_nai_vn2000.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for part in sorted(Path(tmp).iterdir()):
                z.writestr(zipfile.ZipInfo(part.name, (2026, 1, 1, 0, 0, 0)), part.read_bytes(),
                           zipfile.ZIP_DEFLATED)

    # 4. Codes stored as integers (leading zeros lost): Hà Nội (01) and Phường Ba Đình (00004).
    write_geojson("gis_int_codes.geojson", [
        feature({"code": 1, "name": "Hà Nội", "full_name": "Thành phố Hà Nội", "type": "thành phố"},
                box(105.70, 20.90, 0.3)),
        feature({"code": 4, "name": "Ba Đình", "full_name": "Phường Ba Đình", "type": "phường",
                 "province_code": 1}, box(105.82, 21.03, 0.02)),
    ])

    # 5. A self-intersecting "bow-tie" ring, which make_valid turns into two triangles.
    bowtie = {"type": "Polygon", "coordinates": [[[106.86, 10.95], [106.88, 10.97], [106.88, 10.95],
                                                  [106.86, 10.97], [106.86, 10.95]]]}
    write_geojson("gis_bowtie.geojson", [commune("26017", "Tam Hiệp", bowtie)])

    # 6. Broken files, one problem each.
    no_code = [{k: v for k, v in commune("26017", "Tam Hiệp", box(106.86, 10.95))["properties"].items()
                if k != "code"}]
    write_geojson("gis_bad_no_code.geojson", [feature(no_code[0], box(106.86, 10.95))])
    write_geojson("gis_bad_duplicate_codes.geojson", [
        commune("26017", "Tam Hiệp", box(106.86, 10.95)),
        commune("26041", "Trấn Biên", box(106.80, 10.95)),
        commune("26017", "Tam Hiệp (bản sao)", box(106.86, 10.97)),
    ])
    write_geojson("gis_bad_unknown_parent.geojson", [
        commune("26017", "Tam Hiệp", box(106.86, 10.95), province="99"),
    ])
    write_geojson("gis_bad_empty_geometry.geojson", [
        commune("26017", "Tam Hiệp", None),
        commune("26041", "Trấn Biên", {"type": "Polygon", "coordinates": []}),
    ])
    write_geojson("gis_bad_line.geojson", [
        commune("26017", "Tam Hiệp", {"type": "LineString", "coordinates": [[106.86, 10.95], [106.88, 10.97]]}),
    ])
    write_geojson("gis_bad_empty.geojson", [])
    (HERE / "gis_bad_not_gis.geojson").write_text(
        "Danh sách xã phường (không phải GeoJSON)\n26017 Tam Hiệp\n", encoding="utf-8")
    (HERE / "gis_bad_table.csv").write_text(
        "code,name,type,province_code\n26017,Tam Hiệp,phường,75\n", encoding="utf-8")
    with zipfile.ZipFile(HERE / "gis_bad_no_shapefile.zip", "w") as z:
        z.writestr(zipfile.ZipInfo("doc-truoc.txt", (2026, 1, 1, 0, 0, 0)), "Không có shapefile ở đây.\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: gis_make_fixtures.py SOURCE_FOLDER (with dong_nai_wards_2026_fullres.geojson.gz)")
    main(Path(sys.argv[1]))

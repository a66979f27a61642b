"""Hamlet boundaries from a GIS file (issue #12 item 2): ``hamlets_import.plan_hamlet_boundaries``,
its page and ``danso units import-hamlet-boundaries``.

Features are matched to the world's current hamlets by commune code and hamlet name (case and
diacritics ignored) or local code; geometry is reprojected, repaired and stored full and
simplified as the units importer does. Every unmatched, out-of-scope or broken feature is a
problem, and then nothing is written.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.imports.problems import ImportRefused
from danso_network.units.hamlets_import import (
    apply_hamlet_boundaries,
    plan_hamlet_boundaries,
    read_boundaries,
)
from danso_network.units.models import AdminUnit
from danso_network.units.spatial import from_wkb

from ..conftest import csrf_token

TAN_LAP = box(106.96, 11.51, 106.99, 11.54)
AP_2 = box(106.99, 11.51, 107.02, 11.54)


def feature(geom=TAN_LAP, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom) if geom is not None else None}


def write_geojson(tmp_path: Path, features: list[dict], name: str = "thon.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def two_hamlets(**extra) -> list[dict]:
    return [feature(TAN_LAP, commune_code="25210", name="Ấp Tân Lập", **extra),
            feature(AP_2, commune_code="25210", name="Ấp 2", **extra)]


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(AdminUnit)),
            db.session.scalar(select(func.count()).select_from(AdminUnit).where(AdminUnit.geom_wkb.is_not(None))),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def plan_file(path: Path, **kwargs):
    return plan_hamlet_boundaries(read_boundaries(path), filename=path.name, **kwargs)


def problems_of(path: Path, **kwargs) -> list[str]:
    before = counts()
    plan = plan_file(path, **kwargs)
    assert plan.problems, "no problem found"
    with pytest.raises(ImportRefused):
        apply_hamlet_boundaries(plan)
    assert counts() == before
    return [str(p) for p in plan.problems]


def geometry_of(hamlet: AdminUnit):
    db.session.refresh(hamlet)
    return from_wkb(hamlet.geom_wkb)


# --- the good path -------------------------------------------------------------------------------------


def test_boundaries_are_matched_by_commune_and_name_and_stored_full_and_simplified(world, tmp_path):
    tan_lap, ap_2 = world.hamlets_b
    path = write_geojson(tmp_path, two_hamlets())
    plan = plan_file(path)
    assert not plan.problems and plan.summary.updated == 2
    summary = apply_hamlet_boundaries(plan, filename=path.name)
    assert (summary.updated, summary.unchanged) == (2, 0)
    assert geometry_of(tan_lap).equals(TAN_LAP) and geometry_of(ap_2).equals(AP_2)
    assert tan_lap.geom_simplified_wkb is not None
    assert (tan_lap.bbox_minx, tan_lap.bbox_maxy) == (106.96, 11.54)
    assert tan_lap.centroid_lon == pytest.approx(106.975) and tan_lap.centroid_lat == pytest.approx(11.525)
    assert world.hamlets_a[0].geom_wkb is None  # untouched


def test_each_change_is_audited_with_the_files_name(world, tmp_path, login_as):
    path = write_geojson(tmp_path, two_hamlets(), "ranh-gioi-dong-xoai.geojson")
    apply_hamlet_boundaries(plan_file(path, actor=world.users["admin"]), actor=world.users["admin"],
                            filename=path.name)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(["unit.update", "unit.import"]))
                                .order_by(AuditEvent.id)).all()
    updates = [e for e in events if e.action == "unit.update"]
    assert len(updates) == 2 and all(e.after["source"] == "ranh-gioi-dong-xoai.geojson" for e in updates)
    assert all(e.actor_name == "admin75" and e.after["geometry"].endswith("bytes>") for e in updates)
    assert "ranh-gioi-dong-xoai.geojson" in events[-1].object_label and events[-1].action == "unit.import"


def test_re_importing_the_same_file_changes_nothing(world, tmp_path):
    path = write_geojson(tmp_path, two_hamlets())
    apply_hamlet_boundaries(plan_file(path))
    before = counts()
    plan = plan_file(path)
    assert (plan.summary.updated, plan.summary.unchanged) == (0, 2)
    apply_hamlet_boundaries(plan)
    assert counts() == before


@pytest.mark.parametrize("props", [
    {"commune_code": "25210", "name": "ap tan lap"},
    {"MA_XA": 25210, "TEN_THON": "ẤP TÂN LẬP"},  # a number loses nothing: 25210
    {"ma_xa": "25210", "ma_thon": "001"},  # the local code alone
    {"commune_code": "25210", "local_id": "1", "name": "Ấp Tân Lập"},  # "1" = "001"
])
def test_matching_variants(world, tmp_path, props):
    tan_lap = world.hamlets_b[0]
    assert tan_lap.local_id == "001"
    path = write_geojson(tmp_path, [feature(TAN_LAP, **props)])
    plan = plan_file(path)
    assert not plan.problems, [str(p) for p in plan.problems]
    apply_hamlet_boundaries(plan)
    assert geometry_of(tan_lap).equals(TAN_LAP)


def test_a_commune_code_written_as_a_number_gets_its_zeros_back(world, tmp_path):
    path = write_geojson(tmp_path, [feature(box(105.80, 21.02, 105.82, 21.04), commune_code=4, name="Tổ dân phố 5")])
    apply_hamlet_boundaries(plan_file(path))
    assert geometry_of(world.hamlets_c[0]) is not None


def test_a_geopackage_in_vn2000_is_reprojected(world, tmp_path):
    frame = gpd.GeoDataFrame({"commune_code": ["25210"], "name": ["Ấp 2"]}, geometry=[AP_2], crs="EPSG:4326")
    path = tmp_path / "thon.gpkg"
    frame.to_crs(3405).to_file(path, engine="pyogrio")
    plan = plan_file(path)
    assert not plan.problems and any("EPSG:4326" in n for n in plan.notes)
    apply_hamlet_boundaries(plan)
    stored = geometry_of(world.hamlets_b[1])
    assert stored.symmetric_difference(AP_2).area < AP_2.area * 0.01


def test_a_zipped_shapefile_is_read(world, tmp_path):
    frame = gpd.GeoDataFrame({"ma_xa": ["25210"], "ten_thon": ["Ấp Tân Lập"]}, geometry=[TAN_LAP], crs="EPSG:4326")
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "thon.shp", engine="pyogrio", encoding="UTF-8")
    path = tmp_path / "thon.zip"
    with zipfile.ZipFile(path, "w") as z:
        for part in folder.iterdir():
            z.write(part, part.name)
    apply_hamlet_boundaries(plan_file(path))
    assert geometry_of(world.hamlets_b[0]).equals(TAN_LAP)


def test_a_self_intersecting_boundary_is_repaired_and_said(world, tmp_path):
    bowtie = shapely.Polygon([(106.96, 11.51), (106.99, 11.54), (106.99, 11.51), (106.96, 11.54)])
    path = write_geojson(tmp_path, [feature(bowtie, commune_code="25210", name="Ấp 2")])
    plan = plan_file(path)
    assert not plan.problems and plan.items[0].repaired
    assert any("sửa tự động" in n for n in plan.notes)
    apply_hamlet_boundaries(plan)
    assert geometry_of(world.hamlets_b[1]).is_valid


def test_hamlets_left_without_a_boundary_are_counted(world, tmp_path):
    plan = plan_file(write_geojson(tmp_path, two_hamlets()[:1]))
    assert plan.without == 1 and any("1 thôn/tổ dân phố" in n for n in plan.notes)


# --- problems: each placed, nothing written ------------------------------------------------------------


@pytest.mark.parametrize(("features", "expected"), [
    ([feature(commune_code="25210", name="Ấp Không Có")],
     "Dòng 1, cột “name”: Xã Đồng Xoài không có thôn/tổ dân phố “Ấp Không Có”: hãy nhập thôn trước"),
    ([feature(commune_code="99999", name="Ấp 2")],
     "Dòng 1, cột “commune_code”: Không có xã/phường nào đang hiệu lực mang mã 99999."),
    ([feature(commune_code="25210", local_id="777")], "Xã Đồng Xoài không có thôn/tổ dân phố mã “777”."),
    ([feature(commune_code="25210", local_id="001", name="Ấp 2")], "Mã thôn “001” là của “Ấp Tân Lập”, không phải “Ấp 2”."),
    ([feature(commune_code="25210", name="Ấp 2"), feature(AP_2, commune_code="25210", name="AP 2")],
     "Dòng 2, cột “name”: Đối tượng này và đối tượng ở dòng 1 cùng là ranh giới của “Ấp 2”."),
    ([feature(shapely.LineString([(106.96, 11.51), (106.99, 11.54)]), commune_code="25210", name="Ấp 2")],
     "hình học không phải vùng (LineString)"),
    ([feature(None, commune_code="25210", name="Ấp 2")], "hình học rỗng."),
    ([feature(commune_code="25210", name=None), feature(AP_2, commune_code="25210", name="Ấp 2")],
     "Dòng 1, cột “name”: Thiếu tên và mã thôn."),
    ([feature(commune_code=None, name="Ấp 2"), feature(AP_2, commune_code="25210", name="Ấp Tân Lập")],
     "Dòng 1, cột “commune_code”: Ô này không được để trống."),
    ([feature(name="Ấp 2")], "Tệp thiếu cột mã xã/phường (commune_code, ma_xa…)."),
    ([feature(commune_code="25210", type="ấp")], "Tệp thiếu cột tên thôn (name, ten_thon…) hoặc mã thôn"),
])
def test_each_bad_feature_is_a_problem_and_nothing_is_written(world, tmp_path, features, expected):
    lines = problems_of(write_geojson(tmp_path, features))
    assert any(expected in line for line in lines), lines


def test_a_station_head_sets_boundaries_in_their_commune_only(world, tmp_path):
    path = write_geojson(tmp_path, [*two_hamlets(), feature(box(106.86, 11.51, 106.88, 11.53), commune_code="25195",
                                                            name="Khu phố 1")])
    lines = problems_of(path, actor=world.users["head_a"])
    assert lines == ["Dòng 1, cột “commune_code”: Xã/phường mã 25210 (Xã Đồng Xoài) nằm ngoài địa bàn bạn được "
                     "quản lý.",
                     "Dòng 2, cột “commune_code”: Xã/phường mã 25210 (Xã Đồng Xoài) nằm ngoài địa bàn bạn được "
                     "quản lý."]


@pytest.mark.parametrize(("content", "name", "words"), [
    ("mã,tên\n25210,Ấp 2\n", "thon.geojson", "không phải tệp GeoJSON hợp lệ"),
    ('{"type": "FeatureCollection", "features": []}', "thon.geojson", "không có đối tượng nào"),
    ("x", "thon.csv", "không phải định dạng GIS được hỗ trợ"),
])
def test_files_that_are_not_usable_gis_files_are_refused(world, tmp_path, content, name, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    before = counts()
    try:
        lines = problems_of(path)
    except ValidationFailed as refused:
        lines = refused.problems
    assert any(words in line for line in lines), lines
    assert counts() == before


# --- the page and the command line ---------------------------------------------------------------------


def upload(client, url: str, data: bytes, name: str):
    return client.post(url, data={"csrf_token": csrf_token(client, url), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_page_shows_a_dry_run_then_stores_the_boundaries(world, tmp_path, login_as):
    client = login_as(world.users["head_b"])
    url = f"/units/{world.commune_b.id}/hamlets/boundaries"
    assert "Nhập ranh giới thôn/tổ dân phố từ tệp GIS" in client.get(url).get_data(as_text=True)
    data = write_geojson(tmp_path, two_hamlets()).read_bytes()
    before = counts()
    dry = upload(client, url, data, "ranh-gioi.geojson")
    html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "Nhập 2 dòng" in html and "Thêm ranh giới" in html
    assert counts() == before
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    done = client.post(url + "/confirm", data={"csrf_token": csrf_token(client, url), "token": token})
    assert done.status_code == 302
    assert geometry_of(world.hamlets_b[0]).equals(TAN_LAP)
    page = client.get(f"/units/{world.commune_b.id}").get_data(as_text=True)
    assert "Đã nhập ranh giới từ tệp “ranh-gioi.geojson”: cập nhật 2, không đổi 0" in page


def test_the_page_refuses_bad_files_and_other_communes(world, tmp_path, login_as):
    client = login_as(world.users["head_a"])
    url = f"/units/{world.commune_a.id}/hamlets/boundaries"
    assert client.get(f"/units/{world.commune_b.id}/hamlets/boundaries").status_code == 403
    before = counts()
    response = upload(client, url, b"not json", "thon.geojson")
    assert response.status_code == 422 and "không phải tệp GeoJSON hợp lệ" in response.get_data(as_text=True)
    response = upload(client, url, b"a,b\n", "thon.csv")
    assert response.status_code == 422 and "không đúng loại" in response.get_data(as_text=True)
    out_of_scope = upload(client, url, write_geojson(tmp_path, two_hamlets()).read_bytes(), "thon.geojson")
    assert "không thuộc Phường Bình Phước" in out_of_scope.get_data(as_text=True)
    assert "data-import-confirm" not in out_of_scope.get_data(as_text=True)
    assert counts() == before


def test_the_cli_dry_run_then_import(world, tmp_path, app):
    runner = app.test_cli_runner()
    path = write_geojson(tmp_path, two_hamlets())
    before = counts()
    result = runner.invoke(args=["units", "import-hamlet-boundaries", str(path), "--dry-run"])
    assert result.exit_code == 0 and "sẽ cập nhật 2, không đổi 0 ranh giới" in result.output
    assert counts() == before
    result = runner.invoke(args=["units", "import-hamlet-boundaries", str(path)])
    assert result.exit_code == 0 and "cập nhật 2, không đổi 0" in result.output, result.output
    assert geometry_of(world.hamlets_b[1]).equals(AP_2)
    bad = write_geojson(tmp_path, [feature(commune_code="25210", name="Ấp Không Có")], "sai.geojson")
    result = runner.invoke(args=["units", "import-hamlet-boundaries", str(bad)])
    assert result.exit_code == 2 and "Không nhập tệp “sai.geojson”: 1 lỗi." in result.output
    result = runner.invoke(args=["units", "import-hamlet-boundaries", str(path), "--user", "truongtram_a"])
    assert result.exit_code == 2 and "nằm ngoài địa bàn bạn được quản lý" in result.output

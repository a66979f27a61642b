"""The GIS importer (units/importer.py) and ``danso units import``.

Every bad file must give its one-line Vietnamese reason(s) and leave the database exactly as it
was; good files create or correct units with full and simplified geometry. Fixtures are the small
files in tests/data/ (made by tests/data/gis_make_fixtures.py); the world fixture already holds
province 75 with communes 25195 and 25210, so the imported communes are others (26017, 26041, 26491).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.units import importer
from danso_network.units import services as unit_services
from danso_network.units.importer import ImportFailed, apply_plan, plan_import, read_units_file
from danso_network.units.models import AdminUnit, UnitLevel, UnitType
from danso_network.units.spatial import from_wkb

from ..factories import REFORM_DAY

DATA = Path(__file__).resolve().parent.parent / "data"
REF = "QĐ 19/2025/QĐ-TTg"
NEW_COMMUNES = {"26017": "Phường Tam Hiệp", "26041": "Phường Trấn Biên", "26491": "Xã Đại Phước"}


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(AdminUnit)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def plan_file(path: Path, valid_from: date = REFORM_DAY) -> importer.ImportPlan:
    return plan_import(read_units_file(path), valid_from=valid_from, decision_ref=REF, source_name=path.name)


def import_file(path: Path, valid_from: date = REFORM_DAY) -> importer.ImportReport:
    return apply_plan(plan_file(path, valid_from))


def problems_of(path: Path, valid_from: date = REFORM_DAY) -> list[str]:
    """Import a file that must fail; check that nothing was written; return its problems."""
    before = counts()
    with pytest.raises(ImportFailed) as caught:
        import_file(path, valid_from)
    assert counts() == before
    assert caught.value.problems, "ImportFailed without problems"
    assert all("\n" not in p for p in caught.value.problems)
    return caught.value.problems


def unit(code: str) -> AdminUnit:
    found = unit_services.find_unit_by_code(code)
    assert found is not None, code
    return found


def write_geojson(tmp_path: Path, features: list[dict], name: str = "units.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def feature(geometry: dict | None = None, **props) -> dict:
    if geometry is None:
        geometry = shapely.geometry.mapping(box(106.86, 10.95, 106.87, 10.96))
    return {"type": "Feature", "properties": props, "geometry": geometry}


def commune_props(**overrides) -> dict:
    props = {"code": "26017", "name": "Tam Hiệp", "type": "phường", "province_code": "75"}
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not ...}


# --- bad input: one clear line per problem, nothing written -----------------------------------


NOT_FOUND_99 = "không tìm thấy đơn vị cấp trên mã 99 (không có trong cơ sở dữ liệu hay trong tệp)."


@pytest.mark.parametrize(("fixture", "expected"), [
    ("gis_bad_no_code.geojson", ["Tệp thiếu cột “code” (mã đơn vị hành chính)."]),
    ("gis_bad_duplicate_codes.geojson", ["Dòng 3 (mã 26017): mã trùng với dòng 1."]),
    ("gis_bad_unknown_parent.geojson", [f"Dòng 1 (mã 26017): {NOT_FOUND_99}"]),
    ("gis_bad_empty_geometry.geojson", ["Dòng 1 (mã 26017): hình học rỗng.",
                                        "Dòng 2 (mã 26041): hình học rỗng."]),
    ("gis_bad_line.geojson", ["Dòng 1 (mã 26017): hình học không phải vùng (LineString); "
                              "cần Polygon hoặc MultiPolygon."]),
    ("gis_bad_empty.geojson", ["Tệp “gis_bad_empty.geojson” không có đối tượng nào."]),
    ("gis_bad_not_gis.geojson", ["Không đọc được tệp “gis_bad_not_gis.geojson”: không phải tệp GeoJSON "
                                 "hợp lệ hoặc tệp bị hỏng."]),
    ("gis_bad_no_shapefile.zip", ["Không đọc được tệp “gis_bad_no_shapefile.zip”: không phải tệp shapefile "
                                  "nén (.zip) hợp lệ hoặc tệp bị hỏng."]),
    ("gis_bad_table.csv", ["Tệp “gis_bad_table.csv” không phải định dạng GIS được hỗ trợ (GeoJSON "
                           ".geojson/.json/.gz, GeoPackage .gpkg, shapefile .shp hoặc nén .zip)."]),
])
def test_bad_file_gives_its_reasons_and_writes_nothing(world, fixture, expected):
    assert problems_of(DATA / fixture) == expected


def test_missing_file(world, tmp_path):
    assert problems_of(tmp_path / "khong-co.geojson") == [f"Không tìm thấy tệp “{tmp_path / 'khong-co.geojson'}”."]


def test_csv_renamed_geojson_is_not_gis(world, tmp_path):
    path = tmp_path / "bang.geojson"
    path.write_text((DATA / "gis_bad_table.csv").read_text(encoding="utf-8"), encoding="utf-8")
    assert problems_of(path) == ["Không đọc được tệp “bang.geojson”: không phải tệp GeoJSON hợp lệ hoặc tệp bị hỏng."]


def test_all_problems_are_collected_not_just_the_first(world, tmp_path):
    path = write_geojson(tmp_path, [
        feature(**commune_props(code=" ")),
        feature(**commune_props(code="26A17")),
        feature(**commune_props(code="26041", name="")),
        feature(None, **commune_props(code="26491", type="khu")) | {"geometry": None},
        feature(**commune_props(code="26042", province_code=...)),
    ])
    assert problems_of(path) == [
        "Dòng 1: thiếu mã đơn vị (cột code trống).",
        "Dòng 2 (mã 26A17): mã “26A17” chỉ được gồm chữ số.",
        "Dòng 3 (mã 26041): thiếu tên đơn vị (cột name trống).",
        "Dòng 4 (mã 26491): không nhận ra loại đơn vị “khu”.",
        "Dòng 4 (mã 26491): hình học rỗng.",
        "Dòng 5 (mã 26042): thiếu mã đơn vị cấp trên (cột province_code).",
    ]


@pytest.mark.parametrize(("props", "expected"), [
    (dict(code="689"), "mã 3 chữ số là mã cấp huyện; cần cột level = district để nhập cấp huyện."),
    (dict(code="2601"), "mã phải có 2 chữ số (tỉnh) hoặc 5 chữ số (xã, phường, đặc khu)."),
    (dict(type="tỉnh"), "loại “tỉnh” không thuộc cấp xã."),
    (dict(type=...), "không xác định được loại đơn vị (thiếu cột type)."),
    (dict(level="thôn"), "thôn, tổ dân phố không có mã chính thức; không nhập bằng tệp GIS này."),
    (dict(level="tầng"), "cấp “tầng” không hợp lệ (dùng province, district hoặc commune)."),
    (dict(level="province", type="tỉnh"), "mã đơn vị cấp tỉnh phải có 2 chữ số."),
    (dict(code="689", level="district", type="huyện"),
     "cấp huyện chấm dứt từ 01/07/2025; chỉ nhập được với ngày hiệu lực trước đó."),
    (dict(province_code="26017"), "mã đơn vị cấp trên trùng với chính mã của đơn vị."),
    (dict(province_code="25195"),
     "đơn vị cấp trên mã 25195 (Phường Bình Phước) không phải cấp trên hợp lệ của cấp xã."),
    (dict(households=-5), "giá trị “-5” của cột households không hợp lệ (cần số không âm, nguyên)."),
    (dict(population="nhiều"), "giá trị “nhiều” của cột population không hợp lệ (cần số không âm, nguyên)."),
    (dict(households="1.000"), "giá trị “1.000” của cột households không hợp lệ (cần số không âm, nguyên)."),
    (dict(area_km2="-3"), "giá trị “-3” của cột area_km2 không hợp lệ (cần số không âm)."),
])
def test_row_problem(world, tmp_path, props, expected):
    path = write_geojson(tmp_path, [feature(**commune_props(**props))])
    code = props.get("code", "26017")
    assert problems_of(path) == [f"Dòng 1 (mã {code}): {expected}"]


@pytest.mark.parametrize(("geometry", "expected"), [
    ({"type": "Point", "coordinates": [106.9, 10.9]},
     "hình học không phải vùng (Point); cần Polygon hoặc MultiPolygon."),
    ({"type": "Polygon", "coordinates": [[[106.5, 10.5], [106.75, 10.75], [107, 11], [106.5, 10.5]]]},
     "hình học không hợp lệ và không sửa được thành vùng."),  # a collapsed ring
    ({"type": "GeometryCollection", "geometries": [{"type": "LineString", "coordinates": [[106, 10], [107, 11]]}]},
     "hình học không có diện tích."),
])
def test_geometry_problem(world, tmp_path, geometry, expected):
    path = write_geojson(tmp_path, [feature(geometry, **commune_props())])
    assert problems_of(path) == [f"Dòng 1 (mã 26017): {expected}"]


def test_file_without_name_column(world, tmp_path):
    path = write_geojson(tmp_path, [feature(code="26017", type="phường", province_code="75")])
    assert problems_of(path) == ["Tệp thiếu cột “name” (tên đơn vị)."]


def test_matching_unit_cannot_move_to_another_parent(world, tmp_path):
    path = write_geojson(tmp_path, [feature(**commune_props(code="25195", name="Bình Phước", province_code="01"))])
    assert problems_of(path) == [
        "Dòng 1 (mã 25195): đơn vị “Phường Bình Phước” đang trực thuộc mã 75, tệp ghi mã 01; chuyển cấp trên "
        "là sắp xếp đơn vị, không thực hiện bằng nhập tệp."]


def test_code_held_by_a_unit_valid_after_the_start_date_is_refused(world, tmp_path):
    old = unit_services.create_unit(level=UnitLevel.COMMUNE, code="26017", name="Tam Hiệp", full_name="Phường Tam Hiệp",
                                    type="phuong", parent=world.dong_nai, valid_from=REFORM_DAY)
    unit_services.close_unit(old, on=date(2026, 1, 1))
    path = write_geojson(tmp_path, [feature(**commune_props())])
    assert problems_of(path) == [
        "Dòng 1 (mã 26017): mã đang được đơn vị “Phường Tam Hiệp” dùng (hiệu lực 01/07/2025–01/01/2026); "
        "không tạo được đơn vị mới từ 01/07/2025."]


def test_a_closed_code_is_never_given_to_a_new_unit(world, tmp_path):
    """QĐ 124/2004/QĐ-TTg: a code of a unit that closed is not reused by an import either."""
    old = unit_services.create_unit(level=UnitLevel.COMMUNE, code="26017", name="Tam Hiệp", full_name="Phường Tam Hiệp",
                                    type="phuong", parent=world.dong_nai, valid_from=REFORM_DAY)
    unit_services.close_unit(old, on=date(2026, 1, 1))
    path = write_geojson(tmp_path, [feature(**commune_props())])
    assert problems_of(path, valid_from=date(2026, 1, 1)) == [
        "Dòng 1 (mã 26017): mã là mã của đơn vị đã giải thể “Phường Tam Hiệp” (hết hiệu lực từ 01/01/2026); "
        "theo QĐ 124/2004/QĐ-TTg, mã đã đóng không được cấp lại cho đơn vị khác."]


def test_parent_not_yet_valid_on_the_start_date(world, tmp_path):
    path = write_geojson(tmp_path, [feature(**commune_props())])
    assert problems_of(path, valid_from=date(2025, 1, 1)) == [
        "Dòng 1 (mã 26017): đơn vị cấp trên mã 75 chưa có hiệu lực vào ngày 01/01/2025."]


def test_missing_crs_with_projected_coordinates_is_refused(world):
    frame = read_units_file(DATA / "gis_dong_nai_3.geojson.gz").to_crs(32648).set_crs(None, allow_override=True)
    plan = plan_import(frame, valid_from=REFORM_DAY, decision_ref=REF, source_name="x.shp")
    assert plan.problems == ["Tệp không khai báo hệ toạ độ và toạ độ không phải kinh độ/vĩ độ; hãy kèm tệp .prj "
                             "hoặc xuất lại theo EPSG:4326."]
    with pytest.raises(ImportFailed):
        apply_plan(plan)


def test_missing_crs_with_lon_lat_coordinates_is_accepted(world):
    frame = read_units_file(DATA / "gis_dong_nai_3.geojson.gz").set_crs(None, allow_override=True)
    plan = plan_import(frame, valid_from=REFORM_DAY, decision_ref=REF, source_name="x.shp")
    assert plan.ok and len(plan.to_create) == 3
    assert any("không khai báo hệ toạ độ" in note for note in plan.notes)


def test_import_failed_is_a_validation_error_with_problems():
    error = ImportFailed(["a", "b"])
    assert isinstance(error, ValidationFailed)
    assert error.problems == ["a", "b"]
    assert str(error) == "Tệp có 2 lỗi; không ghi gì vào cơ sở dữ liệu."
    assert str(ImportFailed(["một lỗi"])) == "một lỗi"


def test_service_refusal_mid_import_rolls_everything_back(world):
    plan = plan_file(DATA / "gis_dong_nai_3.geojson.gz")
    assert [item.code for item in plan.to_create] == ["26017", "26041", "26491"]
    # Someone takes the third code between planning and applying.
    unit_services.create_unit(level=UnitLevel.COMMUNE, code="26491", name="Đại Phước", full_name="Xã Đại Phước",
                              type="xa", parent=world.dong_nai, valid_from=REFORM_DAY)
    before = counts()
    with pytest.raises(ImportFailed) as caught:
        apply_plan(plan)
    assert caught.value.problems == ["Dòng 3 (mã 26491): Mã 26491 đang được đơn vị “Xã Đại Phước” sử dụng."]
    assert counts() == before
    assert unit_services.find_unit_by_code("26017") is None


# --- good input -------------------------------------------------------------------------------


def _rounded_to_5(geom) -> bool:
    coords = shapely.get_coordinates(geom).ravel()
    return all(abs(c * 1e5 - round(c * 1e5)) < 1e-6 for c in coords)


def test_import_creates_communes_with_geometry(world):
    units_before, events_before = counts()
    report = import_file(DATA / "gis_dong_nai_3.geojson.gz")
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert report.created_codes == ["26017", "26041", "26491"]
    assert counts() == (units_before + 3, events_before + 4)  # 3 × unit.create + 1 unit.import
    for code, full_name in NEW_COMMUNES.items():
        u = unit(code)
        assert u.full_name == full_name
        assert u.level == UnitLevel.COMMUNE and u.parent_id == world.dong_nai.id
        assert u.path.startswith(world.dong_nai.path)
        assert u.valid_from == REFORM_DAY and u.decision_ref == REF
        full, simple = from_wkb(u.geom_wkb), from_wkb(u.geom_simplified_wkb)
        assert full.is_valid and simple.is_valid
        assert len(u.geom_simplified_wkb) < len(u.geom_wkb)
        assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(full)
        assert _rounded_to_5(simple) and not _rounded_to_5(full)
        assert (u.bbox_minx, u.bbox_miny, u.bbox_maxx, u.bbox_maxy) == full.bounds
        assert u.bbox_minx <= u.centroid_lon <= u.bbox_maxx and u.bbox_miny <= u.centroid_lat <= u.bbox_maxy
        assert full.contains(Point(u.centroid_lon, u.centroid_lat))
        assert 106.7 < u.centroid_lon < 106.9 and 10.6 < u.centroid_lat < 11.0
    assert unit("26017").type == UnitType.PHUONG and unit("26491").type == UnitType.XA
    assert unit("26017").area_km2 == 10.8
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.import")).one()
    assert event.after["created"] == ["26017", "26041", "26491"]
    assert event.after["source"] == "gis_dong_nai_3.geojson.gz"
    assert event.unit_path == world.dong_nai.path
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "unit.create", AuditEvent.object_id == str(unit("26017").id))) == 1


def test_reimporting_the_same_file_changes_nothing(world):
    import_file(DATA / "gis_dong_nai_3.geojson.gz")
    before = counts()
    report = import_file(DATA / "gis_dong_nai_3.geojson.gz")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert counts() == before


def test_a_changed_name_updates_the_unit_and_is_audited(world):
    import_file(DATA / "gis_dong_nai_3.geojson.gz")
    frame = read_units_file(DATA / "gis_dong_nai_3.geojson.gz")
    frame.loc[frame["code"] == "26041", "name"] = "Trấn Biên Mới"
    frame.loc[frame["code"] == "26041", "full_name"] = "Phường Trấn Biên Mới"
    units_before, events_before = counts()
    plan = plan_import(frame, valid_from=REFORM_DAY, decision_ref=REF, source_name="sua-ten.geojson")
    assert [(i.code, i.changed_labels()) for i in plan.to_update] == [("26041", ["tên", "tên đầy đủ"])]
    report = apply_plan(plan)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert counts() == (units_before, events_before + 2)  # unit.update + unit.import
    u = unit("26041")
    assert u.full_name == "Phường Trấn Biên Mới" and "tran bien moi" in u.search_text
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.update")).one()
    assert event.object_id == str(u.id)
    assert event.before == {"name": "Trấn Biên", "full_name": "Phường Trấn Biên"}
    assert event.after == {"name": "Trấn Biên Mới", "full_name": "Phường Trấn Biên Mới"}


def test_geometry_is_added_to_existing_units(world, tmp_path):
    """The world's communes have rough boxes: a file with their real outline corrects them."""
    outline = shapely.geometry.mapping(box(106.86, 11.50, 106.94, 11.58).buffer(0.001))
    path = write_geojson(tmp_path, [feature(outline, **commune_props(code="25195", name="Bình Phước"))])
    plan = plan_file(path)
    assert [(i.code, i.changed_labels()) for i in plan.to_update] == [("25195", ["ranh giới"])]
    apply_plan(plan)
    assert from_wkb(world.commune_a.geom_wkb).equals(from_wkb(plan.to_update[0].values["geom_wkb"]))
    assert world.commune_a.type == UnitType.PHUONG  # "phường" in the file, same as before


def test_dry_run_plan_writes_nothing(world):
    before = counts()
    plan = plan_file(DATA / "gis_dong_nai_3.geojson.gz")
    assert plan.ok
    assert (len(plan.to_create), len(plan.to_update), len(plan.unchanged)) == (3, 0, 0)
    assert counts() == before


def test_shapefile_in_vn2000_is_reprojected_to_wgs84(world):
    plan = plan_file(DATA / "gis_dong_nai_vn2000.zip")
    assert plan.notes == ["Đã chuyển hệ toạ độ VN-2000 / UTM zone 48N sang WGS 84 (EPSG:4326)."]
    apply_plan(plan)
    reference = {g["code"]: g for g in read_units_file(DATA / "gis_dong_nai_3.geojson.gz").to_dict("records")}
    for code, full_name in NEW_COMMUNES.items():
        u = unit(code)
        assert u.full_name == full_name  # no full_name column: type label + name
        assert 106 < u.bbox_minx < u.bbox_maxx < 108 and 10 < u.bbox_miny < u.bbox_maxy < 12
        # Same place as the WGS 84 copy of the same boundary (within ~20 m).
        assert u.bbox_minx == pytest.approx(reference[code]["geometry"].bounds[0], abs=2e-4)
        assert u.bbox_maxy == pytest.approx(reference[code]["geometry"].bounds[3], abs=2e-4)


def test_geopackage_with_its_province_on_an_empty_database():
    """Province and communes in one file: the province is created first and becomes the parent."""
    assert unit_services.find_unit_by_code("75") is None
    report = import_file(DATA / "gis_dong_nai_province.gpkg")
    assert report.created_codes == ["75", "26017", "26041"]
    province = unit("75")
    assert province.level == UnitLevel.PROVINCE and province.type == UnitType.THANH_PHO_TW
    assert province.full_name == "Thành phố Đồng Nai" and province.parent_id is None
    assert province.geom_wkb is not None and province.households is None
    tam_hiep = unit("26017")
    assert tam_hiep.parent_id == province.id and tam_hiep.path.startswith(province.path)
    assert (tam_hiep.households, tam_hiep.population) == (21000, 78000)


def test_integer_codes_are_zero_padded_by_level(world):
    plan = plan_file(DATA / "gis_int_codes.geojson")
    assert "2 mã lưu dạng số đã được thêm số 0 ở đầu theo cấp (2 chữ số tỉnh, 5 chữ số xã)." in plan.notes
    assert [(i.code, i.action, i.parent_code) for i in plan.items] == [("01", "update", None),
                                                                         ("00004", "update", "01")]
    apply_plan(plan)
    assert world.commune_c.geom_wkb is not None and world.hanoi.geom_wkb is not None


def test_bowtie_is_repaired(world):
    plan = plan_file(DATA / "gis_bowtie.geojson")
    assert plan.notes == ["Dòng 1 (mã 26017): hình học không hợp lệ (tự cắt…) đã được sửa tự động."]
    assert plan.items[0].repaired
    apply_plan(plan)
    geom = from_wkb(unit("26017").geom_wkb)
    assert geom.is_valid and isinstance(geom, MultiPolygon) and len(geom.geoms) == 2


def test_counts_given_as_text(world, tmp_path):
    path = write_geojson(tmp_path, [feature(**commune_props(households="2100", population=" 8400 ", area_km2="10,8"))])
    apply_plan(plan_file(path))
    u = unit("26017")
    assert (u.households, u.population, u.area_km2) == (2100, 8400, 10.8)


def test_updating_ignores_the_start_date(world, tmp_path):
    """--valid-from only dates new units: correcting an existing unit needs no valid parent then."""
    path = write_geojson(tmp_path, [feature(**commune_props(code="25195", name="Bình Phước", households=999))])
    report = import_file(path, valid_from=date(2020, 1, 1))
    assert report.updated_codes == ["25195"] and world.commune_a.households == 999
    assert world.commune_a.valid_from == REFORM_DAY


def test_types_and_levels_in_several_spellings(world, tmp_path):
    path = write_geojson(tmp_path, [
        feature(**commune_props(code="26017", type="Phường")),
        feature(**commune_props(code="26041", type="phuong", level="commune")),
        feature(**commune_props(code="26491", type="Xa", full_name="Xã Đại Phước", name="Đại Phước")),
        feature(**commune_props(code="26492", type=..., full_name="Đặc khu Thử", name="Thử")),
    ])
    plan = plan_file(path)
    assert plan.problems == []
    assert [(i.code, i.type) for i in plan.items] == [
        ("26017", UnitType.PHUONG), ("26041", UnitType.PHUONG), ("26491", UnitType.XA), ("26492", UnitType.DAC_KHU)]


def test_district_before_the_reform_with_a_level_column(world, tmp_path):
    """3-digit district codes are accepted only when a level column says so, and only before
    the district tier ended on 1/7/2025."""
    old_province = unit_services.create_unit(level=UnitLevel.PROVINCE, code="70", name="Bình Phước",
                                             full_name="Tỉnh Bình Phước", type="tinh", valid_from=date(2020, 1, 1))
    path = write_geojson(tmp_path, [feature(code="689", name="Đồng Xoài", type="thành phố", level="district",
                                            province_code="70")])
    assert problems_of(path) == [
        "Dòng 1 (mã 689): cấp huyện chấm dứt từ 01/07/2025; chỉ nhập được với ngày hiệu lực trước đó."]
    report = import_file(path, valid_from=date(2020, 1, 1))
    assert report.created_codes == ["689"]
    district = unit("689")
    assert (district.level, district.type, district.parent_id) == (
        UnitLevel.DISTRICT, UnitType.THANH_PHO_THUOC_TINH, old_province.id)
    assert district.full_name == "Thành phố Đồng Xoài"


def test_a_file_with_several_layers_needs_a_layer_name(world):
    path = DATA / "gis_two_layers.gpkg"
    assert problems_of(path) == ["Tệp “gis_two_layers.gpkg” có 2 lớp (tinh, xa); hãy chọn một lớp."]
    with pytest.raises(ImportFailed) as caught:
        read_units_file(path, layer="huyen")
    assert caught.value.problems == ["Tệp “gis_two_layers.gpkg” không có lớp “huyen” (có: tinh, xa)."]
    frame = read_units_file(path, layer="xa")
    plan = plan_import(frame, valid_from=REFORM_DAY, decision_ref=REF, source_name=path.name)
    assert [(i.code, i.action) for i in plan.items] == [("26017", "create"), ("26041", "create")]


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli(app, world):
    # The command rolls back on failure and dry run: make the world survive that (the test's
    # outer transaction still discards everything at the end).
    db.session.commit()
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=["units", "import", *map(str, args)])


def test_cli_imports_and_commits(cli):
    before = counts()
    result = cli(DATA / "gis_dong_nai_3.geojson.gz")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == \
        "Đã nhập “gis_dong_nai_3.geojson.gz”: tạo mới 3, cập nhật 0, không đổi 0."
    db.session.rollback()  # committed: survives a rollback
    assert counts() == (before[0] + 3, before[1] + 4)
    again = cli(DATA / "gis_dong_nai_3.geojson.gz")
    assert again.exit_code == 0
    assert "tạo mới 0, cập nhật 0, không đổi 3." in again.stdout


def test_cli_reports_every_problem_and_exits_1(cli):
    before = counts()
    result = cli(DATA / "gis_bad_empty_geometry.geojson")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Dòng 1 (mã 26017): hình học rỗng.",
        "Dòng 2 (mã 26041): hình học rỗng.",
        "Không nhập tệp “gis_bad_empty_geometry.geojson”: 2 lỗi. Cơ sở dữ liệu không thay đổi.",
    ]
    assert result.stdout == ""
    assert counts() == before


def test_cli_non_gis_file(cli):
    result = cli(DATA / "gis_bad_table.csv")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "Không nhập tệp “gis_bad_table.csv”: 1 lỗi. Cơ sở dữ liệu không thay đổi."


def test_cli_dry_run_writes_nothing(cli):
    before = counts()
    result = cli(DATA / "gis_dong_nai_vn2000.zip", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Đã chuyển hệ toạ độ VN-2000 / UTM zone 48N sang WGS 84 (EPSG:4326).",
        "  + 26017 Phường Tam Hiệp",
        "  + 26041 Phường Trấn Biên",
        "  + 26491 Xã Đại Phước",
        "Chạy thử “gis_dong_nai_vn2000.zip” (không ghi gì): sẽ tạo mới 3, cập nhật 0, không đổi 0.",
    ]
    assert counts() == before


def test_cli_valid_from_and_decision_ref(cli):
    result = cli(DATA / "gis_dong_nai_3.geojson.gz", "--valid-from", "2026-01-01", "--decision-ref", "NQ 1/2026")
    assert result.exit_code == 0, result.output
    u = unit("26017")
    assert (u.valid_from, u.decision_ref) == (date(2026, 1, 1), "NQ 1/2026")


def test_cli_layer_option(cli):
    result = cli(DATA / "gis_two_layers.gpkg", "--layer", "xa")
    assert result.exit_code == 0, result.output
    assert "tạo mới 2, cập nhật 0, không đổi 0." in result.stdout


def test_cli_bad_date(cli):
    result = cli(DATA / "gis_dong_nai_3.geojson.gz", "--valid-from", "1/7/2025")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Ngày hiệu lực “1/7/2025” không đúng dạng YYYY-MM-DD."

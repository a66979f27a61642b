"""What fuzzing the GIS import of hamlet boundaries (tests/fuzz/test_gis_fuzz.py, issue #14 item
4) found, each kept as the failing example: a bad feature is a problem on its row, never an error."""

from __future__ import annotations

from shapely.geometry import box

from danso_network.units.hamlets_import import plan_hamlet_boundaries, read_boundaries

from .test_hamlet_boundaries import feature, write_geojson


def test_a_feature_without_name_or_code_in_a_file_without_a_name_column_is_a_problem(world, tmp_path):
    """Found: a file with columns commune_code and local_id only (no name column), one feature
    with its local_id empty, raised KeyError 'name' (a 500 on the upload page) after noting the
    problem; it is now that problem, on its row, and the other feature is still matched."""
    hamlet = world.hamlets_b[1]
    path = write_geojson(tmp_path, [feature(box(106.99, 11.51, 107.02, 11.54), commune_code="25210",
                                            local_id=hamlet.local_id),
                                    feature(box(106.96, 11.51, 106.99, 11.54), commune_code="25210", local_id=None)])
    plan = plan_hamlet_boundaries(read_boundaries(path), filename=path.name, actor=world.users["admin"])
    assert [str(p) for p in plan.problems] == ["Dòng 2, cột “local_id”: Thiếu tên và mã thôn."]

"""units/spatial.py: repair, simplification for maps, stored columns, label points."""

from __future__ import annotations

import math

import shapely
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from danso_network.units import spatial

BOWTIE = Polygon([(106.86, 10.95), (106.88, 10.97), (106.88, 10.95), (106.86, 10.97), (106.86, 10.95)])


def wiggly_circle(x=106.9, y=10.95, radius=0.05, n=2000) -> Polygon:
    """A detailed boundary (many vertices, 15-digit coordinates) like a full-resolution commune."""
    points = [(x + radius * (1 + 0.02 * math.sin(40 * t)) * math.cos(t),
               y + radius * (1 + 0.02 * math.sin(40 * t)) * math.sin(t))
              for t in (2 * math.pi * i / n for i in range(n))]
    return Polygon(points)


def crescent() -> Polygon:
    outer = Point(106.9, 10.95).buffer(0.05, quad_segs=32)
    inner = Point(106.92, 10.95).buffer(0.045, quad_segs=32)
    return outer.difference(inner)


def decimals(geom) -> int:
    coords = shapely.get_coordinates(geom).ravel()
    return max(len(repr(float(c)).split(".")[1]) if "." in repr(float(c)) else 0 for c in coords)


# --- repair -----------------------------------------------------------------------------------


def test_repair_keeps_a_valid_polygon_as_is():
    square = box(106.8, 10.9, 106.9, 11.0)
    assert spatial.repair(square).equals(square)


def test_repair_turns_a_bowtie_into_two_valid_triangles():
    assert not BOWTIE.is_valid
    fixed = spatial.repair(BOWTIE)
    assert fixed is not None and fixed.is_valid
    assert isinstance(fixed, MultiPolygon) and len(fixed.geoms) == 2
    assert math.isclose(fixed.area, 2 * 0.5 * 0.02 * 0.01, rel_tol=1e-9)


def test_repair_keeps_only_the_polygonal_part_of_a_collection():
    mixed = GeometryCollection([box(0, 0, 1, 1), LineString([(2, 2), (3, 3)]), Point(5, 5)])
    assert spatial.repair(mixed).equals(box(0, 0, 1, 1))


def test_repair_rejects_what_has_no_area():
    assert spatial.repair(None) is None
    assert spatial.repair(Polygon()) is None
    assert spatial.repair(LineString([(0, 0), (1, 1)])) is None
    assert spatial.repair(Polygon([(0, 0), (1, 1), (2, 2), (0, 0)])) is None  # collapsed ring


# --- simplification ---------------------------------------------------------------------------


def test_simplify_for_map_reduces_vertices_and_rounds_to_5_decimals():
    detailed = wiggly_circle()
    simple = spatial.simplify_for_map(detailed)
    assert shapely.get_num_coordinates(simple) < shapely.get_num_coordinates(detailed) / 4
    assert decimals(simple) <= 5 < decimals(detailed)
    assert simple.is_valid
    # Tolerance 0.0005°: the outline moves by well under a hundred metres.
    assert detailed.symmetric_difference(simple).area < 0.02 * detailed.area


def test_simplify_for_map_keeps_a_polygon_smaller_than_the_tolerance():
    tiny = box(106.9, 10.9, 106.9003, 10.9003)  # ~33 m across: simplification alone would erase it
    simple = spatial.simplify_for_map(tiny)
    assert not simple.is_empty and simple.area > 0


# --- stored columns ---------------------------------------------------------------------------


def test_geometry_columns_for_a_polygon():
    detailed = wiggly_circle()
    cols = spatial.geometry_columns(detailed)
    assert spatial.from_wkb(cols["geom_wkb"]).equals(detailed)
    assert len(cols["geom_simplified_wkb"]) < len(cols["geom_wkb"])
    # The map layers serve this text as it is: the simplified geometry, not the full one.
    assert shapely.from_geojson(cols["geom_simplified_geojson"]).equals(spatial.from_wkb(cols["geom_simplified_wkb"]))
    minx, miny, maxx, maxy = detailed.bounds
    assert (cols["bbox_minx"], cols["bbox_miny"], cols["bbox_maxx"], cols["bbox_maxy"]) == (minx, miny, maxx, maxy)
    assert minx <= cols["centroid_lon"] <= maxx and miny <= cols["centroid_lat"] <= maxy
    assert detailed.contains(Point(cols["centroid_lon"], cols["centroid_lat"]))


def test_geometry_columns_without_geometry_are_all_none():
    assert set(spatial.geometry_columns(None).values()) == {None}


def test_wkb_round_trip_and_geojson():
    square = box(1, 2, 3, 4)
    assert spatial.from_wkb(spatial.to_wkb(square)).equals(square)
    assert spatial.to_wkb(None) is None and spatial.from_wkb(None) is None
    assert spatial.geojson_geometry(spatial.to_wkb(square))["type"] == "Polygon"
    assert spatial.geometry_from_geojson({"type": "Point", "coordinates": [1, 2]}).equals(Point(1, 2))


# --- label points -----------------------------------------------------------------------------


def test_label_point_of_a_convex_polygon_is_its_centroid():
    assert spatial.label_point(box(106.0, 10.0, 107.0, 11.0)) == (106.5, 10.5)


def test_label_point_of_a_crescent_lies_inside_it():
    shape = crescent()
    assert not shape.contains(shape.centroid)  # the centroid falls in the hollow
    lon, lat = spatial.label_point(shape)
    assert shape.contains(Point(lon, lat))


def test_coarse_shapes_of_neighbours_keep_their_shared_edge():
    """The national map's coarse communes (``geojson_texts_coarse``): two neighbours sharing a
    wiggly edge are simplified together, so no gap or overlap opens between them, their shapes
    lose points and their coordinates sit on the 4-decimal grid."""
    import json

    import shapely
    from shapely.geometry import Polygon, shape

    from danso_network.units.spatial import geojson_texts_coarse

    wiggle = [(106.0 + i * 0.001, 11.0 + (0.0004 if i % 2 else 0.0)) for i in range(101)]
    north = Polygon([*wiggle, (106.1, 11.1), (106.0, 11.1)])
    south = Polygon([*wiggle, (106.1, 10.9), (106.0, 10.9)])
    a, b = (shape(json.loads(t)) for t in geojson_texts_coarse([shapely.to_wkb(north), shapely.to_wkb(south)]))
    assert a.is_valid and b.is_valid
    assert len(a.exterior.coords) < len(north.exterior.coords) / 4
    assert a.intersection(b).area < 1e-9  # no overlap
    assert a.union(b).geom_type == "Polygon" and abs(a.union(b).area - 0.02) < 1e-4  # no gap
    assert all(round(x, 4) == x for x, _ in a.exterior.coords)

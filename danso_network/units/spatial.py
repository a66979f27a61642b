"""All geometry conversion for units lives here (DESIGN.md §5, §7).

Geometry is stored as WKB, twice: the full geometry as imported, and a simplified copy for maps
(tolerance 0.0005° ≈ 50 m, coordinates rounded to 5 decimals ≈ 1 m); the simplified copy is
stored a third time as GeoJSON text, which the map layers serve as it is (converting the WKB on
each request took a quarter of a province's hamlet layer). Measured for DESIGN.md §7:
5,000 simplified hamlet polygons serve as ~1.5 MB of GeoJSON, small enough for one fetch.
A bounding box and a centroid are kept in plain columns so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

SIMPLIFY_TOLERANCE = 0.0005
GRID_SIZE = 1e-5  # 5 decimals
WGS84 = "EPSG:4326"


def to_wkb(geom: BaseGeometry | None) -> bytes | None:
    return None if geom is None else shapely.to_wkb(geom)


def from_wkb(data: bytes | None) -> BaseGeometry | None:
    return None if data is None else shapely.from_wkb(data)


def polygonal_part(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Keep only the (multi)polygon part of a geometry; None if there is none."""
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys: list[Polygon] = []
        for part in geom.geoms:
            part = polygonal_part(part)
            if part is None:
                continue
            polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
        if not polys:
            return None
        return polys[0] if len(polys) == 1 else MultiPolygon(polys)
    return None


def repair(geom: BaseGeometry | None) -> BaseGeometry | None:
    """A valid (multi)polygon from ``geom``, or None when nothing polygonal survives repair."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = polygonal_part(geom)
    if geom is None or geom.is_empty or geom.area == 0:
        return None
    return geom


def simplify_for_map(geom: BaseGeometry) -> BaseGeometry:
    """Simplify (0.0005°) and snap to a 5-decimal grid; falls back to the snapped original if
    simplification would make a small polygon vanish."""
    simple = shapely.set_precision(geom.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True), GRID_SIZE)
    simple = polygonal_part(simple)
    if simple is None or simple.is_empty:
        simple = polygonal_part(shapely.set_precision(geom, GRID_SIZE)) or geom
    return simple


def label_point(geom: BaseGeometry) -> tuple[float, float]:
    """The centroid, or a point on the surface when the centroid falls outside (crescents)."""
    point = geom.centroid
    if not geom.contains(point):
        point = geom.point_on_surface()
    return round(point.x, 6), round(point.y, 6)


def geometry_columns(geom: BaseGeometry | None) -> dict:
    """The AdminUnit column values for a repaired WGS84 geometry (all None when no geometry)."""
    if geom is None:
        return dict(geom_wkb=None, geom_simplified_wkb=None, geom_simplified_geojson=None, bbox_minx=None,
                    bbox_miny=None, bbox_maxx=None, bbox_maxy=None, centroid_lon=None, centroid_lat=None)
    minx, miny, maxx, maxy = geom.bounds
    lon, lat = label_point(geom)
    simple = simplify_for_map(geom)
    return dict(
        geom_wkb=to_wkb(geom),
        geom_simplified_wkb=to_wkb(simple),
        geom_simplified_geojson=shapely.to_geojson(simple),
        bbox_minx=minx, bbox_miny=miny, bbox_maxx=maxx, bbox_maxy=maxy,
        centroid_lon=lon, centroid_lat=lat,
    )


def geojson_geometry(data: bytes | None) -> dict | None:
    geom = from_wkb(data)
    return None if geom is None else mapping(geom)


def geojson_texts(wkbs: Sequence[bytes]) -> list[str]:
    """The GeoJSON geometry text of each WKB geometry, converted all at once by GEOS (shapely's
    vectorised ``to_geojson``): a province's layer is thousands of polygons, and going through
    Python coordinate tuples (``mapping`` then ``json.dumps``) cost most of its build time."""
    if not len(wkbs):
        return []
    return shapely.to_geojson(shapely.from_wkb(np.asarray(list(wkbs), dtype=object))).tolist()


# A map of several provinces is looked at from far away (1 px ≈ 1 km): its communes are drawn
# coarser, 0.003° ≈ 300 m on a 4-decimal grid. Measured on the 3,321 communes of data/vn_wards_2026:
# the stored simplified geometry serves as 9.1 MB (2.3 MB gzipped), this as 4.2 MB (0.95 MB).
WIDE_MAP_TOLERANCE = 0.003
WIDE_MAP_GRID = 1e-4


def geojson_texts_coarse(wkbs: Sequence[bytes], tolerance: float = WIDE_MAP_TOLERANCE) -> list[str]:
    """:func:`geojson_texts` of polygons simplified *together* (``shapely.coverage_simplify``:
    an edge shared by two neighbours is simplified once, so no gap or overlap opens between
    them, which simplifying each polygon alone would), then snapped to a 4-decimal grid."""
    if not len(wkbs):
        return []
    shapes = shapely.from_wkb(np.asarray(list(wkbs), dtype=object))
    coarse = shapely.set_precision(shapely.coverage_simplify(shapes, tolerance), WIDE_MAP_GRID)
    # A tiny island can vanish on the grid: keep it as it was stored rather than lose the commune.
    coarse = np.where(shapely.is_empty(coarse), shapes, coarse)
    return shapely.to_geojson(coarse).tolist()


_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder for thousands


def feature_text(geometry: str, properties: dict) -> str:
    """One GeoJSON Feature as text, from its geometry text (:func:`geojson_texts`)."""
    return '{"type":"Feature","geometry":' + geometry + ',"properties":' + _compact_json(properties) + "}"


def feature_collection(features: Sequence[str]) -> str:
    """A FeatureCollection from feature texts (:func:`feature_text`)."""
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def geometry_from_geojson(obj: dict) -> BaseGeometry:
    return shape(obj)

"""GIS layers of an area's hamlets with their coverage (issue #11, item 1): GeoJSON and GeoPackage
files that QGIS and ``ogrinfo`` open, one feature per hamlet in force on the date.

Attributes come from the one coverage computation (``coverage.services.hamlet_frame``: the quota
page's counts, the map's statuses); the geometry is the full one stored at import
(``AdminUnit.geom_wkb``, WGS 84 / EPSG:4326), not the map's simplified copy. A hamlet without
geometry is left out of the layer and counted (:attr:`Layer.without_geometry`), so the page and the
CLI can say how many. Field names are short ASCII (some GIS programs still cut or mangle others);
the status is given as its code and its Vietnamese label.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from flask_babel import gettext as _
from sqlalchemy import select

from ..collaborators.services import RosterFilters
from ..coverage.labels import STATUS_LABELS
from ..extensions import db
from ..textnorm import fold
from ..units.models import AdminUnit
from ..units.spatial import WGS84

LAYER_NAME = "thon_ctv"
DRIVERS = {"geojson": "GeoJSON", "gpkg": "GPKG"}
# Field → what it holds (docs/exports: the attribute table of the layer).
FIELDS = {
    "hamlet_id": "id of the hamlet in the application",
    "hamlet": "hamlet name",
    "commune": "commune full name",
    "commune_cd": "commune official code",
    "province": "province full name",
    "households": "households recorded (0 when not recorded)",
    "quota": "collaborators the province's criteria ask for (empty: no criteria in force)",
    "active": "collaborators active on the date (additional hamlets included)",
    "suspended": "collaborators suspended on the date",
    "pending": "applications in the selection pipeline",
    "hh_per_ctv": "households per active collaborator",
    "status": "coverage status code (covered, below_quota, vacant, pending, unknown)",
    "status_vi": "coverage status in Vietnamese",
    "days_vacant": "days without an active collaborator (empty when someone is active)",
    "difficult": "especially difficult hamlet (1/0)",
    "ethnic_min": "ethnic minority area (1/0)",
    "synthetic": "demo data, not real (1/0)",
    "as_of": "the date of the figures (yyyy-mm-dd)",
}


@dataclass
class Layer:
    """The hamlets of an area as a GeoDataFrame (EPSG:4326), and how many were left out for
    want of a geometry."""

    frame: gpd.GeoDataFrame
    without_geometry: int
    description: str = ""


def _geometries(ids: list[int]) -> dict[int, bytes]:
    """The full geometry (WKB) of these hamlets, for those that have one, read in chunks."""
    found: dict[int, bytes] = {}
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        found.update(db.session.execute(select(AdminUnit.id, AdminUnit.geom_wkb)
                                        .where(AdminUnit.id.in_(chunk), AdminUnit.geom_wkb.is_not(None))).all())
    return found


def _nullable(series: pd.Series) -> pd.Series:
    return pd.array(series.astype("object").where(series.notna(), None), dtype="Int64")


def hamlet_layer(area, filters: RosterFilters, flag: str | None = None) -> Layer:
    """The hamlets of ``area`` (``exports.services.Area``) in force on ``filters.as_of``,
    narrowed by the hamlet filters (type, difficult) and the map's flag, with their coverage
    attributes (:data:`FIELDS`) and full geometry; ordered by commune and hamlet name."""
    from .services import _communes, _unit_values, coverage_frame

    on = filters.as_of
    frame = coverage_frame(area, filters, flag)
    communes = _communes(frame)
    provinces = _unit_values(sorted({int(p) for p in frame["province_id"].tolist()}), AdminUnit.full_name) \
        if len(frame) else {}
    ids = [int(i) for i in frame["hamlet_id"].tolist()]
    shapes = _geometries(ids)
    drawn = frame[frame["hamlet_id"].isin(list(shapes))] if len(frame) else frame
    commune_of = [communes.get(int(c), ("", None)) for c in drawn["commune_id"].tolist()]
    table = pd.DataFrame({
        "hamlet_id": drawn["hamlet_id"].astype("int64").to_numpy(),
        "hamlet": [str(n) for n in drawn["name"].tolist()],
        "commune": [c[0] for c in commune_of],
        "commune_cd": [c[1] or "" for c in commune_of],
        "province": [provinces.get(int(p), "") for p in drawn["province_id"].tolist()],
        "households": drawn["households"].astype("int64").to_numpy(),
        "quota": _nullable(drawn["quota"]),
        "active": drawn["active"].astype("int64").to_numpy(),
        "suspended": drawn["suspended"].astype("int64").to_numpy(),
        "pending": drawn["pending"].astype("int64").to_numpy(),
        "hh_per_ctv": pd.array(drawn["households_per_collaborator"].astype("object")
                               .where(drawn["households_per_collaborator"].notna(), None), dtype="Float64")
        .round(1),
        "status": [str(s) for s in drawn["status"].tolist()],
        "status_vi": [str(STATUS_LABELS[s]) for s in drawn["status"].tolist()],
        "days_vacant": _nullable(drawn["days_vacant"]),
        "difficult": drawn["is_difficult"].astype("int32").to_numpy(),
        "ethnic_min": drawn["is_ethnic_minority"].astype("int32").to_numpy(),
        "synthetic": drawn["is_synthetic"].astype("int32").to_numpy(),
        "as_of": [on.isoformat()] * len(drawn),
    })
    geometry = shapely.from_wkb([shapes[i] for i in table["hamlet_id"].tolist()]) if len(table) else []
    layer = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometry, crs=WGS84), crs=WGS84)
    if len(layer):
        order = sorted(range(len(layer)), key=lambda i: (fold(layer["commune"].iat[i]), fold(layer["hamlet"].iat[i])))
        layer = layer.iloc[order].reset_index(drop=True)
    missing = len(frame) - len(layer)
    description = _("Thôn/tổ dân phố của %(a)s và tình hình CTV dân số ngày %(d)s", a=area.title,
                    d=on.strftime("%d/%m/%Y"))
    if missing:
        description += ". " + _("%(n)s thôn/tổ dân phố chưa có ranh giới nên không có trong lớp bản đồ.", n=missing)
    return Layer(layer, missing, description)


def write_layer(layer: Layer, fmt: str, target: str | Path | IO[bytes]) -> None:
    """Write the layer as GeoJSON (RFC 7946) or GeoPackage (one layer, :data:`LAYER_NAME`, its
    description in the layer's metadata) to a path or a binary file object. Every polygon is
    written as a MultiPolygon, so the layer has one geometry type; an empty area still makes a
    valid file with the fields and no feature."""
    driver = DRIVERS[fmt]
    options = {"RFC7946": "YES", "WRITE_NAME": "YES"} if fmt == "geojson" else {"DESCRIPTION": layer.description,
                                                                                 "IDENTIFIER": LAYER_NAME}
    kwargs = dict(driver=driver, layer=LAYER_NAME, promote_to_multi=True, geometry_type="MultiPolygon",
                  layer_options=options)
    if isinstance(target, str | Path):
        pyogrio.write_dataframe(layer.frame, str(target), **kwargs)
        return
    buffer = io.BytesIO()
    pyogrio.write_dataframe(layer.frame, buffer, **kwargs)
    target.write(buffer.getvalue())

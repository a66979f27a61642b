"""What each coverage map shows, and the GeoJSON layer its script fetches (DESIGN.md §7; issue #10).

- One computation of coverage serves the page's figures, its legend and the layer: the hamlet
  frame of ``coverage.services`` (one row per hamlet in force on the day, with its status), and
  its aggregate per commune at province zoom. Nothing here decides a status.
- Geometry is the simplified copy stored at import (``units/spatial.py``: 0.0005°, 5 decimals),
  read for the area in one query; a unit without geometry still counts, and is listed beside the
  map instead of drawn.
- A layer is built once per (layer, unit, date, filter, data version) and kept compressed
  (:func:`cached_layer`); the coverage frame under it is kept too (:func:`kept_frame`), so the
  layer a page's script fetches reads the frame the page computed for its figures. The data
  version (:func:`data_version`) moves whenever what a layer shows may have changed: every
  change made through a service writes an audit event (assignments, suspensions, criteria, unit
  figures, geometry imports), and bulk loads insert new rows, so the newest audit event of
  those kinds together with the highest ids of the tables coverage reads is a version read from
  indexes alone (``max()`` lookups, and the audit trail read backwards from its end to the first
  such event: well under a millisecond). A login or a supervision visit changes no layer, and
  keeps every kept layer, frame and ETag valid.

Renderers (``render.py``) take the plain values built here; this module reads, never writes.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from cachetools import LRUCache
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, or_, select

from ..audit.models import AuditEvent
from ..collaborators.models import Assignment, Suspension
from ..common.cache import spans_provinces
from ..coverage import services as coverage
from ..coverage.labels import STATUS_COLOURS, STATUS_LABELS
from ..extensions import db
from ..recruitment.models import Application, ApplicationEvent, CriteriaSet
from ..units.models import AdminUnit, Facility, FacilityKind, UnitLevel
from ..units.services import in_areas, served_units, valid_on
from ..units.spatial import feature_collection, feature_text, geojson_texts, geojson_texts_coarse

# Bump when the shape of a layer changes: ETags are derived from the layer's key, not its bytes.
LAYER_FORMAT = "3"
# The order of the legend: best first.
STATUS_ORDER = ("covered", "below_quota", "pending", "vacant", "unknown")
FLAGS = {"difficult": "is_difficult", "ethnic_minority": "is_ethnic_minority"}
FLAG_LABELS = {"difficult": _l("Chỉ thôn đặc biệt khó khăn"), "ethnic_minority": _l("Chỉ thôn vùng đồng bào DTTS")}
OFF_MAP_LISTED = 100  # units without geometry named beside the map; the rest are counted
CACHE_BYTES = 64 * 1024 * 1024  # compressed layers kept per process
FRAME_CACHE_BYTES = 64 * 1024 * 1024  # coverage frames kept per process: the country's ≈ 40 MB
FRAME_ROW_BYTES = 640  # a frame's row (measured 496 with pandas' deep count on the Đồng Nai demo)
GZIP_LEVEL = 5


@dataclass(frozen=True)
class Band:
    """A class of communes by the share of their hamlets covered (province and national maps)."""

    key: str
    floor: float | None  # lowest % covered in the band; None: no hamlet to count
    colour: str
    label: str


BANDS = (
    Band("pct90", 90.0, "#1a9850", _l("Từ 90% thôn đủ CTV")),
    Band("pct70", 70.0, "#a6d96a", _l("Từ 70% đến dưới 90%")),
    Band("pct50", 50.0, "#fdae61", _l("Từ 50% đến dưới 70%")),
    Band("pct0", 0.0, "#d73027", _l("Dưới 50%")),
    Band("none", None, "#999999", _l("Không có thôn/tổ dân phố")),
)


def band_of(pct: float | None) -> str:
    """The band of a commune's % covered (0–100); None (no hamlet) is "none"."""
    if pct is None:
        return "none"
    return next(b.key for b in BANDS if b.floor is not None and pct >= b.floor)


# --- what a map shows -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapArea:
    """One map: hamlets by status (a commune, a centre) or communes by % covered (a province,
    the user's whole scope). ``prefixes`` are the unit paths whose hamlets are counted."""

    kind: str  # commune | centre | province | scope
    prefixes: tuple[str, ...]
    title: str
    unit: AdminUnit | None = None
    facility: Facility | None = None

    @property
    def grain(self) -> str:
        return "hamlet" if self.kind in ("commune", "centre") else "commune"

    @property
    def partial(self) -> bool:
        """Only part of the unit is shown (the part in the user's scope)."""
        return self.unit is not None and self.prefixes != (self.unit.path,)

    @property
    def ident(self):
        """What names the area in a layer's key: its unit or centre, with the paths shown when
        they are not the whole unit (a part of a province, a user's scope)."""
        if self.partial:
            return self.unit.id, self.prefixes
        if self.unit is not None:
            return self.unit.id
        return self.facility.id if self.facility is not None else self.prefixes

    @property
    def with_stations(self) -> bool:
        return self.kind != "scope"  # the national map would carry 3,321 markers


def commune_area(commune: AdminUnit) -> MapArea:
    return MapArea("commune", (commune.path,), commune.full_name, unit=commune)


def province_area(province: AdminUnit, prefixes: Sequence[str] | None = None) -> MapArea:
    """A province's communes by % covered; only those under ``prefixes`` when the user's scope
    holds part of the province (``permissions.visible_area``)."""
    return MapArea("province", tuple(prefixes or (province.path,)), province.full_name, unit=province)


def centre_area(centre: Facility, on: date) -> MapArea:
    """A health centre's map: the hamlets of the communes it serves on ``on``."""
    paths = tuple(sorted(u.path for u in served_units(centre, on)))
    return MapArea("centre", paths, centre.name, facility=centre)


def scope_area(prefixes: Sequence[str], title: str) -> MapArea:
    return MapArea("scope", tuple(sorted(prefixes)), title)


def unit_not_in_force(area: MapArea, on: date) -> bool:
    return area.unit is not None and not area.unit.valid_on(on)


# --- the frame, filtered ----------------------------------------------------------------------


def hamlet_frame(area: MapArea, on: date, flag: str | None = None) -> pd.DataFrame:
    """The coverage frame of the area's hamlets on ``on`` (:func:`kept_frame`), only the difficult
    or ethnic-minority hamlets when ``flag`` says so. A copy: the caller may change it."""
    frame = kept_frame(area.prefixes, on).copy()
    column = FLAGS.get(flag or "")
    if column is not None and len(frame):
        frame = frame[frame[column].fillna(False).astype(bool)]
    return frame


def _plain(value):
    """A pandas scalar as a JSON-able Python value (<NA> → None)."""
    if value is None or value is pd.NA:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    return value


def percent(value) -> float | None:
    """``pct_covered`` as a percentage rounded to one decimal (None when there is no hamlet)."""
    value = _plain(value)
    return None if value is None else round(float(value), 1)


@dataclass(frozen=True)
class Totals:
    hamlets: int = 0
    covered: int = 0
    pct_covered: float | None = None
    households: int = 0
    households_covered: int = 0
    collaborators: int = 0
    vacancies: int = 0
    vacancies_over_90_days: int = 0


def totals(frame: pd.DataFrame) -> Totals:
    """The figures of the whole frame (the same aggregate the dashboards show)."""
    if not len(frame):
        return Totals()
    row = coverage.aggregate(frame, "national").iloc[0]
    return Totals(**{f: (percent(row[f]) if f == "pct_covered" else int(_plain(row[f]) or 0))
                     for f in Totals.__dataclass_fields__})


@dataclass(frozen=True)
class LegendItem:
    key: str
    label: str
    colour: str
    count: int  # units of this class in the area (with or without geometry)
    drawn: int  # of which drawn on the map


@dataclass(frozen=True)
class OffMap:
    """Units counted but not drawn (no geometry): the first few named, all counted."""

    total: int = 0
    units: list[tuple[int, str]] = field(default_factory=list)


def hamlet_legend(frame: pd.DataFrame) -> list[LegendItem]:
    counts = frame["status"].astype(str).value_counts() if len(frame) else pd.Series(dtype=int)
    drawn = (frame.loc[frame["has_geometry"].fillna(False).astype(bool), "status"].astype(str).value_counts()
             if len(frame) else pd.Series(dtype=int))
    return [LegendItem(s, str(STATUS_LABELS[s]), STATUS_COLOURS[s], int(counts.get(s, 0)), int(drawn.get(s, 0)))
            for s in STATUS_ORDER]


def synthetic_count(frame: pd.DataFrame) -> int:
    """Hamlets of the frame generated for the demo (labelled "Dữ liệu minh hoạ")."""
    return int(frame["is_synthetic"].fillna(False).astype(bool).sum()) if len(frame) else 0


def hamlets_off_map(frame: pd.DataFrame) -> OffMap:
    if not len(frame):
        return OffMap()
    missing = frame[~frame["has_geometry"].fillna(False).astype(bool)].sort_values("full_name")
    return OffMap(len(missing), [(int(r.hamlet_id), str(r.full_name or r.name))
                                 for r in missing.head(OFF_MAP_LISTED).itertuples()])


# --- communes (province and national maps) ----------------------------------------------------


@dataclass(frozen=True)
class CommuneRow:
    id: int
    name: str
    has_geometry: bool
    band: str
    pct: float | None
    hamlets: int
    covered: int
    households: int
    collaborators: int
    vacancies: int


def _communes_query(prefixes: Sequence[str], on: date, *columns):
    return (select(*columns).where(AdminUnit.level == UnitLevel.COMMUNE.value, in_areas(prefixes),
                                   valid_on(AdminUnit, on)))


def commune_rows(area: MapArea, on: date, frame: pd.DataFrame) -> list[CommuneRow]:
    """Every commune in force in the area with its coverage (a commune without hamlets is in the
    "none" band, not left out)."""
    stats = {}
    if len(frame):
        for r in coverage.aggregate(frame, "commune").to_dict("records"):
            stats[int(r["unit_id"])] = r
    rows = []
    found = db.session.execute(_communes_query(area.prefixes, on, AdminUnit.id, AdminUnit.full_name,
                                               AdminUnit.geom_simplified_wkb.is_not(None))
                               .order_by(AdminUnit.full_name))
    for unit_id, name, has_geometry in found:
        s = stats.get(unit_id, {})
        pct = percent(s.get("pct_covered")) if s.get("hamlets") else None
        rows.append(CommuneRow(
            unit_id, name, bool(has_geometry), band_of(pct), pct, int(_plain(s.get("hamlets")) or 0),
            int(_plain(s.get("covered")) or 0), int(_plain(s.get("households")) or 0),
            int(_plain(s.get("collaborators")) or 0), int(_plain(s.get("vacancies")) or 0)))
    return rows


def commune_legend(rows: list[CommuneRow]) -> list[LegendItem]:
    return [LegendItem(b.key, str(b.label), b.colour, sum(r.band == b.key for r in rows),
                       sum(r.band == b.key and r.has_geometry for r in rows)) for b in BANDS]


def communes_off_map(rows: list[CommuneRow]) -> OffMap:
    missing = [r for r in rows if not r.has_geometry]
    return OffMap(len(missing), [(r.id, r.name) for r in missing[:OFF_MAP_LISTED]])


@dataclass(frozen=True)
class Figures:
    """What a map page shows beside the map: the area's totals, the legend with its counts, the
    units counted but not drawn, and how many hamlets are synthetic."""

    totals: Totals
    legend: list[LegendItem]
    off_map: OffMap
    synthetic: int


def figures(area: MapArea, on: date, flag: str | None = None) -> Figures:
    """The figures of the area on ``on`` (one coverage frame, aggregated)."""
    frame = hamlet_frame(area, on, flag)
    if area.grain == "hamlet":
        legend, off_map = hamlet_legend(frame), hamlets_off_map(frame)
    else:
        rows = commune_rows(area, on, frame)
        legend, off_map = commune_legend(rows), communes_off_map(rows)
    return Figures(totals(frame), legend, off_map, synthetic_count(frame))


# --- extent ------------------------------------------------------------------------------------


def bounds(area: MapArea, on: date) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of the area's communes (else of its hamlets); None
    when nothing in the area has geometry."""
    for level in (UnitLevel.COMMUNE, UnitLevel.HAMLET):
        box = db.session.execute(
            select(func.min(AdminUnit.bbox_minx), func.min(AdminUnit.bbox_miny), func.max(AdminUnit.bbox_maxx),
                   func.max(AdminUnit.bbox_maxy))
            .where(AdminUnit.level == level.value, in_areas(area.prefixes), valid_on(AdminUnit, on),
                   AdminUnit.geom_simplified_wkb.is_not(None))).one()
        if box[0] is not None:
            return [[box[1], box[0]], [box[3], box[2]]]
    return None


# --- the layer ----------------------------------------------------------------------------------


def _geometries(prefixes: Sequence[str], on: date, level: UnitLevel, *, wkb: bool = False,
                names: dict[int, str] | None = None) -> dict[int, bytes | str]:
    """The stored simplified geometry of the units of ``level`` in force in the areas: as GeoJSON
    text, ready to serve (``wkb``: the WKB, to be simplified further); their full names into
    ``names`` when given (one query)."""
    stored = AdminUnit.geom_simplified_geojson
    # A text missing (written by hand into the database, bypassing units/spatial.py): the WKB instead.
    missing = case((stored.is_(None), AdminUnit.geom_simplified_wkb), else_=None)
    rows = db.session.execute(
        select(AdminUnit.id, AdminUnit.geom_simplified_wkb if wkb else stored, literal(None) if wkb else missing,
               AdminUnit.full_name)
        .where(AdminUnit.level == level.value, in_areas(prefixes), valid_on(AdminUnit, on),
               AdminUnit.geom_simplified_wkb.is_not(None))).all()
    if names is not None:
        names.update((unit_id, name) for unit_id, _, _, name in rows)
    found = {unit_id: shape for unit_id, shape, _, _ in rows}
    converted = [(unit_id, raw) for unit_id, _, raw, _ in rows if raw is not None]
    found.update(zip([i for i, _ in converted], geojson_texts([raw for _, raw in converted]), strict=True))
    return found


def _features(shapes: Sequence[str], properties: Sequence[dict]) -> list[str]:
    """Features from stored GeoJSON geometry texts and their properties."""
    return [feature_text(g, p) for g, p in zip(shapes, properties, strict=True)]


def _hamlet_features(frame: pd.DataFrame, area: MapArea, on: date) -> list[str]:
    if not len(frame):
        return []
    shapes = _geometries(area.prefixes, on, UnitLevel.HAMLET)
    drawn = frame[frame["hamlet_id"].isin(list(shapes))]
    # Column by column, not a pandas scalar at a time: a province is thousands of hamlets.
    ids = drawn["hamlet_id"].astype("int64").tolist()
    households = drawn["households"].astype("Int64").astype(object).where(drawn["households"].notna(), None).tolist()
    quotas = drawn["quota"].astype("Int64").astype(object).where(drawn["quota"].notna(), None).tolist()
    properties = []
    for hamlet_id, name, status, count, active, quota, synthetic in zip(
            ids, drawn["name"].astype(str).tolist(), drawn["status"].astype(str).tolist(), households,
            drawn["active"].fillna(0).astype("int64").tolist(), quotas,
            drawn["is_synthetic"].fillna(False).astype(bool).tolist(), strict=True):
        feature = {"kind": "hamlet", "id": hamlet_id, "name": name, "status": status, "households": count,
                   "active": active, "quota": quota}
        if synthetic:
            feature["synthetic"] = True
        properties.append(feature)
    return _features([shapes[i] for i in ids], properties)


def _boundary_features(area: MapArea, on: date) -> list[str]:
    names: dict[int, str] = {}
    shapes = _geometries(area.prefixes, on, UnitLevel.COMMUNE, names=names)
    return _features(list(shapes.values()),
                     [{"kind": "boundary", "id": unit_id, "name": names[unit_id]} for unit_id in shapes])


def _station_features(area: MapArea, on: date) -> list[str]:
    """The commune health stations of the area, at their commune's label point (facilities have
    no coordinates of their own)."""
    rows = db.session.execute(
        select(Facility.id, Facility.name, AdminUnit.id, AdminUnit.centroid_lon, AdminUnit.centroid_lat)
        .join(AdminUnit, AdminUnit.id == Facility.unit_id)
        .where(Facility.kind == FacilityKind.STATION.value, valid_on(Facility, on), in_areas(area.prefixes),
               AdminUnit.centroid_lon.is_not(None)))
    return [feature_text(json.dumps({"type": "Point", "coordinates": [lon, lat]}),
                         {"kind": "station", "id": facility_id, "name": name, "unit_id": unit_id})
            for facility_id, name, unit_id, lon, lat in rows]


def _commune_features(rows: list[CommuneRow], area: MapArea, on: date) -> list[str]:
    # Several provinces are seen from far away: coarser shapes (units/spatial.py) keep the national
    # layer of 3,321 communes a few MB.
    coarse = spans_provinces(area.prefixes)
    shapes = _geometries(area.prefixes, on, UnitLevel.COMMUNE, wkb=coarse)
    drawn = [r for r in rows if r.id in shapes]
    texts = [shapes[r.id] for r in drawn]
    return _features(geojson_texts_coarse(texts) if coarse else texts, properties=[{
        "kind": "commune", "id": r.id, "name": r.name, "status": r.band, "pct": r.pct, "hamlets": r.hamlets,
        "covered": r.covered, "households": r.households, "active": r.collaborators, "vacancies": r.vacancies}
        for r in drawn])


def build_layer(area: MapArea, on: date, flag: str | None = None) -> str:
    """The area's GeoJSON FeatureCollection: the choropleth (hamlets by status, or communes by
    band), then commune boundaries and station markers (``properties.kind`` tells them apart)."""
    frame = hamlet_frame(area, on, flag)
    if area.grain == "hamlet":
        features = _hamlet_features(frame, area, on) + _boundary_features(area, on)
    else:
        features = _commune_features(commune_rows(area, on, frame), area, on)
    if area.with_stations:
        features += _station_features(area, on)
    return feature_collection(features)


def snapshot_shapes(area: MapArea, on: date, flag: str | None = None, *,
                    outlines: bool = True) -> list[tuple[bytes, str | None, str]]:
    """(simplified WKB, fill colour or None for an outline, name) of what the map draws, for the
    server-side snapshot (``outlines``: the communes' boundaries over the hamlets too)."""
    frame = hamlet_frame(area, on, flag)
    if area.grain == "hamlet":
        shapes = _geometries(area.prefixes, on, UnitLevel.HAMLET, wkb=True)
        items = [(shapes.get(int(r.hamlet_id)), STATUS_COLOURS[str(r.status)], str(r.name))
                 for r in frame.itertuples()] if len(frame) else []
        if outlines:
            items += [(wkb, None, name) for _id, name, wkb in db.session.execute(
                _communes_query(area.prefixes, on, AdminUnit.id, AdminUnit.full_name, AdminUnit.geom_simplified_wkb))]
        return items
    shapes = _geometries(area.prefixes, on, UnitLevel.COMMUNE, wkb=True)
    colours = {b.key: b.colour for b in BANDS}
    return [(shapes.get(r.id), colours[r.band], r.name) for r in commune_rows(area, on, frame)]


# --- version and cache --------------------------------------------------------------------------


# Audit actions that may change what a layer shows (collaborators' assignments and suspensions,
# units' figures, flags, geometry and validity, criteria, applications, facilities). Others — a
# login, a supervision visit — leave every layer as it was.
COVERAGE_ACTIONS = ("collaborator.", "unit.", "criteria.", "application.", "facility.")


# The two statements of the data version, built once (building them cost more than running them).
_LATEST_EVENT = (select(AuditEvent.id, AuditEvent.at)
                 .where(or_(*(AuditEvent.action.startswith(p) for p in COVERAGE_ACTIONS)))
                 .order_by(AuditEvent.id.desc()).limit(1))
_NEWEST_IDS = select(*(select(func.max(model.id)).scalar_subquery() for model in
                       (Assignment, Suspension, Application, ApplicationEvent, CriteriaSet, AdminUnit, Facility)))


def data_version() -> str:
    """A value that changes whenever a layer may have changed (see the module docstring): the
    newest audit event of :data:`COVERAGE_ACTIONS` (id and time: found by reading the audit
    trail backwards from its end) and the highest ids of the tables coverage reads."""
    latest = db.session.execute(_LATEST_EVENT).first()
    row = db.session.execute(_NEWEST_IDS).one()
    return "|".join("" if v is None else str(v) for v in (*(latest or ()), *row))


def layer_key(name: str, ident, on: date, flag: str | None) -> tuple:
    return (LAYER_FORMAT, name, ident, on.isoformat(), flag or "")


def etag_for(key: tuple, version: str) -> str:
    return hashlib.sha256(repr((key, version)).encode()).hexdigest()[:32]


def _frame_size(frame: pd.DataFrame) -> int:
    """An estimate (pandas' own count of the text columns costs 3 ms a province, 0.1 s the country)."""
    return FRAME_ROW_BYTES * (len(frame) + 1)


def _cache(name: str = "danso_map_layers", size: int = CACHE_BYTES,
           getsizeof: Callable = len) -> tuple[LRUCache, threading.Lock]:
    app = current_app._get_current_object()
    found = app.extensions.get(name)
    if found is None:
        found = app.extensions[name] = (LRUCache(maxsize=size, getsizeof=getsizeof), threading.Lock())
    return found


def _frame_cache() -> tuple[LRUCache, threading.Lock]:
    return _cache("danso_map_frames", FRAME_CACHE_BYTES, _frame_size)


def clear_cache(*, layers: bool = True) -> None:
    """Forget every kept frame, and every kept layer unless ``layers`` is false (tests; the
    benchmarks' "nothing kept")."""
    for cache, lock in ((_frame_cache(), _cache()) if layers else (_frame_cache(),)):
        with lock:
            cache.clear()


def _kept(cache: LRUCache, lock: threading.Lock, entry: tuple, make: Callable):
    with lock:
        found = cache.get(entry)
    if found is None:
        found = make()
        with lock, contextlib.suppress(ValueError):  # larger than the whole cache: served, not kept
            cache[entry] = found
    return found


def kept_frame(prefixes: Sequence[str], on: date) -> pd.DataFrame:
    """``coverage.services.hamlet_frame`` of the areas on ``on``, kept per (areas, day, data
    version): a map page computes it for its figures and the layer its script fetches a moment
    later reads it again (for the whole country, a second saved). Callers must not change it
    (:func:`hamlet_frame` gives a copy)."""
    cache, lock = _frame_cache()
    entry = (tuple(sorted(prefixes)), on.isoformat(), data_version())
    return _kept(cache, lock, entry, lambda: coverage.hamlet_frame(list(prefixes), on))


def cached_layer(key: tuple, version: str, build: Callable[[], str]) -> bytes:
    """The layer gzip-compressed: kept from an earlier request for the same key and version, or
    built now (and kept). Level 5: on the Đồng Nai hamlet layer (1.2 MB) it compresses 1% less
    than level 6 in 60% of the time (21 ms instead of 35; levels 4 and below lose 6% or more)."""
    cache, lock = _cache()
    return _kept(cache, lock, (key, version),
                 lambda: gzip.compress(build().encode("utf-8"), compresslevel=GZIP_LEVEL, mtime=0))


# --- the data's attribution -----------------------------------------------------------------------


@functools.cache
def _attribution_from(path: str) -> str:
    """The short attribution ``data/NOTICE`` asks maps to show (its quoted lines)."""
    text = Path(path).read_text(encoding="utf-8")
    start = text.find("Attribution to show on maps")
    quoted = re.findall(r"^> ?(.*)$", text[start:], flags=re.MULTILINE) if start >= 0 else []
    return " ".join(line.strip() for line in quoted if line.strip())


def attribution() -> str:
    return _attribution_from(str(Path(current_app.config["DATA_DIR"]) / "NOTICE"))



"""Import administrative units from GIS files: GeoJSON (also gzipped), GeoPackage, shapefile.

Two phases, shared by ``danso units import``, the demo loader and (later) a web upload:

1. :func:`read_units_file` reads the file with geopandas/pyogrio into a GeoDataFrame;
2. :func:`plan_import` checks **every** feature and collects every problem as one Vietnamese
   line ("Dòng 3 (mã 26017): hình học rỗng."), and decides for each unit whether it is created,
   updated or unchanged — it reads the database but writes nothing;
3. :func:`apply_plan` performs the plan through :mod:`units.services` (which flush and write the
   audit trail) inside a SAVEPOINT, so a plan with problems, or a service that refuses a row,
   leaves the database as it was. It never commits: the caller does.

Rules (DESIGN.md §5, §7; data/NOTICE):
- Codes are strings of digits: 2 for a province, 5 for a commune (3 for a pre-2025 district, only
  when a ``level`` column says so). Codes stored as numbers lose their leading zeros; they are
  padded back by level.
- A feature is matched to the unit holding its code today. Matching only corrects attributes and
  geometry (names, type, counts, boundary); a change of level or parent is a reform (merge,
  split, reparent) and is refused here.
- Geometry is reprojected to WGS 84 (EPSG:4326), repaired when invalid (``spatial.repair``),
  and stored full and simplified for maps (``spatial.geometry_columns``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from flask_babel import lazy_gettext as _l
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from ..audit.services import record
from ..common.clock import today
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..textnorm import fold
from . import services
from .labels import TYPE_FROM_SOURCE, type_label
from .models import LEVEL_TYPES, AdminUnit, UnitLevel, UnitType
from .spatial import WGS84, geometry_columns, repair

log = logging.getLogger(__name__)

REFORM_DAY = date(2025, 7, 1)  # two-tier local government from 1/7/2025; no district level after it
DEFAULT_DECISION_REF = "QĐ 19/2025/QĐ-TTg"

SUPPORTED_SUFFIXES = (".geojson.gz", ".json.gz", ".geojson", ".json", ".gpkg", ".zip", ".shp")
CODE_LENGTH = {UnitLevel.PROVINCE: 2, UnitLevel.DISTRICT: 3, UnitLevel.COMMUNE: 5}
LEVEL_ORDER = {UnitLevel.PROVINCE: 0, UnitLevel.DISTRICT: 1, UnitLevel.COMMUNE: 2}
PARENT_LEVELS = {
    UnitLevel.DISTRICT: frozenset({UnitLevel.PROVINCE}),
    UnitLevel.COMMUNE: frozenset({UnitLevel.PROVINCE, UnitLevel.DISTRICT}),
}

# Accepted column names (case-insensitive). Shapefiles cut names to 10 characters.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code",),
    "name": ("name",),
    "full_name": ("full_name",),
    "type": ("type",),
    "level": ("level",),
    "parent_code": ("parent_code", "parent_cod", "province_code", "province_c"),
    "households": ("households",),
    "population": ("population",),
    "area_km2": ("area_km2",),
}
LEVEL_WORDS = {
    "province": UnitLevel.PROVINCE, "tinh": UnitLevel.PROVINCE, "cap tinh": UnitLevel.PROVINCE,
    "district": UnitLevel.DISTRICT, "huyen": UnitLevel.DISTRICT, "cap huyen": UnitLevel.DISTRICT,
    "commune": UnitLevel.COMMUNE, "ward": UnitLevel.COMMUNE, "xa": UnitLevel.COMMUNE,
    "cap xa": UnitLevel.COMMUNE,
    "hamlet": UnitLevel.HAMLET, "thon": UnitLevel.HAMLET, "cap thon": UnitLevel.HAMLET,
}
# Source words (TYPE_FROM_SOURCE), with and without diacritics, and our enum values.
TYPE_WORDS: dict[str, UnitType] = {
    **{t.value: t for t in UnitType},
    **{fold(word): t for word, t in TYPE_FROM_SOURCE.items()},
    **TYPE_FROM_SOURCE,
}
# The prefix of a full name when the file gives none ("Phường Tam Hiệp"); "Thành phố Hà Nội",
# not the long type label.
SHORT_PREFIX = {UnitType.THANH_PHO_TW: "Thành phố", UnitType.THANH_PHO_THUOC_TINH: "Thành phố"}
GEOMETRY_FIELDS = ("geom_wkb", "geom_simplified_wkb", "geom_simplified_geojson", "bbox_minx", "bbox_miny",
                   "bbox_maxx", "bbox_maxy", "centroid_lon", "centroid_lat")
LEVEL_NAMES = {UnitLevel.PROVINCE: _l("tỉnh"), UnitLevel.DISTRICT: _l("huyện"), UnitLevel.COMMUNE: _l("xã"),
               UnitLevel.HAMLET: _l("thôn")}
FIELD_LABELS = {"name": _l("tên"), "full_name": _l("tên đầy đủ"), "type": _l("loại"),
                "households": _l("số hộ"), "population": _l("dân số"), "area_km2": _l("diện tích"),
                "geometry": _l("ranh giới")}

_DIGITS = re.compile(r"[0-9]+")
_SPACES = re.compile(r"\s+")


class ImportFailed(ValidationFailed):
    """A GIS file that cannot be imported. ``problems`` holds one Vietnamese line per problem."""

    def __init__(self, problems: Iterable[Any], message: Any = None):
        problems = [str(p) for p in problems]
        if message is None:
            message = (problems[0] if len(problems) == 1 else
                       _l("Tệp có %(n)d lỗi; không ghi gì vào cơ sở dữ liệu.", n=len(problems)))
        super().__init__(message, problems=problems)


@dataclass
class PlannedUnit:
    """One feature of the file, checked: what it will become and what it changes."""

    row: int  # 1-based feature number in the file
    code: str
    level: UnitLevel
    type: UnitType
    name: str
    full_name: str
    parent_code: str | None
    values: dict[str, Any]  # columns to set: type, names, geometry, and the counts the file gives
    parent_id: int | None = None  # an existing parent; None when the parent comes from the file
    action: str = "create"  # create | update | unchanged
    unit_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    repaired: bool = False

    def changed_labels(self) -> list[str]:
        keys = ["geometry" if k in GEOMETRY_FIELDS else k for k in self.changes]
        return [str(FIELD_LABELS.get(k, k)) for k in dict.fromkeys(keys)]


@dataclass
class ImportPlan:
    source_name: str
    valid_from: date
    decision_ref: str | None
    items: list[PlannedUnit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def _with(self, action: str) -> list[PlannedUnit]:
        return [item for item in self.items if item.action == action]

    @property
    def to_create(self) -> list[PlannedUnit]:
        return self._with("create")

    @property
    def to_update(self) -> list[PlannedUnit]:
        return self._with("update")

    @property
    def unchanged(self) -> list[PlannedUnit]:
        return self._with("unchanged")


@dataclass
class ImportReport:
    source_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_codes: list[str] = field(default_factory=list)
    updated_codes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- phase 1: reading -------------------------------------------------------------------------


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in SUPPORTED_SUFFIXES if name.endswith(s)), None)


def read_units_file(path: str | os.PathLike, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GIS file of units: GeoJSON (``.geojson``/``.json``, optionally gzipped), GeoPackage
    (``.gpkg``), a shapefile (``.shp`` with its side files, or all of them in a ``.zip``).

    A file with several layers needs ``layer``. Raises :class:`ImportFailed` with a one-line
    reason when the file is missing, of another kind, unreadable, or has no geometry."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed([_l("Không tìm thấy tệp “%(f)s”.", f=str(path))])
    suffix = _suffix(path)
    if suffix is None:
        raise ImportFailed([_l("Tệp “%(f)s” không phải định dạng GIS được hỗ trợ (GeoJSON .geojson/.json/.gz, "
                               "GeoPackage .gpkg, shapefile .shp hoặc nén .zip).", f=path.name)])
    # GDAL opens gzip only through its virtual file system; zips it opens directly.
    source = f"/vsigzip/{path}" if suffix.endswith(".gz") else str(path)
    try:
        layers = [str(name) for name, _geom in pyogrio.list_layers(source)]
        if layer is None and len(layers) > 1:
            raise ImportFailed([_l("Tệp “%(f)s” có %(n)d lớp (%(names)s); hãy chọn một lớp.",
                                   f=path.name, n=len(layers), names=", ".join(layers))])
        if layer is not None and layer not in layers:
            raise ImportFailed([_l("Tệp “%(f)s” không có lớp “%(layer)s” (có: %(names)s).",
                                   f=path.name, layer=layer, names=", ".join(layers))])
        frame = gpd.read_file(source, engine="pyogrio", layer=layer)
    except ImportFailed:
        raise
    except Exception as e:  # GDAL reports unreadable input with several exception types
        log.info("GIS read failed for %s: %s", path, e)
        raise ImportFailed([_l("Không đọc được tệp “%(f)s”: không phải tệp %(kind)s hợp lệ hoặc tệp bị hỏng.",
                               f=path.name, kind=_kind(suffix))]) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ImportFailed([_l("Tệp “%(f)s” không có dữ liệu hình học (ranh giới); không phải tệp GIS.",
                               f=path.name)])
    return frame


def _kind(suffix: str) -> str:
    return {".gpkg": "GeoPackage", ".zip": "shapefile nén (.zip)", ".shp": "shapefile"}.get(suffix, "GeoJSON")


# --- phase 2: planning ------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pandas NA
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()
    return text or None


def _code(value: Any) -> tuple[str | None, bool]:
    """The code as text, and whether the file stored it as a number (leading zeros lost)."""
    if _missing(value):
        return None, False
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
        return str(int(value)), True
    if isinstance(value, float):
        return (str(int(value)), True) if value.is_integer() else (str(value), False)
    return _text(value), False


def _number(value: Any, *, integer: bool) -> tuple[float | int | None, bool]:
    """(value, ok): a non-negative number, or None when blank. Text is read strictly: digits only
    for counts ("1.000" is ambiguous and refused); a decimal comma is accepted for areas."""
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return None, True
    if isinstance(value, str):
        text = value.strip()
        if integer and not _DIGITS.fullmatch(text):
            return None, False
        if not integer and "." not in text:
            text = text.replace(",", ".")
        value = text
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, False
    if not math.isfinite(number) or number < 0 or (integer and not number.is_integer()):
        return None, False
    return (int(number) if integer else number), True


def _level(value: str | None) -> UnitLevel | None:
    return LEVEL_WORDS.get(fold(value)) if value else None


def _unit_type(value: str | None, level: UnitLevel) -> UnitType | None:
    if not value:
        return None
    word = value.lower()
    if level == UnitLevel.DISTRICT and fold(word) == "thanh pho":
        return UnitType.THANH_PHO_THUOC_TINH  # a "thành phố" under a province
    return TYPE_WORDS.get(word) or TYPE_WORDS.get(fold(word))


def _type_from_full_name(full_name: str | None, level: UnitLevel) -> UnitType | None:
    if not full_name:
        return None
    lowered = full_name.lower()
    for word in sorted(TYPE_FROM_SOURCE, key=len, reverse=True):
        if lowered.startswith(word + " "):
            return _unit_type(word, level)
    return None


def _columns(frame: gpd.GeoDataFrame) -> dict[str, str]:
    """Our column name → the file's column name."""
    by_lower = {str(c).lower(): str(c) for c in frame.columns if c != frame.geometry.name}
    found = {}
    for key, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in by_lower:
                found[key] = by_lower[alias]
                break
    return found


def _in_lon_lat(bounds: tuple[float, float, float, float]) -> bool:
    minx, miny, maxx, maxy = bounds
    return all(math.isfinite(v) for v in bounds) and -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def _wgs84(frame: gpd.GeoDataFrame, problems: list[str], notes: list[str]) -> list[BaseGeometry | None] | None:
    """The geometries in EPSG:4326 (None, with a problem, when that is impossible). A file
    without a CRS is taken as longitude/latitude only when every coordinate fits."""
    geoms = frame.geometry
    present = geoms[~(geoms.isna() | geoms.is_empty)]
    if frame.crs is None:
        if len(present) and not _in_lon_lat(tuple(present.total_bounds)):
            problems.append(str(_l("Tệp không khai báo hệ toạ độ và toạ độ không phải kinh độ/vĩ độ; "
                                   "hãy kèm tệp .prj hoặc xuất lại theo EPSG:4326.")))
            return None
        if len(present):
            notes.append(str(_l("Tệp không khai báo hệ toạ độ; toạ độ nằm trong giới hạn kinh độ/vĩ độ "
                                 "nên được coi là WGS 84 (EPSG:4326).")))
    elif not frame.crs.equals(WGS84, ignore_axis_order=True):
        try:
            geoms = geoms.to_crs(WGS84)
        except Exception as e:  # PROJ has no path between the two systems
            log.info("reprojection from %s failed: %s", frame.crs, e)
            problems.append(str(_l("Không chuyển được hệ toạ độ %(crs)s sang EPSG:4326.", crs=frame.crs.name)))
            return None
        notes.append(str(_l("Đã chuyển hệ toạ độ %(crs)s sang WGS 84 (EPSG:4326).", crs=frame.crs.name)))
    return list(geoms.values)


def _prepare_geometry(geom: BaseGeometry | None) -> tuple[BaseGeometry | None, Any, bool]:
    """(repaired geometry, problem, was repaired). Only areas (polygons) are accepted."""
    if geom is None or geom.is_empty:
        return None, _l("hình học rỗng."), False
    if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        return None, _l("hình học không phải vùng (%(kind)s); cần Polygon hoặc MultiPolygon.",
                        kind=geom.geom_type), False
    geom = shapely.force_2d(geom)
    if not _in_lon_lat(geom.bounds):
        return None, _l("toạ độ nằm ngoài giới hạn kinh độ −180..180 / vĩ độ −90..90."), False
    was_valid = geom.is_valid
    fixed = repair(geom)
    if fixed is None:
        if not was_valid:
            return None, _l("hình học không hợp lệ và không sửa được thành vùng."), False
        return None, _l("hình học không có diện tích."), False
    return fixed, None, not was_valid


def _row_label(row: int, code: str | None) -> str:
    if code:
        return str(_l("Dòng %(row)d (mã %(code)s)", row=row, code=code))
    return str(_l("Dòng %(row)d", row=row))


def _current_units(codes: set[str]) -> dict[str, AdminUnit]:
    """Units holding these codes today (the same rule as ``services.find_unit_by_code``)."""
    found: dict[str, AdminUnit] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        for unit in db.session.scalars(select(AdminUnit).where(
                AdminUnit.code.in_(chunk), services.valid_on(AdminUnit, today()))):
            found[unit.code] = unit
    return found


def _blocking_units(codes: set[str]) -> dict[str, AdminUnit]:
    """Units that hold or held a code: a new unit may not take it — a code is never shared by
    two units at once, and a closed code is never given to another unit (QĐ 124/2004/QĐ-TTg)."""
    found: dict[str, AdminUnit] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        for unit in db.session.scalars(select(AdminUnit).where(AdminUnit.code.in_(chunk))
                                       .order_by(AdminUnit.valid_from.desc(), AdminUnit.id.desc())):
            found.setdefault(unit.code, unit)
    return found


@dataclass
class _Row:
    """One feature while it is checked; its problems are collected, not raised."""

    number: int
    problems: list[Any] = field(default_factory=list)
    code: str | None = None
    padded: bool = False
    level: UnitLevel | None = None
    parent_code: str | None = None
    type: UnitType | None = None
    name: str | None = None
    full_name: str | None = None

    @property
    def label(self) -> str:
        return _row_label(self.number, self.code)

    def lines(self) -> list[str]:
        return [f"{self.label}: {p}" for p in dict.fromkeys(str(p) for p in self.problems)]


def _check_code_and_level(row: _Row, raw_code: Any, raw_parent: Any, raw_level: Any, *, has_code: bool,
                          valid_from: date) -> None:
    """Code, level and parent code. The level comes from a ``level`` column, else from the code's
    length (2 digits a province, 5 a commune); a 3-digit district code needs the column."""
    code, code_is_number = _code(raw_code)
    parent_code, parent_is_number = _code(raw_parent)
    if parent_is_number and parent_code is not None:
        parent_code = parent_code.zfill(CODE_LENGTH[UnitLevel.PROVINCE])
    level_text = _text(raw_level)
    level = _level(level_text)
    if level_text and level is None:
        row.problems.append(_l("cấp “%(v)s” không hợp lệ (dùng province, district hoặc commune).", v=level_text))
    if code_is_number and code is not None and _DIGITS.fullmatch(code):
        # Leading zeros were lost: pad by level; without a level column, a row with a parent is
        # a commune and a row without one a province.
        guess = level or (UnitLevel.COMMUNE if parent_code and parent_code != code else UnitLevel.PROVINCE)
        width = CODE_LENGTH.get(guess)
        if width and len(code) < width:
            code, row.padded = code.zfill(width), True
    row.code, row.parent_code = code, parent_code
    if has_code:
        if code is None:
            row.problems.append(_l("thiếu mã đơn vị (cột code trống)."))
        elif not _DIGITS.fullmatch(code):
            row.problems.append(_l("mã “%(code)s” chỉ được gồm chữ số.", code=code))
        elif level is None and not level_text:
            level = {2: UnitLevel.PROVINCE, 5: UnitLevel.COMMUNE}.get(len(code))
            if len(code) == 3:
                row.problems.append(_l("mã 3 chữ số là mã cấp huyện; cần cột level = district để nhập cấp huyện."))
            elif level is None:
                row.problems.append(_l("mã phải có 2 chữ số (tỉnh) hoặc 5 chữ số (xã, phường, đặc khu)."))
        elif level in CODE_LENGTH and len(code) != CODE_LENGTH[level]:
            row.problems.append(_l("mã đơn vị cấp %(level)s phải có %(n)d chữ số.",
                                   level=LEVEL_NAMES[level], n=CODE_LENGTH[level]))
    if level == UnitLevel.HAMLET:
        row.problems.append(_l("thôn, tổ dân phố không có mã chính thức; không nhập bằng tệp GIS này."))
        level = None
    if level == UnitLevel.DISTRICT and valid_from >= REFORM_DAY:
        row.problems.append(_l("cấp huyện chấm dứt từ 01/07/2025; chỉ nhập được với ngày hiệu lực trước đó."))
    if level is not None and level != UnitLevel.PROVINCE:
        if parent_code is None:
            row.problems.append(_l("thiếu mã đơn vị cấp trên (cột province_code)."))
        elif parent_code == code:
            row.problems.append(_l("mã đơn vị cấp trên trùng với chính mã của đơn vị."))
    row.level = level
    if level == UnitLevel.PROVINCE:
        row.parent_code = None


def _check_names_and_type(row: _Row, raw_name: Any, raw_full_name: Any, raw_type: Any, *, has_name: bool) -> None:
    """Name, type and full name. The type is read from the ``type`` column (Vietnamese words as in
    TYPE_FROM_SOURCE, or our enum values), else from the start of the full name; the full name
    defaults to the type's label and the name ("Phường Tam Hiệp")."""
    row.name = _text(raw_name)
    if has_name and row.name is None:
        row.problems.append(_l("thiếu tên đơn vị (cột name trống)."))
    elif row.name is not None and len(row.name) > 200:
        row.problems.append(_l("tên dài quá 200 ký tự."))
    full_name = _text(raw_full_name)
    type_text = _text(raw_type)
    if row.level is not None:
        unit_type = _unit_type(type_text, row.level) if type_text else _type_from_full_name(full_name, row.level)
        if unit_type is None:
            row.problems.append(_l("không nhận ra loại đơn vị “%(t)s”.", t=type_text) if type_text else
                                _l("không xác định được loại đơn vị (thiếu cột type)."))
        elif unit_type not in LEVEL_TYPES[row.level]:
            row.problems.append(_l("loại “%(t)s” không thuộc cấp %(level)s.", t=type_text or unit_type.value,
                                   level=LEVEL_NAMES[row.level]))
        else:
            row.type = unit_type
    if row.type is not None and row.name is not None and full_name is None:
        full_name = f"{SHORT_PREFIX.get(row.type) or type_label(row.type)} {row.name}"
    if full_name is not None and len(full_name) > 250:
        row.problems.append(_l("tên đầy đủ dài quá 250 ký tự."))
    row.full_name = full_name


def _check_counts(row: _Row, raws: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """Households, population and area when the file has them: non-negative numbers within the
    bounds of the unit's level (``FIGURE_LIMITS``)."""
    values: dict[str, Any] = {}
    for key, integer in (("households", True), ("population", True), ("area_km2", False)):
        number, ok = _number(raws[key], integer=integer)
        if not ok:
            row.problems.append(_l("giá trị “%(v)s” của cột %(c)s không hợp lệ (cần số không âm%(i)s).",
                                   v=raws[key], c=columns[key], i=_l(", nguyên") if integer else ""))
        elif number is not None and row.level is not None and services.figure_problem(row.level, key, number):
            row.problems.append(_l("cột %(c)s: %(p)s", c=columns[key], p=services.figure_problem(row.level, key, number)))
        elif number is not None:
            values[key] = number
    return values


def plan_import(frame: gpd.GeoDataFrame, *, valid_from: date, decision_ref: str | None,
                source_name: str) -> ImportPlan:
    """Check every feature and decide what the import would do, writing nothing.

    Each feature needs a code, a name, a type it can be recognised by and a polygonal geometry;
    communes (and districts) need the code of their parent, which must be a current unit or a
    province in the same file. Codes are unique within the file. Every problem found is
    collected, one line each; a plan with problems cannot be applied."""
    plan = ImportPlan(source_name=source_name, valid_from=valid_from, decision_ref=decision_ref)
    problems, notes = plan.problems, plan.notes
    if frame is None or len(frame) == 0:
        problems.append(str(_l("Tệp “%(f)s” không có đối tượng nào.", f=source_name)))
        return plan
    columns = _columns(frame)
    if "code" not in columns:
        problems.append(str(_l("Tệp thiếu cột “code” (mã đơn vị hành chính).")))
    if "name" not in columns:
        problems.append(str(_l("Tệp thiếu cột “name” (tên đơn vị).")))
    geoms = _wgs84(frame, problems, notes)
    raw = {key: list(frame[columns[key]]) if key in columns else [None] * len(frame) for key in COLUMN_ALIASES}

    items: list[PlannedUnit] = []
    padded = 0
    first_row: dict[str, int] = {}
    for index in range(len(frame)):
        row = _Row(index + 1)
        values = {key: raw[key][index] for key in raw}
        _check_code_and_level(row, values["code"], values["parent_code"], values["level"],
                              has_code="code" in columns, valid_from=valid_from)
        _check_names_and_type(row, values["name"], values["full_name"], values["type"], has_name="name" in columns)
        counts = _check_counts(row, values, columns)
        geom, repaired = None, False
        if geoms is not None:
            geom, geom_problem, repaired = _prepare_geometry(geoms[index])
            if geom_problem is not None:
                row.problems.append(geom_problem)
            if repaired:
                repaired_note = _l("hình học không hợp lệ (tự cắt…) đã được sửa tự động.")
                notes.append(f"{row.label}: {repaired_note}")
        if row.code is not None and _DIGITS.fullmatch(row.code):
            if row.code in first_row:
                row.problems.append(_l("mã trùng với dòng %(other)d.", other=first_row[row.code]))
            else:
                first_row[row.code] = row.number
        padded += row.padded
        problems.extend(row.lines())
        if not row.problems and row.code and row.level and row.type and row.name and row.full_name and geom:
            counts.update(type=row.type.value, name=row.name, full_name=row.full_name, **geometry_columns(geom))
            items.append(PlannedUnit(row=row.number, code=row.code, level=row.level, type=row.type, name=row.name,
                                     full_name=row.full_name, parent_code=row.parent_code, values=counts,
                                     repaired=repaired))
    if padded:
        notes.append(str(_l("%(n)d mã lưu dạng số đã được thêm số 0 ở đầu theo cấp (2 chữ số tỉnh, 5 chữ số xã).",
                            n=padded)))
    if not problems:
        _match(plan, items)
    return plan


def _match(plan: ImportPlan, items: list[PlannedUnit]) -> None:
    """Attach each checked feature to the unit holding its code, or plan its creation."""
    in_file = {item.code: item for item in items}
    codes = set(in_file) | {item.parent_code for item in items if item.parent_code}
    current = _current_units(codes)
    blocking = _blocking_units(set(in_file) - set(current))
    for item in items:
        label = _row_label(item.row, item.code)
        row_problems: list[Any] = []
        unit = current.get(item.code)
        if unit is not None:
            row_problems += _check_same_place(item, unit)
            item.unit_id = unit.id
            item.changes = {k: v for k, v in item.values.items() if getattr(unit, k) != v}
            item.action = "update" if item.changes else "unchanged"
            plan.problems.extend(f"{label}: {p}" for p in row_problems)
            continue
        if item.parent_code is not None:
            row_problems += _check_parent(item, in_file.get(item.parent_code), current.get(item.parent_code),
                                          plan.valid_from)
        other = blocking.get(item.code)
        if other is not None and (other.valid_to is None or other.valid_to > plan.valid_from):
            row_problems.append(_l("mã đang được đơn vị “%(name)s” dùng (hiệu lực %(start)s–%(end)s); "
                                   "không tạo được đơn vị mới từ %(day)s.", name=other.full_name,
                                   start=other.valid_from.strftime("%d/%m/%Y"),
                                   end=other.valid_to.strftime("%d/%m/%Y") if other.valid_to else "…",
                                   day=plan.valid_from.strftime("%d/%m/%Y")))
        elif other is not None:
            row_problems.append(_l("mã là mã của đơn vị đã giải thể “%(name)s” (hết hiệu lực từ %(end)s); theo "
                                   "QĐ 124/2004/QĐ-TTg, mã đã đóng không được cấp lại cho đơn vị khác.",
                                   name=other.full_name, end=other.valid_to.strftime("%d/%m/%Y")))
        plan.problems.extend(f"{label}: {p}" for p in row_problems)
    if not plan.problems:
        plan.items = sorted(items, key=lambda it: (LEVEL_ORDER[it.level], it.row))


def _check_parent(item: PlannedUnit, file_parent: PlannedUnit | None, db_parent: AdminUnit | None,
                  valid_from: date) -> list[Any]:
    """The parent of a new unit: a current unit of the level above, valid when the new unit
    starts, or a unit of the level above in the same file (created first)."""
    allowed = PARENT_LEVELS[item.level]
    if db_parent is not None:
        if UnitLevel(db_parent.level) not in allowed:
            return [_l("đơn vị cấp trên mã %(p)s (%(name)s) không phải cấp trên hợp lệ của cấp %(level)s.",
                       p=item.parent_code, name=db_parent.full_name, level=LEVEL_NAMES[item.level])]
        if not db_parent.valid_on(valid_from):
            return [_l("đơn vị cấp trên mã %(p)s chưa có hiệu lực vào ngày %(day)s.",
                       p=item.parent_code, day=valid_from.strftime("%d/%m/%Y"))]
        item.parent_id = db_parent.id
        return []
    if file_parent is not None:
        if file_parent.level not in allowed:
            return [_l("đơn vị cấp trên mã %(p)s trong tệp không phải cấp trên hợp lệ của cấp %(level)s.",
                       p=item.parent_code, level=LEVEL_NAMES[item.level])]
        return []
    return [_l("không tìm thấy đơn vị cấp trên mã %(p)s (không có trong cơ sở dữ liệu hay trong tệp).",
               p=item.parent_code)]


def _check_same_place(item: PlannedUnit, unit: AdminUnit) -> list[Any]:
    """A match corrects a unit; it may not move it to another level or parent (that is a reform)."""
    if UnitLevel(unit.level) != item.level:
        return [_l("mã đang thuộc đơn vị cấp %(old)s “%(name)s”; tệp ghi cấp %(new)s. Không đổi cấp bằng nhập tệp.",
                   old=LEVEL_NAMES[UnitLevel(unit.level)], name=unit.full_name, new=LEVEL_NAMES[item.level])]
    if item.level != UnitLevel.PROVINCE:
        parent = unit.parent
        parent_code = parent.code if parent is not None else None
        if parent_code != item.parent_code:
            return [_l("đơn vị “%(name)s” đang trực thuộc mã %(old)s, tệp ghi mã %(new)s; chuyển cấp trên là "
                       "sắp xếp đơn vị, không thực hiện bằng nhập tệp.", name=unit.full_name,
                       old=parent_code or "—", new=item.parent_code)]
    return []


# --- phase 3: applying ------------------------------------------------------------------------


def apply_plan(plan: ImportPlan, *, actor=None) -> ImportReport:
    """Create and update units as planned, provinces before communes, through the unit services
    (each change flushed and audited), plus one ``unit.import`` audit event naming the file.

    All or nothing: a plan with problems raises :class:`ImportFailed` before writing, and a row a
    service refuses rolls the whole import back (SAVEPOINT). Never commits."""
    if plan.problems:
        raise ImportFailed(plan.problems)
    report = ImportReport(source_name=plan.source_name, notes=list(plan.notes))
    touched: list[AdminUnit] = []
    with db.session.begin_nested():
        by_code: dict[str, AdminUnit] = {}
        for item in sorted(plan.items, key=lambda it: (LEVEL_ORDER[it.level], it.row)):
            try:
                unit = _apply_item(plan, item, by_code, actor)
            except DomainError as e:
                raise ImportFailed([f"{_row_label(item.row, item.code)}: {e}"]) from e
            by_code[item.code] = unit
            if item.action == "create":
                report.created += 1
                report.created_codes.append(item.code)
                touched.append(unit)
            elif item.action == "update":
                report.updated += 1
                report.updated_codes.append(item.code)
                touched.append(unit)
            else:
                report.unchanged += 1
        if touched:
            record("unit.import", object_type="import", object_id=plan.source_name[:60],
                   label=str(_l("Nhập tệp GIS %(f)s", f=plan.source_name)), unit_path=_common_path(touched),
                   after={"source": plan.source_name, "valid_from": plan.valid_from,
                          "decision_ref": plan.decision_ref, "created": report.created_codes,
                          "updated": report.updated_codes, "unchanged": report.unchanged}, actor=actor)
            db.session.flush()
    return report


def _apply_item(plan: ImportPlan, item: PlannedUnit, by_code: dict[str, AdminUnit], actor) -> AdminUnit:
    if item.action == "create":
        parent = None
        if item.parent_code is not None:
            parent = by_code.get(item.parent_code)
            if parent is None and item.parent_id is not None:
                parent = db.session.get(AdminUnit, item.parent_id)
        attrs = {k: v for k, v in item.values.items() if k not in ("name", "full_name", "type")}
        return services.create_unit(
            level=item.level, code=item.code, name=item.name, full_name=item.full_name, type=item.type.value,
            valid_from=plan.valid_from, parent=parent, decision_ref=plan.decision_ref, actor=actor, **attrs)
    unit = services.get_unit(item.unit_id)
    if item.action == "update":
        services.update_unit(unit, actor=actor, **item.changes)
    return unit


def _common_path(units: list[AdminUnit]) -> str | None:
    """The deepest path above every touched unit, so scoped users see the import in their area."""
    prefix = os.path.commonprefix([u.path for u in units])
    prefix = prefix[: prefix.rfind("/") + 1]
    return prefix if prefix not in ("", "/") else None

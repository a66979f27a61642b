"""Administrative units (effective-dated), their changes, and health facilities.

Rules (DESIGN.md §3, §5; DOMAIN.md §5):
- A unit's official code never changes while it exists; on a merger the closed codes are never
  reused (QĐ 124/2004/QĐ-TTg). So a code is unique among units valid at the same time, and a
  unit that ends is closed (``valid_to``), never deleted.
- Validity is the half-open interval ``[valid_from, valid_to)``; ``valid_to`` NULL means current.
- Hamlets (thôn, ấp, tổ dân phố…) are not an administrative level and have no official code
  (Thông tư 04/2012/TT-BNV); they carry a ``local_id`` unique within their commune.
- ``path`` is the materialised chain of ancestor ids, ``/1/7/42/``, so "everything under X" is one
  indexed prefix query on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class UnitLevel(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"  # historical only: abolished 1 July 2025
    COMMUNE = "commune"
    HAMLET = "hamlet"


class UnitType(enum.StrEnum):
    """Unit types. Hamlet types follow Thông tư 04/2012/TT-BNV (08/VBHN-BNV 2022): the "thôn"
    family is organised under a xã, the "tổ dân phố" family under a phường or thị trấn."""

    # province level
    TINH = "tinh"
    THANH_PHO_TW = "thanh_pho_tw"
    # district level (historical)
    HUYEN = "huyen"
    QUAN = "quan"
    THI_XA = "thi_xa"
    THANH_PHO_THUOC_TINH = "thanh_pho_thuoc_tinh"
    # commune level
    XA = "xa"
    PHUONG = "phuong"
    THI_TRAN = "thi_tran"
    DAC_KHU = "dac_khu"
    # hamlets under a xã / đặc khu
    THON = "thon"
    AP = "ap"
    BAN = "ban"
    LANG = "lang"
    BUON = "buon"
    BON = "bon"
    PLEI = "plei"
    PHUM = "phum"
    SOC = "soc"
    XOM = "xom"
    # hamlets under a phường / thị trấn
    TO_DAN_PHO = "to_dan_pho"
    KHU_PHO = "khu_pho"
    KHOI_PHO = "khoi_pho"
    KHOM = "khom"
    TIEU_KHU = "tieu_khu"


LEVEL_TYPES: dict[UnitLevel, frozenset[UnitType]] = {
    UnitLevel.PROVINCE: frozenset({UnitType.TINH, UnitType.THANH_PHO_TW}),
    UnitLevel.DISTRICT: frozenset(
        {UnitType.HUYEN, UnitType.QUAN, UnitType.THI_XA, UnitType.THANH_PHO_THUOC_TINH}
    ),
    UnitLevel.COMMUNE: frozenset({UnitType.XA, UnitType.PHUONG, UnitType.THI_TRAN, UnitType.DAC_KHU}),
    UnitLevel.HAMLET: frozenset(
        {
            UnitType.THON, UnitType.AP, UnitType.BAN, UnitType.LANG, UnitType.BUON, UnitType.BON,
            UnitType.PLEI, UnitType.PHUM, UnitType.SOC, UnitType.XOM, UnitType.TO_DAN_PHO,
            UnitType.KHU_PHO, UnitType.KHOI_PHO, UnitType.KHOM, UnitType.TIEU_KHU,
        }
    ),
}

# Thông tư 04/2012/TT-BNV: which hamlet types belong under which commune types.
RURAL_HAMLET_TYPES = frozenset(
    {UnitType.THON, UnitType.AP, UnitType.BAN, UnitType.LANG, UnitType.BUON, UnitType.BON,
     UnitType.PLEI, UnitType.PHUM, UnitType.SOC, UnitType.XOM}
)
URBAN_HAMLET_TYPES = frozenset(
    {UnitType.TO_DAN_PHO, UnitType.KHU_PHO, UnitType.KHOI_PHO, UnitType.KHOM, UnitType.TIEU_KHU}
)
HAMLET_TYPES_UNDER: dict[UnitType, frozenset[UnitType]] = {
    UnitType.XA: RURAL_HAMLET_TYPES,
    UnitType.DAC_KHU: RURAL_HAMLET_TYPES | URBAN_HAMLET_TYPES,
    UnitType.PHUONG: URBAN_HAMLET_TYPES,
    UnitType.THI_TRAN: URBAN_HAMLET_TYPES,
}

# Realistic ceilings for the figures recorded on a unit (issue #9 item 2), stated once and applied
# by forms, services and importers: far above any real unit (the largest hamlets have a few
# thousand households; Hồ Chí Minh City about 14 million people on 6,800 km²), low enough that a
# typo of extra digits is caught and sums over a province never overflow.
FIGURE_LIMITS: dict[UnitLevel, dict[str, int | float]] = {
    UnitLevel.HAMLET: {"households": 20_000, "population": 100_000, "area_km2": 5_000.0},
    UnitLevel.COMMUNE: {"households": 1_000_000, "population": 5_000_000, "area_km2": 20_000.0},
    UnitLevel.DISTRICT: {"households": 2_000_000, "population": 10_000_000, "area_km2": 30_000.0},
    UnitLevel.PROVINCE: {"households": 10_000_000, "population": 30_000_000, "area_km2": 50_000.0},
}

_LEVELS_SQL = ", ".join(f"'{lv.value}'" for lv in UnitLevel)
_TYPES_SQL = ", ".join(f"'{t.value}'" for t in UnitType)


class AdminUnit(db.Model):
    __tablename__ = "admin_unit"
    __table_args__ = (
        CheckConstraint(f"level IN ({_LEVELS_SQL})", name="level_known"),
        CheckConstraint(f"type IN ({_TYPES_SQL})", name="type_known"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("households IS NULL OR households >= 0", name="households_nonneg"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_nonneg"),
        CheckConstraint(
            "(level = 'hamlet' AND code IS NULL AND local_id IS NOT NULL) OR "
            "(level <> 'hamlet' AND code IS NOT NULL)",
            name="code_or_local_id",
        ),
        CheckConstraint("(level = 'province') = (parent_id IS NULL)", name="only_provinces_are_roots"),
        # A code is unique among current units; overlap of closed intervals is checked by services.
        Index(
            "uq_admin_unit_current_code", "code", unique=True,
            sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL"),
        ),
        Index(
            "uq_admin_unit_current_local_id", "parent_id", "local_id", unique=True,
            sqlite_where=text("valid_to IS NULL AND local_id IS NOT NULL"),
            postgresql_where=text("valid_to IS NULL AND local_id IS NOT NULL"),
        ),
        # text_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' under any collation.
        Index("ix_admin_unit_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
        Index("ix_admin_unit_parent_valid", "parent_id", "valid_from", "valid_to"),
        Index("ix_admin_unit_code", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(10))
    local_id: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(250))
    search_text: Mapped[str] = mapped_column(String(500), default="", index=True)
    level: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(30))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    path: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(200))
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    is_difficult: Mapped[bool] = mapped_column(default=False)
    is_ethnic_minority: Mapped[bool] = mapped_column(default=False)
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    area_km2: Mapped[float | None] = mapped_column(Float)
    geom_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)
    geom_simplified_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The simplified geometry as GeoJSON text, ready for the map layers (units/spatial.py); never
    # loaded with the unit.
    geom_simplified_geojson: Mapped[str | None] = mapped_column(Text, deferred=True)
    bbox_minx: Mapped[float | None] = mapped_column(Float)
    bbox_miny: Mapped[float | None] = mapped_column(Float)
    bbox_maxx: Mapped[float | None] = mapped_column(Float)
    bbox_maxy: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[AdminUnit]] = relationship(back_populates="parent")

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent (the path without this unit)."""
        return [int(p) for p in self.path.strip("/").split("/") if p][:-1]

    @property
    def has_geometry(self) -> bool:
        return self.geom_wkb is not None

    @property
    def display_code(self) -> str:
        return self.code or self.local_id or ""

    def __repr__(self) -> str:
        return f"<AdminUnit {self.id} {self.level} {self.display_code} {self.name!r}>"


unit_change_source = Table(
    "unit_change_source",
    db.metadata,
    Column("change_id", ForeignKey("unit_change.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("admin_unit.id", ondelete="RESTRICT"), primary_key=True),
)
unit_change_target = Table(
    "unit_change_target",
    db.metadata,
    Column("change_id", ForeignKey("unit_change.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("admin_unit.id", ondelete="RESTRICT"), primary_key=True),
)


class UnitChangeKind(enum.StrEnum):
    MERGE = "merge"
    SPLIT = "split"
    RENAME = "rename"
    REPARENT = "reparent"
    CREATE = "create"
    CLOSE = "close"


_CHANGE_KINDS_SQL = ", ".join(f"'{k.value}'" for k in UnitChangeKind)


class UnitChange(db.Model):
    """How units succeed each other across a reform (merge, split, rename, …), with its legal act.

    On a merger the new unit keeps the code of the unit holding the new seat; the others are
    closed and their codes never reused (QĐ 124/2004/QĐ-TTg)."""

    __tablename__ = "unit_change"
    __table_args__ = (CheckConstraint(f"kind IN ({_CHANGE_KINDS_SQL})", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date, index=True)
    decision_ref: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    sources: Mapped[list[AdminUnit]] = relationship(secondary=unit_change_source)
    targets: Mapped[list[AdminUnit]] = relationship(secondary=unit_change_target)


class FacilityKind(enum.StrEnum):
    DEPARTMENT = "department"  # Sở Y tế / Chi cục Dân số
    HEALTH_CENTRE = "health_centre"  # Trung tâm Y tế khu vực (formerly huyện)
    STATION = "station"  # Trạm Y tế xã/phường/đặc khu


_FACILITY_KINDS_SQL = ", ".join(f"'{k.value}'" for k in FacilityKind)


class Facility(db.Model):
    """A health institution in the supervision chain: Department → area health centres →
    one commune health station per commune (DESIGN.md §5; DOMAIN.md §6)."""

    __tablename__ = "facility"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_FACILITY_KINDS_SQL})", name="kind_known"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("(kind = 'department') = (parent_id IS NULL)", name="only_department_is_root"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(250))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(30))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(200))

    unit: Mapped[AdminUnit] = relationship()
    parent: Mapped[Facility | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Facility]] = relationship(back_populates="parent")
    service_areas: Mapped[list[ServiceArea]] = relationship(
        back_populates="facility", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Facility {self.code} {self.kind}>"


class ServiceArea(db.Model):
    """Which units a facility serves, and from when. A station serves one commune; a centre many."""

    __tablename__ = "service_area"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        Index(
            "uq_service_area_current", "facility_id", "unit_id", unique=True,
            sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    facility: Mapped[Facility] = relationship(back_populates="service_areas")
    unit: Mapped[AdminUnit] = relationship()

"""A commune's annual targets for its collaborator network, effective-dated (issue #11 item 4).

District plans implementing Resolution 21-NQ/TW (25/10/2017, population work in the new situation)
assign each commune yearly targets; after the 2025 reform the area health centre (or the provincial
Department of Health) does. A :class:`CommuneTarget` row is one *version* of a commune's targets for
one year, in force ``valid_from`` ≤ d < ``valid_to`` (NULL: still in force). Changing a target
closes the version in force and opens a new one, so the earlier one stays for history.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db
from ..units.models import AdminUnit, Facility

# Bounds of every number (checked by the services, the forms and the database alike).
MIN_YEAR = 2021  # Thông tư 02/2021/TT-BYT (the collaborators' network) is in force from 10/3/2021
MAX_YEAR = 2100
MAX_COUNT = 9999  # collaborators trained, visits: far above any commune (~100 collaborators)
MAX_PCT = 100
MAX_COUNT_SHOWN = format(MAX_COUNT, ",").replace(",", ".")  # "9.999", as Vietnamese write it


class TargetKind(enum.StrEnum):
    """The four targets, named like their columns."""

    HAMLETS_COVERED_PCT = "hamlets_covered_pct"  # % of hamlets with collaborators at the quota
    COLLABORATORS_TRAINED = "collaborators_trained"  # collaborators who completed a course in the year
    SUPERVISION_VISITS = "supervision_visits"  # supervision visits in the commune in the year
    MEETING_ATTENDANCE_PCT = "meeting_attendance_pct"  # % attended of the monthly meetings' sheet rows

    @property
    def is_pct(self) -> bool:
        return self in (TargetKind.HAMLETS_COVERED_PCT, TargetKind.MEETING_ATTENDANCE_PCT)


TARGET_KINDS = tuple(TargetKind)
SETTER_ROLES = ("province_admin", "centre_officer")


def _bounded(column: str, high: int) -> CheckConstraint:
    return CheckConstraint(f"{column} IS NULL OR ({column} >= 0 AND {column} <= {high})", name=f"{column}_range")


class CommuneTarget(db.Model):
    """One version of a commune's targets for ``year``. A target left NULL is not set (and not
    judged). ``set_by_role`` and ``set_by_facility_id`` / ``set_by_unit_id``: the grant under which
    the version was set (the centre, or the Department / the province), which decides who may
    replace it (:mod:`.permissions`). ``is_illustrative``: demo data, no plan of the province seen
    (pages label it "Minh hoạ — chưa có văn bản", issue #9 item 13)."""

    __tablename__ = "commune_target"
    __table_args__ = (
        CheckConstraint(f"year >= {MIN_YEAR} AND year <= {MAX_YEAR}", name="year_range"),
        _bounded("hamlets_covered_pct", MAX_PCT),
        _bounded("collaborators_trained", MAX_COUNT),
        _bounded("supervision_visits", MAX_COUNT),
        _bounded("meeting_attendance_pct", MAX_PCT),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("set_by_role IS NULL OR set_by_role IN ('province_admin', 'centre_officer')",
                        name="set_by_role_known"),
        CheckConstraint("set_by_facility_id IS NULL OR set_by_unit_id IS NULL", name="set_by_facility_or_unit"),
        UniqueConstraint("commune_id", "year", "valid_from", name="uq_commune_target_version"),
        Index("uq_commune_target_open", "commune_id", "year", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
        Index("ix_commune_target_year_commune", "year", "commune_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    hamlets_covered_pct: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    collaborators_trained: Mapped[int | None] = mapped_column(Integer)
    supervision_visits: Mapped[int | None] = mapped_column(Integer)
    meeting_attendance_pct: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(300))  # the plan, e.g. "KH 123/KH-TTYT"
    note: Mapped[str | None] = mapped_column(Text)
    is_illustrative: Mapped[bool] = mapped_column(default=False, server_default=false())
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    set_by_role: Mapped[str | None] = mapped_column(String(30))
    set_by_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    set_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    commune: Mapped[AdminUnit] = relationship(foreign_keys=[commune_id])
    set_by_facility: Mapped[Facility | None] = relationship()
    set_by_unit: Mapped[AdminUnit | None] = relationship(foreign_keys=[set_by_unit_id])
    set_by: Mapped[User | None] = relationship()

    def value(self, kind: TargetKind | str):
        return getattr(self, TargetKind(kind).value)

    @property
    def setter_name(self) -> str | None:
        """The office that set the version (the centre, the Department, or the unit of the grant)."""
        if self.set_by_facility is not None:
            return self.set_by_facility.name
        return self.set_by_unit.full_name if self.set_by_unit is not None else None

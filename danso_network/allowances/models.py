"""Allowance rules and the base salary: effective-dated data set by the provincial People's Council
(DOMAIN.md §3.3)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, Numeric, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..collaborators.models import _sql_in
from ..extensions import db
from ..units.models import AdminUnit


class AllowanceBasis(enum.StrEnum):
    FIXED = "fixed"  # a fixed amount in đồng per month (e.g. 450,000 đ, Quảng Ngãi NQ 35/2021)
    COEFFICIENT = "coefficient"  # coefficient × lương cơ sở (e.g. 0.25 × base salary, Bình Phước draft 2022)


class CommuneCategory(enum.StrEnum):
    """The commune types allowance resolutions distinguish (TP HCM NQ 33/2025: phường / xã, đặc khu)."""

    XA = "xa"  # xã (and the former thị trấn)
    PHUONG = "phuong"
    DAC_KHU = "dac_khu"


class Zone(enum.StrEnum):
    DIFFICULT = "difficult"  # hamlet marked especially difficult or ethnic-minority
    NORMAL = "normal"


class BaseSalary(db.Model):
    """The national base salary (lương cơ sở), effective-dated: e.g. 2,340,000 đ from 1/7/2024
    (NĐ 73/2024/NĐ-CP)."""

    __tablename__ = "base_salary"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class AllowanceRule(db.Model):
    """One line of a province's allowance resolution (nghị quyết HĐND), valid ``valid_from`` ≤ d <
    ``valid_to``. A NULL condition matches every case; where several rules match, the one with the
    most conditions wins. Two rules for the same case (same four conditions) may not overlap in
    time (DOMAIN.md §3.3: allowances are province-configurable data).

    ``family_children_duty``: for collaborators holding (True) or not holding (False) the duty
    "kiêm công tác gia đình và trẻ em" during the month (collaborators.models.CollaboratorDuty;
    Đồng Nai used that title drafting its 2021–2030 resolution, DOMAIN.md §0.4 and §8.7: the
    amounts are not verified)."""

    __tablename__ = "allowance_rule"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint(f"basis IN ({_sql_in(AllowanceBasis)})", name="basis_known"),
        CheckConstraint(f"commune_category IS NULL OR commune_category IN ({_sql_in(CommuneCategory)})",
                        name="commune_category_known"),
        CheckConstraint(f"zone IS NULL OR zone IN ({_sql_in(Zone)})", name="zone_known"),
        CheckConstraint("(basis = 'fixed' AND amount IS NOT NULL AND amount >= 0 AND coefficient IS NULL) OR "
                        "(basis = 'coefficient' AND coefficient IS NOT NULL AND coefficient >= 0 AND amount IS NULL)",
                        name="basis_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    commune_category: Mapped[str | None] = mapped_column(String(20))
    zone: Mapped[str | None] = mapped_column(String(20))
    vhw_concurrent: Mapped[bool | None] = mapped_column()
    family_children_duty: Mapped[bool | None] = mapped_column()
    basis: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int | None] = mapped_column(Integer)
    coefficient: Mapped[Decimal | None] = mapped_column(Numeric(6, 4))
    legal_basis: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    # True: no document of the province was seen for it (demo data, a model borrowed from another
    # province): pages label it "Minh hoạ — chưa có văn bản" (issue #9 item 13).
    is_illustrative: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    province: Mapped[AdminUnit] = relationship()

"""Users and role grants.

A :class:`RoleGrant` gives a role at a unit or at a facility, for a dated period. A grant covers
its unit and everything below it; a grant at a facility covers the units the facility serves.
A user without a current grant sees nothing (fail-closed, DESIGN.md §4 rule 6).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..units.models import AdminUnit, Facility


class Role(enum.StrEnum):
    PROVINCE_ADMIN = "province_admin"  # Sở Y tế / Chi cục Dân số: rules, settings, everything in the province
    CENTRE_OFFICER = "centre_officer"  # Trung tâm Y tế khu vực: the communes the centre serves
    STATION_HEAD = "station_head"  # Trạm trưởng / Giám đốc trạm y tế: one commune
    STATION_OFFICER = "station_officer"  # viên chức dân số at the station: one commune
    VIEWER = "viewer"  # read-only, at any unit
    COMMUNE_COMMITTEE = "commune_committee"  # UBND xã: reads, and confirms approvals where the province says so


_ROLES_SQL = ", ".join(f"'{r.value}'" for r in Role)
EDITING_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.CENTRE_OFFICER, Role.STATION_HEAD, Role.STATION_OFFICER})


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped when the password changes, so existing sessions, remember-me cookies and API tokens die.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped on logout, so a copied session or remember-me cookie dies with it (API tokens live on).
    login_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A password somebody else chose (a one-time password from the accounts import, one set by an
    # administrator) must be replaced by the user before anything else (web.py ``password_first``).
    password_must_change: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    grants: Mapped[list[RoleGrant]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active

    def get_id(self) -> str:
        """What the session and the remember-me cookie carry: the id and both versions, so that
        a password change or a logout ends them on the server (web.py ``load_user``)."""
        return f"{self.id}:{self.session_version}:{self.login_version or 1}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleGrant(db.Model):
    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLES_SQL})", name="role_known"),
        CheckConstraint("(facility_id IS NULL) <> (unit_id IS NULL)", name="facility_xor_unit"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="grants")
    facility: Mapped[Facility | None] = relationship()
    unit: Mapped[AdminUnit | None] = relationship()

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)

"""Recruitment: versioned criteria sets, candidates, applications with their event log,
attachments and recognition decisions (issue #3; DOMAIN.md §1, §2, §7.1, §7.2)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..units.models import AdminUnit, Facility
from .workflow import Approver, State

_STATES_SQL = ", ".join(f"'{s.value}'" for s in State)
_APPROVERS_SQL = ", ".join(f"'{a.value}'" for a in Approver)


class Education(enum.StrEnum):
    """Highest schooling completed, in order. TT 02/2021/TT-BYT Art. 2.1 asks for THCS."""

    NONE = "none"
    PRIMARY = "primary"  # hoàn thành chương trình tiểu học
    LOWER_SECONDARY = "lower_secondary"  # tốt nghiệp THCS
    UPPER_SECONDARY = "upper_secondary"  # tốt nghiệp THPT
    VOCATIONAL = "vocational"  # trung cấp
    COLLEGE = "college"  # cao đẳng, đại học trở lên

    @property
    def rank(self) -> int:
        return list(Education).index(self)


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class CriteriaSet(db.Model):
    """One version of a province's recruitment rules. A new version never changes an old one:
    applications keep the version they were screened with."""

    __tablename__ = "criteria_set"
    __table_args__ = (
        UniqueConstraint("province_id", "version", name="uq_criteria_set_province_version"),
        CheckConstraint(f"approver IN ({_APPROVERS_SQL})", name="approver_known"),
        CheckConstraint("min_age >= 0 AND (max_age IS NULL OR max_age > min_age)", name="age_range"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(300))
    # Quota bands by households: [[upper bound or null, collaborators], ...], ascending.
    quota_bands: Mapped[list] = mapped_column(JSON)
    quota_preset: Mapped[str] = mapped_column(String(30))
    approver: Mapped[str] = mapped_column(String(40))
    min_age: Mapped[int] = mapped_column(Integer, default=18)
    max_age: Mapped[int | None] = mapped_column(Integer)  # extension, off (NULL) by default
    min_residence_months: Mapped[int | None] = mapped_column(Integer)  # extension, off by default
    single_active_assignment: Mapped[bool] = mapped_column(default=True)
    allow_override: Mapped[bool] = mapped_column(default=False)
    # Rule codes switched on, automatic and manual (priority flags are always shown).
    enabled_rules: Mapped[list] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    # True: no document of the province was seen for it (demo data, a model borrowed from another
    # province): pages label it "Minh hoạ — chưa có văn bản" (issue #9 item 13).
    is_illustrative: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    province: Mapped[AdminUnit] = relationship()


class Candidate(db.Model):
    """A person proposed as collaborator. The national ID (CCCD, 12 digits) is unique."""

    __tablename__ = "candidate"
    __table_args__ = (
        CheckConstraint("length(national_id) = 12", name="national_id_length"),
        CheckConstraint("sex IN ('female', 'male')", name="sex_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    search_text: Mapped[str] = mapped_column(String(300), index=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    ethnicity: Mapped[str] = mapped_column(String(60))
    national_id: Mapped[str] = mapped_column(String(12), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    residence_hamlet_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    resident_since: Mapped[date | None] = mapped_column(Date)
    education: Mapped[str] = mapped_column(String(30))
    is_village_health_worker: Mapped[bool] = mapped_column(default=False)
    languages: Mapped[str | None] = mapped_column(String(200))  # e.g. "S'tiêng, Việt"
    speaks_local_language: Mapped[bool] = mapped_column(default=False)
    prior_experience: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    residence_hamlet: Mapped[AdminUnit] = relationship()
    applications: Mapped[list[Application]] = relationship(back_populates="candidate")


DOSSIER_ITEMS = ("application_letter", "id_card", "education_proof", "health_evidence", "endorsement")


class Application(db.Model):
    """A candidate's application for one hamlet, moving through :mod:`workflow`. ``version``
    guards against two people acting on it at once (optimistic locking)."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint(f"state IN ({_STATES_SQL})", name="state_known"),
        # A rejection always has its reason; an override always has its written reason.
        CheckConstraint("state <> 'rejected' OR rejection_reason IS NOT NULL", name="rejection_has_reason"),
        Index("ix_application_hamlet_state", "hamlet_id", "state"),
        # The list's order (newest change first): the database reads a page without sorting them all.
        Index("ix_application_updated", "updated_at", "id"),
        # The scoped lists' count and counts by state, read from the index alone; text_pattern_ops
        # lets PostgreSQL use it for LIKE 'prefix%' under any collation.
        Index("ix_application_path_state", "hamlet_path", "state", postgresql_ops={"hamlet_path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="RESTRICT"), index=True)
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    hamlet_path: Mapped[str] = mapped_column(String(200), index=True)  # for scoped lists
    state: Mapped[str] = mapped_column(String(30), default=State.NOMINATED.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    nominated_by: Mapped[str | None] = mapped_column(String(200))  # hamlet head, meeting, self
    # Dossier (hồ sơ): which documents are on file, and when the voluntary application was signed.
    dossier: Mapped[dict] = mapped_column(JSON, default=dict)
    application_signed_on: Mapped[date | None] = mapped_column(Date)
    exception_justification: Mapped[str | None] = mapped_column(Text)
    # Screening (stored with the criteria version used, never recomputed).
    criteria_set_id: Mapped[int | None] = mapped_column(ForeignKey("criteria_set.id", ondelete="RESTRICT"))
    screening: Mapped[list | None] = mapped_column(JSON)
    screening_passed: Mapped[bool | None] = mapped_column()
    screened_on: Mapped[date | None] = mapped_column(Date)
    override_reason: Mapped[str | None] = mapped_column(Text)
    # Station review.
    manual_checks: Mapped[dict | None] = mapped_column(JSON)
    ranking: Mapped[int | None] = mapped_column(Integer)
    review_note: Mapped[str | None] = mapped_column(Text)
    # Decision, contract, activation.
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_decision.id", ondelete="RESTRICT"),
                                                    index=True)
    contract_number: Mapped[str | None] = mapped_column(String(60))
    contract_date: Mapped[date | None] = mapped_column(Date)
    allowance_tier: Mapped[str | None] = mapped_column(String(60))
    activated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    candidate: Mapped[Candidate] = relationship(back_populates="applications")
    hamlet: Mapped[AdminUnit] = relationship()
    criteria_set: Mapped[CriteriaSet | None] = relationship()
    decision: Mapped[RecognitionDecision | None] = relationship(back_populates="applications")
    events: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.id", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def overridden(self) -> bool:
        return bool(self.override_reason)


class ApplicationEvent(db.Model):
    """Append-only log of an application's steps: the timeline (who, when, what, comment)."""

    __tablename__ = "application_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict | None] = mapped_column(JSON)

    application: Mapped[Application] = relationship(back_populates="events")


class Attachment(db.Model):
    """A scanned dossier document, stored outside the web root and served only to users in scope."""

    __tablename__ = "attachment"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    application: Mapped[Application] = relationship(back_populates="attachments")


class RecognitionDecision(db.Model):
    """Quyết định công nhận cộng tác viên dân số: one number per issuer and year, covering the
    approved applications of a batch (Quảng Ngãi: TTYT Minh Long, 24/6/2022)."""

    __tablename__ = "recognition_decision"
    __table_args__ = (
        UniqueConstraint("province_id", "year", "number", name="uq_recognition_decision_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    issuer_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id", ondelete="RESTRICT"))
    issuer_name: Mapped[str] = mapped_column(String(250))
    number: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200))
    scope_path: Mapped[str] = mapped_column(String(200), index=True)  # the area it covers, for scoping
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    issuer_facility: Mapped[Facility | None] = relationship()
    applications: Mapped[list[Application]] = relationship(back_populates="decision",
                                                           order_by="Application.id")

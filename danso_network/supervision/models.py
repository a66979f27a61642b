"""Supervision visits, professional-direction links and monthly meetings (issue #4; DOMAIN.md §6,
§7.3; TT 01/2022/TT-BYT for the P0 slip handed in at the monthly meeting)."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..collaborators.models import Collaborator, path_index
from ..extensions import db
from ..units.models import AdminUnit


class ChecklistItem(enum.StrEnum):
    """The visit checklist, each item one of the collaborator's duties (TT 02/2021/TT-BYT Art. 3;
    TT 01/2022/TT-BYT; DOMAIN.md §7.3)."""

    COMMUNICATION = "communication"  # communication and mobilisation with the VHW and other collaborators
    COUNSELLING = "counselling"  # direct counselling of households, logged
    REGISTER_UP_TO_DATE = "register_up_to_date"  # Sổ A0 held and updated within a month
    P0_SUBMITTED = "p0_submitted"  # P0/CTV slip handed in at the last monthly meeting
    MEETING_ATTENDED = "meeting_attended"  # attended the last monthly meeting
    CONTRACEPTIVE_STOCK = "contraceptive_stock"  # condom / pill stock and distribution log present
    HOUSEHOLD_SAMPLE = "household_sample"  # a sample of households matches Sổ A0
    TRAINING_ATTENDED = "training_attended"  # required training attended
    REFERRALS_MADE = "referrals_made"  # cases detected and referred to the station


class LinkKind(enum.StrEnum):
    """Commune officers who also direct collaborators professionally (Đồng Nai KH 14676/KH-UBND,
    2021): labour–invalids–social affairs and culture–sports."""

    LABOUR_SOCIAL = "labour_social"  # công chức Lao động – Thương binh và Xã hội
    CULTURE_SPORTS = "culture_sports"  # công chức Văn hoá – Thể thao


class SupervisionVisit(db.Model):
    __tablename__ = "supervision_visit"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint("follow_up_due IS NULL OR follow_up_due >= visited_on", name="follow_up_after_visit"),
        CheckConstraint("follow_up_closed_on IS NULL OR follow_up_closed_on >= visited_on",
                        name="closed_after_visit"),
        Index("ix_supervision_visit_collaborator_date", "collaborator_id", "visited_on"),
        # A commune's visits of a period (targets: actual figures of the home dashboard, issue #14 load test).
        Index("ix_supervision_visit_hamlet_date", "hamlet_id", "visited_on"),
        path_index("supervision_visit", "hamlet_path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"))
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    hamlet_path: Mapped[str] = mapped_column(String(200))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    visited_on: Mapped[date] = mapped_column(Date)
    # {item: true | false | null (not checked)}, items from ChecklistItem.
    checklist: Mapped[dict] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)  # share of checked items passed, in percent
    findings: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    follow_up_due: Mapped[date | None] = mapped_column(Date)
    follow_up_closed_on: Mapped[date | None] = mapped_column(Date)
    follow_up_result: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    collaborator: Mapped[Collaborator] = relationship()
    hamlet: Mapped[AdminUnit] = relationship()
    supervisor: Mapped[User] = relationship()


class ProfessionalLink(db.Model):
    """Who, in a commune, directs collaborators professionally besides the station, and from when.
    A new holder closes the previous link of the same kind on the day they start."""

    __tablename__ = "professional_link"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint("kind IN ('labour_social', 'culture_sports')", name="kind_known"),
        Index("uq_professional_link_open", "commune_id", "kind", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    person_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    legal_basis: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    commune: Mapped[AdminUnit] = relationship()


class MonthlyMeeting(db.Model):
    """The station's monthly collaborators' meeting (giao ban), where each collaborator reports
    and hands in the P0/CTV slip (TT 02/2021 Art. 3; TT 01/2022/TT-BYT). ``month`` is the first
    day of the month."""

    __tablename__ = "monthly_meeting"
    __table_args__ = (
        UniqueConstraint("commune_id", "month", name="uq_monthly_meeting_commune_month"),
        CheckConstraint("held_on >= month", name="held_in_or_after_month"),
        path_index("monthly_meeting", "commune_path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    commune_path: Mapped[str] = mapped_column(String(200))
    month: Mapped[date] = mapped_column(Date)
    held_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    commune: Mapped[AdminUnit] = relationship()
    attendances: Mapped[list[MeetingAttendance]] = relationship(back_populates="meeting",
                                                                 cascade="all, delete-orphan")


class MeetingAttendance(db.Model):
    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "collaborator_id", name="uq_meeting_attendance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("monthly_meeting.id", ondelete="CASCADE"), index=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"), index=True)
    attended: Mapped[bool] = mapped_column(default=False)
    p0_submitted: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(300))

    meeting: Mapped[MonthlyMeeting] = relationship(back_populates="attendances")
    collaborator: Mapped[Collaborator] = relationship()

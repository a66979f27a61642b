"""Collaborators (the person once appointed) and their dated assignments to hamlets.

History is append-only: an assignment is closed (``ended_on``) and a new one opened, never edited
in place (DESIGN.md §4 rule 5). The database keeps the invariants it can: one open assignment of a
person to a hamlet; an end never before the start.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..recruitment.models import Application, Candidate, RecognitionDecision
from ..units.models import AdminUnit


class Collaborator(db.Model):
    __tablename__ = "collaborator"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="RESTRICT"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), unique=True)
    activated_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    candidate: Mapped[Candidate] = relationship()
    application: Mapped[Application] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="collaborator",
                                                         order_by="Assignment.started_on")

    @property
    def full_name(self) -> str:
        return self.candidate.full_name


class Assignment(db.Model):
    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="end_after_start"),
        Index("uq_assignment_open", "collaborator_id", "hamlet_id", unique=True,
              sqlite_where=text("ended_on IS NULL"), postgresql_where=text("ended_on IS NULL")),
        Index("ix_assignment_hamlet_dates", "hamlet_id", "started_on", "ended_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"), index=True)
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_decision.id", ondelete="RESTRICT"))
    allowance_tier: Mapped[str | None] = mapped_column(String(60))

    collaborator: Mapped[Collaborator] = relationship(back_populates="assignments")
    hamlet: Mapped[AdminUnit] = relationship()
    decision: Mapped[RecognitionDecision | None] = relationship()

"""Training courses and attendance (TT 02/2021/TT-BYT Art. 2.1 and Art. 3)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..collaborators.models import path_index
from ..extensions import db
from ..recruitment.models import Candidate
from ..textnorm import fold
from ..units.models import AdminUnit


def course_search_text(title: str | None, organiser: str | None) -> str:
    """What :attr:`TrainingCourse.search_text` holds: the folded title and organiser on two lines,
    so a search never matches across them (a folded query has no line break)."""
    return f"{fold(title)}\n{fold(organiser)}"


class TrainingCourse(db.Model):
    """A course (lớp tập huấn). ``is_population_work`` marks the population-work training that a
    collaborator chosen under the primary-school exception must complete before starting
    (TT 02/2021/TT-BYT Art. 2.1). ``unit`` is the area that organises it (scope)."""

    __tablename__ = "training_course"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("hours > 0", name="hours_positive"),
        path_index("training_course", "unit_path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    unit_path: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    organiser: Mapped[str] = mapped_column(String(300))
    # The title and organiser folded (no diacritics, lower case), one per line: the course search
    # runs in SQL ("tap huan" finds "Tập huấn"). Written by the services with every change.
    search_text: Mapped[str] = mapped_column(String(700), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    is_population_work: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    unit: Mapped[AdminUnit] = relationship()
    attendances: Mapped[list[TrainingAttendance]] = relationship(back_populates="course")


class TrainingAttendance(db.Model):
    """A person on a course. Keyed by the candidate (the person), so training taken before
    appointment counts too."""

    __tablename__ = "training_attendance"
    __table_args__ = (UniqueConstraint("course_id", "candidate_id", name="uq_training_attendance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_course.id", ondelete="RESTRICT"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="RESTRICT"), index=True)
    completed: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    course: Mapped[TrainingCourse] = relationship(back_populates="attendances")
    candidate: Mapped[Candidate] = relationship()

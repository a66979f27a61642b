"""Collaborators (the person once appointed), their dated assignments to hamlets, suspensions,
the hand-over of the household register, the province's network policy, allowance rules with the
base salary, and training (issue #4; DOMAIN.md §3, §7.2; DESIGN.md §5).

History is append-only: an assignment is closed (``ended_on``) and a new one opened, never edited
in place (DESIGN.md §4 rule 5). Dates are half-open like units: an assignment started on S and
ended on E is in force on every day S ≤ d < E, so a transfer closes one and opens the next on the
same day. The database keeps the invariants it can: one open assignment of a person to a hamlet,
one open suspension per person, an end never before the start, a reason for every end.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
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
    text,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from ..extensions import db
from ..recruitment.models import Application, Candidate, RecognitionDecision
from ..units.models import AdminUnit


def _sql_in(enum_cls) -> str:
    return ", ".join(f"'{m.value}'" for m in enum_cls)


def path_index(table: str, column: str) -> Index:
    """An index for ``column LIKE 'prefix%'`` (scope filters); text_pattern_ops makes PostgreSQL
    use it under any collation."""
    return Index(f"ix_{table}_{column}", column, postgresql_ops={column: "text_pattern_ops"})


def _open_index(name: str, *columns: str, where: str = "ended_on IS NULL") -> Index:
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class EndReason(enum.StrEnum):
    """Why an assignment ended (DOMAIN.md §7.2 proposes the reasons; the circular sets none)."""

    RESIGNED = "resigned"  # xin nghỉ
    MOVED_OUT = "moved_out"  # chuyển khỏi thôn (no longer meets TT 02/2021 Art. 2.2)
    HEALTH = "health"  # sức khoẻ không đảm bảo (Art. 2.4)
    NON_PERFORMANCE = "non_performance"  # không hoàn thành nhiệm vụ
    CONTRACT_ENDED = "contract_ended"  # hết hạn hợp đồng
    HAMLET_MERGED = "hamlet_merged"  # thôn sáp nhập
    DECEASED = "deceased"  # từ trần
    TRANSFERRED = "transferred"  # điều chuyển sang thôn khác (set by a transfer, not chosen)
    COVER_ENDED = "cover_ended"  # thôi kiêm nhiệm thêm thôn (an additional hamlet only)
    UNIT_REORGANISED = "unit_reorganised"  # đơn vị hành chính sắp xếp lại (set by a reform, not chosen)


# The reasons a user picks when terminating; the others are written by a transfer, the end of a
# cover and an administrative reform (units.reforms), which continue the service elsewhere.
TERMINATION_REASONS = tuple(r for r in EndReason
                            if r not in (EndReason.TRANSFERRED, EndReason.COVER_ENDED, EndReason.UNIT_REORGANISED))


class AssignmentKind(enum.StrEnum):
    PRIMARY = "primary"  # the collaborator's own hamlet
    ADDITIONAL = "additional"  # kiêm nhiệm thêm một thôn, where the province allows it


class Collaborator(db.Model):
    __tablename__ = "collaborator"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="RESTRICT"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="RESTRICT"), unique=True)
    activated_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The day of the latest supervision visit, kept by supervision.services.record_visit (visits
    # are never dated in the future, edited or deleted, so it is their maximum): the overdue list
    # then tests a national network without reading 300,000 visits. NULL: never visited.
    last_visited_on: Mapped[date | None] = mapped_column(Date)

    candidate: Mapped[Candidate] = relationship()
    application: Mapped[Application] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(back_populates="collaborator",
                                                         order_by="Assignment.started_on")
    suspensions: Mapped[list[Suspension]] = relationship(back_populates="collaborator",
                                                         order_by="Suspension.started_on")

    @property
    def full_name(self) -> str:
        return self.candidate.full_name


class Assignment(db.Model):
    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="end_after_start"),
        CheckConstraint("(ended_on IS NULL) = (end_reason IS NULL)", name="end_has_reason"),
        CheckConstraint(f"end_reason IS NULL OR end_reason IN ({_sql_in(EndReason)})", name="end_reason_known"),
        CheckConstraint(f"kind IN ({_sql_in(AssignmentKind)})", name="kind_known"),
        _open_index("uq_assignment_open", "collaborator_id", "hamlet_id"),
        Index("ix_assignment_hamlet_dates", "hamlet_id", "started_on", "ended_on"),
        # text_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' under any collation.
        Index("ix_assignment_path_dates", "hamlet_path", "started_on", "ended_on",
              postgresql_ops={"hamlet_path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"), index=True)
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"))
    # The hamlet's path, copied (a unit's path never changes): scope filters need no join.
    hamlet_path: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default=AssignmentKind.PRIMARY.value)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    end_note: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("recognition_decision.id", ondelete="RESTRICT"))
    decision_ref: Mapped[str | None] = mapped_column(String(200))  # e.g. the transfer decision's number
    allowance_tier: Mapped[str | None] = mapped_column(String(60))
    # A transfer to a hamlet the collaborator does not live in: the written justification of the
    # exception to TT 02/2021/TT-BYT Art. 2.2 (lives in the hamlet served), flagged on the profile
    # and the roster. NULL: no exception (they live there, or moved there with the transfer).
    residence_exception: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    collaborator: Mapped[Collaborator] = relationship(back_populates="assignments")
    hamlet: Mapped[AdminUnit] = relationship()
    decision: Mapped[RecognitionDecision | None] = relationship()

    def open_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)


class Suspension(db.Model):
    """A dated pause (tạm đình chỉ): the collaborator keeps the hamlet but is not active and is
    not paid for those days. Reinstating closes it."""

    __tablename__ = "suspension"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="end_after_start"),
        _open_index("uq_suspension_open", "collaborator_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    end_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    collaborator: Mapped[Collaborator] = relationship(back_populates="suspensions")

    def open_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)


class RegisterHandover(db.Model):
    """The household register (Sổ A0, TT 01/2022/TT-BYT) of a hamlet left without a collaborator
    must be handed over to the station (or the successor). Created open when the last collaborator
    leaves; closed when the hand-over is recorded."""

    __tablename__ = "register_handover"
    __table_args__ = (
        CheckConstraint("handed_on IS NULL OR handed_on >= requested_on", name="handed_after_request"),
        path_index("register_handover", "hamlet_path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hamlet_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    hamlet_path: Mapped[str] = mapped_column(String(200))
    from_collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="RESTRICT"), unique=True)
    requested_on: Mapped[date] = mapped_column(Date)
    handed_on: Mapped[date | None] = mapped_column(Date)
    received_by: Mapped[str | None] = mapped_column(String(200))  # who took the book (name, position)
    to_collaborator_id: Mapped[int | None] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    hamlet: Mapped[AdminUnit] = relationship()
    from_collaborator: Mapped[Collaborator] = relationship(foreign_keys=[from_collaborator_id])
    to_collaborator: Mapped[Collaborator | None] = relationship(foreign_keys=[to_collaborator_id])
    assignment: Mapped[Assignment] = relationship()


class NetworkPolicy(db.Model):
    """A province's settings for running the network, effective-dated: the latest version whose
    ``valid_from`` is on or before a date applies. Without one the defaults below apply."""

    __tablename__ = "network_policy"
    __table_args__ = (
        UniqueConstraint("province_id", "valid_from", name="uq_network_policy_province_from"),
        CheckConstraint("visit_interval_days > 0", name="visit_interval_positive"),
        CheckConstraint("missed_meetings_for_review > 0", name="missed_meetings_positive"),
    )

    DEFAULT_VISIT_INTERVAL_DAYS = 92  # at least once a quarter (DOMAIN.md §7.3, a proposal)
    DEFAULT_MISSED_MEETINGS = 2  # two months in a row (DOMAIN.md §7.2, a proposal)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id", ondelete="RESTRICT"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    allow_additional_hamlet: Mapped[bool] = mapped_column(default=False)
    pay_additional_hamlet: Mapped[bool] = mapped_column(default=False)
    visit_interval_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_VISIT_INTERVAL_DAYS)
    missed_meetings_for_review: Mapped[int] = mapped_column(Integer, default=DEFAULT_MISSED_MEETINGS)
    legal_basis: Mapped[str | None] = mapped_column(String(300))
    # True: no document of the province was seen for it (demo data, a model borrowed from another
    # province): pages label it "Minh hoạ — chưa có văn bản" (issue #9 item 13).
    is_illustrative: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    province: Mapped[AdminUnit] = relationship()


class DutyKind(enum.StrEnum):
    """A duty a collaborator holds together with population work, dated like an assignment.

    ``family_children``: "kiêm công tác gia đình và trẻ em". A local title, not a national one
    (DOMAIN.md §0.4, MED): Đồng Nai builds its network as "cộng tác viên dân số kiêm công tác
    gia đình và trẻ em" under the commune's LĐTBXH and VHTT officers (KH 14676/KH-UBND, 2021, as
    cited by issue #9 item 15) and used the title in drafting its 2021–2030 allowance resolution.
    Where a province pays it differently, its allowance rules say so (``AllowanceRule``)."""

    FAMILY_CHILDREN = "family_children"


class CollaboratorDuty(db.Model):
    """A period during which a collaborator also holds a duty (:class:`DutyKind`), from the
    decision that gave it (``decision_ref``) or later: in force on every day
    ``started_on`` ≤ d < ``ended_on`` (NULL: still held). Appended and closed, never edited; at
    most one open period per collaborator and duty.

    The back-reference ``Collaborator.duties`` lists the periods, oldest first."""

    __tablename__ = "collaborator_duty"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="end_after_start"),
        CheckConstraint(f"duty IN ({_sql_in(DutyKind)})", name="duty_known"),
        _open_index("uq_collaborator_duty_open", "collaborator_id", "duty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaborator_id: Mapped[int] = mapped_column(ForeignKey("collaborator.id", ondelete="RESTRICT"), index=True)
    duty: Mapped[str] = mapped_column(String(40))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    decision_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    # Declared from this side so that Collaborator (another helper's lines) stays untouched.
    collaborator: Mapped[Collaborator] = relationship(
        backref=backref("duties", order_by="[CollaboratorDuty.started_on, CollaboratorDuty.id]"))

    def open_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)

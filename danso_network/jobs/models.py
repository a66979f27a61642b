"""A background job: who asked for what, how far it got, and the file it left (issue #11 item 5).

The row is the whole state: any web process (or machine) can show a job's progress whichever
engine runs it. Timestamps are aware UTC instants, as everywhere (common/clock.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting for a thread or a worker
    RUNNING = "running"
    DONE = "done"  # the file is there until expires_at
    FAILED = "failed"  # ``error`` says why, in Vietnamese; the traceback is in the log only
    EXPIRED = "expired"  # the file was deleted (kept JOB_KEEP_HOURS)


ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


class Job(db.Model):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed', 'expired')", name="state_known"),
        CheckConstraint("done >= 0 AND (total IS NULL OR total >= 0)", name="counts_positive"),
        Index("ix_job_owner_created", "owner_id", "created_at"),
        Index("ix_job_state_expires", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(60))  # a name given to jobs.services.register
    params: Mapped[dict] = mapped_column(JSON)  # as accepted by the kind's check (JSON types only)
    state: Mapped[str] = mapped_column(String(20), default=JobState.QUEUED.value)
    engine: Mapped[str] = mapped_column(String(20))  # thread, rq or inline: who was asked to run it
    # Where it runs: "<host>:<pid>" of the thread or the RQ work horse (tells a dead runner).
    runner: Mapped[str | None] = mapped_column(String(120))
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)  # None: not known (yet)
    message: Mapped[str | None] = mapped_column(String(300))  # what it is doing now, for the page
    result_filename: Mapped[str | None] = mapped_column(String(255))  # the name the download gets
    result_mimetype: Mapped[str | None] = mapped_column(String(120))
    result_path: Mapped[str | None] = mapped_column(String(300))  # relative to JOB_DIR: "<id>/<name>"
    result_bytes: Mapped[int | None] = mapped_column(BigInteger)
    # A Vietnamese message for the owner, never a traceback (that goes to the log).
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Last sign of life (creation, start, each progress write): a runner silent for longer than
    # JOB_TIMEOUT_SECONDS is taken for dead.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the file (or a job never run) is deleted: JOB_KEEP_HOURS after it finished (or was made).
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    owner: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int | None:
        """Progress in whole percent, None while the total is unknown."""
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return None
        return max(0, min(100, self.done * 100 // self.total))

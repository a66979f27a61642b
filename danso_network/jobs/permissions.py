"""Who may see a job and download its file: its owner, and nobody else (issue #11 item 5, "only
their owner can download them"; bad input: another user's file is a 403). An export holds what its
owner's scope and role allowed; an administrator who needs the same file makes their own."""

from __future__ import annotations

from .models import Job


def can_view_job(user, job: Job) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and job.owner_id == user.id

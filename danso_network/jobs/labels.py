"""Vietnamese names of job states, and the badge colour each is shown with."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import JobState

STATE_LABELS = {
    JobState.QUEUED: _l("Đang chờ xử lý"),
    JobState.RUNNING: _l("Đang xử lý"),
    JobState.DONE: _l("Đã xong"),
    JobState.FAILED: _l("Không thành công"),
    JobState.EXPIRED: _l("Đã hết hạn"),
}

STATE_BADGES = {
    JobState.QUEUED: "secondary",
    JobState.RUNNING: "primary",
    JobState.DONE: "success",
    JobState.FAILED: "danger",
    JobState.EXPIRED: "light text-dark border",
}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))

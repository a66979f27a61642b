"""Vietnamese labels and map colours of the coverage statuses.

Colours: a diverging ColorBrewer scheme (RdYlBu / RdYlGn ends), distinguishable with the common
colour-vision deficiencies; grey for "unknown" (no quota can be computed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .rules import Status

STATUS_LABELS = {
    Status.COVERED: _l("Đủ định mức"),
    Status.BELOW_QUOTA: _l("Thiếu so với định mức"),
    Status.VACANT: _l("Chưa có CTV"),
    Status.PENDING: _l("Chưa có CTV, đang tuyển chọn"),
    Status.UNKNOWN: _l("Chưa xác định định mức"),
}

STATUS_COLOURS = {
    Status.COVERED: "#1a9850",
    Status.BELOW_QUOTA: "#fdae61",
    Status.VACANT: "#d73027",
    Status.PENDING: "#4575b4",
    Status.UNKNOWN: "#999999",
}


def status_label(value: str) -> str:
    return str(STATUS_LABELS.get(Status(value), value))

"""Vietnamese labels of the annual targets and their verdicts (used by pages and, through
:func:`verdict_label`, by the yearly report)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import TargetKind
from .services import Verdict

TARGET_LABELS = {
    TargetKind.HAMLETS_COVERED_PCT: _l("Tỉ lệ thôn/tổ dân phố đủ CTV"),
    TargetKind.COLLABORATORS_TRAINED: _l("Số CTV được tập huấn"),
    TargetKind.SUPERVISION_VISITS: _l("Số lượt giám sát CTV"),
    TargetKind.MEETING_ATTENDANCE_PCT: _l("Tỉ lệ CTV dự giao ban"),
}

# How each actual figure is computed (shown under the table; services.py has the full rule).
TARGET_DEFINITIONS = {
    TargetKind.HAMLETS_COVERED_PCT: _l("Số thôn/tổ dân phố có đủ CTV theo định mức của tỉnh trên 100 thôn/tổ dân phố, "
                                       "tính tại ngày cuối năm (hoặc hôm nay nếu năm chưa kết thúc)."),
    TargetKind.COLLABORATORS_TRAINED: _l("Số CTV (phục vụ tại xã trong năm) đã hoàn thành ít nhất một lớp tập huấn "
                                         "kết thúc trong năm."),
    TargetKind.SUPERVISION_VISITS: _l("Số phiếu giám sát CTV ghi trong năm tại các thôn/tổ dân phố của xã."),
    TargetKind.MEETING_ATTENDANCE_PCT: _l("Số lượt CTV có mặt trên tổng số dòng điểm danh của các buổi giao ban "
                                          "hằng tháng trong năm."),
}

VERDICT_LABELS = {
    Verdict.MET: _l("Đạt"),
    Verdict.NOT_MET: _l("Không đạt"),
    Verdict.NOT_SET: _l("Chưa giao"),
}
IN_PROGRESS = _l("Chưa đạt (đang thực hiện)")

SETTER_ROLE_LABELS = {
    "province_admin": _l("Sở Y tế giao"),
    "centre_officer": _l("Trung tâm Y tế giao"),
}


def verdict_label(verdict: str, final: bool = True) -> str:
    """"Đạt", "Không đạt", "Chưa giao"; a target not reached in a year not over is "Chưa đạt
    (đang thực hiện)" (services.py: the verdict is on the figure so far)."""
    if verdict == Verdict.NOT_MET and not final:
        return str(IN_PROGRESS)
    return str(VERDICT_LABELS[Verdict(verdict)])


def verdict_colour(verdict: str, final: bool = True) -> str:
    """The Bootstrap colour of a verdict: green met, red not met, amber not met yet, grey not set."""
    if verdict == Verdict.MET:
        return "success"
    if verdict == Verdict.NOT_MET:
        return "danger" if final else "warning"
    return "secondary"

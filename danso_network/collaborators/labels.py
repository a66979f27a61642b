"""Vietnamese labels for the collaborator network: end reasons, statuses, assignment kinds,
tenure bands, quota flags and the audit actions this package records."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import AssignmentKind, DutyKind, EndReason

END_REASON_LABELS = {
    EndReason.RESIGNED: _l("Xin nghỉ"),
    EndReason.MOVED_OUT: _l("Chuyển khỏi thôn/tổ dân phố"),
    EndReason.HEALTH: _l("Sức khoẻ không đảm bảo"),
    EndReason.NON_PERFORMANCE: _l("Không hoàn thành nhiệm vụ"),
    EndReason.CONTRACT_ENDED: _l("Hết hạn hợp đồng"),
    EndReason.HAMLET_MERGED: _l("Thôn/tổ dân phố sáp nhập"),
    EndReason.DECEASED: _l("Từ trần"),
    EndReason.TRANSFERRED: _l("Điều chuyển sang thôn khác"),
    EndReason.COVER_ENDED: _l("Thôi kiêm nhiệm thêm thôn"),
    EndReason.UNIT_REORGANISED: _l("Sắp xếp lại đơn vị hành chính"),
}

STATUS_LABELS = {
    "active": _l("Đang hoạt động"),
    "suspended": _l("Tạm đình chỉ"),
    "ended": _l("Đã nghỉ việc"),
    "not_started": _l("Chưa bắt đầu"),
}

STATUS_COLOURS = {"active": "success", "suspended": "warning", "ended": "secondary", "not_started": "light"}

KIND_LABELS = {
    AssignmentKind.PRIMARY: _l("Thôn chính"),
    AssignmentKind.ADDITIONAL: _l("Kiêm nhiệm thêm"),
}

TENURE_LABELS = {
    "lt1": _l("Dưới 1 năm"),
    "1to3": _l("Từ 1 đến dưới 3 năm"),
    "3to5": _l("Từ 3 đến dưới 5 năm"),
    "ge5": _l("Từ 5 năm trở lên"),
}

ROSTER_STATUS_LABELS = {
    "": _l("Đang phụ trách (hoạt động và tạm đình chỉ)"),
    "active": _l("Đang hoạt động"),
    "suspended": _l("Tạm đình chỉ"),
    "ended": _l("Đã nghỉ việc"),
}

SORT_LABELS = {
    "name": _l("Họ tên"),
    "hamlet": _l("Thôn/tổ dân phố"),
    "started": _l("Ngày bắt đầu (mới nhất trước)"),
    "tenure": _l("Thâm niên (lâu nhất trước)"),
}

FLAG_LABELS = {"under": _l("Thiếu"), "over": _l("Vượt định mức"), "ok": _l("Đủ"),
               "unknown": _l("Chưa xác định (tỉnh chưa có tiêu chuẩn)")}
FLAG_COLOURS = {"under": "danger", "over": "warning", "ok": "success", "unknown": "secondary"}

# For the audit screen's labels (the integrator merges them into audit.views.ACTION_LABELS).
AUDIT_ACTION_LABELS = {
    "collaborator.transfer": _l("Điều chuyển CTV sang thôn khác"),
    "collaborator.add_hamlet": _l("Phân công CTV kiêm nhiệm thêm thôn"),
    "collaborator.end_cover": _l("Kết thúc kiêm nhiệm thêm thôn"),
    "collaborator.suspend": _l("Tạm đình chỉ CTV"),
    "collaborator.reinstate": _l("Cho CTV hoạt động trở lại"),
    "collaborator.terminate": _l("CTV nghỉ việc"),
    "collaborator.start_duty": _l("Giao CTV kiêm nhiệm công tác gia đình và trẻ em"),
    "collaborator.end_duty": _l("Thôi kiêm nhiệm công tác gia đình và trẻ em"),
    "handover.open": _l("Yêu cầu bàn giao Sổ A0"),
    "handover.record": _l("Ghi nhận bàn giao Sổ A0"),
}


# A duty held together with population work (models.DutyKind): its title, and the work it adds
# (for sentences such as "X đang kiêm nhiệm công tác gia đình và trẻ em").
DUTY_LABELS = {DutyKind.FAMILY_CHILDREN: _l("Kiêm công tác gia đình và trẻ em")}
DUTY_WORK = {DutyKind.FAMILY_CHILDREN: _l("công tác gia đình và trẻ em")}
DUTY_SHORT = {DutyKind.FAMILY_CHILDREN: _l("GĐ&TE")}


def duty_label(duty) -> str:
    try:
        return str(DUTY_LABELS[DutyKind(duty)])
    except ValueError:
        return str(duty)


def end_reason_label(reason) -> str:
    if reason is None:
        return ""
    try:
        return str(END_REASON_LABELS[EndReason(reason)])
    except ValueError:
        return str(reason)


def kind_label(kind) -> str:
    try:
        return str(KIND_LABELS[AssignmentKind(kind)])
    except ValueError:
        return str(kind)

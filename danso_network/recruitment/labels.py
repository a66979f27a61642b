"""Vietnamese labels for recruitment states, actions, dossier items, education, approvers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import Education, Sex
from .workflow import Action, Approver, State

STATE_LABELS = {
    State.NOMINATED: _l("Được giới thiệu"),
    State.DOSSIER_COMPLETE: _l("Đủ hồ sơ"),
    State.SCREENED: _l("Đã sàng lọc"),
    State.STATION_REVIEWED: _l("Trạm đã thẩm định"),
    State.SUBMITTED: _l("Đã trình phê duyệt"),
    State.DIRECTOR_APPROVED: _l("Giám đốc trạm đã duyệt, chờ UBND xã"),
    State.APPROVED: _l("Đã phê duyệt"),
    State.REJECTED: _l("Bị từ chối"),
    State.CONTRACTED: _l("Đã ký hợp đồng"),
    State.ACTIVE: _l("Đang hoạt động"),
    State.RETURNED: _l("Đã trả lại để bổ sung"),
    State.WITHDRAWN: _l("Đã rút hồ sơ"),
}

STATE_COLOURS = {
    State.NOMINATED: "secondary", State.DOSSIER_COMPLETE: "info", State.SCREENED: "info",
    State.STATION_REVIEWED: "primary", State.SUBMITTED: "primary", State.DIRECTOR_APPROVED: "primary",
    State.APPROVED: "success", State.REJECTED: "danger", State.CONTRACTED: "success", State.ACTIVE: "success",
    State.RETURNED: "warning", State.WITHDRAWN: "dark",
}

ACTION_LABELS = {
    Action.COMPLETE_DOSSIER: _l("Xác nhận đủ hồ sơ"),
    Action.SCREEN: _l("Sàng lọc tự động"),
    Action.REVIEW: _l("Thẩm định tại trạm"),
    Action.SUBMIT: _l("Trình phê duyệt"),
    Action.APPROVE: _l("Phê duyệt"),
    Action.CONFIRM: _l("UBND xã xác nhận"),
    Action.REJECT: _l("Từ chối"),
    Action.CONTRACT: _l("Ký hợp đồng trách nhiệm"),
    Action.ACTIVATE: _l("Bắt đầu hoạt động"),
    Action.RETURN: _l("Trả lại để bổ sung"),
    Action.WITHDRAW: _l("Rút hồ sơ"),
}

EVENT_LABELS = {
    "unit_reform": _l("Chuyển thôn theo sắp xếp đơn vị hành chính"),
    "nominate": _l("Giới thiệu ứng viên"),
    "update_dossier": _l("Cập nhật hồ sơ"),
    "decision": _l("Đưa vào quyết định công nhận"),
    **{a.value: label for a, label in ACTION_LABELS.items()},
}

DOSSIER_LABELS = {
    "application_letter": _l("Đơn tình nguyện"),
    "id_card": _l("Bản sao CCCD"),
    "education_proof": _l("Bằng cấp / giấy chứng nhận trình độ học vấn"),
    "health_evidence": _l("Giấy khám sức khỏe hoặc tự khai sức khỏe có xác nhận"),
    "endorsement": _l("Giới thiệu của trưởng thôn hoặc biên bản họp thôn"),
}

EDUCATION_LABELS = {
    Education.NONE: _l("Chưa hoàn thành tiểu học"),
    Education.PRIMARY: _l("Hoàn thành tiểu học"),
    Education.LOWER_SECONDARY: _l("Tốt nghiệp THCS"),
    Education.UPPER_SECONDARY: _l("Tốt nghiệp THPT"),
    Education.VOCATIONAL: _l("Trung cấp"),
    Education.COLLEGE: _l("Cao đẳng, đại học trở lên"),
}

SEX_LABELS = {Sex.FEMALE: _l("Nữ"), Sex.MALE: _l("Nam")}

APPROVER_LABELS = {
    Approver.HEALTH_CENTRE: _l("Trung tâm Y tế khu vực phê duyệt (thực tiễn trước 2026)"),
    Approver.STATION_DIRECTOR: _l("Giám đốc Trạm Y tế xã phê duyệt"),
    Approver.STATION_DIRECTOR_THEN_COMMITTEE: _l("Giám đốc Trạm Y tế xã phê duyệt, UBND xã xác nhận"),
}

QUOTA_PRESET_LABELS = {
    "gia_lai": _l("Gia Lai (QĐ 34/2023): ≤200 hộ → 1; 201–400 → 2; >400 → 3"),
    "hai_duong": _l("Hải Dương (NQ 2022): <500 hộ → 1; ≥500 → 2"),
    "custom": _l("Tự quy định"),
}

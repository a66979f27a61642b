"""What the audit log shows: the names of actions, objects and fields, and each recorded value as a
reader would write it (dates dd/mm/yyyy, labels instead of codes). Shared by the audit screen
and the collaborator's timeline."""

from __future__ import annotations

import re

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..allowances import forms as allowance_forms
from ..auth.labels import role_label
from ..collaborators import labels as collaborator_labels
from ..recruitment.labels import EDUCATION_LABELS, SEX_LABELS, STATE_LABELS
from ..units.labels import level_label, type_label

ACTION_LABELS = {
    "unit.create": _l("Tạo đơn vị"),
    "unit.update": _l("Sửa đơn vị"),
    "unit.close": _l("Đóng đơn vị (hết hiệu lực)"),
    "unit.import": _l("Nhập dữ liệu đơn vị hành chính"),
    "units.import": _l("Nhập dữ liệu đơn vị hành chính"),
    "facility.create": _l("Tạo cơ sở y tế"),
    "facility.update": _l("Sửa cơ sở y tế"),
    "facility.close": _l("Đóng cơ sở y tế"),
    "facility.service_area": _l("Đổi xã/phường phụ trách của cơ sở y tế"),
    "facilities.import": _l("Nhập tệp trung tâm y tế"),
    "unit.change": _l("Sắp xếp đơn vị hành chính"),
    "collaborator.reform": _l("Chuyển phân công CTV theo sắp xếp đơn vị hành chính"),
    "application.reform": _l("Chuyển hồ sơ tuyển chọn theo sắp xếp đơn vị hành chính"),
    "candidate.reform": _l("Cập nhật nơi cư trú theo sắp xếp đơn vị hành chính"),
    "role.grant": _l("Cấp quyền"),
    "role.revoke": _l("Thu hồi quyền"),
    "role.end": _l("Kết thúc quyền"),
    "user.activate": _l("Mở khoá tài khoản"),
    "user.deactivate": _l("Khoá tài khoản"),
    "api_token.issue": _l("Cấp mã truy cập API"),
    "api_token.revoke": _l("Thu hồi mã truy cập API"),
    "criteria.create": _l("Ban hành phiên bản tiêu chuẩn tuyển chọn"),
    "application.create": _l("Giới thiệu ứng viên CTV"),
    "application.update_dossier": _l("Cập nhật hồ sơ ứng viên"),
    "application.complete_dossier": _l("Xác nhận đủ hồ sơ"),
    "application.screen": _l("Sàng lọc tự động"),
    "application.review": _l("Thẩm định tại trạm"),
    "application.submit": _l("Trình phê duyệt"),
    "application.approve": _l("Phê duyệt hồ sơ CTV"),
    "application.confirm": _l("UBND xã xác nhận"),
    "application.reject": _l("Từ chối hồ sơ CTV"),
    "application.return": _l("Trả lại hồ sơ để bổ sung"),
    "application.withdraw": _l("Rút hồ sơ"),
    "application.contract": _l("Ký hợp đồng trách nhiệm"),
    "application.activate": _l("CTV bắt đầu hoạt động"),
    "collaborator.activate": _l("Tạo CTV và phân công thôn"),
    "decision.issue": _l("Ban hành quyết định công nhận"),
    "attachment.upload": _l("Tải lên tệp hồ sơ"),
    "attachment.delete": _l("Xoá tệp hồ sơ"),
    "user.create": _l("Tạo tài khoản"),
    "user.update": _l("Sửa tài khoản"),
    "user.login": _l("Đăng nhập"),
    "user.login_failed": _l("Đăng nhập sai mật khẩu"),
    "user.set_password": _l("Đổi mật khẩu"),
    "roster.import": _l("Nhập danh sách cộng tác viên"),
    "import": _l("Nhập dữ liệu"),
    "visit.record": _l("Ghi phiếu giám sát CTV"),
    "visit.close_follow_up": _l("Đóng việc cần khắc phục sau giám sát"),
    "professional_link.set": _l("Ghi người chỉ đạo chuyên môn ở xã"),
    "professional_link.end": _l("Kết thúc chỉ đạo chuyên môn ở xã"),
    "meeting.record": _l("Ghi giao ban tháng"),
    "meeting.update": _l("Sửa giao ban tháng"),
    "training_course.create": _l("Tạo lớp tập huấn"),
    "training_course.update": _l("Sửa lớp tập huấn"),
    "training_attendance.add": _l("Thêm học viên tập huấn"),
    "training_attendance.update": _l("Cập nhật kết quả tập huấn"),
    "training_attendance.remove": _l("Bỏ học viên khỏi lớp tập huấn"),
    **collaborator_labels.AUDIT_ACTION_LABELS,
    **allowance_forms.AUDIT_ACTION_LABELS,
}

OBJECT_TYPE_LABELS = {
    "AdminUnit": _l("Đơn vị hành chính"),
    "Facility": _l("Cơ sở y tế"),
    "User": _l("Tài khoản"),
    "RoleGrant": _l("Phân quyền"),
    "ApiToken": _l("Mã truy cập API"),
    "CriteriaSet": _l("Bộ tiêu chuẩn tuyển chọn"),
    "Application": _l("Hồ sơ ứng viên CTV"),
    "Collaborator": _l("Cộng tác viên"),
    "RecognitionDecision": _l("Quyết định công nhận"),
    "Attachment": _l("Tệp hồ sơ"),
    "RegisterHandover": _l("Bàn giao Sổ A0"),
    "Suspension": _l("Tạm đình chỉ CTV"),
    "BaseSalary": _l("Lương cơ sở"),
    "AllowanceRule": _l("Mức bồi dưỡng CTV"),
    "NetworkPolicy": _l("Quy định mạng lưới CTV"),
    "TrainingCourse": _l("Lớp tập huấn"),
    "TrainingAttendance": _l("Học viên tập huấn"),
    "SupervisionVisit": _l("Phiếu giám sát"),
    "ProfessionalLink": _l("Chỉ đạo chuyên môn ở xã"),
    "MonthlyMeeting": _l("Giao ban tháng"),
}

FIELD_LABELS = {
    "source": _l("Tệp nhập"),
    "created": _l("Tạo mới"),
    "unchanged": _l("Không đổi"),
    "updated": _l("Cập nhật"),
    "address": _l("Địa chỉ"),
    "department": _l("Sở Y tế"),
    "code": _l("Mã"), "local_id": _l("Mã nội bộ"), "name": _l("Tên"), "full_name": _l("Tên đầy đủ"),
    "level": _l("Cấp"), "type": _l("Loại"), "parent_id": _l("Đơn vị cấp trên (id)"),
    "valid_from": _l("Hiệu lực từ"), "valid_to": _l("Hết hiệu lực từ"), "decision_ref": _l("Quyết định"),
    "households": _l("Số hộ"), "population": _l("Nhân khẩu"), "is_difficult": _l("Đặc biệt khó khăn"),
    "is_ethnic_minority": _l("Vùng DTTS"), "is_synthetic": _l("Dữ liệu minh hoạ"), "note": _l("Ghi chú"),
    "kind": _l("Loại cơ sở"), "unit_id": _l("Đơn vị (id)"), "facility_id": _l("Cơ sở (id)"),
    "serves": _l("Phục vụ"), "user": _l("Tài khoản"), "username": _l("Tên đăng nhập"),
    "role": _l("Vai trò"), "active": _l("Đang hoạt động"),
    # people and applications
    "state": _l("Trạng thái"), "sex": _l("Giới tính"), "date_of_birth": _l("Ngày sinh"),
    "ethnicity": _l("Dân tộc"), "national_id": _l("Số CCCD"), "phone": _l("Điện thoại"),
    "residence_hamlet_id": _l("Thôn cư trú (id)"), "education": _l("Trình độ học vấn"),
    "is_village_health_worker": _l("Nhân viên y tế thôn bản"), "languages": _l("Ngôn ngữ"),
    "speaks_local_language": _l("Nói tiếng địa phương"), "prior_experience": _l("Kinh nghiệm"),
    "ranking": _l("Thứ tự ưu tiên"), "comment": _l("Ý kiến"), "reason": _l("Lý do"),
    # the network
    "hamlet": _l("Thôn/tổ dân phố"), "hamlet_id": _l("Thôn/tổ dân phố (id)"), "on": _l("Từ ngày"),
    "started_on": _l("Bắt đầu"), "ended_on": _l("Kết thúc"), "end_reason": _l("Lý do kết thúc"),
    "assignment_id": _l("Phân công (id)"), "number": _l("Số quyết định"), "issued_on": _l("Ngày ký"),
    "signer": _l("Người ký"), "handed_on": _l("Ngày bàn giao"), "received_by": _l("Người nhận"),
    "visited_on": _l("Ngày giám sát"), "score": _l("Điểm"), "findings": _l("Nhận xét"),
    "title": _l("Tên lớp"), "starts_on": _l("Từ ngày"), "ends_on": _l("Đến ngày"), "hours": _l("Số giờ"),
    "amount": _l("Số tiền"), "coefficient": _l("Hệ số"), "legal_basis": _l("Căn cứ"),
}

# The most telling fields first, so the first lines of a long record say what changed.
_FIELD_ORDER = {k: i for i, k in enumerate([
    "name", "type", "households", "population", "valid_to", "decision_ref", "valid_from", "username",
    "role", "code", "local_id", "is_difficult", "is_ethnic_minority"])}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
def _from(labels):
    """A value's label from a table keyed by enum or string (the value itself when unknown)."""
    by_value = {str(getattr(k, "value", k)): v for k, v in labels.items()}
    return lambda value: str(by_value.get(value, value))


_VALUE_LABELS = {"type": type_label, "level": level_label, "role": role_label,
                 "state": _from(STATE_LABELS), "sex": _from(SEX_LABELS), "education": _from(EDUCATION_LABELS),
                 "end_reason": _from(collaborator_labels.END_REASON_LABELS)}


def action_label(action: str) -> str:
    """The Vietnamese name of a known action; an unknown action is shown as recorded."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    if action.endswith(".import"):
        return f"{ACTION_LABELS['import']} ({action})"
    return action


def object_type_label(object_type: str) -> str:
    return str(OBJECT_TYPE_LABELS.get(object_type, object_type))


def _show(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, int) and not key.endswith("_id"):
        return format_decimal(value)
    if key in _VALUE_LABELS and isinstance(value, str):
        return _VALUE_LABELS[key](value)
    if isinstance(value, str) and _ISO_DATE.match(value):
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def changes(event) -> list[tuple[str, str | None, str]]:
    """(field label, before or None, after) for each field the event records; a creation lists
    only the fields that were set."""
    before, after = event.before or {}, event.after or {}
    rows = []
    keys = [*before, *(k for k in after if k not in before)]
    for key in sorted(keys, key=lambda k: _FIELD_ORDER.get(k, len(_FIELD_ORDER))):
        if event.before is None and after.get(key) in (None, "", False):
            continue
        rows.append((str(FIELD_LABELS.get(key, key)),
                     _show(key, before.get(key)) if event.before is not None else None,
                     _show(key, after.get(key))))
    return rows

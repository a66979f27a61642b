"""Vietnamese labels for the supervision checklist (with the duty each item checks), the
professional-direction links, the levels of the supervision chain and the reasons for review."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import ChecklistItem, LinkKind
from .services import ChainLevelKey, Miss

# Each item checks one duty of the collaborator (DOMAIN.md §7.3, a proposal built only from
# verified duties: TT 02/2021/TT-BYT Art. 3; TT 01/2022/TT-BYT).
CHECKLIST_LABELS = {
    ChecklistItem.COMMUNICATION: _l("Có tham gia truyền thông, vận động về dân số, vệ sinh phòng bệnh, chăm sóc sức khoẻ "
                                    "ban đầu cùng nhân viên y tế thôn bản (có ghi chép buổi truyền thông)"),
    ChecklistItem.COUNSELLING: _l("Có tư vấn trực tiếp cho người dân về công tác dân số (có ghi chép hộ được tư vấn)"),
    ChecklistItem.REGISTER_UP_TO_DATE: _l("Sổ A0 được lưu giữ và cập nhật (lần cập nhật gần nhất không quá 1 tháng)"),
    ChecklistItem.P0_SUBMITTED: _l("Đã nộp phiếu thu tin P0/CTV tại buổi giao ban tháng gần nhất"),
    ChecklistItem.MEETING_ATTENDED: _l("Có dự buổi giao ban cộng tác viên tháng gần nhất tại trạm y tế"),
    ChecklistItem.CONTRACEPTIVE_STOCK: _l("Có cơ số bao cao su, viên uống tránh thai và sổ theo dõi cấp phát"),
    ChecklistItem.HOUSEHOLD_SAMPLE: _l("Kiểm tra ngẫu nhiên một số hộ: thông tin khớp với Sổ A0"),
    ChecklistItem.TRAINING_ATTENDED: _l("Đã tham dự các lớp tập huấn được triệu tập"),
    ChecklistItem.REFERRALS_MADE: _l("Phát hiện và đề xuất, chuyển các trường hợp cần hỗ trợ lên trạm y tế"),
}

CHECKLIST_DUTIES = {
    ChecklistItem.COMMUNICATION: _l("Phối hợp truyền thông, vận động về dân số, vệ sinh phòng bệnh và chăm sóc sức khoẻ "
                                    "ban đầu (Thông tư 02/2021/TT-BYT Điều 3 khoản 1)"),
    ChecklistItem.COUNSELLING: _l("Truyền thông, vận động, tư vấn trực tiếp cho người dân về công tác dân số "
                                  "(Thông tư 02/2021/TT-BYT Điều 3 khoản 2)"),
    ChecklistItem.REGISTER_UP_TO_DATE: _l("Ghi chép ban đầu, giữ và sử dụng sổ sách, biểu mẫu "
                                          "(Thông tư 02/2021/TT-BYT Điều 3 khoản 5–6; Thông tư 01/2022/TT-BYT)"),
    ChecklistItem.P0_SUBMITTED: _l("Báo cáo định kỳ, nộp phiếu P0/CTV tại giao ban "
                                   "(Thông tư 01/2022/TT-BYT; Thông tư 02/2021/TT-BYT Điều 3 khoản 5)"),
    ChecklistItem.MEETING_ATTENDED: _l("Tham dự giao ban hằng tháng do trạm y tế xã tổ chức "
                                       "(Thông tư 02/2021/TT-BYT Điều 3 khoản 7)"),
    ChecklistItem.CONTRACEPTIVE_STOCK: _l("Cung cấp bao cao su, viên uống tránh thai cho hộ gia đình "
                                          "(Thông tư 02/2021/TT-BYT Điều 3 khoản 3)"),
    ChecklistItem.HOUSEHOLD_SAMPLE: _l("Theo dõi các hộ gia đình trên địa bàn, thu thập thông tin "
                                       "(Thông tư 02/2021/TT-BYT Điều 3 khoản 4–5)"),
    ChecklistItem.TRAINING_ATTENDED: _l("Tham dự tập huấn do cơ quan có thẩm quyền tổ chức "
                                        "(Thông tư 02/2021/TT-BYT Điều 3 khoản 8)"),
    ChecklistItem.REFERRALS_MADE: _l("Phát hiện, đề xuất các trường hợp với viên chức dân số và trạm y tế "
                                     "(Thông tư 02/2021/TT-BYT Điều 3 khoản 9)"),
}

ANSWER_LABELS = {True: _l("Đạt"), False: _l("Chưa đạt"), None: _l("Không kiểm tra")}

LINK_KIND_LABELS = {
    LinkKind.LABOUR_SOCIAL: _l("Công chức Lao động – Thương binh và Xã hội"),
    LinkKind.CULTURE_SPORTS: _l("Công chức Văn hoá – Thể thao"),
}
LINK_KIND_SHORT = {LinkKind.LABOUR_SOCIAL: _l("LĐTBXH"), LinkKind.CULTURE_SPORTS: _l("VHTT")}
LINK_BASIS_DEFAULT = _l("Kế hoạch số 14676/KH-UBND năm 2021 của UBND tỉnh Đồng Nai")

CHAIN_LEVEL_LABELS = {
    ChainLevelKey.STATION_OFFICER: _l("Viên chức dân số trạm y tế"),
    ChainLevelKey.STATION_HEAD: _l("Trưởng trạm / Giám đốc Trạm Y tế"),
    ChainLevelKey.HEALTH_CENTRE: _l("Trung tâm Y tế khu vực"),
    ChainLevelKey.DEPARTMENT: _l("Sở Y tế"),
}

MISS_LABELS = {
    Miss.ABSENT: _l("Vắng họp"),
    Miss.NO_P0: _l("Không nộp phiếu P0"),
    Miss.NO_RECORD: _l("Không có tên trong bảng điểm danh"),
}


def score_colour(score: int | None) -> str:
    if score is None:
        return "secondary"
    if score >= 80:
        return "success"
    return "warning" if score >= 50 else "danger"

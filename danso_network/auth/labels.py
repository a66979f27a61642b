"""Vietnamese labels for roles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import Role

ROLE_LABELS = {
    Role.PROVINCE_ADMIN: _l("Quản trị cấp tỉnh (Sở Y tế)"),
    Role.CENTRE_OFFICER: _l("Cán bộ Trung tâm Y tế khu vực"),
    Role.STATION_HEAD: _l("Trưởng trạm / Giám đốc Trạm Y tế"),
    Role.STATION_OFFICER: _l("Viên chức dân số tại trạm"),
    Role.VIEWER: _l("Chỉ xem"),
    Role.COMMUNE_COMMITTEE: _l("Uỷ ban nhân dân xã (xác nhận công nhận CTV)"),
}


def role_label(role) -> str:
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return str(role)

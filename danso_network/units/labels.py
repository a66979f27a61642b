"""Vietnamese labels for unit levels and types (translated through Flask-Babel)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .models import FacilityKind, UnitLevel, UnitType

LEVEL_LABELS = {
    UnitLevel.PROVINCE: _l("Tỉnh/thành phố"),
    UnitLevel.DISTRICT: _l("Quận/huyện (trước 01/7/2025)"),
    UnitLevel.COMMUNE: _l("Xã/phường/đặc khu"),
    UnitLevel.HAMLET: _l("Thôn/tổ dân phố"),
}

TYPE_LABELS = {
    UnitType.TINH: _l("Tỉnh"),
    UnitType.THANH_PHO_TW: _l("Thành phố trực thuộc trung ương"),
    UnitType.HUYEN: _l("Huyện"),
    UnitType.QUAN: _l("Quận"),
    UnitType.THI_XA: _l("Thị xã"),
    UnitType.THANH_PHO_THUOC_TINH: _l("Thành phố thuộc tỉnh"),
    UnitType.XA: _l("Xã"),
    UnitType.PHUONG: _l("Phường"),
    UnitType.THI_TRAN: _l("Thị trấn"),
    UnitType.DAC_KHU: _l("Đặc khu"),
    UnitType.THON: _l("Thôn"),
    UnitType.AP: _l("Ấp"),
    UnitType.BAN: _l("Bản"),
    UnitType.LANG: _l("Làng"),
    UnitType.BUON: _l("Buôn"),
    UnitType.BON: _l("Bon"),
    UnitType.PLEI: _l("Plei"),
    UnitType.PHUM: _l("Phum"),
    UnitType.SOC: _l("Sóc"),
    UnitType.XOM: _l("Xóm"),
    UnitType.TO_DAN_PHO: _l("Tổ dân phố"),
    UnitType.KHU_PHO: _l("Khu phố"),
    UnitType.KHOI_PHO: _l("Khối phố"),
    UnitType.KHOM: _l("Khóm"),
    UnitType.TIEU_KHU: _l("Tiểu khu"),
}

FACILITY_KIND_LABELS = {
    FacilityKind.DEPARTMENT: _l("Sở Y tế"),
    FacilityKind.HEALTH_CENTRE: _l("Trung tâm Y tế khu vực"),
    FacilityKind.STATION: _l("Trạm Y tế"),
}

# How the source data (Vietnamese words) names types, mapped to our enum.
TYPE_FROM_SOURCE = {
    "tỉnh": UnitType.TINH,
    "thành phố trực thuộc trung ương": UnitType.THANH_PHO_TW,
    "thành phố": UnitType.THANH_PHO_TW,
    "huyện": UnitType.HUYEN,
    "quận": UnitType.QUAN,
    "thị xã": UnitType.THI_XA,
    "thành phố thuộc tỉnh": UnitType.THANH_PHO_THUOC_TINH,
    "xã": UnitType.XA,
    "phường": UnitType.PHUONG,
    "thị trấn": UnitType.THI_TRAN,
    "đặc khu": UnitType.DAC_KHU,
}


def level_label(level) -> str:
    try:
        return str(LEVEL_LABELS[UnitLevel(level)])
    except ValueError:
        return str(level)


def type_label(unit_type) -> str:
    try:
        return str(TYPE_LABELS[UnitType(unit_type)])
    except ValueError:
        return str(unit_type)


def facility_kind_label(kind) -> str:
    try:
        return str(FACILITY_KIND_LABELS[FacilityKind(kind)])
    except ValueError:
        return str(kind)

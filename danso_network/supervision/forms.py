"""Supervision forms. They check shape only (dates, lengths, choices); the rules (no future
date, the collaborator serving that day, a follow-up with its due date, links that never overlap,
attendance only for the commune's collaborators) live in services and come back as a
:class:`DomainError` shown next to the field it concerns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..common.clock import today
from ..units.forms import DATE_FORMATS, DayFirstDateField, DomainErrorForm, _clean_text
from .labels import CHECKLIST_LABELS, LINK_BASIS_DEFAULT, LINK_KIND_LABELS
from .models import ChecklistItem, LinkKind

BAD_DATE = _l("Ngày không hợp lệ (ngày/tháng/năm).")
ANSWERS = {"yes": True, "no": False, "na": None}


def _date(label, *, required: str | None = None, **kw):
    validators = [InputRequired(required)] if required else [Optional()]
    return DayFirstDateField(label, format=DATE_FORMATS, validators=validators, invalid_value_message=BAD_DATE, **kw)


def _text(label, *, max_length: int, rows: int = 2, required: str | None = None, **kw):
    validators = [DataRequired(required)] if required else [Optional()]
    return TextAreaField(label, filters=[_clean_text], validators=[*validators, Length(max=max_length)],
                         render_kw={"rows": rows, **kw})


def _visit_form_class():
    attrs = {f"item_{item.value}": RadioField(
        CHECKLIST_LABELS[item], choices=[SelectChoice("yes", _l("Đạt")), SelectChoice("no", _l("Chưa đạt")),
                                 SelectChoice("na", _l("Không kiểm tra"))],
        default="na", validators=[Optional()]) for item in ChecklistItem}
    return type("_VisitItems", (DomainErrorForm,), attrs)


class VisitForm(_visit_form_class()):
    """The visit checklist: one Đạt / Chưa đạt / Không kiểm tra choice per item."""

    visited_on = _date(_l("Ngày giám sát"), required=_l("Vui lòng nhập ngày giám sát."), default=today)
    findings = _text(_l("Nhận xét, phát hiện"), max_length=4000, rows=3)
    follow_up = _text(_l("Nội dung cần khắc phục"), max_length=2000)
    follow_up_due = _date(_l("Hạn khắc phục"))
    submit = SubmitField(_l("Lưu phiếu giám sát"))

    def item_fields(self):
        return [(item, getattr(self, f"item_{item.value}")) for item in ChecklistItem]

    def checklist(self) -> dict[str, bool | None]:
        return {item.value: ANSWERS.get(getattr(self, f"item_{item.value}").data) for item in ChecklistItem}

    def show_domain_error(self, error) -> None:
        if error.field == "checklist":
            error.field = None
        super().show_domain_error(error)


class CloseFollowUpForm(DomainErrorForm):
    closed_on = _date(_l("Ngày hoàn thành khắc phục"), required=_l("Vui lòng nhập ngày hoàn thành."),
                      default=today)
    result = _text(_l("Kết quả khắc phục"), max_length=2000, rows=3, required=_l("Vui lòng ghi kết quả khắc phục."))
    submit = SubmitField(_l("Xác nhận đã khắc phục"))


class LinkForm(DomainErrorForm):
    kind = SelectField(_l("Lĩnh vực phụ trách"), choices=[SelectChoice(k.value, label) for k, label in LINK_KIND_LABELS.items()],
                       validators=[DataRequired(_l("Vui lòng chọn lĩnh vực."))])
    person_name = StringField(_l("Họ và tên"), filters=[_clean_text],
                              validators=[DataRequired(_l("Vui lòng nhập họ tên người phụ trách.")), Length(max=200)])
    position = StringField(_l("Chức vụ"), filters=[_clean_text], validators=[Optional(), Length(max=200)],
                           render_kw={"placeholder": _l("vd. Công chức Văn hoá – Xã hội")})
    phone = StringField(_l("Số điện thoại"), filters=[_clean_text], validators=[Optional(), Length(max=30)],
                        render_kw={"inputmode": "tel"})
    valid_from = _date(_l("Phụ trách từ ngày"), required=_l("Vui lòng nhập ngày bắt đầu."))
    legal_basis = StringField(_l("Căn cứ"), filters=[_clean_text], validators=[Optional(), Length(max=300)],
                              default=LINK_BASIS_DEFAULT)
    submit = SubmitField(_l("Lưu người phụ trách"))

    def link_fields(self) -> dict:
        return {"kind": LinkKind(self.kind.data).value, "person_name": self.person_name.data,
                "position": self.position.data or None, "phone": self.phone.data or None,
                "valid_from": self.valid_from.data, "legal_basis": self.legal_basis.data or None}


class EndLinkForm(DomainErrorForm):
    link_id = HiddenField(validators=[DataRequired()])
    valid_to = _date(_l("Thôi phụ trách từ ngày"), required=_l("Vui lòng nhập ngày kết thúc."))
    confirm = BooleanField(_l("Tôi xác nhận kết thúc việc phụ trách này (lịch sử vẫn được giữ)"),
                           validators=[DataRequired(_l("Vui lòng đánh dấu xác nhận trước khi kết thúc."))])
    submit = SubmitField(_l("Kết thúc phụ trách"))


class MeetingForm(DomainErrorForm):
    """The meeting's own fields; the attendance rows (one per expected collaborator) are read
    from the request by the view."""

    held_on = _date(_l("Ngày họp giao ban"), required=_l("Vui lòng nhập ngày họp."))
    note = _text(_l("Ghi chú buổi họp"), max_length=2000)
    submit = SubmitField(_l("Lưu điểm danh"))

"""Forms and labels of the allowance pages. The forms check shape only (dates, whole numbers,
known choices, a decimal coefficient); the rules (no overlapping rule for the same case, an end
after the start, a base salary for a coefficient rule, one version per date) live in
``allowances`` and come back as a :class:`DomainError` shown next to the field it concerns."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from ..allowances.models import AllowanceBasis, CommuneCategory, Zone
from ..collaborators.models import AssignmentKind
from ..units.forms import DATE_FORMATS, DayFirstDateField, DomainErrorForm, _clean_text
from .services import MAX_AMOUNT, MAX_BASE_SALARY, MAX_MISSED_MEETINGS, MAX_VISIT_INTERVAL_DAYS

BAD_DATE = _l("Ngày không hợp lệ (ngày/tháng/năm).")

COMMUNE_CATEGORY_LABELS = {
    CommuneCategory.XA: _l("Xã (kể cả thị trấn trước đây)"),
    CommuneCategory.PHUONG: _l("Phường"),
    CommuneCategory.DAC_KHU: _l("Đặc khu"),
}
COMMUNE_CATEGORY_SHORT = {
    CommuneCategory.XA: _l("Xã"),
    CommuneCategory.PHUONG: _l("Phường"),
    CommuneCategory.DAC_KHU: _l("Đặc khu"),
}
ZONE_LABELS = {
    Zone.DIFFICULT: _l("Thôn đặc biệt khó khăn hoặc vùng đồng bào DTTS"),
    Zone.NORMAL: _l("Thôn còn lại"),
}
ZONE_SHORT = {Zone.DIFFICULT: _l("Khó khăn/DTTS"), Zone.NORMAL: _l("Thường")}
VHW_LABELS = {
    True: _l("CTV đồng thời là nhân viên y tế thôn bản"),
    False: _l("CTV không kiêm nhân viên y tế thôn bản"),
}
FAMILY_CHILDREN_LABELS = {
    True: _l("CTV kiêm công tác gia đình và trẻ em"),
    False: _l("CTV không kiêm công tác gia đình và trẻ em"),
}
BASIS_LABELS = {
    AllowanceBasis.FIXED: _l("Số tiền cố định mỗi tháng"),
    AllowanceBasis.COEFFICIENT: _l("Hệ số × lương cơ sở"),
}
ASSIGNMENT_KIND_LABELS = {
    AssignmentKind.PRIMARY: _l("Thôn chính"),
    AssignmentKind.ADDITIONAL: _l("Kiêm nhiệm thêm"),
}
ANY = _l("Mọi trường hợp")

# For the audit screen (the integrator merges them into audit.views.ACTION_LABELS).
AUDIT_ACTION_LABELS = {
    "base_salary.set": _l("Ghi mức lương cơ sở"),
    "allowance_rule.create": _l("Ban hành mức bồi dưỡng CTV"),
    "allowance_rule.end": _l("Kết thúc mức bồi dưỡng CTV"),
    "network_policy.create": _l("Ban hành quy định mạng lưới CTV"),
}


class MoneyField(IntegerField):
    """Whole đồng, accepting how people type money: "700.000", "700 000", "700,000 đ". A text
    box, not a number box: a browser would read "700.000" as seven hundred."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if valuelist:
            raw = re.sub(r"[\s.,đĐ]|VND|vnd", "", valuelist[0] or "")
            valuelist = [raw]
        super().process_formdata(valuelist)


class CoefficientField(StringField):
    """A decimal with a comma or a point ("0,25" or "0.25"); ``data`` is a Decimal or None."""

    def process_formdata(self, valuelist):
        self.data = None
        self.raw = (valuelist[0] if valuelist else "") or ""
        raw = self.raw.strip().replace(",", ".")
        if raw:
            try:
                self.data = Decimal(raw)
            except InvalidOperation:
                self.data = None
                raise ValueError(str(_l("Hệ số phải là số thập phân, ví dụ 0,25."))) from None
            if not self.data.is_finite():
                self.data = None
                raise ValueError(str(_l("Hệ số phải là số thập phân, ví dụ 0,25.")))

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data.normalize():f}".replace(".", ",") if self.data is not None else ""


def _date(label, *, required: str | None = None, **kw):
    validators = [InputRequired(required)] if required else [Optional()]
    return DayFirstDateField(label, format=DATE_FORMATS, validators=validators, invalid_value_message=BAD_DATE, **kw)


def _legal_basis(label, required: bool = True):
    validators = [DataRequired(_l("Vui lòng nhập căn cứ."))] if required else [Optional()]
    return StringField(label, filters=[_clean_text], validators=[*validators, Length(max=300)])


def _choices(labels: dict, any_label=ANY) -> list[SelectChoice]:
    return [SelectChoice("", any_label), *(SelectChoice(str(k.value if hasattr(k, "value") else k), v)
                                           for k, v in labels.items())]


class BaseSalaryForm(DomainErrorForm):
    valid_from = _date(_l("Áp dụng từ ngày"), required=_l("Vui lòng nhập ngày áp dụng."))
    amount = MoneyField(_l("Mức lương cơ sở (đồng/tháng)"), validators=[
        InputRequired(_l("Vui lòng nhập mức lương cơ sở.")),
        NumberRange(min=1, max=MAX_BASE_SALARY, message=_l("Mức lương cơ sở phải lớn hơn 0."))],
        invalid_value_message=_l("Số tiền phải là số nguyên (đồng)."), render_kw={"inputmode": "numeric"})
    legal_basis = _legal_basis(_l("Căn cứ (số nghị định)"))
    submit = SubmitField(_l("Ghi mức lương cơ sở"))

    def fields(self) -> dict:
        return {"valid_from": self.valid_from.data, "amount": self.amount.data, "legal_basis": self.legal_basis.data}


class RuleForm(DomainErrorForm):
    """One line of the resolution: the case (four conditions, empty = any) and the amount."""

    valid_from = _date(_l("Có hiệu lực từ ngày"), required=_l("Vui lòng nhập ngày có hiệu lực."))
    valid_to = _date(_l("Hết hiệu lực từ ngày (bỏ trống nếu chưa có)"))
    commune_category = SelectField(_l("Loại xã/phường"), choices=_choices(COMMUNE_CATEGORY_LABELS),
                                   invalid_choice_message=_l("Loại xã/phường không hợp lệ."))
    zone = SelectField(_l("Vùng"), choices=_choices(ZONE_LABELS), invalid_choice_message=_l("Vùng không hợp lệ."))
    vhw_concurrent = SelectField(_l("Kiêm nhân viên y tế thôn bản"),
                                 choices=[SelectChoice("", ANY), SelectChoice("yes", VHW_LABELS[True]),
                                          SelectChoice("no", VHW_LABELS[False])],
                                 invalid_choice_message=_l("Lựa chọn không hợp lệ."))
    family_children_duty = SelectField(_l("Kiêm công tác gia đình và trẻ em"), default="",
                                       choices=[SelectChoice("", ANY), SelectChoice("yes", FAMILY_CHILDREN_LABELS[True]),
                                                SelectChoice("no", FAMILY_CHILDREN_LABELS[False])],
                                       invalid_choice_message=_l("Lựa chọn không hợp lệ."),
                                       description=_l("Tính theo tháng: có nếu được giao vào ít nhất một ngày "
                                                      "trong tháng."))
    basis = SelectField(_l("Cách tính"), choices=[SelectChoice(k.value, v) for k, v in BASIS_LABELS.items()],
                        invalid_choice_message=_l("Cách tính không hợp lệ."))
    amount = MoneyField(_l("Số tiền mỗi tháng (đồng)"), validators=[
        Optional(), NumberRange(min=0, max=MAX_AMOUNT, message=_l("Số tiền phải từ 0 đến 100.000.000 đồng."))],
        invalid_value_message=_l("Số tiền phải là số nguyên (đồng)."), render_kw={"inputmode": "numeric"})
    coefficient = CoefficientField(_l("Hệ số so với lương cơ sở"), render_kw={"inputmode": "decimal",
                                                                            "placeholder": "0,25"})
    legal_basis = _legal_basis(_l("Căn cứ (số nghị quyết HĐND)"))
    note = TextAreaField(_l("Ghi chú"), filters=[_clean_text], validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 2})
    submit = SubmitField(_l("Thêm mức bồi dưỡng"))

    def fields(self) -> dict:
        """The submitted values for ``create_allowance_rule``; only the value of the chosen basis
        is passed (a stale value typed in the other box is ignored)."""
        vhw = {"yes": True, "no": False}.get(self.vhw_concurrent.data)
        family_children = {"yes": True, "no": False}.get(self.family_children_duty.data)
        fixed = self.basis.data == AllowanceBasis.FIXED.value
        return {"valid_from": self.valid_from.data, "valid_to": self.valid_to.data,
                "commune_category": self.commune_category.data or None, "zone": self.zone.data or None,
                "vhw_concurrent": vhw, "family_children_duty": family_children, "basis": self.basis.data,
                "amount": self.amount.data if fixed else None,
                "coefficient": None if fixed else self.coefficient.data,
                "legal_basis": self.legal_basis.data, "note": self.note.data or None}


class EndRuleForm(DomainErrorForm):
    """Ending an open rule, with an explicit confirmation (a rule's end cannot be undone)."""

    rule_id = SelectField(_l("Mức bồi dưỡng"), coerce=int, validate_choice=True,
                          invalid_choice_message=_l("Vui lòng chọn một mức đang áp dụng."))
    valid_to = _date(_l("Hết hiệu lực từ ngày"), required=_l("Vui lòng nhập ngày hết hiệu lực."))
    confirm = BooleanField(_l("Tôi xác nhận kết thúc mức này (không thể hoàn tác)."),
                           validators=[DataRequired(_l("Vui lòng đánh dấu xác nhận trước khi kết thúc."))])
    submit = SubmitField(_l("Kết thúc mức bồi dưỡng"))


class PolicyForm(DomainErrorForm):
    valid_from = _date(_l("Có hiệu lực từ ngày"), required=_l("Vui lòng nhập ngày có hiệu lực."))
    allow_additional_hamlet = BooleanField(_l("Cho phép CTV kiêm nhiệm thêm một thôn"))
    pay_additional_hamlet = BooleanField(_l("Chi bồi dưỡng cho thôn kiêm nhiệm"))
    visit_interval_days = IntegerField(_l("Chu kỳ giám sát mỗi CTV (ngày)"), validators=[
        InputRequired(_l("Vui lòng nhập chu kỳ giám sát.")),
        NumberRange(min=1, max=MAX_VISIT_INTERVAL_DAYS, message=_l("Chu kỳ giám sát phải từ 1 đến 366 ngày."))],
        invalid_value_message=_l("Phải là số nguyên."), render_kw={"min": 1, "max": MAX_VISIT_INTERVAL_DAYS})
    missed_meetings_for_review = IntegerField(_l("Số tháng liên tiếp vắng giao ban thì đưa vào danh sách xem xét"),
                                              validators=[
        InputRequired(_l("Vui lòng nhập số tháng.")),
        NumberRange(min=1, max=MAX_MISSED_MEETINGS, message=_l("Số tháng vắng giao ban phải từ 1 đến 12."))],
        invalid_value_message=_l("Phải là số nguyên."), render_kw={"min": 1, "max": MAX_MISSED_MEETINGS})
    legal_basis = _legal_basis(_l("Căn cứ (văn bản của tỉnh)"), required=False)
    submit = SubmitField(_l("Ban hành phiên bản quy định"))

    def fields(self) -> dict:
        return {"valid_from": self.valid_from.data, "allow_additional_hamlet": self.allow_additional_hamlet.data,
                "pay_additional_hamlet": self.pay_additional_hamlet.data,
                "visit_interval_days": self.visit_interval_days.data,
                "missed_meetings_for_review": self.missed_meetings_for_review.data,
                "legal_basis": self.legal_basis.data or None}

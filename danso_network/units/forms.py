"""Hamlet forms. They check shape only (required, whole numbers ≥ 0, dates); the rules (name
unique in the commune, type allowed under the commune's type, dates in order) live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from ..common.clock import today as clock_today
from ..errors import DomainError
from ..textnorm import clean_text
from .labels import type_label
from .models import FIGURE_LIMITS, HAMLET_TYPES_UNDER, AdminUnit, UnitLevel, UnitType

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]  # shown day-first; ISO (what scripts send) still accepted


class DayFirstDateField(DateField):
    """A date typed and shown dd/mm/yyyy whatever the browser's language. A text field: the
    native date input shows mm/dd/yyyy in an English browser, so a day-first entry would silently
    swap day and month whenever the day is 12 or less (issue #9 item 17)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, format=DATE_FORMATS, **kwargs):
        render_kw = {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off",
                     **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, format=format, render_kw=render_kw, **kwargs)


def _clean_text(value):
    """Text fields are stored as :func:`textnorm.clean_text` makes them (NFC, no control characters, trimmed)."""
    if isinstance(value, str):
        return clean_text(value)
    return value


def _count_field(label, key: str):
    """A hamlet's count, bounded as the services bound it (``FIGURE_LIMITS``)."""
    limit = FIGURE_LIMITS[UnitLevel.HAMLET][key]
    shown = format(limit, ",").replace(",", ".")
    return IntegerField(
        label, validators=[Optional(), NumberRange(min=0, max=limit, message=_l(
            "%(f)s phải từ 0 đến %(m)s.", f=label, m=shown))],
        invalid_value_message=_l("Phải là số nguyên không âm."), render_kw={"min": 0, "max": limit, "step": 1})


def hamlet_type_choices(commune: AdminUnit, current: str | None = None) -> list[tuple[str, str]]:
    """The hamlet types allowed under the commune's type (Thông tư 04/2012/TT-BNV), plus the
    hamlet's own type when editing an older record."""
    try:
        allowed = set(HAMLET_TYPES_UNDER.get(UnitType(commune.type), frozenset()))
    except ValueError:
        allowed = set()
    values = {t.value for t in allowed}
    if current:
        values.add(current)
    return sorted(((v, type_label(v)) for v in values), key=lambda c: c[1])


class DomainErrorForm(FlaskForm):
    """A form that can show a service's :class:`DomainError` next to the field it concerns."""

    def show_domain_error(self, error: DomainError) -> None:
        field = self._fields.get(error.field) if error.field else None
        if field is not None and not isinstance(field, SubmitField):
            field.errors = [*field.errors, str(error)]
        else:
            self.form_errors.append(str(error))


class HamletForm(DomainErrorForm):
    name = StringField(_l("Tên thôn/tổ dân phố"), filters=[_clean_text],
                       validators=[DataRequired(_l("Vui lòng nhập tên.")), Length(max=150)])
    type = SelectField(_l("Loại"), validate_choice=False,
                       validators=[DataRequired(_l("Vui lòng chọn loại."))])
    households = _count_field(_l("Số hộ gia đình"), "households")
    population = _count_field(_l("Số nhân khẩu"), "population")
    is_difficult = BooleanField(_l("Địa bàn đặc biệt khó khăn"))
    is_ethnic_minority = BooleanField(_l("Vùng đồng bào dân tộc thiểu số"))
    note = TextAreaField(_l("Ghi chú"), filters=[_clean_text], validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 3})
    submit = SubmitField(_l("Lưu"))

    def hamlet_fields(self) -> dict:
        """The submitted values, as keyword arguments for ``create_hamlet``/``update_hamlet``."""
        return {
            "name": self.name.data, "type": self.type.data, "households": self.households.data,
            "population": self.population.data, "is_difficult": self.is_difficult.data,
            "is_ethnic_minority": self.is_ethnic_minority.data, "note": self.note.data or None,
        }


class NewHamletForm(HamletForm):
    valid_from = DayFirstDateField(_l("Có hiệu lực từ ngày"), format=DATE_FORMATS, default=clock_today,
                           validators=[InputRequired(_l("Vui lòng nhập ngày."))],
                           invalid_value_message=_l("Ngày không hợp lệ (ngày/tháng/năm)."))
    submit = SubmitField(_l("Thêm"))


class CloseHamletForm(DomainErrorForm):
    # Named like the model column so a service error about ``valid_to`` lands on this field.
    valid_to = DayFirstDateField(_l("Hết hiệu lực từ ngày"), format=DATE_FORMATS,
                         validators=[InputRequired(_l("Vui lòng nhập ngày hết hiệu lực."))],
                         invalid_value_message=_l("Ngày không hợp lệ (ngày/tháng/năm)."))
    decision_ref = StringField(_l("Số, ngày quyết định (nếu có)"), filters=[_clean_text],
                               validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Xác nhận đóng"))


class ImportFileForm(FlaskForm):
    """The file of an import (issue #12): its content is checked when it is read."""

    file = FileField(_l("Tệp cần nhập"), validators=[FileRequired(_l("Vui lòng chọn tệp cần nhập."))])
    submit = SubmitField(_l("Kiểm tra tệp"))


class ConfirmImportForm(FlaskForm):
    """The confirmation after a dry run: the staged file's token (only its owner may use it)."""

    token = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Nhập"))


class MergeHamletsForm(DomainErrorForm):
    """A hamlet merger (issue #13 item 1): which hamlets, the name and households of the merged
    hamlet, the effective date and the decision. Shape only; ``units.reforms`` checks the rest
    and previews the impact before anything is applied."""

    hamlets = SelectMultipleField(_l("Các thôn/tổ dân phố sáp nhập"), coerce=int, validate_choice=False,
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    seat = SelectField(_l("Thôn/tổ dân phố giữ trụ sở (giữ số thứ tự)"), coerce=int, validate_choice=False)
    name = StringField(_l("Tên thôn/tổ dân phố sau sáp nhập"), filters=[_clean_text],
                       validators=[DataRequired(_l("Vui lòng nhập tên.")), Length(max=150)])
    households = _count_field(_l("Số hộ gia đình sau sáp nhập (để trống: cộng số hộ các thôn)"), "households")
    effective_on = DayFirstDateField(_l("Có hiệu lực từ ngày"), format=DATE_FORMATS,
                                     validators=[InputRequired(_l("Vui lòng nhập ngày có hiệu lực."))],
                                     invalid_value_message=_l("Ngày không hợp lệ (ngày/tháng/năm)."))
    decision_ref = StringField(_l("Số, ngày nghị quyết/quyết định"), filters=[_clean_text],
                               validators=[DataRequired(_l("Vui lòng nhập số, ngày nghị quyết hoặc quyết định.")),
                                           Length(max=200)])
    move_grants = BooleanField(_l("Cấp lại quyền tài khoản theo đề xuất"))
    preview = SubmitField(_l("Xem trước tác động"))
    download = SubmitField(_l("Tải bản xem trước (Excel)"))
    apply = SubmitField(_l("Thực hiện sáp nhập"))

    def validate_hamlets(self, field) -> None:
        if len(set(field.data or [])) < 2:
            raise ValidationError(_l("Chọn ít nhất hai thôn/tổ dân phố để sáp nhập."))

"""The form for a new version of a province's recruitment criteria. It checks shape only (whole
numbers, a date, known choices); the rules (bands ascending, ages in order, an extension switched
on has its value, the date after the latest version and within the bounds of ``common.dates``) live
in ``services.create_criteria_version`` and ``rules.validate_bands``."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..errors import DomainError
from ..units.forms import DATE_FORMATS, DayFirstDateField, _clean_text
from . import rules
from .labels import APPROVER_LABELS, QUOTA_PRESET_LABELS
from .models import CriteriaSet
from .workflow import Approver

MAX_BANDS = 6
# SINGLE_ACTIVE is the "single active" setting below, not a separate checkbox.
RULE_CHOICES = [c for c, r in rules.RULES.items() if r.kind != rules.RuleKind.PRIORITY and c != "SINGLE_ACTIVE"]


def _whole(label, minimum: int, message):
    return IntegerField(label, validators=[Optional(), NumberRange(min=minimum, message=message)],
                        invalid_value_message=message, render_kw={"min": minimum, "step": 1})


class BandForm(Form):
    """One row: "up to ``upper`` households → ``count`` collaborators" (``upper`` empty: no limit)."""

    upper = _whole(_l("Đến (số hộ)"), 1, _l("Số hộ phải là số nguyên ≥ 1."))
    count = _whole(_l("Số CTV"), 1, _l("Số CTV phải là số nguyên ≥ 1."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CriteriaVersionForm(FlaskForm):
    quota_preset = SelectField(_l("Định mức CTV theo số hộ"),
                               choices=[SelectChoice(k, v) for k, v in QUOTA_PRESET_LABELS.items()],
                               invalid_choice_message=_l("Mẫu định mức không hợp lệ."))
    bands = FieldList(FormField(BandForm), min_entries=MAX_BANDS, max_entries=MAX_BANDS)
    approver = SelectField(_l("Cấp phê duyệt"), choices=[SelectChoice(a.value, label) for a, label in APPROVER_LABELS.items()],
                           invalid_choice_message=_l("Cấp phê duyệt không hợp lệ."))
    min_age = IntegerField(_l("Tuổi tối thiểu"), validators=[
        InputRequired(_l("Vui lòng nhập tuổi tối thiểu.")),
        NumberRange(min=15, max=60, message=_l("Tuổi tối thiểu phải trong khoảng 15–60."))],
        invalid_value_message=_l("Tuổi phải là số nguyên."), render_kw={"min": 15, "max": 60})
    max_age = _whole(_l("Tuổi tối đa (mở rộng, tuỳ chọn)"), 16, _l("Tuổi tối đa phải là số nguyên ≥ 16."))
    min_residence_months = _whole(_l("Thời gian cư trú tối thiểu, tháng (mở rộng, tuỳ chọn)"), 1,
                                  _l("Số tháng cư trú phải là số nguyên ≥ 1."))
    single_active_assignment = BooleanField(_l("Mỗi người chỉ là CTV hoạt động ở một thôn"))
    allow_override = BooleanField(_l("Cho phép phê duyệt vượt tiêu chuẩn (phải ghi lý do, bị đánh dấu trong báo cáo)"))
    enabled_rules = MultiCheckboxField(_l("Tiêu chí áp dụng"), choices=[SelectChoice(c, rules.RULES[c].label) for c in RULE_CHOICES],
                                       invalid_choice_message=_l("Mã tiêu chí không hợp lệ."))
    valid_from = DayFirstDateField(_l("Có hiệu lực từ ngày"), format=DATE_FORMATS,
                           validators=[InputRequired(_l("Vui lòng nhập ngày có hiệu lực."))],
                           invalid_value_message=_l("Ngày không hợp lệ (ngày/tháng/năm)."))
    note = TextAreaField(_l("Căn cứ, ghi chú"), filters=[_clean_text],
                         validators=[Optional(), Length(max=2000, message=_l("Tối đa 2000 ký tự."))],
                         render_kw={"rows": 3})
    submit = SubmitField(_l("Ban hành phiên bản mới"))

    def prefill(self, base: CriteriaSet | None, today: date) -> CriteriaVersionForm:
        """Start from ``base`` (the latest version), or the defaults of TT 02/2021 for a first one.
        A first version has no bands: quotas are the province's decision, and another province's
        preset is used only when the admin picks it (issue #9 item 12)."""
        bands = base.quota_bands if base else []
        self.quota_preset.data = base.quota_preset if base else "custom"
        for row, band in zip(self.bands, [*bands, *[[None, None]] * MAX_BANDS], strict=False):
            row.upper.data, row.count.data = band[0], band[1]
        self.approver.data = base.approver if base else Approver.STATION_DIRECTOR.value
        self.min_age.data = base.min_age if base else 18
        self.max_age.data = base.max_age if base else None
        self.min_residence_months.data = base.min_residence_months if base else None
        self.single_active_assignment.data = base.single_active_assignment if base else True
        self.allow_override.data = base.allow_override if base else False
        enabled = base.enabled_rules if base else rules.DEFAULT_ENABLED
        self.enabled_rules.data = [c for c in RULE_CHOICES if c in enabled]
        self.valid_from.data = max(today, base.valid_from + timedelta(days=1)) if base else today
        return self

    def band_rows(self) -> tuple[list[list[int | None]], list[str]]:
        """The typed rows as bands, skipping empty rows; rows with households but no count are
        reported. A preset ignores the rows (the page fills them in for reading)."""
        if self.quota_preset.data in rules.QUOTA_PRESETS:
            return [list(b) for b in rules.QUOTA_PRESETS[self.quota_preset.data]], []
        bands, problems = [], []
        for i, row in enumerate(self.bands, start=1):
            upper, count = row.upper.data, row.count.data
            if upper is None and count is None:
                continue
            if count is None:
                problems.append(str(_l("Bậc %(n)d: vui lòng nhập số CTV.", n=i)))
                continue
            bands.append([upper, count])
        return bands, problems

    def criteria_fields(self, bands) -> dict:
        """The submitted values, as keyword arguments for ``create_criteria_version``."""
        enabled = [c for c in rules.RULES if c in (self.enabled_rules.data or [])
                   or (c == "SINGLE_ACTIVE" and self.single_active_assignment.data)]
        return {
            "valid_from": self.valid_from.data, "quota_bands": bands, "quota_preset": self.quota_preset.data,
            "approver": Approver(self.approver.data), "min_age": self.min_age.data, "max_age": self.max_age.data,
            "min_residence_months": self.min_residence_months.data,
            "single_active_assignment": self.single_active_assignment.data,
            "allow_override": self.allow_override.data, "enabled_rules": enabled, "note": self.note.data or None,
        }

    def show_domain_error(self, error: DomainError) -> None:
        field = self._fields.get(error.field) if error.field else None
        if field is not None and not isinstance(field, SubmitField):
            field.errors = [*field.errors, str(error)]
        else:
            self.form_errors.extend(getattr(error, "problems", None) or [str(error)])

"""The form for a commune's annual targets. It checks shape only (numbers within their bounds, a
date); the rules (the date within the year and after the latest version, at least one target,
who may replace whose version) live in ``services.set_targets`` and come back as a
:class:`DomainError` shown beside the field it names."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from ..units.forms import DATE_FORMATS, DayFirstDateField, DomainErrorForm, _clean_text
from .labels import TARGET_LABELS
from .models import MAX_COUNT, MAX_COUNT_SHOWN, MAX_PCT, TARGET_KINDS, CommuneTarget, TargetKind

PCT_MESSAGE = _l("Tỉ lệ phải là một số từ 0 đến 100 (ví dụ 92,5).")
COUNT_MESSAGE = _l("Phải là số nguyên từ 0 đến %(n)s.", n=MAX_COUNT_SHOWN)


class _OneMessage:
    """An unreadable number fails both the parsing and the range check with the same message:
    shown once."""

    def post_validate(self, form, validation_stopped):
        self.errors = list(dict.fromkeys(self.errors))


class CountField(_OneMessage, IntegerField):
    pass


class PercentField(_OneMessage, DecimalField):
    """A percentage typed with a decimal comma or point ("92,5" or "92.5"). A text input: a
    browser's number input refuses the decimal comma and would send the field empty."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and valuelist[0].strip():
            raw = valuelist[0].strip().replace(",", ".").removesuffix("%").strip()
            try:
                value = Decimal(raw)
            except InvalidOperation:
                value = None
            if value is None or not value.is_finite():
                self.data = None
                raise ValueError(self.gettext(str(PCT_MESSAGE)))
            self.data = value
            return
        self.data = None

    def _value(self) -> str:
        """What the input shows: the user's text as typed, else the value the Vietnamese way
        ("92,5", "90")."""
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = format(Decimal(self.data).quantize(Decimal("0.1")), "f").removesuffix(".0")
        return text.replace(".", ",")


def _pct(kind: TargetKind) -> PercentField:
    return PercentField(TARGET_LABELS[kind], places=1,
                        validators=[Optional(), NumberRange(min=0, max=MAX_PCT, message=PCT_MESSAGE)],
                        render_kw={"inputmode": "decimal", "placeholder": _l("vd. 95"), "autocomplete": "off"})


def _count(kind: TargetKind) -> CountField:
    return CountField(TARGET_LABELS[kind], validators=[Optional(), NumberRange(min=0, max=MAX_COUNT,
                                                                                 message=COUNT_MESSAGE)],
                        invalid_value_message=COUNT_MESSAGE,
                        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_COUNT, "step": 1,
                                   "autocomplete": "off"})


class TargetsForm(DomainErrorForm):
    hamlets_covered_pct = _pct(TargetKind.HAMLETS_COVERED_PCT)
    collaborators_trained = _count(TargetKind.COLLABORATORS_TRAINED)
    supervision_visits = _count(TargetKind.SUPERVISION_VISITS)
    meeting_attendance_pct = _pct(TargetKind.MEETING_ATTENDANCE_PCT)
    valid_from = DayFirstDateField(_l("Áp dụng từ ngày"), format=DATE_FORMATS,
                                   validators=[InputRequired(_l("Vui lòng nhập ngày áp dụng."))],
                                   invalid_value_message=_l("Ngày không hợp lệ (ngày/tháng/năm)."))
    source = StringField(_l("Căn cứ (số kế hoạch, văn bản giao chỉ tiêu)"), filters=[_clean_text],
                         validators=[Optional(), Length(max=300, message=_l("Tối đa 300 ký tự."))],
                         render_kw={"placeholder": _l("vd. KH 123/KH-TTYT")})
    note = TextAreaField(_l("Ghi chú"), filters=[_clean_text],
                         validators=[Optional(), Length(max=2000, message=_l("Tối đa 2000 ký tự."))],
                         render_kw={"rows": 2})
    # The version the user saw when the page was opened: a version set meanwhile by someone else
    # is replaced only after the user confirmed again, seeing it.
    current_id = HiddenField()
    confirm = BooleanField(_l("Tôi xác nhận thay chỉ tiêu đang áp dụng (phiên bản cũ vẫn được lưu trong lịch sử)"))
    submit = SubmitField(_l("Lưu chỉ tiêu"))

    def target_fields(self):
        return [getattr(self, k.value) for k in TARGET_KINDS]

    def values(self) -> dict:
        """The four targets as typed (None: not set), for ``services.set_targets``."""
        return {k.value: getattr(self, k.value).data for k in TARGET_KINDS}

    def prefill(self, version: CommuneTarget | None, valid_from) -> TargetsForm:
        """Start from the latest version (its values and source — not the source of demo data,
        which a real plan replaces), dated ``valid_from``."""
        if version is not None:
            for kind in TARGET_KINDS:
                getattr(self, kind.value).data = version.value(kind)
            self.source.data = None if version.is_illustrative else version.source
        self.valid_from.data = valid_from
        self.current_id.data = str(version.id) if version is not None else ""
        return self

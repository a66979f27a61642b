"""Recruitment forms. They check shape only (required, dates, whole numbers); the rules (CCCD
format and uniqueness, residence, dates in the past, what a transition needs) live in services
and come back as a :class:`DomainError` shown next to the field it concerns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..common import clock
from ..units.forms import DATE_FORMATS, DayFirstDateField, DomainErrorForm, _clean_text
from . import rules
from .labels import ACTION_LABELS, DOSSIER_LABELS, EDUCATION_LABELS, SEX_LABELS
from .models import DOSSIER_ITEMS, Education
from .workflow import Action

BAD_DATE = _l("Ngày không hợp lệ (ngày/tháng/năm).")


def _date(label, *, required: str | None = None, **kw):
    validators = [InputRequired(required)] if required else [Optional()]
    return DayFirstDateField(label, format=DATE_FORMATS, validators=validators, invalid_value_message=BAD_DATE, **kw)


class RecruitmentForm(DomainErrorForm):
    """Maps the field names services use onto this form's fields."""

    ALIASES: dict[str, str] = {}

    def show_domain_error(self, error) -> None:
        if error.field in self.ALIASES:
            error.field = self.ALIASES[error.field]
        super().show_domain_error(error)


class CandidateForm(RecruitmentForm):
    full_name = StringField(_l("Họ và tên"), filters=[_clean_text],
                            validators=[DataRequired(_l("Vui lòng nhập họ và tên.")), Length(max=200)])
    date_of_birth = _date(_l("Ngày sinh"), required=_l("Vui lòng nhập ngày sinh."))
    sex = SelectField(_l("Giới tính"), choices=[SelectChoice(s.value, label) for s, label in SEX_LABELS.items()],
                      validators=[DataRequired(_l("Vui lòng chọn giới tính."))])
    ethnicity = StringField(_l("Dân tộc"), filters=[_clean_text], default="Kinh",
                            validators=[DataRequired(_l("Vui lòng nhập dân tộc.")), Length(max=60)])
    national_id = StringField(_l("Số CCCD (12 chữ số)"), filters=[_clean_text],
                              validators=[DataRequired(_l("Vui lòng nhập số CCCD."))],
                              render_kw={"inputmode": "numeric", "maxlength": 14, "autocomplete": "off"})
    phone = StringField(_l("Số điện thoại"), filters=[_clean_text], validators=[Optional(), Length(max=20)],
                        render_kw={"inputmode": "tel"})
    residence_hamlet = SelectField(_l("Nơi cư trú (thôn/tổ dân phố)"), coerce=int,
                                   validators=[InputRequired(_l("Vui lòng chọn nơi cư trú."))])
    resident_since = _date(_l("Cư trú tại thôn từ ngày (nếu biết)"))
    education = SelectField(_l("Trình độ học vấn"),
                            choices=[SelectChoice(e.value, label) for e, label in EDUCATION_LABELS.items()],
                            default=Education.LOWER_SECONDARY.value,
                            validators=[DataRequired(_l("Vui lòng chọn trình độ học vấn."))])
    is_village_health_worker = BooleanField(_l("Là nhân viên y tế thôn bản"))
    languages = StringField(_l("Ngôn ngữ sử dụng"), filters=[_clean_text], validators=[Optional(), Length(max=200)],
                            render_kw={"placeholder": _l("vd. Việt, S'tiêng")})
    speaks_local_language = BooleanField(_l("Biết tiếng dân tộc tại địa phương"))
    prior_experience = StringField(_l("Kinh nghiệm (CTV, công tác cộng đồng)"), filters=[_clean_text],
                                   validators=[Optional(), Length(max=300)])
    nominated_by = StringField(_l("Người/tổ chức giới thiệu"), filters=[_clean_text],
                               validators=[Optional(), Length(max=200)],
                               render_kw={"placeholder": _l("vd. Trưởng ấp, họp ấp ngày …, tự ứng cử")})
    submit = SubmitField(_l("Lưu hồ sơ ứng viên"))

    def candidate_fields(self) -> dict:
        """Keyword arguments for ``services.create_application`` (except the hamlets and actor)."""
        return {
            "full_name": self.full_name.data, "date_of_birth": self.date_of_birth.data, "sex": self.sex.data,
            "ethnicity": self.ethnicity.data, "national_id": self.national_id.data, "phone": self.phone.data or None,
            "resident_since": self.resident_since.data, "education": self.education.data,
            "is_village_health_worker": self.is_village_health_worker.data, "languages": self.languages.data or None,
            "speaks_local_language": self.speaks_local_language.data,
            "prior_experience": self.prior_experience.data or None, "nominated_by": self.nominated_by.data or None,
        }


def _dossier_form_class():
    attrs = {f"item_{k}": BooleanField(DOSSIER_LABELS[k]) for k in DOSSIER_ITEMS}
    return type("_DossierItems", (RecruitmentForm,), attrs)


class DossierForm(_dossier_form_class()):
    version = HiddenField()
    application_signed_on = _date(_l("Ngày ký đơn tình nguyện"))
    exception_justification = TextAreaField(
        _l("Giải trình ngoại lệ trình độ (thôn khó khăn/DTTS không có người đạt THCS)"), filters=[_clean_text],
        validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    submit = SubmitField(_l("Lưu hồ sơ"))

    def item_fields(self):
        return [getattr(self, f"item_{k}") for k in DOSSIER_ITEMS]

    def items(self) -> dict[str, bool]:
        return {k: bool(getattr(self, f"item_{k}").data) for k in DOSSIER_ITEMS}

    def fill(self, application) -> None:
        """Pre-fill from the application (GET)."""
        for k in DOSSIER_ITEMS:
            getattr(self, f"item_{k}").data = bool((application.dossier or {}).get(k))
        self.application_signed_on.data = application.application_signed_on
        self.exception_justification.data = application.exception_justification
        self.version.data = application.version


# --- transitions --------------------------------------------------------------------------------

_COMMENT_REQUIRED = {
    Action.REJECT: _l("Từ chối phải ghi rõ lý do."),
    Action.RETURN: _l("Trả lại hồ sơ phải ghi rõ nội dung cần bổ sung, sửa chữa."),
}
_COMMENT_LABELS = {
    Action.REJECT: _l("Lý do từ chối"),
    Action.RETURN: _l("Nội dung cần bổ sung, sửa chữa"),
    Action.REVIEW: _l("Nhận xét của trạm"),
    Action.WITHDRAW: _l("Lý do rút hồ sơ"),
}


class TransitionForm(RecruitmentForm):
    """Base of the per-action forms built by :func:`transition_form`."""

    ALIASES = {"on": "start_date"}

    version = HiddenField()
    action: Action

    def payload(self) -> dict:
        """Keyword arguments for ``services.perform`` (beyond action, actor, comment)."""
        data: dict = {}
        if self.action == Action.REVIEW:
            data["manual_checks"] = {code: {"ok": bool(self[f"check_{code}"].data),
                                            "note": self[f"note_{code}"].data or ""} for code in self.manual_codes}
            data["ranking"] = self.ranking.data
        if "override_reason" in self:
            data["override_reason"] = self.override_reason.data
        if self.action == Action.CONTRACT:
            data.update(contract_date=self.contract_date.data, contract_number=self.contract_number.data,
                        allowance_tier=self.allowance_tier.data)
        if self.action == Action.ACTIVATE:
            data["on"] = self.start_date.data
        return data

    @property
    def comment_text(self) -> str | None:
        return self.comment.data or None


ALLOWANCE_TIERS = [_l("Mức chung"), _l("Kiêm nhân viên y tế thôn bản"), _l("Thôn đặc biệt khó khăn")]


def transition_form(action: Action, *, manual_codes=(), with_override: bool = False, bound: bool = False, **kw):
    """A form for one action, with the fields that action needs. Its prefix is the action, so the
    application page can hold one form per action; only the ``bound`` one reads the request."""
    action = Action(action)
    attrs: dict = {"action": action, "manual_codes": list(manual_codes)}
    required = _COMMENT_REQUIRED.get(action)
    attrs["comment"] = TextAreaField(
        _COMMENT_LABELS.get(action, _l("Ghi chú (không bắt buộc)")), filters=[_clean_text],
        validators=[DataRequired(required) if required else Optional(), Length(max=2000)], render_kw={"rows": 2})
    if action == Action.REVIEW:
        for code in manual_codes:
            attrs[f"check_{code}"] = BooleanField(rules.RULES[code].label)
            attrs[f"note_{code}"] = StringField(_l("Căn cứ, ghi chú"), filters=[_clean_text],
                                                validators=[Optional(), Length(max=300)])
        attrs["ranking"] = IntegerField(
            _l("Thứ tự ưu tiên"), validators=[Optional(), NumberRange(
                min=1, max=rules.MAX_RANKING, message=_l("Thứ tự ưu tiên phải từ 1 đến %(m)d.", m=rules.MAX_RANKING))],
            invalid_value_message=_l("Thứ tự ưu tiên phải là số ≥ 1."), render_kw={"min": 1, "max": rules.MAX_RANKING, "step": 1})
    if action == Action.APPROVE and with_override:
        attrs["override_reason"] = TextAreaField(
            _l("Lý do phê duyệt vượt tiêu chuẩn"), filters=[_clean_text],
            validators=[DataRequired(_l("Phê duyệt vượt tiêu chuẩn cần ghi rõ lý do (ít nhất 10 ký tự).")),
                        Length(max=2000)], render_kw={"rows": 2})
    if action == Action.CONTRACT:
        attrs["contract_date"] = _date(_l("Ngày ký hợp đồng"), required=_l("Vui lòng nhập ngày ký hợp đồng."),
                                       default=clock.today)
        attrs["contract_number"] = StringField(_l("Số hợp đồng"), filters=[_clean_text],
                                               validators=[Optional(), Length(max=60)])
        attrs["allowance_tier"] = StringField(_l("Mức bồi dưỡng"), filters=[_clean_text],
                                              validators=[DataRequired(_l("Vui lòng chọn mức bồi dưỡng.")),
                                                          Length(max=60)])
    if action == Action.ACTIVATE:
        attrs["start_date"] = _date(_l("Ngày bắt đầu hoạt động"),
                                    required=_l("Vui lòng nhập ngày bắt đầu hoạt động."), default=clock.today)
    attrs["submit"] = SubmitField(ACTION_LABELS[action])
    cls = type(f"{action.value.title().replace('_', '')}Form", (TransitionForm,), attrs)
    return cls(prefix=action.value, **kw) if bound else cls(formdata=None, prefix=action.value, **kw)


class BatchForm(FlaskForm):
    """The list pages (submission, approvals): the choices are per row in the request; this form
    carries the CSRF token and an optional comment."""

    comment = TextAreaField(_l("Ghi chú (không bắt buộc)"), filters=[_clean_text],
                            validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class DecisionForm(RecruitmentForm):
    number = StringField(_l("Số quyết định"), filters=[_clean_text],
                         validators=[DataRequired(_l("Vui lòng nhập số quyết định.")), Length(max=60)],
                         render_kw={"placeholder": _l("vd. 125/QĐ-TTYT")})
    issued_on = _date(_l("Ngày quyết định"), required=_l("Vui lòng nhập ngày quyết định."), default=clock.today)
    signer_name = StringField(_l("Người ký"), filters=[_clean_text],
                              validators=[DataRequired(_l("Vui lòng nhập người ký.")), Length(max=200)])
    signer_title = StringField(_l("Chức vụ người ký"), filters=[_clean_text],
                               validators=[DataRequired(_l("Vui lòng nhập chức vụ người ký.")), Length(max=200)],
                               render_kw={"placeholder": _l("vd. Giám đốc")})
    submit = SubmitField(_l("Ban hành quyết định"))

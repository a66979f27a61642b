"""Collaborator action forms. They check shape only (required fields, dates, lengths, the
confirmation box); the rules (scope, dates in order, not in the future, status) live in
:mod:`services` and come back as a :class:`DomainError` shown next to the field it concerns."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
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
from .labels import END_REASON_LABELS
from .models import TERMINATION_REASONS, DutyKind
from .services import Residence

BAD_DATE = _l("Ngày không hợp lệ (ngày/tháng/năm).")
DATE_REQUIRED = _l("Vui lòng nhập ngày.")


def _date(label, *, required=DATE_REQUIRED, **kw):
    return DayFirstDateField(label, format=DATE_FORMATS, validators=[InputRequired(required)],
                     invalid_value_message=BAD_DATE, default=today, **kw)


def _optional_int(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _note(label, max_length=2000, **kw):
    return TextAreaField(label, filters=[_clean_text], validators=[Optional(), Length(max=max_length)],
                         render_kw={"rows": 2}, **kw)


def _hamlet_field(label):
    # The choices are the hamlets in the user's scope; any other id reaches the service, which
    # refuses it with a message (a hamlet outside the scope is a PermissionDenied, not a bad choice).
    return SelectField(label, coerce=_optional_int, validate_choice=False,
                       validators=[DataRequired(_l("Vui lòng chọn thôn/tổ dân phố."))])


def _decision_ref():
    return StringField(_l("Số, ngày quyết định (nếu có)"), filters=[_clean_text],
                       validators=[Optional(), Length(max=200)],
                       render_kw={"placeholder": _l("vd. QĐ 12/QĐ-TYT ngày 01/10/2025")})


class _AnsweredRadio(RadioField):
    """A radio group whose default only pre-selects the blank form: a POST without it is "not
    answered" (None), for the service to refuse, never a silent default."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "RadioField"  # rendered as radio buttons by the form macros

    def process_formdata(self, valuelist):
        self.data = self.coerce(valuelist[0]) if valuelist else None


class TransferForm(DomainErrorForm):
    hamlet = _hamlet_field(_l("Điều chuyển đến thôn/tổ dân phố"))
    on = _date(_l("Ngày điều chuyển"))
    # TT 02/2021/TT-BYT Art. 2.2; the service decides (a hamlet they already live in needs neither).
    residence = _AnsweredRadio(
        _l("Nơi cư trú từ ngày điều chuyển"), default=Residence.MOVES.value, validate_choice=False,
        choices=[SelectChoice(Residence.MOVES.value, _l("Chuyển đến sinh sống tại thôn mới (cập nhật nơi cư trú)")),
                 SelectChoice(Residence.ELSEWHERE.value, _l("Vẫn sinh sống nơi khác (ngoại lệ, cần giải trình)"))],
        description=_l("Cộng tác viên phải đang sinh sống tại thôn phụ trách (Thông tư 02/2021/TT-BYT, Điều 2); "
                       "nếu đã cư trú tại thôn mới thì không cần giải trình."))
    residence_exception = _note(_l("Giải trình ngoại lệ nơi cư trú (bắt buộc nếu vẫn sinh sống nơi khác)"))
    decision_ref = _decision_ref()
    note = _note(_l("Ghi chú (lý do điều chuyển…)"))
    submit = SubmitField(_l("Điều chuyển"))


class AddHamletForm(DomainErrorForm):
    hamlet = _hamlet_field(_l("Kiêm nhiệm thêm thôn/tổ dân phố"))
    on = _date(_l("Bắt đầu kiêm nhiệm từ ngày"))
    decision_ref = _decision_ref()
    submit = SubmitField(_l("Phân công kiêm nhiệm"))


class EndCoverForm(DomainErrorForm):
    on = _date(_l("Kết thúc kiêm nhiệm từ ngày"))
    submit = SubmitField(_l("Kết thúc kiêm nhiệm"))


class SuspendForm(DomainErrorForm):
    on = _date(_l("Tạm đình chỉ từ ngày"))
    reason = TextAreaField(_l("Lý do tạm đình chỉ"), filters=[_clean_text], render_kw={"rows": 2},
                           validators=[DataRequired(_l("Vui lòng ghi lý do tạm đình chỉ.")), Length(max=2000)])
    confirm = BooleanField(_l("Tôi xác nhận tạm đình chỉ cộng tác viên này: trong thời gian tạm đình chỉ, "
                              "cộng tác viên không hoạt động và không được chi bồi dưỡng."),
                           validators=[DataRequired(_l("Vui lòng đánh dấu ô xác nhận trước khi tạm đình chỉ."))])
    submit = SubmitField(_l("Tạm đình chỉ"))


class ReinstateForm(DomainErrorForm):
    on = _date(_l("Hoạt động trở lại từ ngày"))
    note = _note(_l("Ghi chú"))
    submit = SubmitField(_l("Cho hoạt động trở lại"))


class TerminateForm(DomainErrorForm):
    reason = SelectField(_l("Lý do nghỉ việc"),
                         choices=[SelectChoice("", _l("— Chọn lý do —"))]
                         + [SelectChoice(r.value, END_REASON_LABELS[r]) for r in TERMINATION_REASONS],
                         validators=[DataRequired(_l("Vui lòng chọn lý do nghỉ việc."))])
    on = _date(_l("Nghỉ việc từ ngày"))
    note = _note(_l("Ghi chú (số quyết định, đơn xin nghỉ…)"))
    confirm = BooleanField(_l("Tôi xác nhận cộng tác viên này nghỉ việc từ ngày trên: mọi phân công đang có kết thúc, "
                              "thôn không còn ai phụ trách sẽ được đưa vào danh sách cần tuyển và phải bàn giao Sổ A0."),
                           validators=[DataRequired(_l("Vui lòng đánh dấu ô xác nhận trước khi cho nghỉ việc."))])
    submit = SubmitField(_l("Cho nghỉ việc"))


class HandoverForm(DomainErrorForm):
    handed_on = _date(_l("Ngày bàn giao"))
    received_by = StringField(_l("Người nhận sổ (họ tên, chức vụ)"), filters=[_clean_text],
                              validators=[Optional(), Length(max=200)],
                              render_kw={"placeholder": _l("vd. Trần Thị B, viên chức dân số trạm")})
    to_collaborator = SelectField(_l("Cộng tác viên kế nhiệm nhận sổ (nếu có)"), coerce=_optional_int,
                                  validate_choice=False)
    note = _note(_l("Ghi chú (tình trạng sổ, số trang…)"))
    submit = SubmitField(_l("Ghi nhận bàn giao"))


def _duty_field():
    # One duty today (models.DutyKind); the service refuses any other value with a message.
    return HiddenField(default=DutyKind.FAMILY_CHILDREN.value,
                       validators=[DataRequired(_l("Vui lòng chọn nhiệm vụ kiêm nhiệm trong danh sách."))])


class StartDutyForm(DomainErrorForm):
    """Giving a collaborator the combined duty (kiêm công tác gia đình và trẻ em), from the
    profile page."""

    duty = _duty_field()
    on = _date(_l("Kiêm nhiệm từ ngày"))
    decision_ref = _decision_ref()
    submit = SubmitField(_l("Ghi kiêm nhiệm"))


class EndDutyForm(DomainErrorForm):
    duty = _duty_field()
    on = _date(_l("Thôi kiêm nhiệm từ ngày"))
    submit = SubmitField(_l("Thôi kiêm nhiệm"))


class RosterImportForm(DomainErrorForm):
    """The upload of a roster file (issue #12 item 3): shape only; reading and every rule are
    ``roster_import``'s."""

    file = FileField(_l("Tệp danh sách (Excel .xlsx, .xls, .ods hoặc CSV)"),
                     validators=[FileRequired(_l("Vui lòng chọn tệp cần nhập."))],
                     render_kw={"accept": ".xlsx,.xlsm,.xls,.ods,.csv,.txt"})
    submit = SubmitField(_l("Tải lên và kiểm tra"))


class ImportConfirmForm(DomainErrorForm):
    """The confirmation after the dry run: the staged file's token, nothing else (the plan is
    made again from the file, nothing the page showed is trusted)."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("Nhập vào cơ sở dữ liệu"))

"""Forms of the facility pages. They check shape only (lengths, dates typed dd/mm/yyyy, a chosen
file); the rules (one station per commune, communes of the province, dates in order) live in
``services`` and come back as the form's errors (``DomainErrorForm``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from ..common.clock import today as clock_today
from ..units.forms import DATE_FORMATS, DayFirstDateField, DomainErrorForm, _clean_text
from ..units.models import AdminUnit, Facility, FacilityKind
from .services import ADDRESS_MAX, CODE_MAX, DECISION_MAX, NAME_MAX, PHONE_MAX

_DATE_INVALID = _l("Ngày không hợp lệ (ngày/tháng/năm).")


def _date(label, message):
    return DayFirstDateField(label, format=DATE_FORMATS, default=clock_today,
                             validators=[InputRequired(message)], invalid_value_message=_DATE_INVALID)


def commune_choices(communes: list[AdminUnit]) -> list[tuple[str, str]]:
    return [(str(c.id), f"{c.code} – {c.full_name}") for c in communes]


def facility_choices(facilities: list[Facility], *, blank: str | None = None) -> list[tuple[str, str]]:
    choices = [("", blank)] if blank is not None else []
    return choices + [(str(f.id), f"{f.code} – {f.name}") for f in facilities]


class _Details(DomainErrorForm):
    name = StringField(_l("Tên cơ sở"), filters=[_clean_text], validators=[Optional(), Length(max=NAME_MAX)])
    address = StringField(_l("Địa chỉ"), filters=[_clean_text], validators=[Optional(), Length(max=ADDRESS_MAX)])
    phone = StringField(_l("Điện thoại"), filters=[_clean_text], validators=[Optional(), Length(max=PHONE_MAX)])
    decision_ref = StringField(_l("Quyết định thành lập/giao nhiệm vụ (số, ngày)"), filters=[_clean_text],
                               validators=[Optional(), Length(max=DECISION_MAX)])


class FacilityForm(_Details):
    """A new Department, centre or station (the kind is chosen by the page). Code and name may
    be left empty for the Department and a station: ``SYT-<province>`` / ``TYT-<commune>`` and
    "Sở Y tế …" / "Trạm Y tế …" are used."""

    code = StringField(_l("Mã cơ sở"), filters=[_clean_text], validators=[Optional(), Length(max=CODE_MAX)])
    communes = SelectMultipleField(_l("Xã/phường phụ trách"), validate_choice=False, render_kw={"size": 12})
    commune = SelectField(_l("Xã/phường"), validate_choice=False)
    parent = SelectField(_l("Trung tâm y tế cấp trên"), validate_choice=False)
    valid_from = _date(_l("Hoạt động từ ngày"), _l("Vui lòng nhập ngày bắt đầu hoạt động."))
    submit = SubmitField(_l("Tạo cơ sở"))

    hidden: frozenset[str] = frozenset()  # fields the page does not show for the chosen kind

    def for_kind(self, kind: FacilityKind) -> FacilityForm:
        """Show only the fields of ``kind``: the communes of a centre, the commune and centre of a station."""
        shown = {FacilityKind.HEALTH_CENTRE: {"communes"}, FacilityKind.STATION: {"commune", "parent"}}.get(kind, set())
        self.hidden = frozenset({"communes", "commune", "parent"} - shown)
        return self

    def show_domain_error(self, error) -> None:
        """A station's commune is one field; a refusal about a field the page hides goes on top."""
        if error.field == "communes" and "communes" in self.hidden and "commune" not in self.hidden:
            error.field = "commune"
        if error.field in self.hidden:
            error.field = None
        super().show_domain_error(error)


class EditFacilityForm(_Details):
    parent = SelectField(_l("Trung tâm y tế cấp trên"), validate_choice=False)
    submit = SubmitField(_l("Lưu"))


class ServiceAreaForm(DomainErrorForm):
    """The communes served from a date (the days before keep what was served then)."""

    communes = SelectMultipleField(_l("Xã/phường phụ trách"), validate_choice=False, render_kw={"size": 14})
    on = _date(_l("Áp dụng từ ngày"), _l("Vui lòng nhập ngày áp dụng."))
    submit = SubmitField(_l("Lưu vùng phục vụ"))


class CloseFacilityForm(DomainErrorForm):
    # Named like the model column so a service error about ``valid_to`` lands on this field.
    valid_to = DayFirstDateField(_l("Ngừng hoạt động từ ngày"), format=DATE_FORMATS,
                                 validators=[InputRequired(_l("Vui lòng nhập ngày ngừng hoạt động."))],
                                 invalid_value_message=_DATE_INVALID)
    decision_ref = StringField(_l("Số, ngày quyết định (nếu có)"), filters=[_clean_text],
                               validators=[Optional(), Length(max=DECISION_MAX)])
    submit = SubmitField(_l("Xác nhận đóng cơ sở"))


class StationsForm(DomainErrorForm):
    """The confirmation of "a station for every commune", for the day shown in the preview."""

    on = HiddenField()
    submit = SubmitField(_l("Tạo các trạm y tế"))


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp trung tâm y tế (.xlsx, .xls, .ods, .csv)"),
                     validators=[FileRequired(_l("Vui lòng chọn tệp cần nhập."))])
    submit = SubmitField(_l("Tải lên và kiểm tra"))

    def show_domain_error(self, error) -> None:
        self.file.errors = [*self.file.errors, str(error)]


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Nhập"))

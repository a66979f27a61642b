"""Training forms. They check shape only (required, dates, numbers); the rules (end after start,
positive hours, completion only after the course ended, whose people may be added) live in
:mod:`.training` and come back as a :class:`DomainError` shown next to the field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..units.forms import DATE_FORMATS, DayFirstDateField, DomainErrorForm, _clean_text

BAD_DATE = _l("Ngày không hợp lệ (ngày/tháng/năm).")


def _date(label, required):
    return DayFirstDateField(label, format=DATE_FORMATS, validators=[InputRequired(required)],
                     invalid_value_message=BAD_DATE)


class CourseForm(DomainErrorForm):
    unit_id = SelectField(_l("Địa bàn tổ chức"), coerce=int,
                          validators=[InputRequired(_l("Vui lòng chọn địa bàn tổ chức."))])
    title = StringField(_l("Tên lớp tập huấn"), filters=[_clean_text],
                        validators=[DataRequired(_l("Vui lòng nhập tên lớp tập huấn.")), Length(max=300)],
                        render_kw={"placeholder": _l("vd. Tập huấn kiến thức, kỹ năng công tác dân số cho CTV mới")})
    organiser = StringField(_l("Đơn vị tổ chức"), filters=[_clean_text],
                            validators=[DataRequired(_l("Vui lòng nhập đơn vị tổ chức lớp.")), Length(max=300)],
                            render_kw={"placeholder": _l("vd. Trung tâm Y tế khu vực …")})
    starts_on = _date(_l("Ngày bắt đầu"), _l("Vui lòng nhập ngày bắt đầu."))
    ends_on = _date(_l("Ngày kết thúc"), _l("Vui lòng nhập ngày kết thúc."))
    hours = DecimalField(_l("Số giờ học"), places=1, validators=[InputRequired(_l("Vui lòng nhập số giờ học."))],
                         invalid_value_message=_l("Số giờ học phải là một số."),
                         render_kw={"inputmode": "decimal", "step": "0.5", "min": "0.5"})
    is_population_work = BooleanField(
        _l("Tập huấn công tác dân số (nội dung do Bộ Y tế ban hành; đủ điều kiện cho CTV theo ngoại lệ trình độ "
           "tiểu học)"))
    location = StringField(_l("Địa điểm"), filters=[_clean_text], validators=[Optional(), Length(max=300)])
    note = TextAreaField(_l("Ghi chú"), filters=[_clean_text], validators=[Optional(), Length(max=2000)],
                         render_kw={"rows": 2})
    submit = SubmitField(_l("Lưu lớp tập huấn"))

    def course_fields(self) -> dict:
        """Keyword arguments for ``training.create_course`` / ``update_course`` (except unit, actor)."""
        return {"title": self.title.data, "organiser": self.organiser.data, "starts_on": self.starts_on.data,
                "ends_on": self.ends_on.data, "hours": self.hours.data,
                "is_population_work": self.is_population_work.data, "location": self.location.data or None,
                "note": self.note.data or None}

    def fill(self, course) -> None:
        for name in ("title", "organiser", "starts_on", "ends_on", "hours", "is_population_work", "location",
                     "note"):
            getattr(self, name).data = getattr(course, name)
        self.unit_id.data = course.unit_id


class AttendanceForm(DomainErrorForm):
    candidate_id = IntegerField(validators=[InputRequired(_l("Chưa chọn người."))],
                                invalid_value_message=_l("Chưa chọn người."))
    completed = BooleanField(_l("Đã hoàn thành"))
    note = StringField(_l("Ghi chú"), filters=[_clean_text], validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Lưu"))


class RemoveAttendanceForm(DomainErrorForm):
    confirm = BooleanField(_l("Tôi xác nhận xoá người này khỏi danh sách lớp"),
                           validators=[DataRequired(_l("Vui lòng đánh dấu xác nhận trước khi xoá."))])
    submit = SubmitField(_l("Xoá khỏi danh sách"))

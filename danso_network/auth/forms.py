"""Login and account forms (shape only; rules live in services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, Optional

from ..common.clock import today
from ..units.forms import DayFirstDateField
from .services import MIN_PASSWORD_LENGTH

# The rule itself is checked once, in ``services.check_password_strength``; this only tells the user.
PASSWORD_HINT = _l("Ít nhất %(n)d ký tự; không chứa tên đăng nhập; không dùng mật khẩu phổ biến như “matkhau123”.",
                   n=MIN_PASSWORD_LENGTH)


class LoginForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(_l("Vui lòng nhập tên đăng nhập.")),
                                                            Length(max=80)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    remember = BooleanField(_l("Ghi nhớ đăng nhập trên máy này"))
    submit = SubmitField(_l("Đăng nhập"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired(_l("Vui lòng nhập mật khẩu hiện tại."))])
    new_password = PasswordField(_l("Mật khẩu mới"), description=PASSWORD_HINT,
                                 validators=[DataRequired(_l("Vui lòng nhập mật khẩu mới."))])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"),
                            validators=[EqualTo("new_password", message=_l("Hai mật khẩu không khớp."))])
    submit = SubmitField(_l("Đổi mật khẩu"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Đăng xuất"))


def _role_choices():
    from .labels import ROLE_LABELS

    return [(role.value, label) for role, label in ROLE_LABELS.items()]


class GrantForm(FlaskForm):
    role = SelectField(_l("Vai trò"), choices=[], validators=[DataRequired(_l("Vui lòng chọn vai trò."))])
    place = SelectField(_l("Nơi được cấp quyền"), choices=[], validate_choice=True,
                        validators=[DataRequired(_l("Vui lòng chọn nơi cấp quyền."))])
    valid_from = DayFirstDateField(_l("Có hiệu lực từ ngày"), default=today,
                           validators=[DataRequired(_l("Vui lòng nhập ngày theo dạng ngày/tháng/năm."))])
    submit = SubmitField(_l("Cấp quyền"))

    def fill(self, places):
        self.role.choices = _role_choices()
        groups: dict[str, list] = {}
        for value, label, group in places:
            groups.setdefault(group, []).append((value, label))
        self.place.choices = groups
        return self


class UserCreateForm(GrantForm):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(_l("Vui lòng nhập tên đăng nhập.")),
                                                            Length(max=80)])
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(_l("Vui lòng nhập họ và tên.")),
                                                         Length(max=200)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), Email(_l("Địa chỉ thư điện tử không hợp lệ.")),
                                                       Length(max=200)])
    password = PasswordField(_l("Mật khẩu ban đầu"), description=PASSWORD_HINT,
                             validators=[DataRequired(_l("Vui lòng nhập mật khẩu."))])
    submit = SubmitField(_l("Tạo tài khoản"))


class EndGrantForm(FlaskForm):
    on = DayFirstDateField(_l("Kết thúc từ ngày"), default=today,
                   validators=[DataRequired(_l("Vui lòng nhập ngày theo dạng ngày/tháng/năm."))])
    submit = SubmitField(_l("Kết thúc quyền"))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("Mật khẩu mới"), description=PASSWORD_HINT,
                                 validators=[DataRequired(_l("Vui lòng nhập mật khẩu mới."))])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"),
                            validators=[EqualTo("new_password", message=_l("Hai mật khẩu không khớp."))])
    submit = SubmitField(_l("Đặt lại mật khẩu"))


class ToggleActiveForm(FlaskForm):
    submit = SubmitField(_l("Xác nhận"))


class AccountsImportForm(FlaskForm):
    file = FileField(_l("Tệp tài khoản (.xlsx, .xls, .ods, .csv)"),
                     validators=[FileRequired(_l("Vui lòng chọn tệp cần nhập."))])
    submit = SubmitField(_l("Tải lên và kiểm tra"))

    def show_domain_error(self, error) -> None:
        self.file.errors = [*self.file.errors, str(error)]


class AccountsConfirmForm(FlaskForm):
    token = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Nhập"))

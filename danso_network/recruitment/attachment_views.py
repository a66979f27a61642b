"""Dossier attachments: upload (station staff, while the dossier is editable), download (anyone who
sees the application), delete after a confirmation page. Files are served with ``send_file`` as
downloads under their original name; ``X-Content-Type-Options: nosniff`` is set for every response
(web.py). The panel ``recruitment/attachments_panel.html`` is included by the application page,
whose view passes it :func:`panel_data` as ``panel``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ..auth.models import User
from ..auth.personal_data import can_see_applicant_data
from ..common.views import actor, load_or_404, run_service
from ..errors import NotFound
from ..extensions import db
from ..safe_redirect import safe_next
from . import attachments
from .models import DOSSIER_ITEMS, Application, Attachment
from .permissions import can_edit_dossier, can_view_application, can_view_attachment
from .services import DOSSIER_EDITABLE, dossier_label
from .workflow import State

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


class UploadForm(FlaskForm):
    kind = SelectField(_l("Loại giấy tờ"), validators=[DataRequired(_l("Vui lòng chọn loại giấy tờ."))],
                       invalid_choice_message=_l("Loại giấy tờ không hợp lệ."))
    file = FileField(_l("Tệp (PDF, JPEG, PNG)"), validators=[FileRequired(_l("Vui lòng chọn tệp cần tải lên."))])
    next = HiddenField()
    submit = SubmitField(_l("Tải lên"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(k, dossier_label(k)) for k in DOSSIER_ITEMS]

    def show_domain_error(self, error) -> None:
        """A refused file (type, size, storage) is shown under the file field."""
        self.file.errors = [*self.file.errors, str(error)]


class DeleteForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField(_l("Xoá tệp"))


def _edit_dossier(user, attachment: Attachment) -> bool:
    return can_edit_dossier(user, attachment.application)


def _page(application: Application, form: UploadForm | None = None):
    show = "recruitment.show" in current_app.view_functions  # the application page, when installed
    back = url_for("recruitment.show", application_id=application.id) if show else ""
    return render_template("recruitment/attachments.html", application=application, panel=panel_data(application),
                           upload_form=form, back=safe_next(default=back))


@bp.get("/applications/<int:application_id>")
@login_required
def index(application_id: int):
    return _page(load_or_404(Application, application_id, need=can_view_application))


@bp.post("/applications/<int:application_id>")
@login_required
def upload(application_id: int):
    application = load_or_404(Application, application_id, need=can_edit_dossier)
    form = UploadForm()
    if form.validate_on_submit():
        done = run_service(attachments.save_attachment, application, kind=form.kind.data,
                           stream=form.file.data.stream, filename=form.file.data.filename, actor=actor(), form=form)
        if done.ok:
            db.session.commit()
            flash(_("Đã tải lên “%(n)s”.", n=done.value.original_name), "success")
            return redirect(safe_next(default=url_for(".index", application_id=application.id)))
    return _page(application, form)


@bp.get("/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = load_or_404(Attachment, attachment_id, need=can_view_attachment)
    try:
        path = attachments.file_path(attachment)
    except NotFound:  # the row is there, the file has gone from the disk
        abort(404)
    response = send_file(path, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.original_name, max_age=0)
    response.headers["Cache-Control"] = "no-store"  # personal documents: never kept by a proxy or browser
    return response


@bp.route("/<int:attachment_id>/delete", methods=["GET", "POST"])
@login_required
def delete(attachment_id: int):
    attachment = load_or_404(Attachment, attachment_id, need=_edit_dossier)
    application = attachment.application
    back = safe_next(default=url_for(".index", application_id=application.id))
    form = DeleteForm()
    if form.validate_on_submit():
        name = attachment.original_name
        if run_service(attachments.delete_attachment, attachment, actor=actor()).ok:
            db.session.commit()
            flash(_("Đã xoá tệp “%(n)s”.", n=name), "success")
        return redirect(back)
    return render_template("recruitment/attachments_delete.html", attachment=attachment, application=application,
                           form=form, back=back, kind_label=dossier_label,
                           editable=State(application.state) in DOSSIER_EDITABLE)


# --- the panel included by the application page ----------------------------------------------


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        megabytes = format(n / (1024 * 1024), ".1f").replace(".", ",")
        return _("%(n)s MB", n=megabytes)
    return _("%(n)s KB", n=max(1, round(n / 1024)))


def panel_data(application: Application) -> dict:
    """What ``attachments_panel.html`` shows for the current user (passed as ``panel`` by the
    application page and the attachments page)."""
    ids = {a.uploaded_by_id for a in application.attachments if a.uploaded_by_id}
    names = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all()) if ids else {}
    may_edit = can_edit_dossier(current_user, application)
    open_dossier = State(application.state) in DOSSIER_EDITABLE
    return {
        "rows": [(a, names.get(a.uploaded_by_id, "—")) for a in application.attachments],
        "downloadable": can_see_applicant_data(current_user, application),
        "editable": may_edit and open_dossier,
        "locked": may_edit and not open_dossier,
        "kinds": [(k, dossier_label(k)) for k in DOSSIER_ITEMS],
        "accept": attachments.ACCEPT,
        "max_mb": attachments.max_bytes() // (1024 * 1024),
        "human_size": human_size,
        "kind_label": dossier_label,
    }

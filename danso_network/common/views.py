"""What every view does the same way: load an object or answer 404/403, and run one service,
turning a refusal into the form's message (DESIGN.md §4, "a request")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, flash
from flask_login import current_user

from ..errors import MAX_ID, DomainError, NotFound, PermissionDenied
from ..extensions import db

T = TypeVar("T")


def actor():
    """The signed-in user as a plain object (what services record as the actor)."""
    return current_user._get_current_object()


def load_or_404(model: type[T], object_id: int, need: Callable[[Any, T], bool] | None = None, *,
                user=None, missing=None, denied=None, where: Callable[[T], bool] | None = None) -> T:
    """The row with this id, or 404 if there is none (or ``where(row)`` is false, e.g. a unit
    of another level); 403 unless ``need(user, row)`` allows it. Access is fail-closed: a view
    that shows or changes a row passes the predicate for it. ``user`` defaults to the signed-in
    user (the API passes its token's user); ``missing``/``denied`` are the messages the JSON API
    answers with (pages show their own error page)."""
    row = db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None
    if row is None or (where is not None and not where(row)):
        if missing is None:
            abort(404)
        raise NotFound(missing)
    if need is not None and not need(current_user if user is None else user, row):
        if denied is None:
            abort(403)
        raise PermissionDenied(denied)
    return row


@dataclass
class Outcome:
    """What running a service gave: its value, or the refusal (``status`` for the response)."""

    value: Any = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return self.error.status if self.error else 200


def run_service(fn: Callable[..., Any], *args, form=None, **kwargs) -> Outcome:
    """Call one service for a view. A refusal (``DomainError``) rolls back everything the
    service did and is shown on ``form`` (beside the field it names) or, without a form, as a
    flash message; nothing is committed. Success is left for the view to commit."""
    try:
        return Outcome(fn(*args, **kwargs))
    except DomainError as error:
        db.session.rollback()
        if form is not None and hasattr(form, "show_domain_error"):
            form.show_domain_error(error)
        else:
            flash(str(error), "danger")
        return Outcome(error=error)

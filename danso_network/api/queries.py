"""Read-only queries of the API that no service answers (the lists come from the services,
shared with the pages: e.g. ``recruitment.services.applications_query``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from ..recruitment.models import ApplicationEvent


def full_names(events: Sequence[ApplicationEvent]) -> dict[int, str]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {uid: name for uid, name in db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))}

"""Read-only queries behind the API's lists (scoped by the caller's unit paths)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..auth.models import User
from ..extensions import db
from ..recruitment.models import Application, ApplicationEvent, Candidate
from ..textnorm import fold
from ..units.models import AdminUnit
from ..units.services import path_filter


def applications(prefixes: Sequence[str], *, state: str | None = None, within: str | None = None,
                 q: str | None = None):
    """Applications for hamlets under ``prefixes`` (and under the path ``within``), newest first;
    ``q`` matches the candidate's name without diacritics, or the start of the CCCD."""
    stmt = (select(Application).join(Application.candidate).options(
        contains_eager(Application.candidate), selectinload(Application.hamlet).selectinload(AdminUnit.parent))
        .where(path_filter(prefixes, Application.hamlet_path)))
    if state:
        stmt = stmt.where(Application.state == state)
    if within:
        stmt = stmt.where(Application.hamlet_path.startswith(within, autoescape=True))
    if q and q.strip():
        stmt = stmt.where(or_(Candidate.search_text.contains(fold(q), autoescape=True),
                              Candidate.national_id.startswith(q.strip(), autoescape=True)))
    return stmt.order_by(Application.updated_at.desc(), Application.id.desc())


def full_names(events: Sequence[ApplicationEvent]) -> dict[int, str]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {uid: name for uid, name in db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))}

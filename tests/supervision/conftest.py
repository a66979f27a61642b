"""Shared set-up for the supervision tests: a logged-in browser with its CSRF token, and counts
of the supervision tables (to prove that a refused action changed nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.extensions import db
from danso_network.supervision.models import (
    MeetingAttendance,
    MonthlyMeeting,
    ProfessionalLink,
    SupervisionVisit,
)

from ..conftest import csrf_token, login


class Browser:
    """A logged-in user's browser: one client, one CSRF token."""

    def __init__(self, app, username: str):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        self.token = csrf_token(self.client, "/")

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, **kw):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kw)


@pytest.fixture
def browser(app):
    return lambda username: Browser(app, username)


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (SupervisionVisit, ProfessionalLink, MonthlyMeeting, MeetingAttendance, AuditEvent))

"""A hand-computed year for the annual-target tests (tests/factories.py: build_world, appoint,
criteria), and a logged-in browser."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from danso_network.extensions import db
from danso_network.supervision import services as sv
from danso_network.training.models import TrainingAttendance, TrainingCourse
from tests.conftest import csrf_token, login
from tests.factories import appoint, criteria

YEAR = 2026
AFTER_YEAR = date(2027, 1, 10)  # the year is over: figures are final
CHECKED = {"p0_submitted": True}


def course(unit, ends_on: date, people: dict) -> TrainingCourse:
    """A course ending ``ends_on``; ``people`` maps a collaborator to completed (True) or not."""
    row = TrainingCourse(unit_id=unit.id, unit_path=unit.path, title=f"Tập huấn {ends_on}", organiser="TTYT",
                         starts_on=ends_on, ends_on=ends_on, hours=8, created_at=datetime.now(UTC))
    db.session.add(row)
    db.session.flush()
    for collaborator, completed in people.items():
        db.session.add(TrainingAttendance(course_id=row.id, candidate_id=collaborator.candidate_id,
                                          completed=completed, recorded_at=datetime.now(UTC)))
    db.session.flush()
    return row


def end(collaborator, on: date) -> None:
    a = collaborator.assignments[0]
    a.ended_on, a.end_reason = on, "resigned"
    db.session.flush()


@pytest.fixture
def year_world(world):
    """Đồng Nai on Gia Lai's bands (≤200 households → 1, 201–400 → 2, >400 → 3). Commune A in 2026:

    - hamlets: Khu phố 1 (180 hộ, quota 1) with c1 → covered; Khu phố 2 (420 hộ, quota 3) with c2
      (c3 left on 1/3/2026) → below quota: **50.0 %** covered on 31/12/2026;
    - trained: c1 completed a course ending 16/4/2026, c3 one ending 10/2/2026 (while serving),
      c2 attended the April course without completing it and completed one on 20/12/2025 (last
      year): **2**;
    - visits: c1 on 2/2 and 4/5, c2 on 2/3, c3 on 16/2/2026, and c1 on 3/11/2025 (last year):
      **4** in 2026;
    - meetings: January (c1, c2 attended; c3 absent) and May (c1 attended; c2 absent) 2026, and
      December 2025 (all attended): **3 of 5 = 60.0 %**.

    Commune B in 2026: Ấp Tân Lập (300 hộ, quota 2) with c4 and Ấp 2 (90 hộ, quota 1) with c5:
    **50.0 %**; c4 completed the April course: **1** trained; no visit; no meeting (None %).
    """
    criteria(world.dong_nai)
    kp1, kp2 = world.hamlets_a
    tan_lap, ap2 = world.hamlets_b
    start = date(2025, 9, 1)
    c = {"c1": appoint(kp1, 1, start), "c2": appoint(kp2, 2, start), "c3": appoint(kp2, 3, start),
         "c4": appoint(tan_lap, 4, start), "c5": appoint(ap2, 5, start)}
    end(c["c3"], date(2026, 3, 1))
    course(world.dong_nai, date(2025, 12, 20), {c["c2"]: True})
    course(world.dong_nai, date(2026, 2, 10), {c["c3"]: True})
    course(world.dong_nai, date(2026, 4, 16), {c["c1"]: True, c["c2"]: False, c["c4"]: True})
    centre = world.users["centre"]
    for who, day in (("c1", date(2025, 11, 3)), ("c1", date(2026, 2, 2)), ("c1", date(2026, 5, 4)),
                     ("c2", date(2026, 3, 2)), ("c3", date(2026, 2, 16))):
        sv.record_visit(c[who], supervisor=centre, visited_on=day, checklist=CHECKED, actor=centre)
    head = world.users["head_a"]
    sv.record_meeting(world.commune_a, month=date(2025, 12, 1), held_on=date(2025, 12, 26),
                      attendance={c["c1"].id: (True, True), c["c2"].id: (True, True), c["c3"].id: (True, True)},
                      actor=head)
    sv.record_meeting(world.commune_a, month=date(2026, 1, 1), held_on=date(2026, 1, 27),
                      attendance={c["c1"].id: (True, True), c["c2"].id: (True, False), c["c3"].id: (False, False)},
                      actor=head)
    sv.record_meeting(world.commune_a, month=date(2026, 5, 1), held_on=date(2026, 5, 26),
                      attendance={c["c1"].id: (True, True), c["c2"].id: (False, False)}, actor=head)
    db.session.commit()
    return c


class Browser:
    """A logged-in user's browser: one client, one CSRF token."""

    def __init__(self, app, username: str):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        self.token = csrf_token(self.client, "/")

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, *, csrf: bool = True, **kw):
        payload = {"csrf_token": self.token} if csrf else {}
        return self.client.post(url, data={**payload, **(data or {})}, **kw)


@pytest.fixture
def browser(app):
    return lambda username: Browser(app, username)

"""Monthly meetings (giao ban): who is expected in a month, recording and re-recording the
attendance with the P0 slip, the refusals, and the under-review rule with its edge cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators.models import NetworkPolicy, Suspension
from danso_network.common import clock
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.supervision import services
from danso_network.supervision.models import MonthlyMeeting

from ..factories import appoint
from .conftest import counts

MARCH = date(2026, 3, 1)


def suspend(collaborator, start, end=None):
    db.session.add(Suspension(collaborator=collaborator, started_on=start, ended_on=end, reason="Ốm",
                              created_at=datetime.now(UTC)))
    db.session.flush()


def end_assignment(collaborator, on):
    a = collaborator.assignments[0]
    a.ended_on, a.end_reason = on, "resigned"
    db.session.flush()


def meet(commune, month, held_on=None, **sheet):
    """Record a meeting; ``sheet`` maps a collaborator to "ok" (attended, P0), "absent", "no_p0"."""
    values = {"ok": (True, True), "absent": (False, False), "no_p0": (True, False)}
    return services.record_meeting(commune, month=month, held_on=held_on or month + timedelta(days=24),
                                   attendance={c.id: values[v] for c, v in sheet.values()})


def roster_ids(commune, month):
    return [r.collaborator.id for r in services.meeting_roster(commune, month)]


def test_roster_is_who_served_on_any_day_of_the_month(world):
    ha, hb = world.hamlets_a
    whole = appoint(ha, 1, started_on=date(2025, 9, 1))
    joined = appoint(hb, 2, started_on=date(2026, 3, 15))
    left = appoint(ha, 3, started_on=date(2025, 9, 1))
    end_assignment(left, date(2026, 3, 10))
    away_all_month = appoint(ha, 4, started_on=date(2025, 9, 1))
    suspend(away_all_month, date(2026, 2, 20), date(2026, 4, 1))
    away_part = appoint(hb, 5, started_on=date(2025, 9, 1))
    suspend(away_part, date(2026, 3, 5), date(2026, 3, 20))
    later = appoint(ha, 6, started_on=date(2026, 4, 1))
    gone = appoint(ha, 7, started_on=date(2025, 9, 1))
    end_assignment(gone, date(2026, 3, 1))
    appoint(world.hamlets_b[0], 8)
    ids = set(roster_ids(world.commune_a, date(2026, 3, 17)))
    assert ids == {whole.id, joined.id, left.id, away_part.id}
    assert later.id in roster_ids(world.commune_a, date(2026, 4, 1))
    assert away_all_month.id in roster_ids(world.commune_a, date(2026, 4, 1))  # reinstated on 1/4
    rows = services.meeting_roster(world.commune_a, MARCH)
    assert [r.hamlets[0].name for r in rows] == sorted(r.hamlets[0].name for r in rows)


def test_record_then_update_the_same_month(world):
    a1, a2 = appoint(world.hamlets_a[0], 1), appoint(world.hamlets_a[1], 2)
    meeting = services.record_meeting(world.commune_a, month=date(2026, 3, 17), held_on=date(2026, 3, 25),
                                      attendance={a1.id: (True, True), a2.id: (False, False, "Ốm, báo trước")},
                                      note="Giao ban tại trạm", actor=world.users["officer_a"])
    assert meeting.month == MARCH and meeting.commune_path == world.commune_a.path
    rows = {a.collaborator_id: (a.attended, a.p0_submitted, a.note) for a in meeting.attendances}
    assert rows == {a1.id: (True, True, None), a2.id: (False, False, "Ốm, báo trước")}
    again = services.record_meeting(world.commune_a, month=MARCH, held_on=date(2026, 3, 26),
                                    attendance={a2.id: (True, True)}, actor=world.users["head_a"])
    assert again.id == meeting.id and again.held_on == date(2026, 3, 26) and again.note is None
    rows = {a.collaborator_id: (a.attended, a.p0_submitted) for a in again.attendances}
    assert rows == {a1.id: (True, True), a2.id: (True, True)}  # a1's row kept
    assert db.session.scalar(select(MonthlyMeeting).where(MonthlyMeeting.commune_id == world.commune_a.id)) == meeting
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "meeting.update"))
    assert update.before["attendance"][str(a2.id)] == [False, False, "Ốm, báo trước"]
    assert update.after["attendance"][str(a2.id)] == [True, True, None]
    assert update.before["held_on"] == "2026-03-25" and update.after["held_on"] == "2026-03-26"
    roster = services.meeting_roster(world.commune_a, MARCH)
    assert {r.collaborator.id: r.attendance.attended for r in roster} == {a1.id: True, a2.id: True}


@pytest.mark.parametrize(("case", "month", "held_on", "message"), [
    ("held before the month", MARCH, date(2026, 2, 28), "không được trước tháng giao ban"),
    ("in the future", None, None, "không được ở tương lai"),
])
def test_meeting_dates_are_checked(world, case, month, held_on, message):
    a1 = appoint(world.hamlets_a[0], 1)
    if month is None:
        held_on = clock.today() + timedelta(days=1)
        month = held_on.replace(day=1)
    before = counts()
    with pytest.raises(ValidationFailed, match=message):
        services.record_meeting(world.commune_a, month=month, held_on=held_on, attendance={a1.id: (True, True)})
    assert counts() == before


def test_meeting_with_an_outsider_is_refused(world):
    a1 = appoint(world.hamlets_a[0], 1)
    outsider = appoint(world.hamlets_b[0], 2, full_name="Trần Thị Xã Khác")
    not_yet = appoint(world.hamlets_a[1], 3, started_on=date(2026, 4, 1), full_name="Lê Văn Chưa Vào")
    before = counts()
    with pytest.raises(ValidationFailed, match="Trần Thị Xã Khác, Lê Văn Chưa Vào"):
        services.record_meeting(world.commune_a, month=MARCH, held_on=date(2026, 3, 25),
                                attendance={a1.id: (True, True), outsider.id: (True, True), not_yet.id: (True, True)})
    with pytest.raises(ValidationFailed, match="#999999"):
        services.record_meeting(world.commune_a, month=MARCH, held_on=date(2026, 3, 25),
                                attendance={999999: (True, True)})
    with pytest.raises(ValidationFailed, match="chưa có cộng tác viên nào"):
        services.record_meeting(world.commune_a, month=MARCH, held_on=date(2026, 3, 25), attendance={})
    with pytest.raises(ValidationFailed, match="theo xã"):
        services.record_meeting(world.hamlets_a[0], month=MARCH, held_on=date(2026, 3, 25),
                                attendance={a1.id: (True, True)})
    assert counts() == before


def test_summaries_count_attendance_and_p0(world):
    a = [appoint(world.hamlets_a[0], i) for i in range(1, 5)]
    meet(world.commune_a, MARCH, x=(a[0], "ok"), y=(a[1], "no_p0"), z=(a[2], "absent"), w=(a[3], "ok"))
    [summary] = services.meeting_summaries(world.commune_a)
    assert (summary.rows, summary.attended, summary.p0) == (4, 3, 2)
    assert summary.attendance_rate == 0.75 and summary.p0_rate == 0.5
    assert [m.meeting.month for m in services.recent_attendance(a[0])] == [MARCH]


# --- under review ---------------------------------------------------------------------------------


def review(world, on, prefixes=None):
    return {r.collaborator_id: [m.reason for m in r.missed]
            for r in services.under_review(prefixes or [world.dong_nai.path], on)}


def test_under_review_edge_cases(world):
    ha = world.hamlets_a[0]
    two_absences = appoint(ha, 1)
    one_then_attend = appoint(ha, 2)
    slip_then_unlisted = appoint(ha, 3)
    miss_attend_miss = appoint(ha, 4)
    newcomer = appoint(ha, 5, started_on=date(2026, 3, 1))
    fine = appoint(ha, 6)
    c = world.commune_a
    meet(c, date(2026, 1, 1), a=(two_absences, "ok"), b=(one_then_attend, "ok"), c=(slip_then_unlisted, "ok"),
         d=(miss_attend_miss, "absent"), f=(fine, "ok"))
    meet(c, date(2026, 2, 1), a=(two_absences, "absent"), b=(one_then_attend, "absent"),
         c=(slip_then_unlisted, "no_p0"), d=(miss_attend_miss, "ok"), f=(fine, "ok"))
    meet(c, MARCH, held_on=date(2026, 3, 25), a=(two_absences, "absent"), b=(one_then_attend, "ok"),
         d=(miss_attend_miss, "absent"), e=(newcomer, "absent"), f=(fine, "ok"))
    assert review(world, date(2026, 3, 31)) == {two_absences.id: ["absent", "absent"],
                                                slip_then_unlisted.id: ["no_record", "no_p0"]}
    # Before the March meeting was held, the last two recorded are January and February.
    assert review(world, date(2026, 3, 20)) == {}
    assert review(world, date(2026, 2, 28)) == {}
    # Scope and no scope.
    assert review(world, date(2026, 3, 31), [world.commune_b.path]) == {}
    assert services.under_review([], date(2026, 3, 31)) == []


def test_a_month_without_a_recorded_meeting_breaks_the_run(world):
    c = world.commune_b
    x = appoint(world.hamlets_b[0], 1)
    meet(c, date(2026, 1, 1), a=(x, "absent"))
    meet(c, MARCH, a=(x, "absent"))
    assert review(world, date(2026, 3, 31)) == {}
    meet(c, date(2026, 2, 1), a=(x, "absent"))  # February recorded late
    assert review(world, date(2026, 3, 31)) == {x.id: ["absent", "absent"]}


def test_only_serving_collaborators_are_under_review(world):
    c = world.commune_a
    suspended, left = appoint(world.hamlets_a[0], 1), appoint(world.hamlets_a[0], 2)
    meet(c, date(2026, 2, 1), a=(suspended, "absent"), b=(left, "absent"))
    meet(c, MARCH, a=(suspended, "absent"), b=(left, "absent"))
    assert set(review(world, date(2026, 3, 31))) == {suspended.id, left.id}
    suspend(suspended, date(2026, 4, 1))
    end_assignment(left, date(2026, 4, 1))
    assert review(world, date(2026, 4, 2)) == {}


def test_the_province_may_ask_for_more_missed_months(world):
    c = world.commune_a
    x = appoint(world.hamlets_a[0], 1)
    meet(c, date(2026, 1, 1), a=(x, "ok"))
    meet(c, date(2026, 2, 1), a=(x, "absent"))
    meet(c, MARCH, a=(x, "no_p0"))
    assert review(world, date(2026, 3, 31)) == {x.id: ["no_p0", "absent"]}
    db.session.add(NetworkPolicy(province_id=world.dong_nai.id, valid_from=date(2026, 3, 1),
                                 missed_meetings_for_review=3, created_at=datetime.now(UTC)))
    db.session.flush()
    assert review(world, date(2026, 3, 31)) == {}


# --- the lists stay a fixed number of queries, whatever the size of the area ------------------


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1


def queries(fn) -> int:
    from sqlalchemy import event

    counter = QueryCounter()
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def test_lists_do_not_query_per_collaborator(world):
    def grow(start, n):
        made = [appoint(world.hamlets_a[i % 2], start + i) for i in range(n)]
        for month in (date(2026, 2, 1), date(2026, 3, 1)):
            services.record_meeting(world.commune_a, month=month, held_on=month + timedelta(days=20),
                                    attendance={c.id: (False, False) for c in made})
        services.record_visit(made[0], supervisor=world.users["centre"], visited_on=date(2026, 1, 5),
                              checklist={"register_up_to_date": True})
        db.session.flush()
        db.session.expire_all()

    scope, on = [world.dong_nai.path], date(2026, 4, 1)
    grow(1, 3)
    small = (queries(lambda: services.overdue_visits(scope, on)), queries(lambda: services.under_review(scope, on)))
    grow(100, 30)
    large = (queries(lambda: services.overdue_visits(scope, on)), queries(lambda: services.under_review(scope, on)))
    assert len(services.under_review(scope, on)) == 33
    assert small == large and min(small) >= 2


def test_transfers_count_only_the_months_spent_in_the_commune(world):
    from danso_network.collaborators.models import Assignment

    def transfer(c, hamlet, on):
        a = c.assignments[-1]
        a.ended_on, a.end_reason = on, "transferred"
        db.session.add(Assignment(collaborator=c, hamlet_id=hamlet.id, hamlet_path=hamlet.path, kind="primary",
                                  started_on=on))
        db.session.flush()
        db.session.refresh(c)

    from_b = appoint(world.hamlets_b[0], 1)
    within_a = appoint(world.hamlets_a[0], 2)
    transfer(from_b, world.hamlets_a[0], MARCH)
    transfer(within_a, world.hamlets_a[1], date(2026, 2, 15))
    anchor = appoint(world.hamlets_a[0], 3)  # the sheets need at least one row
    meet(world.commune_a, date(2026, 2, 1), a=(anchor, "ok"))
    meet(world.commune_a, MARCH, a=(anchor, "ok"), b=(from_b, "absent"))
    # from_b was in commune B in February: that meeting is not theirs. within_a was expected both months.
    assert review(world, date(2026, 3, 31)) == {within_a.id: ["no_record", "no_record"]}


def test_joining_after_the_month_s_meeting_is_not_a_miss(world):
    """Someone who starts on 28/02, after the February meeting (held 20/02), could not be on its
    sheet: that meeting is not counted against them, even though they served in February."""
    c = world.commune_a
    old_hand = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    late = appoint(world.hamlets_a[0], 2, started_on=date(2026, 2, 28))
    meet(c, date(2026, 2, 1), held_on=date(2026, 2, 20), a=(old_hand, "ok"))
    meet(c, MARCH, held_on=date(2026, 3, 25), a=(old_hand, "ok"), b=(late, "absent"))
    assert review(world, date(2026, 3, 31)) == {}

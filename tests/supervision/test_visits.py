"""Supervision visits, follow-ups and the overdue list, through the services: the checklist and
its score, every refusal (nothing written), the overdue rule (policy interval, boundaries,
suspended and departed collaborators, scope) and the follow-up list order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators.models import Assignment, NetworkPolicy, Suspension
from danso_network.common import clock
from danso_network.errors import Conflict, ValidationFailed
from danso_network.extensions import db
from danso_network.supervision import services
from danso_network.supervision.models import ChecklistItem

from ..factories import appoint
from .conftest import counts

ALL_PASS = {item.value: True for item in ChecklistItem}


def visit(collaborator, world, on, checklist=None, **kw):
    return services.record_visit(collaborator, supervisor=world.users["centre"], visited_on=on,
                                 checklist=checklist or ALL_PASS, actor=world.users["centre"], **kw)


def suspend(collaborator, start, end=None):
    db.session.add(Suspension(collaborator=collaborator, started_on=start, ended_on=end, reason="Ốm dài ngày",
                              created_at=datetime.now(UTC)))
    db.session.flush()


def end_assignment(collaborator, on, reason="resigned"):
    a = collaborator.assignments[0]
    a.ended_on, a.end_reason = on, reason
    db.session.flush()


# --- score --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "expected"), [
    ({"register_up_to_date": True}, 100),
    ({"register_up_to_date": False}, 0),
    ({"register_up_to_date": True, "p0_submitted": True, "meeting_attended": False}, 67),
    ({"register_up_to_date": True, "p0_submitted": False, "meeting_attended": False}, 33),
    ({**{k: True for k in list(services.CHECKLIST_KEYS)[:5]}, "training_attended": False, "referrals_made": False},
     71),
    ({"register_up_to_date": True, "p0_submitted": None, "meeting_attended": None}, 100),  # unchecked don't count
    ({"register_up_to_date": True, "p0_submitted": False}, 50),
])
def test_score_is_the_share_of_checked_items_passed(answers, expected):
    assert services.checklist_score(answers) == expected


def test_score_rounds_half_up():
    # No 7-item checklist lands on .5 exactly; the rule itself: 1 passed of 8 answered = 12.5 → 13.
    assert services.checklist_score({"a": True, **{f"x{i}": False for i in range(7)}}) == 13  # 12.5 → 13


def test_visit_records_answers_score_hamlet_and_audit(world):
    c = appoint(world.hamlets_a[1], 1)
    v = visit(c, world, date(2026, 1, 10), {"register_up_to_date": True, "p0_submitted": False},
              findings="  Sổ A0 cập nhật tốt ", follow_up="Nộp phiếu P0 tháng 12", follow_up_due=date(2026, 2, 1))
    assert v.score == 50
    assert v.checklist == {**{k: None for k in services.CHECKLIST_KEYS}, "register_up_to_date": True,
                           "p0_submitted": False}
    assert (v.hamlet_id, v.hamlet_path) == (world.hamlets_a[1].id, world.hamlets_a[1].path)
    assert v.findings == "Sổ A0 cập nhật tốt"
    assert v.supervisor == world.users["centre"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit.record"))
    assert event.object_id == str(v.id) and event.after["score"] == 50 and event.unit_path == v.hamlet_path


def test_visit_is_filed_under_the_primary_assignment_of_the_day(world):
    c = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    a = c.assignments[0]
    a.ended_on, a.end_reason = date(2026, 1, 1), "transferred"
    db.session.add(Assignment(collaborator=c, hamlet_id=world.hamlets_a[1].id, hamlet_path=world.hamlets_a[1].path,
                              kind="primary", started_on=date(2026, 1, 1)))
    db.session.flush()
    db.session.refresh(c)
    assert visit(c, world, date(2025, 12, 31)).hamlet_id == world.hamlets_a[0].id
    assert visit(c, world, date(2026, 1, 1)).hamlet_id == world.hamlets_a[1].id


def test_visit_without_follow_up_is_allowed(world):
    v = visit(appoint(world.hamlets_a[0], 1), world, date(2026, 1, 10))
    assert v.follow_up is None and v.follow_up_due is None and v.score == 100


def tomorrow() -> date:
    """Vietnam's tomorrow when the test runs, not when it was collected: a run that crosses
    midnight in Hà Nội (17:00 UTC) would otherwise call today "the future"."""
    return clock.today() + timedelta(days=1)


@pytest.mark.parametrize(("case", "kwargs", "message"), [
    ("future", {"visited_on": tomorrow}, "Ngày giám sát không được ở tương lai"),
    ("before start", {"visited_on": date(2025, 8, 31)}, "không làm cộng tác viên vào ngày 31/08/2025"),
    ("unknown item", {"checklist": {"register_up_to_date": True, "dancing": True}}, "không có trong bảng kiểm: dancing"),
    ("not a bool", {"checklist": {"register_up_to_date": "yes"}}, "phải là Đạt, Chưa đạt"),
    ("nothing checked", {"checklist": {"register_up_to_date": None}}, "ít nhất một nội dung"),
    ("due before visit", {"follow_up": "Cập nhật sổ", "follow_up_due": date(2026, 1, 9)},
     "Hạn khắc phục không được trước ngày giám sát"),
    ("due without text", {"follow_up": "  ", "follow_up_due": date(2026, 2, 1)}, "phải ghi nội dung cần khắc phục"),
    ("text without due", {"follow_up": "Cập nhật sổ"}, "ghi hạn khắc phục"),
])
def test_bad_visits_are_refused_and_change_nothing(world, case, kwargs, message):
    c = appoint(world.hamlets_a[0], 1)
    before = counts()
    args = {"visited_on": date(2026, 1, 10), "checklist": ALL_PASS,
            **{key: value() if callable(value) else value for key, value in kwargs.items()}}
    with pytest.raises(ValidationFailed, match=message):
        services.record_visit(c, supervisor=world.users["centre"], actor=world.users["centre"], **args)
    assert counts() == before


def test_visit_refused_while_suspended_or_after_leaving(world):
    c = appoint(world.hamlets_a[0], 1)
    suspend(c, date(2026, 1, 1), date(2026, 2, 1))
    with pytest.raises(ValidationFailed, match="tạm đình chỉ"):
        visit(c, world, date(2026, 1, 15))
    assert visit(c, world, date(2026, 2, 1)).score == 100  # reinstated that day
    end_assignment(c, date(2026, 3, 1))
    with pytest.raises(ValidationFailed, match="không làm cộng tác viên"):
        visit(c, world, date(2026, 3, 1))


# --- follow-ups ------------------------------------------------------------------------------


def test_close_follow_up_once(world):
    v = visit(appoint(world.hamlets_a[0], 1), world, date(2026, 1, 10), follow_up="Bổ sung Sổ A0",
              follow_up_due=date(2026, 2, 10))
    services.close_follow_up(v, closed_on=date(2026, 2, 5), result="Đã bổ sung đủ", actor=world.users["officer_a"])
    assert (v.follow_up_closed_on, v.follow_up_result) == (date(2026, 2, 5), "Đã bổ sung đủ")
    before = counts()
    with pytest.raises(Conflict, match="đã được xác nhận hoàn thành ngày 05/02/2026"):
        services.close_follow_up(v, closed_on=date(2026, 2, 6), result="Lần nữa", actor=world.users["officer_a"])
    assert counts() == before and v.follow_up_result == "Đã bổ sung đủ"


@pytest.mark.parametrize(("closed_on", "result", "message"), [
    (date(2026, 1, 9), "Xong", "không được trước ngày giám sát"),
    (tomorrow, "Xong", "không được ở tương lai"),
    (date(2026, 2, 1), "   ", "ghi kết quả khắc phục"),
])
def test_bad_closing_is_refused(world, closed_on, result, message):
    v = visit(appoint(world.hamlets_a[0], 1), world, date(2026, 1, 10), follow_up="Bổ sung Sổ A0",
              follow_up_due=date(2026, 2, 10))
    before = counts()
    with pytest.raises(ValidationFailed, match=message):
        services.close_follow_up(v, closed_on=closed_on() if callable(closed_on) else closed_on, result=result)
    assert counts() == before and v.follow_up_closed_on is None


def test_a_visit_without_follow_up_cannot_be_closed(world):
    v = visit(appoint(world.hamlets_a[0], 1), world, date(2026, 1, 10))
    with pytest.raises(Conflict, match="không có nội dung cần khắc phục"):
        services.close_follow_up(v, closed_on=date(2026, 1, 11), result="Xong")


def test_open_follow_ups_overdue_first_and_as_of(world):
    a1, a2, a3 = (appoint(world.hamlets_a[0], i) for i in (1, 2, 3))
    b1 = appoint(world.hamlets_b[0], 4)
    late = visit(a1, world, date(2026, 1, 10), follow_up="Sổ A0", follow_up_due=date(2026, 1, 20))
    later = visit(a2, world, date(2026, 1, 10), follow_up="Phiếu P0", follow_up_due=date(2026, 1, 31))
    pending = visit(a3, world, date(2026, 2, 1), follow_up="Tập huấn", follow_up_due=date(2026, 3, 15))
    closed = visit(a3, world, date(2026, 1, 5), follow_up="Tồn kho", follow_up_due=date(2026, 1, 15))
    services.close_follow_up(closed, closed_on=date(2026, 1, 14), result="Đã bổ sung")
    other = visit(b1, world, date(2026, 1, 10), follow_up="Ngoài địa bàn", follow_up_due=date(2026, 1, 20))
    rows = services.open_follow_ups([world.commune_a.path], date(2026, 2, 10))
    assert [(r.visit, r.overdue, r.days_late) for r in rows] == [(late, True, 21), (later, True, 10),
                                                                 (pending, False, 0)]
    assert other not in [r.visit for r in services.open_follow_ups([world.commune_a.path], date(2026, 2, 10))]
    # As of 12/1: the closed one was still open, the February visit had not happened.
    assert {r.visit for r in services.open_follow_ups([world.commune_a.path], date(2026, 1, 12))} == {
        late, later, closed}
    assert services.open_follow_ups([], date(2026, 2, 10)) == []


# --- overdue visits ---------------------------------------------------------------------------------


def test_overdue_rule_and_boundaries(world):
    scope = [world.commune_a.path]
    never = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    on_time = appoint(world.hamlets_a[0], 2, started_on=date(2025, 9, 1))
    boundary = appoint(world.hamlets_a[1], 3, started_on=date(2025, 9, 1))
    one_late = appoint(world.hamlets_a[1], 4, started_on=date(2025, 9, 1))
    newcomer = appoint(world.hamlets_a[1], 5, started_on=date(2026, 1, 1))
    on = date(2026, 3, 1)
    visit(on_time, world, date(2026, 2, 1))
    visit(boundary, world, on - timedelta(days=92))  # exactly one interval ago: not yet overdue
    visit(one_late, world, on - timedelta(days=93))
    visit(one_late, world, on + timedelta(days=1))  # after `on`: does not count as of `on`
    rows = services.overdue_visits(scope, on)
    assert [r.collaborator_id for r in rows] == [never.id, one_late.id]
    first, second = rows
    assert (first.last_visit, first.since, first.due_on, first.days_overdue) == (
        None, date(2025, 9, 1), date(2025, 12, 2), 89)
    assert (second.last_visit, second.days_overdue, second.interval_days) == (on - timedelta(days=93), 1, 92)
    assert second.hamlet_name == "Khu phố 2" and second.commune_name == world.commune_a.full_name
    assert newcomer.id not in {r.collaborator_id for r in rows}  # started 59 days before


def test_overdue_follows_the_province_policy_in_force(world):
    c = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    visit(c, world, date(2026, 1, 1))
    db.session.add(NetworkPolicy(province_id=world.dong_nai.id, valid_from=date(2026, 2, 1), visit_interval_days=30,
                                 missed_meetings_for_review=2, created_at=datetime.now(UTC)))
    db.session.flush()
    assert services.overdue_visits([world.commune_a.path], date(2026, 1, 31)) == []  # default 92 days then
    rows = services.overdue_visits([world.commune_a.path], date(2026, 2, 15))
    assert [(r.collaborator_id, r.interval_days, r.days_overdue) for r in rows] == [(c.id, 30, 15)]


def test_overdue_lists_only_serving_collaborators_in_scope(world):
    serving = appoint(world.hamlets_a[0], 1)
    suspended = appoint(world.hamlets_a[0], 2)
    suspend(suspended, date(2026, 1, 1))
    left = appoint(world.hamlets_a[1], 3)
    end_assignment(left, date(2026, 1, 1))
    elsewhere = appoint(world.hamlets_b[0], 4)
    on = date(2026, 3, 1)
    assert [r.collaborator_id for r in services.overdue_visits([world.commune_a.path], on)] == [serving.id]
    assert {r.collaborator_id for r in services.overdue_visits([world.dong_nai.path], on)} == {serving.id, elsewhere.id}
    assert services.overdue_visits([], on) == []
    assert services.overdue_visits([world.hanoi.path], on) == []
    # In the past, before the suspension and the departure, all were due.
    assert len(services.overdue_visits([world.commune_a.path], date(2025, 12, 31))) == 3


def test_overdue_sorts_most_overdue_first(world):
    a = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    b = appoint(world.hamlets_a[0], 2, started_on=date(2025, 9, 1))
    c = appoint(world.hamlets_a[0], 3, started_on=date(2025, 9, 1))
    visit(a, world, date(2025, 10, 1))
    visit(b, world, date(2025, 9, 15))
    visit(c, world, date(2025, 11, 1))
    rows = services.overdue_visits([world.commune_a.path], date(2026, 3, 1))
    assert [r.collaborator_id for r in rows] == [b.id, a.id, c.id]
    assert [r.days_overdue for r in rows] == sorted((r.days_overdue for r in rows), reverse=True)

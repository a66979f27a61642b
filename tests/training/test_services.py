"""Training services: courses, attendance, completion only after the course ended, scope."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.common import clock
from danso_network.errors import Conflict, PermissionDenied, ValidationFailed
from danso_network.extensions import db
from danso_network.training import permissions
from danso_network.training import services as training
from danso_network.training.models import TrainingAttendance, TrainingCourse

from ..factories import appoint
from .conftest import make_course


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_course_records_it_with_an_audit_event(world):
    course = make_course(world.commune_a, world.users["head_a"], location="Hội trường trạm", hours="7.5")
    assert (course.unit_id, course.unit_path, course.hours, course.is_population_work) == (
        world.commune_a.id, world.commune_a.path, Decimal("7.5"), True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "training_course.create"))
    assert event.object_id == str(course.id) and event.after["title"] == course.title


@pytest.mark.parametrize("overrides, field", [
    ({"starts_on": date(2025, 10, 14), "ends_on": date(2025, 10, 13)}, "ends_on"),
    ({"hours": 0}, "hours"),
    ({"hours": -4}, "hours"),
    ({"hours": "nhiều"}, "hours"),
    ({"title": "   "}, "title"),
])
def test_bad_course_is_refused_and_nothing_is_written(world, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        make_course(world.commune_a, world.users["head_a"], **overrides)
    assert refused.value.field == field and str(refused.value)
    assert count(TrainingCourse) == 0
    assert not db.session.scalar(select(func.count()).where(AuditEvent.action == "training_course.create"))


@pytest.mark.parametrize("user, unit", [("head_a", "commune_b"), ("viewer_b", "commune_b"), ("head_a", "dong_nai"),
                                        ("hanoi_admin", "dong_nai"), ("nogrant", "commune_a")])
def test_course_only_in_the_actors_editing_scope(world, user, unit):
    with pytest.raises(PermissionDenied):
        make_course(getattr(world, unit), world.users[user])
    assert count(TrainingCourse) == 0


def test_a_course_is_visible_below_and_above_its_unit(world):
    province = make_course(world.dong_nai, world.users["admin"], title="Lớp của tỉnh")
    in_a = make_course(world.commune_a, world.users["head_a"], title="Lớp của phường A")
    in_b = make_course(world.commune_b, world.users["head_b"], title="Lớp của xã B")
    users = world.users

    def visible(name):
        from danso_network.auth.permissions import scope_of

        return {c.title for c in training.courses_visible(scope_of(users[name]).prefixes)}

    assert visible("head_a") == {"Lớp của tỉnh", "Lớp của phường A"}
    assert visible("viewer_b") == {"Lớp của tỉnh", "Lớp của xã B"}
    assert visible("centre") == visible("admin") == {"Lớp của tỉnh", "Lớp của phường A", "Lớp của xã B"}
    assert visible("hanoi_admin") == visible("nogrant") == set()
    assert permissions.can_view_course(users["head_a"], province) and not permissions.can_view_course(users["head_a"], in_b)
    # Everyone in the province may put their people on the province's course; only the
    # organising area edits it.
    assert permissions.can_enrol_on(users["head_a"], province) and not permissions.can_edit_course(users["head_a"], province)
    assert permissions.can_edit_course(users["admin"], province) and permissions.can_edit_course(users["head_a"], in_a)
    assert not permissions.can_enrol_on(users["viewer_b"], in_b)


def test_course_list_search_ignores_diacritics_and_filters(world):
    make_course(world.commune_a, world.users["head_a"], title="Tập huấn công tác dân số")
    make_course(world.commune_a, world.users["head_a"], title="Kỹ năng truyền thông", population=False,
                starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 3))
    prefixes = [world.commune_a.path]
    assert [c.title for c in training.courses_visible(prefixes, q="tap huan")] == ["Tập huấn công tác dân số"]
    assert [c.title for c in training.courses_visible(prefixes, year=2026)] == ["Kỹ năng truyền thông"]
    assert [c.title for c in training.courses_visible(prefixes, population_work=True)] == ["Tập huấn công tác dân số"]
    assert training.course_years(prefixes) == [2026, 2025]


def test_attendance_add_update_and_completion_after_the_end(world):
    head = world.users["head_a"]
    course = make_course(world.commune_a, head, starts_on=date(2025, 10, 13), ends_on=date(2025, 10, 14))
    person = appoint(world.hamlets_a[0], 1).candidate
    row = training.record_attendance(course, candidate=person, completed=False, actor=head, on=date(2025, 10, 1))
    assert not row.completed
    # Completion is refused while the course has not ended, and nothing changes.
    with pytest.raises(ValidationFailed, match="kết thúc") as refused:
        training.record_attendance(course, candidate=person, completed=True, actor=head, on=date(2025, 10, 13))
    assert refused.value.field == "completed"
    db.session.refresh(row)
    assert not row.completed
    same = training.record_attendance(course, candidate=person, completed=True, note="Đạt", actor=head,
                                      on=date(2025, 10, 14))
    assert same.id == row.id and same.completed and same.note == "Đạt"
    assert count(TrainingAttendance) == 1
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("training_attendance.%"))
                                      .order_by(AuditEvent.id)))
    assert actions == ["training_attendance.add", "training_attendance.update"]
    # A recorded completion is evidence: it is neither withdrawn nor removed.
    with pytest.raises(Conflict):
        training.record_attendance(course, candidate=person, completed=False, actor=head, on=date(2025, 10, 20))
    with pytest.raises(Conflict):
        training.remove_attendance(same, actor=head)
    assert count(TrainingAttendance) == 1


def test_completion_in_the_future_is_refused_with_today_as_default(world):
    head = world.users["head_a"]
    soon = clock.today() + timedelta(days=3)
    course = make_course(world.commune_a, head, starts_on=clock.today(), ends_on=soon)
    person = appoint(world.hamlets_a[0], 2).candidate
    with pytest.raises(ValidationFailed):
        training.record_attendance(course, candidate=person, completed=True, actor=head)
    assert count(TrainingAttendance) == 0
    training.record_attendance(course, candidate=person, completed=False, actor=head)  # enrolling is fine
    assert count(TrainingAttendance) == 1


def test_remove_attendance_only_while_not_completed(world):
    head = world.users["head_a"]
    course = make_course(world.commune_a, head)
    row = training.record_attendance(course, candidate=appoint(world.hamlets_a[0], 3).candidate, completed=False,
                                     actor=head, on=date(2025, 10, 1))
    training.remove_attendance(row, actor=head)
    assert count(TrainingAttendance) == 0
    assert db.session.scalar(select(AuditEvent.before).where(AuditEvent.action == "training_attendance.remove"))


def test_people_only_from_the_actors_own_area(world):
    province = make_course(world.dong_nai, world.users["admin"])
    person_a = appoint(world.hamlets_a[0], 4).candidate
    person_b = appoint(world.hamlets_b[1], 5).candidate
    # Station A may put its own collaborator on the province course, not B's.
    training.record_attendance(province, candidate=person_a, completed=False, actor=world.users["head_a"],
                               on=date(2025, 10, 1))
    with pytest.raises(PermissionDenied):
        training.record_attendance(province, candidate=person_b, completed=False, actor=world.users["head_a"],
                                   on=date(2025, 10, 1))
    with pytest.raises(PermissionDenied):  # a viewer records nothing
        training.record_attendance(province, candidate=person_b, completed=False, actor=world.users["viewer_b"],
                                   on=date(2025, 10, 1))
    # The organising province records the result for everyone on its course.
    training.record_attendance(province, candidate=person_a, completed=True, actor=world.users["admin"],
                               on=date(2025, 10, 20))
    in_b = make_course(world.commune_b, world.users["head_b"])
    with pytest.raises(PermissionDenied):  # a course station A cannot see
        training.record_attendance(in_b, candidate=person_a, completed=False, actor=world.users["head_a"],
                                   on=date(2025, 10, 1))
    assert count(TrainingAttendance) == 1


def test_find_people_by_folded_name_or_cccd_within_scope(world):
    mine = appoint(world.hamlets_a[1], 6, full_name="Điểu Thị Hằng").candidate
    appoint(world.hamlets_b[0], 7, full_name="Điểu Thị Hương")
    prefixes = [world.commune_a.path]
    assert training.find_people(prefixes, "dieu thi") == [mine]
    assert training.find_people(prefixes, mine.national_id[:8]) == [mine]
    assert training.find_people(prefixes, "h") == []
    assert training.find_people([], "dieu") == []


def test_completed_population_training_and_the_profile_summary(world):
    head = world.users["head_a"]
    person = appoint(world.hamlets_a[0], 8).candidate
    other = make_course(world.commune_a, head, title="Truyền thông", population=False, hours=8,
                        starts_on=date(2025, 9, 1), ends_on=date(2025, 9, 1))
    first = make_course(world.commune_a, head, title="Dân số lần 1", starts_on=date(2025, 9, 8),
                        ends_on=date(2025, 9, 9), hours=16)
    later = make_course(world.commune_a, head, title="Dân số lần 2", starts_on=date(2025, 11, 3),
                        ends_on=date(2025, 11, 4), hours=12)
    unfinished = make_course(world.commune_a, head, title="Chưa xong", starts_on=date(2025, 12, 1),
                             ends_on=date(2025, 12, 2), hours=4)
    for course in (other, first, later):
        training.record_attendance(course, candidate=person, completed=True, actor=head, on=date(2025, 11, 30))
    training.record_attendance(unfinished, candidate=person, completed=False, actor=head, on=date(2025, 11, 30))
    assert training.completed_population_training(person, date(2025, 9, 8)) is None
    assert training.completed_population_training(person, date(2025, 9, 9)).course == first
    assert training.completed_population_training(person, date(2026, 1, 1)).course == later
    assert [a.course.title for a in training.trainings_of(person)] == ["Chưa xong", "Dân số lần 2", "Dân số lần 1",
                                                                      "Truyền thông"]
    summary = training.training_summary(person, date(2026, 1, 1))
    assert (len(summary.attendances), summary.completed, summary.hours) == (4, 3, Decimal("36.0"))
    assert summary.population_work.course == later


def test_course_details_can_be_corrected_but_not_undo_the_evidence(world):
    head = world.users["head_a"]
    course = make_course(world.commune_a, head)
    training.record_attendance(course, candidate=appoint(world.hamlets_a[0], 9).candidate, completed=True,
                               actor=head, on=date(2025, 10, 20))
    fields = dict(title="Tập huấn công tác dân số (sửa)", organiser="TTYT", starts_on=course.starts_on,
                  ends_on=course.ends_on, hours=16, is_population_work=True)
    training.update_course(course, **fields, actor=head, on=date(2025, 10, 20))
    assert course.title.endswith("(sửa)")
    with pytest.raises(ValidationFailed):
        training.update_course(course, **{**fields, "ends_on": date(2025, 10, 25)}, actor=head, on=date(2025, 10, 20))
    with pytest.raises(ValidationFailed):
        training.update_course(course, **{**fields, "is_population_work": False}, actor=head, on=date(2025, 10, 20))
    with pytest.raises(PermissionDenied):
        training.update_course(course, **fields, actor=world.users["head_b"])
    db.session.refresh(course)
    assert course.is_population_work and course.ends_on == date(2025, 10, 14)

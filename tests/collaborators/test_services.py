"""Collaborator network actions: transfer, extra hamlet, suspend/reinstate, terminate, Sổ A0
hand-over; each with its refusals (message, nothing changed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators import services
from danso_network.collaborators.models import (
    Assignment,
    EndReason,
    NetworkPolicy,
    RegisterHandover,
    Suspension,
)
from danso_network.common.clock import today
from danso_network.errors import Conflict, PermissionDenied, ValidationFailed
from danso_network.extensions import db
from danso_network.recruitment.services import vacancies
from tests.factories import appoint

START = date(2025, 9, 1)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot():
    """What a refused action must leave untouched. Call after committing the set-up (the
    commit only releases a SAVEPOINT: the test's transaction is still rolled back at the end)."""
    db.session.commit()
    rows = db.session.execute(select(Assignment.id, Assignment.ended_on, Assignment.end_reason)).all()
    return (sorted(rows), count(Suspension), count(RegisterHandover),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def allow_cover(world, on=date(2025, 1, 1), allow=True):
    db.session.add(NetworkPolicy(province_id=world.dong_nai.id, valid_from=on, allow_additional_hamlet=allow,
                                 legal_basis="KH thử nghiệm", created_at=datetime.now(UTC)))
    db.session.flush()


@pytest.fixture
def users(world):
    return world.users


# --- transfer -------------------------------------------------------------------------------------


def test_transfer_closes_one_and_opens_the_next_on_the_same_day(world, users):
    kp1, kp2 = world.hamlets_a
    c = appoint(kp1, 1)
    new = services.transfer_collaborator(c, kp2, on=date(2026, 3, 1), actor=users["head_a"], decision_ref="QĐ 5/TYT",
                                         note="Chuyển nhà sang KP2", residence="moves")
    old = next(a for a in c.assignments if a.hamlet_id == kp1.id)
    assert (old.ended_on, old.end_reason, old.end_note) == (date(2026, 3, 1), "transferred", "Chuyển nhà sang KP2")
    assert (new.hamlet_id, new.kind, new.started_on, new.ended_on, new.decision_ref) == (
        kp2.id, "primary", date(2026, 3, 1), None, "QĐ 5/TYT")
    assert new.hamlet_path == kp2.path
    assert [a.hamlet_id for a in services.current_assignments(c, date(2026, 2, 28))] == [kp1.id]
    assert [a.hamlet_id for a in services.current_assignments(c, date(2026, 3, 1))] == [kp2.id]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "collaborator.transfer"))
    assert event.object_id == str(c.id) and event.after["hamlet"] == "Khu phố 2"
    # Khu phố 1 lost its only collaborator: a hand-over request, and a vacancy from that day.
    handover = db.session.scalar(select(RegisterHandover))
    assert (handover.hamlet_id, handover.requested_on, handover.handed_on) == (kp1.id, date(2026, 3, 1), None)
    assert kp1.id in {v.hamlet.id for v in vacancies([world.commune_a.path], date(2026, 3, 1))}


def test_centre_officer_transfers_between_the_communes_it_serves(world, users):
    c = appoint(world.hamlets_a[0], 1)
    services.transfer_collaborator(c, world.hamlets_b[1], on=date(2026, 3, 1), actor=users["centre"], residence="moves")
    assert services.current_assignments(c, date(2026, 3, 1))[0].hamlet_id == world.hamlets_b[1].id


def test_station_head_cannot_transfer_to_another_commune(world, users):
    c = appoint(world.hamlets_a[0], 1)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="ngoài địa bàn"):
        services.transfer_collaborator(c, world.hamlets_b[0], on=date(2026, 3, 1), actor=users["head_a"])
    db.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize("who", ["officer_a", "viewer_b", "head_b"])
def test_only_deciding_roles_of_the_area_transfer(world, users, who):
    c = appoint(world.hamlets_a[0], 1)
    with pytest.raises(PermissionDenied):
        services.transfer_collaborator(c, world.hamlets_a[1], on=date(2026, 3, 1), actor=users[who])


def test_transfer_refusals(world, users):
    kp1, kp2 = world.hamlets_a
    c = appoint(kp1, 1, started_on=date(2025, 9, 1))
    head = users["head_a"]
    cases = [
        (kp1, date(2026, 3, 1), ValidationFailed, "đang phụ trách chính"),
        (world.commune_a, date(2026, 3, 1), ValidationFailed, "không phải là thôn"),
        (kp2, date(2025, 8, 1), ValidationFailed, "trước ngày bắt đầu phụ trách"),
        (kp2, today() + timedelta(days=1), ValidationFailed, "tương lai"),
        (kp2, date(2025, 6, 1), ValidationFailed, "không có hiệu lực"),  # the hamlet begins 1/7/2025
        (None, date(2026, 3, 1), ValidationFailed, "chọn thôn"),
    ]
    before = snapshot()
    for hamlet, on, error, message in cases:
        with pytest.raises(error, match=message):
            services.transfer_collaborator(c, hamlet, on=on, actor=head)
        db.session.rollback()
        assert snapshot() == before


def test_no_transfer_of_someone_suspended_or_terminated(world, users):
    head = users["head_a"]
    c = appoint(world.hamlets_a[0], 1)
    services.suspend_collaborator(c, on=date(2026, 1, 5), reason="Vắng mặt dài ngày", actor=head)
    with pytest.raises(Conflict, match="tạm đình chỉ"):
        services.transfer_collaborator(c, world.hamlets_a[1], on=date(2026, 2, 1), actor=head)
    services.terminate_collaborator(c, on=date(2026, 2, 1), reason=EndReason.RESIGNED, actor=head)
    with pytest.raises(Conflict, match="đã nghỉ việc"):
        services.transfer_collaborator(c, world.hamlets_a[1], on=date(2026, 3, 1), actor=head)


def test_transfer_into_a_hamlet_already_shared_leaves_no_handover(world, users):
    kp1, kp2 = world.hamlets_a
    mover, stays = appoint(kp1, 1), appoint(kp1, 2)
    services.transfer_collaborator(mover, kp2, on=date(2026, 3, 1), actor=users["head_a"], residence="moves")
    assert count(RegisterHandover) == 0  # Khu phố 1 still has its other collaborator
    assert services.status_on(stays, date(2026, 3, 1)) == "active"


# --- additional hamlet ------------------------------------------------------------------------------


def test_additional_hamlet_only_where_the_province_allows_it(world, users):
    kp1, kp2 = world.hamlets_a
    c = appoint(kp1, 1)
    before = snapshot()
    with pytest.raises(Conflict, match="chưa cho phép"):
        services.add_hamlet(c, kp2, on=date(2026, 2, 1), actor=users["head_a"])
    db.session.rollback()
    assert snapshot() == before
    allow_cover(world)
    cover = services.add_hamlet(c, kp2, on=date(2026, 2, 1), actor=users["head_a"], decision_ref="QĐ 7")
    assert (cover.kind, cover.hamlet_id, cover.started_on) == ("additional", kp2.id, date(2026, 2, 1))
    assert [a.kind for a in services.current_assignments(c, date(2026, 2, 1))] == ["primary", "additional"]
    with pytest.raises(Conflict, match="đang phụ trách"):
        services.add_hamlet(c, kp2, on=date(2026, 2, 2), actor=users["head_a"])
    with pytest.raises(PermissionDenied):
        services.add_hamlet(c, world.hamlets_b[1], on=date(2026, 2, 2), actor=users["head_a"])


def test_a_later_policy_version_that_forbids_covers_applies_from_its_date(world, users):
    allow_cover(world, date(2025, 1, 1), True)
    allow_cover(world, date(2026, 1, 1), False)
    c = appoint(world.hamlets_a[0], 1)
    with pytest.raises(Conflict):
        services.add_hamlet(c, world.hamlets_a[1], on=date(2026, 2, 1), actor=users["head_a"])
    assert services.add_hamlet(c, world.hamlets_a[1], on=date(2025, 12, 1), actor=users["head_a"]).id


def test_ending_the_cover_keeps_the_primary_hamlet_and_asks_for_the_register(world, users):
    kp1, kp2 = world.hamlets_a
    allow_cover(world)
    c = appoint(kp1, 1)
    cover = services.add_hamlet(c, kp2, on=date(2026, 2, 1), actor=users["head_a"])
    with pytest.raises(ValidationFailed, match="trước ngày bắt đầu"):
        services.end_additional_hamlet(cover, on=date(2026, 1, 31), actor=users["head_a"])
    primary = services.current_assignments(c, date(2026, 2, 1))[0]
    with pytest.raises(ValidationFailed, match="thôn chính"):
        services.end_additional_hamlet(primary, on=date(2026, 3, 1), actor=users["head_a"])
    services.end_additional_hamlet(cover, on=date(2026, 4, 1), actor=users["head_a"])
    assert (cover.ended_on, cover.end_reason) == (date(2026, 4, 1), "cover_ended")
    assert [a.hamlet_id for a in services.current_assignments(c, date(2026, 4, 1))] == [kp1.id]
    assert db.session.scalar(select(RegisterHandover.hamlet_id)) == kp2.id
    with pytest.raises(Conflict, match="đã kết thúc"):
        services.end_additional_hamlet(cover, on=date(2026, 4, 2), actor=users["head_a"])


# --- suspension ---------------------------------------------------------------------------------------


def test_suspend_and_reinstate(world, users):
    head = users["head_a"]
    c = appoint(world.hamlets_a[0], 1)
    s = services.suspend_collaborator(c, on=date(2026, 1, 5), reason="  Vắng mặt   dài ngày ", actor=head)
    assert (s.started_on, s.ended_on, s.reason) == (date(2026, 1, 5), None, "Vắng mặt dài ngày")
    assert services.status_on(c, date(2026, 1, 4)) == "active"
    assert services.status_on(c, date(2026, 1, 5)) == "suspended"
    with pytest.raises(Conflict, match="đang bị tạm đình chỉ"):
        services.suspend_collaborator(c, on=date(2026, 1, 6), reason="lần hai", actor=head)
    with pytest.raises(ValidationFailed, match="trước ngày bắt đầu tạm đình chỉ"):
        services.reinstate_collaborator(c, on=date(2026, 1, 4), actor=head)
    services.reinstate_collaborator(c, on=date(2026, 2, 1), actor=head, note="Đã trở lại")
    assert (s.ended_on, s.end_note) == (date(2026, 2, 1), "Đã trở lại")
    assert services.status_on(c, date(2026, 1, 31)) == "suspended"
    assert services.status_on(c, date(2026, 2, 1)) == "active"
    with pytest.raises(Conflict, match="không bị tạm đình chỉ"):
        services.reinstate_collaborator(c, on=date(2026, 2, 2), actor=head)
    with pytest.raises(ValidationFailed, match="trùng với lần tạm đình chỉ trước"):
        services.suspend_collaborator(c, on=date(2026, 1, 20), reason="chồng lấn", actor=head)
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["collaborator.suspend", "collaborator.reinstate"]


def test_suspension_refusals_change_nothing(world, users):
    head = users["head_a"]
    c = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    before = snapshot()
    for kwargs, message in [
        ({"on": date(2026, 1, 5), "reason": "  "}, "lý do"),
        ({"on": today() + timedelta(days=3), "reason": "x"}, "tương lai"),
        ({"on": date(2025, 8, 31), "reason": "x"}, "trước ngày cộng tác viên bắt đầu"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            services.suspend_collaborator(c, actor=head, **kwargs)
        db.session.rollback()
        assert snapshot() == before
    with pytest.raises(PermissionDenied):
        services.suspend_collaborator(c, on=date(2026, 1, 5), reason="x", actor=world.users["viewer_b"])


def test_someone_terminated_cannot_be_suspended(world, users):
    head = users["head_a"]
    c = appoint(world.hamlets_a[0], 1)
    services.terminate_collaborator(c, on=date(2026, 1, 1), reason="resigned", actor=head)
    before = snapshot()
    with pytest.raises(Conflict, match="đã nghỉ việc từ ngày 01/01/2026"):
        services.suspend_collaborator(c, on=date(2026, 2, 1), reason="x", actor=head)
    db.session.rollback()
    assert snapshot() == before


# --- termination --------------------------------------------------------------------------------------


def test_terminating_the_last_collaborator_makes_the_hamlet_vacant(world, users):
    head = users["head_a"]
    kp1 = world.hamlets_a[0]
    c = appoint(kp1, 1)
    prefixes = [world.commune_a.path]
    assert kp1.id not in {v.hamlet.id for v in vacancies(prefixes, date(2026, 1, 31))}
    handovers = services.terminate_collaborator(c, on=date(2026, 2, 1), reason=EndReason.MOVED_OUT, actor=head,
                                                note="Chuyển đi tỉnh khác")
    assert [(h.hamlet_id, h.requested_on, h.from_collaborator_id) for h in handovers] == [
        (kp1.id, date(2026, 2, 1), c.id)]
    assert services.status_on(c, date(2026, 1, 31)) == "active"
    assert services.status_on(c, date(2026, 2, 1)) == "ended"
    assert c.assignments[0].end_reason == "moved_out"
    vacant = {v.hamlet.id: v for v in vacancies(prefixes, date(2026, 2, 1))}
    assert vacant[kp1.id].active == 0
    assert kp1.id not in {v.hamlet.id for v in vacancies(prefixes, date(2026, 1, 31))}  # the past is unchanged
    assert [h.id for h in services.pending_handovers(prefixes)] == [handovers[0].id]
    assert services.pending_handovers([world.commune_b.path]) == []
    assert services.pending_handovers([]) == []


def test_terminating_one_of_two_leaves_no_handover(world, users):
    kp2 = world.hamlets_a[1]
    a, b = appoint(kp2, 1), appoint(kp2, 2)
    assert services.terminate_collaborator(a, on=date(2026, 2, 1), reason="health", actor=users["head_a"]) == []
    assert services.status_on(b, date(2026, 2, 1)) == "active"


def test_terminate_closes_cover_and_suspension_the_same_day(world, users):
    head = users["head_a"]
    allow_cover(world)
    kp1, kp2 = world.hamlets_a
    c = appoint(kp1, 1)
    services.add_hamlet(c, kp2, on=date(2025, 10, 1), actor=head)
    s = services.suspend_collaborator(c, on=date(2026, 1, 5), reason="Ốm dài ngày", actor=head)
    handovers = services.terminate_collaborator(c, on=date(2026, 3, 1), reason="health", actor=head)
    assert {a.ended_on for a in c.assignments} == {date(2026, 3, 1)}
    assert {a.end_reason for a in c.assignments} == {"health"}
    assert s.ended_on == date(2026, 3, 1)
    assert sorted(h.hamlet_id for h in handovers) == sorted([kp1.id, kp2.id])


def test_termination_refusals(world, users):
    head = users["head_a"]
    c = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    services.suspend_collaborator(c, on=date(2025, 11, 1), reason="x", actor=head)
    services.reinstate_collaborator(c, on=date(2025, 12, 1), actor=head)
    before = snapshot()
    cases = [
        ({"on": date(2025, 8, 1), "reason": "resigned"}, ValidationFailed, "trước ngày bắt đầu phụ trách"),
        ({"on": date(2025, 11, 15), "reason": "resigned"}, ValidationFailed, "kết thúc lần tạm đình chỉ"),
        ({"on": today() + timedelta(days=1), "reason": "resigned"}, ValidationFailed, "tương lai"),
        ({"on": date(2026, 1, 1), "reason": "transferred"}, ValidationFailed, "lý do"),
        ({"on": date(2026, 1, 1), "reason": "bogus"}, ValidationFailed, "lý do"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            services.terminate_collaborator(c, actor=head, **kwargs)
        db.session.rollback()
        assert snapshot() == before
    with pytest.raises(PermissionDenied):
        services.terminate_collaborator(c, on=date(2026, 1, 1), reason="resigned", actor=users["head_b"])
    db.session.rollback()
    services.terminate_collaborator(c, on=date(2026, 1, 1), reason="resigned", actor=head)
    before = snapshot()
    with pytest.raises(Conflict, match="đã nghỉ việc"):
        services.terminate_collaborator(c, on=date(2026, 2, 1), reason="resigned", actor=head)
    db.session.rollback()
    assert snapshot() == before


def test_status_before_the_start_and_tenure(world):
    c = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    assert services.status_on(c, date(2025, 8, 31)) == "not_started"
    assert services.tenure_years(date(2020, 2, 29), date(2021, 2, 28)) == 0
    assert services.tenure_years(date(2020, 2, 29), date(2021, 3, 1)) == 1
    assert services.tenure_years(date(2023, 2, 28), date(2024, 2, 29)) == 1
    assert services.tenure_years(date(2020, 3, 1), date(2021, 2, 28)) == 0
    assert services.tenure_years(date(2021, 9, 1), date(2026, 9, 1)) == 5
    assert services.tenure_years(date(2021, 9, 2), date(2026, 9, 1)) == 4
    assert services.tenure_years(date(2027, 1, 1), date(2026, 9, 1)) is None


# --- hand-over of the register --------------------------------------------------------------------


def test_record_handover(world, users):
    head = users["head_a"]
    kp1 = world.hamlets_a[0]
    leaver = appoint(kp1, 1)
    [handover] = services.terminate_collaborator(leaver, on=date(2026, 2, 1), reason="resigned", actor=head)
    successor = appoint(kp1, 2, started_on=date(2026, 3, 1))
    with pytest.raises(ValidationFailed, match="trước ngày phát sinh"):
        services.record_handover(handover, handed_on=date(2026, 1, 31), received_by="Trạm", actor=head)
    with pytest.raises(ValidationFailed, match="tương lai"):
        services.record_handover(handover, handed_on=today() + timedelta(days=1), received_by="Trạm",
                                 actor=head)
    with pytest.raises(ValidationFailed, match="người nhận"):
        services.record_handover(handover, handed_on=date(2026, 2, 10), received_by=" ", actor=head)
    with pytest.raises(ValidationFailed, match="không phụ trách"):
        services.record_handover(handover, handed_on=date(2026, 2, 10), received_by=None, to_collaborator=successor,
                                 actor=head)
    with pytest.raises(PermissionDenied):
        services.record_handover(handover, handed_on=date(2026, 3, 2), received_by="x", actor=users["viewer_b"])
    assert handover.handed_on is None
    services.record_handover(handover, handed_on=date(2026, 3, 2), received_by=None, to_collaborator=successor,
                             note="Sổ đủ 48 trang", actor=users["officer_a"])
    assert (handover.handed_on, handover.received_by, handover.to_collaborator_id) == (
        date(2026, 3, 2), successor.full_name, successor.id)
    assert services.pending_handovers([world.commune_a.path]) == []
    with pytest.raises(Conflict, match="đã được ghi nhận"):
        services.record_handover(handover, handed_on=date(2026, 3, 3), received_by="Trạm", actor=head)

"""Administrative reforms (issue #13 items 1–2): every operation on the small world — merge, split,
rename, re-parent, create, close — previewed then applied, and every bad input refused with the
item at fault and nothing written.

What a user notices: the old units are closed, never deleted, with a ``UnitChange`` saying who
succeeds whom; a roster of the day before still shows the old hamlets; each collaborator's
service goes on without a gap (same person, a new assignment from the very day the old one
ended); quotas are those of the new households; grants are flagged, and moved only when asked."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.auth.models import RoleGrant
from danso_network.auth.permissions import compute_scope
from danso_network.collaborators import services as network
from danso_network.collaborators.models import Assignment, AssignmentKind, EndReason, Suspension
from danso_network.common.clock import now
from danso_network.errors import PermissionDenied, ValidationFailed
from danso_network.exports.xlsx import write_xlsx
from danso_network.extensions import db
from danso_network.recruitment import services as recruitment
from danso_network.recruitment.models import Application, ApplicationEvent, Candidate
from danso_network.supervision.models import ProfessionalLink
from danso_network.units import reforms
from danso_network.units import services as unit_services
from danso_network.units.models import AdminUnit, ServiceArea, UnitChange, UnitChangeKind, UnitLevel
from danso_network.units.reforms import Close, Create, MergeUnits, Part, Rename, Reparent, SplitUnit
from tests.exports.roster_data import xlsx_sheets
from tests.factories import appoint, candidate_fields, criteria

ON = date(2026, 1, 1)
DAY_BEFORE = date(2025, 12, 31)
DECISION = "NQ 1662/NQ-UBTVQH15"
MODELS = (AdminUnit, UnitChange, Assignment, Application, ApplicationEvent, ServiceArea, RoleGrant, Candidate,
          AuditEvent)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def state():
    """Everything a refused operation must leave as it was (after committing the set-up; the
    commit only releases a SAVEPOINT, the test's transaction is still rolled back)."""
    db.session.commit()
    return ({m.__name__: count(m) for m in MODELS},
            sorted(db.session.execute(select(AdminUnit.id, AdminUnit.valid_to)).all()),
            sorted(db.session.execute(select(Assignment.id, Assignment.ended_on, Assignment.end_reason)).all()),
            sorted(db.session.execute(select(RoleGrant.id, RoleGrant.valid_to)).all()),
            sorted(db.session.execute(select(ServiceArea.id, ServiceArea.valid_to)).all()))


def roster(world, on: date) -> list[network.RosterRow]:
    return list(network.roster_rows([world.dong_nai.path], network.RosterFilters(as_of=on)))


def assignments_of(collaborator) -> list[Assignment]:
    return sorted(db.session.scalars(select(Assignment).where(Assignment.collaborator_id == collaborator.id)),
                  key=lambda a: (a.started_on, a.id))


def assert_continuous(collaborator, old_hamlet, new_hamlet, reason=EndReason.HAMLET_MERGED):
    """Same person, the old assignment ending on the effective date, the next starting that day."""
    old, new = assignments_of(collaborator)[-2:]
    assert (old.hamlet_id, old.ended_on, old.end_reason) == (old_hamlet.id, ON, reason.value)
    assert (new.hamlet_id, new.hamlet_path, new.started_on, new.ended_on) == (new_hamlet.id, new_hamlet.path, ON, None)
    assert (new.kind, new.collaborator_id, new.decision_ref) == (old.kind, old.collaborator_id, DECISION)
    assert network.status_on(collaborator, DAY_BEFORE) == network.status_on(collaborator, ON) == "active"


@pytest.fixture
def people(world):
    """Gia Lai bands (≤200 households → 1, 201–400 → 2, more → 3) and four collaborators: Lan in
    Khu phố 1, Hoa and Mai in Khu phố 2, Cúc in Ấp 2."""
    criteria(world.dong_nai)
    kp1, kp2 = world.hamlets_a
    found = {"lan": appoint(kp1, 1), "hoa": appoint(kp2, 2), "mai": appoint(kp2, 3), "cuc": appoint(world.hamlets_b[1], 4)}
    db.session.commit()
    return found


def nominate(hamlet, serial: int) -> Application:
    return recruitment.create_application(**candidate_fields(hamlet, serial))


def by_name(names):
    return {f"Nguyễn Thị Ứng Viên {n}" for n in names}


# --- merging hamlets ----------------------------------------------------------------------------------


def test_merging_two_hamlets_moves_their_collaborators_the_same_day(world, people):
    kp1, kp2 = world.hamlets_a
    application = nominate(kp1, 9)
    db.session.commit()
    op = MergeUnits(sources=[kp1, kp2], target_name="Khu phố 1-2", effective_on=ON, decision_ref=DECISION)

    before = state()
    impact = reforms.preview(op)
    assert state() == before  # a preview writes nothing
    assert impact.ok and impact.problems == []
    assert [(u.action, u.full_name, u.valid_to) for u in impact.units] == [
        ("close", "Khu phố 1, Phường Bình Phước", ON), ("close", "Khu phố 2, Phường Bình Phước", ON),
        ("open", "Khu phố 1-2, Phường Bình Phước", None)]
    assert {a.collaborator for a in impact.assignments} == by_name([1, 2, 3])
    assert {a.to_hamlet for a in impact.assignments} == {"Khu phố 1-2, Phường Bình Phước"}
    assert {a.end_reason for a in impact.assignments} == {"Thôn/tổ dân phố sáp nhập"}
    quota = impact.quotas[0]
    # 180 + 420 households: quotas 1 + 3 before; 600 households → 3 after, and 3 collaborators.
    assert (quota.households_before, quota.households_after, quota.quota_before, quota.quota_after,
            quota.active, quota.flag) == (600, 600, 4, 3, 3, "ok")
    assert [(a.candidate, a.to_hamlet) for a in impact.applications] == [
        ("Nguyễn Thị Ứng Viên 9", "Khu phố 1-2, Phường Bình Phước")]
    assert impact.grants == []  # nobody holds a grant at a hamlet

    result = reforms.apply(op, actor=world.users["admin"])
    db.session.commit()
    target = result.opened[0]
    assert (target.level, target.name, target.parent_id, target.valid_from, target.valid_to, target.households,
            target.population, target.decision_ref) == ("hamlet", "Khu phố 1-2", world.commune_a.id, ON, None, 600,
                                                        2400, DECISION)
    assert target.local_id == "003"  # a number once given is not given again
    change = db.session.scalar(select(UnitChange))
    assert (change.kind, change.effective_on, change.decision_ref) == ("merge", ON, DECISION)
    assert {u.id for u in change.sources} == {kp1.id, kp2.id} and [u.id for u in change.targets] == [target.id]
    # Closed, not deleted.
    assert db.session.get(AdminUnit, kp1.id).valid_to == ON and db.session.get(AdminUnit, kp2.id).valid_to == ON
    assert count(AdminUnit) == before[0]["AdminUnit"] + 1
    assert_continuous(people["lan"], kp1, target)
    assert_continuous(people["hoa"], kp2, target)
    assert_continuous(people["mai"], kp2, target)
    assert people["lan"].activated_on == date(2025, 9, 1)  # tenure counts from the first day
    assert len(assignments_of(people["cuc"])) == 1  # Ấp 2 is untouched
    # The roster of the day before still shows the two hamlets; from the date, the merged one.
    assert {r.hamlet_name for r in roster(world, DAY_BEFORE)} == {"Khu phố 1", "Khu phố 2", "Ấp 2"}
    assert {r.hamlet_name for r in roster(world, ON)} == {"Khu phố 1-2", "Ấp 2"}
    assert len(roster(world, DAY_BEFORE)) == len(roster(world, ON)) == 4
    # Quotas recomputed from the merged households.
    (row,) = network.quota_status(target, as_of=ON)
    assert (row.households, row.quota, row.active, row.flag) == (600, 3, 3, "ok")
    # The open application follows, with a timeline entry; its candidate now lives there.
    db.session.refresh(application)
    assert (application.hamlet_id, application.hamlet_path, application.state) == (target.id, target.path, "nominated")
    assert application.events[-1].action == "unit_reform"
    assert application.candidate.residence_hamlet_id == target.id
    assert people["lan"].candidate.residence_hamlet_id == target.id
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"unit.close", "unit.create", "unit.change", "collaborator.reform", "application.reform",
            "candidate.reform"} <= set(actions)


def test_a_primary_and_an_additional_hamlet_merged_leave_one_assignment(world, people):
    kp1, kp2 = world.hamlets_a
    lan = people["lan"]
    db.session.add(Assignment(collaborator=lan, hamlet_id=kp2.id, hamlet_path=kp2.path, kind="additional",
                              started_on=date(2025, 10, 1)))
    db.session.commit()
    op = MergeUnits(sources=[kp1, kp2], target_name="Khu phố 1-2", effective_on=ON, decision_ref=DECISION)
    impact = reforms.preview(op)
    assert any("Nguyễn Thị Ứng Viên 1" in w for w in impact.warnings)
    target = reforms.apply(op, actor=None).opened[0]
    open_now = network.current_assignments(lan, ON)
    assert [(a.hamlet_id, a.kind) for a in open_now] == [(target.id, AssignmentKind.PRIMARY.value)]
    additional = next(a for a in assignments_of(lan) if a.kind == "additional")
    assert (additional.ended_on, additional.end_reason) == (ON, "hamlet_merged")


def test_an_assignment_ended_after_the_date_keeps_its_end_in_the_new_hamlet(world, people):
    kp1, kp2 = world.hamlets_a
    old = assignments_of(people["lan"])[0]
    old.ended_on, old.end_reason = date(2026, 3, 1), EndReason.RESIGNED.value  # recorded before the reform was
    db.session.commit()
    target = reforms.apply(MergeUnits(sources=[kp1, kp2], target_name="Khu phố 1-2", effective_on=ON,
                                      decision_ref=DECISION), actor=None).opened[0]
    first, second = assignments_of(people["lan"])
    assert (first.ended_on, first.end_reason) == (ON, "hamlet_merged")
    assert (second.hamlet_id, second.started_on, second.ended_on, second.end_reason) == (
        target.id, ON, date(2026, 3, 1), "resigned")


def test_quota_counts_suspended_collaborators_apart_and_unknown_criteria_as_unknown(world, people):
    kp1, kp2 = world.hamlets_a
    db.session.add(Suspension(collaborator=people["hoa"], started_on=date(2025, 11, 1), reason="Ốm dài ngày",
                              created_at=now()))
    db.session.commit()
    impact = reforms.preview(MergeUnits(sources=[kp1, kp2], target_name="Khu phố 1-2", effective_on=ON,
                                        decision_ref=DECISION))
    (quota,) = impact.quotas
    assert (quota.quota_after, quota.active, quota.suspended, quota.flag) == (3, 2, 1, "under")
    # Hà Nội has no criteria: its quotas are unknown, never another province's.
    ba_dinh = world.commune_c
    unknown = reforms.preview(Create(level=UnitLevel.HAMLET, parent=ba_dinh, name="Tổ dân phố 6", type="to_dan_pho",
                                     households=300, effective_on=ON, decision_ref=DECISION))
    assert [(q.quota_before, q.quota_after, q.flag) for q in unknown.quotas] == [(None, None, "under")]


# --- merging communes -----------------------------------------------------------------------------------


def commune_merger(world, **kw) -> MergeUnits:
    tl, ap2 = world.hamlets_b
    values = dict(sources=[world.commune_a, world.commune_b], target_name="Bình Phước", target_code="25195",
                  type="phuong", effective_on=ON, decision_ref=DECISION,
                  hamlet_types={tl.id: "khu_pho", ap2.id: "khu_pho"})
    values.update(kw)
    return MergeUnits(**values)


def test_a_commune_merger_must_retype_hamlets_that_do_not_suit_a_phuong(world, people):
    tl, ap2 = world.hamlets_b
    impact = reforms.preview(commune_merger(world, hamlet_types={}))
    assert {p.item for p in impact.problems} == {tl.full_name, ap2.full_name}
    assert all("Thông tư 04/2012/TT-BNV" in p.message for p in impact.problems)


def test_merging_two_communes_reversions_their_hamlets_and_flags_grants(world, people):
    a, b = world.commune_a, world.commune_b
    tl, ap2 = world.hamlets_b
    users = world.users
    db.session.add(ProfessionalLink(commune_id=b.id, kind="labour_social", person_name="Trần Văn Bình",
                                    valid_from=date(2025, 7, 1), created_at=now()))
    db.session.commit()
    impact = reforms.preview(commune_merger(world))
    assert any("Xã Đồng Xoài còn liên hệ chỉ đạo chuyên môn" in w and "Trần Văn Bình" in w for w in impact.warnings)
    assert impact.ok
    opened = [u.full_name for u in impact.units if u.action == "open"]
    assert opened == ["Phường Bình Phước", "Khu phố 1, Phường Bình Phước", "Khu phố 2, Phường Bình Phước",
                      "Ấp Tân Lập, Phường Bình Phước", "Ấp 2, Phường Bình Phước"]
    assert {(g.username, g.change, g.proposal) for g in impact.grants} == {
        ("xem_b", "moves", "Phường Bình Phước"),
        ("truongtram_b", "loses", "Trạm Y tế Phường Bình Phước"),
        ("ttyt689", "follows", None), ("truongtram_a", "follows", None), ("vienchuc_a", "follows", None)}
    areas = {r.facility: r.after for r in impact.service_areas}
    assert areas == {"Trung tâm Y tế khu vực Đồng Xoài": ("Phường Bình Phước",),
                     "Trạm Y tế Phường Bình Phước": ("Phường Bình Phước",), "Trạm Y tế Xã Đồng Xoài": ()}
    assert any("Trạm Y tế Xã Đồng Xoài sẽ không còn phục vụ" in w for w in impact.warnings)
    assert impact.collaborators == 4

    result = reforms.apply(commune_merger(world), actor=users["admin"])
    db.session.commit()
    commune = result.opened[0]
    assert (commune.code, commune.type, commune.parent_id, commune.valid_from, commune.households) == (
        "25195", "phuong", world.dong_nai.id, ON, None)
    assert (a.valid_to, b.valid_to) == (ON, ON)
    assert unit_services.find_unit_by_code("25195", DAY_BEFORE).id == a.id
    assert unit_services.find_unit_by_code("25195", ON).id == commune.id
    assert unit_services.find_unit_by_code("25210", ON) is None  # closed for good
    hamlets = unit_services.children(commune, ON)
    assert [(h.name, h.local_id, h.type) for h in hamlets] == [
        ("Khu phố 1", "001", "khu_pho"), ("Khu phố 2", "002", "khu_pho"), ("Ấp Tân Lập", "003", "khu_pho"),
        ("Ấp 2", "004", "khu_pho")]
    assert all(h.path.startswith(commune.path) for h in hamlets)
    assert next(h for h in hamlets if h.name == "Ấp Tân Lập").is_ethnic_minority  # figures and flags kept
    kinds = sorted(c.kind for c in db.session.scalars(select(UnitChange)))
    assert kinds == ["merge", "reparent", "reparent", "reparent", "reparent"]
    new_ap2 = next(h for h in hamlets if h.name == "Ấp 2")
    assert_continuous(people["cuc"], ap2, new_ap2, reforms.REORGANISED)
    # Every day adds up: the same four collaborators, regrouped under one commune.
    before, after = roster(world, DAY_BEFORE), roster(world, ON)
    assert {r.collaborator_id for r in before} == {r.collaborator_id for r in after}
    assert {r.commune_name for r in before} == {"Bình Phước", "Đồng Xoài"}
    assert {r.commune_id for r in after} == {commune.id}
    # Service areas moved; the seat's station now sits at the new commune.
    assert [u.id for u in unit_services.served_units(world.station_a, ON)] == [commune.id]
    assert unit_services.served_units(world.station_b, ON) == []
    assert [u.id for u in unit_services.served_units(world.station_b, DAY_BEFORE)] == [b.id]
    assert world.station_a.unit_id == commune.id
    # Grants were not moved: the station head of B and the viewer of B lose access from that day, as shown.
    assert compute_scope(users["head_a"], ON).prefixes == [commune.path]
    assert compute_scope(users["head_b"], ON).empty and compute_scope(users["viewer_b"], ON).empty
    assert compute_scope(users["viewer_b"], DAY_BEFORE).prefixes == [b.path]
    assert result.grants == []


def test_grants_move_only_when_asked(world, people):
    users = world.users
    result = reforms.apply(commune_merger(world), actor=users["admin"], move_grants=True)
    commune = result.opened[0]
    moved = {(g.user.username, g.unit_id, g.facility_id, g.valid_from) for g in result.grants}
    assert moved == {("xem_b", commune.id, None, ON), ("truongtram_b", None, world.station_a.id, ON)}
    old = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == users["viewer_b"].id,
                                                    RoleGrant.unit_id == world.commune_b.id))
    assert old.valid_to == ON  # ended, not deleted
    assert compute_scope(users["viewer_b"], ON).prefixes == [commune.path]
    assert compute_scope(users["head_b"], ON).prefixes == [commune.path]


# --- splits ---------------------------------------------------------------------------------------------------


def test_splitting_a_commune_keeps_the_code_for_the_part_with_the_old_seat(world, people):
    b = world.commune_b
    tl, ap2 = world.hamlets_b
    op = SplitUnit(source=b, parts=[Part("Đồng Xoài", code="25210", hamlets=[tl]),
                                    Part("Tân Đồng", code="25999", hamlets=[ap2])],
                   effective_on=ON, decision_ref=DECISION)
    impact = reforms.preview(op)
    assert impact.ok
    assert any("Xã Tân Đồng chưa có trạm y tế" in w for w in impact.warnings)
    areas = {r.facility: r.after for r in impact.service_areas}
    assert areas["Trạm Y tế Xã Đồng Xoài"] == ("Xã Đồng Xoài",)
    assert set(areas["Trung tâm Y tế khu vực Đồng Xoài"]) == {"Phường Bình Phước", "Xã Đồng Xoài", "Xã Tân Đồng"}
    assert [(a.collaborator, a.to_hamlet) for a in impact.assignments] == [("Nguyễn Thị Ứng Viên 4",
                                                                           "Ấp 2, Xã Tân Đồng")]
    result = reforms.apply(op, actor=world.users["admin"])
    seat, other = result.opened[:2]
    assert (seat.code, other.code, seat.parent_id, other.parent_id) == ("25210", "25999", world.dong_nai.id,
                                                                         world.dong_nai.id)
    assert b.valid_to == ON
    split = db.session.scalar(select(UnitChange).where(UnitChange.kind == "split"))
    assert [u.id for u in split.sources] == [b.id] and {u.id for u in split.targets} == {seat.id, other.id}
    assert [h.name for h in unit_services.children(seat, ON)] == ["Ấp Tân Lập"]
    new_ap2 = unit_services.children(other, ON)[0]
    assert new_ap2.name == "Ấp 2" and new_ap2.path.startswith(other.path)
    assert_continuous(people["cuc"], ap2, new_ap2, reforms.REORGANISED)
    assert [u.id for u in unit_services.served_units(world.station_b, ON)] == [seat.id]
    assert {u.code for u in unit_services.served_units(world.centre, ON)} == {"25195", "25210", "25999"}


def test_splitting_a_hamlet_maps_each_assignment_and_recomputes_quotas(world, people):
    kp2 = world.hamlets_a[1]
    hoa, mai = (assignments_of(people[n])[0] for n in ("hoa", "mai"))
    op = SplitUnit(source=kp2, parts=[Part("Khu phố 2A", households=200, assignments=[hoa]),
                                      Part("Khu phố 2B", households=420, assignments=[mai])],
                   effective_on=ON, decision_ref=DECISION)
    impact = reforms.preview(op)
    assert impact.ok
    quotas = {q.hamlet: (q.households_before, q.quota_before, q.households_after, q.quota_after, q.active, q.flag)
              for q in impact.quotas}
    assert quotas == {"Khu phố 2A, Phường Bình Phước": (420, 3, 200, 1, 1, "ok"),
                      "Khu phố 2B, Phường Bình Phước": (420, 3, 420, 3, 1, "under")}
    assert [q.hamlet for q in impact.off_quota] == ["Khu phố 2B, Phường Bình Phước"]
    part_a, part_b = reforms.apply(op, actor=world.users["admin"]).opened
    assert_continuous(people["hoa"], kp2, part_a, reforms.REORGANISED)
    assert_continuous(people["mai"], kp2, part_b, reforms.REORGANISED)
    assert [r.quota for r in network.quota_status(part_b, as_of=ON)] == [3]
    assert {r.hamlet_name for r in roster(world, DAY_BEFORE)} == {"Khu phố 1", "Khu phố 2", "Ấp 2"}


def test_an_application_on_a_split_hamlet_goes_where_it_is_sent_or_is_listed(world, people):
    kp2 = world.hamlets_a[1]
    sent, left = nominate(kp2, 8), nominate(kp2, 9)
    hoa, mai = (assignments_of(people[n])[0] for n in ("hoa", "mai"))
    op = SplitUnit(source=kp2, parts=[Part("Khu phố 2A", households=200, assignments=[hoa], applications=[sent]),
                                      Part("Khu phố 2B", households=220, assignments=[mai])],
                   effective_on=ON, decision_ref=DECISION)
    impact = reforms.preview(op)
    assert [(a.candidate, a.to_hamlet) for a in impact.applications] == [
        ("Nguyễn Thị Ứng Viên 8", "Khu phố 2A, Phường Bình Phước"), ("Nguyễn Thị Ứng Viên 9", None)]
    assert [a.candidate for a in impact.unresolved_applications] == ["Nguyễn Thị Ứng Viên 9"]
    assert any("Nguyễn Thị Ứng Viên 9" in w for w in impact.warnings)
    part_a, _part_b = reforms.apply(op, actor=None).opened
    assert (sent.hamlet_id, left.hamlet_id) == (part_a.id, kp2.id)


# --- rename, re-parent, create, close ---------------------------------------------------------------------------


def test_renaming_a_commune_keeps_its_code_and_its_hamlets(world, people):
    b = world.commune_b
    ap2 = world.hamlets_b[1]
    result = reforms.apply(Rename(unit=b, name="Tân Phú", effective_on=ON, decision_ref=DECISION),
                           actor=world.users["admin"])
    renamed = result.opened[0]
    assert (renamed.code, renamed.full_name, renamed.valid_from, b.valid_to, b.name) == (
        "25210", "Xã Tân Phú", ON, ON, "Đồng Xoài")
    assert [h.full_name for h in unit_services.children(renamed, ON)] == ["Ấp Tân Lập, Xã Tân Phú", "Ấp 2, Xã Tân Phú"]
    assert sorted(c.kind for c in db.session.scalars(select(UnitChange))) == ["rename", "reparent", "reparent"]
    new_ap2 = unit_services.children(renamed, ON)[1]
    assert_continuous(people["cuc"], ap2, new_ap2, reforms.REORGANISED)
    assert {r.commune_name for r in roster(world, DAY_BEFORE)} == {"Bình Phước", "Đồng Xoài"}
    assert {r.commune_name for r in roster(world, ON)} == {"Bình Phước", "Tân Phú"}


def test_renaming_a_hamlet_keeps_its_number(world, people):
    kp1 = world.hamlets_a[0]
    new = reforms.apply(Rename(unit=kp1, name="Khu phố Tân Tiến", effective_on=ON, decision_ref=DECISION),
                        actor=None).opened[0]
    assert (new.local_id, new.parent_id, new.full_name) == ("001", kp1.parent_id,
                                                            "Khu phố Tân Tiến, Phường Bình Phước")
    assert_continuous(people["lan"], kp1, new, reforms.REORGANISED)
    change = db.session.scalar(select(UnitChange))
    assert (change.kind, [u.id for u in change.sources], [u.id for u in change.targets]) == (
        "rename", [kp1.id], [new.id])


def test_moving_a_hamlet_to_another_commune(world, people):
    a = world.commune_a
    ap2 = world.hamlets_b[1]
    refused = reforms.preview(Reparent(unit=ap2, new_parent=a, effective_on=ON, decision_ref=DECISION))
    assert [p.item for p in refused.problems] == [ap2.full_name]
    assert "Thông tư 04/2012/TT-BNV" in refused.problems[0].message
    op = Reparent(unit=ap2, new_parent=a, type="khu_pho", name="Khu phố 3", effective_on=ON, decision_ref=DECISION)
    moved = reforms.apply(op, actor=world.users["admin"]).opened[0]
    assert (moved.parent_id, moved.local_id, moved.full_name, moved.households) == (
        a.id, "003", "Khu phố 3, Phường Bình Phước", 90)
    assert moved.path.startswith(a.path)
    assert_continuous(people["cuc"], ap2, moved, reforms.REORGANISED)
    assert db.session.scalar(select(UnitChange)).kind == "reparent"
    # The station of A now covers Cúc; the station of B saw her until the day before.
    assert {r.collaborator_id for r in network.roster_rows([a.path], network.RosterFilters(as_of=ON))} == {
        p.id for p in people.values()}


def test_creating_a_hamlet_and_a_commune(world, people):
    b = world.commune_b
    impact = reforms.preview(Create(level=UnitLevel.HAMLET, parent=b, name="Ấp 3", type="ap", households=150,
                                    effective_on=ON, decision_ref=DECISION))
    assert impact.ok and [(q.hamlet, q.quota_after, q.active, q.flag) for q in impact.quotas] == [
        ("Ấp 3, Xã Đồng Xoài", 1, 0, "under")]
    hamlet = reforms.apply(Create(level=UnitLevel.HAMLET, parent=b, name="Ấp 3", type="ap", households=150,
                                  effective_on=ON, decision_ref=DECISION), actor=None).opened[0]
    assert (hamlet.local_id, hamlet.valid_from) == ("003", ON)
    commune = reforms.apply(Create(level=UnitLevel.COMMUNE, parent=world.dong_nai, name="Tân Hưng", type="xa",
                                   code="25888", effective_on=ON, decision_ref=DECISION), actor=None).opened[0]
    assert (commune.code, commune.full_name) == ("25888", "Xã Tân Hưng")
    changes = list(db.session.scalars(select(UnitChange).order_by(UnitChange.id)))
    assert [(c.kind, c.sources, [u.id for u in c.targets]) for c in changes] == [
        ("create", [], [hamlet.id]), ("create", [], [commune.id])]
    assert any("Xã Tân Lợi chưa có trạm y tế" in w for w in reforms.preview(
        Create(level=UnitLevel.COMMUNE, parent=world.dong_nai, name="Tân Lợi", type="xa", code="25887",
               effective_on=ON, decision_ref=DECISION)).warnings)


def test_closing_a_hamlet_without_collaborators(world, people):
    tl = world.hamlets_b[0]
    result = reforms.apply(Close(unit=tl, effective_on=ON, decision_ref=DECISION), actor=world.users["admin"])
    assert (result.closed, result.opened, tl.valid_to) == ([tl], [], ON)
    change = db.session.scalar(select(UnitChange))
    assert (change.kind, [u.id for u in change.sources], change.targets) == ("close", [tl.id], [])
    assert db.session.get(AdminUnit, tl.id) is not None


# --- bad input: refused with the item at fault, nothing written ---------------------------------------------


def _closed_commune(world):
    return unit_services.create_unit(level=UnitLevel.COMMUNE, code="25300", name="Tân Khai", full_name="Xã Tân Khai",
                                     type="xa", parent=world.dong_nai, valid_from=date(2025, 7, 1),
                                     valid_to=date(2025, 10, 1))


def _bad(world, people, case):
    a, b = world.commune_a, world.commune_b
    kp1, kp2 = world.hamlets_a
    tl, ap2 = world.hamlets_b
    hoa = assignments_of(people["hoa"])[0]
    merge_hamlets = dict(sources=[kp1, kp2], target_name="Khu phố 1-2", effective_on=ON, decision_ref=DECISION)
    return {
        "code_of_another_live_unit": (commune_merger(world, target_code="00004"),
                                      "Phường Bình Phước", "Mã 00004 đang được Phường Ba Đình sử dụng"),
        "closed_code_reused": (commune_merger(world, target_code="25300"), "Phường Bình Phước", "đã đóng từ ngày 01/10/2025"),
        "code_of_a_source_not_the_seat": (commune_merger(world, target_code="25210", seat_source=a), "Phường Bình Phước",
                                          "không phải đơn vị đặt trụ sở"),
        "bad_code": (commune_merger(world, target_code="2519"), "Phường Bình Phước", "5 chữ số"),
        "date_before_valid_from": (MergeUnits(**{**merge_hamlets, "effective_on": date(2025, 6, 30)}),
                                   kp1.full_name, "01/07/2025"),
        "date_on_valid_from": (MergeUnits(**{**merge_hamlets, "effective_on": date(2025, 7, 1)}),
                               kp2.full_name, "phải sau ngày đơn vị bắt đầu hiệu lực"),
        "split_leaves_a_hamlet_unmapped": (
            SplitUnit(source=b, parts=[Part("Đồng Xoài", code="25210", hamlets=[tl]), Part("Tân Đồng", code="25999")],
                      effective_on=ON, decision_ref=DECISION), ap2.full_name, "Chưa được phân về phần nào"),
        "split_maps_a_hamlet_twice": (
            SplitUnit(source=b, parts=[Part("Đồng Xoài", code="25210", hamlets=[tl, ap2]),
                                       Part("Tân Đồng", code="25999", hamlets=[ap2])],
                      effective_on=ON, decision_ref=DECISION), ap2.full_name, "hai phần"),
        "split_leaves_an_assignment_unmapped": (
            SplitUnit(source=kp2, parts=[Part("Khu phố 2A", assignments=[hoa]), Part("Khu phố 2B")],
                      effective_on=ON, decision_ref=DECISION), "Nguyễn Thị Ứng Viên 3", "chưa được phân về phần nào"),
        "split_parts_share_a_code": (
            SplitUnit(source=b, parts=[Part("Đồng Xoài", code="25999", hamlets=[tl]),
                                       Part("Tân Đồng", code="25999", hamlets=[ap2])],
                      effective_on=ON, decision_ref=DECISION), "Xã Tân Đồng", "Mã 25999 đã dùng"),
        "merge_of_one": (MergeUnits(**{**merge_hamlets, "sources": [kp1]}), "Khu phố 1-2, Phường Bình Phước",
                         "ít nhất hai"),
        "hamlets_of_two_communes": (MergeUnits(**{**merge_hamlets, "sources": [kp1, tl]}), tl.full_name,
                                    "cùng một xã/phường"),
        "merge_of_two_levels": (MergeUnits(**{**merge_hamlets, "sources": [kp1, _closed_commune(world)]}),
                                "Khu phố 1-2, Phường Bình Phước", "cùng cấp"),
        "no_decision": (MergeUnits(**{**merge_hamlets, "decision_ref": "  "}), "Quyết định", "văn bản"),
        "name_taken": (Rename(unit=kp1, name="khu phố 2", effective_on=ON, decision_ref=DECISION),
                       kp1.full_name, "đã có “Khu phố 2, Phường Bình Phước”"),
        "close_with_a_collaborator": (Close(unit=ap2, effective_on=ON, decision_ref=DECISION),
                                      "Nguyễn Thị Ứng Viên 4", "hãy kết thúc hoặc điều chuyển"),
        "close_with_hamlets": (Close(unit=b, effective_on=ON, decision_ref=DECISION), b.full_name,
                               "Còn 2 đơn vị trực thuộc"),
        "create_with_a_code_in_use": (Create(level=UnitLevel.COMMUNE, parent=world.dong_nai, name="Mới", type="xa",
                                             code="25195", effective_on=ON, decision_ref=DECISION),
                                      "Xã Mới", "Mã 25195 đang được Phường Bình Phước sử dụng"),
        "reparent_to_its_own_commune": (Reparent(unit=kp1, new_parent=a, effective_on=ON, decision_ref=DECISION),
                                        kp1.full_name, "Đã thuộc"),
    }[case]


BAD_CASES = ["code_of_another_live_unit", "closed_code_reused", "code_of_a_source_not_the_seat", "bad_code",
             "date_before_valid_from", "date_on_valid_from", "split_leaves_a_hamlet_unmapped",
             "split_maps_a_hamlet_twice", "split_leaves_an_assignment_unmapped", "split_parts_share_a_code",
             "merge_of_one", "hamlets_of_two_communes", "merge_of_two_levels", "no_decision", "name_taken",
             "close_with_a_collaborator", "close_with_hamlets", "create_with_a_code_in_use",
             "reparent_to_its_own_commune"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_is_refused_with_the_item_at_fault_and_nothing_written(world, people, case):
    op, item, message = _bad(world, people, case)
    before = state()
    impact = reforms.preview(op)
    assert any(p.item == item and message in p.message for p in impact.problems), impact.problems
    with pytest.raises(ValidationFailed) as refused:
        reforms.apply(op, actor=world.users["admin"], move_grants=True)
    assert any(item in p and message in p for p in refused.value.problems)
    assert state() == before


def test_a_closed_source_is_refused(world, people):
    closed = _closed_commune(world)
    op = MergeUnits(sources=[world.commune_a, closed], target_name="Bình Phước", target_code="25195",
                    effective_on=ON, decision_ref=DECISION)
    assert [str(p) for p in reforms.preview(op).problems] == ["Xã Tân Khai: Đã hết hiệu lực từ ngày 01/10/2025."]


def test_only_the_province_admin_of_the_area_may_apply(world, people):
    kp1, kp2 = world.hamlets_a
    op = MergeUnits(sources=[kp1, kp2], target_name="Khu phố 1-2", effective_on=ON, decision_ref=DECISION)
    before = state()
    for who in ("head_a", "centre", "hanoi_admin", "nogrant"):
        assert not reforms.can_reform(world.users[who], op)
        with pytest.raises(PermissionDenied):
            reforms.apply(op, actor=world.users[who])
    assert state() == before
    assert reforms.can_reform(world.users["admin"], op)


# --- the preview as a file --------------------------------------------------------------------------------------


def test_the_preview_downloads_as_xlsx(world, people):
    impact = reforms.preview(commune_merger(world))
    buffer = io.BytesIO()
    write_xlsx(reforms.impact_document(impact), buffer)
    sheets = xlsx_sheets(buffer.getvalue())
    assert list(sheets) == ["Đơn vị", "Phân công CTV", "Định mức CTV", "Hồ sơ tuyển chọn", "Quyền tài khoản",
                            "Vùng phục vụ", "Cần lưu ý"]
    text = {name: " | ".join(str(c) for row in rows for c in row) for name, rows in sheets.items()}
    assert "Tác động của việc sắp xếp đơn vị hành chính" in text["Đơn vị"]
    assert "Phường Bình Phước" in text["Đơn vị"] and "Giữ mã của Phường Bình Phước" in text["Đơn vị"]
    assert all(f"Nguyễn Thị Ứng Viên {n}" in text["Phân công CTV"] for n in (1, 2, 3, 4))
    assert "xem_b" in text["Quyền tài khoản"] and "Trạm Y tế Phường Bình Phước" in text["Quyền tài khoản"]
    assert "Trạm Y tế Xã Đồng Xoài" in text["Vùng phục vụ"]
    refused = reforms.preview(commune_merger(world, target_code="00004"))
    buffer = io.BytesIO()
    write_xlsx(reforms.impact_document(refused), buffer)
    assert "Phường Ba Đình" in " ".join(str(c) for row in xlsx_sheets(buffer.getvalue())["Cần lưu ý"] for c in row)


def test_change_kinds_have_labels():
    assert set(reforms.CHANGE_KIND_LABELS) == set(UnitChangeKind)

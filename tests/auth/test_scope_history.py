"""Scope across a reform (issue #13 item 5): the users of a unit read its predecessors' history —
read-only — and grants a reform left reaching nothing are shown, never silently kept or lost.

Two reforms on the small world: the 2025 one, recorded as the demo records it (the old province
of Bình Phước with one district whose communes Tân Phú and Tân Đồng became commune A and Tân
Bình became commune B, on 1/7/2025), and a merger of A and B on 1/1/2026 made through
``units.reforms``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from danso_network.auth.grant_flags import SERVES_NOTHING, UNIT_CLOSED, flagged_grants
from danso_network.auth.models import Role, RoleGrant, User
from danso_network.auth.permissions import can_edit_unit, can_manage_user, can_view_unit, compute_scope
from danso_network.collaborators.models import Assignment, EndReason
from danso_network.collaborators.permissions import can_change_assignments
from danso_network.extensions import db
from danso_network.units import reforms
from danso_network.units import services as unit_services
from danso_network.units.models import AdminUnit, UnitChange, UnitChangeKind, UnitLevel, UnitType
from danso_network.units.reforms import MergeUnits

from .. import factories
from ..conftest import csrf_token, login

OLD_FROM = date(2020, 1, 1)
REFORM = date(2025, 7, 1)
ON = date(2026, 1, 1)
DECISION = "NQ 1662/NQ-UBTVQH15"


@dataclass
class History:
    province: AdminUnit  # Bình Phước, until 30/6/2025
    district: AdminUnit
    tan_phu: AdminUnit  # → commune A
    tan_dong: AdminUnit  # → commune A
    tan_binh: AdminUnit  # → commune B
    hamlet: AdminUnit  # Khu phố 3 of Tân Phú → Khu phố 1 of A
    collaborator: object


def _old(level: UnitLevel, name: str, full_name: str, type: UnitType, parent=None, code=None, local_id=None):
    return unit_services.create_unit(level=level, name=name, full_name=full_name, type=type, parent=parent, code=code,
                                     local_id=local_id, valid_from=OLD_FROM, valid_to=REFORM)


def _change(kind: UnitChangeKind, sources, targets, on=REFORM) -> UnitChange:
    change = UnitChange(kind=kind.value, effective_on=on, decision_ref="NQ 1662/NQ-UBTVQH15", sources=sources,
                        targets=targets)
    db.session.add(change)
    return change


@pytest.fixture
def history(world) -> History:
    province = _old(UnitLevel.PROVINCE, "Bình Phước", "Tỉnh Bình Phước", UnitType.TINH, code="70")
    district = _old(UnitLevel.DISTRICT, "Đồng Xoài", "Thành phố Đồng Xoài", UnitType.THANH_PHO_THUOC_TINH,
                    province, code="689")
    tan_phu = _old(UnitLevel.COMMUNE, "Tân Phú", "Phường Tân Phú", UnitType.PHUONG, district, code="25193")
    tan_dong = _old(UnitLevel.COMMUNE, "Tân Đồng", "Phường Tân Đồng", UnitType.PHUONG, district, code="25194")
    tan_binh = _old(UnitLevel.COMMUNE, "Tân Bình", "Phường Tân Bình", UnitType.PHUONG, district, code="25196")
    hamlet = _old(UnitLevel.HAMLET, "Khu phố 3", "Khu phố 3, Phường Tân Phú", UnitType.KHU_PHO, tan_phu,
                  local_id="003")
    _change(UnitChangeKind.MERGE, [tan_phu, tan_dong], [world.commune_a])
    _change(UnitChangeKind.MERGE, [tan_binh], [world.commune_b])
    _change(UnitChangeKind.REPARENT, [hamlet], [world.hamlets_a[0]])
    collaborator = factories.appoint(hamlet, 31, started_on=date(2023, 3, 1))
    first = collaborator.assignments[0]
    first.ended_on, first.end_reason = REFORM, EndReason.UNIT_REORGANISED.value
    db.session.add(Assignment(collaborator=collaborator, hamlet_id=world.hamlets_a[0].id,
                              hamlet_path=world.hamlets_a[0].path, kind="primary", started_on=REFORM,
                              created_at=first.created_at))
    db.session.commit()
    return History(province, district, tan_phu, tan_dong, tan_binh, hamlet, collaborator)


def merge_a_and_b(world, **kw):
    tl, ap2 = world.hamlets_b
    op = MergeUnits(sources=[world.commune_a, world.commune_b], target_name="Bình Phước", target_code="25195",
                    type="phuong", effective_on=ON, decision_ref=DECISION,
                    hamlet_types={tl.id: "khu_pho", ap2.id: "khu_pho"})
    result = reforms.apply(op, actor=world.users["admin"], **kw)
    db.session.commit()
    return result.opened[0]


def client_of(app, username: str):
    client = app.test_client()
    login(client, username)
    return client


# --- reading the history --------------------------------------------------------------------------------------


def test_the_new_province_reads_the_whole_old_province_it_was_formed_from(world, history):
    scope = compute_scope(world.users["admin"])
    assert scope.prefixes == [world.dong_nai.path]  # its own area is unchanged: lists of "my area", edits
    # Every commune of the old district went into the province, so the district and the province read whole.
    assert scope.history_prefixes == [history.province.path]
    assert sorted(scope.read_prefixes) == sorted([world.dong_nai.path, history.province.path])
    for unit in (history.province, history.district, history.tan_binh, history.hamlet):
        assert can_view_unit(world.users["admin"], unit)
    assert not can_view_unit(world.users["hanoi_admin"], history.province)
    assert compute_scope(world.users["hanoi_admin"]).history == {}


def test_the_quick_check_answers_as_the_roles_do_for_every_unit_and_user(world, history):
    """``Scope.reaches`` (what every "may read" check asks) reads the history only when the
    user's own areas do not reach the unit; it must answer as ``roles_at`` does, everywhere."""
    units = db.session.scalars(select(AdminUnit)).all()
    for user in world.users.values():
        scope, fresh = compute_scope(user), compute_scope(user)
        assert [scope.reaches(u.path) for u in units] == [bool(fresh.roles_at(u.path)) for u in units], user.username
    assert any(compute_scope(world.users["head_a"]).reaches(u.path) for u in (history.tan_phu, history.hamlet))


def test_a_station_head_reads_the_communes_merged_into_theirs_and_no_other(world, history):
    head = world.users["head_a"]
    scope = compute_scope(head)
    assert sorted(scope.history_prefixes) == sorted([history.tan_phu.path, history.tan_dong.path])
    assert can_view_unit(head, history.tan_phu) and can_view_unit(head, history.hamlet)
    assert can_view_unit(head, history.tan_dong)
    # Tân Bình went to commune B; the old district and province were only partly A's.
    for unit in (history.tan_binh, history.district, history.province, world.commune_b, world.commune_c):
        assert not can_view_unit(head, unit), unit
    # The centre serving A and B reads the whole old district, hence the old province.
    assert compute_scope(world.users["centre"]).history_prefixes == [history.province.path]


def test_the_province_admin_opens_the_old_units_and_their_roster_of_30_june_2025(app, world, history):
    admin, hanoi = client_of(app, "admin75"), client_of(app, "admin01")
    for unit in (history.province, history.district, history.tan_phu, history.hamlet):
        assert admin.get(f"/units/{unit.id}").status_code == 200, unit
        assert hanoi.get(f"/units/{unit.id}").status_code == 403, unit
    page = admin.get(f"/units/{history.tan_phu.id}?as_of=30/06/2025").get_data(as_text=True)
    assert "Khu phố 3" in page
    roster = admin.get(f"/collaborators/roster/{history.tan_phu.id}?as_of=30/06/2025")
    assert roster.status_code == 200
    assert "Nguyễn Thị Ứng Viên 31" in roster.get_data(as_text=True)
    # The day after, the same person serves in commune A: the roster of A lists them.
    after = admin.get(f"/collaborators/roster/{world.commune_a.id}?as_of=01/07/2025").get_data(as_text=True)
    assert "Nguyễn Thị Ứng Viên 31" in after
    assert hanoi.get(f"/collaborators/roster/{history.tan_phu.id}?as_of=30/06/2025").status_code == 403
    # The collaborator's profile reads across the reform for the head of A, not for the head of B.
    assert client_of(app, "truongtram_a").get(f"/collaborators/{history.collaborator.id}").status_code == 200
    assert client_of(app, "truongtram_b").get(f"/collaborators/{history.collaborator.id}").status_code == 403
    head = client_of(app, "truongtram_a")
    assert head.get(f"/collaborators/roster/{history.tan_phu.id}?as_of=30/06/2025").status_code == 200
    assert head.get(f"/collaborators/roster/{history.tan_binh.id}?as_of=30/06/2025").status_code == 403


def test_history_is_read_only(app, world, history):
    admin = world.users["admin"]
    assert not can_edit_unit(admin, history.tan_phu) and not can_edit_unit(admin, history.hamlet)
    assert not can_change_assignments(admin, history.hamlet)
    assert can_edit_unit(admin, world.commune_a)  # their own units, as before
    client = client_of(app, "admin75")
    assert client.get(f"/units/{history.tan_phu.id}/hamlets/new").status_code == 403
    assert client.get(f"/units/{history.hamlet.id}/edit").status_code == 403
    token = csrf_token(client, f"/units/{world.commune_a.id}")
    response = client.post(f"/units/{history.hamlet.id}/edit", data={"csrf_token": token, "name": "Đổi tên",
                                                                     "type": "khu_pho", "households": "10"})
    assert response.status_code == 403
    assert db.session.get(AdminUnit, history.hamlet.id).name == "Khu phố 3"
    # Nor can a reform be recorded on it by the new province.
    op = reforms.Rename(unit=history.tan_phu, name="Tân Phú Mới", effective_on=date(2025, 1, 1), decision_ref=DECISION)
    assert not reforms.can_reform(admin, op)


# --- a reform made through units.reforms -------------------------------------------------------------------


def test_after_a_merger_the_new_commune_reads_both_old_ones(app, world):
    closed_elsewhere = factories.commune(world.dong_nai, "25220", "Tân Thành", valid_from=date(2025, 7, 1),
                                         valid_to=date(2025, 12, 1))
    db.session.commit()
    commune = merge_a_and_b(world)
    head = world.users["head_a"]  # the station of A serves the merged commune
    scope = compute_scope(head)
    assert scope.prefixes == [commune.path]
    assert sorted(scope.history_prefixes) == sorted([world.commune_a.path, world.commune_b.path])
    for unit in (world.commune_a, world.commune_b, *world.hamlets_a, *world.hamlets_b):
        assert can_view_unit(head, unit) and not can_edit_unit(head, unit), unit
    assert not can_view_unit(head, closed_elsewhere) and not can_view_unit(head, world.commune_c)
    client = client_of(app, "truongtram_a")
    assert client.get(f"/units/{world.commune_b.id}").status_code == 200
    assert client.get(f"/units/{world.hamlets_b[0].id}/edit").status_code == 403
    assert client.get(f"/units/{closed_elsewhere.id}").status_code == 403


def test_nobody_keeps_access_through_a_grant_at_a_closed_unit(world):
    merge_a_and_b(world)
    viewer = world.users["viewer_b"]  # a grant at B, not moved
    assert compute_scope(viewer).empty and compute_scope(viewer).history == {}
    assert not can_view_unit(viewer, world.commune_b) and not can_view_unit(viewer, world.hamlets_b[0])


def test_grants_left_reaching_nothing_are_flagged_with_the_proposed_successor(app, world):
    commune = merge_a_and_b(world)
    flagged = {(f.grant.user.username, f.reason, f.since, tuple(f.name_of(p) for p in f.proposals))
               for f in flagged_grants()}
    assert flagged == {("xem_b", UNIT_CLOSED, ON, (commune.full_name,)),
                       ("truongtram_b", SERVES_NOTHING, ON, (world.station_a.name,))}
    assert flagged_grants(date(2025, 12, 31)) == []  # not before the merger
    assert flagged_grants(areas=[world.hanoi.path]) == []

    page = client_of(app, "admin75").get("/admin/users").get_data(as_text=True)
    assert "Quyền cần xem lại sau sắp xếp đơn vị hành chính" in page
    section = page.split('id="flagged-title"')[1].split("</section>")[0]
    for text in ("xem_b", "truongtram_b", "Đơn vị đã hết hiệu lực", "Cơ sở y tế không còn phục vụ đơn vị nào",
                 "01/01/2026", world.station_a.name):
        assert text in section, text
    assert "Quyền cần xem lại" not in client_of(app, "admin01").get("/admin/users").get_data(as_text=True)


def test_grants_moved_with_the_reform_are_not_flagged(world):
    merge_a_and_b(world, move_grants=True)
    assert flagged_grants() == []


def test_the_province_admin_looks_after_grants_at_the_old_units(app, world, history):
    old_hand = factories.user(Role.VIEWER, unit=history.tan_binh, username="xem_tanbinh", valid_from=date(2024, 1, 1))
    db.session.commit()
    [flag] = flagged_grants()
    assert (flag.grant.user_id, flag.reason, flag.since, list(flag.proposals)) == (
        old_hand.id, UNIT_CLOSED, REFORM, [world.commune_b])
    admin = world.users["admin"]
    assert can_manage_user(admin, old_hand) and not can_manage_user(world.users["hanoi_admin"], old_hand)
    client = client_of(app, "admin75")
    assert client.get(f"/admin/users/{old_hand.id}").status_code == 200
    page = client.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{old_hand.id}"' in page and "Phường Tân Bình" in page
    assert client_of(app, "admin01").get(f"/admin/users/{old_hand.id}").status_code == 403
    # Still nothing to read through it: the grant's unit is closed.
    assert compute_scope(db.session.get(User, old_hand.id)).empty
    assert db.session.scalar(select(RoleGrant.valid_to).where(RoleGrant.user_id == old_hand.id)) is None

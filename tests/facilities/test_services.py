"""Facility actions (issue #12, item 1): create, edit, change of communes served, close, and a
station for every commune — effective-dated, audited, history kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.errors import Conflict, ValidationFailed
from danso_network.extensions import db
from danso_network.facilities import services
from danso_network.units import services as unit_services
from danso_network.units.models import FacilityKind

from .. import factories
from .files import counts

JAN = date(2026, 1, 1)


def events(action: str, facility=None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if facility is not None:
        stmt = stmt.where(AuditEvent.object_type == "Facility", AuditEvent.object_id == str(facility.id))
    return list(db.session.scalars(stmt.order_by(AuditEvent.id)))


def test_a_new_province_gets_its_department_then_centres_then_stations_with_the_conventions(world, hanoi_communes):
    hn = world.hanoi
    department = services.create_facility(hn, kind="department", valid_from=JAN, actor=world.users["hanoi_admin"])
    assert (department.code, department.name, department.parent) == ("SYT-01", "Sở Y tế Thành phố Hà Nội", None)
    assert unit_services.served_units(department, JAN) == [hn]

    centre = services.create_facility(hn, kind=FacilityKind.HEALTH_CENTRE, valid_from=JAN, code="TTYT-001",
                                      name="Trung tâm Y tế khu vực Ba Đình", communes=hanoi_communes[:2],
                                      phone="024 3823 0000")
    assert centre.parent == department and [u.code for u in unit_services.served_units(centre, JAN)] == ["00004", "00007"]

    station = services.create_facility(hn, kind="station", valid_from=JAN, communes=[world.commune_c])
    assert (station.code, station.name, station.parent, station.unit) == (
        "TYT-00004", "Trạm Y tế Phường Ba Đình", centre, world.commune_c)
    assert [f.code for f in unit_services.facilities_serving(world.commune_c, JAN)] == ["TYT-00004", "TTYT-001", "SYT-01"]
    created = events("facility.create", department)
    assert created and created[0].actor_name == "admin01"


def test_the_shape_of_the_chain_is_refused_when_wrong(world, hanoi_communes):
    hn = world.hanoi
    with pytest.raises(ValidationFailed, match="chưa có Sở Y tế"):
        services.create_facility(hn, kind="health_centre", valid_from=JAN, code="TTYT-1", name="TTYT",
                                 communes=[world.commune_c])
    with pytest.raises(Conflict, match="mỗi tỉnh một Sở Y tế"):
        services.create_facility(world.dong_nai, kind="department", valid_from=JAN)
    services.create_facility(hn, kind="department", valid_from=JAN)
    with pytest.raises(ValidationFailed, match="không thuộc Thành phố Hà Nội"):
        services.create_facility(hn, kind="health_centre", valid_from=JAN, code="TTYT-1", name="TTYT",
                                 communes=[world.commune_a])
    with pytest.raises(ValidationFailed, match="ít nhất một"):
        services.create_facility(hn, kind="health_centre", valid_from=JAN, code="TTYT-1", name="TTYT", communes=[])
    with pytest.raises(Conflict, match="đã là mã của"):
        services.create_facility(hn, kind="health_centre", valid_from=JAN, code="TTYT-689", name="TTYT",
                                 communes=[world.commune_c])
    with pytest.raises(ValidationFailed, match="Chưa có trung tâm y tế nào phụ trách"):
        services.create_facility(hn, kind="station", valid_from=JAN, communes=[world.commune_c])
    with pytest.raises(ValidationFailed, match="không có hiệu lực"):
        services.create_facility(hn, kind="health_centre", valid_from=date(2025, 1, 1), code="TTYT-1", name="TTYT",
                                 communes=[world.commune_c])


def test_one_station_per_commune_and_one_centre_per_commune(world):
    with pytest.raises(Conflict, match="đã có Trạm Y tế Phường Bình Phước"):
        services.create_facility(world.dong_nai, kind="station", valid_from=JAN, code="TYT-X", communes=[world.commune_a])
    with pytest.raises(Conflict, match="đang do Trung tâm Y tế khu vực Đồng Xoài phụ trách"):
        services.create_facility(world.dong_nai, kind="health_centre", valid_from=JAN, code="TTYT-690", name="TTYT 2",
                                 communes=[world.commune_b])


def test_editing_corrects_in_place_and_is_audited_with_what_changed(world):
    centre = world.centre
    assert services.update_facility(centre, name=centre.name, address="12 Hùng Vương, Đồng Xoài",
                                    phone="0271 3879 000", actor=world.users["admin"])
    event = events("facility.update", centre)[-1]
    assert event.before == {"address": None, "phone": None}
    assert event.after == {"address": "12 Hùng Vương, Đồng Xoài", "phone": "0271 3879 000"}
    assert not services.update_facility(centre, name=centre.name, address="12 Hùng Vương, Đồng Xoài",
                                        phone="0271 3879 000")
    assert len(events("facility.update", centre)) == 1
    with pytest.raises(ValidationFailed, match="tên cơ sở"):
        services.update_facility(centre, name="  ")


def test_a_commune_moves_to_a_new_centre_from_a_date_and_the_past_is_kept(world):
    before = date(2025, 12, 31)
    assert services.set_service_area(world.centre, [world.commune_a], on=JAN, actor=world.users["admin"])
    new_centre = services.create_facility(world.dong_nai, kind="health_centre", valid_from=JAN, code="TTYT-690",
                                          name="Trung tâm Y tế khu vực Chơn Thành", communes=[world.commune_b])
    assert world.station_b.parent == new_centre  # the station follows its commune
    assert [f.code for f in unit_services.facilities_serving(world.commune_b, before)][:2] == ["TYT-25210", "TTYT-689"]
    assert [f.code for f in unit_services.facilities_serving(world.commune_b, JAN)][:2] == ["TYT-25210", "TTYT-690"]
    history = [(a.unit.code, a.valid_from, a.valid_to) for a in services.service_history(world.centre)]
    assert history == [("25195", date(2025, 7, 1), None), ("25210", date(2025, 7, 1), JAN)]
    event = events("facility.service_area", world.centre)[-1]
    assert event.before == {"serves": ["25195", "25210"]} and event.after == {"serves": ["25195"], "on": "2026-01-01"}
    moved = events("facility.update", world.station_b)[-1]
    assert moved.after == {"parent_id": new_centre.id}


def test_a_change_is_dated_from_the_last_one_on_and_a_same_day_change_corrects_it(world):
    assert services.set_service_area(world.centre, [world.commune_a], on=JAN)
    with pytest.raises(ValidationFailed, match="đã có thay đổi ngày 01/01/2026"):
        services.set_service_area(world.centre, [world.commune_a, world.commune_b], on=date(2025, 12, 1))
    assert services.set_service_area(world.centre, [world.commune_a, world.commune_b], on=JAN)
    # B served until 1/1 and again from 1/1: one unbroken row, as if never changed.
    history = [(a.unit.code, a.valid_from, a.valid_to) for a in services.service_history(world.centre)]
    assert sorted(history) == [("25195", date(2025, 7, 1), None), ("25210", date(2025, 7, 1), None)]
    assert not services.set_service_area(world.centre, [world.commune_b, world.commune_a], on=JAN)


def test_a_station_serves_exactly_one_commune_and_the_department_its_province(world):
    with pytest.raises(ValidationFailed, match="đúng một"):
        services.set_service_area(world.station_a, [world.commune_a, world.commune_b], on=JAN)
    with pytest.raises(ValidationFailed, match="toàn tỉnh"):
        services.set_service_area(world.department, [world.commune_a], on=JAN)


def test_closing_is_refused_while_something_depends_on_the_facility(world):
    with pytest.raises(Conflict, match="Còn 2 cơ sở trực thuộc"):
        services.close_facility(world.centre, on=JAN)
    with pytest.raises(Conflict, match="quyền tài khoản"):
        services.close_facility(world.station_a, on=JAN)
    with pytest.raises(ValidationFailed, match="sau ngày cơ sở bắt đầu"):
        services.close_facility(world.station_b, on=date(2025, 7, 1))


def test_closing_ends_the_service_and_keeps_the_history(world):
    head_b = world.users["head_b"]
    for grant in head_b.grants:
        grant.valid_to = JAN
    db.session.flush()
    services.close_facility(world.station_b, on=JAN, decision_ref="QĐ 1/QĐ-SYT", actor=world.users["admin"])
    assert world.station_b.valid_to == JAN
    assert [f.code for f in unit_services.facilities_serving(world.commune_b, JAN)] == ["TTYT-689", "SYT-75"]
    assert unit_services.facilities_serving(world.commune_b, date(2025, 12, 31))[0] == world.station_b
    event = events("facility.close", world.station_b)[-1]
    assert event.after == {"valid_to": "2026-01-01", "decision_ref": "QĐ 1/QĐ-SYT", "serves": ["25210"]}
    with pytest.raises(Conflict, match="đã đóng"):
        services.update_facility(world.station_b, name="Trạm mới")


def test_a_station_for_every_commune_skips_and_names_every_commune_it_leaves_out(world):
    dn = world.dong_nai
    served = factories.commune(dn, "25216", "Tân Thành")
    unserved = factories.commune(dn, "25217", "Tiến Hưng")
    services.set_service_area(world.centre, [world.commune_a, world.commune_b, served], on=JAN)
    before = counts()
    plan = services.plan_stations(dn, JAN)
    assert [(s.code, s.name, s.centre.code) for s in plan.to_create] == [
        ("TYT-25216", "Trạm Y tế Xã Tân Thành", "TTYT-689")]
    assert {(s.commune.code, s.reason) for s in plan.skipped} == {
        ("25195", "has_station"), ("25210", "has_station"), ("25217", "no_centre")}
    assert "Trạm Y tế Phường Bình Phước" in next(s.detail for s in plan.skipped if s.commune.code == "25195")
    assert counts() == before  # the preview writes nothing

    done = services.create_stations_for_communes(dn, JAN, actor=world.users["admin"])
    assert [f.code for f in done.created] == ["TYT-25216"]
    assert unit_services.facilities_serving(served, JAN)[0].code == "TYT-25216"
    assert not services.stations_of_commune(unserved, JAN)
    assert events("facility.create", done.created[0])[0].actor_name == "admin75"
    again = services.create_stations_for_communes(dn, JAN)
    assert again.created == [] and len(again.skipped) == 4


def test_a_closed_stations_code_is_not_reused_and_the_commune_is_named(world):
    for grant in world.users["head_b"].grants:
        grant.valid_to = JAN
    services.close_facility(world.station_b, on=JAN)
    plan = services.plan_stations(world.dong_nai, date(2026, 2, 1))
    skipped = {s.commune.code: s for s in plan.skipped}
    assert skipped["25210"].reason == "code_taken" and "TYT-25210" in skipped["25210"].detail
    assert plan.to_create == []


def test_the_list_finds_facilities_by_folded_name_or_code_in_kind_order(world):
    page = services.facility_page(world.dong_nai, q="tram y te binh phuoc")
    assert [f.code for f in page.items] == ["TYT-25195"]
    page = services.facility_page(world.dong_nai)
    assert [f.code for f in page.items] == ["SYT-75", "TTYT-689", "TYT-25195", "TYT-25210"]
    assert services.facility_page(world.dong_nai, kind="station", per_page=1, page=2).items[0].code == "TYT-25210"
    assert services.facility_page(world.dong_nai, status="closed").total == 0
    assert services.facility_page(world.hanoi).total == 0


def test_only_the_provinces_admins_manage_its_facilities(world):
    from danso_network.facilities.permissions import can_manage_facility, can_view_facility

    assert can_manage_facility(world.users["admin"], world.station_b)
    for name in ("centre", "head_a", "officer_a", "viewer_b", "hanoi_admin", "nogrant"):
        assert not can_manage_facility(world.users[name], world.station_a), name
    head_a = world.users["head_a"]
    assert can_view_facility(head_a, world.station_a) and can_view_facility(head_a, world.centre)
    assert can_view_facility(head_a, world.department) and not can_view_facility(head_a, world.station_b)

"""The demo holds the real reform of 1 July 2025 (issue #13 item 3, "Done when"): as of 30/06/2025
the old provinces of Bình Phước and Đồng Nai, their districts and 270 communes with their hamlets
and the history recorded there; as of 01/07/2025 the 95 communes of the merged province. Tree,
roster and coverage of the two days add up: the same collaborators, regrouped; the same
hamlets, households and quotas. The reform went through the reform import
(``data/dong_nai_reform_2025.csv``) and is recorded as changes with their decisions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from danso_network.audit.models import AuditEvent
from danso_network.collaborators import services as cs
from danso_network.collaborators.models import Assignment, Collaborator
from danso_network.coverage import services as coverage
from danso_network.extensions import db
from danso_network.recruitment.models import Application
from danso_network.supervision.models import MonthlyMeeting, SupervisionVisit
from danso_network.training.models import TrainingCourse
from danso_network.units import services as units
from danso_network.units.models import (
    AdminUnit,
    UnitChange,
    UnitLevel,
    unit_change_source,
    unit_change_target,
)

pytestmark = pytest.mark.slow
BEFORE, ON = date(2025, 6, 30), date(2025, 7, 1)


@pytest.fixture
def demo(demo_network_db):
    with demo_network_db.use() as load:
        yield load.report


def _provinces(day: date) -> list[AdminUnit]:
    return units.units_at_level(UnitLevel.PROVINCE, as_of=day)


def _paths(day: date) -> list[str]:
    return [p.path for p in _provinces(day)]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_tree_as_of_each_day(demo):
    before, after = _provinces(BEFORE), _provinces(ON)
    assert [p.full_name for p in before] == ["Tỉnh Bình Phước", "Tỉnh Đồng Nai"]
    assert [(p.code, p.full_name) for p in after] == [("75", "Thành phố Đồng Nai")]
    assert len(units.units_at_level(UnitLevel.DISTRICT, as_of=BEFORE)) == 22
    assert units.units_at_level(UnitLevel.DISTRICT, as_of=ON) == []
    old = units.units_at_level(UnitLevel.COMMUNE, as_of=BEFORE)
    new = units.units_at_level(UnitLevel.COMMUNE, as_of=ON)
    assert (len(old), len(new)) == (270, 95) == (demo.old_communes, demo.communes)
    assert all(c.parent.level == UnitLevel.DISTRICT.value and c.geom_wkb is None for c in old)
    assert all(c.parent_id == after[0].id and c.geom_wkb is not None for c in new)
    # Every hamlet of today existed before, in one of its commune's predecessors, with its number.
    hamlets_before = units.units_at_level(UnitLevel.HAMLET, as_of=BEFORE)
    hamlets_after = units.units_at_level(UnitLevel.HAMLET, as_of=ON)
    assert len(hamlets_before) == len(hamlets_after) == demo.hamlets_total
    assert sorted(h.households for h in hamlets_before) == sorted(h.households for h in hamlets_after)
    # The same code, two units: Phường Tân Phú of Đồng Xoài until 30/06, Phường Bình Phước from 01/07.
    tan_phu, binh_phuoc = units.find_unit_by_code("25195", BEFORE), units.find_unit_by_code("25195", ON)
    assert (tan_phu.full_name, tan_phu.parent.full_name, tan_phu.valid_to) == (
        "Phường Tân Phú", "Thành phố Đồng Xoài", ON)
    assert (binh_phuoc.full_name, binh_phuoc.valid_from) == ("Phường Bình Phước", ON)
    assert units.children(binh_phuoc, BEFORE) == []  # it did not exist yet
    # Bom Bo: its ấp were ấp of the old Bom Bo and its neighbours before.
    bom_bo = units.find_unit_by_code("25405", ON)
    pairs = [(h.name, h.type) for h in units.children(bom_bo, ON)]
    assert all(name.startswith("Ấp ") and kind == "ap" for name, kind in pairs)


def test_the_reform_is_recorded_as_changes_applied_by_the_import(demo):
    province = units.find_unit_by_code("75", ON)
    merger = db.session.scalar(select(UnitChange).where(UnitChange.targets.any(AdminUnit.id == province.id)))
    assert (merger.kind, merger.effective_on, merger.decision_ref) == ("merge", ON, "NQ 202/2025/QH15")
    assert sorted(u.full_name for u in merger.sources) == ["Tỉnh Bình Phước", "Tỉnh Đồng Nai"]
    kinds = dict(db.session.execute(select(UnitChange.kind, func.count()).where(UnitChange.effective_on == ON)
                                    .group_by(UnitChange.kind)).all())
    assert kinds["close"] == 22  # the districts
    assert kinds["merge"] == 1 + 88  # the provinces; 88 communes formed from several
    binh_phuoc = units.find_unit_by_code("25195", ON)
    formed = db.session.scalar(select(UnitChange).where(UnitChange.targets.any(AdminUnit.id == binh_phuoc.id)))
    assert (formed.decision_ref, sorted(u.code for u in formed.sources)) == (
        "NQ 1662/NQ-UBTVQH15", ["25195", "25198", "25201", "25204", "25205", "25213"])
    # Xuân Tâm was divided: merged into Xuân Đông, its other hamlets moved to Xuân Hoà.
    xuan_tam = units.find_unit_by_code("26449", BEFORE)
    into = db.session.scalar(select(UnitChange).where(UnitChange.sources.any(AdminUnit.id == xuan_tam.id)))
    assert [u.code for u in into.targets] == ["26359"]
    hoa = units.find_unit_by_code("26446", ON)
    source, target = aliased(AdminUnit), aliased(AdminUnit)
    moved = db.session.scalars(
        select(source.name).join(unit_change_source, unit_change_source.c.unit_id == source.id)
        .join(unit_change_target, unit_change_target.c.change_id == unit_change_source.c.change_id)
        .join(target, target.id == unit_change_target.c.unit_id)
        .where(source.parent_id == xuan_tam.id, target.parent_id == hoa.id)).all()
    assert moved
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.reform_import"))
    assert event.object_id == "dong_nai_reform_2025.csv" and len(event.after["new_codes"]) == 95


def _serving(day: date) -> dict[int, tuple[int, int]]:
    """collaborator id → (hamlet id, commune id) on the day's roster of the province(s) of that day."""
    return {r.collaborator_id: (r.hamlet_id, r.commune_id)
            for r in cs.roster_rows(_paths(day), cs.RosterFilters(as_of=day)) if r.assignment_kind == "primary"}


def test_the_rosters_of_30_june_and_1_july_are_the_same_collaborators_regrouped(demo):
    before, after = _serving(BEFORE), _serving(ON)
    assert len(before) > 2000
    # Only those who started or left on 1/7/2025 itself differ.
    started = set(db.session.scalars(select(Collaborator.id).where(Collaborator.activated_on == ON)))
    left = set(db.session.scalars(select(Assignment.collaborator_id).where(
        Assignment.ended_on == ON, Assignment.end_reason != "unit_reorganised")))
    assert set(after) - set(before) <= started and set(before) - set(after) <= left
    both = set(before) & set(after)
    assert len(both) > 0.99 * len(before)
    # Each one's hamlet on 1/7 is the successor of their hamlet on 30/6, and each new commune's
    # collaborators are its predecessors' collaborators.
    successor = dict(db.session.execute(
        select(unit_change_source.c.unit_id, unit_change_target.c.unit_id)
        .join(unit_change_target, unit_change_target.c.change_id == unit_change_source.c.change_id)
        .join(UnitChange, UnitChange.id == unit_change_source.c.change_id)
        .join(AdminUnit, AdminUnit.id == unit_change_source.c.unit_id)
        .where(UnitChange.effective_on == ON, AdminUnit.level == UnitLevel.HAMLET.value)).all())
    assert all(successor[before[c][0]] == after[c][0] for c in both)
    old_communes = {before[c][1] for c in both}
    new_communes = {after[c][1] for c in both}
    assert len(old_communes) > 200 and len(new_communes) > 85
    # Their service goes on: the assignment of 30/6 ended on 1/7 "unit_reorganised", the next began that day.
    ended = dict(db.session.execute(select(Assignment.collaborator_id, Assignment.end_reason).where(
        Assignment.hamlet_id.in_([before[c][0] for c in both]), Assignment.ended_on == ON)).all())
    assert set(ended) == both and set(ended.values()) == {"unit_reorganised"}
    assert all(cs.status_on(db.session.get(Collaborator, c), BEFORE) == cs.status_on(db.session.get(Collaborator, c), ON)
               for c in list(both)[:50])


def test_coverage_and_quotas_add_up_across_the_reform(demo):
    old, new = cs.quota_summary(_paths(BEFORE), as_of=BEFORE), cs.quota_summary(_paths(ON), as_of=ON)
    assert (old.hamlets, old.households, old.quota) == (new.hamlets, new.households, new.quota)
    assert old.without_quota == new.without_quota == 0  # the old provinces have their (illustrative) bands too
    assert old.active > 2000 and old.suspended == new.suspended
    # Everyone active on 30/6 is active on 1/7 (the reform moved them); the only difference is the
    # people the demo's own timeline appoints on 1/7/2025 itself (an appointment late in June
    # starts on the 1st of the next month, after the month's meeting: demo/network.py), in the new
    # hamlets. Nobody leaves that day but through the reform.
    appointed = set(db.session.scalars(select(Collaborator.id).where(Collaborator.activated_on == ON)))
    assert not _count(Assignment, Assignment.ended_on == ON, Assignment.end_reason != "unit_reorganised")
    assert new.active - old.active == len(appointed) < 20
    assert set(_serving(ON)) - set(_serving(BEFORE)) == appointed
    frame_before = coverage.summarise(coverage.hamlet_frame(_paths(BEFORE), BEFORE), BEFORE)
    frame_after = coverage.summarise(coverage.hamlet_frame(_paths(ON), ON), ON)
    assert (frame_before.hamlets, frame_before.households) == (frame_after.hamlets, frame_after.households)
    assert frame_before.collaborators == old.active and frame_after.collaborators == new.active


def test_history_before_the_reform_sits_in_the_old_units(demo):
    new_province = units.find_unit_by_code("75", ON)
    old_paths = _paths(BEFORE)

    def under_old(column):
        return units.path_filter(old_paths, column)

    # No record before 1/7/2025 names a unit that did not exist yet.
    assert not _count(Assignment, Assignment.started_on < ON, Assignment.hamlet_path.startswith(new_province.path))
    assert _count(Assignment, Assignment.started_on < ON) == _count(Assignment, Assignment.started_on < ON,
                                                                    under_old(Assignment.hamlet_path))
    assert _count(SupervisionVisit, SupervisionVisit.visited_on < ON) == _count(
        SupervisionVisit, SupervisionVisit.visited_on < ON, under_old(SupervisionVisit.hamlet_path)) > 100
    assert _count(MonthlyMeeting, MonthlyMeeting.held_on < ON) == _count(
        MonthlyMeeting, MonthlyMeeting.held_on < ON, under_old(MonthlyMeeting.commune_path)) > 50
    assert _count(TrainingCourse, TrainingCourse.starts_on < ON) == _count(
        TrainingCourse, TrainingCourse.starts_on < ON, under_old(TrainingCourse.unit_path)) > 0
    assert _count(Application, Application.activated_on < ON) == _count(
        Application, Application.activated_on < ON, under_old(Application.hamlet_path))
    # Thọ Sơn met every month for three years: as its predecessors until June 2025, then itself.
    tho_son = units.find_unit_by_code("25402", ON)
    predecessors = [u.id for u in db.session.scalar(
        select(UnitChange).where(UnitChange.targets.any(AdminUnit.id == tho_son.id))).sources]
    months = sorted({m for m in db.session.scalars(select(MonthlyMeeting.month).where(
        MonthlyMeeting.commune_id.in_([tho_son.id, *predecessors])))})
    assert months[0] == date(2023, 11, 1) and months[-1] == date(2026, 10, 1) and len(months) == 36
    assert max(db.session.scalars(select(MonthlyMeeting.month).where(
        MonthlyMeeting.commune_id.in_(predecessors)))) == date(2025, 6, 1)


def test_the_roster_shows_service_in_a_hamlet_since_before_the_reform(app, demo):
    """The reform re-opened each hamlet under its new commune and moved its collaborators there
    on 1/7/2025; a collaborator serving the same ấp since 2018 is shown "Phụ trách từ" 2018 on
    the roster (page, sort and rows), not 01/07/2025 — but someone appointed on 1/7/2025 itself,
    or transferred since, from that day."""
    from danso_network.common import clock

    from .conftest import DEMO_PASSWORD, login

    tho_son = units.find_unit_by_code("25402", ON)
    today = clock.today()
    first_start = dict(db.session.execute(select(Assignment.collaborator_id, func.min(Assignment.started_on))
                                          .group_by(Assignment.collaborator_id)).all())
    reform_moved = set(db.session.scalars(select(Assignment.collaborator_id).where(
        Assignment.ended_on == ON, Assignment.end_reason == "unit_reorganised")))
    moved_since = set(db.session.scalars(select(Assignment.collaborator_id).where(
        Assignment.end_reason == "transferred")))
    rows = list(cs.roster_rows([tho_son.path], cs.RosterFilters(as_of=today)))
    kept = [r for r in rows if r.collaborator_id in reform_moved - moved_since and r.assignment_kind == "primary"]
    assert len(kept) > 10
    assert all(r.started_on == first_start[r.collaborator_id] < ON for r in kept)
    assert all(r.started_on >= ON for r in rows if r.collaborator_id not in reform_moved)
    newest = list(cs.roster_rows([tho_son.path], cs.RosterFilters(as_of=today, sort="started")))
    assert [r.started_on for r in newest] == sorted((r.started_on for r in newest), reverse=True)
    # What the station sees: the row of one of them, with their first day in the ấp.
    person = kept[0]
    client = app.test_client()
    assert login(client, "tram_thoson", DEMO_PASSWORD).status_code == 302
    html = client.get("/collaborators/roster", query_string={"as_of": today.isoformat(), "q": person.full_name}
                      ).get_data(as_text=True)
    row = next(r for r in html.split("<tr>") if f"/collaborators/{person.collaborator_id}\"" in r)
    assert person.started_on.strftime("%d/%m/%Y") in row and "01/07/2025" not in row

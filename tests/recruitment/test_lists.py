"""The recruitment lists count and paginate in the database: the vacancy list (quotas from each
province's bands in force, collaborators counted by the database), its totals over the whole
list whatever the page, and the one choice of the body issuing a recognition decision."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import literal, select

from danso_network.extensions import db
from danso_network.recruitment import rules
from danso_network.recruitment import services as rs
from danso_network.recruitment.rules import QUOTA_PRESETS

from .. import factories

DAY = date(2026, 1, 1)


@pytest.fixture
def staffed(world):
    """Đồng Nai on Gia Lai's bands: Khu phố 1 (180 hộ, quota 1) empty, Khu phố 2 (420 hộ, quota 3)
    with one collaborator, Ấp Tân Lập (300 hộ, quota 2) empty, Ấp 2 (90 hộ, quota 1) full."""
    factories.criteria(world.dong_nai)
    factories.appoint(world.hamlets_a[1], 1)
    factories.appoint(world.hamlets_b[1], 2)
    db.session.commit()
    return world


def _ids(vacancies) -> list[int]:
    return [v.hamlet.id for v in vacancies]


def test_vacancies_are_the_hamlets_below_quota_with_the_empty_ones_first(staffed):
    w = staffed
    found = rs.vacancies([w.dong_nai.path], DAY)
    assert _ids(found) == [w.hamlets_a[0].id, w.hamlets_b[0].id, w.hamlets_a[1].id]
    assert [(v.quota, v.active, v.missing) for v in found] == [(1, 0, 1), (2, 0, 2), (3, 1, 2)]
    assert [v.commune.id for v in found] == [w.commune_a.id, w.commune_b.id, w.commune_a.id]


def test_each_page_shows_the_next_hamlets_and_the_totals_of_the_whole_list(staffed):
    w = staffed
    whole = rs.vacancies([w.dong_nai.path], DAY)
    filters = rs.VacancyFilters(DAY)
    pages = [rs.vacancy_page([w.dong_nai.path], filters, n, per_page=1) for n in (1, 2, 3)]
    assert [_ids(page.items) for page, _totals in pages] == [[h] for h in _ids(whole)]
    assert {(page.total, page.pages) for page, _totals in pages} == {(3, 3)}
    assert {totals for _page, totals in pages} == {rs.VacancyTotals(hamlets=3, empty=2, missing=5)}
    assert rs.vacancy_totals([w.dong_nai.path], filters) == rs.VacancyTotals(3, 2, 5)
    stale, totals = rs.vacancy_page([w.dong_nai.path], filters, 9, per_page=1)  # past the end: the last page
    assert (stale.page, _ids(stale.items), totals.hamlets) == (3, _ids(whole)[-1:], 3)


def test_filters_apply_before_counting_and_paging(staffed):
    w = staffed
    in_a = rs.VacancyFilters(DAY, commune_id=w.commune_a.id)
    second, totals = rs.vacancy_page([w.dong_nai.path], in_a, 2, per_page=1)
    assert _ids(second.items) == [w.hamlets_a[1].id] and second.total == 2
    assert totals == rs.VacancyTotals(hamlets=2, empty=1, missing=3)
    named, totals = rs.vacancy_page([w.dong_nai.path], rs.VacancyFilters(DAY, q="tan lap"))
    assert _ids(named.items) == [w.hamlets_b[0].id] and totals == rs.VacancyTotals(1, 1, 2)
    nothing, totals = rs.vacancy_page([], rs.VacancyFilters(DAY))
    assert (nothing.items, nothing.total, totals) == ([], 0, rs.VacancyTotals())


def test_each_province_uses_its_own_bands_in_force_on_the_day(staffed):
    w = staffed
    factories.criteria(w.hanoi, quota_bands=QUOTA_PRESETS["hai_duong"], quota_preset="hai_duong")
    factories.criteria(w.dong_nai, valid_from=date(2026, 6, 1), quota_bands=QUOTA_PRESETS["hai_duong"],
                       quota_preset="hai_duong")
    both = [w.dong_nai.path, w.hanoi.path]
    before = {v.hamlet.id: v.quota for v in rs.vacancies(both, DAY)}
    assert before[w.hamlets_c[0].id] == 2  # Hà Nội: 500 hộ → 2 (Hải Dương's bands), not Gia Lai's 3
    assert before[w.hamlets_a[1].id] == 3  # Đồng Nai's first version: 420 hộ → 3
    after = {v.hamlet.id: v.quota for v in rs.vacancies(both, date(2026, 7, 1))}
    assert w.hamlets_a[1].id not in after  # the new version: 420 hộ → 1, and one is in post
    assert after[w.hamlets_b[0].id] == 1


@pytest.mark.parametrize("bands", [QUOTA_PRESETS["gia_lai"], QUOTA_PRESETS["hai_duong"], [[None, 2]],
                                   [[100, 1], [200, 4]], [[50, 0], [None, 2]]])
def test_the_database_computes_the_same_quota_as_the_rule(world, bands):
    for households in (None, 0, 1, 50, 51, 99, 100, 101, 199, 200, 201, 399, 400, 401, 499, 500, 5000):
        sql = rs.quota_sql(literal(households), literal("/7/"), {7: bands, 8: QUOTA_PRESETS["gia_lai"]})
        assert db.session.scalar(select(sql)) == rules.quota_for(households or 0, bands), (households, bands)


# --- the body issuing a recognition decision -----------------------------------------------------


def test_the_issuer_is_the_approvers_facility_else_the_department_else_its_name(staffed):
    w = staffed
    application = rs.create_application(**factories.candidate_fields(w.hamlets_b[0], 7), actor=w.users["head_b"])
    assert rs.decision_issuer(w.users["centre"], [application]) == (w.centre.name, w.centre)
    assert rs.decision_issuer(w.users["centre"], [application], name="  UBND xã  ") == ("UBND xã", None)
    assert rs.decision_issuer(w.users["admin"], [application]) == (w.department.name, w.department)
    in_hanoi = SimpleNamespace(hamlet=w.hamlets_c[0])  # Hà Nội has no Department recorded here
    assert rs.decision_issuer(w.users["hanoi_admin"], [in_hanoi]) == ("Sở Y tế Thành phố Hà Nội", None)

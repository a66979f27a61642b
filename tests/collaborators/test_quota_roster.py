"""Quota status and the roster, as of any date, with hand-computed numbers."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.collaborators import services
from danso_network.collaborators.services import RosterFilters, roster_page, roster_rows
from danso_network.recruitment.rules import QUOTA_PRESETS
from tests.factories import appoint, criteria

DAY = date(2026, 2, 1)


def _quota(unit, as_of=DAY):
    return {r.hamlet.name: r for r in services.quota_status(unit, as_of=as_of)}


# --- quota ------------------------------------------------------------------------------------------


@pytest.fixture
def staffed(world):
    """Đồng Nai on Gia Lai's bands from 1/7/2025 (≤200 → 1, 201–400 → 2, >400 → 3), chosen by the
    province: Khu phố 1 (180 hộ): 2 CTV; Khu phố 2 (420 hộ): 2 CTV, one suspended; Ấp Tân Lập
    (300 hộ): 2 CTV; Ấp 2 (90 hộ): nobody."""
    criteria(world.dong_nai)
    kp1, kp2 = world.hamlets_a
    tan_lap, _ = world.hamlets_b
    people = {"kp1": [appoint(kp1, 1), appoint(kp1, 2)], "kp2": [appoint(kp2, 3), appoint(kp2, 4)],
              "tl": [appoint(tan_lap, 5), appoint(tan_lap, 6)]}
    services.suspend_collaborator(people["kp2"][1], on=date(2026, 1, 10), reason="Ốm", actor=world.users["head_a"])
    return people


def test_quota_flags_with_gia_lai_bands(world, staffed):
    rows = _quota(world.commune_a)
    assert list(rows) == ["Khu phố 1", "Khu phố 2"]
    kp1, kp2 = rows["Khu phố 1"], rows["Khu phố 2"]
    assert (kp1.households, kp1.quota, kp1.active, kp1.suspended, kp1.households_per_collaborator, kp1.flag) == (
        180, 1, 2, 0, 90.0, "over")
    assert (kp2.households, kp2.quota, kp2.active, kp2.suspended, kp2.households_per_collaborator, kp2.flag) == (
        420, 3, 1, 1, 420.0, "under")
    assert kp1.commune.id == world.commune_a.id
    province = _quota(world.dong_nai)
    assert sorted(province) == ["Khu phố 1", "Khu phố 2", "Ấp 2", "Ấp Tân Lập"]
    assert (province["Ấp Tân Lập"].quota, province["Ấp Tân Lập"].active, province["Ấp Tân Lập"].flag) == (2, 2, "ok")
    empty = province["Ấp 2"]
    assert (empty.quota, empty.active, empty.households_per_collaborator, empty.flag) == (1, 0, None, "under")
    totals = services.quota_summary([world.dong_nai.path], as_of=DAY)
    assert (totals.hamlets, totals.households, totals.quota, totals.active, totals.suspended) == (4, 990, 7, 5, 1)
    assert (totals.under, totals.over, totals.empty) == (2, 1, 1)
    assert totals.households_per_collaborator == 198.0
    assert list(_quota(world.hamlets_b[0])) == ["Ấp Tân Lập"]  # a hamlet alone


def test_quota_as_of_a_past_date(world, staffed):
    before_suspension = _quota(world.commune_a, date(2026, 1, 9))["Khu phố 2"]
    assert (before_suspension.active, before_suspension.suspended) == (2, 0)
    before_start = _quota(world.commune_a, date(2025, 8, 31))["Khu phố 1"]
    assert (before_start.active, before_start.flag) == (0, "under")
    mover = staffed["kp1"][0]
    services.transfer_collaborator(mover, world.hamlets_b[1], on=date(2026, 3, 1), actor=world.users["centre"],
                                   residence="moves")
    services.terminate_collaborator(staffed["tl"][0], on=date(2026, 3, 1), reason="resigned",
                                    actor=world.users["head_b"])
    past, now = _quota(world.dong_nai, date(2026, 2, 28)), _quota(world.dong_nai, date(2026, 3, 1))
    assert (past["Khu phố 1"].active, past["Ấp 2"].active, past["Ấp Tân Lập"].active) == (2, 0, 2)
    assert (now["Khu phố 1"].active, now["Ấp 2"].active, now["Ấp Tân Lập"].active) == (1, 1, 1)
    assert (now["Khu phố 1"].flag, now["Ấp 2"].flag, now["Ấp Tân Lập"].flag) == ("ok", "ok", "under")


def test_quota_uses_the_criteria_bands_in_force_on_the_date(world, staffed):
    criteria(world.dong_nai, valid_from=date(2026, 1, 1), quota_bands=QUOTA_PRESETS["hai_duong"],
             quota_preset="hai_duong")  # <500 households → 1
    assert _quota(world.commune_a, date(2025, 12, 31))["Khu phố 2"].quota == 3
    kp2 = _quota(world.commune_a, date(2026, 1, 1))["Khu phố 2"]
    assert (kp2.quota, kp2.active, kp2.flag) == (1, 2, "over")  # the suspension starts on 10/1


def test_quota_page_counts_filters_and_slices_in_the_database(world, staffed):
    everywhere = [world.dong_nai.path]
    every_row = [r.hamlet.name for r in services.quota_status(world.dong_nai, as_of=DAY)]
    first = services.quota_page(everywhere, as_of=DAY, per_page=3)
    second = services.quota_page(everywhere, as_of=DAY, page=2, per_page=3)
    assert (first.total, first.pages, first.page, len(first.rows)) == (4, 2, 1, 3)
    assert (second.total, second.page, second.first, len(second.rows)) == (4, 2, 4, 1)
    assert [r.hamlet.name for r in [*first.rows, *second.rows]] == every_row
    beyond = services.quota_page(everywhere, as_of=DAY, page=9, per_page=3)
    assert (beyond.page, [r.hamlet.name for r in beyond.rows]) == (2, [r.hamlet.name for r in second.rows])

    def flagged(flag, page=1, per_page=50):
        found = services.quota_page(everywhere, as_of=DAY, flag=flag, page=page, per_page=per_page)
        return found.total, [r.hamlet.name for r in found.rows]

    assert flagged("under") == (2, ["Khu phố 2", "Ấp 2"])
    assert flagged("under", page=2, per_page=1) == (2, ["Ấp 2"])
    assert flagged("over") == (1, ["Khu phố 1"])
    assert flagged("ok") == (1, ["Ấp Tân Lập"])
    row = services.quota_page(everywhere, as_of=DAY, flag="over").rows[0]
    assert (row.households, row.quota, row.active, row.suspended, row.households_per_collaborator) == (
        180, 1, 2, 0, 90.0)


def test_quota_totals_of_nothing_and_of_several_provinces(world, staffed):
    assert services.quota_summary([], as_of=DAY) == services.QuotaTotals(0, 0, 0, 0, 0, 0, 0, 0)
    assert services.quota_page([], as_of=DAY).rows == []
    # Each province's own bands: Hà Nội on Hải Dương's (<500 → 1, ≥500 → 2), Đồng Nai on Gia Lai's.
    criteria(world.hanoi, valid_from=date(2026, 1, 1), quota_bands=QUOTA_PRESETS["hai_duong"],
             quota_preset="hai_duong")
    both = services.quota_summary([world.dong_nai.path, world.hanoi.path], as_of=DAY)
    assert (both.hamlets, both.households, both.quota, both.active, both.under, both.empty) == (5, 1490, 9, 5, 3, 2)
    [to5] = services.quota_status(world.hamlets_c[0], as_of=DAY)
    assert (to5.households, to5.quota, to5.flag) == (500, 2, "under")
    before = services.quota_status(world.hamlets_c[0], as_of=date(2025, 12, 31))[0]
    assert (before.quota, before.flag) == (None, "under")  # before Hà Nội's criteria: no quota, nobody in post


# --- roster -----------------------------------------------------------------------------------------


@pytest.fixture
def people(world):
    kp1, kp2 = world.hamlets_a
    tan_lap, ap2 = world.hamlets_b
    return {
        "lan": appoint(kp1, 1, full_name="Nguyễn Thị Lan", started_on=date(2020, 1, 1)),
        "binh": appoint(kp1, 2, full_name="Trần Văn Bình", sex="male", date_of_birth=date(1985, 3, 2),
                        started_on=date(2024, 6, 1)),
        "hoa": appoint(kp2, 3, full_name="Lê Thị Hoa", vhw=True, started_on=date(2022, 12, 1)),
        "dung": appoint(tan_lap, 4, full_name="Đặng Thị Dung", started_on=date(2025, 9, 1)),
        "an": appoint(ap2, 5, full_name="Nguyễn Văn An", sex="male", date_of_birth=date(2001, 1, 1),
                      started_on=date(2025, 9, 1)),
    }


def names(prefixes, page_no=1, per_page=50, **filters):
    filters.setdefault("as_of", DAY)
    page = roster_page(prefixes, RosterFilters(**filters), page_no, per_page)
    return [r.full_name for r in page.rows]


def test_roster_rows_carry_the_person_the_hamlet_and_the_status(world, people):
    page = roster_page([world.commune_a.path], RosterFilters(as_of=DAY))
    assert page.total == 3 and page.pages == 1
    lan = next(r for r in page.rows if r.full_name == "Nguyễn Thị Lan")
    assert (lan.collaborator_id, lan.hamlet_name, lan.hamlet_type, lan.commune_name, lan.assignment_kind) == (
        people["lan"].id, "Khu phố 1", "khu_pho", "Bình Phước", "primary")
    assert (lan.started_on, lan.ended_on, lan.activated_on, lan.status, lan.is_vhw) == (
        date(2020, 1, 1), None, date(2020, 1, 1), "active", False)
    assert len(lan.national_id) == 12 and lan.sex == "female" and lan.phone == "0912345678"


def test_roster_scope(world, people):
    assert sorted(names([world.commune_b.path])) == ["Nguyễn Văn An", "Đặng Thị Dung"]
    assert len(names([world.commune_a.path, world.commune_b.path])) == 5
    assert len(names([world.dong_nai.path])) == 5
    assert names([world.hanoi.path]) == []
    assert names([]) == []  # no prefixes → nothing (fail-closed)


def test_roster_search_ignores_diacritics_and_takes_cccd_prefixes(world, people):
    everywhere = [world.dong_nai.path]
    assert names(everywhere, q="nguyen thi") == ["Nguyễn Thị Lan"]
    assert names(everywhere, q="NGUYỄN") == ["Nguyễn Thị Lan", "Nguyễn Văn An"]
    assert names(everywhere, q="dang dung") == ["Đặng Thị Dung"]
    assert names(everywhere, q="lan nguyen") == ["Nguyễn Thị Lan"]  # every word, any order
    assert names(everywhere, q="xyz") == []
    cccd = people["binh"].candidate.national_id
    sees = (world.dong_nai.path,)  # where the reader sees CCCD numbers (auth.personal_data)
    assert names(everywhere, q=cccd, cccd_areas=sees) == ["Trần Văn Bình"]
    assert names(everywhere, q=cccd[:6], cccd_areas=sees) == ["Trần Văn Bình"]  # 070 0 85: male, born 1985
    assert len(names(everywhere, q="070", cccd_areas=sees)) == 5
    assert names(everywhere, q="%") == []  # LIKE wildcards are literal
    # A CCCD finds nobody where the reader may not see CCCD numbers.
    assert names(everywhere, q=cccd) == []
    assert names(everywhere, q=cccd, cccd_areas=(world.commune_b.path,)) == []  # Bình serves in A


def test_roster_filters(world, people):
    everywhere = [world.dong_nai.path]
    assert sorted(names(everywhere, hamlet_type="ap")) == ["Nguyễn Văn An", "Đặng Thị Dung"]
    assert names(everywhere, difficult=True) == ["Đặng Thị Dung"]  # Ấp Tân Lập: difficult + ethnic
    assert len(names(everywhere, difficult=False)) == 4
    assert names(everywhere, vhw=True) == ["Lê Thị Hoa"]
    assert len(names(everywhere, vhw=False)) == 4
    # Whole years from activation to 1/2/2026.
    assert sorted(names(everywhere, tenure="lt1")) == ["Nguyễn Văn An", "Đặng Thị Dung"]
    assert names(everywhere, tenure="1to3") == ["Trần Văn Bình"]
    assert names(everywhere, tenure="3to5") == ["Lê Thị Hoa"]  # from 1/12/2022
    assert names(everywhere, tenure="ge5") == ["Nguyễn Thị Lan"]  # from 1/1/2020
    assert names(everywhere, tenure="3to5", as_of=date(2025, 12, 1)) == ["Lê Thị Hoa"]  # 3 years on 1/12/2025
    assert names(everywhere, tenure="1to3", as_of=date(2025, 11, 30)) == ["Lê Thị Hoa", "Trần Văn Bình"]
    assert names(everywhere, tenure="ge5", as_of=date(2024, 12, 31)) == []


def test_roster_sorting(world, people):
    everywhere = [world.dong_nai.path]
    # Folded full name: "dang…" < "le…" < "nguyen thi…" < "nguyen van…" < "tran…".
    assert names(everywhere) == ["Đặng Thị Dung", "Lê Thị Hoa", "Nguyễn Thị Lan", "Nguyễn Văn An", "Trần Văn Bình"]
    # Commune (folded: "binh phuoc" < "dong xoai"), then the hamlet's number, then the name.
    assert names(everywhere, sort="hamlet") == ["Nguyễn Thị Lan", "Trần Văn Bình", "Lê Thị Hoa", "Đặng Thị Dung",
                                                "Nguyễn Văn An"]
    # Newest first; the same day by name.
    assert names(everywhere, sort="started") == ["Đặng Thị Dung", "Nguyễn Văn An", "Trần Văn Bình", "Lê Thị Hoa",
                                                 "Nguyễn Thị Lan"]
    assert names(everywhere, sort="tenure") == ["Nguyễn Thị Lan", "Lê Thị Hoa", "Trần Văn Bình", "Đặng Thị Dung",
                                                "Nguyễn Văn An"]


def test_roster_pagination(world, people):
    everywhere = [world.dong_nai.path]
    first = roster_page(everywhere, RosterFilters(as_of=DAY), 1, 2)
    assert (first.total, first.pages, first.page, first.has_next, first.has_prev) == (5, 3, 1, True, False)
    assert [r.full_name for r in first.rows] == ["Đặng Thị Dung", "Lê Thị Hoa"]
    assert names(everywhere, 2, 2) == ["Nguyễn Thị Lan", "Nguyễn Văn An"]
    last = roster_page(everywhere, RosterFilters(as_of=DAY), 3, 2)
    assert ([r.full_name for r in last.rows], last.first, last.has_next) == (["Trần Văn Bình"], 5, False)
    beyond = roster_page(everywhere, RosterFilters(as_of=DAY), 9, 2)
    assert (beyond.page, [r.full_name for r in beyond.rows]) == (3, ["Trần Văn Bình"])
    assert list(first.iter_pages()) == [1, 2, 3]
    nothing = roster_page(everywhere, RosterFilters(as_of=DAY, q="xyz"), 4, 2)
    assert (nothing.rows, nothing.total, nothing.pages) == ([], 0, 1)
    assert [r.full_name for r in roster_rows(everywhere, RosterFilters(as_of=DAY))] == names(everywhere)


def test_roster_status_and_as_of_after_transfer_suspension_and_termination(world, people):
    head_a, centre = world.users["head_a"], world.users["centre"]
    everywhere = [world.dong_nai.path]
    services.suspend_collaborator(people["hoa"], on=date(2026, 2, 10), reason="Ốm", actor=head_a)
    services.transfer_collaborator(people["binh"], world.hamlets_b[1], on=date(2026, 3, 1), actor=centre,
                                   residence="moves")
    services.terminate_collaborator(people["binh"], on=date(2026, 4, 1), reason="resigned", actor=centre)
    services.terminate_collaborator(people["lan"], on=date(2026, 3, 15), reason="health", actor=head_a)

    def rows(as_of, **f):
        return {(r.full_name, r.hamlet_name, r.status)
                for r in roster_page(everywhere, RosterFilters(as_of=as_of, **f)).rows}

    assert ("Trần Văn Bình", "Khu phố 1", "active") in rows(date(2026, 2, 28))
    assert ("Lê Thị Hoa", "Khu phố 2", "active") in rows(date(2026, 2, 9))
    assert ("Lê Thị Hoa", "Khu phố 2", "suspended") in rows(date(2026, 2, 10))
    assert ("Trần Văn Bình", "Ấp 2", "active") in rows(date(2026, 3, 1))
    assert names([world.commune_a.path], as_of=date(2026, 3, 1)) == ["Lê Thị Hoa", "Nguyễn Thị Lan"]
    assert rows(date(2026, 3, 10), status="suspended") == {("Lê Thị Hoa", "Khu phố 2", "suspended")}
    assert {n for n, _, _ in rows(date(2026, 3, 10), status="active")} == {
        "Nguyễn Thị Lan", "Trần Văn Bình", "Đặng Thị Dung", "Nguyễn Văn An"}
    # Left by 15/3: Lan; by 1/4: Bình too — in the hamlet they served last, not the one left by transfer.
    assert rows(date(2026, 3, 20), status="ended") == {("Nguyễn Thị Lan", "Khu phố 1", "ended")}
    ended = roster_page(everywhere, RosterFilters(as_of=date(2026, 4, 1), status="ended")).rows
    assert {(r.full_name, r.hamlet_name, r.ended_on, r.end_reason) for r in ended} == {
        ("Nguyễn Thị Lan", "Khu phố 1", date(2026, 3, 15), "health"),
        ("Trần Văn Bình", "Ấp 2", date(2026, 4, 1), "resigned")}
    assert names([world.commune_a.path], as_of=date(2026, 4, 1), status="ended") == ["Nguyễn Thị Lan"]
    assert "Trần Văn Bình" not in names(everywhere, as_of=date(2026, 4, 1))
    assert rows(date(2026, 2, 28), status="ended") == set()


def test_roster_lists_an_additional_hamlet_as_its_own_row(world, people):
    from tests.collaborators.test_services import allow_cover

    allow_cover(world)
    services.add_hamlet(people["an"], world.hamlets_b[0], on=date(2026, 1, 1), actor=world.users["head_b"])
    rows = [(r.hamlet_name, r.assignment_kind) for r in roster_page(
        [world.commune_b.path], RosterFilters(as_of=DAY, q="nguyen van an")).rows]
    assert sorted(rows) == [("Ấp 2", "primary"), ("Ấp Tân Lập", "additional")]


@pytest.mark.parametrize("sort", ["name", "hamlet"])
def test_walking_the_name_index_finds_the_same_pages_as_sorting(world, people, monkeypatch, sort):
    """A national roster finds its page by walking the name index (services._walk_names); a
    small one by sorting. Both give the same rows, pages and totals, with every filter."""
    from tests.collaborators.test_services import allow_cover

    allow_cover(world)
    services.add_hamlet(people["an"], world.hamlets_b[0], on=date(2026, 1, 1), actor=world.users["head_b"])
    everywhere = [world.dong_nai.path, world.hanoi.path]

    def pages(walk, **filters):
        monkeypatch.setattr(services, "_walk_names", lambda total, through: walk)
        found = [roster_page(everywhere, RosterFilters(as_of=DAY, sort=sort, **filters), n, 2) for n in (1, 2, 3, 4)]
        return [(p.page, p.total, [(r.full_name, r.hamlet_name) for r in p.rows]) for p in found]

    for filters in [{}, {"q": "nguyen"}, {"vhw": False}, {"tenure": "lt1"}, {"difficult": False}]:
        assert pages(True, **filters) == pages(False, **filters), filters
    assert pages(True)[0][1] == 6  # An serves two hamlets: two rows


def test_a_scope_of_many_provinces_finds_what_lies_under_them(world, people):
    """Three provinces and more take the wide-scope filter: every province there is, or a
    lookup of each path's province (services.in_areas)."""
    from tests.factories import province

    hue = province(code="46", name="Huế", full_name="Thành phố Huế")
    three = [world.dong_nai.path, world.hanoi.path, hue.path]
    assert len(names(three)) == 5  # every province there is
    province(code="48", name="Đà Nẵng", full_name="Thành phố Đà Nẵng")
    assert len(names(three)) == 5  # not every province any more
    assert names([world.hanoi.path, hue.path, world.commune_b.path, world.commune_a.path]) == names(
        [world.dong_nai.path])
    assert services.quota_summary(three, as_of=DAY).hamlets == 5

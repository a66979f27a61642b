"""Who issues an export and who signs it (issue #11), against tests/factories.build_world."""

from __future__ import annotations

from datetime import date

import pytest

from danso_network.auth.models import Role
from danso_network.exports.document import Heading
from danso_network.exports.heading import heading_for
from danso_network.extensions import db

from ..factories import user

ON = date(2026, 12, 7)


def test_a_commune_is_issued_by_its_station_under_the_centre(world):
    heading = heading_for(unit=world.commune_a, on=ON)
    assert heading == Heading(issuer="Trạm Y tế Phường Bình Phước", superior="Trung tâm Y tế khu vực Đồng Xoài",
                              place="Đồng Nai", signer_title="Trạm trưởng",
                              signer_name=world.users["head_a"].full_name)


def test_a_hamlet_is_issued_by_its_communes_station(world):
    assert heading_for(unit=world.hamlets_b[0], on=ON) == heading_for(unit=world.commune_b, on=ON)
    assert heading_for(unit=world.hamlets_b[0], on=ON).issuer == "Trạm Y tế Xã Đồng Xoài"


def test_a_station_given_as_the_facility_is_the_issuer(world):
    assert heading_for(facility=world.station_a, on=ON) == heading_for(unit=world.commune_a, on=ON)


def test_a_centre_is_issued_by_itself_under_the_department(world):
    heading = heading_for(facility=world.centre, on=ON)
    assert heading == Heading(issuer="Trung tâm Y tế khu vực Đồng Xoài", superior="Sở Y tế Thành phố Đồng Nai",
                              place="Đồng Nai", signer_title="Giám đốc", signer_name=None)


def test_the_facility_wins_over_the_unit(world):
    assert heading_for(unit=world.commune_a, facility=world.centre, on=ON).issuer == "Trung tâm Y tế khu vực Đồng Xoài"


@pytest.mark.parametrize("as_facility", [False, True])
def test_a_province_is_issued_by_its_department_under_the_peoples_committee(world, as_facility):
    heading = (heading_for(facility=world.department, on=ON) if as_facility
               else heading_for(unit=world.dong_nai, on=ON))
    assert heading == Heading(issuer="Sở Y tế Thành phố Đồng Nai", superior="Ủy ban nhân dân Thành phố Đồng Nai",
                              place="Đồng Nai", signer_title="Giám đốc", signer_name=None)


def test_a_unit_without_a_facility_issues_in_its_own_name(world):
    assert heading_for(unit=world.commune_c, on=ON) == Heading(
        issuer="Phường Ba Đình", superior=None, place="Hà Nội", signer_title="Thủ trưởng đơn vị")
    assert heading_for(unit=world.hanoi, on=ON).issuer == "Thành phố Hà Nội"
    assert heading_for(unit=world.hamlets_c[0], on=ON).issuer == "Phường Ba Đình"


def test_a_station_not_yet_open_or_closed_on_the_day_is_not_the_issuer(world):
    assert heading_for(unit=world.commune_a, on=date(2025, 6, 30)).issuer == "Phường Bình Phước"
    world.station_a.valid_to = date(2026, 1, 1)
    db.session.flush()
    assert heading_for(unit=world.commune_a, on=ON).superior is None
    assert heading_for(unit=world.commune_a, on=date(2025, 12, 31)).issuer == "Trạm Y tế Phường Bình Phước"


def test_the_signer_name_needs_exactly_one_active_head_on_the_day(world):
    head = world.users["head_a"]
    second = user(Role.STATION_HEAD, facility=world.station_a, valid_from=date(2026, 6, 1))
    assert heading_for(unit=world.commune_a, on=ON).signer_name is None  # two heads: nobody named
    assert heading_for(unit=world.commune_a, on=date(2026, 5, 31)).signer_name == head.full_name
    head.active = False
    db.session.flush()
    assert heading_for(unit=world.commune_a, on=ON).signer_name == second.full_name


def test_an_expired_grant_or_an_officer_is_not_the_head(world):
    user(Role.STATION_OFFICER, facility=world.station_b)
    user(Role.STATION_HEAD, facility=world.station_b, valid_from=date(2025, 1, 1), valid_to=date(2026, 1, 1))
    assert heading_for(unit=world.commune_b, on=ON).signer_name == world.users["head_b"].full_name


def test_a_unit_or_a_facility_is_required(world):
    with pytest.raises(ValueError):
        heading_for(on=ON)

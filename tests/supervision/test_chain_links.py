"""The supervision chain (derived from assignments, facilities and dated role grants) on today's
and past dates, and the commune's professional-direction links (LĐTBXH, VHTT)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from danso_network.audit.models import AuditEvent
from danso_network.auth import services as auth_services
from danso_network.auth.models import Role
from danso_network.errors import Conflict, ValidationFailed
from danso_network.extensions import db
from danso_network.supervision import services
from danso_network.supervision.models import LinkKind

from ..factories import UserFactory, appoint
from .conftest import counts


def people(chain) -> dict[str, list[str]]:
    return {level.key: [h.user.username for h in level.holders] for level in chain.levels}


def test_chain_today_names_every_level(world):
    c = appoint(world.hamlets_a[0], 1)
    chain = services.supervision_chain_for(c, date(2026, 3, 1))
    assert chain.serving and chain.hamlet == world.hamlets_a[0] and chain.commune == world.commune_a
    assert people(chain) == {"station_officer": ["vienchuc_a"], "station_head": ["truongtram_a"],
                             "health_centre": ["ttyt689"], "department": ["admin75"]}
    facilities = {level.key: [f.code for f in level.facilities] for level in chain.levels}
    assert facilities == {"station_officer": ["TYT-25195"], "station_head": ["TYT-25195"],
                          "health_centre": ["TTYT-689"], "department": ["SYT-75"]}
    assert chain.links == []


def test_chain_in_commune_b_has_no_station_officer(world):
    c = appoint(world.hamlets_b[0], 1)
    chain = services.supervision_chain_for(c, date(2026, 3, 1))
    assert people(chain) == {"station_officer": [], "station_head": ["truongtram_b"], "health_centre": ["ttyt689"],
                             "department": ["admin75"]}


def test_chain_on_a_past_date_shows_who_held_the_role_then(world):
    c = appoint(world.hamlets_a[0], 1)
    old_head = world.users["head_a"]
    auth_services.end_grant(old_head.grants[0], on=date(2026, 2, 1))
    new_head = UserFactory(username="truongtram_moi")
    auth_services.grant_role(new_head, Role.STATION_HEAD, facility=world.station_a, valid_from=date(2026, 2, 1))
    # A population officer granted at the commune itself (not the station) counts too.
    commune_officer = UserFactory(username="vienchuc_xa")
    db.session.add(type(old_head.grants[0])(user=commune_officer, role=Role.STATION_OFFICER.value,
                                            unit=world.commune_a, valid_from=date(2025, 10, 1),
                                            valid_to=date(2026, 1, 1)))
    db.session.flush()
    before = services.supervision_chain_for(c, date(2025, 12, 15))
    after = services.supervision_chain_for(c, date(2026, 3, 1))
    assert people(before)["station_head"] == ["truongtram_a"]
    assert people(before)["station_officer"] == ["vienchuc_a", "vienchuc_xa"]
    holder = before.levels[1].holders[0]
    assert (holder.valid_from, holder.valid_to, holder.last_day) == (date(2025, 1, 1), date(2026, 2, 1),
                                                                     date(2026, 1, 31))
    assert people(after)["station_head"] == ["truongtram_moi"]
    assert people(after)["station_officer"] == ["vienchuc_a"]
    # The day the grant ends belongs to the successor (half-open periods).
    assert people(services.supervision_chain_for(c, date(2026, 2, 1)))["station_head"] == ["truongtram_moi"]
    assert people(services.supervision_chain_for(c, date(2026, 1, 31)))["station_head"] == ["truongtram_a"]


def test_chain_includes_the_links_valid_on_the_date(world):
    c = appoint(world.hamlets_a[0], 1)
    services.set_professional_link(world.commune_a, kind=LinkKind.LABOUR_SOCIAL, person_name="Trần Văn Lao",
                                   valid_from=date(2025, 9, 1))
    services.set_professional_link(world.commune_a, kind=LinkKind.LABOUR_SOCIAL, person_name="Lê Thị Xã Hội",
                                   valid_from=date(2026, 2, 1))
    services.set_professional_link(world.commune_a, kind=LinkKind.CULTURE_SPORTS, person_name="Phạm Văn Hoá",
                                   position="Công chức Văn hoá – Xã hội", valid_from=date(2026, 1, 1))
    early = services.supervision_chain_for(c, date(2025, 12, 1))
    late = services.supervision_chain_for(c, date(2026, 3, 1))
    assert [(link.kind, link.person_name) for link in early.links] == [("labour_social", "Trần Văn Lao")]
    assert [(link.kind, link.person_name) for link in late.links] == [("labour_social", "Lê Thị Xã Hội"),
                                                                      ("culture_sports", "Phạm Văn Hoá")]


def test_chain_of_a_collaborator_not_serving_on_the_date(world):
    c = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    chain = services.supervision_chain_for(c, date(2025, 8, 1))
    assert not chain.serving and chain.commune == world.commune_a  # placed by the nearest assignment
    chain = services.supervision_chain_for(c, date(2025, 6, 30))  # before the facilities existed
    assert all(level.facilities == [] for level in chain.levels)
    # The province admin's grant is at the province itself, which the chain still shows.
    assert people(chain) == {"station_officer": [], "station_head": [], "health_centre": [], "department": ["admin75"]}


# --- professional-direction links -------------------------------------------------------------


def test_new_holder_closes_the_current_link(world):
    first = services.set_professional_link(world.commune_a, kind="labour_social", person_name="Trần Văn Lao",
                                           phone="0909000111", valid_from=date(2025, 9, 1),
                                           legal_basis="KH 14676/KH-UBND", actor=world.users["head_a"])
    second = services.set_professional_link(world.commune_a, kind="labour_social", person_name="Lê Thị Xã Hội",
                                            valid_from=date(2026, 2, 1), actor=world.users["head_a"])
    assert first.valid_to == date(2026, 2, 1) and second.valid_to is None
    assert services.links_on(world.commune_a, date(2026, 1, 31)) == [first]
    assert services.links_on(world.commune_a, date(2026, 2, 1)) == [second]
    assert services.link_history(world.commune_a) == [second, first]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "professional_link.set",
                                                       AuditEvent.object_id == str(second.id)))
    assert event.before["closed"]["person_name"] == "Trần Văn Lao" and event.after["person_name"] == "Lê Thị Xã Hội"


@pytest.mark.parametrize(("valid_from", "message"), [
    (date(2025, 9, 1), "phải sau ngày bắt đầu của người đang phụ trách"),
    (date(2025, 8, 1), "phải sau ngày bắt đầu của người đang phụ trách"),
])
def test_link_starting_on_or_before_the_current_one_is_refused(world, valid_from, message):
    current = services.set_professional_link(world.commune_a, kind="culture_sports", person_name="Phạm Văn Hoá",
                                             valid_from=date(2025, 9, 1))
    before = counts()
    with pytest.raises(ValidationFailed, match=message):
        services.set_professional_link(world.commune_a, kind="culture_sports", person_name="Người mới",
                                       valid_from=valid_from)
    assert counts() == before and current.valid_to is None


def test_link_overlapping_a_closed_period_is_refused(world):
    old = services.set_professional_link(world.commune_a, kind="culture_sports", person_name="A",
                                         valid_from=date(2025, 9, 1))
    services.end_professional_link(old, valid_to=date(2026, 1, 1))
    with pytest.raises(ValidationFailed, match="trùng với thời gian phụ trách của A"):
        services.set_professional_link(world.commune_a, kind="culture_sports", person_name="B",
                                       valid_from=date(2025, 12, 1))
    assert services.set_professional_link(world.commune_a, kind="culture_sports", person_name="B",
                                          valid_from=date(2026, 1, 1)).valid_to is None


def test_bad_links_are_refused(world):
    with pytest.raises(ValidationFailed, match="Loại phụ trách"):
        services.set_professional_link(world.commune_a, kind="police", person_name="X", valid_from=date(2026, 1, 1))
    with pytest.raises(ValidationFailed, match="họ tên"):
        services.set_professional_link(world.commune_a, kind="culture_sports", person_name=" ",
                                       valid_from=date(2026, 1, 1))
    with pytest.raises(ValidationFailed, match="Chỉ xã"):
        services.set_professional_link(world.hamlets_a[0], kind="culture_sports", person_name="X",
                                       valid_from=date(2026, 1, 1))


def test_end_link_once_and_after_its_start(world):
    link = services.set_professional_link(world.commune_a, kind="labour_social", person_name="A",
                                          valid_from=date(2025, 9, 1))
    with pytest.raises(ValidationFailed, match="phải sau ngày bắt đầu"):
        services.end_professional_link(link, valid_to=date(2025, 9, 1))
    services.end_professional_link(link, valid_to=date(2026, 1, 1))
    with pytest.raises(Conflict, match="đã kết thúc từ 01/01/2026"):
        services.end_professional_link(link, valid_to=date(2026, 2, 1))
    assert services.links_on(world.commune_a, date(2026, 1, 1)) == []

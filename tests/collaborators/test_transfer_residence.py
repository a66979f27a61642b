"""A transfer and the residence rule (issue #9 item 11; TT 02/2021/TT-BYT Art. 2.2: the
collaborator lives in the hamlet served). A transfer to a hamlet where the person does not live
either records the new residence (audited before/after) or carries a written residence exception,
flagged on the profile, the roster and in the audit; with neither it is refused and nothing
changes — in the service, so the page and the API obey the same rule."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.audit.models import AuditEvent
from danso_network.collaborators import services
from danso_network.collaborators.models import Assignment, RegisterHandover
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.recruitment.models import Candidate
from tests.api.test_network_api import as_user  # noqa: F401 (fixture)
from tests.collaborators.test_services import allow_cover
from tests.collaborators.test_views import post
from tests.factories import appoint

ON = date(2026, 3, 1)
WHY = "Nhà ở sát ranh Khu phố 2, đi lại dưới 1 km; Khu phố 2 chưa có người đủ tiêu chuẩn"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def state(collaborator):
    """What a refused transfer must leave untouched (after a commit of the set-up)."""
    rows = db.session.execute(select(Assignment.id, Assignment.ended_on, Assignment.end_reason)).all()
    residence = db.session.execute(select(Candidate.residence_hamlet_id, Candidate.resident_since)
                                   .where(Candidate.id == collaborator.candidate_id)).one()
    return sorted(rows), count(Assignment), count(RegisterHandover), count(AuditEvent), tuple(residence)


@pytest.fixture
def lan(world):
    made = appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan")
    db.session.commit()
    return made


def checked(html: str, value: str) -> bool:
    """Whether the residence radio button with ``value`` is checked on the page."""
    tag = re.search(rf'<input[^>]*name="residence"[^>]*value="{value}"[^>]*>|<input[^>]*value="{value}"[^>]*'
                    rf'name="residence"[^>]*>', html)
    assert tag, value
    return "checked" in tag.group(0)


def transfer_event() -> AuditEvent:
    return db.session.scalar(select(AuditEvent).where(AuditEvent.action == "collaborator.transfer"))


# --- the service ----------------------------------------------------------------------------------


def test_moving_in_records_the_new_residence_and_audits_it(world, lan):
    kp1, kp2 = world.hamlets_a
    new = services.transfer_collaborator(lan, kp2, on=ON, actor=world.users["head_a"], residence="moves")
    assert (lan.candidate.residence_hamlet_id, lan.candidate.resident_since) == (kp2.id, ON)
    assert new.residence_exception is None
    event = transfer_event()
    assert (event.before["residence_hamlet_id"], event.before["residence_hamlet"]) == (kp1.id, kp1.full_name)
    assert (event.after["residence_hamlet_id"], event.after["residence_hamlet"]) == (kp2.id, kp2.full_name)
    assert event.after["residence_exception"] is None


def test_still_living_elsewhere_stores_the_written_exception(world, lan):
    kp1, kp2 = world.hamlets_a
    new = services.transfer_collaborator(lan, kp2, on=ON, actor=world.users["head_a"], residence="elsewhere",
                                         residence_exception=f"  {WHY}  ")
    assert new.residence_exception == WHY
    assert lan.candidate.residence_hamlet_id == kp1.id  # the residence is not touched
    event = transfer_event()
    assert event.after["residence_exception"] == WHY and "residence_hamlet_id" not in event.after


@pytest.mark.parametrize("kwargs, field, message", [
    ({}, "residence", "sinh sống tại thôn phụ trách"),
    ({"residence": ""}, "residence", "sinh sống tại thôn phụ trách"),
    ({"residence_exception": WHY}, "residence", "sinh sống tại thôn phụ trách"),  # a text alone is no choice
    ({"residence": "maybe"}, "residence", "sinh sống tại thôn phụ trách"),
    ({"residence": "elsewhere"}, "residence_exception", "ít nhất 10 ký tự"),
    ({"residence": "elsewhere", "residence_exception": "   "}, "residence_exception", "ít nhất 10 ký tự"),
    ({"residence": "elsewhere", "residence_exception": " gần nhà "}, "residence_exception", "ít nhất 10 ký tự"),
])
def test_a_transfer_without_residence_or_exception_is_refused_and_nothing_changes(world, lan, kwargs, field,
                                                                                  message):
    before = state(lan)
    with pytest.raises(ValidationFailed, match=message) as refused:
        services.transfer_collaborator(lan, world.hamlets_a[1], on=ON, actor=world.users["head_a"], **kwargs)
    assert refused.value.field == field
    db.session.rollback()
    assert state(lan) == before


def test_the_other_refusals_come_first(world, lan):
    """A date before the start is reported as such, not hidden behind the residence question."""
    with pytest.raises(ValidationFailed, match="trước ngày bắt đầu phụ trách"):
        services.transfer_collaborator(lan, world.hamlets_a[1], on=date(2025, 8, 1), actor=world.users["head_a"])


def test_transfer_to_where_they_already_live_needs_nothing(world, lan):
    kp2 = world.hamlets_a[1]
    lan.candidate.residence_hamlet = kp2
    lan.candidate.resident_since = date(2024, 5, 1)
    db.session.commit()
    new = services.transfer_collaborator(lan, kp2, on=ON, actor=world.users["head_a"])
    assert new.residence_exception is None
    assert (lan.candidate.residence_hamlet_id, lan.candidate.resident_since) == (kp2.id, date(2024, 5, 1))
    # Saying "still lives elsewhere" there is moot: the recorded residence meets the rule, no flag.
    again = appoint(world.hamlets_a[0], 2, residence_hamlet=kp2)
    other = services.transfer_collaborator(again, kp2, on=ON, actor=world.users["head_a"], residence="elsewhere",
                                           residence_exception=WHY)
    assert other.residence_exception is None


def test_an_additional_hamlet_needs_no_residence(world, lan):
    """Kiêm nhiệm: the collaborator keeps living in the primary hamlet (no one lives in two)."""
    allow_cover(world)
    cover = services.add_hamlet(lan, world.hamlets_a[1], on=ON, actor=world.users["head_a"])
    assert cover.kind == "additional" and cover.residence_exception is None
    assert lan.candidate.residence_hamlet_id == world.hamlets_a[0].id


# --- the page -------------------------------------------------------------------------------------


def test_the_form_asks_where_the_collaborator_lives(login_as, world, lan):
    html = login_as(world.users["head_a"]).get(f"/collaborators/{lan.id}/transfer").get_data(as_text=True)
    assert "Nơi cư trú hiện tại" in html and "Khu phố 1" in html
    assert checked(html, "moves") and not checked(html, "elsewhere")  # moving in is the default
    assert "Chuyển đến sinh sống tại thôn mới" in html and "Vẫn sinh sống nơi khác" in html
    assert "Giải trình ngoại lệ nơi cư trú" in html


def test_a_refused_transfer_shows_the_form_again_with_the_input_kept(login_as, world, lan):
    client = login_as(world.users["head_a"])
    before = state(lan)
    response = post(client, f"/collaborators/{lan.id}/transfer",
                    {"hamlet": world.hamlets_a[1].id, "on": "2026-03-01", "decision_ref": "QĐ 7/TYT",
                     "residence": "elsewhere", "residence_exception": "gần"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ít nhất 10 ký tự" in html
    assert 'value="QĐ 7/TYT"' in html and "gần</textarea>" in html
    assert checked(html, "elsewhere") and not checked(html, "moves")
    assert state(lan) == before
    # Without any choice (an old form, a script): refused the same way, next to the question.
    response = post(client, f"/collaborators/{lan.id}/transfer", {"hamlet": world.hamlets_a[1].id, "on": "2026-03-01"})
    assert response.status_code == 422 and "sinh sống tại thôn phụ trách" in response.get_data(as_text=True)
    assert state(lan) == before


def test_an_exception_is_flagged_on_the_profile_the_roster_and_the_timeline(login_as, world, lan):
    client = login_as(world.users["head_a"])
    response = post(client, f"/collaborators/{lan.id}/transfer",
                    {"hamlet": world.hamlets_a[1].id, "on": "2026-03-01", "residence": "elsewhere",
                     "residence_exception": WHY})
    assert response.status_code == 302
    profile = client.get(f"/collaborators/{lan.id}").get_data(as_text=True)
    assert "Ngoại lệ nơi cư trú" in profile and WHY in profile
    assert "Nơi cư trú" in profile and "Khu phố 1" in profile
    assert "ngoại lệ nơi cư trú" in profile.split("Nhật ký thay đổi")[-1]  # the timeline says so too
    roster = client.get(f"/collaborators/roster/{world.commune_a.id}").get_data(as_text=True)
    assert f'title="{WHY}"' in roster and "Ngoại lệ nơi cư trú" in roster


def test_moving_in_through_the_page_updates_the_residence_shown(login_as, world, lan):
    client = login_as(world.users["head_a"])
    response = post(client, f"/collaborators/{lan.id}/transfer",
                    {"hamlet": world.hamlets_a[1].id, "on": "2026-03-01", "residence": "moves"})
    assert response.status_code == 302
    assert db.session.get(Candidate, lan.candidate_id).residence_hamlet_id == world.hamlets_a[1].id
    profile = client.get(f"/collaborators/{lan.id}").get_data(as_text=True)
    assert "Ngoại lệ nơi cư trú" not in profile
    assert "nơi cư trú" in profile.split("Nhật ký thay đổi")[-1]  # the timeline names the move
    roster = client.get(f"/collaborators/roster/{world.commune_a.id}").get_data(as_text=True)
    assert "Ngoại lệ nơi cư trú" not in roster


# --- the API --------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra, field, message", [
    ({}, "residence", "sinh sống tại thôn phụ trách"),
    ({"residence": "maybe"}, "residence", "phải là một trong các giá trị"),
    ({"residence": "elsewhere", "residence_exception": "gần"}, "residence_exception", "ít nhất 10 ký tự"),
])
def test_the_api_refuses_a_transfer_without_residence_or_exception(world, lan, as_user, extra, field, message):  # noqa: F811
    head = as_user("head_a")
    before = state(lan)
    response = head.post(f"/collaborators/{lan.id}/transfer",
                                      {"hamlet_id": world.hamlets_a[1].id, "on": "2026-03-01", **extra})
    assert response.status_code == 422 and response.is_json
    assert response.json["field"] == field and message in response.json["error"]
    assert state(lan) == before


def test_the_api_transfers_with_an_exception_or_a_new_residence(world, lan, as_user):  # noqa: F811
    head = as_user("head_a")
    response = head.post(f"/collaborators/{lan.id}/transfer", {
        "hamlet_id": world.hamlets_a[1].id, "on": "2026-03-01", "residence": "elsewhere",
        "residence_exception": WHY})
    assert response.status_code == 200, response.json
    assert response.json["assignment"]["residence_exception"] == WHY
    assert response.json["collaborator"]["person"]["residence_hamlet_id"] == world.hamlets_a[0].id
    other = appoint(world.hamlets_a[0], 2)
    db.session.commit()
    response = head.post(f"/collaborators/{other.id}/transfer", {
        "hamlet_id": world.hamlets_a[1].id, "on": "2026-03-01", "residence": "moves"})
    assert response.status_code == 200, response.json
    assert response.json["assignment"]["residence_exception"] is None
    assert response.json["collaborator"]["person"]["residence_hamlet_id"] == world.hamlets_a[1].id

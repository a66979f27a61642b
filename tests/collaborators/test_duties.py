"""The combined duty "kiêm công tác gia đình và trẻ em" (issue #9 item 15): a dated record on the
collaborator, started and ended through one service each (refusals change nothing), ended with
the collaborator's service, filtered on in the roster (in SQL, on the roster's date), shown and
changed on the profile, and listed in the API profile."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from danso_network.api.auth import issue_token
from danso_network.audit.models import AuditEvent
from danso_network.auth.models import User
from danso_network.collaborators import services
from danso_network.collaborators.models import CollaboratorDuty, DutyKind
from danso_network.common.clock import today
from danso_network.errors import Conflict, PermissionDenied, ValidationFailed
from danso_network.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import appoint

FC = DutyKind.FAMILY_CHILDREN
START = date(2025, 9, 1)  # every collaborator of these tests starts then (factories.appoint)


def state() -> tuple:
    """What a refused action must leave untouched (after the set-up is committed)."""
    db.session.commit()
    rows = db.session.execute(select(CollaboratorDuty.id, CollaboratorDuty.started_on, CollaboratorDuty.ended_on,
                                     CollaboratorDuty.decision_ref)).all()
    return sorted(rows), db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def lan(world):
    c = appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan")
    db.session.commit()
    return c


# --- services -------------------------------------------------------------------------------------


def test_start_and_end_are_dated_half_open_and_audited(world, lan):
    head = world.users["head_a"]
    duty = services.start_duty(lan, FC, on=date(2025, 10, 1), actor=head, decision_ref=" QĐ 12/QĐ-TTYT ")
    assert (duty.duty, duty.started_on, duty.ended_on, duty.decision_ref, duty.created_by_id) == (
        "family_children", date(2025, 10, 1), None, "QĐ 12/QĐ-TTYT", head.id)
    assert services.open_duty(lan, FC) is duty and lan.duties == [duty]
    assert services.duties_on([lan.id], date(2025, 9, 30)) == {}
    assert services.duties_on([lan.id], date(2025, 10, 1)) == {lan.id: {FC}}

    services.end_duty(lan, FC, on=date(2026, 3, 1), actor=head)
    assert duty.ended_on == date(2026, 3, 1) and services.open_duty(lan, FC) is None
    assert services.duties_on([lan.id], date(2026, 2, 28)) == {lan.id: {FC}}
    assert services.duties_on([lan.id], date(2026, 3, 1)) == {}
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("collaborator.%_duty"))
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_id) for e in events] == [("collaborator.start_duty", str(lan.id)),
                                                         ("collaborator.end_duty", str(lan.id))]
    assert events[0].after["decision_ref"] == "QĐ 12/QĐ-TTYT" and events[1].after["ended_on"] == "2026-03-01"


def test_the_duty_may_be_held_again_after_it_ended(world, lan):
    head = world.users["head_a"]
    services.start_duty(lan, FC, on=START, actor=head)
    services.end_duty(lan, FC, on=date(2025, 12, 1), actor=head)
    with pytest.raises(ValidationFailed, match="01/12/2025"):  # overlapping the earlier period
        services.start_duty(lan, FC, on=date(2025, 11, 1), actor=head)
    again = services.start_duty(lan, FC, on=date(2025, 12, 1), actor=head)
    assert [(d.started_on, d.ended_on) for d in lan.duties] == [(START, date(2025, 12, 1)), (date(2025, 12, 1), None)]
    assert services.open_duty(lan, FC) is again


def test_duties_on_reads_many_collaborators_in_one_query(world, lan, app):
    others = [appoint(world.hamlets_a[1], 10 + i) for i in range(3)]
    services.start_duty(others[0], FC, on=START, actor=None)
    services.start_duty(others[2], FC, on=date(2026, 1, 1), actor=None)
    db.session.commit()
    ids = [lan.id, *(o.id for o in others)]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = services.duties_on(ids, date(2025, 12, 1))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert found == {ids[1]: {FC}}
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
    assert services.duties_on([], date(2025, 12, 1)) == {}


def test_terminating_the_collaborator_ends_the_duty_the_same_day(world, lan):
    services.start_duty(lan, FC, on=START, actor=None)
    services.terminate_collaborator(lan, on=date(2026, 2, 1), reason="resigned", actor=world.users["head_a"])
    assert [(d.started_on, d.ended_on) for d in lan.duties] == [(START, date(2026, 2, 1))]


@pytest.mark.parametrize("case", ["before_activation", "future", "already_open", "unknown", "left",
                                  "other_commune", "officer", "viewer", "empty_date"])
def test_start_refusals_change_nothing(world, lan, case):
    head = world.users["head_a"]
    if case == "already_open":
        services.start_duty(lan, FC, on=START, actor=head)
    if case == "left":
        services.terminate_collaborator(lan, on=date(2026, 1, 1), reason="resigned", actor=head)
    before = state()
    call = {
        "before_activation": lambda: services.start_duty(lan, FC, on=START - timedelta(days=1), actor=head),
        "future": lambda: services.start_duty(lan, FC, on=today() + timedelta(days=1), actor=head),
        "already_open": lambda: services.start_duty(lan, FC, on=date(2025, 10, 1), actor=head),
        "unknown": lambda: services.start_duty(lan, "youth_union", on=START, actor=head),
        "left": lambda: services.start_duty(lan, FC, on=START, actor=head),
        "other_commune": lambda: services.start_duty(lan, FC, on=START, actor=world.users["head_b"]),
        "officer": lambda: services.start_duty(lan, FC, on=START, actor=world.users["officer_a"]),
        "viewer": lambda: services.start_duty(lan, FC, on=START, actor=world.users["viewer_b"]),
        "empty_date": lambda: services.start_duty(lan, FC, on=None, actor=head),
    }[case]
    expected = {"before_activation": ValidationFailed, "future": ValidationFailed, "already_open": Conflict,
                "unknown": ValidationFailed, "left": Conflict, "other_commune": PermissionDenied,
                "officer": PermissionDenied, "viewer": PermissionDenied, "empty_date": ValidationFailed}[case]
    with pytest.raises(expected) as refused:
        call()
    db.session.rollback()
    assert state() == before
    if case == "before_activation":
        assert "01/09/2025" in str(refused.value)


@pytest.mark.parametrize("case", ["none_open", "before_start", "future", "other_commune"])
def test_end_refusals_change_nothing(world, lan, case):
    head = world.users["head_a"]
    if case != "none_open":
        services.start_duty(lan, FC, on=date(2025, 10, 1), actor=head)
    before = state()
    actor = world.users["head_b"] if case == "other_commune" else head
    on = {"before_start": date(2025, 9, 30), "future": today() + timedelta(days=1)}.get(case, date(2025, 12, 1))
    expected = {"none_open": Conflict, "before_start": ValidationFailed, "future": ValidationFailed,
                "other_commune": PermissionDenied}[case]
    with pytest.raises(expected):
        services.end_duty(lan, FC, on=on, actor=actor)
    db.session.rollback()
    assert state() == before


def test_the_database_keeps_one_open_period_per_duty(world, lan):
    from danso_network.common.clock import now

    db.session.add_all([CollaboratorDuty(collaborator_id=lan.id, duty=FC.value, started_on=START, created_at=now()),
                        CollaboratorDuty(collaborator_id=lan.id, duty=FC.value, started_on=START, created_at=now())])
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError, whatever the driver calls it
        db.session.flush()
    db.session.rollback()


# --- roster ---------------------------------------------------------------------------------------


@pytest.fixture
def crew(world):
    """Three in commune A: Lan holds the duty from 1/10/2025 to 1/3/2026, Hoa from 1/9/2025 on,
    Mai never."""
    made = {"lan": appoint(world.hamlets_a[0], 1, full_name="Nguyễn Thị Lan"),
            "hoa": appoint(world.hamlets_a[1], 2, full_name="Lê Thị Hoa"),
            "mai": appoint(world.hamlets_a[1], 3, full_name="Trần Thị Mai")}
    services.start_duty(made["lan"], FC, on=date(2025, 10, 1), actor=None, decision_ref="QĐ 7/QĐ-TTYT")
    services.end_duty(made["lan"], FC, on=date(2026, 3, 1), actor=None)
    services.start_duty(made["hoa"], FC, on=START, actor=None)
    db.session.commit()
    return made


def roster(world, as_of, **filters):
    page = services.roster_page([world.commune_a.path], services.RosterFilters(as_of=as_of, **filters))
    return page.total, {r.full_name: r.family_children for r in page.rows}


@pytest.mark.parametrize(("as_of", "with_duty", "without"), [
    (date(2025, 9, 15), {"Lê Thị Hoa"}, {"Nguyễn Thị Lan", "Trần Thị Mai"}),
    (date(2025, 12, 1), {"Lê Thị Hoa", "Nguyễn Thị Lan"}, {"Trần Thị Mai"}),
    (date(2026, 3, 1), {"Lê Thị Hoa"}, {"Nguyễn Thị Lan", "Trần Thị Mai"}),  # ended that day (half-open)
])
def test_roster_filters_on_the_duty_in_force_on_the_roster_date(world, crew, as_of, with_duty, without):
    total, rows = roster(world, as_of, family_children=True)
    assert (total, set(rows)) == (len(with_duty), with_duty) and all(rows.values())
    total, rows = roster(world, as_of, family_children=False)
    assert (total, set(rows)) == (len(without), without) and not any(rows.values())
    total, rows = roster(world, as_of)
    assert total == 3 and {name for name, held in rows.items() if held} == with_duty
    # The same rows streamed for exports.
    streamed = services.roster_rows([world.commune_a.path], services.RosterFilters(as_of=as_of, family_children=True))
    assert {r.full_name for r in streamed} == with_duty


# --- pages ----------------------------------------------------------------------------------------


def browser(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client, url: str, back: str, data: dict):
    return client.post(url, data={"csrf_token": csrf_token(client, back), **data})


def test_profile_shows_the_duty_its_period_and_decision(app, world, crew):
    client = browser(app, "truongtram_a")
    html = client.get(f"/collaborators/{crew['hoa'].id}").get_data(as_text=True)
    assert "Kiêm nhiệm công tác gia đình và trẻ em" in html
    assert "từ 01/09/2025" in html and f'action="/collaborators/{crew["hoa"].id}/duty/end"' in html
    assert re.search(r'<form[^>]+duty/end"[^>]*data-confirm="[^"]+"', html)
    html = client.get(f"/collaborators/{crew['lan'].id}").get_data(as_text=True)
    assert "01/10/2025" in html and "01/03/2026" in html and "QĐ 7/QĐ-TTYT" in html  # the history
    assert f'action="/collaborators/{crew["lan"].id}/duty/start"' in html


def test_viewer_of_the_area_reads_the_duty_without_forms(app, world):
    dung = appoint(world.hamlets_b[0], 4, full_name="Đặng Thị Dung")
    services.start_duty(dung, FC, on=START, actor=None)
    db.session.commit()
    html = browser(app, "xem_b").get(f"/collaborators/{dung.id}").get_data(as_text=True)
    assert "Kiêm nhiệm công tác gia đình và trẻ em" in html and "từ 01/09/2025" in html
    assert "duty/end" not in html and "duty/start" not in html


def test_station_head_starts_and_ends_the_duty_through_the_profile(app, world, crew):
    client = browser(app, "truongtram_a")
    mai = crew["mai"]
    profile = f"/collaborators/{mai.id}"
    response = post(client, f"{profile}/duty/start", profile,
                    {"duty": "family_children", "on": "01/11/2025", "decision_ref": "QĐ 31/QĐ-TYT"})
    assert response.status_code == 302 and response.headers["Location"].endswith(profile)
    db.session.expire_all()
    assert [(d.started_on, d.ended_on, d.decision_ref) for d in mai.duties] == [(date(2025, 11, 1), None,
                                                                                  "QĐ 31/QĐ-TYT")]
    assert "Trần Thị Mai kiêm nhiệm công tác gia đình và trẻ em từ ngày 01/11/2025" in client.get(
        profile).get_data(as_text=True)

    response = post(client, f"{profile}/duty/end", profile, {"duty": "family_children", "on": "01/12/2025"})
    assert response.status_code == 302
    db.session.expire_all()
    assert [(d.started_on, d.ended_on) for d in mai.duties] == [(date(2025, 11, 1), date(2025, 12, 1))]


def test_a_refused_start_is_shown_on_the_profile_and_changes_nothing(app, world, crew):
    client = browser(app, "truongtram_a")
    profile = f"/collaborators/{crew['hoa'].id}"
    before = state()
    response = post(client, f"{profile}/duty/start", profile, {"duty": "family_children", "on": "01/11/2025"})
    assert response.status_code == 302
    assert "đang kiêm nhiệm công tác gia đình và trẻ em từ ngày 01/09/2025" in client.get(profile).get_data(
        as_text=True)
    response = post(client, f"{profile}/duty/start", profile, {"duty": "family_children", "on": "31/02/2025"})
    assert response.status_code == 302
    assert "Ngày không hợp lệ" in client.get(profile).get_data(as_text=True)
    assert state()[0] == before[0]


def test_the_forms_need_the_csrf_token(app, world, crew):
    client = browser(app, "truongtram_a")
    before = state()
    response = client.post(f"/collaborators/{crew['mai'].id}/duty/start",
                           data={"duty": "family_children", "on": "01/11/2025"})
    assert response.status_code == 400
    assert state()[0] == before[0]


def test_a_station_head_of_another_commune_is_refused(app, world, crew):
    client = browser(app, "truongtram_b")
    before = state()
    for action, data in (("start", {"on": "01/11/2025"}), ("end", {"on": "01/11/2025"})):
        response = post(client, f"/collaborators/{crew['mai'].id}/duty/{action}", "/",
                        {"duty": "family_children", **data})
        assert response.status_code == 403, action
    assert state()[0] == before[0]


def test_the_roster_page_filters_and_marks_the_duty(app, world, crew):
    client = browser(app, "truongtram_a")
    url = f"/collaborators/roster/{world.commune_a.id}?as_of=2025-12-01"
    html = client.get(url).get_data(as_text=True)
    assert 'name="family_children"' in html
    assert html.count('data-duty="family_children"') == 2  # the badge of Lan and Hoa
    html = client.get(url + "&family_children=1").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in html and "Lê Thị Hoa" in html and "Trần Thị Mai" not in html
    html = client.get(url + "&family_children=0").get_data(as_text=True)
    assert "Trần Thị Mai" in html and "Nguyễn Thị Lan" not in html and "Lê Thị Hoa" not in html


# --- API ------------------------------------------------------------------------------------------


def test_the_api_profile_lists_the_duties(app, world, crew):
    _, raw = issue_token(db.session.get(User, world.users["head_a"].id))
    db.session.commit()
    response = app.test_client().get(f"/api/v1/collaborators/{crew['lan'].id}",
                                     headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json["duties"] == [{"kind": "family_children", "kind_label": "Kiêm công tác gia đình và trẻ em",
                                        "started_on": "2025-10-01", "ended_on": "2026-03-01",
                                        "decision_ref": "QĐ 7/QĐ-TTYT"}]
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert "duties" in doc["components"]["schemas"]["Collaborator"]["properties"]

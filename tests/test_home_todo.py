"""The home page says what waits for each user (issue #9 item 19): applications to complete,
screen, review, submit, approve or confirm, decisions to issue, contracts to record,
collaborators to start, overdue supervision, open follow-ups, Sổ A0 hand-overs and hamlets
without a collaborator — each with its count and a link to the list, only for the roles that
act on it (recruitment/workflow.py says who), and only within the user's area."""

from __future__ import annotations

import html as html_lib
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from danso_network.auth.models import Role
from danso_network.auth.permissions import compute_scope
from danso_network.collaborators import services as cs
from danso_network.common.clock import today
from danso_network.extensions import db
from danso_network.main.services import todo_for
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import Application, Candidate
from danso_network.recruitment.workflow import Approver, State
from danso_network.supervision import services as ss
from danso_network.textnorm import fold

from . import factories
from .conftest import login

PANEL = "Việc cần làm"
NOMINATED = "Hồ sơ mới được giới thiệu, cần hoàn thiện"
RETURNED = "Hồ sơ bị trả lại, cần bổ sung"
TO_SCREEN = "Hồ sơ đủ, cần sàng lọc"
TO_REVIEW = "Hồ sơ đã sàng lọc, cần thẩm định tại trạm"
TO_SUBMIT = "Hồ sơ đã thẩm định, cần trình phê duyệt"
TO_APPROVE = "Hồ sơ chờ phê duyệt"
TO_CONFIRM = "Hồ sơ chờ UBND xã xác nhận"
TO_DECIDE = "Hồ sơ đã phê duyệt, chờ ban hành quyết định công nhận"
TO_CONTRACT = "Đã có quyết định công nhận, cần ghi hợp đồng trách nhiệm"
TO_ACTIVATE = "Đã ký hợp đồng, cần ghi ngày bắt đầu hoạt động"
OVERDUE = "CTV quá hạn giám sát"
FOLLOW_UPS = "Việc cần khắc phục sau giám sát chưa xong"
HANDOVERS = "Sổ A0 chờ bàn giao"
VACANT = "Thôn, tổ dân phố chưa có CTV"
APPLICATION_ITEMS = [NOMINATED, RETURNED, TO_SCREEN, TO_REVIEW, TO_SUBMIT, TO_APPROVE, TO_CONFIRM, TO_DECIDE,
                     TO_CONTRACT, TO_ACTIVATE]
NETWORK_ITEMS = [OVERDUE, FOLLOW_UPS, HANDOVERS, VACANT]

_serials = iter(range(100, 10_000))


def _application(hamlet, state: State) -> Application:
    """An application written straight into ``state`` (the transitions are tested in
    tests/recruitment); only what the lists and counts read."""
    now = datetime.now(UTC)
    fields = factories.candidate_fields(hamlet, next(_serials))
    fields.pop("hamlet")
    candidate = Candidate(**fields, search_text=fold(fields["full_name"]), created_at=now)
    application = Application(candidate=candidate, hamlet_id=hamlet.id, hamlet_path=hamlet.path, state=state.value,
                              dossier={}, created_at=now, updated_at=now)
    db.session.add_all([candidate, application])
    db.session.flush()
    return application


def _decided(world, hamlet) -> Application:
    """Approved, with a recognition decision issued by the centre (the centre approves here)."""
    application = _application(hamlet, State.APPROVED)
    rs.issue_decision([application], number=f"{next(_serials)}/QĐ-TTYT", issued_on=today(), signer_name="Lê Văn A",
                      signer_title="Giám đốc", issuer_name=world.centre.name, actor=world.users["centre"])
    return application


def build_waiting(world):
    """Đồng Nai (the centre approves) and Hà Nội, with work waiting at each step:

    - commune A: 2 nominated, 1 returned, 1 complete dossier, 1 screened, 1 reviewed by the
      station, 1 submitted, 1 approved with its decision (contract to record), 1 contracted;
      two collaborators, both overdue for supervision, one with a follow-up past its due date;
    - commune B: 1 nominated, 1 submitted, 1 approved without a decision; its one collaborator
      left ten days ago (Sổ A0 to hand over), so both its hamlets have nobody;
    - Hà Nội's commune C: 1 nominated, 1 submitted; its hamlet has nobody."""
    factories.criteria(world.dong_nai)
    factories.criteria(world.hanoi)
    a, b, c = world.hamlets_a[0], world.hamlets_b[0], world.hamlets_c[0]
    for state in [State.NOMINATED, State.NOMINATED, State.RETURNED, State.DOSSIER_COMPLETE, State.SCREENED,
                  State.STATION_REVIEWED, State.SUBMITTED, State.CONTRACTED]:
        _application(a, state)
    _decided(world, a)
    for state in [State.NOMINATED, State.SUBMITTED, State.APPROVED]:
        _application(b, state)
    for state in [State.NOMINATED, State.SUBMITTED]:
        _application(c, state)
    day = today()
    factories.appoint(world.hamlets_a[0], 1, started_on=day - timedelta(days=200))
    second = factories.appoint(world.hamlets_a[1], 2, started_on=day - timedelta(days=300))
    ss.record_visit(second, supervisor=world.users["head_a"], visited_on=day - timedelta(days=150),
                    checklist={"communication": True}, follow_up="Cập nhật Sổ A0",
                    follow_up_due=day - timedelta(days=120))
    leaving = factories.appoint(world.hamlets_b[0], 3, started_on=day - timedelta(days=300))
    cs.terminate_collaborator(leaving, on=day - timedelta(days=10), reason="resigned", actor=world.users["admin"])
    return world


@pytest.fixture
def waiting(world):
    build_waiting(world)
    db.session.commit()
    return world


def _todo(html: str) -> dict[str, tuple[int, str | None]]:
    """The to-do panel as the user reads it: each line's label -> (count, link or None)."""
    lines = {}
    panel = "".join(re.findall(r'<ul[^>]*id="todo-[a-z]+"[^>]*>(.*?)</ul>', html, re.S))
    for item in re.findall(r"<li[^>]*>(.*?)</li>", panel, re.S):
        count = re.search(r'<span class="badge[^"]*"[^>]*>\s*([\d.]+)\s*</span>', item)
        link = re.search(r'href="([^"]+)"', item)
        label = re.search(r'<span class="todo-label">(.*?)</span>', item, re.S)
        text = html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", label.group(1))).strip())
        lines[text] = (int(count.group(1).replace(".", "")), html_lib.unescape(link.group(1)) if link else None)
    return lines


def _home(app, username: str) -> str:
    client = app.test_client()
    assert login(client, username).status_code == 302
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_station_head_sees_the_station_steps_of_the_commune(app, waiting):
    todo = _todo(_home(app, "truongtram_a"))
    assert todo[NOMINATED] == (2, "/recruitment/applications?state=nominated")  # commune B's is not counted
    assert todo[RETURNED] == (1, "/recruitment/applications?state=returned")
    assert todo[TO_SCREEN] == (1, "/recruitment/applications?state=dossier_complete")
    assert todo[TO_REVIEW] == (1, "/recruitment/applications?state=screened")
    assert todo[TO_SUBMIT] == (1, "/recruitment/submit")
    assert todo[TO_ACTIVATE] == (1, "/recruitment/applications?state=contracted")
    assert todo[OVERDUE] == (2, "/supervision/overdue")
    assert todo[FOLLOW_UPS] == (1, "/supervision/follow-ups")
    assert todo[HANDOVERS] == (0, None)  # nothing waits: shown as done, without a link
    assert todo[VACANT] == (0, None)
    for line in (TO_APPROVE, TO_CONFIRM, TO_DECIDE, TO_CONTRACT):  # the centre approves in Đồng Nai
        assert line not in todo


def test_the_station_officer_does_not_see_the_heads_steps(app, waiting):
    todo = _todo(_home(app, "vienchuc_a"))
    assert todo[NOMINATED] == (2, "/recruitment/applications?state=nominated")
    assert todo[TO_SCREEN][0] == 1 and todo[TO_ACTIVATE][0] == 1
    for line in (TO_REVIEW, TO_SUBMIT, TO_APPROVE, TO_DECIDE):
        assert line not in todo


def test_the_centre_sees_what_it_approves_decides_and_contracts(app, waiting):
    html = _home(app, "ttyt689")
    todo = _todo(html)
    assert todo[TO_APPROVE] == (2, "/recruitment/approvals")  # communes A and B, not Hà Nội's
    assert todo[TO_DECIDE] == (1, "/recruitment/decisions/new")
    assert todo[TO_CONTRACT] == (1, "/recruitment/applications?state=approved")
    assert todo[OVERDUE] == (2, "/supervision/overdue")
    assert todo[FOLLOW_UPS] == (1, "/supervision/follow-ups")
    assert todo[HANDOVERS] == (1, "/collaborators/handovers")
    assert todo[VACANT] == (2, "/recruitment/vacancies")
    for line in (NOMINATED, RETURNED, TO_SCREEN, TO_REVIEW, TO_SUBMIT, TO_CONFIRM, TO_ACTIVATE):
        assert line not in todo
    assert "1 quá hạn" in html  # the follow-up is past its due date


def test_the_province_admin_sees_the_network_not_the_applications(app, waiting):
    html = _home(app, "admin75")
    todo = _todo(html)
    assert set(todo) == set(NETWORK_ITEMS)  # the province takes no step of the selection (workflow.py)
    assert todo[OVERDUE] == (2, "/supervision/overdue")
    assert todo[HANDOVERS] == (1, "/collaborators/handovers")
    assert todo[VACANT] == (2, "/recruitment/vacancies")
    assert "chưa có viên chức dân số" in html  # the station flag of item 16 stays


def test_counts_stay_within_the_area(app, waiting):
    todo = _todo(_home(app, "admin01"))
    assert todo[VACANT] == (1, "/recruitment/vacancies")
    assert todo[OVERDUE] == (0, None) and todo[HANDOVERS] == (0, None) and todo[FOLLOW_UPS] == (0, None)


def test_a_viewer_has_nothing_to_do(app, waiting):
    html = _home(app, "xem_b")
    assert PANEL not in html
    assert _todo(html) == {}
    assert "Xã Đồng Xoài" in html  # the area's overview is still there


@pytest.mark.parametrize("username", ["truongtram_a", "ttyt689", "admin75"])
def test_every_link_opens_its_list(app, waiting, username):
    client = app.test_client()
    login(client, username)
    links = [link for _count, link in _todo(client.get("/").get_data(as_text=True)).values() if link]
    assert links
    for link in links:
        assert client.get(link).status_code == 200, link


def test_the_commune_committee_confirms_where_the_province_says_so(app, world):
    factories.criteria(world.dong_nai, valid_from=date(2025, 7, 1), approver=Approver.STATION_DIRECTOR_THEN_COMMITTEE)
    factories.user(Role.COMMUNE_COMMITTEE, unit=world.commune_b, username="ubnd_b")
    _application(world.hamlets_b[0], State.DIRECTOR_APPROVED)
    _application(world.hamlets_a[0], State.DIRECTOR_APPROVED)  # another commune's committee
    _application(world.hamlets_b[1], State.SUBMITTED)
    db.session.commit()
    committee = _todo(_home(app, "ubnd_b"))
    assert committee == {TO_CONFIRM: (1, "/recruitment/approvals")}
    head = _todo(_home(app, "truongtram_b"))
    assert head[TO_APPROVE] == (1, "/recruitment/approvals")  # the station director approves first
    assert TO_CONFIRM not in head
    assert TO_APPROVE not in _todo(_home(app, "ttyt689"))


def test_no_confirmation_where_the_centre_approves(app, waiting):
    """Where the centre approves alone, nothing ever waits for the commune's confirmation: the
    committee has no line to watch."""
    factories.user(Role.COMMUNE_COMMITTEE, unit=waiting.commune_b, username="ubnd_b")
    db.session.commit()
    html = _home(app, "ubnd_b")
    assert PANEL not in html and _todo(html) == {}


def test_no_criteria_no_selection_steps(app, world):
    """Without criteria in force the application pages offer no action; the home says none."""
    _application(world.hamlets_a[0], State.NOMINATED)
    db.session.commit()
    todo = _todo(_home(app, "truongtram_a"))
    assert not set(todo) & set(APPLICATION_ITEMS)
    assert set(todo) == set(NETWORK_ITEMS)


def test_the_counts_are_a_few_queries_whatever_the_size_of_the_area(app, waiting):
    """Counted by the database: a fixed number of statements, not one per row."""
    statements = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind().engine
    for user in ("admin", "centre", "head_a"):
        scope = compute_scope(waiting.users[user])
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        try:
            items = todo_for(scope, today())
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        assert items and len(statements) <= 10, (user, len(statements))

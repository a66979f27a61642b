"""Personal data (issue #9 items 6 and 7): one policy (``auth.personal_data``) decides who sees a
person's CCCD number, phone number and full date of birth, on every page, print, CSV export and
the API. Viewers and the commune committee see the name, sex and year of birth; the editing roles
of the person's area see everything; the commune committee sees the applications it must confirm;
a recognition decision shows each reader the personal data of the people of their own area only,
and its issuer everyone's. A search by CCCD digits cannot find a person whose CCCD one may not see."""

from __future__ import annotations

from datetime import date

import pytest
from markupsafe import escape

from danso_network.api.auth import issue_token
from danso_network.auth import personal_data
from danso_network.auth.models import Role, User
from danso_network.auth.services import grant_role
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.rules import MANUAL_CODES
from danso_network.recruitment.workflow import Action, Approver, State
from danso_network.training import services as training

from . import factories
from .conftest import login

PHONE = "0912345678"
HIDDEN_TITLE = "Ẩn theo quy định bảo vệ dữ liệu cá nhân"


# --- helpers ------------------------------------------------------------------------------------


_CLIENTS: dict = {}


def browse(app, user: User, url: str, **kw):
    """The page ``url`` as ``user`` sees it (one logged-in browser per user and test: logins are
    rate-limited)."""
    client = _CLIENTS.get(user.username)
    if client is None:
        client = _CLIENTS[user.username] = app.test_client()
        assert login(client, user.username).status_code == 302
    response = client.get(url, **kw)
    assert response.status_code == 200, (user.username, url, response.status_code)
    return response.get_data(as_text=True)


@pytest.fixture(autouse=True)
def _fresh_browsers():
    _CLIENTS.clear()
    yield
    _CLIENTS.clear()


def api(app, user: User, url: str) -> dict:
    _, raw = issue_token(db.session.get(User, user.id))
    db.session.commit()
    response = app.test_client().get("/api/v1" + url, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200, (user.username, url, response.json)
    return response.json


def _to_submitted(world, hamlet, serial: int, born: date):
    head = world.users["head_b"] if hamlet.parent_id == world.commune_b.id else world.users["head_a"]
    application = rs.create_application(**factories.candidate_fields(hamlet, serial, date_of_birth=born), actor=head)
    factories.complete_dossier(application, head)
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in MANUAL_CODES}}),
                          (Action.SUBMIT, {})]:
        rs.perform(application, action, actor=head, **extra)
    return application


def _visible(html: str, person) -> bool:
    """Whether the page shows the person's CCCD, and then also their full date of birth."""
    shown = person.national_id in html
    assert shown == (person.date_of_birth.strftime("%d/%m/%Y") in html), "CCCD and birth date go together"
    return shown


@pytest.fixture
def committee_b(world):
    user = factories.user(Role.COMMUNE_COMMITTEE, unit=world.commune_b, username="ubnd_b")
    db.session.commit()
    return user


@pytest.fixture
def mixed(world):
    """The head of station A who also reads commune B (a viewer grant there)."""
    user = factories.user(Role.STATION_HEAD, facility=world.station_a, username="truongtram_a_xem_b")
    grant_role(user, Role.VIEWER, unit=world.commune_b, valid_from=date(2025, 1, 1))
    db.session.commit()
    return user


@pytest.fixture
def people(world):
    """A collaborator in commune A (born 17/05/1990) and one in commune B (born 09/08/1992)."""
    made = {"a": factories.appoint(world.hamlets_a[0], 1),
            "b": factories.appoint(world.hamlets_b[0], 3, date_of_birth=date(1992, 8, 9))}
    db.session.commit()
    return made


@pytest.fixture
def decision(world):
    """One recognition decision of the area health centre covering a person of commune A (born
    02/03/1991) and one of commune B (born 09/08/1992)."""
    factories.criteria(world.dong_nai)
    in_a = _to_submitted(world, world.hamlets_a[1], 5, date(1991, 3, 2))
    in_b = _to_submitted(world, world.hamlets_b[1], 6, date(1992, 8, 9))
    centre = world.users["centre"]
    for application in (in_a, in_b):
        rs.perform(application, Action.APPROVE, actor=centre)
    issuer, facility = rs.decision_issuer(centre, [in_a, in_b])
    made = rs.issue_decision([in_a, in_b], number="15/QĐ-TTYT", issued_on=date(2025, 10, 1), signer_name="Lê Văn A",
                             signer_title="Giám đốc", issuer_name=issuer, issuer_facility=facility, actor=centre)
    db.session.commit()
    return made, in_a.candidate, in_b.candidate


# --- the policy ---------------------------------------------------------------------------------


def test_the_policy_gives_personal_data_to_the_editing_roles_of_the_persons_area(world, committee_b):
    b = [world.hamlets_b[0].path]
    assert personal_data.can_see_personal_data(world.users["head_b"], b)
    assert personal_data.can_see_personal_data(world.users["centre"], b)
    assert personal_data.can_see_personal_data(world.users["admin"], b)
    assert not personal_data.can_see_personal_data(world.users["head_a"], b)  # another commune
    assert not personal_data.can_see_personal_data(world.users["viewer_b"], b)
    assert not personal_data.can_see_personal_data(committee_b, b)
    assert not personal_data.can_see_personal_data(world.users["nogrant"], b)
    assert not personal_data.can_see_personal_data(world.users["head_b"], [])
    # A person who served in A and now serves in B: both stations work with them.
    assert personal_data.can_see_personal_data(world.users["head_a"], [world.hamlets_a[0].path, *b])


def test_masking_keeps_the_year_of_birth_and_hides_the_rest():
    born = date(1990, 5, 17)
    assert personal_data.birth_date_text(born, True) == "17/05/1990"
    assert personal_data.birth_date_text(born, False) == "1990"
    assert personal_data.masked_text("070190000001", True) == "070190000001"
    assert "070190000001" not in personal_data.masked_text("070190000001", False)
    html = str(personal_data.show_national_id("070190000001", False))
    assert "070190000001" not in html and HIDDEN_TITLE in html
    assert "1990" in str(personal_data.show_birth_date(born, False))
    assert "17/05/1990" in str(personal_data.show_birth_date(born, True))
    assert "&lt;b&gt;" in str(personal_data.show_phone("<b>", True))  # values are escaped


# --- pages: roster, profile, applications ---------------------------------------------------------


def test_roster_and_profile_hide_cccd_phone_and_birth_date_from_viewer_and_committee(app, world, people,
                                                                                     committee_b):
    person = people["b"].candidate
    for reader in (world.users["viewer_b"], committee_b):
        for url in (f"/collaborators/roster/{world.commune_b.id}", f"/collaborators/{people['b'].id}"):
            html = browse(app, reader, url)
            assert person.full_name in html and "1992" in html, (reader.username, url)
            assert not _visible(html, person) and PHONE not in html, (reader.username, url)
            assert HIDDEN_TITLE in html
    for url in (f"/collaborators/roster/{world.commune_b.id}", f"/collaborators/{people['b'].id}"):
        html = browse(app, world.users["head_b"], url)
        assert _visible(html, person) and PHONE in html, url


def test_a_roster_across_communes_shows_each_reader_the_data_of_their_own_area(app, world, people):
    html = browse(app, world.users["centre"], f"/collaborators/roster/centre/{world.centre.id}")
    assert _visible(html, people["a"].candidate) and _visible(html, people["b"].candidate)
    admin = browse(app, world.users["admin"], "/collaborators/roster")
    assert _visible(admin, people["a"].candidate) and _visible(admin, people["b"].candidate)


def test_application_page_and_list_hide_personal_data_from_viewers(app, world, decision, committee_b):
    _, _, person = decision
    application = person.applications[0]
    for reader in (world.users["viewer_b"], committee_b):
        for url in (f"/recruitment/applications/{application.id}", "/recruitment/applications"):
            html = browse(app, reader, url)
            assert person.full_name in html and not _visible(html, person), (reader.username, url)
            assert PHONE not in html
    for url in (f"/recruitment/applications/{application.id}", "/recruitment/applications"):
        assert _visible(browse(app, world.users["head_b"], url), person)
    assert PHONE in browse(app, world.users["head_b"], f"/recruitment/applications/{application.id}")


def test_commune_committee_sees_the_applications_it_must_confirm(app, world, committee_b):
    factories.criteria(world.dong_nai, approver=Approver.STATION_DIRECTOR_THEN_COMMITTEE)
    application = _to_submitted(world, world.hamlets_b[0], 8, date(1993, 1, 4))
    db.session.commit()
    person, url = application.candidate, f"/recruitment/applications/{application.id}"
    assert not _visible(browse(app, committee_b, url), person)  # the station director decides first
    rs.perform(application, Action.APPROVE, actor=world.users["head_b"])
    db.session.commit()
    assert application.state == State.DIRECTOR_APPROVED
    html = browse(app, committee_b, url)
    assert _visible(html, person) and PHONE in html
    assert api(app, committee_b, f"/applications/{application.id}")["candidate"]["national_id"] == person.national_id
    assert not _visible(browse(app, world.users["viewer_b"], url), person)  # a viewer never decides
    rs.perform(application, Action.CONFIRM, actor=committee_b)
    db.session.commit()
    assert not _visible(browse(app, committee_b, url), person)  # decided: back to the name


# --- recognition decisions (item 7) -------------------------------------------------------------


def test_decision_shows_each_station_the_personal_data_of_its_own_commune_only(app, world, decision):
    made, in_a, in_b = decision
    url = f"/recruitment/decisions/{made.id}"
    html = browse(app, world.users["head_a"], url)
    assert in_a.full_name in html and in_b.full_name in html  # the annex lists everyone by name
    assert _visible(html, in_a) and not _visible(html, in_b)
    assert "1992" in html and HIDDEN_TITLE in html
    html = browse(app, world.users["head_b"], url)
    assert _visible(html, in_b) and not _visible(html, in_a)


def test_decision_issuer_sees_everyone_and_read_only_roles_see_names(app, world, decision, committee_b):
    made, in_a, in_b = decision
    url = f"/recruitment/decisions/{made.id}"
    html = browse(app, world.users["centre"], url)
    assert _visible(html, in_a) and _visible(html, in_b)
    for reader in (world.users["viewer_b"], committee_b):
        html = browse(app, reader, url)
        assert in_a.full_name in html and in_b.full_name in html
        assert not _visible(html, in_a) and not _visible(html, in_b), reader.username


def test_decision_issuer_is_the_creator_or_an_editing_role_of_the_issuing_facility(world, decision):
    made, _, _ = decision
    assert made.issuer_facility_id == world.centre.id
    assert personal_data.is_decision_issuer(world.users["centre"], made)
    colleague = factories.user(Role.CENTRE_OFFICER, facility=world.centre)
    assert personal_data.is_decision_issuer(colleague, made)
    assert not personal_data.is_decision_issuer(factories.user(Role.VIEWER, facility=world.centre), made)
    assert not personal_data.is_decision_issuer(world.users["head_a"], made)
    assert not personal_data.is_decision_issuer(world.users["admin"], made)


# --- API ------------------------------------------------------------------------------------------


def test_api_hides_personal_data_from_viewers_on_every_endpoint(app, world, people, decision):
    _, _, candidate = decision
    application_id = candidate.applications[0].id
    viewer, head = world.users["viewer_b"], world.users["head_b"]
    shown = api(app, head, f"/applications/{application_id}")["candidate"]
    assert (shown["national_id"], shown["phone"], shown["date_of_birth"], shown["year_of_birth"]) == (
        candidate.national_id, PHONE, "1992-08-09", 1992)
    hidden = api(app, viewer, f"/applications/{application_id}")["candidate"]
    assert (hidden["national_id"], hidden["phone"], hidden["date_of_birth"], hidden["year_of_birth"]) == (
        None, None, None, 1992)
    assert hidden["full_name"] == candidate.full_name
    person = api(app, viewer, f"/collaborators/{people['b'].id}")["person"]
    assert (person["national_id"], person["phone"], person["date_of_birth"], person["year_of_birth"]) == (
        None, None, None, 1992)
    assert api(app, head, f"/collaborators/{people['b'].id}")["person"]["date_of_birth"] == "1992-08-09"
    rows = api(app, viewer, f"/units/{world.commune_b.id}/collaborators")["items"]
    assert rows and all(r["national_id"] is None and r["date_of_birth"] is None for r in rows)
    assert {r["year_of_birth"] for r in rows} == {1992}


def test_api_roster_across_areas_decides_row_by_row(app, world, people, mixed):
    rows = api(app, mixed, f"/units/{world.dong_nai.id}/collaborators")["items"]
    by_name = {r["collaborator"]["full_name"]: r for r in rows}
    assert by_name[people["a"].candidate.full_name]["national_id"] == people["a"].candidate.national_id
    assert by_name[people["b"].candidate.full_name]["national_id"] is None


# --- exports, prints and other pages ----------------------------------------------------------------


def test_allowance_sheet_and_its_csv_hide_cccd_from_viewers(app, world, people):
    person = people["b"].candidate
    url = f"/allowances/sheet/{world.commune_b.id}?month=2026-03"
    for suffix in ("", "&all=1", "&format=csv"):
        hidden = browse(app, world.users["viewer_b"], url + suffix, buffered=True)
        assert person.full_name in hidden and person.national_id not in hidden, suffix
        assert person.national_id in browse(app, world.users["head_b"], url + suffix, buffered=True), suffix


def test_training_course_hides_birth_dates_from_viewers(app, world, people):
    course = training.create_course(world.commune_b, title="Tập huấn CTV", organiser="Trạm Y tế",
                                    starts_on=date(2025, 10, 13), ends_on=date(2025, 10, 14), hours=16,
                                    is_population_work=True, actor=world.users["head_b"])
    training.record_attendance(course, candidate=people["b"].candidate, completed=False,
                               actor=world.users["head_b"], on=date(2025, 10, 1))
    db.session.commit()
    person = people["b"].candidate
    html = browse(app, world.users["viewer_b"], f"/training/{course.id}")
    assert person.full_name in html and "09/08/1992" not in html and "1992" in html
    assert "09/08/1992" in browse(app, world.users["head_b"], f"/training/{course.id}")


# --- searches -------------------------------------------------------------------------------------


def test_a_viewer_cannot_find_a_person_by_cccd_digits(app, world, people, decision):
    collaborator = people["b"].candidate
    _, _, applicant = decision
    viewer, head = world.users["viewer_b"], world.users["head_b"]
    roster = f"/collaborators/roster/{world.commune_b.id}?q={collaborator.national_id[:9]}"
    assert collaborator.full_name not in browse(app, viewer, roster)
    assert collaborator.full_name in browse(app, head, roster)
    assert collaborator.full_name in browse(app, viewer, f"/collaborators/roster/{world.commune_b.id}?q=ung vien 3")
    applications = f"/recruitment/applications?q={applicant.national_id}"
    assert applicant.full_name not in browse(app, viewer, applications)
    assert applicant.full_name in browse(app, head, applications)
    assert api(app, viewer, f"/units/{world.commune_b.id}/collaborators?q={collaborator.national_id}")["total"] == 0
    assert api(app, head, f"/units/{world.commune_b.id}/collaborators?q={collaborator.national_id}")["total"] == 1
    assert api(app, viewer, f"/applications?q={applicant.national_id}")["total"] == 0
    assert api(app, head, f"/applications?q={applicant.national_id}")["total"] == 1


def test_a_station_cannot_find_another_communes_people_by_cccd_on_a_shared_roster(app, world, people, mixed):
    b, a = people["b"].candidate, people["a"].candidate
    url = "/collaborators/roster?q="
    assert b.full_name not in browse(app, mixed, url + b.national_id)
    assert a.full_name in browse(app, mixed, url + a.national_id)
    assert b.full_name in browse(app, mixed, url + "ung vien 3")
    html = browse(app, mixed, "/collaborators/roster")
    assert _visible(html, a) and not _visible(html, b)


# --- the Đồng Nai demo: the decisions of issue #9 item 7 ---------------------------------------------


@pytest.fixture
def demo(demo_network_db):
    with demo_network_db.use() as load:
        yield load.report


@pytest.mark.parametrize("username", ["tram_thoson", "ubnd_bombo", "xem_budang"])
def test_demo_decisions_show_each_reader_the_cccds_of_their_own_area_only(app, demo, username):
    from sqlalchemy import select

    from danso_network.auth.permissions import scope_of

    from .conftest import DEMO_PASSWORD

    reader = db.session.scalar(select(User).where(User.username == username))
    client = app.test_client()
    assert login(client, username, DEMO_PASSWORD).status_code == 302
    # The decisions list (recruitment.views) reads the reader's area and its history: the decisions
    # of 2016–2025 name hamlets of the communes the reader's commune was formed from (1/7/2025).
    decisions = list(db.session.scalars(rs.decisions_query(scope_of(reader).read_prefixes)))
    assert decisions
    mine = personal_data.personal_data_areas(reader)
    shown = hidden = 0
    for decision in decisions:
        html = client.get(f"/recruitment/decisions/{decision.id}").get_data(as_text=True)
        for application in decision.applications:
            own = any(application.hamlet_path.startswith(p) for p in mine)
            assert (application.candidate.national_id in html) == own, (username, decision.number)
            assert escape(application.candidate.full_name) in html
            shown, hidden = shown + own, hidden + (not own)
    assert hidden  # every reader here reads decisions naming people outside their area
    assert bool(shown) == (username == "tram_thoson")

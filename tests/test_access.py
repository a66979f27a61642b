"""Fail-closed access, proved over every route in ``app.url_map`` (DESIGN.md §4 rule 6).

Each endpoint is either on the explicit public list, or it refuses anonymous users and refuses
a logged-in user for objects outside their scope. A new route with a URL parameter this test
does not know fails the test until someone says which out-of-scope object to try."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from danso_network.auth.models import User
from danso_network.extensions import db

from . import factories
from .conftest import csrf_token, login

PUBLIC_ENDPOINTS = {
    "static",
    "bootstrap.static",
    "main.health",
    "main.favicon",
    "main.set_language",
    "auth.login",
    "api.openapi",
    "api.create_token",
}

# For each URL parameter: (an object outside station head A's scope, an object inside it).
PARAMETERS = {
    "unit_id": (lambda w: w.commune_b.id, lambda w: w.commune_a.id),
    "hamlet_id": (lambda w: w.hamlets_b[0].id, lambda w: w.hamlets_a[0].id),
    "commune_id": (lambda w: w.commune_b.id, lambda w: w.commune_a.id),
    "facility_id": (lambda w: w.station_b.id, lambda w: w.station_a.id),
    "user_id": (lambda w: w.users["hanoi_admin"].id, lambda w: w.users["head_a"].id),
    "grant_id": (lambda w: w.users["hanoi_admin"].grants[0].id, lambda w: w.users["head_a"].grants[0].id),
    "application_id": (lambda w: _application(w, "b"), lambda w: _application(w, "a")),
    "decision_id": (lambda w: _decision(w, "b"), lambda w: _decision(w, "a")),
    "province_id": (lambda w: w.hanoi.id, lambda w: w.dong_nai.id),
    "attachment_id": (lambda w: _attachment(w, "b"), lambda w: _attachment(w, "a")),
    "collaborator_id": (lambda w: _collaborator(w, "b").id, lambda w: _collaborator(w, "a").id),
    "assignment_id": (lambda w: _collaborator(w, "b").assignments[0].id,
                      lambda w: _collaborator(w, "a").assignments[0].id),
    "handover_id": (lambda w: _handover(w, "b"), lambda w: _handover(w, "a")),
    "visit_id": (lambda w: _visit(w, "b"), lambda w: _visit(w, "a")),
    "course_id": (lambda w: _course(w, "b").id, lambda w: _course(w, "a").id),
    "attendance_id": (lambda w: _attendance(w, "b"), lambda w: _attendance(w, "a")),
    "job_id": (lambda w: _job(w, "b"), lambda w: _job(w, "a")),
    # A month is not an object: scope comes from the commune in the same URL.
    "month": (lambda w: "2025-10", lambda w: "2025-10"),
}


def _job(world, commune: str) -> int:
    """A finished job of station head A or B (only its owner may see it or download its file)."""
    from datetime import timedelta

    from danso_network.common.clock import now
    from danso_network.jobs.models import Job

    def make():
        owner = world.users["head_a" if commune == "a" else "head_b"]
        job = Job(owner_id=owner.id, kind="roster_export", params={}, state="done", engine="inline", done=0,
                  created_at=now(), expires_at=now() + timedelta(days=1))
        db.session.add(job)
        db.session.flush()
        return job.id
    return _made(world, "jobs", commune, make)


def _made(world, kind: str, commune: str, make):
    """An object for commune A or B, made on first use in a test and committed."""
    made = world.__dict__.setdefault(f"_{kind}", {})
    if commune not in made:
        made[commune] = make()
        db.session.commit()
    return made[commune]


def _hamlet(world, commune: str, index: int = 0):
    return (world.hamlets_a if commune == "a" else world.hamlets_b)[index]


def _collaborator(world, commune: str):
    return _made(world, "collaborators", commune,
                 lambda: factories.appoint(_hamlet(world, commune), 880 + (commune == "b")))


def _handover(world, commune: str) -> int:
    from danso_network.collaborators import services as cs

    def make():
        leaving = factories.appoint(_hamlet(world, commune, 1), 890 + (commune == "b"))
        return cs.terminate_collaborator(leaving, on=date(2026, 1, 1), reason="resigned", actor=None)[0].id
    return _made(world, "handovers", commune, make)


def _visit(world, commune: str) -> int:
    from danso_network.supervision.services import record_visit

    return _made(world, "visits", commune, lambda: record_visit(
        _collaborator(world, commune), supervisor=world.users["centre"], visited_on=date(2025, 10, 1),
        checklist={"p0_submitted": True}, actor=None).id)


def _course(world, commune: str):
    from danso_network.training import services as training

    head = world.users["head_a" if commune == "a" else "head_b"]
    return _made(world, "courses", commune, lambda: training.create_course(
        world.commune_a if commune == "a" else world.commune_b, title="Tập huấn công tác dân số",
        organiser="Trạm Y tế", starts_on=date(2025, 10, 1), ends_on=date(2025, 10, 2), hours=8,
        is_population_work=True, actor=head))


def _attendance(world, commune: str) -> int:
    from danso_network.training import services as training

    head = world.users["head_a" if commune == "a" else "head_b"]
    return _made(world, "attendances", commune, lambda: training.record_attendance(
        _course(world, commune), candidate=_collaborator(world, commune).candidate, completed=False,
        actor=head, on=date(2025, 9, 1)).id)


def _application(world, commune: str) -> int:
    """An application in commune A or B, made on first use in a test."""
    from danso_network.recruitment import services as rs

    made = world.__dict__.setdefault("_applications", {})
    if commune not in made:
        if rs.criteria_for(world.dong_nai) is None:  # nominating needs the province's criteria
            factories.criteria(world.dong_nai)
        hamlet = (world.hamlets_a if commune == "a" else world.hamlets_b)[0]
        head = world.users["head_a" if commune == "a" else "head_b"]
        made[commune] = rs.create_application(**factories.candidate_fields(hamlet, 900 + len(made)), actor=head).id
        db.session.commit()
    return made[commune]


def _decision(world, commune: str) -> int:
    """A recognition decision covering one application of commune A or B, made on first use."""
    from danso_network.recruitment import services as rs
    from danso_network.recruitment.rules import MANUAL_CODES

    made = world.__dict__.setdefault("_decisions", {})
    if commune not in made:
        if rs.criteria_for(world.dong_nai) is None:
            factories.criteria(world.dong_nai)
        hamlet = (world.hamlets_a if commune == "a" else world.hamlets_b)[0]
        head, centre = world.users["head_a" if commune == "a" else "head_b"], world.users["centre"]
        app = rs.create_application(**factories.candidate_fields(hamlet, 950 + len(made)), actor=head)
        factories.complete_dossier(app, head)
        checks = {c: {"ok": True} for c in MANUAL_CODES}
        for action, actor, extra in [("complete_dossier", head, {}), ("screen", head, {}),
                                     ("review", head, {"manual_checks": checks}), ("submit", head, {}),
                                     ("approve", centre, {})]:
            rs.perform(app, action, actor=actor, **extra)
        made[commune] = rs.issue_decision([app], number=f"{950 + len(made)}/QĐ", issued_on=date(2025, 10, 1),
                                          signer_name="Lê Văn A", signer_title="Giám đốc",
                                          issuer_name=world.centre.name, actor=centre).id
        db.session.commit()
    return made[commune]


def _attachment(world, commune: str) -> int:
    """A PDF attached to the application of commune A or B, made on first use."""
    from io import BytesIO

    from danso_network.recruitment import attachments
    from danso_network.recruitment import services as rs

    made = world.__dict__.setdefault("_attachments", {})
    if commune not in made:
        app = rs.get_application(_application(world, commune))
        made[commune] = attachments.save_attachment(
            app, kind="id_card", stream=BytesIO(b"%PDF-1.4 test"), filename="cccd.pdf",
            actor=world.users["head_a" if commune == "a" else "head_b"]).id
        db.session.commit()
    return made[commune]


def _api_headers(username: str) -> dict:
    """The JSON API takes bearer tokens, not the session cookie: a token for the same user."""
    from danso_network.api.auth import issue_token

    _, raw = issue_token(db.session.scalar(select(User).where(User.username == username)))
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def _headers(rule, api_headers: dict) -> dict | None:
    return api_headers if rule.endpoint.startswith("api.") else None


# Units (or their descendants) the station head of commune A must never reach.
OUT_OF_SCOPE = {
    "commune B": lambda w: w.commune_b.id,
    "hamlet of B": lambda w: w.hamlets_b[0].id,
    "province": lambda w: w.dong_nai.id,
    "other province": lambda w: w.hanoi.id,
    "commune in Hà Nội": lambda w: w.commune_c.id,
}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]


def _build(rule, world, pick: int) -> str:
    values = {}
    for arg in rule.arguments:
        assert arg in PARAMETERS, (
            f"{rule.endpoint} takes <{arg}>: add it to PARAMETERS in tests/test_access.py with an "
            "out-of-scope and an in-scope object, so its access check is tested")
        values[arg] = PARAMETERS[arg][pick](world)
    return rule.build(values, append_unknown=False)[1]


def test_public_endpoints_exist(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS


def test_every_private_route_refuses_anonymous_users(app, client, world):
    rules = _rules(app)
    assert len(rules) >= 8
    token = csrf_token(client)  # a valid token, so it is the login check that refuses
    for rule in rules:
        url = _build(rule, world, pick=0)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            if rule.endpoint.startswith("api."):  # the JSON API answers 401 with a JSON error
                assert response.status_code == 401, f"{method} {url} answered {response.status_code}"
                assert response.is_json and response.json["error"], f"{method} {url}"
                continue
            assert response.status_code in (302, 401), f"{method} {url} answered {response.status_code}"
            if response.status_code == 302:
                assert "/login" in response.headers["Location"], f"{method} {url}"


def test_every_route_with_an_object_refuses_objects_out_of_scope(app, client, world):
    login(client, "truongtram_a")
    token = csrf_token(client, "/")
    api = _api_headers("truongtram_a")
    checked = 0
    for rule in _rules(app):
        if not rule.arguments:
            continue
        url = _build(rule, world, pick=0)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(url, method=method, data=data, headers=_headers(rule, api))
            assert response.status_code in (403, 404), f"{method} {url} answered {response.status_code}"
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("target", sorted(OUT_OF_SCOPE))
def test_station_head_cannot_open_units_outside_the_commune(client, world, target):
    login(client, "truongtram_a")
    response = client.get(f"/units/{OUT_OF_SCOPE[target](world)}")
    assert response.status_code in (403, 404)


def test_station_head_reaches_own_commune_and_hamlets(client, world):
    login(client, "truongtram_a")
    assert client.get(f"/units/{world.commune_a.id}").status_code == 200
    assert client.get(f"/units/{world.hamlets_a[1].id}").status_code == 200


def test_user_without_grant_reaches_no_object(app, client, world):
    login(client, "chuacapquyen")
    api = _api_headers("chuacapquyen")
    for rule in _rules(app):
        if not rule.arguments or "GET" not in rule.methods:
            continue
        url = _build(rule, world, pick=1)  # even objects a station head would see
        response = client.get(url, headers=_headers(rule, api))
        assert response.status_code in (403, 404), f"GET {url} answered {response.status_code}"


def test_centre_officer_sees_served_communes_only(client, world):
    login(client, "ttyt689")
    assert client.get(f"/units/{world.commune_a.id}").status_code == 200
    assert client.get(f"/units/{world.commune_b.id}").status_code == 200
    assert client.get(f"/units/{world.commune_c.id}").status_code in (403, 404)
    assert client.get(f"/units/{world.hanoi.id}").status_code in (403, 404)


def test_unknown_unit_is_404(client, world):
    login(client, "admin75")
    assert client.get("/units/999999").status_code == 404

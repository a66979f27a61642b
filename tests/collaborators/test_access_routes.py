"""Fail-closed access over every route of the collaborators blueprint, as tests/test_access.py
does for the whole app, with builders for this blueprint's URL parameters (collaborator_id,
assignment_id, handover_id, job_id): an object outside station head A's scope and one inside it."""

from __future__ import annotations

from datetime import date

from danso_network.collaborators import services
from danso_network.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import appoint


def _collaborator(world, commune: str):
    """A collaborator in commune A or B, made on first use in a test."""
    made = world.__dict__.setdefault("_collaborators", {})
    if commune not in made:
        hamlet = (world.hamlets_a if commune == "a" else world.hamlets_b)[0]
        made[commune] = appoint(hamlet, 880 + len(made))
        db.session.commit()
    return made[commune]


def _handover(world, commune: str) -> int:
    """An open Sổ A0 hand-over in commune A or B (its only collaborator left), made on first use."""
    made = world.__dict__.setdefault("_handovers", {})
    if commune not in made:
        hamlet = (world.hamlets_a if commune == "a" else world.hamlets_b)[1]
        leaver = appoint(hamlet, 890 + len(made))
        [handover] = services.terminate_collaborator(leaver, on=date(2026, 1, 1), reason="resigned", actor=None)
        db.session.commit()
        made[commune] = handover.id
    return made[commune]


def _import_job(world, commune: str) -> int:
    """A finished roster-import job of station head A or B (only its owner may open it)."""
    from datetime import timedelta

    from danso_network.collaborators.roster_import import JOB_KIND
    from danso_network.common.clock import now
    from danso_network.jobs.models import Job

    made = world.__dict__.setdefault("_import_jobs", {})
    if commune not in made:
        owner = world.users["head_a" if commune == "a" else "head_b"]
        job = Job(owner_id=owner.id, kind=JOB_KIND, params={}, state="done", engine="inline", done=0,
                  created_at=now(), expires_at=now() + timedelta(days=1))
        db.session.add(job)
        db.session.commit()
        made[commune] = job.id
    return made[commune]


PARAMETERS = {
    "unit_id": (lambda w: w.commune_b.id, lambda w: w.commune_a.id),
    "facility_id": (lambda w: w.station_b.id, lambda w: w.station_a.id),
    "collaborator_id": (lambda w: _collaborator(w, "b").id, lambda w: _collaborator(w, "a").id),
    "assignment_id": (lambda w: _collaborator(w, "b").assignments[0].id,
                      lambda w: _collaborator(w, "a").assignments[0].id),
    "handover_id": (lambda w: _handover(w, "b"), lambda w: _handover(w, "a")),
    "job_id": (lambda w: _import_job(w, "b"), lambda w: _import_job(w, "a")),
}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("collaborators.")]


def _build(rule, world, pick: int) -> str:
    values = {arg: PARAMETERS[arg][pick](world) for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_every_route_refuses_anonymous_users(app, client, world):
    token = csrf_token(client)
    for rule in _rules(app):
        url = _build(rule, world, pick=0)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method != "GET" else None)
            assert response.status_code == 302 and "/login" in response.headers["Location"], f"{method} {url}"


def test_every_route_with_an_object_refuses_objects_out_of_scope(app, client, world):
    login(client, "truongtram_a")
    token = csrf_token(client, "/")
    checked = 0
    for rule in _rules(app):
        if not rule.arguments:
            continue
        url = _build(rule, world, pick=0)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method != "GET" else None)
            assert response.status_code in (403, 404), f"{method} {url} answered {response.status_code}"
            checked += 1
    assert checked >= 12


def test_in_scope_objects_open_for_the_station_head(app, client, world):
    login(client, "truongtram_a")
    for rule in _rules(app):
        if "GET" in rule.methods:
            url = _build(rule, world, pick=1)
            assert client.get(url).status_code in (200, 302), url


def test_user_without_grant_reaches_no_object(app, client, world):
    login(client, "chuacapquyen")
    for rule in _rules(app):
        if rule.arguments and "GET" in rule.methods:
            url = _build(rule, world, pick=1)
            assert client.get(url).status_code in (403, 404), url

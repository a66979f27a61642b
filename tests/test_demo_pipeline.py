"""The demo recruitment pipeline (issue #3 §9): applications in every state the province's settings
can reach, made through the real services by the demo users, with decisions, reasons and active
collaborators; idempotent and deterministic for the seed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, or_, select

from danso_network.auth.models import RoleGrant, User
from danso_network.collaborators.models import Assignment, Collaborator
from danso_network.common import clock
from danso_network.config import DATA_DIR
from danso_network.demo import pipeline
from danso_network.demo.loader import load_demo
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import (
    Application,
    ApplicationEvent,
    Candidate,
    CriteriaSet,
    Education,
    RecognitionDecision,
    Sex,
)
from danso_network.recruitment.workflow import Action, Approver, State
from danso_network.training.services import completed_population_training
from danso_network.units import services as units

from .conftest import DEMO_PASSWORD as PASSWORD
from .conftest import DEMO_SEED as SEED
from .conftest import login

pytestmark = pytest.mark.slow
MODELS = (Application, ApplicationEvent, Candidate, CriteriaSet, RecognitionDecision, Collaborator, Assignment, User,
          RoleGrant)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _utc(value: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _in_pipeline_communes(column=Application.hamlet_path):
    """The pipeline recruits in Bom Bo and its two neighbours; the established network of the other
    communes (demo/network.py) has applications of its own."""
    return or_(*[column.startswith(units.find_unit_by_code(c).path) for c in (pipeline.BOM_BO, *pipeline.NEIGHBOURS)])


def _apps(*where) -> list[Application]:
    return list(db.session.scalars(select(Application).where(_in_pipeline_communes(), *where)
                                   .order_by(Application.id)))


@pytest.fixture
def demo(demo_db):
    """The demo (seed 7, without the network's history), loaded once per worker; this test's
    changes are rolled back."""
    with demo_db.use() as report:
        yield report


def _snapshot() -> list[tuple]:
    """Who applied where and how it ended (ids left out: PostgreSQL sequences survive a rollback)."""
    return sorted((a.candidate.national_id, a.candidate.full_name, a.candidate.date_of_birth, a.candidate.ethnicity,
                   a.hamlet.parent.code, a.hamlet.local_id, a.state, a.rejection_reason,
                   [(e.action, e.actor_name, _utc(e.at)) for e in a.events]) for a in _apps())


def test_every_state_the_settings_reach_appears_in_bom_bo(demo):
    province = units.find_unit_by_code("75")
    approver = Approver(rs.criteria_for(province).approver)
    reachable = set(State) - ({State.DIRECTOR_APPROVED} if approver != Approver.STATION_DIRECTOR_THEN_COMMITTEE
                              else set())
    assert {State(a.state) for a in _apps()} == reachable
    bom_bo = units.find_unit_by_code(pipeline.BOM_BO)
    # The demo station head sees every step of the workflow in her own commune.
    assert {State(a.state) for a in _apps(Application.hamlet_path.startswith(bom_bo.path))} == reachable
    assert 35 <= demo.pipeline.applications_created <= 50
    communes = {a.hamlet_path.split("/")[2] for a in _apps()}
    assert str(bom_bo.id) in communes and len(communes) <= 3  # Bom Bo and its neighbours of TTYT Bù Đăng
    assert set(demo.pipeline.users_created) == {"tram_budang", "tram_daknhau"}


def test_criteria_versions_show_the_2026_change(demo):
    province = units.find_unit_by_code("75")
    v1, v2 = sorted(rs.criteria_versions(province), key=lambda c: c.version)
    assert (v1.version, v1.valid_from, v1.approver, v1.quota_preset) == (1, date(2025, 7, 1), "health_centre", "gia_lai")
    assert (v2.version, v2.valid_from, v2.approver) == (2, date(2026, 1, 1), "station_director")
    assert rs.criteria_for(province) == v2 and rs.criteria_for(province, date(2025, 12, 31)) == v1


def test_history_follows_the_rules_of_its_time(demo):
    """2025 screenings used version 1 and the centre approved; from 2026 version 2 and the station
    director — as ``perform`` allowed when each step was taken."""
    for app in _apps(Application.screened_on.is_not(None)):
        assert app.criteria_set.version == (1 if app.screened_on < pipeline.V2_FROM else 2)
    approvals = list(db.session.scalars(select(ApplicationEvent).where(ApplicationEvent.action == Action.APPROVE)))
    assert approvals
    for event in approvals:
        expected = "ttyt_budang" if _utc(event.at) < datetime(2026, 1, 1, tzinfo=UTC) else r"tram_\w+"
        assert re.fullmatch(expected, event.actor_name), (event.at, event.actor_name)
    # Every timeline runs forward, between the reform and today.
    for app in _apps():
        times = [_utc(e.at) for e in app.events]
        assert times == sorted(times)
        assert datetime(2025, 7, 1, tzinfo=UTC) <= times[0] and times[-1].date() <= clock.today()
        assert _utc(app.created_at) == times[0]


def test_decisions_collaborators_and_reasons(demo):
    decisions = list(db.session.scalars(
        select(RecognitionDecision).where(RecognitionDecision.applications.any(_in_pipeline_communes()))
        .order_by(RecognitionDecision.issued_on)))
    assert 2 <= len(decisions) <= 4
    for d in decisions:
        pattern = r"\d+/QĐ-TTYT" if d.issued_on < pipeline.V2_FROM else r"\d+/QĐ-TYT"
        assert re.fullmatch(pattern, d.number) and d.signer_name and d.applications
        assert all(a.state in (State.APPROVED, State.CONTRACTED, State.ACTIVE) for a in d.applications)
    for app in _apps(Application.state == State.ACTIVE):
        collaborator = db.session.scalar(select(Collaborator).where(Collaborator.application_id == app.id))
        assert collaborator is not None and app.decision is not None
        assignment = collaborator.assignments[0]
        assert (assignment.hamlet_id, assignment.started_on) == (app.hamlet_id, app.activated_on)
    rejected = _apps(Application.state == State.REJECTED)
    assert len(rejected) >= 2
    for app in rejected:
        assert len(app.rejection_reason) > 30
        assert app.events[-1].comment == app.rejection_reason
    failed = {r["code"] for a in _apps(Application.screening_passed.is_(False)) for r in a.screening
              if r["passed"] is False}
    assert {"ADULT", "EDU_MIN"} <= failed
    for app in _apps(Application.state == State.RETURNED):
        assert app.events[-1].comment


def test_bom_bo_has_a_mix_of_staffed_and_vacant_hamlets(demo):
    bom_bo = units.find_unit_by_code(pipeline.BOM_BO)
    hamlets = units.children(bom_bo)
    vacancies = {v.hamlet.id: v for v in rs.vacancies([bom_bo.path])}
    assert any(h.id not in vacancies for h in hamlets)  # fully staffed
    assert any(v.active == 0 for v in vacancies.values())  # none at all
    assert any(v.open_applications for v in vacancies.values())  # candidates on the way
    active = sum(rs.active_collaborators(h.id) for h in hamlets)
    assert 9 <= active <= pipeline.BOM_BO_TARGET


def test_candidates_are_plausible(demo):
    candidates = list(db.session.scalars(select(Candidate)))
    assert len({c.full_name for c in candidates}) == len(candidates)
    for c in candidates:
        assert rs.check_national_id(c.national_id, born=c.date_of_birth, sex=Sex(c.sex)) == c.national_id
    stieng = [c for c in candidates if c.ethnicity == "S'tiêng"]
    assert stieng and all(c.full_name.split()[0] in ("Điểu", "Thị") and c.speaks_local_language for c in stieng)


def test_the_demo_approver_today_is_the_station_director(demo, client):
    submitted = _apps(Application.state == State.SUBMITTED,
                      Application.hamlet_path.startswith(units.find_unit_by_code(pipeline.BOM_BO).path))
    head = db.session.scalar(select(User).where(User.username == "tram_bombo"))
    centre = db.session.scalar(select(User).where(User.username == "ttyt_budang"))
    assert Action.APPROVE in rs.available_actions(head, submitted[0])
    assert Action.APPROVE not in rs.available_actions(centre, submitted[0])
    assert login(client, "tram_budang", PASSWORD).status_code == 302


def test_loading_twice_adds_nothing(demo):
    """The fixture's load was the first; this is a second, real one over it."""
    counts = [_count(m) for m in MODELS]
    again = load_demo(Path(DATA_DIR), seed=SEED, password=PASSWORD, network=False)
    db.session.commit()
    assert [_count(m) for m in MODELS] == counts
    assert again.pipeline.skipped and again.pipeline.applications_created == 0
    assert again.pipeline.criteria_created == 0 and again.pipeline.users_created == []


def test_same_seed_same_candidates(demo_db):
    """A load into this test's empty database gives what the prepared demo's load gave."""
    with demo_db.use():
        first = _snapshot()
    assert _count(Application) == 0
    load_demo(Path(DATA_DIR), seed=SEED, password=PASSWORD, network=False)
    assert _snapshot() == first and first


def test_exception_collaborators_completed_population_training_first(demo):
    """TT 02/2021/TT-BYT Art. 2.1: every primary-school exception that became active did so
    after a completed population-work course that had ended, recorded as attendance."""
    exceptions = [a for a in _apps(Application.state == State.ACTIVE)
                  if Education(a.candidate.education) == Education.PRIMARY]
    assert exceptions
    for app in exceptions:
        done = completed_population_training(app.candidate, app.activated_on)
        assert done is not None and done.course.is_population_work and done.course.ends_on <= app.activated_on

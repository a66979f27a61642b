"""The demo network's three years (issue #4 item 10): an established network with endings for
several reasons, transfers, replacements, suspensions and register hand-overs; in the Bù Đăng area
monthly meetings, supervision visits, follow-ups, professional-direction links and training; the
province's allowance settings. Idempotent and deterministic for the seed.

Loading the demo takes a while, so each test checks a whole story."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule, BaseSalary
from danso_network.audit.models import AuditEvent
from danso_network.auth.models import RoleGrant, User
from danso_network.collaborators import services as cs
from danso_network.collaborators.models import (
    TERMINATION_REASONS,
    Assignment,
    Collaborator,
    CollaboratorDuty,
    NetworkPolicy,
    RegisterHandover,
    Suspension,
)
from danso_network.collaborators.policy import policy_for
from danso_network.config import DATA_DIR
from danso_network.demo import network
from danso_network.demo.loader import load_demo
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import (
    Application,
    ApplicationEvent,
    Candidate,
    RecognitionDecision,
    Sex,
)
from danso_network.supervision import services as sv
from danso_network.supervision.models import (
    MeetingAttendance,
    MonthlyMeeting,
    ProfessionalLink,
    SupervisionVisit,
)
from danso_network.training.models import TrainingAttendance, TrainingCourse
from danso_network.units import services as units
from danso_network.units.models import AdminUnit, Facility, UnitChange, UnitLevel

from .conftest import DEMO_PASSWORD as PASSWORD
from .conftest import DEMO_SEED as SEED

pytestmark = pytest.mark.slow
TODAY = network.END
MODELS = (Candidate, Application, ApplicationEvent, RecognitionDecision, Collaborator, Assignment, Suspension,
          RegisterHandover, SupervisionVisit, MonthlyMeeting, MeetingAttendance, ProfessionalLink, TrainingCourse,
          TrainingAttendance, AllowanceRule, NetworkPolicy, BaseSalary, User, RoleGrant, AuditEvent, CollaboratorDuty)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _area() -> list[str]:
    centre = db.session.scalar(select(Facility).where(Facility.code == network.CENTRE_CODE))
    return [u.path for u in units.served_units(centre, TODAY)]


@pytest.fixture
def demo(demo_network_db):
    """The whole demo (seed 7), loaded once per worker by ``danso demo load``; this test's
    changes are rolled back."""
    with demo_network_db.use() as load:
        yield load.report


def test_three_years_of_turnover_across_the_province(demo):
    province = units.find_unit_by_code("75")
    report = demo.network
    assert not report.skipped and report.collaborators_created > 2000
    assert set(report.users_created) == {u for u, _, _ in network.NETWORK_HEADS}
    # Every commune outside the pipeline's has collaborators today, most hamlets at their quota.
    totals = cs.quota_summary([province.path], as_of=TODAY)
    assert 0.8 * totals.quota <= totals.active <= totals.quota and totals.over == 0
    assert 0 < totals.empty < totals.hamlets // 10
    for commune in units.descendants(province, level=UnitLevel.COMMUNE):
        if commune.code not in network.PIPELINE_COMMUNES:
            assert _count(Assignment, Assignment.hamlet_path.startswith(commune.path), Assignment.ended_on.is_(None))
    # Established collaborators predate the app; the pipeline's communes keep only the pipeline's.
    assert db.session.scalar(select(func.min(Collaborator.activated_on))) < date(2017, 1, 1)
    for code in network.PIPELINE_COMMUNES:
        path = units.find_unit_by_code(code).path
        assert not _count(Assignment, Assignment.hamlet_path.startswith(path), Assignment.started_on < date(2025, 7, 1))
    # Endings with their reasons, on paper before 1/7/2025 and through the app after (audit trail).
    reasons = dict(db.session.execute(select(Assignment.end_reason, func.count()).where(
        Assignment.ended_on.is_not(None)).group_by(Assignment.end_reason)).all())
    assert {"resigned", "moved_out", "health", "contract_ended", "non_performance", "deceased", "transferred"} \
        <= set(reasons)
    # Turnover counts people who left (the reasons a user gives, TERMINATION_REASONS): not a
    # transfer nor the end of a cover, nor the reform of 1/7/2025 ending every assignment of that
    # day in the old hamlet to go on in its successor ("unit_reorganised", service continuous).
    ended = sum(n for r, n in reasons.items() if r in TERMINATION_REASONS)
    assert 0.15 * report.collaborators_created < ended < 0.45 * report.collaborators_created
    assert reasons["unit_reorganised"] == _count(Assignment, Assignment.ended_on == date(2025, 7, 1),
                                                 Assignment.end_reason == "unit_reorganised") > 2000
    assert _count(AuditEvent, AuditEvent.action == "collaborator.terminate") == sum(report.terminations.values())
    assert _count(Assignment, Assignment.ended_on < date(2025, 7, 1)) == report.endings_on_paper > 0
    assert all(a.end_note for a in db.session.scalars(select(Assignment).where(Assignment.end_reason == "deceased")))
    # Transfers: closed and reopened the same day in another hamlet of the same commune.
    moved = list(db.session.scalars(select(Assignment).where(Assignment.end_reason == "transferred")))
    assert len(moved) == report.transfers > 5
    for old in moved:
        new = db.session.scalar(select(Assignment).where(Assignment.collaborator_id == old.collaborator_id,
                                                         Assignment.started_on == old.ended_on))
        assert new.hamlet_id != old.hamlet_id and new.hamlet.parent_id == old.hamlet.parent_id
        assert old.started_on >= date(2016, 1, 1) and old.ended_on >= date(2025, 7, 1)
    # Replacements: someone starts in a hamlet some weeks after someone else left it.
    later = aliased(Assignment)
    replaced = db.session.execute(
        select(func.count()).select_from(Assignment).join(later, later.hamlet_id == Assignment.hamlet_id)
        .where(Assignment.end_reason == "resigned", later.started_on > Assignment.ended_on,
               later.collaborator_id != Assignment.collaborator_id)).scalar()
    assert replaced > 50
    # Suspensions, all reinstated but the last one; covers of a hamlet left empty.
    suspensions = list(db.session.scalars(select(Suspension)))
    assert len(suspensions) >= 5 and sum(s.ended_on is None for s in suspensions) <= 1
    assert all(s.reason and (s.ended_on is None or s.ended_on > s.started_on) for s in suspensions)
    assert _count(Assignment, Assignment.kind == "additional") >= 1
    # Registers: most handed over (to a successor or to the station), a few pending, one in the area.
    recorded = _count(RegisterHandover, RegisterHandover.handed_on.is_not(None))
    pending = cs.pending_handovers([province.path])
    assert recorded > len(pending) > 0 and cs.pending_handovers(_area())
    assert _count(RegisterHandover, RegisterHandover.to_collaborator_id.is_not(None)) > 0
    # The recruitment vacancy list shows hamlets left without anyone.
    assert any(v.active == 0 for v in rs.vacancies([p for p in _area()]))
    # Names and national ids stay plausible and unique across the whole demo.
    candidates = list(db.session.scalars(select(Candidate)))
    assert len({c.full_name for c in candidates}) == len(candidates)
    for c in candidates:
        assert rs.check_national_id(c.national_id, born=c.date_of_birth, sex=Sex(c.sex)) == c.national_id
    # Each application's timeline starts when its record entered the app (1/7/2025 at the earliest).
    first = db.session.scalar(select(func.min(ApplicationEvent.at)))
    assert (first if first.tzinfo else first.replace(tzinfo=UTC)) >= datetime(2025, 6, 30, 17, tzinfo=UTC)


def test_most_collaborators_also_hold_the_family_and_children_duty(demo):
    """Đồng Nai builds the network as "CTV dân số kiêm công tác gia đình và trẻ em" (issue #9
    item 15): most planned collaborators hold the duty from their first day, and it ends the day
    they leave (on paper before 1/7/2025, through terminate_collaborator after)."""
    province = units.find_unit_by_code("75")
    report = demo.network
    duties = db.session.execute(select(CollaboratorDuty, Collaborator.activated_on).join(
        Collaborator, Collaborator.id == CollaboratorDuty.collaborator_id)).all()
    assert len(duties) == report.duties
    assert 0.8 * report.collaborators_created < report.duties < 0.9 * report.collaborators_created
    assert all(d.started_on == activated and d.duty == "family_children" and "kiêm công tác gia đình" in d.decision_ref
               for d, activated in duties)
    # Nobody who has left still holds it; those who left hold it until their last day.
    serving = set(db.session.scalars(select(Assignment.collaborator_id).where(Assignment.ended_on.is_(None))))
    assert all(d.collaborator_id in serving for d, _ in duties if d.ended_on is None)
    last_end = dict(db.session.execute(select(Assignment.collaborator_id, func.max(Assignment.ended_on))
                                       .group_by(Assignment.collaborator_id)).all())
    ended = [d for d, _ in duties if d.ended_on is not None]
    assert ended and all(d.collaborator_id not in serving and d.ended_on == last_end[d.collaborator_id] for d in ended)
    assert any(d.ended_on >= date(2025, 7, 1) for d in ended)  # closed by the service in the replay
    # The roster tells them apart on a date.
    filters = dict(as_of=TODAY)
    total = cs.roster_page([province.path], cs.RosterFilters(**filters)).total
    held = cs.roster_page([province.path], cs.RosterFilters(family_children=True, **filters)).total
    not_held = cs.roster_page([province.path], cs.RosterFilters(family_children=False, **filters)).total
    assert held + not_held == total and 0.75 * total < held < 0.95 * total


def test_life_of_the_network_in_the_bu_dang_area(demo):
    area = _area()
    province = units.find_unit_by_code("75")
    serving = sv.serving_collaborators(area, TODAY)
    assert len(serving) > 60
    # Visits about each quarter: some collaborators are overdue today, not everyone.
    overdue = sv.overdue_visits(area, TODAY)
    assert 0 < len(overdue) < len(serving) // 3
    assert _count(SupervisionVisit, SupervisionVisit.visited_on < date(2025, 7, 1)) > 100  # from the paper sheets
    assert _count(AuditEvent, AuditEvent.action == "visit.record") > 200
    visits = list(db.session.scalars(select(SupervisionVisit)))
    assert all(v.score == sv.checklist_score(v.checklist) for v in visits)
    assert {v.supervisor.username for v in visits} >= {"dsxa_bombo", "tram_bombo", "ttyt_budang", "tram_thoson"}
    follow_ups = sv.open_follow_ups(area, TODAY)
    assert any(r.overdue for r in follow_ups) and any(not r.overdue for r in follow_ups)
    assert _count(SupervisionVisit, SupervisionVisit.follow_up_closed_on.is_not(None)) > len(follow_ups)
    # A meeting every month in Thọ Sơn for three years; ~90 % attend, most hand in the P0 slip.
    # Until June 2025 the meetings were those of the old communes Thọ Sơn was formed from on
    # 1/7/2025 (one sheet each, demo/network.py); from July, Thọ Sơn's own.
    tho_son = units.find_unit_by_code("25402")
    formed = db.session.scalar(select(UnitChange).where(UnitChange.targets.any(AdminUnit.id == tho_son.id),
                                                        UnitChange.effective_on == date(2025, 7, 1)))
    communes = [tho_son.id, *(u.id for u in formed.sources)]
    months = sorted({m.month for m in db.session.scalars(select(MonthlyMeeting).where(
        MonthlyMeeting.commune_id.in_(communes)))})
    assert months[0] == date(2023, 11, 1) and months[-1] == date(2026, 10, 1) and len(months) == 36
    assert min(db.session.scalars(select(MonthlyMeeting.month).where(
        MonthlyMeeting.commune_id == tho_son.id))) == date(2025, 7, 1)
    rows = _count(MeetingAttendance)
    attended = _count(MeetingAttendance, MeetingAttendance.attended.is_(True))
    p0 = _count(MeetingAttendance, MeetingAttendance.p0_submitted.is_(True))
    assert 0.85 < attended / rows < 0.98 and 0.78 < p0 / rows < 0.95
    bom_bo = units.find_unit_by_code(network.BOM_BO)
    assert _count(MonthlyMeeting, MonthlyMeeting.commune_id == bom_bo.id) >= 12  # since its first collaborators
    # Two missed meetings in a row put a few on the review list.
    review = sv.under_review(area, TODAY)
    assert 2 <= len(review) <= len(serving) // 10
    assert all(len(r.missed) == 2 for r in review)
    # Professional direction: LĐTBXH and VHTT officers of each commune, Bom Bo's culture officer changed in 2025.
    for path in area:
        commune = db.session.scalar(select(AdminUnit).where(AdminUnit.path == path))
        assert {link.kind for link in sv.links_on(commune, TODAY)} == {"labour_social", "culture_sports"}
    history = [link for link in sv.link_history(bom_bo) if link.kind == "culture_sports"]
    assert len(history) == 2 and history[1].valid_to == history[0].valid_from and history[0].valid_from.year == 2025
    # Training: two or three courses a year, population-work ones among them, most attendees complete.
    years = {c.starts_on.year for c in db.session.scalars(select(TrainingCourse))}
    assert years == {2024, 2025, 2026}
    assert _count(TrainingCourse, TrainingCourse.is_population_work.is_(True)) >= 3
    completed = _count(TrainingAttendance, TrainingAttendance.completed.is_(True))
    assert _count(TrainingAttendance) > 200 and completed > 0.8 * _count(TrainingAttendance)
    # The province's settings: base salary, an illustrative allowance resolution, the network policy.
    assert {b.amount for b in allowances.base_salaries()} >= {1_800_000, 2_340_000}
    rules = allowances.allowance_rules(province)
    assert len(rules) == demo.network.allowance_rules == 8 and all("minh hoạ" in r.legal_basis for r in rules)
    xa_difficult = dict(commune_category="xa", zone="difficult", vhw=False)
    before = allowances.rule_for(province.id, on=date(2025, 10, 1), **xa_difficult)
    assert allowances.monthly_amount(before, date(2025, 10, 1)) == 585_000  # 0.25 × 2,340,000
    assert allowances.monthly_amount(allowances.rule_for(province.id, on=TODAY, **xa_difficult), TODAY) == 800_000
    sheet = allowances.monthly_sheet([tho_son], date(2026, 10, 1))
    assert sheet.lines and sheet.total > 0 and not sheet.problems
    policy = policy_for(province, TODAY)
    assert policy.allow_additional_hamlet and policy.visit_interval_days == 92 and policy.missed_meetings_for_review == 2


def test_loading_twice_adds_nothing(demo_network_db):
    """The first load is the prepared one, by the command into an empty database; the second,
    real one over it adds nothing."""
    with demo_network_db.use() as first:
        assert first.exit_code == 0, first.output
        assert "Mạng lưới CTV 23/11/2023 – 23/11/2026" in first.output
        counts = [_count(m) for m in MODELS]
        again = load_demo(Path(DATA_DIR), seed=SEED, password=PASSWORD)
        db.session.commit()
        assert again.network.skipped and again.network.users_created == []
        assert [_count(m) for m in MODELS] == counts


def _history() -> tuple:
    """Who served where and what happened, without database ids."""
    hamlet = aliased(AdminUnit)
    commune = aliased(AdminUnit)
    people = db.session.execute(
        select(Candidate.national_id, Candidate.full_name, commune.code, hamlet.local_id, Assignment.kind,
               Assignment.started_on, Assignment.ended_on, Assignment.end_reason, Assignment.end_note)
        .join(Collaborator, Collaborator.candidate_id == Candidate.id)
        .join(Assignment, Assignment.collaborator_id == Collaborator.id)
        .join(hamlet, hamlet.id == Assignment.hamlet_id).join(commune, commune.id == hamlet.parent_id)).all()
    visits = db.session.execute(
        select(Candidate.national_id, SupervisionVisit.visited_on, SupervisionVisit.score,
               SupervisionVisit.follow_up_due, SupervisionVisit.follow_up_closed_on)
        .join(Collaborator, Collaborator.id == SupervisionVisit.collaborator_id)
        .join(Candidate, Candidate.id == Collaborator.candidate_id)).all()
    meetings = db.session.execute(
        select(Candidate.national_id, MonthlyMeeting.month, MonthlyMeeting.held_on, MeetingAttendance.attended,
               MeetingAttendance.p0_submitted)
        .join(MeetingAttendance, MeetingAttendance.meeting_id == MonthlyMeeting.id)
        .join(Collaborator, Collaborator.id == MeetingAttendance.collaborator_id)
        .join(Candidate, Candidate.id == Collaborator.candidate_id)).all()
    handovers = db.session.execute(
        select(RegisterHandover.requested_on, RegisterHandover.handed_on, RegisterHandover.received_by)).all()
    duties = db.session.execute(
        select(Candidate.national_id, CollaboratorDuty.duty, CollaboratorDuty.started_on, CollaboratorDuty.ended_on,
               CollaboratorDuty.decision_ref)
        .join(Collaborator, Collaborator.id == CollaboratorDuty.collaborator_id)
        .join(Candidate, Candidate.id == Collaborator.candidate_id)).all()
    return tuple(sorted(map(tuple, rows), key=repr) for rows in (people, visits, meetings, handovers, duties))


def test_same_seed_same_history(demo_network_db):
    """A load into this test's empty database gives what the prepared demo's load gave."""
    with demo_network_db.use():
        first = _history()
    assert _count(Collaborator) == 0
    load_demo(Path(DATA_DIR), seed=SEED, password=PASSWORD)
    assert _history() == first and all(first)

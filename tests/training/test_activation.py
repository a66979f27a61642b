"""The primary-school exception (TT 02/2021/TT-BYT Art. 2.1) end to end: a primary-school
candidate chosen for the difficult hamlet Ấp Tân Lập may start work only after a completed
population-work course that ended on or before the activation day, recorded as attendance."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.collaborators.models import Assignment, Collaborator
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.workflow import Action, State
from danso_network.training import services as training

from .conftest import contracted_primary, make_course

ACTIVATE_ON = date(2025, 10, 20)


def collaborators() -> int:
    return db.session.scalar(select(func.count()).select_from(Collaborator))


def _refused(app, world, on=ACTIVATE_ON) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        rs.perform(app, Action.ACTIVATE, actor=world.users["head_b"], on=on)
    assert app.state == State.CONTRACTED and app.activated_on is None
    assert collaborators() == 0 and not db.session.scalar(select(func.count()).select_from(Assignment))
    return refused.value


def test_refused_without_training_and_the_message_says_what_to_record_where(world):
    app = contracted_primary(world)
    message = str(_refused(app, world))
    assert "tập huấn công tác dân số" in message and "/training" in message and "Hoàn thành" in message
    assert app.candidate.full_name in message and "20/10/2025" in message


def test_refused_when_only_enrolled_not_completed(world):
    app = contracted_primary(world)
    course = make_course(world.commune_b, world.users["head_b"])
    training.record_attendance(course, candidate=app.candidate, completed=False, actor=world.users["head_b"],
                               on=date(2025, 10, 1))
    _refused(app, world)


def test_refused_when_the_course_ends_after_the_activation_day(world):
    app = contracted_primary(world)
    course = make_course(world.commune_b, world.users["head_b"], starts_on=date(2025, 10, 20),
                         ends_on=date(2025, 10, 21))
    training.record_attendance(course, candidate=app.candidate, completed=True, actor=world.users["head_b"],
                               on=date(2025, 10, 21))
    _refused(app, world, on=date(2025, 10, 20))
    rs.perform(app, Action.ACTIVATE, actor=world.users["head_b"], on=date(2025, 10, 21))  # the day it ended
    assert app.state == State.ACTIVE and app.activated_on == date(2025, 10, 21)


def test_refused_when_the_completed_course_is_not_population_work(world):
    app = contracted_primary(world)
    course = make_course(world.commune_b, world.users["head_b"], title="Kỹ năng truyền thông", population=False)
    training.record_attendance(course, candidate=app.candidate, completed=True, actor=world.users["head_b"],
                               on=date(2025, 10, 15))
    _refused(app, world)


def test_accepted_after_a_completed_population_course_even_one_of_the_province(world):
    app = contracted_primary(world)
    course = make_course(world.dong_nai, world.users["admin"], title="Lớp tập huấn CTV mới của tỉnh")
    # The station puts its candidate on the province's course; the province records the result.
    training.record_attendance(course, candidate=app.candidate, completed=False, actor=world.users["head_b"],
                               on=date(2025, 10, 1))
    training.record_attendance(course, candidate=app.candidate, completed=True, actor=world.users["admin"],
                               on=date(2025, 10, 15))
    rs.perform(app, Action.ACTIVATE, actor=world.users["head_b"], on=ACTIVATE_ON)
    assert app.state == State.ACTIVE
    collaborator = db.session.scalar(select(Collaborator).where(Collaborator.application_id == app.id))
    assert collaborator.assignments[0].hamlet_id == world.hamlets_b[0].id


def test_a_lower_secondary_candidate_needs_no_training(world):
    from danso_network.recruitment.models import DOSSIER_ITEMS
    from danso_network.recruitment.rules import MANUAL_CODES

    from .. import factories

    factories.criteria(world.dong_nai)
    head, centre = world.users["head_b"], world.users["centre"]
    app = rs.create_application(**factories.candidate_fields(world.hamlets_b[0], 2), actor=head)
    rs.update_dossier(app, items={k: True for k in DOSSIER_ITEMS}, application_signed_on=date(2025, 9, 1), actor=head)
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in MANUAL_CODES}}),
                          (Action.SUBMIT, {})]:
        rs.perform(app, action, actor=head, **extra)
    rs.perform(app, Action.APPROVE, actor=centre)
    rs.issue_decision([app], number="2/QĐ-TTYT", issued_on=date(2025, 10, 1), signer_name="Lê Văn A",
                      signer_title="Giám đốc", issuer_name=world.centre.name, actor=centre)
    rs.perform(app, Action.CONTRACT, actor=centre, contract_date=date(2025, 10, 5), allowance_tier="Mức chung")
    rs.perform(app, Action.ACTIVATE, actor=head, on=ACTIVATE_ON)
    assert app.state == State.ACTIVE

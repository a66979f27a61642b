"""The whole path from a vacant hamlet to an active collaborator, through the services."""

from datetime import date

import pytest

from danso_network.errors import Conflict, PermissionDenied, ValidationFailed
from danso_network.recruitment import services as rs
from danso_network.recruitment.workflow import Action, State

from .. import factories


@pytest.fixture
def setup(world):
    factories.criteria(world.dong_nai)
    return world


def _to_submitted(world, hamlet, serial=1):
    head = world.users["head_b"] if hamlet.parent_id == world.commune_b.id else world.users["head_a"]
    app = rs.create_application(**factories.candidate_fields(hamlet, serial), actor=head)
    factories.complete_dossier(app, head)
    for action, extra in [(Action.COMPLETE_DOSSIER, {}), (Action.SCREEN, {}),
                          (Action.REVIEW, {"manual_checks": {c: {"ok": True} for c in
                                                             ["RESPONSIBLE", "MOBILISES", "TRUSTED", "STABLE_WORK"]}}),
                          (Action.SUBMIT, {})]:
        rs.perform(app, action, actor=head, **extra)
    return app


def test_vacant_hamlet_to_active_collaborator(setup):
    world = setup
    hamlet = world.hamlets_b[0]
    assert hamlet.id in [v.hamlet.id for v in rs.vacancies([world.commune_b.path])]
    app = _to_submitted(world, hamlet)
    assert app.state == State.SUBMITTED and app.screening_passed
    centre = world.users["centre"]
    rs.perform(app, Action.APPROVE, actor=centre)
    decision = rs.issue_decision([app], number="12/QĐ-TTYT", issued_on=date(2025, 10, 1), signer_name="Lê Văn A",
                                 signer_title="Giám đốc", issuer_name=world.centre.name, actor=centre)
    rs.perform(app, Action.CONTRACT, actor=centre, contract_date=date(2025, 10, 5), allowance_tier="Mức chung")
    rs.perform(app, Action.ACTIVATE, actor=world.users["head_b"], on=date(2025, 10, 6))
    assert app.state == State.ACTIVE
    assert app.decision == decision
    assert rs.active_collaborators(hamlet.id) == 1
    # Ấp Tân Lập has 300 households: quota 2 (Gia Lai bands), so still listed as a vacancy with 1/2.
    vacancy = next(v for v in rs.vacancies([world.commune_b.path]) if v.hamlet.id == hamlet.id)
    assert (vacancy.active, vacancy.quota) == (1, 2)
    assert [e.action for e in app.events] == ["nominate", "update_dossier", "complete_dossier", "screen", "review",
                                              "submit", "approve", "decision", "contract", "activate"]


def test_station_head_cannot_approve_when_the_centre_approves(setup):
    app = _to_submitted(setup, setup.hamlets_b[0])
    with pytest.raises(PermissionDenied):
        rs.perform(app, Action.APPROVE, actor=setup.users["head_b"])
    assert app.state == State.SUBMITTED


def test_transition_not_allowed_from_state(setup):
    app = rs.create_application(**factories.candidate_fields(setup.hamlets_b[0]), actor=setup.users["head_b"])
    with pytest.raises(Conflict, match="trạng thái"):
        rs.perform(app, Action.APPROVE, actor=setup.users["centre"])


def test_incomplete_dossier_lists_what_is_missing(setup):
    app = rs.create_application(**factories.candidate_fields(setup.hamlets_b[0]), actor=setup.users["head_b"])
    with pytest.raises(ValidationFailed, match="Đơn tình nguyện"):
        rs.perform(app, Action.COMPLETE_DOSSIER, actor=setup.users["head_b"])


def test_decision_number_reused_in_the_same_year_is_refused(setup):
    first = _to_submitted(setup, setup.hamlets_b[0], 1)
    second = _to_submitted(setup, setup.hamlets_b[1], 2)
    centre = setup.users["centre"]
    for app in (first, second):
        rs.perform(app, Action.APPROVE, actor=centre)
    rs.issue_decision([first], number="5/QĐ", issued_on=date(2025, 10, 1), signer_name="A", signer_title="GĐ",
                      issuer_name="TTYT", actor=centre)
    with pytest.raises(Conflict, match="đã được dùng trong năm 2025"):
        rs.issue_decision([second], number="5/QĐ", issued_on=date(2025, 11, 1), signer_name="A", signer_title="GĐ",
                          issuer_name="TTYT", actor=centre)
    assert second.decision_id is None


@pytest.mark.parametrize("overrides, message", [
    ({"national_id": "12345"}, "12 chữ số"),
    ({"national_id": "070090000001"}, "giới tính và năm sinh"),
    ({"date_of_birth": date(2099, 1, 1)}, "trước ngày hôm nay"),
])
def test_bad_candidate_input_is_refused(setup, overrides, message):
    with pytest.raises(ValidationFailed, match=message):
        rs.create_application(**factories.candidate_fields(setup.hamlets_b[0], **overrides),
                              actor=setup.users["head_b"])


def test_candidate_must_live_in_the_hamlet(setup):
    fields = factories.candidate_fields(setup.hamlets_b[0], residence_hamlet=setup.hamlets_b[1])
    with pytest.raises(ValidationFailed, match="sinh sống tại"):
        rs.create_application(**fields, actor=setup.users["head_b"])


def test_a_hamlet_with_an_active_collaborator_cannot_be_closed(setup):
    from danso_network.units import services as units

    hamlet = setup.hamlets_b[0]
    app = _to_submitted(setup, hamlet)
    centre = setup.users["centre"]
    rs.perform(app, Action.APPROVE, actor=centre)
    rs.issue_decision([app], number="1/QĐ", issued_on=date(2025, 10, 1), signer_name="A", signer_title="GĐ",
                      issuer_name="TTYT", actor=centre)
    rs.perform(app, Action.CONTRACT, actor=centre, contract_date=date(2025, 10, 2), allowance_tier="Mức chung")
    rs.perform(app, Action.ACTIVATE, actor=setup.users["head_b"], on=date(2025, 10, 3))
    with pytest.raises(Conflict, match="CTV đang được phân công"):
        units.close_unit(hamlet, on=date(2026, 1, 1))
    assert hamlet.valid_to is None


def test_activation_refused_when_the_hamlet_filled_up_since_screening(setup):
    hamlet = setup.hamlets_b[1]  # 90 households: quota 1
    first, second = _to_submitted(setup, hamlet, 1), _to_submitted(setup, hamlet, 2)
    centre = setup.users["centre"]
    for app in (first, second):
        rs.perform(app, Action.APPROVE, actor=centre)
    rs.issue_decision([first, second], number="9/QĐ", issued_on=date(2025, 10, 1), signer_name="A",
                      signer_title="GĐ", issuer_name="TTYT", actor=centre)
    for app in (first, second):
        rs.perform(app, Action.CONTRACT, actor=centre, contract_date=date(2025, 10, 2), allowance_tier="Mức chung")
    rs.perform(first, Action.ACTIVATE, actor=setup.users["head_b"], on=date(2025, 10, 3))
    with pytest.raises(Conflict, match="đủ định mức 1 CTV"):
        rs.perform(second, Action.ACTIVATE, actor=setup.users["head_b"], on=date(2025, 10, 3))
    assert second.state == State.CONTRACTED
    assert rs.active_collaborators(hamlet.id) == 1


def test_batch_decisions_are_all_or_nothing(setup):
    first = _to_submitted(setup, setup.hamlets_b[0], 1)
    second = _to_submitted(setup, setup.hamlets_b[1], 2)
    centre = setup.users["centre"]
    from danso_network.extensions import db

    db.session.commit()  # both submitted, as the approver finds them
    with pytest.raises(ValidationFailed, match="Từ chối phải ghi rõ lý do"):
        rs.decide_batch([(first, "approve", None), (second, "reject", "  ")], actor=centre)
    db.session.rollback()  # what the page does on a refusal
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.state, second.state) == (State.SUBMITTED, State.SUBMITTED)
    assert rs.decide_batch([(first, "approve", None), (second, "reject", "Chuyển đi nơi khác")],
                           actor=centre) == (1, 1)
    assert (first.state, second.state) == (State.APPROVED, State.REJECTED)

"""Every allowed and every forbidden transition, per role and per approver setting.

For each (state, action) pair of State × Action, an application is driven to the state through
the services along the normal path (rejection, withdrawal and return for the states only they
reach), then every role in scope tries the action inside a savepoint. It must succeed exactly
when ``workflow.allowed_roles`` says so (one event more, the table's target state); otherwise
it is refused with Conflict (no such move) or PermissionDenied (wrong role) and nothing changes.
The buttons (``available_actions``) must offer exactly the allowed moves too."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from danso_network.auth.models import Role
from danso_network.common import clock
from danso_network.errors import Conflict, PermissionDenied
from danso_network.extensions import db
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import DOSSIER_ITEMS, Application, ApplicationEvent
from danso_network.recruitment.rules import MANUAL_CODES
from danso_network.recruitment.workflow import Action, Approver, State, allowed_roles, target_state

from .. import factories

ROLES = [Role.STATION_HEAD, Role.STATION_OFFICER, Role.CENTRE_OFFICER, Role.PROVINCE_ADMIN, Role.VIEWER,
         Role.COMMUNE_COMMITTEE]

_REVIEWED = [Action.COMPLETE_DOSSIER, Action.SCREEN, Action.REVIEW]
_APPROVED = [*_REVIEWED, Action.SUBMIT, Action.APPROVE]
# The normal path to each state; states reached only by refusal, withdrawal or return use those.
PATHS: dict[State, list[Action]] = {
    State.NOMINATED: [],
    State.DOSSIER_COMPLETE: [Action.COMPLETE_DOSSIER],
    State.SCREENED: [Action.COMPLETE_DOSSIER, Action.SCREEN],
    State.STATION_REVIEWED: _REVIEWED,
    State.SUBMITTED: [*_REVIEWED, Action.SUBMIT],
    State.DIRECTOR_APPROVED: _APPROVED,  # driven under the committee setting
    State.APPROVED: _APPROVED,  # (+ the committee's confirmation under that setting)
    State.REJECTED: [*_REVIEWED, Action.SUBMIT, Action.REJECT],
    State.CONTRACTED: [*_APPROVED, Action.CONTRACT],
    State.ACTIVE: [*_APPROVED, Action.CONTRACT, Action.ACTIVATE],
    State.RETURNED: [Action.COMPLETE_DOSSIER, Action.SCREEN, Action.RETURN],
    State.WITHDRAWN: [Action.WITHDRAW],
}
assert set(PATHS) == set(State)


def payload(action: Action) -> dict:
    """What each action needs to succeed when the role is right."""
    return {
        Action.REVIEW: {"manual_checks": {c: {"ok": True, "note": "Đã xác minh"} for c in MANUAL_CODES},
                        "ranking": 1},
        Action.CONTRACT: {"contract_date": date(2025, 10, 5), "contract_number": "HĐ-01", "allowance_tier": "Mức chung"},
        Action.ACTIVATE: {"on": clock.today()},
    }.get(action, {})


@pytest.fixture
def people(world) -> dict[Role, object]:
    """One user per role, each in scope for commune B."""
    users = {
        Role.STATION_HEAD: world.users["head_b"],
        Role.STATION_OFFICER: factories.user(Role.STATION_OFFICER, facility=world.station_b, username="vienchuc_b"),
        Role.CENTRE_OFFICER: world.users["centre"],
        Role.PROVINCE_ADMIN: world.users["admin"],
        Role.VIEWER: world.users["viewer_b"],
        Role.COMMUNE_COMMITTEE: factories.user(Role.COMMUNE_COMMITTEE, unit=world.commune_b, username="ubnd_b"),
    }
    db.session.flush()
    return users


def _actor_for(application: Application, action: Action, approver: Approver, people):
    roles = allowed_roles(State(application.state), action, approver)
    return next(people[r] for r in ROLES if r in roles)


def drive_to(state: State, approver: Approver, world, people) -> Application:
    """An application of commune B in ``state``, reached through the services under ``approver``.
    DIRECTOR_APPROVED exists only under the committee setting: it is reached there, then the
    province switches to ``approver`` (a new criteria version), as a real change of setting would."""
    drive_with = Approver.STATION_DIRECTOR_THEN_COMMITTEE if state == State.DIRECTOR_APPROVED else approver
    factories.criteria(world.dong_nai, approver=drive_with)
    head = people[Role.STATION_HEAD]
    application = rs.create_application(**factories.candidate_fields(world.hamlets_b[0]), actor=head)
    rs.update_dossier(application, items={k: True for k in DOSSIER_ITEMS}, application_signed_on=date(2025, 9, 1),
                      actor=head)
    steps = list(PATHS[state])
    if state in (State.APPROVED, State.CONTRACTED, State.ACTIVE) and approver == Approver.STATION_DIRECTOR_THEN_COMMITTEE:
        steps.insert(steps.index(Action.APPROVE) + 1, Action.CONFIRM)
    for action in steps:
        rs.perform(application, action, actor=_actor_for(application, action, drive_with, people),
                   comment="Bước chuẩn bị", **payload(action))
        if application.state == State.APPROVED and application.decision_id is None:
            issuer = _actor_for(application, Action.CONTRACT, drive_with, people)
            rs.issue_decision([application], number="1/QĐ", issued_on=date(2025, 10, 1), signer_name="Lê Văn A",
                              signer_title="Giám đốc", issuer_name="TTYT", actor=issuer)
    if drive_with != approver:
        factories.criteria(world.dong_nai, approver=approver, valid_from=date(2025, 8, 1))
    assert application.state == state
    return application


def _events(application_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ApplicationEvent)
                             .where(ApplicationEvent.application_id == application_id))


@pytest.mark.parametrize("state, action", [(s, a) for s in State for a in Action], ids=lambda v: v.value)
def test_transition_per_role_and_approver(world, people, state, action):
    for approver in Approver:
        setting = db.session.begin_nested()
        try:
            application = drive_to(state, approver, world, people)
            allowed = allowed_roles(state, action, approver)
            for role in ROLES:
                user = people[role]
                events = _events(application.id)
                offered = action in rs.available_actions(user, application)
                assert offered == (role in allowed), (approver, role, "available_actions")
                attempt = db.session.begin_nested()
                try:
                    if role in allowed:
                        rs.perform(application, action, actor=user, comment="Lý do cụ thể", **payload(action))
                        assert application.state == target_state(state, action, approver), (approver, role)
                        assert _events(application.id) == events + 1, (approver, role)
                    else:
                        expected = Conflict if not allowed else PermissionDenied
                        with pytest.raises(expected):
                            rs.perform(application, action, actor=user, comment="Lý do cụ thể", **payload(action))
                        db.session.flush()
                        assert application.state == state and _events(application.id) == events, (approver, role)
                finally:
                    attempt.rollback()
                assert db.session.scalar(select(Application.state).where(Application.id == application.id)) == state
        finally:
            setting.rollback()
            _forget_rolled_back_rows()


def _forget_rolled_back_rows() -> None:
    """SQLite reuses the ids of rolled-back rows; a row garbage-collected and reloaded inside the
    savepoint stays in the identity map after the rollback, and would clash with the next block's
    new row of the same id. Forget everything the block may have loaded."""
    for obj in list(db.session.identity_map.values()):
        if type(obj).__module__.startswith(_BLOCK_MODULES):
            db.session.expunge(obj)


_BLOCK_MODULES = ("danso_network.recruitment", "danso_network.collaborators", "danso_network.audit")


def test_every_state_has_allowed_and_forbidden_moves_covered():
    """The table is exercised both ways: each move of the table has a role that may make it and
    one that may not, under every approver setting."""
    for approver in Approver:
        for state in State:
            for action in Action:
                roles = allowed_roles(state, action, approver)
                assert roles <= set(ROLES)
                if roles:
                    assert set(ROLES) - roles, (state, action, approver)

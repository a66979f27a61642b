"""The selection workflow as one transition table (DESIGN.md §4 style rule 4; DOMAIN.md §7.2).

``TRANSITIONS[(state, action)] = (next state, who may act)``. "Who" is a set of roles, or the
marker :data:`APPROVER`, resolved from the province's criteria set: before 2026 the area health
centre approved (Gia Lai QĐ 34/2023/QĐ-UBND, Quảng Ngãi practice); from 1/1/2026 the station is a
public unit under the commune People's Committee (TT 43/2025/TT-BYT) and provinces choose the
station director, optionally confirmed by the commune People's Committee.
"""

from __future__ import annotations

import enum

from ..auth.models import Role


class State(enum.StrEnum):
    NOMINATED = "nominated"
    DOSSIER_COMPLETE = "dossier_complete"
    SCREENED = "screened"
    STATION_REVIEWED = "station_reviewed"
    SUBMITTED = "submitted"
    DIRECTOR_APPROVED = "director_approved"  # only when the commune People's Committee confirms after
    APPROVED = "approved"
    REJECTED = "rejected"
    CONTRACTED = "contracted"
    ACTIVE = "active"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


class Action(enum.StrEnum):
    COMPLETE_DOSSIER = "complete_dossier"
    SCREEN = "screen"
    REVIEW = "review"
    SUBMIT = "submit"
    APPROVE = "approve"
    CONFIRM = "confirm"  # commune People's Committee, after the director
    REJECT = "reject"
    CONTRACT = "contract"
    ACTIVATE = "activate"
    RETURN = "return"
    WITHDRAW = "withdraw"


class Approver(enum.StrEnum):
    HEALTH_CENTRE = "health_centre"  # the pre-2026 practice
    STATION_DIRECTOR = "station_director"
    STATION_DIRECTOR_THEN_COMMITTEE = "station_director_then_committee"


APPROVER = "approver"  # marker: the roles depend on the province setting
STATION = frozenset({Role.STATION_HEAD, Role.STATION_OFFICER})
HEAD = frozenset({Role.STATION_HEAD})
COMMITTEE = frozenset({Role.COMMUNE_COMMITTEE})

OPEN_STATES = frozenset({State.NOMINATED, State.RETURNED, State.DOSSIER_COMPLETE, State.SCREENED,
                         State.STATION_REVIEWED, State.SUBMITTED, State.DIRECTOR_APPROVED})
FINAL_STATES = frozenset({State.REJECTED, State.ACTIVE, State.WITHDRAWN})

TRANSITIONS: dict[tuple[State, Action], tuple[State, frozenset[Role] | str]] = {
    (State.NOMINATED, Action.COMPLETE_DOSSIER): (State.DOSSIER_COMPLETE, STATION),
    (State.RETURNED, Action.COMPLETE_DOSSIER): (State.DOSSIER_COMPLETE, STATION),
    (State.DOSSIER_COMPLETE, Action.SCREEN): (State.SCREENED, STATION),
    (State.SCREENED, Action.SCREEN): (State.SCREENED, STATION),  # re-run after a dossier correction
    (State.SCREENED, Action.REVIEW): (State.STATION_REVIEWED, HEAD),
    (State.SCREENED, Action.RETURN): (State.RETURNED, HEAD),
    (State.STATION_REVIEWED, Action.SUBMIT): (State.SUBMITTED, HEAD),
    (State.STATION_REVIEWED, Action.RETURN): (State.RETURNED, HEAD),
    (State.SUBMITTED, Action.APPROVE): (State.APPROVED, APPROVER),
    (State.SUBMITTED, Action.REJECT): (State.REJECTED, APPROVER),
    (State.SUBMITTED, Action.RETURN): (State.RETURNED, APPROVER),
    (State.DIRECTOR_APPROVED, Action.CONFIRM): (State.APPROVED, COMMITTEE),
    (State.DIRECTOR_APPROVED, Action.REJECT): (State.REJECTED, COMMITTEE),
    (State.APPROVED, Action.CONTRACT): (State.CONTRACTED, APPROVER),
    (State.CONTRACTED, Action.ACTIVATE): (State.ACTIVE, STATION),
    **{(s, Action.WITHDRAW): (State.WITHDRAWN, STATION) for s in OPEN_STATES},
}


def approver_roles(approver: Approver) -> frozenset[Role]:
    if approver == Approver.HEALTH_CENTRE:
        return frozenset({Role.CENTRE_OFFICER})
    return HEAD


def target_state(state: State, action: Action, approver: Approver) -> State:
    """Where ``action`` leads from ``state``. With a committee confirmation, the director's
    approval is an intermediate step."""
    to, _ = TRANSITIONS[(state, action)]
    if (action == Action.APPROVE and approver == Approver.STATION_DIRECTOR_THEN_COMMITTEE):
        return State.DIRECTOR_APPROVED
    return to


def allowed_roles(state: State, action: Action, approver: Approver) -> frozenset[Role]:
    """Roles that may take ``action`` from ``state``; empty when the move does not exist."""
    entry = TRANSITIONS.get((state, action))
    if entry is None:
        return frozenset()
    roles = entry[1]
    return approver_roles(approver) if roles == APPROVER else roles


def actions_from(state: State) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s == state]

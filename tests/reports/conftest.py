"""A hand-built network for the report tests (tests/factories.py: build_world, appoint, criteria),
with every figure of the first quarter of 2026 computed by hand in :data:`EXPECTED`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from danso_network.allowances import services as allowances
from danso_network.collaborators import services as cs
from danso_network.extensions import db
from danso_network.supervision.services import record_meeting, record_visit
from danso_network.training import services as training
from tests.factories import appoint, criteria

Q1_TODAY = date(2026, 6, 1)  # the day the tests "run": the first quarter of 2026 is over


@dataclass
class Network:
    world: object
    people: dict
    courses: dict


@pytest.fixture
def network(world) -> Network:
    """Đồng Nai on Gia Lai's bands (≤200 households → 1, 201–400 → 2, >400 → 3), a policy from
    1/7/2025 (additional hamlets allowed and not paid, a visit every 60 days) and a fixed
    allowance of 500,000 đ a month. Commune A (Khu phố 1: 180 hộ, Khu phố 2: 420 hộ), commune B
    (Ấp Tân Lập: 300 hộ, Ấp 2: 90 hộ):

    - p1 KP1 from 1/9/2025; also covers KP2 from 15/3/2026 (additional hamlet);
    - p2 KP2 from 1/9/2025, resigned 10/2/2026;
    - p3 KP2 from 1/1/2026 (appointed in the quarter);
    - p7 KP2 from 1/9/2025, resigned 15/4/2026 (after the quarter);
    - p4 Tân Lập from 1/10/2025, transferred to Ấp 2 on 1/2/2026 (not a departure);
    - p5 Tân Lập from 1/9/2025, suspended from 1/3/2026 (still on the roster);
    - p8 Ấp 2 from 1/9/2025, left for health on 1/1/2026 (the quarter's first day);
    - Hà Nội: p9 in Tổ dân phố 5 (outside Đồng Nai).

    Visits: p1 on 15/2, p4 on 10/3 (in the quarter), p1 on 20/4 (after). Meetings: A in February
    (p1 present + P0, p3 present, p7 absent), A in April. Courses: c1 of commune A on 10/1 (p1
    completed, p4 — then in B — not), c2 of the province on 5/3 (p3), c3 of commune B on 20/2
    (nobody recorded), c4 of commune A in May (outside)."""
    w = world
    admin, head_a, head_b = w.users["admin"], w.users["head_a"], w.users["head_b"]
    criteria(w.dong_nai)
    allowances.set_network_policy(w.dong_nai, valid_from=date(2025, 7, 1), allow_additional_hamlet=True,
                                  pay_additional_hamlet=False, visit_interval_days=60, missed_meetings_for_review=2,
                                  legal_basis="Thử nghiệm", actor=admin)
    allowances.create_allowance_rule(w.dong_nai, valid_from=date(2025, 7, 1), basis="fixed", amount=500_000,
                                     legal_basis="Thử nghiệm", actor=admin)
    kp1, kp2 = w.hamlets_a
    tan_lap, ap2 = w.hamlets_b
    p = {"p1": appoint(kp1, 1), "p2": appoint(kp2, 2), "p3": appoint(kp2, 3, date(2026, 1, 1)),
         "p7": appoint(kp2, 7), "p4": appoint(tan_lap, 4, date(2025, 10, 1)), "p5": appoint(tan_lap, 5),
         "p8": appoint(ap2, 8), "p9": appoint(w.hamlets_c[0], 9)}
    cs.terminate_collaborator(p["p8"], on=date(2026, 1, 1), reason="health", actor=None)
    cs.transfer_collaborator(p["p4"], ap2, on=date(2026, 2, 1), actor=None, residence="moves")
    cs.terminate_collaborator(p["p2"], on=date(2026, 2, 10), reason="resigned", actor=None)
    cs.suspend_collaborator(p["p5"], on=date(2026, 3, 1), reason="Ốm dài ngày", actor=None)
    cs.add_hamlet(p["p1"], kp2, on=date(2026, 3, 15), actor=None)
    cs.terminate_collaborator(p["p7"], on=date(2026, 4, 15), reason="resigned", actor=None)
    supervisor = w.users["centre"]
    for person, day in (("p1", date(2026, 2, 15)), ("p4", date(2026, 3, 10)), ("p1", date(2026, 4, 20))):
        record_visit(p[person], supervisor=supervisor, visited_on=day, checklist={"p0_submitted": True}, actor=None)
    record_meeting(w.commune_a, month=date(2026, 2, 1), held_on=date(2026, 2, 5),
                   attendance={p["p1"].id: (True, True), p["p3"].id: (True, False), p["p7"].id: (False, False)})
    record_meeting(w.commune_a, month=date(2026, 4, 1), held_on=date(2026, 4, 6),
                   attendance={p["p1"].id: (True, True)})

    def course(unit, actor, starts, title):
        return training.create_course(unit, title=title, organiser="Trạm Y tế", starts_on=starts, ends_on=starts,
                                      hours=8, is_population_work=False, actor=actor)

    c = {"c1": course(w.commune_a, head_a, date(2026, 1, 10), "Lớp 1"),
         "c2": course(w.dong_nai, admin, date(2026, 3, 5), "Lớp 2"),
         "c3": course(w.commune_b, head_b, date(2026, 2, 20), "Lớp 3"),
         "c4": course(w.commune_a, head_a, date(2026, 5, 4), "Lớp 4")}
    training.record_attendance(c["c1"], candidate=p["p1"].candidate, completed=True, actor=admin, on=date(2026, 1, 12))
    training.record_attendance(c["c1"], candidate=p["p4"].candidate, completed=False, actor=admin,
                               on=date(2026, 1, 12))
    training.record_attendance(c["c2"], candidate=p["p3"].candidate, completed=False, actor=admin, on=date(2026, 3, 6))
    db.session.commit()
    return Network(w, p, c)


# The first quarter of 2026 (1/1–31/3; the roster "at the start" is that of 31/12/2025), by hand:
EXPECTED = {
    "a": dict(
        start=3,  # p1, p2, p7
        end=4,  # p1 (KP1), p1 (KP2, additional), p3, p7
        appointed=1,  # p3
        left={"resigned": 1},  # p2
        hamlets=2, covered=2,  # KP1 (1 of 1), KP2 (p3, p7, p1: 3 of 3)
        vacant=0, vacancy_days=0, households=600, active=4,
        trainings=2, attendances=2, completed=1,  # c1 (p1), c2 (p3)
        visits=1,  # p1 on 15/2
        visits_due=5,  # (p1 90 + p2 40 + p3 90 + p7 90 = 310 days) / 60 = 5.17
        meetings=1, meeting_rows=3, attended=2, p0=1,
        allowance=5_160_714,  # Jan 4 × 500,000; Feb 3 × 500,000 + p2 9/28; Mar 3 × 500,000 (KP2 cover unpaid)
    ),
    "b": dict(
        start=3,  # p4, p5, p8
        end=2,  # p4 (Ấp 2), p5 (suspended)
        appointed=0,
        left={"health": 1},  # p8 on 1/1; p4's transfer is not a departure
        hamlets=2, covered=1,  # Ấp 2 (p4); Tân Lập has nobody active (p5 suspended)
        vacant=1, vacancy_days=30,  # since p5's suspension on 1/3
        households=390, active=1,
        trainings=2, attendances=1, completed=0,  # c1 (p4, then in Tân Lập), c3 (organised by B)
        visits=1,  # p4 on 10/3 (Ấp 2)
        visits_due=2,  # (p4 31 + 59, p5 90 − 31 suspended = 149 days) / 60 = 2.48
        meetings=0, meeting_rows=0, attended=0, p0=0,
        allowance=2_500_000,  # Jan 2, Feb 2 (p4 in Ấp 2, p5), Mar 1 (p5 suspended the whole month)
    ),
}

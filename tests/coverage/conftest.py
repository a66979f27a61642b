"""Hand-built worlds for the coverage tests (tests/factories.py: build_world, appoint, criteria)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from danso_network.extensions import db
from danso_network.recruitment.models import Application, Candidate
from danso_network.textnorm import fold
from tests.factories import appoint, candidate_fields, criteria

DAY = date(2026, 2, 1)


def applied(hamlet, serial: int, *, created: date, state: str = "nominated", changed: date | None = None,
            activated_on: date | None = None) -> Application:
    """An application for ``hamlet`` made on ``created`` and last changed on ``changed`` (its
    final step for a rejected or withdrawn one), written directly: the workflow itself is tested
    in tests/recruitment."""
    fields = candidate_fields(hamlet, serial)
    fields.pop("hamlet")
    residence = fields.pop("residence_hamlet")
    candidate = Candidate(**fields, residence_hamlet=residence, search_text=fold(fields["full_name"]),
                          created_at=datetime.combine(created, time(3), tzinfo=UTC))
    application = Application(
        candidate=candidate, hamlet_id=hamlet.id, hamlet_path=hamlet.path, state=state, dossier={},
        rejection_reason="Không đạt" if state == "rejected" else None, activated_on=activated_on,
        created_at=datetime.combine(created, time(3), tzinfo=UTC),
        updated_at=datetime.combine(changed or created, time(3), tzinfo=UTC))
    db.session.add_all([candidate, application])
    db.session.flush()
    return application


@pytest.fixture
def staffed(world):
    """Đồng Nai on Gia Lai's bands from 1/7/2025 (≤200 households → 1, 201–400 → 2, >400 → 3);
    Hà Nội without criteria. On 1/2/2026:

    - Khu phố 1 (180 hộ, quota 1): one collaborator → covered;
    - Khu phố 2 (420 hộ, quota 3): two, one suspended since 10/1/2026 → below quota;
    - Ấp Tân Lập (300 hộ, quota 2): nobody, an application nominated on 15/1/2026 → pending;
    - Ấp 2 (90 hộ, quota 1): nobody ever → vacant since it came into force (1/7/2025);
    - Tổ dân phố 5 (Hà Nội, 500 hộ): one collaborator, no criteria → unknown.
    """
    from danso_network.collaborators import services

    criteria(world.dong_nai)
    kp1, kp2 = world.hamlets_a
    tan_lap, _ = world.hamlets_b
    people = {"kp1": appoint(kp1, 1), "kp2": [appoint(kp2, 2), appoint(kp2, 3)],
              "to5": appoint(world.hamlets_c[0], 4)}
    services.suspend_collaborator(people["kp2"][1], on=date(2026, 1, 10), reason="Ốm", actor=world.users["head_a"])
    people["application"] = applied(tan_lap, 5, created=date(2026, 1, 15))
    db.session.commit()
    return people


@pytest.fixture
def everywhere(world):
    return [world.dong_nai.path, world.hanoi.path]

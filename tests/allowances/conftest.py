"""Shared set-up for the allowance tests: the base salaries the migration seeds (tests build
tables with create_all, so they add them here), a province admin as actor, and small builders
for the dated records the sheet reads (a transfer, a suspension, an additional hamlet)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule, BaseSalary
from danso_network.audit.models import AuditEvent
from danso_network.collaborators.models import Assignment, NetworkPolicy, Suspension
from danso_network.extensions import db

from ..conftest import csrf_token, login

MARCH = date(2026, 3, 1)  # 31 days


@pytest.fixture
def salaries(world):
    """The two rows the migration seeds: NĐ 24/2023/NĐ-CP and NĐ 73/2024/NĐ-CP."""
    admin = world.users["admin"]
    rows = [allowances.set_base_salary(valid_from=date(2023, 7, 1), amount=1_800_000,
                                       legal_basis="Nghị định 24/2023/NĐ-CP", actor=admin),
            allowances.set_base_salary(valid_from=date(2024, 7, 1), amount=2_340_000,
                                       legal_basis="Nghị định 73/2024/NĐ-CP", actor=admin)]
    db.session.commit()
    return rows


@pytest.fixture
def hcm_rules(world):
    """TP HCM NQ 33/2025 levels, used here for Đồng Nai: 700,000 đ in a xã, 600,000 đ in a phường."""
    admin = world.users["admin"]
    xa = allowances.create_allowance_rule(world.dong_nai, valid_from=date(2025, 9, 1), commune_category="xa",
                                          basis="fixed", amount=700_000, legal_basis="NQ 33/2025/NQ-HĐND",
                                          actor=admin)
    phuong = allowances.create_allowance_rule(world.dong_nai, valid_from=date(2025, 9, 1),
                                              commune_category="phuong", basis="fixed", amount=600_000,
                                              legal_basis="NQ 33/2025/NQ-HĐND", actor=admin)
    db.session.commit()
    return {"xa": xa, "phuong": phuong}


def transfer(collaborator, to_hamlet, on: date) -> Assignment:
    """Close the open primary assignment on ``on`` and open one in ``to_hamlet`` the same day."""
    current = next(a for a in collaborator.assignments if a.ended_on is None and a.kind == "primary")
    current.ended_on, current.end_reason = on, "transferred"
    new = Assignment(collaborator=collaborator, hamlet_id=to_hamlet.id, hamlet_path=to_hamlet.path, kind="primary",
                     started_on=on, created_at=datetime.now(UTC))
    db.session.add(new)
    db.session.flush()
    return new


def cover(collaborator, hamlet, on: date) -> Assignment:
    a = Assignment(collaborator=collaborator, hamlet_id=hamlet.id, hamlet_path=hamlet.path, kind="additional",
                   started_on=on, created_at=datetime.now(UTC))
    db.session.add(a)
    db.session.flush()
    return a


def suspend(collaborator, started_on: date, ended_on: date | None) -> Suspension:
    s = Suspension(collaborator=collaborator, started_on=started_on, ended_on=ended_on, reason="Kiểm tra sai phạm",
                   created_at=datetime.now(UTC))
    db.session.add(s)
    db.session.flush()
    return s


def counts() -> dict:
    """Rows of the settings tables, and audit events other than logins."""
    found = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
             for m in (AllowanceRule, BaseSalary, NetworkPolicy)}
    found["AuditEvent"] = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                            .where(AuditEvent.action != "user.login"))
    return found


class Browser:
    """A logged-in user's browser: one client, one CSRF token."""

    def __init__(self, app, username: str):
        self.client = app.test_client()
        assert login(self.client, username).status_code == 302
        self.token = csrf_token(self.client, "/")

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, prefix: str | None = None, **kw):
        token = {f"{prefix}-csrf_token" if prefix else "csrf_token": self.token}
        return self.client.post(url, data={**token, **(data or {})}, **kw)


@pytest.fixture
def browser(app):
    return lambda username: Browser(app, username)

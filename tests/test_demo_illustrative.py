"""Settings without a source are labelled illustrative (issue #9 item 13): the demo's criteria for
Đồng Nai (Gia Lai's bands, an approver arrangement no text of Đồng Nai was found for), its network
policy and its allowance resolution carry ``is_illustrative``, and every page showing them says
"Minh hoạ — chưa có văn bản", as synthetic hamlets say "Dữ liệu minh hoạ". A province's own
settings carry no such label."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule
from danso_network.auth.models import Role
from danso_network.auth.services import grant_role
from danso_network.collaborators.models import NetworkPolicy
from danso_network.extensions import db
from danso_network.recruitment.models import CriteriaSet
from danso_network.units import services as units

from . import factories
from .conftest import DEMO_PASSWORD, login

BADGE = "Minh hoạ — chưa có văn bản"


def _as(app, username: str, password: str = factories.PASSWORD):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def _text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the demo ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_criteria_are_illustrative_and_their_page_says_so(app, demo_db):
    with demo_db.use():
        province = units.find_unit_by_code("75")
        versions = list(db.session.scalars(select(CriteriaSet).where(CriteriaSet.province_id == province.id)
                                           .order_by(CriteriaSet.version)))
        assert [v.version for v in versions] == [1, 2]
        assert all(v.is_illustrative for v in versions)
        # The notes say what the bands and the approver are: a model, not Đồng Nai's decision.
        assert all("minh hoạ" in v.note and "Gia Lai" in v.note for v in versions)
        html = _text(_as(app, "soyte", DEMO_PASSWORD).get(f"/criteria/{province.id}"))
        assert html.count(BADGE) == 3  # each version's column and the banner of the one in force
        assert "badge-synthetic" in html


@pytest.mark.slow
def test_the_demo_network_policy_and_allowances_are_illustrative_and_shown_so(app, demo_network_db):
    with demo_network_db.use():
        province = units.find_unit_by_code("75")
        policies = list(db.session.scalars(select(NetworkPolicy).where(NetworkPolicy.province_id == province.id)))
        rules = list(db.session.scalars(select(AllowanceRule).where(AllowanceRule.province_id == province.id)))
        assert policies and all(p.is_illustrative for p in policies)
        assert rules and all(r.is_illustrative for r in rules)
        html = _text(_as(app, "soyte", DEMO_PASSWORD).get(f"/allowances/settings/{province.id}"))
        assert html.count(BADGE) == len(rules) + len(policies) + 1  # each row, and the policy in force today


# --- a province's own settings -------------------------------------------------------------------------


def test_settings_a_province_issues_are_not_illustrative(app, world):
    own = factories.criteria(world.dong_nai, note="Theo QĐ 15/2026/QĐ-UBND")
    rule = allowances.create_allowance_rule(world.dong_nai, valid_from=date(2026, 1, 1), basis="fixed", amount=600_000,
                                            legal_basis="NQ 33/2025/NQ-HĐND", actor=world.users["admin"])
    policy = allowances.set_network_policy(world.dong_nai, valid_from=date(2026, 1, 1), allow_additional_hamlet=True,
                                           pay_additional_hamlet=False, visit_interval_days=92,
                                           missed_meetings_for_review=2, legal_basis="QĐ 16/2026/QĐ-UBND",
                                           actor=world.users["admin"])
    db.session.commit()
    assert (own.is_illustrative, rule.is_illustrative, policy.is_illustrative) == (False, False, False)
    admin = _as(app, "admin75")
    assert BADGE not in _text(admin.get(f"/criteria/{world.dong_nai.id}"))
    assert BADGE not in _text(admin.get(f"/allowances/settings/{world.dong_nai.id}"))


def test_an_illustrative_setting_is_labelled_wherever_it_is_shown(app, world):
    factories.criteria(world.dong_nai, is_illustrative=True)
    allowances.create_allowance_rule(world.dong_nai, valid_from=date(2026, 1, 1), basis="fixed", amount=600_000,
                                     legal_basis="Theo mức của TP HCM", is_illustrative=True,
                                     actor=world.users["admin"])
    allowances.set_network_policy(world.dong_nai, valid_from=date(2026, 1, 1), allow_additional_hamlet=True,
                                  pay_additional_hamlet=False, visit_interval_days=92, missed_meetings_for_review=2,
                                  legal_basis=None, is_illustrative=True, actor=world.users["admin"])
    db.session.commit()
    admin = _as(app, "admin75")
    criteria_page = _text(admin.get(f"/criteria/{world.dong_nai.id}"))
    assert criteria_page.count(BADGE) == 2
    settings = _text(admin.get(f"/allowances/settings/{world.dong_nai.id}"))
    assert settings.count(BADGE) == 3
    # The label's explanation is on the badge itself.
    assert re.search(r'class="badge badge-synthetic" title="[^"]*chưa có văn bản[^"]*"', criteria_page)
    # The list of provinces (for a user of several) labels the version in force too.
    both = factories.user(Role.VIEWER, unit=world.dong_nai, username="xem_hai_tinh")
    grant_role(both, Role.VIEWER, unit=world.hanoi, valid_from=date(2025, 1, 1))
    db.session.commit()
    index = _text(_as(app, "xem_hai_tinh").get("/criteria/"))
    assert "Thành phố Hà Nội" in index and index.count(BADGE) == 1

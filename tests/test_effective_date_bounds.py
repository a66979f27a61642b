"""Effective dates stay in a sane range (issue #9 item 9). A criteria version, a professional-
direction link or an allowance rule must start after the one before it, so a date typed as
31/12/9999 would be accepted and then block every later version for good. Every effective date a
user types for a versioned setting is bounded by one rule (``common/dates.py``): from the date the
rules it implements took effect, to two years after today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from danso_network.allowances import services as allowances
from danso_network.allowances.models import AllowanceRule, BaseSalary
from danso_network.collaborators.models import NetworkPolicy
from danso_network.common import clock
from danso_network.common.dates import TT_02_2021_IN_FORCE, YEARS_AHEAD, latest_effective_date
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.recruitment import rules
from danso_network.recruitment import services as rs
from danso_network.recruitment.models import CriteriaSet
from danso_network.recruitment.workflow import Approver
from danso_network.supervision import services as supervision
from danso_network.supervision.models import ProfessionalLink

from . import factories
from .conftest import csrf_token, login

FAR = date(9999, 12, 31)
TOO_FAR = "quá xa"
TOO_EARLY = "quá sớm"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _criteria(world, valid_from: date):
    return rs.create_criteria_version(world.dong_nai, valid_from=valid_from, quota_bands=rules.QUOTA_PRESETS["gia_lai"],
                                      quota_preset="gia_lai", approver=Approver.HEALTH_CENTRE)


def _link(world, valid_from: date, name: str = "Trần Văn Lao"):
    return supervision.set_professional_link(world.commune_a, kind="labour_social", person_name=name,
                                             valid_from=valid_from)


def _rule(world, **kw):
    values = dict(valid_from=date(2025, 9, 1), basis="fixed", amount=700_000, legal_basis="NQ 33/2025/NQ-HĐND",
                  actor=world.users["admin"])
    values.update(kw)
    return allowances.create_allowance_rule(world.dong_nai, **values)


def _policy(world, valid_from: date):
    return allowances.set_network_policy(world.dong_nai, valid_from=valid_from, allow_additional_hamlet=False,
                                         pay_additional_hamlet=False, visit_interval_days=92,
                                         missed_meetings_for_review=2, legal_basis=None, actor=world.users["admin"])


def _salary(world, valid_from: date):
    return allowances.set_base_salary(valid_from=valid_from, amount=2_340_000, legal_basis="NĐ 73/2024/NĐ-CP",
                                      actor=world.users["admin"])


# --- the bound itself -----------------------------------------------------------------------------


def test_the_latest_date_is_two_years_after_today():
    assert YEARS_AHEAD == 2
    assert latest_effective_date(date(2026, 12, 6)) == date(2028, 12, 6)
    assert latest_effective_date(date(2028, 2, 29)) == date(2030, 2, 28)


# --- criteria versions ----------------------------------------------------------------------------


def test_a_criteria_version_in_year_9999_is_refused_and_later_versions_stay_possible(world):
    with pytest.raises(ValidationFailed, match=TOO_FAR) as refused:
        _criteria(world, FAR)
    assert refused.value.field == "valid_from"
    assert _count(CriteriaSet) == 0
    assert _criteria(world, clock.today()).version == 1
    assert _criteria(world, clock.today() + timedelta(days=30)).version == 2


def test_criteria_dates_at_the_edges(world):
    latest = latest_effective_date()
    with pytest.raises(ValidationFailed, match=TOO_FAR):
        _criteria(world, latest + timedelta(days=1))
    with pytest.raises(ValidationFailed, match=TOO_EARLY):
        _criteria(world, TT_02_2021_IN_FORCE - timedelta(days=1))
    assert _criteria(world, TT_02_2021_IN_FORCE).version == 1
    assert _criteria(world, latest).version == 2


def test_the_criteria_form_shows_the_refusal_in_vietnamese(client, world):
    login(client, "admin75")
    url = f"/criteria/{world.dong_nai.id}/versions/new"
    data = {"csrf_token": csrf_token(client, url), "quota_preset": "gia_lai", "approver": Approver.HEALTH_CENTRE.value,
            "min_age": "18", "single_active_assignment": "y", "valid_from": "31/12/9999", "note": ""}
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert TOO_FAR in page and latest_effective_date().strftime("%d/%m/%Y") in page
    assert 'value="31/12/9999"' in page  # the input is kept to be corrected
    assert _count(CriteriaSet) == 0


# --- professional-direction links -----------------------------------------------------------------


def test_a_link_starting_or_ending_in_year_9999_is_refused(world):
    with pytest.raises(ValidationFailed, match=TOO_FAR) as refused:
        _link(world, FAR)
    assert refused.value.field == "valid_from"
    link = _link(world, date(2025, 9, 1))
    with pytest.raises(ValidationFailed, match=TOO_FAR) as refused:
        supervision.end_professional_link(link, valid_to=FAR)
    assert refused.value.field == "valid_to"
    assert link.valid_to is None
    assert _link(world, date(2026, 1, 1), name="Lê Thị Xã Hội").valid_from == date(2026, 1, 1)


def test_the_link_page_shows_the_refusal(app, world):
    client = app.test_client()
    login(client, "truongtram_a")
    url = f"/supervision/links/{world.commune_a.id}"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "kind": "labour_social",
                                      "person_name": "Trần Văn Lao", "valid_from": "31/12/9999"})
    assert response.status_code == 422
    assert TOO_FAR in response.get_data(as_text=True)
    assert _count(ProfessionalLink) == 0


# --- allowances and the network policy ------------------------------------------------------------


def test_allowance_rule_dates_are_bounded(world):
    with pytest.raises(ValidationFailed, match=TOO_FAR) as refused:
        _rule(world, valid_from=FAR)
    assert refused.value.field == "valid_from"
    with pytest.raises(ValidationFailed, match=TOO_FAR) as refused:
        _rule(world, valid_to=FAR)
    assert refused.value.field == "valid_to"
    rule = _rule(world)
    with pytest.raises(ValidationFailed, match=TOO_FAR):
        allowances.end_allowance_rule(rule, valid_to=FAR, actor=world.users["admin"])
    assert rule.valid_to is None
    with pytest.raises(ValidationFailed, match=TOO_EARLY):
        _rule(world, valid_from=date(1900, 1, 1), commune_category="xa")
    assert _count(AllowanceRule) == 1


def test_network_policy_and_base_salary_dates_are_bounded(world):
    with pytest.raises(ValidationFailed, match=TOO_FAR):
        _policy(world, FAR)
    with pytest.raises(ValidationFailed, match=TOO_FAR):
        _salary(world, FAR)
    assert (_count(NetworkPolicy), _count(BaseSalary)) == (0, 0)
    assert _policy(world, clock.today()).valid_from == clock.today()
    assert _salary(world, date(2024, 7, 1)).amount == 2_340_000


def test_the_settings_page_shows_the_refusal(app, world):
    client = app.test_client()
    login(client, "admin75")
    url = f"/allowances/settings/{world.dong_nai.id}"
    token = csrf_token(client, url)
    response = client.post(url, data={
        "policy-csrf_token": token, "policy-valid_from": "31/12/9999", "policy-visit_interval_days": "92",
        "policy-missed_meetings_for_review": "2", "policy-legal_basis": "", "policy-submit": "1"})
    assert response.status_code == 422
    assert TOO_FAR in response.get_data(as_text=True)
    assert _count(NetworkPolicy) == 0


def test_demo_and_fixture_dates_are_inside_the_bounds(world):
    # The factories' criteria date (1/7/2025) is accepted: the bound refuses typos, not real dates.
    assert factories.criteria(world.dong_nai).valid_from == date(2025, 7, 1)

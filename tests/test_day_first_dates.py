"""Dates are shown and entered day-first whatever the browser's language (issue #9 item 17): the
native date input showed mm/dd/yyyy in an English browser, so 05/12/2026 became 12 May."""

from __future__ import annotations

import re
from datetime import date

import pytest

from danso_network.auth import services as auth_services
from danso_network.auth.models import Role
from danso_network.extensions import db
from danso_network.units.models import AdminUnit

from . import factories
from .conftest import csrf_token


def test_no_page_uses_the_native_date_or_month_input(world, login_as):
    client = login_as(world.users["admin"])
    for url in (f"/units/{world.commune_a.id}", f"/units/{world.commune_a.id}/hamlets/new",
                "/audit/", "/supervision/visits"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r'type="(date|month)"', html), url


@pytest.mark.parametrize("role", ["admin", "head_a"])
def test_the_allowance_and_supervision_forms_show_their_dates_day_first(world, login_as, role):
    """A native date input cannot hold "07/12/2026": the pre-filled date showed empty (issue #14 journeys)."""
    urls = {"admin": [f"/allowances/settings/{world.dong_nai.id}", "/allowances/base-salary",
                      f"/supervision/links/{world.commune_a.id}"],
            "head_a": [f"/supervision/meetings/{world.commune_a.id}/record"]}[role]
    factories.appoint(world.hamlets_a[0], 1)  # the meeting form lists the commune's collaborators
    if role == "admin":  # the base salary's form is for an admin of every province (the world has two)
        auth_services.grant_role(world.users["admin"], Role.PROVINCE_ADMIN, unit=world.hanoi, valid_from=date(2025, 1, 1))
        db.session.commit()
    client = login_as(world.users[role])
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert 'placeholder="dd/mm/yyyy"' in html, url
        assert not re.search(r'type="(date|month)"', html), url


def test_a_day_first_date_is_read_day_first(world, login_as):
    client = login_as(world.users["admin"])
    url = f"/units/{world.commune_a.id}/hamlets/new"
    form = client.get(url).get_data(as_text=True)
    assert re.search(r'name="valid_from"[^>]*placeholder="dd/mm/yyyy"|placeholder="dd/mm/yyyy"[^>]*name="valid_from"', form)
    response = client.post(url, data={"name": "Khu phố ngày", "type": "khu_pho", "valid_from": "05/08/2025",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    hamlet = db.session.scalar(db.select(AdminUnit).where(AdminUnit.name == "Khu phố ngày"))
    assert hamlet.valid_from == date(2025, 8, 5)
    page = client.get(f"/units/{world.commune_a.id}?as_of=05/08/2025").get_data(as_text=True)
    assert 'value="05/08/2025"' in page

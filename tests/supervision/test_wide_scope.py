"""Supervision figures over several provinces (issue #8): kept for a few minutes with the time
they were computed and a link to compute them again, while an area within one province is always
live; and the stored day of each collaborator's latest visit that lets the overdue list test a
national network without reading its visits."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from danso_network.auth import services as auth_services
from danso_network.auth.models import Role
from danso_network.common import cache, clock
from danso_network.extensions import db
from danso_network.supervision import services

from ..factories import appoint
from .test_views import listed

CHECKLIST = {"register_up_to_date": True}


@pytest.fixture
def kept(app, monkeypatch):
    """Figures of wide areas kept five minutes, as in production; a fresh store for the test."""
    monkeypatch.setitem(app.config, "WIDE_SCOPE_CACHE_SECONDS", 300)
    app.extensions.pop(cache._KEY, None)
    yield
    app.extensions.pop(cache._KEY, None)


@pytest.fixture
def two_provinces(world):
    """The Đồng Nai admin made admin of Hà Nội too: an area spanning two provinces."""
    auth_services.grant_role(world.users["admin"], Role.PROVINCE_ADMIN, unit=world.hanoi, valid_from=date(2025, 1, 1))
    people = [appoint(world.hamlets_a[0], 1), appoint(world.hamlets_b[0], 2), appoint(world.hamlets_c[0], 3)]
    db.session.commit()
    return people


def overdue_figure(html: str) -> int:
    return int(re.search(r'data-count="overdue">(\d+)<', html).group(1))


def test_a_wide_area_keeps_its_figures_and_says_when_they_were_computed(kept, world, two_provinces, browser):
    national = browser("admin75")
    first = national.get("/supervision/").get_data(as_text=True)
    assert overdue_figure(first) == 3
    assert "Số liệu nhiều tỉnh, tính lúc" in first and "Tính lại ngay" in first and "fresh=1" in first

    services.record_visit(two_provinces[0], supervisor=world.users["centre"], visited_on=clock.today(),
                          checklist=CHECKLIST)
    db.session.commit()
    assert overdue_figure(national.get("/supervision/").get_data(as_text=True)) == 3  # kept
    assert overdue_figure(national.get("/supervision/?fresh=1").get_data(as_text=True)) == 2  # computed again
    assert overdue_figure(national.get("/supervision/").get_data(as_text=True)) == 2  # and kept anew

    overdue = national.get("/supervision/overdue").get_data(as_text=True)
    assert listed(overdue) == {two_provinces[1].id, two_provinces[2].id} and "Tính lại ngay" in overdue
    assert "Số liệu nhiều tỉnh" in national.get("/supervision/under-review").get_data(as_text=True)


def test_an_area_within_one_province_is_always_live(kept, world, two_provinces, browser):
    hanoi = browser("admin01")
    page = hanoi.get("/supervision/").get_data(as_text=True)
    assert overdue_figure(page) == 1 and "Số liệu nhiều tỉnh" not in page
    services.record_visit(two_provinces[2], supervisor=world.users["hanoi_admin"], visited_on=clock.today(),
                          checklist=CHECKLIST)
    db.session.commit()
    assert overdue_figure(hanoi.get("/supervision/").get_data(as_text=True)) == 0


def test_the_latest_visit_is_stored_and_a_past_date_still_reads_the_visits(world):
    person = appoint(world.hamlets_a[0], 1)
    db.session.commit()
    assert person.last_visited_on is None
    today = clock.today()
    services.record_visit(person, supervisor=world.users["centre"], visited_on=today, checklist=CHECKLIST)
    services.record_visit(person, supervisor=world.users["centre"], visited_on=today - timedelta(days=200),
                          checklist=CHECKLIST)  # an older visit recorded later does not move it back
    db.session.commit()
    assert person.last_visited_on == today
    area = [world.commune_a.path]
    assert [r.collaborator_id for r in services.overdue_visits(area, today)] == []
    # As of a day before today's visit, the last visit was the older one: overdue again.
    yesterday = services.overdue_visits(area, today - timedelta(days=1))
    assert [(r.collaborator_id, r.last_visit) for r in yesterday] == [(person.id, today - timedelta(days=200))]
    assert services.overdue_count(area, today - timedelta(days=1)) == 1

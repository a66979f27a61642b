"""The supervision lists are counted and cut into pages by the database: page 2 shows the rows
after page 1, the counts beside a list equal the whole list, the dashboard's counts equal the
lists' totals, and provinces with different policies keep one order (HTML and API)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from danso_network.collaborators.models import NetworkPolicy
from danso_network.extensions import db
from danso_network.supervision import services
from danso_network.supervision.models import ChecklistItem

from ..factories import appoint

ALL_PASS = {item.value: True for item in ChecklistItem}
ON = date(2026, 4, 1)


def visit(world, collaborator, on, **kw):
    return services.record_visit(collaborator, supervisor=world.users["centre"], visited_on=on, checklist=ALL_PASS,
                                 **kw)


def staff(world, n: int, start: int = 1) -> list:
    """``n`` collaborators spread over communes A and B, started on different days."""
    hamlets = world.hamlets_a + world.hamlets_b
    return [appoint(hamlets[i % len(hamlets)], start + i, started_on=date(2025, 9, 1) + timedelta(days=i))
            for i in range(n)]


def listed(html: str, attribute: str = "data-collaborator") -> list[int]:
    return [int(x) for x in re.findall(rf'{attribute}="(\d+)"', html)]


def test_overdue_pages_follow_the_whole_list(world):
    people = staff(world, 7)
    visit(world, people[0], date(2025, 12, 1))
    scope = [world.dong_nai.path]
    whole = services.overdue_visits(scope, ON)
    assert len(whole) == 7 and services.overdue_count(scope, ON) == 7
    first, second = services.overdue_page(scope, ON, 1, 3), services.overdue_page(scope, ON, 2, 3)
    last = services.overdue_page(scope, ON, 3, 3)
    assert (first.total, first.pages, second.page, len(last.items)) == (7, 3, 2, 1)
    assert first.items + second.items + last.items == whole
    assert first.items[0].collaborator_id == people[1].id  # the oldest "last seen" first
    assert second.items[0].last_visit is None and whole[-1].last_visit == date(2025, 12, 1)
    # A page past the end (a stale link) shows the last page.
    assert services.overdue_page(scope, ON, 9, 3).items == last.items
    assert services.overdue_page([], ON).total == 0 and services.overdue_count([], ON) == 0


def test_overdue_order_with_provinces_of_different_intervals(world):
    dn = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    hn = appoint(world.hamlets_c[0], 2, started_on=date(2025, 10, 1))
    db.session.add(NetworkPolicy(province_id=world.hanoi.id, valid_from=date(2025, 1, 1), visit_interval_days=30,
                                 missed_meetings_for_review=2, created_at=datetime.now(UTC)))
    db.session.flush()
    scope = [world.dong_nai.path, world.hanoi.path]
    rows = services.overdue_visits(scope, ON)
    # Hà Nội's collaborator started later but is due every 30 days: due 31/10/2025, before 02/12/2025.
    assert [(r.collaborator_id, r.interval_days, r.due_on) for r in rows] == [
        (hn.id, 30, date(2025, 10, 31)), (dn.id, 92, date(2025, 12, 2))]
    assert services.overdue_page(scope, ON, 2, 1).items == rows[1:]
    assert services.overdue_count(scope, ON) == 2


def test_a_visit_counts_against_its_own_province_interval(world):
    """A visit 60 days ago keeps a Đồng Nai collaborator (92 days) off the list but not a Hà Nội
    one (30 days), although both lie in the same national list."""
    dn = appoint(world.hamlets_a[0], 1, started_on=date(2025, 9, 1))
    hn = appoint(world.hamlets_c[0], 2, started_on=date(2025, 9, 1))
    db.session.add(NetworkPolicy(province_id=world.hanoi.id, valid_from=date(2025, 1, 1), visit_interval_days=30,
                                 missed_meetings_for_review=2, created_at=datetime.now(UTC)))
    db.session.flush()
    for c in (dn, hn):
        visit(world, c, ON - timedelta(days=60))
    scope = [world.dong_nai.path, world.hanoi.path]
    assert [r.collaborator_id for r in services.overdue_visits(scope, ON)] == [hn.id]
    assert services.overdue_count(scope, ON) == 1 and services.overdue_page(scope, ON).total == 1


def test_follow_up_pages_and_counts(world):
    people = staff(world, 5)
    made = [visit(world, c, date(2026, 1, 5), follow_up=f"Việc {i}", follow_up_due=date(2026, 1, 10) + timedelta(days=10 * i))
            for i, c in enumerate(people)]
    scope = [world.dong_nai.path]
    on = date(2026, 2, 5)  # due 10/1, 20/1, 30/1 are late; 9/2 and 19/2 are not
    whole = services.open_follow_ups(scope, on)
    assert [r.visit for r in whole] == made and services.follow_up_counts(scope, on) == (5, 3)
    page = services.open_follow_ups_page(scope, on, 2, 2)
    assert (page.total, [r.visit for r in page.items]) == (5, made[2:4])
    assert [(r.overdue, r.days_late) for r in page.items] == [(True, 6), (False, 0)]
    assert services.follow_up_counts([], on) == (0, 0)


def test_under_review_pages_and_counts(world):
    people = [appoint(world.hamlets_a[i % 2], i + 1) for i in range(5)]
    for month in (date(2026, 2, 1), date(2026, 3, 1)):
        services.record_meeting(world.commune_a, month=month, held_on=month + timedelta(days=20),
                                attendance={c.id: (i == 0, i == 0) for i, c in enumerate(people)})
    scope = [world.dong_nai.path]
    whole = services.under_review(scope, ON)
    assert {r.collaborator_id for r in whole} == {c.id for c in people[1:]}
    assert services.under_review_count(scope, ON) == 4
    first, second = services.under_review_page(scope, ON, 1, 3), services.under_review_page(scope, ON, 2, 3)
    assert first.items + second.items == whole and (first.total, second.total) == (4, 4)
    assert [m.month for m in second.items[0].missed] == [date(2026, 3, 1), date(2026, 2, 1)]
    assert services.under_review_page([], ON).total == 0 and services.under_review_count([], ON) == 0


def test_html_lists_page_two_and_dashboard_counts(world, browser, monkeypatch):
    monkeypatch.setattr("danso_network.common.params.PER_PAGE", 2)
    people = staff(world, 5)
    for c in people[:3]:
        visit(world, c, date(2026, 1, 5), follow_up="Bổ sung sổ", follow_up_due=date(2026, 1, 20))
    db.session.commit()
    admin = browser("admin75")
    whole = [r.collaborator_id for r in services.overdue_visits([world.dong_nai.path], date(2026, 6, 1))]
    one = admin.get("/supervision/overdue?as_of=2026-06-01").get_data(as_text=True)
    two = admin.get("/supervision/overdue?as_of=2026-06-01&page=2").get_data(as_text=True)
    assert listed(one) == whole[:2] and listed(two) == whole[2:4]
    assert 'data-total="5"' in two and "<td>3</td>" in two  # numbering goes on from page 1
    printed = admin.get("/supervision/overdue?as_of=2026-06-01&all=1").get_data(as_text=True)
    assert listed(printed) == whole
    follow_ups = admin.get("/supervision/follow-ups?as_of=2026-02-01&page=2").get_data(as_text=True)
    assert len(listed(follow_ups, "data-visit")) == 1 and 'data-total="3"' in follow_ups
    dashboard = admin.get("/supervision/").get_data(as_text=True)
    found = dict(re.findall(r'data-count="(\w+)">([\d.,]+)<', dashboard))
    today = services.today()
    assert found == {"overdue": str(services.overdue_count([world.dong_nai.path], today)),
                     "follow_ups": str(services.follow_up_counts([world.dong_nai.path], today)[0]),
                     "under_review": "0"}
    # The dashboard's communes are a page too: two per page here, A and B on the first.
    assert world.commune_a.full_name in dashboard and world.commune_b.full_name in dashboard

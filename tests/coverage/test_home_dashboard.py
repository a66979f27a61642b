"""The home shows the coverage of the user's area (issue #10 item 4): hamlets covered, active
collaborators, hamlets without one (and those empty for more than 90 days), collaborators overdue
for supervision, the % covered at the end of each of the last 12 months as a server-drawn SVG,
and the hamlets vacant longest with links to them — for each role, over its own area only."""

from __future__ import annotations

import re
from datetime import date

from danso_network.auth.permissions import compute_scope
from danso_network.common.clock import today
from danso_network.coverage.chart import trend_chart
from danso_network.main.services import coverage_dashboard
from danso_network.supervision.services import overdue_count
from tests.conftest import login
from tests.factories import appoint

PANEL = 'id="coverage-dashboard"'


def _home(app, user) -> str:
    client = app.test_client()
    login(client, user.username)
    return client.get("/").get_data(as_text=True)


def _stat(html: str, key: str) -> str:
    return re.search(rf'id="{key}">([^<]*)<', html).group(1).strip()


def test_the_centre_sees_its_communes_coverage_and_oldest_vacancies(app, world, staffed):
    html = _home(app, world.users["centre"])
    assert PANEL in html
    # Communes A and B: Khu phố 1 covered, Khu phố 2 below quota, Ấp Tân Lập pending, Ấp 2 vacant.
    assert _stat(html, "coverage-pct") == "25 %"
    assert "(1/4)" in html
    assert _stat(html, "coverage-vacancies") == "2"
    assert "2 trống trên 90 ngày" in html
    oldest = re.search(r'<ol id="oldest-vacancies".*?</ol>', html, re.S).group(0)
    days = (today() - date(2025, 7, 1)).days  # both empty since the hamlets came into force
    assert [n for n in re.findall(r'">([^<]+)</a>', oldest)] == [world.hamlets_b[1].full_name,
                                                                   world.hamlets_b[0].full_name]
    assert f"/units/{world.hamlets_b[1].id}" in oldest and f"{days:,}".replace(",", ".") + " ngày" in oldest
    assert "đang tuyển chọn" in oldest  # Ấp Tân Lập has an application in the selection
    scope = compute_scope(world.users["centre"])
    assert _stat(html, "coverage-overdue") == str(overdue_count(scope.prefixes, today()))
    assert world.hamlets_c[0].name not in oldest  # Hà Nội is not the centre's


def test_a_station_sees_its_commune_only(app, world, staffed):
    html = _home(app, world.users["head_a"])
    assert _stat(html, "coverage-pct") == "50 %" and "(1/2)" in html
    assert _stat(html, "coverage-vacancies") == "0"
    assert "Mọi thôn/tổ dân phố trong địa bàn đều có CTV." in html


def test_the_trend_shows_twelve_month_ends_and_the_change(app, world, staffed):
    # A second and third collaborator for Khu phố 2 (quota 3) from 1/10 of last year… the month
    # ends before are at 1 of 4 covered (25 %) in the centre's area, those after at 2 of 4 (50 %).
    day = today()
    start = date(day.year - 1, 10, 1) if day.month < 10 else date(day.year, day.month - 3, 1)
    appoint(world.hamlets_a[1], 20, started_on=start)
    appoint(world.hamlets_a[1], 21, started_on=start)
    dashboard = coverage_dashboard(compute_scope(world.users["centre"]), day)
    assert len(dashboard.trend) == 12 and dashboard.trend[-1][0] == day
    values = [pct for _, pct in dashboard.trend]
    assert set(values) == {25.0, 50.0} and values == sorted(values)
    html = _home(app, world.users["centre"])
    svg = re.search(r'<svg id="coverage-trend".*?</svg>', html, re.S).group(0)
    assert svg.count("<circle") == 12
    assert "tăng 25 điểm %" in html
    assert f"{day.strftime('%d/%m/%Y')}: 50 %" in svg  # each point's tooltip: its day and value


def test_a_user_without_an_area_has_no_panel(app, world):
    html = _home(app, world.users["nogrant"])
    assert PANEL not in html


def test_the_chart_puts_0_at_the_bottom_and_100_at_the_top_and_skips_missing_days():
    chart = trend_chart([(date(2026, 1, 31), None), (date(2026, 2, 28), 0.0), (date(2026, 3, 31), 100.0)],
                        width=104, height=58)
    assert [p.x for p in chart.points] == [4.0, 52.0, 100.0]
    assert chart.points[0].y is None and chart.points[1].y == 54.0 and chart.points[2].y == 4.0
    assert chart.polyline == "52.0,54.0 100.0,4.0"
    assert chart.change == 100.0 and chart.last.pct == 100.0

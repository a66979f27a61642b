"""The yearly report on the Đồng Nai demo (its network's three years, seed 7) adds up with the
roster: collaborators at the end are the roster of the period's end (31/12, or today), at the start
the roster of the day before the period, per commune, per centre and in total; the allowance is
the monthly sheets'."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from danso_network.allowances.services import sheet_summary
from danso_network.collaborators.services import RosterFilters, roster_page
from danso_network.common import clock
from danso_network.demo import network as demo_network
from danso_network.extensions import db
from danso_network.reports import services
from danso_network.units.models import AdminUnit, Facility, UnitLevel
from danso_network.units.services import find_unit_by_code, served_units, units_at_level

from ..conftest import DEMO_PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def province(demo_network_db):
    with demo_network_db.use():
        yield find_unit_by_code("75")  # Thành phố Đồng Nai (the Tỉnh Đồng Nai of the same code closed on 1/7/2025)


def _roster(paths, day) -> int:
    return roster_page(paths, RosterFilters(as_of=day)).total


@pytest.mark.parametrize("year", [clock.today().year, 2025])
def test_the_yearly_report_adds_up_with_the_roster(province, year):
    period = services.Period.of(year)
    assert period.end == min(date(year, 12, 31), clock.today())
    report = services.network_report([province.path], period)
    assert report.total.end == _roster([province.path], period.end) > 2000
    assert report.total.start == _roster([province.path], period.opening_day)
    paths = dict(db.session.execute(select(AdminUnit.id, AdminUnit.path).where(
        AdminUnit.id.in_([r.unit_id for r in report.communes]))).all())
    for row in report.communes:
        assert row.figures.end == _roster([paths[row.unit_id]], period.end), row.name
        assert row.figures.start == _roster([paths[row.unit_id]], period.opening_day), row.name
    assert sum(c.communes for c in report.centres) == len(report.communes)  # each commune in one centre
    assert sum(c.figures.end for c in report.centres) == report.total.end
    assert report.total.left_total > 0 and report.total.appointed > 0


def test_a_centre_adds_up_with_its_roster(province):
    centre = db.session.scalar(select(Facility).where(Facility.code == demo_network.CENTRE_CODE))
    period = services.Period.of(2026)
    area = services.centre_area(centre, period.end)
    report = services.build_report(area, period)
    served = [u.path for u in served_units(centre, period.end)]
    [row] = [r for r in report.centres if r.unit_id == centre.id]
    assert row.figures.end == report.total.end == _roster(served, period.end)
    assert report.total.visits > 0 and report.total.meetings > 0 and report.total.p0 > 0
    assert report.total.trainings > 0 and report.total.attendances > 0


def test_the_allowance_is_the_monthly_sheets(province):
    period = services.Period.of(2026, quarter=2)
    report = services.network_report([province.path], period)
    sheets = Counter()
    for month in period.paid_months:
        for total in sheet_summary([province], month).communes:
            sheets[total.commune.id] += total.amount
    assert sum(sheets.values()) > 0
    assert {r.unit_id: r.figures.allowance for r in report.communes} == {i: sheets.get(i, 0) for i in
                                                                         (r.unit_id for r in report.communes)}


def test_the_reform_of_1_july_2025_is_not_turnover(province):
    """The reform ended every assignment of the old hamlets on 1/7/2025 ("unit_reorganised") and
    opened the next one in the successor the same day: the same people serving on, nobody left.
    The reports count as leaving only the terminations (``TERMINATION_REASONS``) — for the new
    city (Q3 2025) and for the old provinces whose hamlets the reform closed (2025)."""
    from sqlalchemy import distinct, func

    from danso_network.collaborators.models import TERMINATION_REASONS, Assignment
    from danso_network.units.services import in_areas

    reform_day = date(2025, 7, 1)
    reorganised = db.session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.ended_on == reform_day, Assignment.end_reason == "unit_reorganised"))
    assert reorganised > 2000
    old = [p.path for p in units_at_level(UnitLevel.PROVINCE, as_of=reform_day - timedelta(days=1))]
    for paths, period in (([province.path], services.Period.of(2025, quarter=3)), (old, services.Period.of(2025))):
        report = services.network_report(paths, period)
        assert "unit_reorganised" not in report.total.left and report.total.left_total > 0
        terminated = db.session.scalar(select(func.count(distinct(Assignment.collaborator_id))).where(
            in_areas(paths, Assignment.hamlet_path), Assignment.kind == "primary",
            Assignment.ended_on.between(period.first_day, period.end),
            Assignment.end_reason.in_([r.value for r in TERMINATION_REASONS])))
        assert report.total.left_total == terminated < reorganised // 10
        assert report.total.turnover_pct < 15


def test_the_page_and_the_file(app, demo_network_db, client):
    from ..conftest import login

    with demo_network_db.use():
        assert login(client, "soyte", DEMO_PASSWORD).status_code == 302
        province = find_unit_by_code("75")
        response = client.get(f"/reports/network?year=2026&area=unit-{province.id}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        end = _roster([province.path], services.Period.of(2026).end)
        assert f"{end:,}".replace(",", ".") in html or f"{end:,}" in html
        download = client.get(f"/reports/network?year=2026&area=unit-{province.id}&format=xlsx")
        assert download.status_code == 200 and download.data.startswith(b"PK")

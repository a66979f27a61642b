"""The network report's figures on a hand-built network (conftest.py: every figure by hand)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from danso_network.allowances.services import sheet_summary
from danso_network.collaborators.services import RosterFilters, roster_page
from danso_network.errors import ValidationFailed
from danso_network.reports import services
from danso_network.reports.services import Period

from .conftest import EXPECTED, Q1_TODAY


def q1() -> Period:
    return Period.of(2026, quarter=1, today=Q1_TODAY)


def figures(row) -> dict:
    f = row.figures
    return dict(start=f.start, end=f.end, appointed=f.appointed, left=dict(f.left), hamlets=f.hamlets,
                covered=f.covered, vacant=f.vacant, vacancy_days=f.vacancy_days, households=f.households,
                active=f.active, trainings=f.trainings, attendances=f.attendances, completed=f.completed,
                visits=f.visits, visits_due=f.visits_due, meetings=f.meetings, meeting_rows=f.meeting_rows,
                attended=f.attended, p0=f.p0, allowance=f.allowance)


# --- the period --------------------------------------------------------------------------------------


def test_periods():
    year = Period.of(2026, today=date(2026, 12, 7))
    assert (year.first_day, year.last_day, year.end, year.over) == (date(2026, 1, 1), date(2026, 12, 31),
                                                                    date(2026, 12, 7), False)
    assert year.opening_day == date(2025, 12, 31)
    assert year.paid_months[0] == date(2026, 1, 1) and year.paid_months[-1] == date(2026, 11, 1)
    quarter = Period.of(2026, quarter=4, today=date(2027, 2, 1))
    assert (quarter.first_day, quarter.end, quarter.over) == (date(2026, 10, 1), date(2026, 12, 31), True)
    assert quarter.label == "quý IV năm 2026"
    month = Period.of(2024, month=2, today=date(2026, 12, 7))
    assert (month.first_day, month.end, month.paid_months) == (date(2024, 2, 1), date(2024, 2, 29), [date(2024, 2, 1)])
    running = Period.of(2026, month=12, today=date(2026, 12, 7))
    assert running.paid_months == [] and running.end == date(2026, 12, 7)
    assert Period.of(2026, quarter=2, today=date(2026, 12, 7)).args() == {"year": 2026, "quarter": 2}


@pytest.mark.parametrize("kwargs", [
    dict(year=2026, quarter=1, month=2),  # both
    dict(year=2026, quarter=5),
    dict(year=2026, month=13),
    dict(year=2026, month=0),
    dict(year=1999),
    dict(year=2027),  # not begun
    dict(year=2026, month=12, today=date(2026, 11, 30)),  # not begun
])
def test_bad_periods(kwargs):
    kwargs.setdefault("today", date(2026, 12, 7))
    with pytest.raises(ValidationFailed):
        Period.of(kwargs.pop("year"), **kwargs)


def test_period_from_params():
    assert services.period_from({"year": "2026", "quarter": "3"}, date(2026, 12, 7)).quarter == 3
    assert services.period_from({}, date(2026, 12, 7)).year == 2026
    for bad in ({"year": "20x6"}, {"year": "2026", "month": "-1"}, {"year": True}):
        with pytest.raises(ValidationFailed):
            services.period_from(bad, date(2026, 12, 7))


# --- the figures -------------------------------------------------------------------------------------


def test_hand_computed_quarter(network):
    w = network.world
    report = services.network_report([w.dong_nai.path], q1())
    rows = {r.unit_id: r for r in report.communes}
    assert set(rows) == {w.commune_a.id, w.commune_b.id}
    assert figures(rows[w.commune_a.id]) == EXPECTED["a"]
    assert figures(rows[w.commune_b.id]) == EXPECTED["b"]
    assert [r.code for r in report.communes] == ["25195", "25210"]  # by code

    total = report.total
    assert (total.start, total.end, total.appointed, total.left_total) == (6, 6, 1, 2)
    assert total.trainings == 3  # c1 counted once though both communes attended it
    assert total.visits_due == 7 and total.allowance == 7_660_714
    assert report.reasons == ["resigned", "health"]
    assert report.intervals == {w.dong_nai.id: 60}


def test_ratios(network):
    w = network.world
    report = services.network_report([w.dong_nai.path], q1())
    a, b = (r.figures for r in report.communes)
    assert a.turnover_pct == pytest.approx(100 / 3.5)  # 1 left ÷ ((3 + 4) ÷ 2)
    assert b.turnover_pct == pytest.approx(40.0)  # 1 ÷ ((3 + 2) ÷ 2)
    assert report.total.turnover_pct == pytest.approx(2 * 100 / 6)
    assert a.households_per_collaborator == 150.0 and b.households_per_collaborator == 390.0
    assert report.total.households_per_collaborator == pytest.approx(990 / 5)
    assert b.average_vacancy_days == 30.0 and a.average_vacancy_days is None
    assert report.total.pct_covered == 75.0
    assert a.attendance_pct == pytest.approx(200 / 3) and b.attendance_pct is None


def test_centre_rows_sum_their_communes(network):
    w = network.world
    report = services.network_report([w.dong_nai.path], q1())
    [centre] = report.centres
    assert (centre.unit_id, centre.name, centre.communes) == (w.centre.id, w.centre.name, 2)
    assert figures(centre) == figures(type(centre)(0, "", "", "", report.total))


def test_collaborators_at_the_end_are_the_roster(network):
    """"Collaborators at the end = the roster as of the end date", per commune and in total; at
    the start, the roster of the day before the period."""
    w = network.world
    period = q1()
    report = services.network_report([w.dong_nai.path], period)
    for row in report.communes:
        unit = db_get(row.unit_id)
        assert row.figures.end == roster_page([unit.path], RosterFilters(as_of=period.end)).total
        assert row.figures.start == roster_page([unit.path], RosterFilters(as_of=period.opening_day)).total
    assert report.total.end == roster_page([w.dong_nai.path], RosterFilters(as_of=period.end)).total == 6


def db_get(unit_id):
    from danso_network.extensions import db
    from danso_network.units.models import AdminUnit

    return db.session.get(AdminUnit, unit_id)


def test_allowance_is_the_monthly_sheets(network):
    w = network.world
    period = q1()
    report = services.network_report([w.dong_nai.path], period)
    sheets = Counter()
    for month in period.paid_months:
        for total in sheet_summary([w.dong_nai], month).communes:
            sheets[total.commune.id] += total.amount
    assert {r.unit_id: r.figures.allowance for r in report.communes} == dict(sheets)


def test_month_and_year(network):
    w = network.world
    march = services.network_report([w.dong_nai.path], Period.of(2026, month=3, today=Q1_TODAY))
    a = march.communes[0].figures
    assert (a.start, a.end, a.appointed, a.left_total) == (3, 4, 0, 0)  # 28/2: p1, p3, p7
    assert a.allowance == 1_500_000
    year = services.network_report([w.dong_nai.path], Period.of(2026, today=Q1_TODAY))
    assert year.period.end == Q1_TODAY and year.period.paid_months[-1] == date(2026, 5, 1)
    # p7 left on 15/4: two departures for A over the year so far.
    assert year.communes[0].figures.left == Counter({"resigned": 2})
    assert year.communes[0].figures.visits == 2


def test_a_commune_alone_and_a_centre(network):
    w = network.world
    only_a = services.network_report([w.commune_a.path], q1())
    assert [r.unit_id for r in only_a.communes] == [w.commune_a.id]
    assert figures(only_a.communes[0]) == EXPECTED["a"]
    assert only_a.centres[0].communes == 1  # the centre's row holds only the report's communes
    area = services.centre_area(w.centre, q1().end)
    assert area.prefixes == sorted([w.commune_a.path, w.commune_b.path])


def test_empty_area_is_a_report_of_zeros(world):
    report = services.network_report([world.dong_nai.path], Period.of(2026, quarter=1, today=Q1_TODAY))
    assert len(report.communes) == 2
    assert report.total.end == 0 and report.total.allowance == 0 and report.total.turnover_pct is None
    assert report.total.hamlets == 4 and report.total.vacant == 4
    nothing = services.network_report([], Period.of(2026, quarter=1, today=Q1_TODAY))
    assert nothing.communes == [] and nothing.centres == [] and nothing.total.end == 0


def test_a_period_before_any_data(world):
    area = services.unit_area(world.dong_nai)  # in force from 1/7/2025
    with pytest.raises(ValidationFailed, match="01/07/2025"):
        services.check_period(area, Period.of(2024, today=Q1_TODAY))
    services.check_period(area, Period.of(2025, today=Q1_TODAY))  # overlaps: fine


def test_document(network):
    w = network.world
    report = services.network_report([w.dong_nai.path], q1())
    document = services.report_document(report, services.unit_area(w.dong_nai), made_on=Q1_TODAY)
    communes, centres = document.sheets
    rows = list(communes.rows)
    header = [c.label for c in communes.columns]
    assert header[:6] == ["Mã", "Xã/phường/đặc khu", "CTV đầu kỳ", "CTV cuối kỳ", "Tuyển mới", "Nghỉ việc"]
    assert "Nghỉ: Xin nghỉ" in header and "Nghỉ: Sức khoẻ không đảm bảo" in header
    assert len(rows) == 3 and rows[-1][1] == "Tổng cộng"
    assert rows[-1][header.index("Bồi dưỡng đã chi (đồng)")] == 7_660_714
    assert rows[-1][header.index("Tỷ lệ biến động (%)")] == 33.3
    assert [len(r) for r in rows] == [len(header)] * 3
    assert list(centres.rows)[0][0] == w.centre.name
    assert document.filename == "bao-cao-mang-luoi-ctv-quy-i-nam-2026-thanh-pho-dong-nai"
    assert "Quý" not in document.title and "quý I năm 2026" in document.title


def test_national_scope_has_a_province_column(network):
    w = network.world
    report = services.network_report([w.dong_nai.path, w.hanoi.path], q1())
    assert report.several_provinces and len(report.communes) == 3
    document = services.report_document(report, services.national_area(), made_on=Q1_TODAY)
    assert document.sheets[0].columns[2].label == "Tỉnh/thành phố"


def test_targets_met_or_not(network):
    """A year's report judges the communes' annual targets (danso_network.targets) on its own
    coverage frame; a quarter's has none."""
    from danso_network.targets.services import set_targets

    w = network.world
    set_targets(w.commune_a, 2026, {"hamlets_covered_pct": 100, "supervision_visits": 1}, actor=w.users["admin"],
                valid_from=date(2026, 1, 1))
    year = services.network_report([w.dong_nai.path], Period.of(2026, today=Q1_TODAY))
    section = year.targets
    assert section is not None and section.judged == 1 and not section.final
    [(row, card)] = section.rows
    assert row.unit_id == w.commune_a.id
    verdicts = {line.kind.value: line.verdict for line in card.lines}
    # On 1/6: KP2 has p3 and p1's cover (p7 left on 15/4): 2 of 3 → half the hamlets covered.
    assert verdicts == {"hamlets_covered_pct": "not_met", "collaborators_trained": "not_set",
                        "supervision_visits": "met", "meeting_attendance_pct": "not_set"}
    assert section.met == 0
    document = services.report_document(year, services.unit_area(w.dong_nai), made_on=Q1_TODAY)
    sheet = document.sheets[2]
    assert sheet.name == "Chỉ tiêu năm" and "0/1" in sheet.title
    [cells] = list(sheet.rows)
    assert cells[:4] == ["25195", w.commune_a.full_name, 100.0, 50.0]
    assert services.network_report([w.dong_nai.path], q1()).targets is None


def test_headings(network):
    """The official heading: the station for a commune, the centre for a centre, the Department
    for a province; none over several provinces (no single office issues it)."""
    w = network.world
    on = Q1_TODAY
    assert services.heading_of(services.unit_area(w.commune_a), on).issuer == w.station_a.name
    assert services.heading_of(services.centre_area(w.centre, on), on).issuer == w.centre.name
    assert services.heading_of(services.unit_area(w.dong_nai), on).issuer == w.department.name
    assert services.heading_of(services.national_area(), on) is None

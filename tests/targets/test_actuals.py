"""The year's actual figures against a hand-computed world (conftest.year_world), and the number
of queries they take whatever the number of communes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import event

from danso_network.coverage.services import hamlet_frame
from danso_network.extensions import db
from danso_network.targets import services
from danso_network.targets.services import Actuals

from .conftest import AFTER_YEAR, YEAR


def test_figures_of_a_year_that_is_over(world, year_world):
    found = services.actuals_for([world.commune_a.id, world.commune_b.id], YEAR, AFTER_YEAR)
    a, b = found[world.commune_a.id], found[world.commune_b.id]
    assert a == Actuals(world.commune_a.id, YEAR, date(2026, 12, 31), True, hamlets=2, hamlets_covered=1,
                        hamlets_covered_pct=Decimal("50.0"), collaborators_trained=2, supervision_visits=4,
                        meeting_rows=5, meetings_attended=3, meeting_attendance_pct=Decimal("60.0"))
    assert (b.hamlets, b.hamlets_covered, b.hamlets_covered_pct) == (2, 1, Decimal("50.0"))
    assert (b.collaborators_trained, b.supervision_visits, b.meeting_rows, b.meeting_attendance_pct) == (1, 0, 0, None)


def test_a_year_not_over_counts_up_to_the_day_asked(world, year_world):
    a = services.actuals_for([world.commune_a.id], YEAR, date(2026, 3, 1))[world.commune_a.id]
    assert a.as_of == date(2026, 3, 1) and not a.final
    # Trained: c3's February course only; visits: 2/2 and 16/2 (2/3 comes after the day asked).
    assert a.collaborators_trained == 1
    assert a.supervision_visits == 2
    assert (a.meeting_rows, a.meetings_attended) == (3, 2)  # January only
    assert a.meeting_attendance_pct == Decimal("66.7")  # 2/3, half-up to one decimal
    # c3's assignment ended on 1/3: Khu phố 2 has c2 only (quota 3).
    assert (a.hamlets, a.hamlets_covered) == (2, 1)


def test_the_last_day_of_the_year_is_not_yet_final(world, year_world):
    a = services.actuals_for([world.commune_a.id], YEAR, date(2026, 12, 31))[world.commune_a.id]
    assert a.as_of == date(2026, 12, 31) and not a.final
    assert services.actuals_for([world.commune_a.id], YEAR, date(2027, 1, 1))[world.commune_a.id].final


def test_a_year_not_started_has_no_figures(world, year_world):
    a = services.actuals_for([world.commune_a.id], 2027, date(2026, 6, 1))[world.commune_a.id]
    assert a == Actuals(world.commune_a.id, 2027, None, False)


def test_last_year_is_counted_on_its_own(world, year_world):
    a = services.actuals_for([world.commune_a.id], 2025, AFTER_YEAR)[world.commune_a.id]
    assert a.as_of == date(2025, 12, 31) and a.final
    # c2's December course; the visit of 3/11/2025; the December meeting (3 of 3).
    assert (a.collaborators_trained, a.supervision_visits, a.meeting_attendance_pct) == (1, 1, Decimal("100.0"))
    # On 31/12/2025 Khu phố 2 had c2 and c3 (quota 3): still below quota.
    assert (a.hamlets, a.hamlets_covered) == (2, 1)


def test_coverage_percentages_are_rounded_half_up_to_one_decimal():
    assert services.pct(1, 3) == Decimal("33.3")
    assert services.pct(2, 3) == Decimal("66.7")
    assert services.pct(1, 8) == Decimal("12.5")
    assert services.pct(1, 16) == Decimal("6.3")  # 6.25 → 6.3 (half-up, not to even)
    assert services.pct(0, 0) is None


def test_a_given_frame_is_used_instead_of_reading_one(world, year_world):
    day = date(2026, 12, 31)
    frame = hamlet_frame([world.dong_nai.path], day)
    given = services.actuals_for([world.commune_a.id], YEAR, AFTER_YEAR, frame=frame)
    assert given == services.actuals_for([world.commune_a.id], YEAR, AFTER_YEAR)


def test_every_id_gets_an_entry_even_a_commune_without_data(world, year_world):
    found = services.actuals_for([world.commune_c.id, world.commune_a.id], YEAR, AFTER_YEAR)
    c = found[world.commune_c.id]
    assert (c.hamlets, c.hamlets_covered_pct, c.collaborators_trained, c.meeting_attendance_pct) == (1, Decimal("0.0"),
                                                                                                      0, None)
    assert services.actuals_for([], YEAR) == {}


def _queries(fn) -> int:
    count = 0

    def counter(*_args, **_kw):
        nonlocal count
        count += 1

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def test_a_fixed_number_of_queries_whatever_the_number_of_communes(world, year_world):
    one = _queries(lambda: services.actuals_for([world.commune_a.id], YEAR, AFTER_YEAR))
    three = _queries(lambda: services.actuals_for([world.commune_a.id, world.commune_b.id, world.commune_c.id],
                                                  YEAR, AFTER_YEAR))
    assert one == three
    ids = [world.commune_a.id, world.commune_b.id, world.commune_c.id]
    assert _queries(lambda: services.targets_for(ids[:1], YEAR)) == _queries(lambda: services.targets_for(ids, YEAR)) == 1
    assert (_queries(lambda: services.scorecards(ids[:1], YEAR, AFTER_YEAR))
            == _queries(lambda: services.scorecards(ids, YEAR, AFTER_YEAR)))


def test_many_communes_of_a_province_read_the_province_frame_once():
    paths = [f"/1/{i}/" for i in range(2, 40)] + ["/7/8/"]
    assert services._frame_areas(paths) == ["/1/", "/7/8/"]
    assert services._frame_areas(["/1/2/", "/1/3/"]) == ["/1/2/", "/1/3/"]

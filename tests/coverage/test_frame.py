"""Coverage per hamlet and its aggregates as of a date, on hand-built worlds with hand-computed
figures: each status, suspensions, additional hamlets, transfers and the past, days vacant,
centres, provinces and the nation, and a bounded number of queries."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from danso_network.collaborators import services as network
from danso_network.coverage import services as coverage
from danso_network.errors import ValidationFailed
from danso_network.extensions import db
from danso_network.recruitment.rules import QUOTA_PRESETS
from danso_network.units import services as unit_services
from danso_network.units.models import FacilityKind
from tests.collaborators.test_services import allow_cover
from tests.factories import appoint, criteria, hamlet

from .conftest import DAY, applied


def by_name(frame: pd.DataFrame) -> dict[str, dict]:
    return {row["name"]: row for row in frame.to_dict("records")}


def row_of(frame: pd.DataFrame, name: str) -> dict:
    return by_name(frame)[name]


def test_every_status_with_its_figures(world, staffed, everywhere):
    frame = coverage.hamlet_frame(everywhere, DAY)
    assert list(frame.columns[:18]) == list(coverage.FRAME_COLUMNS[:18])
    rows = by_name(frame)
    assert {n: r["status"] for n, r in rows.items()} == {
        "Khu phố 1": "covered", "Khu phố 2": "below_quota", "Ấp Tân Lập": "pending", "Ấp 2": "vacant",
        "Tổ dân phố 5": "unknown"}
    kp1, kp2, tan_lap, ap2, to5 = (rows[n] for n in ("Khu phố 1", "Khu phố 2", "Ấp Tân Lập", "Ấp 2", "Tổ dân phố 5"))
    assert (kp1["households"], kp1["quota"], kp1["active"], kp1["suspended"], kp1["pending"]) == (180, 1, 1, 0, 0)
    assert kp1["households_per_collaborator"] == 180.0 and pd.isna(kp1["days_vacant"])
    assert (kp2["quota"], kp2["active"], kp2["suspended"], kp2["households_per_collaborator"]) == (3, 1, 1, 420.0)
    assert (tan_lap["quota"], tan_lap["active"], tan_lap["pending"]) == (2, 0, 1)
    assert pd.isna(tan_lap["households_per_collaborator"])
    assert tan_lap["days_vacant"] == (DAY - date(2025, 7, 1)).days  # nobody ever: since the hamlet came into force
    assert (ap2["quota"], ap2["active"], ap2["pending"], ap2["days_vacant"]) == (1, 0, 0, 215)
    assert pd.isna(to5["quota"]) and (to5["active"], to5["households"]) == (1, 500)  # Hà Nội: no criteria
    assert (rows["Ấp Tân Lập"]["is_difficult"], rows["Ấp Tân Lập"]["is_ethnic_minority"]) == (True, True)
    assert (kp1["is_difficult"], kp1["is_synthetic"], kp1["has_geometry"]) == (False, False, False)
    assert kp1["commune_id"] == world.commune_a.id and kp1["province_id"] == world.dong_nai.id
    assert kp1["path"] == world.hamlets_a[0].path and kp1["full_name"] == world.hamlets_a[0].full_name
    assert str(frame["quota"].dtype) == "Int64" and str(frame["days_vacant"].dtype) == "Int64"
    assert str(frame["households_per_collaborator"].dtype) == "Float64"


def test_a_suspended_collaborator_is_not_active_and_the_vacancy_starts_with_the_suspension(world, everywhere):
    criteria(world.dong_nai)
    ap2 = world.hamlets_b[1]
    person = appoint(ap2, 1)
    network.suspend_collaborator(person, on=date(2026, 1, 10), reason="Ốm", actor=world.users["head_b"])
    row = row_of(coverage.hamlet_frame(everywhere, DAY), "Ấp 2")
    assert (row["status"], row["active"], row["suspended"], row["days_vacant"]) == ("vacant", 0, 1, 22)
    network.reinstate_collaborator(person, on=date(2026, 1, 20), actor=world.users["head_b"])
    row = row_of(coverage.hamlet_frame(everywhere, DAY), "Ấp 2")
    assert (row["status"], row["active"], row["suspended"]) == ("covered", 1, 0) and pd.isna(row["days_vacant"])
    before = row_of(coverage.hamlet_frame(everywhere, date(2026, 1, 15)), "Ấp 2")
    assert (before["status"], before["days_vacant"]) == ("vacant", 5)


def test_an_additional_hamlet_counts_for_that_hamlet_too_as_on_the_quota_page(world, everywhere):
    criteria(world.dong_nai)
    allow_cover(world)
    tan_lap, ap2 = world.hamlets_b
    person = appoint(ap2, 1)
    network.add_hamlet(person, tan_lap, on=date(2026, 1, 1), actor=world.users["head_b"])
    rows = by_name(coverage.hamlet_frame([world.commune_b.path], DAY))
    assert (rows["Ấp 2"]["active"], rows["Ấp 2"]["status"]) == (1, "covered")
    assert (rows["Ấp Tân Lập"]["active"], rows["Ấp Tân Lập"]["status"]) == (1, "below_quota")  # quota 2
    quota = {r.hamlet.name: (r.active, r.suspended, r.quota) for r in network.quota_status(world.commune_b, as_of=DAY)}
    assert quota == {n: (r["active"], r["suspended"], r["quota"]) for n, r in rows.items()}
    assert coverage.aggregate(coverage.hamlet_frame([world.commune_b.path], DAY), "national")["collaborators"][0] == 2


def test_transfers_terminations_and_the_past(world, everywhere):
    criteria(world.dong_nai)
    kp1 = world.hamlets_a[0]
    ap2 = world.hamlets_b[1]
    mover, leaver = appoint(kp1, 1), appoint(ap2, 2)
    network.transfer_collaborator(mover, ap2, on=date(2026, 3, 1), actor=world.users["centre"], residence="moves")
    network.terminate_collaborator(leaver, on=date(2026, 3, 1), reason="resigned", actor=world.users["head_b"])

    def seen(day):
        rows = by_name(coverage.hamlet_frame(everywhere, day))
        return {n: (rows[n]["status"], rows[n]["active"], rows[n]["days_vacant"]) for n in ("Khu phố 1", "Ấp 2")}

    assert seen(date(2026, 2, 28)) == {"Khu phố 1": ("covered", 1, None), "Ấp 2": ("covered", 1, None)}
    assert seen(date(2026, 3, 1)) == {"Khu phố 1": ("vacant", 0, 0), "Ấp 2": ("covered", 1, None)}
    assert seen(date(2026, 6, 1)) == {"Khu phố 1": ("vacant", 0, 92), "Ấp 2": ("covered", 1, None)}
    # A year before the last date: before anyone was appointed (1/9/2025), every hamlet is vacant.
    past = coverage.hamlet_frame(everywhere, date(2025, 8, 31))
    assert set(past["status"]) == {"vacant"} and len(past) == 5
    assert row_of(past, "Ấp 2")["days_vacant"] == 61
    national = coverage.aggregate(coverage.hamlet_frame(everywhere, date(2026, 6, 1)), "national").iloc[0]
    assert (national["vacancies"], national["vacancies_over_90_days"]) == (4, 4)  # Khu phố 1 for 92 days too
    # Before the hamlets came into force there is nothing.
    assert coverage.hamlet_frame(everywhere, date(2025, 6, 30)).empty


def test_pending_follows_the_applications_dates(world, everywhere):
    criteria(world.dong_nai)
    ap2 = world.hamlets_b[1]
    leaver = appoint(ap2, 1)
    network.terminate_collaborator(leaver, on=date(2026, 1, 10), reason="resigned", actor=world.users["head_b"])
    applied(ap2, 2, created=date(2026, 1, 15), state="rejected", changed=date(2026, 2, 10))
    applied(ap2, 3, created=date(2026, 1, 20), state="withdrawn", changed=date(2026, 1, 25))

    def seen(day):
        row = row_of(coverage.hamlet_frame(everywhere, day), "Ấp 2")
        return row["status"], row["pending"], row["days_vacant"]

    assert seen(date(2026, 1, 12)) == ("vacant", 0, 2)
    assert seen(date(2026, 1, 15)) == ("pending", 1, 5)  # made that day
    assert seen(date(2026, 1, 22)) == ("pending", 2, 12)
    assert seen(date(2026, 2, 9)) == ("pending", 1, 30)  # the withdrawn one left the pipeline on 25/1
    assert seen(date(2026, 2, 10)) == ("vacant", 0, 31)  # rejected that day
    successor = applied(ap2, 4, created=date(2026, 2, 12), state="active", changed=date(2026, 3, 1),
                        activated_on=date(2026, 3, 1))
    assert seen(date(2026, 2, 28)) == ("pending", 1, 49)
    assert successor.activated_on == date(2026, 3, 1)
    assert seen(date(2026, 3, 1))[:2] == ("vacant", 0)  # activated: no longer pending (no assignment written here)


def test_unknown_quota_without_criteria_is_never_guessed(world, everywhere):
    to5 = world.hamlets_c[0]
    hanoi = lambda day: row_of(coverage.hamlet_frame([world.hanoi.path], day), "Tổ dân phố 5")  # noqa: E731
    assert (hanoi(DAY)["status"], hanoi(DAY)["active"]) == ("vacant", 0) and pd.isna(hanoi(DAY)["quota"])
    appoint(to5, 1)
    assert hanoi(DAY)["status"] == "unknown" and pd.isna(hanoi(DAY)["quota"])
    criteria(world.hanoi, valid_from=date(2026, 1, 1), quota_bands=QUOTA_PRESETS["hai_duong"], quota_preset="hai_duong")
    assert (hanoi(DAY)["status"], hanoi(DAY)["quota"]) == ("below_quota", 2)  # 500 households → 2
    assert (hanoi(date(2025, 12, 31))["status"]) == "unknown"  # before its criteria came into force
    summary = coverage.aggregate(coverage.hamlet_frame([world.hanoi.path], date(2025, 12, 31)), "national").iloc[0]
    assert (summary["hamlets"], summary["unknown"], summary["covered"], summary["pct_covered"]) == (1, 1, 0, 0.0)


def test_aggregates_per_commune_province_and_nation(world, staffed, everywhere):
    frame = coverage.hamlet_frame(everywhere, DAY)
    communes = coverage.aggregate(frame, "commune").set_index("unit_id")
    a, b, c = (communes.loc[u.id] for u in (world.commune_a, world.commune_b, world.commune_c))
    assert (a["hamlets"], a["covered"], a["below_quota"], a["pct_covered"]) == (2, 1, 1, 50.0)
    assert (a["households"], a["households_covered"], a["collaborators"], a["vacancies"]) == (600, 180, 2, 0)
    assert (b["hamlets"], b["vacant"], b["pending"], b["vacancies"], b["vacancies_over_90_days"]) == (2, 1, 1, 2, 2)
    assert (b["pct_covered"], b["households_covered"]) == (0.0, 0)
    assert (c["hamlets"], c["unknown"], c["collaborators"]) == (1, 1, 1)
    provinces = coverage.aggregate(frame, "province").set_index("unit_id")
    assert list(provinces.index) == sorted([world.dong_nai.id, world.hanoi.id])
    assert provinces.loc[world.dong_nai.id, "pct_covered"] == 25.0
    national = coverage.aggregate(frame, "national")
    assert len(national) == 1 and national["unit_id"][0] is None
    assert national.iloc[0][["hamlets", "covered", "below_quota", "vacant", "pending", "unknown"]].to_list() == [
        5, 1, 1, 1, 1, 1]
    assert (national["households"][0], national["collaborators"][0], national["pct_covered"][0]) == (1490, 3, 20.0)
    assert list(national.columns) == list(coverage.rules.AGGREGATE_COLUMNS)
    assert str(national["pct_covered"].dtype) == "Float64"
    with pytest.raises(ValueError):
        coverage.aggregate(frame, "district")


def test_a_centre_counts_the_hamlets_of_the_communes_it_serves_on_the_date(world, staffed, everywhere):
    frame = coverage.hamlet_frame(everywhere, DAY)
    centres = coverage.aggregate(frame, "centre")
    assert centres["unit_id"].to_list() == [world.centre.id]  # Hà Nội's hamlet is served by no centre here
    row = centres.iloc[0]
    assert (row["hamlets"], row["covered"], row["below_quota"], row["vacant"], row["pending"]) == (4, 1, 1, 1, 1)
    assert row["pct_covered"] == 25.0
    # A second centre serving commune B from 1/1/2026: B's hamlets count in both.
    other = unit_services.create_facility(code="TTYT-690", kind=FacilityKind.HEALTH_CENTRE, name="TTYT khu vực 2",
                                          unit=world.dong_nai, parent=world.department, valid_from=date(2026, 1, 1),
                                          serves=[world.commune_b])
    centres = coverage.aggregate(coverage.hamlet_frame(everywhere, DAY), "centre").set_index("unit_id")
    assert centres.loc[other.id, "hamlets"] == 2 and centres.loc[world.centre.id, "hamlets"] == 4
    assert centres.loc[other.id, "vacancies"] == 2
    # Not yet serving in December 2025.
    assert coverage.aggregate(coverage.hamlet_frame(everywhere, date(2025, 12, 31)), "centre")["unit_id"].to_list() \
        == [world.centre.id]
    summary = coverage.centre_coverage(world.centre, DAY)
    assert (summary.hamlets, summary.covered, summary.vacancies, summary.pct_covered) == (4, 1, 2, 25.0)


def test_unit_coverage_and_dates_without_data(world, staffed):
    summary = coverage.unit_coverage(world.commune_a, DAY)
    assert (summary.unit_id, summary.as_of, summary.hamlets, summary.covered, summary.below_quota) == (
        world.commune_a.id, DAY, 2, 1, 1)
    assert (summary.pct_covered, summary.households, summary.collaborators, summary.count("covered")) == (
        50.0, 600, 2, 1)
    one = coverage.unit_coverage(world.hamlets_b[0], DAY)
    assert (one.hamlets, one.pending, one.vacancies) == (1, 1, 1)
    nothing = coverage.unit_coverage(world.commune_a, date(2025, 1, 1))
    assert (nothing.hamlets, nothing.pct_covered) == (0, None)
    with pytest.raises(ValidationFailed, match="01/07/2025"):
        coverage.require_data_on(world.commune_a, date(2025, 6, 30))
    coverage.require_data_on(world.commune_a, DAY)


def test_no_area_gives_an_empty_frame_with_its_columns(world, staffed):
    frame = coverage.hamlet_frame([], DAY)
    assert frame.empty and list(frame.columns) == list(coverage.FRAME_COLUMNS)
    national = coverage.aggregate(frame, "national").iloc[0]
    assert (national["hamlets"], national["covered"]) == (0, 0) and pd.isna(national["pct_covered"])
    assert coverage.aggregate(frame, "commune").empty and coverage.aggregate(frame, "centre").empty
    assert coverage.trend([], months=3, on=DAY) == [(date(2025, 12, 31), None), (date(2026, 1, 31), None),
                                                   (DAY, None)]


def test_the_trend_agrees_with_the_frame_at_every_month_end(world, staffed, everywhere):
    network.terminate_collaborator(staffed["kp1"], on=date(2025, 12, 15), reason="resigned", actor=world.users["head_a"])
    criteria(world.hanoi, valid_from=date(2025, 11, 1), quota_bands=QUOTA_PRESETS["hai_duong"],
             quota_preset="hai_duong")
    points = coverage.trend(everywhere, months=8, on=DAY)
    assert [d for d, _ in points] == [date(2025, 7, 31), date(2025, 8, 31), date(2025, 9, 30), date(2025, 10, 31),
                                      date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), DAY]
    for day, pct in points:
        expected = coverage.summarise(coverage.hamlet_frame(everywhere, day), day).pct_covered
        assert pct == pytest.approx(expected), day
    assert [round(p) for _, p in points] == [0, 0, 20, 20, 20, 0, 0, 0]
    assert coverage.trend([world.commune_a.path], months=1, on=DAY) == [(DAY, 0.0)]


def _statements(fn) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("scope", ["province", "nation"])
def test_the_number_of_queries_does_not_grow_with_the_hamlets(world, staffed, scope):
    from tests.factories import province

    extra = [province(code=c, name=f"Tỉnh {c}", full_name=f"Tỉnh {c}") for c in ("46", "48")]
    prefixes = [world.dong_nai.path] if scope == "province" else [world.dong_nai.path, world.hanoi.path,
                                                                  *(p.path for p in extra)]
    db.session.commit()

    def work():
        db.session.expire_all()
        frame = coverage.hamlet_frame(prefixes, DAY)
        for by in ("commune", "centre", "province", "national"):
            coverage.aggregate(frame, by)
        coverage.trend(prefixes, months=12, on=DAY)
        return frame

    small = _statements(work)
    for n in range(30):
        h = hamlet(world.commune_b if n % 2 else world.commune_a, f"Thôn mới {n}", type="khu_pho" if n % 2 == 0
                   else "ap", households=100 + n * 20)
        if n % 3:
            appoint(h, 100 + n)
    db.session.commit()
    assert _statements(work) == small
    assert len(coverage.hamlet_frame(prefixes, DAY)) in (34, 35)
    assert small <= 16  # a national scope's test looks up the provinces once per filtered table


def test_hamlet_frame_reads_a_province_in_three_queries(world, staffed):
    path = world.dong_nai.path
    db.session.connection()
    assert _statements(lambda: coverage.hamlet_frame([path], DAY)) == 3  # bands, hamlets, centres

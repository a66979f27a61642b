"""The quota page and the coverage computation agree on every hamlet of the Đồng Nai demo (its
network's three years, seed 7): both are built on the same SQL (``collaborators.services.quota_query``),
and the quota page keeps its own pagination and filters in SQL; this proves they count alike, today
and in the past, and that the trend agrees with the frame."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from danso_network.collaborators import services as network
from danso_network.coverage import services as coverage
from danso_network.demo import network as demo_network
from danso_network.extensions import db
from danso_network.units.models import Facility
from danso_network.units.services import find_unit_by_code

pytestmark = pytest.mark.slow
TODAY = demo_network.END

# quota page flag → the coverage statuses it may go with
AGREES = {"under": {"below_quota", "vacant", "pending"}, "ok": {"covered"}, "over": {"covered"},
          "unknown": {"unknown"}}


@pytest.fixture
def province(demo_network_db):
    with demo_network_db.use():
        # Thành phố Đồng Nai, in force today (the old Tỉnh Đồng Nai of the same code closed on 1/7/2025).
        yield find_unit_by_code("75")


@pytest.mark.parametrize("day", [TODAY, date(TODAY.year - 1, TODAY.month, TODAY.day), date(2025, 9, 30)])
def test_the_quota_page_and_the_coverage_frame_agree_on_every_hamlet(province, day):
    rows = network.quota_status(province, as_of=day)
    frame = coverage.hamlet_frame([province.path], day).set_index("hamlet_id")
    assert len(rows) == len(frame) > 1000
    assert {r.hamlet.id for r in rows} == set(frame.index)
    for r in rows:
        f = frame.loc[r.hamlet.id]
        assert (r.households, r.quota, r.active, r.suspended) == (
            f["households"], None if pd.isna(f["quota"]) else f["quota"], f["active"], f["suspended"]), r.hamlet.name
        assert r.commune.id == f["commune_id"]
        expected = None if pd.isna(f["households_per_collaborator"]) else f["households_per_collaborator"]
        assert r.households_per_collaborator == pytest.approx(expected), r.hamlet.name
        assert f["status"] in AGREES[r.flag], (r.hamlet.name, r.flag, f["status"])
    totals = network.quota_summary([province.path], as_of=day)
    summary = coverage.summarise(frame.reset_index(), day)
    assert (totals.hamlets, totals.households, totals.active) == (summary.hamlets, summary.households,
                                                                 summary.collaborators)
    assert totals.empty == summary.vacancies
    assert totals.under == summary.below_quota + summary.vacancies
    assert totals.unknown == summary.unknown


def test_the_demo_has_every_status_and_the_trend_meets_the_frame(province):
    frame = coverage.hamlet_frame([province.path], TODAY)
    counts = frame["status"].value_counts()
    assert counts.get("covered", 0) > counts.get("below_quota", 0) > 0
    assert counts.get("vacant", 0) + counts.get("pending", 0) > 0
    points = coverage.trend([province.path], months=12, on=TODAY)
    assert len(points) == 12 and points[-1][0] == TODAY
    for day, pct in (points[0], points[6], points[-1]):
        assert pct == pytest.approx(coverage.summarise(coverage.hamlet_frame([province.path], day), day).pct_covered)
    # The demo centre officer's area: the communes its centre serves.
    centre = db.session.scalar(select(Facility).where(Facility.code == demo_network.CENTRE_CODE))
    by_centre = coverage.aggregate(frame, "centre").set_index("unit_id")
    mine = coverage.centre_coverage(centre, TODAY)
    assert by_centre.loc[centre.id, "hamlets"] == mine.hamlets > 0
    assert by_centre.loc[centre.id, "covered"] == mine.covered
